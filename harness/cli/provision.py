"""`sigharness setup`: system packages the adapters need, and every adapter's build."""

from __future__ import annotations

import argparse
import sys

from harness.cli.common import Subparsers


def cmd_setup(args: argparse.Namespace) -> int:
    from harness.provision import setup

    return setup(log=lambda line: print(f"setup: {line}", file=sys.stderr, flush=True),
                 build=not args.no_build, system=not args.no_system)


def register(sub: Subparsers) -> None:
    p = sub.add_parser("setup", help="install system packages the adapters need (as root, via apt) and build every adapter")
    p.add_argument("--no-system", action="store_true", help="do not install system packages")
    p.add_argument("--no-build", action="store_true", help="do not build adapters")
    p.set_defaults(func=cmd_setup)
