"""Hostile and malformed case input, generated here: every one ends in exactly one line
FILE:LINE: problem, within 10 s (an alarm fails the test; no timing is asserted beyond that bound), with no exception escaping load_cases, and a valid case next to it
still loads. YAML case files and aws-c-auth style suite folders (all written into tmp_path)."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from harness.cases import load_cases, yamlfile
from harness.limits import DEFAULT, Limits

SMALL = Limits(case_file_bytes=4096, body_bytes=1000)
GOOD_YAML = "id: good/next-door\ntitle: a valid case next to a broken one\nrequest: {method: GET, url: 'https://example.amazonaws.com/'}\n"
HEAD = "id: t/x\ntitle: t\n"  # two lines, so a problem on the third line is line 3
REQ = "request: {method: GET, url: 'https://example.amazonaws.com/'}\n"


@dataclass
class Hostile:
    name: str
    write: Callable[[Path], Path]  # writes the input under the folder, returns the file the error names
    line: int
    fragment: str
    limits: Limits = DEFAULT
    body_roots: tuple[str, ...] = ()
    suite: bool = False
    extra: dict = field(default_factory=dict)


def _file(name: str, content: str | bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return write


def yaml_case(name: str, content: str | bytes, line: int, fragment: str, limits: Limits = DEFAULT, roots: tuple[str, ...] = ()) -> Hostile:
    return Hostile(name, _file(f"{name}.yaml", content), line, fragment, limits, roots)


# --- YAML case files ---------------------------------------------------------------------------

def _dates() -> list[Hostile]:
    bad = {
        "feb-30": ("2015-02-30T12:00:00Z", "day is out of range for month"),
        "feb-29-not-leap": ("2015-02-29T12:00:00Z", "day is out of range for month"),
        "apr-31": ("2015-04-31T12:00:00Z", "day is out of range for month"),
        "month-13": ("2015-13-01T12:00:00Z", "month must be in 1..12"),
        "hour-25": ("2015-08-30T25:00:00Z", "hour must be in 0..23"),
        "minute-61": ("2015-08-30T12:61:00Z", "minute must be in 0..59"),
        "date-only-impossible": ("2015-02-30", "day is out of range for month"),
        "no-zone": ("2015-08-30T12:36:00", "timestamp '2015-08-30T12:36:00' has no time zone; add 'Z' for UTC"),
        "day-zero": ("2015-08-00T12:00:00Z", "day is out of range for month"),
    }
    return [yaml_case(f"date-{n}", f"{HEAD}{REQ}context:\n  timestamp: {v}\n", 5, f"context.timestamp: {m}") for n, (v, m) in bad.items()]


def _tags() -> list[Hostile]:
    out = []
    for i, tag in enumerate(["!foo", "!!python/object:os.system", "!!python/name:os.system", "!!python/object/apply:os.system",
                             "!!binary", "!custom", "!<tag:example.com,2000:x>", "!!python/tuple"]):
        shown = {"!<tag:example.com,2000:x>": "tag:example.com,2000:x"}.get(tag, tag)
        out.append(yaml_case(f"tag-scalar-{i}", f"id: t/x\ntitle: {tag} text\n{REQ}", 2, f"unknown YAML tag {shown!r}"))
    for i, (tag, value) in enumerate([("!!python/object:os.system", "{method: GET}"), ("!!set", "{a, b}"), ("!!omap", "[{a: 1}]"),
                                      ("!foo", "[1, 2]"), ("!!python/object/new:list", "[]"), ("!!pairs", "[{a: b}]")]):
        out.append(yaml_case(f"tag-node-{i}", f"{HEAD}request: {tag} {value}\n", 3, "unknown YAML tag"))
    out.append(yaml_case("tag-key", f"{HEAD}!foo request: {{method: GET}}\n", 3, "unknown YAML tag '!foo'"))
    return out


def _nesting() -> list[Hostile]:
    out = []
    for depth in (65, 100, 1000, 5000, 20000):
        out.append(yaml_case(f"flow-seq-{depth}", f"{HEAD}tags: " + "[" * depth + "]" * depth + "\n", 3, "nested more than 64 levels deep (limit nesting_depth)"))
    for depth in (65, 5000):
        out.append(yaml_case(f"flow-map-{depth}", f"{HEAD}flags: " + "{a: " * depth + "1" + "}" * depth + "\n", 3, "nested more than 64 levels deep"))
        out.append(yaml_case(f"block-seq-{depth}", f"{HEAD}tags:\n" + "- " * depth + "x\n", 4, "nested more than 64 levels deep"))
    block_map = HEAD + "flags:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(80)) + " " * 81 + "x\n"
    out.append(yaml_case("block-map-80", block_map, 4 + 62, "nested more than 64 levels deep"))
    out.append(yaml_case("nesting-small-limit", f"{HEAD}{REQ}tags: [[[x]]]\n", 4, "nested more than 3 levels deep", Limits(nesting_depth=3)))
    return out


def _surrogates() -> list[Hostile]:
    out = []
    for i, esc in enumerate(["\\ud800", "\\udfff", "\\udc00", "\\ud83d\\ude00", "x\\ud800y"]):
        out.append(yaml_case(f"surrogate-title-{i}", f'id: t/x\ntitle: "{esc}"\n{REQ}', 2, "lone surrogate"))
    out.append(yaml_case("surrogate-header-value", f'{HEAD}request:\n  method: GET\n  url: "https://h/"\n  headers:\n    - [X-A, "\\ud800"]\n', 7, "lone surrogate \\ud800"))
    out.append(yaml_case("surrogate-header-name", f'{HEAD}request:\n  method: GET\n  url: "https://h/"\n  headers:\n    - ["\\udbff", "v"]\n', 7, "lone surrogate \\udbff"))
    out.append(yaml_case("surrogate-key", f'{HEAD}"\\ud800": 1\n{REQ}', 3, "lone surrogate"))
    out.append(yaml_case("surrogate-body", f'{HEAD}request: {{method: PUT, url: "https://h/", body: "\\ud800"}}\n', 3, "lone surrogate"))
    out.append(yaml_case("surrogate-tag-item", f'{HEAD}{REQ}tags: [ok, "\\udc80"]\n', 4, "lone surrogate \\udc80"))
    return out


def _bytes() -> list[Hostile]:
    out = []
    for name, char, shown in [("nul", b"\x00", "U+0000 (NUL)"), ("soh", b"\x01", "U+0001"), ("esc", b"\x1b", "U+001B"),
                              ("del", b"\x7f", "U+007F"), ("bell", b"\x07", "U+0007"), ("fffe", "\ufffe".encode(), "U+FFFE")]:
        out.append(yaml_case(f"control-{name}", HEAD.encode() + b"tags: [a" + char + b"b]\n" + REQ.encode(), 3, f"control character {shown}"))
    out.append(yaml_case("nul-line-one", b"\x00id: t/x\n", 1, "control character U+0000 (NUL)"))
    for name, raw, offset_line in [("ff", b"\xff", 3), ("truncated", b"\xc3", 3), ("overlong", b"\xc0\xaf", 3),
                                   ("encoded-surrogate", b"\xed\xa0\x80", 3), ("latin1", "é".encode("latin-1"), 3)]:
        out.append(yaml_case(f"utf8-{name}", HEAD.encode() + b"tags: [" + raw + b"]\n" + REQ.encode(), offset_line, "not UTF-8 text"))
    out.append(yaml_case("utf16-bom", "\ufeffid: t/x".encode("utf-16"), 1, "not UTF-8 text"))
    return out


def _billion_laughs(width: int, levels: int) -> str:
    text = "a0: &a0 [" + ",".join(['"lol"'] * width) + "]\n"
    for i in range(1, levels):
        text += f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]\n"
    return text


def _aliases() -> list[Hostile]:
    bomb = _billion_laughs(9, 9)
    assert len(bomb) < 600  # the classic ~550-byte bomb: 9^9 = 387 million strings once expanded
    out = [
        yaml_case("alias-bomb-9x9", bomb, 4, "more than 100 aliases once expanded (limit yaml_aliases)"),
        yaml_case("alias-bomb-2x60", _billion_laughs(2, 60), 6, "more than 100 aliases once expanded"),
        yaml_case("alias-bomb-4x20", _billion_laughs(4, 20), 4, "more than 100 aliases once expanded"),
        yaml_case("alias-wide", "a: &a x\nb: [" + ",".join(["*a"] * 101) + "]\n", 2, "more than 100 aliases once expanded"),
        yaml_case("alias-wide-small-limit", "a: &a x\nb: [*a, *a, *a]\n", 2, "more than 2 aliases once expanded", Limits(yaml_aliases=2)),
        yaml_case("alias-recursive", "a: &a [x, *a]\n", 1, "alias *a is used inside the node it names"),
        yaml_case("alias-recursive-map", "a: &a\n  b: *a\n", 2, "recursive alias"),
        yaml_case("alias-undefined", f"{HEAD}tags: *nothing\n{REQ}", 3, "YAML syntax error: found undefined alias 'nothing'"),
        yaml_case("alias-nodes-over-budget", "a: &a [" + ",".join(["x"] * 1200) + "]\nb: [*a, *a]\n", 2,
                  "aliases expand to more than 2000 values (limit yaml_aliases x 1000)", Limits(yaml_aliases=2)),
    ]
    return out


LONG = HEAD + "tags: [" + "x," * 3000 + "]\n" + REQ


def _bodies() -> list[Hostile]:
    def body(spec: str) -> str:
        return f"{HEAD}request:\n  method: PUT\n  url: 'https://h/'\n  body: {spec}\n"

    out = [
        yaml_case("repeat-100gb", f"{HEAD}request:\n  method: PUT\n  url: 'https://h/'\n  body:\n    repeat: '{'x' * 1000}'\n    times: 100000000\n", 8,
                  "request.body repeat x times is 100000000000 bytes; the limit is 16777216 (limit body_bytes)"),
        yaml_case("repeat-just-over", body("{repeat: 'ab', times: 501}"), 6, "repeat x times is 1002 bytes; the limit is 1000", SMALL),
        yaml_case("repeat-utf8-width", body("{repeat: 'é', times: 501}"), 6, "repeat x times is 1002 bytes", SMALL),
        yaml_case("text-over", body("{text: '" + "x" * 1001 + "'}"), 6, "request.body is 1001 bytes; the limit is 1000", SMALL),
        yaml_case("string-over", body("'" + "x" * 1001 + "'"), 6, "request.body is 1001 bytes", SMALL),
        yaml_case("base64-over", body("{base64: '" + "A" * 1400 + "'}"), 6, "request.body is 1050 bytes", SMALL),
        yaml_case("file-over-case-limit", LONG, 1, f"cannot read: file is {len(LONG)} bytes; the limit is 4096 (limit case_file_bytes", SMALL),
    ]
    for i, name in enumerate(["../../../../etc/passwd", "../outside.bin", "sub/../../outside.bin"]):
        out.append(yaml_case(f"file-dotdot-{i}", body(f"{{file: '{name}'}}"), 6, f"request.body.file {name!r} is outside the case folder"))
    for i, name in enumerate(["/etc/passwd", "/dev/zero", "~/.aws/credentials", ""]):
        out.append(yaml_case(f"file-absolute-{i}", body(f"{{file: '{name}'}}"), 6, "must be a path relative to the case file"))

    def linked(target: str, link: str = "link.bin") -> Callable[[Path], Path]:
        def write(folder: Path) -> Path:
            os.symlink(target, folder / link)
            return _file("case.yaml", body(f"{{file: {link}}}"))(folder)

        return write

    def fifo(folder: Path) -> Path:
        os.mkfifo(folder / "pipe.bin")
        return _file("case.yaml", body("{file: pipe.bin}"))(folder)

    def subfolder(folder: Path) -> Path:
        (folder / "dir.bin").mkdir()
        return _file("case.yaml", body("{file: dir.bin}"))(folder)

    def big(folder: Path) -> Path:
        (folder / "big.bin").write_bytes(b"x" * 1001)
        return _file("case.yaml", body("{file: big.bin}"))(folder)

    def missing(folder: Path) -> Path:
        return _file("case.yaml", body("{file: nothing.bin}"))(folder)

    out += [
        Hostile("file-symlink-out", linked("/etc/passwd"), 6, "request.body.file 'link.bin' is outside the case folder"),
        Hostile("file-symlink-dev-zero", linked("/dev/zero"), 6, "is outside the case folder"),
        Hostile("file-dev-zero-in-body-root", linked("/dev/zero"), 6, "request.body.file 'link.bin': is a character device, not a regular file", body_roots=("/dev",)),
        Hostile("file-fifo", fifo, 6, "request.body.file 'pipe.bin': is a FIFO (named pipe), not a regular file"),
        Hostile("file-folder", subfolder, 6, "request.body.file 'dir.bin': is a folder, not a regular file"),
        Hostile("file-over-body-limit", big, 6, "request.body.file 'big.bin': body is 1001 bytes; the limit is 1000", SMALL),
        Hostile("file-missing", missing, 6, "request.body.file 'nothing.bin': No such file or directory"),
    ]
    return out


def _values() -> list[Hostile]:
    return [
        yaml_case("int-5000-digits", f"{HEAD}request:\n  method: PUT\n  url: 'https://h/'\n  body: {{repeat: a, times: {'9' * 5000}}}\n", 6, "cannot read the value '9999999999999999999999999999999999999999': a number with more than 4300 digits"),
        yaml_case("empty-list", "[]\n", 1, "the list holds no cases"),
        yaml_case("timestamp-year-overflow", f"{HEAD}{REQ}context:\n  timestamp: '0001-01-01T00:00:00+01:00'\n", 5, "context.timestamp"),
        yaml_case("region-number", f"{HEAD}{REQ}context:\n  region: 5\n", 5, "context.region: 5 is not of type 'string'"),
        yaml_case("times-negative", f"{HEAD}request: {{method: PUT, url: 'https://h/', body: {{repeat: a, times: -1}}}}\n", 3, "request.body"),
    ]


# --- suite folders -----------------------------------------------------------------------------

CONTEXT = {
    "credentials": {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
    "expiration_in_seconds": 3600,
    "normalize": True,
    "region": "us-east-1",
    "service": "service",
    "sign_body": False,
    "timestamp": "2015-08-30T12:36:00Z",
}
REQUEST = "GET / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"


def write_suite_case(folder: Path, context: dict | str | bytes | None = None, request: str | bytes = REQUEST) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "request.txt").write_bytes(request.encode() if isinstance(request, str) else request)
    if context is None:
        context = CONTEXT
    if isinstance(context, dict):
        context = json.dumps(context, indent=4)
    (folder / "context.json").write_bytes(context.encode() if isinstance(context, str) else context)


def _line_of(text: str, key: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if f'"{key}"' in line)


def suite_context(name: str, change: Callable[[dict], None] | str | bytes, fragment: str, line: int | None = None, key: str | None = None) -> Hostile:
    def write(root: Path) -> Path:
        if callable(change):
            ctx = json.loads(json.dumps(CONTEXT))
            change(ctx)
            text: str | bytes = json.dumps(ctx, indent=4)
        else:
            text = change
        write_suite_case(root / "v4" / "bad", text)
        return root / "v4" / "bad" / "context.json"

    h = Hostile(name, write, line or 1, fragment, suite=True)
    if key is not None:  # the line is where the key is, in the file as written
        ctx = json.loads(json.dumps(CONTEXT))
        assert callable(change)
        change(ctx)
        h.line = _line_of(json.dumps(ctx, indent=4), key)
    return h


def _set(**values) -> Callable[[dict], None]:
    return lambda ctx: ctx.update(values)


def _suite() -> list[Hostile]:
    out = [
        suite_context("region-5", _set(region=5), "'region' must be a region name, like \"us-east-1\", not the number 5", key="region"),
        suite_context("region-empty", _set(region=""), "'region' must be a region name", key="region"),
        suite_context("region-null", _set(region=None), "'region' must be a region name, like \"us-east-1\", not null", key="region"),
        suite_context("region-list", _set(region=["us-east-1"]), "not an array", key="region"),
        suite_context("region-newline", _set(region="us-east-1\nx"), "'region' must be a region name", key="region"),
        suite_context("service-5", _set(service=5), "'service' must be a service name", key="service"),
        suite_context("timestamp-5", _set(timestamp=5), "'timestamp' must be an ISO 8601 time with a zone", key="timestamp"),
        suite_context("timestamp-impossible", _set(timestamp="2015-02-30T12:00:00Z"), "'timestamp': day is out of range for month", key="timestamp"),
        suite_context("timestamp-words", _set(timestamp="yesterday"), "'timestamp': Invalid isoformat string", key="timestamp"),
        suite_context("timestamp-no-zone", _set(timestamp="2015-08-30T12:36:00"), "has no time zone", key="timestamp"),
        suite_context("normalize-string", _set(normalize="yes"), "'normalize' must be true or false, not the string 'yes'", key="normalize"),
        suite_context("sign-body-1", _set(sign_body=1), "'sign_body' must be true or false, not the number 1", key="sign_body"),
        suite_context("expiration-string", _set(expiration_in_seconds="3600"), "'expiration_in_seconds' must be a whole number of seconds", key="expiration_in_seconds"),
        suite_context("expiration-negative", _set(expiration_in_seconds=-1), "not the number -1", key="expiration_in_seconds"),
        suite_context("expiration-float", _set(expiration_in_seconds=1.5), "not the number 1.5", key="expiration_in_seconds"),
        suite_context("expiration-bool", _set(expiration_in_seconds=True), "not the boolean true", key="expiration_in_seconds"),
        suite_context("omit-token-string", _set(omit_session_token="true"), "'omit_session_token' must be true or false", key="omit_session_token"),
        suite_context("double-uri-encode-0", _set(double_uri_encode=0), "'double_uri_encode' must be true or false", key="double_uri_encode"),
        suite_context("unknown-key", _set(use_double_uri_encode=False), "unknown key 'use_double_uri_encode' (understood: credentials, region", key="use_double_uri_encode"),
        suite_context("unknown-key-typo", _set(normalise=True), "unknown key 'normalise'", key="normalise"),
        suite_context("credentials-string", _set(credentials="AKID"), "'credentials' must be an object", key="credentials"),
        suite_context("credentials-unknown", lambda c: c["credentials"].update(session_token="x"), "unknown key 'session_token' in credentials", key="session_token"),
        suite_context("credentials-no-secret", lambda c: c["credentials"].pop("secret_access_key"), "missing key 'credentials.secret_access_key'", key="credentials"),
        suite_context("credentials-token-number", lambda c: c["credentials"].update(token=7), "'credentials.token' must be a session token", key="token"),
        suite_context("missing-region", lambda c: c.pop("region"), "missing key 'region'", line=1),
        suite_context("missing-credentials", lambda c: c.pop("credentials"), "missing key 'credentials'", line=1),
        suite_context("array", "[1, 2]", "context.json must hold an object, not an array"),
        suite_context("broken-json", '{\n  "region": "us-east-1",\n  oops\n}', "not valid JSON: Expecting property name", line=3),
        suite_context("empty-file", "", "not valid JSON: Expecting value"),
        suite_context("duplicate-key", '{\n"region": "a",\n"region": "b"\n}', "duplicate key 'region'", line=3),
        suite_context("nan", json.dumps({**CONTEXT, "expiration_in_seconds": float("nan")}, indent=4), "not the number nan", line=6),
        suite_context("deep-json", '{"credentials": ' + "[" * 5000 + "]" * 5000 + "}", "nested more than 64 levels deep (limit nesting_depth)", line=1),
        suite_context("deep-json-under-recursion", '{"region": ' + "[" * 100 + "]" * 100 + "}", "nested more than 64 levels deep", line=1),
        suite_context("surrogate", json.dumps(CONTEXT, indent=4).replace('"service": "service"', '"service": "\\ud800"'), "'service' holds a lone surrogate \\ud800", line=9),
        suite_context("invalid-utf8", b'{"region": "\xff"}', "not UTF-8 text (byte 0xff at offset 12)"),
        suite_context("nul", '{"region": "a\x00"}', "not valid JSON: Invalid control character"),
        suite_context("big-int", '{"expiration_in_seconds": ' + "9" * 5000 + "}", "not valid JSON: a number with more than 4300 digits"),
    ]

    def public_key(text: str) -> Callable[[Path], Path]:
        def write(root: Path) -> Path:
            write_suite_case(root / "v4a" / "bad")
            (root / "v4a" / "bad" / "public-key.json").write_text(text)
            return root / "v4a" / "bad" / "public-key.json"

        return write

    x = "b6618f6a65740a99e650b33b6b4b5bd0d43b176d721a3edfea7e7d2d56d936b1"
    out += [
        Hostile("public-key-broken", public_key('{"X": "ab",'), 1, "not valid JSON", suite=True),
        Hostile("public-key-short-x", public_key('{\n"X": "ab",\n"Y": "' + x + '"\n}'), 2, "'X' must be 64 hexadecimal digits (a P-256 coordinate), not the string 'ab'", suite=True),
        Hostile("public-key-number", public_key('{"X": "' + x + '", "Y": 5}'), 1, "'Y' must be 64 hexadecimal digits", suite=True),
        Hostile("public-key-missing-y", public_key('{"X": "' + x + '"}'), 1, "missing key 'Y'", suite=True),
        Hostile("public-key-unknown", public_key('{"X": "' + x + '", "Y": "' + x + '",\n "Z": "1"}'), 2, "unknown key 'Z' (understood: X, Y)", suite=True),
        Hostile("public-key-list", public_key("[]"), 1, "public-key.json must hold an object with X and Y", suite=True),
    ]

    def request(raw: bytes | str, name: str = "request.txt") -> Callable[[Path], Path]:
        def write(root: Path) -> Path:
            write_suite_case(root / "v4" / "bad", request=raw)
            return root / "v4" / "bad" / name

        return write

    def special(make: Callable[[Path], None], name: str) -> Callable[[Path], Path]:
        def write(root: Path) -> Path:
            write_suite_case(root / "v4" / "bad")
            target = root / "v4" / "bad" / name
            target.unlink()
            make(target)
            return target

        return write

    out += [
        Hostile("request-no-host", request("GET / HTTP/1.1\nX-A:b\n"), 2, "request has no Host header", suite=True),
        Hostile("request-bad-line", request("GET\nHost:h\n"), 1, "is not 'METHOD target HTTP/1.1'", suite=True),
        Hostile("request-header-no-colon", request("GET / HTTP/1.1\nHost:h\nnocolon\n"), 3, "has no 'name:value'", suite=True),
        Hostile("request-continuation-first", request("GET / HTTP/1.1\n  folded\n"), 2, "continuation line before any header", suite=True),
        Hostile("request-invalid-utf8", request(b"GET /\xff HTTP/1.1\nHost:h\n"), 1, "not UTF-8 text (byte 0xff at offset 5)", suite=True),
        Hostile("request-fifo", special(lambda p: os.mkfifo(p), "request.txt"), 1, "cannot read: is a FIFO (named pipe), not a regular file", suite=True),
        Hostile("context-fifo", special(lambda p: os.mkfifo(p), "context.json"), 1, "cannot read: is a FIFO (named pipe)", suite=True),
        Hostile("context-dev-zero", special(lambda p: os.symlink("/dev/zero", p), "context.json"), 1, "cannot read: is a character device", suite=True),
        Hostile("request-folder", special(lambda p: p.mkdir(), "request.txt"), 1, "cannot read: is a folder", suite=True),
        Hostile("expectation-invalid-utf8", lambda root: _expectation(root, b"GET\n\xfe\n"), 2, "not UTF-8 text (byte 0xfe", suite=True),
    ]
    return out


def _expectation(root: Path, raw: bytes) -> Path:
    write_suite_case(root / "v4" / "bad")
    path = root / "v4" / "bad" / "header-canonical-request.txt"
    path.write_bytes(raw)
    return path


HOSTILE = _dates() + _tags() + _nesting() + _surrogates() + _bytes() + _aliases() + _bodies() + _values() + _suite()


def test_there_are_at_least_a_hundred_hostile_inputs():
    assert len(HOSTILE) >= 100
    assert len({h.name for h in HOSTILE}) == len(HOSTILE)


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


LOADERS = {cls.__name__: cls for cls in yamlfile._LOADERS}  # libyaml's parser when installed, and the pure Python one
RUNS = [pytest.param(h, loader, id=f"{h.name}-{loader}") for h in HOSTILE for loader in (LOADERS if not h.suite else [next(iter(LOADERS))])]


def test_both_yaml_parsers_are_tried():
    assert "_PyLoader" in LOADERS and len(RUNS) > len(HOSTILE)


@pytest.mark.parametrize("hostile, loader", RUNS)
def test_hostile_input_gives_one_line_and_the_neighbour_still_loads(tmp_path, monkeypatch, hostile, loader):
    monkeypatch.setattr(yamlfile, "LOADER", LOADERS[loader])
    root = tmp_path / ("suite" if hostile.suite else "cases")
    root.mkdir()
    if hostile.suite:
        write_suite_case(root / "v4" / "good-next-door")
    else:
        (root / "good.yaml").write_text(GOOD_YAML)
    named = hostile.write(root)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(10)  # a hang (a FIFO read, an endless loop) fails the test instead of stopping the suite
    try:
        loaded = load_cases([root], limits=hostile.limits, body_roots=hostile.body_roots)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    messages = [str(e) for e in loaded.errors]
    assert len(messages) == 1, messages
    message = messages[0]
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith(f"{named}:{hostile.line}: "), message
    assert hostile.fragment in message, message
    good = "suite/v4/good-next-door" if hostile.suite else "good/next-door"
    assert [c.id for c in loaded.cases] == [good]


def test_file_and_folder_names_that_are_not_utf8_are_refused_in_printable_form(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "good.yaml").write_text(GOOD_YAML)
    with open(os.path.join(os.fsencode(cases), b"bad\xff.yaml"), "w") as f:
        f.write(GOOD_YAML.replace("next-door", "other"))
    suite = tmp_path / "suite"
    write_suite_case(suite / "v4" / "fine")
    write_suite_case(Path(os.fsdecode(os.path.join(os.fsencode(suite / "v4"), b"caf\xe9"))))
    loaded = load_cases([cases, suite])
    assert sorted(c.id for c in loaded.cases) == ["good/next-door", "suite/v4/fine"]
    messages = [str(e) for e in loaded.errors]
    assert messages == [f"{cases}/bad\\xff.yaml:1: the file name is not UTF-8; rename the file",
                        f"{suite}/v4/caf\\xe9:1: the folder name is not UTF-8; rename the folder"]
    for message in messages:
        message.encode("utf-8")  # printable and writable as it is
