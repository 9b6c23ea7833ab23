"""Draw the re-derivation sample (docs/rederivation.md): 50 non-pass verdicts (fail or variant) of a full
run, seeded, spread over the adapters (round robin over the adapters in a shuffled order, one random row
of each at a time), written to rederive/sample.json.

    python rederive/sample.py /work/fullrun-main/results.json --seed 1313 --size 50
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--seed", type=int, default=1313)
    parser.add_argument("--size", type=int, default=50)
    args = parser.parse_args()
    data = json.loads(Path(args.results).read_text())
    by_adapter: dict[str, list[dict]] = defaultdict(list)
    for row in data["results"]:
        if row["status"] in ("fail", "variant"):
            by_adapter[row["adapter"]].append(row)
    rng = random.Random(args.seed)
    adapters = sorted(by_adapter)
    rng.shuffle(adapters)
    for rows in by_adapter.values():
        rng.shuffle(rows)
    sample: list[dict] = []
    while len(sample) < args.size and any(by_adapter.values()):
        for name in adapters:
            if by_adapter[name] and len(sample) < args.size:
                sample.append(by_adapter[name].pop())
    out = []
    for row in sample:
        kept = {k: row.get(k) for k in ("case", "mode", "adapter", "status", "reason", "verification", "signed", "opinions")}
        form = ((row.get("stages") or {}).get("form_fields") or {}).get("actual")
        if form:  # a POST form's fields (the only stage the re-derivation reads)
            kept["stages"] = {"form_fields": {"actual": form}}
        out.append(kept)
    (HERE / "sample.json").write_text(json.dumps({"results": args.results, "seed": args.seed, "sample": out}, indent=1) + "\n")
    for row in out:
        print(f"{row['status']:8} {row['adapter']:32} {row['mode']:6} {row['case']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
