"""Streaming cases (aws-chunked, event-stream) in the loader and the engine: FILE:LINE errors, the
check adapters receive, the stage-by-stage verdict (the first chunk or event that differs), chain
verification and integrity; end to end with py-reference and faulty streaming signers."""

from __future__ import annotations

import base64
import copy
import zlib
from pathlib import Path

import pytest

from conftest import FIXTURES, run_results
from harness.cases import load_cases
from harness.cases.errors import CaseError
from harness.cases.yamlfile import load_file
from harness.compare import expected_for, judge
from harness.model import Check
from harness.protocol import validate
from harness.reference import SURFACES
from harness.reference import chunked as ch
from harness.reference import event_stream as es

ROOT = Path(__file__).resolve().parents[1]
LOADED = load_cases([ROOT / "cases" / "streaming"])
CASES = {c.id: c for c in LOADED.cases}


def check(case_id: str) -> Check:
    return Check(CASES[case_id], "stream")


def answer(c: Check) -> dict:
    """What a correct signer answers: the reference's seed head and chain."""
    if c.surface == "aws-chunked":
        r = ch.sign_upload(c.case.subject)
        stream = {"chunk_signatures": r.values("chunk_signature") + r.values("final_chunk"),
                  "trailer_signature": (r.values("trailer_signature") or [None])[0]}
    else:
        r = es.sign_stream(c.case.subject)
        stream = {"events": [{"message_b64": base64.b64encode(m).decode()} for m in r.messages]}
    return {"type": "result", "id": "1", "status": "signed", "signed": r.signed.to_json(), "stream": stream,
            "canonical_request": r.values("seed_canonical_request")[0], "string_to_sign": r.values("seed_string_to_sign")[0]}


def verdict(c: Check, ans: dict):
    return judge(c, expected_for(c), ans)


def test_cases_load_and_both_surfaces_are_declared():
    assert not LOADED.errors
    assert SURFACES["aws-chunked"].modes == ("stream",) and SURFACES["aws-chunked"].stages == ch.STAGES
    assert SURFACES["event-stream"].modes == ("stream",) and SURFACES["event-stream"].stages == es.STAGES
    kinds = {c.surface for c in LOADED.cases}
    assert kinds == {"aws-chunked", "event-stream"}
    many = CASES["streaming/chunked-many-chunks"].subject
    assert [len(c) for c in many.chunks] == [8192] * 12 + [99200 - 8192 * 12]  # {split: 8192, of: ...}


def test_check_json_carries_the_stream_block():
    data = check("streaming/chunked-trailer-crc32").to_json()
    assert data["surface"] == "aws-chunked" and data["mode"] == "stream"
    c = data["chunked"]
    decoded = b"".join(base64.b64decode(x) for x in c["chunks_b64"])
    assert c["payload"] == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" and c["decoded_length"] == len(decoded)
    # trailers: auto is the checksum of the decoded payload
    assert c["trailers"] == [["x-amz-checksum-crc32", base64.b64encode(zlib.crc32(decoded).to_bytes(4, "big")).decode()]]
    heads = {n.lower(): v for n, v in data["request"]["headers"]}
    assert heads["content-encoding"] == "aws-chunked" and heads["x-amz-trailer"] == "x-amz-checksum-crc32"
    assert heads["content-length"] == str(c["encoded_length"])
    unsigned = check("streaming/chunked-unsigned-payload-trailer").to_json()["chunked"]
    assert unsigned["unsigned"] and unsigned["payload"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    ev = check("streaming/events-every-header-type").to_json()["event_stream"]
    assert ev["payload"] == "STREAMING-AWS4-HMAC-SHA256-EVENTS"
    assert [e["payload_b64"] for e in ev["events"]][-1] == "" and ev["events"][-1]["message"] is None  # the end of the stream
    types = {h["type"]: h["value"] for h in ev["events"][0]["message"]["headers"]}
    assert types["uuid"] == "0f8fad5b-d9cb-469f-a165-70867728950e" and types["bytes"] == "AP8Q" and types["timestamp"] == 1700000000123
    validate("result_answer", answer(check("streaming/events-aws-c-auth")))


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_the_reference_answer_passes(case_id):
    result = verdict(check(case_id), answer(check(case_id)))
    assert result.status == "pass", result.reason
    assert result.verification["valid"]


def test_published_values_are_compared_chunk_by_chunk():
    c = check("streaming/chunked-s3-docs-example")
    assert expected_for(c).source == "case"
    stages = verdict(c, answer(c)).stages
    assert list(stages)[:6] == ["seed_canonical_request", "seed_string_to_sign", "seed_signature",
                                "chunk_string_to_sign.0", "chunk_signature.0", "chunk_string_to_sign.1"]
    assert stages["chunk_signature.1"]["expected"].startswith("0055627c") and stages["chunk_signature.1"]["equal"]
    assert stages["final_chunk"]["actual"].startswith("b6c6ea8a")


def test_a_chunk_chained_on_the_seed_fails_at_that_chunk():
    c = check("streaming/chunked-many-chunks")
    ans = answer(c)
    upload = c.case.subject
    ctx = upload.context
    scope = f"{ctx.date_stamp}/{ctx.region}/{ctx.service}/aws4_request"
    seed = ans["signed"]["headers"][-1][1].rsplit("Signature=", 1)[1]
    # chunk 3 is a valid signature of its data, chained on the seed instead of chunk 2
    ans["stream"]["chunk_signatures"][3] = ch.chunk_signature(ctx, ch.chunk_string_to_sign("sigv4", ctx.amz_date, scope, seed, upload.chunks[3]))
    result = verdict(c, ans)
    assert result.status == "fail" and result.stage == "chunk_signature.3"
    assert "chunk 3 signature does not match" in result.verification["reason"]
    assert result.stages["chunk_signature.2"]["equal"] and not result.stages["chunk_signature.3"]["equal"]


def test_a_wire_body_with_other_data_or_trailer_is_another_stream():
    c = check("streaming/chunked-trailer-sha256")
    upload = c.case.subject
    other = ch.sign_upload(ch.ChunkedUpload(upload.request, upload.context, (upload.chunks[0], b"TAIL"), upload.trailers, add_stream_headers=False))
    ans = answer(c)
    ans["stream"] = {"body_b64": base64.b64encode(other.body).decode()}
    result = verdict(c, ans)
    assert result.status == "fail"  # the trailer checksum is not the one of the chunks sent
    assert "is not the checksum of the decoded payload" in result.verification["reason"]
    cut = answer(c)
    cut["stream"]["chunk_signatures"] = cut["stream"]["chunk_signatures"][:1]
    assert "truncated" in verdict(c, cut).reason


def test_sigv4a_signatures_are_verified_not_compared():
    c = check("streaming/chunked-sigv4a-trailer")
    result = verdict(c, answer(c))
    assert result.status == "pass"
    assert result.stages["chunk_signature.0"]["compared"] is False and "ECDSA" in result.stages["chunk_signature.0"]["note"]
    ans = answer(c)
    ans["stream"]["trailer_signature"] = ans["stream"]["chunk_signatures"][0]
    broken = verdict(c, ans)
    assert broken.status == "fail" and broken.stage == "trailer_signature"  # named by the verifier: ECDSA is not compared


def test_an_event_with_a_wrong_date_fails_at_that_event():
    c = check("streaming/events-transcribe-audio")
    subject = c.case.subject
    r = es.sign_stream(subject)
    events = []
    for i, (event, sig) in enumerate(zip(subject.events, [s.text for s in r.steps if s.stage in ("event_signature", "final_event")])):
        events.append({"date_ms": event.date_header_value + (1000 if i == 1 else 0), "signature": sig})
    ans = answer(c)
    ans["stream"] = {"events": events}
    result = verdict(c, ans)
    assert result.status == "fail" and result.stage == "date_header.1"
    assert result.stages["date_header.0"]["equal"] and "message 1" in result.verification["reason"]
    assert result.verification["wire"].startswith("written by the harness")


def test_a_stream_without_its_end_or_with_other_payloads_fails():
    c = check("streaming/events-same-second")
    ans = answer(c)
    ans["stream"]["events"] = ans["stream"]["events"][:-1]
    assert "truncated" in verdict(c, ans).reason
    malformed = copy.deepcopy(answer(c))
    malformed["stream"]["events"][0] = {"signature": "zz", "date_ms": 1}
    assert verdict(c, malformed).status == "error"


GOOD = """\
- id: streaming/x
  title: t
  surface: aws-chunked
  request: {method: PUT, url: https://b.s3.amazonaws.com/k}
  context: {service: s3}
  chunked:
    chunks: [{repeat: a, times: 3}]
    trailers: [[x-amz-checksum-crc32, auto]]
- id: streaming/y
  title: t
  surface: event-stream
  request: {method: POST, url: https://h.example.com/}
  events:
    - message:
        headers:
          - {name: n, type: short, value: 7}
"""


@pytest.mark.parametrize(
    "old, new, line, message",
    [
        ("    trailers:", "    colour: red\n    trailers:", 8, "unknown key 'colour' in chunked"),
        ("x-amz-checksum-crc32, auto", "x-amz-meta-a, auto", 8, "`auto` is for x-amz-checksum-crc32"),
        ("{repeat: a, times: 3}", "{text: ''}", 7, "a data chunk cannot be empty"),
        ("{repeat: a, times: 3}", "{base64: '@@'}", 7, "chunked.chunks[0]"),
        ("value: 7", "value: 70000", 16, "does not fit a short"),
        ("type: short", "type: float", 16, "events.0.message.headers.0.type"),
        ("  surface: event-stream\n", "  surface: event-stream\n  chunked: {chunks: []}\n", 12, "takes a events: block, not chunked:"),
        ("  context: {service: s3}\n  chunked:\n", "  context: {service: s3, algorithm: sigv4a}\n  chunked:\n    unsigned: true\n", 7, "signed with SigV4 here"),
        ("    trailers: [[x-amz-checksum-crc32, auto]]\n", "    unsigned: true\n", 7, "give chunked.trailers"),
        ("  events:\n", "  context: {algorithm: sigv4a}\n  events:\n", 13, "event streams are signed with SigV4"),
        ("  chunked:\n", "  expect: {chunk_signature: [abc], seed_hash: x}\n  chunked:\n", 6, "seed_hash"),
    ],
)
def test_loader_errors_name_file_and_line(tmp_path, old, new, line, message):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CaseError) as info:
        load_file(path)
    assert info.value.line == line and message in info.value.message, str(info.value)
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_expectations_per_chunk_must_be_lists(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("  chunked:\n", "  expect: {chunk_signature: abc}\n  chunked:\n", 1), encoding="utf-8")
    with pytest.raises(CaseError) as info:
        load_file(path)
    assert info.value.line == 6 and "one value per chunk or event" in info.value.message


def test_runner_gives_each_signer_the_verdict_and_stage_it_deserves(tmp_path):
    _, data = run_results(tmp_path, "--cases", str(ROOT / "cases" / "streaming"), "--case", "streaming/chunked-s3-docs-example",
                          "--case", "streaming/events-aws-c-auth", "--adapter-dir", str(ROOT / "adapters"), "--adapter-dir", str(FIXTURES / "adapters"),
                          "--adapters", "py-reference,stream-chain-on-seed,stream-date-off-by-one")
    rows = {(r["adapter"], r["case"]): r for r in data["results"]}
    assert {r["status"] for (a, _), r in rows.items() if a == "py-reference"} == {"pass"}
    chain = rows[("stream-chain-on-seed", "streaming/chunked-s3-docs-example")]
    assert chain["status"] == "fail" and chain["stage"] == "chunk_signature.1"
    assert rows[("stream-chain-on-seed", "streaming/events-aws-c-auth")]["stage"] == "event_string_to_sign.1"
    late = rows[("stream-date-off-by-one", "streaming/events-aws-c-auth")]
    assert late["status"] == "fail" and late["stage"] == "date_header.0"
    assert rows[("stream-date-off-by-one", "streaming/chunked-s3-docs-example")]["status"] == "pass"
