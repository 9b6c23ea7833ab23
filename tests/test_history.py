"""The run history: one line per run with only the verdicts that changed; trends and 'since when' in the report."""

from __future__ import annotations

import json
import re

from conftest import sigharness
from test_report_support import make_results, with_status

from harness import history, report


def test_append_is_idempotent_and_stores_only_changes(tmp_path):
    path = tmp_path / "history.jsonl"
    day1 = make_results(date="2026-11-01T00:00:00Z")
    assert history.append(path, day1) is True
    assert history.append(path, day1) is False  # the same run is recorded once
    day2 = with_status(make_results(date="2026-11-02T00:00:00Z"), "query/sorting", "header", "js-mixed", "fail")
    assert history.append(path, day2) is True
    day3 = make_results(date="2026-11-03T00:00:00Z")  # back to pass
    assert history.append(path, day3) is True
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 3
    assert sum(len(v) for by in lines[0]["changed"].values() for v in by.values()) == len(day1["results"])
    assert lines[1]["changed"] == {"js-mixed": {"fail": ["query/sorting|header"]}}
    assert lines[2]["changed"] == {"js-mixed": {"pass": ["query/sorting|header"]}}
    assert lines[1]["adapters"]["js-mixed"]["counts"]["fail"] == 3
    assert lines[1]["adapters"]["js-mixed"]["library_version"] == "2.0.0"

    entries = history.read(path)
    state = history.replay(entries)
    moved = state[("query/sorting", "header", "js-mixed")]
    assert (moved.status, moved.since, moved.previous, moved.first_seen) == ("pass", "2026-11-03T00:00:00Z", "fail", "2026-11-01T00:00:00Z")
    steady = state[("path/dots", "query", "py-good")]
    assert (steady.status, steady.since, steady.previous) == ("pass", "2026-11-01T00:00:00Z", None)
    trend = history.trend(entries)
    assert [p["pass"] for p in trend["js-mixed"]] == [4, 3, 4]
    assert [p["date"][:10] for p in trend["py-good"]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    recent = history.recent_changes(entries)
    assert [(c["date"][:10], c["old"], c["new"], c["kind"]) for c in recent] == [
        ("2026-11-03", "fail", "pass", "fix"), ("2026-11-02", "pass", "fail", "regression")]


def test_a_damaged_line_is_skipped(tmp_path):
    path = tmp_path / "history.jsonl"
    history.append(path, make_results(date="2026-11-01T00:00:00Z"))
    with open(path, "a") as handle:
        handle.write('{"format": "sigharness-history", "cut sho\n')
    history.append(path, make_results(date="2026-11-02T00:00:00Z"))
    assert [e["date"][:10] for e in history.read(path)] == ["2026-11-01", "2026-11-02"]


def test_report_shows_trend_and_since(tmp_path):
    path = tmp_path / "history.jsonl"
    history.append(path, make_results(date="2026-11-01T00:00:00Z"))
    latest = with_status(make_results(date="2026-11-02T00:00:00Z"), "query/sorting", "header", "js-mixed", "fail")
    history.append(path, latest)
    out = tmp_path / "out"
    report.write_all(latest, out, history=path)
    page = (out / "index.html").read_text()
    assert 'id="sec-history"' in page
    assert re.search(r'<svg class="spark" role="img"[^>]*aria-label="pass count over the last 2 runs: 2026-11-01 4 \(2.0.0\), 2026-11-02 3 \(2.0.0\)"', page)
    changes = page[page.index("Latest verdict changes"):]
    assert "query/sorting" in changes[:2000] and "regression" in changes[:2000]
    blob = json.loads(re.search(r'id="sh-data">(.*?)</script>', page, re.S).group(1))
    detail = json.loads(re.search(r'id="sh-detail">(.*?)</script>', page, re.S).group(1))
    r = next(i for i, row in enumerate(blob["rows"]) if blob["cases"][row[0]]["id"] == "query/sorting" and row[1] == "header")
    col = [a["k"] for a in blob["adapters"]].index("js-mixed")
    assert detail["cells"][r][col][3] == ["2026-11-02T00:00:00Z", "pass", "2026-11-01T00:00:00Z"]  # its history (model.py)
    assert blob["lastChange"][r] == blob["latestHistory"] == "2026-11-02T00:00:00Z"
    # without a history there is no history section
    plain = report.render_html(latest)
    assert 'id="sec-history"' not in plain and 'class="spark"' not in plain


def test_run_and_report_append_history(tmp_path, suite):
    hist = tmp_path / "reports" / "history.jsonl"
    for n in (1, 2):
        proc = sigharness("run", "--cases", str(suite), "--case", "aws-c-auth/v4/get-vanilla", "--adapters", "py-reference",
                          "--out", str(tmp_path / f"run{n}"), "--quiet", "--history", str(hist))
        assert proc.returncode == 0, proc.stderr[-2000:]
    entries = history.read(hist)
    assert len(entries) == 2
    assert entries[0]["adapters"]["py-reference"]["counts"]["pass"] == 2
    assert entries[1]["changed"] == {}  # nothing moved between the two runs
    assert 'class="spark"' in (tmp_path / "run2" / "index.html").read_text()
    # rendering run 2 again with the same history appends nothing
    again = sigharness("report", str(tmp_path / "run2" / "results.json"), "--out", str(tmp_path / "again"), "--history", str(hist))
    assert again.returncode == 0, again.stderr
    assert len(history.read(hist)) == 2


def test_two_runs_in_the_same_second_are_two_entries(tmp_path):
    path = tmp_path / "history.jsonl"
    first = make_results(date="2026-11-01T00:00:00Z")
    second = make_results(date="2026-11-01T00:00:00Z")
    second["results"][0]["duration_ms"] = 2.25  # same second, same verdicts, its own timings
    assert history.append(path, first) and history.append(path, second)
    assert not history.append(path, second)
    assert len(history.read(path)) == 2
