"""py-botocore-crt: botocore's CRT-backed signers (``botocore.crt.auth``).

These are what a botocore client uses for 'v4' / 's3v4' / 'v4a' when awscrt is installed:

| mode   | sigv4                                      | sigv4a                                            |
| ------ | ------------------------------------------ | ------------------------------------------------- |
| header | CrtSigV4Auth (CrtS3SigV4Auth for s3)       | CrtSigV4AsymAuth (CrtS3SigV4AsymAuth for s3)      |
| query  | CrtSigV4QueryAuth (CrtS3SigV4QueryAuth)    | CrtSigV4AsymQueryAuth (CrtS3SigV4AsymQueryAuth)   |

For SigV4A the region set goes in as the region name, comma-joined, which is what botocore does
with ``Config(sigv4a_signing_region_set=...)``.

The signing time is fixed through botocore's clock hook as the CRT classes call it:
``botocore.crt.auth.get_current_datetime(remove_tzinfo=False)`` returns the check's timestamp as
an aware UTC datetime. The CRT signs natively and exposes no canonical request or string to sign:
both are reported as null.
"""

from __future__ import annotations

import awscrt
import botocore
import botocore.auth  # first: botocore.crt.auth and botocore.auth import each other
import botocore.compat
import botocore.crt.auth as crt_auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from ad_clients import send_signed
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

_CLASSES = {
    # (algorithm, mode, s3) -> class
    ("sigv4", "header", False): crt_auth.CrtSigV4Auth,
    ("sigv4", "header", True): crt_auth.CrtS3SigV4Auth,
    ("sigv4", "query", False): crt_auth.CrtSigV4QueryAuth,
    ("sigv4", "query", True): crt_auth.CrtS3SigV4QueryAuth,
    ("sigv4a", "header", False): crt_auth.CrtSigV4AsymAuth,
    ("sigv4a", "header", True): crt_auth.CrtS3SigV4AsymAuth,
    ("sigv4a", "query", False): crt_auth.CrtSigV4AsymQueryAuth,
    ("sigv4a", "query", True): crt_auth.CrtS3SigV4AsymQueryAuth,
}


class BotocoreCrtAdapter:
    library = "botocore"

    def __init__(self) -> None:
        # botocore before 1.36 has no clock hook and reads datetime.datetime.utcnow() in botocore.crt.auth
        self.clock = FixedClock()
        self.clock.install(crt_auth, hook="get_current_datetime")

    def hello(self) -> dict:
        if not botocore.compat.HAS_CRT:
            raise RuntimeError("botocore.compat.HAS_CRT is False: the CRT signers are not in use")
        return {
            "library": self.library,
            "library_version": dist_version("botocore"),
            "runtime_extra": f"awscrt {dist_version('awscrt')}",
            "algorithms": ["sigv4", "sigv4a"],
            "modes": ["header", "query"],
            "exposes": [],
            "clients": ["requests"],
        }

    def prepare(self, check: Check):
        if check.algorithm not in ("sigv4", "sigv4a"):
            raise Unsupported(f"unknown algorithm {check.algorithm!r}")
        s3 = check.service == "s3"
        cls = _CLASSES[(check.algorithm, check.mode, s3)]
        require_path_rules(check, (False, False) if s3 else (True, True), f"botocore {cls.__name__}")
        if check.payload == "empty" and check.body:
            raise Unsupported("botocore's CRT signers sign the hash of the body they send; no "
                              "option to sign the empty-string hash for a non-empty body")
        if check.mode == "query" and s3 and check.payload != "unsigned":
            raise Unsupported(f"botocore {cls.__name__} always signs UNSIGNED-PAYLOAD")
        require_token_signed_in_presign(check, "botocore's CRT query signers")
        creds = Credentials(check.access_key_id, check.secret_access_key, check.session_token)
        region = ",".join(check.region_set) if check.algorithm == "sigv4a" else check.region
        if check.mode == "query" and check.expires is not None:
            return cls(creds, check.service, region, expires=check.expires)
        return cls(creds, check.service, region)

    def sign(self, check: Check, signer, watch: Stopwatch) -> dict:
        request = AWSRequest(method=check.method, url=check.url, data=check.body)
        for name, value in check.headers:
            request.headers[name] = value
        if check.payload == "unsigned":
            if check.service == "s3":
                request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
            else:
                request.context["payload_signing_enabled"] = False
        self.clock.now = check.timestamp
        with library_call(), watch.running():
            signer.add_auth(request)
        with library_call():
            prepared = request.prepare()
        return {
            "signed": signed_from_prepared(check, prepared),
            "canonical_request": None,
            "string_to_sign": None,
        }

    def send(self, check: Check, state, outcome: dict, client: str, scheme: str) -> dict:
        """The signed headers handed to the client, as users pair it with this signer (docs/wire.md)."""
        return send_signed(check, outcome, client, scheme)


_ = awscrt  # imported so a missing awscrt fails at start-up, not mid-run
