"""`sigharness bisect ADAPTER --case ID --from V1 --to V2`: the first release of the adapter's library
where the verdict of the chosen checks changed."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path



def find_adapter(name: str, adapter_dirs: list[str] | None):
    from harness.adapters.manifest import discover

    """The adapter's spec, or a message naming the known ones."""
    known, _ = discover([Path(p) for p in adapter_dirs]) if adapter_dirs else discover()
    if name not in known:
        return None, f"unknown adapter {name!r}; known adapters: {', '.join(sorted(known)) or 'none'}"
    return known[name], ""


def cmd_bisect(args: argparse.Namespace) -> int:
    from harness.bisect import bisect, format_bisection
    from harness.releases import ReleaseError, default_cache, project_cases, registry_for

    spec, problem = find_adapter(args.adapter, args.adapter_dir)
    if spec is None:
        print(f"sigharness bisect: {problem}", file=sys.stderr)
        return 2
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    cache = Path(args.cache) if args.cache else default_cache()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="sigharness-bisect-"))
    try:
        registry = registry_for(spec, cache, tuple(args.extra or ()))
        result = bisect(spec, args.package or spec.library, registry, args.start, args.end, args.cases or project_cases(),
                        args.case, out, log, args.isolate_network)
    except ReleaseError as exc:
        print(f"sigharness bisect: {exc}", file=sys.stderr)
        return 2
    print(format_bisection(result))
    print(f"runs kept in {out}")
    return 0 if result.found else 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bisect",
        help="find the first release of an adapter's library where a check's verdict changed (PyPI and npm)",
        description="Run the chosen checks on the --from and --to releases of the adapter's library, then binary-search the "
        "releases between them for the first one with another verdict. Each release is installed once into a cached "
        "throwaway environment (see docs/regressions.md). Exit 0 with an answer, 1 without one, 2 on bad input.",
    )
    p.add_argument("adapter", help="adapter name, e.g. py-botocore or js-aws4")
    p.add_argument("--case", action="append", required=True, metavar="ID",
                   help="case id or fnmatch pattern (repeatable); keep it to a few checks")
    p.add_argument("--from", dest="start", required=True, metavar="V1", help="release with the old verdict")
    p.add_argument("--to", dest="end", required=True, metavar="V2", help="release with the new verdict")
    p.add_argument("--package", help="registry package name (default: the adapter's `library`)")
    p.add_argument("--extra", action="append", metavar="NAME",
                   help="PyPI extra whose requirements come with each release (e.g. crt for botocore's awscrt pin)")
    p.add_argument("--cases", nargs="+", metavar="PATH", help="case files or folders (default: cases/)")
    p.add_argument("--adapter-dir", action="append", metavar="DIR", help="where adapter folders are (default: adapters/)")
    p.add_argument("--cache", metavar="DIR", help="where releases are installed (default: $SIGHARNESS_CACHE or ~/.cache/sigharness)")
    p.add_argument("--out", metavar="DIR", help="keep each probe's run here (default: a new temporary folder)")
    p.add_argument("--isolate-network", choices=("auto", "on", "off"), default="auto")
    p.set_defaults(func=cmd_bisect)
