"""The one adapter pool: every caller -- the runner, the fuzzer, bench -- drives adapter processes
through it, so they share the same build check, start, restart and give-up rules, isolation,
redaction and limits.

An `AdapterSession` is one adapter for the life of the pool: its process is started on first use,
restarted after a fault, and given up after `limits.max_restarts` faults in a row. The pool builds
and starts sessions, runs work on each adapter in its own thread, and always closes them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from harness import protocol
from harness.adapters.manifest import AdapterSpec, Availability, ensure_built
from harness.adapters.process import AdapterFault, AdapterProcess, network_isolation_available
from harness.limits import DEFAULT, Limits
from harness.model import Check
from harness.protocol import Hello

if TYPE_CHECKING:
    from harness.wire.stage import WireStage

Log = Callable[[str], None]


@dataclass
class PoolSettings:
    """How every adapter of a pool is run."""

    limits: Limits = DEFAULT
    adapter_env: dict[str, str] = field(default_factory=dict)
    secrets: frozenset[str] = frozenset()
    isolate_network: bool = False
    log_dir: Path | None = None  # one log file per adapter (its stderr), redacted
    wire: "WireStage | None" = None  # the run's wire stage: adapters start through its relay (harness/wire/stage.py)

    @staticmethod
    def isolation(choice: str) -> tuple[bool, str | None]:
        """`--isolate-network auto|on|off` -> (isolate?, problem)."""
        available = network_isolation_available()
        if choice == "on" and not available:
            return False, "--isolate-network on: this machine cannot start programs in a network namespace (needs root or user namespaces)"
        return (choice == "on" or (choice == "auto" and available)), None


class AdapterSession:
    def __init__(self, spec: AdapterSpec, build_dir: Path | None, settings: PoolSettings, log: Log = lambda line: None):
        self.spec = spec
        self.build_dir = build_dir
        self.settings = settings
        self.log = log
        self.proc: AdapterProcess | None = None
        self.hello: Hello | None = None
        self.restarts = 0
        self.consecutive_faults = 0
        self.faults: list[str] = []
        self.gave_up: str | None = None
        self.checks = 0
        self.elapsed_ns = 0
        self.protocol_faults: list[str] = []  # answers nobody asked for (discarded), across restarts
        self.protocol_fault_count = 0
        self.mechanism = ""  # how the process is contained (harness/adapters/process.py)
        self.sends: bool | None = None  # declares HTTP clients (known after the first hello; wire stage only)

    @property
    def log_path(self) -> Path | None:
        return self.settings.log_dir / f"{self.spec.name}.log" if self.settings.log_dir else None

    def start(self) -> Hello:
        """Start the process now (a fault propagates as AdapterFault). With the run's wire stage, every
        adapter starts through the relay (its hello, which says whether it sends, comes only after the
        start: starting once, wrapped, costs a relay; starting unwrapped and again wrapped cost a second
        start of each sending adapter)."""
        if self.proc is None:
            self.proc = self._launch(self.settings.wire is not None)
            if self.settings.wire is not None:
                self.sends = bool(self.hello and self.hello.capabilities.clients)
        assert self.hello is not None
        return self.hello

    def _launch(self, through_relay: bool) -> AdapterProcess:
        limits, wire = self.settings.limits, self.settings.wire
        wrap = (lambda argv: wire.command(self.spec.name, argv)) if through_relay and wire is not None else None
        proc = AdapterProcess(self.spec, self.build_dir, self.log_path, self.settings.adapter_env, self.settings.secrets,
                              limits.answer_bytes, limits.start_seconds, self.settings.isolate_network,
                              max_depth=limits.nesting_depth, log_limit=limits.adapter_log_bytes, wrap=wrap)
        try:
            self.hello = proc.start()
        except AdapterFault:
            proc.kill()
            raise
        return proc

    def ready(self) -> str | None:
        """Start the process if it is not running; None when it runs, else why not (counted as a fault)."""
        if self.gave_up:
            return self.gave_up
        if self.proc is not None:
            return None
        try:
            self.start()
        except AdapterFault as exc:
            return self._fault(str(exc))
        return None

    def missing_capability(self, check: Check) -> str | None:
        """Why the adapter declared it cannot take this check (None: it can, or it has not started)."""
        return self.hello.capabilities.missing(check) if self.hello else None

    def request(self, message: dict[str, Any], expect: str = "result") -> tuple[dict[str, Any] | None, str | None]:
        """(the answer of type `expect`, None), or (None, why there is none: a fault or giving up)."""
        if self.gave_up:
            return None, self.gave_up
        try:
            self.start()
            assert self.proc is not None
            answer = self.proc.request(message, self.settings.limits.check_seconds)
        except AdapterFault as exc:
            return None, self._fault(str(exc))
        if answer.get("type") != expect and not (expect == "bench" and answer.get("type") == "result"):
            return None, self._fault(f"answer of type {answer.get('type')!r}")
        self.consecutive_faults = 0
        return answer, None

    def sign(self, check: Check) -> tuple[dict[str, Any] | None, str | None]:
        """The adapter's `result` answer for one check (see `request`)."""
        answer, fault = self.request(protocol.sign(check))
        if answer is not None:
            self.count_signed(answer)
        return answer, fault

    def count_signed(self, answer: dict[str, Any]) -> None:
        """Count an answer that stands for a check's `sign` (its own, or the first `send`'s)."""
        self.checks += 1
        if isinstance(answer.get("elapsed_ns"), int):
            self.elapsed_ns += answer["elapsed_ns"]

    def send(self, check: Check, client: str) -> tuple[dict[str, Any] | None, str | None]:
        """The adapter's answer to `send` (sign, then send with `client` to the capture server; see `request`)."""
        return self.request(protocol.send(check, client))

    def _collect(self, proc: AdapterProcess) -> None:
        """Keep what a process knew before it goes: its protocol faults and how it was contained."""
        self.protocol_faults = (self.protocol_faults + list(getattr(proc, "protocol_faults", [])))[-10:]
        self.protocol_fault_count += getattr(proc, "protocol_fault_count", 0)
        self.mechanism = getattr(proc, "mechanism", self.mechanism)

    def _fault(self, reason: str) -> str:
        self.faults.append(reason)
        if self.proc is not None:
            self._collect(self.proc)
            self.proc.kill()
            self.proc = None
        self.restarts += 1
        self.consecutive_faults += 1
        if self.consecutive_faults > self.settings.limits.max_restarts:
            self.gave_up = f"gave up after {self.consecutive_faults} faults in a row; last fault: {reason}"
            self.log(f"adapter {self.spec.name}: {self.gave_up}")
        return f"adapter fault: {reason}"

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self._collect(self.proc)
            self.proc = None

    def record(self) -> dict[str, Any]:
        """The adapter's entry in results.json."""
        hello = self.hello.raw if self.hello else {}
        return {
            "name": self.spec.name,
            "language": hello.get("language", self.spec.language),
            "library": hello.get("library", self.spec.library),
            "library_version": hello.get("library_version", "unknown"),
            "runtime": hello.get("runtime", "unknown"),
            "capabilities": hello.get("capabilities", {}),
            "available": True,
            "folder": self.spec.folder.name,
            "network_isolated": self.settings.isolate_network,
            "containment": self.mechanism,
            "protocol_faults": self.protocol_faults,
            "protocol_fault_count": self.protocol_fault_count,
            "restarts": self.restarts,
            "faults": self.faults[-10:],
            "checks": self.checks,
            "library_elapsed_ns": self.elapsed_ns,
        }


class AdapterPool:
    """Adapters built, started on demand, run side by side, and always closed (use it as a context)."""

    def __init__(self, specs: Iterable[AdapterSpec], settings: PoolSettings, log: Log = lambda line: None):
        self.specs = list(specs)
        self.settings = settings
        self.log = log
        self.sessions: dict[str, AdapterSession] = {}
        self.unavailable: dict[str, str] = {}

    def prepare(self) -> "AdapterPool":
        """Check each adapter's toolchain and build (cached); the unavailable ones are set aside with the reason."""
        for spec in self.specs:
            availability: Availability = ensure_built(spec, self.settings.adapter_env, announce=self.log)
            if availability.built_now:
                self.log(f"built {spec.folder.name} in {availability.build_seconds:.0f}s")
            if not availability.available:
                self.unavailable[spec.name] = availability.reason
                self.log(f"adapter {spec.name} is unavailable: {availability.reason}")
                continue
            self.sessions[spec.name] = AdapterSession(spec, availability.build_dir, self.settings, self.log)
        return self

    def start_all(self) -> None:
        """Start every session at once; one that does not start is set aside as unavailable."""
        def start(session: AdapterSession) -> None:
            try:
                session.start()
            except AdapterFault as exc:
                problems[session.spec.name] = f"did not start: {exc}"

        problems: dict[str, str] = {}
        self.each(start)
        for name, problem in problems.items():
            self.log(f"adapter {name} {problem}")
            self.unavailable[name] = problem
            self.sessions.pop(name).close()

    def each(self, work: Callable[[AdapterSession], None], names: Iterable[str] | None = None) -> dict[str, Exception]:
        """Run `work(session)` for each adapter, each in its own thread. A crash in `work` ends that adapter's
        work only; it is logged and returned (adapter name -> exception), never lost."""
        def guarded(session: AdapterSession) -> None:
            try:
                work(session)
            except Exception as exc:  # noqa: BLE001 - a harness bug must not end the other adapters' work
                self.log(f"adapter {session.spec.name}: harness error {type(exc).__name__}: {exc}")
                errors[session.spec.name] = exc

        errors: dict[str, Exception] = {}
        chosen = [self.sessions[n] for n in (names if names is not None else list(self.sessions))]
        threads = [threading.Thread(target=guarded, args=(s,), name=s.spec.name, daemon=True) for s in chosen]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return errors

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()

    def __enter__(self) -> "AdapterPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
