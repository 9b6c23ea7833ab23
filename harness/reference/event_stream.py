"""Event-stream message signing (Transcribe streaming, Kinesis SubscribeToShard, Bedrock and other
streaming APIs), SigV4, on the shared single-shot code.

    seed:    the request signed as usual, x-amz-content-sha256 = STREAMING-AWS4-HMAC-SHA256-EVENTS
    event:   StringToSign = "AWS4-HMAC-SHA256-PAYLOAD" \\n RequestDateTime \\n CredentialScope \\n
             prior-signature \\n Hash(encoded ':date' header) \\n Hash(message payload)
    message: an envelope message with headers ':date' (timestamp) and ':chunk-signature' (bytes of
             the signature) whose payload is the encoded inner message
    final:   the same over an empty payload, which ends the stream

The message encoding is the AWS event stream format: a prelude (total length, headers length, CRC32
of both), the headers, the payload, and a CRC32 of all that precedes it.
"""

from __future__ import annotations

import hashlib
import struct
import uuid as uuid_module
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Union

from harness.model import Context, Request, SignedRequest
from harness.reference import signing
from harness.reference.steps import Step, Steps, sign_seed

STAGES = (
    "seed_canonical_request",
    "seed_string_to_sign",
    "seed_signature",
    "date_header",
    "event_string_to_sign",
    "event_signature",
    "signed_message",
    "final_event",
)

STREAMING_EVENTS_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-EVENTS"
EVENT_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"

# Header value types of the event stream encoding, by their wire code.
HEADER_TYPES = {
    "bool_true": 0,
    "bool_false": 1,
    "byte": 2,
    "short": 3,
    "integer": 4,
    "long": 5,
    "bytes": 6,
    "string": 7,
    "timestamp": 8,
    "uuid": 9,
}
HEADER_TYPE_NAMES = {code: name for name, code in HEADER_TYPES.items()}
_FIXED = {"byte": ">b", "short": ">h", "integer": ">i", "long": ">q", "timestamp": ">q"}
PRELUDE_LENGTH = 12

HeaderValue = Union[bool, int, bytes, str]


@dataclass(frozen=True)
class Header:
    """One event stream header: a name, a type from HEADER_TYPES (bool as 'bool'), a value
    (timestamps in milliseconds since the epoch, uuids as 16 bytes)."""

    name: str
    type: str
    value: HeaderValue


class MessageError(ValueError):
    """The bytes are not a well-formed event stream message."""


# -- encoding --------------------------------------------------------------------------------------


def encode_header(header: Header) -> bytes:
    name = header.name.encode("utf-8")
    if not 1 <= len(name) <= 255:
        raise MessageError(f"header name {header.name!r} must be 1 to 255 bytes")
    out = bytes((len(name),)) + name
    kind = header.type
    if kind == "bool":
        return out + bytes((HEADER_TYPES["bool_true"] if header.value else HEADER_TYPES["bool_false"],))
    out += bytes((HEADER_TYPES[kind],))
    if kind in _FIXED:
        return out + struct.pack(_FIXED[kind], int(header.value))  # type: ignore[arg-type]
    if kind in ("bytes", "string"):
        raw = header.value.encode("utf-8") if isinstance(header.value, str) else bytes(header.value)  # type: ignore[arg-type]
        if len(raw) > 0xFFFF:
            raise MessageError(f"header {header.name!r} value longer than 65535 bytes")
        return out + struct.pack(">H", len(raw)) + raw
    if kind == "uuid":
        raw = header.value if isinstance(header.value, bytes) else uuid_module.UUID(str(header.value)).bytes
        if len(raw) != 16:
            raise MessageError(f"header {header.name!r}: a uuid is 16 bytes")
        return out + raw
    raise MessageError(f"unknown header type {kind!r}")


def encode_headers(headers: list[Header] | tuple[Header, ...]) -> bytes:
    return b"".join(encode_header(h) for h in headers)


def encode_message(headers: list[Header] | tuple[Header, ...], payload: bytes) -> bytes:
    """An event stream message: prelude, prelude CRC, headers, payload, message CRC."""
    encoded_headers = encode_headers(headers)
    total = PRELUDE_LENGTH + len(encoded_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded_headers))
    body = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded_headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


def decode_headers(raw: bytes) -> list[Header]:
    headers: list[Header] = []
    i = 0
    try:
        while i < len(raw):
            n = raw[i]
            name = raw[i + 1 : i + 1 + n].decode("utf-8")
            i += 1 + n
            code = raw[i]
            i += 1
            kind = HEADER_TYPE_NAMES.get(code)
            if kind is None:
                raise MessageError(f"header {name!r} has unknown type {code}")
            if kind in ("bool_true", "bool_false"):
                headers.append(Header(name, "bool", kind == "bool_true"))
            elif kind in _FIXED:
                size = struct.calcsize(_FIXED[kind])
                (value,) = struct.unpack(_FIXED[kind], raw[i : i + size])
                headers.append(Header(name, kind, value))
                i += size
            elif kind in ("bytes", "string"):
                (length,) = struct.unpack(">H", raw[i : i + 2])
                data = raw[i + 2 : i + 2 + length]
                if len(data) != length:
                    raise MessageError(f"header {name!r} is cut short")
                headers.append(Header(name, kind, data.decode("utf-8") if kind == "string" else data))
                i += 2 + length
            else:  # uuid
                data = raw[i : i + 16]
                if len(data) != 16:
                    raise MessageError(f"header {name!r} is cut short")
                headers.append(Header(name, "uuid", data))
                i += 16
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise MessageError(f"malformed headers: {exc}") from None
    return headers


def decode_message(raw: bytes) -> tuple[list[Header], bytes, int]:
    """Decode the message at the start of `raw`: its headers, its payload, and its length."""
    if len(raw) < PRELUDE_LENGTH + 4:
        raise MessageError(f"{len(raw)} bytes are too few for a message")
    total, headers_length, prelude_crc = struct.unpack(">III", raw[:PRELUDE_LENGTH])
    if zlib.crc32(raw[:8]) != prelude_crc:
        raise MessageError("prelude CRC does not match")
    if total < PRELUDE_LENGTH + headers_length + 4 or total > len(raw):
        raise MessageError(f"message length {total} does not fit the {len(raw)} bytes left")
    (message_crc,) = struct.unpack(">I", raw[total - 4 : total])
    if zlib.crc32(raw[: total - 4]) != message_crc:
        raise MessageError("message CRC does not match")
    headers = decode_headers(raw[PRELUDE_LENGTH : PRELUDE_LENGTH + headers_length])
    payload = raw[PRELUDE_LENGTH + headers_length : total - 4]
    return headers, payload, total


# -- signing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One message to sign: its payload (the encoded inner message, or empty for the final one) and
    the time it is signed at. `date_ms` overrides the ':date' header's value; `raw_headers`
    replaces the encoded ':date' header in the string to sign (aws-sdk-go-v2's StreamSigner takes
    the header bytes from its caller)."""

    payload: bytes
    timestamp: datetime
    date_ms: int | None = None
    raw_headers: bytes | None = None

    @property
    def amz_date(self) -> str:
        return self.timestamp.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")

    @property
    def date_header_value(self) -> int:
        if self.date_ms is not None:
            return self.date_ms
        return int(self.timestamp.timestamp()) * 1000  # whole seconds, as the string to sign


@dataclass(frozen=True)
class EventStream:
    """A request head, its signing context and the events sent on it. `prior_signature` (hex)
    stands in for the seed signature when the seed is not computed here."""

    request: Request | None
    context: Context
    events: tuple[Event, ...]
    prior_signature: str | None = None


@dataclass
class EventSigning(Steps):
    """Every stage of a stream, the request head as sent (None when the seed was given) and the
    envelope messages."""

    signed: SignedRequest | None = None
    messages: list[bytes] = field(default_factory=list)

    @property
    def body(self) -> bytes:
        return b"".join(self.messages)


def date_header(milliseconds: int) -> bytes:
    """The ':date' header as encoded on the wire (a timestamp: milliseconds since the epoch)."""
    return encode_header(Header(":date", "timestamp", milliseconds))


def event_string_to_sign(amz_date: str, scope: str, prior_signature: str, headers: bytes, payload: bytes) -> str:
    """AWS4-HMAC-SHA256-PAYLOAD, date, scope, the prior signature, Hash(encoded ':date' header),
    Hash(payload)."""
    return "\n".join(
        (
            EVENT_ALGORITHM,
            amz_date,
            scope,
            prior_signature,
            hashlib.sha256(headers).hexdigest(),
            hashlib.sha256(payload).hexdigest(),
        )
    )


def event_signature(context: Context, amz_date: str, string_to_sign_text: str) -> str:
    """HMAC with the signing key of the event's own date."""
    key = signing.signing_key(context.secret_access_key, amz_date[:8], context.region, context.service)
    return signing.signature(key, string_to_sign_text)


def signed_message(payload: bytes, date_ms: int, signature_hex: str) -> bytes:
    """The envelope sent on the wire: ':chunk-signature' and ':date' headers around the payload."""
    headers = [Header(":chunk-signature", "bytes", bytes.fromhex(signature_hex)), Header(":date", "timestamp", date_ms)]
    return encode_message(headers, payload)


def seed_request(stream: EventStream) -> Request:
    assert stream.request is not None
    return replace(stream.request, body=b"")


def sign_stream(stream: EventStream) -> EventSigning:
    """Every stage of an event stream: the seed (unless given), then each event in order."""
    result = EventSigning()
    context = replace(stream.context, payload=STREAMING_EVENTS_PAYLOAD, content_sha256_header=True)
    if stream.prior_signature is not None:
        prior = stream.prior_signature
    else:
        seed, steps = sign_seed(seed_request(stream), context)
        result.signed = seed.signed
        result.steps += steps
        prior = seed.stages["signature"]
    for index, event in enumerate(stream.events):
        headers = event.raw_headers if event.raw_headers is not None else date_header(event.date_header_value)
        scope = signing.credential_scope(event.amz_date[:8], context.region, context.service)
        sts = event_string_to_sign(event.amz_date, scope, prior, headers, event.payload)
        prior = event_signature(context, event.amz_date, sts)
        message = signed_message(event.payload, event.date_header_value, prior)
        result.messages.append(message)
        final = not event.payload
        result.steps += [
            Step("date_header", headers.hex(), index),
            Step("event_string_to_sign", sts, index),
            Step("final_event" if final else "event_signature", prior, index),
            Step("signed_message", message.hex(), index),
        ]
    return result
