"""Suite folders in the dialects of the SDKs' public copies of the aws-c-auth suite (docs/cases.md,
"Suite folders"): every context.json key is understood or refused, never ignored. The folders are
written here, small and synthetic; no SDK file is copied."""

from __future__ import annotations

import json
from pathlib import Path

from harness.cases import load_cases
from harness.model import Check
from harness.reference import sign

CREDENTIALS = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
OFFICIAL = {"credentials": CREDENTIALS, "expiration_in_seconds": 3600, "normalize": True, "region": "us-east-1",
            "service": "service", "sign_body": False, "timestamp": "2015-08-30T12:36:00Z"}


def _folder(root: Path, name: str, request: str, context: dict | None, files: dict[str, str] | None = None, algo: str = "v4") -> Path:
    folder = root / algo / name
    folder.mkdir(parents=True)
    (folder / "request.txt").write_text(request)
    if context is not None:
        (folder / "context.json").write_text(json.dumps(context, indent=4))
    for file, text in (files or {}).items():
        (folder / file).write_text(text)
    return folder


def _creq(case, mode="header") -> list[str]:
    return sign(Check(case, mode)).stages["canonical_request"].split("\n")


def test_official_keys_map_onto_the_context(tmp_path):
    ctx = {**OFFICIAL, "credentials": {**CREDENTIALS, "token": "EXAMPLETOKEN"}, "sign_body": True, "omit_session_token": True,
           "normalize": False, "expiration_in_seconds": 900, "region": "eu-west-3", "service": "s3"}
    _folder(tmp_path, "all-keys", "POST /a/./b HTTP/1.1\nHost:example.amazonaws.com\n\nbody", ctx)
    loaded = load_cases([tmp_path])
    assert loaded.errors == []
    (case,) = loaded.cases
    c = case.context
    assert (c.session_token, c.session_token_placement, c.content_sha256_header) == ("EXAMPLETOKEN", "after", True)
    assert (c.normalize_path, c.expires, c.region, c.region_set, c.service) == (False, 900, "eu-west-3", ("eu-west-3",), "s3")
    assert c.double_encode is True and c.payload == "body" and case.request.body == b"body"
    creq = _creq(case)
    assert creq[1] == "/a/./b"  # normalize: false keeps the dot segment
    assert "x-amz-content-sha256" in creq[-2] and "x-amz-security-token" not in creq[-2]  # sign_body; token added after signing


def test_double_uri_encode_of_smithy_kotlin(tmp_path):
    request = "GET /a%3Cb HTTP/1.1\nHost:example.amazonaws.com\n"
    _folder(tmp_path, "double", request, OFFICIAL)
    _folder(tmp_path, "single", request, {**OFFICIAL, "double_uri_encode": False})
    loaded = load_cases([tmp_path])
    assert loaded.errors == []
    by_name = {c.title: c for c in loaded.cases}
    assert by_name["double"].context.double_encode and not by_name["single"].context.double_encode
    assert _creq(by_name["double"])[1] == "/a%253Cb"
    assert _creq(by_name["single"])[1] == "/a%3Cb"
    assert _creq(by_name["single"], "query")[1] == "/a%3Cb"


def test_folder_without_context_json_is_signed_with_the_suite_defaults(tmp_path):
    request = "GET /x HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
    other = "AWS4-HMAC-SHA256\n20210511T154045Z\n20210511/us-east-2/lambda/aws4_request\n" + "0" * 64
    _folder(tmp_path, "made-elsewhere", request, None, {"header-canonical-request.txt": "GET\n/x\n", "header-string-to-sign.txt": other})
    loaded = load_cases([tmp_path])
    assert loaded.errors == []
    (legacy,) = loaded.cases
    c = legacy.context
    assert (c.access_key_id, c.region, c.service, c.amz_date, c.normalize_path, c.double_encode, c.expires) == \
        ("AKIDEXAMPLE", "us-east-1", "service", "20150830T123600Z", True, True, 3600)
    assert legacy.expect == {}  # made with settings the folder does not record: not used, and the note says so
    assert "No context.json" in legacy.flags["note"] and "header expectation files were made with settings" in legacy.flags["note"]
    # the same folder whose string to sign names the default date and scope keeps its expectations
    reference = sign(Check(legacy, "header")).stages
    _folder(tmp_path / "b", "made-with-defaults", request, None,
            {"header-canonical-request.txt": reference["canonical_request"], "header-string-to-sign.txt": reference["string_to_sign"]})
    (kept,) = load_cases([tmp_path / "b"]).cases
    assert kept.expect == {"header": {"canonical_request": reference["canonical_request"], "string_to_sign": reference["string_to_sign"]}}


def test_a_wrong_type_never_reaches_a_context(tmp_path):
    _folder(tmp_path, "region-5", "GET / HTTP/1.1\nHost:h\n", {**OFFICIAL, "region": 5})
    _folder(tmp_path, "fine", "GET / HTTP/1.1\nHost:h\n", OFFICIAL)
    loaded = load_cases([tmp_path])
    assert [c.title for c in loaded.cases] == ["fine"]
    assert [str(e).replace(str(tmp_path), "") for e in loaded.errors] == [
        '/v4/region-5/context.json:8: \'region\' must be a region name, like "us-east-1", not the number 5']


def test_every_key_of_the_official_suite_is_understood(suite):
    from harness.cases.suite import CONTEXT_KEYS, CREDENTIAL_KEYS

    seen: set[str] = set()
    for path in suite.glob("v4*/*/context.json"):
        data = json.loads(path.read_text())
        seen |= set(data) | {f"credentials.{k}" for k in data["credentials"]}
    assert seen <= set(CONTEXT_KEYS) | {f"credentials.{k}" for k in CREDENTIAL_KEYS}
    assert {"normalize", "sign_body", "omit_session_token", "expiration_in_seconds", "credentials.token"} <= seen
