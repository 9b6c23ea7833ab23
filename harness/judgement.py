"""What a verdict is made of: the expectation for a check, the stage-by-stage comparison with an
adapter's answer, and the judgement (shared by every surface's judge: harness/compare.py for
single-shot signing, harness/surface_compare.py for POST forms and tokens)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

MAX_STAGE_TEXT = 64 * 1024
# Why a stage was not compared.
NOTE_ECDSA = "ECDSA signatures are random; verified, not compared"
NOTE_NOT_EXPOSED = "not exposed by the library"
NOTE_NO_EXPECTATION = "no expectation"
SPEC_CANONICAL_REQUEST = "_spec_canonical_request"  # a judged row's transient key (not a results field)
RECEIVED_BODY = "_received_body"  # a judged row's transient key: the body as a server receives it (an aws-chunked wire body)
RECEIVING_SERVER = "_receiving_server"  # a judged row's transient key: the oracles' `server` when it is not the check's


def uncompared_note(stage: str, algorithm: str | None, actual: str | None) -> str:
    """Why `judge` did not compare a stage (results files keep this derived, not written)."""
    if stage == "signature" and algorithm == "sigv4a":
        return NOTE_ECDSA
    return NOTE_NOT_EXPOSED if actual is None else NOTE_NO_EXPECTATION


def stored(signed: dict[str, Any] | None) -> dict[str, Any] | None:
    """A signed request as results.json keeps it: as answered, but for a null `body_b64` (the case's own body),
    which is left out -- a missing one reads as null (16 bytes on most signed rows: the full run's results.json
    at most 1 KB per check, docs/performance.md, "Results size and merging")."""
    if signed is not None and "body_b64" in signed and signed["body_b64"] is None:
        return {k: v for k, v in signed.items() if k != "body_b64"}
    return signed


@dataclass
class Expected:
    """What a correct signer produces for one check, stage by stage, and where that came from."""

    stages: dict[str, str]
    source: str  # "case" (the case's own expectation files or blessed values) or "reference"


def first_difference(expected: str, actual: str) -> tuple[int, str]:
    """(1-based line of the first difference, unified diff)."""
    exp_lines, act_lines = expected.split("\n"), actual.split("\n")
    line = next((i + 1 for i, (a, b) in enumerate(zip(exp_lines, act_lines)) if a != b), min(len(exp_lines), len(act_lines)) + 1)
    diff = "\n".join(difflib.unified_diff(exp_lines, act_lines, "expected", "actual", lineterm="", n=1))
    return line, clip(diff)


def clip(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_STAGE_TEXT:
        return text
    return text[:MAX_STAGE_TEXT] + f"\n... ({len(text) - MAX_STAGE_TEXT} more characters not kept)"


@dataclass
class Judgement:
    status: str
    reason: str = ""
    stage: str | None = None  # the first differing stage
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    verification: dict[str, Any] | None = None
    signed: dict[str, Any] | None = None
    # our verifier's canonical request under the spec rules, kept for the oracles (results rows drop it)
    spec_canonical_request: str | None = None
    # the body a server receives when it is not the signed request's (a stream's wire body), for the oracles
    received_body: bytes | None = None
    # the server the oracles are told of when it is not the check's context (a token's database or STS)
    receiving_server: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {
            "status": self.status,
            "reason": self.reason,
            "stage": self.stage,
            "stages": self.stages,
            "verification": self.verification,
            "signed": stored(self.signed),
        }
        if self.spec_canonical_request is not None:
            out[SPEC_CANONICAL_REQUEST] = self.spec_canonical_request
        if self.received_body is not None:
            out[RECEIVED_BODY] = self.received_body
        if self.receiving_server is not None:
            out[RECEIVING_SERVER] = self.receiving_server
        return out


def compare_stages(names: tuple[str, ...], expected: dict[str, str], actual: dict[str, str | None],
                   algorithm: str = "sigv4") -> tuple[dict[str, dict[str, Any]], str | None]:
    """Each stage's entry (expected, actual, compared, equal, first differing line) and the first
    stage that differs."""
    stages: dict[str, dict[str, Any]] = {}
    first: str | None = None
    for stage in names:
        exp = expected.get(stage)
        act = actual.get(stage)
        entry: dict[str, Any] = {"expected": clip(exp), "actual": clip(act)}
        if stage == "signature" and algorithm == "sigv4a":
            entry.update(compared=False, note=NOTE_ECDSA)
        elif act is None:
            entry.update(compared=False, note=NOTE_NOT_EXPOSED)
        elif exp is None:
            entry.update(compared=False, note=NOTE_NO_EXPECTATION)
        else:
            equal = exp == act
            entry.update(compared=True, equal=equal)
            if not equal:
                entry["line"], entry["diff"] = first_difference(exp, act)
                first = first or stage
        stages[stage] = entry
    return stages, first
