"""The report's oracle table (docs/oracles.md): per oracle of a results document, its library and how often
it agrees with our verifier. Read from results alone, so the report does not load the oracles' runtime."""

from __future__ import annotations

from typing import Any, Iterable

from harness.protocol import ACCEPT, NOT_APPLICABLE

COUNTS = ("judged", "agree", "not_applicable", "known", "unknown")  # what is counted per oracle (besides the rate)


def table(data: dict[str, Any], counts: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The report's oracle table: per oracle of results.json, its library and its agreement with our verifier
    (`counts`: the `agreement` of its rows, when known already)."""
    counts = agreement(data.get("results") or []) if counts is None else counts
    out = []
    for name, record in sorted((data.get("oracles") or {}).items()):
        row = {"name": name, "library": record.get("library", "?"), "version": record.get("library_version", ""),
               "available": record.get("available", True), "why": record.get("reason", "")}
        row.update(counts.get(name) or {**dict.fromkeys(COUNTS, 0), "rate": None})
        out.append(row)
    return out


def agreement(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per oracle: checks judged (accept or reject), agreements with our verifier, rate, known and unknown disagreements."""
    return rated([tally(rows)])


def tally(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """`agreement`'s counts without the rate (counts of several sets of rows add up: `rated` joins them)."""
    table: dict[str, dict[str, int]] = {}
    # rows read from results files share their values (harness/results_lines.py): each distinct set counted once
    alike: dict[tuple[int, Any, int], list[Any]] = {}
    for row in rows:
        opinions = row.get("opinions")
        if not opinions:
            continue
        valid = (row.get("verification") or {}).get("valid")
        flags = row.get("oracles_disagree")
        key = (id(opinions), valid, id(flags))
        seen = alike.get(key)
        if seen is None:
            alike[key] = [opinions, valid, flags, 1]
        else:
            seen[3] += 1
    for opinions, valid, flag_list, n in alike.values():
        flags = {f["oracle"]: f for f in flag_list or ()}
        for name, opinion in opinions.items():
            entry = table.setdefault(name, dict.fromkeys(COUNTS, 0))
            if opinion.get("verdict") == NOT_APPLICABLE or valid is None:
                entry["not_applicable"] += n
                continue
            entry["judged"] += n
            if (opinion["verdict"] == ACCEPT) == bool(valid):
                entry["agree"] += n
            elif flags.get(name, {}).get("known"):
                entry["known"] += n
            else:
                entry["unknown"] += n
    return table


def rated(tallies: Iterable[dict[str, dict[str, int]]]) -> dict[str, dict[str, Any]]:
    """`tally`s of several sets of rows added up, each oracle with its rate of agreement."""
    table: dict[str, dict[str, Any]] = {}
    for counts in tallies:
        for name, entry in counts.items():
            mine = table.setdefault(name, dict.fromkeys(COUNTS, 0))
            for key, n in entry.items():
                mine[key] += n
    for entry in table.values():
        entry["rate"] = round(entry["agree"] / entry["judged"], 4) if entry["judged"] else None
    return dict(sorted(table.items()))
