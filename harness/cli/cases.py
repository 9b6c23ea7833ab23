"""Commands about cases: `validate` (lint), `show` (every stage of the reference signer), `bless`
(write the reference signer's stages into cases)."""

from __future__ import annotations

import argparse
import sys

from harness.cli.common import DEFAULT_CASES, add_case_input_options, body_roots, limits_from, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, Subparsers, UsageError


def cmd_validate(args: argparse.Namespace) -> int:
    from harness.cases import load_cases

    loaded = load_cases(args.paths or DEFAULT_CASES, limits=limits_from(args), body_roots=tuple(body_roots(args.body_root)))
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
    from harness.reference import surface_of

    case = _find_case(args.case, args.cases or DEFAULT_CASES)
    modes = [args.mode] if args.mode else list(case.modes)
    print(f"# {case.id}: {case.title}")
    if case.flags.get("note"):
        print(f"# {case.flags['note']}")
    for mode in modes:
        surface = surface_of(Check(case, mode))
        result = surface.sign(Check(case, mode))
        print(f"\n=== {mode} mode ({case.context.algorithm}) ===")
        # A streaming stage repeats per chunk or event (`chunk_signature.0`, ...): those in chain order.
        chained = any("." in stage for stage in result.stages)
        for stage in (result.stages if chained else surface.shown_stages):
            if stage in result.stages and stage.partition(".")[0] in surface.shown_stages:
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


def register(sub: Subparsers) -> None:
    p = sub.add_parser("validate", help="lint case files; one line FILE:LINE: problem for each bad file")
    p.add_argument("paths", nargs="*", metavar="PATH", help="default: cases/ (the installed copy without a checkout)")
    add_case_input_options(p)
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
