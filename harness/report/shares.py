"""The report's outputs computed from shares of the checks, then joined (docs/performance.md, "Seventh round").

Every output that takes something from each row -- the merged results.json's lines, junit.xml's test cases,
the page model's cells, the oracle and wire tables, the summary's failing checks and the known-issues items
-- is computed by `share` from the rows of some of the cases, and `join` puts the shares together. One
share of every case is the report of one process. With a second core the cases are cut in two at a
`pivot` case: this process takes the cases before it and a forked one the others, each reading only its
cases' rows when the inputs are files (`harness.cli.report`), or taking its rows from those in memory.

A cut by case keeps each check whole in one share, and rows ordered by case (as runs and merges write
them) are the first share's rows and then the second's: the outputs are the same as from one share
(tests/test_report_shares.py compares them).
"""

from __future__ import annotations

import json
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from harness import oracle_table, verdicts
from harness.report import junit, known_issues, model
from harness.results_lines import ROWS_START
from harness.wire import table as wire_table

# fewer rows than this are not worth a second process (forking and joining cost more than the half saved)
SPLIT_ROWS = 20000
# the part of the rows this process takes (docs/performance.md, "Seventh round" and "Ninth round": a little more
# than half, as the other process also sends its share; both then end their shares within a few hundredths)
MINE = 0.53
_CASE_START = b'{"case":"'


@dataclass
class Share:
    """What the outputs take from the rows of some of the cases."""

    rows: int
    columns: tuple[str, ...]  # the frame's columns: the shares of one report must see the same
    cells: model.Cells
    suites: dict[str, junit.Suite]  # junit.xml: column key -> its suite's part
    oracles: dict[str, dict[str, int]]  # oracle_table.tally
    wire: dict[str, dict[str, Any]]  # wire_table.tally
    wire_findings: list[dict[str, Any]]
    failing_rows: list[dict[str, Any]]  # the summary's: the first `FAILING_SHOWN` bad rows (case, mode, adapter, ...)
    failing_count: int
    failing: dict[str, list[dict[str, Any]]]  # known_issues.failing
    lines: list[bytes] = field(default_factory=list)  # a merge's results.json rows, in pieces (merge.merged_lines)


UNJOINABLE = "unjoinable"  # what a second process sends instead of its share when it cannot be joined (and why)


class Mismatch(ValueError):
    """The shares cannot be joined: their rows name columns or cases the other share's frame does not have."""


FAILING_SHOWN = 15  # failing checks summary.md lists


def share(clean: dict[str, Any], where: model.Frame, rows: list[dict[str, Any]], own: Callable[[str], bool] | None = None,
          lines: Callable[[list[dict[str, Any]]], list[bytes]] | None = None) -> Share:
    """The Share of `rows` (the rows of the cases `own` holds; all of them without `own`); `lines` gives a merge's
    results.json lines for them."""
    return Share(**dict(fields(clean, where, rows, own, lines)))


def fields(clean: dict[str, Any], where: model.Frame, rows: list[dict[str, Any]], own: Callable[[str], bool] | None = None,
           lines: Callable[[list[dict[str, Any]]], list[bytes]] | None = None) -> Iterator[tuple[str, Any]]:
    """`share`'s fields one at a time, as (name, value): a second process sends each as soon as it has it."""
    try:
        yield "cells", model.cells(where, rows, own)
    except model.OutsideFrame as exc:
        raise Mismatch(f"a row names an {exc} outside the frame") from None
    yield "rows", len(rows)
    yield "columns", tuple(where.order)
    yield "suites", junit.suites(clean, rows)
    yield "lines", lines(rows) if lines is not None else []
    yield "oracles", oracle_table.tally(rows)
    wire, wire_findings = wire_table.counted(rows)
    yield "wire", wire
    yield "wire_findings", wire_findings
    shown, count = failing_rows(rows)
    yield "failing_rows", shown
    yield "failing_count", count
    yield "failing", known_issues.failing(clean, {key: model.column(key, where.adapters[key]) for key in where.order}, rows)


def failing_rows(rows: list[dict[str, Any]], shown: int = FAILING_SHOWN) -> tuple[list[dict[str, Any]], int]:
    """The summary's failing checks among `rows`: the first `shown` (what it prints of each), and how many."""
    bad = [r for r in rows if r.get("status") not in verdicts.NOT_BAD]
    return [{k: r.get(k) for k in ("case", "mode", "adapter", "status", "reason")} for r in bad[:shown]], len(bad)


def sent(send: Callable[[Any], None], send_bytes: Callable[[list[bytes]], None], *args: Any) -> None:
    """In the second process: `fields(*args)` sent one by one, then None; the results.json lines as bytes."""
    for name, value in fields(*args):
        if name == "lines":
            send((name, None))
            send_bytes([piece for at, chunk in enumerate(value) for piece in ((b",\n", chunk) if at else (chunk,))])
        else:
            send((name, value))
    send(None)


def received(receive: Callable[[], Any], first: model.Cells | None = None) -> Share:
    """In this process: the Share whose fields `sent` sends; its cells renumbered into `first`'s tables as soon
    as they arrive (model.absorbed), while the other process still computes the rest. Mismatch when the other
    process sent `UNJOINABLE` instead (its share would not be whole)."""
    found = {}
    while (field_ := receive()) is not None:
        name, value = field_
        if name == UNJOINABLE:
            raise Mismatch(value)
        if name == "lines":
            text = receive()
            value = [text] if text else []
        elif name == "cells" and first is not None:
            value = model.absorbed(first, value)
        found[name] = value
    return Share(**found)


@dataclass
class Joined:
    """The shares put together: what `report.write_all` writes from."""

    rows: int
    cells: list[model.Cells]
    suites: list[dict[str, junit.Suite]]
    tables: dict[str, Any]  # the page's and the summary's: oracles, wire, wire_findings
    failing_rows: list[dict[str, Any]]
    failing_count: int
    failing: list[dict[str, list[dict[str, Any]]]]


def join(clean: dict[str, Any], shares: list[Share]) -> Joined:
    """The shares, in the order of their cases, as one."""
    if any(s.columns != shares[0].columns for s in shares):
        raise Mismatch("the shares see different columns")
    failing_rows: list[dict[str, Any]] = []
    for s in shares:
        failing_rows += s.failing_rows
    oracle_counts = oracle_table.rated(s.oracles for s in shares)
    wire = wire_table.joined(s.wire for s in shares)
    tables = {"oracles": oracle_table.table(clean, oracle_counts), "wire": wire_table.table(clean, wire),
              "wire_findings": [f for s in shares for f in s.wire_findings]}
    return Joined(rows=sum(s.rows for s in shares), cells=[s.cells for s in shares], suites=[s.suites for s in shares],
                  tables=tables, failing_rows=failing_rows[:FAILING_SHOWN],
                  failing_count=sum(s.failing_count for s in shares), failing=[s.failing for s in shares])


def rows_pivot(rows: list[dict[str, Any]]) -> tuple[str, int] | None:
    """(the pivot case, where its rows start) for rows in memory: the case of the row at MINE of them, when the rows are
    in case order (as runs and merges write them) and many enough; else None (one share)."""
    if len(rows) < SPLIT_ROWS:
        return None
    cases = [r["case"] for r in rows]
    if any(a > b for a, b in zip(cases, cases[1:])):
        return None
    pivot = cases[int(len(cases) * MINE)]
    at = bisect_left(cases, pivot)
    return (pivot, at) if at > 0 else None


def file_pivot(path: Path, total_bytes: int) -> str | None:
    """The pivot case for inputs not read yet: the case of the row at MINE of the first input's rows (as
    `harness.results.dumps` lays a file out), when the inputs are large enough to be worth two processes."""
    if total_bytes < SPLIT_ROWS * 1000:  # (a results.json takes about a kilobyte per row)
        return None
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    start = raw.find(ROWS_START)
    if start < 0:
        return None
    middle = raw.find(b"\n" + _CASE_START, start + int((len(raw) - start) * MINE))
    if middle < 0:
        return None
    at = middle + 1 + len(_CASE_START) - 1
    end = raw.find(b'","mode":"', at)
    if end < 0 or b"\\u" in raw[at:end]:
        return None  # (a case with an escape: not worth the care a lone surrogate needs)
    try:
        case = json.loads(raw[at:end + 1])
    except ValueError:
        return None
    return case if isinstance(case, str) and case else None
