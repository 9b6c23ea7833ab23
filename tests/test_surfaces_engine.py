"""POST policies and IAM tokens in the engine: the check an adapter receives, the capabilities that
decide who gets it, and the verdict for a form or token (harness/surface_compare.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cases import load_cases
from harness.compare import expected_for, judge
from harness.model import Check
from harness.protocol import Capabilities, ProtocolError, validate
from harness.reference import SURFACES, surface_of
from harness.reference import post_policy as pp
from harness.reference import tokens as tk

ROOT = Path(__file__).resolve().parents[1]
LOADED = load_cases([ROOT / "cases" / "post-policy", ROOT / "cases" / "tokens", ROOT / "cases" / "methods"])
CASES = {c.id: c for c in LOADED.cases}


def check(case_id: str) -> Check:
    case = CASES[case_id]
    return Check(case, case.modes[0])


def reference_answer(c: Check) -> dict:
    """What a correct generator answers: the reference's form or token."""
    if c.surface == "post-policy":
        fields = pp.sign_post(c.case.subject).fields
        return {"type": "result", "id": "1", "status": "signed", "form": {"url": c.case.request.url, "fields": [list(f) for f in fields]}}
    return {"type": "result", "id": "1", "status": "signed", "token": tk.sign_token(c.case.subject).stages["token"]}


def test_surfaces_are_declared_with_their_modes_and_stages():
    assert SURFACES["post-policy"].modes == ("form",) and SURFACES["post-policy"].stages == pp.STAGES
    for kind in ("rds", "dsql", "eks"):
        assert SURFACES[kind].modes == ("token",) and SURFACES[kind].stages == tk.STAGES
    assert surface_of(check("tokens/eks-session-token")).name == "eks"
    assert surface_of(check("tokens/rds-botocore")).name == "rds"


def test_check_json_carries_what_a_generator_needs():
    post = check("post-policy/every-condition-kind").to_json()
    assert post["surface"] == "post-policy" and post["mode"] == "form"
    assert post["post"]["bucket"] == "examplebucket" and post["post"]["key"] == "uploads/${filename}"
    assert post["post"]["expires"] == 600 and post["post"]["expiration"] == "2024-03-01T10:25:00.000Z"
    assert ["content-length-range", 1, 10485760] in post["post"]["conditions"]
    assert ["x-ignore-tracking", "anything"] in post["post"]["fields"]
    rds = check("tokens/rds-special-user").to_json()
    assert rds["token"] == {"kind": "rds", "host": "db.cluster-abc.us-east-1.rds.amazonaws.com", "port": 3306,
                            "user": "ops+etl@corp/ü x", "action": None, "cluster_id": None, "expires": 900}
    assert rds["context"]["timestamp"] == "2024-06-15T08:00:00Z" and rds["context"]["service"] == "rds-db"
    dsql = check("tokens/dsql-botocore-dbconnect").to_json()
    assert dsql["token"]["action"] == "DbConnect" and dsql["context"]["session_token"] == "SESSION_TOKEN"
    single = Check(CASES[next(i for i in CASES if i.startswith("methods/"))], "header").to_json()
    assert "surface" not in single and "post" not in single and "token" not in single


def test_capabilities_default_to_single_and_gate_surfaces():
    plain = Capabilities.from_json({})
    assert plain.surfaces == ("single",)
    assert "does not offer rds" in plain.missing(check("tokens/rds-botocore"))
    rds_only = Capabilities.from_json({"surfaces": ["rds"], "why": {"dsql": "no DSQL helper in v1"}})
    assert rds_only.missing(check("tokens/rds-botocore")) is None
    assert rds_only.missing(check("tokens/dsql-one-hour")) == "no DSQL helper in v1"
    single = Check(CASES[next(i for i in CASES if i.startswith("methods/"))], "header")
    assert "single-shot" in rds_only.missing(single)
    assert plain.missing(single) is None
    validate("hello_answer", {"type": "hello", "protocol": 1, "language": "x", "library": "y", "library_version": "1",
                              "capabilities": {"surfaces": ["post-policy", "eks"]}})
    with pytest.raises(ProtocolError):
        validate("hello_answer", {"type": "hello", "protocol": 1, "language": "x", "library": "y", "library_version": "1",
                                  "capabilities": {"surfaces": ["carrier-pigeon"]}})


def test_a_signed_answer_needs_a_request_a_form_or_a_token():
    validate("result_answer", {"type": "result", "id": "1", "status": "signed", "token": "h/?a=b"})
    with pytest.raises(ProtocolError):
        validate("result_answer", {"type": "result", "id": "1", "status": "signed"})


@pytest.mark.parametrize("case_id", ["post-policy/every-condition-kind", "post-policy/unicode-key", "tokens/rds-ipv6-host",
                                     "tokens/dsql-botocore-dbconnect-admin", "tokens/eks-session-token", "tokens/rds-botocore"])
def test_the_reference_answer_passes(case_id):
    c = check(case_id)
    verdict = judge(c, expected_for(c), reference_answer(c))
    assert verdict.status == "pass", verdict.reason
    assert list(verdict.stages) == list(surface_of(c).stages)


def test_a_refusal_the_case_expects_passes_and_a_broken_one_fails():
    c = check("tokens/rds-expired")
    good = reference_answer(c)
    verdict = judge(c, expected_for(c), good)
    assert verdict.status == "pass" and "refuses it as the case expects" in verdict.reason
    broken = dict(good, token=good["token"].replace("X-Amz-Signature=", "X-Amz-Signature=0")[:-1])
    verdict = judge(c, expected_for(c), broken)
    assert verdict.status == "fail" and "at its signing time" in verdict.reason, verdict.reason


def test_token_for_another_user_fails_and_the_stage_shows_where():
    c = check("tokens/rds-special-user")
    answer = reference_answer(c)
    answer["token"] = answer["token"].replace("DBUser=ops%2Betl", "DBUser=ops%20etl")
    verdict = judge(c, expected_for(c), answer)
    assert verdict.status == "fail" and "DBUser" in verdict.reason
    assert verdict.stages["token"]["equal"] is False


def test_form_without_a_field_the_user_asked_for_fails_even_if_its_policy_holds():
    c = check("post-policy/every-condition-kind")
    post = c.case.subject
    # A generator that dropped the user's acl field and its condition: S3 accepts the form...
    dropped = pp.PostPolicy(post.bucket, post.key, post.context, conditions=[x for x in post.conditions if x != {"acl": "private"}],
                            fields=[f for f in post.fields if f[0] != "acl"], expiration=post.expiration)
    fields = pp.sign_post(dropped).fields
    answer = {"type": "result", "id": "1", "status": "signed", "form": {"url": "https://x/", "fields": [list(f) for f in fields]}}
    verdict = judge(c, expected_for(c), answer)
    assert verdict.verification["valid"] is True
    # ...but it is not the form that was asked for.
    assert verdict.status == "fail" and "field 'acl'" in verdict.reason


def test_published_values_are_the_expectation_and_a_generators_own_document_is_a_variant():
    c = check("post-policy/s3-docs-example")
    expected = expected_for(c)
    assert expected.source == "case" and expected.stages["signature"].startswith("8afdbf40")
    verdict = judge(c, expected, reference_answer(Check(CASES["post-policy/s3-docs-example"], "form")))
    assert verdict.status == "pass"  # the reference's form carries the pinned published policy
    eks = check("tokens/eks-ruby-sts-presigner")
    assert expected_for(eks).stages["token"].startswith("k8s-aws-v1. base64url of:\nhttps://sts.us-west-2.amazonaws.com/")


def test_malformed_answers_are_errors():
    c = check("tokens/rds-botocore")
    assert judge(c, expected_for(c), {"type": "result", "id": "1", "status": "signed", "token": 7}).status == "error"
    p = check("post-policy/session-token")
    assert judge(p, expected_for(p), {"type": "result", "id": "1", "status": "signed", "form": {"url": "u"}}).status == "error"
    garbage = {"type": "result", "id": "1", "status": "signed", "form": {"url": "u", "fields": [["policy", "@@"], ["key", "tmp/report.csv"]]}}
    verdict = judge(p, expected_for(p), garbage)
    assert verdict.status == "fail" and "form lacks" in verdict.reason
