"""Read an aws-c-auth style signing test suite folder in place.

Layout: <suite>/v4/<name>/ and <suite>/v4a/<name>/, each with context.json and request.txt, and
optionally {header,query}-{canonical-request,string-to-sign,signature,signed-request}.txt and, for
v4a, public-key.json. Files are read byte for byte: raw UTF-8 and spaces in the request line,
folded header lines, bodies.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.cases.errors import CaseError
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


def parse_http_message(raw: bytes, file: str) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """(method, request-target, headers, body) of an HTTP/1.1 request as written in request.txt."""
    head, sep, body = raw.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaseError(file, 1, f"request is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    lines = text.replace("\r\n", "\n").split("\n")
    while len(lines) > 1 and lines[-1] == "":
        lines.pop()  # the file's final newline (no body follows)
    request_line = lines[0]
    method, _, rest = request_line.partition(" ")
    target, _, version = rest.rpartition(" ")
    if not method or not target or not version.startswith("HTTP/"):
        raise CaseError(file, 1, f"request line {request_line!r} is not 'METHOD target HTTP/1.1'")
    headers: list[tuple[str, str]] = []
    for number, line in enumerate(lines[1:], start=2):
        if line[:1] in (" ", "\t"):
            if not headers:
                raise CaseError(file, number, "continuation line before any header")
            name, value = headers[-1]
            headers[-1] = (name, value + "\n" + line)
            continue
        name, colon, value = line.partition(":")
        if not colon or not name:
            raise CaseError(file, number, f"header line {line!r} has no 'name:value'")
        headers.append((name, value))
    return method, target, headers, body if sep else b""


def _read_text(path: Path) -> str | None:
    if not path.exists():
        return None
    return path.read_bytes().decode("utf-8")


def load_suite_case(folder: Path, suite_root: Path, origin: str) -> Case:
    algorithm = ALGORITHM_DIRS[folder.parent.name]
    rel = f"{origin}/{folder.parent.name}/{folder.name}"
    context_file = folder / "context.json"
    request_file = folder / "request.txt"
    for needed in (context_file, request_file):
        if not needed.exists():
            raise CaseError(str(needed), 1, f"missing file: a suite case folder needs context.json and request.txt")
    try:
        ctx = json.loads(context_file.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", 1)
        raise CaseError(str(context_file), line, f"not valid JSON: {exc}") from None
    try:
        creds = ctx["credentials"]
        timestamp = parse_timestamp(ctx["timestamp"])
        region = ctx["region"]
        context = Context(
            access_key_id=creds["access_key_id"],
            secret_access_key=creds["secret_access_key"],
            session_token=creds.get("token"),
            region=region,
            region_set=(region,),
            service=ctx["service"],
            timestamp=timestamp,
            algorithm=algorithm,
            expires=int(ctx.get("expiration_in_seconds", 3600)),
            payload="body",
            content_sha256_header=bool(ctx.get("sign_body", False)),
            session_token_placement="after" if ctx.get("omit_session_token") else "signed",
            normalize_path=bool(ctx.get("normalize", True)),
            double_encode=True,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CaseError(str(context_file), 1, f"context is missing or has a bad field: {exc}") from None
    method, target, headers, body = parse_http_message(request_file.read_bytes(), str(request_file))
    path, _, query = target.partition("?")
    host = next((v.strip() for n, v in headers if n.lower() == "host"), "")
    if not host:
        raise CaseError(str(request_file), 2, "request has no Host header")
    request = Request(method, "https", host, path, query, tuple(headers), body)
    expect: dict[str, dict[str, str]] = {}
    for mode in ("header", "query"):
        for stage, suffix in STAGE_FILES.items():
            text = _read_text(folder / f"{mode}-{suffix}")
            if text is not None:
                expect.setdefault(mode, {})[stage] = text
    flags: dict[str, object] = {
        "note": "Official AWS signing test suite (aws-c-auth), read in place.",
        "refs": [f"aws-c-auth tests/aws-signing-test-suite/{folder.parent.name}/{folder.name}"],
    }
    public_key = folder / "public-key.json"
    if public_key.exists():
        flags["public_key"] = json.loads(public_key.read_text())
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


def load_suite(root: Path, errors: list[CaseError]) -> list[Case]:
    """Every case folder under root/v4 and root/v4a; a broken folder adds to `errors`."""
    origin = root.resolve().name
    cases: list[Case] = []
    for algo_dir in ALGORITHM_DIRS:
        base = root / algo_dir
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            try:
                cases.append(load_suite_case(folder, root, origin))
            except CaseError as exc:
                errors.append(exc)
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(CaseError(str(folder), 1, f"unreadable: {exc}"))
    return cases


def parse_signed_request(text: str, scheme: str = "https") -> "SignedRequest":
    """A *-signed-request.txt file as the SignedRequest a server would receive."""
    from harness.model import SignedRequest

    method, target, headers, body = parse_http_message(text.encode("utf-8"), "<signed-request>")
    host = next((v.strip() for n, v in headers if n.lower() == "host"), "")
    return SignedRequest(method, f"{scheme}://{host}{target}", tuple(headers), body or None)
