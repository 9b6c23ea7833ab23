"""py-aws-requests-auth: ``aws_requests_auth.aws_auth.AWSRequestsAuth`` applied by requests.

``AWSRequestsAuth(aws_access_key, aws_secret_access_key, aws_host, aws_region, aws_service,
aws_token=...)`` is given the check's authority as ``aws_host`` (the library signs the host the
caller names, not the one in the URL) and applied through ``requests.Request(..., auth=auth)
.prepare()``; nothing is sent.

Time: the library has no time option; it calls ``datetime.datetime.utcnow()`` through its
module's ``datetime`` import. The adapter fixes the clock, not the signature: that module-level
name is pointed at a stand-in module whose ``datetime`` class is a ``datetime.datetime`` subclass
whose ``utcnow()`` returns the check's timestamp. Everything else in the library runs unchanged.

The canonical request and string to sign are local variables inside
``get_aws_request_headers``: not exposed, reported as null.

Not expressible: presigned URLs, SigV4A, UNSIGNED-PAYLOAD or an empty-hash payload for a
non-empty body (the library always hashes the body), repeated header names (a requests header
dict holds one value per name).
"""

from __future__ import annotations

import requests
from aws_requests_auth import aws_auth

from harness.adapter_sdk import SEND_TIMEOUT, send_url, sent_by
from ad_common import (
    Check,
    FixedClock,
    Stopwatch,
    Unsupported,
    dist_version,
    library_call,
    require_path_rules,
    signed_from_prepared,
)


class AwsRequestsAuthAdapter:
    library = "aws-requests-auth"
    session: requests.Session | None = None  # made on the first send, kept like an application's

    def __init__(self) -> None:
        self.clock = FixedClock()
        self.clock.install(aws_auth)  # no clock hook: its module's datetime is pinned

    def hello(self) -> dict:
        return {
            "library": self.library,
            "library_version": dist_version("aws-requests-auth"),
            "runtime_extra": f"requests {dist_version('requests')}",
            "algorithms": ["sigv4"],
            "modes": ["header"],
            "exposes": [],
            "clients": ["requests"],
        }

    def prepare(self, check: Check):
        if check.algorithm != "sigv4":
            raise Unsupported("aws-requests-auth implements SigV4 only")
        if check.mode != "header":
            raise Unsupported("aws-requests-auth signs into the Authorization header only "
                              "(no presigned URLs)")
        # get_canonical_path: quote(path, safe='/-_.~') of the wire path, never normalized.
        require_path_rules(check, (False, True), "aws-requests-auth")
        if check.payload == "unsigned":
            raise Unsupported("aws-requests-auth always signs the SHA-256 of the body "
                              "(no UNSIGNED-PAYLOAD option)")
        if check.payload == "empty" and check.body:
            raise Unsupported("aws-requests-auth always signs the hash of the body it sends")
        if check.has_duplicate_header_names():
            raise Unsupported("a requests header dict holds one value per header name: "
                              "repeated headers cannot be given")
        with library_call():
            return aws_auth.AWSRequestsAuth(
                aws_access_key=check.access_key_id,
                aws_secret_access_key=check.secret_access_key,
                aws_host=check.host,
                aws_region=check.region,
                aws_service=check.service,
                aws_token=check.session_token,
            )

    def sign(self, check: Check, auth, watch: Stopwatch) -> dict:
        self.clock.now = check.timestamp
        with library_call(), watch.running():
            prepared = requests.Request(
                method=check.method, url=check.url, headers=dict(check.headers),
                data=check.body or None, auth=auth,
            ).prepare()
        return {
            "signed": signed_from_prepared(check, prepared),
            "canonical_request": None,
            "string_to_sign": None,
        }

    def sign_and_send(self, check: Check, auth, watch: Stopwatch, client: str, scheme: str):
        """``requests``: ``session.request(method, url, headers=..., data=..., auth=auth)`` on a kept
        ``requests.Session``, the README's way: the auth hook signs what requests sends (same clock, so `sign`'s signature unless the URL
        requests prepares differs)."""
        outcome = self.sign(check, auth, watch)

        if self.session is None:
            self.session = requests.Session()

        def go():
            self.clock.now = check.timestamp
            answer = self.session.request(check.method, send_url(check.url, scheme), headers=dict(check.headers),
                                          data=check.body or None, auth=auth, timeout=SEND_TIMEOUT)
            return answer.status_code, answer.headers

        return outcome, sent_by(client, go)
