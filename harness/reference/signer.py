"""The reference signer: the four tasks of the specification put together, in header mode
(Authorization header) and query mode (presigned URL), SigV4 and SigV4A. Every stage is kept."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.model import Check, Context, Request, SignedRequest
from harness.reference import canonical as cr
from harness.reference import signing
from harness.reference.authorization import Authorization
from harness.reference.encoding import uri_encode
from harness.services import profile

from harness.stages import REFUSAL_STAGE, STAGES  # noqa: F401  (declared there; read through this module too)

# Every stage the reference keeps, in order: `sigharness show` prints them.
SHOWN_STAGES = ("canonical_uri", "canonical_query_string", "canonical_headers", "signed_headers", "hashed_payload",
                "canonical_request", "credential_scope", "string_to_sign", "signature", "authorization", "signed_url")

# Headers a signer sets itself; values the caller put there are replaced.
SIGNER_HEADERS = ("x-amz-date", "authorization", "x-amz-security-token", "x-amz-content-sha256", "x-amz-region-set")


@dataclass
class SigningResult:
    """Every stage of one signature, and the request as it would be sent."""

    stages: dict[str, str] = field(default_factory=dict)
    signed: SignedRequest | None = None


def sign(check: Check) -> SigningResult:
    return sign_request(check.case.request, check.context, check.mode)


def sign_request(request: Request, context: Context, mode: str) -> SigningResult:
    if mode == "header":
        return _sign_header(request, context)
    if mode == "query":
        return _sign_query(request, context)
    raise ValueError(f"unknown mode {mode!r}")


def _base_headers(request: Request) -> list[tuple[str, str]]:
    headers = [(n, v) for n, v in request.headers if n.lower() not in SIGNER_HEADERS]
    if not any(n.lower() == "host" for n, _ in headers):
        headers.insert(0, ("Host", request.host))
    return headers


def _compute(
    request: Request,
    context: Context,
    headers: list[tuple[str, str]],
    query_params: list[tuple[str, str]],
    signed_names: list[str],
) -> dict[str, str]:
    stages: dict[str, str] = {}
    stages["canonical_uri"] = cr.canonical_uri(
        request.path, normalize=context.normalize_path, double_encode=context.double_encode,
        reencode=profile(context.service).reencode_path,
    )
    stages["canonical_query_string"] = cr.canonical_query_string(query_params)
    stages["canonical_headers"] = cr.canonical_headers(headers, signed_names)
    stages["signed_headers"] = cr.signed_headers(signed_names)
    stages["hashed_payload"] = cr.hashed_payload(request.body, context.payload)
    stages["canonical_request"] = cr.canonical_request(
        request.method,
        stages["canonical_uri"],
        stages["canonical_query_string"],
        stages["canonical_headers"],
        stages["signed_headers"],
        stages["hashed_payload"],
    )
    scope = signing.credential_scope(context.date_stamp, context.region, context.service, context.algorithm)
    stages["credential_scope"] = scope
    stages["string_to_sign"] = signing.string_to_sign(
        context.algorithm, context.amz_date, scope, stages["canonical_request"]
    )
    if context.algorithm == "sigv4a":
        key = signing.sigv4a_private_key(context.access_key_id, context.secret_access_key)
        stages["signature"] = signing.sigv4a_signature(key, stages["string_to_sign"])
    else:
        key_bytes = signing.signing_key(context.secret_access_key, context.date_stamp, context.region, context.service)
        stages["signing_key"] = key_bytes.hex()
        stages["signature"] = signing.signature(key_bytes, stages["string_to_sign"])
    return stages


def _sign_header(request: Request, context: Context) -> SigningResult:
    headers = _base_headers(request)
    headers.append(("X-Amz-Date", context.amz_date))
    if context.token_signed:
        headers.append(("X-Amz-Security-Token", context.session_token or ""))
    if context.content_sha256_header:
        headers.append(("X-Amz-Content-Sha256", cr.hashed_payload(request.body, context.payload)))
    if context.algorithm == "sigv4a":
        headers.append(("X-Amz-Region-Set", ",".join(context.region_set)))
    signed_names = cr.headers_to_sign(headers)
    stages = _compute(request, context, headers, cr.query_parameters(request.query), signed_names)
    algorithm = signing.ALGORITHM_NAMES[context.algorithm]
    stages["authorization"] = str(Authorization(
        algorithm, f"{context.access_key_id}/{stages['credential_scope']}", tuple(stages["signed_headers"].split(";")), stages["signature"]))
    headers.append(("Authorization", stages["authorization"]))
    if context.session_token and not context.token_signed:
        headers.append(("X-Amz-Security-Token", context.session_token))
    signed = SignedRequest(request.method, request.url, tuple(headers))
    return SigningResult(stages, signed)


def presign_parameters(context: Context, signed_headers_value: str) -> list[tuple[str, str]]:
    """The X-Amz-* query parameters of a presigned URL (unencoded values), in aws-c-auth's order."""
    scope = signing.credential_scope(context.date_stamp, context.region, context.service, context.algorithm)
    params = [
        ("X-Amz-Algorithm", signing.ALGORITHM_NAMES[context.algorithm]),
        ("X-Amz-Credential", f"{context.access_key_id}/{scope}"),
        ("X-Amz-Date", context.amz_date),
        ("X-Amz-SignedHeaders", signed_headers_value),
        ("X-Amz-Expires", str(context.expires)),
    ]
    if context.algorithm == "sigv4a":
        params.append(("X-Amz-Region-Set", ",".join(context.region_set)))
    if context.token_signed:
        params.append(("X-Amz-Security-Token", context.session_token or ""))
    return params




def _presigned_payload_header(request: Request, context: Context) -> list[tuple[str, str]]:
    """A presigned URL goes with a signed x-amz-content-sha256 header when the payload hash it
    signs is not the one the server takes without that header (S3: UNSIGNED-PAYLOAD; other
    services: the hash of the body they receive); see docs/server-rules.md."""
    signed_hash = cr.hashed_payload(request.body, context.payload)
    assumed = cr.hashed_payload(request.body, profile(context.service).received_payload)
    return [] if signed_hash == assumed else [("X-Amz-Content-Sha256", signed_hash)]


def _sign_query(request: Request, context: Context) -> SigningResult:
    if not 1 <= context.expires <= signing.MAX_EXPIRES:
        raise ValueError(f"X-Amz-Expires must be between 1 and {signing.MAX_EXPIRES} seconds, not {context.expires}")
    headers = _base_headers(request) + _presigned_payload_header(request, context)
    signed_names = cr.headers_to_sign(headers)
    added = presign_parameters(context, cr.signed_headers(signed_names))
    params = cr.query_parameters(request.query) + added
    stages = _compute(request, context, headers, params, signed_names)
    appended = added + [("X-Amz-Signature", stages["signature"])]
    if context.session_token and not context.token_signed:
        appended.append(("X-Amz-Security-Token", context.session_token))
    extra = "&".join(f"{k}={uri_encode(v)}" for k, v in appended)
    query = f"{request.query}&{extra}" if request.query else extra
    url = f"{request.scheme}://{request.host}{request.path}?{query}"
    stages["signed_url"] = url
    signed = SignedRequest(request.method, url, tuple(headers))
    return SigningResult(stages, signed)
