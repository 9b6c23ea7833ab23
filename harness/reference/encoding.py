"""URI encoding as the SigV4 specification defines it.

"URI-encode each byte": every byte except the unreserved characters A-Z a-z 0-9 - . _ ~ becomes
%XY with upper-case hex digits. Space is %20, never '+'.
"""

from __future__ import annotations

UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_HEX = b"0123456789ABCDEF"


def uri_encode(value: str | bytes, *, encode_slash: bool = True) -> str:
    """URI-encode every byte of `value` (UTF-8) except unreserved ones (and '/' when asked)."""
    raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    out = bytearray()
    for byte in raw:
        if byte in UNRESERVED or (byte == 0x2F and not encode_slash):
            out.append(byte)
        else:
            out += b"%" + bytes((_HEX[byte >> 4], _HEX[byte & 15]))
    return out.decode("ascii")


def uri_decode(value: str) -> bytes:
    """Decode %XY escapes (either hex case). A '%' not followed by two hex digits stays literal;
    '+' stays '+' (RFC 3986 gives it no special meaning)."""
    raw = value.encode("utf-8", "surrogateescape")
    out = bytearray()
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x25 and _is_hex(raw[i + 1 : i + 3]):
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(byte)
            i += 1
    return bytes(out)


def _is_hex(pair: bytes) -> bool:
    return len(pair) == 2 and all(c in b"0123456789abcdefABCDEF" for c in pair)
