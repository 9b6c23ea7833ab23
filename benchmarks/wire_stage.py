"""What the wire stage adds to a run: the same run over the Python adapters with `--no-send` and with
the wire stage, and the added wall time divided by the requests sent (ADAPTER+CLIENT rows). Prints
both wall times, the requests sent, the milliseconds added per sent request and the load average.

    PYTHONPATH=$PWD python benchmarks/wire_stage.py [CASE PATH ...]   (default: cases/wire cases/scenarios cases/path cases/query)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADAPTERS = "py-botocore,py-botocore-crt,py-awscrt,py-requests-aws4auth,py-aws-requests-auth,py-docs-example"
DEFAULT_CASES = ["cases/wire", "cases/scenarios", "cases/path", "cases/query"]


def run(cases: list[str], out: Path, *flags: str) -> tuple[float, dict]:
    argv = [sys.executable, "-m", "harness", "run", "--cases", *cases, "--adapters", ADAPTERS, "--out", str(out),
            "--no-report", "--quiet", "--no-oracles", *flags]
    started = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=False, capture_output=True, timeout=3600)
    wall = time.perf_counter() - started
    return wall, json.loads((out / "results.json").read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    cases = argv or DEFAULT_CASES
    with tempfile.TemporaryDirectory(prefix="sigharness-bench-wire-") as tmp:
        rounds = []
        for i in range(3):
            plain, _ = run(cases, Path(tmp) / f"plain{i}", "--no-send")
            wired, data = run(cases, Path(tmp) / f"wire{i}")
            sent = sum(1 for r in data["results"] if r.get("wire"))
            rounds.append((plain, wired, sent))
            print(f"round {i + 1}: --no-send {plain:.2f}s, with the wire stage {wired:.2f}s, {sent} requests sent, "
                  f"{1000 * (wired - plain) / max(sent, 1):.2f} ms added per sent request", flush=True)
    rounds.sort(key=lambda r: r[1] - r[0])
    plain, wired, sent = rounds[1]
    print(f"median: {1000 * (wired - plain) / max(sent, 1):.2f} ms added per sent request "
          f"({sent} requests; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
