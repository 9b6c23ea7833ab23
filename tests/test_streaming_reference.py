"""The streaming reference (aws-chunked and event streams) against the vectors: aws-c-auth's C tests
read in place (SigV4 byte for byte, SigV4A by verification) and the vectors collected from other
SDKs' tests in vectors/streaming/."""

from __future__ import annotations

import base64
import os
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from harness.cases import streaming as vectors_io
from harness.cases.errors import CaseError
from harness.model import Context, Request
from harness.reference import chunked, event_stream, signing
from harness.verify.chunked import parse_chunked_body, verify_upload
from harness.verify.single import ServerRules

ROOT = Path(__file__).parents[1]
VECTORS = ROOT / "vectors" / "streaming"
C_FOLDER = Path(os.environ.get("SIGHARNESS_STREAMING_VECTORS") or ROOT.parent / "shared/vectors/aws-c-auth-streaming")


def _c_source(name: str) -> str:
    path = C_FOLDER / name
    if not path.is_file():
        pytest.skip(f"{path} is not there (set SIGHARNESS_STREAMING_VECTORS to aws-c-auth's streaming tests)")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def chunked_c() -> str:
    return _c_source("test_chunked_signing.c")


@pytest.fixture(scope="module")
def event_c() -> str:
    return _c_source("test_event_signing.c")


def _fill(source: str, buffer: str) -> bytes:
    """A chunk the C test fills with aws_byte_buf_write_u8_n(&tester->BUFFER, 'c', SIZE)."""
    m = re.search(rf"aws_byte_buf_write_u8_n\(&tester->{buffer}, '(.)', (\w+)\)", source)
    assert m, buffer
    size = vectors_io.c_defines(source)[m.group(2)] if not m.group(2).isdigit() else int(m.group(2))
    return m.group(1).encode("ascii") * size


def _c_chunked_context(source: str, algorithm: str = "sigv4") -> Context:
    s = vectors_io.c_strings(source)
    region = s["s_chunked_test_region"]
    return Context(
        access_key_id=s["s_chunked_access_key_id"],
        secret_access_key=s["s_chunked_secret_access_key"],
        session_token=None,
        region=region,
        region_set=(region,),
        service=s["s_chunked_test_service"],
        timestamp=vectors_io.c_http_date(s["s_chunked_test_date"]),
        algorithm=algorithm,
        normalize_path=True,
        double_encode=False,  # config->flags.use_double_uri_encode = false
    )


def _c_request(source: str, builder: str, path_name: str, method: str) -> Request:
    headers = vectors_io.c_request_headers(source, builder)
    host = dict((n.lower(), v) for n, v in headers)["host"]
    return Request(method, "https", host, vectors_io.c_strings(source)[path_name], "", headers)


def _c_trailers(source: str) -> tuple[tuple[str, str], ...]:
    body = vectors_io.c_function(source, "s_trailing_headers_new")
    return tuple(re.findall(r'\.name = AWS_BYTE_CUR_INIT_FROM_STRING_LITERAL\("([^"]*)"\),\s*\.value = AWS_BYTE_CUR_INIT_FROM_STRING_LITERAL\("([^"]*)"\)', body))


def _c_upload(source: str, algorithm: str, *, trailing: bool, payload: str | None = None) -> chunked.ChunkedUpload:
    builder = "s_build_trailing_headers_test_request" if trailing and algorithm == "sigv4a" else "s_build_chunked_test_request"
    return chunked.ChunkedUpload(
        request=_c_request(source, builder, "s_chunked_test_path", "PUT"),
        context=_c_chunked_context(source, algorithm),
        chunks=(_fill(source, "chunk1"), _fill(source, "chunk2")),
        trailers=_c_trailers(source) if trailing else (),
        payload=payload,
        add_stream_headers=False,
    )


# -- aws-c-auth, SigV4: byte for byte -----------------------------------------------------------


def test_c_parser_reads_the_values(chunked_c):
    strings = vectors_io.c_strings(chunked_c)
    assert strings["s_expected_request_signature"].startswith("4f232c43")
    assert len(_fill(chunked_c, "chunk1")) == 65536 and len(_fill(chunked_c, "chunk2")) == 1024
    assert _c_trailers(chunked_c) == (("first", "1st"), ("second", "2nd"), ("third", "3rd"))


def test_c_sigv4_chunked_upload_byte_for_byte(chunked_c):
    s = vectors_io.c_strings(chunked_c)
    upload = _c_upload(chunked_c, "sigv4", trailing=False, payload=chunked.STREAMING_PAYLOADS[("sigv4", False)])
    result = chunked.sign_upload(upload)
    assert dict(result.signed.headers)["Authorization"] == s["s_expected_request_authorization_header"]
    assert result.values("seed_signature") == [s["s_expected_request_signature"]]
    assert result.values("chunk_signature") == [s["s_expected_first_chunk_signature"], s["s_expected_second_chunk_signature"]]
    assert result.values("final_chunk") == [s["s_expected_final_chunk_signature"]]
    # The request's Content-Length (66824) is the encoded length the reference computes.
    assert chunked.encoded_length(upload) == int(dict((n.lower(), v) for n, v in upload.request.headers)["content-length"])
    assert len(result.body) == chunked.encoded_length(upload)


def test_c_sigv4_trailing_headers_byte_for_byte(chunked_c):
    s = vectors_io.c_strings(chunked_c)
    # aws-c-auth signs the seed of its SigV4 trailer test as the plain chunked request.
    upload = _c_upload(chunked_c, "sigv4", trailing=True, payload=chunked.STREAMING_PAYLOADS[("sigv4", False)])
    result = chunked.sign_upload(upload)
    assert result.values("seed_signature") == [s["s_expected_request_signature"]]
    assert result.values("final_chunk") == [s["s_expected_final_chunk_signature"]]
    assert result.values("trailer_signature") == [s["s_expected_trailing_headers_signature"]]


def test_c_sigv4a_key_is_the_derived_key(chunked_c):
    s = vectors_io.c_strings(chunked_c)
    numbers = signing.sigv4a_private_key(s["s_chunked_access_key_id"], s["s_chunked_secret_access_key"]).public_key().public_numbers()
    assert f"{numbers.x:064x}" == s["s_chunked_test_ecc_pub_x"]
    assert f"{numbers.y:064x}" == s["s_chunked_test_ecc_pub_y"]


# -- aws-c-auth, SigV4A: canonical request and strings to sign byte for byte, signatures verified --


@pytest.mark.parametrize("trailing", [False, True], ids=["chunked", "trailing-headers"])
def test_c_sigv4a_stages(chunked_c, trailing):
    s = vectors_io.c_strings(chunked_c)
    upload = _c_upload(chunked_c, "sigv4a", trailing=trailing)
    result = chunked.sign_upload(upload)
    expected_creq = s["s_chunked_expected_trailing_headers_canonical_request_cursor" if trailing else "s_chunked_expected_canonical_request_cursor"]
    assert result.values("seed_canonical_request") == [expected_creq]
    public_key = signing.public_key_from_xy(s["s_chunked_test_ecc_pub_x"], s["s_chunked_test_ecc_pub_y"])
    seed_sts = result.values("seed_string_to_sign")[0]
    previous = result.values("seed_signature")[0]
    assert signing.sigv4a_verify(public_key, seed_sts, previous)
    posts = ["s_chunk1_sts_post_signature", "s_chunk2_sts_post_signature", "s_chunk3_sts_post_signature"]
    chunk_sigs = result.values("chunk_signature") + result.values("final_chunk")
    for sts, sig, post in zip(result.values("chunk_string_to_sign"), chunk_sigs, posts, strict=True):
        assert sts == s["s_chunk_sts_pre_signature"] + previous + s[post]
        assert signing.sigv4a_verify(public_key, sts, sig)
        previous = sig
    if trailing:
        (sts,) = result.values("trailer_string_to_sign")
        assert sts == s["s_trailing_headers_expected_sts_pre_signature"] + previous + s["s_trailing_headers_expected_sts_post_signature"]
        assert signing.sigv4a_verify(public_key, sts, result.values("trailer_signature")[0])
    # A signature over the wrong chain does not verify (the check can fail).
    assert not signing.sigv4a_verify(public_key, result.values("chunk_string_to_sign")[0], chunk_sigs[1])


def test_c_sigv4a_integration_body_layout(chunked_c):
    """The wire body of aws-c-auth's SigV4A trailer integration test: padded signatures, the crc32c
    trailer, and its Content-Length (535), which the reference computes and the verifier accepts."""
    body_src = vectors_io.c_function(chunked_c, "s_sigv4a_trailing_header_integration_test")
    pieces = dict(re.findall(r'struct aws_byte_cursor (\w+) =\s*AWS_BYTE_CUR_INIT_FROM_STRING_LITERAL\("((?:[^"\\]|\\.)*)"\);', body_src))
    pieces = {k: v.encode("latin-1").decode("unicode_escape") for k, v in pieces.items()}
    trailer_line = re.search(r"\\r\\n([\w-]+):([^\\]+)\\r\\n", body_src)
    assert trailer_line
    s = vectors_io.c_strings(chunked_c)
    upload = chunked.ChunkedUpload(
        request=_c_request(chunked_c, "s_build_integration_test_request", "s_integration_test_path", "PUT"),
        context=replace(_c_chunked_context(chunked_c, "sigv4a"), access_key_id=s["s_integration_chunked_access_key_id"], secret_access_key=s["s_integration_chunked_secret_access_key"]),
        chunks=(_fill(chunked_c, "integration_chunk"),),
        trailers=((trailer_line.group(1), trailer_line.group(2)),),
        add_stream_headers=False,
    )
    result = chunked.sign_upload(upload)
    wire = [chunked.wire_signature(upload.context, v) for v in result.values("chunk_signature") + result.values("final_chunk") + result.values("trailer_signature")]
    assert all(len(w) == chunked.SIGV4A_SIGNATURE_WIDTH for w in wire)
    expected = (pieces["pre_chunk"] + wire[0] + pieces["first_chunk"] + wire[1] + pieces["trailer_chunk"] + wire[2] + pieces["carriage_return"]).encode("ascii")
    assert result.body == expected
    headers = dict((n.lower(), v) for n, v in upload.request.headers)
    assert len(result.body) == chunked.encoded_length(upload) == int(headers["content-length"])
    verdict = verify_upload(result.signed, result.body, ServerRules.for_context(upload.context))
    assert verdict.valid, verdict.reason


def test_c_sigv4a_upload_verifies(chunked_c):
    upload = replace(_c_upload(chunked_c, "sigv4a", trailing=True), add_stream_headers=True)
    # The C request's Content-Length (66824) is the SigV4 encoded length; let the reference compute it.
    upload = replace(upload, request=replace(upload.request, headers=tuple(h for h in upload.request.headers if h[0].lower() != "content-length")))
    result = chunked.sign_upload(upload)
    verdict = verify_upload(result.signed, result.body, ServerRules.for_context(upload.context))
    assert verdict.valid, verdict.reason
    assert verdict.chunks == 2


# -- aws-c-auth event signing ----------------------------------------------------------------------


def test_c_event_signing_byte_for_byte(event_c):
    s = vectors_io.c_strings(event_c)
    headers = vectors_io.c_request_headers(event_c, "s_build_event_request")
    context = Context(
        access_key_id=s["s_event_access_key_id"],
        secret_access_key=s["s_event_secret_access_key"],
        session_token=None,
        region=s["s_event_test_region"],
        region_set=(s["s_event_test_region"],),
        service=s["s_event_test_service"],
        timestamp=vectors_io.c_http_date(s["s_event_request_date"]),
        double_encode=False,
    )
    host = dict((n.lower(), v) for n, v in headers)["host"]
    request = Request("POST", "https", host, s["s_event_test_path"], "", headers)
    dates = [s[name] for name in ("s_event_test_date", "s_event_test_date_2", "s_event_test_date_3", "s_event_test_date_4")]
    payloads = [_fill(event_c, "chunk1"), _fill(event_c, "chunk2"), _fill(event_c, "chunk3"), b""]
    events = tuple(event_stream.Event(p, vectors_io.c_http_date(d)) for p, d in zip(payloads, dates, strict=True))
    result = event_stream.sign_stream(event_stream.EventStream(request, context, events))
    assert dict(result.signed.headers)["Authorization"] == s["s_expected_request_authorization_header"]
    assert result.values("seed_signature") == [s["s_expected_request_signature"]]
    assert result.values("event_signature") == [s["s_expected_first_chunk_signature"], s["s_expected_second_chunk_signature"], s["s_expected_third_chunk_signature"]]
    assert result.values("final_event") == [s["s_expected_final_chunk_signature"]]


# -- vectors collected from other SDKs' tests --------------------------------------------------------


def _all_vectors() -> list[vectors_io.Vector]:
    return [v for f in sorted(VECTORS.glob("*.yaml")) for v in vectors_io.load_vectors(f)]


def test_vector_files_hold_every_surface():
    found = _all_vectors()
    assert {v.surface for v in found} == set(vectors_io.SURFACES)
    assert len({v.id for v in found}) == len(found)
    assert all(v.refs and v.note for v in found)


@pytest.mark.parametrize("vector", _all_vectors(), ids=lambda v: v.id)
def test_collected_vector(vector):
    result = chunked.sign_upload(vector.upload) if vector.upload else event_stream.sign_stream(vector.stream)
    for stage, values in vector.expect.items():
        assert tuple(result.values(stage)) == values, f"{vector.source.file}:{vector.source.line}: {stage}"
    if vector.wire is not None:
        # Chunk sizes are hex of either case (smithy-rs writes upper case); the rest is exact.
        assert parse_chunked_body(result.body) == parse_chunked_body(vector.wire)
        assert result.body.lower() == vector.wire.lower()
    if vector.verify_only:
        key = signing.sigv4a_private_key(vector.upload.context.access_key_id, vector.upload.context.secret_access_key).public_key()
        strings = result.values("seed_string_to_sign") + result.values("chunk_string_to_sign") + result.values("trailer_string_to_sign")
        sigs = result.values("seed_signature") + [s.text for s in result.steps if s.stage in ("chunk_signature", "final_chunk")] + result.values("trailer_signature")
        assert len(strings) == len(sigs) > 1
        assert all(signing.sigv4a_verify(key, sts, sig) for sts, sig in zip(strings, sigs))


# -- stages and encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [chunked, event_stream], ids=["chunked", "event_stream"])
def test_stages_are_declared_and_named_functions(module):
    for stage in module.STAGES:
        assert stage.startswith(("seed_", "final_")) or callable(getattr(module, stage, None)), stage


def test_every_chunked_stage_is_produced():
    context = Context("AKIDEXAMPLE", "secret", None, "us-east-1", ("us-east-1",), "s3", vectors_io.c_http_date("Fri, 24 May 2013 00:00:00 GMT"), double_encode=False)
    request = Request("PUT", "https", "example.s3.amazonaws.com", "/key", "", (("Host", "example.s3.amazonaws.com"),))
    result = chunked.sign_upload(chunked.ChunkedUpload(request, context, (b"x" * 9000, b"y"), (("x-amz-checksum-crc32", "AAAAAA=="),)))
    assert {s.stage for s in result.steps} == set(chunked.STAGES)
    assert [s.index for s in result.steps if s.stage == "chunk_string_to_sign"] == [0, 1, 2]
    assert result.body.startswith(b"2328;chunk-signature=")  # 9000 in hex
    assert result.body.endswith(b"\r\n\r\n") and b"x-amz-trailer-signature:" in result.body


def test_unsigned_trailer_wire_format():
    context = Context("AKIDEXAMPLE", "secret", None, "us-east-1", ("us-east-1",), "s3", vectors_io.c_http_date("Fri, 24 May 2013 00:00:00 GMT"))
    request = Request("PUT", "https", "h", "/k", "", (("Host", "h"),))
    result = chunked.sign_upload(chunked.ChunkedUpload(request, context, (b"abc",), (("x-amz-checksum-crc32", "NSRBwg=="),), unsigned=True))
    assert result.body == b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n"
    assert "x-amz-content-sha256:STREAMING-UNSIGNED-PAYLOAD-TRAILER" in result.values("seed_canonical_request")[0]
    assert {s.stage for s in result.steps} == {"seed_canonical_request", "seed_string_to_sign", "seed_signature"}


def test_trailing_headers_are_sorted_lowercase_and_trimmed():
    assert chunked.trailing_headers([("X-B", " 2 "), ("x-a", "1")]) == "x-a:1\nx-b:2\n"


def test_date_header_encoding():
    # name length, ':date', type 8 (timestamp), milliseconds as a big-endian int64
    assert event_stream.date_header(1000) == b"\x05:date\x08" + (1000).to_bytes(8, "big")
    # the bytes @smithy/signature-v4's event test passes (vectors/streaming/smithy-typescript.yaml)
    assert event_stream.date_header(1546045446000).hex() == "053a646174650800000167f77d5770"


@pytest.mark.parametrize(
    "header",
    [
        event_stream.Header("t", "bool", True),
        event_stream.Header("f", "bool", False),
        event_stream.Header("b", "byte", -3),
        event_stream.Header("s", "short", 30000),
        event_stream.Header("i", "integer", -70000),
        event_stream.Header("l", "long", 2**40),
        event_stream.Header("y", "bytes", b"\x00\xff"),
        event_stream.Header("str", "string", "välue"),
        event_stream.Header("ts", "timestamp", 1546045446000),
        event_stream.Header("u", "uuid", bytes(range(16))),
    ],
    ids=lambda h: h.type + str(h.value)[:3],
)
def test_event_message_round_trip(header):
    raw = event_stream.encode_message([header], b"payload")
    headers, payload, length = event_stream.decode_message(raw + b"next")
    assert headers == [header] and payload == b"payload" and length == len(raw)


def test_event_message_encoding_matches_aws_sdk_go():
    """The inner message of aws-sdk-go's TestSignEncoder (private/protocol/eventstream/eventstreamapi/
    signer_test.go at 8d203ccff393): a string header and "payload", encoded byte for byte."""
    raw = event_stream.encode_message([event_stream.Header("header_name", "string", "header value")], b"payload")
    assert base64.b64encode(raw).decode() == "AAAAMgAAABs0pv1jC2hlYWRlcl9uYW1lBwAMaGVhZGVyIHZhbHVlcGF5bG9hZH4tKFg="


def test_signed_message_headers_as_smithy_rs_sign_test():
    """smithy-rs event_stream.rs `sign`: ':chunk-signature' (bytes of the signature) first, then
    ':date' with the sub-seconds truncated (123456789 s + 1234 ns -> 123456789000 ms)."""
    when = datetime.fromtimestamp(123_456_789, timezone.utc) + timedelta(microseconds=1)
    context = Context("AKIDEXAMPLE", "secret", None, "us-east-1", ("us-east-1",), "testservice", when)
    inner = event_stream.encode_message([event_stream.Header("some-header", "string", "value")], b"test payload")
    stream = event_stream.EventStream(None, context, (event_stream.Event(inner, when),), "be1f8c7d79ef8e1abc5254a2c70e4da3bfaf4f07328f527444e1fc6ea67273e2")
    result = event_stream.sign_stream(stream)
    headers, payload, _ = event_stream.decode_message(result.messages[0])
    assert [h.name for h in headers] == [":chunk-signature", ":date"]
    assert headers[0].value.hex() == result.values("event_signature")[0]
    assert headers[1].value == 123_456_789_000 and payload == inner


def test_event_message_crc_is_checked():
    raw = bytearray(event_stream.encode_message([event_stream.Header("a", "string", "b")], b"payload"))
    raw[-6] ^= 1
    with pytest.raises(event_stream.MessageError, match="message CRC"):
        event_stream.decode_message(bytes(raw))


# -- the vector file format: one FILE:LINE message per problem -------------------------------------


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("- id: a\n  surface: aws-chunked\n  title: t\n  note: n\n  refs: [x]\n  expect: {}\n  chunk: []\n", 7, "unknown key 'chunk'"),
        ("- id: a\n  surface: mqtt\n  title: t\n  note: n\n  refs: [x]\n  expect: {}\n", 2, "surface 'mqtt'"),
        ("- id: a\n  surface: aws-chunked\n  title: t\n  note: n\n  refs: [x]\n  expect:\n    chunk_sig: [a]\n", 7, "not a stage"),
        ("- id: a\n  surface: aws-chunked\n  title: t\n  note: n\n  refs: [x]\n  expect: {}\n  request: {method: PUT, url: 'https://h/'}\n  chunks:\n    - {base64: '!!'}\n", 9, "chunks[0]"),
        ("- id: a\n  surface: event-stream\n  title: t\n  note: n\n  refs: [x]\n  expect: {}\n  events: []\n", 1, "needs a request"),
        ("- id: a\n  surface: aws-chunked\n  title: t\n  note: n\n  refs: [x]\n  expect: {}\n  prior_signature: ''\n  chunks: 5\n", 1, "wrong shape"),
        ("- id: a\n  surface: aws-chunked\n  title: t\n  note: n\n  refs: [x]\n  expect: {}\n  prior_signature: ''\n  trailers: [[a]]\n", 1, "wrong shape"),
    ],
)
def test_vector_file_errors(tmp_path, text, line, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CaseError) as info:
        vectors_io.load_vectors(path)
    assert info.value.line == line and message in info.value.message and str(info.value).startswith(f"{path}:{line}:")


def test_first_difference_names_the_first_chunk_that_differs(chunked_c):
    s = vectors_io.c_strings(chunked_c)
    result = chunked.sign_upload(_c_upload(chunked_c, "sigv4", trailing=False, payload=chunked.STREAMING_PAYLOADS[("sigv4", False)]))
    expected = {
        "seed_signature": [s["s_expected_request_signature"]],
        "chunk_signature": [s["s_expected_first_chunk_signature"], s["s_expected_second_chunk_signature"]],
        "final_chunk": [s["s_expected_final_chunk_signature"]],
    }
    assert result.first_difference(expected) is None
    expected["chunk_signature"] = [s["s_expected_first_chunk_signature"], "0" * 64]
    expected["final_chunk"] = ["1" * 64]
    assert result.first_difference(expected) == ("chunk_signature", 1, "0" * 64, s["s_expected_second_chunk_signature"])
    assert result.first_difference({"chunk_signature": expected["chunk_signature"] + ["x"]})[:2] == ("chunk_signature", 1)
    assert result.first_difference({"trailer_signature": ["x"]}) == ("trailer_signature", 0, "x", "")
