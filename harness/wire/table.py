"""The wire stage in the report: per ADAPTER+CLIENT column, its signer verdicts next to its wire
verdicts, and the checks that pass when signed and fail when sent (docs/wire.md, "In the report")."""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from harness import verdicts


# the verdict names of each class (`verdicts.klass`: a name no verdict has is bad)
_GOOD = frozenset(name for name, v in verdicts.VERDICTS.items() if v.klass == verdicts.GOOD)
_NOT_BAD = frozenset(name for name, v in verdicts.VERDICTS.items() if v.klass != verdicts.BAD)


def signed_not_sent(signer: Any, status: Any) -> bool:
    """A check passes when signed (the signer's verdict is good) and fails when sent (the wire verdict is bad)."""
    return signer in _GOOD and status not in _NOT_BAD


def table(data: dict[str, Any], columns: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One entry per ADAPTER+CLIENT: counts of signer verdicts and wire verdicts, and how many checks pass
    when signed and fail when sent (`columns`: the `tally` of its rows, when known already)."""
    columns = tally(data.get("results") or []) if columns is None else columns
    return [{**e, "signer": dict(e["signer"]), "wire": dict(e["wire"])} for _, e in sorted(columns.items())]


def tally(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`table`'s counts per column (the tallies of consecutive sets of rows add up: `joined`)."""
    return counted(rows)[0]


def counted(rows: Iterable[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """`tally` and `findings` of the rows, in one pass over them. The rows are counted by (column, signer's
    verdict, wire verdict) first, then each count is put where it goes, in the order first seen (a merge's
    ~100,000 rows hold a few thousand such triples)."""
    clients: dict[str, Any] = {}  # column -> the client its first row names
    triples: Counter = Counter()
    found = []
    for row in rows:
        wire = row.get("wire")
        if not wire:
            continue
        adapter = row["adapter"]
        if adapter not in clients:
            clients[adapter] = wire.get("client")
        signer, status = wire.get("signer"), row["status"]
        triples[(adapter, signer, status)] += 1
        if signed_not_sent(signer, status):
            found.append(row)
    columns: dict[str, dict[str, Any]] = {}
    for (adapter, signer, status), n in triples.items():
        entry = columns.get(adapter)
        if entry is None:
            entry = columns[adapter] = {"name": adapter, "client": clients[adapter], "signer": Counter(), "wire": Counter(),
                                        "signed_not_sent": 0}
        entry["signer"][signer or verdicts.MISSING.name] += n
        entry["wire"][status] += n
        if signed_not_sent(signer, status):
            entry["signed_not_sent"] += n
    return columns, _findings(found)


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
    return counted(data.get("results") or [])[1]


def _findings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"case": r["case"], "mode": r["mode"], "adapter": r["adapter"], "signer": r["wire"].get("signer"),
             "status": r["status"], "difference": first_difference(r["wire"]), "reason": r.get("reason") or ""}
            for r in sorted(rows, key=lambda r: (r["case"], r["mode"], r["adapter"]))]
