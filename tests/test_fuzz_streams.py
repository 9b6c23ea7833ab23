"""The fuzzer's streaming inputs (harness/fuzz/streams.py): every drawn aws-chunked upload and event
stream loads as a case that the reference answers correctly, and a search over them finds and
shrinks a streaming-only fault."""

from __future__ import annotations

from hypothesis import HealthCheck, given, seed, settings

from harness.compare import expected_for, judge
from harness.fuzz.engine import FuzzOptions, Fuzzer
from harness.fuzz.signature import Outcome
from harness.fuzz.strategies import Grammar, case_data, to_case
from harness.model import Check
from harness.reference import event_stream as es
from test_streaming_cases import answer

PASS = Outcome("pass")
STREAMS = Grammar(surfaces=("aws-chunked", "event-stream"))


@settings(max_examples=40, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@seed(20261201)
@given(case_data(STREAMS))
def test_every_drawn_stream_loads_and_the_reference_answer_passes(data):
    case = to_case(data)
    assert case.surface == data["surface"] and case.modes == ("stream",)
    check = Check(case, "stream")
    result = judge(check, expected_for(check), answer(check))
    assert result.status == "pass", result.reason
    if case.surface == "aws-chunked":
        assert all(case.subject.chunks)  # data chunks are never empty (the final chunk is added)
    else:
        assert case.subject.events[-1].payload == b""  # the end of the stream is always added


def uuid_header_bug(check: Check) -> dict[str, Outcome]:
    """'careful' is right; 'sloppy' fails any event stream whose messages carry a uuid header."""
    if check.surface != "event-stream":
        return {"careful": PASS, "sloppy": PASS}
    kinds = {h.type for e in check.case.subject.events if e.payload for h in es.decode_message(e.payload)[0]}
    return {"careful": PASS, "sloppy": Outcome("fail", "event_signature.0", "uuid") if "uuid" in kinds else PASS}


def test_finds_an_event_header_fault_and_shrinks_it_to_one_header():
    stats = Fuzzer(uuid_header_bug, FuzzOptions(seed=5, max_examples=200, seconds=60, grammar=STREAMS)).run()
    assert len(stats.findings) == 1
    data = stats.findings[0].data
    assert data["surface"] == "event-stream" and len(data["events"]) == 1
    assert [h["type"] for h in data["events"][0]["message"]["headers"]] == ["uuid"]


def test_command_finds_a_broken_chain_and_writes_a_streaming_case_that_loads(tmp_path):
    from conftest import FIXTURES, ROOT, sigharness
    from harness.cases import load_cases

    out = tmp_path / "found"
    proc = sigharness("fuzz", "--adapters", "py-reference,stream-chain-on-seed", "--adapter-dir", str(ROOT / "adapters"),
                      "--adapter-dir", str(FIXTURES / "adapters"), "--surfaces", "aws-chunked", "--max-examples", "20",
                      "--seconds", "60", "--shrink-seconds", "15", "--out", str(out), "--quiet", timeout=300)
    assert "fail@chunk_signature: stream-chain-on-seed" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    loaded = load_cases([out])
    assert not loaded.errors and loaded.cases
    found = next(c for c in loaded.cases if c.flags["found_by"]["stage"] == "chunk_signature")
    assert found.surface == "aws-chunked" and len(found.subject.chunks) == 2  # shrunk to the shortest chain that shows it
