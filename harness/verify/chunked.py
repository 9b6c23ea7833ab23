"""Verify an aws-chunked upload the way S3 would: the seed request, then the chunk signatures one
by one, each chained on the one before, the final empty chunk, and the trailer.

The verifier sees the request head and the body as received (aws-chunked encoding) and its own
configuration (ServerRules from `single`). It re-derives every string to sign from what arrived and
never looks at how the upload was signed. The rules and their evidence are in docs/streaming.md.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from dataclasses import dataclass

from awscrt import checksums

from harness.model import SignedRequest
from harness.reference import chunked as ref
from harness.reference import signing
from harness.verify.single import Rejected, ServerRules, _first, _parse_authorization, verify

SIGNED_PAYLOADS = {v: k for k, v in ref.STREAMING_PAYLOADS.items()}  # value -> (algorithm, trailer)

# "The chunk size must be at least 8 KB ... This chunk size applies to all chunks except the last"
# (S3, sigv4-streaming); aws/aws-sdk-js-v3#7509 reports S3 refusing smaller ones.
MIN_CHUNK_SIZE = 8192

# x-amz-checksum-* trailers: base64 of the big-endian digest of the decoded payload.
CHECKSUMS = {
    "x-amz-checksum-crc32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "x-amz-checksum-crc32c": lambda data: checksums.crc32c(data).to_bytes(4, "big"),
    "x-amz-checksum-crc64nvme": lambda data: checksums.crc64nvme(data).to_bytes(8, "big"),
    "x-amz-checksum-sha1": lambda data: hashlib.sha1(data).digest(),
    "x-amz-checksum-sha256": lambda data: hashlib.sha256(data).digest(),
}


@dataclass
class ChunkedVerification:
    valid: bool
    reason: str = ""
    decoded: bytes = b""
    chunks: int = 0  # data chunks accepted before the verdict


@dataclass
class _Chunk:
    size: int
    signature: str | None
    data: bytes


def verify_upload(
    signed: SignedRequest,
    body: bytes,
    rules: ServerRules,
    *,
    require_content_encoding: bool = True,
    min_chunk_size: int = MIN_CHUNK_SIZE,
) -> ChunkedVerification:
    """Accept or reject one aws-chunked upload (request head + wire body) under `rules`.

    Open choices: `require_content_encoding=False`, a server that recognizes the stream by its
    x-amz-content-sha256 alone (some clients leave Content-Encoding: aws-chunked out);
    `min_chunk_size=0`, a server without S3's 8 KiB floor for signed chunks."""
    progress = ChunkedVerification(False)
    try:
        _verify(signed, body, rules, progress, require_content_encoding, min_chunk_size)
    except Rejected as exc:
        progress.valid = False
        progress.reason = str(exc)
        return progress
    progress.valid = True
    return progress


def parse_chunked_body(body: bytes) -> tuple[list[_Chunk], list[tuple[str, str]]]:
    """Split an aws-chunked body into its chunks (the last one empty) and its trailer lines."""
    chunks: list[_Chunk] = []
    pos = 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            raise Rejected(f"truncated stream: no chunk header at byte {pos} (no final chunk)")
        line = body[pos:end].decode("latin-1")
        size_text, _, ext = line.partition(";")
        try:
            size = int(size_text, 16)
        except ValueError:
            raise Rejected(f"chunk header {line[:80]!r} at byte {pos} has no hex size") from None
        sig = None
        if ext:
            name, eq, value = ext.partition("=")
            if name != "chunk-signature" or not eq:
                raise Rejected(f"chunk header {line[:80]!r}: unknown extension {name!r}")
            sig = value
        data = body[end + 2 : end + 2 + size]
        if len(data) != size:
            raise Rejected(f"truncated stream: chunk {len(chunks)} declares {size} bytes, {len(data)} arrived")
        pos = end + 2 + size
        chunks.append(_Chunk(size, sig, data))
        if size == 0:
            break
        if body[pos : pos + 2] != b"\r\n":
            raise Rejected(f"chunk {len(chunks) - 1} is not followed by CRLF (its size is wrong)")
        pos += 2
    trailers: list[tuple[str, str]] = []
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            raise Rejected("truncated stream: the trailer section does not end with an empty line")
        line = body[pos:end].decode("utf-8", "replace")
        pos = end + 2
        if line == "":
            break
        name, colon, value = line.partition(":")
        if not colon:
            raise Rejected(f"trailer line {line[:80]!r} has no ':'")
        trailers.append((name.strip().lower(), value.strip()))
    if pos != len(body):
        raise Rejected(f"{len(body) - pos} bytes after the end of the stream")
    return chunks, trailers


@dataclass(frozen=True)
class Chain:
    """What an aws-chunked body is verified against: the seed signature it chains on, the signer's
    key and time, the streaming payload value, and (from the request head) the declared trailer
    names and decoded length; None where there is no head to take them from."""

    seed_signature: str
    access_key_id: str
    amz_date: str
    payload: str
    declared_trailers: tuple[str, ...] | None = None
    decoded_length: int | None = None


def verify_body(body: bytes, chain: Chain, rules: ServerRules, *, min_chunk_size: int = MIN_CHUNK_SIZE) -> ChunkedVerification:
    """Verify an aws-chunked body alone, chained on a known seed signature (for signers that sign
    chunks given a seed, with no request head)."""
    progress = ChunkedVerification(False)
    try:
        if chain.payload not in SIGNED_PAYLOADS and chain.payload != ref.STREAMING_UNSIGNED_PAYLOAD_TRAILER:
            raise Rejected(f"{chain.payload!r} is not a streaming payload value")
        if chain.access_key_id not in rules.credentials:
            raise Rejected(f"unknown access key id {chain.access_key_id!r}")
        _verify_body(body, chain, rules, progress, min_chunk_size=min_chunk_size)
    except Rejected as exc:
        progress.reason = str(exc)
        return progress
    progress.valid = True
    return progress


def _verify(
    signed: SignedRequest,
    body: bytes,
    rules: ServerRules,
    progress: ChunkedVerification,
    require_content_encoding: bool,
    min_chunk_size: int,
) -> None:
    declared = (_first(signed.headers, "X-Amz-Content-Sha256") or "").strip()
    unsigned = declared == ref.STREAMING_UNSIGNED_PAYLOAD_TRAILER
    if declared not in SIGNED_PAYLOADS and not unsigned:
        raise Rejected(f"x-amz-content-sha256 {declared!r} is not a streaming payload value")
    encoding = [v.strip().lower() for v in (_first(signed.headers, "Content-Encoding") or "").split(",")]
    if require_content_encoding and "aws-chunked" not in encoding:
        raise Rejected("Content-Encoding does not include aws-chunked")
    decoded_text = _first(signed.headers, "X-Amz-Decoded-Content-Length")
    if decoded_text is None or not decoded_text.strip().isdigit():
        raise Rejected("x-amz-decoded-content-length is missing or not a number")

    # The seed: an ordinary header-signed request whose payload hash is the streaming value.
    seed = verify(signed, b"", rules)
    if not seed.valid:
        raise Rejected(f"seed request: {seed.reason}")
    algorithm_name, credential, _, seed_signature = _parse_authorization(_first(signed.headers, "Authorization") or "")
    algorithm = {v: k for k, v in signing.ALGORITHM_NAMES.items()}[algorithm_name]
    if not unsigned and SIGNED_PAYLOADS[declared][0] != algorithm:
        raise Rejected(f"{declared} with an {algorithm_name} seed")
    chain = Chain(
        seed_signature=seed_signature,
        access_key_id=credential.partition("/")[0],
        amz_date=(seed.string_to_sign or "").split("\n")[1],
        payload=declared,
        declared_trailers=tuple(n.strip().lower() for n in (_first(signed.headers, "X-Amz-Trailer") or "").split(",") if n.strip()),
        decoded_length=int(decoded_text),
    )
    _verify_body(body, chain, rules, progress, algorithm, min_chunk_size)
    # Checked last so that a cut or padded body is named by what is wrong in it.
    length_text = _first(signed.headers, "Content-Length")
    if length_text is not None and length_text.strip() != str(len(body)):
        raise Rejected(f"Content-Length {length_text.strip()} is not the {len(body)} bytes received")


def _verify_body(
    body: bytes,
    chain: Chain,
    rules: ServerRules,
    progress: ChunkedVerification,
    algorithm: str | None = None,
    min_chunk_size: int = MIN_CHUNK_SIZE,
) -> None:
    unsigned = chain.payload == ref.STREAMING_UNSIGNED_PAYLOAD_TRAILER
    algorithm = algorithm or (SIGNED_PAYLOADS[chain.payload][0] if not unsigned else "sigv4")
    akid, amz_date = chain.access_key_id, chain.amz_date
    scope = signing.credential_scope(amz_date[:8], rules.region, rules.service, algorithm)
    secret = rules.credentials[akid]

    def check(kind: str, sts: str, sig: str | None) -> str:
        if sig is None:
            raise Rejected(f"{kind} has no signature")
        sig = ref.trim_signature(sig)
        if not signing.signature_matches(algorithm, akid, secret, amz_date[:8], rules.region, rules.service, sts, sig):
            raise Rejected(f"{kind} signature does not match (string to sign chained on {sts.split(chr(10))[3][:16]}...)")
        return sig

    chunks, trailers = parse_chunked_body(body)
    previous = chain.seed_signature
    for index, chunk in enumerate(chunks):
        kind = "final chunk" if chunk.size == 0 else f"chunk {index}"
        if unsigned:
            if chunk.signature is not None:
                raise Rejected(f"{kind} carries a chunk-signature in an unsigned-payload stream")
        else:
            sts = ref.chunk_string_to_sign(algorithm, amz_date, scope, previous, chunk.data)
            previous = check(kind, sts, chunk.signature)
        if chunk.size:
            progress.chunks += 1
    small = [i for i, c in enumerate(chunks[:-2]) if c.size < min_chunk_size]
    if small and not unsigned:
        raise Rejected(f"chunk {small[0]} is {chunks[small[0]].size} bytes; every chunk but the last must be at least {min_chunk_size}")
    decoded = b"".join(c.data for c in chunks)
    progress.decoded = decoded
    if chain.decoded_length is not None and len(decoded) != chain.decoded_length:
        raise Rejected(f"x-amz-decoded-content-length {chain.decoded_length} is not the {len(decoded)} bytes decoded")

    # The trailer: the names declared in x-amz-trailer, then the signature (unless unsigned).
    trailer_signature = None
    if trailers and trailers[-1][0] == "x-amz-trailer-signature":
        trailer_signature = trailers.pop()[1]
    wants_trailer = unsigned or SIGNED_PAYLOADS[chain.payload][1]
    if not wants_trailer and (trailers or trailer_signature):
        raise Rejected(f"trailing headers sent with {chain.payload}, which has no trailer")
    if wants_trailer:
        names = [n for n, _ in trailers]
        if chain.declared_trailers is not None and names != list(chain.declared_trailers):
            raise Rejected(f"trailing headers {names} are not the ones declared in x-amz-trailer {list(chain.declared_trailers)}")
        if unsigned:
            if trailer_signature is not None:
                raise Rejected("x-amz-trailer-signature in an unsigned-payload stream")
        else:
            sts = ref.trailer_string_to_sign(algorithm, amz_date, scope, previous, ref.trailing_headers(trailers))
            check("trailer", sts, trailer_signature)
    for name, value in trailers:
        compute = CHECKSUMS.get(name)
        if compute is not None and base64.b64encode(compute(decoded)).decode("ascii") != value:
            raise Rejected(f"trailer {name} {value!r} is not the checksum of the decoded payload")
