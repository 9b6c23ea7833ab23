"""Cases for the presigned POST and IAM token surfaces (`surface: post-policy | rds | dsql | eks`).

The main case loader (yamlfile.build_case) hands a mapping with `surface:` here; the format is
`$defs/surface_case` of case.schema.json, described in docs/cases.md. Every problem is one
CaseError, `FILE:LINE: what is wrong`. The bridges at the end turn a case and a library's form or
token into what the verifiers take (harness/verify/post_policy.py, tokens.py).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jsonschema

from harness.cases.errors import CaseError
from harness.cases.schema import _schema_check, schema
from harness.model import Case, Context, Request, ServerSide, Source, parse_timestamp
from harness.reference.post_policy import EXPIRATION_FORMAT, PostPolicy
from harness.reference.tokens import SURFACES as TOKEN_KINDS
from harness.reference.tokens import TokenRequest, presign_request
from harness.verify.post_policy import OPEN_CHOICES as POST_CHOICES
from harness.verify.post_policy import PostServerRules, Upload, parse_condition
from harness.verify.single import Rejected
from harness.verify.tokens import OPEN_CHOICES as TOKEN_CHOICES
from harness.verify.tokens import TokenServerRules

POST_POLICY = "post-policy"
SURFACE_NAMES = (POST_POLICY, *TOKEN_KINDS)  # post-policy, rds, dsql, eks
# The one check mode of each surface: a browser form, or a token.
FORM_MODE, TOKEN_MODE = "form", "token"
DEFAULT_POST_EXPIRES = 3600  # botocore generate_presigned_post ExpiresIn default


def mode_of(surface: str) -> str:
    return FORM_MODE if surface == POST_POLICY else TOKEN_MODE


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    full = schema()
    sub = {"$ref": "#/$defs/surface_case", "$defs": full["$defs"]}
    return jsonschema.validators.validator_for(full)(sub)


def _timestamp(text: str, where: tuple, base: tuple, lines: Any, file: str) -> datetime:
    try:
        return parse_timestamp(str(text))
    except (ValueError, OverflowError) as exc:
        raise CaseError(file, lines.line(base + where), f"{'.'.join(where)}: {exc}") from None


def _check_block(data: dict[str, Any], base: tuple, lines: Any, file: str) -> None:
    """post-policy takes a `post:` block, the token surfaces a `token:` block."""
    surface = data.get("surface")
    if surface not in SURFACE_NAMES:
        return  # the schema names the known surfaces
    wanted, other = ("post", "token") if surface == POST_POLICY else ("token", "post")
    if other in data:
        raise CaseError(file, lines.line(base + (other,), key=True), f"surface {surface!r} takes a {wanted}: block, not {other}:")
    if wanted not in data:
        raise CaseError(file, lines.line(base + ("surface",)), f"surface {surface!r} needs a {wanted}: block")


def _post(data: dict[str, Any], timestamp: datetime, at: Any, file: str) -> tuple[PostPolicy, Request, dict[str, Any]]:
    post, ctx = data["post"], data["context"]
    creds = ctx["credentials"]
    if "policy_base64" in post:
        try:
            base64.b64decode(post["policy_base64"], validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise CaseError(file, at("post", "policy_base64"), f"post.policy_base64 is not base64 of UTF-8 text: {exc}") from None
    for i, condition in enumerate(post.get("conditions", [])):
        try:
            parse_condition(condition)
        except Rejected as exc:
            raise CaseError(file, at("post", "conditions", i), f"post.conditions[{i}]: {exc}") from None
    expires = ctx.get("expires", DEFAULT_POST_EXPIRES)
    context = Context(
        access_key_id=creds["access_key_id"],
        secret_access_key=creds["secret_access_key"],
        session_token=creds.get("session_token"),
        region=ctx["region"],
        region_set=(ctx["region"],),
        service="s3",
        timestamp=timestamp,
        expires=expires,
    )
    subject = PostPolicy(
        bucket=post["bucket"],
        key=post["key"],
        context=context,
        conditions=list(post.get("conditions", [])),
        fields=[(n, v) for n, v in post.get("fields", [])],
        expiration=post.get("expiration"),
        policy_base64=post.get("policy_base64"),
    )
    # The form is posted to the bucket's virtual-hosted endpoint (what generate_presigned_post returns).
    host = f"{post['bucket']}.s3.{ctx['region']}.amazonaws.com"
    request = Request("POST", "https", host, "/", "", (("Host", host),))
    expiration = post.get("expiration") or (timestamp + timedelta(seconds=expires)).strftime(EXPIRATION_FORMAT)
    as_json = {
        "bucket": subject.bucket,
        "key": subject.key,
        "conditions": subject.conditions,
        "fields": [list(f) for f in subject.fields],
        "expires": expires,  # seconds from the signing time to the policy's expiration
        "expiration": expiration,
        "url": request.url,
    }
    return subject, request, {"post": as_json}


def _token(data: dict[str, Any], surface: str, timestamp: datetime, at: Any, file: str) -> tuple[TokenRequest, Request, Context, dict[str, Any]]:
    token, ctx = data["token"], data["context"]
    creds = ctx["credentials"]
    if TOKEN_KINDS[surface].needs_port and "port" not in token:
        raise CaseError(file, at("token"), f"a {surface} token needs token.port")
    if surface == "rds" and "user" not in token:
        raise CaseError(file, at("token"), "an rds token needs token.user")
    if surface == "eks" and "cluster_id" not in token:
        raise CaseError(file, at("token"), "an eks token needs token.cluster_id")
    if surface != "dsql" and "action" in token:
        raise CaseError(file, at("token", "action"), f"token.action is for dsql tokens, not {surface}")
    subject = TokenRequest(
        kind=surface,
        host=token["host"],
        access_key_id=creds["access_key_id"],
        secret_access_key=creds["secret_access_key"],
        region=ctx["region"],
        timestamp=timestamp,
        session_token=creds.get("session_token"),
        port=token.get("port"),
        user=token.get("user"),
        action=token.get("action", "DbConnect"),
        cluster_id=token.get("cluster_id"),
        expires=token.get("expires"),
    )
    request, context = presign_request(subject)
    as_json = {
        "kind": surface,
        "host": subject.host,
        "port": subject.port,
        "user": subject.user,
        "action": subject.action if surface == "dsql" else None,
        "cluster_id": subject.cluster_id,
        "expires": context.expires,  # resolved: the surface's default unless the case gives one
    }
    return subject, request, context, {"token": as_json}


def build_surface_case(data: dict[str, Any], base: tuple, lines: Any, file: str, origin: str = "cases") -> Case:
    """Validate one surface case mapping and build its Case (one check, mode `form` or `token`)."""
    _check_block(data, base, lines, file)
    _schema_check(data, base, lines, file, _validator())
    at = lambda *p: lines.line(base + p)  # noqa: E731
    surface = data["surface"]
    timestamp = _timestamp(data["context"]["timestamp"], ("context", "timestamp"), base, lines, file)
    if surface == POST_POLICY:
        subject, request, subject_json = _post(data, timestamp, at, file)
        context = subject.context
    else:
        subject, request, context, subject_json = _token(data, surface, timestamp, at, file)
    flags = dict(data.get("flags", {}))
    known = POST_CHOICES if surface == POST_POLICY else TOKEN_CHOICES
    for i, choice in enumerate(flags.get("open_choices", ())):
        if choice not in known:
            raise CaseError(file, at("flags", "open_choices", i), f"open choice {choice!r} is not one for {surface} (known: {', '.join(known)})")
    s = data.get("server", {})
    server = ServerSide(
        at=_timestamp(s["at"], ("server", "at"), base, lines, file) if "at" in s else timestamp,
        verdict=s.get("verdict", "accept"),
        reason=s.get("reason", ""),
        settings={k: v for k, v in s.items() if k not in ("at", "verdict", "reason")},
    )
    expect = {k: v for k, v in data.get("expect", {}).items() if k != "provenance"}
    if "provenance" in data.get("expect", {}):
        flags["provenance"] = data["expect"]["provenance"]
    mode = mode_of(surface)
    return Case(
        id=data["id"],
        title=data["title"],
        request=request,
        context=context,
        modes=(mode,),
        tags=tuple(data.get("tags", ())),
        flags=flags,
        expect={mode: expect} if expect else {},
        source=Source(file, lines.line(base)),
        origin=origin,
        surface=surface,
        subject=subject,
        subject_json=subject_json,
        server=server,
        upload=dict(data.get("upload", {})),
    )


# From a case and a library's answer to what the verifiers take.


def post_upload(case: Case, form: list[tuple[str, str]] | None = None) -> Upload:
    """The browser's POST: the generator's `form` fields (default: the case's published
    upload.fields), then the file (upload.filename, upload.size)."""
    fields = form if form is not None else [(n, v) for n, v in case.upload.get("fields", [])]
    return Upload(list(fields), filename=case.upload.get("filename", "upload.bin"), size=case.upload.get("size", 0))


def post_rules(case: Case) -> PostServerRules:
    """The S3 endpoint the form is posted to: the case's credentials, region and bucket."""
    post = case.subject
    assert isinstance(post, PostPolicy) and case.server is not None
    ctx = post.context
    return PostServerRules(
        credentials={ctx.access_key_id: ctx.secret_access_key},
        region=ctx.region,
        bucket=case.server.settings.get("bucket", post.bucket),
        now=case.server.at,
        session_token=ctx.session_token,
    )


def token_rules(case: Case) -> TokenServerRules:
    """The database or cluster receiving the token: by default the endpoint, user, action and
    cluster the token was made for."""
    t = case.subject
    assert isinstance(t, TokenRequest) and case.server is not None
    s = case.server.settings
    return TokenServerRules(
        kind=t.kind,
        credentials={t.access_key_id: t.secret_access_key},
        region=t.region,
        now=case.server.at,
        endpoint=s.get("endpoint", t.authority),
        user=s.get("user", t.user),
        admin=s.get("admin", t.action == "DbConnectAdmin"),
        cluster_id=s.get("cluster_id", t.cluster_id),
        sts_hosts=tuple(s.get("sts_hosts", [t.host])),
        session_token=t.session_token,
    )


def expected_verdict(case: Case) -> tuple[str, str]:
    """(accept | reject, reason substring) the server should decide for a correct generator's
    form or token. A case that pins a published form (upload.fields) states the verdict for that
    form; a generator's own form is then expected to be accepted."""
    assert case.server is not None
    if case.upload.get("fields"):
        return "accept", ""
    return case.server.verdict, case.server.reason
