"""URI encoding as the SigV4 specification defines it.

"URI-encode each byte": every byte except the unreserved characters A-Z a-z 0-9 - . _ ~ becomes
%XY with upper-case hex digits. Space is %20, never '+'.
"""

from __future__ import annotations

from urllib.parse import quote_from_bytes, unquote_to_bytes

UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def uri_encode(value: str | bytes, *, encode_slash: bool = True) -> str:
    """URI-encode every byte of `value` (UTF-8) except unreserved ones (and '/' when asked).
    (`urllib.parse.quote_from_bytes` does exactly this: its always-safe set is the unreserved one,
    and it writes upper-case hex; a loop over the bytes in Python cost the verifier most of its time.)"""
    raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    return quote_from_bytes(raw, safe="" if encode_slash else "/")


def uri_decode(value: str) -> bytes:
    """Decode %XY escapes (either hex case). A '%' not followed by two hex digits stays literal;
    '+' stays '+' (RFC 3986 gives it no special meaning). (`urllib.parse.unquote_to_bytes`, which
    decodes exactly that way.)"""
    return unquote_to_bytes(value.encode("utf-8", "surrogateescape"))
