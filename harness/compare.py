"""Judge one adapter answer: compare it stage by stage with the expectation, verify it as a
server would, and give the verdict (pass, variant, fail, unsupported, error)."""

from __future__ import annotations

from typing import Any

from harness.http_text import parse_signed_request
from harness.integrity import request_changes
from harness.judgement import clip, compare_stages  # noqa: F401 - clip is also imported from here
from harness.judgement import Expected, Judgement, first_difference, uncompared_note  # noqa: F401 - also imported from here
from harness.model import SINGLE, Check, SignedRequest
from harness.reference import surface_of
from harness.reference.authorization import components
from harness.reference.encoding import uri_decode
from harness.stream_compare import STREAM_SURFACES, expected_for_stream, judge_stream
from harness.surface_compare import expected_for_surface, judge_surface
from harness.verify.single import ServerRules, verify_with_choices

ECDSA_MASK = "<ECDSA signature: random per signing, verified instead of compared>"


def expected_for(check: Check) -> Expected:
    """The case's expectations for this mode, completed by the reference signer."""
    if check.case.surface in STREAM_SURFACES:
        return expected_for_stream(check)
    if check.case.surface != SINGLE:
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
    if check.case.surface in STREAM_SURFACES:
        return judge_stream(check, expected, answer)
    if check.case.surface != SINGLE:
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
        ver["canonical_request"] = clip(verification.canonical_request)
    result = Judgement("pass", stage=first, stages=stages, verification=ver, signed=answer["signed"])
    if verification.rules == "spec" and algorithm == "sigv4a":  # for the oracles' hints (harness/oracles.py); not stored
        result.spec_canonical_request = verification.canonical_request
    changes = request_changes(case.request, signed, check.context, case.open_choices)
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
