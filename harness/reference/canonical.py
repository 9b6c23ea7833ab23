"""Task 1 of the SigV4 specification: create a canonical request.

One function per part, named with the AWS documentation's words:

    CanonicalRequest =
      HTTPRequestMethod + '\\n' + CanonicalURI + '\\n' + CanonicalQueryString + '\\n' +
      CanonicalHeaders + '\\n' + SignedHeaders + '\\n' + HexEncode(Hash(RequestPayload))
"""

from __future__ import annotations

import hashlib
import re
from typing import Iterable, Sequence

from harness.reference.encoding import uri_decode, uri_encode

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_PREFIX = "STREAMING-"

# Headers the reference never signs (as aws-c-auth): hop-by-hop or rewritten by proxies.
UNSIGNED_HEADERS = frozenset(
    {
        "authorization",
        "connection",
        "expect",
        "sec-websocket-key",
        "sec-websocket-protocol",
        "sec-websocket-version",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)

_WHITESPACE_RUN = re.compile(r"[ \t\r\n]+")


def normalize_uri_path(path: str, *, rfc3986_trailing_slash: bool = False) -> str:
    """Remove '.' and '..' segments and collapse empty segments ('//'), as aws-c-auth does.

    A trailing slash survives when the path ends in '/'. A path ending in '/.' or '/..' loses it,
    as in aws-c-auth and most SDKs ('/foo/.' -> '/foo'); RFC 3986 remove_dot_segments keeps it
    ('/foo/.' -> '/foo/'), which `rfc3986_trailing_slash` selects. An empty result is '/'.
    """
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    trailing = path.endswith("/") or (rfc3986_trailing_slash and (path.endswith("/.") or path.endswith("/..")))
    result = "/" + "/".join(segments)
    if trailing and segments:
        result += "/"
    return result


def canonical_uri(
    path: str, *, normalize: bool, double_encode: bool, rfc3986_trailing_slash: bool = False, reencode: bool = False
) -> str:
    """CanonicalURI: the (normalized) wire path, URI-encoded once more unless the service (S3)
    encodes it once: then the path as sent, or with `reencode` (S3) each segment decoded and
    URI-encoded once, as S3 computes it ('%7E' is '~', a raw '=' is '%3D'; '%2F' stays)."""
    if not path:
        path = "/"
    if normalize:
        path = normalize_uri_path(path, rfc3986_trailing_slash=rfc3986_trailing_slash)
    if double_encode:
        return uri_encode(path, encode_slash=False)
    if reencode:
        return "/".join(uri_encode(uri_decode(segment)) for segment in path.split("/"))
    return path


def query_parameters(query: str) -> list[tuple[str, str]]:
    """Split a raw query into (name, value) pairs as sent: '&' separates, the first '=' splits,
    empty segments are not parameters, a name without '=' has the empty value."""
    pairs: list[tuple[str, str]] = []
    for segment in query.split("&"):
        if segment == "":
            continue
        name, _, value = segment.partition("=")
        pairs.append((name, value))
    return pairs


def canonical_query_string(params: Iterable[tuple[str, str]]) -> str:
    """CanonicalQueryString: each name and value URI-decoded once then URI-encoded (so escapes of
    either case and unescaped characters come out the same), sorted by encoded name then value."""
    encoded = [(uri_encode(uri_decode(k)), uri_encode(uri_decode(v))) for k, v in params]
    encoded.sort(key=lambda kv: (kv[0].encode("ascii"), kv[1].encode("ascii")))
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_header_value(value: str) -> str:
    """Trimall: trim, and fold every run of whitespace (including obs-fold line breaks) to one space."""
    return _WHITESPACE_RUN.sub(" ", value).strip(" ")


def headers_to_sign(headers: Sequence[tuple[str, str]], extra_unsigned: Iterable[str] = ()) -> list[str]:
    """The lowercase names the reference signs: every header given, less the never-signed ones."""
    skip = UNSIGNED_HEADERS | {h.lower() for h in extra_unsigned}
    return sorted({name.lower() for name, _ in headers} - skip)


def canonical_headers(headers: Sequence[tuple[str, str]], signed: Sequence[str]) -> str:
    """CanonicalHeaders: 'name:value\\n' per signed header, sorted by name; repeated headers are
    joined with ',' in request order."""
    wanted = set(signed)
    values: dict[str, list[str]] = {}
    for name, value in headers:
        lname = name.lower()
        if lname in wanted:
            values.setdefault(lname, []).append(canonical_header_value(value))
    return "".join(f"{name}:{','.join(values.get(name, []))}\n" for name in sorted(wanted))


def signed_headers(signed: Iterable[str]) -> str:
    """SignedHeaders: the lowercase names, sorted, joined with ';'."""
    return ";".join(sorted(signed))


def hashed_payload(body: bytes, policy: str = "body") -> str:
    """HexEncode(Hash(RequestPayload)), or the empty-body hash, or UNSIGNED-PAYLOAD, or a streaming
    payload's literal value (STREAMING-...: the body is signed chunk by chunk after the seed)."""
    if policy.startswith(STREAMING_PREFIX):
        return policy
    if policy == "unsigned":
        return UNSIGNED_PAYLOAD
    if policy == "empty":
        return EMPTY_SHA256
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str,
    uri: str,
    query: str,
    headers: str,
    signed: str,
    payload_hash: str,
) -> str:
    return "\n".join((method, uri, query, headers, signed, payload_hash))
