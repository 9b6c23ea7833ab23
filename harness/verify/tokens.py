"""Verify an IAM authentication token the way the receiving side would.

RDS and DSQL: the database receives the token as the password of a login for a user on its own
endpoint; it is a presigned URL without scheme. EKS: the cluster receives a bearer token
'k8s-aws-v1.' + base64url(presigned STS GetCallerIdentity URL) and checks it as
aws-iam-authenticator does, then STS checks the signature with the cluster's `x-k8s-aws-id`.

The framing checks are here; the signature, scope and presigned-URL expiry are the shared
query-mode verifier's (`harness.verify.single.verify`). Evidence: docs/post-policy-and-tokens.md.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from harness.verify import first_accepting
from harness.model import SignedRequest, split_url
from harness.reference import canonical as cr
from harness.reference import tokens as tk
from harness.reference.encoding import uri_decode
from harness.verify.single import Rejected, ServerRules, Verification, verify

MAX_EKS_TOKEN_BYTES = 4096  # aws-iam-authenticator maxTokenLenBytes
EKS_VALIDITY = timedelta(minutes=15)  # STS: 15 minutes after X-Amz-Date, whatever X-Amz-Expires says
# aws-iam-authenticator parameterWhitelist (compared lowercase).
EKS_PARAMETERS = frozenset(
    {"action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
     "x-amz-security-token", "x-amz-signature", "x-amz-signedheaders"}
)
OPEN_CHOICES = {
    "token-default-port-elided": "the database computes the signed Host without ':443' (botocore signs it so), not the token's authority as written",
}
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_STS_HOST = re.compile(r"^sts(?:\.([a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?$")


@dataclass(frozen=True)
class TokenServerRules:
    """What the receiving side knows."""

    kind: str  # rds | dsql | eks
    credentials: dict[str, str]
    region: str  # rds, dsql: the database's region (eks: the STS host's, see sts_region)
    now: datetime
    endpoint: str = ""  # rds, dsql: the authority the database listens on (host:port for rds)
    user: str | None = None  # rds: the database user logging in
    admin: bool = False  # dsql: logging in as the admin role needs DbConnectAdmin
    cluster_id: str | None = None  # eks: this cluster's id, sent to STS as x-k8s-aws-id
    sts_hosts: tuple[str, ...] = ()  # eks: accepted STS endpoints
    session_token: str | None = None
    default_port_elided: bool = False  # open choice token-default-port-elided

    def with_choice(self, choice: str) -> "TokenServerRules":
        if choice == "token-default-port-elided":
            return replace(self, default_port_elided=True)
        raise ValueError(f"unknown open choice {choice!r}; known: {', '.join(OPEN_CHOICES)}")


def verify_token(token: str, rules: TokenServerRules) -> Verification:
    """Accept or reject one token under `rules`."""
    try:
        if rules.kind == "eks":
            return _verify_eks(token, rules)
        return _verify_database(token, rules)
    except Rejected as exc:
        return Verification(False, str(exc))


def verify_token_with_choices(token: str, rules: TokenServerRules, choices: tuple[str, ...]) -> Verification:
    """The spec rules first, then each open choice the case names (the first that accepts wins)."""
    return first_accepting(verify_token, token, rules, choices)


def _single_values(query: str) -> dict[str, str]:
    """Decoded name -> decoded value; a parameter given twice is rejected."""
    values: dict[str, str] = {}
    for name, value in cr.query_parameters(query):
        key = uri_decode(name).decode("utf-8", "replace")
        if key in values:
            raise Rejected(f"query parameter {key!r} given more than once")
        values[key] = uri_decode(value).decode("utf-8", "replace")
    return values


def _check_signature_text(value: str | None) -> None:
    """64 lowercase hex digits (anything else cannot match, and single.verify's compare_digest
    raises on non-ASCII text)."""
    if value is None or not _HEX64.match(value):
        raise Rejected("X-Amz-Signature is not 64 lowercase hex digits")


def _check_expires(values: dict[str, str], surface: tk.Surface, kind: str) -> None:
    text = values.get("X-Amz-Expires", "")
    if not text.isdigit() or int(text) > surface.max_expires:
        raise Rejected(f"X-Amz-Expires {text!r} is not a number of seconds up to {surface.max_expires} ({kind})")


def _signature(checked: "CheckedRequest", rules: TokenServerRules) -> Verification:
    server = ServerRules(
        credentials=rules.credentials,
        region=checked.region,
        service=checked.service,
        now=checked.now,
        payload="body",
        session_token=rules.session_token,
    )
    return verify(checked.request, b"", server)


def _verify_database(token: str, rules: TokenServerRules) -> Verification:
    surface = tk.SURFACES[rules.kind]
    authority, slash, rest = token.partition("/")
    if "://" in token.split("?", 1)[0]:
        raise Rejected("token carries a URL scheme; the token is the presigned URL without it")
    if not slash or not rest.startswith("?"):
        raise Rejected("token is not '<host>[:port]/?<query>'")
    if authority.lower() != rules.endpoint.lower():
        raise Rejected(f"token is for {authority!r}, the database is {rules.endpoint!r}")
    values = _single_values(rest[1:])
    if rules.kind == "rds":
        if values.get("Action") != "connect":
            raise Rejected(f"Action {values.get('Action')!r} is not 'connect'")
        if values.get("DBUser") != rules.user:
            raise Rejected(f"DBUser {values.get('DBUser')!r} is not the user logging in ({rules.user!r})")
    else:
        wanted = "DbConnectAdmin" if rules.admin else "DbConnect"
        if values.get("Action") != wanted:
            raise Rejected(f"Action {values.get('Action')!r} is not {wanted!r}")
    _check_expires(values, surface, rules.kind)
    _check_signature_text(values.get("X-Amz-Signature"))
    return _signature(_database_request(token, rules), rules)


def _database_request(token: str, rules: TokenServerRules) -> "CheckedRequest":
    # The database recomputes the signature for its own endpoint: the Host it is reached at.
    host = rules.endpoint
    if rules.default_port_elided and host.endswith(":443"):
        host = host[: -len(":443")]
    return CheckedRequest(SignedRequest("GET", "https://" + token, (("Host", host),)), rules.region,
                          tk.SURFACES[rules.kind].service, rules.now)


def decode_eks_token(token: str) -> str:
    """The presigned URL inside 'k8s-aws-v1.' + base64url without padding."""
    if len(token) > MAX_EKS_TOKEN_BYTES:
        raise Rejected("token is too large")
    if not token.startswith(tk.EKS_PREFIX):
        raise Rejected(f"token is missing expected {tk.EKS_PREFIX!r} prefix")
    body = token[len(tk.EKS_PREFIX):]
    if not _BASE64URL.match(body) or len(body) % 4 == 1:
        raise Rejected("token is not base64url without padding")
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Rejected(f"token is not base64url of a UTF-8 URL: {exc}") from None


def sts_region(host: str) -> str:
    """The region STS expects in the scope: the regional endpoint's, us-east-1 for the global one."""
    match = _STS_HOST.match(host)
    if match is None:
        raise Rejected(f"unexpected hostname {host!r} in pre-signed URL")
    return match.group(1) or "us-east-1"


def _verify_eks(token: str, rules: TokenServerRules) -> Verification:
    url = decode_eks_token(token)
    scheme, host, path, query = split_url(url)
    if scheme != "https":
        raise Rejected(f"unexpected scheme {scheme!r} in pre-signed URL")
    if host not in rules.sts_hosts:
        raise Rejected(f"unexpected hostname {host!r} in pre-signed URL")
    if path != "/":
        raise Rejected("unexpected path in pre-signed URL")
    values = {k.lower(): v for k, v in _single_values(query).items()}
    if len(values) != len(cr.query_parameters(query)):
        raise Rejected("query parameter with multiple values not supported")
    extra = sorted(set(values) - EKS_PARAMETERS)
    if extra:
        raise Rejected(f"non-whitelisted query parameter {extra[0]!r}")
    if values.get("action") != "GetCallerIdentity":
        raise Rejected("unexpected action parameter in pre-signed URL")
    if tk.CLUSTER_ID_HEADER not in [h.lower() for h in values.get("x-amz-signedheaders", "").split(";")]:
        raise Rejected(f"client did not sign the {tk.CLUSTER_ID_HEADER} header in the pre-signed URL")
    _check_expires({"X-Amz-Expires": values.get("x-amz-expires", "")}, tk.SURFACES["eks"], "eks")
    _check_signature_text(values.get("x-amz-signature"))
    signed_at = _eks_signed_at(values.get("x-amz-date", ""))
    if rules.now > signed_at + EKS_VALIDITY:
        raise Rejected("X-Amz-Date parameter is expired (15 minute expiration)")
    if rules.now < signed_at - EKS_VALIDITY:
        raise Rejected("X-Amz-Date is more than 15 minutes after the server's time")
    # STS applies its own 15-minute rule (checked above) instead of X-Amz-Expires, so the shared
    # verifier judges signature and scope at the signing time.
    return _signature(_eks_request(url, host, rules, signed_at), rules)


def _eks_signed_at(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise Rejected("error parsing X-Amz-Date parameter") from None


def _eks_request(url: str, host: str, rules: TokenServerRules, signed_at: datetime) -> "CheckedRequest":
    headers = (("Host", host), (tk.CLUSTER_ID_HEADER, rules.cluster_id or ""))
    return CheckedRequest(SignedRequest("GET", url, headers), sts_region(host), tk.SURFACES["eks"].service, signed_at)


@dataclass(frozen=True)
class CheckedRequest:
    """The GET request whose signature the database or STS checks, and the scope and time it checks it for."""

    request: SignedRequest
    region: str
    service: str
    now: datetime


def checked_request(token: str, rules: TokenServerRules) -> CheckedRequest | None:
    """What the receiving side checks the signature of (the request the oracles receive), as `verify_token`
    builds it; None when the token is refused before there is such a request (not a URL, another host)."""
    try:
        if rules.kind != "eks":
            return _database_request(token, rules)
        url = decode_eks_token(token)
        _, host, _, query = split_url(url)
        values = {k.lower(): v for k, v in cr.query_parameters(query)}
        return _eks_request(url, host, rules, _eks_signed_at(values.get("x-amz-date", "")))
    except Rejected:
        return None
