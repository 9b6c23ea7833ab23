"""Re-match the oracle disagreements of a results.json against harness/oracle_differences.yaml (no run):
how many are triaged (a reviewed entry covers them), per entry, and the classes still to triage.

    PYTHONPATH=$PWD python benchmarks/oracle_triage.py /work/fullrun-main/results.json
"""

from __future__ import annotations

import collections
import json
import re
import sys

from harness.model import SignedRequest
from harness.oracles import disagreements, received_text


def main(path: str) -> int:
    data = json.load(open(path, encoding="utf-8"))
    per_entry: collections.Counter[tuple[str, str]] = collections.Counter()
    untriaged: dict[tuple[str, ...], list[str]] = collections.defaultdict(list)
    for row in data.get("results") or []:
        verification, signed_json, opinions = row.get("verification"), row.get("signed"), row.get("opinions")
        if not verification or not signed_json or not opinions:
            continue
        signed = SignedRequest.from_json(signed_json)
        for flag in disagreements(row["case"], bool(verification.get("valid")), opinions,
                                  ours_reason=str(verification.get("reason") or ""), path=signed.parts()[2],
                                  received=received_text(signed), ours_rules=str(verification.get("rules") or "spec")):
            if flag["known"]:
                per_entry[(flag["oracle"], flag["known"])] += 1
            else:
                reason = re.sub(r"[0-9a-f]{64}", "…", flag["reason"])[:80]
                untriaged[(flag["oracle"], flag["ours"], flag["theirs"], reason)].append(f"{row['case']} {row['mode']} {row['adapter']}")
    print("| oracle | entry | disagreements |\n| --- | --- | ---: |")
    for (oracle, entry), n in sorted(per_entry.items()):
        print(f"| {oracle} | {entry} | {n} |")
    total = sum(len(v) for v in untriaged.values())
    print(f"\ntriaged: {sum(per_entry.values())}, to triage: {total}")
    for key, rows in sorted(untriaged.items(), key=lambda kv: -len(kv[1])):
        print(len(rows), key, rows[:4])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "results.json"))
