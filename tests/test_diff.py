"""`sigharness diff OLD NEW` and `sigharness run --baseline OLD`: what counts as a regression, and the exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import sigharness
from test_report_support import make_results, with_status, write

from harness import diff as history


@pytest.mark.parametrize("old,new,kind", [
    ("pass", "fail", "regression"),
    ("pass", "error", "regression"),
    ("variant", "fail", "regression"),
    ("pass", "unsupported", "regression"),  # the library no longer does what it did
    ("unsupported", "fail", "regression"),  # an honest refusal became a wrong signature
    ("unsupported", "error", "regression"),
    ("pass", "variant", "change"),  # shown, but the request is still accepted
    ("variant", "pass", "change"),
    ("fail", "error", "change"),
    ("error", "fail", "change"),
    ("fail", "pass", "fix"),
    ("error", "variant", "fix"),
    ("fail", "unsupported", "fix"),
    ("unsupported", "pass", "fix"),
    (None, "fail", "new"),
    ("pass", None, "gone"),
    ("pass", "pass", None),
])
def test_classify(old, new, kind):
    assert history.classify(old, new) == kind


def test_regressions_sorted_by_severity():
    old = make_results()
    new = with_status(old, "query/sorting", "header", "py-good", "variant")  # change
    new = with_status(new, "path/dots", "query", "py-good", "fail")  # regression
    new = with_status(new, "query/sorting", "query", "py-good", "error")  # regression, worst
    new = with_status(new, "headers/script", "header", "js-mixed", "pass")  # fix
    comparison = history.compare(old, new)
    assert [(c.case, c.mode, c.adapter, c.kind) for c in comparison.changes] == [
        ("query/sorting", "query", "py-good", "regression"),
        ("path/dots", "query", "py-good", "regression"),
        ("headers/script", "header", "js-mixed", "fix"),
        ("query/sorting", "header", "py-good", "change"),
    ]
    assert comparison.unchanged == len(old["results"]) - 4


def test_cli_diff_names_the_seeded_regression(tmp_path):
    old = make_results()
    new = with_status(old, "query/sorting", "header", "js-mixed", "fail")
    new = with_status(new, "headers/script", "header", "js-mixed", "pass")
    new["results"] = [r for r in new["results"] if r["case"] != "path/dots"]
    old_path, new_path = write(tmp_path / "old.json", old), write(tmp_path / "new" / "results.json", new)

    proc = sigharness("diff", str(old_path), str(new_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "REGRESSIONS" in out and "FIXES" in out and "GONE" in out
    assert out.index("REGRESSIONS") < out.index("FIXES") < out.index("GONE")
    regression_line = next(line for line in out.splitlines() if "query/sorting" in line)
    assert "header" in regression_line and "js-mixed" in regression_line and "pass -> fail" in regression_line
    assert "1 regression(s), 1 fix(es)" in out

    # a folder stands for its results.json; json output for machines
    as_json = sigharness("diff", str(old_path), str(tmp_path / "new"), "--format", "json")
    assert as_json.returncode == 1
    payload = json.loads(as_json.stdout)
    assert payload["counts"]["regression"] == 1 and payload["counts"]["gone"] == 4
    assert payload["changes"][0] == {**payload["changes"][0], "case": "query/sorting", "old": "pass", "new": "fail", "kind": "regression"}

    md = sigharness("diff", str(old_path), str(new_path), "--format", "md")
    assert md.returncode == 1 and "| query/sorting | header | js-mixed | pass → fail (signed wrongly) |" in md.stdout


def test_cli_diff_without_regression_exits_0(tmp_path):
    old = make_results()
    fixed = with_status(old, "headers/script", "header", "js-mixed", "pass")
    varied = with_status(fixed, "query/sorting", "header", "py-good", "variant")
    a, b = write(tmp_path / "a.json", old), write(tmp_path / "b.json", varied)
    proc = sigharness("diff", str(a), str(b))
    assert proc.returncode == 0, proc.stdout
    assert "0 regression(s), 1 fix(es), 1 change(s)" in proc.stdout
    same = sigharness("diff", str(a), str(a))
    assert same.returncode == 0 and f"{len(old['results'])} unchanged" in same.stdout


def test_cli_diff_reports_version_changes_and_bad_input(tmp_path):
    a = write(tmp_path / "a.json", make_results(versions={"js-mixed": "1.31.0"}))
    b = write(tmp_path / "b.json", make_results(versions={"js-mixed": "1.35.0"}))
    proc = sigharness("diff", str(a), str(b))
    assert proc.returncode == 0 and "js-mixed: mixedlib 1.31.0 -> 1.35.0" in proc.stdout
    (tmp_path / "junk.json").write_text('{"format": "something else"}')
    bad = sigharness("diff", str(a), str(tmp_path / "junk.json"))
    assert bad.returncode == 2 and "not a sigharness results file" in bad.stderr
    assert sigharness("diff", str(a), str(tmp_path / "missing.json")).returncode == 2


def test_run_baseline_exits_1_on_a_regression(tmp_path, suite):
    """A real run (an adapter whose signatures are always wrong) judged against a baseline where one check passed."""
    fixtures = str(Path(__file__).resolve().parent / "fixtures" / "adapters")
    args = ["--cases", str(suite), "--case", "aws-c-auth/v4/get-vanilla", "--adapter-dir", fixtures,
            "--adapters", "mutant-bad-signature", "--quiet", "--no-report"]
    run1 = tmp_path / "run1"
    first = sigharness("run", *args, "--out", str(run1))
    data = json.loads((run1 / "results.json").read_text())
    statuses = {(r["mode"], r["status"]) for r in data["results"]}
    assert statuses == {("header", "fail"), ("query", "fail")}, first.stderr[-2000:]
    baseline = write(tmp_path / "baseline.json", with_status(data, "aws-c-auth/v4/get-vanilla", "query", "mutant-bad-signature", "pass"))

    second = sigharness("run", *args, "--out", str(tmp_path / "run2"), "--baseline", str(baseline))
    assert second.returncode == 1, second.stdout + second.stderr[-2000:]
    assert "aws-c-auth/v4/get-vanilla  query  mutant-bad-signature: pass -> fail" in second.stdout
    assert "1 regression(s)" in second.stdout

    same = sigharness("run", *args, "--out", str(tmp_path / "run3"), "--baseline", str(run1 / "results.json"))
    assert same.returncode == 0, same.stdout + same.stderr[-2000:]
    assert "0 regression(s)" in same.stdout
