"""Comparing two runs: every check (case x mode x adapter) whose verdict moved, classified by
`harness.verdicts.movement` as a regression, a fix, a change or new/gone (rules in docs/verdicts.md).
Used by `sigharness diff OLD NEW` and `sigharness run --baseline OLD`."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from harness.report.text import md_cell
from harness.results import load_results
from harness.verdicts import CHANGE, FAIL_KIND, FIX, GONE, KIND_ORDER, NEW, REGRESSION, fail_kind, movement, severity

classify = movement  # the name the diff's callers know


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
    fail_kind: str | None = None  # what the new fail is (harness/verdicts.py FAIL_KINDS); None for other verdicts

    @property
    def new_shown(self) -> str:
        """The new verdict as the report words it: `fail (accepted an invalid input)`."""
        kind = FAIL_KIND.get(self.fail_kind or "")
        return f"{self.new or '-'}" + (f" ({kind.label})" if kind else "")

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case, "mode": self.mode, "adapter": self.adapter, "kind": self.kind, "old": self.old,
                "new": self.new, "old_reason": self.old_reason, "new_reason": self.new_reason, "stage": self.stage,
                "fail_kind": self.fail_kind}


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
            fail_kind=fail_kind(after, (new.get("cases") or {}).get(key[0])) if after else None,
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


def describe(data: dict[str, Any], path: Path | str) -> str:
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
            move = f"{c.old or '-'} -> {c.new_shown}"
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
            out.append(f"| {md_cell(c.case)} | {c.mode} | {md_cell(c.adapter)} | {c.old} → {c.new_shown} | {md_cell(_one_line(c.new_reason))} |")
        if len(items) > limit:
            out.append(f"| … {len(items) - limit} more | | | | |")
    return "\n".join(out) + "\n"


def _one_line(text: str, width: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def load(path: Path | str) -> dict[str, Any]:
    return load_results(Path(path))


def print_diff(old_path: Path | str, new_path: Path | str, stream: TextIO | None = None) -> int:
    """Print the comparison of two results files; return the number of regressions."""
    stream = stream or sys.stdout
    old, new = load(old_path), load(new_path)
    comparison = compare(old, new)
    print(format_text(comparison, describe(old, old_path), describe(new, new_path)), file=stream)
    return len(comparison.regressions)
