"""Verify a signed request the way a server would.

The verifier sees only what arrives (method, URL, headers, body) plus its own configuration (the
credentials it knows, its region and service, its clock, its canonicalization rules). It
re-derives the canonical request from what was received and the SignedHeaders list, and checks the
signature: HMAC for SigV4, ECDSA with the public key derived from the credentials for SigV4A. It
never looks at how the request was signed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from harness.verify import first_accepting
from harness.model import Context, SignedRequest
from harness.reference import canonical as cr
from harness.reference import signing
from harness.services import profile
from harness.settings import PayloadKind, SessionTokenPlacement
from harness.reference.authorization import Authorization, MalformedAuthorization, is_sigv4
from harness.reference.encoding import uri_decode, uri_encode

MAX_CLOCK_SKEW = timedelta(minutes=15)
_SPACE_RUN = re.compile(" +")

# Choices the specification and the public evidence leave open; a case may name them under
# flags.open_choices (docs/server-rules.md gives the evidence for each).
OPEN_CHOICES = {
    "query-plus-as-space": "the server decodes '+' in the query as a space (form decoding)",
    "query-plus-literal": "the server keeps '+' in the query as a literal plus",
    "path-dot-segment-keeps-slash": "the server normalizes '/foo/.' to '/foo/' (RFC 3986 remove_dot_segments), not '/foo'",
    "s3-encoded-slash-decoded": "S3 decodes '%2F' in the received path to '/' before re-encoding it, so the canonical URI has '/' where '%2F' was sent",
    "header-tab-kept": "the server folds runs of spaces in a header value but keeps tabs (SigV4 speaks of 'sequential spaces')",
    "other-authorization-ignored": "the server ignores an Authorization header that is not SigV4 on a presigned URL (S3 rejects it: 'Only one auth mechanism allowed')",
}


@dataclass(frozen=True)
class ServerRules:
    """How the receiving server canonicalizes and what it accepts."""

    credentials: dict[str, str]
    region: str
    service: str
    now: datetime
    normalize_path: bool = True
    double_encode: bool = True
    payload: str = "body"  # the case's payload kind; kept for callers, not read (the payload hash comes from what is received)
    session_token: str | None = None
    session_token_placement: str = SessionTokenPlacement.SIGNED  # AFTER: IoT style, the token is added after signing
    requires_content_sha256_header: bool = False  # from the service profile (harness/services.yaml)
    query_plus_as_space: bool = False
    rfc3986_trailing_slash: bool = False
    # Server rules from the service profile (docs/server-rules.md); the defaults are the `default` profile's.
    reencode_path: bool = False  # S3: the received path is decoded and URI-encoded once
    encoded_slash_decoded: bool = False  # with reencode_path: '%2F' becomes '/' (an open choice)
    received_payload: str = PayloadKind.BODY  # a presigned URL without x-amz-content-sha256
    rejects_unsigned_amz_headers: bool = False  # S3: an x-amz-* header not signed is HeadersNotSigned
    unsigned_amz_headers_tolerated: frozenset[str] = frozenset()  # ... except these (S3: x-amz-content-sha256)
    one_auth_mechanism: bool = True  # a presigned URL with another Authorization header is rejected
    header_tabs_folded: bool = True  # trimall folds tabs as well as spaces

    @classmethod
    def for_context(cls, context: Context) -> "ServerRules":
        service = profile(context.service)
        return cls(
            credentials={context.access_key_id: context.secret_access_key},
            region=context.region,
            service=context.service,
            now=context.timestamp,
            normalize_path=context.normalize_path,
            double_encode=context.double_encode,
            payload=context.payload,
            session_token=context.session_token,
            session_token_placement=context.session_token_placement,
            requires_content_sha256_header=service.requires_content_sha256_header,
            reencode_path=service.reencode_path,
            received_payload=service.received_payload,
            rejects_unsigned_amz_headers=service.rejects_unsigned_amz_headers,
            unsigned_amz_headers_tolerated=service.unsigned_amz_headers_tolerated,
            one_auth_mechanism=service.one_auth_mechanism,
        )

    def with_choice(self, choice: str) -> "ServerRules":
        if choice == "query-plus-as-space":
            return replace(self, query_plus_as_space=True)
        if choice == "query-plus-literal":
            return replace(self, query_plus_as_space=False)
        if choice == "path-dot-segment-keeps-slash":
            return replace(self, rfc3986_trailing_slash=True)
        if choice == "s3-encoded-slash-decoded":
            return replace(self, encoded_slash_decoded=True)
        if choice == "header-tab-kept":
            return replace(self, header_tabs_folded=False)
        if choice == "other-authorization-ignored":
            return replace(self, one_auth_mechanism=False)
        raise ValueError(f"unknown open choice {choice!r}; known: {', '.join(OPEN_CHOICES)}")


@dataclass
class Verification:
    valid: bool
    reason: str = ""
    canonical_request: str | None = None
    string_to_sign: str | None = None
    rules: str = "spec"
    details: dict[str, str] = field(default_factory=dict)


class Rejected(Exception):
    pass


def _params(query: str) -> list[tuple[str, str]]:
    return cr.query_parameters(query)


def _decoded(value: str) -> str:
    return uri_decode(value).decode("utf-8", "replace")


def _parse_authorization(value: str) -> tuple[str, str, list[str], str]:
    try:
        auth = Authorization.parse(value)
    except MalformedAuthorization as exc:
        raise Rejected(str(exc)) from None
    return auth.algorithm, auth.credential, list(auth.signed_headers), auth.signature


def _first(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    lname = name.lower()
    for n, v in headers:
        if n.lower() == lname:
            return v
    return None


def verify(signed: SignedRequest, body: bytes, rules: ServerRules) -> Verification:
    """Accept or reject one received request under `rules`."""
    try:
        return _verify(signed, body, rules)
    except Rejected as exc:
        return Verification(False, str(exc))


def _verify(signed: SignedRequest, body: bytes, rules: ServerRules) -> Verification:
    _, host, path, query = signed.parts()
    params = _params(query)
    authorization = _first(signed.headers, "Authorization")
    query_names = {_decoded(k): _decoded(v) for k, v in params}
    _check_one_auth_mechanism(authorization, query_names, rules)
    if authorization is not None and is_sigv4(authorization):
        mode = "header"
        algorithm_name, credential, signed_names, sig = _parse_authorization(authorization)
        amz_date = _first(signed.headers, "X-Amz-Date")
        if amz_date is None:
            # SigV4 also accepts the HTTP Date header as the request time (X-Amz-Date wins when both exist).
            date_header = _first(signed.headers, "Date")
            if date_header is None:
                raise Rejected("no X-Amz-Date or Date header")
            amz_date = _http_date_as_amz_date(date_header)
        amz_date = amz_date.strip()
        region_set = _first(signed.headers, "X-Amz-Region-Set")
        token = _first(signed.headers, "X-Amz-Security-Token")
        canonical_params = params
    elif "X-Amz-Signature" in query_names:
        mode = "query"
        try:
            algorithm_name = query_names["X-Amz-Algorithm"]
            credential = query_names["X-Amz-Credential"]
            signed_names = query_names["X-Amz-SignedHeaders"].split(";")
            amz_date = query_names["X-Amz-Date"]
            expires_text = query_names["X-Amz-Expires"]
        except KeyError as exc:
            raise Rejected(f"presigned URL lacks {exc.args[0]}") from None
        sig = query_names["X-Amz-Signature"]
        region_set = query_names.get("X-Amz-Region-Set")
        token = query_names.get("X-Amz-Security-Token")
        token_signed = rules.session_token_placement == SessionTokenPlacement.SIGNED
        unsigned = {"X-Amz-Signature"} | (set() if token_signed else {"X-Amz-Security-Token"})
        canonical_params = [(k, v) for k, v in params if _decoded(k) not in unsigned]
    else:
        raise Rejected("no signature: neither an AWS4 Authorization header nor X-Amz-Signature in the query")

    algorithm = {v: k for k, v in signing.ALGORITHM_NAMES.items()}.get(algorithm_name)
    if algorithm is None:
        raise Rejected(f"unknown algorithm {algorithm_name!r}")

    # Credential scope and time.
    akid, _, scope = credential.partition("/")
    secret = rules.credentials.get(akid)
    if secret is None:
        raise Rejected(f"unknown access key id {akid!r}")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise Rejected(f"X-Amz-Date {amz_date!r} is not YYYYMMDDTHHMMSSZ") from None
    expected_scope = signing.credential_scope(amz_date[:8], rules.region, rules.service, algorithm)
    if scope != expected_scope:
        raise Rejected(f"credential scope {scope!r} is not {expected_scope!r}")
    if mode == "header":
        if abs(rules.now - signed_at) > MAX_CLOCK_SKEW:
            raise Rejected(f"X-Amz-Date {amz_date} is more than 15 minutes from the server's time")
    else:
        try:
            expires = int(expires_text)
        except ValueError:
            raise Rejected(f"X-Amz-Expires {expires_text!r} is not a number") from None
        if not 1 <= expires <= signing.MAX_EXPIRES:
            raise Rejected(f"X-Amz-Expires {expires} is outside 1..{signing.MAX_EXPIRES}")
        if not signed_at - MAX_CLOCK_SKEW <= rules.now <= signed_at + timedelta(seconds=expires):
            raise Rejected("presigned URL is not valid at the server's time")
    if algorithm == "sigv4a":
        if region_set is None:
            raise Rejected("SigV4A request without X-Amz-Region-Set")
        regions = [r.strip() for r in region_set.split(",")]
        if "*" not in regions and rules.region not in regions:
            raise Rejected(f"region set {region_set!r} does not cover {rules.region!r}")
        if mode == "header" and "x-amz-region-set" not in signed_names:
            raise Rejected("X-Amz-Region-Set is not signed")
    if rules.session_token is not None and token != rules.session_token:
        raise Rejected("session token missing or different")

    # Signed headers must be present, lowercase, sorted, and include host.
    if signed_names != sorted(signed_names) or any(n != n.lower() for n in signed_names):
        raise Rejected(f"SignedHeaders {';'.join(signed_names)!r} is not lowercase and sorted")
    if "host" not in signed_names:
        raise Rejected("host is not a signed header")
    headers = list(signed.headers)
    if _first(signed.headers, "Host") is None:
        headers.append(("Host", host))  # an HTTP/1.1 client sends the URL's authority
    present = {n.lower() for n, _ in headers}
    missing = [n for n in signed_names if n not in present]
    if missing:
        raise Rejected(f"signed header(s) {', '.join(missing)} not in the request")
    _check_amz_headers_signed(headers, signed_names, rules)

    if rules.query_plus_as_space:
        canonical_params = [(k.replace("+", "%20"), v.replace("+", "%20")) for k, v in canonical_params]
    payload_hash = _payload_hash(signed, body, rules, mode)
    creq = cr.canonical_request(
        signed.method,
        _canonical_uri(path, rules),
        cr.canonical_query_string(canonical_params),
        _canonical_headers(headers, signed_names, rules),
        cr.signed_headers(signed_names),
        payload_hash,
    )
    sts = signing.string_to_sign(algorithm, amz_date, scope, creq)
    ok = signing.signature_matches(algorithm, akid, secret, amz_date[:8], rules.region, rules.service, sts, sig)
    rules_name = "spec"
    if not ok:
        return Verification(False, "signature does not match the request as received", creq, sts, rules_name)
    return Verification(True, "", creq, sts, rules_name)


def _http_date_as_amz_date(value: str) -> str:
    """A Date header (ISO 8601 basic, or the HTTP IMF-fixdate) as YYYYMMDDTHHMMSSZ."""
    from email.utils import parsedate_to_datetime

    value = value.strip()
    if len(value) == 16 and value.endswith("Z") and value[8] == "T":
        return value
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise Rejected(f"Date header {value!r} is neither ISO 8601 basic nor an HTTP date") from None
    if when.tzinfo is None:
        raise Rejected(f"Date header {value!r} has no zone")
    return when.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _check_one_auth_mechanism(authorization: str | None, query_names: dict[str, str], rules: ServerRules) -> None:
    """A presigned URL that also carries an Authorization header (of any kind) is rejected:
    S3 answers 'Only one auth mechanism allowed'."""
    presigned = "X-Amz-Signature" in query_names or "X-Amz-Algorithm" in query_names
    if rules.one_auth_mechanism and presigned and authorization is not None:
        raise Rejected("only one auth mechanism allowed: a presigned URL with an Authorization header")


def _check_amz_headers_signed(headers: list[tuple[str, str]], signed_names: list[str], rules: ServerRules) -> None:
    """S3: every x-amz-* header that arrives must be signed (AccessDenied, HeadersNotSigned), but
    x-amz-content-sha256, which S3 tolerates unsigned."""
    if not rules.rejects_unsigned_amz_headers:
        return
    received = {n.lower() for n, _ in headers if n.lower().startswith("x-amz-")}
    unsigned = sorted(received - set(signed_names) - rules.unsigned_amz_headers_tolerated)
    if unsigned:
        raise Rejected(f"there were headers present in the request which were not signed (HeadersNotSigned: {', '.join(unsigned)})")


def _canonical_uri(path: str, rules: ServerRules) -> str:
    """The canonical URI the server computes from the received path."""
    if rules.reencode_path and not rules.double_encode:
        return _s3_reencoded_path(path, rules.encoded_slash_decoded)
    return cr.canonical_uri(path, normalize=rules.normalize_path, double_encode=rules.double_encode,
                            rfc3986_trailing_slash=rules.rfc3986_trailing_slash)


def _s3_reencoded_path(path: str, encoded_slash_decoded: bool) -> str:
    """S3: the received path decoded and URI-encoded once with the SigV4 rules, '/' kept ('/%7E' is
    '/~', '=' is '%3D'). Segment by segment, so '%2F' stays '%2F', unless `encoded_slash_decoded`."""
    if not path:
        return "/"
    if encoded_slash_decoded:
        return uri_encode(uri_decode(path), encode_slash=False)
    return "/".join(uri_encode(uri_decode(segment)) for segment in path.split("/"))


def _canonical_headers(headers: list[tuple[str, str]], signed_names: list[str], rules: ServerRules) -> str:
    """CanonicalHeaders as the server computes them: trimall folds tabs as well as spaces, unless
    the open choice `header-tab-kept` says the server folds spaces only."""
    if rules.header_tabs_folded:
        return cr.canonical_headers(headers, signed_names)
    wanted = set(signed_names)
    values: dict[str, list[str]] = {}
    for name, value in headers:
        if name.lower() in wanted:
            values.setdefault(name.lower(), []).append(_header_value_spaces_folded(value))
    return "".join(f"{name}:{','.join(values.get(name, []))}\n" for name in sorted(wanted))


def _header_value_spaces_folded(value: str) -> str:
    """A header value with its ends trimmed (spaces and tabs, as HTTP parsing does) and runs of
    spaces folded to one; tabs inside stay."""
    return _SPACE_RUN.sub(" ", value.strip(" \t"))


def _payload_hash(signed: SignedRequest, body: bytes, rules: ServerRules, mode: str) -> str:
    """The payload hash from what is received, not from how the request was meant to be signed:
    x-amz-content-sha256 when present (checked against the body unless UNSIGNED-PAYLOAD or
    STREAMING-*); without it, S3 header auth is rejected, an S3 presigned URL means
    UNSIGNED-PAYLOAD, and other services hash the body they received."""
    declared = _first(signed.headers, "X-Amz-Content-Sha256")
    actual = hashlib.sha256(body).hexdigest()
    if declared is not None:
        declared = declared.strip()
        if declared not in (actual, cr.UNSIGNED_PAYLOAD) and not declared.startswith("STREAMING-"):
            raise Rejected("X-Amz-Content-Sha256 does not match the body")
        return declared
    if rules.requires_content_sha256_header and mode == "header":
        raise Rejected(f"{rules.service} requires X-Amz-Content-Sha256")
    if mode == "query" and rules.received_payload == PayloadKind.UNSIGNED:
        return cr.UNSIGNED_PAYLOAD
    return actual


def verify_with_choices(signed: SignedRequest, body: bytes, rules: ServerRules, choices: tuple[str, ...]) -> Verification:
    """Verify under the spec rules, then under each open choice the case names; the first that
    accepts wins (its name is in `rules`)."""
    return first_accepting(lambda received, r: verify(received[0], received[1], r), (signed, body), rules, choices)
