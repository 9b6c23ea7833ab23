"""oracle-rustack (adapters/rustack, docs/oracles.md): rustack-auth as a second independent SigV4 verifier for
services other than S3 (header mode) and for S3 (header and presigned URLs at the server's clock). It accepts
the official requests it can judge, each one it rejects is covered by a reviewed entry, it rejects each
single mutation our verifier rejects, and it leaves out what its source says it cannot judge."""

from __future__ import annotations

import pytest

from conftest import one_oracle, oracle_opinion, suite_or_skip, unavailable
from harness import protocol
from harness.model import Check, SignedRequest
from harness.oracles import Oracles, disagreements, received_text
from harness.reference import sign
from harness.verify.single import ServerRules, verify
from test_official_suite import _mutations, _official_signed, checks_with
from test_oracles import ALL, s3_checks
from test_oracles_presign import docs_presigned_get, s3_presigned_checks

NAME = "oracle-rustack"
# The official v4 requests (service "service", header mode) rustack-auth 0.12.0 rejects, and the reviewed entry
# that says why (harness/oracle_differences.yaml): one path rule (decoded and encoded once, never normalized),
# the first value of a repeated header, and the query canonicalized as received.
REJECTED = {
    "get-header-key-duplicate": "rustack-first-header-value-only",
    "get-header-value-order": "rustack-first-header-value-only",
    "get-relative-normalized": "rustack-no-path-normalization",
    "get-relative-relative-normalized": "rustack-no-path-normalization",
    "get-slash-dot-slash-normalized": "rustack-no-path-normalization",
    "get-slash-normalized": "rustack-no-path-normalization",
    "get-slash-pointless-dot-normalized": "rustack-no-path-normalization",
    "get-slashes-normalized": "rustack-no-path-normalization",
    "get-vanilla-utf8-query": "rustack-query-as-received",  # the query as received (raw UTF-8), not re-encoded
}
# What the http crate cannot carry (a line break inside a header value, a raw space in the path).
REFUSED = {"get-header-value-multiline", "get-space-normalized", "get-space-unnormalized"}


@pytest.fixture(scope="module")
def rustack():
    suite_or_skip()
    with one_oracle(NAME) as started:
        yield started


def opinion(oracles: Oracles, check: Check, signed: SignedRequest, body: bytes, now: str | None = None) -> dict[str, str]:
    return oracle_opinion(oracles, NAME, check, signed, body, now)


def known_entry(case_id: str, signed: SignedRequest, got: dict[str, str]) -> str | None:
    flags = disagreements(case_id, True, {NAME: got}, path=signed.parts()[2], received=received_text(signed))
    return flags[0]["known"] if flags else None


def rejects_each_mutation(oracles: Oracles, check: Check, signed: SignedRequest, body: bytes, mode: str) -> int:
    rules, count = ServerRules.for_context(check.context), 0
    for what, mutated in _mutations(signed, mode):
        if verify(mutated, body, rules).valid:
            continue
        theirs = opinion(oracles, check, mutated, body)
        assert theirs["verdict"] == protocol.REJECT and theirs["reason"], \
            f"{NAME} accepts {check.case.id} ({mode}) after mutating the {what}: {theirs}"
        count += 1
    return count


def test_rustack_accepts_official_requests_and_rejects_each_mutation(rustack):
    judged, rejected, refused, presigned = 0, {}, set(), {}
    for param in checks_with("signed_request", "sigv4"):
        case, mode = param.values
        check, signed, body = Check(case, mode), _official_signed(case, mode), case.request.body
        short = case.id.rsplit("/", 1)[1]
        got = opinion(rustack, check, signed, body)
        if mode == "query":  # service "service": not S3, whose presigned rule (UNSIGNED-PAYLOAD) is the crate's only one
            presigned[short] = got
            continue
        if got["verdict"] == protocol.NOT_APPLICABLE:
            assert "http crate" in got["reason"], (short, got)
            refused.add(short)
            continue
        if got["verdict"] == protocol.REJECT:
            rejected[short] = known_entry(case.id, signed, got)
            continue
        judged += 1
        assert rejects_each_mutation(rustack, check, signed, body, mode) == 4
    assert rejected == REJECTED and refused == REFUSED
    assert judged == len(presigned) - len(REJECTED) - len(REFUSED) and judged >= 20
    # presigned URLs of another service than S3: the oracle's hello declares them out (query_services), so the
    # engine answers n/a with its reason and never asks the oracle (declared)
    assert all(o["verdict"] == protocol.NOT_APPLICABLE and o.get("declared") and "UNSIGNED-PAYLOAD" in o["reason"]
               for o in presigned.values()), presigned


def sort_opinions(rustack, checks, mode: str) -> tuple[int, dict[str, str], dict[str, str | None], list[int]]:
    """The oracle's opinions of signed requests: how many it judged (accepted), the n/a reasons and the known
    entry of each rejection by case, and for each accepted one how many of its mutations it rejected."""
    judged, not_applicable, rejected, mutations = 0, {}, {}, []
    for check, signed in checks:
        body = check.case.request.body
        got = opinion(rustack, check, signed, body)
        if got["verdict"] == protocol.NOT_APPLICABLE:
            not_applicable[check.case.id] = got["reason"]
        elif got["verdict"] == protocol.REJECT:
            rejected[check.case.id.rsplit("/", 1)[1]] = known_entry(check.case.id, signed, got)
        else:
            judged += 1
            mutations.append(rejects_each_mutation(rustack, check, signed, body, mode))
    return judged, not_applicable, rejected, mutations


def test_rustack_accepts_s3_requests_and_rejects_each_mutation(rustack):
    """The official requests as S3 header-signed requests (verify_s3_sigv4): the S3 path rule is the crate's."""
    valid_as_s3 = [(c, s) for c, s in s3_checks()  # an S3 rule makes some invalid as S3 (tests/test_oracles.py)
                   if verify(s, c.case.request.body, ServerRules.for_context(c.context)).valid]
    judged, not_applicable, rejected, mutations = sort_opinions(rustack, valid_as_s3, "header")
    assert all(n >= 3 for n in mutations)
    assert set(rejected.values()) <= {"rustack-first-header-value-only"}, rejected
    assert set(rejected) == {"get-header-key-duplicate", "get-header-value-order"}
    assert judged >= 25 and all("http crate" in reason for reason in not_applicable.values()), not_applicable


def test_rustack_accepts_s3_presigned_urls_at_the_servers_clock(rustack):
    hello = rustack.oracles[NAME].sessions[0].hello
    if "query" not in hello.capabilities.modes:  # libfaketime missing or not followed: a failure in CI
        unavailable(dict(hello.capabilities.why).get("query", "query mode not declared"), f"{NAME} presigned URLs")
    judged, not_applicable, rejected, mutations = sort_opinions(rustack, s3_presigned_checks(), "query")
    assert all(n == 4 for n in mutations)
    assert set(rejected.values()) <= {"rustack-first-header-value-only"}, rejected
    assert judged >= 25 and all("http crate" in reason for reason in not_applicable.values()), not_applicable
    # the S3 documentation's URL lives 86400 s from 2013-05-24T00:00:00Z: judged at the server's clock
    check, signed = docs_presigned_get()
    assert opinion(rustack, check, signed, b"")["verdict"] == protocol.ACCEPT
    assert opinion(rustack, check, signed, b"", now="2013-05-24T23:59:59Z")["verdict"] == protocol.ACCEPT
    late = opinion(rustack, check, signed, b"", now="2013-05-25T00:00:01Z")
    assert late["verdict"] == protocol.REJECT and "RequestExpired" in late["reason"], late
    mutated = SignedRequest(signed.method, signed.url.replace("Signature=aeee", "Signature=beee"), signed.headers)
    assert opinion(rustack, check, mutated, b"")["verdict"] == protocol.REJECT


def test_rustack_declares_what_it_cannot_judge(rustack):
    hello = rustack.oracles[NAME].sessions[0].hello
    assert hello.library == "rustack-auth" and hello.library_version == "0.12.0"
    assert hello.capabilities.kind == protocol.VERIFIER and hello.capabilities.algorithms == ("sigv4",)
    assert "AWS4-HMAC-SHA256 only" in dict(hello.capabilities.why)["sigv4a"]
    sigv4a = next(p.values[0] for p in checks_with("signed_request", "sigv4a"))
    got = rustack.opinions(Check(sigv4a, "header"), _official_signed(sigv4a, "header"), b"", names=[NAME])[NAME]
    assert got["verdict"] == protocol.NOT_APPLICABLE and got.get("declared")


def test_rustack_rejects_an_unsigned_payload_outside_s3_and_accepts_it_in_s3(rustack):
    """verify_sigv4 (other services) compares x-amz-content-sha256 with the body; verify_s3_sigv4 takes
    UNSIGNED-PAYLOAD (rustack-unsigned-payload-s3-only): the oracle picks the entry point by the server's service."""
    from dataclasses import replace

    from harness.settings import PayloadKind

    case = next(p.values[0] for p in checks_with("signed_request", "sigv4") if p.values[0].id.endswith("/post-vanilla"))
    for service, wanted in (("s3", protocol.ACCEPT), ("execute-api", protocol.REJECT)):
        context = replace(case.context, service=service, payload=PayloadKind.UNSIGNED, content_sha256_header=True,
                          double_encode=service != "s3", normalize_path=service != "s3")
        check = Check(replace(case, context=context), "header")
        signed = sign(check).signed
        assert verify(signed, b"", ServerRules.for_context(check.context)).valid
        got = opinion(rustack, check, signed, b"")
        assert got["verdict"] == wanted, (service, got)
        if wanted == protocol.REJECT:
            assert "InvalidPayloadHash" in got["reason"] and known_entry(check.case.id, signed, got) == "rustack-unsigned-payload-s3-only"


def test_setup_installs_libfaketime_for_rustack_too(monkeypatch):
    """Presigned URLs need the server's clock (adapters/oracle-common, `clock`): `sigharness setup` installs
    libfaketime for this oracle as for oracle-s3s, and without it the adapter is unavailable."""
    from harness import provision
    from harness.adapters import manifest

    spec = ALL[NAME]
    monkeypatch.setattr(provision.shutil, "which", lambda command: None if command == "faketime" else f"/usr/bin/{command}")
    assert {"faketime", "libfaketime"} <= set(provision.missing_packages([spec]))
    monkeypatch.setattr(manifest.shutil, "which", lambda command: None if command == "faketime" else f"/usr/bin/{command}")
    assert "faketime" in (manifest.missing_toolchain(spec) or "")
