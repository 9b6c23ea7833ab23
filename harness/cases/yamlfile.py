"""Curated cases in YAML: parse with line numbers, validate against case.schema.json, build Cases.

Every problem ends in one CaseError, `FILE:LINE: what is wrong`, pointing at the offending key.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from harness.cases.errors import CaseError
from harness.model import MODES, Case, Context, Request, Source, parse_timestamp, split_url

DEFAULT_CREDENTIALS = {
    "access_key_id": "AKIDEXAMPLE",
    "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
}
DEFAULTS = {
    "region": "us-east-1",
    "service": "service",
    "timestamp": "2015-08-30T12:36:00Z",
    "algorithm": "sigv4",
    "expires": 3600,
}
MAX_FILE_BYTES = 64 * 1024 * 1024

Path_ = tuple[Any, ...]


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files("harness.cases").joinpath("case.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema())
    return cls(schema())


class _Lines:
    """Line numbers of every value (and every mapping key) in a YAML document."""

    def __init__(self) -> None:
        self.values: dict[Path_, int] = {}
        self.keys: dict[Path_, int] = {}

    def line(self, path: Path_, *, key: bool = False) -> int:
        table = self.keys if key else self.values
        path = tuple(path)
        while path:
            if path in table:
                return table[path]
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), 1)


_constructor = yaml.constructor.SafeConstructor()


def _to_python(node: yaml.Node, path: Path_, lines: _Lines, file: str) -> Any:
    lines.values[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise CaseError(file, key_node.start_mark.line + 1, "mapping keys must be plain strings")
            key = key_node.value
            if key in result:
                raise CaseError(file, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            lines.keys[path + (key,)] = key_node.start_mark.line + 1
            result[key] = _to_python(value_node, path + (key,), lines, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, path + (i,), lines, file) for i, item in enumerate(node.value)]
    value = _constructor.construct_object(node)
    if isinstance(value, (dt.datetime, dt.date)):
        return node.value  # keep timestamps as the text that was written
    return value


def parse_yaml(text: str, file: str) -> tuple[list[tuple[dict[str, Any], Path_]], _Lines]:
    """The case mappings of a file with their paths in the document, and the line table."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or str(exc)
        raise CaseError(file, line, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise CaseError(file, 1, f"YAML error: {exc}") from None
    lines = _Lines()
    if node is None:
        raise CaseError(file, 1, "empty file: expected a case (mapping) or a list of cases")
    data = _to_python(node, (), lines, file)
    if isinstance(data, dict):
        return [(data, ())], lines
    if isinstance(data, list):
        out = []
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                raise CaseError(file, lines.line((i,)), f"list item {i + 1} is a {type(item).__name__}, expected a case mapping")
            out.append((item, (i,)))
        return out, lines
    raise CaseError(file, 1, f"expected a case (mapping) or a list of cases, found a {type(data).__name__}")


def _describe(error: jsonschema.ValidationError) -> tuple[Path_, str, bool]:
    """(path, message, point-at-key) for the most useful schema error."""
    path = tuple(error.absolute_path)
    where = ".".join(str(p) for p in path) or "case"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        if extra:
            known = ", ".join(sorted(error.schema.get("properties", {})))
            return path + (extra[0],), f"unknown key {extra[0]!r} in {where} (known: {known})", True
    if error.validator == "required":
        return path, f"{where}: {error.message}", True
    if error.validator in ("oneOf", "anyOf") and error.context:
        if where == "request":
            return path, "request: give either `url`, or `host` (with optional scheme, path, query), not both", True
        best = jsonschema.exceptions.best_match(error.context)
        return path, f"{where}: {best.message}", False
    return path, f"{where}: {error.message}", False


def _schema_check(data: dict[str, Any], base: Path_, lines: _Lines, file: str) -> None:
    errors = sorted(_validator().iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        path, message, at_key = _describe(jsonschema.exceptions.best_match(errors))
        raise CaseError(file, lines.line(base + path, key=at_key), message)


def _body(spec: Any, base: Path_, lines: _Lines, file: str) -> bytes:
    if spec is None:
        return b""
    if isinstance(spec, str):
        return spec.encode("utf-8")
    if "text" in spec:
        return spec["text"].encode("utf-8")
    if "repeat" in spec:
        return spec["repeat"].encode("utf-8") * spec["times"]
    if "base64" in spec:
        try:
            return base64.b64decode(spec["base64"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CaseError(file, lines.line(base + ("request", "body", "base64")), f"request.body.base64 is not valid base64: {exc}") from None
    target = (Path(file).parent / spec["file"]).resolve()
    try:
        return target.read_bytes()
    except OSError as exc:
        raise CaseError(file, lines.line(base + ("request", "body", "file")), f"request.body.file {spec['file']!r}: {exc.strerror}") from None


def build_case(data: dict[str, Any], base: Path_, lines: _Lines, file: str, origin: str = "cases") -> Case:
    """Validate one case mapping and resolve its defaults."""
    _schema_check(data, base, lines, file)
    req = data["request"]
    at = lambda *p: lines.line(base + p)  # noqa: E731
    if "url" in req:
        scheme, host, path, query = split_url(req["url"])
        if scheme not in ("http", "https") or not host:
            raise CaseError(file, at("request", "url"), f"request.url {req['url']!r} needs http:// or https:// and a host")
    else:
        scheme, host = req.get("scheme", "https"), req["host"]
        path, query = req.get("path", "/"), req.get("query", "")
        if not path.startswith("/"):
            raise CaseError(file, at("request", "path"), "request.path must start with '/'")
    headers = [tuple(h) for h in req.get("headers", [])]
    if req.get("add_host", True) and not any(n.lower() == "host" for n, _ in headers):
        headers.insert(0, ("Host", host))
    body = _body(req.get("body"), base, lines, file)
    request = Request(req["method"], scheme, host, path, query, tuple(headers), body)  # type: ignore[arg-type]

    ctx = data.get("context", {})
    creds = ctx.get("credentials", DEFAULT_CREDENTIALS)
    service = ctx.get("service", DEFAULTS["service"])
    algorithm = ctx.get("algorithm", DEFAULTS["algorithm"])
    region = ctx.get("region", DEFAULTS["region"])
    region_set = ctx.get("region_set", [region])
    if isinstance(region_set, str):
        region_set = [r.strip() for r in region_set.split(",")]
    try:
        timestamp = parse_timestamp(str(ctx.get("timestamp", DEFAULTS["timestamp"])))
    except ValueError as exc:
        raise CaseError(file, at("context", "timestamp"), f"context.timestamp: {exc}") from None
    s3 = service == "s3"
    context = Context(
        access_key_id=creds["access_key_id"],
        secret_access_key=creds["secret_access_key"],
        session_token=creds.get("session_token"),
        region=region,
        region_set=tuple(region_set),
        service=service,
        timestamp=timestamp,
        algorithm=algorithm,
        expires=ctx.get("expires", DEFAULTS["expires"]),
        payload=ctx.get("payload", "auto"),
        content_sha256_header=ctx.get("content_sha256_header", s3),
        session_token_placement=ctx.get("session_token_placement", "signed"),
        normalize_path=ctx.get("normalize_path", not s3),
        double_encode=ctx.get("double_encode", not s3),
    )
    modes = tuple(ctx.get("modes", MODES))
    expect = {m: dict(data.get("expect", {}).get(m, {})) for m in MODES if m in data.get("expect", {})}
    for mode in expect:
        if mode not in modes:
            raise CaseError(file, at("expect", mode), f"expect.{mode} given but context.modes is {list(modes)}")
    flags = dict(data.get("flags", {}))
    if "provenance" in data.get("expect", {}):
        flags["provenance"] = data["expect"]["provenance"]
    return Case(
        id=data["id"],
        title=data["title"],
        request=request,
        context=context,
        modes=modes,
        tags=tuple(data.get("tags", ())),
        flags=flags,
        expect=expect,
        expect_error=data.get("expect_error"),
        source=Source(file, lines.line(base)),
        origin=origin,
    )


def load_file(path: Path, origin: str = "cases") -> list[Case]:
    """All cases of one YAML file, or one CaseError for the whole file."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CaseError(file, 1, f"cannot read: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise CaseError(file, 1, f"file is {len(raw)} bytes; the limit is {MAX_FILE_BYTES} (use request.body.file for large bodies)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CaseError(file, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    docs, lines = parse_yaml(text, file)
    return [build_case(data, base, lines, file, origin) for data, base in docs]
