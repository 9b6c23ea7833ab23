"""One adapter process and the JSON-lines conversation with it.

Everything that can go wrong on the other side of the pipe -- a crash, a hang, garbage, a partial
line, a wrong id, an oversized answer, an exit at start -- becomes an AdapterFault with a reason;
the caller decides whether to restart.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable

from harness import protocol
from harness.adapters.manifest import AdapterSpec, substitute
from harness.protocol import Hello, ProtocolError
from harness.results import Redactor

PROTOCOL_VERSION = protocol.VERSION
DEFAULT_MAX_LINE = 1 << 20  # 1 MiB
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TERM", "JAVA_HOME", "GOROOT", "SYSTEMROOT")


class AdapterFault(Exception):
    """The adapter process misbehaved; the check it was on becomes `error`."""


_NETWORK_ISOLATION: bool | None = None


def network_isolation_available() -> bool:
    """True when adapters can be started in a network namespace with no interfaces (`unshare --net`,
    which needs root or user namespaces). Checked once per process."""
    global _NETWORK_ISOLATION
    if _NETWORK_ISOLATION is None:
        try:
            _NETWORK_ISOLATION = shutil.which("unshare") is not None and subprocess.run(
                ["unshare", "--net", "true"], capture_output=True, timeout=10
            ).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _NETWORK_ISOLATION = False
    return _NETWORK_ISOLATION


def scrubbed_env(home: str, extra: dict[str, str] | None = None, spec_env: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """The adapter's environment: no AWS_*, no proxies, HOME an empty folder, TZ=UTC."""
    env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
    env.setdefault("PATH", "/usr/bin:/bin")
    env.setdefault("LANG", "C.UTF-8")
    env.update({"HOME": home, "TMPDIR": home, "TZ": "UTC", "NO_COLOR": "1"})
    for key, value in spec_env:
        env[key] = substitute((value,), None)[0]
    env.update(extra or {})
    return {k: v for k, v in env.items() if not k.startswith("AWS_")}


class AdapterProcess:
    """A started adapter. `request()` sends one message and waits for its answer."""

    def __init__(
        self,
        spec: AdapterSpec,
        build_dir: Path | None,
        log_path: Path | None = None,
        extra_env: dict[str, str] | None = None,
        secrets: Iterable[str] = (),
        max_line: int = DEFAULT_MAX_LINE,
        start_timeout: float = 60.0,
        isolate_network: bool = False,
    ):
        self.spec = spec
        self.build_dir = build_dir
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.redact = Redactor(secrets).text
        self.max_line = max_line
        self.start_timeout = start_timeout
        self.isolate_network = isolate_network
        self._ids = itertools.count(1)
        self.proc: subprocess.Popen[bytes] | None = None
        self.hello: Hello | None = None
        self._lines: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._home: str | None = None
        self._log: IO[str] | None = None

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> Hello:
        self._home = tempfile.mkdtemp(prefix="sigharness-home-")
        command = substitute(self.spec.start, self.build_dir)
        if self.isolate_network:
            command = ["unshare", "--net", "--", *command]  # no interface at all: any connect fails
        env = scrubbed_env(self._home, self.extra_env, self.spec.env)
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "a", encoding="utf-8")
        try:
            self.proc = subprocess.Popen(
                command, cwd=self.spec.folder, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, start_new_session=True,
            )
        except OSError as exc:
            raise AdapterFault(f"cannot start {' '.join(command)}: {exc.strerror or exc}") from None
        self._lines = queue.Queue()
        threading.Thread(target=self._read_stdout, args=(self.proc, self._lines), daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(self.proc,), daemon=True).start()
        answer = self._exchange(protocol.hello(self.spec.name), None, self.start_timeout)
        if answer.get("type") != "hello":
            raise AdapterFault(f"expected a hello answer, got {str(answer)[:200]}")
        try:
            self.hello = Hello.parse(answer, self.spec.name)
        except ProtocolError as exc:
            raise AdapterFault(f"malformed hello: {exc}") from None
        return self.hello

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.write(b'{"type": "bye"}\n')
                proc.stdin.flush()
                proc.stdin.close()
            except (OSError, ValueError):
                pass
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.kill()
        self._cleanup()

    def kill(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._cleanup()

    def _cleanup(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr) if self.proc else ():
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        if self._home:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None
        if self._log:
            self._log.close()
            self._log = None

    # -- conversation ------------------------------------------------------------------------
    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one message (an id is added) and return the answer with the same id."""
        ident = str(next(self._ids))
        return self._exchange(dict(message, id=ident), ident, timeout)

    def _exchange(self, message: dict[str, Any], ident: str | None, timeout: float) -> dict[str, Any]:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            raise AdapterFault(self._exit_reason("adapter is not running"))
        line = json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n"
        try:
            assert proc.stdin is not None
            proc.stdin.write(line.encode("utf-8"))
            proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise AdapterFault(self._exit_reason("adapter closed its input")) from None
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AdapterFault(f"no answer within {timeout:g}s (hang)")
            try:
                kind, payload = self._lines.get(timeout=remaining)
            except queue.Empty:
                raise AdapterFault(f"no answer within {timeout:g}s (hang)") from None
            if kind == "eof":
                raise AdapterFault(self._exit_reason("adapter exited"))
            if kind == "oversize":
                raise AdapterFault(f"answer longer than {self.max_line} bytes")
            if kind == "partial":
                raise AdapterFault(f"adapter exited after a partial line: {payload[:120]!r}")
            try:
                answer = json.loads(payload)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise AdapterFault(f"answer is not JSON: {payload[:120]!r}") from None
            if not isinstance(answer, dict):
                raise AdapterFault(f"answer is not a JSON object: {payload[:120]!r}")
            if ident is not None and str(answer.get("id")) != ident:
                raise AdapterFault(f"answer has id {answer.get('id')!r}, expected {ident!r}")
            return answer

    def _exit_reason(self, what: str) -> str:
        proc = self.proc
        code = proc.poll() if proc else None
        if code is None and proc is not None:
            try:
                code = proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                code = None
        tail = self._stderr_tail()
        detail = f" (exit status {code})" if code is not None else ""
        return f"{what}{detail}" + (f"; stderr: {tail}" if tail else "")

    # -- pipes -------------------------------------------------------------------------------
    def _read_stdout(self, proc: subprocess.Popen[bytes], lines: "queue.Queue[tuple[str, bytes]]") -> None:
        stream = proc.stdout
        assert stream is not None
        limit = self.max_line
        while True:
            try:
                line = stream.readline(limit + 1)
            except (OSError, ValueError):
                lines.put(("eof", b""))
                return
            if not line:
                lines.put(("eof", b""))
                return
            if not line.endswith(b"\n"):
                if len(line) > limit:
                    lines.put(("oversize", b""))
                    # Drain the rest of this overlong line so the pipe does not block.
                    while True:
                        chunk = stream.readline(limit)
                        if not chunk or chunk.endswith(b"\n"):
                            break
                    continue
                lines.put(("partial", line))
                lines.put(("eof", b""))
                return
            stripped = line.strip()
            if stripped:
                lines.put(("line", stripped))

    _stderr_keep: list[str]

    def _read_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        self._stderr_keep = []
        stream = proc.stderr
        assert stream is not None
        for raw in iter(lambda: stream.readline(65536), b""):
            text = self.redact(raw.decode("utf-8", "replace").rstrip("\n"))
            self._stderr_keep = (self._stderr_keep + [text])[-5:]
            if self._log:
                try:
                    self._log.write(text + "\n")
                    self._log.flush()
                except (OSError, ValueError):
                    pass

    def _stderr_tail(self) -> str:
        time.sleep(0.05)
        keep = getattr(self, "_stderr_keep", [])
        return " | ".join(line[:200] for line in keep[-3:])
