"""`sigharness fuzz`: grammar, signatures, the search loop (with in-process fake signers), and the
command over real adapter processes (a mutant that forgets to sort the query; the reference signer
under two names, which must agree)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, seed, settings

from harness.cases import load_cases
from harness.fuzz.engine import Finding, FuzzOptions, Fuzzer
from harness.fuzz.signature import Known, Outcome, Signature, classify
from harness.fuzz.strategies import Grammar, case_data, to_case
from harness.fuzz.writer import case_mapping, write_finding
from harness.model import Check
from harness.reference.canonical import query_parameters
from conftest import ROOT, sigharness

PASS = Outcome("pass")


def _keys(check: Check) -> list[str]:
    return [k for k, _ in query_parameters(check.case.request.query)]


def unsorted_query(check: Check) -> dict[str, Outcome]:
    """A fake adapter pair: 'sorted' is right, 'lazy' fails whenever the raw keys are out of order."""
    keys = _keys(check)
    lazy = Outcome("fail", "canonical_request", "unsorted") if keys != sorted(keys) else PASS
    return {"sorted": PASS, "lazy": lazy}


def two_triggers(check: Check) -> dict[str, Outcome]:
    """'plus' fails on a '+' in the query; 'tabs' on a tab in a header value; 'ok' never."""
    request = check.case.request
    plus = Outcome("fail", "canonical_request") if "+" in request.query else PASS
    tabs = Outcome("variant", "signed_request") if any("\t" in v for _, v in request.headers) else PASS
    return {"ok": PASS, "plus": plus, "tabs": tabs}


# -- grammar -----------------------------------------------------------------------------------
@settings(max_examples=60, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@seed(20240601)
@given(case_data())
def test_every_drawn_request_loads_as_a_case_and_keeps_its_raw_parts(data):
    case = to_case(data)
    req = data["request"]
    assert case.request.path == req["path"] and case.request.query == req.get("query", "")
    assert case.request.headers[0] == ("Host", req["host"])  # added by the loader, as for any case
    assert list(map(list, case.request.headers[1:])) == req.get("headers", [])
    assert case.modes == tuple(data["context"]["modes"]) and len(case.modes) == 1
    if "+" in req.get("query", ""):
        assert case.open_choices == ("query-plus-as-space",)


def test_grammar_can_be_narrowed():
    seen = []

    @settings(max_examples=40, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @seed(5)
    @given(case_data(Grammar(modes=("query",), algorithms=("sigv4a",), services=("s3",), tokens=False)))
    def draw(data):
        seen.append(to_case(data))

    draw()
    assert seen and all(c.modes == ("query",) and c.context.algorithm == "sigv4a" and c.context.service == "s3"
                        and c.context.session_token is None for c in seen)
    assert all(not c.context.double_encode and not c.context.normalize_path for c in seen)  # the loader's S3 defaults


# -- signatures --------------------------------------------------------------------------------
def test_signature_key_ignores_sitting_out_and_takes_the_first_stage():
    a = classify({"x": PASS, "y": Outcome("fail", "string_to_sign"), "z": Outcome("variant", "canonical_request")})
    b = classify({"x": Outcome("n/a"), "y": Outcome("fail", "string_to_sign"), "z": Outcome("variant", "canonical_request")})
    assert a.key == b.key and a.stage == "canonical_request"
    assert a.adapters == ["y", "z"] and b.classes != a.classes
    assert classify({"x": PASS, "y": Outcome("n/a")}).agrees
    c = classify({"x": PASS, "y": Outcome("fail", "sign"), "z": Outcome("variant", "canonical_request")})
    assert c.key != a.key and c.stage == "sign"  # same classes, another first differing stage
    d = classify({"x": PASS, "y": Outcome("unsupported"), "z": Outcome("variant", "canonical_request")})
    assert d.deviations == {("z", "variant", "canonical_request")} and d.adapters == ["z"]  # cannot express it: not a deviation
    assert Signature.from_found_by(a.to_found_by()) == a


def test_known_tells_agreement_known_compound_and_new():
    plus = classify({"a": Outcome("fail", "canonical_request"), "b": PASS})
    tabs = classify({"a": PASS, "b": Outcome("variant", "signed_request")})
    both = classify({"a": Outcome("fail", "canonical_request"), "b": Outcome("variant", "signed_request")})
    known = Known([plus])
    assert known.verdict(classify({"a": PASS, "b": PASS})) == "agree"
    assert known.verdict(plus) == "known"
    assert known.verdict(both) == "new"  # b's part is not known yet
    known.add(tabs)
    assert known.verdict(both) == "compound"
    assert known.verdict(both, keep_compound=True) == "new"
    assert known.explained(plus, without=plus.key) is False


def test_a_combination_shows_the_more_severe_class_and_is_still_compound():
    quirk = classify({"a": Outcome("variant", "canonical_request"), "b": Outcome("variant", "signature")})
    refusal = classify({"a": PASS, "b": Outcome("fail", "sign")})
    both = classify({"a": Outcome("variant", "canonical_request"), "b": Outcome("fail", "sign")})
    assert Known([quirk, refusal]).verdict(both) == "compound"
    worse = classify({"a": Outcome("fail", "canonical_request"), "b": Outcome("fail", "sign")})
    assert Known([quirk, refusal]).verdict(worse) == "new"  # nothing known makes a fail
    milder = classify({"a": Outcome("variant", "canonical_request"), "b": PASS})
    assert Known([refusal, both]).verdict(milder) == "new"  # a part is never explained by a whole


# -- the search loop (fake signers, no processes) ------------------------------------------------
def test_finds_an_unsorted_query_and_shrinks_it_to_two_parameters():
    stats = Fuzzer(unsorted_query, FuzzOptions(seed=3, max_examples=300, seconds=60, grammar=Grammar(modes=("header",)))).run()
    assert len(stats.findings) == 1
    finding = stats.findings[0]
    keys = [k for k, _ in query_parameters(finding.data["request"]["query"])]
    assert len(keys) == 2 and keys != sorted(keys)
    assert finding.data["request"]["path"] == "/" and "headers" not in finding.data["request"]
    assert finding.signature.adapters == ["lazy"] and finding.signature.stage == "canonical_request"


def test_same_seed_same_run_and_agreeing_signers_find_nothing():
    def run(seed_value: int) -> list[dict]:
        opts = FuzzOptions(seed=seed_value, max_examples=150, seconds=60)
        return [f.data for f in Fuzzer(unsorted_query, opts).run().findings]

    assert run(11) == run(11)
    stats = Fuzzer(lambda check: {"one": PASS, "two": PASS}, FuzzOptions(seed=1, max_examples=200, seconds=60)).run()
    assert stats.findings == [] and stats.generated == 200 and stats.verdicts["agree"] == 200


def test_two_triggers_are_stored_apart_not_as_their_combination():
    stats = Fuzzer(two_triggers, FuzzOptions(seed=2, max_examples=600, seconds=60, grammar=Grammar(modes=("header",)))).run()
    found = sorted(tuple(f.signature.adapters) for f in stats.findings)
    assert found == [("plus",), ("tabs",)]
    for finding in stats.findings:
        req = finding.data["request"]
        if finding.signature.adapters == ["plus"]:
            assert "headers" not in req and len(query_parameters(req["query"])) == 1
        else:
            assert "query" not in req and len(req["headers"]) == 1
    assert stats.verdicts["compound"] + stats.verdicts["known"] > 0


def test_a_sigv4a_request_showing_a_known_sigv4_divergence_is_a_shadow_not_new():
    def signers(check: Check) -> dict[str, Outcome]:
        """'v4only' has no SigV4A; 'both' has it. Both mishandle '+' in the query, whatever the
        algorithm; 'both' also refuses '~' in the query, in SigV4A only."""
        sigv4a = check.context.algorithm == "sigv4a"
        query = check.case.request.query
        plus = Outcome("fail", "canonical_request") if "+" in query else PASS
        tilde = Outcome("fail", "sign") if sigv4a and "~" in query else None
        return {"v4only": Outcome("n/a") if sigv4a else plus, "both": tilde or plus}

    grammar = Grammar(modes=("header",), algorithms=("sigv4a",), tokens=False)
    plus_in_sigv4 = classify({"v4only": Outcome("fail", "canonical_request"), "both": Outcome("fail", "canonical_request")})
    stats = Fuzzer(signers, FuzzOptions(seed=4, max_examples=400, seconds=60, grammar=grammar), Known([plus_in_sigv4])).run()
    assert stats.verdicts["shadow"] > 0
    assert [f.signature.adapters for f in stats.findings] == [["both"]]
    assert "~" in stats.findings[0].data["request"]["query"] and "+" not in stats.findings[0].data["request"]["query"]


def test_budgets_bound_the_run():
    def slow(check: Check) -> dict[str, Outcome]:
        time.sleep(0.02)
        return {"a": PASS}

    started = time.monotonic()
    stats = Fuzzer(slow, FuzzOptions(seed=0, max_examples=100000, seconds=1.0)).run()
    assert time.monotonic() - started < 5 and stats.stopped == "1 seconds" and 10 < stats.generated < 100
    stats = Fuzzer(lambda c: {"a": PASS}, FuzzOptions(seed=0, max_examples=37, seconds=60)).run()
    assert stats.generated == 37 and stats.stopped == "37 examples"


def test_written_case_loads_back_as_the_fuzzed_request_and_is_blessed(tmp_path):
    data = {
        "request": {"method": "get", "host": "example.amazonaws.com:8443", "path": "/a%2fb/../ü",
                    "query": "b=%7e&a=x+y&&c", "headers": [["X-Custom", " a \t b\n  c "], ["x-custom", "2"]],
                    "body": {"base64": "AAEC/w=="}},
        "context": {"modes": ["query"], "service": "s3", "expires": 604800},
        "flags": {"open_choices": ["query-plus-as-space"]},
    }
    check = Check(to_case(data), "query")
    signature = classify({"r": PASS, "m": Outcome("fail", "canonical_request", "unsorted")})
    finding = Finding(data, signature, {"r": PASS, "m": Outcome("fail", "canonical_request", "unsorted")}, 9, 4, check)
    path = write_finding(finding, tmp_path)
    loaded = load_cases([tmp_path])
    assert not loaded.errors and len(loaded.cases) == 1
    case = loaded.cases[0]
    assert case.id == f"found/{path.stem}" and case.tags[0] == "found" and "query" in case.tags
    assert Check(case, "query").to_json() | {"case": ""} == check.to_json() | {"case": ""}
    found_by = case.flags["found_by"]
    assert found_by["seed"] == 9 and found_by["adapters"] == ["m"] and found_by["stage"] == "canonical_request"
    assert "unsorted" in case.flags["note"]
    assert case.expect["query"]["canonical_request"].startswith("get\n")  # the method stays as written
    assert sigharness("bless", "--check", str(tmp_path)).returncode == 0
    assert case_mapping(finding)["id"] == case.id  # the id is a hash of the request: stable


# -- the command, over real adapter processes ---------------------------------------------------
ADAPTER_DIRS = ["--adapter-dir", str(ROOT / "adapters"), "--adapter-dir", str(ROOT / "tests" / "fixtures" / "adapters")]


def fuzz(out: Path, *args: str):
    return sigharness("fuzz", *ADAPTER_DIRS, "--out", str(out), "--seed", "1", *args, timeout=300)


def test_command_finds_the_unsorted_query_mutant_and_dedupes_on_a_second_run(tmp_path):
    out = tmp_path / "found"
    proc = fuzz(out, "--adapters", "py-reference,mutant-unsorted-query", "--modes", "header", "--max-examples", "300", "--seconds", "90")
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "fuzz [" in proc.stderr  # progress on stderr
    files = sorted(out.glob("*.yaml"))
    assert len(files) == 1, proc.stdout
    case = yaml.safe_load(files[0].read_text())
    params = query_parameters(case["request"]["url"].split("?", 1)[1])
    assert len(params) == 2 and params != sorted(params), case["request"]
    assert case["flags"]["found_by"]["signature"] == {"mutant-unsorted-query": "fail", "py-reference": "pass"}
    assert case["flags"]["found_by"]["stage"] == "canonical_request" and case["tags"][:2] == ["found", "query"]
    assert sigharness("validate", str(out)).returncode == 0
    assert sigharness("bless", "--check", str(out)).returncode == 0

    again = fuzz(out, "--adapters", "py-reference,mutant-unsorted-query", "--modes", "header", "--max-examples", "200", "--seconds", "90", "--seed", "2")
    assert again.returncode == 0, again.stdout + again.stderr[-2000:]
    assert sorted(out.glob("*.yaml")) == files and "0 new" in again.stdout


def test_command_over_agreeing_adapters_writes_nothing(tmp_path):
    out = tmp_path / "found"
    proc = fuzz(out, "--adapters", "py-reference,py-reference-twin", "--max-examples", "300", "--seconds", "90")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert not out.exists() or not list(out.iterdir())
    assert "300 examples" in proc.stdout and "0 new" in proc.stdout


def test_command_rejects_unknown_adapters_and_bad_choices(tmp_path):
    proc = fuzz(tmp_path, "--adapters", "no-such-adapter", "--max-examples", "5")
    assert proc.returncode == 2 and "unknown adapter 'no-such-adapter'" in proc.stderr
    proc = fuzz(tmp_path, "--adapters", "py-reference", "--modes", "sideways")
    assert proc.returncode == 2 and "--modes: sideways" in proc.stderr and "Traceback" not in proc.stderr
