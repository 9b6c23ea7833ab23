"""`sigharness report RESULTS.json [RESULTS.json ...] --out DIR`: render (and merge) runs into one report.

What is written where (docs/report.md): one results file, or one run folder, is rendered into its own
folder (or --out). Several inputs, or a folder holding run folders, are merged into --out (default
reports/merged): the run folders found are read, never written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.redaction import Sink
from harness.results import paused_gc, read_results
from harness.results_lines import RowReader

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


def _report(args: argparse.Namespace) -> int:
    from harness import history, report
    from harness.cli.common import UsageError, keep_until_exit, writable_folder
    from harness.report.forked import ChildFailed
    from harness.report.merge import Origins, expand_inputs, merge, write_merged
    from harness.results import RESULTS

    try:
        paths, merging = expand_inputs(args.results)
    except ValueError as exc:
        return _fail(str(exc))
    if not paths:
        return _fail(f"no results.json found in {' '.join(args.results)}")
    inputs = []
    reader = RowReader()  # rows that are the same in several inputs (apart from their timings) are parsed once
    origins = Origins()
    for path in paths:
        try:
            data, spans = read_results(path, reader)
            inputs.append((str(path), data))
            origins.spans.append(spans)
        except FileNotFoundError:
            return _fail(f"{path}: no such file")
        except OSError as exc:
            return _fail(f"{path}: cannot read it ({exc.strerror or type(exc).__name__})")
        except ValueError as exc:
            return _fail(str(exc))
    try:
        expected = _expectations(args.expect_version)
    except ValueError as exc:
        return _fail(str(exc))
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
    for line in problems:
        _fail(line)
    if problems:
        return 2

    sink = Sink()
    # what read_results returned is JSON-safe, and this command knows no secret: nothing to clean again
    del reader
    data = sink.adopt(inputs[0][1] if not merging else merge(inputs, origins))
    out = Path(args.out) if args.out else (paths[0].parent if not merging else DEFAULT_MERGED)
    try:
        writable_folder(out, "--out")
    except UsageError as exc:
        return _fail(str(exc))
    written: list[Path] = []
    history_path = Path(args.history) if args.history else None
    try:
        # the history's line names the merged results.json, written with the other outputs just below
        if history_path is not None and not args.no_append:
            if history.append(history_path, data, out / RESULTS if merging else paths[0]):
                written.append(history_path)
        written[:0] = report.write_all(data, out, history=history_path, title=args.title, sink=sink,
                                       first=(lambda: write_merged(out, data, origins, sink)) if merging else None)
    except OSError as exc:
        return _fail(f"{exc.filename or out}: cannot write it ({exc.strerror or type(exc).__name__})")
    except ChildFailed as exc:
        return _fail(str(exc))
    columns = sorted((data.get("adapters") or {}).items())
    say = lambda line: sink.say(line, sys.stdout)  # noqa: E731
    say(f"{len(data.get('results') or [])} checks, {len(data.get('cases') or {})} cases, {len(columns)} columns from {len(inputs)} run(s)")
    for key, info in columns:
        say(f"  {key:40} {info.get('library', '')} {info.get('library_version') or ('unavailable' if info.get('available') is False else '')}")
    for path in written:
        say(f"wrote {path}")
    keep_until_exit(data, inputs, origins)  # freed by the process's end, not row by row
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="render index.html, junit.xml and summary.md from one or more results.json (merging runs side by side)",
        description="Render the report from results.json files. One file or one run folder is rendered into its own "
        "folder. With several files, or a folder of run folders, the runs are merged into --out (default reports/merged; "
        "the inputs are never written): one column per adapter, or per adapter and library version (name@version) when "
        "an adapter appears with several versions.",
        epilog="With more than one CPU the outputs are written by three processes once the inputs are merged (the "
        "same files); SIGHARNESS_REPORT_PROCESSES=1 keeps it to one.",
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
