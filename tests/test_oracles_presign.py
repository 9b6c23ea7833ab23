"""The oracle for S3 presigned URLs (docs/oracles.md): s3s judged at the server's clock (the oracle runs
under libfaketime, adapters/oracle-common's `clock`, shared with rustack). It accepts the S3 versions of the official presigned
requests and the S3 documentation's presigned URL, rejects each single mutation our verifier rejects,
and its expiry check follows the server's clock, not the wall clock."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import ROOT, one_oracle, oracle_opinion, suite_or_skip, unavailable
from harness import protocol
from harness.cases import load_cases
from harness.model import Check, SignedRequest
from harness.oracles import Oracles
from harness.reference import sign
from test_oracles import official_as_s3
from harness.settings import PayloadKind, SessionTokenPlacement
from harness.verify.single import ServerRules, verify
from test_official_suite import _mutations
from test_oracles import ALL

NAME = "oracle-s3s"


@pytest.fixture(scope="module")
def s3s():
    with one_oracle(NAME) as started:
        hello = started.oracles[NAME].sessions[0].hello
        if "query" not in hello.capabilities.modes:  # libfaketime missing or not followed: a failure in CI
            unavailable(dict(hello.capabilities.why).get("query", "query mode not declared"), f"{NAME} presigned URLs")
        yield started


def opinion(oracles: Oracles, check: Check, signed: SignedRequest, body: bytes, now: str | None = None) -> dict[str, str]:
    return oracle_opinion(oracles, NAME, check, signed, body, now)


def s3_presigned_checks() -> list[tuple[Check, SignedRequest]]:
    """The official v4 requests as S3 presigned URLs: UNSIGNED-PAYLOAD as the S3 documentation's presigned
    URLs sign, a session token signed (S3 takes none added after signing)."""
    return official_as_s3("query", payload=PayloadKind.UNSIGNED, session_token_placement=SessionTokenPlacement.SIGNED)


def test_s3s_accepts_s3_presigned_urls_and_rejects_each_mutation(s3s):
    suite_or_skip()
    judged, not_applicable, mutations = 0, {}, 0
    for check, signed in s3_presigned_checks():
        body, rules = check.case.request.body, ServerRules.for_context(check.context)
        assert verify(signed, body, rules).valid, check.case.id
        got = opinion(s3s, check, signed, body)
        if got["verdict"] == protocol.NOT_APPLICABLE:
            not_applicable[check.case.id] = got["reason"]
            continue
        assert got["verdict"] == protocol.ACCEPT, f"s3s rejects the presigned {check.case.id} as S3: {got['reason']}"
        judged += 1
        for what, mutated in _mutations(signed, "query"):
            assert not verify(mutated, body, rules).valid
            theirs = opinion(s3s, check, mutated, body)
            assert theirs["verdict"] == protocol.REJECT and theirs["reason"], \
                f"s3s accepts the presigned {check.case.id} after mutating the {what}: {theirs}"
            mutations += 1
    # every vector but the ones the http crate refuses (a raw space in the path, a line break in a header value)
    refused = {"aws-c-auth/v4/get-header-value-multiline", "aws-c-auth/v4/get-space-normalized", "aws-c-auth/v4/get-space-unnormalized"}
    assert set(not_applicable) == refused and all("http crate" in r for r in not_applicable.values()), not_applicable
    assert judged == len(s3_presigned_checks()) - len(refused) and mutations == 4 * judged


def docs_presigned_get() -> tuple[Check, SignedRequest]:
    """The S3 documentation's presigned GET (examplebucket/test.txt, 2013-05-24, one day), as cases/ keeps it."""
    case = next(c for c in load_cases([ROOT / "cases" / "services" / "s3.yaml"]).cases if c.id == "services/s3-docs-presigned-get")
    url = case.expect["query"]["signed_url"]
    assert url.endswith("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    return Check(case, "query"), SignedRequest("GET", url, (("Host", "examplebucket.s3.amazonaws.com"),))


def test_s3s_accepts_the_s3_docs_presigned_url_and_rejects_its_mutations(s3s):
    check, signed = docs_presigned_get()
    assert verify(signed, b"", ServerRules.for_context(check.context)).valid
    assert opinion(s3s, check, signed, b"")["verdict"] == protocol.ACCEPT
    for old, new in [("X-Amz-Expires=86400", "X-Amz-Expires=86401"), ("test.txt", "test.txu"),
                     ("X-Amz-Date=20130524T000000Z", "X-Amz-Date=20130524T000001Z"), ("Signature=aeee", "Signature=beee")]:
        mutated = replace(signed, url=signed.url.replace(old, new))
        assert not verify(mutated, b"", ServerRules.for_context(check.context)).valid
        assert opinion(s3s, check, mutated, b"")["verdict"] == protocol.REJECT, (old, new)


def test_s3s_checks_the_expiry_at_the_servers_clock(s3s):
    """The URL lives 86400 s from 2013-05-24T00:00:00Z: one second before its end s3s accepts it, one
    second after it refuses it as expired; so the clock s3s reads is the server's, not the wall clock."""
    check, signed = docs_presigned_get()
    assert opinion(s3s, check, signed, b"", now="2013-05-24T23:59:59Z")["verdict"] == protocol.ACCEPT
    late = opinion(s3s, check, signed, b"", now="2013-05-25T00:00:01Z")
    assert late["verdict"] == protocol.REJECT and "expired" in late["reason"], late


def test_s3s_leaves_sts_presigned_urls_out(s3s):
    """s3s signs every presigned URL over UNSIGNED-PAYLOAD (S3's rule); an STS server hashes the body."""
    case = next(c for c in load_cases([ROOT / "cases" / "services"]).cases if c.id == "services/sts-presigned-get-caller-identity")
    check = Check(case, "query")
    signed = sign(check).signed
    assert verify(signed, b"", ServerRules.for_context(check.context)).valid
    got = opinion(s3s, check, signed, b"")
    assert got["verdict"] == protocol.NOT_APPLICABLE and "UNSIGNED-PAYLOAD" in got["reason"], got


def test_setup_installs_libfaketime_and_the_oracle_needs_it(monkeypatch):
    """`sigharness setup` installs Debian's faketime/libfaketime for oracle-s3s; without it the adapter is
    unavailable (a failure under CI=true), never silently without presigned URLs."""
    from harness import provision
    from harness.adapters import manifest

    spec = ALL[NAME]
    monkeypatch.setattr(provision.shutil, "which", lambda command: None if command == "faketime" else f"/usr/bin/{command}")
    assert {"faketime", "libfaketime"} <= set(provision.missing_packages([spec]))
    monkeypatch.setattr(manifest.shutil, "which", lambda command: None if command == "faketime" else f"/usr/bin/{command}")
    assert "faketime" in (manifest.missing_toolchain(spec) or "")
