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
    from harness.bench import bench, format_table, merge_into_results
    from harness.runner import select_adapters

    known, problems = discover([Path(d) for d in args.adapter_dir]) if args.adapter_dir else discover()
    wanted = [a.strip() for a in args.adapters.split(",")] if args.adapters else None
    specs, unknown = select_adapters(known, wanted)
    for line in problems + unknown:
        print(line, file=sys.stderr)
    results = bench(specs, args.seconds, log=lambda line: print(line, file=sys.stderr, flush=True))
    print(format_table(results))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    if args.results:
        merge_into_results(Path(args.results), results)
        try:
            from harness import report
            from harness.results import load_results

            path = Path(args.results)
            report.write_all(load_results(path), path.parent)
        except ImportError:
            pass
    return 2 if unknown else 0
