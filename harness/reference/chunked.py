"""aws-chunked payload signing, as the S3 documentation describes it ("Signature Calculations for the
Authorization Header: Transferring Payload in Multiple Chunks (Chunked Upload)" and "... with
trailing headers"), for SigV4 and SigV4A, on the shared single-shot code.

    seed:    the request signed as usual, x-amz-content-sha256 = STREAMING-... (the seed signature)
    chunk:   StringToSign = "AWS4-HMAC-SHA256-PAYLOAD" \\n RequestDateTime \\n CredentialScope \\n
             previous-signature \\n Hash("") \\n Hash(chunk-data); each signature chains on the one before
    final:   the same over the empty chunk
    trailer: StringToSign = "AWS4-HMAC-SHA256-TRAILER" \\n RequestDateTime \\n CredentialScope \\n
             previous-signature \\n Hash(trailing headers as "name:value\\n" lines)
    wire:    hex(size);chunk-signature=signature \\r\\n data \\r\\n ... 0;chunk-signature=... \\r\\n
             [name:value \\r\\n ... x-amz-trailer-signature:signature \\r\\n] \\r\\n
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from harness.model import Context, Request, SignedRequest
from harness.reference import signing
from harness.reference.canonical import EMPTY_SHA256
from harness.reference.steps import Step, Steps, sign_seed

STAGES = (
    "seed_canonical_request",
    "seed_string_to_sign",
    "seed_signature",
    "chunk_string_to_sign",
    "chunk_signature",
    "final_chunk",
    "trailer_string_to_sign",
    "trailer_signature",
)

STREAMING_PAYLOADS = {
    ("sigv4", False): "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    ("sigv4", True): "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    ("sigv4a", False): "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    ("sigv4a", True): "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
}
STREAMING_UNSIGNED_PAYLOAD_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
CHUNK_ALGORITHMS = {"sigv4": "AWS4-HMAC-SHA256-PAYLOAD", "sigv4a": "AWS4-ECDSA-P256-SHA256-PAYLOAD"}
TRAILER_ALGORITHMS = {"sigv4": "AWS4-HMAC-SHA256-TRAILER", "sigv4a": "AWS4-ECDSA-P256-SHA256-TRAILER"}

# A DER ECDSA P-256 signature is 70 to 72 bytes, so its hex varies in length; aws-c-auth pads the
# SigV4A chunk and trailer signatures with '*' to 144 characters so Content-Length is known before
# signing, and chains on the signature with the padding trimmed (aws_trim_padded_sigv4a_signature).
SIGV4A_SIGNATURE_WIDTH = 144
SIGV4_SIGNATURE_WIDTH = 64

# Headers the stream needs on the request; the reference adds those the request lacks.
STREAM_HEADERS = ("content-encoding", "x-amz-decoded-content-length", "content-length", "x-amz-trailer")


@dataclass(frozen=True)
class ChunkedUpload:
    """One aws-chunked upload: the request head, its signing context, the chunks and the trailers."""

    request: Request
    context: Context
    chunks: tuple[bytes, ...]
    trailers: tuple[tuple[str, str], ...] = ()
    unsigned: bool = False  # STREAMING-UNSIGNED-PAYLOAD-TRAILER: the seed signs, chunks go unsigned
    payload: str | None = None  # the seed's x-amz-content-sha256 when not the one the upload implies
    add_stream_headers: bool = True  # add the STREAM_HEADERS the request lacks
    seed_signature: str | None = None  # start the chain here instead of signing the request head
    signing_key: bytes | None = None  # a given SigV4 signing key (unit tests that bypass derivation)

    @property
    def signs_trailer(self) -> bool:
        """Trailers are signed when there are any (aws-c-auth signs them whatever the seed says), and
        a ...-TRAILER payload signs one even when empty (aws-sdk-java-v2 does)."""
        return not self.unsigned and (bool(self.trailers) or self.seed_payload.endswith("-TRAILER"))

    @property
    def decoded_length(self) -> int:
        return sum(len(c) for c in self.chunks)

    @property
    def seed_payload(self) -> str:
        """The seed's x-amz-content-sha256 value."""
        if self.payload is not None:
            return self.payload
        if self.unsigned:
            return STREAMING_UNSIGNED_PAYLOAD_TRAILER
        return STREAMING_PAYLOADS[(self.context.algorithm, bool(self.trailers))]


@dataclass
class ChunkedSigning(Steps):
    """Every stage of an upload, the request head as sent (None when the seed was given) and the
    wire body."""

    signed: SignedRequest | None = None
    body: bytes = b""


# -- one function per stage --------------------------------------------------------------------


def chunk_string_to_sign(algorithm: str, amz_date: str, scope: str, previous_signature: str, chunk_data: bytes) -> str:
    """StringToSign for a chunk: the chunk algorithm, date, scope, previous signature, Hash(""),
    Hash(chunk data)."""
    return "\n".join(
        (
            CHUNK_ALGORITHMS[algorithm],
            amz_date,
            scope,
            trim_signature(previous_signature),
            EMPTY_SHA256,
            hashlib.sha256(chunk_data).hexdigest(),
        )
    )


def trailing_headers(trailers: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> str:
    """The trailing headers as signed: 'name:value\\n' per header, lowercase names sorted (stable),
    values trimmed (smithy-rs sign_trailer sorts; aws-c-auth's vectors are already in order)."""
    ordered = sorted(((name.lower(), value.strip()) for name, value in trailers), key=lambda nv: nv[0])
    return "".join(f"{name}:{value}\n" for name, value in ordered)


def trailer_string_to_sign(algorithm: str, amz_date: str, scope: str, previous_signature: str, trailers_text: str) -> str:
    """StringToSign for the trailer: the trailer algorithm, date, scope, the final chunk's
    signature, Hash(trailing headers)."""
    return "\n".join(
        (
            TRAILER_ALGORITHMS[algorithm],
            amz_date,
            scope,
            trim_signature(previous_signature),
            hashlib.sha256(trailers_text.encode("utf-8")).hexdigest(),
        )
    )


def chunk_signature(context: Context, string_to_sign_text: str, key: bytes | None = None) -> str:
    """The signature of a chunk's (or the trailer's) string to sign: HMAC with the request's
    signing key (SigV4; `key` when given), ECDSA with the derived key (SigV4A)."""
    if context.algorithm == "sigv4a":
        private_key = signing.sigv4a_private_key(context.access_key_id, context.secret_access_key)
        return signing.sigv4a_signature(private_key, string_to_sign_text)
    if key is None:
        key = signing.signing_key(context.secret_access_key, context.date_stamp, context.region, context.service)
    return signing.signature(key, string_to_sign_text)


trailer_signature = chunk_signature


def trim_signature(value: str) -> str:
    """A chunk signature without aws-c-auth's '*' padding."""
    return value.rstrip("*")


def wire_signature(context: Context, value: str) -> str:
    """A chunk signature as sent: SigV4A padded with '*' to a fixed width (as aws-c-auth)."""
    if context.algorithm == "sigv4a":
        return value.ljust(SIGV4A_SIGNATURE_WIDTH, "*")
    return value


def chunk_header(size: int, wire_sig: str | None) -> bytes:
    """'hex-size;chunk-signature=signature' (or 'hex-size' unsigned), then CRLF."""
    ext = f";chunk-signature={wire_sig}" if wire_sig is not None else ""
    return f"{size:x}{ext}\r\n".encode("ascii")


def trailer_section(trailers: tuple[tuple[str, str], ...], wire_sig: str | None) -> bytes:
    """The trailing header lines (and x-amz-trailer-signature when signed), then the closing CRLF."""
    lines = "".join(f"{name.lower()}:{value}\r\n" for name, value in trailers)
    if wire_sig is not None:
        lines += f"x-amz-trailer-signature:{wire_sig}\r\n"
    return (lines + "\r\n").encode("utf-8")


def encoded_length(upload: ChunkedUpload) -> int:
    """Content-Length of the aws-chunked body, computed before signing (signatures have a fixed
    width on the wire)."""
    width = None if upload.unsigned else (SIGV4A_SIGNATURE_WIDTH if upload.context.algorithm == "sigv4a" else SIGV4_SIGNATURE_WIDTH)
    placeholder = None if width is None else "0" * width
    total = 0
    for chunk in upload.chunks:
        total += len(chunk_header(len(chunk), placeholder)) + len(chunk) + 2
    total += len(chunk_header(0, placeholder))
    total += len(trailer_section(upload.trailers, placeholder if upload.signs_trailer else None))
    return total


def seed_request(upload: ChunkedUpload) -> Request:
    """The request head with the stream's headers added where the caller left them out."""
    present = {n.lower() for n, _ in upload.request.headers}
    extra: list[tuple[str, str]] = []
    if not upload.add_stream_headers:
        present |= set(STREAM_HEADERS)
    if "content-encoding" not in present:
        extra.append(("Content-Encoding", "aws-chunked"))
    if "x-amz-decoded-content-length" not in present:
        extra.append(("X-Amz-Decoded-Content-Length", str(upload.decoded_length)))
    if "content-length" not in present:
        extra.append(("Content-Length", str(encoded_length(upload))))
    if upload.trailers and "x-amz-trailer" not in present:
        extra.append(("X-Amz-Trailer", ",".join(n.lower() for n, _ in upload.trailers)))
    return replace(upload.request, headers=tuple(upload.request.headers) + tuple(extra), body=b"")


def sign_upload(upload: ChunkedUpload) -> ChunkedSigning:
    """Every stage of an aws-chunked upload, and the request head and wire body as sent."""
    context = replace(upload.context, payload=upload.seed_payload, content_sha256_header=True)
    result = ChunkedSigning()
    if upload.seed_signature is not None:
        previous = upload.seed_signature
    else:
        seed, steps = sign_seed(seed_request(upload), context)
        result.signed = seed.signed
        result.steps += steps
        previous = seed.stages["signature"]
    scope = signing.credential_scope(context.date_stamp, context.region, context.service, context.algorithm)
    body = bytearray()
    for index, chunk in enumerate(list(upload.chunks) + [b""]):
        final = index == len(upload.chunks)
        if upload.unsigned:
            body += chunk_header(len(chunk), None)
        else:
            sts = chunk_string_to_sign(context.algorithm, context.amz_date, scope, previous, chunk)
            previous = chunk_signature(context, sts, upload.signing_key)
            result.steps.append(Step("chunk_string_to_sign", sts, index))
            result.steps.append(Step("final_chunk" if final else "chunk_signature", previous, index))
            body += chunk_header(len(chunk), wire_signature(context, previous))
        if not final:
            body += chunk + b"\r\n"
    trailer_sig = None
    if upload.signs_trailer:
        sts = trailer_string_to_sign(context.algorithm, context.amz_date, scope, previous, trailing_headers(upload.trailers))
        trailer_sig = trailer_signature(context, sts, upload.signing_key)
        result.steps.append(Step("trailer_string_to_sign", sts))
        result.steps.append(Step("trailer_signature", trailer_sig))
    body += trailer_section(upload.trailers, None if trailer_sig is None else wire_signature(context, trailer_sig))
    result.body = bytes(body)
    return result
