"""The adapter SDK for Python: everything an adapter needs except the call into its library.

    from harness.adapter_sdk import Adapter, Check, FixedClock, Rejected, Unsupported, serve, signed

    class MySigner(Adapter):
        library = "my-signer"                       # the PyPI distribution (its version is read from it)
        modes = ("header",)
        def sign(self, check: Check, state, watch) -> dict:
            with library_call(), watch.running():    # what the library raises is its answer: `rejected`
                out = my_signer.sign(...)
            return signed(out.method, out.url, out.headers)

    if __name__ == "__main__":
        serve(MySigner())

The SDK holds the protocol (docs/adapter-protocol.md): the loop over stdin (one line in, one line
out, strictly in order, stdout for protocol lines only, anything else printed goes to stderr),
`hello` (the name the harness says is echoed; the version is read from the installed library),
`bye` and end of input, the refused-vs-error rules (`Unsupported` -> `unsupported`, `Rejected` ->
`rejected`, any other exception -> `error` with a one-line reason and the traceback on stderr),
clock pinning (`FixedClock`, `pin_module_clock`, `patched`) and the bench hook (the HMAC-SHA256
chain floor and repeated signs). It computes no part of any signature.

Only the standard library is imported, so `pip install --no-deps sigharness` into an adapter's own
interpreter (a manifest's `python:`) is enough to use it.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import importlib
import json
import platform
import sys
import time
import traceback
import types
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Callable, Iterable, Iterator, TextIO

PROTOCOL = 1
FLOOR = "hmac-sha256-chain"
RECEIVED_HEADER = "X-Sigharness-Received"  # the capture server's number for the request (docs/wire.md)
SEND_TIMEOUT = 10.0  # seconds a client may take to send one request and read the answer


# -- the refused-vs-error rules -------------------------------------------------------------------
class Unsupported(Exception):
    """The library cannot express this check: the answer is `unsupported` with this message (name
    the option the library lacks and the version looked at)."""


class Rejected(Exception):
    """The library refused the input: the answer is `rejected` with this message."""


def describe(exc: BaseException) -> str:
    """`Type: message`, the library's message verbatim (the reason of a `rejected` or `error` answer;
    the traceback goes to stderr, not into the reason)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextmanager
def library_call() -> Iterator[None]:
    """Mark a block as "inside the library": any exception raised there is the library's answer
    (`rejected`); an exception anywhere else in an adapter is an adapter bug (`error`)."""
    try:
        yield
    except (Unsupported, Rejected):
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the library raises is its verdict
        raise Rejected(describe(exc)) from exc


class Stopwatch:
    """Accumulates nanoseconds spent inside library calls (`with watch.running(): ...`)."""

    def __init__(self) -> None:
        self.elapsed_ns = 0

    @contextmanager
    def running(self) -> Iterator[None]:
        start = time.perf_counter_ns()
        try:
            yield
        finally:
            self.elapsed_ns += time.perf_counter_ns() - start


# -- the check ------------------------------------------------------------------------------------
def parse_timestamp(text: str) -> _dt.datetime:
    value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc)


@dataclass(frozen=True)
class Check:
    """One `sign` message's check, with the request decoded into plain Python values."""

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
            region_set=tuple(ctx.get("region_set") or [region]),
            service=ctx["service"],
            timestamp=parse_timestamp(ctx["timestamp"]),
            expires=ctx.get("expires"),
            payload=ctx.get("payload", "body"),
            content_sha256_header=bool(ctx.get("content_sha256_header", False)),
            session_token_placement=ctx.get("session_token_placement", "signed"),
            normalize_path=bool(ctx.get("normalize_path", True)),
            double_encode=bool(ctx.get("double_encode", True)),
        )

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


# -- answers --------------------------------------------------------------------------------------
def dist_version(dist: str) -> str:
    """The installed version of a distribution (never typed by hand)."""
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


def signed(method: str, url: str, headers: Iterable[tuple[str, str]] | dict, body_b64: str | None = None,
           canonical_request: str | None = None, string_to_sign: str | None = None) -> dict:
    """What `Adapter.sign` returns: the request as the library would send it (and the stages it
    exposes, if any)."""
    items = headers.items() if isinstance(headers, dict) else headers
    return {"signed": {"method": method, "url": url, "headers": [[str(k), str(v)] for k, v in items],
                       "body_b64": body_b64},
            "canonical_request": canonical_request, "string_to_sign": string_to_sign}


def signed_from_prepared(check: Check, prepared: Any) -> dict:
    """The `signed` part of an answer from a prepared request (requests or botocore), as it would be sent."""
    return {
        "method": prepared.method,
        "url": prepared.url,
        "headers": [[k, v] for k, v in prepared.headers.items()],
        "body_b64": b64_or_none(check.body, prepared.body),
    }


# -- sending (the wire stage: docs/wire.md) -------------------------------------------------------
def send_url(url: str, scheme: str) -> str:
    """The signed URL with its scheme replaced (`send` says `http`: no TLS; the scheme is not signed).
    The host and any port stay: inside the adapter's namespace the signed host name is the relay."""
    _, sep, rest = url.partition("://")
    return f"{scheme}://{rest}" if sep else url


def received_number(headers: Any) -> str | None:
    """The X-Sigharness-Received value of an answer's headers (a dict-like with `get`, an
    `email.message.Message`, or (name, value) pairs), None when absent."""
    if hasattr(headers, "get") and not isinstance(headers, (list, tuple)):
        value = headers.get(RECEIVED_HEADER) or headers.get(RECEIVED_HEADER.lower())
        return None if value is None else str(value)
    for name, value in headers or ():
        name = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        if name.lower() == RECEIVED_HEADER.lower():
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None


def sent_by(client: str, send: Callable[[], tuple[int, Any]]) -> dict:
    """The `sent` part of an answer: run the client (`send()` returns the answer's status and
    headers); what it raises is the client refusing or failing to send (a finding, not an adapter
    error), reported as `Type: message`."""
    try:
        status, headers = send()
    except Unsupported:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the client raises is what its users would see
        return {"client": client, "error": describe(exc)}
    return {"client": client, "status": int(status), "received": received_number(headers)}


def signed_parts(check: Check, outcome: dict) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """(method, url, headers, body) of a `signed(...)` outcome, the body as it would be sent."""
    req = outcome["signed"]
    body = check.body if req.get("body_b64") is None else base64.b64decode(req["body_b64"])
    return req["method"], req["url"], [(str(n), str(v)) for n, v in req["headers"]], body


# -- clock pinning --------------------------------------------------------------------------------
def pin_module_clock(module: Any, now: Callable[[], _dt.datetime]) -> None:
    """Fix the clock a library module reads, for libraries that call ``datetime.datetime.utcnow()``
    (or ``now()``) directly: the module's ``datetime`` name is replaced by a copy of the datetime
    module whose ``datetime`` class answers ``now()``/``utcnow()`` with ``now()`` of the adapter (an
    aware UTC datetime). Only the clock changes; every other attribute is the real one."""

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
    """The check's signing time, for a library that reads the clock itself. `install` points a
    library module at it once; set ``now`` (or use ``at(check.timestamp)``) before each signing."""

    def __init__(self) -> None:
        self.now: _dt.datetime | None = None  # aware UTC

    def aware(self) -> _dt.datetime:
        if self.now is None:
            raise RuntimeError("signing time not set by the adapter")
        return self.now

    def current_datetime(self, remove_tzinfo: bool = True) -> _dt.datetime:
        """botocore's ``get_current_datetime(remove_tzinfo=True)`` contract."""
        return self.aware().replace(tzinfo=None) if remove_tzinfo else self.aware()

    def install(self, module: Any, hook: str | None = None) -> "FixedClock":
        """Use the module's own clock hook when it has one, else pin the module's ``datetime``."""
        if hook and hasattr(module, hook):
            setattr(module, hook, self.current_datetime)
        else:
            pin_module_clock(module, self.aware)
        return self

    @contextmanager
    def at(self, when: _dt.datetime) -> Iterator[None]:
        """The clock reads `when` inside the block, and nothing (an error) after it."""
        self.now = when
        try:
            yield
        finally:
            self.now = None


@contextmanager
def patched(owner: Any, name: str, value: Any) -> Iterator[None]:
    """Replace ``owner.name`` inside the block (a clock function a library reads, say), then put the
    original back."""
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


# -- the bench floor: the bare SigV4 HMAC-SHA256 chain ---------------------------------------------
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


# -- the adapter ----------------------------------------------------------------------------------
class Adapter:
    """Subclass it: set `library` (and `distribution` when the PyPI name differs), the capabilities,
    and write `sign` (and `prepare` for what is built once per check, reused by bench)."""

    library: str = ""
    distribution: str | None = None  # the installed distribution to read the version from
    algorithms: tuple[str, ...] = ("sigv4",)
    modes: tuple[str, ...] = ("header", "query")
    exposes: tuple[str, ...] = ()  # "canonical_request", "string_to_sign" when the library shows them
    why: dict[str, str] = {}  # an algorithm or mode left out -> why the library cannot (the engine's reason)
    clients: tuple[str, ...] = ()  # HTTP clients `send` uses (harness/protocol.py CLIENTS); empty: no send

    def library_version(self) -> str:
        """The installed library's version, read at run time (never typed by hand)."""
        name = self.distribution or self.library
        try:
            return dist_version(name)
        except metadata.PackageNotFoundError:
            raise RuntimeError(f"{name!r} is not installed for {sys.executable} (set `distribution` to the PyPI name, "
                               "or `python:` in adapter.yaml to the interpreter that has it)") from None

    def hello(self) -> dict:
        """What the library is: `library`, `library_version`, `algorithms`, `modes`, `exposes`,
        optionally `runtime_extra` (appended to the runtime). An empty `algorithms` or `modes`
        declares nothing: the harness answers `unsupported` for every check itself."""
        return {"library": self.library, "library_version": self.library_version(),
                "algorithms": list(self.algorithms), "modes": list(self.modes), "exposes": list(self.exposes),
                **({"why": dict(self.why)} if self.why else {}), **({"clients": list(self.clients)} if self.clients else {})}

    def prepare(self, check: Check) -> Any:
        """Whatever is built once per check (a signer, a config); raise Unsupported here early."""
        return None

    def sign(self, check: Check, state: Any, watch: Stopwatch) -> dict:
        """Sign once with the library; return `signed(...)`."""
        raise Unsupported(f"{type(self).__name__}.sign is not written yet")

    def send(self, check: Check, state: Any, outcome: dict, client: str, scheme: str) -> dict:
        """Send what `sign` returned with `client`, configured as its users do, to
        `send_url(url, scheme)`; return `sent_by(client, ...)`. (An adapter whose client signs in a
        hook, as `requests`' auth= does, defines `sign_and_send(check, state, watch, client, scheme)`
        returning (outcome, sent) instead.)"""
        raise Unsupported(f"{type(self).__name__} does not send with {client}")


class Host:
    """The protocol loop around one adapter object."""

    def __init__(self, adapter: Any, out: TextIO) -> None:
        self.adapter = adapter
        self.out = out
        self.clients: tuple[str, ...] | None = None  # what hello declared

    def send(self, obj: dict) -> None:
        self.out.write(json.dumps(obj, ensure_ascii=True, separators=(",", ":")) + "\n")
        self.out.flush()

    def hello(self, msg: dict) -> dict:
        info = self.adapter.hello()
        self.clients = tuple(info.get("clients") or ())
        runtime = f"python {platform.python_version()}"
        if info.get("runtime_extra"):
            runtime += f" ({info['runtime_extra']})"
        name = msg.get("adapter")  # from the manifest; echoed
        return {
            "type": "hello", "protocol": PROTOCOL, **({"name": name} if name else {}),
            "language": "python", "runtime": runtime,
            "library": info["library"], "library_version": info["library_version"],
            "capabilities": {"algorithms": list(info["algorithms"]), "modes": list(info["modes"]),
                             "exposes": list(info.get("exposes", [])), "bench": True,
                             **({"why": dict(info["why"])} if info.get("why") else {}),
                             **({"surfaces": list(info["surfaces"])} if "surfaces" in info else {}),
                             **({"clients": list(info["clients"])} if info.get("clients") else {})},
        }

    @staticmethod
    def refusal(msg_id: Any, exc: Exception) -> dict:
        """The answer for an exception: `unsupported`, `rejected`, or `error` (traceback on stderr)."""
        base = {"type": "result", "id": msg_id}
        if isinstance(exc, Unsupported):
            return {**base, "status": "unsupported", "reason": str(exc)}
        if isinstance(exc, Rejected):
            return {**base, "status": "rejected", "reason": str(exc)}
        log(traceback.format_exc())
        return {**base, "status": "error", "reason": describe(exc)}

    def sign(self, msg_id: Any, raw_check: dict) -> dict:
        try:
            check = Check.parse(raw_check)
            state = self.adapter.prepare(check)
            watch = Stopwatch()
            started = time.perf_counter_ns()
            outcome = self.adapter.sign(check, state, watch)
            elapsed = watch.elapsed_ns or time.perf_counter_ns() - started
        except Exception as exc:  # noqa: BLE001 - sorted by refusal()
            return self.refusal(msg_id, exc)
        answer = {"type": "result", "id": msg_id, "status": "signed",
                  "canonical_request": outcome.get("canonical_request"),
                  "string_to_sign": outcome.get("string_to_sign"), "elapsed_ns": elapsed}
        for what in ("signed", "form", "token", "stream"):  # a request, a POST form, a token; a stream's chain
            if what in outcome:
                answer[what] = outcome[what]
        return answer

    def send_check(self, msg: dict) -> dict:
        """`send`: sign exactly as for `sign`, then send with the client; the answer is `sign`'s plus `sent`."""
        msg_id, client, scheme = msg.get("id"), str(msg.get("client") or ""), str(msg.get("scheme") or "http")
        try:
            if self.clients is None:  # no hello yet (a test talking to the host directly)
                self.clients = tuple(self.adapter.hello().get("clients") or ())
            clients = self.clients
            if client not in clients:
                raise Unsupported(f"the adapter does not send with {client!r} (it declares clients: {', '.join(clients) or 'none'})")
            check = Check.parse(msg.get("check") or {})
            state = self.adapter.prepare(check)
            watch = Stopwatch()
            started = time.perf_counter_ns()
            hook = getattr(self.adapter, "sign_and_send", None)
            if hook is not None:
                outcome, sent = hook(check, state, watch, client, scheme)
            else:
                outcome = self.adapter.sign(check, state, watch)
                sent = self.adapter.send(check, state, outcome, client, scheme)
            elapsed = watch.elapsed_ns or time.perf_counter_ns() - started
        except Exception as exc:  # noqa: BLE001 - sorted by refusal()
            return self.refusal(msg_id, exc)
        return {"type": "result", "id": msg_id, "status": "signed", "signed": outcome["signed"],
                "canonical_request": outcome.get("canonical_request"), "string_to_sign": outcome.get("string_to_sign"),
                "elapsed_ns": elapsed, "sent": sent}

    def bench(self, msg: dict) -> dict:
        msg_id = msg.get("id")
        iterations = int(msg.get("iterations", 1))
        if "floor" in msg:
            if msg["floor"] != FLOOR:
                return {"type": "result", "id": msg_id, "status": "unsupported",
                        "reason": f"unknown bench floor {msg['floor']!r}"}
            return {"type": "bench", "id": msg_id, "iterations": iterations, "elapsed_ns": hmac_sha256_chain(iterations)}
        set_capture = getattr(self.adapter, "set_capture", None)  # stage capture off while timing
        try:
            check = Check.parse(msg["check"])
            state = self.adapter.prepare(check)  # built once, as a user reuses a signer
            watch = Stopwatch()
            started = time.perf_counter_ns()
            if set_capture:
                set_capture(False)
            try:
                for _ in range(iterations):
                    self.adapter.sign(check, state, watch)
            finally:
                if set_capture:
                    set_capture(True)
            elapsed = watch.elapsed_ns or time.perf_counter_ns() - started
        except Exception as exc:  # noqa: BLE001
            return self.refusal(msg_id, exc)
        return {"type": "bench", "id": msg_id, "iterations": iterations, "elapsed_ns": elapsed}

    def handle(self, msg: dict) -> dict | None:
        """The answer to one message (None for `bye`)."""
        kind = msg.get("type")
        if kind == "hello":
            return self.hello(msg)
        if kind == "sign":
            return self.sign(msg.get("id"), msg.get("check") or {})
        if kind == "send":
            return self.send_check(msg)
        if kind == "bench":
            return self.bench(msg)
        return {"type": "result", "id": msg.get("id"), "status": "error", "reason": f"unknown message type {kind!r}"}

    def serve(self, lines: Iterable[str]) -> None:
        for line in lines:
            if not line.strip():
                continue
            try:
                msg = json.loads(line)
                if not isinstance(msg, dict):
                    raise ValueError("a message is a JSON object")
            except ValueError as exc:
                self.send({"type": "result", "id": None, "status": "error", "reason": f"not JSON: {exc}"})
                continue
            if msg.get("type") == "bye":
                return
            self.send(self.handle(msg))


def log(text: str) -> None:
    """A line for the adapter's log (stderr; the harness keeps it in the run folder)."""
    print(text, file=sys.stderr, flush=True)


def serve(adapter: Any, lines: Iterable[str] | None = None, out: TextIO | None = None) -> int:
    """Answer the harness on stdin/stdout until `bye` or end of input. While it runs, anything else
    printed to stdout (a library's chatter) goes to stderr."""
    out = out or sys.stdout
    saved, sys.stdout = sys.stdout, sys.stderr
    try:
        Host(adapter, out).serve(sys.stdin if lines is None else lines)
    finally:
        sys.stdout = saved
    return 0


def load(entry: str) -> Any:
    """The adapter object named by a manifest's `module:Class` entry (the module imported only now)."""
    module_name, _, class_name = entry.partition(":")
    return getattr(importlib.import_module(module_name), class_name)()


def main(argv: list[str] | None = None) -> int:
    """`python host.py module:Class`: one process per adapter; the module is imported only after
    stdout is kept for protocol lines, so whatever the import prints goes to stderr."""
    argv = sys.argv if argv is None else argv
    if len(argv) != 2 or ":" not in argv[1]:
        log(f"usage: {argv[0] if argv else 'host.py'} <module:Class> (see adapter.yaml)")
        return 2
    out, sys.stdout = sys.stdout, sys.stderr
    try:
        adapter = load(argv[1])
    finally:
        sys.stdout = out
    return serve(adapter)
