"""`sigharness fuzz`: differential fuzzing across the adapters (docs/fuzzing.md)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from harness.cli.common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, PROJECT_ROOT, UsageError, adapter_list, env_pairs

DEFAULT_OUT = PROJECT_ROOT / "cases" / "found"


def _choices(value: str | None, allowed: tuple[str, ...], option: str) -> tuple[str, ...]:
    if not value:
        return allowed
    picked = tuple(v.strip() for v in value.split(",") if v.strip())
    bad = [v for v in picked if v not in allowed]
    if bad or not picked:
        raise UsageError(f"{option}: {', '.join(bad) or 'nothing'} not among {', '.join(allowed)}")
    return picked


class _Progress:
    """One line on stderr: rewritten in place on a terminal, every few seconds otherwise."""

    def __init__(self, options: Any, stream=None, quiet: bool = False):
        self.options = options
        self.stream = stream = stream or sys.stderr  # (the stream of the call, not the one of the module's import)
        self.quiet = quiet
        self.tty = stream.isatty()
        self.last = 0.0
        self.every = 0.25 if self.tty else 5.0

    def __call__(self, stats) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        final = stats.phase == "done"
        if not final and now - self.last < self.every:
            return
        self.last = now
        line = self.line(stats)
        if self.tty:
            self.stream.write("\r\033[K" + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def line(self, stats) -> str:
        o = self.options
        v = stats.verdicts
        return (
            f"fuzz [{stats.elapsed:4.0f}s/{o.seconds:g}s] examples {stats.generated}/{o.max_examples} "
            f"(+{stats.shrink_calls} shrinking, {stats.evaluated} signed) | signatures {len(stats.signatures)}: "
            f"agree {v['agree']} known {v['known']} compound {v['compound']} shadow {v['shadow']} | new {len(stats.findings)} | {stats.phase}"
        )

    def log(self, text: str) -> None:
        if self.tty and not self.quiet:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.stream.flush()


def cmd_fuzz(args: argparse.Namespace) -> int:
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        raise UsageError("fuzz needs Hypothesis: pip install -c constraints.txt hypothesis") from None
    from harness.cases import load_cases
    from harness.fuzz.engine import Fleet, FuzzOptions, Fuzzer, known_from_cases, select
    from harness.fuzz.signature import Known
    from harness.fuzz.strategies import METHODS, SERVICES, Grammar
    from harness.fuzz.writer import load_found, write_finding
    from harness.model import ALGORITHMS, MODES

    if args.max_examples < 1 or args.seconds <= 0:
        raise UsageError("--max-examples must be at least 1 and --seconds above 0")
    grammar = Grammar(
        modes=_choices(args.modes, MODES, "--modes"),
        algorithms=_choices(args.algorithms, ALGORITHMS, "--algorithms"),
        services=_choices(args.services, SERVICES, "--services"),
        methods=_choices(args.methods, METHODS, "--methods"),
        surfaces=_choices(args.surfaces or "single", ("single", "aws-chunked", "event-stream"), "--surfaces"),
        tokens=not args.no_tokens,
        bodies=not args.no_bodies,
    )
    options = FuzzOptions(
        seed=args.seed, max_examples=args.max_examples, seconds=args.seconds, shrink_seconds=args.shrink_seconds,
        grammar=grammar, keep_compound=args.keep_compound, exact_shrink=args.exact_shrink, max_findings=args.max_findings,
    )
    out = Path(args.out) if args.out else DEFAULT_OUT
    progress = _Progress(options, quiet=args.quiet)
    log = progress.log

    specs, problems = select([Path(p) for p in args.adapter_dir] if args.adapter_dir else None, adapter_list(args.adapters))
    for line in problems:
        log(line)
    if any(line.startswith("unknown adapter") for line in problems) or not specs:
        return EXIT_USAGE
    fleet = Fleet(specs, adapter_env=env_pairs(args.adapter_env), timeout=args.timeout,
                  log_dir=Path(args.log_dir) if args.log_dir else None, log=log)
    try:
        fleet.start()
        if not fleet.names:
            log("no adapter could be started")
            return EXIT_USAGE
        log("fuzzing " + ", ".join(f"{n} {v}" for n, v in fleet.versions().items())
            + f" (seed {args.seed}, up to {args.max_examples} examples or {args.seconds:g}s)")

        existing = load_found(out)
        extra = load_cases(args.known).cases if args.known else []
        seen_ids = {c.id for c in existing}
        cases = existing + [c for c in extra if c.id not in seen_ids]
        if cases:
            started = time.monotonic()
            log(f"signing {len(cases)} existing cases to learn their divergence signatures ...")
        known = Known(known_from_cases(cases, fleet.evaluate, log))
        if cases:
            log(f"{len(known)} divergence signatures known from {len(cases)} existing cases ({time.monotonic() - started:.0f}s)")

        written: dict[int, tuple[Path, str]] = {}

        def on_finding(finding) -> None:
            if args.dry_run:
                written[id(finding)] = (Path("(not written)"), finding.signature.describe())
                log(f"found ({finding.signature.describe()}): {finding.data['request']}")
                return
            path = write_finding(finding, out)
            written[id(finding)] = (path, finding.signature.describe())
            log(f"wrote {_rel(path)}: {finding.signature.describe()}")

        def on_prune(finding) -> None:
            path, _ = written.pop(id(finding), (None, ""))
            if path is not None and path.exists():
                path.unlink()

        fuzzer = Fuzzer(fleet.evaluate, options, known, on_finding=on_finding, on_prune=on_prune, progress=progress, log=log)
        stats = fuzzer.run()
    except KeyboardInterrupt:
        log(f"sigharness fuzz: interrupted; the cases written so far are in {_rel(out)}")
        return 130
    finally:
        fleet.close()

    print(f"{stats.generated} examples ({stats.shrink_calls} more while shrinking, {stats.evaluated} distinct requests signed by "
          f"{len(fleet.names)} adapters) in {stats.elapsed:.0f}s, {stats.rounds} rounds; stopped after {stats.stopped}")
    print(f"{len(stats.signatures)} divergence signatures seen: {stats.verdicts['agree']} examples where all agree, "
          f"{stats.verdicts['known']} known, {stats.verdicts['compound']} compound, {stats.verdicts['shadow']} shadows; {len(written)} new"
          + (f" ({len(stats.pruned)} more dropped: explained by smaller findings)" if stats.pruned else ""))
    for path, description in written.values():
        print(f"  {_rel(path)}: {description}")
    if fleet.unavailable:
        for name, reason in sorted(fleet.unavailable.items()):
            print(f"  (adapter {name} unavailable: {reason})")
    return EXIT_FINDINGS if written else EXIT_OK


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fuzz",
        help="differential fuzzing: generate requests, sign them with every adapter, write new divergences as cases",
        description="Generate requests from the grammar of the parts signers disagree on, sign each with every "
        "selected adapter, classify the outcomes (the divergence signature), shrink each new signature to a "
        "minimal request and write it as a YAML case. Exit 1 when something new was found.",
    )
    p.add_argument("--adapters", metavar="A,B", help="comma-separated adapter names (default: all)")
    p.add_argument("--adapter-dir", action="append", metavar="DIR", help="look for adapter manifests in DIR instead of adapters/ (repeatable)")
    p.add_argument("--adapter-env", action="append", metavar="KEY=VALUE", help="extra environment for adapter builds and processes")
    p.add_argument("--max-examples", type=int, default=1000, metavar="N", help="generated examples in all (default 1000; shrinking not counted)")
    p.add_argument("--seconds", type=float, default=300.0, metavar="S", help="stop searching after S seconds, counted from the first example (default 300)")
    p.add_argument("--shrink-seconds", type=float, default=60.0, metavar="S", help="time to shrink each new divergence (default 60)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed; the same seed, adapters and known cases give the same run (default 0)")
    p.add_argument("--out", metavar="DIR", help="where found cases are written (default cases/found/); cases already there are known")
    p.add_argument("--known", action="append", metavar="PATH", help="cases whose divergences are not new (signed with the adapters first; e.g. --known cases)")
    p.add_argument("--modes", metavar="M,M", help="header,query (default both)")
    p.add_argument("--algorithms", metavar="A,A", help="sigv4,sigv4a (default both)")
    p.add_argument("--services", metavar="S,S", help="services to draw from (default: service,s3,execute-api,es,sts,iotdevicegateway,vpc-lattice-svcs)")
    p.add_argument("--methods", metavar="M,M", help="methods to draw from")
    p.add_argument("--surfaces", metavar="S,S",
                   help="signing surfaces to draw: single (default), aws-chunked, event-stream (docs/streaming.md)")
    p.add_argument("--no-tokens", action="store_true", help="never add a session token")
    p.add_argument("--no-bodies", action="store_true", help="never add a body")
    p.add_argument("--keep-compound", action="store_true", help="also store signatures that are a union of known ones")
    p.add_argument("--exact-shrink", action="store_true", help="shrink keeping the exact signature (default: shrinking may isolate a new part of it)")
    p.add_argument("--max-findings", type=int, metavar="N", help="stop after N new divergences")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds an adapter may take per request (default 10)")
    p.add_argument("--log-dir", metavar="DIR", help="keep each adapter's stderr in DIR/<adapter>.log")
    p.add_argument("--dry-run", action="store_true", help="report what is new, write nothing")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_fuzz)
