"""The streaming verifiers accept what the reference signs and reject every single mutation a server
must catch: in an aws-chunked body (a byte, the order of chunks, a chunk chained on the wrong
signature, truncation, the decoded length, a trailer value) and in an event stream (a payload, a
:date, the order of messages, truncation)."""

from __future__ import annotations

import base64
import zlib
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from harness.cases.streaming import load_vectors
from harness.model import Context, Request, SignedRequest
from harness.reference import chunked, event_stream, signing
from harness.verify.chunked import Chain, parse_chunked_body, verify_body, verify_upload
from harness.verify.event_stream import verify_messages, verify_stream
from harness.verify.single import ServerRules

WHEN = datetime(2013, 5, 24, tzinfo=timezone.utc)
HOST = "examplebucket.s3.amazonaws.com"
CHUNKS = (b"a" * 8192, b"b" * 8192, b"c" * 100)
CRC32 = base64.b64encode(zlib.crc32(b"".join(CHUNKS)).to_bytes(4, "big")).decode()


def _context(algorithm: str = "sigv4") -> Context:
    return Context("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None, "us-east-1", ("us-east-1",), "s3", WHEN, algorithm=algorithm, double_encode=False)


def _upload(algorithm: str = "sigv4", *, trailer: bool = True, unsigned: bool = False, headers: tuple = ()) -> chunked.ChunkedUpload:
    request = Request("PUT", "https", HOST, "/chunkObject.txt", "", (("Host", HOST),) + headers)
    trailers = (("x-amz-checksum-crc32", CRC32),) if trailer else ()
    return chunked.ChunkedUpload(request, _context(algorithm), CHUNKS, trailers, unsigned=unsigned)


def _judge(upload: chunked.ChunkedUpload, result: chunked.ChunkedSigning | None = None, body: bytes | None = None, signed: SignedRequest | None = None):
    """Verify a signed upload (SigV4A signatures are random: pass the result the body came from)."""
    result = result or chunked.sign_upload(upload)
    return verify_upload(signed or result.signed, result.body if body is None else body, ServerRules.for_context(upload.context))


KINDS = {
    "sigv4": dict(algorithm="sigv4", trailer=False),
    "sigv4-trailer": dict(algorithm="sigv4", trailer=True),
    "sigv4a": dict(algorithm="sigv4a", trailer=False),
    "sigv4a-trailer": dict(algorithm="sigv4a", trailer=True),
    "unsigned-trailer": dict(algorithm="sigv4", trailer=True, unsigned=True),
}


@pytest.mark.parametrize("kind", KINDS)
def test_accepts_what_the_reference_signs(kind):
    verdict = _judge(_upload(**KINDS[kind]))
    assert verdict.valid, verdict.reason
    assert verdict.chunks == 3 and verdict.decoded == b"".join(CHUNKS)


def _rebuild(body: bytes, order: list[int]) -> bytes:
    """Re-frame a received body with its data chunks in another order, each keeping its own
    signature."""
    chunks, trailers = parse_chunked_body(body)
    out = b""
    for c in [chunks[i] for i in order] + [chunks[-1]]:
        ext = f";chunk-signature={c.signature}" if c.signature is not None else ""
        out += f"{c.size:x}{ext}\r\n".encode() + c.data + (b"\r\n" if c.size else b"")
    return out + "".join(f"{n}:{v}\r\n" for n, v in trailers).encode() + b"\r\n"


SIGNED = ["sigv4", "sigv4-trailer", "sigv4a", "sigv4a-trailer"]


@pytest.mark.parametrize("kind", SIGNED)
def test_rejects_a_changed_byte_of_a_chunk(kind):
    upload = _upload(**KINDS[kind])
    result = chunked.sign_upload(upload)
    body = bytearray(result.body)
    body[body.index(b"b" * 10) + 5] = ord("B")
    verdict = _judge(upload, result, bytes(body))
    assert not verdict.valid and "chunk 1 signature does not match" in verdict.reason


@pytest.mark.parametrize("kind", SIGNED)
def test_rejects_two_chunks_swapped(kind):
    upload = _upload(**KINDS[kind])
    result = chunked.sign_upload(upload)
    assert _rebuild(result.body, [0, 1, 2]) == result.body
    verdict = _judge(upload, result, _rebuild(result.body, [1, 0, 2]))
    assert not verdict.valid and "chunk 0 signature does not match" in verdict.reason


@pytest.mark.parametrize("kind", SIGNED)
def test_rejects_a_chunk_signed_on_the_wrong_previous_signature(kind):
    """Chunk 1's signature is a true signature of its data, but chained on the seed signature
    instead of chunk 0's: valid alone, wrong in the chain."""
    upload = _upload(**KINDS[kind])
    result = chunked.sign_upload(upload)
    context = upload.context
    scope = signing.credential_scope(context.date_stamp, context.region, context.service, context.algorithm)
    off_chain = chunked.chunk_signature(context, chunked.chunk_string_to_sign(context.algorithm, context.amz_date, scope, result.values("seed_signature")[0], CHUNKS[1]))
    real = chunked.wire_signature(context, result.values("chunk_signature")[1])
    body = result.body.replace(real.encode(), chunked.wire_signature(context, off_chain).encode())
    assert body != result.body
    verdict = _judge(upload, result, body)
    assert not verdict.valid and "chunk 1 signature does not match" in verdict.reason
    assert verdict.chunks == 1  # chunk 0 was accepted


@pytest.mark.parametrize("kind", KINDS)
def test_rejects_a_truncated_stream(kind):
    upload = _upload(**KINDS[kind])
    result = chunked.sign_upload(upload)
    last_data = result.body.index(b"c" * 100) + 100 + 2
    verdict = _judge(upload, result, result.body[:last_data])
    assert not verdict.valid and "truncated" in verdict.reason


@pytest.mark.parametrize("kind", KINDS)
def test_rejects_a_decoded_content_length_mismatch(kind):
    # The seed signs a wrong x-amz-decoded-content-length: the seed verifies, the length does not.
    upload = _upload(**KINDS[kind], headers=(("X-Amz-Decoded-Content-Length", "16483"),))
    verdict = _judge(upload)
    assert not verdict.valid and "x-amz-decoded-content-length 16483" in verdict.reason


@pytest.mark.parametrize("kind", ["sigv4-trailer", "sigv4a-trailer", "unsigned-trailer"])
def test_rejects_a_changed_trailer_value(kind):
    upload = _upload(**KINDS[kind])
    result = chunked.sign_upload(upload)
    other = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()
    body = result.body.replace(CRC32.encode(), other.encode())
    verdict = _judge(upload, result, body)
    expected = "checksum of the decoded payload" if KINDS[kind].get("unsigned") else "trailer signature does not match"
    assert not verdict.valid and expected in verdict.reason


def test_unsigned_trailer_rejects_a_changed_byte_by_its_checksum():
    upload = _upload(**KINDS["unsigned-trailer"])
    result = chunked.sign_upload(upload)
    verdict = _judge(upload, result, result.body.replace(b"c" * 100, b"c" * 99 + b"C"))
    assert not verdict.valid and "x-amz-checksum-crc32" in verdict.reason


def test_signed_trailer_with_a_wrong_checksum_is_rejected():
    upload = replace(_upload("sigv4"), trailers=(("x-amz-checksum-crc32", "AAAAAA=="),))
    verdict = _judge(upload)
    assert not verdict.valid and "not the checksum" in verdict.reason


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda h: [(n, v) for n, v in h if n.lower() != "content-encoding"], "aws-chunked"),
        (lambda h: [(n, "UNSIGNED-PAYLOAD" if n.lower() == "x-amz-content-sha256" else v) for n, v in h], "not a streaming payload"),
        (lambda h: [(n, "x-amz-checksum-sha256" if n.lower() == "x-amz-trailer" else v) for n, v in h], "seed request"),
    ],
    ids=["no-content-encoding", "not-streaming", "signed-header-changed"],
)
def test_rejects_a_changed_request_head(mutate, reason):
    upload = _upload("sigv4")
    result = chunked.sign_upload(upload)
    signed = replace(result.signed, headers=tuple(mutate(list(result.signed.headers))))
    verdict = _judge(upload, result, signed=signed)
    assert not verdict.valid and reason in verdict.reason


def test_signed_chunks_but_the_last_need_8_kib():
    upload = replace(_upload("sigv4", trailer=False), chunks=(b"a" * 100, b"b" * 8192, b"c" * 5))
    result = chunked.sign_upload(upload)
    verdict = _judge(upload, result)
    assert not verdict.valid and "chunk 0 is 100 bytes" in verdict.reason
    lenient = verify_upload(result.signed, result.body, ServerRules.for_context(upload.context), min_chunk_size=0)
    assert lenient.valid, lenient.reason
    last_small = replace(upload, chunks=(b"a" * 8192, b"c" * 1))
    assert _judge(last_small).valid


def test_content_encoding_is_an_open_choice():
    upload = _upload("sigv4", headers=(("Content-Encoding", "gzip"),))
    result = chunked.sign_upload(upload)
    assert "content-encoding:gzip" in result.values("seed_canonical_request")[0]
    assert "aws-chunked" in _judge(upload, result).reason
    lenient = verify_upload(result.signed, result.body, ServerRules.for_context(upload.context), require_content_encoding=False)
    assert lenient.valid, lenient.reason


def test_rejects_a_content_length_other_than_the_body():
    upload = _upload("sigv4", headers=(("Content-Length", "9999"),))
    verdict = _judge(upload)
    assert not verdict.valid and "Content-Length 9999" in verdict.reason


def test_rejects_trailers_other_than_declared():
    upload = _upload("sigv4", headers=(("X-Amz-Trailer", "x-amz-checksum-sha256"),))
    verdict = _judge(upload)
    assert not verdict.valid and "not the ones declared" in verdict.reason


def test_rejects_bytes_after_the_end():
    upload = _upload("sigv4")
    result = chunked.sign_upload(upload)
    verdict = _judge(upload, result, result.body + b"x")
    assert not verdict.valid and "after the end" in verdict.reason


def test_sigv4a_padding_is_trimmed_before_chaining():
    result = chunked.sign_upload(_upload("sigv4a", trailer=False))
    chunks, _ = parse_chunked_body(result.body)
    assert all(len(c.signature) == chunked.SIGV4A_SIGNATURE_WIDTH for c in chunks)
    assert chunked.wire_signature(_context("sigv4a"), "ab") == "ab" + "*" * 142  # short DER signatures get padding
    assert [c.signature.rstrip("*") for c in chunks] == result.values("chunk_signature") + result.values("final_chunk")


# -- event streams --------------------------------------------------------------------------------------

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _stream():
    context = Context("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, "us-east-1", ("us-east-1",), "transcribe", T0)
    request = Request("POST", "https", "transcribestreaming.us-east-1.amazonaws.com", "/stream-transcription", "", (("Host", "transcribestreaming.us-east-1.amazonaws.com"),))
    inner = [
        event_stream.encode_message([event_stream.Header(":message-type", "string", "event"), event_stream.Header(":event-type", "string", "AudioEvent")], bytes([i]) * 32)
        for i in range(3)
    ]
    events = tuple(event_stream.Event(p, T0 + timedelta(seconds=i + 1)) for i, p in enumerate(inner)) + (event_stream.Event(b"", T0 + timedelta(seconds=4)),)
    stream = event_stream.EventStream(request, context, events)
    return stream, event_stream.sign_stream(stream), ServerRules.for_context(context)


def test_event_stream_accepted():
    stream, result, rules = _stream()
    verdict = verify_stream(result.signed, result.body, rules)
    assert verdict.valid, verdict.reason
    assert verdict.payloads == [e.payload for e in stream.events[:3]]


def test_event_stream_needs_the_events_payload_value():
    stream, result, rules = _stream()
    signed = replace(result.signed, headers=tuple((n, "UNSIGNED-PAYLOAD" if n.lower() == "x-amz-content-sha256" else v) for n, v in result.signed.headers))
    verdict = verify_stream(signed, result.body, rules)
    assert not verdict.valid and "STREAMING-AWS4-HMAC-SHA256-EVENTS" in verdict.reason


def test_event_stream_rejects_a_changed_payload():
    stream, result, rules = _stream()
    headers, payload, _ = event_stream.decode_message(result.messages[1])
    changed = event_stream.encode_message(headers, payload[:-1] + bytes([payload[-1] ^ 1]))
    body = result.messages[0] + changed + result.messages[2] + result.messages[3]
    verdict = verify_stream(result.signed, body, rules)
    assert not verdict.valid and "message 1: signature does not match" in verdict.reason


def test_event_stream_rejects_a_changed_date():
    stream, result, rules = _stream()
    headers, payload, _ = event_stream.decode_message(result.messages[1])
    headers = [replace(h, value=h.value + 1000) if h.name == ":date" else h for h in headers]
    body = result.messages[0] + event_stream.encode_message(headers, payload) + result.messages[2] + result.messages[3]
    verdict = verify_stream(result.signed, body, rules)
    assert not verdict.valid and "message 1: signature does not match" in verdict.reason


def test_event_stream_rejects_reordered_messages():
    stream, result, rules = _stream()
    body = result.messages[1] + result.messages[0] + result.messages[2] + result.messages[3]
    verdict = verify_stream(result.signed, body, rules)
    assert not verdict.valid and "message 0: signature does not match" in verdict.reason


def test_event_stream_rejects_truncation_and_messages_after_the_end():
    stream, result, rules = _stream()
    verdict = verify_stream(result.signed, b"".join(result.messages[:3]), rules)
    assert not verdict.valid and "truncated" in verdict.reason
    verdict = verify_stream(result.signed, result.body + result.messages[0], rules)
    assert not verdict.valid and "after the empty message" in verdict.reason


def test_event_stream_rejects_a_corrupted_frame_and_a_stale_date():
    stream, result, rules = _stream()
    broken = bytearray(result.body)
    broken[20] ^= 0xFF
    verdict = verify_stream(result.signed, bytes(broken), rules)
    assert not verdict.valid and "CRC" in verdict.reason
    later = replace(rules, now=T0 + timedelta(hours=1))
    verdict = verify_messages(result.body, result.values("seed_signature")[0], "AKIDEXAMPLE", later)
    assert not verdict.valid and "15 minutes" in verdict.reason


def test_event_stream_rejects_a_chain_on_another_seed():
    stream, result, rules = _stream()
    verdict = verify_messages(result.body, "0" * 64, "AKIDEXAMPLE", rules)
    assert not verdict.valid and "message 0" in verdict.reason
    verdict = verify_messages(result.body, result.values("seed_signature")[0], "AKIDEXAMPLE", rules)
    assert verdict.valid and verdict.events == 3


# -- the collected vectors, judged as a server would ------------------------------------------------

VECTORS = {v.id: v for f in sorted((Path(__file__).parents[1] / "vectors" / "streaming").glob("*.yaml")) for v in load_vectors(f)}


def test_s3_documentation_chunked_example_is_accepted():
    vector = VECTORS["crt-java-chunked-sigv4"]
    verdict = _judge(vector.upload)
    assert verdict.valid, verdict.reason
    assert len(verdict.decoded) == 66560


def test_the_trailer_on_a_non_trailer_seed_trap_is_rejected():
    """aws-c-auth's and the CRT's SigV4 trailer test sign the seed as ...-PAYLOAD, then a trailer."""
    verdict = _judge(VECTORS["crt-java-trailing-headers-sigv4"].upload)
    assert not verdict.valid and "which has no trailer" in verdict.reason


def test_s3_trailing_headers_example_body_is_accepted_from_its_seed():
    vector = VECTORS["smithy-rs-aws-chunked-body-signed-trailer"]
    upload = vector.upload
    body = chunked.sign_upload(upload).body
    chain = Chain(upload.seed_signature, upload.context.access_key_id, upload.context.amz_date, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", ("x-amz-checksum-crc32c",), 66560)
    rules = ServerRules.for_context(upload.context)
    verdict = verify_body(body, chain, rules)
    assert verdict.valid, verdict.reason
    assert not verify_body(body, replace(chain, seed_signature="4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"), rules).valid
    changed = verify_body(body.replace(b"sOO8/Q==", b"AAAAAA=="), chain, rules)
    assert not changed.valid and "trailer signature does not match" in changed.reason


def test_s3_trailing_headers_example_is_accepted_and_its_documented_content_length_is_not():
    vector = VECTORS["s3s-put-object-multiple-chunks-with-trailer"]
    result = chunked.sign_upload(vector.upload)
    verdict = _judge(vector.upload, result)
    assert verdict.valid, verdict.reason
    # The documentation's request also shows Content-Length: 66824 (unsigned here), short of this body.
    documented = replace(result.signed, headers=result.signed.headers + (("Content-Length", "66824"),))
    verdict = _judge(vector.upload, result, signed=documented)
    assert not verdict.valid and f"Content-Length 66824 is not the {len(result.body)} bytes" in verdict.reason
