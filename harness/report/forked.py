"""Report outputs written by a forked child on the second core (docs/performance.md, "Fourth round").

Once the results are loaded and merged, the outputs are independent of each other: a child forked then
shares every loaded row with the parent (copy-on-write; the report runs with the cyclic collector paused,
so nothing walks the rows) and writes its files while the parent goes on. A child hands values back
through a pipe (`send` in the child, `receive` in the parent), in the order sent; a failure in the child
is one `ChildFailed` line in the parent, never a lost exception or a child left behind.

POSIX only: where `os.fork` is missing, one core is all there is, or another thread still runs,
`second_core()` is False and the report writes everything in one process, as before.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
import threading
from typing import Any, Callable

_LENGTH = struct.Struct("!Q")


class ChildFailed(RuntimeError):
    """The child's work failed or the child ended without its answer; the message says which and why."""


def second_core() -> bool:
    """Whether a child can run beside this process: fork exists, more than one CPU may run this process, no
    other thread runs here (a child gets only the forking thread, and a lock another one held stays held in
    it), and SIGHARNESS_REPORT_PROCESSES is not 1."""
    if not hasattr(os, "fork") or os.environ.get("SIGHARNESS_REPORT_PROCESSES", "").strip() == "1":
        return False
    if threading.active_count() > 1:
        return False
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return cpus > 1


class Child:
    """`work(child)` run in a forked process; it calls `child.send(value)` for each value the parent
    `receive`s. What it raises reaches the parent as ChildFailed with its text."""

    def __init__(self, what: str, work: Callable[["Child"], None]):
        self.what = what
        read, write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the caller's code
            os.close(read)
            self._out = write
            status = 0
            try:
                work(self)
            except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent as text
                self._send(("error", _describe(exc)))
                status = 1
            finally:
                os._exit(status)  # no atexit handler, no flush of buffers the parent also holds
        os.close(write)
        self.pid = pid
        self._in = os.fdopen(read, "rb")
        self._status: int | None = None

    # in the child
    def send(self, value: Any) -> None:
        self._send(("value", value))

    def _send(self, message: tuple[str, Any]) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(_LENGTH.pack(len(data)) + data)
        while view:
            view = view[os.write(self._out, view):]

    # in the parent
    def receive(self) -> Any:
        """The next value the child sent; ChildFailed when it failed or ended first."""
        head = self._in.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            raise ChildFailed(f"{self.what}: the process writing it ended without finishing ({self._ended()})")
        (length,) = _LENGTH.unpack(head)
        data = self._in.read(length)
        if len(data) < length:
            raise ChildFailed(f"{self.what}: the process writing it ended mid-answer ({self._ended()})")
        kind, value = pickle.loads(data)  # noqa: S301 - our own forked child, through our own pipe
        if kind == "error":
            self.close()
            raise ChildFailed(f"{self.what}: {value}")
        return value

    def close(self) -> None:
        """Wait for the child (a child still running is waited for, never left behind)."""
        if self._status is None:
            self._in.close()
            _, self._status = os.waitpid(self.pid, 0)

    def _ended(self) -> str:
        self.close()
        status = self._status or 0
        if os.WIFSIGNALED(status):
            return f"killed by signal {os.WTERMSIG(status)}"
        return f"exit status {os.WEXITSTATUS(status)}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: cannot write it ({exc.strerror or type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}"
