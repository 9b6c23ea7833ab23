"""py-requests-aws4auth and py-requests-aws4auth-refreshable: ``requests_aws4auth.AWS4Auth``.

The auth object is applied the way requests applies it: ``requests.Request(..., auth=auth)
.prepare()`` (nothing is sent). Two configurations from the library's README:

* ``py-requests-aws4auth``: ``AWS4Auth(access_id, secret_key, region, service, date,
  session_token=...)``;
* ``py-requests-aws4auth-refreshable``: ``AWS4Auth(region=..., service=..., date=...,
  refreshable_credentials=<botocore RefreshableCredentials>)``.

Time: the documented way, an ``X-Amz-Date`` header on the request (the library takes the signing
time from it), plus the scope date as the constructor's ``date`` argument so the signing key is
never derived from the clock. A request that already carries X-Amz-Date keeps its own (the
library then signs at that time, which is what its users get).

The canonical request and string to sign are the return values of the library's own
``get_canonical_request`` / ``get_sig_string`` methods during the signing call (recorded, not
recomputed).

Not expressible: presigned URLs (header auth only), SigV4A, an unsigned or empty-hash payload
(the library always signs the body's hash), duplicate header names (a requests header dict holds
one value per name).

Note: AWS4Auth adds 'x-amz-security-token' to the *class-level* ``default_include_headers`` set
whenever an instance is created with a session token, so in a long-lived process one signer
changes the next one's signed headers. The adapter restores the set to its import-time value
before each check, i.e. every check sees the library as a fresh process would.
"""

from __future__ import annotations

import datetime as _dt

import requests
from requests_aws4auth import AWS4Auth

from harness.adapter_sdk import SEND_TIMEOUT, send_url, sent_by
from ad_common import (
    Check,
    Stopwatch,
    Unsupported,
    dist_version,
    library_call,
    require_path_rules,
    signed_from_prepared,
)

_PRISTINE_INCLUDE = frozenset(AWS4Auth.default_include_headers)


def _reset_class_state() -> None:
    AWS4Auth.default_include_headers.clear()
    AWS4Auth.default_include_headers.update(_PRISTINE_INCLUDE)


class _Recorder:
    """Wraps an AWS4Auth instance method and keeps what it returned."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.value = None

    def __call__(self, *args, **kwargs):
        self.value = self.fn(*args, **kwargs)
        return self.value


class RequestsAws4AuthAdapter:
    library = "requests-aws4auth"
    refreshable = False
    session: requests.Session | None = None  # made on the first send, kept like a user's

    def hello(self) -> dict:
        return {
            "library": self.library,
            "library_version": dist_version("requests-aws4auth"),
            "runtime_extra": f"requests {dist_version('requests')}",
            "algorithms": ["sigv4"],
            "modes": ["header"],
            "exposes": ["canonical_request", "string_to_sign"],
            "clients": ["requests"],
        }

    def _check_supported(self, check: Check) -> None:
        if check.algorithm != "sigv4":
            raise Unsupported("requests-aws4auth implements SigV4 only")
        if check.mode != "header":
            raise Unsupported("requests-aws4auth signs into the Authorization header only "
                              "(no presigned URLs)")
        # Path rules as read from AWS4Auth.amz_cano_path: always normalized; single-encoded
        # (unquote then quote) for services 's3' and 'host', re-encoded for the others.
        single = check.service in ("s3", "host")
        require_path_rules(check, (True, not single), "requests-aws4auth")
        if check.payload == "unsigned":
            raise Unsupported("requests-aws4auth always signs the SHA-256 of the body "
                              "(no UNSIGNED-PAYLOAD option)")
        if check.payload == "empty" and check.body:
            raise Unsupported("requests-aws4auth always signs the hash of the body it sends")
        if check.has_duplicate_header_names():
            raise Unsupported("a requests header dict holds one value per header name: "
                              "repeated headers cannot be given")

    def _make_auth(self, check: Check) -> AWS4Auth:
        return AWS4Auth(check.access_key_id, check.secret_access_key, check.region,
                        check.service, check.date_stamp, session_token=check.session_token)

    def prepare(self, check: Check):
        self._check_supported(check)
        _reset_class_state()
        with library_call():
            return self._make_auth(check)

    def sign(self, check: Check, auth: AWS4Auth, watch: Stopwatch) -> dict:
        headers = dict(check.headers)
        if not check.has_header("x-amz-date"):
            headers["X-Amz-Date"] = check.amz_date
        canonical = _Recorder(auth.get_canonical_request)
        sig_string = _Recorder(auth.get_sig_string)
        auth.get_canonical_request = canonical
        auth.get_sig_string = sig_string
        try:
            with library_call(), watch.running():
                prepared = requests.Request(
                    method=check.method, url=check.url, headers=headers,
                    data=check.body or None, auth=auth,
                ).prepare()
        finally:
            del auth.get_canonical_request
            del auth.get_sig_string
        return {
            "signed": signed_from_prepared(check, prepared),
            "canonical_request": canonical.value,
            "string_to_sign": sig_string.value,
        }


    def sign_and_send(self, check: Check, auth: AWS4Auth, watch: Stopwatch, client: str, scheme: str):
        """``requests``: the README's way, ``session.request(method, url, headers=..., data=..., auth=auth)``
        on a requests Session: the auth hook signs the request the session sends (same auth object,
        same X-Amz-Date, so the same signature as `sign`'s, unless the URL the session prepares differs)."""
        outcome = self.sign(check, auth, watch)
        headers = dict(check.headers)
        if not check.has_header("x-amz-date"):
            headers["X-Amz-Date"] = check.amz_date
        if self.session is None:
            self.session = requests.Session()

        def go():
            answer = self.session.request(check.method, send_url(check.url, scheme), headers=headers,
                                          data=check.body or None, auth=auth, timeout=SEND_TIMEOUT)
            return answer.status_code, answer.headers

        return outcome, sent_by(client, go)


class RefreshableAdapter(RequestsAws4AuthAdapter):
    refreshable = True

    def _make_auth(self, check: Check) -> AWS4Auth:
        from botocore.credentials import RefreshableCredentials

        metadata = {
            "access_key": check.access_key_id,
            "secret_key": check.secret_access_key,
            "token": check.session_token,
            # Far enough ahead that botocore never calls the refresh function during the run.
            "expiry_time": (_dt.datetime.now(_dt.timezone.utc)
                            + _dt.timedelta(days=3650)).isoformat(),
        }
        credentials = RefreshableCredentials.create_from_metadata(
            metadata=metadata, refresh_using=lambda: dict(metadata), method="sigharness-static")
        return AWS4Auth(region=check.region, service=check.service, date=check.date_stamp,
                        refreshable_credentials=credentials)

    def hello(self) -> dict:
        info = super().hello()
        info["runtime_extra"] += f", botocore {dist_version('botocore')}"
        return info
