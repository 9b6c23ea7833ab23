"""`sigharness disagreements RESULTS.json [--update README.md]`: a compact table of where libraries
disagree, one row per entry of the divergence catalogue (harness/divergences.yaml, D1..D33) the
corpus expresses, labelled with its title, one column per adapter, produced from a run's results.json
(never typed by hand)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from harness import divergences, verdicts

START, END = "<!-- disagreements:start -->", "<!-- disagreements:end -->"


def _order(row: str) -> tuple[int, int, str]:
    """Official suite rows first, then D1, D2, ... in number order."""
    if divergences.ID.match(row):
        return (1, divergences.number(row), row)
    return (0, 0, row)


def label(row: str) -> str:
    """A row's label: 'D1 literal + in a query value' for a catalogue entry, the row key otherwise."""
    entry = divergences.get(row)
    return (entry.label if entry else row).replace("|", "\\|")


def table(data: dict[str, Any]) -> str:
    cases = data["cases"]
    # signers only: the wire stage's ADAPTER+CLIENT columns judge HTTP clients, not divergences (docs/wire.md)
    adapters = sorted((a for a in data["adapters"] if not data["adapters"][a].get("client")),
                      key=lambda a: (data["adapters"][a].get("language", ""), a))
    cells: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    titles: dict[str, set[str]] = defaultdict(set)
    for row in data["results"]:
        if row.get("wire"):
            continue
        case = cases.get(row["case"], {})
        divergence = case.get("divergence")
        if case.get("origin", "cases") != "cases":  # an official suite: one row per folder (v4, v4a)
            divergence = "/".join(row["case"].split("/")[:2])
        if divergence:
            cells[divergence][row["adapter"]].add(row["status"])
            titles[divergence].add(row["case"])
    lines = [
        "| divergence | cases | " + " | ".join(f"`{a}`" for a in adapters) + " |",
        "| --- | ---: | " + " | ".join(":-:" for _ in adapters) + " |",
    ]
    for divergence in sorted(cells, key=_order):
        row = []
        for adapter in adapters:
            statuses = cells[divergence].get(adapter)
            worst = verdicts.worst(statuses or ())
            row.append(verdicts.symbol(worst) if worst else " ")
        lines.append(f"| {label(divergence)} | {len(titles[divergence])} | " + " | ".join(row) + " |")
    manifest = data["manifest"]
    versions = ", ".join(
        f"{a} {data['adapters'][a].get('library_version', '?')}" for a in adapters if data["adapters"][a].get("available", True)
    )
    header = (
        f"Where the libraries disagree: the official aws-c-auth suite (one row per folder), then each entry of the "
        f"divergence catalogue (docs/divergences.md) the corpus expresses (the cell is the worst verdict over that row's checks: "
        + ", ".join(f"{verdicts.symbol(v)} {v}" for v in verdicts.COUNT_ORDER) + "). "
        f"Produced by `sigharness disagreements` from the run of "
        f"{manifest.get('date', '?')} (sigharness {manifest.get('harness_version', '?')}; {versions}). "
        f"The cases behind each row are listed in docs/corpus.md; every check is in the report."
    )
    return header + "\n\n" + "\n".join(lines)


def update_readme(path: Path, data: dict[str, Any]) -> bool:
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{path} has no {START} ... {END} section")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n## Where the libraries disagree\n\n{table(data)}\n{END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False
