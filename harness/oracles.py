"""Independent second oracles: verifiers written by others (adapters of kind `verifier`), asked for
their opinion on every signed answer, through the same adapter pool and protocol as the signers.

`Oracles.opinions(check, signed, body)` asks each oracle whether it, as the server, accepts the
request (docs/oracles.md). It is thread-safe: each oracle runs a few processes and each process
answers one request at a time. `Oracles.annotate` adds the opinions to a judged row and flags every
accept/reject that differs from the harness's own verifier, marked `known` when a reviewed entry of
harness/oracle_differences.yaml covers it. It does so in the oracles' own worker threads, so the
signers sign on meanwhile: `then(judged, write)` writes the row once it is judged, `drain()` waits for all.
"""

from __future__ import annotations

import base64
import concurrent.futures
import fnmatch
import hashlib
import json
import queue
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Iterable
from urllib.parse import unquote

import yaml

from harness import protocol
from harness.adapters.manifest import AdapterSpec
from harness.adapters.pool import AdapterPool, AdapterSession, PoolSettings
from harness.judgement import RECEIVED_BODY, RECEIVING_SERVER, SPEC_CANONICAL_REQUEST
from harness.cases.surfaces import POST_POLICY, post_upload
from harness.model import Check, SignedRequest
from harness.post_form import browser_post
from harness.protocol import ACCEPT, NOT_APPLICABLE, REJECT, VERIFIER, Opinion, ProtocolError
from harness.oracle_table import agreement, table  # noqa: F401  (the report's table, read from results)

Log = Callable[[str], None]
PROCESSES_PER_ORACLE = 2
CACHE_ENTRIES = 100_000  # opinions kept per run: correct signers send byte-identical requests for a check
# Headers an HTTP client adds for its own transport. No SigV4 verifier reads one that is not signed (the
# canonical request holds only signed headers; S3's unsigned-header rule is about x-amz-*), so a request
# that differs from another only by these, unsigned, is the same request to an oracle (docs/oracles.md,
# "Sent requests"): the sent copies of a signed request are judged once, not once per client.
TRANSPORT_HEADERS = frozenset({"user-agent", "connection", "accept", "accept-encoding", "accept-language",
                               "sec-fetch-mode"})
DIFFERENCES_FILE = "oracle_differences.yaml"


# -- which oracles -------------------------------------------------------------------------------
def select(known: dict[str, AdapterSpec], wanted: list[str] | None, enabled: bool = True) -> tuple[list[AdapterSpec], list[str]]:
    """The verifier-kind adapters to ask (`--oracles A,B`; None: every one; `--no-oracles`: none), and problems."""
    verifiers = {n: s for n, s in known.items() if s.kind == VERIFIER}
    if not enabled:
        return [], []
    if not wanted:
        return list(verifiers.values()), []
    chosen, problems = [], []
    for name in wanted:
        if name in verifiers:
            chosen.append(verifiers[name])
        else:
            problems.append(f"unknown oracle {name!r}; known oracles: {', '.join(sorted(verifiers)) or 'none'} (adapters of kind verifier)")
    return chosen, problems


# -- what the server knows -------------------------------------------------------------------------
def server_for(check: Check) -> dict[str, Any]:
    """The verify message's `server`: the credentials, scope and clock of the check; S3 canonicalization
    when the check's service is S3 or it signs without double encoding (as S3 does)."""
    ctx = check.context  # (a property that builds the context: read once)
    credential = {"access_key_id": ctx.access_key_id, "secret_access_key": ctx.secret_access_key,
                  "session_token": ctx.session_token}
    return protocol.server_config([credential], ctx.region, ctx.service, ctx.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                  ctx.service == "s3" or not ctx.double_encode, list(ctx.region_set),
                                  ctx.normalize_path, ctx.double_encode)


_SIGNATURE = re.compile(r"Signature=[0-9a-fA-F]*")
_HINTS: dict[tuple[Any, ...], dict[str, Any]] = {}
_HINTS_LOCK = threading.Lock()


def hints_for(check: Check, signed: SignedRequest, body: bytes, canonical_request: str | None = None) -> dict[str, Any] | None:
    """For SigV4A only: what aws-crt's verification API asks besides the request (docs/oracles.md). The
    canonical request does not depend on the (random) ECDSA signature, so requests that differ only
    there share one computation."""
    context = check.context
    if context.algorithm != "sigv4a":
        return None
    unsigned = _SIGNATURE.sub("Signature=", json.dumps([signed.method, signed.url, signed.headers]))
    key = (check.case.id, check.mode, unsigned, hashlib.sha256(body).digest())
    with _HINTS_LOCK:
        cached = _HINTS.get(key)
    if cached is None:
        from harness.reference.signing import sigv4a_private_key
        from harness.verify.single import ServerRules, verify

        numbers = sigv4a_private_key(context.access_key_id, context.secret_access_key).public_key().public_numbers()
        if canonical_request is None:  # the judge's own, when it judged under the spec rules; else derived here
            canonical_request = verify(signed, body, ServerRules.for_context(context)).canonical_request
        cached = {"sigv4a_public_key": {"x": f"{numbers.x:064x}", "y": f"{numbers.y:064x}"}}
        if canonical_request is not None:
            cached["canonical_request"] = canonical_request
        with _HINTS_LOCK:
            if len(_HINTS) < CACHE_ENTRIES:
                _HINTS[key] = cached
    return dict(cached)


def judged_form(signed: SignedRequest) -> tuple[Any, ...]:
    """The request as the opinion cache names it: method, URL, and the headers grouped by lower-cased name
    (a verifier sorts names; values of one name keep their order), without unsigned transport headers."""
    signed_names = _signed_names(signed)
    headers = [(name.lower(), value) for name, value in signed.headers]
    if signed_names is not None:
        headers = [(n, v) for n, v in headers if n not in TRANSPORT_HEADERS or n in signed_names]
    headers.sort(key=lambda h: h[0])  # stable: repeated names keep their order
    return (signed.method, signed.url, tuple(headers))


def _signed_names(signed: SignedRequest) -> frozenset[str] | None:
    """The header names the request says it signed (Authorization or X-Amz-SignedHeaders); None when it
    says nothing clear, so that every header stays in the cache's name for it."""
    from harness.reference.authorization import Authorization, MalformedAuthorization, is_sigv4
    from harness.reference.canonical import query_parameters

    auth = [v for n, v in signed.headers if n.lower() == "authorization"]
    found = [unquote(v) for n, v in query_parameters(signed.parts()[3]) if n.lower() == "x-amz-signedheaders"]
    if auth and found:  # both mechanisms: which list a verifier reads is its own choice
        return None
    if len(auth) == 1 and is_sigv4(auth[0]):
        try:
            return frozenset(h.lower() for h in Authorization.parse(auth[0]).signed_headers)
        except MalformedAuthorization:
            return None
    if auth:
        return None
    return frozenset(found[0].lower().split(";")) if len(found) == 1 else None


# -- known differences -----------------------------------------------------------------------------
@dataclass(frozen=True)
class KnownDifference:
    """A reviewed class of disagreement: which rule the harness follows, with evidence."""

    id: str
    oracle: str
    ours: str  # accept | reject
    theirs: str  # accept | reject
    reason: str  # a regular expression the oracle's reason matches
    rule: str
    evidence: tuple[str, ...]
    case: str = "*"  # case id patterns (globs), separated by '|'
    ours_reason: str = ""  # a regular expression our verifier's reason matches
    path: str = ""  # a regular expression the received path matches
    received: str = ""  # a regular expression the received request matches (`received_text`: request line, then headers)
    ours_rules: str = ""  # a regular expression the rules our verifier accepted under match ("spec" or an open choice)

    def matches(self, oracle: str, case: str, ours: str, theirs: str, reason: str, ours_reason: str = "", path: str = "",
                received: str = "", ours_rules: str = "spec") -> bool:
        return (fnmatch.fnmatchcase(oracle, self.oracle) and any(fnmatch.fnmatchcase(case, p) for p in self.case.split("|"))
                and ours == self.ours and theirs == self.theirs and re.search(self.reason, reason) is not None
                and re.search(self.ours_reason, ours_reason) is not None and re.search(self.path, path) is not None
                and re.search(self.received, received) is not None and re.search(self.ours_rules, ours_rules) is not None)


def received_text(signed: SignedRequest) -> str:
    """The received request as a known difference's `received` pattern reads it: 'METHOD path?query', then one
    'name: value' line per header (name lower-cased)."""
    _, _, path, query = signed.parts()
    lines = [f"{signed.method} {path}{'?' + query if query else ''}"]
    lines += [f"{name.lower()}: {value}" for name, value in signed.headers]
    return "\n".join(lines)


def read_differences(text: str, where: str = DIFFERENCES_FILE) -> list[KnownDifference]:
    data = yaml.safe_load(text) or {}
    out = []
    for i, entry in enumerate(data.get("differences") or []):
        try:
            out.append(KnownDifference(str(entry["id"]), str(entry["oracle"]), str(entry["ours"]), str(entry["theirs"]),
                                       str(entry["reason"]), str(entry["rule"]), tuple(entry["evidence"]),
                                       _globs(entry.get("case", "*")), str(entry.get("ours_reason", "")),
                                       str(entry.get("path", "")), str(entry.get("received", "")),
                                       str(entry.get("ours_rules", ""))))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{where}: entry {i + 1} needs id, oracle, ours, theirs, reason, rule and evidence ({exc})") from None
        if not out[-1].evidence:
            raise ValueError(f"{where}: entry {out[-1].id} has no evidence link")
        for key in ("reason", "ours_reason", "path", "received", "ours_rules"):
            try:
                re.compile(getattr(out[-1], key))
            except re.error as exc:
                raise ValueError(f"{where}: entry {out[-1].id}: `{key}` is not a regular expression ({exc})") from None
    ids = [k.id for k in out]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{where}: duplicate ids {sorted({i for i in ids if ids.count(i) > 1})}")
    return out


def _globs(value: Any) -> str:
    """A case pattern: one glob, or a list of globs (kept joined with '|')."""
    return "|".join(str(v) for v in value) if isinstance(value, list) else str(value)


@lru_cache(maxsize=1)
def known_differences() -> tuple[KnownDifference, ...]:
    text = resources.files("harness").joinpath(DIFFERENCES_FILE).read_text(encoding="utf-8")
    return tuple(read_differences(text))


def disagreements(case: str, ours_valid: bool, opinions: dict[str, dict[str, str]],
                  known: Iterable[KnownDifference] | None = None, ours_reason: str = "", path: str = "",
                  received: str = "", ours_rules: str = "spec") -> list[dict[str, Any]]:
    """Each oracle whose accept/reject differs from ours, with its reason and the known entry that covers it."""
    ours = ACCEPT if ours_valid else REJECT
    known = known_differences() if known is None else tuple(known)
    out = []
    for name, opinion in sorted(opinions.items()):
        theirs = opinion["verdict"]
        if theirs == NOT_APPLICABLE or theirs == ours:
            continue
        entry = next((k for k in known if k.matches(name, case, ours, theirs, opinion.get("reason", ""), ours_reason, path,
                                                 received, ours_rules)), None)
        flag = {"oracle": name, "ours": ours, "theirs": theirs, "reason": opinion.get("reason", "")}
        flag["known"] = entry.id if entry else None
        out.append(flag)
    return out


# -- the oracles of a run ----------------------------------------------------------------------------
@dataclass
class Oracle:
    name: str
    idle: "queue.Queue[AdapterSession]"
    sessions: list[AdapterSession] = field(default_factory=list)


class Oracles:
    """The oracles of a run, started through an AdapterPool (use as a context: always closed)."""

    def __init__(self, specs: Iterable[AdapterSpec], settings: PoolSettings, log: Log = lambda line: None,
                 processes: int = PROCESSES_PER_ORACLE):
        self.pool = AdapterPool(list(specs), settings, log)
        self.log = log
        self.processes = max(1, processes)
        self.oracles: dict[str, Oracle] = {}
        self._cache: dict[tuple[str, Any], dict[str, str]] = {}
        self._cache_lock = threading.Lock()
        self._asking: dict[tuple[str, Any], threading.Event] = {}  # requests an oracle is being asked now
        self.cache_hits = 0
        self._pending: dict[int, concurrent.futures.Future[None]] = {}
        self._pending_lock = threading.Lock()
        self._workers: concurrent.futures.ThreadPoolExecutor | None = None
        self._starting: threading.Thread | None = None
        self._declared: dict[tuple[str, ...], str | None] = {}
        self._bodies: dict[int, tuple[bytes, bytes, str]] = {}

    @property
    def unavailable(self) -> dict[str, str]:
        return self.pool.unavailable

    def start(self) -> "Oracles":
        """Build (cached), start every process of every oracle at once (its hello must say `kind: verifier`)."""
        self.pool.prepare()
        self.pool.start_all()
        extra: list[AdapterSession] = []
        for name, session in list(self.pool.sessions.items()):
            assert session.hello is not None
            if session.hello.capabilities.kind != VERIFIER:
                self.pool.unavailable[name] = "its manifest says kind: verifier but its hello does not declare capabilities.kind verifier"
                self.pool.sessions.pop(name).close()
                continue
            oracle = Oracle(name, queue.Queue(), [session])
            for _ in range(self.processes - 1):
                oracle.sessions.append(AdapterSession(session.spec, session.build_dir, self.pool.settings, self.log))
                extra.append(oracle.sessions[-1])
            self.oracles[name] = oracle
        # the extra processes start together (not one after the other), before the first request
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(extra)), thread_name_prefix="oracle-start") as starting:
            list(starting.map(lambda s: s.ready(), extra))
        for oracle in self.oracles.values():
            for s in oracle.sessions:
                if s.ready() is None:
                    oracle.idle.put(s)
        if self.oracles and self._workers is None:
            self._workers = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.processes * len(self.oracles) + 2, thread_name_prefix="oracle")
        return self

    def start_in_background(self) -> "Oracles":
        """`start` in a thread, so the oracles start while the signers are checked and started; rows handed to
        `annotate` meanwhile wait for it (`started`)."""
        workers = self.processes * len(self.pool.specs) + 2
        if self.pool.specs:
            self._workers = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="oracle")
        self._starting = threading.Thread(target=self._start_logged, name="oracle-start", daemon=True)
        self._starting.start()
        return self

    def _start_logged(self) -> None:
        try:
            self.start()
        except Exception as exc:  # noqa: BLE001 - oracles that cannot start cost their opinions, not the run
            self.log(f"oracles: could not start: {type(exc).__name__}: {exc}")
            for spec in self.pool.specs:
                self.pool.unavailable.setdefault(spec.name, f"did not start: {type(exc).__name__}: {exc}")

    def started(self) -> None:
        """Wait until the oracles started by `start_in_background` are up."""
        if self._starting is not None:
            self._starting.join()

    @property
    def names(self) -> list[str]:
        return sorted(self.oracles)

    def ask(self, name: str, check: Check, message: dict[str, Any]) -> dict[str, str]:
        """One oracle's opinion (n/a with the reason when it cannot judge or misbehaves)."""
        oracle = self.oracles[name]
        session = oracle.idle.get()
        try:
            fault = session.ready()
            if fault:
                return {"verdict": NOT_APPLICABLE, "reason": f"oracle unavailable: {fault}"}
            missing = self._missing(name, check)
            if missing:
                return {"verdict": NOT_APPLICABLE, "reason": missing}
            answer, fault = session.request(message, expect="opinion")
            if answer is None:
                return {"verdict": NOT_APPLICABLE, "reason": f"oracle fault: {fault}"}
            session.checks += 1
            try:
                return Opinion.parse(answer).to_json()
            except ProtocolError as exc:
                return {"verdict": NOT_APPLICABLE, "reason": f"malformed opinion: {exc}"}
        finally:
            oracle.idle.put(session)

    def opinions(self, check: Check, signed: SignedRequest, body: bytes,
                 names: Iterable[str] | None = None, canonical_request: str | None = None,
                 server: dict[str, Any] | None = None) -> dict[str, dict[str, str]]:
        """Every oracle's (or those `names`) opinion on one received request: name -> {"verdict", "reason"};
        `server`: the receiving server when it is not the check's (`server_for`)."""
        # What the server receives and knows, for the cache: the check fixes the server's configuration;
        # a large body is named by its digest. The message itself is built only when an oracle is asked.
        digest, body_b64 = self._body_forms(body)
        key = (check.case.id, check.mode, judged_form(signed), digest)
        message: dict[str, Any] | None = None
        out = {}
        for name in (self.names if names is None else names):
            missing = self._missing(name, check)
            if missing:  # the engine answers for what an oracle declares it cannot judge
                out[name] = {"verdict": NOT_APPLICABLE, "reason": missing, "declared": True}
                continue
            cached, asking = self._claim((name, key))
            if cached is None:
                try:
                    if message is None:
                        received = {"method": signed.method, "url": signed.url,
                                    "headers": [list(h) for h in signed.headers], "body_b64": body_b64}
                        message = protocol.verify(received, server or server_for(check),
                                                  hints_for(check, signed, body, canonical_request))
                    cached = self.ask(name, check, message)
                    if not cached["reason"].startswith(("oracle unavailable", "oracle fault")):
                        with self._cache_lock:
                            if len(self._cache) < CACHE_ENTRIES:
                                self._cache[(name, key)] = cached
                finally:
                    self._release((name, key), asking)
            out[name] = dict(cached)
        return out

    def _claim(self, entry: tuple[str, Any]) -> tuple[dict[str, str] | None, threading.Event | None]:
        """(the cached opinion, None), or (None, an event this thread sets once it has asked): a request
        another thread is asking about now is waited for, not asked twice (a signed row and its sent copies
        are judged at the same time)."""
        while True:
            with self._cache_lock:
                cached = self._cache.get(entry)
                if cached is not None:
                    self.cache_hits += 1
                    return cached, None
                other = self._asking.get(entry)
                if other is None:
                    mine = self._asking[entry] = threading.Event()
                    return None, mine
            other.wait()  # then cached, or not cacheable (a fault): this thread asks itself

    def _release(self, entry: tuple[str, Any], asking: threading.Event | None) -> None:
        with self._cache_lock:
            if asking is not None and self._asking.get(entry) is asking:
                del self._asking[entry]
        if asking is not None:
            asking.set()

    def _missing(self, name: str, check: Check) -> str | None:
        """What of the check the oracle declares it cannot judge (None: it can); once per oracle and check."""
        ctx = check.case.context  # what capabilities read: surface, mode, algorithm, service
        memo_key = (name, check.surface, check.mode, ctx.algorithm, ctx.service)
        if memo_key not in self._declared:
            hello = self.oracles[name].sessions[0].hello
            self._declared[memo_key] = hello.capabilities.missing(check) if hello is not None else None
        return self._declared[memo_key]

    def _body_forms(self, body: bytes) -> tuple[Any, str]:
        """(the body as the opinion cache names it, its base64): a large body (the case's own bytes, shared by
        every signer's row) is hashed and encoded once per run, not once per row."""
        if len(body) <= 4096:
            return body, base64.b64encode(body).decode("ascii")
        with self._cache_lock:
            known = self._bodies.get(id(body))
        if known is None or known[0] is not body:
            known = (body, hashlib.sha256(body).digest(), base64.b64encode(body).decode("ascii"))
            with self._cache_lock:
                if len(self._bodies) < 64:
                    self._bodies[id(body)] = known  # keeps `body` alive, so its id stays its own
        return known[1], known[2]

    def annotate(self, check: Check, judged: dict[str, Any]) -> None:
        """Have the oracles judge a row that carries a signed request and our verification: its `opinions`
        (and `oracles_disagree`) are added in a worker thread; `then` says when."""
        if self._workers is None or judged.get("verification") is None or judged.get("signed") is None:
            return
        future = self._workers.submit(self._annotate_now, check, judged)
        with self._pending_lock:
            self._pending[id(judged)] = future

    def then(self, judged: dict[str, Any], done: Callable[[], None]) -> None:
        """Call `done` once the oracles have judged this row (at once when they are not asked about it)."""
        with self._pending_lock:
            future = self._pending.pop(id(judged), None)
        if future is None:
            done()
            return

        def finished(_: "concurrent.futures.Future[None]") -> None:
            try:
                done()
            except Exception as exc:  # noqa: BLE001 - a row that cannot be written is logged, not lost silently
                self.log(f"oracles: could not record a judged row: {type(exc).__name__}: {exc}")

        future.add_done_callback(finished)

    def drain(self) -> None:
        """Wait until every row handed to `annotate` is judged (and its `then` has run)."""
        self.started()
        if self._workers is not None:
            self._workers.shutdown(wait=True)
            self._workers = None

    def _annotate_now(self, check: Check, judged: dict[str, Any]) -> None:
        try:
            self.started()
            self.judge(check, judged)
        except Exception as exc:  # noqa: BLE001 - a harness bug costs this row its opinions, not the run
            judged["opinions"] = {name: {"verdict": NOT_APPLICABLE, "reason": f"harness error: {type(exc).__name__}: {exc}"}
                                  for name in self.names}

    def judge(self, check: Check, judged: dict[str, Any]) -> None:
        """`annotate`, in the calling thread."""
        verification, signed_json = judged.get("verification"), judged.get("signed")
        if not self.oracles or verification is None or signed_json is None:
            return
        signed = SignedRequest.from_json(signed_json)
        if check.surface == POST_POLICY and signed_json.get("form") is not None:
            # A presigned POST form: the oracles receive the browser's multipart/form-data POST of it.
            signed = browser_post(signed.url, post_upload(check.case, [(str(n), str(v)) for n, v in signed_json["form"]]))
        received = judged.pop(RECEIVED_BODY, None)  # a stream's wire body (the signed head has none)
        body = received if received is not None else check.case.request.body if signed.body is None else signed.body
        opinions = self.opinions(check, signed, body, canonical_request=judged.pop(SPEC_CANONICAL_REQUEST, None),
                                 server=judged.pop(RECEIVING_SERVER, None))
        # an oracle whose declared capabilities leave the check out has no opinion to keep (results.json
        # `oracles` holds the declarations): rows would repeat it thousands of times
        judged["opinions"] = {name: compact(opinion) for name, opinion in opinions.items() if not opinion.get("declared")}
        ours = ACCEPT if verification.get("valid") else REJECT
        differs = any(o["verdict"] not in (ours, NOT_APPLICABLE) for o in opinions.values())
        flags = disagreements(check.case.id, bool(verification.get("valid")), opinions,
                              ours_reason=str(verification.get("reason") or ""), path=signed.parts()[2],
                              received=received_text(signed), ours_rules=str(verification.get("rules") or "spec")) if differs else []
        if flags:
            judged["oracles_disagree"] = flags
        if judged.get("decided_by") is not None:
            from harness.provenance import oracle_sides

            judged["decided_by"]["oracles"] = oracle_sides(bool(verification.get("valid")), opinions)

    def records(self) -> dict[str, dict[str, Any]]:
        """Each oracle's entry in results.json (`oracles`): library, version, processes, opinions given."""
        out: dict[str, dict[str, Any]] = {}
        for name, oracle in self.oracles.items():
            first = oracle.sessions[0].record()
            out[name] = {k: first[k] for k in ("language", "library", "library_version", "runtime", "capabilities", "folder")}
            out[name].update(available=True, processes=len(oracle.sessions),
                             asked=sum(s.checks for s in oracle.sessions),  # the others were identical requests, answered from the cache
                             restarts=sum(s.restarts for s in oracle.sessions),
                             faults=[f for s in oracle.sessions for f in s.faults][-10:])
        specs = {s.name: s for s in self.pool.specs}
        for name, reason in self.pool.unavailable.items():
            out[name] = {"language": specs[name].language, "library": specs[name].library, "available": False, "reason": reason}
        return out

    def close(self) -> None:
        self.drain()
        for oracle in self.oracles.values():
            for session in oracle.sessions:
                session.close()
        self.pool.close()

    def __enter__(self) -> "Oracles":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def compact(opinion: dict[str, Any]) -> dict[str, Any]:
    """An opinion as a results row keeps it: no empty reason, and no reason for an `n/a` the oracle's declared
    capabilities explain (`declared`; results.json `oracles` holds them): rows repeat it thousands of times."""
    if opinion.get("declared"):
        return {"verdict": opinion["verdict"], "declared": True}
    return {k: v for k, v in opinion.items() if k != "reason" or v}


