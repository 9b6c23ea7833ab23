"""Shared plumbing for the Python adapters (protocol values, check parsing, outcomes).

Nothing in here computes any part of a signature: it only turns a check into the plain values an
adapter hands to its library, and turns the library's outcome into a protocol answer.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import time
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Iterator


class Unsupported(Exception):
    """The library cannot express this check (answer `unsupported` with the message)."""


class Rejected(Exception):
    """The library refused the input while signing (answer `rejected` with its message)."""


@contextmanager
def library_call() -> Iterator[None]:
    """Mark a block as "inside the library": any exception raised there is the library's answer."""
    try:
        yield
    except (Unsupported, Rejected):
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the library raises is its verdict
        raise Rejected(describe(exc)) from exc


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Stopwatch:
    """Accumulates nanoseconds spent inside library calls."""

    def __init__(self) -> None:
        self.elapsed_ns = 0

    @contextmanager
    def running(self) -> Iterator[None]:
        start = time.perf_counter_ns()
        try:
            yield
        finally:
            self.elapsed_ns += time.perf_counter_ns() - start


@dataclass(frozen=True)
class Check:
    """One check of the protocol, with the request decoded into plain Python values."""

    raw: dict
    case: str
    mode: str  # "header" | "query"
    algorithm: str  # "sigv4" | "sigv4a"
    method: str
    scheme: str
    host: str
    path: str
    query: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    access_key_id: str
    secret_access_key: str
    session_token: str | None
    region: str
    region_set: tuple[str, ...]
    service: str
    timestamp: _dt.datetime  # aware, UTC
    expires: int | None
    payload: str  # "body" | "empty" | "unsigned"
    content_sha256_header: bool
    session_token_placement: str  # "signed" | "after"
    normalize_path: bool
    double_encode: bool

    @classmethod
    def parse(cls, check: dict) -> "Check":
        req = check["request"]
        ctx = check["context"]
        region = ctx["region"]
        region_set = ctx.get("region_set") or [region]
        return cls(
            raw=check,
            case=check.get("case", ""),
            mode=check["mode"],
            algorithm=check.get("algorithm", "sigv4"),
            method=req["method"],
            scheme=req.get("scheme", "https"),
            host=req["host"],
            path=req["path"],
            query=req.get("query", ""),
            url=req["url"],
            headers=tuple((str(n), str(v)) for n, v in req.get("headers", [])),
            body=base64.b64decode(req.get("body_b64") or ""),
            access_key_id=ctx["access_key_id"],
            secret_access_key=ctx["secret_access_key"],
            session_token=ctx.get("session_token") or None,
            region=region,
            region_set=tuple(region_set),
            service=ctx["service"],
            timestamp=parse_timestamp(ctx["timestamp"]),
            expires=ctx.get("expires"),
            payload=ctx.get("payload", "body"),
            content_sha256_header=bool(ctx.get("content_sha256_header", False)),
            session_token_placement=ctx.get("session_token_placement", "signed"),
            normalize_path=bool(ctx.get("normalize_path", True)),
            double_encode=bool(ctx.get("double_encode", True)),
        )

    # --- small views -------------------------------------------------------------------------
    @property
    def amz_date(self) -> str:
        """The check's timestamp in the X-Amz-Date format (input for a library's own date option)."""
        return self.timestamp.strftime("%Y%m%dT%H%M%SZ")

    @property
    def date_stamp(self) -> str:
        return self.timestamp.strftime("%Y%m%d")

    @property
    def naive_utc(self) -> _dt.datetime:
        return self.timestamp.replace(tzinfo=None)

    def header_names_lower(self) -> list[str]:
        return [n.lower() for n, _ in self.headers]

    def has_header(self, name: str) -> bool:
        return name.lower() in self.header_names_lower()

    def has_duplicate_header_names(self) -> bool:
        names = self.header_names_lower()
        return len(names) != len(set(names))


def parse_timestamp(text: str) -> _dt.datetime:
    value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc)


def service_standard_path_rules(service: str) -> tuple[bool, bool]:
    """(normalize_path, double_encode) that the AWS spec prescribes for a service."""
    return (False, False) if service == "s3" else (True, True)


def require_path_rules(check: Check, library_rules: tuple[bool, bool], who: str) -> None:
    """Decide whether a library with fixed path rules can take this check.

    * the check asks for what the library does: sign;
    * the check asks for the service's standard rules: sign anyway -- the library is expected to
      implement the standard for that service, and where it does not, the verdict must show it;
    * the check pins non-standard rules the library has no option for: unsupported.
    """
    wanted = (check.normalize_path, check.double_encode)
    if wanted == library_rules or wanted == service_standard_path_rules(check.service):
        return
    have_n, have_d = library_rules
    raise Unsupported(
        f"{who} cannot be configured to normalize_path={check.normalize_path}, "
        f"double_encode={check.double_encode} for service {check.service!r} "
        f"(it always uses normalize_path={have_n}, double_encode={have_d})"
    )


def require_token_signed_in_presign(check: Check, who: str) -> None:
    """Presigning with `session_token_placement: after` needs a library option to leave the token
    out of the signed query; without one the URL is not the one the check asks for (a server that
    takes the token after signing recomputes the query without it), so: unsupported.

    In header mode a library that signs the token just lists one more signed header, which a
    server accepts; those checks are signed and the verdict shows the difference."""
    if check.mode == "query" and check.session_token and check.session_token_placement == "after":
        raise Unsupported(f"{who} has no option to add the session token after signing: "
                          "a presigned URL always carries a signed X-Amz-Security-Token")


def dist_version(dist: str) -> str:
    return metadata.version(dist)


def b64_or_none(original: bytes, sent: Any) -> str | None:
    """`body_b64` of a signed answer: null when the body the library would send is unchanged."""
    if sent is None:
        sent_bytes = b""
    elif isinstance(sent, str):
        sent_bytes = sent.encode("utf-8")
    elif isinstance(sent, (bytes, bytearray)):
        sent_bytes = bytes(sent)
    elif hasattr(sent, "getvalue"):
        sent_bytes = sent.getvalue()
    else:
        sent_bytes = bytes(sent)
    if sent_bytes == original:
        return None
    return base64.b64encode(sent_bytes).decode("ascii")


# --- the bench floor: the bare SigV4 HMAC-SHA256 chain ------------------------------------------
_FLOOR_SECRET = b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
_FLOOR_STS = (
    b"AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
    b"bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
)


def hmac_sha256_chain(iterations: int) -> int:
    """Four HMACs for the signing key, one for the signature; returns elapsed nanoseconds."""
    new = hmac.new
    sha256 = hashlib.sha256
    start = time.perf_counter_ns()
    for _ in range(iterations):
        k = new(_FLOOR_SECRET, b"20150830", sha256).digest()
        k = new(k, b"us-east-1", sha256).digest()
        k = new(k, b"service", sha256).digest()
        k = new(k, b"aws4_request", sha256).digest()
        new(k, _FLOOR_STS, sha256).hexdigest()
    return time.perf_counter_ns() - start


def pin_module_clock(module, now) -> None:
    """Fix the clock a library module reads, for libraries that call ``datetime.datetime.utcnow()``
    (or ``now()``) directly: the module's ``datetime`` name is replaced by a copy of the datetime
    module whose ``datetime`` class answers ``now()``/``utcnow()`` with ``now()`` of the adapter (an
    aware UTC datetime). Only the clock changes; every other attribute is the real one. Used for
    aws-requests-auth and for botocore before 1.36, which had no ``get_current_datetime`` hook."""
    import types

    class _PinnedDatetime(_dt.datetime):
        @classmethod
        def utcnow(cls):  # naive UTC, as the real utcnow()
            return now().astimezone(_dt.timezone.utc).replace(tzinfo=None)

        @classmethod
        def now(cls, tz=None):
            value = now()
            return value.astimezone(tz) if tz is not None else value.astimezone(_dt.timezone.utc).replace(tzinfo=None)

    shim = types.ModuleType("datetime")
    shim.__dict__.update({k: v for k, v in vars(_dt).items() if not k.startswith("__")})
    shim.datetime = _PinnedDatetime
    module.datetime = shim


class FixedClock:
    """The check's signing time, for a library that reads the clock itself. Set ``now`` before each
    signing; `install` points a library module at it."""

    def __init__(self) -> None:
        self.now: _dt.datetime | None = None  # aware UTC

    def aware(self) -> _dt.datetime:
        if self.now is None:
            raise RuntimeError("signing time not set by the adapter")
        return self.now

    def current_datetime(self, remove_tzinfo: bool = True) -> _dt.datetime:
        """botocore's ``get_current_datetime(remove_tzinfo=True)`` contract."""
        return self.aware().replace(tzinfo=None) if remove_tzinfo else self.aware()

    def install(self, module, hook: str | None = None) -> None:
        """Use the module's own clock hook when it has one, else pin the module's ``datetime``."""
        if hook and hasattr(module, hook):
            setattr(module, hook, self.current_datetime)
        else:
            pin_module_clock(module, self.aware)


def signed_from_prepared(check: "Check", prepared: Any) -> dict:
    """The `signed` part of an answer from a prepared request (requests or botocore), as it would be sent."""
    return {
        "method": prepared.method,
        "url": prepared.url,
        "headers": [[k, v] for k, v in prepared.headers.items()],
        "body_b64": b64_or_none(check.body, prepared.body),
    }
