"""Provenance of verdicts (harness/provenance.py): every fail and variant names the rule that decided it,
with an evidence link from harness/verdict_rules.yaml, and the oracles on each side."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import pytest

from harness import provenance
from harness.cases import load_cases
from harness.compare import expected_for, judge
from harness.model import Check, SignedRequest
from harness.reference import signing, surface_of
from harness.verify.single import OPEN_CHOICES

from conftest import ROOT


@lru_cache(maxsize=None)
def _case(path: str, case_id: str):
    loaded = load_cases([ROOT / path])
    return next(c for c in loaded.cases if c.id == case_id)


def _judged(check: Check, signed: SignedRequest, status: str = "signed", reason: str = "") -> dict:
    answer = {"status": status, "signed": signed.to_json(), "reason": reason}
    judged = judge(check, expected_for(check), answer).to_json()
    decided = provenance.decided_by(check, judged)
    if decided:
        judged["decided_by"] = decided
    return judged


def _reference(check: Check) -> SignedRequest:
    signed = surface_of(check).sign(check).signed
    assert signed is not None
    return signed


def _with_path(signed: SignedRequest, path: str) -> SignedRequest:
    scheme, host, _, query = signed.parts()
    return replace(signed, url=f"{scheme}://{host}{path}" + (f"?{query}" if query else ""))


def _signed_over(check: Check, signed: SignedRequest, canonical_request: str) -> SignedRequest:
    """`signed` with its signature recomputed over another canonical request (a signer's mistake)."""
    ctx = check.context
    when = ctx.timestamp.strftime("%Y%m%dT%H%M%SZ")
    scope = signing.credential_scope(when[:8], ctx.region, ctx.service)
    key = signing.signing_key(ctx.secret_access_key, when[:8], ctx.region, ctx.service)
    new = signing.signature(key, signing.string_to_sign("sigv4", when, scope, canonical_request))
    old = provenance_signature(signed)
    return replace(signed, headers=tuple((n, v.replace(old, new)) for n, v in signed.headers))


def provenance_signature(signed: SignedRequest) -> str:
    return next(v for n, v in signed.headers if n.lower() == "authorization").rsplit("Signature=", 1)[1]


def test_s3_path_signed_verbatim_is_decided_by_the_s3_canonical_path_rule():
    check = Check(_case("cases/path/s3.yaml", "path/s3-at"), "header")
    signed = _reference(check)
    canonical = surface_of(check).sign(check).stages["canonical_request"]
    assert "/images/mac%402x.png" in canonical  # S3 re-encodes the raw '@'
    verbatim = _signed_over(check, signed, canonical.replace("/images/mac%402x.png", "/images/mac@2x.png"))
    judged = _judged(check, verbatim)
    assert judged["status"] == "fail"
    assert judged["decided_by"]["rule"] == "s3-canonical-path"
    assert judged["decided_by"]["evidence"] == "https://github.com/boto/boto/issues/2849"


def test_a_pass_has_no_provenance_and_a_tampered_signature_is_sigv4s():
    check = Check(_case("cases/bodies/bodies.yaml", "bodies/text"), "header")
    signed = _reference(check)
    assert "decided_by" not in _judged(check, signed)
    headers = tuple((n, v[:-4] + "0000" if n.lower() == "authorization" else v) for n, v in signed.headers)
    judged = _judged(check, replace(signed, headers=headers))
    assert judged["status"] == "fail" and judged["decided_by"]["rule"] == "sigv4-signature"


@pytest.mark.parametrize(("row", "rule"), [
    ({"status": "fail", "reason": "refused a valid request: boom"}, "refused-valid-request"),
    ({"status": "variant", "reason": "refused (the case allows it): boom"}, "refusal-allowed"),
    ({"status": "fail", "reason": "signed a different request than the one asked for: path '/a' became '/b'",
      "verification": {"valid": True, "rules": "spec"}}, "integrity"),
    ({"status": "fail", "reason": "signed a request a correct signer refuses: X-Amz-Expires must be at most 604800 seconds (7 days)",
      "verification": {"valid": True, "rules": "spec"}}, "presign-expires"),
    ({"status": "fail", "reason": "a server would reject it: s3 requires X-Amz-Content-Sha256",
      "verification": {"valid": False, "reason": "s3 requires X-Amz-Content-Sha256", "rules": "spec"}}, "content-sha256-required"),
    ({"status": "fail", "reason": "a server would reject it: ...",
      "verification": {"valid": False, "reason": "there were headers present in the request which were not signed (HeadersNotSigned): x-amz-meta-a",
                       "rules": "spec"}}, "unsigned-amz-headers"),
    ({"status": "fail", "reason": "a server would reject it: ...",
      "verification": {"valid": False, "reason": "only one auth mechanism allowed: a presigned URL with an Authorization header", "rules": "spec"}},
     "one-auth-mechanism"),
    ({"status": "variant", "reason": "differs from the expectation in signature, but a server accepts it under the open choice header-tab-kept",
      "verification": {"valid": True, "rules": "header-tab-kept"}}, "header-tab-kept"),
    ({"status": "variant", "reason": "differs from the expectation in signature, but a server accepts it",
      "verification": {"valid": True, "rules": "spec"}}, "server-accepts"),
])
def test_rule_for_each_kind_of_verdict(row, rule):
    check = Check(_case("cases/bodies/bodies.yaml", "bodies/text"), "header")
    assert provenance.rule_for(check, row) == rule


def test_every_rule_and_open_choice_is_in_the_catalogue_with_a_doc():
    catalogue = provenance.rules()
    named = {rule for _, rule in provenance.REASON_RULES} | set(OPEN_CHOICES) | {
        "sigv4-signature", "s3-canonical-path", "double-encoded-path", "header-tabs-folded", "integrity",
        "refused-valid-request", "refusal-allowed", "expected-error", "presign-expires", "server-accepts"}
    assert named <= set(catalogue), named - set(catalogue)
    for rule in catalogue.values():
        assert (ROOT / rule.doc.split("#")[0]).is_file(), rule
        assert all(link.startswith("https://") for link in rule.evidence), rule


def test_oracle_sides_split_by_our_verdict():
    opinions = {"o-a": {"verdict": "accept"}, "o-r": {"verdict": "reject"}, "o-n": {"verdict": "n/a"}}
    assert provenance.oracle_sides(True, opinions) == {"agree": ["o-a"], "disagree": ["o-r"]}
    assert provenance.oracle_sides(False, opinions) == {"agree": ["o-r"], "disagree": ["o-a"]}


def test_the_drill_down_cell_carries_the_provenance():
    from harness.report.model import _decided

    texts: list[str] = []

    def s(text):
        if text is None:
            return -1
        texts.append(text)
        return len(texts) - 1

    row = {"decided_by": {"rule": "s3-canonical-path", "evidence": "https://github.com/boto/boto/issues/2849",
                          "oracles": {"agree": ["oracle-s3s"], "disagree": ["oracle-scratchstack"]}},
           "opinions": {"oracle-s3s": {"verdict": "accept"}, "oracle-scratchstack": {"verdict": "reject", "reason": "mismatch"}},
           "oracles_disagree": [{"oracle": "oracle-scratchstack", "known": "scratchstack-plus-is-space"}]}
    rule, evidence, agree, against = _decided(row, s)
    assert (texts[rule], texts[evidence], agree) == ("s3-canonical-path", "https://github.com/boto/boto/issues/2849", ["oracle-s3s"])
    assert against == [["oracle-scratchstack", texts.index("mismatch"), "scratchstack-plus-is-space"]]
    assert _decided({}, s) is None


def test_an_s3_path_that_is_not_canonical_does_not_take_the_blame_for_another_mistake():
    """The raw '@' is re-encoded by S3, but this signature is wrong for any path: SigV4's rule decided it."""
    check = Check(_case("cases/path/s3.yaml", "path/s3-at"), "header")
    signed = _reference(check)
    assert "@" in signed.parts()[2]
    broken = replace(signed, headers=tuple((n, v[:-4] + "0000" if n.lower() == "authorization" else v) for n, v in signed.headers))
    judged = _judged(check, broken)
    assert judged["status"] == "fail" and judged["decided_by"]["rule"] == "sigv4-signature"


def test_a_path_encoded_once_outside_s3_is_decided_by_double_encoding():
    check = Check(_case("cases/path/encoding.yaml", "path/unicode-encoded"), "header")
    signed = _reference(check)
    canonical = surface_of(check).sign(check).stages["canonical_request"]
    path = signed.parts()[2]
    assert "%25" in canonical.split("\n")[1]  # the reference encodes the received escapes again
    once = _signed_over(check, signed, canonical.replace(canonical.split("\n")[1], path, 1))
    judged = _judged(check, once)
    assert judged["status"] == "fail" and judged["decided_by"]["rule"] == "double-encoded-path"
