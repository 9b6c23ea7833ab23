"""The integrity check: a signed request must still be the request that was asked for."""

from __future__ import annotations

from datetime import datetime, timezone

from harness.integrity import request_changes
from harness.model import Context, Request, SignedRequest

CTX = Context("AKIDEXAMPLE", "secret-secret-secret", None, "us-east-1", ("us-east-1",), "service",
              datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc))
REQ = Request("GET", "https", "example.com", "/a/b", "P=1&P=2&q=a%20b",
              (("Host", "example.com"), ("X-Amz-Meta-Color", "red"), ("X-Custom", "  v  ")), b"")


def _signed(url: str, headers=(("Host", "example.com"), ("X-Amz-Meta-Color", "red"), ("X-Custom", "v"), ("Authorization", "x")), body=None):
    return SignedRequest("GET", url, tuple(headers), body)


def test_signer_additions_and_equivalent_spellings_are_not_changes():
    signed = _signed("https://example.com:443/a/./b?q=a+b&P=2&P=1&X-Amz-Date=1&x-amz-signature=abc")
    assert request_changes(REQ, signed, CTX) == []


def test_hoisted_amz_header_in_a_presigned_url_is_not_a_change():
    signed = _signed("https://example.com/a/b?P=1&P=2&q=a%20b&X-Amz-Meta-Color=red",
                     headers=(("Host", "example.com"), ("X-Custom", "v")))
    assert request_changes(REQ, signed, CTX) == []


def test_dropped_repeated_parameter_is_a_change():
    changes = request_changes(REQ, _signed("https://example.com/a/b?P=1&q=a%20b"), CTX)
    assert changes == ["query parameter P=2 dropped"]


def test_path_host_header_and_body_changes_are_named():
    signed = SignedRequest("GET", "https://other.example.com/a/c?P=1&P=2&q=a%20b", (("X-Amz-Meta-Color", "red"),), b"moved")
    changes = request_changes(REQ, signed, CTX)
    assert any(c.startswith("host") for c in changes)
    assert any(c.startswith("path") for c in changes)
    assert any(c.startswith("header X-Custom") for c in changes)
    assert any(c.startswith("body changed") for c in changes)


def test_dot_segments_count_only_where_the_service_normalizes():
    from dataclasses import replace

    signed = _signed("https://example.com/a/./b?P=1&P=2&q=a%20b")
    assert request_changes(REQ, signed, CTX) == []
    assert request_changes(REQ, signed, replace(CTX, normalize_path=False)) != []


def test_a_byte_that_is_not_utf8_rewritten_as_replacement_character_is_a_change():
    request = Request("GET", "https", "example.com", "/", "a=%80", (("Host", "example.com"),), b"")
    assert request_changes(request, SignedRequest("GET", "https://example.com/?a=%80", (("Host", "example.com"),)), CTX) == []
    assert request_changes(request, SignedRequest("GET", "https://example.com/?a=%EF%BF%BD", (("Host", "example.com"),)), CTX) != []
