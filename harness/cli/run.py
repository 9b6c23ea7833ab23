"""`sigharness run`: run cases through adapters and write results and the report."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harness.cli.common import (DEFAULT_CASES, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, PROJECT_ROOT, Subparsers, UsageError,
                                add_case_input_options, body_roots, limits_from, writable_folder,
                                adapter_list, default_out, env_pairs)
from harness.limits import DEFAULT, Limits
from harness.verdicts import COUNT_ORDER

if TYPE_CHECKING:
    from harness.runner import RunOptions


def _progress_printer(stream=None):
    stream = stream or sys.stderr  # (the stream of the call, not the one of the module's import)
    tty = stream.isatty()
    state = {"tenth": -1}

    def emit(line: str, final: bool) -> None:
        if tty:
            stream.write("\r" + line + ("\n" if final else ""))
            stream.flush()
            return
        done, total = line[1:].split(" ", 1)[0].split("/")
        tenth = int(done) * 10 // max(int(total), 1)
        if tenth != state["tenth"] or final:
            state["tenth"] = tenth
            stream.write(line + "\n")
            stream.flush()

    return emit


def _text_list(saved: dict, key: str, optional: bool = True) -> list[str] | None:
    value = saved.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise ValueError(f"{key} is not a list of text")
    return value


def _resumed(resume_dir: Path, settings_file: Path) -> "RunOptions":
    from harness.runner import RunOptions

    """The options of the run being resumed, as its run.json saved them (every field checked: a wrong
    type is one line, never a run over something the user did not ask for)."""
    try:
        saved = json.loads(settings_file.read_bytes().decode("utf-8"))
        if not isinstance(saved, dict):
            raise ValueError("not a JSON object")
        if "case_paths" not in saved:
            raise KeyError("case_paths")
        paths = _text_list(saved, "case_paths", optional=False)
        if not paths:
            raise ValueError("case_paths is empty")
        env = saved.get("adapter_env") or {}
        if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            raise ValueError("adapter_env is not an object of text values")
        if saved.get("isolate_network", "auto") not in ("auto", "on", "off"):
            raise ValueError(f"isolate_network is {saved.get('isolate_network')!r}, not auto, on or off")
        if saved.get("limits") is not None and not isinstance(saved["limits"], dict):
            raise ValueError("limits is not an object")
        legacy = {"timeout": "check_seconds", "start_timeout": "start_seconds", "max_restarts": "max_restarts",
                  "max_line": "answer_bytes"}  # run.json written before limits were one object
        limits = Limits.from_json({**{new: saved[old] for old, new in legacy.items() if old in saved},
                                   **(saved.get("limits") or {})})
        return RunOptions(
            case_paths=paths, out_dir=resume_dir, adapters=_text_list(saved, "adapters"),
            adapter_dirs=[Path(p) for p in _text_list(saved, "adapter_dirs") or []] or None,
            adapter_env=dict(env), limits=limits, resume=True,
            isolate_network=saved.get("isolate_network", "auto"), case_filter=_text_list(saved, "case_filter"),
            body_roots=_text_list(saved, "body_roots") or [],
            oracles=_text_list(saved, "oracles") or None, use_oracles=saved.get("oracles") != [],
            send=saved.get("send", True) is not False,
        )
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise UsageError(f"--resume {resume_dir}: run.json is unreadable ({type(exc).__name__}: {exc}); "
                         f"start a new run instead") from None


def cmd_run(args: argparse.Namespace) -> int:
    from harness import diff
    from harness.runner import RunOptions, run

    resume_dir = Path(args.resume) if args.resume else None
    if resume_dir is not None:
        settings_file = resume_dir / "run.json"
        if not settings_file.is_file():
            raise UsageError(f"--resume {resume_dir}: no run.json there (is it a run folder?)")
        options = _resumed(resume_dir, settings_file)
        writable_folder(resume_dir, "--resume")
    else:
        options = RunOptions(
            case_paths=args.cases or DEFAULT_CASES,
            out_dir=Path(args.out) if args.out else default_out(),
            adapters=adapter_list(args.adapters),
            adapter_dirs=[Path(p) for p in args.adapter_dir] if args.adapter_dir else None,
            adapter_env=env_pairs(args.adapter_env),
            limits=limits_from(args),
            case_filter=args.case,
            isolate_network=args.isolate_network,
            oracles=adapter_list(args.oracles),
            use_oracles=not args.no_oracles,
            body_roots=body_roots(args.body_root),
            send=not args.no_send,
        )
        writable_folder(options.out_dir, "--out")
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    try:
        outcome = run(options, log=log, progress_emit=None if args.quiet else _progress_printer())
    except OSError as exc:  # a full disk, a folder removed under the run: the journal holds every finished check
        raise UsageError(f"{exc.filename or options.out_dir}: {exc.strerror or type(exc).__name__}; the finished checks are in "
                         f"{options.out_dir / 'results.jsonl'}: finish with `sigharness run --resume {options.out_dir}`") from None
    if not outcome.data["results"] and (outcome.problems or outcome.case_errors) and not outcome.data["adapters"]:
        return EXIT_USAGE
    _write_outputs(outcome, args)
    code = EXIT_OK
    if outcome.case_errors or outcome.problems:
        code = EXIT_USAGE
    strict = args.strict or bool(os.environ.get("CI"))
    if strict and outcome.unavailable:
        for name, reason in outcome.unavailable.items():
            outcome.sink.say(f"error: adapter {name} is unavailable ({reason}); in CI every adapter must run")
        code = max(code, EXIT_FINDINGS)
    if args.baseline:
        try:
            regressions = diff.print_diff(Path(args.baseline), outcome.results_path)
        except (OSError, ValueError) as exc:
            outcome.sink.say(f"sigharness: --baseline {args.baseline}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}; "
                             f"the results are in {outcome.results_path}")
            return max(code, EXIT_USAGE)
        if regressions:
            code = max(code, EXIT_FINDINGS)
    return code


def _write_outputs(outcome, args: argparse.Namespace) -> None:
    from harness import history, report

    out = outcome.out_dir
    written = [outcome.results_path]
    history_path = Path(args.history) if getattr(args, "history", None) else None
    if history_path is not None:
        try:
            if history.append(history_path, outcome.data, outcome.results_path):
                written.append(history_path)
        except OSError as exc:  # results.json is on disk; the history is not: say so and carry on
            outcome.sink.say(f"sigharness: --history {history_path}: cannot write it ({exc.strerror or type(exc).__name__})")
            history_path = None
    if not getattr(args, "no_report", False):
        try:
            written += report.write_all(outcome.data, out, history=history_path, sink=outcome.sink)
        except Exception as exc:  # results.json is already on disk: say what failed and carry on
            outcome.sink.say(f"sigharness: the report could not be written ({type(exc).__name__}: {exc}); "
                             f"the results are in {outcome.results_path}")
    counts: dict[str, dict[str, int]] = {}
    for row in outcome.data["results"]:
        counts.setdefault(row["adapter"], {}).setdefault(row["status"], 0)
        counts[row["adapter"]][row["status"]] += 1
    say = lambda line: outcome.sink.say(line, sys.stdout)  # noqa: E731
    say(f"{len(outcome.data['results'])} checks, {len(outcome.data['cases'])} cases, {len(counts)} adapters")
    for name in sorted(counts):
        c = counts[name]
        say(f"  {name:32} " + "  ".join(f"{k} {c.get(k, 0)}" for k in COUNT_ORDER))
    for path in written:
        say(f"wrote {path}")
    latest = PROJECT_ROOT / "reports" / "latest"
    if out.resolve().parent == latest.parent.resolve():
        try:
            if latest.is_symlink() or latest.exists():
                latest.unlink()
            latest.symlink_to(out.name)
        except OSError:
            pass


def register(sub: Subparsers) -> None:
    p = sub.add_parser("run", help="run cases through adapters and write results and the report")
    p.add_argument("--cases", nargs="+", action="extend", metavar="PATH",
                   help="YAML files, folders of them, or an aws-c-auth suite folder (default: cases/)")
    p.add_argument("--adapters", metavar="A,B", help="comma-separated adapter names (default: all)")
    p.add_argument("--oracles", metavar="A,B", help="comma-separated oracles (verifier-kind adapters, docs/oracles.md) "
                   "asked about every signed answer (default: every available one)")
    p.add_argument("--no-oracles", action="store_true", help="ask no oracle")
    p.add_argument("--no-send", action="store_true", help="no wire stage: adapters only sign; nothing is sent with their "
                   "HTTP clients to the capture server (docs/wire.md)")
    p.add_argument("--case", action="append", metavar="ID", help="only the case with this id (glob patterns allowed: 'aws-c-auth/v4/get-*'); repeatable")
    p.add_argument("--out", metavar="DIR", help="run folder (default: reports/run-<UTC time>/)")
    p.add_argument("--adapter-dir", action="append", metavar="DIR", help="look for adapter manifests in DIR instead of adapters/")
    p.add_argument("--adapter-env", action="append", metavar="KEY=VALUE", help="extra environment for adapter builds and processes (tests, debugging)")
    limits = add_case_input_options(p)
    limits.add_argument("--timeout", type=float, metavar="S", help=f"seconds an adapter may take per check (default {DEFAULT.check_seconds:g})")
    limits.add_argument("--start-timeout", type=float, metavar="S", help=f"seconds an adapter may take to start (default {DEFAULT.start_seconds:g})")
    limits.add_argument("--max-restarts", type=int, metavar="N", help=f"faults in a row (each followed by a restart) before an adapter's remaining checks are errors (default {DEFAULT.max_restarts})")
    limits.add_argument("--max-answer-bytes", type=int, metavar="N", help=f"longest answer line an adapter may send (default {DEFAULT.answer_bytes})")
    limits.add_argument("--max-log-bytes", type=int, metavar="N", help=f"what is kept of each adapter's stderr (default {DEFAULT.adapter_log_bytes})")
    p.add_argument("--isolate-network", choices=("auto", "on", "off"), default="auto",
                   help="start adapters in a network namespace without interfaces (`unshare --net`): auto (default) when "
                   "the machine allows it, on (required), off")
    p.add_argument("--resume", metavar="DIR", help="finish an interrupted run in DIR without redoing finished checks")
    p.add_argument("--baseline", metavar="OLD.json", help="compare with an earlier results.json; exit 1 on any regression")
    p.add_argument("--strict", action="store_true", help="exit 1 when an adapter is unavailable (always on when CI is set)")
    p.add_argument("--history", metavar="FILE", help="append this run's summary to a history file (JSON lines) and show the trend in the report")
    p.add_argument("--no-report", action="store_true", help="write results.json only")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_run)
