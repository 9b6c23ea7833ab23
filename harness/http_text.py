"""HTTP/1.1 requests written as text: the official suite's request.txt and *-signed-request.txt files,
and the expectations of curated cases. Read by the suite loader and by the comparison."""

from __future__ import annotations

from harness.model import SignedRequest


class MalformedRequest(ValueError):
    """Request text that is not an HTTP/1.1 request; `line` is 1-based."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def parse_http_message(raw: bytes) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """(method, request-target, headers, body) of an HTTP/1.1 request as written in request.txt."""
    head, sep, body = raw.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRequest(1, f"request is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    lines = text.replace("\r\n", "\n").split("\n")
    while len(lines) > 1 and lines[-1] == "":
        lines.pop()  # the file's final newline (no body follows)
    request_line = lines[0]
    method, _, rest = request_line.partition(" ")
    target, _, version = rest.rpartition(" ")
    if not method or not target or not version.startswith("HTTP/"):
        raise MalformedRequest(1, f"request line {request_line!r} is not 'METHOD target HTTP/1.1'")
    headers: list[tuple[str, str]] = []
    for number, line in enumerate(lines[1:], start=2):
        if line[:1] in (" ", "\t"):
            if not headers:
                raise MalformedRequest(number, "continuation line before any header")
            name, value = headers[-1]
            headers[-1] = (name, value + "\n" + line)
            continue
        name, colon, value = line.partition(":")
        if not colon or not name:
            raise MalformedRequest(number, f"header line {line!r} has no 'name:value'")
        headers.append((name, value))
    return method, target, headers, body if sep else b""


def parse_signed_request(text: str, scheme: str = "https") -> "SignedRequest":
    """A *-signed-request.txt file as the SignedRequest a server would receive."""
    method, target, headers, body = parse_http_message(text.encode("utf-8"))
    host = next((v.strip() for n, v in headers if n.lower() == "host"), "")
    return SignedRequest(method, f"{scheme}://{host}{target}", tuple(headers), body or None)
