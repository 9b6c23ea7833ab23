"""The adapter protocol, declared once: the messages the harness sends, the answers it accepts (typed,
validated against harness/protocol.schema.json) and what an adapter's capabilities mean.

An adapter is a long-lived process speaking JSON lines (docs/adapter-protocol.md). Its name comes
from its manifest only: the harness says it in `hello`, and the adapter echoes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from harness.settings import ALGORITHMS, MODES, SINGLE

if TYPE_CHECKING:
    import jsonschema

    from harness.model import Check

VERSION = 1
# The statuses of a `result` answer, and what each means for the verdict (harness/compare.py).
SIGNED, UNSUPPORTED, REJECTED, ERROR = "signed", "unsupported", "rejected", "error"
RESULT_STATUSES = (SIGNED, UNSUPPORTED, REJECTED, ERROR)


class ProtocolError(ValueError):
    """An answer that is not what the protocol allows (the check becomes `error`)."""


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(resources.files("harness").joinpath("protocol.schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _validator(definition: str) -> "jsonschema.protocols.Validator":
    import jsonschema  # here: reading results (the report) needs the protocol's names, not its validator

    full = schema()
    sub = {"$ref": f"#/$defs/{definition}", "$defs": full["$defs"]}
    return jsonschema.validators.validator_for(full)(sub)


def validate(definition: str, message: Any) -> None:
    """Raise ProtocolError naming the first problem when `message` is not a valid `definition`."""
    import jsonschema

    error = jsonschema.exceptions.best_match(_validator(definition).iter_errors(message))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the message"
        raise ProtocolError(f"{where}: {error.message[:300]}")


def _text_or_null(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _plainly_sent(answer: dict[str, Any]) -> bool:
    """Whether `answer` is the common answer to `send` -- signed, a request, what the client did --
    and valid by the schema's `result_answer` (checked by hand: the schema's validator costs about
    0.4 ms per answer, one per request sent). False sends it to the schema, which names the problem."""
    if (answer.get("type") != "result" or answer.get("status") != SIGNED or not isinstance(answer.get("id"), str)
            or not _PLAIN_KEYS.issuperset(answer)):
        return False
    signed, sent = answer.get("signed"), answer.get("sent")
    if not (isinstance(signed, dict) and isinstance(signed.get("method"), str) and isinstance(signed.get("url"), str)
            and _text_or_null(signed.get("body_b64"))):
        return False
    headers = signed.get("headers")
    if not isinstance(headers, list) or not all(
            isinstance(h, list) and len(h) == 2 and isinstance(h[0], str) and isinstance(h[1], str) for h in headers):
        return False
    if not all(_text_or_null(answer.get(key)) for key in ("reason", "canonical_request", "string_to_sign")):
        return False
    if answer.get("elapsed_ns") is not None and not _whole(answer["elapsed_ns"]):
        return False
    if "sent" not in answer:
        return True
    if not isinstance(sent, dict) or not isinstance(sent.get("client"), str) or not _text_or_null(sent.get("received")):
        return False
    if "status" in sent:
        return "error" not in sent and _whole(sent["status"])
    return isinstance(sent.get("error"), str)


_PLAIN_KEYS = frozenset({"type", "id", "status", "reason", "signed", "canonical_request", "string_to_sign",
                         "elapsed_ns", "sent"})


def validate_result_answer(answer: Any) -> None:
    """`validate("result_answer", answer)`, quicker for the common answer to `send`."""
    if not (isinstance(answer, dict) and _plainly_sent(answer)):
        validate("result_answer", answer)


# -- what the harness sends ------------------------------------------------------------------------
def hello(adapter: str) -> dict[str, Any]:
    return {"type": "hello", "protocol": VERSION, "adapter": adapter}


def sign(check: Check) -> dict[str, Any]:
    return {"type": "sign", "check": check.to_json()}


def send(check: Check, client: str, scheme: str = "http") -> dict[str, Any]:
    """Sign `check` as for `sign`, then send it with `client` to the signed URL with `scheme` (docs/wire.md)."""
    return {"type": "send", "check": check.to_json(), "client": client, "scheme": scheme}


def bench_floor(iterations: int) -> dict[str, Any]:
    return {"type": "bench", "floor": "hmac-sha256-chain", "iterations": iterations}


def bench_sign(check: Check, iterations: int) -> dict[str, Any]:
    return {"type": "bench", "check": check.to_json(), "iterations": iterations}


def verify(request: dict[str, Any], server: dict[str, Any], hints: dict[str, Any] | None = None) -> dict[str, Any]:
    """Ask a verifier-kind adapter for its opinion on a received request (`request`: a signed request's
    JSON; `server`: credentials, region, service, now, s3 -- see `server_config`)."""
    message = {"type": "verify", "request": request, "server": server}
    if hints:
        message["hints"] = hints
    return message


def server_config(credentials: list[dict[str, Any]], region: str, service: str, now: str, s3: bool,
                  region_set: list[str] | None = None, normalize_path: bool | None = None,
                  double_encode: bool | None = None) -> dict[str, Any]:
    """The `server` object of a verify message: what the receiving server knows and how it canonicalizes
    (`normalize_path` and `double_encode` default to `not s3`)."""
    server: dict[str, Any] = {"credentials": credentials, "region": region, "service": service, "now": now, "s3": s3}
    for key, value in (("region_set", region_set), ("normalize_path", normalize_path), ("double_encode", double_encode)):
        if value is not None:
            server[key] = value
    return server


BYE = {"type": "bye"}


# -- what adapters answer ------------------------------------------------------------------------
# The HTTP clients an adapter may declare (`capabilities.clients`), by language: lower-case, one name
# per client as its users know it (docs/wire.md says how each adapter configures its clients).
CLIENTS: dict[str, tuple[str, ...]] = {
    "python": ("urllib", "requests", "botocore-session", "httpx"),
    "javascript": ("fetch", "node-https", "axios"),
    "go": ("net-http",),
    "java": ("java-net-http", "apache"),
    "ruby": ("net-http", "open-uri"),
    "rust": ("reqwest",),
}
RECEIVED_HEADER = "X-Sigharness-Received"  # names the capture server's record of a request (harness/wire/server.py)
SIGNER, VERIFIER = "signer", "verifier"
KINDS = (SIGNER, VERIFIER)
ACCEPT, REJECT, NOT_APPLICABLE = "accept", "reject", "n/a"
OPINION_VERDICTS = (ACCEPT, REJECT, NOT_APPLICABLE)


@dataclass(frozen=True)
class Capabilities:
    """What an adapter declares it can do. The engine answers `unsupported` itself for a check
    outside them, so no adapter repeats that guard."""

    algorithms: tuple[str, ...] = ALGORITHMS
    modes: tuple[str, ...] = MODES
    exposes: tuple[str, ...] = ()
    bench: bool = False
    why: tuple[tuple[str, str], ...] = ()  # algorithm, mode or surface left out -> why the library cannot
    kind: str = SIGNER
    verifies: tuple[str, ...] = ()  # a verifier's free-form list of what it checks (e.g. "s3-path")
    services: tuple[str, ...] = ()  # a verifier that judges only these services' scopes (empty: any)
    query_services: tuple[str, ...] = ()  # a verifier that judges presigned URLs of only these services (empty: any)
    excluded_services: tuple[str, ...] = ()  # a verifier that judges every service's scopes but these
    surfaces: tuple[str, ...] = (SINGLE,)  # single, post-policy, rds, dsql, eks (harness/reference SURFACES)
    clients: tuple[str, ...] = ()  # HTTP clients the adapter sends with (`send`); empty: no send

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Capabilities":
        """A list left out means every value; an empty list means none (an adapter not written yet)."""
        return cls(
            algorithms=tuple(data["algorithms"]) if data.get("algorithms") is not None else ALGORITHMS,
            modes=tuple(data["modes"]) if data.get("modes") is not None else MODES,
            exposes=tuple(data.get("exposes") or ()),
            bench=bool(data.get("bench")),
            why=tuple(sorted((str(k), str(v)) for k, v in (data.get("why") or {}).items())),
            kind=str(data.get("kind") or SIGNER),
            verifies=tuple(data.get("verifies") or ()),
            services=tuple(data.get("services") or ()),
            query_services=tuple(data.get("query_services") or ()),
            excluded_services=tuple(data.get("excluded_services") or ()),
            surfaces=tuple(data.get("surfaces") or (SINGLE,)),
            clients=tuple(data.get("clients") or ()),
        )

    def missing(self, check: Check) -> str | None:
        """Why the adapter cannot take this check at all (None: it can)."""
        algorithm, why = check.context.algorithm, dict(self.why)
        if check.surface not in self.surfaces:
            what = "single-shot signing (header or query mode)" if check.surface == SINGLE else f"{check.surface} ({check.mode} mode)"
            return why.get(check.surface) or \
                f"the library does not offer {what} (the adapter declares surfaces: {', '.join(self.surfaces)})"
        if algorithm not in self.algorithms:
            role = "verifier" if self.kind == VERIFIER else "signer"
            return why.get(algorithm) or \
                f"the library has no {algorithm.upper()} {role} (the adapter declares algorithms: {', '.join(self.algorithms)})"
        if check.surface == SINGLE and check.mode not in self.modes:
            what = "presigned URLs (query mode)" if check.mode == "query" else f"{check.mode} mode"
            verb = "verify" if self.kind == VERIFIER else "sign"
            return why.get(check.mode) or \
                f"the library does not {verb} {what} (the adapter declares modes: {', '.join(self.modes)})"
        if self.services and check.context.service not in self.services:
            return f"the verifier judges {', '.join(self.services)} requests only, not service {check.context.service!r}"
        if check.context.service in self.excluded_services:
            return why.get("excluded_services") or f"the verifier does not judge service {check.context.service!r}"
        if self.query_services and check.surface == SINGLE and check.mode == "query" \
                and check.context.service not in self.query_services:
            return why.get("query_services") or \
                f"the verifier judges presigned URLs of {', '.join(self.query_services)} only, not service {check.context.service!r}"
        return None


@dataclass(frozen=True)
class Hello:
    name: str
    language: str
    runtime: str
    library: str
    library_version: str
    capabilities: Capabilities
    raw: dict[str, Any] = field(compare=False)

    @classmethod
    def parse(cls, answer: dict[str, Any], name: str) -> "Hello":
        validate("hello_answer", answer)
        if answer["protocol"] != VERSION:
            raise ProtocolError(f"adapter speaks protocol {answer['protocol']!r}, the harness {VERSION}")
        if answer.get("name") not in (None, name):
            raise ProtocolError(f"adapter calls itself {answer['name']!r}, its manifest {name!r}")
        capabilities = Capabilities.from_json(answer.get("capabilities") or {})
        language = str(answer["language"])
        foreign = [c for c in capabilities.clients if language in CLIENTS and c not in CLIENTS[language]]
        if foreign:
            raise ProtocolError(f"capabilities/clients: {', '.join(foreign)} is not a {language} client "
                                f"({language} clients: {', '.join(CLIENTS[language])})")
        return cls(name, language, str(answer.get("runtime") or "unknown"), str(answer["library"]),
                   str(answer["library_version"]), capabilities, answer)


@dataclass(frozen=True)
class Result:
    """A `result` answer: a signed request, or why there is none."""

    status: str
    reason: str = ""
    signed: dict[str, Any] | None = None
    canonical_request: str | None = None
    string_to_sign: str | None = None
    elapsed_ns: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def parse(cls, answer: dict[str, Any]) -> "Result":
        validate("result_answer", answer)
        elapsed = answer.get("elapsed_ns")
        return cls(answer["status"], str(answer.get("reason") or ""), answer.get("signed"),
                   answer.get("canonical_request"), answer.get("string_to_sign"),
                   elapsed if isinstance(elapsed, int) else None, answer)


@dataclass(frozen=True)
class Sent:
    """The `sent` part of an answer to `send`: the client's status and the capture server's record
    number (`received`), or the client's error (it refused or failed to send)."""

    client: str
    status: int | None = None
    received: str | None = None
    error: str | None = None

    @classmethod
    def parse(cls, answer: dict[str, Any]) -> "Sent | None":
        """None when the answer has no `sent` (the result answer is already validated)."""
        sent = answer.get("sent")
        if not isinstance(sent, dict):
            return None
        received = sent.get("received")
        return cls(str(sent.get("client") or ""), sent.get("status"), None if received is None else str(received),
                   sent.get("error"))


@dataclass(frozen=True)
class Opinion:
    """A verifier's `opinion` answer: would it, as a server, accept the request?"""

    verdict: str
    reason: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def parse(cls, answer: dict[str, Any]) -> "Opinion":
        verdict, reason = answer.get("verdict"), answer.get("reason")
        well_formed = (answer.get("type") == "opinion" and isinstance(answer.get("id"), str) and verdict in OPINION_VERDICTS
                       and (isinstance(reason, str) or (reason is None and verdict != REJECT)))
        if not well_formed:  # the schema names the problem (the common case skips it: one per check and oracle)
            validate("opinion_answer", answer)
        return cls(verdict, str(reason or ""), answer)

    def to_json(self) -> dict[str, str]:
        return {"verdict": self.verdict, "reason": self.reason}
