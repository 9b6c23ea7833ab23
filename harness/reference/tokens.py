"""IAM authentication tokens: RDS (`connect`, service rds-db), Aurora DSQL (`DbConnect` /
`DbConnectAdmin`, service dsql) and EKS (STS GetCallerIdentity with a signed `x-k8s-aws-id`).

Each token IS a presigned URL: the first three stages are the query-mode signer's
(`harness.reference.signer.sign_request(..., "query")`), unchanged. This module only says which
request is presigned (`presign_request`) and how the URL is framed as a token (`token`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime

from harness.model import Context, Request
from harness.reference.encoding import uri_encode
from harness.reference.signer import SigningResult, sign_request

STAGES = ("canonical_request", "string_to_sign", "signature", "token")
EKS_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
DSQL_ACTIONS = ("DbConnect", "DbConnectAdmin")


@dataclass(frozen=True)
class Surface:
    """What differs between the token kinds, as data."""

    service: str  # the signing name in the credential scope
    default_expires: int
    max_expires: int  # the longest X-Amz-Expires the service honours
    needs_port: bool


SURFACES: dict[str, Surface] = {
    # RDS: "Each token has a lifetime of 15 minutes"; generators hard-code 900.
    "rds": Surface(service="rds-db", default_expires=900, max_expires=900, needs_port=True),
    # DSQL: ExpiresIn is a parameter (default 900 s); a presigned URL's own limit applies.
    "dsql": Surface(service="dsql", default_expires=900, max_expires=604800, needs_port=False),
    # EKS: the URL is valid 15 minutes after X-Amz-Date whatever X-Amz-Expires says; aws-cli and
    # aws-iam-authenticator send 60, the authenticator accepts 0..900.
    "eks": Surface(service="sts", default_expires=60, max_expires=900, needs_port=False),
}


@dataclass(frozen=True)
class TokenRequest:
    """What a user gives a token generator."""

    kind: str  # rds | dsql | eks
    host: str  # DB endpoint (rds, dsql) or STS endpoint (eks); IPv6 literals in brackets
    access_key_id: str
    secret_access_key: str
    region: str
    timestamp: datetime
    session_token: str | None = None
    port: int | None = None  # rds: the DB port, part of the token's authority
    user: str | None = None  # rds: DBUser
    action: str = "DbConnect"  # dsql: DbConnect or DbConnectAdmin
    cluster_id: str | None = None  # eks: the x-k8s-aws-id header
    expires: int | None = None  # default: the surface's

    @property
    def surface(self) -> Surface:
        return SURFACES[self.kind]

    @property
    def authority(self) -> str:
        return f"{self.host}:{self.port}" if self.port is not None else self.host


@dataclass
class TokenResult:
    stages: dict[str, str] = field(default_factory=dict)


def action_parameters(t: TokenRequest) -> list[tuple[str, str]]:
    """The query the service receives before the X-Amz-* parameters (unencoded)."""
    if t.kind == "rds":
        return [("Action", "connect"), ("DBUser", t.user or "")]
    if t.kind == "dsql":
        return [("Action", t.action)]
    return [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]


def presign_request(t: TokenRequest) -> tuple[Request, Context]:
    """The GET request to presign, and the signing context."""
    if t.kind not in SURFACES:
        raise ValueError(f"unknown token kind {t.kind!r}; known: {', '.join(SURFACES)}")
    if t.surface.needs_port and t.port is None:
        raise ValueError(f"a {t.kind} token needs a port")
    query = "&".join(f"{uri_encode(k)}={uri_encode(v)}" for k, v in action_parameters(t))
    headers: list[tuple[str, str]] = [("Host", t.authority)]
    if t.kind == "eks":
        headers.append((CLUSTER_ID_HEADER, t.cluster_id or ""))
    request = Request("GET", "https", t.authority, "/", query, tuple(headers))
    context = Context(
        access_key_id=t.access_key_id,
        secret_access_key=t.secret_access_key,
        session_token=t.session_token,
        region=t.region,
        region_set=(t.region,),
        service=t.surface.service,
        timestamp=t.timestamp,
        expires=t.expires if t.expires is not None else t.surface.default_expires,
        payload="body",  # the hash of the empty body, as for any non-S3 presigned URL
    )
    return request, context


def presigned(t: TokenRequest) -> SigningResult:
    """The query-mode signer over `presign_request(t)`: every stage up to the signed URL."""
    request, context = presign_request(t)
    return sign_request(request, context, "query")


def canonical_request(t: TokenRequest) -> str:
    """Stage 1, the query signer's canonical request (X-Amz-* in the query, host signed)."""
    return presigned(t).stages["canonical_request"]


def string_to_sign(t: TokenRequest) -> str:
    """Stage 2, the query signer's string to sign."""
    return presigned(t).stages["string_to_sign"]


def signature(t: TokenRequest) -> str:
    """Stage 3, the query signer's signature."""
    return presigned(t).stages["signature"]


def token(kind: str, signed_url: str) -> str:
    """Stage 4: the presigned URL without its scheme (rds, dsql), or 'k8s-aws-v1.' + the URL in
    base64url without padding (eks)."""
    if kind == "eks":
        return EKS_PREFIX + base64.urlsafe_b64encode(signed_url.encode("utf-8")).decode("ascii").rstrip("=")
    return signed_url.split("://", 1)[1]


def sign_token(t: TokenRequest) -> TokenResult:
    """Every stage of one token: the query-mode signer's three, then the framing."""
    signed = presigned(t)
    stages = {name: signed.stages[name] for name in STAGES[:3]}
    stages["signed_url"] = signed.stages["signed_url"]
    stages["token"] = token(t.kind, signed.stages["signed_url"])
    return TokenResult(stages)
