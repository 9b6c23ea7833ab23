"""py-awscrt: ``awscrt.auth.aws_sign_request(HttpRequest, AwsSigningConfig)`` with an explicit config.

Every context field maps onto an ``AwsSigningConfig`` option:

| check                              | AwsSigningConfig                                             |
| ---------------------------------- | ------------------------------------------------------------ |
| algorithm sigv4 / sigv4a           | algorithm V4 / V4_ASYMMETRIC                                 |
| mode header / query                | signature_type HTTP_REQUEST_HEADERS / HTTP_REQUEST_QUERY_PARAMS |
| region / region_set                | region (the region set comma-joined for sigv4a)              |
| service                            | service                                                      |
| timestamp                          | date (aware UTC datetime: the CRT's own fixed-time option)    |
| normalize_path / double_encode     | should_normalize_uri_path / use_double_uri_encode            |
| session_token_placement after      | omit_session_token=True                                      |
| payload unsigned / empty / body    | signed_body_value UNSIGNED_PAYLOAD / EMPTY_SHA256 / None (hash the body) |
| content_sha256_header (header mode)| signed_body_header_type X_AMZ_CONTENT_SHA_256                |
| expires (query mode)               | expiration_in_seconds                                        |

The CRT requires a Host header; the adapter adds one (the request's authority) only when the
check's request has none. The CRT refuses requests that already carry the headers it adds
(X-Amz-Date, Authorization, ...): that comes back as ``rejected``. No canonical request or string
to sign is exposed by the CRT: both are null.
"""

from __future__ import annotations

import io

from awscrt import auth, http

from ad_clients import send_signed
from ad_common import Check, Stopwatch, Unsupported, b64_or_none, dist_version, library_call


class AwsCrtAdapter:
    library = "awscrt"

    def hello(self) -> dict:
        return {
            "library": self.library,
            "library_version": dist_version("awscrt"),
            "algorithms": ["sigv4", "sigv4a"],
            "modes": ["header", "query"],
            "exposes": [],
            "clients": ["requests"],
            # awscrt's AwsSignatureType has HTTP_REQUEST_HEADERS and HTTP_REQUEST_QUERY_PARAMS only: no
            # chunk, trailer or event signature type is bound in Python (docs/streaming.md).
            "why": {s: f"awscrt {dist_version('awscrt')} binds AwsSignatureType HTTP_REQUEST_HEADERS and HTTP_REQUEST_QUERY_PARAMS "
                       "only: no chunk, trailing-headers or event signing" for s in ("aws-chunked", "event-stream")},
        }

    def prepare(self, check: Check):
        if check.algorithm == "sigv4":
            algorithm = auth.AwsSigningAlgorithm.V4
            region = check.region
        elif check.algorithm == "sigv4a":
            algorithm = auth.AwsSigningAlgorithm.V4_ASYMMETRIC
            region = ",".join(check.region_set)
        else:
            raise Unsupported(f"unknown algorithm {check.algorithm!r}")
        if check.mode == "header":
            signature_type = auth.AwsSignatureType.HTTP_REQUEST_HEADERS
        else:
            signature_type = auth.AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS
        body_value = {
            "unsigned": auth.AwsSignedBodyValue.UNSIGNED_PAYLOAD,
            "empty": auth.AwsSignedBodyValue.EMPTY_SHA256,
            "body": None,
        }[check.payload]
        if check.mode == "header" and check.content_sha256_header:
            body_header = auth.AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256
        else:
            body_header = auth.AwsSignedBodyHeaderType.NONE
        with library_call():
            credentials = auth.AwsCredentialsProvider.new_static(
                check.access_key_id, check.secret_access_key, check.session_token)
            return auth.AwsSigningConfig(
                algorithm=algorithm,
                signature_type=signature_type,
                credentials_provider=credentials,
                region=region,
                service=check.service,
                date=check.timestamp,
                use_double_uri_encode=check.double_encode,
                should_normalize_uri_path=check.normalize_path,
                signed_body_value=body_value,
                signed_body_header_type=body_header,
                expiration_in_seconds=check.expires if check.mode == "query" else None,
                omit_session_token=check.session_token_placement == "after",
            )

    def sign(self, check: Check, config, watch: Stopwatch) -> dict:
        headers = [(n, v) for n, v in check.headers]
        if not check.has_header("host"):
            headers.insert(0, ("Host", check.host))
        target = check.path + ("?" + check.query if check.query else "")
        with library_call():
            request = http.HttpRequest(
                method=check.method,
                path=target,
                headers=http.HttpHeaders(headers),
                body_stream=io.BytesIO(check.body) if check.body else None,
            )
        with library_call(), watch.running():
            auth.aws_sign_request(request, config).result()
        return {
            "signed": {
                "method": request.method,
                "url": f"{check.scheme}://{check.host}{request.path}",
                "headers": [[n, v] for n, v in request.headers],
                "body_b64": None,
            },
            "canonical_request": None,
            "string_to_sign": None,
        }

    def send(self, check: Check, state, outcome: dict, client: str, scheme: str) -> dict:
        """The signed headers handed to the client, as users pair it with this signer (docs/wire.md)."""
        return send_signed(check, outcome, client, scheme)
