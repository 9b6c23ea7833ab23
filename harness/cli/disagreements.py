"""`sigharness disagreements RESULTS.json [--update README.md]`: where adapters disagree, per divergence."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.common import EXIT_OK, Subparsers, UsageError


def cmd_disagreements(args: argparse.Namespace) -> int:
    from harness.disagreements import table, update_readme
    from harness.results import load_results

    try:
        data = load_results(Path(args.results))
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if args.update:
        try:
            changed = update_readme(Path(args.update), data)
        except OSError as exc:
            raise UsageError(f"--update {args.update}: {exc.strerror or type(exc).__name__}") from None
        except ValueError as exc:  # no markers, not UTF-8
            raise UsageError(f"--update {args.update}: {exc}") from None
        print(f"{'updated' if changed else 'unchanged'}: {args.update}")
    else:
        print(table(data))
    return EXIT_OK


def register(sub: Subparsers) -> None:
    p = sub.add_parser("disagreements", help="table of where adapters disagree, per divergence, from a results.json")
    p.add_argument("results", metavar="RESULTS.json")
    p.add_argument("--update", metavar="README.md", help="rewrite the table between the disagreements markers in this file")
    p.set_defaults(func=cmd_disagreements)
