"""Write a finding as a YAML case in the docs/cases.md format, under cases/found/.

The case is the drawn mapping itself (so the normal loader rebuilds exactly the request that was
fuzzed; the writer checks that it does), with an id `found/<hash of the request>`, tags
`[found, <area>...]`, and under `flags`: `found_by` (seed, round, signature, first differing stage,
per-adapter stages, the adapters involved) and a `note`. The tool's note lists what each deviating
adapter did; a reviewer replaces it with what the library does and why (docs/fuzzing.md).
Expectations are then blessed from the reference signer, like every curated case.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from harness import bless
from harness.cases import load_cases
from harness.cases.yamlfile import load_file
from harness.fuzz.engine import Finding, data_key
from harness.fuzz.signature import NOT_DEVIATING, Signature
from harness.model import Case, Check

NOTE_REASON_CHARS = 240
NOTE_DIFF_LINES = 4


def case_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(data_key(data).encode("utf-8")).hexdigest()[:10]


def areas(data: dict[str, Any]) -> list[str]:
    """The parts of the grammar still present in a (shrunk) request, most specific first."""
    req, ctx = data["request"], data.get("context", {})
    found = []
    if req.get("query"):
        found.append("query")
    if req.get("path", "/") != "/":
        found.append("path")
    if req.get("headers"):
        found.append("headers")
    if req.get("body") is not None:
        found.append("bodies")
    if (ctx.get("credentials") or {}).get("session_token"):
        found.append("token")
    if ctx.get("algorithm") == "sigv4a":
        found.append("sigv4a")
    if ctx.get("service", "service") != "service":
        found.append("services")
    if req.get("method", "GET") != "GET":
        found.append("methods")
    if ctx.get("modes") == ["query"]:
        found.append("presign")
    if data.get("surface"):
        found.insert(0, data["surface"])  # aws-chunked, event-stream
    return found or ["basic"]


def _request_text(data: dict[str, Any], limit: int = 60) -> str:
    req = data["request"]
    target = req.get("path", "/") + (f"?{req['query']}" if req.get("query") else "")
    if len(target) > limit:
        target = target[: limit - 3] + "..."
    return f"{req['method']} {target}"


def title_for(data: dict[str, Any], signature: Signature) -> str:
    ctx = data.get("context", {})
    bits = [data["surface"] if data.get("surface") else f"{ctx.get('modes', ['header'])[0]} mode"]
    if ctx.get("service"):
        bits.append(ctx["service"])
    if ctx.get("algorithm") == "sigv4a":
        bits.append("sigv4a")
    if req_headers := data["request"].get("headers"):
        bits.append(f"{len(req_headers)} header(s)")
    deviating = signature.adapters
    who = ", ".join(deviating[:3]) + (f" and {len(deviating) - 3} more" if len(deviating) > 3 else "")
    return f"Fuzz: {_request_text(data)} ({', '.join(bits)}): {who} differ"


def tool_note(finding: Finding) -> str:
    """What the tool can say: who deviated, how, and the start of each first difference."""
    sig = finding.signature
    lines = [
        f"Found by `sigharness fuzz --seed {finding.seed}` (round {finding.round}); not reviewed yet. "
        f"{sig.describe()}."
    ]
    for name, outcome in sorted(finding.outcomes.items()):
        if outcome.status in NOT_DEVIATING:
            continue
        reason = " ".join(outcome.reason.split())
        if len(reason) > NOTE_REASON_CHARS:
            reason = reason[: NOTE_REASON_CHARS - 3] + "..."
        text = f"{name}: {outcome.status}" + (f" at {outcome.stage}" if outcome.stage else "") + f": {reason}"
        diff = _diff_excerpt(outcome.detail, outcome.stage)
        if diff:
            text += f" [{diff}]"
        lines.append(text)
    return "\n".join(lines)


def _diff_excerpt(detail: Any, stage: str | None) -> str:
    if not isinstance(detail, dict) or not stage:
        return ""
    stages = detail.get("stages") or {}
    entry = stages.get(stage) or next((e for name, e in stages.items() if name.startswith(stage + ".") and e.get("diff")), {})
    diff = entry.get("diff") or ""
    changed = [line for line in diff.split("\n") if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return " | ".join(changed[:NOTE_DIFF_LINES])


def case_mapping(finding: Finding, note: str | None = None) -> dict[str, Any]:
    data = finding.data
    digest = case_hash(data)
    req = dict(data["request"])
    url = req.pop("url", None) or f"https://{req.pop('host')}{req.pop('path', '/')}"  # streaming cases carry a url
    query = req.pop("query", "")
    if query:
        url += f"?{query}"
    request: dict[str, Any] = {"method": req.pop("method"), "url": url, **req}
    flags: dict[str, Any] = {"note": note or tool_note(finding)}
    flags.update(data.get("flags", {}))
    flags["found_by"] = {"seed": finding.seed, "round": finding.round, **finding.signature.to_found_by()}
    mapping = {
        "id": f"found/{digest}",
        "title": title_for(data, finding.signature),
        "tags": ["found", *areas(data)],
        "flags": flags,
        "request": request,
        "context": data.get("context", {}),
    }
    for key in ("surface", "chunked", "events"):  # a streaming case (harness/fuzz/streams.py)
        if key in data:
            mapping[key] = data[key]
    return mapping


def _comparable(check: Check) -> dict[str, Any]:
    data = check.to_json()
    data.pop("case")
    return data


def write_finding(finding: Finding, out_dir: Path, note: str | None = None) -> Path:
    """Write, check that the loader gives back the fuzzed request, bless; returns the file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    mapping = case_mapping(finding, note)
    path = out_dir / f"{mapping['id'].split('/', 1)[1]}.yaml"
    path.write_text(yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True, width=4096), encoding="utf-8")
    loaded = load_file(path)
    rebuilt = Check(loaded[0], finding.check.mode)
    if _comparable(rebuilt) != _comparable(finding.check):
        path.unlink()
        raise RuntimeError(f"the case written to {path} does not load back as the fuzzed request (a fuzzer bug)")
    bless.bless_file(path)
    return path


def load_found(out_dir: Path) -> list[Case]:
    """The cases already in the output folder (their found_by signatures are known)."""
    if not out_dir.is_dir():
        return []
    loaded = load_cases([out_dir])
    return loaded.cases
