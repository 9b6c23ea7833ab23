"""oracle-s3s judges aws-chunked uploads (issue 15, docs/oracles.md): it accepts the S3 documentation's
chunked upload (aws-c-auth's C test, read in place) and rejects each single mutation of the chain our
verifier rejects; what s3s 0.14.1 leaves to the application (the end of the stream, the decoded
length, checksum trailers, the 8 KiB floor, the declared trailer names) is a reviewed difference; SigV4A
streaming and event streams are declared out; a run hands the oracle the wire body."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest

from conftest import ROOT, one_oracle
from harness import protocol
from harness.cases import load_cases
from harness.judgement import RECEIVED_BODY
from harness.model import Check, SignedRequest
from harness.oracles import Oracles, disagreements, received_text
from harness.reference import chunked, signing
from harness.results import ResultRow
from harness.stream_compare import expected_for_stream, judge_stream, verify_chunked
from harness.verify.chunked import parse_chunked_body
from test_streaming_reference import _c_source, _c_upload

S3S = "oracle-s3s"
CASES = {c.id: c for c in load_cases([ROOT / "cases" / "streaming"]).cases}


@pytest.fixture(scope="module")
def oracles():
    with one_oracle(S3S) as started:
        yield started


@pytest.fixture(scope="module")
def official() -> tuple[Check, chunked.ChunkedUpload, chunked.ChunkedSigning]:
    """The S3 documentation's chunked upload as aws-c-auth's C test builds it, signed byte for byte."""
    source = _c_source("test_chunked_signing.c")
    from harness.cases import streaming as c_test

    upload = _c_upload(source, "sigv4", trailing=False, payload=chunked.STREAMING_PAYLOADS[("sigv4", False)])
    result = chunked.sign_upload(upload)
    values = c_test.c_strings(source)
    assert result.values("seed_signature") == [values["s_expected_request_signature"]]
    assert result.values("chunk_signature") == [values["s_expected_first_chunk_signature"], values["s_expected_second_chunk_signature"]]
    assert result.values("final_chunk") == [values["s_expected_final_chunk_signature"]]
    # The case is the same upload (credentials, scope, time): the server's configuration comes from it.
    check = Check(CASES["streaming/chunked-s3-docs-example"], "stream")
    assert check.context.access_key_id == upload.context.access_key_id and check.context.timestamp == upload.context.timestamp
    return check, upload, result


def ask(oracles: Oracles, check: Check, signed: SignedRequest, body: bytes) -> dict[str, str]:
    return oracles.opinions(check, signed, body, names=[S3S])[S3S]


def signed_case(case_id: str) -> tuple[Check, chunked.ChunkedSigning]:
    check = Check(CASES[case_id], "stream")
    return check, chunked.sign_upload(check.case.subject)


def test_s3s_accepts_the_s3_documentation_chunked_upload(oracles, official):
    check, _, result = official
    assert verify_chunked(check, result.signed, result.body).valid
    got = ask(oracles, check, result.signed, result.body)
    assert got["verdict"] == protocol.ACCEPT, got
    assert "66560 decoded bytes" in got["reason"] and "verified trailers: none" in got["reason"]


def _off_chain(upload: chunked.ChunkedUpload, result: chunked.ChunkedSigning) -> bytes:
    """Chunk 1 signed over its own data but chained on the seed signature instead of chunk 0's."""
    ctx = upload.context
    scope = signing.credential_scope(ctx.date_stamp, ctx.region, ctx.service, ctx.algorithm)
    seed = result.values("seed_signature")[0]
    off = chunked.chunk_signature(ctx, chunked.chunk_string_to_sign(ctx.algorithm, ctx.amz_date, scope, seed, upload.chunks[1]))
    body = result.body.replace(result.values("chunk_signature")[1].encode(), off.encode())
    assert body != result.body
    return body


def _flip(body: bytes, at: int) -> bytes:
    out = bytearray(body)
    out[at] ^= 0x01
    return bytes(out)


def _swap(body: bytes) -> bytes:
    chunks, _ = parse_chunked_body(body)
    out = b""
    for c in [chunks[1], chunks[0], chunks[2]]:
        out += f"{c.size:x};chunk-signature={c.signature}\r\n".encode() + c.data + (b"\r\n" if c.size else b"")
    return out + b"\r\n"


# mutation -> (the body, the s3s error it must answer)
MUTATIONS = {
    "a flipped byte in chunk 1": (lambda u, r: _flip(r.body, r.body.index(b"\r\n", r.body.index(b"400;chunk-signature=")) + 12), "SignatureMismatch"),
    "chunk 1 chained on the wrong previous signature": (_off_chain, "SignatureMismatch"),
    "the two data chunks swapped": (lambda u, r: _swap(r.body), "SignatureMismatch"),
    "a stream cut inside chunk 0": (lambda u, r: r.body[:40000], "Incomplete"),
    "another final chunk signature": (lambda u, r: r.body.replace(r.values("final_chunk")[0].encode(), b"0" * 64), "SignatureMismatch"),
    "bytes after the end of the stream": (lambda u, r: r.body + b"x", "FormatError"),
}


@pytest.mark.parametrize("what", MUTATIONS)
def test_s3s_rejects_each_mutation_of_the_chain_our_verifier_rejects(oracles, official, what):
    check, upload, result = official
    mutate, error = MUTATIONS[what]
    body = mutate(upload, result)
    ours = verify_chunked(check, result.signed, body)
    assert not ours.valid
    got = ask(oracles, check, result.signed, body)
    assert got["verdict"] == protocol.REJECT and f"AwsChunkedStreamError: {error}" in got["reason"], (what, ours.reason, got)


def test_s3s_checks_the_trailer_signature(oracles):
    check, result = signed_case("streaming/chunked-s3-docs-trailer-crc32c")
    assert ask(oracles, check, result.signed, result.body)["verdict"] == protocol.ACCEPT
    body = result.body.replace(b"x-amz-checksum-crc32c:sOO8/Q==", b"x-amz-checksum-crc32c:AAAAAA==")
    assert body != result.body and not verify_chunked(check, result.signed, body).valid
    got = ask(oracles, check, result.signed, body)
    assert got["verdict"] == protocol.REJECT and "SignatureMismatch" in got["reason"], got


def _known(check: Check, signed: SignedRequest, body: bytes, got: dict[str, str]) -> str | None:
    ours = verify_chunked(check, signed, body)
    assert not ours.valid and got["verdict"] == protocol.ACCEPT, (ours.reason, got)
    flags = disagreements(check.case.id, False, {S3S: got}, ours_reason=ours.reason, path=signed.parts()[2],
                          received=received_text(signed), ours_rules=ours.rules)
    assert len(flags) == 1
    return flags[0]["known"]


def test_what_s3s_leaves_to_the_application_is_a_reviewed_difference(oracles, official):
    """Each mutation our verifier rejects and s3s 0.14.1 accepts is covered by the entry naming why."""
    check, upload, result = official
    # the body cut before the final chunk, or inside its header: s3s ends the stream without an error
    for cut in (result.body[: result.body.rindex(b"0;chunk-signature=")], result.body[:-40]):
        assert _known(check, result.signed, cut, ask(oracles, check, result.signed, cut)) == "s3s-chunked-stream-end-unchecked"
    # the seed signs x-amz-decoded-content-length 66559 for 66560 bytes: s3s does not compare them
    headers = tuple((n, "66559") if n.lower() == "x-amz-decoded-content-length" else (n, v) for n, v in upload.request.headers)
    shorter = chunked.sign_upload(replace(upload, request=replace(upload.request, headers=headers)))
    got = ask(oracles, check, shorter.signed, shorter.body)
    assert _known(check, shorter.signed, shorter.body, got) == "s3s-chunked-decoded-length-unchecked"
    # an unsigned-trailer stream with a changed byte: only its checksum trailer protects the data
    unsigned, signed_unsigned = signed_case("streaming/chunked-unsigned-payload-trailer")
    flipped = _flip(signed_unsigned.body, signed_unsigned.body.index(b"uuuu") + 2)
    got = ask(oracles, unsigned, signed_unsigned.signed, flipped)
    assert _known(unsigned, signed_unsigned.signed, flipped, got) == "s3s-chunked-checksum-unchecked"
    # a signed chunk under 8 KiB that is not the last, where the case names no open choice
    small = replace(upload, chunks=(b"a" * 100, b"a" * 66460))
    under = chunked.sign_upload(replace(small, request=replace(small.request, headers=tuple(
        (n, v) for n, v in small.request.headers if n.lower() != "content-length"))))
    got = ask(oracles, check, under.signed, under.body)
    assert _known(check, under.signed, under.body, got) == "s3s-chunked-no-size-floor"
    # trailer lines other than the ones x-amz-trailer declares
    trailer, signed_trailer = signed_case("streaming/chunked-s3-docs-trailer-crc32c")
    renamed = replace(trailer.case.subject, trailers=(("x-amz-checksum-crc32c", "sOO8/Q=="), ("x-amz-meta-extra", "1")))
    assert ("X-Amz-Trailer", "x-amz-checksum-crc32c") in renamed.request.headers  # the case's head declares one
    extra = chunked.sign_upload(replace(renamed, request=replace(renamed.request, headers=tuple(
        (n, v) for n, v in renamed.request.headers if n.lower() != "content-length"))))
    got = ask(oracles, trailer, extra.signed, extra.body)
    assert _known(trailer, extra.signed, extra.body, got) == "s3s-chunked-trailer-names-unchecked"
    # aws-c-auth's SigV4 trailer test: a signed trailer after a STREAMING-AWS4-HMAC-SHA256-PAYLOAD seed
    source = _c_source("test_chunked_signing.c")
    trap = chunked.sign_upload(_c_upload(source, "sigv4", trailing=True, payload=chunked.STREAMING_PAYLOADS[("sigv4", False)]))
    got = ask(oracles, check, trap.signed, trap.body)
    assert "verified trailers: first, second, third" in got["reason"], got
    assert _known(check, trap.signed, trap.body, got) == "s3s-chunked-trailer-names-unchecked"


@pytest.mark.parametrize("case_id, why", [("streaming/chunked-sigv4a", "s3s 0.14.1 has no SigV4A"),
                                          ("streaming/chunked-sigv4a-trailer", "s3s 0.14.1 has no SigV4A"),
                                          ("event-stream", "verifies no event-stream")])
def test_what_s3s_cannot_judge_is_declared_without_a_request(oracles, case_id, why):
    case = CASES.get(case_id) or next(c for c in CASES.values() if c.surface == case_id)
    session = oracles.oracles[S3S].sessions[0]
    asked = session.checks
    got = oracles.opinions(Check(case, "stream"), SignedRequest("PUT", "https://s3.amazonaws.com/b/k", ()), b"x", names=[S3S])[S3S]
    assert got["verdict"] == protocol.NOT_APPLICABLE and got.get("declared") and why in got["reason"], got
    assert session.checks == asked


@pytest.mark.parametrize("mutate, verdict", [(lambda body: body, protocol.ACCEPT),
                                             (lambda body: body.replace(b"a" * 8, b"a" * 7 + b"b", 1), protocol.REJECT)])
def test_a_judged_stream_row_hands_the_oracle_the_wire_body(oracles, official, mutate, verdict):
    """judge_stream keeps the wire body for the oracles (the signed head has none); the row written
    carries the opinion, not the body."""
    check, _, result = official
    answer = {"signed": result.signed.to_json(), "stream": {"body_b64": base64.b64encode(mutate(result.body)).decode()}}
    judged = judge_stream(check, expected_for_stream(check), answer).to_json()
    assert judged[RECEIVED_BODY] == mutate(result.body)
    oracles.judge(check, judged)
    assert RECEIVED_BODY not in judged
    assert judged["opinions"][S3S]["verdict"] == verdict, judged["opinions"]
    assert ("66560 decoded bytes" if verdict == protocol.ACCEPT else "SignatureMismatch") in judged["opinions"][S3S]["reason"]
    assert (verdict == protocol.ACCEPT) == judged["verification"]["valid"] and not judged.get("oracles_disagree")
    json.dumps(ResultRow.of(check.case.id, check.mode, "x", judged).to_json())
