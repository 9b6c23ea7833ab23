"""The divergence catalogue (harness/divergences.yaml): it covers exactly the ids the corpus uses, every
entry says something, docs/divergences.md is generated from it, and a case naming an unknown id is one
FILE:LINE error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from harness import divergences
from harness.cases import load_cases

from conftest import ROOT

CASES = ROOT / "cases"


def _used_ids() -> dict[str, list[str]]:
    loaded = load_cases([CASES])
    assert loaded.errors == []
    used: dict[str, list[str]] = {}
    for case in loaded.cases:
        if case.flags.get("divergence"):
            used.setdefault(case.flags["divergence"], []).append(case.id)
    return used


def test_catalogue_covers_exactly_the_ids_the_cases_use():
    entries = divergences.catalogue().entries
    used = _used_ids()
    assert sorted(set(used) - set(entries)) == [], "cases name divergences the catalogue lacks"
    assert sorted(set(entries) - set(used)) == [], "catalogue entries no case expresses"


def test_every_entry_is_complete_and_ids_are_unique():
    raw = yaml.safe_load((ROOT / "harness" / "divergences.yaml").read_text(encoding="utf-8"))
    ids = [e["id"] for e in raw["divergences"]]
    assert len(ids) == len(set(ids))
    for d in divergences.catalogue().entries.values():
        assert d.title.strip() and d.meaning.strip() and d.seen.strip(), d.id
        assert len(d.title) <= 60, f"{d.id}: the title is shown in table rows; keep it a few words"
        assert d.topic in divergences.TOPICS
        for ref in d.refs:
            assert re.match(r"^https?://\S+$", ref) or re.match(r"^[\w.-]+/[\w.-]+#\d+$", ref), (d.id, ref)


def test_docs_page_is_the_generated_text():
    committed = (ROOT / "docs" / "divergences.md").read_text(encoding="utf-8")
    assert committed == divergences.markdown(), "run: python -m harness.divergences > docs/divergences.md"
    for d in divergences.catalogue().entries.values():
        assert f"## {d.id}\n" in committed and d.title in committed


def test_nothing_points_at_the_survey_outside_the_repository():
    for path in [ROOT / "README.md", ROOT / "harness" / "cases" / "case.schema.json", *sorted((ROOT / "docs").glob("*.md"))]:
        assert "research/divergences.md" not in path.read_text(encoding="utf-8"), path


GOOD = """
seen_in: a run
divergences:
  - {id: D1, title: t, meaning: m, topic: query, refs: [a/b#1, "https://x.test/y"], seen: s}
"""


@pytest.mark.parametrize("change, message", [
    (lambda t: t + "  - {id: D1, title: t, meaning: m, topic: query, refs: [], seen: s}\n", "id given twice"),
    (lambda t: t.replace("title: t", "title: ''"), "`title` must be non-empty"),
    (lambda t: t.replace("meaning: m", "meaning: '  '"), "`meaning` must be non-empty"),
    (lambda t: t.replace("a/b#1", "see the tracker"), "every ref must be"),
    (lambda t: t.replace("topic: query", "topic: misc"), "topic 'misc'"),
    (lambda t: t.replace("id: D1", "id: X1"), "`id` must look like"),
    (lambda t: t.replace("seen: s}", "seen: s, colour: red}"), "unknown key 'colour'"),
])
def test_parse_refuses_a_malformed_catalogue(change, message):
    assert divergences.parse(GOOD).get("D1").label == "D1 t"
    with pytest.raises(ValueError, match=re.escape(message)):
        divergences.parse(change(GOOD))


def test_entries_come_in_number_order():
    cat = divergences.parse(GOOD.replace("  - {id: D1", "  - {id: D10, title: ten, meaning: m, topic: path, refs: [], seen: s}\n  - {id: D1"))
    assert list(cat.entries) == ["D1", "D10"]


def test_a_case_naming_an_unknown_divergence_is_a_file_line_error(tmp_path: Path):
    case = tmp_path / "c.yaml"
    case.write_text(
        "- id: x/one\n"
        "  title: One\n"
        "  flags:\n"
        "    note: n\n"
        "    divergence: D999\n"
        "  request: {method: GET, url: 'https://example.amazonaws.com/'}\n"
        "- id: x/two\n"
        "  title: Two\n"
        "  flags: {divergence: D1}\n"
        "  request: {method: GET, url: 'https://example.amazonaws.com/'}\n",
        encoding="utf-8",
    )
    loaded = load_cases([case])
    assert [str(e) for e in loaded.errors] == [f"{case}:5: flags.divergence 'D999' is not in harness/divergences.yaml (docs/divergences.md)"]
