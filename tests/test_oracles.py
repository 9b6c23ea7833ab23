"""Independent oracles (harness/oracles.py, docs/oracles.md): each accepts every official signed request
it can judge and rejects each single mutation our verifier rejects; their opinions reach results.json
with the oracles_disagree flag; known differences are matched; the agreement table counts right."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conftest import ROOT, SUITE, suite_or_skip, unavailable
from harness import protocol
from harness.adapters.manifest import discover
from harness.adapters.pool import PoolSettings
from harness.model import Check, SignedRequest
from harness.oracles import (KnownDifference, Oracles, agreement, disagreements, known_differences, read_differences,
                             select, server_for)
from harness.reference import sign
from harness.verify.single import ServerRules, verify
from test_official_suite import _mutations, _official_signed, checks_with

FIXTURES = ROOT / "tests" / "fixtures" / "oracles"
ALL, _ = discover(kind=None)

# What each oracle cannot judge among the official v4 vectors, and why (docs/oracles.md).
UNNORMALIZED = {"get-relative-relative-unnormalized", "get-relative-unnormalized", "get-slash-dot-slash-unnormalized",
                "get-slash-pointless-dot-unnormalized", "get-slash-unnormalized", "get-slashes-unnormalized"}
SCRATCHSTACK_NA = {
    "get-header-value-multiline": "the http crate refuses the value",  # a line break inside a header value
    "get-space-normalized": "invalid uri character", "get-space-unnormalized": "invalid uri character",
    **{name: "SignatureOptions has no option" for name in UNNORMALIZED},
}


@pytest.fixture(scope="module")
def oracles():
    suite_or_skip()
    specs, problems = select(ALL, ["oracle-scratchstack", "oracle-aws-crt", "oracle-s3s"])
    assert not problems
    with Oracles(specs, PoolSettings(), processes=1) as started:
        started.start()
        yield started


def need(oracles: Oracles, name: str) -> None:
    if name not in oracles.oracles:
        unavailable(oracles.unavailable.get(name, "not started"), name)


def opinion(oracles: Oracles, name: str, check: Check, signed, body: bytes) -> dict[str, str]:
    return oracles.opinions(check, signed, body, names=[name])[name]


@pytest.mark.parametrize("name, algorithm", [("oracle-scratchstack", "sigv4"), ("oracle-aws-crt", "sigv4a")])
def test_oracle_accepts_official_requests_and_rejects_each_mutation(oracles, name, algorithm):
    need(oracles, name)
    judged, not_applicable, known = 0, {}, []
    for param in checks_with("signed_request", algorithm):
        case, mode = param.values
        check, signed, body = Check(case, mode), _official_signed(case, mode), case.request.body
        got = opinion(oracles, name, check, signed, body)
        short = case.id.rsplit("/", 1)[1]
        if got["verdict"] == protocol.NOT_APPLICABLE:
            not_applicable[(short, mode)] = got["reason"]
            continue
        if got["verdict"] == protocol.REJECT:
            flags = disagreements(case.id, True, {name: got})
            assert flags and flags[0]["known"], f"{name} rejects the official {case.id} ({mode}): {got['reason']}"
            known.append(flags[0]["known"])
            continue
        judged += 1
        rules = ServerRules.for_context(case.context)
        for what, mutated in _mutations(signed, mode):
            assert not verify(mutated, body, rules).valid  # ours rejects it (tests/test_official_suite.py)
            theirs = opinion(oracles, name, check, mutated, body)
            assert theirs["verdict"] == protocol.REJECT and theirs["reason"], \
                f"{name} accepts {case.id} ({mode}) after mutating the {what}: {theirs}"
    if name == "oracle-scratchstack":
        # Header mode: every vector but the ones the crate cannot be given or configured for.
        assert {s for s, m in not_applicable if m == "header"} == set(SCRATCHSTACK_NA)
        for (short, mode), reason in not_applicable.items():
            # presigned URLs: declared out (the crate rejects each before its signature; scratchstack-encoded-credential)
            assert (mode == "query" and "X-Amz-Credential still percent-encoded" in reason) or SCRATCHSTACK_NA[short] in reason, \
                (short, mode, reason)
        assert {m for _, m in not_applicable} == {"header", "query"}
        assert set(known) == {"scratchstack-sorts-pairs"}  # one order
        assert judged == len(checks_with("signed_request", "sigv4")) // 2 - len(SCRATCHSTACK_NA) - 1  # get-vanilla-query-order-encoded: scratchstack-sorts-pairs
    else:
        assert not not_applicable and not known, (not_applicable, known)
        assert judged == len(checks_with("signed_request", "sigv4a"))


def official_as_s3(mode: str, **context: object) -> list[tuple[Check, SignedRequest]]:
    """The official v4 requests of one mode as S3 requests (service s3, S3 canonicalization, and the
    context settings given), signed by the reference signer."""
    out = []
    for param in checks_with("signed_request", "sigv4"):
        case, case_mode = param.values
        if case_mode != mode:
            continue
        s3 = replace(case, context=replace(case.context, service="s3", double_encode=False, normalize_path=False, **context))
        check = Check(s3, mode)
        out.append((check, sign(check).signed))
    return out


def s3_checks() -> list[tuple[Check, SignedRequest]]:
    """Header mode, with the x-amz-content-sha256 header S3 requires."""
    return official_as_s3("header", content_sha256_header=True)


def test_s3s_accepts_s3_requests_and_rejects_each_mutation(oracles):
    need(oracles, "oracle-s3s")
    judged, not_applicable = 0, {}
    for check, signed in s3_checks():
        body = check.case.request.body
        if not verify(signed, body, ServerRules.for_context(check.context)).valid:
            continue  # an S3 rule makes it invalid as S3 (e.g. a token added after signing is an unsigned x-amz-* header)
        got = opinion(oracles, "oracle-s3s", check, signed, body)
        if got["verdict"] == protocol.NOT_APPLICABLE:
            not_applicable[check.case.id] = got["reason"]
            continue
        assert got["verdict"] == protocol.ACCEPT, f"s3s rejects {check.case.id} as S3: {got['reason']}"
        judged += 1
        for what, mutated in _mutations(signed, "header"):
            if verify(mutated, body, ServerRules.for_context(check.context)).valid:
                continue
            theirs = opinion(oracles, "oracle-s3s", check, mutated, body)
            assert theirs["verdict"] == protocol.REJECT, f"s3s accepts {check.case.id} after mutating the {what}: {theirs}"
    assert judged >= 25, not_applicable
    assert all("http crate" in reason for reason in not_applicable.values()), not_applicable


def test_s3s_leaves_other_services_to_the_others(oracles):
    need(oracles, "oracle-s3s")
    case = next(p.values[0] for p in checks_with("signed_request", "sigv4") if p.values[0].id.endswith("/get-vanilla"))
    got = opinion(oracles, "oracle-s3s", Check(case, "header"), _official_signed(case, "header"), b"")
    assert got["verdict"] == protocol.NOT_APPLICABLE and "'service'" in got["reason"]


def test_server_config_says_s3_when_the_check_canonicalizes_as_s3():
    suite_or_skip()
    case = next(p.values[0] for p in checks_with("signed_request", "sigv4"))
    plain = server_for(Check(case, "header"))
    protocol.validate("server_config", plain)
    assert plain["s3"] is False and plain["now"] == "2015-08-30T12:36:00Z" and plain["credentials"][0]["access_key_id"] == "AKIDEXAMPLE"
    s3 = server_for(Check(replace(case, context=replace(case.context, service="s3", double_encode=False)), "header"))
    assert s3["s3"] is True and s3["double_encode"] is False


def test_select_takes_verifiers_only_and_names_unknown_ones():
    chosen, problems = select(ALL, None)
    assert {s.name for s in chosen} >= {"oracle-scratchstack", "oracle-aws-crt", "oracle-s3s"}
    assert all(s.kind == "verifier" for s in chosen)
    assert select(ALL, None, enabled=False) == ([], [])
    _, problems = select(ALL, ["py-reference", "oracle-nope"])
    assert len(problems) == 2 and "known oracles: " in problems[0] and "oracle-scratchstack" in problems[0]


ENTRY = KnownDifference("x-cred", "oracle-a*", "accept", "reject", "exactly 5 .*%2F", "we decode", ("https://example.invalid",),
                        "suite/*")


def test_disagreements_flag_each_oracle_that_differs_and_name_the_known_entry():
    opinions = {
        "oracle-agree": {"verdict": "accept", "reason": ""},
        "oracle-na": {"verdict": "n/a", "reason": "cannot"},
        "oracle-a1": {"verdict": "reject", "reason": "Credential must have exactly 5 parts, got 'AK%2F2015'"},
        "oracle-b": {"verdict": "reject", "reason": "Credential must have exactly 5 parts, got 'AK%2F2015'"},
    }
    flags = disagreements("suite/x", True, opinions, [ENTRY])
    assert [(f["oracle"], f["known"]) for f in flags] == [("oracle-a1", "x-cred"), ("oracle-b", None)]
    assert flags[0]["ours"] == "accept" and flags[0]["theirs"] == "reject" and "%2F" in flags[0]["reason"]
    assert disagreements("other/x", True, opinions, [ENTRY])[0]["known"] is None  # another case
    assert disagreements("suite/x", False, opinions, [ENTRY])[0]["oracle"] == "oracle-agree"  # we reject, it accepts


def test_known_differences_file_is_reviewed_data():
    entries = known_differences()
    assert entries and len({e.id for e in entries}) == len(entries)
    assert all(e.evidence and all(link.startswith("https://") for link in e.evidence) and e.rule for e in entries)
    with pytest.raises(ValueError, match="entry 1 needs"):
        read_differences("differences: [{id: a, oracle: b}]")
    with pytest.raises(ValueError, match="no evidence"):
        read_differences("differences: [{id: a, oracle: b, ours: accept, theirs: reject, reason: x, rule: y, evidence: []}]")


def test_agreement_counts_judged_checks_and_known_disagreements():
    rows = [
        {"verification": {"valid": True}, "opinions": {"a": {"verdict": "accept"}, "b": {"verdict": "n/a"}}},
        {"verification": {"valid": True}, "opinions": {"a": {"verdict": "reject"}, "b": {"verdict": "reject"}},
         "oracles_disagree": [{"oracle": "a", "known": "k"}, {"oracle": "b", "known": None}]},
        {"verification": {"valid": False}, "opinions": {"a": {"verdict": "reject"}, "b": {"verdict": "reject"}}},
        {"status": "unsupported"},
    ]
    table = agreement(rows)
    assert table["a"] == {"judged": 3, "agree": 2, "not_applicable": 0, "known": 1, "unknown": 0, "rate": 0.6667}
    assert table["b"] == {"judged": 2, "agree": 1, "not_applicable": 1, "known": 0, "unknown": 1, "rate": 0.5}


def run_with(tmp_path: Path, *, oracles: list[str] | None, use: bool = True) -> dict:
    from harness.runner import RunOptions, run

    suite_or_skip()
    options = RunOptions(case_paths=[str(SUITE)], out_dir=tmp_path, adapters=["py-reference"],
                         adapter_dirs=[ROOT / "adapters", FIXTURES], case_filter=["aws-c-auth/v4/get-vanilla*", "aws-c-auth/v4a/get-vanilla"],
                         oracles=oracles, use_oracles=use, isolate_network="off")
    outcome = run(options, log=lambda line: None)
    assert not outcome.problems, outcome.problems
    return outcome.data


def test_a_run_records_every_oracle_opinion_and_flags_disagreement(tmp_path):
    data = run_with(tmp_path, oracles=["oracle-scratchstack", "oracle-contrarian", "oracle-aws-crt"])
    if "oracle-scratchstack" not in data["oracles"] or not data["oracles"]["oracle-scratchstack"].get("available"):
        unavailable(str(data["oracles"].get("oracle-scratchstack")), "oracle-scratchstack")
    rows = data["results"]
    # every oracle that can judge the check has an opinion; one whose declared capabilities leave it out has none
    wanted = {"oracle-scratchstack", "oracle-contrarian", "oracle-aws-crt"}
    def expected(row: dict) -> set[str]:
        if "/v4a/" in row["case"]:
            return {"oracle-aws-crt"}
        # scratchstack declares presigned URLs out (it rejects each before its signature: scratchstack-encoded-credential)
        return wanted - {"oracle-aws-crt"} - ({"oracle-scratchstack"} if row["mode"] == "query" else set())

    assert rows and all(set(r["opinions"]) == expected(r) for r in rows), [(r["case"], r["mode"], sorted(r["opinions"])) for r in rows][:5]
    v4_header = [r for r in rows if r["case"].startswith("aws-c-auth/v4/") and r["mode"] == "header"]
    assert v4_header and all(r["opinions"]["oracle-scratchstack"]["verdict"] == "accept" for r in v4_header
                             if not r["case"].endswith("query-order-encoded"))  # scratchstack-sorts-pairs
    sigv4a = [r for r in rows if r["case"] == "aws-c-auth/v4a/get-vanilla"]
    assert all(r["opinions"]["oracle-aws-crt"]["verdict"] == "accept" for r in sigv4a)
    # contrarian declares sigv4 only: the row keeps no entry its capabilities explain; an accept keeps no empty reason
    assert all("oracle-contrarian" not in r["opinions"] for r in sigv4a)
    assert all(r["opinions"]["oracle-aws-crt"] == {"verdict": "accept"} for r in sigv4a)
    for row in rows:
        flagged = {f["oracle"]: f for f in row.get("oracles_disagree", [])}
        if row["case"].startswith("aws-c-auth/v4/"):
            # the flag names the oracle and the reviewed entry; its verdict and reason are the row's opinion, once
            assert flagged["oracle-contrarian"] == {"oracle": "oracle-contrarian", "known": None}
            assert row["opinions"]["oracle-contrarian"]["verdict"] == "reject"
            assert row["opinions"]["oracle-contrarian"]["reason"].startswith("contrarian")
        if row["mode"] == "query":
            assert "oracle-scratchstack" not in flagged  # presigned URLs are declared out (scratchstack-encoded-credential)
    v4 = len([r for r in rows if r["case"].startswith("aws-c-auth/v4/")])
    assert 0 < data["oracles"]["oracle-contrarian"]["asked"] <= v4  # identical requests are answered from the cache
    table = agreement(rows)
    assert table["oracle-contrarian"]["rate"] == 0.0 and table["oracle-aws-crt"]["rate"] == 1.0


def test_no_oracles_means_no_opinions(tmp_path):
    data = run_with(tmp_path, oracles=None, use=False)
    assert "oracles" not in data and not any("opinions" in r for r in data["results"])


def test_report_and_summary_show_the_agreement_table():
    from harness import report

    data = {"format": "sigharness-results", "version": 2, "manifest": {}, "adapters": {}, "cases": {}, "checks": {},
            "oracles": {"oracle-a": {"library": "lib-a", "library_version": "1.2", "available": True},
                        "oracle-b": {"library": "lib-b", "available": False, "reason": "needs cargo"}},
            "results": [{"case": "c", "mode": "header", "adapter": "x", "status": "pass", "verification": {"valid": True},
                         "opinions": {"oracle-a": {"verdict": "accept", "reason": ""}}},
                        {"case": "d", "mode": "header", "adapter": "x", "status": "pass", "verification": {"valid": True},
                         "opinions": {"oracle-a": {"verdict": "reject", "reason": "no"}},
                         "oracles_disagree": [{"oracle": "oracle-a", "known": None}]}]}
    summary = report.render_summary(data)
    assert "| oracle-a | lib-a 1.2 | 2 | 1 | 50% | 0 / 1 | 0 |" in summary
    assert "| oracle-b (unavailable) |" in summary
    page = report.render_html(data)
    assert 'id="sec-oracles"' in page and "not run: needs cargo" in page and "50.0%" in page


def test_known_entries_can_also_match_our_reason_and_the_path():
    entry = KnownDifference("body", "o", "reject", "accept", "^$", "S3 checks the body hash", ("https://example.invalid",),
                            ours_reason="does not match the body", path="%")
    accepts = {"o": {"verdict": "accept", "reason": ""}}
    flag = lambda why, path: disagreements("c", False, accepts, [entry], ours_reason=why, path=path)[0]["known"]  # noqa: E731
    assert flag("X-Amz-Content-Sha256 does not match the body", "/a%20b") == "body"
    assert flag("signature does not match the request as received", "/a%20b") is None
    assert flag("X-Amz-Content-Sha256 does not match the body", "/ab") is None


def test_s3s_checks_the_body_against_its_declared_hash(oracles):
    need(oracles, "oracle-s3s")
    check, signed = next((c, s) for c, s in s3_checks() if c.case.id.endswith("/post-x-www-form-urlencoded"))
    body = check.case.request.body + b"x"
    assert "does not match the body" in verify(signed, body, ServerRules.for_context(check.context)).reason
    got = opinion(oracles, "oracle-s3s", check, signed, body)
    assert got["verdict"] == protocol.REJECT and "BadDigest" in got["reason"], got
    assert opinion(oracles, "oracle-s3s", check, signed, check.case.request.body)["verdict"] == protocol.ACCEPT


MISMATCH = "The request signature we calculated does not match the signature you provided."


@pytest.mark.parametrize(("case", "ours", "request_", "theirs_reason", "ours_rules", "entry"), [
    ("payload/unsigned-s3-header", True,
     SignedRequest("PUT", "https://b.s3.amazonaws.com/k", (("Host", "b.s3.amazonaws.com"), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"))),
     MISMATCH, "spec", "scratchstack-unsigned-payload"),
    ("path/plus", True, SignedRequest("GET", "https://example.amazonaws.com/a+b", (("Host", "example.amazonaws.com"),)),
     MISMATCH, "spec", "scratchstack-plus-is-space"),
    ("headers/preset-authorization", True,
     SignedRequest("GET", "https://example.amazonaws.com/?X-Amz-Signature=00", (("Authorization", "Bearer x"),)),
     "", "other-authorization-ignored", "scratchstack-one-auth-mechanism"),
    ("query/key-prefix", True, SignedRequest("GET", "https://example.amazonaws.com/?key-type=s3&key=", ()),
     MISMATCH, "spec", "scratchstack-sorts-pairs"),
])
def test_reviewed_entries_cover_their_class(case, ours, request_, theirs_reason, ours_rules, entry):
    from harness.oracles import received_text

    opinions = {"oracle-scratchstack": {"verdict": "reject", "reason": theirs_reason}}
    flags = disagreements(case, ours, opinions, path=request_.parts()[2], received=received_text(request_), ours_rules=ours_rules)
    assert flags[0]["known"] == entry


def test_reviewed_entries_do_not_cover_other_classes():
    from harness.oracles import received_text

    plain = SignedRequest("GET", "https://example.amazonaws.com/a", (("Host", "example.amazonaws.com"),))
    opinions = {"oracle-scratchstack": {"verdict": "reject", "reason": MISMATCH}}
    # a plain request: no '+', no escape, no unsigned payload, a case no entry names -> to triage
    assert disagreements("path/other", True, opinions, path="/a", received=received_text(plain))[0]["known"] is None
    # the preset-authorization entry needs our acceptance under the open choice, not under the spec
    assert disagreements("headers/preset-authorization", True, {"oracle-scratchstack": {"verdict": "reject", "reason": ""}},
                         path="/", received=received_text(plain), ours_rules="spec")[0]["known"] is None


def test_read_differences_refuses_bad_patterns_and_duplicate_ids():
    entry = "{id: a, oracle: b, ours: accept, theirs: reject, reason: x, rule: y, evidence: [https://e]"
    with pytest.raises(ValueError, match="not a regular expression"):
        read_differences(f"differences: [{entry}, received: '('}}]")
    with pytest.raises(ValueError, match="duplicate ids"):
        read_differences(f"differences: [{entry}}}, {entry}}}]")
    assert read_differences(f"differences: [{entry}, case: [a/*, b/c]}}]")[0].case == "a/*|b/c"


def test_sigv4a_hints_take_the_judges_canonical_request(monkeypatch):
    """The judge's own canonical request goes to aws-crt's hints: our verifier is not run a second time."""
    from harness import oracles as orc
    from harness.cases import load_cases
    from harness.reference import surface_of
    from harness.verify import single

    case = next(c for c in load_cases([ROOT / "cases" / "sigv4a"]).cases if c.context.algorithm == "sigv4a")
    check = Check(case, "header")
    signed = surface_of(check).sign(check).signed
    orc._HINTS.clear()

    def no_second_verification(*args, **kwargs):
        raise AssertionError("verified twice")

    monkeypatch.setattr(single, "verify", no_second_verification)
    hints = orc.hints_for(check, signed, case.request.body, "THE JUDGE'S CANONICAL REQUEST")
    assert hints["canonical_request"] == "THE JUDGE'S CANONICAL REQUEST" and len(hints["sigv4a_public_key"]["x"]) == 64
    orc._HINTS.clear()


def test_s3s_authenticates_the_docs_post_form_and_rejects_each_mutation_of_its_authentication(oracles):
    """The S3 documentation's browser-upload form, posted as multipart/form-data (harness/post_form.py):
    s3s accepts it and refuses each mutation of what authenticates it (the policy, the signature, the
    x-amz-* fields the policy names); our verifier refuses each too (tests/test_post_policy.py)."""
    need(oracles, "oracle-s3s")
    import base64 as b64

    from harness.cases import load_cases
    from harness.cases.surfaces import post_rules, post_upload
    from harness.post_form import browser_post
    from harness.verify.post_policy import verify_post

    case = next(c for c in load_cases([ROOT / "cases" / "post-policy"]).cases if c.id == "post-policy/s3-docs-example")
    fields = [tuple(f) for f in case.upload["fields"]]
    url = f"https://{case.request.host}/"
    check = Check(case, "form")

    def judged(form: list[tuple[str, str]]) -> tuple[bool, dict[str, str]]:
        request = browser_post(url, post_upload(case, form))
        return verify_post(post_upload(case, form), post_rules(case)).valid, opinion(oracles, "oracle-s3s", check, request, request.body)

    ours, theirs = judged(fields)
    assert ours and theirs["verdict"] == protocol.ACCEPT, theirs
    policy = dict((n.lower(), v) for n, v in fields)["policy"]
    flipped = b64.b64encode(b64.b64decode(policy).replace(b"public-read", b"Public-read")).decode()
    for name, value in [("Policy", flipped), ("X-Amz-Signature", "0" * 64), ("X-Amz-Date", "20151229T000001Z"),
                        ("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20151228/us-east-1/s3/aws4_request"),
                        ("X-Amz-Credential", "AKIAOTHERKEYEXAMPLE/20151229/us-east-1/s3/aws4_request"),
                        ("X-Amz-Algorithm", None), ("X-Amz-Signature", None)]:  # (another algorithm: s3s NotImplemented, n/a)
        form = [(n, value if n == name else v) for n, v in fields if not (value is None and n == name)]
        ours, theirs = judged(form)
        assert not ours and theirs["verdict"] == protocol.REJECT, (name, value, theirs)
