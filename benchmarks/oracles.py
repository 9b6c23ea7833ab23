"""Benchmark (run on demand, not part of the tests): a warm full run with every oracle and without.

    python benchmarks/oracles.py [--cases cases ../shared/vectors/aws-c-auth] [--repeat 3] [--adapters A,B]

Builds every adapter and oracle once (not timed; a first run does it), then times `sigharness run`
alternately with `--no-oracles` and with every oracle, `--repeat` times each, and prints the best and
median wall times, their ratio (the target is at most 1.2x), and the agreement table of the last run
with oracles, as markdown for docs/performance.md and docs/oracles.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed_run(cases: list[str], adapters: str | None, oracles: bool, env: dict[str, str]) -> tuple[float, dict, float]:
    """(wall seconds, results.json, CPU seconds of the run: the harness and every adapter and oracle process it waited for)."""
    out = Path(tempfile.mkdtemp(prefix="sigharness-bench-oracles-"))
    cmd = [sys.executable, "-m", "harness", "run", "--cases", *cases, "--out", str(out), "--no-report", "--quiet"]
    cmd += [] if oracles else ["--no-oracles"]
    cmd += ["--adapters", adapters] if adapters else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, dict(json.loads((out / "results.json").read_text()), _out=str(out)), cpu


def main() -> int:
    from harness.oracles import table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=[str(ROOT / "cases"), os.environ.get("SIGHARNESS_SUITE", str(ROOT.parent / "shared" / "vectors" / "aws-c-auth"))])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--adapters", help="signers (default: all)")
    parser.add_argument("--no-warm-up", action="store_true", help="skip the untimed first run (builds)")
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if not args.no_warm_up:
        timed_run(args.cases, args.adapters, True, env)
    walls: dict[bool, list[float]] = {False: [], True: []}
    cpus: dict[bool, list[float]] = {False: [], True: []}
    loads: list[float] = []
    data: dict = {}
    for i in range(args.repeat):
        for oracles in (False, True):
            loads.append(os.getloadavg()[0])
            wall, result, cpu = timed_run(args.cases, args.adapters, oracles, env)
            walls[oracles].append(wall)
            cpus[oracles].append(cpu)
            if oracles:
                data = result
            print(f"run {i + 1} {'with' if oracles else 'without'} oracles: {wall:.2f}s wall, {cpu:.2f}s CPU, "
                  f"load {loads[-1]:.1f} before, {result.get('_out')}", file=sys.stderr)
    best = {k: min(v) for k, v in walls.items()}
    median = {k: statistics.median(v) for k, v in walls.items()}
    load = os.getloadavg()[0]
    print(f"### Oracles on and off ({time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load {load:.1f} at the end)\n")
    print(f"- {len(data.get('results', []))} checks, {len(data.get('adapters', {}))} signers, oracles: "
          f"{', '.join(n for n, o in (data.get('oracles') or {}).items() if o.get('available')) or 'none'}")
    print(f"- without oracles: best {best[False]:.2f} s, median {median[False]:.2f} s over {len(walls[False])} runs")
    print(f"- with every oracle: best {best[True]:.2f} s, median {median[True]:.2f} s over {len(walls[True])} runs")
    print(f"- ratio: best {best[True] / best[False]:.2f}x, median {median[True] / median[False]:.2f}x (target: at most 1.2x); "
          f"pairs: {', '.join(f'{b / a:.2f}x' for a, b in zip(walls[False], walls[True]))}")
    print(f"- CPU of the whole run (harness, signers, oracles): without {statistics.median(cpus[False]):.1f} s, with "
          f"{statistics.median(cpus[True]):.1f} s (median), {statistics.median(cpus[True]) / statistics.median(cpus[False]):.2f}x")
    print(f"- load average (1 min) before each run: {min(loads):.1f} to {max(loads):.1f}")
    asked = {n: o.get("asked") for n, o in (data.get("oracles") or {}).items()}
    print(f"- requests each oracle answered (the rest were identical requests, from the cache): {asked}\n")
    print("| oracle | library | judged | agree | rate | disagree: known | disagree: to triage | n/a |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for o in table(data):
        rate = "—" if o["rate"] is None else f"{100 * o['rate']:.1f}%"
        print(f"| {o['name']} | {o['library']} {o['version']} | {o['judged']} | {o['agree']} | {rate} | {o['known']} | "
              f"{o['unknown']} | {o['not_applicable']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
