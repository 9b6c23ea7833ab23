"""Streaming-signature vectors (draft format, docs/streaming.md): YAML files of vectors collected
from SDK tests, and a reader for aws-c-auth's C tests read in place.

A vector is the input of one upload or one event stream and the values its source expects, stage
by stage (`expect: {stage: [value, ...]}` in order: the first chunk's signature first). Every
problem is one CaseError, FILE:LINE: what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from harness.cases.content import content_bytes
from harness.cases.errors import CaseError
from harness.cases.yamlfile import parse_yaml
from harness.model import Context, Request, Source, parse_timestamp, split_url
from harness.reference import chunked, event_stream

SURFACES = ("aws-chunked", "event-stream")
VECTOR_KEYS = {
    "id", "surface", "title", "note", "refs", "request", "context", "chunks", "trailers", "unsigned",
    "payload", "add_stream_headers", "events", "prior_signature", "expect", "verify_only", "wire",
    "signing_key",
}
CONTEXT_KEYS = {"access_key_id", "secret_access_key", "region", "service", "timestamp", "algorithm", "normalize_path", "double_encode"}
EVENT_KEYS = {"time", "payload", "message", "date_ms", "raw_headers"}


@dataclass(frozen=True)
class Vector:
    """One collected vector: the input (an upload or an event stream) and the expected stages."""

    id: str
    surface: str
    title: str
    note: str
    refs: tuple[str, ...]
    expect: dict[str, tuple[str, ...]]
    source: Source
    upload: chunked.ChunkedUpload | None = None
    stream: event_stream.EventStream | None = None
    verify_only: tuple[str, ...] = ()  # stages checked by verification, not by value (SigV4A)
    wire: bytes | None = None  # the body as sent, when the source pins it


def _header(spec: Any, where: str, file: str, line: int) -> event_stream.Header:
    if not isinstance(spec, dict) or not {"name", "type", "value"} <= set(spec):
        raise CaseError(file, line, f"{where}: a header is {{name, type, value}}")
    kind = spec["type"]
    known = ("bool", "byte", "short", "integer", "long", "bytes", "string", "timestamp", "uuid")
    if kind not in known:
        raise CaseError(file, line, f"{where}: type {kind!r} is not one of {', '.join(known)}")
    value = spec["value"]
    if kind == "bytes":
        value = content_bytes(value, where, file, line)
    return event_stream.Header(str(spec["name"]), kind, value)


def _context(ctx: dict[str, Any], file: str, line: int) -> Context:
    unknown = set(ctx) - CONTEXT_KEYS
    if unknown:
        raise CaseError(file, line, f"unknown key {sorted(unknown)[0]!r} in context (known: {', '.join(sorted(CONTEXT_KEYS))})")
    try:
        timestamp = parse_timestamp(str(ctx.get("timestamp", "2015-08-30T12:36:00Z")))
    except ValueError as exc:
        raise CaseError(file, line, f"context.timestamp: {exc}") from None
    region = ctx.get("region", "us-east-1")
    s3 = ctx.get("service") == "s3"
    return Context(
        access_key_id=ctx.get("access_key_id", "AKIDEXAMPLE"),
        secret_access_key=ctx.get("secret_access_key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        session_token=None,
        region=region,
        region_set=(region,),
        service=ctx.get("service", "service"),
        timestamp=timestamp,
        algorithm=ctx.get("algorithm", "sigv4"),
        normalize_path=ctx.get("normalize_path", True),
        double_encode=ctx.get("double_encode", not s3),
    )


def _request(req: Any, file: str, line: int) -> Request:
    if not isinstance(req, dict) or "method" not in req or "url" not in req:
        raise CaseError(file, line, "request: give method and url (and headers as [name, value] pairs)")
    scheme, host, path, query = split_url(req["url"])
    headers = tuple((str(n), str(v)) for n, v in req.get("headers", []))
    if not any(n.lower() == "host" for n, _ in headers):
        headers = (("Host", host),) + headers
    return Request(req["method"], scheme, host, path, query, headers)


def build_vector(data: dict[str, Any], base: tuple[Any, ...], lines: Any, file: str) -> Vector:
    at = lambda *p: lines.line(base + p)  # noqa: E731
    unknown = set(data) - VECTOR_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise CaseError(file, lines.line(base + (key,), key=True), f"unknown key {key!r} (known: {', '.join(sorted(VECTOR_KEYS))})")
    for key in ("id", "surface", "title", "note", "refs", "expect"):
        if key not in data:
            raise CaseError(file, at(), f"vector lacks {key!r}")
    if data["surface"] not in SURFACES:
        raise CaseError(file, at("surface"), f"surface {data['surface']!r} is not one of {', '.join(SURFACES)}")
    if not isinstance(data["refs"], list) or not data["refs"]:
        raise CaseError(file, at("refs"), "refs: a list of links to the test the vector comes from")
    expect = data["expect"]
    if not isinstance(expect, dict):
        raise CaseError(file, at("expect"), "expect: a mapping of stage to a list of values")
    stages = chunked.STAGES if data["surface"] == "aws-chunked" else event_stream.STAGES
    for stage, values in expect.items():
        if stage not in stages:
            raise CaseError(file, lines.line(base + ("expect", stage), key=True), f"expect: {stage!r} is not a stage of {data['surface']} ({', '.join(stages)})")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise CaseError(file, at("expect", stage), f"expect.{stage}: a list of strings")
    context = _context(data.get("context", {}), file, at("context"))
    # The prior signature exactly as the first string to sign holds it (hex, or whatever the test gave).
    prior_hex = data.get("prior_signature")
    if prior_hex is not None and not isinstance(prior_hex, str):
        raise CaseError(file, at("prior_signature"), "prior_signature: the text the first string to sign holds, as a string")
    wire = None if "wire" not in data else content_bytes(data["wire"], "wire", file, at("wire"))
    common = dict(
        id=data["id"], surface=data["surface"], title=data["title"], note=data["note"],
        refs=tuple(data["refs"]), expect={k: tuple(v) for k, v in expect.items()},
        source=Source(file, at()), verify_only=tuple(data.get("verify_only", ())), wire=wire,
    )
    if data["surface"] == "aws-chunked":
        chunks = tuple(content_bytes(c, f"chunks[{i}]", file, at("chunks", i)) for i, c in enumerate(data.get("chunks", [])))
        if "request" not in data and prior_hex is None:
            raise CaseError(file, at(), "an aws-chunked vector needs a request (for the seed) or a prior_signature")
        request = _request(data["request"], file, at("request")) if "request" in data else Request("PUT", "https", "example", "/", "", ())
        upload = chunked.ChunkedUpload(
            request=request,
            context=context,
            chunks=chunks,
            trailers=tuple((str(n), str(v)) for n, v in data.get("trailers", [])),
            unsigned=bool(data.get("unsigned", False)),
            payload=data.get("payload"),
            add_stream_headers=bool(data.get("add_stream_headers", True)),
            seed_signature=prior_hex,
            signing_key=None if "signing_key" not in data else content_bytes(data["signing_key"], "signing_key", file, at("signing_key")),
        )
        return Vector(upload=upload, **common)  # type: ignore[arg-type]
    events = []
    for i, ev in enumerate(data.get("events", [])):
        where = at("events", i)
        if not isinstance(ev, dict) or "time" not in ev or set(ev) - EVENT_KEYS:
            raise CaseError(file, where, f"events[{i}]: keys are {', '.join(sorted(EVENT_KEYS))}; time is required")
        if "message" in ev:
            msg = ev["message"]
            headers = [_header(h, f"events[{i}].message.headers", file, where) for h in msg.get("headers", [])]
            payload = event_stream.encode_message(headers, content_bytes(msg.get("payload", ""), f"events[{i}].message.payload", file, where))
        else:
            payload = content_bytes(ev.get("payload", ""), f"events[{i}].payload", file, where)
        try:
            when = parse_timestamp(str(ev["time"]))
        except ValueError as exc:
            raise CaseError(file, where, f"events[{i}].time: {exc}") from None
        raw = ev.get("raw_headers")
        events.append(event_stream.Event(payload, when, ev.get("date_ms"), None if raw is None else content_bytes(raw, f"events[{i}].raw_headers", file, where)))
    request = _request(data["request"], file, at("request")) if "request" in data else None
    if request is None and prior_hex is None:
        raise CaseError(file, at(), "an event-stream vector needs a request (for the seed) or a prior_signature")
    stream = event_stream.EventStream(request, context, tuple(events), prior_hex)
    return Vector(stream=stream, **common)  # type: ignore[arg-type]


def load_vectors(path: Path) -> list[Vector]:
    """Every vector of one YAML file (a list of vector mappings)."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError(file, 1, f"cannot read: {exc}") from None
    docs, lines = parse_yaml(text, file)
    vectors = []
    for data, base in docs:
        try:
            vectors.append(build_vector(data, base, lines, file))
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            if isinstance(exc, CaseError):
                raise
            # A value of the wrong shape that no specific check caught: still one FILE:LINE line.
            raise CaseError(file, lines.line(base), f"vector {data.get('id', '?')!r} has a value of the wrong shape: {exc}") from None
    seen: dict[str, int] = {}
    for v in vectors:
        if v.id in seen:
            raise CaseError(file, v.source.line, f"duplicate id {v.id!r} (first at line {seen[v.id]})")
        seen[v.id] = v.source.line
    return vectors


# -- aws-c-auth's C tests, read in place ------------------------------------------------------------

_STRING = re.compile(r'AWS_STATIC_STRING_FROM_LITERAL\(\s*(\w+),\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)', re.S)
_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
_HEADER = re.compile(
    r'static struct aws_http_header (\w+) = \{\s*\.name = AWS_BYTE_CUR_INIT_FROM_STRING_LITERAL\("([^"]*)"\),\s*'
    r'\.value = AWS_BYTE_CUR_INIT_FROM_STRING_LITERAL\("([^"]*)"\),?\s*\};'
)
_DEFINE = re.compile(r"#define (\w+) (\d+)")


def _unescape(text: str) -> str:
    return text.encode("latin-1").decode("unicode_escape")


def c_strings(source: str) -> dict[str, str]:
    """Every AWS_STATIC_STRING_FROM_LITERAL(name, "..." "...") of a C file, literals joined."""
    return {m.group(1): "".join(_unescape(s) for s in _LITERAL.findall(m.group(2))) for m in _STRING.finditer(source)}


def c_headers(source: str) -> dict[str, tuple[str, str]]:
    """Every static aws_http_header of a C file: variable name -> (name, value)."""
    return {m.group(1): (m.group(2), m.group(3)) for m in _HEADER.finditer(source)}


def c_defines(source: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in _DEFINE.finditer(source)}


def c_function(source: str, name: str) -> str:
    """The body of a C function (up to the first line holding only '}')."""
    match = re.search(rf"^[^\n;]*\b{re.escape(name)}\([^;{{]*\)\s*\{{", source, re.M)
    if match is None:
        raise KeyError(f"no definition of {name}()")
    end = source.index("\n}\n", match.start())
    return source[match.start():end]


def c_request_headers(source: str, builder: str) -> tuple[tuple[str, str], ...]:
    """The headers a request builder function adds, in order."""
    table = c_headers(source)
    names = re.findall(r"aws_http_message_add_header\(request, (\w+)\)", c_function(source, builder))
    return tuple(table[n] for n in names)


def c_http_date(text: str) -> datetime:
    return parsedate_to_datetime(text).astimezone(timezone.utc)
