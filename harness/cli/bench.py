"""`sigharness bench`: signing throughput per adapter."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="signs per second per adapter, measured inside the adapter, against the bare HMAC chain")
    p.add_argument("--adapters", metavar="A,B", help="comma-separated adapter names (default: all)")
    p.add_argument("--adapter-dir", action="append", metavar="DIR")
    p.add_argument("--seconds", type=float, default=1.0, metavar="S", help="measuring time per figure (default 1)")
    p.add_argument("--out", metavar="FILE", help="write the figures as JSON")
    p.add_argument("--results", metavar="RESULTS.json", help="also store the figures in a run's results.json (the report shows them)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.adapters.manifest import discover
    from harness.bench import BENCH_SECRET, bench, format_table, merge_into_results
    from harness.redaction import Redactor, Sink, harness_environment_secrets
    from harness.runner import select_adapters

    sink = Sink(Redactor({BENCH_SECRET} | harness_environment_secrets()))  # every bench output goes through it
    known, problems = discover([Path(d) for d in args.adapter_dir]) if args.adapter_dir else discover()
    wanted = [a.strip() for a in args.adapters.split(",")] if args.adapters else None
    specs, unknown = select_adapters(known, wanted)
    for line in problems + unknown:
        sink.say(line)
    if args.adapter_dir and not known:
        return 2
    results = sink.clean(bench(specs, args.seconds, log=sink.console()))
    sink.say(format_table(results), sys.stdout)
    if args.out:
        try:
            sink.write_json(Path(args.out), results)
        except OSError as exc:
            sink.say(f"sigharness bench: --out {args.out}: cannot write it ({exc.strerror or type(exc).__name__})")
            return 2
    if args.results:
        try:
            merge_into_results(Path(args.results), results)
            from harness import report
            from harness.results import load_results

            path = Path(args.results)
            report.write_all(load_results(path), path.parent, sink=sink)
        except (OSError, ValueError) as exc:
            sink.say(f"sigharness bench: --results {args.results}: {exc}")
            return 2
    return 2 if unknown or any(p.endswith("no such adapter folder") for p in problems) else 0
