"""The README's disagreement table is produced from a run, not typed by hand."""

from __future__ import annotations

from harness import divergences
from harness.disagreements import END, START, table, update_readme


def _data():
    cases = {
        "query/plus": {"divergence": "D1", "origin": "cases"},
        "query/plus-2": {"divergence": "D1", "origin": "cases"},
        "path/x": {"divergence": "D12", "origin": "cases"},
        "other/y": {"divergence": "D9999", "origin": "cases"},  # an id of another corpus: shown bare
        "aws-c-auth/v4/get-vanilla": {"origin": "aws-c-auth"},
    }
    rows = [
        {"case": "query/plus", "mode": "header", "adapter": "a", "status": "pass"},
        {"case": "query/plus-2", "mode": "query", "adapter": "a", "status": "fail"},
        {"case": "query/plus", "mode": "header", "adapter": "b", "status": "variant"},
        {"case": "path/x", "mode": "header", "adapter": "a", "status": "unsupported"},
        {"case": "path/x", "mode": "header", "adapter": "b", "status": "pass"},
        {"case": "aws-c-auth/v4/get-vanilla", "mode": "header", "adapter": "a", "status": "pass"},
        {"case": "other/y", "mode": "query", "adapter": "b", "status": "error"},
    ]
    adapters = {"a": {"language": "go", "library_version": "1"}, "b": {"language": "go", "library_version": "2"}}
    return {"manifest": {"date": "2026-01-01T00:00:00Z", "harness_version": "0"}, "cases": cases, "results": rows, "adapters": adapters}


def test_rows_show_the_worst_verdict_per_adapter_suite_first():
    lines = [l for l in table(_data()).splitlines() if l.startswith("| ")]
    d1, d12 = divergences.get("D1"), divergences.get("D12")
    assert lines[2] == "| aws-c-auth/v4 | 1 | ✓ |   |"
    assert lines[3] == f"| D1 {d1.title} | 2 | ✗ | ≈ |"
    assert lines[4] == f"| D12 {d12.title} | 1 | – | ✓ |"
    assert lines[5] == "| D9999 | 1 |   | ! |"
    assert "divergence catalogue (docs/divergences.md)" in table(_data())


def test_update_rewrites_only_between_the_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{START}\nold table\n{END}\nafter\n")
    assert update_readme(readme, _data())
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old table" not in text and f"| {divergences.get('D1').label} | 2 |" in text
    assert not update_readme(readme, _data())
