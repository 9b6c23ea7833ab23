"""`sigharness adapters`: every adapter with its availability and library version."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.cli.common import EXIT_OK, EXIT_USAGE, Subparsers


def cmd_adapters(args: argparse.Namespace) -> int:
    from harness.adapters.manifest import discover, missing_toolchain
    from harness.adapters.pool import AdapterPool, PoolSettings

    known, problems = discover([Path(p) for p in args.adapter_dir] if args.adapter_dir else None, kind=None)
    for line in problems:
        print(line, file=sys.stderr)
    missing = [p for p in problems if p.endswith("no such adapter folder")]
    if missing:
        return EXIT_USAGE
    started: dict[str, tuple[str, str]] = {}
    unavailable: dict[str, str] = {}
    if args.check:  # build and start each adapter through the pool (same isolation as a run)
        isolate, _ = PoolSettings.isolation("auto")
        with AdapterPool(known.values(), PoolSettings(isolate_network=isolate), lambda line: print(line, file=sys.stderr)) as pool:
            pool.prepare().start_all()
            unavailable = dict(pool.unavailable)
            started = {n: (s.hello.library_version, s.hello.runtime) for n, s in pool.sessions.items() if s.hello}
    rows = []
    for name, spec in sorted(known.items()):
        missing = missing_toolchain(spec)
        version, runtime = started.get(name, ("", ""))
        status = f"unavailable: {missing}" if missing else f"unavailable: {unavailable[name]}" if name in unavailable else "available"
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


def register(sub: Subparsers) -> None:
    p = sub.add_parser("adapters", help="list adapters with availability and versions")
    p.add_argument("--check", action="store_true", help="build and start each adapter to read its library version")
    p.add_argument("--adapter-dir", action="append", metavar="DIR")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_adapters)
