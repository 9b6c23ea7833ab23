"""Cases for the streaming surfaces (`surface: aws-chunked | event-stream`, docs/streaming.md).

A streaming case is an ordinary case (request, context, flags, tags, read by yamlfile.build_case)
with one more block: `chunked:` (the chunks, trailers, unsigned) or `events:` (the messages), and
`expect:` per stage (`chunk_signature: [...]`, `final_chunk: ...`). The format is
`$defs/streaming_case` of case.schema.json, described in docs/cases.md. Every problem is one
CaseError, `FILE:LINE: what is wrong`.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache
from typing import Any, Callable

import jsonschema

from harness.cases.content import content_bytes
from harness.cases.errors import CaseError
from harness.cases.schema import _schema_check, schema
from harness.model import Case, Context, Source
from harness.reference import chunked, event_stream
from harness.settings import PayloadKind
from harness.verify.chunked import CHECKSUMS

AWS_CHUNKED, EVENT_STREAM = "aws-chunked", "event-stream"
STREAM_SURFACES = (AWS_CHUNKED, EVENT_STREAM)
STREAM_MODE = "stream"  # the one check mode of both streaming surfaces
BLOCKS = {AWS_CHUNKED: "chunked", EVENT_STREAM: "events"}
# Server choices the S3 documentation leaves open or that servers differ on (docs/streaming.md).
OPEN_CHOICES = ("aws-chunked-without-content-encoding", "chunks-below-8-kib")
AUTO = "auto"  # a trailer value the harness computes: the checksum of the decoded payload
STAGES = {AWS_CHUNKED: chunked.STAGES, EVENT_STREAM: event_stream.STAGES}
# Stages with one value per chunk or event (the others are once per stream).
PER_ITEM = {"chunk_string_to_sign", "chunk_signature", "date_header", "event_string_to_sign", "event_signature", "signed_message"}


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    full = schema()
    sub = {"$ref": "#/$defs/streaming_case", "$defs": full["$defs"]}
    return jsonschema.validators.validator_for(full)(sub)


def chunk_list(specs: list[Any], file: str, at: Callable[..., int]) -> tuple[bytes, ...]:
    """The chunks: each item is content ({text}, {base64}, {hex}, {repeat, times}) or
    {split: N, of: content}, which is the content cut into N-byte chunks (the last one shorter)."""
    out: list[bytes] = []
    for i, spec in enumerate(specs):
        if isinstance(spec, dict) and "split" in spec:
            data = content_bytes(spec["of"], f"chunked.chunks[{i}].of", file, at("chunked", "chunks", i, "of"))
            size = spec["split"]
            out += [data[k:k + size] for k in range(0, len(data), size)]
        else:
            out.append(content_bytes(spec, f"chunked.chunks[{i}]", file, at("chunked", "chunks", i)))
    if any(not c for c in out):
        raise CaseError(file, at("chunked", "chunks"), "chunked.chunks: a data chunk cannot be empty (the empty chunk is the final one, which the harness adds)")
    return tuple(out)


def trailer_list(specs: list[list[str]], decoded: bytes, file: str, at: Callable[..., int]) -> tuple[tuple[str, str], ...]:
    """The trailers, `auto` replaced by the checksum of the decoded payload (x-amz-checksum-*)."""
    out = []
    for i, (name, value) in enumerate(specs):
        if value == AUTO:
            compute = CHECKSUMS.get(name.lower())
            if compute is None:
                raise CaseError(file, at("chunked", "trailers", i), f"chunked.trailers[{i}]: `auto` is for {', '.join(CHECKSUMS)}, not {name!r}")
            value = base64.b64encode(compute(decoded)).decode("ascii")
        out.append((name, value))
    return tuple(out)


def header_value(spec: dict[str, Any], where: str, file: str, line: int) -> event_stream.Header:
    """An event header from {name, type, value}: bytes as content ({text}, {base64}, ...), uuid as
    its text form, timestamp as milliseconds."""
    kind, value = spec["type"], spec["value"]
    try:
        if kind == "bytes":
            value = content_bytes(value, where, file, line)
        elif kind == "uuid":
            value = uuid.UUID(str(value)).bytes
        elif kind == "bool" and not isinstance(value, bool):
            raise ValueError("a bool header takes true or false")
        elif kind in ("byte", "short", "integer", "long", "timestamp"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"a {kind} header takes a whole number")
            bits = {"byte": 8, "short": 16, "integer": 32, "long": 64, "timestamp": 64}[kind]
            if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
                raise ValueError(f"{value} does not fit a {kind} ({bits}-bit signed)")
        elif kind == "string":
            value = str(value)
        header = event_stream.Header(str(spec["name"]), kind, value)
        event_stream.encode_header(header)
    except (ValueError, event_stream.MessageError) as exc:
        raise CaseError(file, line, f"{where}: {exc}") from None
    return header


def header_json(header: event_stream.Header) -> dict[str, Any]:
    """A header as the check carries it: bytes as base64, uuid as text, the rest as JSON values."""
    value: Any = header.value
    if header.type == "bytes":
        value = base64.b64encode(bytes(value)).decode("ascii")  # type: ignore[arg-type]
    elif header.type == "uuid":
        value = str(uuid.UUID(bytes=bytes(value)))  # type: ignore[arg-type]
    return {"name": header.name, "type": header.type, "value": value}


def _events(specs: list[dict[str, Any]], context: Context, file: str, at: Callable[..., int]) -> tuple[tuple[event_stream.Event, ...], list[dict[str, Any]]]:
    """The events in order and the same as JSON for adapters; the empty message that ends the
    stream is added one second after the last (or where `end_offset_seconds` says)."""
    events, as_json = [], []
    offset = 0
    for i, spec in enumerate(specs):
        where = at("events", i)
        if "end" in spec:
            offset = spec["end"]
            break
        offset = spec.get("offset_seconds", offset)
        if ("message" in spec) == ("payload" in spec):
            raise CaseError(file, where, f"events[{i}]: give message (headers and payload, encoded as an event stream message) or payload (raw bytes)")
        inner: dict[str, Any] | None = None
        if "message" in spec:
            message = spec["message"]
            headers = [header_value(h, f"events[{i}].message.headers[{k}]", file, at("events", i, "message", "headers", k))
                       for k, h in enumerate(message.get("headers", []))]
            inner_payload = content_bytes(message.get("payload", ""), f"events[{i}].message.payload", file, where)
            payload = event_stream.encode_message(headers, inner_payload)
            inner = {"headers": [header_json(h) for h in headers], "payload_b64": base64.b64encode(inner_payload).decode("ascii")}
        else:
            payload = content_bytes(spec["payload"], f"events[{i}].payload", file, where)
            if not payload:
                raise CaseError(file, where, f"events[{i}].payload: an empty payload ends the stream, which the harness adds")
        when = context.timestamp + timedelta(seconds=offset)
        event = event_stream.Event(payload, when)
        events.append(event)
        as_json.append({"time": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "date_ms": event.date_header_value,
                        "payload_b64": base64.b64encode(payload).decode("ascii"), "message": inner})
        offset += 1
    if not events:
        raise CaseError(file, at("events"), "events: at least one message before the end of the stream")
    final = event_stream.Event(b"", context.timestamp + timedelta(seconds=offset))
    events.append(final)
    as_json.append({"time": final.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"), "date_ms": final.date_header_value,
                    "payload_b64": "", "message": None})
    return tuple(events), as_json


def _expectations(data: dict[str, Any], surface: str, file: str, at: Callable[..., int]) -> dict[str, str]:
    """`expect:` as flat stage names: per-item stages get `.N` (`chunk_signature.0`); a list gives
    the values in order, a mapping {index: value} pins some of them."""
    flat: dict[str, str] = {}
    for stage, value in data.get("expect", {}).items():
        if stage == "provenance":
            continue
        if stage not in STAGES[surface]:
            raise CaseError(file, at("expect", stage), f"expect: {stage!r} is not a stage of {surface} ({', '.join(STAGES[surface])})")
        if stage in PER_ITEM:
            if isinstance(value, str):
                raise CaseError(file, at("expect", stage), f"expect.{stage}: one value per chunk or event, as a list (or a mapping index: value)")
            items = enumerate(value) if isinstance(value, list) else value.items()
            for index, text in items:
                flat[f"{stage}.{int(index)}"] = text
        elif not isinstance(value, str):
            raise CaseError(file, at("expect", stage), f"expect.{stage}: once per stream, a single string")
        else:
            flat[stage] = value
    return flat


def build_stream_case(data: dict[str, Any], base: tuple, lines: Any, file: str, origin: str,
                      build_request_case: Callable[[dict[str, Any]], Case]) -> Case:
    """Validate one streaming case mapping and build its Case (one check, mode `stream`).
    `build_request_case` builds the request and context the way every case's are built."""
    _schema_check(data, base, lines, file, _validator())
    at = lambda *p: lines.line(base + p)  # noqa: E731
    surface = data["surface"]
    block, other = BLOCKS[surface], BLOCKS[EVENT_STREAM if surface == AWS_CHUNKED else AWS_CHUNKED]
    if other in data:
        raise CaseError(file, lines.line(base + (other,), key=True), f"surface {surface!r} takes a {block}: block, not {other}:")
    if block not in data:
        raise CaseError(file, at("surface"), f"surface {surface!r} needs a {block}: block")
    flags = dict(data.get("flags", {}))
    for i, choice in enumerate(flags.get("open_choices", ())):
        if choice not in OPEN_CHOICES:
            raise CaseError(file, at("flags", "open_choices", i), f"open choice {choice!r} is not one for {surface} (known: {', '.join(OPEN_CHOICES)})")
    plain = {k: v for k, v in data.items() if k in ("id", "title", "tags", "request", "context")}
    plain["flags"] = {k: v for k, v in flags.items() if k != "open_choices"}
    base_case = build_request_case(plain)
    if base_case.request.body:
        raise CaseError(file, at("request", "body"), "a streaming case's payload is its chunks or events, not request.body")
    context = replace(base_case.context, payload=PayloadKind.BODY, content_sha256_header=True)
    if surface == AWS_CHUNKED:
        spec = data["chunked"]
        chunks = chunk_list(spec.get("chunks", []), file, at)
        unsigned = spec.get("unsigned", False)
        if unsigned and context.algorithm != "sigv4":
            raise CaseError(file, at("chunked", "unsigned"), "STREAMING-UNSIGNED-PAYLOAD-TRAILER is signed with SigV4 here (the seed), not sigv4a")
        trailers = trailer_list(spec.get("trailers", []), b"".join(chunks), file, at)
        if unsigned and not trailers:
            raise CaseError(file, at("chunked"), "an unsigned-payload stream carries a trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER): give chunked.trailers")
        subject: Any = chunked.ChunkedUpload(request=base_case.request, context=context, chunks=chunks, trailers=trailers, unsigned=unsigned)
        request = chunked.seed_request(subject)
        subject = replace(subject, request=request, add_stream_headers=False)
        subject_json = {"chunked": {
            "payload": subject.seed_payload,
            "chunks_b64": [base64.b64encode(c).decode("ascii") for c in chunks],
            "trailers": [list(t) for t in trailers],
            "unsigned": unsigned,
            "decoded_length": subject.decoded_length,
            "encoded_length": chunked.encoded_length(subject),
        }}
    else:
        if context.algorithm != "sigv4":
            raise CaseError(file, at("context", "algorithm"), "event streams are signed with SigV4 (docs/streaming.md)")
        events, events_json = _events(data["events"], context, file, at)
        request = event_stream.seed_request(event_stream.EventStream(base_case.request, context, ()))
        subject = event_stream.EventStream(request, context, events)
        subject_json = {"event_stream": {"payload": event_stream.STREAMING_EVENTS_PAYLOAD, "events": events_json}}
    expect = _expectations(data, surface, file, at)
    if "provenance" in data.get("expect", {}):
        flags["provenance"] = data["expect"]["provenance"]
    return Case(
        id=data["id"],
        title=data["title"],
        request=request,
        context=context,
        modes=(STREAM_MODE,),
        tags=tuple(data.get("tags", ())),
        flags=flags,
        expect={STREAM_MODE: expect} if expect else {},
        source=Source(file, lines.line(base)),
        origin=origin,
        surface=surface,
        subject=subject,
        subject_json=subject_json,
    )
