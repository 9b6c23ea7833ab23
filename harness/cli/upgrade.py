"""`sigharness upgrade-check --adapter A --from V1 --to V2`: both releases run and diffed, with every other
package that moved; `sigharness companions botocore==V --extra crt`: the companion pin of the version matrix.
Runs on its own too: `python -m harness.cli.upgrade companions ...` (tox.ini's matrix uses that)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from harness.cli.bisect import find_adapter


def cmd_upgrade_check(args: argparse.Namespace) -> int:
    from harness.releases import ReleaseError, default_cache, project_cases, registry_for
    from harness.upgrade import format_upgrade, upgrade_check

    specs = []
    for name in [a.strip() for a in args.adapter.split(",") if a.strip()]:
        spec, problem = find_adapter(name, args.adapter_dir)
        if spec is None:
            print(f"sigharness upgrade-check: {problem}", file=sys.stderr)
            return 2
        specs.append(spec)
    libraries = {s.library for s in specs}
    package = args.package or specs[0].library
    if len(libraries) > 1 and not args.package:
        print(f"sigharness upgrade-check: the adapters wrap different libraries ({', '.join(sorted(libraries))}); "
              f"name one with --package", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="sigharness-upgrade-"))
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    try:
        registry = registry_for(specs[0], Path(args.cache) if args.cache else default_cache(), tuple(args.extra or ()))
        check = upgrade_check(specs, package, registry, args.start, args.end, args.cases or project_cases(), args.case,
                              out, log, args.isolate_network)
    except ReleaseError as exc:
        print(f"sigharness upgrade-check: {exc}", file=sys.stderr)
        return 2
    print(format_upgrade(check))
    print(f"runs in {check.before.out} and {check.after.out}")
    return 1 if check.comparison.regressions else 0


def cmd_companions(args: argparse.Namespace) -> int:
    from harness.releases import PyPI, ReleaseError, default_cache
    from harness.upgrade import companion_pin, install_pin

    name, _, version = args.release.partition("==")
    if not version:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            print(f"sigharness companions: {name} is not installed here; give NAME==VERSION", file=sys.stderr)
            return 2
    registry = PyPI(Path(args.cache) if args.cache else default_cache())
    try:
        pins = [companion_pin(registry, name, version, companion, tuple(args.extra or ())) for companion in args.companion or ["awscrt"]]
        for pin in pins:
            print(f"{pin.requirement() or pin.companion + ' (unpinned)'}  # {name} {version} declares "
                  f"{pin.companion}{pin.declared or ' nothing'}: {pin.note}")
            if args.install:
                install_pin(pin)
    except ReleaseError as exc:
        print(f"sigharness companions: {exc}", file=sys.stderr)
        return 2
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "upgrade-check",
        help="run two releases of an adapter's library (PyPI, npm) and diff them, with every package that moved",
        description="Each release is installed into a cached throwaway environment (see docs/regressions.md), the chosen "
        "adapters run the cases on both, and the runs are compared like `sigharness diff`. Exit 1 on a regression.",
    )
    p.add_argument("--adapter", required=True, metavar="A[,B]", help="adapter(s) wrapping the library, e.g. py-botocore,py-botocore-crt")
    p.add_argument("--from", dest="start", required=True, metavar="V1", help="the release in use (the baseline)")
    p.add_argument("--to", dest="end", required=True, metavar="V2", help="the release to upgrade to")
    p.add_argument("--package", help="registry package name (default: the adapter's `library`)")
    p.add_argument("--extra", action="append", metavar="NAME", help="PyPI extra whose requirements come with each release (e.g. crt)")
    p.add_argument("--case", action="append", metavar="ID", help="case id or fnmatch pattern (repeatable; default: every case)")
    p.add_argument("--cases", nargs="+", metavar="PATH", help="case files or folders (default: cases/)")
    p.add_argument("--adapter-dir", action="append", metavar="DIR", help="where adapter folders are (default: adapters/)")
    p.add_argument("--cache", metavar="DIR", help="where releases are installed (default: $SIGHARNESS_CACHE or ~/.cache/sigharness)")
    p.add_argument("--out", metavar="DIR", help="write both runs here (default: a new temporary folder)")
    p.add_argument("--isolate-network", choices=("auto", "on", "off"), default="auto")
    p.set_defaults(func=cmd_upgrade_check)

    c = sub.add_parser(
        "companions",
        help="the companion versions a PyPI release declares (awscrt for botocore[crt]), installable here",
        description="Read the release's Requires-Dist; an exact pin without a wheel for this Python becomes the oldest "
        "release above it that has one (said in the output). --install puts it into this environment.",
    )
    c.add_argument("release", metavar="NAME[==VERSION]", help="e.g. botocore==1.27.13 (no version: the installed one)")
    c.add_argument("--companion", action="append", default=None, metavar="NAME", help="companion package (default: awscrt)")
    c.add_argument("--extra", action="append", metavar="NAME", help="extra that declares it (e.g. crt)")
    c.add_argument("--install", action="store_true", help="pip-install the chosen versions into this environment (--no-deps)")
    c.add_argument("--cache", metavar="DIR", help="where releases are installed to read their metadata")
    c.set_defaults(func=cmd_companions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.cli.upgrade")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
