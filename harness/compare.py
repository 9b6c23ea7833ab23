"""Judge one adapter answer: compare it stage by stage with the expectation, verify it as a
server would, and give the verdict (pass, variant, fail, unsupported, error)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from harness.http_text import parse_signed_request
from harness.integrity import request_changes
from harness.model import SINGLE, Check, SignedRequest
from harness.reference import surface_of
from harness.reference.authorization import components
from harness.reference.encoding import uri_decode
from harness.verify.single import ServerRules, verify_with_choices

MAX_STAGE_TEXT = 64 * 1024
ECDSA_MASK = "<ECDSA signature: random per signing, verified instead of compared>"
# Why a stage was not compared.
NOTE_ECDSA = "ECDSA signatures are random; verified, not compared"
NOTE_NOT_EXPOSED = "not exposed by the library"
NOTE_NO_EXPECTATION = "no expectation"


def uncompared_note(stage: str, algorithm: str | None, actual: str | None) -> str:
    """Why `judge` did not compare a stage (results files keep this derived, not written)."""
    if stage == "signature" and algorithm == "sigv4a":
        return NOTE_ECDSA
    return NOTE_NOT_EXPOSED if actual is None else NOTE_NO_EXPECTATION


@dataclass
class Expected:
    """What a correct signer produces for one check, stage by stage, and where that came from."""

    stages: dict[str, str]
    source: str  # "case" (the case's own expectation files or blessed values) or "reference"


def expected_for(check: Check) -> Expected:
    """The case's expectations for this mode, completed by the reference signer."""
    if check.case.surface != SINGLE:
        from harness.surface_compare import expected_for_surface

        return expected_for_surface(check)
    reference = surface_of(check).sign(check)
    assert reference.signed is not None
    ref = {
        "canonical_request": reference.stages["canonical_request"],
        "string_to_sign": reference.stages["string_to_sign"],
        "signature": reference.stages["signature"],
        "signed_request": render_signed_request(reference.signed, check.context.algorithm),
    }
    given = check.case.expect.get(check.mode)
    if not given:
        return Expected(ref, "reference")
    stages = dict(ref)
    for stage in ("canonical_request", "string_to_sign", "signature"):
        if stage in given:
            stages[stage] = given[stage]
    if "signed_request" in given:
        stages["signed_request"] = render_signed_request(parse_signed_request(given["signed_request"]), check.context.algorithm)
    return Expected(stages, "case")


def signature_of(signed: SignedRequest) -> str | None:
    for name, value in signed.headers:
        if name.lower() == "authorization" and "Signature" in components(value)[1]:
            return components(value)[1]["Signature"].strip()
    _, _, _, query = signed.parts()
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if uri_decode(key) == b"X-Amz-Signature":
            return value
    return None


def render_signed_request(signed: SignedRequest, algorithm: str) -> str:
    """A stable text form of what matters in a signed request: method, path, query parameters
    (sorted, as written), the signed headers and every x-amz-* / Authorization header."""
    _, host, path, query = signed.parts()
    lines = [f"{signed.method} {path}"]
    params = sorted(p for p in query.split("&") if p) if query else []
    for param in params:
        key, _, value = param.partition("=")
        if algorithm == "sigv4a" and uri_decode(key) == b"X-Amz-Signature":
            value = ECDSA_MASK
        lines.append(f"?{key}={value}")
    signed_names: set[str] = set()
    for name, value in signed.headers:
        if name.lower() == "authorization" and "SignedHeaders" in components(value)[1]:
            signed_names = set(components(value)[1]["SignedHeaders"].strip().split(";"))
    for p in params:
        key, _, value = p.partition("=")
        if uri_decode(key) == b"X-Amz-SignedHeaders":
            signed_names = set(uri_decode(value).decode("utf-8", "replace").split(";"))
    kept = []
    for name, value in signed.headers:
        lname = name.lower()
        if lname in signed_names or lname.startswith("x-amz-") or lname == "authorization":
            if lname == "authorization" and algorithm == "sigv4a" and "Signature=" in value:
                value = value.rsplit("Signature=", 1)[0] + "Signature=" + ECDSA_MASK
            kept.append(f"{lname}: {value.strip()}")
    if "host" in signed_names and not any(k.startswith("host:") for k in kept):
        kept.append(f"host: {host}")
    lines += sorted(kept, key=lambda line: line.split(":", 1)[0])  # repeated headers keep their order
    return "\n".join(lines)


def first_difference(expected: str, actual: str) -> tuple[int, str]:
    """(1-based line of the first difference, unified diff)."""
    exp_lines, act_lines = expected.split("\n"), actual.split("\n")
    line = next((i + 1 for i, (a, b) in enumerate(zip(exp_lines, act_lines)) if a != b), min(len(exp_lines), len(act_lines)) + 1)
    diff = "\n".join(difflib.unified_diff(exp_lines, act_lines, "expected", "actual", lineterm="", n=1))
    return line, _clip(diff)


def _clip(text: str | None) -> str | None:
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

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "stage": self.stage,
            "stages": self.stages,
            "verification": self.verification,
            "signed": self.signed,
        }


def compare_stages(names: tuple[str, ...], expected: dict[str, str], actual: dict[str, str | None],
                   algorithm: str = "sigv4") -> tuple[dict[str, dict[str, Any]], str | None]:
    """Each stage's entry (expected, actual, compared, equal, first differing line) and the first
    stage that differs."""
    stages: dict[str, dict[str, Any]] = {}
    first: str | None = None
    for stage in names:
        exp = expected.get(stage)
        act = actual.get(stage)
        entry: dict[str, Any] = {"expected": _clip(exp), "actual": _clip(act)}
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


def judge(check: Check, expected: Expected, answer: dict[str, Any]) -> Judgement:
    """The verdict for one adapter answer (already known to be a well-formed protocol message)."""
    status = answer.get("status")
    case = check.case
    if status == "unsupported":
        return Judgement("unsupported", str(answer.get("reason") or "no reason given"))
    if status == "error":
        return Judgement("error", f"adapter error: {answer.get('reason') or 'no reason given'}")
    if status == "rejected":
        why = str(answer.get("reason") or "no reason given")
        if case.expect_error:
            return Judgement("pass", f"refused as expected ({case.expect_error}): {why}")
        if case.flags.get("refusal_ok"):
            return Judgement("variant", f"refused (the case allows it): {why}", stage="sign")
        return Judgement("fail", f"refused a valid request: {why}", stage="sign")
    if status != "signed":
        return Judgement("error", f"unknown answer status {status!r}")
    if check.case.surface != SINGLE:
        from harness.surface_compare import judge_surface

        return judge_surface(check, expected, answer)
    try:
        signed = SignedRequest.from_json(answer["signed"])
    except (KeyError, TypeError, ValueError) as exc:
        return Judgement("error", f"malformed `signed` in the answer: {exc}")

    algorithm = check.context.algorithm
    actual = {
        "canonical_request": answer.get("canonical_request"),
        "string_to_sign": answer.get("string_to_sign"),
        "signature": None if algorithm == "sigv4a" else signature_of(signed),
        "signed_request": render_signed_request(signed, algorithm),
    }
    stages, first = compare_stages(surface_of(check).stages, expected.stages, actual, algorithm)

    body = case.request.body if signed.body is None else signed.body
    rules = ServerRules.for_context(check.context)
    verification = verify_with_choices(signed, body, rules, case.open_choices)
    ver = {"valid": verification.valid, "reason": verification.reason, "rules": verification.rules}
    if not verification.valid and verification.canonical_request is not None:
        ver["canonical_request"] = _clip(verification.canonical_request)
    result = Judgement("pass", stage=first, stages=stages, verification=ver, signed=answer["signed"])
    changes = request_changes(case.request, signed, check.context)
    if changes:
        ver["request_changes"] = changes
    if case.expect_error:
        result.status, result.reason = "fail", f"signed a request a correct signer refuses: {case.expect_error}"
        result.stage = first or "sign"
    elif not verification.valid:
        result.status = "fail"
        where = f"; first difference in {first}" if first else ""
        result.reason = f"a server would reject it: {verification.reason}{where}"
        result.stage = first or "signed_request"
    elif changes:
        result.status = "fail"
        result.reason = "signed a different request than the one asked for: " + "; ".join(changes[:5])
        result.stage = first or "signed_request"
    elif first is not None:
        result.status = "variant"
        choice = f" under the open choice {verification.rules}" if verification.rules != "spec" else ""
        result.reason = f"differs from the expectation in {first}, but a server accepts it{choice}"
    return result
