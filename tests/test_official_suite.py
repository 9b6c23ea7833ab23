"""The reference signer and the verifier against every official aws-c-auth vector, read in place."""

from __future__ import annotations

import json

import pytest

from harness.cases.suite import load_suite
from harness.http_text import parse_signed_request
from harness.model import Check
from harness.reference import sign
from harness.reference.signing import public_key_from_xy, sigv4a_private_key, sigv4a_verify
from harness.verify.single import ServerRules, verify

from conftest import SUITE, suite_or_skip


def _cases():
    if not (SUITE / "v4").is_dir():
        return []
    errors: list = []
    cases = load_suite(SUITE, errors)
    assert not errors
    return cases


CASES = _cases()
CHECKS = [pytest.param(c, m, id=f"{c.id}:{m}") for c in CASES for m in ("header", "query")]


def checks_with(stage: str, algorithm: str | None = None) -> list:
    """The checks whose suite folder has the expectation file for `stage` (two v4a folders have none)."""
    return [p for p in CHECKS if stage in p.values[0].expect.get(p.values[1], {})
            and (algorithm is None or p.values[0].context.algorithm == algorithm)]


def test_every_folder_is_covered(suite):
    # 78 folders x 2 modes; only the two v4a folders without expectation files lack stage checks.
    assert len(CHECKS) == 156
    assert len(checks_with("canonical_request")) == 152 and len(checks_with("signed_request")) == 152


def test_suite_is_read_in_place(suite):
    errors: list = []
    cases = load_suite(suite, errors)
    assert errors == []
    ids = {c.id for c in cases}
    assert len(ids) == len(list((suite / "v4").iterdir())) + len(list((suite / "v4a").iterdir()))
    assert "aws-c-auth/v4/get-vanilla" in ids and "aws-c-auth/v4a/post-vanilla-query" in ids
    by_id = {c.id: c for c in cases}
    assert by_id["aws-c-auth/v4/get-header-value-multiline"].request.header_values("My-Header1") == ["value1\n  value2\n     value3"]
    assert by_id["aws-c-auth/v4/get-space-normalized"].request.path == "/example space/"
    assert by_id["aws-c-auth/v4/get-utf8"].request.path == "/ሴ"
    assert by_id["aws-c-auth/v4/post-x-www-form-urlencoded"].request.body == b"Param1=value1"
    assert by_id["aws-c-auth/v4/post-sts-header-after"].context.session_token_placement == "after"


@pytest.mark.parametrize("case, mode", checks_with("canonical_request"))
def test_reference_reproduces_vector(case, mode):
    expected = case.expect[mode]
    result = sign(Check(case, mode))
    assert result.stages["canonical_request"] == expected["canonical_request"]
    assert result.stages["string_to_sign"] == expected["string_to_sign"]
    if case.context.algorithm == "sigv4":
        assert result.stages["signature"] == expected["signature"]


@pytest.mark.parametrize("case", [c for c in CASES if "public_key" in c.flags], ids=lambda c: c.id)
def test_sigv4a_derived_key_matches_public_key_json(case):
    derived = sigv4a_private_key(case.context.access_key_id, case.context.secret_access_key).public_key().public_numbers()
    assert (f"{derived.x:064x}", f"{derived.y:064x}") == (case.flags["public_key"]["X"], case.flags["public_key"]["Y"])


@pytest.mark.parametrize("case, mode", checks_with("signature", "sigv4a"))
def test_sample_sigv4a_signatures_verify_against_public_key_json(case, mode):
    expected = case.expect[mode]
    key = public_key_from_xy(case.flags["public_key"]["X"], case.flags["public_key"]["Y"])
    assert sigv4a_verify(key, expected["string_to_sign"], expected["signature"].strip())
    assert not sigv4a_verify(key, expected["string_to_sign"] + "x", expected["signature"].strip())


def _official_signed(case, mode):
    return parse_signed_request(case.expect[mode]["signed_request"])


@pytest.mark.parametrize("case, mode", checks_with("signed_request"))
def test_verifier_accepts_official_signed_request(case, mode):
    signed = _official_signed(case, mode)
    result = verify(signed, case.request.body, ServerRules.for_context(case.context))
    assert result.valid, result.reason


def _mutations(signed, mode):
    """(name, mutated request) for each single mutation a server must notice."""
    from dataclasses import replace

    from harness.model import split_url

    scheme, host, path, query = split_url(signed.url)
    out = []
    # A signed header value (not the date, covered below).
    headers = list(signed.headers)
    idx = next(i for i, (n, _) in enumerate(headers) if n.lower() == "host")
    headers[idx] = (headers[idx][0], headers[idx][1] + "x")
    out.append(("header value", replace(signed, headers=tuple(headers))))
    out.append(("path", replace(signed, url=f"{scheme}://{host}{path}x" + (f"?{query}" if query else ""))))
    params = query.split("&") if query else []
    user = [i for i, p in enumerate(params) if not p.startswith("X-Amz-")]
    if user:
        params[user[0]] = params[user[0]] + "x"
    else:
        params.insert(0, "added=1")
    out.append(("query value", replace(signed, url=f"{scheme}://{host}{path}?" + "&".join(params))))
    if mode == "header":
        headers = [(n, "20150830T123601Z" if n.lower() == "x-amz-date" else v) for n, v in signed.headers]
        out.append(("date", replace(signed, headers=tuple(headers))))
    else:
        out.append(("date", replace(signed, url=signed.url.replace("X-Amz-Date=20150830T123600Z", "X-Amz-Date=20150830T123601Z"))))
    return out


@pytest.mark.parametrize("case, mode", checks_with("signed_request"))
def test_verifier_rejects_every_single_mutation(case, mode):
    signed = _official_signed(case, mode)
    rules = ServerRules.for_context(case.context)
    for name, mutated in _mutations(signed, mode):
        assert mutated != signed
        result = verify(mutated, case.request.body, rules)
        assert not result.valid, f"accepted after mutating the {name}"


@pytest.mark.parametrize("case, mode", CHECKS)
def test_verifier_accepts_reference_signed_request(case, mode):
    result = sign(Check(case, mode))
    assert verify(result.signed, case.request.body, ServerRules.for_context(case.context)).valid


def test_verifier_takes_the_http_date_header_when_there_is_no_x_amz_date():
    from dataclasses import replace

    case = next(c for c in CASES if c.id == "aws-c-auth/v4/get-vanilla")
    signed = sign(Check(case, "header")).signed
    rules = ServerRules.for_context(case.context)
    as_date = tuple(("Date", "Sun, 30 Aug 2015 12:36:00 GMT") if n == "X-Amz-Date" else (n, v) for n, v in signed.headers)
    # The signature covered x-amz-date, so renaming the header must be rejected...
    assert not verify(replace(signed, headers=as_date), b"", rules).valid
    # ...and without any date at all the reason says so.
    no_date = tuple((n, v) for n, v in signed.headers if n != "X-Amz-Date")
    assert "no X-Amz-Date or Date header" in verify(replace(signed, headers=no_date), b"", rules).reason


def test_verifier_accepts_a_request_dated_by_the_http_date_header():
    from harness.model import SignedRequest
    from harness.reference import canonical as cr
    from harness.reference import signing

    case = next(c for c in CASES if c.id == "aws-c-auth/v4/get-vanilla")
    headers = [("Host", "example.amazonaws.com"), ("Date", "Sun, 30 Aug 2015 12:36:00 GMT")]
    names = cr.headers_to_sign(headers)
    creq = cr.canonical_request("GET", "/", "", cr.canonical_headers(headers, names), cr.signed_headers(names), cr.EMPTY_SHA256)
    scope = "20150830/us-east-1/service/aws4_request"
    sts = signing.string_to_sign("sigv4", "20150830T123600Z", scope, creq)
    sig = signing.signature(signing.signing_key(case.context.secret_access_key, "20150830", "us-east-1", "service"), sts)
    auth = f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{scope}, SignedHeaders=date;host, Signature={sig}"
    signed = SignedRequest("GET", "https://example.amazonaws.com/", tuple(headers + [("Authorization", auth)]))
    assert verify(signed, b"", ServerRules.for_context(case.context)).valid
