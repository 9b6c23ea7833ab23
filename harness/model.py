"""The data the harness passes around: requests, signing contexts, cases and checks."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import cached_property
from typing import Any

from harness.services import profile
from harness.settings import ALGORITHMS, MODES, PAYLOADS, SINGLE, TOKEN_PLACEMENTS, PayloadKind, SessionTokenPlacement

__all__ = ["ALGORITHMS", "MODES", "PAYLOADS", "SINGLE", "TOKEN_PLACEMENTS", "Request", "Context", "Case", "Check", "ServerSide", "SignedRequest"]

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Request:
    """An HTTP request as it would be on the wire: raw path and query, byte for byte."""

    method: str
    scheme: str
    host: str
    path: str
    query: str
    headers: Headers
    body: bytes = b""

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{self.path}" + (f"?{self.query}" if self.query else "")

    def header_values(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for n, v in self.headers if n.lower() == lname]

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "scheme": self.scheme,
            "host": self.host,
            "path": self.path,
            "query": self.query,
            "url": self.url,
            "headers": [list(h) for h in self.headers],
            "body_b64": base64.b64encode(self.body).decode("ascii"),
        }


@dataclass(frozen=True)
class Context:
    """Everything a signer needs besides the request, fully resolved (no defaults left)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None
    region: str
    region_set: tuple[str, ...]
    service: str
    timestamp: datetime
    algorithm: str = "sigv4"
    expires: int = 3600
    payload: str = PayloadKind.AUTO  # a PayloadKind; AUTO is resolved per service and mode (harness/services.py)
    content_sha256_header: bool = False
    session_token_placement: str = SessionTokenPlacement.SIGNED
    normalize_path: bool = True
    double_encode: bool = True

    @property
    def amz_date(self) -> str:
        return self.timestamp.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")

    @property
    def date_stamp(self) -> str:
        return self.amz_date[:8]

    @property
    def token_signed(self) -> bool:
        """A session token that is part of what is signed (not added after signing)."""
        return bool(self.session_token) and self.session_token_placement == SessionTokenPlacement.SIGNED

    def to_json(self) -> dict[str, Any]:
        return {
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "session_token": self.session_token,
            "region": self.region,
            "region_set": list(self.region_set),
            "service": self.service,
            "timestamp": self.timestamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "expires": self.expires,
            "payload": str(PayloadKind(self.payload).value),
            "content_sha256_header": self.content_sha256_header,
            "session_token_placement": str(SessionTokenPlacement(self.session_token_placement).value),
            "normalize_path": self.normalize_path,
            "double_encode": self.double_encode,
        }


@dataclass(frozen=True)
class Source:
    """Where a case came from, for error messages and the report."""

    file: str
    line: int = 1


@dataclass(frozen=True)
class ServerSide:
    """A surface case's receiving side (POST: S3; tokens: the database or cluster): its clock, its
    settings (bucket, endpoint, user, admin, cluster_id, sts_hosts; default: what the case asks
    for) and what it decides about a correct generator's form or token."""

    at: datetime
    verdict: str  # accept | reject
    reason: str = ""  # a substring of the rejection reason
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    request: Request
    context: Context
    modes: tuple[str, ...] = MODES
    tags: tuple[str, ...] = ()
    flags: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, dict[str, str]] = field(default_factory=dict)  # mode -> stage -> text
    expect_error: str | None = None
    source: Source = Source("<memory>")
    origin: str = "cases"  # the case source name: "cases", "aws-c-auth", ...
    surface: str = SINGLE  # single | post-policy | rds | dsql | eks (harness/reference SURFACES)
    # Surface cases only (harness/cases/surfaces.py): what the generator is asked for (a
    # reference PostPolicy or TokenRequest), the same as JSON for adapters, and the server.
    subject: Any = None
    subject_json: dict[str, Any] = field(default_factory=dict)
    server: ServerSide | None = None
    upload: dict[str, Any] = field(default_factory=dict)  # post-policy: the browser's file and a published form

    @property
    def open_choices(self) -> tuple[str, ...]:
        return tuple(self.flags.get("open_choices", ()) or ())


@dataclass(frozen=True)
class Check:
    """One case in one mode: the unit an adapter signs and the harness judges."""

    case: Case
    mode: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.case.id, self.mode)

    @property
    def surface(self) -> str:
        return self.case.surface

    @cached_property
    def context(self) -> Context:
        """The case's context with the mode-dependent defaults resolved (once per check: it is read several
        times for every adapter's row)."""
        ctx = self.case.context
        if ctx.payload == PayloadKind.AUTO:
            ctx = replace(ctx, payload=profile(ctx.service).payload(ctx.payload, self.mode))
        return ctx

    def to_json(self) -> dict[str, Any]:
        data = {
            "case": self.case.id,
            "mode": self.mode,
            "algorithm": self.case.context.algorithm,
            "request": self.case.request.to_json(),
            "context": self.context.to_json(),
        }
        if self.case.surface != SINGLE:  # single-shot checks stay as they were
            data["surface"] = self.case.surface
            data.update(self.case.subject_json)  # {"post": {...}} or {"token": {...}}
        return data


def parse_timestamp(text: str) -> datetime:
    """ISO 8601 with a zone ('Z' or +00:00), or the compact SigV4 form 20150830T123600Z."""
    text = text.strip()
    if len(text) == 16 and text[8] == "T" and text.endswith("Z"):
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone; add 'Z' for UTC")
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class SignedRequest:
    """A request as a signer would send it (what adapters return and the verifier receives)."""

    method: str
    url: str
    headers: Headers
    body: bytes | None = None  # None: unchanged from the case's request

    def parts(self) -> tuple[str, str, str, str]:
        """(scheme, host, raw path, raw query) of the URL, byte for byte."""
        return split_url(self.url)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": [list(h) for h in self.headers],
            "body_b64": None if self.body is None else base64.b64encode(self.body).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SignedRequest":
        body = data.get("body_b64")
        return cls(
            method=str(data["method"]),
            url=str(data["url"]),
            headers=tuple((str(n), str(v)) for n, v in data.get("headers") or ()),
            body=None if body is None else base64.b64decode(body),
        )


def split_url(url: str) -> tuple[str, str, str, str]:
    """Split 'scheme://host/path?query' without decoding or normalizing anything."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    cut = len(rest)
    for mark in "/?":
        pos = rest.find(mark)
        if pos != -1:
            cut = min(cut, pos)
    host, rest = rest[:cut], rest[cut:]
    path, _, query = rest.partition("?")
    return scheme, host, path or "/", query
