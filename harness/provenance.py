"""Which rule decided a verdict: every fail and variant row carries `decided_by` (docs/verdicts.md,
"Provenance"): the rule id of harness/verdict_rules.yaml, its first evidence link, and, once the oracles
have judged the row, which oracles agreed with our verifier and which did not."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from harness.model import Check, SignedRequest

RULES_FILE = "verdict_rules.yaml"
DECIDED = ("fail", "variant")

# Our verifier's reason -> the rule that produced it (first match wins; fragments of the verifiers'
# own messages in harness/verify/).
REASON_RULES: tuple[tuple[str, str], ...] = (
    ("requires X-Amz-Content-Sha256", "content-sha256-required"),
    ("does not match the body", "payload-hash-received"),
    ("headers present in the request which were not signed", "unsigned-amz-headers"),
    ("only one auth mechanism", "one-auth-mechanism"),
    ("Date header", "date-header"),
    ("minutes from the server's time", "request-time"),
    ("expired", "request-time"),
    ("credential scope", "credential-scope"),
    ("unknown access key", "credential-scope"),
    ("session token", "credential-scope"),
    ("security-token", "credential-scope"),
    ("chunk", "streaming"),
    ("stream", "streaming"),
    ("trailer", "streaming"),
    ("message ", "streaming"),
    ("policy", "post-policy"),
    ("Policy", "post-policy"),
    ("form ", "post-policy"),
)


@dataclass(frozen=True)
class Rule:
    id: str
    doc: str
    evidence: tuple[str, ...]


@lru_cache(maxsize=1)
def rules() -> dict[str, Rule]:
    data = yaml.safe_load(resources.files("harness").joinpath(RULES_FILE).read_text(encoding="utf-8")) or {}
    return {name: Rule(name, str(entry["doc"]), tuple(entry.get("evidence") or ()))
            for name, entry in (data.get("rules") or {}).items()}


def rule_for(check: Check, judged: dict[str, Any]) -> str:
    """The id of the rule that decided a fail or variant (see REASON_RULES and the judges' reasons)."""
    reason = str(judged.get("reason") or "")
    verification = judged.get("verification") or {}
    accepted_under = str(verification.get("rules") or "spec")
    if reason.startswith("refused (the case allows it)"):
        return "refusal-allowed"
    if reason.startswith("refused a valid request"):
        return "refused-valid-request"
    if reason.startswith("signed a request a correct signer refuses") or "as the case expects" in reason \
            or "for another reason than the case's" in reason:
        return "presign-expires" if "X-Amz-Expires" in reason else "expected-error"
    if reason.startswith("signed a different request"):
        return "integrity"
    if verification.get("valid") is False:
        ours = str(verification.get("reason") or "")
        for fragment, rule in REASON_RULES:
            if fragment in ours:
                return rule
        return signature_rule(check, judged)
    if accepted_under != "spec":
        return accepted_under  # accepted only under the case's open choice
    return "server-accepts"


def signature_rule(check: Check, judged: dict[str, Any]) -> str:
    """A signature that does not match: the service rule without which the request would have been accepted
    (S3's re-encoded path, the double-encoded path, tabs folded), else SigV4's own canonicalization."""
    from dataclasses import replace

    from harness.verify.single import ServerRules, verify

    signed_json = judged.get("signed")
    if not signed_json:
        return "sigv4-signature"
    signed = SignedRequest.from_json(signed_json)
    body = check.case.request.body if signed.body is None else signed.body
    rules = ServerRules.for_context(check.context)
    alternatives = []
    if rules.reencode_path:
        alternatives.append(("s3-canonical-path", replace(rules, reencode_path=False)))
    if rules.double_encode and "%" in signed.parts()[2]:
        alternatives.append(("double-encoded-path", replace(rules, double_encode=False)))
    if rules.header_tabs_folded and any("\t" in value for _, value in signed.headers):
        alternatives.append(("header-tabs-folded", replace(rules, header_tabs_folded=False)))
    for rule, other in alternatives:
        if verify(signed, body, other).valid:
            return rule
    return "sigv4-signature"


def decided_by(check: Check, judged: dict[str, Any]) -> dict[str, Any] | None:
    """The row's `decided_by` for a fail or variant ({"rule", "evidence"}), None for other verdicts."""
    if judged.get("status") not in DECIDED:
        return None
    rule_id = rule_for(check, judged)
    rule = rules().get(rule_id)
    refs = [str(r) for r in check.case.flags.get("refs") or ()]
    evidence = (rule.evidence[0] if rule and rule.evidence else None) or (refs[0] if refs else None)
    out: dict[str, Any] = {"rule": rule_id}
    if evidence:
        out["evidence"] = evidence
    return out


def oracle_sides(ours_valid: bool, opinions: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Which oracles agreed with our verifier's accept/reject and which did not (n/a left out)."""
    agree, disagree = [], []
    for name, opinion in sorted(opinions.items()):
        verdict = opinion.get("verdict")
        if verdict not in ("accept", "reject"):
            continue
        (agree if (verdict == "accept") == ours_valid else disagree).append(name)
    return {"agree": agree, "disagree": disagree}
