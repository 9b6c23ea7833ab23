"""py-docs-example: the hand-rolled signer people copy from the AWS documentation.

This module reproduces the Python example of the AWS General Reference page "Examples of the
complete Signature Version 4 signing process (Python)" (published as
awsdocs/aws-doc-sdk-examples python/example_code/signv4: v4-signing-get-authheader.py,
v4-signing-get-post.py, v4-signing-get-querystring.py), generalised only as far as a user does
when pasting it into their code: the hard-coded request values become the request's values.
It is deliberately NOT a correct signer. It is the one adapter in this project that computes
signatures itself, because here the example code *is* the library under test; its results show
what a copy-pasted signer gets wrong. Choices kept from the example, on purpose:

* canonical URI: the request path exactly as written in the URL (no normalization, no
  URI-encoding), '/' when empty;
* canonical query string: the raw query split on '&' and sorted as strings (no decoding or
  encoding); in query mode the X-Amz-* parameters are appended after it, in the order the
  example appends them, and the URL sent is endpoint + '?' + that same string;
* canonical headers: 'host' and 'x-amz-date' only (the GET example); the POST example's
  'content-type' in front when the request has a Content-Type and its 'x-amz-target' when the
  request has an X-Amz-Target; values as given, not trimmed; query mode signs 'host' only;
* session token (the examples have none; the documentation's prose says to add the
  X-Amz-Security-Token header, or parameter, with temporary credentials): appended at the end of
  the canonical headers and of the signed headers (header mode), or appended after
  X-Amz-SignedHeaders (query mode), without re-sorting;
* payload hash: SHA-256 of the body (empty string for a GET without body);
* method: the request's method string as given;
* the request is sent with requests, headers as a dict: the caller's headers plus the example's.

Anything the example has no notion of is unsupported: SigV4A, UNSIGNED-PAYLOAD, the empty-string
hash for a non-empty body, repeated header names (a requests header dict), a presigned URL whose
session token is added after signing. Path rules are never unsupported here: the example has no
settings, and showing where its raw path goes wrong is the point.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse

import requests

from ad_clients import send_signed
from ad_common import (
    Check,
    Stopwatch,
    Unsupported,
    dist_version,
    library_call,
    require_token_signed_in_presign,
    signed_from_prepared,
)

# Which documentation example this reproduces (reported as the "library version").
EXAMPLE_REVISION = "awsdocs-signv4-python-2019"


# ---------------------------------------------------------------------------------------------
# The documentation example, as users paste it (function names and steps as in the example).
# ---------------------------------------------------------------------------------------------

# Key derivation functions. See:
# http://docs.aws.amazon.com/general/latest/gr/signature-v4-examples.html#signature-v4-examples-python
def sign(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def getSignatureKey(key, dateStamp, regionName, serviceName):  # noqa: N802,N803 - as in the docs
    kDate = sign(("AWS4" + key).encode("utf-8"), dateStamp)  # noqa: N806
    kRegion = sign(kDate, regionName)  # noqa: N806
    kService = sign(kRegion, serviceName)  # noqa: N806
    kSigning = sign(kService, "aws4_request")  # noqa: N806
    return kSigning


def example_header_auth(method, service, host, region, endpoint, path, request_parameters,
                        body, access_key, secret_key, session_token, amz_date, date_stamp,
                        content_type=None, amz_target=None):
    """v4-signing-get-authheader.py / v4-signing-get-post.py, TASKS 1-4."""
    # ************* TASK 1: CREATE A CANONICAL REQUEST *************
    # Step 2: Create canonical URI--the part of the URI from domain to query
    # string (use '/' if no path)
    canonical_uri = path if path else "/"
    # Step 3: Create the canonical query string. Query string values must be URL-encoded
    # (space=%20). The parameters must be sorted by name.
    canonical_querystring = "&".join(sorted(request_parameters.split("&"))) \
        if request_parameters else ""
    # Step 4: Create the canonical headers and signed headers. Header names
    # must be trimmed and lowercase, and sorted in code point order from
    # low to high. Note that there is a trailing \n.
    canonical_headers = "host:" + host + "\n" + "x-amz-date:" + amz_date + "\n"
    signed_headers = "host;x-amz-date"
    if content_type is not None:  # the POST example
        canonical_headers = "content-type:" + content_type + "\n" + canonical_headers
        signed_headers = "content-type;" + signed_headers
    if amz_target is not None:  # the POST example (DynamoDB)
        canonical_headers += "x-amz-target:" + amz_target + "\n"
        signed_headers += ";x-amz-target"
    if session_token:  # temporary credentials, per the documentation's prose
        canonical_headers += "x-amz-security-token:" + session_token + "\n"
        signed_headers += ";x-amz-security-token"
    # Step 6: Create payload hash (hash of the request body content). For GET
    # requests, the payload is an empty string ("").
    payload_hash = hashlib.sha256(body).hexdigest()
    # Step 7: Combine elements to create canonical request
    canonical_request = (method + "\n" + canonical_uri + "\n" + canonical_querystring + "\n"
                         + canonical_headers + "\n" + signed_headers + "\n" + payload_hash)

    # ************* TASK 2: CREATE THE STRING TO SIGN*************
    algorithm = "AWS4-HMAC-SHA256"
    credential_scope = date_stamp + "/" + region + "/" + service + "/" + "aws4_request"
    string_to_sign = (algorithm + "\n" + amz_date + "\n" + credential_scope + "\n"
                      + hashlib.sha256(canonical_request.encode("utf-8")).hexdigest())

    # ************* TASK 3: CALCULATE THE SIGNATURE *************
    signing_key = getSignatureKey(secret_key, date_stamp, region, service)
    signature = hmac.new(signing_key, (string_to_sign).encode("utf-8"),
                         hashlib.sha256).hexdigest()

    # ************* TASK 4: ADD SIGNING INFORMATION TO THE REQUEST *************
    authorization_header = (algorithm + " " + "Credential=" + access_key + "/"
                            + credential_scope + ", " + "SignedHeaders=" + signed_headers
                            + ", " + "Signature=" + signature)
    headers = {"x-amz-date": amz_date, "Authorization": authorization_header}
    if content_type is not None:
        headers = {"Content-Type": content_type, "X-Amz-Date": amz_date,
                   "Authorization": authorization_header}
    if amz_target is not None:
        headers["X-Amz-Target"] = amz_target
    if session_token:
        headers["X-Amz-Security-Token"] = session_token

    # ************* SEND THE REQUEST *************
    request_url = endpoint + canonical_uri
    if request_parameters:
        request_url += "?" + canonical_querystring
    return request_url, headers, canonical_request, string_to_sign


def example_query_auth(method, service, host, region, endpoint, path, request_parameters,
                       body, access_key, secret_key, session_token, amz_date, date_stamp,
                       expires):
    """v4-signing-get-querystring.py, TASKS 1-4."""
    # Step 2: Create canonical URI--the part of the URI from domain to query
    # string (use '/' if no path)
    canonical_uri = path if path else "/"
    # Step 3: Create the canonical headers and signed headers. For requests that use query
    # strings, only "host" is included in the signed headers.
    canonical_headers = "host:" + host + "\n"
    signed_headers = "host"
    algorithm = "AWS4-HMAC-SHA256"
    credential_scope = date_stamp + "/" + region + "/" + service + "/" + "aws4_request"
    # Step 4: Create the canonical query string. In this example, request
    # parameters are in the query string. Query string values must
    # be URL-encoded (space=%20). The parameters must be sorted by name.
    canonical_querystring = "&".join(sorted(request_parameters.split("&"))) \
        if request_parameters else ""
    if canonical_querystring:
        canonical_querystring += "&"
    canonical_querystring += "X-Amz-Algorithm=AWS4-HMAC-SHA256"
    canonical_querystring += "&X-Amz-Credential=" + urllib.parse.quote_plus(
        access_key + "/" + credential_scope)
    canonical_querystring += "&X-Amz-Date=" + amz_date
    canonical_querystring += "&X-Amz-Expires=" + str(expires)
    canonical_querystring += "&X-Amz-SignedHeaders=" + signed_headers
    if session_token:  # temporary credentials, per the documentation's prose
        canonical_querystring += "&X-Amz-Security-Token=" + urllib.parse.quote_plus(
            session_token)
    # Step 5: Create payload hash. For GET requests, the payload is an
    # empty string ("").
    payload_hash = hashlib.sha256(body).hexdigest()
    # Step 6: Combine elements to create canonical request
    canonical_request = (method + "\n" + canonical_uri + "\n" + canonical_querystring + "\n"
                         + canonical_headers + "\n" + signed_headers + "\n" + payload_hash)

    # ************* TASK 2: CREATE THE STRING TO SIGN*************
    string_to_sign = (algorithm + "\n" + amz_date + "\n" + credential_scope + "\n"
                      + hashlib.sha256(canonical_request.encode("utf-8")).hexdigest())

    # ************* TASK 3: CALCULATE THE SIGNATURE *************
    signing_key = getSignatureKey(secret_key, date_stamp, region, service)
    signature = hmac.new(signing_key, (string_to_sign).encode("utf-8"),
                         hashlib.sha256).hexdigest()

    # ************* TASK 4: ADD SIGNING INFORMATION TO THE REQUEST *************
    canonical_querystring += "&X-Amz-Signature=" + signature

    # ************* SEND THE REQUEST *************
    request_url = endpoint + canonical_uri + "?" + canonical_querystring
    return request_url, {}, canonical_request, string_to_sign


# ---------------------------------------------------------------------------------------------
# Adapter glue: fills the example's "REQUEST VALUES" from the check; sends nothing.
# ---------------------------------------------------------------------------------------------

class DocsExampleAdapter:
    library = "aws-docs-sigv4-python-example"

    def hello(self) -> dict:
        return {
            "library": self.library,
            "library_version": EXAMPLE_REVISION,
            "runtime_extra": f"requests {dist_version('requests')}",
            "algorithms": ["sigv4"],
            "modes": ["header", "query"],
            "exposes": ["canonical_request", "string_to_sign"],
            "clients": ["requests", "urllib"],
        }

    def prepare(self, check: Check):
        if check.algorithm != "sigv4":
            raise Unsupported("the documentation example implements SigV4 (HMAC) only")
        if check.payload == "unsigned":
            raise Unsupported("the documentation example always signs the SHA-256 of the body")
        if check.payload == "empty" and check.body:
            raise Unsupported("the documentation example always signs the hash of the body")
        require_token_signed_in_presign(check, "the documentation example")
        if check.has_duplicate_header_names():
            raise Unsupported("the example sends headers as a requests dict: one value per name")
        return None

    def sign(self, check: Check, _state, watch: Stopwatch) -> dict:
        given = {n.lower(): v for n, v in check.headers}
        values = dict(
            method=check.method, service=check.service, host=check.host, region=check.region,
            endpoint=f"{check.scheme}://{check.host}", path=check.path,
            request_parameters=check.query, body=check.body,
            access_key=check.access_key_id, secret_key=check.secret_access_key,
            session_token=check.session_token, amz_date=check.amz_date,
            date_stamp=check.date_stamp,
        )
        with watch.running():
            if check.mode == "header":
                url, example_headers, cr, sts = example_header_auth(
                    **values, content_type=given.get("content-type"),
                    amz_target=given.get("x-amz-target"))
            else:
                url, example_headers, cr, sts = example_query_auth(
                    **values, expires=check.expires if check.expires is not None else 30)
        headers = dict(check.headers)
        for name in list(headers):
            if name.lower() in {k.lower() for k in example_headers}:
                del headers[name]
        headers.update(example_headers)
        with library_call():
            prepared = requests.Request(method=check.method, url=url, headers=headers,
                                        data=check.body or None).prepare()
        return {
            "signed": signed_from_prepared(check, prepared),
            "canonical_request": cr,
            "string_to_sign": sts,
        }

    def send(self, check: Check, state, outcome: dict, client: str, scheme: str) -> dict:
        """The signed headers handed to the client, as users pair it with this signer (docs/wire.md)."""
        return send_signed(check, outcome, client, scheme)
