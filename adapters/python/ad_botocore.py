"""py-botocore: botocore's pure-Python SigV4 signers, as a user picks them.

* header mode: ``SigV4Auth`` (``S3SigV4Auth`` when the service is ``s3``);
* query mode: ``SigV4QueryAuth`` (``S3SigV4QueryAuth`` for ``s3``) with ``expires`` from the check.

awscrt is made unimportable in this process before botocore is imported: with awscrt installed
botocore swaps its default 'v4' signers for the CRT ones (that is the ``py-botocore-crt``
adapter). ``hello`` refuses to run if ``botocore.compat.HAS_CRT`` is still true.

The signing time is fixed the way botocore's own tests do it: ``botocore.auth.get_current_datetime``
returns the check's timestamp (naive UTC, like the original). The canonical request and string to
sign are the ones ``add_auth`` itself computed and signed, taken from botocore's signing log
(``logger.debug('CanonicalRequest:\\n%s', ...)`` in ``botocore.auth``), so they reflect exactly
what the library signed, also in query mode where the URL is rewritten while signing.
"""

from __future__ import annotations

import logging
import sys

# Must happen before the first botocore import: botocore.compat probes `import awscrt.auth`.
sys.modules["awscrt"] = None  # type: ignore[assignment]

import botocore  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.compat  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from ad_clients import send_signed  # noqa: E402
from harness.adapter_sdk import SEND_TIMEOUT, send_url, sent_by  # noqa: E402
from botocore_streaming import WHY as STREAMING_WHY  # noqa: E402
from botocore_streaming import sign_chunked  # noqa: E402
from ad_common import (  # noqa: E402
    Check,
    FixedClock,
    Stopwatch,
    Unsupported,
    dist_version,
    library_call,
    require_path_rules,
    require_token_signed_in_presign,
    signed_from_prepared,
)


class _SigningLog(logging.Handler):
    """Keeps the last canonical request / string to sign that botocore.auth logged."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.canonical_request: str | None = None
        self.string_to_sign: str | None = None

    def reset(self) -> None:
        self.canonical_request = None
        self.string_to_sign = None

    def emit(self, record: logging.LogRecord) -> None:
        if not record.args:
            return
        if record.msg == "CanonicalRequest:\n%s":
            self.canonical_request = record.args[0]
        elif record.msg == "StringToSign:\n%s":
            self.string_to_sign = record.args[0]


class BotocoreAdapter:
    library = "botocore"

    def __init__(self) -> None:
        self.log = _SigningLog()
        logger = logging.getLogger("botocore.auth")
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.addHandler(self.log)
        # botocore's own clock hook (1.36+); older botocore reads datetime.datetime.utcnow() in
        # botocore.auth, so there the module's clock is pinned instead. See module docstring.
        self.clock = FixedClock()
        self.clock.install(botocore.auth, hook="get_current_datetime")
        self.session = None  # botocore.httpsession.URLLib3Session, made on the first send
        self.prepared = None

    def set_capture(self, on: bool) -> None:
        """Bench runs without the DEBUG signing log (a user's botocore does not log at DEBUG)."""
        logging.getLogger("botocore.auth").setLevel(logging.DEBUG if on else logging.WARNING)

    def hello(self) -> dict:
        if botocore.compat.HAS_CRT:
            raise RuntimeError("awscrt is importable: botocore would use its CRT signers")
        return {
            "library": self.library,
            "library_version": dist_version("botocore"),
            "runtime_extra": f"botocore {botocore.__version__}, HAS_CRT=False",
            "algorithms": ["sigv4"],
            "modes": ["header", "query"],
            "exposes": ["canonical_request", "string_to_sign"],
            "clients": ["urllib", "botocore-session", "httpx"],
            "surfaces": ["single", "aws-chunked"],  # aws-chunked: STREAMING-UNSIGNED-PAYLOAD-TRAILER (botocore_streaming.py)
            "why": STREAMING_WHY,
        }

    def prepare(self, check: Check):
        if check.raw.get("surface"):
            return None  # botocore_streaming.py
        if check.algorithm != "sigv4":
            raise Unsupported("botocore's pure-Python signers implement SigV4 only; "
                              "SigV4A needs awscrt (see py-botocore-crt)")
        s3 = check.service == "s3"
        if s3:
            require_path_rules(check, (False, False), "botocore S3SigV4Auth")
        else:
            require_path_rules(check, (True, True), "botocore SigV4Auth")
        if check.payload == "empty" and check.body:
            raise Unsupported("botocore signs the hash of the body it sends; it has no option to "
                              "sign the empty-string hash for a non-empty body")
        if check.mode == "query" and s3 and check.payload != "unsigned":
            raise Unsupported("botocore S3SigV4QueryAuth always signs UNSIGNED-PAYLOAD")
        require_token_signed_in_presign(check, "botocore SigV4QueryAuth")
        creds = Credentials(check.access_key_id, check.secret_access_key, check.session_token)
        if check.mode == "header":
            cls = botocore.auth.S3SigV4Auth if s3 else botocore.auth.SigV4Auth
            return cls(creds, check.service, check.region)
        cls = botocore.auth.S3SigV4QueryAuth if s3 else botocore.auth.SigV4QueryAuth
        if check.expires is None:
            return cls(creds, check.service, check.region)
        return cls(creds, check.service, check.region, expires=check.expires)

    def sign(self, check: Check, signer, watch: Stopwatch) -> dict:
        if check.raw.get("surface") == "aws-chunked":
            self.log.reset()
            with watch.running():
                answer = sign_chunked(check, self.clock)
            return {**answer, "canonical_request": self.log.canonical_request, "string_to_sign": self.log.string_to_sign}
        request = AWSRequest(method=check.method, url=check.url, data=check.body)
        for name, value in check.headers:
            request.headers[name] = value  # HTTPHeaders appends: duplicates are kept
        if check.payload == "unsigned":
            if check.service == "s3":
                # What Config(s3={'payload_signing_enabled': False}) puts in the request context.
                request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
            else:
                # What botocore sets for operations with unsigned payloads.
                request.context["payload_signing_enabled"] = False
        self.clock.now = check.timestamp
        self.log.reset()
        with library_call(), watch.running():
            signer.add_auth(request)
        with library_call():
            prepared = request.prepare()
        self.prepared = prepared  # what botocore-session sends (send)
        return {
            "signed": signed_from_prepared(check, prepared),
            "canonical_request": self.log.canonical_request,
            "string_to_sign": self.log.string_to_sign,
        }

    def send(self, check: Check, signer, outcome: dict, client: str, scheme: str) -> dict:
        """urllib and httpx get the signed headers; botocore-session is botocore's own HTTP session,
        ``URLLib3Session().send(request.prepare())``, as a user of AWSRequest sends (one session,
        kept for the adapter's life like a client's)."""
        if client != "botocore-session":
            return send_signed(check, outcome, client, scheme)
        if self.session is None:
            from botocore.httpsession import URLLib3Session

            self.session = URLLib3Session(timeout=SEND_TIMEOUT)
        prepared = self.prepared
        prepared.url = send_url(prepared.url, scheme)

        def go():
            answer = self.session.send(prepared)
            return answer.status_code, answer.headers

        return sent_by(client, go)
