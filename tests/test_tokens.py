"""IAM auth tokens (RDS, DSQL, EKS): the reference reproduces the published vectors, the verifier
accepts the libraries' own tokens and the cases as their `server` block says, and rejects
each single mutation."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from harness.cases.errors import CaseError
from harness.cases import load_cases
from harness.cases.surfaces import token_rules
from harness.cases.yamlfile import load_file
from harness.model import Case
from harness.model import split_url
from harness.reference import canonical as cr
from harness.reference import tokens as tk
from harness.reference.signer import sign_request
from harness.verify.tokens import TokenServerRules, verify_token, verify_token_with_choices

ROOT = Path(__file__).resolve().parents[1]
LOADED = load_cases([ROOT / "cases" / "tokens"])
CASES, ERRORS = LOADED.cases, LOADED.errors
TOKENS = {c.id: c for c in CASES if c.surface in ("rds", "dsql", "eks")}


def test_draft_files_load_without_errors():
    assert ERRORS == []
    assert {c.surface for c in TOKENS.values()} == {"rds", "dsql", "eks"}


def _same_url(a: str, b: str) -> None:
    """Equal up to the order of the query parameters (libraries order them differently)."""
    sa, sb = split_url(a), split_url(b)
    assert sa[:3] == sb[:3]
    assert sorted(cr.query_parameters(sa[3])) == sorted(cr.query_parameters(sb[3]))


def given(case: Case) -> dict[str, str]:
    """The case's published values (its `expect:` block)."""
    return case.expect.get("token", {})


def _library_token(case: Case) -> str:
    """The token the library produced: given as such, or framed from its presigned URL."""
    if "token" in given(case):
        return given(case)["token"]
    return tk.token(case.surface, given(case)["signed_url"])


def test_stages_are_declared_and_the_first_three_are_the_query_signers():
    assert tk.STAGES == ("canonical_request", "string_to_sign", "signature", "token")
    t = TOKENS["tokens/dsql-botocore-dbconnect"].subject
    request, context = tk.presign_request(t)
    query_mode = sign_request(request, context, "query").stages
    stages = tk.sign_token(t).stages
    assert [stages[s] for s in tk.STAGES[:3]] == [query_mode[s] for s in tk.STAGES[:3]]
    assert [getattr(tk, s)(t) for s in tk.STAGES[:3]] == [query_mode[s] for s in tk.STAGES[:3]]
    assert stages["token"] == query_mode["signed_url"].removeprefix("https://")


@pytest.mark.parametrize("case_id", sorted(c for c in TOKENS if "signature" in given(TOKENS[c])))
def test_reference_reproduces_published_vector(case_id):
    case = TOKENS[case_id]
    stages = tk.sign_token(case.subject).stages
    assert stages["signature"] == given(case)["signature"]
    _same_url(stages["signed_url"], "https://" + _library_token(case) if case.surface != "eks" else given(case)["signed_url"])


@pytest.mark.parametrize("case_id", sorted(TOKENS))
def test_verifier_decides_as_the_case_says(case_id):
    """On the library's own token where the case has one, else on the reference's."""
    case = TOKENS[case_id]
    if (case.subject.expires or 0) > 604800:  # beyond any presigned URL: the reference refuses to make it
        with pytest.raises(ValueError, match="604800"):
            tk.sign_token(case.subject)
        assert case.server.verdict == "reject" and case.flags.get("refusal_ok")
        return
    token = _library_token(case) if {"token", "signed_url"} & set(given(case)) else tk.sign_token(case.subject).stages["token"]
    result = verify_token_with_choices(token, token_rules(case), case.open_choices)
    assert result.valid == (case.server.verdict == "accept"), result.reason
    assert case.server.reason in result.reason


def _rds() -> tuple[str, TokenServerRules]:
    case = TOKENS["tokens/rds-botocore"]
    token, rules = given(case)["token"], token_rules(case)
    assert verify_token(token, rules).valid
    return token, rules


@pytest.mark.parametrize(
    "old, new, reason",
    [
        (":3306/", ":3307/", "token is for"),
        ("DBUser=someusername", "DBUser=someusernamf", "DBUser"),
        ("X-Amz-Expires=900", "X-Amz-Expires=899", "signature does not match"),
        ("X-Amz-Date=20161107T173933Z", "X-Amz-Date=20161107T173934Z", "signature does not match"),
        ("Action=connect", "Action=Connect", "Action"),
        ("us-east-1%2Frds-db", "us-east-1%2Frds", "credential scope"),
        ("us-east-1%2Frds-db", "us-west-2%2Frds-db", "credential scope"),
        ("X-Amz-Signature=d", "X-Amz-Signature=e", "signature does not match"),
        ("X-Amz-Signature=d", "X-Amz-Signature=%C3%BC", "64 lowercase hex"),
        ("X-Amz-Signature=d", "X-Amz-Signature=D", "64 lowercase hex"),
        ("prod-instance", "https://prod-instance", "scheme"),
        ("&X-Amz-SignedHeaders=host", "&X-Amz-SignedHeaders=host&Action=connect", "more than once"),
    ],
)
def test_rds_token_single_mutation_is_rejected(old, new, reason):
    token, rules = _rds()
    assert old in token
    result = verify_token(token.replace(old, new, 1), rules)
    assert not result.valid and reason in result.reason, result.reason


def test_rds_server_side_mismatches_are_rejected():
    token, rules = _rds()
    for changed, reason in [
        (replace(rules, endpoint="prod-instance.us-east-1.rds.amazonaws.com:3307"), "token is for"),
        (replace(rules, user="someoneelse"), "DBUser"),
        (replace(rules, now=dt.datetime(2016, 11, 7, 17, 54, 34, tzinfo=dt.timezone.utc)), "not valid at the server's time"),
        (replace(rules, region="us-west-2"), "credential scope"),
        (replace(rules, credentials={"akid": "other-secret"}), "signature does not match"),
    ]:
        result = verify_token(token, changed)
        assert not result.valid and reason in result.reason, result.reason
    # the last second of the 15 minutes is still valid
    assert verify_token(token, replace(rules, now=dt.datetime(2016, 11, 7, 17, 54, 33, tzinfo=dt.timezone.utc))).valid


def test_signed_port_matters_even_when_the_authority_is_rewritten():
    """A token signed for :3306 presented to the same host on :3307 with its text rewritten."""
    token, rules = _rds()
    moved = replace(rules, endpoint="prod-instance.us-east-1.rds.amazonaws.com:3307")
    result = verify_token(token.replace(":3306/", ":3307/"), moved)
    assert not result.valid and "signature does not match" in result.reason


def test_dsql_action_must_match_the_role():
    connect, admin = TOKENS["tokens/dsql-botocore-dbconnect"], TOKENS["tokens/dsql-botocore-dbconnect-admin"]
    assert not verify_token(given(connect)["token"], replace(token_rules(connect), admin=True)).valid
    assert not verify_token(given(admin)["token"], replace(token_rules(admin), admin=False)).valid
    forged = given(connect)["token"].replace("Action=DbConnect&", "Action=DbConnectAdmin&")
    result = verify_token(forged, replace(token_rules(connect), admin=True))
    assert not result.valid and "signature does not match" in result.reason


def test_dsql_session_token_is_signed_and_checked():
    case = TOKENS["tokens/dsql-botocore-dbconnect"]
    rules = token_rules(case)
    result = verify_token(given(case)["token"].replace("SESSION_TOKEN", "SESSION_TOKEX"), rules)
    assert not result.valid and "session token" in result.reason
    result = verify_token(given(case)["token"].replace("SESSION_TOKEN", "SESSION_TOKEX"), replace(rules, session_token="SESSION_TOKEX"))
    assert not result.valid and "signature does not match" in result.reason


def test_expiry_bounds_per_surface():
    rds = TOKENS["tokens/rds-ipv6-host"]
    base = rds.subject
    signed_at = base.timestamp
    for expires, ok in [(900, True), (901, False)]:
        token = tk.sign_token(replace(base, expires=expires)).stages["token"]
        assert verify_token(token, replace(token_rules(rds), now=signed_at + dt.timedelta(seconds=60))).valid is ok
    dsql = TOKENS["tokens/dsql-one-hour"]
    for expires, ok in [(604800, True), (604801, None)]:
        if ok is None:  # the shared query-mode signer refuses to presign beyond seven days
            with pytest.raises(ValueError, match="604800"):
                tk.sign_token(replace(dsql.subject, expires=expires))
            continue
        token = tk.sign_token(replace(dsql.subject, expires=expires)).stages["token"]
        rules = replace(token_rules(dsql), now=dsql.subject.timestamp + dt.timedelta(seconds=expires))
        assert verify_token(token, rules).valid
        assert not verify_token(token, replace(rules, now=rules.now + dt.timedelta(seconds=1))).valid


def test_special_user_name_is_encoded_and_compared_decoded():
    case = TOKENS["tokens/rds-special-user"]
    token = tk.sign_token(case.subject).stages["token"]
    assert "DBUser=ops%2Betl%40corp%2F%C3%BC%20x" in token
    assert verify_token(token, token_rules(case)).valid
    for user in ("ops etl@corp/ü x", "ops+etl@corp/u x"):
        assert not verify_token(token, replace(token_rules(case), user=user)).valid


def test_ipv6_host_is_signed_with_brackets_and_port():
    case = TOKENS["tokens/rds-ipv6-host"]
    stages = tk.sign_token(case.subject).stages
    assert stages["token"].startswith("[2001:db8::10]:5432/?")
    assert "\nhost:[2001:db8::10]:5432\n" in stages["canonical_request"]
    rules = token_rules(case)
    assert not verify_token(stages["token"], replace(rules, endpoint="[2001:db8::11]:5432")).valid


# EKS


def _eks() -> tuple[str, TokenServerRules]:
    case = TOKENS["tokens/eks-ruby-sts-presigner"]
    token, rules = _library_token(case), token_rules(case)
    assert verify_token(token, rules).valid
    return token, rules


def _reframe(token: str, edit) -> str:
    url = base64.urlsafe_b64decode(token[len(tk.EKS_PREFIX):] + "==").decode()
    return tk.token("eks", edit(url))


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda t: t.replace("k8s-aws-v1.", "k8s-aws-v2.", 1), "prefix"),
        (lambda t: t + "=" * (-(len(t) - 11) % 4 or 4), "base64url without padding"),
        (lambda t: t[:20] + "+" + t[21:], "base64url"),  # standard alphabet
        (lambda t: _reframe(t, lambda u: u.replace("X-Amz-Expires=900", "X-Amz-Expires=901")), "X-Amz-Expires"),
        (lambda t: _reframe(t, lambda u: u.replace("X-Amz-Expires=900", "X-Amz-Expires=899")), "signature does not match"),
        (lambda t: _reframe(t, lambda u: u.replace("https://", "http://")), "unexpected scheme"),
        (lambda t: _reframe(t, lambda u: u.replace("sts.us-west-2", "sts.us-east-2")), "unexpected hostname"),
        (lambda t: _reframe(t, lambda u: u.replace(".com/?", ".com/x?")), "unexpected path"),
        (lambda t: _reframe(t, lambda u: u + "&Extra=1"), "non-whitelisted"),
        (lambda t: _reframe(t, lambda u: u + "&Action=GetCallerIdentity"), "more than once"),
        (lambda t: _reframe(t, lambda u: u + "&action=GetCallerIdentity"), "multiple values"),
        (lambda t: _reframe(t, lambda u: u.replace("Action=GetCallerIdentity", "Action=GetSessionToken")), "unexpected action"),
        (lambda t: _reframe(t, lambda u: u.replace("host%3Bx-k8s-aws-id", "host")), "did not sign the x-k8s-aws-id"),
        (lambda t: _reframe(t, lambda u: u.replace("%2Fsts%2F", "%2Fs3%2F")), "credential scope"),
        (lambda t: "k8s-aws-v1." + "A" * 4096, "too large"),
    ],
)
def test_eks_token_single_mutation_is_rejected(mutate, reason):
    token, rules = _eks()
    result = verify_token(mutate(token), rules)
    assert not result.valid and reason in result.reason, result.reason


def test_eks_cluster_id_and_time_are_checked():
    token, rules = _eks()
    wrong = verify_token(token, replace(rules, cluster_id="other-cluster"))
    assert not wrong.valid and "signature does not match" in wrong.reason
    signed_at = dt.datetime(2016, 1, 1, 11, 22, 33, tzinfo=dt.timezone.utc)
    assert verify_token(token, replace(rules, now=signed_at + dt.timedelta(minutes=15))).valid
    late = verify_token(token, replace(rules, now=signed_at + dt.timedelta(minutes=15, seconds=1)))
    assert not late.valid and "expired" in late.reason


def test_eks_token_is_base64url_without_padding_of_the_signed_url():
    case = TOKENS["tokens/eks-session-token"]
    stages = tk.sign_token(case.subject).stages
    body = stages["token"].removeprefix(tk.EKS_PREFIX)
    assert "=" not in body and "+" not in body and "/" not in body
    assert base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode() == stages["signed_url"]
    assert "X-Amz-SignedHeaders=host%3Bx-k8s-aws-id" in stages["signed_url"]
    assert verify_token(stages["token"], replace(token_rules(case), session_token="EXAMPLE-SESSION-TOKEN-other")).valid is False


def test_eks_unsigned_cluster_header_is_rejected_even_with_a_valid_signature():
    """A presigned GetCallerIdentity without x-k8s-aws-id verifies at STS but is not an EKS token."""
    case = TOKENS["tokens/eks-session-token"]
    request, context = tk.presign_request(case.subject)
    request = replace(request, headers=tuple(h for h in request.headers if h[0] != tk.CLUSTER_ID_HEADER))
    url = sign_request(request, context, "query").stages["signed_url"]
    result = verify_token(tk.token("eks", url), token_rules(case))
    assert not result.valid and "did not sign the x-k8s-aws-id" in result.reason


# Independent generators available in-process: botocore's RDS and DSQL token generators.


@pytest.fixture
def frozen_botocore(monkeypatch):
    """botocore's clock pinned where it reads it (its own SigV4 and, with awscrt installed, the CRT one)."""
    pytest.importorskip("botocore")
    import importlib

    when = dt.datetime(2024, 6, 15, 8, 0, 0, tzinfo=dt.timezone.utc)
    for name in ("botocore.auth", "botocore.crt.auth"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        monkeypatch.setattr(module, "get_current_datetime", lambda remove_tzinfo=True: when.replace(tzinfo=None) if remove_tzinfo else when)
    return when


def _client(service: str, token: str | None = None):
    import botocore.session

    session = botocore.session.Session()
    session.set_credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", token)
    return session.create_client(service, region_name="us-east-1")


@pytest.mark.parametrize("user, port", [("app_user", 3306), ("ops+etl@corp/ü x", 15432)])
def test_botocore_rds_tokens_equal_the_reference_and_verify(frozen_botocore, user, port):
    theirs = _client("rds", "EXAMPLE-SESSION-TOKEN").generate_db_auth_token("db.example.com", port, user)
    t = tk.TokenRequest("rds", "db.example.com", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1",
                        frozen_botocore, session_token="EXAMPLE-SESSION-TOKEN", port=port, user=user)
    ours = tk.sign_token(t).stages["token"]
    _same_url("https://" + theirs, "https://" + ours)
    rules = TokenServerRules("rds", {t.access_key_id: t.secret_access_key}, "us-east-1", frozen_botocore,
                             endpoint=f"db.example.com:{port}", user=user, session_token="EXAMPLE-SESSION-TOKEN")
    assert verify_token(theirs, rules).valid


def test_botocore_signs_port_443_without_it_which_only_the_open_choice_accepts(frozen_botocore):
    theirs = _client("rds").generate_db_auth_token("db.example.com", 443, "app")
    assert theirs.startswith("db.example.com:443/?")
    t = replace(TOKENS["tokens/rds-port-443"].subject, timestamp=frozen_botocore)
    ours = tk.sign_token(t).stages
    assert "\nhost:db.example.com:443\n" in ours["canonical_request"]
    rules = TokenServerRules("rds", {t.access_key_id: t.secret_access_key}, "us-east-1", frozen_botocore,
                             endpoint="db.example.com:443", user="app")
    assert verify_token(ours["token"], rules).valid
    spec = verify_token(theirs, rules)
    assert not spec.valid and "signature does not match" in spec.reason
    chosen = verify_token_with_choices(theirs, rules, ("token-default-port-elided",))
    assert chosen.valid and chosen.rules == "token-default-port-elided"
    assert not verify_token_with_choices(ours["token"], replace(rules, default_port_elided=True), ()).valid


def test_botocore_dsql_admin_token_equals_the_reference_and_verifies(frozen_botocore):
    theirs = _client("dsql").generate_db_connect_admin_auth_token("abc.dsql.us-east-1.on.aws", "us-east-1", ExpiresIn=3600)
    t = tk.TokenRequest("dsql", "abc.dsql.us-east-1.on.aws", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                        "us-east-1", frozen_botocore, action="DbConnectAdmin", expires=3600)
    _same_url("https://" + theirs, "https://" + tk.sign_token(t).stages["token"])
    rules = TokenServerRules("dsql", {t.access_key_id: t.secret_access_key}, "us-east-1", frozen_botocore + dt.timedelta(minutes=59),
                             endpoint="abc.dsql.us-east-1.on.aws", admin=True)
    assert verify_token(theirs, rules).valid


# The case loader for tokens.

GOOD = """\
- id: tokens/x
  title: t
  surface: rds
  token: {host: db.example.com, port: 3306, user: app}
  context:
    credentials: {access_key_id: AKIDEXAMPLE, secret_access_key: secret}
    region: us-east-1
    timestamp: 20240101T000000Z
  server: {at: 2024-01-01T00:01:00Z, verdict: accept}
"""


@pytest.mark.parametrize(
    "old, new, line, message",
    [
        (", port: 3306", "", 4, "needs token.port"),
        (", user: app", "", 4, "needs token.user"),
        ("port: 3306", "port: 70000", 4, "70000 is greater than the maximum"),
        ("verdict: accept", "verdict: maybe", 9, "'maybe' is not one of"),
        ("surface: rds", "surface: redshift", 3, "'redshift' is not one of"),
        ("  server:", "  servers:", 9, "unknown key 'servers'"),
        ("  server:", "  flags: {open_choices: [post-filename-as-sent]}\n  server:", 9, "open choice 'post-filename-as-sent' is not one for rds"),
    ],
)
def test_loader_errors_name_file_and_line(tmp_path, old, new, line, message):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CaseError) as info:
        load_file(path)
    assert info.value.line == line and message in info.value.message, str(info.value)


def test_one_bad_file_does_not_stop_the_others(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD.replace("tokens/x", "tokens/y").replace("surface: rds", "surface: eks"), encoding="utf-8")
    (tmp_path / "c.yaml").write_text(GOOD, encoding="utf-8")
    loaded = load_cases([tmp_path])
    cases, errors = loaded.cases, loaded.errors
    assert [c.id for c in cases] == ["tokens/x"]
    assert [(Path(e.file).name, e.line) for e in errors] == [("b.yaml", 4), ("c.yaml", 1)]
    assert "needs token.cluster_id" in errors[0].message and "duplicate id" in errors[1].message


@pytest.mark.parametrize("case_id", ["tokens/rds-botocore", "tokens/dsql-botocore-dbconnect", "tokens/eks-ruby-sts-presigner"])
def test_random_character_damage_never_raises(case_id):
    """Any damaged token is a rejection with a reason, never an exception."""
    import random

    case = TOKENS[case_id]
    token, rules = _library_token(case), token_rules(case)
    rng = random.Random(16)
    for _ in range(200):
        j = rng.randrange(len(token))
        damaged = token[:j] + rng.choice(["%", "%zz", "ü", "&", "=", "?", "/", "", "A", "-", "_", "=="]) + token[j + 1:]
        result = verify_token(damaged, rules)
        assert result.valid or result.reason
