"""Presigned POST: the reference reproduces the published vectors, the verifier accepts the
published form and the cases as their `server` block says, and rejects each single mutation."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from harness.cases.errors import CaseError
from harness.cases import load_cases
from harness.cases.surfaces import post_rules, post_upload
from harness.cases.yamlfile import load_file
from harness.model import Case
from harness.model import Context
from harness.reference import post_policy as pp
from harness.verify.post_policy import PostServerRules, Upload, verify_post, verify_post_with_choices

ROOT = Path(__file__).resolve().parents[1]
LOADED = load_cases([ROOT / "cases" / "post-policy"])
CASES, ERRORS = LOADED.cases, LOADED.errors
POST = {c.id: c for c in CASES if c.surface == "post-policy"}
DOCS = "post-policy/s3-docs-example"


def given(case: Case) -> dict[str, str]:
    """The case's published values (its `expect:` block)."""
    return case.expect.get("form", {})


def test_draft_files_load_without_errors():
    assert ERRORS == []
    assert DOCS in POST and len(POST) >= 8


def test_stages_are_declared_and_each_is_a_function():
    assert pp.STAGES == ("policy_document", "string_to_sign", "signature", "form_fields")
    for stage in pp.STAGES:
        assert callable(getattr(pp, stage))
    result = pp.sign_post(POST["post-policy/session-token"].subject)
    assert list(result.stages) == list(pp.STAGES)


@pytest.mark.parametrize("case_id", sorted(c for c in POST if "signature" in given(POST[c])))
def test_reference_reproduces_published_signature(case_id):
    case = POST[case_id]
    assert pp.sign_post(case.subject).stages["signature"] == given(case)["signature"]


def test_docs_policy_has_crlf_line_endings_that_the_signature_covers():
    post = POST[DOCS].subject
    document = pp.policy_document(post)
    assert document.count("\r\n") == document.count("\n") == 15 and "\r\n\r\n" in document  # only CRLF, one blank line
    assert pp.string_to_sign(document) == post.policy_base64
    lf_only = pp.string_to_sign(document.replace("\r\n", "\n"))
    assert pp.signature(post.context, lf_only) != given(POST[DOCS])["signature"]


def _upload_and_rules(case: Case) -> tuple[Upload, PostServerRules]:
    """The case's published form (upload.fields) if it has one, else the reference's."""
    form = [tuple(f) for f in case.upload.get("fields", [])] or pp.sign_post(case.subject).fields
    return post_upload(case, form), post_rules(case)


# A pinned published policy without its published form has no form to judge.
@pytest.mark.parametrize("case_id", sorted(c for c in POST if not (POST[c].subject.policy_base64 and not POST[c].upload.get("fields"))))
def test_verifier_decides_as_the_case_says(case_id):
    case = POST[case_id]
    upload, rules = _upload_and_rules(case)
    result = verify_post_with_choices(upload, rules, case.open_choices)
    assert result.valid == (case.server.verdict == "accept"), result.reason
    assert case.server.reason in result.reason
    if case.open_choices:  # accepted only under the named choice, not under the spec rules
        assert not verify_post(upload, rules).valid and result.rules == case.open_choices[0]


def _docs() -> tuple[Upload, PostServerRules]:
    upload, rules = _upload_and_rules(POST[DOCS])
    assert verify_post(upload, rules).valid
    return upload, rules


def _set(upload: Upload, name: str, value: str | None) -> Upload:
    """The upload with one field's value changed (None: the field removed)."""
    fields = [(n, value if n.lower() == name.lower() else v) for n, v in upload.fields if not (value is None and n.lower() == name.lower())]
    return replace(upload, fields=fields)


def _flip_policy_byte(policy_b64: str) -> str:
    raw = bytearray(base64.b64decode(policy_b64))
    raw[raw.index(b"public-read")] = ord("P")
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "name, value, reason",
    [
        ("policy", "flip", "does not match the policy"),
        ("x-amz-signature", "0" * 64, "does not match the policy"),
        ("x-amz-signature", "ü" * 64, "does not match the policy"),
        ("acl", "public-read-write", '"eq", "$acl"'),
        ("Content-Type", "text/html", '"starts-with", "$content-type"'),
        ("key", "user/user2/${filename}", '"starts-with", "$key"'),
        ("x-amz-meta-uuid", "14365123651275", '"eq", "$x-amz-meta-uuid"'),
        ("x-amz-meta-uuid", None, '"eq", "$x-amz-meta-uuid"'),
        ("success_action_redirect", "https://evil.example/", "success_action_redirect"),
        ("x-amz-date", "20151229T000001Z", '"eq", "$x-amz-date"'),
        ("x-amz-credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-west-2/s3/aws4_request", "credential scope"),
        ("x-amz-credential", "AKIAOTHERKEYEXAMPLE/20151229/us-east-1/s3/aws4_request", "unknown access key"),
        ("x-amz-algorithm", "AWS4-HMAC-SHA1", "x-amz-algorithm"),
        ("x-amz-date", "2015-12-29T00:00:00Z", "YYYYMMDDTHHMMSSZ"),
        ("policy", None, "form lacks policy"),
    ],
)
def test_docs_form_single_mutation_is_rejected(name, value, reason):
    upload, rules = _docs()
    if value == "flip":
        value = _flip_policy_byte(dict((n.lower(), v) for n, v in upload.fields)["policy"])
    result = verify_post(_set(upload, name, value), rules)
    assert not result.valid and reason in result.reason, result.reason


def test_docs_form_rejected_after_expiration_and_for_another_bucket():
    upload, rules = _docs()
    assert verify_post(upload, replace(rules, now=dt.datetime(2015, 12, 30, 12, 0, 0, tzinfo=dt.timezone.utc))).valid
    late = verify_post(upload, replace(rules, now=dt.datetime(2015, 12, 30, 12, 0, 1, tzinfo=dt.timezone.utc)))
    assert not late.valid and "Policy expired" in late.reason
    other = verify_post(upload, replace(rules, bucket="otherbucket"))
    assert not other.valid and '"eq", "$bucket"' in other.reason


def test_docs_form_rejects_extra_or_repeated_fields_but_not_x_ignore():
    upload, rules = _docs()
    extra = verify_post(replace(upload, fields=upload.fields + [("x-amz-meta-extra", "1")]), rules)
    assert not extra.valid and "Extra input fields: x-amz-meta-extra" in extra.reason
    twice = verify_post(replace(upload, fields=upload.fields + [("ACL", "public-read")]), rules)
    assert not twice.valid and "more than once" in twice.reason
    assert verify_post(replace(upload, fields=upload.fields + [("x-ignore-note", "free text")]), rules).valid


def test_a_bucket_form_field_is_covered_by_the_bucket_condition():
    """@aws-sdk/s3-presigned-post posts a `bucket` field (and `Policy` capitalised) to a path-style URL."""
    upload, rules = _upload_and_rules(POST["post-policy/session-token"])
    fields = [("bucket", "examplebucket")] + [("Policy" if n == "policy" else n, v) for n, v in upload.fields]
    assert verify_post(replace(upload, fields=fields), rules).valid
    other = verify_post(replace(upload, fields=fields), replace(rules, bucket="otherbucket"))
    assert not other.valid and '"eq", "$bucket"' in other.reason


def test_content_length_range_bounds_are_inclusive():
    upload, rules = _upload_and_rules(POST["post-policy/every-condition-kind"])
    assert verify_post(replace(upload, size=1), rules).valid
    assert verify_post(replace(upload, size=10485760), rules).valid
    for size in (0, 10485761):
        result = verify_post(replace(upload, size=size), rules)
        assert not result.valid and "content-length-range" in result.reason


def test_filename_is_replaced_before_key_conditions():
    case = POST["post-policy/every-condition-kind"]
    upload, rules = _upload_and_rules(case)
    assert dict(upload.fields)["key"] == "uploads/${filename}"
    # a key field that does not start with the policy's prefix fails whatever the file name
    assert not verify_post(_set(upload, "key", "elsewhere/${filename}"), rules).valid


def test_session_token_must_be_present_and_equal():
    upload, rules = _upload_and_rules(POST["post-policy/session-token"])
    assert verify_post(upload, rules).valid
    for value in (None, "EXAMPLE-SESSION-TOKEN-other"):
        result = verify_post(_set(upload, "x-amz-security-token", value), rules)
        assert not result.valid and "x-amz-security-token" in result.reason


def test_unicode_key_is_written_as_utf8_json():
    case = POST["post-policy/unicode-key"]
    document = pp.policy_document(case.subject)
    assert "ドキュメント/résumé " in document and "\\u" not in document
    upload, rules = _upload_and_rules(case)
    assert verify_post(upload, rules).valid
    assert not verify_post(_set(upload, "key", "ドキュメント/resume ${filename}"), rules).valid


def test_reference_matches_botocore_generate_presigned_post(monkeypatch):
    """An independent generator, configured for SigV4 as its users do (its default for S3 POST is
    SigV2): botocore's policy, fields and signature for the same inputs are the reference's, and
    the verifier accepts botocore's form."""
    botocore = pytest.importorskip("botocore.session")
    import botocore.auth
    import botocore.signers

    when = dt.datetime(2024, 3, 1, 10, 15, 0)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: when)
    monkeypatch.setattr(botocore.signers, "get_current_datetime", lambda *a, **k: when)
    session = botocore.session.Session()
    session.set_credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "EXAMPLE-SESSION-TOKEN")
    from botocore.config import Config

    client = session.create_client("s3", region_name="eu-west-1", config=Config(signature_version="s3v4"))
    conditions = [{"acl": "private"}, ["content-length-range", 1, 100]]
    out = client.generate_presigned_post("examplebucket", "uploads/${filename}", Fields={"acl": "private"}, Conditions=conditions, ExpiresIn=600)
    fields = out["fields"]

    context = Context("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "EXAMPLE-SESSION-TOKEN", "eu-west-1",
                      ("eu-west-1",), "s3", when.replace(tzinfo=dt.timezone.utc), expires=600)
    expiration = base64.b64decode(fields["policy"]).decode().split('"expiration": "')[1].split('"')[0]
    post = pp.PostPolicy("examplebucket", "uploads/${filename}", context, conditions=[{"acl": "private"}, ["content-length-range", 1, 100]],
                         fields=[("acl", "private")], expiration=expiration)
    ours = pp.sign_post(post)
    assert ours.stages["string_to_sign"] == fields["policy"]
    assert ours.stages["signature"] == fields["x-amz-signature"]
    assert sorted(ours.fields) == sorted(fields.items())

    rules = PostServerRules({"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, "eu-west-1", "examplebucket",
                            when.replace(tzinfo=dt.timezone.utc), session_token="EXAMPLE-SESSION-TOKEN")
    assert verify_post(Upload(list(fields.items()), "a.txt", 50), rules).valid


# The case loader: one clear FILE:LINE message per bad file.

GOOD = """\
- id: post-policy/x
  title: t
  surface: post-policy
  post:
    bucket: b
    key: k
  context:
    credentials: {access_key_id: AKIDEXAMPLE, secret_access_key: secret}
    region: us-east-1
    timestamp: 20240101T000000Z
"""


@pytest.mark.parametrize(
    "old, new, line, message",
    [
        ("    key: k\n", "    key: k\n    colour: red\n", 7, "unknown key 'colour' in post"),
        ("    bucket: b\n", "", 4, "'bucket' is a required property"),
        ("20240101T000000Z", "yesterday", 10, "context.timestamp"),
        ("    key: k\n", "    key: k\n    policy_base64: '@@@'\n", 7, "not base64"),
        ("surface: post-policy", "surface: rds", 4, "takes a token: block, not post:"),
        ("  post:\n", "  token: {host: h}\n  post:\n", 4, "takes a post: block, not token:"),
        ("  title: t\n", "  title: t\n  title: u\n", 3, "duplicate key 'title'"),
        ("    key: k\n", "    key: k\n    conditions:\n      - [eq, $a, b]\n      - [matches, $key, x]\n", 9, "post.conditions[1]: policy condition"),
        ("    key: k\n", "    key: k\n    conditions:\n      - [content-length-range, 1, big]\n", 8, "bounds must be integers"),
    ],
)
def test_loader_errors_name_file_and_line(tmp_path, old, new, line, message):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CaseError) as info:
        load_file(path)
    assert info.value.line == line and message in info.value.message, str(info.value)
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_random_byte_damage_never_raises():
    """Any damaged form is a rejection with a reason, never an exception."""
    import random

    upload, rules = _docs()
    rng = random.Random(16)
    for _ in range(300):
        fields = list(upload.fields)
        i = rng.randrange(len(fields))
        name, value = fields[i]
        if value:
            j = rng.randrange(len(value))
            value = value[:j] + rng.choice(["\x00", "ü", "=", "%", "{", "\"", "A", ""]) + value[j + 1:]
        fields[i] = (name, value)
        result = verify_post(replace(upload, fields=fields), rules)
        assert result.valid or result.reason
