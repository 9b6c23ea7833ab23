"""oracle-awssig (adapters/awssig, docs/oracles.md): awssig 0.5.0 judges presigned URLs outside S3, which no
other oracle can. It accepts the official presigned URLs it can judge (each one it rejects is covered by a
reviewed entry), rejects each single mutation our verifier rejects, ends the canonical request in the hash of
the body it receives, checks the session token, and leaves out what it declares (S3, header mode, SigV4A)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import ROOT, one_oracle, oracle_opinion, suite_or_skip
from harness import protocol
from harness.model import Check, SignedRequest
from harness.oracles import disagreements, received_text
from harness.reference import sign
from harness.verify.single import ServerRules, verify
from test_official_suite import _mutations, _official_signed, checks_with
from test_oracles import UNNORMALIZED

NAME = "oracle-awssig"
# The official v4 presigned URLs (service "service") awssig 0.5.0 rejects, and the reviewed entry that says why.
REJECTED = {
    "get-vanilla-query-order-encoded": "awssig-sorts-pairs",
    "post-sts-header-after": "awssig-token-after-signing",
    "post-x-www-form-urlencoded": "awssig-form-body-as-query",
    "post-x-www-form-urlencoded-parameters": "awssig-form-body-as-query",
}
# What it is not given: a server that keeps the path unnormalized, a header value with a line break.
NOT_APPLICABLE = {**{name: "always normalizes the path" for name in UNNORMALIZED},
                  "get-space-unnormalized": "always normalizes the path", "get-header-value-multiline": "line break"}


@pytest.fixture(scope="module")
def awssig():
    suite_or_skip()
    with one_oracle(NAME) as started:
        yield started


def opinion(oracles, check: Check, signed: SignedRequest, body: bytes) -> dict[str, str]:
    return oracle_opinion(oracles, NAME, check, signed, body)


def official(name: str, mode: str = "query") -> tuple[Check, SignedRequest]:
    case = next(p.values[0] for p in checks_with("signed_request", "sigv4") if p.values[0].id.endswith(f"/{name}"))
    return Check(case, mode), _official_signed(case, mode)


def test_awssig_accepts_official_presigned_urls_and_rejects_each_mutation(awssig):
    judged, rejected, not_applicable, header = 0, {}, {}, []
    for param in checks_with("signed_request", "sigv4"):
        case, mode = param.values
        check, signed, body = Check(case, mode), _official_signed(case, mode), case.request.body
        short = case.id.rsplit("/", 1)[1]
        got = opinion(awssig, check, signed, body)
        if mode == "header":
            header.append(got)
            continue
        if got["verdict"] == protocol.NOT_APPLICABLE:
            not_applicable[short] = got["reason"]
            continue
        if got["verdict"] == protocol.REJECT:
            flags = disagreements(case.id, True, {NAME: got}, path=signed.parts()[2], received=received_text(signed))
            rejected[short] = flags[0]["known"]
            continue
        judged += 1
        mutations = 0
        for what, mutated in _mutations(signed, mode):
            if verify(mutated, body, ServerRules.for_context(case.context)).valid:
                continue
            theirs = opinion(awssig, check, mutated, body)
            assert theirs["verdict"] == protocol.REJECT and theirs["reason"], f"awssig accepts {case.id} after mutating the {what}"
            mutations += 1
        assert mutations == 4, (case.id, mutations)
    assert rejected == REJECTED
    assert set(not_applicable) == set(NOT_APPLICABLE), not_applicable
    assert all(NOT_APPLICABLE[short] in reason for short, reason in not_applicable.items()), not_applicable
    assert judged == len(header) - len(REJECTED) - len(NOT_APPLICABLE) and judged >= 25
    # header-signed requests are declared out: the engine answers n/a without asking
    assert all(o["verdict"] == protocol.NOT_APPLICABLE and o.get("declared") for o in header), header


def test_awssig_hashes_the_body_of_a_presigned_url(awssig):
    """Outside S3 a presigned URL is signed over the body's SHA-256 (not UNSIGNED-PAYLOAD, S3's rule that s3s
    and rustack-auth apply to every presigned URL): accepted with the body signed, refused when it changes."""
    check, _ = official("post-vanilla")
    body = b'{"Action":"Invoke","Count":3}'
    case = replace(check.case, request=replace(check.case.request, body=body),
                   context=replace(check.case.context, service="execute-api"))
    check = Check(case, "query")
    signed = sign(check).signed
    rules = ServerRules.for_context(check.context)
    assert verify(signed, body, rules).valid
    assert opinion(awssig, check, signed, body)["verdict"] == protocol.ACCEPT
    changed = body.replace(b"3", b"4")
    assert not verify(signed, changed, rules).valid
    got = opinion(awssig, check, signed, changed)
    assert got["verdict"] == protocol.REJECT and "Signature mismatch" in got["reason"], got


def test_awssig_checks_the_session_token(awssig):
    check, signed = official("get-vanilla-with-session-token")
    body = check.case.request.body
    assert opinion(awssig, check, signed, body)["verdict"] == protocol.ACCEPT  # the token arrives percent-encoded
    other = replace(check.case, context=replace(check.case.context, session_token="another-token"))
    # asked directly (the opinion cache knows the request, not the server's credentials)
    got = oracle_opinion(awssig, NAME, Check(other, "query"), signed, body, now="2015-08-30T12:36:00Z")
    assert got["verdict"] == protocol.REJECT and "session token does not match" in got["reason"], got


def test_awssig_declares_what_it_cannot_judge(awssig):
    hello = awssig.oracles[NAME].sessions[0].hello
    assert hello.library == "awssig" and hello.library_version == "0.5.0"
    caps = hello.capabilities
    assert caps.kind == protocol.VERIFIER and caps.algorithms == ("sigv4",) and caps.modes == ("query",)
    assert caps.excluded_services == ("s3",) and "x-amz-content-sha256" in dict(caps.why)["excluded_services"]
    check, _ = official("get-vanilla")
    s3 = Check(replace(check.case, context=replace(check.case.context, service="s3", double_encode=False,
                                                   normalize_path=False)), "query")
    got = opinion(awssig, s3, sign(s3).signed, b"")
    assert got["verdict"] == protocol.NOT_APPLICABLE and got.get("declared") and "AWSSigV4S3Verifier" in got["reason"]
    sigv4a = next(p.values[0] for p in checks_with("signed_request", "sigv4a"))
    got = opinion(awssig, Check(sigv4a, "query"), _official_signed(sigv4a, "query"), b"")
    assert got["verdict"] == protocol.NOT_APPLICABLE and got.get("declared")


def test_excluded_services_leave_only_those_out():
    """A verifier's `excluded_services` (docs/adapter-protocol.md): every other service is judged."""
    caps = protocol.Capabilities.from_json({"kind": "verifier", "algorithms": ["sigv4"], "modes": ["query"],
                                           "excluded_services": ["s3"], "why": {"excluded_services": "S3's rule"}})
    suite_or_skip()
    check, _ = official("get-vanilla")
    assert caps.missing(check) is None
    assert caps.missing(Check(replace(check.case, context=replace(check.case.context, service="s3")), "query")) == "S3's rule"
    assert "header" in (caps.missing(Check(check.case, "header")) or "")


def _token_check(case_id: str):
    """A published token vector as the run judges it: (check, the row the oracles are handed)."""
    from harness.cases import load_cases
    from harness.compare import expected_for
    from harness.reference import tokens as tk
    from harness.surface_compare import judge_surface

    case = next(c for c in load_cases([ROOT / "cases" / "tokens"]).cases if c.id == case_id)
    check = Check(case, case.modes[0])
    given = case.expect[check.mode]
    token = given["token"] if "token" in given else tk.token(case.surface, given["signed_url"])
    return check, judge_surface(check, expected_for(check), {"token": token}).to_json()


@pytest.mark.parametrize("case_id", ["tokens/rds-botocore", "tokens/eks-ruby-sts-presigner"])
def test_awssig_judges_published_tokens_as_the_database_or_sts_receives_them(awssig, case_id):
    from harness.judgement import RECEIVING_SERVER

    check, row = _token_check(case_id)
    signed, server = SignedRequest.from_json(row["signed"]), row[RECEIVING_SERVER]
    names = [n.lower() for n, _ in signed.headers]
    assert names[0] == "host" and (case_id.startswith("tokens/rds") or "x-k8s-aws-id" in names)
    assert server["service"] == ("rds-db" if "rds" in case_id else "sts")
    assert row["verification"]["valid"]
    got = awssig.opinions(check, signed, b"", names=[NAME], server=server)[NAME]
    assert got["verdict"] == protocol.ACCEPT, got
    # another Host (the database or STS endpoint is part of what is signed) or a changed signature: refused
    other_host = SignedRequest(signed.method, signed.url, (("Host", "other.example.com"),) + signed.headers[1:])
    tampered = SignedRequest(signed.method, signed.url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), signed.headers)
    for request in (other_host, tampered):
        assert awssig.opinions(check, request, b"", names=[NAME], server=server)[NAME]["verdict"] == protocol.REJECT
