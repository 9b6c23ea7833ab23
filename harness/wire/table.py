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


def table(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per ADAPTER+CLIENT: counts of signer verdicts and wire verdicts, and how many checks pass
    when signed and fail when sent."""
    columns: dict[str, dict[str, Any]] = {}
    good, bad = verdicts.GOOD, verdicts.BAD
    for row in data.get("results") or []:
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
    return [{**e, "signer": dict(e["signer"]), "wire": dict(e["wire"])} for _, e in sorted(columns.items())]


def first_difference(wire: dict[str, Any]) -> str:
    """What the client changed first (the first of `differences`), or why it did not send."""
    first = (wire.get("differences") or [{}])[0]
    return first.get("text") or wire.get("difference") or wire.get("error") or ""  # `difference`: rows of earlier runs


def findings(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows that pass when signed and fail when sent: case, mode, adapter, the difference and the reason."""
    return [{"case": r["case"], "mode": r["mode"], "adapter": r["adapter"], "signer": r["wire"].get("signer"),
             "status": r["status"], "difference": first_difference(r["wire"]),
             "reason": r.get("reason") or ""}
            for r in sorted(wire_rows(data), key=lambda r: (r["case"], r["mode"], r["adapter"])) if signed_not_sent(r)]
