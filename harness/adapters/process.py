"""One adapter process and the JSON-lines conversation with it.

Everything that can go wrong on the other side of the pipe -- a crash, a hang, garbage, a partial
line, a wrong id, a duplicate answer, an oversized, too deeply nested or non-finite answer, a
closed output, an exit at start, a stderr flood -- becomes an AdapterFault with a reason (or, for a
stale duplicate, an entry in `protocol_faults`); the caller decides whether to restart.

Containment (see docs/limits.md, "Adapter processes"):

- Where the machine allows it (root, or unprivileged user namespaces), every adapter starts as
  PID 1 of its own PID namespace, through a small launcher (`_LAUNCHER`: what `unshare --pid --fork
  --kill-child --mount-proc [--net] [--map-root-user]` does, except that it lets go of the pipes).
  When that PID 1 ends, or the launcher is killed, the kernel kills everything else in the
  namespace, double-forked and `setsid` children included, and the adapter's /proc shows only its
  own processes (so it cannot read the harness's environment through /proc/<parent>/environ).
- Elsewhere the adapter leads its own session and process group; teardown kills the group and
  then sweeps /proc for what escaped it: processes in the adapter's session or group, descendants
  by parent pid, and any process carrying the adapter's marker variable (SIGHARNESS_ADAPTER_TOKEN,
  inherited through double forks and `setsid`). An adapter that both detaches and clears its
  environment can escape this fallback, and can read the harness's /proc entries.

Either way the process is torn down at stop() and kill(), children included, even when the adapter
exits cleanly after `bye`. The adapter's pid is not reaped until the sweep is done, so the group and
session ids the sweep matches cannot be reused meanwhile.

The pipes are raw file descriptors owned by one thread each: the stdout and stderr readers close
their own ends at end of file, so teardown never waits on a reader. Writing to the adapter is
non-blocking and bounded by the request's deadline (an adapter that never reads cannot hang the
harness).
"""

from __future__ import annotations

import collections
import itertools
import json
import math
import os
import re
import secrets as _secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterable

from harness import protocol
from harness.adapters.manifest import AdapterSpec, substitute
from harness.limits import DEFAULT as DEFAULT_LIMITS
from harness.protocol import Hello, ProtocolError
from harness.results import Redactor

PROTOCOL_VERSION = protocol.VERSION
DEFAULT_MAX_LINE = DEFAULT_LIMITS.answer_bytes
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TERM", "JAVA_HOME", "GOROOT", "SYSTEMROOT")
TOKEN_VAR = "SIGHARNESS_ADAPTER_TOKEN"  # marks every process an adapter starts, for the sweep
STOP_GRACE = 3.0  # seconds an adapter has to exit after `bye`
PENDING_LINES = 64  # unread answer lines before an adapter counts as flooding its output
STDERR_LINE_BYTES = 64 * 1024  # one stderr line in the log; the rest of the line is dropped
PROTOCOL_FAULTS_KEPT = 100


class AdapterFault(Exception):
    """The adapter process misbehaved; the check it was on becomes `error`."""


# -- what the machine allows ----------------------------------------------------------------------
# The launcher puts the adapter in new namespaces (the way `unshare --net --pid --fork --kill-child
# --mount-proc [--map-root-user]` does), and, unlike `unshare`, lets go of the adapter's pipes while
# it waits: an adapter that closes its stdout is then seen at once, not at the check's timeout.
# argv: flags ("net", "pid", "user", comma-separated), "--", the adapter's command.
_LAUNCHER = r"""
import ctypes, os, signal, sys
flags, command = set(sys.argv[1].split(",")), sys.argv[3:]
libc = ctypes.CDLL(None, use_errno=True)
def fail(what):
    sys.stderr.write(f"sigharness launcher: {what}: {os.strerror(ctypes.get_errno())}\n")
    sys.stderr.flush()
    os._exit(126)
uid, gid = os.geteuid(), os.getegid()
clone = (0x40000000 if "net" in flags else 0) | (0x20000000 | 0x20000 if "pid" in flags else 0)
if "user" in flags:
    clone |= 0x10000000
if libc.unshare(clone) != 0:
    fail("unshare")
if "user" in flags:
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
child = os.fork() if "pid" in flags else 0
if child == 0:
    if "pid" in flags:
        if libc.prctl(1, signal.SIGKILL, 0, 0, 0) != 0:
            fail("prctl")
        if libc.mount(None, b"/", None, 16384 | 262144, None) != 0:
            fail("mount --make-rprivate /")
        if libc.mount(b"proc", b"/proc", b"proc", 2 | 4 | 8, None) != 0:
            fail("mount /proc")
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        sys.stderr.write(f"sigharness launcher: cannot start {command[0]}: {exc.strerror}\n")
        os._exit(127)
null = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(null, fd)
os.closerange(3, 65536)
_, status = os.waitpid(child, 0)
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
os._exit(os.waitstatus_to_exitcode(status))
"""
_LAUNCH: dict[tuple[bool, bool], list[str] | None] = {}
_LAUNCH_LOCK = threading.Lock()


def _launch_prefix(net: bool, pid: bool) -> list[str] | None:
    """The command line that starts a program in a new network and/or PID namespace here, or None.
    Tried as is (root), then inside a user namespace. Checked once per process."""
    if not (net or pid):
        return []
    with _LAUNCH_LOCK:
        if (net, pid) not in _LAUNCH:
            _LAUNCH[(net, pid)] = None
            for user in (False, True):
                flags = ",".join(f for f, on in (("net", net), ("pid", pid), ("user", user)) if on)
                prefix = [sys.executable, "-I", "-S", "-c", _LAUNCHER, flags, "--"]
                try:
                    ok = subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0
                except (OSError, subprocess.TimeoutExpired):
                    ok = False
                if ok:
                    _LAUNCH[(net, pid)] = prefix
                    break
        return _LAUNCH[(net, pid)]


def network_isolation_available() -> bool:
    """True when adapters can be started in a network namespace with no interface up (needs root or
    user namespaces). Checked once per process."""
    return _launch_prefix(True, False) is not None


def pid_isolation_available() -> bool:
    """True when adapters can be started in their own PID namespace (see the module docstring)."""
    return _launch_prefix(False, True) is not None


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


# -- answers --------------------------------------------------------------------------------------
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class _NotFinite(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotFinite(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotFinite(text)
    return value


def nesting_depth_exceeds(payload: bytes, limit: int) -> bool:
    """Whether JSON text nests arrays and objects more than `limit` deep (strings ignored); linear
    time and constant stack, so it is safe on input that would make a parser recurse."""
    if payload.count(b"[") + payload.count(b"{") <= limit:
        return False
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', payload)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def parse_answer(payload: bytes, max_depth: int) -> dict[str, Any]:
    """One answer line as a JSON object, or an AdapterFault saying why it is not an acceptable one."""
    shown = payload[:120]
    if nesting_depth_exceeds(payload, max_depth):
        raise AdapterFault(f"answer nested deeper than {max_depth} levels (limit nesting_depth): {shown!r}")
    try:
        answer = json.loads(payload, parse_constant=_reject_constant, parse_float=_finite_float)
    except _NotFinite as exc:
        raise AdapterFault(f"answer contains {exc}, which JSON does not allow (NaN and Infinity are not numbers in JSON)") from None
    except UnicodeDecodeError:
        raise AdapterFault(f"answer is not JSON (not UTF-8): {shown!r}") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # JSONDecodeError, too many digits, ...
        raise AdapterFault(f"answer is not JSON ({str(exc)[:100]}): {shown!r}") from None
    if not isinstance(answer, dict):
        raise AdapterFault(f"answer is not a JSON object: {shown!r}")
    if _SURROGATE_ESCAPE.search(payload):
        try:
            json.dumps(answer, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise AdapterFault(f"answer contains a lone UTF-16 surrogate (\\ud800-\\udfff), not text: {shown!r}") from None
    return answer


# -- pipes ----------------------------------------------------------------------------------------
class _Inbox:
    """Lines read from the adapter's stdout, waiting for the request they answer. Bounded: an
    adapter writing lines nobody asked for gets one `flood` item and the rest is discarded."""

    def __init__(self, limit_lines: int, limit_bytes: int):
        self._items: collections.deque[tuple[str, Any]] = collections.deque()
        self._ready = threading.Condition()
        self._bytes = 0
        self._limit_lines, self._limit_bytes = limit_lines, limit_bytes
        self.flooded = False

    def put(self, kind: str, payload: Any = b"") -> None:
        with self._ready:
            if self.flooded:
                return
            if kind == "line" and (len(self._items) >= self._limit_lines or self._bytes + len(payload) > self._limit_bytes):
                self.flooded = True  # what is queued is worthless now: the next request fails
                kind, payload = "flood", len(self._items)
                self._items.clear()
                self._bytes = 0
            self._items.append((kind, payload))
            self._bytes += len(payload) if isinstance(payload, bytes) else 0
            self._ready.notify_all()

    def get(self, timeout: float) -> tuple[str, Any] | None:
        with self._ready:
            if not self._items:
                self._ready.wait(timeout)
            if not self._items:
                return None
            kind, payload = self._items[0]
            if kind in ("eof", "flood"):
                return kind, payload  # sticky: every later request sees it too
            self._items.popleft()
            self._bytes -= len(payload) if isinstance(payload, bytes) else 0
            return kind, payload


class _StderrLog:
    """What is kept of an adapter's stderr: redacted lines in the log file up to `limit` bytes (the
    file's existing size counts, so restarts share one budget), then one line saying how much was
    dropped. Also keeps the last few KiB for fault messages."""

    def __init__(self, path: Path | None, limit: int, redact, longest_secret: int):
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self.limit = limit
        self.budget = 0
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "ab")
            self.budget = max(0, limit - self._file.tell())
        self._redact = redact
        # At a cut, drop as much as the longest encoded form of a secret (percent-encoding triples it).
        self._trim = 3 * longest_secret + 4 if longest_secret else 0
        self._line = bytearray()
        self._cut = False  # the current line passed STDERR_LINE_BYTES: the rest of it is dropped
        self._full = self._file is None or self.budget == 0
        self.dropped = 0
        self._recent = b""
        self._recent_cut = False

    def feed(self, chunk: bytes) -> None:
        with self._lock:
            recent = self._recent + chunk
            self._recent_cut = self._recent_cut or len(recent) > 4096
            self._recent = recent[-4096:]
            if self._full:
                self.dropped += len(chunk)
                return
            start = 0
            while start < len(chunk) and not self._full:
                newline = chunk.find(b"\n", start)
                end = len(chunk) if newline < 0 else newline
                self._take(chunk[start:end])
                if newline >= 0:
                    self._emit()
                start = end + 1
            if self._full and start < len(chunk):
                self.dropped += len(chunk) - start
            if self._file is not None:
                self._file.flush()

    def _take(self, piece: bytes) -> None:
        room = STDERR_LINE_BYTES - len(self._line)
        if len(piece) > room:
            self.dropped += len(piece) - room
            piece, self._cut = piece[:room], True
        self._line += piece

    def _emit(self) -> None:
        raw, cut = bytes(self._line), self._cut
        self._line.clear()
        self._cut = False
        text = self._redact(raw.decode("utf-8", "replace").rstrip("\r"))
        if cut:  # a secret may straddle the cut: drop what could be the start of one
            text = text[: max(0, len(text) - self._trim)] + " [rest of line dropped]"
        data = (text + "\n").encode("utf-8", "replace")
        if len(data) > self.budget:
            self._full = True
            self.dropped += len(raw) + 1
            return
        assert self._file is not None
        self._file.write(data)
        self.budget -= len(data)

    def note(self, text: str) -> None:
        """A line of the harness's own in the log (within the same budget)."""
        with self._lock:
            data = f"[sigharness: {text}]\n".encode("utf-8", "replace")
            if self._file is not None and not self._full and len(data) <= self.budget:
                self._file.write(data)
                self._file.flush()
                self.budget -= len(data)

    def tail(self, lines: int = 3) -> str:
        with self._lock:
            kept = self._recent.decode("utf-8", "replace").splitlines()
            if self._recent_cut and kept:
                kept = kept[1:]  # the first line may be cut, maybe inside a secret
        return " | ".join(self._redact(line)[:200] for line in [k for k in kept if k.strip()][-lines:])

    def close(self) -> None:
        with self._lock:
            if self._file is None:
                return
            if self._line and not self._full:
                self._emit()
            if self.dropped:
                self._file.write(
                    f"[sigharness: {self.dropped} more bytes of this adapter's stderr were dropped "
                    f"(limit adapter_log_bytes = {self.limit} bytes per log file)]\n".encode()
                )
            self._file.close()
            self._file = None
            self._full = True


def _proc_stat(pid: str) -> tuple[str, int, int, int] | None:
    """(state, ppid, process group, session) of one /proc entry, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2:].split()
    try:
        return fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[3])
    except (IndexError, ValueError):
        return None


def _has_token(pid: str, token: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return token in f.read()
    except OSError:
        return False


def adapter_processes(root: int, token: str, tree: bool = True) -> set[int]:
    """Live processes started by the adapter whose process is `root`: in its session or process
    group, below it by parent pid (when `tree`), or carrying its marker variable."""
    marker = f"{TOKEN_VAR}={token}\0".encode()
    me = os.getpid()
    stats: dict[int, tuple[str, int, int, int]] = {}
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return set()
    found: set[int] = set()
    for entry in entries:
        stat = _proc_stat(entry)
        pid = int(entry)
        if stat is None or stat[0] in ("Z", "X") or pid == me:
            continue
        stats[pid] = stat
        if stat[2] == root or stat[3] == root or _has_token(entry, marker):
            found.add(pid)
    if tree:
        children: dict[int, list[int]] = collections.defaultdict(list)
        for pid, stat in stats.items():
            children[stat[1]].append(pid)
        todo = [root]
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    found.discard(me)
    return found


# -- the process ----------------------------------------------------------------------------------
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
        *,
        max_depth: int = DEFAULT_LIMITS.nesting_depth,
        log_limit: int = DEFAULT_LIMITS.adapter_log_bytes,
        pid_namespace: bool | None = None,
        wrap: Callable[[list[str]], list[str]] | None = None,
    ):
        """`pid_namespace`: None uses one where the machine allows it, True requires one (start()
        fails otherwise), False uses the process group and sweep only. `wrap`: the wire stage's relay
        (harness/wire/stage.py), which gives the adapter its own network namespace itself."""
        self.spec = spec
        self.build_dir = build_dir
        self.log_path = log_path
        self.extra_env = extra_env or {}
        secrets = [s for s in secrets if s]
        self.redact = Redactor(secrets).text
        self._longest_secret = max((len(s) for s in secrets), default=0)
        self.max_line = max_line
        self.max_depth = max_depth
        self.log_limit = log_limit
        self.start_timeout = start_timeout
        self.isolate_network = isolate_network
        self.pid_namespace = pid_namespace
        self.wrap = wrap
        self.mechanism = ""  # "pid-namespace" or "process-group", once started
        self.protocol_faults: list[str] = []  # misbehaviour that cost no check its answer (first 100)
        self.protocol_fault_count = 0
        self._ids = itertools.count(1)
        self._current: str | None = None
        self._unanswered: set[str] = set()  # earlier ids whose answer never came (time was up)
        self.proc: subprocess.Popen[bytes] | None = None
        self.hello: Hello | None = None
        self._inbox = _Inbox(PENDING_LINES, 4 * max_line)
        self._stdin: int | None = None
        self._stderr: _StderrLog | None = None
        self._readers: list[threading.Thread] = []
        self._home: str | None = None
        self._token = _secrets.token_hex(16)
        self._down = False

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> Hello:
        if self.start_timeout <= 0 or self.start_timeout != self.start_timeout:
            raise ValueError(f"start timeout must be more than 0 seconds, not {self.start_timeout!r}")
        self._home = tempfile.mkdtemp(prefix="sigharness-home-")
        env = scrubbed_env(self._home, self.extra_env, self.spec.env)
        command = self._command(env["PATH"])
        env[TOKEN_VAR] = self._token
        self._stderr = _StderrLog(self.log_path, self.log_limit, self.redact, self._longest_secret)
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                command, cwd=self.spec.folder, env=env, stdin=in_r, stdout=out_w, stderr=err_w,
                start_new_session=True,
            )
        except OSError as exc:
            for fd in (in_w, out_r, err_r):
                os.close(fd)
            raise AdapterFault(f"cannot start {' '.join(command)}: {exc.strerror or exc}") from None
        finally:
            for fd in (in_r, out_w, err_w):  # the child's ends: only the child holds them now
                os.close(fd)
        os.set_blocking(in_w, False)
        self._stdin = in_w
        self._inbox = _Inbox(PENDING_LINES, 4 * self.max_line)
        self._readers = [
            threading.Thread(target=self._read_stdout, args=(out_r, self._inbox), daemon=True, name=f"{self.spec.name}-stdout"),
            threading.Thread(target=self._read_stderr, args=(err_r, self._stderr), daemon=True, name=f"{self.spec.name}-stderr"),
        ]
        for reader in self._readers:
            reader.start()
        answer = self._exchange(protocol.hello(self.spec.name), None, self.start_timeout)
        if answer.get("type") != "hello":
            raise AdapterFault(f"expected a hello answer, got {str(answer)[:200]}")
        try:
            self.hello = Hello.parse(answer, self.spec.name)
        except ProtocolError as exc:
            raise AdapterFault(f"malformed hello: {exc}") from None
        return self.hello

    def _command(self, path: str) -> list[str]:
        command = self.spec.command(self.build_dir)
        if not command:
            raise AdapterFault("the manifest's `start` is empty")
        # Checked here because inside a namespace only the launcher would notice, in words of its own.
        program = command[0]
        found = (os.path.join(self.spec.folder, program) if "/" in program else shutil.which(program, path=path))
        if not found or not os.path.isfile(found):
            raise AdapterFault(f"cannot start {' '.join(command)}: No such file or directory")
        if not os.access(found, os.X_OK):
            raise AdapterFault(f"cannot start {' '.join(command)}: Permission denied")
        use_pid = self.pid_namespace is not False and pid_isolation_available()
        if self.pid_namespace and not use_pid:
            raise AdapterFault("a PID namespace was required but this machine allows none (needs root or user namespaces)")
        net = self.isolate_network and self.wrap is None  # the relay makes the network namespace itself
        prefix = _launch_prefix(net, use_pid)
        if prefix is None and use_pid:
            prefix, use_pid = _launch_prefix(net, False), False
        if prefix is None:
            raise AdapterFault("network isolation was asked for but this machine allows no network namespace (needs root or user namespaces)")
        self.mechanism = "pid-namespace" if use_pid else "process-group"
        return [*prefix, *(self.wrap(command) if self.wrap else command)]

    def stop(self) -> None:
        """Say `bye`, give the adapter a moment to exit, then tear everything down."""
        if self.proc is None or self._down:
            self._cleanup()
            return
        if self._exit_status() is None:
            try:
                self._write(b'{"type": "bye"}\n', time.monotonic() + 1.0)
            except AdapterFault:
                pass
            self._close_stdin()
            self._wait_exit(STOP_GRACE)
        self._teardown()

    def kill(self) -> None:
        """Kill the adapter and everything it started, now."""
        if self.proc is not None and not self._down:
            self._teardown()
        self._cleanup()

    def _teardown(self) -> None:
        proc = self.proc
        assert proc is not None
        self._down = True
        self._close_stdin()
        pid = proc.pid
        # Before the kill the parent links still lead to every descendant; afterwards the session,
        # the group and the marker do. The pid stays unreaped (a zombie) throughout.
        targets = adapter_processes(pid, self._token, tree=True) | {pid}
        deadline = time.monotonic() + 2.0
        while targets and time.monotonic() < deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            for target in targets:
                try:
                    os.kill(target, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            self._wait_exit(0.2)
            targets = adapter_processes(pid, self._token, tree=False)
        try:
            proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
        joined = time.monotonic() + 1.0
        for reader in self._readers:  # they end at end of file, now that every writer is gone
            reader.join(timeout=max(0.0, joined - time.monotonic()))
        self._cleanup()

    def _cleanup(self) -> None:
        self._close_stdin()
        if self._home:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None
        if self._stderr is not None:
            self._stderr.close()  # a reader still going (an escaped writer) only counts what it drops

    def _close_stdin(self) -> None:
        if self._stdin is not None:
            try:
                os.close(self._stdin)
            except OSError:
                pass
            self._stdin = None

    def _exit_status(self) -> int | None:
        """The exit status if the adapter's process has ended, without reaping it."""
        proc = self.proc
        if proc is None:
            return None
        if proc.returncode is not None:
            return proc.returncode
        if not hasattr(os, "waitid"):  # no waitid (macOS): reap; the marker still finds what escaped
            return proc.poll()
        try:
            info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return proc.poll()
        if info is None:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def _wait_exit(self, seconds: float) -> int | None:
        deadline = time.monotonic() + seconds
        while True:
            status = self._exit_status()
            if status is not None or time.monotonic() >= deadline:
                return status
            time.sleep(0.01)

    # -- conversation ------------------------------------------------------------------------
    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one message (an id is added) and return the answer with the same id."""
        if not timeout > 0 or timeout == float("inf"):
            raise ValueError(f"timeout must be a number of seconds more than 0, not {timeout!r}")
        ident = str(next(self._ids))
        return self._exchange(dict(message, id=ident), ident, timeout)

    def _exchange(self, message: dict[str, Any], ident: str | None, timeout: float) -> dict[str, Any]:
        if self.proc is None:
            raise AdapterFault("adapter is not running (not started)")
        if self._down or self._exit_status() is not None:
            raise AdapterFault(self._exit_reason("adapter is not running", time.monotonic() + 1))
        deadline = time.monotonic() + timeout
        try:
            data = (json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: send it escaped, which is still valid JSON
            data = (json.dumps(message, separators=(",", ":")) + "\n").encode("ascii")
        if self._current is not None:
            self._unanswered.add(self._current)
        self._current = ident
        self._write(data, deadline, timeout)
        while True:
            remaining = deadline - time.monotonic()
            item = self._inbox.get(remaining) if remaining > 0 else None
            if item is None:
                raise AdapterFault(f"no answer within {timeout:g}s (hang)")
            kind, payload = item
            if kind == "eof":
                raise AdapterFault(self._exit_reason(payload or "adapter exited", deadline))
            if kind == "flood":
                raise AdapterFault(f"adapter wrote more than {payload} lines (or {4 * self.max_line} bytes) nobody asked for")
            if kind == "oversize":
                raise AdapterFault(f"answer longer than {self.max_line} bytes (limit answer_bytes)")
            if kind == "partial":
                raise AdapterFault(f"adapter exited after a partial line: {payload[:120]!r}")
            answer = parse_answer(payload, self.max_depth)
            if ident is None:
                return answer
            got = answer.get("id")
            if isinstance(got, str) and got == ident:
                self._current = None
                return answer
            if self._stale(answer):
                continue
            raise AdapterFault(f"answer has id {got!r}, expected {ident!r}")

    def _stale(self, answer: dict[str, Any]) -> bool:
        """An answer to an earlier request (answered already, or given up on), or a second hello:
        the adapter's protocol fault, discarded so that no other check is blamed for it."""
        got, current = answer.get("id"), self._current
        earlier = isinstance(got, str) and got.isdigit() and current is not None and 0 < int(got) < int(current)
        if earlier and got in self._unanswered:
            what = f"answered request {got!r} after its time was up"
            self._unanswered.discard(got)
        elif earlier:
            what = f"answered request {got!r} again"
        elif answer.get("type") == "hello" and got is None and self.hello is not None:
            what = "answered hello again"
        else:
            return False
        fault = f"{what} (discarded while waiting for request {current!r})"
        self.protocol_fault_count += 1
        if len(self.protocol_faults) < PROTOCOL_FAULTS_KEPT:
            self.protocol_faults.append(fault)
        if self._stderr is not None:
            self._stderr.note(f"protocol fault: {fault}")
        return True

    def _write(self, data: bytes, deadline: float, timeout: float | None = None) -> None:
        fd = self._stdin
        if fd is None:
            raise AdapterFault(self._exit_reason("adapter's input is closed", deadline))
        view = memoryview(data)
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                wait = f"within {timeout:g}s " if timeout else ""
                raise AdapterFault(f"adapter did not read its input {wait}(hang)")
            if not poller.poll(max(1, int(remaining * 1000))):
                continue
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                continue
            except OSError:  # broken pipe: the adapter closed its input or exited
                raise AdapterFault(self._exit_reason("adapter closed its input", deadline)) from None

    def _exit_reason(self, what: str, deadline: float) -> str:
        code = self._wait_exit(max(0.0, min(1.0, deadline - time.monotonic())))
        if code is None and what == "adapter exited":
            what = "adapter closed its output but is still running"
        tail = self._stderr_tail()
        detail = f" (exit status {code})" if code is not None else ""
        return f"{what}{detail}" + (f"; stderr: {tail}" if tail else "")

    def _stderr_tail(self) -> str:
        time.sleep(0.05)
        return self._stderr.tail() if self._stderr else ""

    # -- readers (one thread each; each owns and closes its end of the pipe) --------------------
    def _read_stdout(self, fd: int, inbox: _Inbox) -> None:
        reason = ""
        try:
            limit = self.max_line
            line = bytearray()
            skipping = False  # inside a line already reported as oversize
            while True:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                start = 0
                while start < len(chunk):
                    newline = chunk.find(b"\n", start)
                    end = len(chunk) if newline < 0 else newline
                    if not skipping:
                        line += chunk[start:end]
                        if len(line) > limit:
                            inbox.put("oversize")
                            line.clear()
                            skipping = True
                    if newline >= 0:
                        if not skipping and line.strip():
                            inbox.put("line", bytes(line).strip())
                        line.clear()
                        skipping = False
                    start = end + 1
            if line.strip() and not skipping:
                inbox.put("partial", bytes(line))
        except BaseException as exc:  # never lose the conversation silently
            reason = f"harness could not read the adapter's output: {type(exc).__name__}: {exc}"
        finally:
            inbox.put("eof", reason)
            os.close(fd)

    def _read_stderr(self, fd: int, log: _StderrLog) -> None:
        try:
            while True:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                log.feed(chunk)
        except BaseException:  # keep draining so the adapter never blocks on a full pipe
            try:
                while os.read(fd, 1 << 16):
                    pass
            except OSError:
                pass
        finally:
            os.close(fd)
