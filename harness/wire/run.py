"""The wire stage inside `sigharness run`: start it (or say in one line why not), send each signed
check once per client the adapter declares, judge what arrived (harness/wire/sent.py), and give each
ADAPTER+CLIENT pair its record. The runner (harness/runner.py) calls these; docs/wire.md."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator

from harness import protocol
from harness.model import SINGLE, Check
from harness.protocol import ProtocolError, Sent
from harness.verdicts import ERROR, UNSUPPORTED
from harness.wire.sent import judge_sent
from harness.wire.stage import WireStage, hosts_and_ports, unavailable_reason

if TYPE_CHECKING:
    from harness.adapters.pool import AdapterSession, PoolSettings
    from harness.oracles import Oracles


def start(wanted: bool, isolated: bool, checks: list[Check], log: Callable[[str], None]) -> WireStage | None:
    """The run's wire stage, not yet entered; None (with one line saying why) where it cannot run."""
    if not wanted:
        return None
    why = unavailable_reason(isolated)
    if why:
        log(f"wire stage off: {why}; only what the signers return is judged (--no-send silences this)")
        return None
    hosts, ports, bad = hosts_and_ports(checks)
    if bad:
        log(f"wire stage: {len(bad)} host name(s) cannot be mapped inside the adapters' namespace and are not "
            f"reachable there: {', '.join(bad[:5])}")
    return WireStage(hosts, ports)


def with_wire(settings: "PoolSettings", wire: WireStage | None) -> "PoolSettings":
    return settings if wire is None else dataclasses.replace(settings, wire=wire)


@contextlib.contextmanager
def nothing() -> Iterator[None]:
    yield


class FirstSend:
    """The signer row of a check the adapter will send, answered by its first `send`: the adapter signs
    exactly as for `sign` (docs/adapter-protocol.md), so the answer's request and stages are the `sign`
    answer's, and one round trip and one signing less per check. Where that answer is not `signed`
    (the client does not apply, the adapter refuses), the check is signed with `sign` as before and the
    answer kept as that client's wire row. `sign` is the runner's signing call for one check."""

    def __init__(self, session: "AdapterSession"):
        self.session = session
        self.check: Check | None = None
        self.client: str | None = None
        self.answer: tuple[dict[str, Any] | None, str | None] | None = None
        self.duration_ms = 0.0

    def sign(self, check: Check) -> tuple[dict[str, Any] | None, str | None]:
        self.check, self.client, self.answer = check, None, None
        hello, session = self.session.hello, self.session
        if hello is None or not hello.capabilities.clients or check.surface != SINGLE:
            return session.sign(check)
        self.client = hello.capabilities.clients[0]
        started = time.perf_counter_ns()
        answer, fault = session.send(check, self.client)
        self.duration_ms = round((time.perf_counter_ns() - started) / 1e6, 3)
        self.answer = (answer, fault)
        if answer is not None and answer.get("status") == protocol.SIGNED:
            session.count_signed(answer)
            return answer, None
        return session.sign(check)

    def take(self, check: Check, client: str) -> tuple[tuple[dict[str, Any] | None, str | None] | None, float]:
        """The answer already had from `client` for `check` (once), and its round trip in ms."""
        if check is not self.check or client != self.client or self.answer is None:
            return None, 0.0
        answer, self.answer = self.answer, None
        return answer, self.duration_ms


def send_all(wire: WireStage, session: "AdapterSession", check: Check, judged: dict[str, Any],
             oracles: "Oracles | None", first: FirstSend | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Send a check the adapter signed once per client it declares: (client, judged wire row) each. The
    first client's answer comes from `first` when it answered the signer row."""
    hello = session.hello
    if hello is None or not hello.capabilities.clients or check.surface != SINGLE or judged.get("signed") is None:
        return []
    out = []
    for client in hello.capabilities.clients:
        had, duration_ms = first.take(check, client) if first is not None else (None, 0.0)
        sent = send_one(wire, session, check, client, str(judged.get("status")), had, duration_ms)
        if oracles is not None:
            oracles.annotate(check, sent)
        out.append((client, sent))
    return out


def send_one(wire: WireStage, session: "AdapterSession", check: Check, client: str, signer_status: str,
             had: tuple[dict[str, Any] | None, str | None] | None = None, had_ms: float = 0.0) -> dict[str, Any]:
    """One `send`, judged: the wire row's fields (`had`: the answer already received, taking `had_ms`)."""
    started = time.perf_counter_ns()
    answer, fault = had if had is not None else session.send(check, client)
    if answer is None:
        judged: dict[str, Any] = {"status": ERROR, "reason": fault, "wire": {"client": client, "signer": signer_status}}
    else:
        try:
            judged = judge_answer(wire, session.spec.name, check, client, answer, signer_status)
        except Exception as exc:  # noqa: BLE001 - a harness bug costs this row, not the adapter's run
            judged = {"status": ERROR, "reason": f"harness could not judge what was sent: {type(exc).__name__}: {exc}",
                      "wire": {"client": client, "signer": signer_status}}
    judged["duration_ms"] = round((time.perf_counter_ns() - started) / 1e6 + had_ms, 3)
    return judged


def judge_answer(wire: WireStage, adapter: str, check: Check, client: str, answer: dict[str, Any],
                 signer_status: str) -> dict[str, Any]:
    base = {"client": client, "signer": signer_status}
    try:
        protocol.validate_result_answer(answer)
    except ProtocolError as exc:
        return {"status": ERROR, "reason": f"malformed answer to send: {exc}", "wire": base}
    status, reason = answer.get("status"), str(answer.get("reason") or "no reason given")
    if status == protocol.UNSUPPORTED:
        return {"status": UNSUPPORTED, "reason": reason, "wire": base}
    if status != protocol.SIGNED:
        return {"status": ERROR, "reason": f"the adapter signed this check for `sign` but answered {status} for `send`: {reason}",
                "wire": base}
    sent = Sent.parse(answer)
    received = wire.claim(adapter, sent.received) if sent else None
    return judge_sent(check, answer.get("signed"), sent, received, signer_status)


def client_records(wire: WireStage | None, record: dict[str, Any]) -> list[dict[str, Any]]:
    """One adapter record per ADAPTER+CLIENT column: the signer's, with the client named."""
    if wire is None or not record.get("available"):
        return []
    clients = (record.get("capabilities") or {}).get("clients") or []
    return [{**record, "name": f"{record['name']}+{client}", "client": client, "signer": record["name"]} for client in clients]
