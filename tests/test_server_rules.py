"""The server rules decided from evidence (docs/server-rules.md): for each, a request built with the
reference signer that the rule accepts and a mutation of it that the rule rejects."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from harness.integrity import request_changes
from harness.model import Context, Request, SignedRequest
from harness.reference import canonical as cr
from harness.reference import signer, signing
from harness.reference.signer import sign_request
from harness.services import profile
from harness.verify.single import OPEN_CHOICES, ServerRules, verify, verify_with_choices

from conftest import ROOT

WHEN = datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc)
BUCKET = "examplebucket.s3.us-east-1.amazonaws.com"


def _context(service: str = "s3", **changes) -> Context:
    p = profile(service)
    ctx = Context("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, "us-east-1", ("us-east-1",),
                  service, WHEN, content_sha256_header=p.content_sha256_header, normalize_path=p.normalize_path,
                  double_encode=p.double_encode)
    return replace(ctx, **changes)


def _request(path: str, host: str = BUCKET, method: str = "GET", headers=(), body: bytes = b"") -> Request:
    return Request(method, "https", host, path, "", (("Host", host), *headers), body)


def _sign(request: Request, context: Context, mode: str) -> SignedRequest:
    """The reference signer's request, with the payload kind resolved as Check.context does."""
    if context.payload == "auto":
        context = replace(context, payload=profile(context.service).payload("auto", mode))
    signed = sign_request(request, context, mode).signed
    assert signed is not None
    return signed


def _rules(context: Context) -> ServerRules:
    return ServerRules.for_context(context)


def _with_path(signed: SignedRequest, path: str) -> SignedRequest:
    scheme, host, _, query = signed.parts()
    return replace(signed, url=f"{scheme}://{host}{path}" + (f"?{query}" if query else ""))


def _with_headers(signed: SignedRequest, *extra: tuple[str, str], drop: str = "") -> SignedRequest:
    kept = tuple((n, v) for n, v in signed.headers if n.lower() != drop.lower())
    return replace(signed, headers=kept + extra)


# --- S3 canonical path: the received path decoded and URI-encoded once -------------------------------

@pytest.mark.parametrize("mode", ["header", "query"])
@pytest.mark.parametrize("signed_path, sent_path", [
    ("/~user/notes.txt", "/%7Euser/notes.txt"),  # boto/boto#2849
    ("/~user/notes.txt", "/%7euser/notes.txt"),
    ("/a%3Db", "/a=b"),  # a raw '=' is '%3D' (agent-beacon#296)
    ("/images/mac%402x.png", "/images/mac@2x.png"),  # envoy#42218
    ("/a%2Bb.txt", "/a+b.txt"),
])
def test_s3_accepts_a_signature_over_the_path_it_computes(mode, signed_path, sent_path):
    ctx = _context()
    signed = _with_path(_sign(_request(signed_path), ctx, mode), sent_path)
    assert verify(signed, b"", _rules(ctx)).valid
    # A server taking the path verbatim would not: the rule is what accepts it.
    assert not verify(signed, b"", replace(_rules(ctx), reencode_path=False)).valid


@pytest.mark.parametrize("mode", ["header", "query"])
@pytest.mark.parametrize("path", ["/%7Euser/notes.txt", "/images/mac@2x.png", "/a+b.txt", "/dir%2ffile.txt", "/date=2026/x"])
def test_s3_rejects_a_signature_over_the_path_as_sent(mode, path, monkeypatch):
    # A passthrough signer (the reference told S3 takes the path verbatim) signs what it sends.
    monkeypatch.setattr(signer, "profile", lambda service: replace(profile(service), reencode_path=False))
    ctx = _context()
    signed = _sign(_request(path), ctx, mode)
    result = verify(signed, b"", _rules(ctx))
    assert not result.valid and "signature does not match" in result.reason
    assert verify(signed, b"", replace(_rules(ctx), reencode_path=False)).valid


def test_other_services_take_the_received_path_and_encode_it_again():
    ctx = _context("service", normalize_path=False)
    signed = _sign(_request("/a%7Eb", host="example.amazonaws.com"), ctx, "header")
    assert "/a%257Eb" in verify(signed, b"", _rules(ctx)).canonical_request.split("\n")[1]
    assert not verify(_with_path(signed, "/a~b"), b"", _rules(ctx)).valid


def test_s3_encoded_slash_is_kept_unless_the_open_choice_decodes_it():
    ctx = _context()
    kept = _sign(_request("/dir%2Ffile.txt"), ctx, "header")
    assert verify(kept, b"", _rules(ctx)).valid
    assert not verify(kept, b"", _rules(ctx).with_choice("s3-encoded-slash-decoded")).valid
    decoded = _with_path(_sign(_request("/dir/file.txt"), ctx, "header"), "/dir%2Ffile.txt")
    assert not verify(decoded, b"", _rules(ctx)).valid
    result = verify_with_choices(decoded, b"", _rules(ctx), ("s3-encoded-slash-decoded",))
    assert result.valid and result.rules == "s3-encoded-slash-decoded"


# --- S3 and unsigned x-amz-* headers -----------------------------------------------------------------

@pytest.mark.parametrize("mode", ["header", "query"])
def test_s3_rejects_an_x_amz_header_it_was_not_signed_over(mode):
    ctx = _context()
    signed = _sign(_request("/public.txt", headers=(("x-amz-acl", "public-read"),)), ctx, mode)
    assert verify(signed, b"", _rules(ctx)).valid
    added = _with_headers(_sign(_request("/public.txt"), ctx, mode), ("x-amz-acl", "public-read"))  # soto#374
    result = verify(added, b"", _rules(ctx))
    assert not result.valid and "HeadersNotSigned: x-amz-acl" in result.reason


def test_other_services_do_not_apply_headers_not_signed():
    ctx = _context("service")
    added = _with_headers(_sign(_request("/", host="example.amazonaws.com"), ctx, "header"), ("x-amz-acl", "private"))
    assert verify(added, b"", _rules(ctx)).valid


def test_s3_tolerates_x_amz_content_sha256_unsigned():
    ctx = _context()
    presigned = _with_headers(_sign(_request("/file"), ctx, "query"), ("X-Amz-Content-Sha256", cr.UNSIGNED_PAYLOAD))
    assert verify(presigned, b"", _rules(ctx)).valid
    strict = replace(_rules(ctx), unsigned_amz_headers_tolerated=frozenset())
    assert "HeadersNotSigned: x-amz-content-sha256" in verify(presigned, b"", strict).reason


# --- The payload hash comes from what is received ----------------------------------------------------

def test_s3_presigned_url_without_content_header_means_unsigned_payload():
    ctx = _context()
    signed = _sign(_request("/up", method="PUT", body=b"one"), ctx, "query")
    assert verify(signed, b"another body", _rules(ctx)).valid
    # The case's payload kind is not what the server reads.
    assert verify(signed, b"one", replace(_rules(ctx), payload="body")).valid


def test_s3_presigned_body_hash_needs_the_content_header():
    ctx = _context(payload="body")
    signed = _sign(_request("/up", method="PUT", body=b"exact bytes"), ctx, "query")
    assert ("X-Amz-Content-Sha256", hashlib.sha256(b"exact bytes").hexdigest()) in signed.headers
    assert verify(signed, b"exact bytes", _rules(ctx)).valid
    assert not verify(signed, b"other bytes", _rules(ctx)).valid  # the header is checked against the body
    without = _with_headers(signed, drop="X-Amz-Content-Sha256")
    without = replace(without, url=without.url)  # the URL still signs host;x-amz-content-sha256
    assert not verify(without, b"exact bytes", _rules(ctx)).valid


def test_s3_header_auth_needs_the_content_header_and_checks_it():
    ctx = _context()
    signed = _sign(_request("/up", method="PUT", body=b"data"), ctx, "header")
    assert verify(signed, b"data", _rules(ctx)).valid
    assert "does not match the body" in verify(signed, b"tampered", _rules(ctx)).reason
    unsigned = _sign(_request("/up", method="PUT", body=b"data"), replace(ctx, payload="unsigned"), "header")
    assert verify(unsigned, b"anything", _rules(ctx)).valid
    bare = _sign(_request("/up", method="PUT", body=b"data"), replace(ctx, content_sha256_header=False), "header")
    assert "requires X-Amz-Content-Sha256" in verify(bare, b"data", _rules(ctx)).reason


def test_other_services_hash_the_body_they_receive():
    ctx = _context("service")
    req = _request("/", host="example.amazonaws.com", method="POST", body=b'{"a":1}')
    signed = _sign(req, ctx, "query")
    assert verify(signed, b'{"a":1}', _rules(ctx)).valid
    assert not verify(signed, b'{"a":2}', _rules(ctx)).valid
    # An empty-hash presign of a request with a body, whatever the case pinned.
    empty = _with_headers(_sign(req, replace(ctx, payload="empty"), "query"), drop="X-Amz-Content-Sha256")
    assert not verify(empty, b'{"a":1}', replace(_rules(ctx), payload="empty")).valid


# --- A presigned URL that also carries an Authorization header ----------------------------------------

def test_s3_rejects_two_auth_mechanisms():
    ctx = _context()
    signed = _sign(_request("/test.txt"), ctx, "query")
    assert verify(signed, b"", _rules(ctx)).valid
    both = _with_headers(signed, ("Authorization", "Bearer abc.def.ghi"))
    result = verify_with_choices(both, b"", _rules(ctx), ())
    assert not result.valid and "only one auth mechanism" in result.reason


def test_other_services_reject_two_auth_mechanisms_unless_the_case_leaves_it_open():
    ctx = _context("service")
    both = _with_headers(_sign(_request("/", host="example.amazonaws.com"), ctx, "query"), ("Authorization", "Bearer x"))
    assert not verify(both, b"", _rules(ctx)).valid
    result = verify_with_choices(both, b"", _rules(ctx), ("other-authorization-ignored",))
    assert result.valid and result.rules == "other-authorization-ignored"


# --- The Date header ----------------------------------------------------------------------------------

def _sign_with_date_header(date_value: str, time_in_string_to_sign: str) -> SignedRequest:
    """A header-signed request carrying Date and no X-Amz-Date, signed with the reference's stages."""
    ctx = _context("service")
    headers = [("Host", "example.amazonaws.com"), ("Date", date_value)]
    names = ["date", "host"]
    creq = cr.canonical_request("GET", "/", "", cr.canonical_headers(headers, names), cr.signed_headers(names), cr.EMPTY_SHA256)
    scope = signing.credential_scope(ctx.date_stamp, ctx.region, ctx.service, "sigv4")
    sts = signing.string_to_sign("sigv4", time_in_string_to_sign, scope, creq)
    key = signing.signing_key(ctx.secret_access_key, ctx.date_stamp, ctx.region, ctx.service)
    auth = f"AWS4-HMAC-SHA256 Credential={ctx.access_key_id}/{scope}, SignedHeaders=date;host, Signature={signing.signature(key, sts)}"
    return SignedRequest("GET", "https://example.amazonaws.com/", (*headers, ("Authorization", auth)))


@pytest.mark.parametrize("date_value", [format_datetime(WHEN, usegmt=True), "20150830T123600Z"])
def test_a_date_header_gives_the_time_as_iso_8601_basic_in_the_string_to_sign(date_value):
    rules = _rules(_context("service"))
    accepted = verify(_sign_with_date_header(date_value, "20150830T123600Z"), b"", rules)
    assert accepted.valid and accepted.string_to_sign.split("\n")[1] == "20150830T123600Z"
    if date_value != "20150830T123600Z":
        # A signer that puts the HTTP date itself into the string to sign is rejected.
        assert not verify(_sign_with_date_header(date_value, date_value), b"", rules).valid


def test_a_date_header_in_another_format_is_rejected():
    result = verify(_sign_with_date_header("2015-08-30 12:36:00", "20150830T123600Z"), b"", _rules(_context("service")))
    assert not result.valid and "Date header" in result.reason


def test_x_amz_date_wins_over_a_date_header():
    ctx = _context("service")
    signed = _sign(_request("/", host="example.amazonaws.com", headers=(("Date", "Mon, 01 Jan 2001 00:00:00 GMT"),)), ctx, "header")
    assert verify(signed, b"", _rules(ctx)).valid


# --- Tabs inside header values ------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["header", "query"])
def test_tabs_are_folded_unless_the_open_choice_keeps_them(mode, monkeypatch):
    ctx = _context("service")
    req = _request("/", host="example.amazonaws.com", headers=(("X-Custom", "a\tb"),))
    folded = _sign(req, ctx, mode)  # the reference folds the tab: 'a b'
    assert verify(folded, b"", _rules(ctx)).valid
    assert not verify(folded, b"", _rules(ctx).with_choice("header-tab-kept")).valid
    with monkeypatch.context() as patch:  # a signer that folds spaces only (Go v2, Rust)
        patch.setattr(cr, "_WHITESPACE_RUN", re.compile(" +"))
        kept = _sign(req, ctx, mode)
    assert not verify(kept, b"", _rules(ctx)).valid
    result = verify_with_choices(kept, b"", _rules(ctx), ("header-tab-kept",))
    assert result.valid and result.rules == "header-tab-kept"


# --- Integrity honours the case's open choices --------------------------------------------------------

def test_integrity_takes_the_case_open_choice_for_a_trailing_dot():
    ctx = _context("service")
    asked = _request("/foo/.", host="example.amazonaws.com")
    sent = SignedRequest("GET", "https://example.amazonaws.com/foo/", (("Host", "example.amazonaws.com"),))
    assert request_changes(asked, sent, ctx) == ["path '/foo/.' became '/foo/'"]
    assert request_changes(asked, sent, ctx, ("path-dot-segment-keeps-slash",)) == []
    elsewhere = SignedRequest("GET", "https://example.amazonaws.com/bar/", (("Host", "example.amazonaws.com"),))
    assert request_changes(asked, elsewhere, ctx, ("path-dot-segment-keeps-slash",)) != []


# --- Declarations ---------------------------------------------------------------------------------------

def test_the_case_schema_lists_exactly_the_verifier_open_choices():
    schema = json.loads((ROOT / "harness/cases/case.schema.json").read_text(encoding="utf-8"))
    text = json.dumps(schema)
    start = text.index('"open_choices"')
    enum = json.loads(text[text.index("[", text.index('"enum"', start)):text.index("]", start) + 1])
    assert sorted(enum) == sorted(OPEN_CHOICES)


def test_every_with_choice_is_a_real_change_of_rules():
    rules = _rules(_context())
    for choice in OPEN_CHOICES:
        if choice != "query-plus-literal":  # the default reading, named so a case can say it
            assert rules.with_choice(choice) != rules, choice


def test_service_profiles_name_their_evidence():
    for service in ("s3", "default"):
        assert profile(service).evidence, service
    docs = (ROOT / "docs/server-rules.md").read_text(encoding="utf-8")
    for link in profile("s3").evidence:
        assert link in docs, link
