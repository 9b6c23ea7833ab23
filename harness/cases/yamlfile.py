"""Curated cases in YAML: parse with line numbers, validate against case.schema.json, build Cases.

Every problem ends in one CaseError, `FILE:LINE: what is wrong`, pointing at the offending key.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Any

import yaml

from harness.cases.errors import CaseError
from harness.cases.schema import _schema_check, schema  # noqa: F401 - schema: also imported from here
from harness.cases.streams import STREAM_SURFACES, build_stream_case
from harness.cases.surfaces import build_surface_case
from harness.cases.files import InputFileError, inside, read_limited
from harness.divergences import catalogue
from harness.limits import DEFAULT as DEFAULT_LIMITS
from harness.limits import Limits
from harness.services import profile
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
Path_ = tuple[Any, ...]


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
_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_CORE + t for t in ("null", "bool", "int", "float", "str", "timestamp")}
_TAGS = {yaml.ScalarNode: _SCALAR_TAGS, yaml.SequenceNode: {_CORE + "seq"}, yaml.MappingNode: {_CORE + "map"}}
_SURROGATE = re.compile("[\ud800-\udfff]")
ALIAS_VALUES = 1000  # values one alias may add on average: alias expansion adds at most yaml_aliases x this
_SURROGATE_ESCAPE = re.compile(r"\\u([dD][89a-fA-F][0-9a-fA-F]{2})")


def _surrogate_message(code: int) -> str:
    return f"text holds a lone surrogate \\u{code:04x}, which is not a Unicode character (write the character itself, or a \\U00XXXXXX escape)"


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


class _LimitedComposer:
    """A composer that enforces the limits while the document is composed: nesting depth, and alias
    expansion (counted as the document would be once every alias is expanded, so an alias bomb stops
    after a few aliases, before anything is expanded). Mixed into a loader below."""

    anchors: dict[str, yaml.Node]

    def start_limits(self, file: str, limits: Limits) -> None:
        self.file, self.limits = file, limits
        self.depth = 0
        self.aliases = 0  # alias references once expanded (an alias to a node holding k aliases counts 1 + k)
        self.alias_nodes = 0  # nodes that alias expansion adds
        self.weights: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes, aliases) of the expanded node
        self.open: list[list[int]] = []  # per node being composed: [nodes, aliases] of its children so far

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()  # type: ignore[attr-defined]
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is not None:
                weight = self.weights.get(id(target))
                if weight is None:
                    raise CaseError(self.file, line, f"alias *{event.anchor} is used inside the node it names (a recursive alias)")
                self._expand(weight, line)
            return super().compose_node(parent, index)  # type: ignore[misc]
        self.depth += 1
        if self.depth > self.limits.nesting_depth:
            raise CaseError(self.file, line, f"nested more than {self.limits.nesting_depth} levels deep (limit nesting_depth)")
        self.open.append([0, 0])
        try:
            node = super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self.depth -= 1
            nodes, aliases = self.open.pop()
        weight = (nodes + 1, aliases)
        self.weights[id(node)] = weight
        if self.open:
            self.open[-1][0] += weight[0]
            self.open[-1][1] += weight[1]
        return node

    def _expand(self, weight: tuple[int, int], line: int) -> None:
        nodes, aliases = weight
        self.aliases += 1 + aliases
        self.alias_nodes += nodes
        if self.open:
            self.open[-1][0] += nodes
            self.open[-1][1] += 1 + aliases
        limit = self.limits.yaml_aliases
        if self.aliases > limit:
            raise CaseError(self.file, line, f"more than {limit} aliases once expanded (limit yaml_aliases): an alias bomb, or anchors nested too deep")
        most = limit * ALIAS_VALUES
        if self.alias_nodes > most:  # few aliases, each naming a huge node
            raise CaseError(self.file, line, f"aliases expand to more than {most} values (limit yaml_aliases x {ALIAS_VALUES})")


class _PyLoader(_LimitedComposer, yaml.SafeLoader):
    """Pure Python: scanner, parser and composer."""

    def __init__(self, text: str, file: str, limits: Limits):
        yaml.SafeLoader.__init__(self, text)
        self.start_limits(file, limits)


_LOADERS: list[type] = [_PyLoader]
if yaml.__with_libyaml__:

    class _CLoader(_LimitedComposer, yaml.composer.Composer, yaml.cyaml.CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """libyaml scans and parses (several times faster); the composer stays the limited Python one."""

        def __init__(self, text: str, file: str, limits: Limits):
            yaml.cyaml.CParser.__init__(self, text)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self.start_limits(file, limits)

    _LOADERS.insert(0, _CLoader)
LOADER = _LOADERS[0]  # tests run the hostile inputs through every loader in _LOADERS


def _scalar(node: yaml.ScalarNode, file: str) -> Any:
    line = node.start_mark.line + 1
    bad = _SURROGATE.search(node.value)
    if bad:
        raise CaseError(file, line, _surrogate_message(ord(bad.group())))
    if node.tag == _CORE + "timestamp":
        return node.value  # keep timestamps as the text that was written; parse_timestamp judges it
    try:
        return _constructor.yaml_constructors[node.tag](_constructor, node)  # no cache kept across files
    except (yaml.YAMLError, ValueError, OverflowError, TypeError) as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        if "integer string conversion" in problem:
            problem = "a number with more than 4300 digits"
        raise CaseError(file, line, f"cannot read the value {node.value[:40]!r}: {problem}") from None


def _check_tag(node: yaml.Node, file: str) -> None:
    if node.tag not in _TAGS[type(node)]:
        raise CaseError(file, node.start_mark.line + 1, f"unknown YAML tag {_short_tag(node.tag)!r}: tags are not supported (quote the value if it is text)")


def _to_python(node: yaml.Node, path: Path_, lines: _Lines, file: str) -> Any:
    lines.values[path] = node.start_mark.line + 1
    _check_tag(node, file)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise CaseError(file, key_node.start_mark.line + 1, "mapping keys must be plain strings")
            _check_tag(key_node, file)
            _scalar(key_node, file)  # the same checks as for values (surrogates)
            key = key_node.value
            if key in result:
                raise CaseError(file, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            lines.keys[path + (key,)] = key_node.start_mark.line + 1
            result[key] = _to_python(value_node, path + (key,), lines, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, path + (i,), lines, file) for i, item in enumerate(node.value)]
    return _scalar(node, file)


def _compose(text: str, file: str, limits: Limits) -> yaml.Node | None:
    bad = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if bad:
        line = text[: bad.start()].count("\n") + 1
        code = ord(bad.group())
        name = " (NUL)" if code == 0 else ""
        raise CaseError(file, line, f"control character U+{code:04X}{name} is not allowed in YAML text")
    loader = LOADER(text, file, limits)
    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or str(exc)
        escape = _SURROGATE_ESCAPE.search(text.split("\n")[line - 1]) if "escape" in problem and line <= text.count("\n") + 1 else None
        if escape:  # libyaml refuses the escape itself; say what the Python reader would
            raise CaseError(file, line, _surrogate_message(int(escape.group(1), 16))) from None
        raise CaseError(file, line, f"YAML syntax error: {problem}") from None
    except yaml.reader.ReaderError as exc:
        raise CaseError(file, 1, f"YAML error: {exc.reason}") from None
    except yaml.YAMLError as exc:
        raise CaseError(file, 1, f"YAML error: {exc}") from None
    except RecursionError:
        raise CaseError(file, 1, "nested too deep to read") from None
    finally:
        loader.dispose()


def parse_yaml(text: str, file: str, limits: Limits = DEFAULT_LIMITS) -> tuple[list[tuple[dict[str, Any], Path_]], _Lines]:
    """The case mappings of a file with their paths in the document, and the line table."""
    node = _compose(text, file, limits)
    lines = _Lines()
    if node is None:
        raise CaseError(file, 1, "empty file: expected a case (mapping) or a list of cases")
    data = _to_python(node, (), lines, file)
    if isinstance(data, dict):
        return [(data, ())], lines
    if isinstance(data, list):
        if not data:
            raise CaseError(file, 1, "the list holds no cases")
        out = []
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                raise CaseError(file, lines.line((i,)), f"list item {i + 1} is a {type(item).__name__}, expected a case mapping")
            out.append((item, (i,)))
        return out, lines
    raise CaseError(file, 1, f"expected a case (mapping) or a list of cases, found a {type(data).__name__}")


def _body(spec: Any, base: Path_, lines: _Lines, file: str, limits: Limits, body_roots: tuple[Path, ...] | None) -> bytes:
    at = lambda key: lines.line(base + ("request", "body", key) if key else base + ("request", "body"))  # noqa: E731
    limit = limits.body_bytes

    def capped(data: bytes, key: str | None) -> bytes:
        if len(data) > limit:
            raise CaseError(file, at(key), f"request.body is {len(data)} bytes; the limit is {limit} (limit body_bytes)")
        return data

    if spec is None:
        return b""
    if isinstance(spec, str):
        return capped(spec.encode("utf-8"), None)
    if "text" in spec:
        return capped(spec["text"].encode("utf-8"), "text")
    if "repeat" in spec:
        unit = spec["repeat"].encode("utf-8")
        size = len(unit) * spec["times"]
        if size > limit:  # refused before anything is allocated
            raise CaseError(file, at("times"), f"request.body repeat x times is {size} bytes; the limit is {limit} (limit body_bytes)")
        return unit * spec["times"]
    if "base64" in spec:
        try:
            return capped(base64.b64decode(spec["base64"], validate=True), "base64")
        except (binascii.Error, ValueError) as exc:
            raise CaseError(file, at("base64"), f"request.body.base64 is not valid base64: {exc}") from None
    return _body_file(spec["file"], file, at("file"), limit, body_roots)


def _body_file(name: str, file: str, line: int, limit: int, body_roots: tuple[Path, ...] | None) -> bytes:
    """A body read from a regular file inside the case tree or a body root, never more than `limit` bytes."""
    if not name or Path(name).is_absolute() or name.startswith("~"):
        raise CaseError(file, line, f"request.body.file {name!r} must be a path relative to the case file")
    folder = Path(file).parent.resolve()
    roots = [Path(r).resolve() for r in body_roots] if body_roots is not None else [folder]
    target = (folder / name).resolve()  # symlinks resolved: a link out of the tree is out of the tree
    if not inside(target, roots):
        where = " or ".join(str(r) for r in roots)
        raise CaseError(file, line, f"request.body.file {name!r} is outside the case folder {where} (bodies are read only from the case tree or a folder named as a body root)")
    try:
        return read_limited(target, limit, "body")
    except InputFileError as exc:
        raise CaseError(file, line, f"request.body.file {name!r}: {exc} (limit body_bytes)" if "limit" in str(exc) else f"request.body.file {name!r}: {exc}") from None


def build_case(
    data: dict[str, Any], base: Path_, lines: _Lines, file: str, origin: str = "cases", *,
    limits: Limits = DEFAULT_LIMITS, body_roots: tuple[Path, ...] | None = None,
) -> Case:
    """Validate one case mapping and resolve its defaults. Body files are read only from inside
    `body_roots` (default: the case file's own folder). A case with `surface:` (a presigned POST
    policy or an IAM token) is built by harness/cases/surfaces.py."""
    if data.get("surface") in STREAM_SURFACES:  # aws-chunked, event-stream: harness/cases/streams.py
        return build_stream_case(data, base, lines, file, origin,
                                 lambda plain: build_case(plain, base, lines, file, origin, limits=limits, body_roots=body_roots))
    if "surface" in data:
        return build_surface_case(data, base, lines, file, origin)
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
    body = _body(req.get("body"), base, lines, file, limits, body_roots)
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
    except (ValueError, OverflowError) as exc:
        raise CaseError(file, at("context", "timestamp"), f"context.timestamp: {exc}") from None
    service_profile = profile(service)
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
        content_sha256_header=ctx.get("content_sha256_header", service_profile.content_sha256_header),
        session_token_placement=ctx.get("session_token_placement", "signed"),
        normalize_path=ctx.get("normalize_path", service_profile.normalize_path),
        double_encode=ctx.get("double_encode", service_profile.double_encode),
    )
    modes = tuple(ctx.get("modes", MODES))
    expect = {m: dict(data.get("expect", {}).get(m, {})) for m in MODES if m in data.get("expect", {})}
    for mode in expect:
        if mode not in modes:
            raise CaseError(file, at("expect", mode), f"expect.{mode} given but context.modes is {list(modes)}")
    flags = dict(data.get("flags", {}))
    if "divergence" in flags and catalogue().get(flags["divergence"]) is None:
        raise CaseError(file, at("flags", "divergence"), f"flags.divergence {flags['divergence']!r} is not in harness/divergences.yaml (docs/divergences.md)")
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


def load_file(path: Path, origin: str = "cases", *, limits: Limits = DEFAULT_LIMITS, body_roots: tuple[Path, ...] | None = None) -> list[Case]:
    """All cases of one YAML file, or one CaseError for the whole file."""
    file = str(path)
    try:
        raw = read_limited(path, limits.case_file_bytes)
    except InputFileError as exc:
        hint = " (limit case_file_bytes; use request.body.file for large bodies)" if "limit" in str(exc) else ""
        raise CaseError(file, 1, f"cannot read: {exc}{hint}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CaseError(file, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    docs, lines = parse_yaml(text, file, limits)
    return [build_case(data, base, lines, file, origin, limits=limits, body_roots=body_roots) for data, base in docs]
