"""Benchmark (run on demand, not part of the tests): a warm full run and the harness's overhead.

    python benchmarks/full_run.py [--cases cases ../shared/vectors/aws-c-auth] [--repeat 3]

1. Builds every adapter once (not timed), then times `sigharness run` over the cases with all
   adapters, `--repeat` times, and reports the best and median wall time and checks per second.
2. From the results: per check, the time the harness saw (duration_ms) minus the time the adapter
   reports inside the library (elapsed_ns) -- pipe, JSON and adapter glue included -- and the
   harness's own judging time (judge_ms: reference comparison, verification, integrity).
3. Prints markdown for docs/performance.md. Signing throughput is `sigharness bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=[str(ROOT / "cases"), os.environ.get("SIGHARNESS_SUITE", str(ROOT.parent / "shared" / "vectors" / "aws-c-auth"))])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "harness", "setup", "--no-system"], cwd=ROOT, env=env, check=True)
    walls, data = [], None
    for i in range(args.repeat):
        out = Path(tempfile.mkdtemp(prefix="sigharness-bench-"))
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "harness", "run", "--cases", *args.cases, "--out", str(out), "--no-report", "--quiet"],
                       cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - started)
        data = json.loads((out / "results.json").read_text())
        print(f"run {i + 1}: {walls[-1]:.2f}s", file=sys.stderr)
    assert data is not None
    rows = data["results"]
    n = len(rows)
    overhead = [r["duration_ms"] - (r.get("elapsed_ns") or 0) / 1e6 for r in rows if "duration_ms" in r]
    judge = [r["judge_ms"] for r in rows if "judge_ms" in r]
    library_ms = sum((r.get("elapsed_ns") or 0) for r in rows) / 1e6
    print(f"### Full warm run ({time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})\n")
    print(f"- {n} checks ({len(data['cases'])} cases x modes x {len(data['adapters'])} adapters)")
    print(f"- wall time: best {min(walls):.2f} s, median {statistics.median(walls):.2f} s over {len(walls)} runs "
          f"({n / min(walls):,.0f} checks/s), including start-up of every adapter process")
    print(f"- time inside the libraries, all adapters: {library_ms / 1000:.2f} s")
    print(f"- per check, harness-observed time minus library time (pipe, JSON, adapter glue, judging): "
          f"median {statistics.median(overhead):.3f} ms, p90 {statistics.quantiles(overhead, n=10)[-1]:.3f} ms")
    timing = data["manifest"].get("timing", {})
    print(f"- the harness process's own CPU time (loading, reference signing, judging, journal; adapters excluded): "
          f"{timing.get('harness_cpu_s')} s = {timing.get('harness_cpu_ms_per_check')} ms per check")
    print(f"- per check, the harness's own judging (reference comparison, verification, integrity): "
          f"median {statistics.median(judge):.3f} ms, mean {statistics.mean(judge):.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
