"""The `sigharness` command line (also `python -m harness`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import harness

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CASES = [str(PROJECT_ROOT / "cases")]


class UsageError(Exception):
    pass


def _env_pairs(values: list[str] | None) -> dict[str, str]:
    env = {}
    for item in values or []:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise UsageError(f"--adapter-env takes KEY=VALUE, got {item!r}")
        env[key] = value
    return env


def _adapter_list(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [a.strip() for a in value.split(",") if a.strip()]


def _default_out() -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return PROJECT_ROOT / "reports" / f"run-{stamp}"


def _progress_printer(stream=sys.stderr):
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


def cmd_run(args: argparse.Namespace) -> int:
    from harness.runner import RunOptions, run

    resume_dir = Path(args.resume) if args.resume else None
    if resume_dir is not None:
        settings_file = resume_dir / "run.json"
        if not settings_file.exists():
            raise UsageError(f"--resume {resume_dir}: no run.json there (is it a run folder?)")
        saved = json.loads(settings_file.read_text())
        options = RunOptions(
            case_paths=saved["case_paths"], out_dir=resume_dir, adapters=saved.get("adapters"),
            adapter_dirs=[Path(p) for p in saved.get("adapter_dirs") or []] or None,
            adapter_env=saved.get("adapter_env") or {}, timeout=saved.get("timeout", 30.0),
            start_timeout=saved.get("start_timeout", 120.0), max_restarts=saved.get("max_restarts", 3),
            max_line=saved.get("max_line", 1 << 20), resume=True, isolate_network=saved.get("isolate_network", "auto"), case_filter=saved.get("case_filter"),
        )
    else:
        options = RunOptions(
            case_paths=args.cases or DEFAULT_CASES,
            out_dir=Path(args.out) if args.out else _default_out(),
            adapters=_adapter_list(args.adapters),
            adapter_dirs=[Path(p) for p in args.adapter_dir] if args.adapter_dir else None,
            adapter_env=_env_pairs(args.adapter_env),
            timeout=args.timeout,
            start_timeout=args.start_timeout,
            max_restarts=args.max_restarts,
            case_filter=args.case,
            isolate_network=args.isolate_network,
        )
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    outcome = run(options, log=log, progress_emit=None if args.quiet else _progress_printer())
    if not outcome.data["results"] and (outcome.problems or outcome.case_errors) and not outcome.data["adapters"]:
        return EXIT_USAGE
    _write_outputs(outcome, args)
    code = EXIT_OK
    if outcome.case_errors or outcome.problems:
        code = EXIT_USAGE
    strict = args.strict or bool(os.environ.get("CI"))
    if strict and outcome.unavailable:
        for name, reason in outcome.unavailable.items():
            print(f"error: adapter {name} is unavailable ({reason}); in CI every adapter must run", file=sys.stderr)
        code = max(code, EXIT_FINDINGS)
    if args.baseline:
        from harness import history

        regressions = history.print_diff(Path(args.baseline), outcome.results_path)
        if regressions:
            code = max(code, EXIT_FINDINGS)
    return code


def _write_outputs(outcome, args: argparse.Namespace) -> None:
    out = outcome.out_dir
    written = [outcome.results_path]
    history_path = Path(args.history) if getattr(args, "history", None) else None
    if history_path is not None:
        from harness import history

        if history.append(history_path, outcome.data, outcome.results_path):
            written.append(history_path)
    try:
        from harness import report
    except ImportError:
        report = None
    write_all = getattr(report, "write_all", None)
    if write_all is not None and not getattr(args, "no_report", False):
        try:
            written += write_all(outcome.data, out, history=history_path)
        except Exception as exc:  # results.json is already on disk: say what failed and carry on
            print(f"sigharness: the report could not be written ({type(exc).__name__}: {exc}); "
                  f"the results are in {outcome.results_path}", file=sys.stderr)
    counts: dict[str, dict[str, int]] = {}
    for row in outcome.data["results"]:
        counts.setdefault(row["adapter"], {}).setdefault(row["status"], 0)
        counts[row["adapter"]][row["status"]] += 1
    print(f"{len(outcome.data['results'])} checks, {len(outcome.data['cases'])} cases, {len(counts)} adapters")
    for name in sorted(counts):
        c = counts[name]
        print(f"  {name:32} " + "  ".join(f"{k} {c.get(k, 0)}" for k in ("pass", "variant", "fail", "unsupported", "error")))
    for path in written:
        print(f"wrote {path}")
    latest = PROJECT_ROOT / "reports" / "latest"
    if out.resolve().parent == latest.parent.resolve():
        try:
            if latest.is_symlink() or latest.exists():
                latest.unlink()
            latest.symlink_to(out.name)
        except OSError:
            pass


def cmd_adapters(args: argparse.Namespace) -> int:
    from harness.adapters.manifest import discover, ensure_built, missing_toolchain
    from harness.adapters.process import AdapterFault, AdapterProcess

    known, problems = discover([Path(p) for p in args.adapter_dir] if args.adapter_dir else None) if args.adapter_dir else discover()
    for line in problems:
        print(line, file=sys.stderr)
    rows = []
    for name, spec in sorted(known.items()):
        status, version, runtime = "available", "", ""
        missing = missing_toolchain(spec)
        if missing:
            status = f"unavailable: {missing}"
        elif args.check:
            availability = ensure_built(spec, announce=lambda line: print(line, file=sys.stderr))
            if not availability.available:
                status = f"unavailable: {availability.reason}"
            else:
                proc = AdapterProcess(spec, availability.build_dir)
                try:
                    hello = proc.start()
                    version, runtime = hello.library_version, hello.runtime
                except AdapterFault as exc:
                    status = f"error: {exc}"
                finally:
                    proc.stop()
        rows.append((name, spec.language, spec.library, version, runtime, status))
    if args.json:
        print(json.dumps([dict(zip(("name", "language", "library", "library_version", "runtime", "status"), r)) for r in rows], indent=1))
        return EXIT_OK
    widths = [max(len(str(r[i])) for r in rows + [("adapter", "language", "library", "version", "runtime", "status")]) for i in range(6)]
    header = ("adapter", "language", "library", "version", "runtime", "status")
    for row in [header] + rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
    if not args.check:
        print("\n(versions come from the libraries themselves: `sigharness adapters --check` builds and starts each one)")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from harness.cases import load_cases

    loaded = load_cases(args.paths)
    for error in loaded.errors:
        print(error)
    print(f"{len(loaded.cases)} cases valid, {len(loaded.errors)} problems", file=sys.stderr)
    return EXIT_USAGE if loaded.errors else EXIT_OK


def _find_case(case_id: str, paths: list[str]):
    from harness.cases import load_cases

    loaded = load_cases(paths)
    for case in loaded.cases:
        if case.id == case_id:
            return case
    close = [c.id for c in loaded.cases if case_id in c.id][:10]
    hint = f"; did you mean: {', '.join(close)}" if close else ""
    raise UsageError(f"no case with id {case_id!r} in {', '.join(paths)}{hint}")


def cmd_show(args: argparse.Namespace) -> int:
    from harness.model import Check
    from harness.reference import sign

    case = _find_case(args.case, args.cases or DEFAULT_CASES)
    modes = [args.mode] if args.mode else list(case.modes)
    print(f"# {case.id}: {case.title}")
    if case.flags.get("note"):
        print(f"# {case.flags['note']}")
    for mode in modes:
        result = sign(Check(case, mode))
        print(f"\n=== {mode} mode ({case.context.algorithm}) ===")
        for stage in ("canonical_uri", "canonical_query_string", "canonical_headers", "signed_headers", "hashed_payload",
                      "canonical_request", "credential_scope", "string_to_sign", "signature", "authorization", "signed_url"):
            if stage in result.stages:
                print(f"--- {stage}\n{result.stages[stage]}")
        if args.signing_key and "signing_key" in result.stages:
            print(f"--- signing_key\n{result.stages['signing_key']}")
    return EXIT_OK


def cmd_bless(args: argparse.Namespace) -> int:
    from harness import bless

    changed, problems = bless.bless_paths(args.paths, check_only=args.check)
    for line in problems:
        print(line)
    for path, n in changed:
        print(f"{'would bless' if args.check else 'blessed'} {n} case(s) in {path}")
    if args.check and changed:
        return EXIT_FINDINGS
    return EXIT_USAGE if problems else EXIT_OK


def cmd_disagreements(args: argparse.Namespace) -> int:
    from harness.disagreements import table, update_readme
    from harness.results import load_results

    try:
        data = load_results(Path(args.results))
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if args.update:
        changed = update_readme(Path(args.update), data)
        print(f"{'updated' if changed else 'unchanged'}: {args.update}")
    else:
        print(table(data))
    return EXIT_OK


def cmd_setup(args: argparse.Namespace) -> int:
    from harness.setup import setup

    return setup(log=lambda line: print(f"setup: {line}", file=sys.stderr, flush=True),
                 build=not args.no_build, system=not args.no_system)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sigharness",
        description="Conformance harness for AWS request signing (SigV4, SigV4A): runs YAML cases and the "
        "aws-c-auth suite through many signing libraries and compares them stage by stage.",
    )
    parser.add_argument("--version", action="version", version=f"sigharness {harness.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="run cases through adapters and write results and the report")
    p.add_argument("--cases", nargs="+", action="extend", metavar="PATH",
                   help="YAML files, folders of them, or an aws-c-auth suite folder (default: cases/)")
    p.add_argument("--adapters", metavar="A,B", help="comma-separated adapter names (default: all)")
    p.add_argument("--case", action="append", metavar="ID", help="only the case with this id (glob patterns allowed: 'aws-c-auth/v4/get-*'); repeatable")
    p.add_argument("--out", metavar="DIR", help="run folder (default: reports/run-<UTC time>/)")
    p.add_argument("--adapter-dir", action="append", metavar="DIR", help="look for adapter manifests in DIR instead of adapters/")
    p.add_argument("--adapter-env", action="append", metavar="KEY=VALUE", help="extra environment for adapter builds and processes (tests, debugging)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S", help="seconds an adapter may take per check (default 30)")
    p.add_argument("--start-timeout", type=float, default=120.0, metavar="S", help="seconds an adapter may take to start (default 120)")
    p.add_argument("--max-restarts", type=int, default=3, metavar="N", help="faults in a row (each followed by a restart) before an adapter's remaining checks are errors (default 3)")
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

    p = sub.add_parser("adapters", help="list adapters with availability and versions")
    p.add_argument("--check", action="store_true", help="build and start each adapter to read its library version")
    p.add_argument("--adapter-dir", action="append", metavar="DIR")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_adapters)

    p = sub.add_parser("validate", help="lint case files; one line FILE:LINE: problem for each bad file")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("show", help="every stage of the reference signer for one case")
    p.add_argument("case", metavar="CASE_ID")
    p.add_argument("--cases", nargs="+", action="extend", metavar="PATH", help="where to look (default: cases/)")
    p.add_argument("--mode", choices=("header", "query"))
    p.add_argument("--signing-key", action="store_true", help="also print the derived signing key (secret material)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("bless", help="write the reference signer's stages into cases as their expectations")
    p.add_argument("paths", nargs="+", metavar="PATH", help="YAML case files or folders")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if any expectation is missing or stale")
    p.set_defaults(func=cmd_bless)

    p = sub.add_parser("disagreements", help="table of where adapters disagree, per divergence, from a results.json")
    p.add_argument("results", metavar="RESULTS.json")
    p.add_argument("--update", metavar="README.md", help="rewrite the table between the disagreements markers in this file")
    p.set_defaults(func=cmd_disagreements)

    p = sub.add_parser("setup", help="install system packages the adapters need (as root, via apt) and build every adapter")
    p.add_argument("--no-system", action="store_true", help="do not install system packages")
    p.add_argument("--no-build", action="store_true", help="do not build adapters")
    p.set_defaults(func=cmd_setup)

    for extra in ("report", "diff", "bench", "fuzz"):
        try:
            module = __import__(f"harness.cli_{extra}", fromlist=["register"])
        except ImportError:
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"sigharness: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print("sigharness: interrupted; finished checks are in the run folder (resume with --resume DIR)", file=sys.stderr)
        return 130
