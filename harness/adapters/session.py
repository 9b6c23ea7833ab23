"""One adapter through a run (or a fuzz session): its process is started on first use, restarted
after a fault, and given up after too many faults in a row. Every caller -- the runner, the fuzzer
-- signs through this, so they share the same fault handling, isolation and redaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from harness.adapters.manifest import AdapterSpec
from harness.adapters.process import DEFAULT_MAX_LINE, AdapterFault, AdapterProcess, Hello
from harness.model import Check


class AdapterSession:
    def __init__(
        self,
        spec: AdapterSpec,
        build_dir: Path | None,
        *,
        log_path: Path | None = None,
        extra_env: dict[str, str] | None = None,
        secrets: Iterable[str] = (),
        timeout: float = 30.0,
        start_timeout: float = 120.0,
        max_restarts: int = 3,
        max_line: int = DEFAULT_MAX_LINE,
        isolate_network: bool = False,
        log: Callable[[str], None] = lambda line: None,
    ):
        self.spec = spec
        self.build_dir = build_dir
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.secrets = set(secrets)
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.max_restarts = max_restarts
        self.max_line = max_line
        self.isolate_network = isolate_network
        self.log = log
        self.proc: AdapterProcess | None = None
        self.hello: Hello | None = None
        self.restarts = 0
        self.consecutive_faults = 0
        self.faults: list[str] = []
        self.gave_up: str | None = None
        self.checks = 0
        self.elapsed_ns = 0

    def start(self) -> Hello:
        """Start the process now (a fault propagates as AdapterFault)."""
        if self.proc is None:
            proc = AdapterProcess(self.spec, self.build_dir, self.log_path, self.extra_env, self.secrets,
                                  self.max_line, self.start_timeout, self.isolate_network)
            try:
                self.hello = proc.start()
            except AdapterFault:
                proc.kill()
                raise
            self.proc = proc
        assert self.hello is not None
        return self.hello

    def sign(self, check: Check) -> tuple[dict[str, Any] | None, str | None]:
        """(the adapter's `result` answer, None), or (None, why there is none: a fault or giving up)."""
        if self.gave_up:
            return None, self.gave_up
        try:
            self.start()
            assert self.proc is not None
            answer = self.proc.request({"type": "sign", "check": check.to_json()}, self.timeout)
        except AdapterFault as exc:
            return None, self._fault(str(exc))
        if answer.get("type") != "result":
            return None, self._fault(f"answer of type {answer.get('type')!r}")
        self.checks += 1
        self.consecutive_faults = 0
        if isinstance(answer.get("elapsed_ns"), int):
            self.elapsed_ns += answer["elapsed_ns"]
        return answer, None

    def _fault(self, reason: str) -> str:
        self.faults.append(reason)
        if self.proc is not None:
            self.proc.kill()
            self.proc = None
        self.restarts += 1
        self.consecutive_faults += 1
        if self.consecutive_faults > self.max_restarts:
            self.gave_up = f"gave up after {self.consecutive_faults} faults in a row; last fault: {reason}"
            self.log(f"adapter {self.spec.name}: {self.gave_up}")
        return f"adapter fault: {reason}"

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None
