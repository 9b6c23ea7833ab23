"""What the wire stage adds to a run: the same run with `--no-send` and with the wire stage, and the
added wall time divided by the requests sent (ADAPTER+CLIENT rows). Prints, per round, both wall
times, the requests sent, the milliseconds added per sent request, the harness's own CPU and the CPU
of everything the run started (adapters, relays) added per sent request, and the load average; then
the median round. Rounds alternate the two runs back to back, so both see the same load.

    PYTHONPATH=$PWD python benchmarks/wire_stage.py [--adapters A,B] [--rounds N] [CASE PATH ...]
    (default: the six Python signers below; cases/wire cases/scenarios cases/path cases/query; 3 rounds)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADAPTERS = "py-botocore,py-botocore-crt,py-awscrt,py-requests-aws4auth,py-aws-requests-auth,py-docs-example"
DEFAULT_CASES = ["cases/wire", "cases/scenarios", "cases/path", "cases/query"]


@dataclass
class Measured:
    wall: float  # seconds, the whole `sigharness run` process
    harness_cpu: float  # the harness process (results.json manifest.timing)
    all_cpu: float  # the harness and every process it started, user + system
    sent: int
    load: float  # 1-minute load average when the run ended


def run(cases: list[str], adapters: str, out: Path, *flags: str) -> Measured:
    chosen = [] if adapters == "all" else ["--adapters", adapters]  # all: the full run, every adapter
    argv = [sys.executable, "-m", "harness", "run", "--cases", *cases, *chosen, "--out", str(out),
            "--no-report", "--quiet", "--no-oracles", *flags]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=False, capture_output=True, timeout=3600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(wall, data["manifest"]["timing"]["harness_cpu_s"], cpu,
                    sum(1 for r in data["results"] if r.get("wire")), os.getloadavg()[0])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapters", default=ADAPTERS, help="signers (A,B,...), or `all` for the full run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("cases", nargs="*", default=DEFAULT_CASES)
    args = parser.parse_args(argv)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="sigharness-bench-wire-") as tmp:
        for i in range(args.rounds):
            plain = run(args.cases, args.adapters, Path(tmp) / f"plain{i}", "--no-send")
            wired = run(args.cases, args.adapters, Path(tmp) / f"wire{i}")
            rounds.append((plain, wired))
            sent = max(wired.sent, 1)
            print(f"round {i + 1}: --no-send {plain.wall:.2f}s, with the wire stage {wired.wall:.2f}s, {wired.sent} requests sent, "
                  f"{1000 * (wired.wall - plain.wall) / sent:.2f} ms added per sent request; CPU added per sent request: "
                  f"harness {1000 * (wired.harness_cpu - plain.harness_cpu) / sent:.2f} ms, all processes "
                  f"{1000 * (wired.all_cpu - plain.all_cpu) / sent:.2f} ms; load average {plain.load:.1f} / {wired.load:.1f}",
                  flush=True)
    rounds.sort(key=lambda r: r[1].wall - r[0].wall)
    plain, wired = rounds[len(rounds) // 2]
    print(f"median: {1000 * (wired.wall - plain.wall) / max(wired.sent, 1):.2f} ms added per sent request "
          f"({wired.sent} requests; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
