"""The history of runs: one JSON line per run in a history file (`sigharness run --history FILE`,
`sigharness report --history FILE`), holding per adapter the verdict counts and only the checks
whose verdict changed since the previous lines. `read` + `replay` give the pass count over the last
runs and, for each check, since when it has had its verdict. (Comparing two runs: harness/diff.py.)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from harness.redaction import json_safe
from harness.results import check_key, split_check_key
from harness.verdicts import ORDER as VERDICTS
from harness.verdicts import movement

HISTORY_FORMAT = "sigharness-history"
HISTORY_VERSION = 1


def fingerprint(data: dict[str, Any]) -> str:
    """Identifies one run (so rendering the same results twice appends one history line): its date, and each
    check's verdict and measured times (two runs in the same second still differ in their timings)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(data.get("manifest", {}).get("date")).encode())
    rows = sorted((r["case"], r["mode"], r["adapter"], r["status"], str(r.get("duration_ms")), str(r.get("elapsed_ns")))
                  for r in data.get("results", []))
    for row in rows:
        digest.update("\t".join(row).encode() + b"\n")
    return digest.hexdigest()[:20]


def read(path: Path | str) -> list[dict[str, Any]]:
    """History entries, oldest first; lines that are not history entries (cut short, edited) are skipped."""
    path = Path(path)
    if not path.exists():
        return []
    entries = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(entry, dict) and entry.get("format") == HISTORY_FORMAT and _well_formed(entry):
                entries.append(entry)
    return entries


def _well_formed(entry: dict[str, Any]) -> bool:
    """What replay, trend and the report read from a line has the types they expect (an edited or foreign
    line is skipped like a cut one)."""
    changed, adapters = entry.get("changed") or {}, entry.get("adapters") or {}
    if not isinstance(entry.get("date", ""), str) or not isinstance(changed, dict) or not isinstance(adapters, dict):
        return False
    for by_status in changed.values():
        if not isinstance(by_status, dict):
            return False
        for status, keys in by_status.items():
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                return False
    for info in adapters.values():
        if not isinstance(info, dict) or not isinstance(info.get("counts") or {}, dict):
            return False
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (info.get("counts") or {}).values()):
            return False
    return True


@dataclass
class CheckState:
    status: str
    since: str  # date of the run where the check first had this verdict
    previous: str | None = None  # the verdict before that, None when first seen with this one
    first_seen: str = ""


def recorded_verdicts(entries: Iterable[dict[str, Any]]) -> Iterator[tuple[str, tuple[str, str, str], str]]:
    """(date, (case, mode, adapter), verdict) for every verdict the history lines record, in order."""
    for entry in entries:
        date = entry.get("date", "")
        for adapter, by_status in (entry.get("changed") or {}).items():
            for status, keys in by_status.items():
                for key in keys:
                    case, mode = split_check_key(key)
                    yield date, (case, mode, adapter), status


def replay(entries: Iterable[dict[str, Any]]) -> dict[tuple[str, str, str], CheckState]:
    """The verdict of every check after the given entries, and since when it has been so."""
    state: dict[tuple[str, str, str], CheckState] = {}
    for date, k, status in recorded_verdicts(entries):
        old = state.get(k)
        if old is None:
            state[k] = CheckState(status, date, None, date)
        elif old.status != status:
            state[k] = CheckState(status, date, old.status, old.first_seen)
    return state


def summarize(data: dict[str, Any], state: dict[tuple[str, str, str], CheckState], results_path: Path | str | None = None) -> dict[str, Any]:
    """The history line for a run: counts per adapter and the checks whose verdict differs from `state`."""
    adapters: dict[str, dict[str, Any]] = {}
    for key, info in sorted(data.get("adapters", {}).items()):
        adapters[key] = {
            "name": info.get("name", key), "language": info.get("language"), "library": info.get("library"),
            "library_version": info.get("library_version"), "available": info.get("available", True),
            "counts": {v: 0 for v in VERDICTS},
        }
    changed: dict[str, dict[str, list[str]]] = {}
    for row in data.get("results", []):
        adapter = row["adapter"]
        entry = adapters.setdefault(adapter, {"name": adapter, "counts": {v: 0 for v in VERDICTS}})
        entry["counts"][row["status"]] = entry["counts"].get(row["status"], 0) + 1
        old = state.get((row["case"], row["mode"], adapter))
        if old is None or old.status != row["status"]:
            changed.setdefault(adapter, {}).setdefault(row["status"], []).append(check_key(row["case"], row["mode"]))
    manifest = data.get("manifest", {})
    return {
        "format": HISTORY_FORMAT,
        "version": HISTORY_VERSION,
        "date": manifest.get("date") or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "harness_version": manifest.get("harness_version"),
        "results": str(results_path) if results_path else None,
        "fingerprint": fingerprint(data),
        "case_sources": [{"path": s.get("path"), "revision": s.get("revision")} for s in manifest.get("case_sources", [])],
        "checks": len(data.get("results", [])),
        "adapters": adapters,
        "changed": changed,
    }


def append(path: Path | str, data: dict[str, Any], results_path: Path | str | None = None) -> bool:
    """Append the run's line to the history file; False (nothing written) when that run is already in it."""
    path = Path(path)
    entries = read(path)
    mark = fingerprint(data)
    if any(e.get("fingerprint") == mark for e in entries):
        return False
    entry = summarize(data, replay(entries), results_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cut = False  # a last line cut short keeps its own line: the new one is never glued to it
    with open(path, "a+b") as probe:
        size = probe.seek(0, 2)
        if size:
            probe.seek(size - 1)
            cut = probe.read(1) != b"\n"
    with open(path, "a", encoding="utf-8") as handle:
        if cut:
            handle.write("\n")
        handle.write(json.dumps(json_safe(entry), ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n")
    return True


def trend(entries: list[dict[str, Any]], last: int = 30) -> dict[str, list[dict[str, Any]]]:
    """Per adapter, the last `last` runs it was in: date, library version and verdict counts."""
    series: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        for adapter, info in (entry.get("adapters") or {}).items():
            counts = info.get("counts") or {}
            if not sum(counts.values()):
                continue
            series.setdefault(adapter, []).append({
                "date": entry.get("date", ""), "version": info.get("library_version"), **{v: counts.get(v, 0) for v in VERDICTS},
            })
    return {k: v[-last:] for k, v in series.items()}


def recent_changes(entries: list[dict[str, Any]], limit: int = 200) -> list[dict[str, Any]]:
    """The latest verdict changes (not first sightings), newest first: date, case, mode, adapter, old, new."""
    state: dict[tuple[str, str, str], str] = {}
    found: list[dict[str, Any]] = []
    for date, (case, mode, adapter), status in recorded_verdicts(entries):
        old = state.get((case, mode, adapter))
        state[(case, mode, adapter)] = status
        if old is not None and old != status:
            found.append({"date": date, "case": case, "mode": mode, "adapter": adapter, "old": old, "new": status,
                          "kind": movement(old, status)})
    found.sort(key=lambda c: c["date"], reverse=True)
    return found[:limit]
