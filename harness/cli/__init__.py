"""The `sigharness` command line (also `python -m harness`): one module per command (or group of
commands), each with a `register(subparsers)`; COMMANDS lists them, in the order `--help` shows, with the
command names each registers. A command line naming a command loads that command's module alone (each
pulls in what its work needs: all of them would add a tenth of a second to every `report`); `--help`, no
command or an unknown one loads them all."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn, Sequence

import harness
from harness.cli.common import EXIT_OK, EXIT_USAGE, UsageError, free_kept, kept

# (module under harness.cli, the commands its `register` adds), in the order `--help` lists them
COMMANDS = (
    ("run", ("run",)),
    ("adapters", ("adapters",)),
    ("cases", ("validate", "show", "bless")),
    ("disagreements", ("disagreements",)),
    ("provision", ("setup",)),
    ("report", ("report",)),
    ("diff", ("diff",)),
    ("bisect", ("bisect",)),
    ("upgrade", ("upgrade-check", "companions")),
    ("bench", ("bench",)),
    ("fuzz", ("fuzz",)),
    ("new_adapter", ("new-adapter",)),
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; for a command line whose first word is a command, with that command's module alone."""
    parser = argparse.ArgumentParser(
        prog="sigharness",
        description="Conformance harness for AWS request signing (SigV4, SigV4A): runs YAML cases and the "
        "aws-c-auth suite through many signing libraries and compares them stage by stage.",
    )
    parser.add_argument("--version", action="version", version=f"sigharness {harness.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    words = list(sys.argv[1:] if argv is None else argv)
    named = [module for module, names in COMMANDS if words and words[0] in names]
    for module in named or [module for module, _ in COMMANDS]:
        importlib.import_module(f"harness.cli.{module}").register(sub)
    return parser


def entry() -> NoReturn:
    """The `sigharness` script and `python -m harness`: the command, then exit with its status. A command that
    left a large result in memory (common.keep_until_exit) ends the process without freeing it, once its
    files are written and closed and the output streams are flushed: no thread or child of it runs then."""
    status = _command(None)
    if kept():
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe (`| head`) or stream: nothing more can be said
                pass
        os._exit(status)
    raise SystemExit(status)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line called as a function (tests, other tools): its exit status; nothing is left behind."""
    try:
        return _command(argv)
    finally:
        free_kept()


def _command(argv: Sequence[str] | None) -> int:
    parser = build_parser(argv)
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
