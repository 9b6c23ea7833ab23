"""`sigharness report RESULTS.json [RESULTS.json ...] --out DIR`: render (and merge) runs into one report.

What is written where (docs/report.md): one results file, or one run folder, is rendered into its own
folder (or --out). Several inputs, or a folder holding run folders, are merged into --out (default
reports/merged): the run folders found are read, never written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.redaction import Sink
from harness.results import paused_gc
from harness.results_lines import Cut, OutOfOrder, RowReader

if TYPE_CHECKING:
    from harness.report import forked
    from harness.report.merge import Origins
    from harness.report.model import Cells
    from harness.report.shares import Share

DEFAULT_MERGED = Path("reports") / "merged"


def _fail(message: str) -> int:
    print(f"sigharness report: {Sink().line(message)}", file=sys.stderr)
    return 2


def _expectations(values: list[str] | None) -> list[tuple[str, str]]:
    pairs = []
    for item in values or []:
        name, eq, version = item.partition("=")
        if not eq or not name or not version:
            raise ValueError(f"--expect-version takes ADAPTER=VERSION, got {item!r}")
        pairs.append((name, version))
    return pairs


def cmd_report(args: argparse.Namespace) -> int:
    with paused_gc():  # results hold no cycles; collecting while ~100,000 rows are alive costs seconds
        return _report(args)


class _SecondFailed(Exception):
    """The second process reading half of the checks failed (its message says why)."""


class _Unreadable(Exception):
    """An input cannot be read (its message names it and the first problem)."""


def _report(args: argparse.Namespace) -> int:
    from harness import history, report
    from harness.cli.common import UsageError, keep_until_exit, writable_folder
    from harness.report import forked, shares
    from harness.report.forked import ChildFailed
    from harness.report.merge import expand_inputs, merge
    from harness.results import RESULTS

    try:
        paths, merging = expand_inputs(args.results)
    except ValueError as exc:
        return _fail(str(exc))
    if not paths:
        return _fail(f"no results.json found in {' '.join(args.results)}")
    try:
        expected = _expectations(args.expect_version)
    except ValueError as exc:
        return _fail(str(exc))
    out = Path(args.out) if args.out else (paths[0].parent if not merging else DEFAULT_MERGED)
    history_path = Path(args.history) if args.history else None
    # a merge's inputs are read by two processes, each the rows of its cases (harness/report/shares.py), unless a
    # history is kept (its line needs every row here) or they are small
    pivot = None
    if merging and history_path is None and forked.second_core():
        pivot = shares.file_pivot(paths[0], sum(_size(p) for p in paths))
    other = forked.Child(f"the checks from case {pivot!r} on", lambda child: _share_from(child, paths, pivot)) if pivot else None

    def theirs(first: "Cells") -> "Share":
        try:
            return shares.received(other.receive, first)  # type: ignore[union-attr]
        except ChildFailed as exc:
            raise _SecondFailed(str(exc)) from None

    try:
        try:
            inputs, origins = _read(paths, pivot)
        except OutOfOrder:  # an input's rows are not in case order: a process cannot read its cases alone
            if other is not None:
                other.stop()
                other = None
            inputs, origins = _read(paths, None)
        problems = _version_problems(inputs, expected)
        for line in problems:
            _fail(line)
        if problems:
            return 2
        writable_folder(out, "--out")
        sink = Sink()
        # what read_results returned is JSON-safe, and this command knows no secret: nothing to clean again
        data = sink.adopt(inputs[0][1] if not merging else merge(inputs, origins))
        written: list[Path] = []
        # the history's line names the merged results.json, written with the other outputs just below
        if history_path is not None and not args.no_append:
            if history.append(history_path, data, out / RESULTS if merging else paths[0]):
                written.append(history_path)
        try:
            outputs = report.write_all(data, out, history=history_path, title=args.title, sink=sink,
                                       origins=origins if merging else None,
                                       theirs=(pivot, theirs) if other is not None else None)
        except (_SecondFailed, shares.Mismatch) as exc:
            # the second process failed, or the two cannot be joined (rows naming columns or cases no input's
            # head names, or an input out of case order): every row is read here, as without a second process
            if isinstance(exc, _SecondFailed):
                print(f"sigharness report: {Sink().line(str(exc))}; reading every input in one process", file=sys.stderr)
            other.stop()  # type: ignore[union-attr]
            other = None
            inputs, origins = _read(paths, None)
            data = sink.adopt(merge(inputs, origins))
            outputs = report.write_all(data, out, title=args.title, sink=sink, origins=origins)
        written[:0] = outputs
    except (_Unreadable, UsageError, ChildFailed) as exc:  # (an input, --out, the child writing some of the files)
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{exc.filename or out}: cannot write it ({exc.strerror or type(exc).__name__})")
    finally:
        if other is not None:
            other.stop()
    columns = sorted((data.get("adapters") or {}).items())
    say = lambda line: sink.say(line, sys.stdout)  # noqa: E731
    say(f"{outputs.checks} checks, {len(data.get('cases') or {})} cases, {len(columns)} columns from {len(inputs)} run(s)")
    for key, info in columns:
        say(f"  {key:40} {info.get('library', '')} {info.get('library_version') or ('unavailable' if info.get('available') is False else '')}")
    for path in written:
        say(f"wrote {path}")
    keep_until_exit(data, inputs, origins, outputs)  # freed by the process's end, not row by row
    return 0


def _read(paths: list[Path], pivot: str | None) -> tuple[list[tuple[str, dict[str, Any]]], "Origins"]:
    """The inputs (the rows of the cases before `pivot`, when a second process reads the others)."""
    from harness.report.merge import read_inputs

    try:
        return read_inputs(paths, RowReader(keep=Cut(pivot, first=True) if pivot is not None else None))
    except ValueError as exc:
        raise _Unreadable(str(exc)) from None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _version_problems(inputs: list[tuple[str, dict[str, Any]]], expected: list[tuple[str, str]]) -> list[str]:
    """--expect-version: one line per input whose adapter ran another library version, or per adapter no input has."""
    problems = []
    for name, version in expected:
        seen = False
        for path, data in inputs:
            info = (data.get("adapters") or {}).get(name)
            if info is None:
                continue
            seen = True
            actual = info.get("library_version")
            if actual != version:
                why = f" ({info.get('reason')})" if info.get("available") is False else ""
                problems.append(f"{path}: {name} ran {info.get('library', 'its library')} {actual or 'unknown'}{why}, expected {version}")
        if not seen:
            problems.append(f"no input has adapter {name} (expected with version {version})")
    return problems


def _share_from(child: "forked.Child", paths: list[Path], pivot: str) -> None:
    """In the second process: the Share of the cases from `pivot` on, read from the inputs' rows of those cases."""
    from harness.report import model, shares
    from harness.report.merge import merge, merged_lines, read_inputs
    from harness.report.text import with_short_tokens

    side = Cut(pivot, first=False)
    try:
        inputs, origins = read_inputs(paths, RowReader(keep=side))
    except OutOfOrder as exc:  # the rows of this side may lie among the other's too: not a share to join
        child.send((shares.UNJOINABLE, str(exc)))
        return
    clean = with_short_tokens(Sink().adopt(merge(inputs, origins)))
    shares.sent(child.send, child.send_bytes, clean, model.frame(clean), clean.get("results") or [], side,
                lambda rows: merged_lines(rows, origins))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="render index.html, junit.xml and summary.md from one or more results.json (merging runs side by side)",
        description="Render the report from results.json files. One file or one run folder is rendered into its own "
        "folder. With several files, or a folder of run folders, the runs are merged into --out (default reports/merged; "
        "the inputs are never written): one column per adapter, or per adapter and library version (name@version) when "
        "an adapter appears with several versions.",
        epilog="With more than one CPU the work is shared by two processes (the same files): a merge's inputs are read "
        "by both, each taking the rows of half the cases (not with --history: its line needs every row in one), a "
        "single run's rows are cut in two once read, and a third process writes the known-issues pages while the "
        "first writes the other files; SIGHARNESS_REPORT_PROCESSES=1 keeps it to one.",
    )
    p.add_argument("results", nargs="+", metavar="RESULTS.json",
                   help="results files; a folder means its results.json, or (merged) every */results.json under it")
    p.add_argument("--out", metavar="DIR", help="where to write (default: the run folder for one file, reports/merged when merging)")
    p.add_argument("--title", help="the page title")
    p.add_argument("--history", metavar="FILE", help="history file (JSON lines): append this report's run once and show the trend")
    p.add_argument("--no-append", action="store_true", help="with --history: only read the history, append nothing")
    p.add_argument("--expect-version", action="append", metavar="ADAPTER=VERSION",
                   help="fail (exit 2) unless every input that has ADAPTER ran it with this library version (the tox matrix uses it)")
    p.set_defaults(func=cmd_report)
