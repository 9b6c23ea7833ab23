"""The `sigharness` command line (also `python -m harness`): one module per command (or group of
commands), each with a `register(subparsers)`; COMMANDS lists them, in the order `--help` shows."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

import harness
from harness.cli import adapters, bench, bisect, cases, diff, disagreements, fuzz, new_adapter, provision, report, run, upgrade
from harness.cli.common import EXIT_OK, EXIT_USAGE, UsageError

COMMANDS = (run, adapters, cases, disagreements, provision, report, diff, bisect, upgrade, bench, fuzz, new_adapter)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sigharness",
        description="Conformance harness for AWS request signing (SigV4, SigV4A): runs YAML cases and the "
        "aws-c-auth suite through many signing libraries and compares them stage by stage.",
    )
    parser.add_argument("--version", action="version", version=f"sigharness {harness.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
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
