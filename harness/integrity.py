"""Is the signed request still the request that was asked for?

A signature can verify and still be worthless to the caller: a signer that drops a repeated query
parameter, rewrites the path or moves the body into the query signs -- validly -- a different
request. This compares what the adapter emitted with the case's request, ignoring what a signer is
expected to add (X-Amz-* parameters and headers, Authorization) and differences that do not change
meaning (escaping, header name case, whitespace in values, dot segments where the service
normalizes).
"""

from __future__ import annotations

from collections import Counter

from harness.model import Context, Request, SignedRequest
from harness.reference.signer import SIGNER_HEADERS
from harness.reference.canonical import canonical_header_value, normalize_uri_path, query_parameters
from harness.reference.encoding import uri_decode

SIGNER_OWNED_HEADERS = frozenset(SIGNER_HEADERS)  # what a signer sets itself (harness/reference/signer.py)


def _form(value: str, plus_as_space: bool = True) -> str:
    """The decoded bytes of a name or value, shown as text: bytes that are not UTF-8 stay as
    distinct escapes (a '%80' rewritten as U+FFFD is a different request)."""
    raw = uri_decode(value.replace("+", "%20") if plus_as_space else value)
    return raw.decode("utf-8", "backslashreplace")


def _query(query: str, plus_as_space: bool = True) -> Counter[tuple[str, str]]:
    """User parameters; X-Amz-* (any case) belong to the signer."""
    return Counter(
        (_form(k, plus_as_space), _form(v, plus_as_space))
        for k, v in query_parameters(query)
        if not _form(k).lower().startswith("x-amz-")
    )


def _hoisted(query: str) -> Counter[tuple[str, str]]:
    """x-amz-* parameters of a presigned URL, by lowercase name: headers a presigner may move there."""
    return Counter((_form(k).lower(), canonical_header_value(_form(v))) for k, v in query_parameters(query) if _form(k).lower().startswith("x-amz-"))


def _authority(host: str, scheme: str) -> str:
    host = host.lower()
    default = {"https": ":443", "http": ":80"}.get(scheme, "")
    return host[: -len(default)] if default and host.endswith(default) else host


def _path(path: str, context: Context, rfc3986_trailing_slash: bool = False) -> str:
    decoded = uri_decode(path or "/").decode("utf-8", "backslashreplace")
    if not context.normalize_path:
        return decoded
    return normalize_uri_path(decoded, rfc3986_trailing_slash=rfc3986_trailing_slash)


def _same_path(sent: str, asked: str, context: Context, choices: tuple[str, ...]) -> bool:
    """The same path where the service normalizes, under the spec's reading or under an open
    choice the case names ('/foo/.' is '/foo/' under path-dot-segment-keeps-slash)."""
    readings = (False, True) if "path-dot-segment-keeps-slash" in choices else (False,)
    return any(_path(sent, context, keeps) == _path(asked, context, keeps) for keeps in readings)


def request_changes(original: Request, signed: SignedRequest, context: Context, choices: tuple[str, ...] = ()) -> list[str]:
    """What the signer changed in the request itself (empty when it only added its own parts).
    `choices`: the case's open choices; a difference one of them allows is not a change."""
    changes: list[str] = []
    scheme, host, path, query = signed.parts()
    if signed.method.upper() != original.method.upper():
        changes.append(f"method {original.method!r} became {signed.method!r}")
    if _authority(host, scheme) != _authority(original.host, original.scheme):
        changes.append(f"host {original.host!r} became {host!r}")
    if not _same_path(path, original.path, context, choices):
        changes.append(f"path {original.path!r} became {path!r}")
    # A raw '+' means a space to form decoding and a plus to RFC 3986: a signer that rewrites it as
    # %20 or as %2B keeps the request under one reading. How it signs '+' is judged by the signature.
    asked, sent = _query(original.query, False), _query(query, False)
    if asked != sent and _query(original.query) == _query(query):
        asked = sent
    for (key, value), count in (asked - sent).items():
        changes.append(f"query parameter {key}={value} dropped" + (f" ({count} times)" if count > 1 else ""))
    for (key, value), count in (sent - asked).items():
        changes.append(f"query parameter {key}={value} added")
    sent_headers = Counter(
        (n.lower(), canonical_header_value(v)) for n, v in signed.headers if n.lower() not in SIGNER_OWNED_HEADERS
    )
    sent_headers.update(_hoisted(query))  # an x-amz-* header moved into a presigned URL still arrives
    for name, value in original.headers:
        lname = name.lower()
        if lname in SIGNER_OWNED_HEADERS or lname == "host":
            continue
        item = (lname, canonical_header_value(value))
        if sent_headers[item] > 0:
            sent_headers[item] -= 1
        else:
            changes.append(f"header {name}: {value.strip()!r} dropped or changed")
    if signed.body is not None and signed.body != original.body:
        changes.append(f"body changed ({len(original.body)} bytes became {len(signed.body)})")
    return changes
