"""Read an aws-c-auth style signing test suite folder in place.

Layout: <suite>/v4/<name>/ and <suite>/v4a/<name>/, each with context.json and request.txt, and
optionally {header,query}-{canonical-request,string-to-sign,signature,signed-request}.txt and, for
v4a, public-key.json. Files are read byte for byte: raw UTF-8 and spaces in the request line,
folded header lines, bodies. Every context.json key is type-checked and mapped onto the Context, or
refused at its line: the keys of the official suite and of the SDKs' public copies (docs/cases.md,
"Suite folders"); a folder without context.json gets the suite's default context.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.cases.errors import CaseError
from harness.cases.files import InputFileError, is_utf8_name, read_limited, shown
from harness.limits import DEFAULT, Limits
from harness.http_text import MalformedRequest, parse_http_message
from harness.model import Case, Context, Request, Source, parse_timestamp

ALGORITHM_DIRS = {"v4": "sigv4", "v4a": "sigv4a"}
STAGE_FILES = {
    "canonical_request": "canonical-request.txt",
    "string_to_sign": "string-to-sign.txt",
    "signature": "signature.txt",
    "signed_request": "signed-request.txt",
}


def is_suite(path: Path) -> bool:
    return path.is_dir() and any((path / d).is_dir() for d in ALGORITHM_DIRS)


# context.json keys understood, by dialect (docs/cases.md, "Suite folders", says where each comes from).
CONTEXT_KEYS: dict[str, tuple[type, str]] = {
    "credentials": (dict, "an object with access_key_id, secret_access_key and optional token"),
    "region": (str, 'a region name, like "us-east-1"'),
    "service": (str, 'a service name, like "service"'),
    "timestamp": (str, 'an ISO 8601 time with a zone, like "2015-08-30T12:36:00Z"'),
    "normalize": (bool, "true or false"),
    "sign_body": (bool, "true or false"),
    "expiration_in_seconds": (int, "a whole number of seconds"),
    "omit_session_token": (bool, "true or false"),
    "double_uri_encode": (bool, "true or false"),  # smithy-kotlin's copy
}
CREDENTIAL_KEYS: dict[str, tuple[type, str]] = {
    "access_key_id": (str, 'an access key id, like "AKIDEXAMPLE"'),
    "secret_access_key": (str, "a secret access key"),
    "token": (str, "a session token"),
}
REQUIRED_KEYS = ("credentials", "region", "service")
REQUIRED_CREDENTIALS = ("access_key_id", "secret_access_key")
# What a folder without context.json (or a context.json without the key) is signed with: the values
# every official context.json carries, which are also smithy-kotlin's defaultTestSigningConfig.
DEFAULT_CONTEXT: dict[str, object] = {
    "credentials": {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
    "region": "us-east-1",
    "service": "service",
    "timestamp": "2015-08-30T12:36:00Z",
    "normalize": True,
    "sign_body": False,
    "expiration_in_seconds": 3600,
    "omit_session_token": False,
    "double_uri_encode": True,
}
_JSON_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')
_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return "an array" if isinstance(value, list) else "an object"


def _key_line(text: str, path: tuple[str, ...], occurrence: int = 1) -> int:
    """The line of the key at `path` in a JSON text (each key searched after its parent's position)."""
    pos = 0
    for depth, name in enumerate(path):
        last, seen = depth == len(path) - 1, 0
        for match in _JSON_KEY.finditer(text, pos):
            try:
                key = json.loads(f'"{match.group(1)}"')
            except ValueError:
                continue
            if key == name:
                seen += 1
                if not last or seen == occurrence:
                    pos = match.start()
                    break
        else:
            return text[:pos].count("\n") + 1 if depth else 1
    return text[:pos].count("\n") + 1


class _Duplicate(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def read_json(path: Path, limits: Limits) -> tuple[object, str]:
    """A JSON file of a suite folder, with its text for line numbers; every problem is one CaseError."""
    file = str(path)
    try:
        raw = read_limited(path, limits.case_file_bytes)
    except InputFileError as exc:
        raise CaseError(file, 1, f"cannot read: {exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CaseError(file, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except _Duplicate as exc:
        raise CaseError(file, _key_line(text, (exc.key,), occurrence=2), f"duplicate key {exc.key!r}") from None
    except json.JSONDecodeError as exc:
        raise CaseError(file, exc.lineno, f"not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise CaseError(file, 1, f"nested more than {limits.nesting_depth} levels deep (limit nesting_depth)") from None
    except ValueError as exc:
        problem = "a number with more than 4300 digits" if "integer string conversion" in str(exc) else str(exc)[:120]
        raise CaseError(file, 1, f"not valid JSON: {problem}") from None
    _check_json_values(data, text, file, limits)
    return data, text


def _check_json_values(data: object, text: str, file: str, limits: Limits) -> None:
    """No nesting past the limit and no lone surrogate in any string (keys included)."""
    stack: list[tuple[object, int, tuple[str, ...]]] = [(data, 0, ())]
    while stack:
        value, depth, path = stack.pop()
        if depth > limits.nesting_depth:
            raise CaseError(file, _key_line(text, path), f"nested more than {limits.nesting_depth} levels deep (limit nesting_depth)")
        items: list[tuple[str, object]] = []
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list):
            items = [(path[-1] if path else "", v) for v in value]
        for key, item in items:
            for text_value in (key, item):
                if isinstance(text_value, str) and _SURROGATE.search(text_value):
                    bad = _SURROGATE.search(text_value).group()  # type: ignore[union-attr]
                    raise CaseError(file, _key_line(text, path + (key,)), f"{key!r} holds a lone surrogate \\u{ord(bad):04x}, which is not a Unicode character")
            stack.append((item, depth + 1, path + (key,) if isinstance(value, dict) else path))


def _typed(ctx: dict[str, object], table: dict[str, tuple[type, str]], required: tuple[str, ...], prefix: tuple[str, ...], text: str, file: str) -> None:
    """Every key known, of its type, non-empty when a string; the required ones present."""
    where = ".".join(prefix)
    for key, value in ctx.items():
        if key not in table:
            known = ", ".join(table)
            raise CaseError(file, _key_line(text, prefix + (key,)), f"unknown key {key!r}{' in ' + where if where else ''} (understood: {known}; see docs/cases.md)")
        kind, expected = table[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if ok and isinstance(value, str) and (not value.strip() or any(c.isspace() or not c.isprintable() for c in value)):
            ok = False
        if ok and kind is int and value < 0:  # type: ignore[operator]
            ok = False
        if not ok:
            name = ".".join(prefix + (key,))
            raise CaseError(file, _key_line(text, prefix + (key,)), f"{name!r} must be {expected}, not {_json_type(value)}")
    for key in required:
        if key not in ctx:
            line = _key_line(text, prefix) if prefix else 1
            raise CaseError(file, line, f"missing key {'.'.join(prefix + (key,))!r} ({table[key][1]})")


def read_context(path: Path, limits: Limits) -> dict[str, object]:
    """context.json, type-checked key by key, with the defaults filled in."""
    data, text = read_json(path, limits)
    file = str(path)
    if not isinstance(data, dict):
        raise CaseError(file, 1, f"context.json must hold an object, not {_json_type(data)}")
    _typed(data, CONTEXT_KEYS, REQUIRED_KEYS, (), text, file)
    _typed(data["credentials"], CREDENTIAL_KEYS, REQUIRED_CREDENTIALS, ("credentials",), text, file)  # type: ignore[arg-type]
    try:
        parse_timestamp(str(data.get("timestamp", DEFAULT_CONTEXT["timestamp"])))
    except (ValueError, OverflowError) as exc:
        raise CaseError(file, _key_line(text, ("timestamp",)), f"'timestamp': {exc}") from None
    return {**DEFAULT_CONTEXT, **data}


def read_public_key(path: Path, limits: Limits) -> dict[str, str]:
    """public-key.json: {"X": 64 hex digits, "Y": 64 hex digits}."""
    data, text = read_json(path, limits)
    file = str(path)
    if not isinstance(data, dict):
        raise CaseError(file, 1, f"public-key.json must hold an object with X and Y, not {_json_type(data)}")
    for key, value in data.items():
        if key not in ("X", "Y"):
            raise CaseError(file, _key_line(text, (key,)), f"unknown key {key!r} (understood: X, Y)")
        if not isinstance(value, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", value):
            raise CaseError(file, _key_line(text, (key,)), f"{key!r} must be 64 hexadecimal digits (a P-256 coordinate), not {_json_type(value)}")
    for key in ("X", "Y"):
        if key not in data:
            raise CaseError(file, 1, f"missing key {key!r} (64 hexadecimal digits)")
    return data  # type: ignore[return-value]


def _read_text(path: Path, limits: Limits) -> str | None:
    if not path.exists() and not path.is_symlink():
        return None
    try:
        raw = read_limited(path, limits.case_file_bytes)
    except InputFileError as exc:
        raise CaseError(str(path), 1, f"cannot read: {exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CaseError(str(path), line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None


def _made_with_defaults(string_to_sign: str | None, algorithm: str) -> bool:
    """Whether a string to sign names the default date and scope (so the folder's expectations were
    made with the default context, though the folder has no context.json)."""
    if string_to_sign is None:
        return False
    lines = string_to_sign.split("\n")
    scope = "20150830/us-east-1/service/aws4_request" if algorithm == "sigv4" else "20150830/service/aws4_request"
    return lines[1:3] == ["20150830T123600Z", scope]


def load_suite_case(folder: Path, suite_root: Path, origin: str, limits: Limits = DEFAULT) -> Case:
    algorithm = ALGORITHM_DIRS[folder.parent.name]
    rel = f"{origin}/{folder.parent.name}/{folder.name}"
    context_file = folder / "context.json"
    request_file = folder / "request.txt"
    if not request_file.exists():
        raise CaseError(str(request_file), 1, "missing file: a suite case folder needs request.txt (and context.json, unless the defaults apply)")
    has_context = context_file.exists() or context_file.is_symlink()
    ctx = read_context(context_file, limits) if has_context else dict(DEFAULT_CONTEXT)
    creds: dict[str, str] = ctx["credentials"]  # type: ignore[assignment]
    region = str(ctx["region"])
    context = Context(
        access_key_id=creds["access_key_id"],
        secret_access_key=creds["secret_access_key"],
        session_token=creds.get("token"),
        region=region,
        region_set=(region,),
        service=str(ctx["service"]),
        timestamp=parse_timestamp(str(ctx["timestamp"])),
        algorithm=algorithm,
        expires=int(ctx["expiration_in_seconds"]),  # type: ignore[call-overload]
        payload="body",
        content_sha256_header=bool(ctx["sign_body"]),
        session_token_placement="after" if ctx["omit_session_token"] else "signed",
        normalize_path=bool(ctx["normalize"]),
        double_encode=bool(ctx["double_uri_encode"]),
    )
    raw_request = _read_text(request_file, limits)
    try:
        method, target, headers, body = parse_http_message((raw_request or "").encode("utf-8"))
    except MalformedRequest as exc:
        raise CaseError(str(request_file), exc.line, str(exc)) from None
    if len(body) > limits.body_bytes:
        raise CaseError(str(request_file), 1, f"the body is {len(body)} bytes; the limit is {limits.body_bytes} (limit body_bytes)")
    path, _, query = target.partition("?")
    host = next((v.strip() for n, v in headers if n.lower() == "host"), "")
    if not host:
        raise CaseError(str(request_file), 2, "request has no Host header")
    request = Request(method, "https", host, path, query, tuple(headers), body)
    expect: dict[str, dict[str, str]] = {}
    ignored: list[str] = []
    for mode in ("header", "query"):
        stages = {}
        for stage, suffix in STAGE_FILES.items():
            text = _read_text(folder / f"{mode}-{suffix}", limits)
            if text is not None:
                stages[stage] = text
        if stages and not has_context and not _made_with_defaults(stages.get("string_to_sign"), algorithm):
            ignored.append(mode)
        elif stages:
            expect[mode] = stages
    flags: dict[str, object] = {
        "note": "Official AWS signing test suite (aws-c-auth), read in place.",
        "refs": [f"aws-c-auth tests/aws-signing-test-suite/{folder.parent.name}/{folder.name}"],
    }
    if not has_context:
        flags["note"] = str(flags["note"]) + " No context.json: signed with the suite's default context."
    if ignored:
        flags["note"] = str(flags["note"]) + (
            f" The {' and '.join(ignored)} expectation files were made with settings this folder does not record"
            " (their string to sign names another date or scope, or is missing), so they are not used."
        )
    public_key = folder / "public-key.json"
    if public_key.exists() or public_key.is_symlink():
        flags["public_key"] = read_public_key(public_key, limits)
    if not expect:
        flags["note"] = str(flags["note"]) + " No expectation files: checked by verification only."
    tags = ("aws-c-auth", folder.parent.name)
    return Case(
        id=rel,
        title=folder.name,
        request=request,
        context=context,
        tags=tags,
        flags=flags,
        expect=expect,
        source=Source(str(request_file), 1),
        origin=origin,
    )


def load_suite(root: Path, errors: list[CaseError], limits: Limits = DEFAULT) -> list[Case]:
    """Every case folder under root/v4 and root/v4a; a broken folder adds to `errors`."""
    origin = root.resolve().name
    cases: list[Case] = []
    for algo_dir in ALGORITHM_DIRS:
        base = root / algo_dir
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            if not is_utf8_name(folder):  # the name becomes the case id
                errors.append(CaseError(shown(folder), 1, "the folder name is not UTF-8; rename the folder"))
                continue
            try:
                cases.append(load_suite_case(folder, root, origin, limits))
            except CaseError as exc:
                errors.append(exc)
            except Exception as exc:  # one folder's surprise does not stop the others
                errors.append(CaseError(shown(folder), 1, shown(f"unreadable ({type(exc).__name__}: {str(exc)[:200]})")))
    return cases
