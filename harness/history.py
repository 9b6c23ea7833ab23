"""Comparing runs and keeping a history of them.

- `compare(old, new)`: every check (case x mode x adapter) whose verdict moved between two results files,
  classified as a regression, a fix, a change or new/gone (the rules are in docs/verdicts.md).
  Used by `sigharness diff OLD NEW` and `sigharness run --baseline OLD`.
- `append(path, data)`: one JSON line per run in a history file (`sigharness run --history FILE`,
  `sigharness report --history FILE`), holding per adapter the verdict counts and only the checks
  whose verdict changed since the previous lines. `read` + `replay` give the pass count over the last
  runs and, for each check, since when it has had its verdict.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, TextIO

# Best first. The order sorts and colours; what counts as a regression is decided by CLASS below.
VERDICTS = ("pass", "variant", "unsupported", "fail", "error")
# good: a server accepts the request (pass: as expected; variant: a different valid choice)
# unsupported: the library cannot express the case and says so (counted apart, never as a failure)
# bad: the request would be rejected, or the adapter crashed / answered nonsense
CLASS = {"pass": "good", "variant": "good", "unsupported": "unsupported", "fail": "bad", "error": "bad"}
CLASS_RANK = {"good": 2, "unsupported": 1, "bad": 0}

REGRESSION, FIX, CHANGE, NEW, GONE = "regression", "fix", "change", "new", "gone"
KIND_ORDER = (REGRESSION, FIX, CHANGE, NEW, GONE)

HISTORY_FORMAT = "sigharness-history"
HISTORY_VERSION = 1


def classify(old: str | None, new: str | None) -> str | None:
    """What moving from verdict `old` to `new` is (None: nothing changed). A missing side is None."""
    if old == new:
        return None
    if old is None:
        return NEW
    if new is None:
        return GONE
    old_rank = CLASS_RANK.get(CLASS.get(old, "bad"), 0)
    new_rank = CLASS_RANK.get(CLASS.get(new, "bad"), 0)
    if new_rank < old_rank:
        return REGRESSION
    if new_rank > old_rank:
        return FIX
    return CHANGE


def severity(old: str | None, new: str | None) -> int:
    """How far a verdict fell (larger is worse); sorts regressions: pass->error before variant->unsupported."""
    rank = {v: len(VERDICTS) - i for i, v in enumerate(VERDICTS)}
    return rank.get(old or "", 0) - rank.get(new or "", 0)


@dataclass(frozen=True)
class Change:
    case: str
    mode: str
    adapter: str
    old: str | None
    new: str | None
    kind: str
    old_reason: str = ""
    new_reason: str = ""
    stage: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case, "mode": self.mode, "adapter": self.adapter, "kind": self.kind, "old": self.old,
                "new": self.new, "old_reason": self.old_reason, "new_reason": self.new_reason, "stage": self.stage}


@dataclass
class Comparison:
    changes: list[Change] = field(default_factory=list)
    versions: list[tuple[str, str, str, str]] = field(default_factory=list)  # adapter, library, old version, new version
    adapters_only_old: list[str] = field(default_factory=list)
    adapters_only_new: list[str] = field(default_factory=list)
    unchanged: int = 0

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def regressions(self) -> list[Change]:
        return self.of(REGRESSION)

    def counts(self) -> dict[str, int]:
        return {kind: len(self.of(kind)) for kind in KIND_ORDER}


def _rows(data: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["case"], r["mode"], r["adapter"]): r for r in data.get("results", [])}


def compare(old: dict[str, Any], new: dict[str, Any]) -> Comparison:
    """Per case x mode x adapter: what moved from `old` to `new` (both in the results.json format)."""
    old_rows, new_rows = _rows(old), _rows(new)
    comparison = Comparison()
    for key in sorted(set(old_rows) | set(new_rows)):
        before, after = old_rows.get(key), new_rows.get(key)
        old_status = before["status"] if before else None
        new_status = after["status"] if after else None
        kind = classify(old_status, new_status)
        if kind is None:
            comparison.unchanged += 1
            continue
        comparison.changes.append(Change(
            *key, old=old_status, new=new_status, kind=kind,
            old_reason=(before or {}).get("reason") or "", new_reason=(after or {}).get("reason") or "",
            stage=(after or {}).get("stage"),
        ))
    comparison.changes.sort(key=lambda c: (KIND_ORDER.index(c.kind), -severity(c.old, c.new), c.case, c.mode, c.adapter))
    old_adapters, new_adapters = old.get("adapters", {}), new.get("adapters", {})
    for name in sorted(set(old_adapters) & set(new_adapters)):
        a, b = old_adapters[name], new_adapters[name]
        va, vb = a.get("library_version"), b.get("library_version")
        if va and vb and va != vb:
            comparison.versions.append((name, b.get("library") or a.get("library") or "", va, vb))
    comparison.adapters_only_old = sorted(set(old_adapters) - set(new_adapters))
    comparison.adapters_only_new = sorted(set(new_adapters) - set(old_adapters))
    return comparison


def _describe(data: dict[str, Any], path: Path | str) -> str:
    manifest = data.get("manifest", {})
    return f"{path} ({manifest.get('date', 'no date')}, {len(data.get('results', []))} checks)"


def format_text(comparison: Comparison, old_label: str, new_label: str, limit: int = 200) -> str:
    """The human report: regressions first, then fixes, changes, new and gone checks; a summary line last."""
    lines = [f"old: {old_label}", f"new: {new_label}"]
    if comparison.versions:
        lines.append("library versions:")
        for name, library, va, vb in comparison.versions:
            lines.append(f"  {name}: {library} {va} -> {vb}")
    if comparison.adapters_only_old:
        lines.append("adapters only in old: " + ", ".join(comparison.adapters_only_old))
    if comparison.adapters_only_new:
        lines.append("adapters only in new: " + ", ".join(comparison.adapters_only_new))
    titles = {
        REGRESSION: "REGRESSIONS (pass/variant -> fail/error/unsupported, unsupported -> fail/error)",
        FIX: "FIXES",
        CHANGE: "CHANGES within the same class (pass <-> variant, fail <-> error)",
        NEW: "NEW checks (not in old)",
        GONE: "GONE checks (in old, not in new)",
    }
    for kind in KIND_ORDER:
        items = comparison.of(kind)
        if not items:
            continue
        lines.append("")
        lines.append(f"{titles[kind]}: {len(items)}")
        shown = items if kind in (REGRESSION, FIX, CHANGE) else items[:limit]
        for c in shown:
            move = f"{c.old or '-'} -> {c.new or '-'}"
            why = c.new_reason if c.new else c.old_reason
            stage = f" [{c.stage}]" if c.stage and c.kind == REGRESSION else ""
            lines.append(f"  {c.case}  {c.mode}  {c.adapter}: {move}{stage}" + (f"  ({_one_line(why)})" if why else ""))
        if len(shown) < len(items):
            lines.append(f"  ... and {len(items) - len(shown)} more")
    counts = comparison.counts()
    lines.append("")
    lines.append(
        f"{counts[REGRESSION]} regression(s), {counts[FIX]} fix(es), {counts[CHANGE]} change(s), "
        f"{counts[NEW]} new, {counts[GONE]} gone, {comparison.unchanged} unchanged"
    )
    return "\n".join(lines)


def format_markdown(comparison: Comparison, old_label: str, new_label: str, limit: int = 50) -> str:
    from harness.report.text import md_cell

    counts = comparison.counts()
    out = [f"**sigharness diff**: {counts[REGRESSION]} regression(s), {counts[FIX]} fix(es), {counts[CHANGE]} change(s), "
           f"{counts[NEW]} new, {counts[GONE]} gone", "", f"old: {md_cell(old_label)}  ", f"new: {md_cell(new_label)}"]
    for name, library, va, vb in comparison.versions:
        out.append(f"- {md_cell(name)}: {md_cell(library)} {md_cell(va)} → {md_cell(vb)}")
    for kind in (REGRESSION, FIX, CHANGE):
        items = comparison.of(kind)
        if not items:
            continue
        out += ["", f"| {kind} | mode | adapter | verdict | reason |", "| --- | --- | --- | --- | --- |"]
        for c in items[:limit]:
            out.append(f"| {md_cell(c.case)} | {c.mode} | {md_cell(c.adapter)} | {c.old} → {c.new} | {md_cell(_one_line(c.new_reason))} |")
        if len(items) > limit:
            out.append(f"| … {len(items) - limit} more | | | | |")
    return "\n".join(out) + "\n"


def _one_line(text: str, width: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def load(path: Path | str) -> dict[str, Any]:
    from harness.results import load_results

    return load_results(Path(path))


def print_diff(old_path: Path | str, new_path: Path | str, stream: TextIO | None = None) -> int:
    """Print the comparison of two results files; return the number of regressions."""
    stream = stream or sys.stdout
    old, new = load(old_path), load(new_path)
    comparison = compare(old, new)
    print(format_text(comparison, _describe(old, old_path), _describe(new, new_path)), file=stream)
    return len(comparison.regressions)


# ---------------------------------------------------------------------------------------------- history

def _check_key(case: str, mode: str) -> str:
    return f"{case}|{mode}"


def split_check_key(key: str) -> tuple[str, str]:
    case, _, mode = key.rpartition("|")
    return case, mode


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
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and entry.get("format") == HISTORY_FORMAT:
                entries.append(entry)
    return entries


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
            changed.setdefault(adapter, {}).setdefault(row["status"], []).append(_check_key(row["case"], row["mode"]))
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
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
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
                          "kind": classify(old, status)})
    found.sort(key=lambda c: c["date"], reverse=True)
    return found[:limit]
