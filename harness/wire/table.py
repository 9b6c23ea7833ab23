"""The wire stage in the report: per ADAPTER+CLIENT column, its signer verdicts next to its wire
verdicts, and the checks that pass when signed and fail when sent (docs/wire.md, "In the report")."""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from harness import verdicts


def wire_rows(data: dict[str, Any]) -> Iterable[dict[str, Any]]:
    return (r for r in data.get("results") or [] if r.get("wire"))


def signed_not_sent(row: dict[str, Any]) -> bool:
    """The check passes when signed (the signer's verdict is good) and fails when sent."""
    wire = row.get("wire") or {}
    return verdicts.klass(wire.get("signer")) == verdicts.GOOD and verdicts.klass(row.get("status")) == verdicts.BAD


def table(data: dict[str, Any], columns: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One entry per ADAPTER+CLIENT: counts of signer verdicts and wire verdicts, and how many checks pass
    when signed and fail when sent (`columns`: the `tally` of its rows, when known already)."""
    columns = tally(data.get("results") or []) if columns is None else columns
    return [{**e, "signer": dict(e["signer"]), "wire": dict(e["wire"])} for _, e in sorted(columns.items())]


def tally(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`table`'s counts per column (the tallies of consecutive sets of rows add up: `joined`)."""
    columns: dict[str, dict[str, Any]] = {}
    good, bad = verdicts.GOOD, verdicts.BAD
    for row in rows:
        wire = row.get("wire")
        if not wire:
            continue
        entry = columns.get(row["adapter"])
        if entry is None:
            entry = columns[row["adapter"]] = {"name": row["adapter"], "client": wire.get("client"),
                                               "signer": Counter(), "wire": Counter(), "signed_not_sent": 0}
        signer = wire.get("signer")
        entry["signer"][signer or verdicts.MISSING.name] += 1
        entry["wire"][row["status"]] += 1
        if verdicts.klass(signer) == good and verdicts.klass(row["status"]) == bad:  # signed_not_sent
            entry["signed_not_sent"] += 1
    return columns


def joined(tallies: Iterable[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The tallies of consecutive sets of rows as one (a column's client is the one its first row names)."""
    columns: dict[str, dict[str, Any]] = {}
    for counts in tallies:
        for key, entry in counts.items():
            mine = columns.get(key)
            if mine is None:
                columns[key] = {**entry, "signer": Counter(entry["signer"]), "wire": Counter(entry["wire"])}
            else:
                mine["signer"].update(entry["signer"])
                mine["wire"].update(entry["wire"])
                mine["signed_not_sent"] += entry["signed_not_sent"]
    return columns


def first_difference(wire: dict[str, Any]) -> str:
    """What the client changed first (the first of `differences`), or why it did not send."""
    first = (wire.get("differences") or [{}])[0]
    return first.get("text") or wire.get("difference") or wire.get("error") or ""  # `difference`: rows of earlier runs


def findings(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows that pass when signed and fail when sent: case, mode, adapter, the difference and the reason,
    ordered by case, mode and adapter."""
    return [{"case": r["case"], "mode": r["mode"], "adapter": r["adapter"], "signer": r["wire"].get("signer"),
             "status": r["status"], "difference": first_difference(r["wire"]),
             "reason": r.get("reason") or ""}
            for r in sorted(wire_rows(data), key=lambda r: (r["case"], r["mode"], r["adapter"])) if signed_not_sent(r)]
