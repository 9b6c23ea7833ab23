"""Each stage of the reference signer on its own, against values from the AWS documentation."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest

from harness.reference import canonical as cr
from harness.reference import signing
from harness.reference.encoding import uri_decode, uri_encode


@pytest.mark.parametrize(
    "raw, slash, expected",
    [
        ("AZaz09-._~", True, "AZaz09-._~"),
        ("a b", True, "a%20b"),
        ("a+b", True, "a%2Bb"),
        ("a/b", True, "a%2Fb"),
        ("a/b", False, "a/b"),
        ("ሴ", True, "%E1%88%B4"),
        ("%2f", True, "%252f"),
        ("*'()!", True, "%2A%27%28%29%21"),
    ],
)
def test_uri_encode(raw, slash, expected):
    assert uri_encode(raw, encode_slash=slash) == expected


def test_uri_decode_keeps_plus_and_malformed_escapes():
    assert uri_decode("a%2fb%2F") == b"a/b/"
    assert uri_decode("a+b") == b"a+b"
    assert uri_decode("100%") == b"100%"
    assert uri_decode("%zz%4") == b"%zz%4"


@pytest.mark.parametrize(
    "path, normalize, double, expected",
    [
        ("/", True, True, "/"),
        ("", True, True, "/"),
        ("/example space/", True, True, "/example%20space/"),
        ("//example//", True, True, "/example/"),
        ("//example//", False, True, "//example//"),
        ("/example1/example2/../..", True, True, "/"),
        ("/example/..", True, True, "/"),
        ("/./example", True, True, "/example"),
        ("/foo/.", True, True, "/foo"),
        ("/foo/bar/..", True, True, "/foo"),
        ("/foo/bar/../", True, True, "/foo/"),
        ("/a%20b", True, True, "/a%2520b"),
        ("/a%20b", False, False, "/a%20b"),
        ("/b/a//c/./d", False, False, "/b/a//c/./d"),
    ],
)
def test_canonical_uri(path, normalize, double, expected):
    assert cr.canonical_uri(path, normalize=normalize, double_encode=double) == expected


def test_rfc3986_trailing_slash_is_an_option():
    assert cr.normalize_uri_path("/foo/.", rfc3986_trailing_slash=True) == "/foo/"
    assert cr.normalize_uri_path("/foo/bar/..", rfc3986_trailing_slash=True) == "/foo/"
    assert cr.normalize_uri_path("/foo/.") == "/foo"


def test_query_parameters_split_as_sent():
    assert cr.query_parameters("a=1&&b&c=x=y&") == [("a", "1"), ("b", ""), ("c", "x=y")]


def test_canonical_query_string_sorts_encoded_names_then_values():
    params = cr.query_parameters("b=2&a=z&a=y&%E1%88%B4=v&A=1&a%7e=~&sp=a b&low=%2f")
    # byte order of the encoded names: "%" (0x25) sorts before digits and letters
    assert cr.canonical_query_string(params) == "%E1%88%B4=v&A=1&a=y&a=z&a~=~&b=2&low=%2F&sp=a%20b"


def test_canonical_header_value_trims_and_folds_whitespace():
    assert cr.canonical_header_value("  a   b\t c ") == "a b c"
    assert cr.canonical_header_value("value1\n  value2\n     value3") == "value1 value2 value3"
    assert cr.canonical_header_value('"a   b   c"') == '"a b c"'


def test_canonical_headers_join_repeats_in_order_and_sort_names():
    headers = [("Host", "h"), ("My-Header1", "value4"), ("my-header1", " value1 "), ("X-B", "2"), ("User-Agent", "x")]
    signed = cr.headers_to_sign(headers)
    assert signed == ["host", "my-header1", "x-b"]  # user-agent is never signed
    assert cr.canonical_headers(headers, signed) == "host:h\nmy-header1:value4,value1\nx-b:2\n"
    assert cr.signed_headers(signed) == "host;my-header1;x-b"


def test_hashed_payload_policies():
    assert cr.hashed_payload(b"Param1=value1") == hashlib.sha256(b"Param1=value1").hexdigest()
    assert cr.hashed_payload(b"x", "empty") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert cr.hashed_payload(b"x", "unsigned") == "UNSIGNED-PAYLOAD"


def test_canonical_request_is_six_lines_joined():
    assert cr.canonical_request("GET", "/", "", "host:h\n", "host", "abc") == "GET\n/\n\nhost:h\n\nhost\nabc"


def test_credential_scope():
    assert signing.credential_scope("20150830", "us-east-1", "iam") == "20150830/us-east-1/iam/aws4_request"
    assert signing.credential_scope("20150830", "us-east-1", "s3", "sigv4a") == "20150830/s3/aws4_request"


def test_string_to_sign_hashes_the_canonical_request():
    sts = signing.string_to_sign("sigv4", "20150830T123600Z", "20150830/us-east-1/iam/aws4_request", "CR")
    assert sts.split("\n") == [
        "AWS4-HMAC-SHA256", "20150830T123600Z", "20150830/us-east-1/iam/aws4_request", hashlib.sha256(b"CR").hexdigest()
    ]
    assert signing.string_to_sign("sigv4a", "d", "s", "CR").startswith("AWS4-ECDSA-P256-SHA256\n")


def test_signing_key_matches_aws_documentation_example():
    # "Examples of how to derive a signing key for Signature Version 4" (AWS General Reference).
    key = signing.signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_signature_is_hex_hmac_of_string_to_sign():
    key = bytes(range(32))
    import hmac as _hmac

    assert signing.signature(key, "abc") == _hmac.new(key, b"abc", hashlib.sha256).hexdigest()


def test_sigv4a_key_derivation_vector():
    key = signing.sigv4a_private_key("AKISORANDOMAASORANDOM", "q+jcrXGc+0zWN6uzclKVhvMmUsIfRPa4rlRandom")
    assert f"{key.private_numbers().private_value:064x}" == "7fd3bd010c0d9c292141c2b77bfbde1042c92e6836fff749d1269ec890fca1bd"


def test_sigv4a_signature_verifies_and_rejects_tampering():
    key = signing.sigv4a_private_key("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    sig = signing.sigv4a_signature(key, "string to sign")
    assert signing.sigv4a_verify(key.public_key(), "string to sign", sig)
    assert not signing.sigv4a_verify(key.public_key(), "string to sigN", sig)
    other = signing.sigv4a_private_key("AKIDEXAMPLE", "another-secret-key-000000000000000")
    assert not signing.sigv4a_verify(other.public_key(), "string to sign", sig)


def test_timestamps_need_a_zone():
    from harness.model import parse_timestamp

    assert parse_timestamp("2015-08-30T12:36:00Z") == datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc)
    assert parse_timestamp("20150830T123600Z") == datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        parse_timestamp("2015-08-30T12:36:00")
