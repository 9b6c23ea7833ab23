"""The runner end to end through the CLI: verdicts, adapter faults, resume, secrets, isolation."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import MUTANTS, ROOT, run_results, sigharness, verdicts

SMALL = ("v4/get-vanilla", "v4/get-vanilla-query-order-key-case", "v4/post-vanilla", "v4/get-vanilla-with-session-token",
         "v4/post-sts-header-after", "v4a/get-vanilla")


@pytest.fixture
def small_suite(tmp_path, suite) -> Path:
    root = tmp_path / "aws-c-auth"
    for name in SMALL:
        shutil.copytree(suite / name, root / name)
    return root


def test_reference_passes_every_official_case_in_both_modes(tmp_path, suite):
    proc, data = run_results(tmp_path, "--cases", str(suite), "--adapters", "py-reference")
    assert proc.returncode == 0, proc.stderr
    v = verdicts(data, "py-reference")
    expected_keys = {(f"aws-c-auth/{d}/{c.name}", m) for d in ("v4", "v4a") for c in (suite / d).iterdir() for m in ("header", "query")}
    assert set(v) == expected_keys
    assert set(v.values()) == {"pass"}, {k: s for k, s in v.items() if s != "pass"}
    # The two v4a folders without expectation files are judged by the reference and verified.
    rows = [r for r in data["results"] if r["case"] == "aws-c-auth/v4a/get-vanilla-query-order-key"]
    assert rows and all(r["expected_source"] == "reference" and r["verification"]["valid"] for r in rows)
    assert data["manifest"]["case_sources"][0]["revision"] != "unknown"
    assert data["adapters"]["py-reference"]["library_version"]


def test_wrong_signers_get_the_verdict_and_stage_they_deserve(tmp_path, suite):
    proc, data = run_results(
        tmp_path, "--cases", str(suite), "--adapter-dir", str(MUTANTS),
        "--adapters", "mutant-unsorted-query,mutant-extra-signed-header,mutant-bad-signature",
    )
    rows = {(r["adapter"], r["case"], r["mode"]): r for r in data["results"]}
    unsorted = rows[("mutant-unsorted-query", "aws-c-auth/v4/get-vanilla-query-order-key-case", "header")]
    assert unsorted["status"] == "fail" and unsorted["stage"] == "canonical_request"
    assert unsorted["stages"]["canonical_request"]["line"] == 3 and "-Param1=value1&Param2=value2" in unsorted["stages"]["canonical_request"]["diff"]
    assert rows[("mutant-unsorted-query", "aws-c-auth/v4/get-vanilla", "header")]["status"] == "pass"
    extra = rows[("mutant-extra-signed-header", "aws-c-auth/v4/get-vanilla", "header")]
    assert extra["status"] == "variant" and extra["stage"] == "canonical_request" and extra["verification"]["valid"]
    bad = rows[("mutant-bad-signature", "aws-c-auth/v4/get-vanilla", "query")]
    assert bad["status"] == "fail" and not bad["verification"]["valid"]
    assert {r["status"] for r in data["results"] if r["adapter"] == "mutant-bad-signature" and "v4/" in r["case"]} == {"fail"}


def test_unknown_adapter_gets_one_clear_line_and_the_rest_runs(tmp_path, small_suite):
    proc, data = run_results(tmp_path, "--cases", str(small_suite), "--adapters", "py-reference,no-such-adapter")
    assert proc.returncode == 2
    assert "unknown adapter 'no-such-adapter'; known adapters:" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert set(verdicts(data, "py-reference").values()) == {"pass"}


FAULTY = {
    "mutant-crash-every-3rd": "adapter exited",
    "mutant-hang-on-query": "no answer within",
    "mutant-garbage": "not JSON",
    "mutant-partial-line": "partial line",
    "mutant-wrong-id": "expected",
    "mutant-huge-line": "longer than",
    "mutant-exit-at-start": "cannot load library",
    "mutant-slow-start": "no answer within",
    "mutant-no-such-binary": "No such file or directory",
}


def test_faulty_adapters_become_errors_and_everything_else_still_runs(tmp_path, small_suite):
    start = time.monotonic()
    proc, data = run_results(
        tmp_path, "--cases", str(small_suite), "--adapter-dir", str(MUTANTS), "--adapter-dir", str(ROOT / "adapters"),
        "--adapters", ",".join(["py-reference", *FAULTY]), "--timeout", "1", "--start-timeout", "2",
        env={"MUTANT_START_DELAY": "30"},
    )
    assert time.monotonic() - start < 120
    assert proc.returncode == 0, proc.stderr
    n_checks = 2 * len(SMALL)
    assert set(verdicts(data, "py-reference").values()) == {"pass"}
    for adapter, reason in FAULTY.items():
        rows = [r for r in data["results"] if r["adapter"] == adapter]
        assert len(rows) == n_checks, adapter
        errors = [r for r in rows if r["status"] == "error"]
        assert errors, adapter
        assert any(reason in r["reason"] for r in errors), (adapter, [r["reason"] for r in errors])
        assert all(r["status"] in ("pass", "error") for r in rows), adapter
    # An adapter that crashes on some checks is restarted and answers the others.
    crash = verdicts(data, "mutant-crash-every-3rd")
    assert list(crash.values()).count("pass") >= n_checks // 2
    assert data["adapters"]["mutant-crash-every-3rd"]["restarts"] >= 2
    hang = verdicts(data, "mutant-hang-on-query")
    assert all(s == "pass" for (c, m), s in hang.items() if m == "header")


def test_killed_run_keeps_results_and_resume_finishes_without_redoing(tmp_path, suite):
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", "--cases", str(suite), "--case", "aws-c-auth/v4/get-*", "--adapter-dir", str(MUTANTS),
         "--adapters", "mutant-hang-on-query", "--timeout", "0.3", "--max-restarts", "1000", "--out", str(out), "--quiet"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    journal = out / "results.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.exists() and sum(1 for _ in journal.open()) >= 40:
            break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = [json.loads(line) for line in journal.open() if line.strip().endswith("}")]
    checks = 56  # the suite's get-* cases in header and query mode; every query check hangs until its 0.3 s timeout
    assert 40 <= len(kept) < checks
    assert not (out / "results.json").exists()
    resumed = sigharness("run", "--resume", str(out), "--quiet", "--no-report", "--timeout", "0.3")
    assert resumed.returncode == 0, resumed.stderr
    data = json.loads((out / "results.json").read_text())
    keys = [(r["case"], r["mode"]) for r in data["results"]]
    assert len(keys) == len(set(keys)) == checks  # the resumed run kept the case filter (run.json)
    assert data["adapters"]["mutant-hang-on-query"]["checks"] + data["adapters"]["mutant-hang-on-query"]["restarts"] <= checks - len(kept) + 1


def test_secret_keys_never_reach_results_or_logs(tmp_path, small_suite):
    proc, data = run_results(tmp_path, "--cases", str(small_suite), "--adapter-dir", str(MUTANTS), "--adapters", "mutant-leaks-secret")
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    assert {r["status"] for r in data["results"]} == {"error"}
    assert any("<secret redacted>" in r["reason"] for r in data["results"])
    out = tmp_path / "run"
    for path in [out / "results.json", out / "results.jsonl", *(out / "logs").iterdir()]:
        text = path.read_text()
        assert secret not in text and secret.replace("/", "\\/") not in text, path
    assert "<secret redacted>" in (out / "logs" / "mutant-leaks-secret.log").read_text()


def test_adapters_run_with_a_scrubbed_environment(tmp_path, small_suite):
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text("[default]\naws_access_key_id = AKIAPLANTED\naws_secret_access_key = planted\n")
    proc, data = run_results(
        tmp_path, "--cases", str(small_suite), "--adapter-dir", str(MUTANTS), "--adapters", "mutant-env-probe",
        env={"HOME": str(home), "AWS_ACCESS_KEY_ID": "AKIAPLANTED", "AWS_SECRET_ACCESS_KEY": "planted", "AWS_PROFILE": "x"},
    )
    probe = json.loads(data["results"][0]["reason"])
    assert probe["aws_vars"] == []
    assert probe["home"] != str(home) and probe["home_entries"] == [] and not probe["home_has_aws"]


def test_adapters_cannot_reach_the_network(tmp_path, small_suite):
    from harness.adapters.process import network_isolation_available

    if not network_isolation_available():
        if os.environ.get("CI"):
            pytest.fail("`unshare --net` does not work on this CI machine; adapters could reach the network")
        pytest.skip("`unshare --net` needs root or user namespaces here")
    proc, data = run_results(tmp_path, "--cases", str(small_suite), "--adapter-dir", str(MUTANTS), "--adapters", "mutant-net-probe")
    outcomes = json.loads(data["results"][0]["reason"])
    assert outcomes == {"127.0.0.1": "OSError: errno 101", "192.0.2.1": "OSError: errno 101"}  # ENETUNREACH: no interface
    assert data["adapters"]["mutant-net-probe"]["network_isolated"] is True
    proc, data = run_results(tmp_path / "off", "--cases", str(small_suite), "--adapter-dir", str(MUTANTS),
                             "--adapters", "mutant-net-probe", "--isolate-network", "off")
    assert json.loads(data["results"][0]["reason"])["127.0.0.1"] == "ConnectionRefusedError: errno 111"


def test_a_signed_request_is_stored_without_a_null_body():
    """results.json keeps the adapter's signed request as answered, but for a null body_b64 (the case's own
    body): left out, it reads the same (16 bytes on most rows; docs/performance.md, 1 KB per check)."""
    from harness.judgement import stored
    from harness.model import SignedRequest

    answer = {"method": "GET", "url": "https://h/", "headers": [["Host", "h"]], "body_b64": None}
    kept = stored(answer)
    assert "body_b64" not in kept and kept["headers"] == answer["headers"]
    assert SignedRequest.from_json(kept) == SignedRequest.from_json(answer)
    with_body = dict(answer, body_b64="aGk=")
    assert stored(with_body) == with_body and SignedRequest.from_json(with_body).body == b"hi"


def test_a_row_leaves_out_the_spec_rules_and_reads_the_same():
    """A request judged under the specification's rules has no `rules` in results.json (docs/results.md), read
    back as "spec" by what shows them (junit.xml, the page); every row keeps its reason, empty or not."""
    from harness.report import junit, model
    from harness.results import ResultRow

    judged = {"status": "fail", "reason": "", "verification": {"valid": False, "reason": "bad signature", "rules": "spec"}}
    row = ResultRow.of("c", "header", "a", judged).to_json()
    assert row["reason"] == "" and row["verification"] == {"valid": False, "reason": "bad signature"}
    under = ResultRow.of("c", "header", "a", {**judged, "verification": {"valid": False, "rules": "unnormalized-path"}}).to_json()
    assert under["verification"] == {"valid": False, "rules": "unnormalized-path"}
    assert "(rules: spec)" in junit._failure_text(row) and "(rules: unnormalized-path)" in junit._failure_text(under)
    core = model._cell_core(row, ({}, None, None), model.Strings(), model.Strings())
    assert core[3][2] == "spec"
