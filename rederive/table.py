"""The table of docs/rederivation.md from rederive/*.json (sample, independent judgement, library re-runs).

    python rederive/table.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
RERUNS = ("python_libs.json", "js_libs.json", "ruby_lib.json", "go_libs.json")


def main() -> int:
    sample = json.loads((HERE / "sample.json").read_text())["sample"]
    judged = {(e["case"], e["mode"], e["adapter"]): e for e in json.loads((HERE / "results.json").read_text())}
    reruns = {}
    for name in RERUNS:
        if (HERE / name).exists():
            for e in json.loads((HERE / name).read_text()):
                reruns[(e["case"], e["mode"], e["adapter"])] = e
    counts = {"judged": 0, "judged_agree": 0, "rerun": 0, "rerun_same": 0, "rerun_refused": 0}
    for i, row in enumerate(sample, 1):
        key = (row["case"], row["mode"], row["adapter"])
        e = judged[key]
        valid = e.get("independent_valid")
        if valid is not None:
            counts["judged"] += 1
            counts["judged_agree"] += valid == e["harness_valid"]
        independent = "—" if valid is None else ("accepts" if valid else "rejects: " + e.get("independent_why", ""))
        again = reruns.get(key)
        if again is None:
            rerun = "—"
        elif "refused" in again:
            counts["rerun"] += 1
            counts["rerun_refused"] += row["reason"].endswith(again["refused"][:40]) or again["refused"][:40] in row["reason"]
            rerun = "refuses: " + again["refused"][:60]
        else:
            counts["rerun"] += 1
            counts["rerun_same"] += bool(again.get("same_as_recorded"))
            rerun = "same request" if again.get("same_as_recorded") else "differs"
        harness = "—" if e["harness_valid"] is None else ("accepts" if e["harness_valid"] else "rejects")
        if e["harness_rules"] not in (None, "spec"):
            harness += f" ({e['harness_rules']})"
        reason = row["reason"].replace("|", "\\|").replace("\n", " ")[:110]
        print(f"| {i} | `{row['case']}` | {row['mode']} | {row['adapter']} | {row['status']} | {reason} | {harness} | {independent} | {rerun} |")
    print()
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
