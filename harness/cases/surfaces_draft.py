"""Draft cases for the presigned POST and IAM token surfaces (issue 16, part 1 proposal).

The format is in docs/post-policy-and-tokens.md and surfaces_draft.schema.json. Files live under
surfaces/ (not cases/, whose loader reads every YAML file as a request case). Every problem is one
CaseError, `FILE:LINE: what is wrong`; YAML parsing and line numbers are yamlfile's.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from harness.cases import yamlfile
from harness.cases.errors import CaseError
from harness.model import Context, Source, parse_timestamp
from harness.reference.post_policy import PostPolicy
from harness.reference.tokens import SURFACES, TokenRequest
from harness.verify.post_policy import OPEN_CHOICES as POST_CHOICES
from harness.verify.post_policy import PostServerRules, Upload, parse_condition
from harness.verify.single import Rejected
from harness.verify.tokens import OPEN_CHOICES as TOKEN_CHOICES
from harness.verify.tokens import TokenServerRules


@dataclass(frozen=True)
class ServerSide:
    """How the receiving side is set up for the verifier, and what it should decide."""

    at: datetime
    verdict: str  # accept | reject
    reason: str = ""  # a substring of the rejection reason
    settings: dict[str, Any] = field(default_factory=dict)  # bucket, endpoint, user, admin, cluster_id, sts_hosts
    open_choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class SurfaceCase:
    id: str
    title: str
    surface: str  # post-policy | rds | dsql | eks
    subject: PostPolicy | TokenRequest
    expect: dict[str, str]
    source: Source
    refs: tuple[str, ...] = ()
    note: str = ""
    upload: dict[str, Any] = field(default_factory=dict)
    server: ServerSide | None = None


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    text = resources.files("harness.cases").joinpath("surfaces_draft.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    return jsonschema.validators.validator_for(schema)(schema)


def _schema_check(data: dict[str, Any], base: tuple, lines: Any, file: str) -> None:
    yamlfile._schema_check(data, base, lines, file, _validator())


def _timestamp(text: str, where: tuple, base: tuple, lines: Any, file: str) -> datetime:
    try:
        return parse_timestamp(str(text))
    except ValueError as exc:
        raise CaseError(file, lines.line(base + where), f"{'.'.join(where)}: {exc}") from None


def _check_block(data: dict[str, Any], base: tuple, lines: Any, file: str) -> None:
    """post-policy takes a `post:` block, the token surfaces a `token:` block."""
    surface = data.get("surface")
    if surface not in ("post-policy", "rds", "dsql", "eks"):
        return  # the schema names the known surfaces
    wanted, other = ("post", "token") if surface == "post-policy" else ("token", "post")
    if other in data:
        raise CaseError(file, lines.line(base + (other,), key=True), f"surface {surface!r} takes a {wanted}: block, not {other}:")
    if wanted not in data:
        raise CaseError(file, lines.line(base + ("surface",)), f"surface {surface!r} needs a {wanted}: block")


def build_surface_case(data: dict[str, Any], base: tuple, lines: Any, file: str) -> SurfaceCase:
    _check_block(data, base, lines, file)
    _schema_check(data, base, lines, file)
    at = lambda *p: lines.line(base + p)  # noqa: E731
    ctx = data["context"]
    creds = ctx["credentials"]
    timestamp = _timestamp(ctx["timestamp"], ("context", "timestamp"), base, lines, file)
    surface = data["surface"]
    subject: PostPolicy | TokenRequest
    if surface == "post-policy":
        post = data["post"]
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
        context = Context(
            access_key_id=creds["access_key_id"],
            secret_access_key=creds["secret_access_key"],
            session_token=creds.get("session_token"),
            region=ctx["region"],
            region_set=(ctx["region"],),
            service="s3",
            timestamp=timestamp,
            expires=ctx.get("expires", 3600),
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
    else:
        token = data["token"]
        if SURFACES[surface].needs_port and "port" not in token:
            raise CaseError(file, at("token"), f"a {surface} token needs token.port")
        if surface == "rds" and "user" not in token:
            raise CaseError(file, at("token"), "an rds token needs token.user")
        if surface == "eks" and "cluster_id" not in token:
            raise CaseError(file, at("token"), "an eks token needs token.cluster_id")
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
    server = None
    if "server" in data:
        s = data["server"]
        known = POST_CHOICES if surface == "post-policy" else TOKEN_CHOICES
        for i, choice in enumerate(s.get("open_choices", ())):
            if choice not in known:
                raise CaseError(file, at("server", "open_choices", i), f"unknown open choice {choice!r} for {surface} (known: {', '.join(known)})")
        settings = {k: v for k, v in s.items() if k not in ("at", "verdict", "reason", "open_choices")}
        server = ServerSide(
            at=_timestamp(s["at"], ("server", "at"), base, lines, file),
            verdict=s["verdict"],
            reason=s.get("reason", ""),
            settings=settings,
            open_choices=tuple(s.get("open_choices", ())),
        )
    return SurfaceCase(
        id=data["id"],
        title=data["title"],
        surface=surface,
        subject=subject,
        expect=dict(data.get("expect", {})),
        source=Source(file, lines.line(base)),
        refs=tuple(data.get("refs", ())),
        note=data.get("note", ""),
        upload=dict(data.get("upload", {})),
        server=server,
    )


def load_surface_file(path: Path) -> list[SurfaceCase]:
    """All cases of one draft file, or one CaseError."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseError(file, 1, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise CaseError(file, 1, f"not UTF-8 text: {exc}") from None
    docs, lines = yamlfile.parse_yaml(text, file)
    return [build_surface_case(data, base, lines, file) for data, base in docs]


def load_surface_cases(root: Path) -> tuple[list[SurfaceCase], list[CaseError]]:
    """Every draft case under `root`; a bad file adds one error, the others still load. Ids are unique."""
    cases: list[SurfaceCase] = []
    errors: list[CaseError] = []
    seen: dict[str, SurfaceCase] = {}
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()):
        try:
            loaded = load_surface_file(path)
        except CaseError as exc:
            errors.append(exc)
            continue
        for case in loaded:
            first = seen.get(case.id)
            if first is not None:
                errors.append(CaseError(case.source.file, case.source.line, f"duplicate id {case.id!r} (first at {first.source.file}:{first.source.line})"))
                continue
            seen[case.id] = case
            cases.append(case)
    return cases, errors


# From a draft case to what the verifiers take (the runner integration will build on these).


def post_upload(case: SurfaceCase, form: list[tuple[str, str]]) -> Upload:
    """The browser's POST: the case's upload.fields, else `form` (the generator's fields)."""
    fields = [(n, v) for n, v in case.upload.get("fields", form)]
    return Upload(fields, filename=case.upload.get("filename", "upload.bin"), size=case.upload.get("size", 0))


def post_rules(case: SurfaceCase) -> PostServerRules:
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


def token_rules(case: SurfaceCase) -> TokenServerRules:
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
