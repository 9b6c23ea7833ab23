"""Work done by a forked child on the second core (docs/performance.md, "Fourth round" and "Seventh round").

A child forked once the results are read shares every loaded row with the parent (copy-on-write; the
report runs with the cyclic collector paused, so nothing walks the rows) and works while the parent goes
on: the share of the checks from a pivot case on (harness/report/shares.py), or summary.md, junit.xml and
the known-issues pages. A child hands values back in the order sent (`send` or `send_bytes` in the child,
`receive` in the parent): each one is written to a spool file the two share (gone with them), and only
where it lies goes through the pipe, so the child never waits for the parent to read; a failure in the
child is one `ChildFailed` line in the parent, never a lost exception or a child left behind.

POSIX only: where `os.fork` is missing, one core is all there is, or another thread still runs,
`second_core()` is False and the report writes everything in one process, as before.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import tempfile
import threading
from typing import Any, Callable

from harness.redaction import FileRange

_HEADER = struct.Struct("!BQQ")  # (where: _PIPE, _SPOOL or _RAW, offset in the spool, length)
_PIPE, _SPOOL, _RAW = 0, 1, 2  # a pickle in the pipe, a pickle in the spool, bytes as they are in the spool
_IOV_MAX = 512  # pieces per writev (Linux takes 1,024)


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
        # values go through a file the two processes share (deleted already: gone with them), the pipe only
        # says where each lies: the child never waits for the parent to read (a share of a merge's checks
        # is tens of MB, and the parent reads it once its own share is done)
        try:
            self._spool: int | None = _spool()
        except OSError:
            self._spool = None
        self._at = 0
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

    def send_bytes(self, pieces: list[bytes]) -> None:
        """Pieces of bytes as they are, for `receive` to give back joined (no pickle, no join here: a merge's rows
        are tens of MB of text)."""
        length = sum(map(len, pieces))
        if self._spool is None or not self._spooled(pieces):
            self._send(("value", b"".join(pieces)))
            return
        self._tell(_HEADER.pack(_RAW, self._at - length, length))

    def _spooled(self, pieces: list[bytes]) -> bool:
        """`pieces` written one after the other at the spool's end (a few system calls: writev); False when they
        cannot be (a full disk: through the pipe, then)."""
        at = self._at
        writev = getattr(os, "pwritev", None)  # (not on every system: one piece at a time there)
        try:
            for start in range(0, len(pieces), _IOV_MAX if writev else 1):
                batch = [memoryview(p) for p in pieces[start:start + (_IOV_MAX if writev else 1)] if p]
                while batch:
                    done = writev(self._spool, batch, at) if writev else os.pwrite(self._spool, batch[0], at)  # type: ignore[arg-type]
                    at += done
                    while batch and done >= len(batch[0]):
                        done -= len(batch[0])
                        batch.pop(0)
                    if batch and done:
                        batch[0] = batch[0][done:]
        except OSError:
            return False
        self._at = at
        return True

    def _send(self, message: tuple[str, Any]) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        if self._spool is not None and self._spooled([data]):
            self._tell(_HEADER.pack(_SPOOL, self._at - len(data), len(data)))
        else:
            self._tell(_HEADER.pack(_PIPE, 0, len(data)), data)

    def _tell(self, *pieces: bytes) -> None:
        for piece in pieces:
            view = memoryview(piece)
            while view:
                view = view[os.write(self._out, view):]

    # in the parent
    def receive(self) -> Any:
        """The next value the child sent; ChildFailed when it failed or ended first. Bytes sent by `send_bytes`
        come as the FileRange of the spool they lie in (for the writer to copy), or as bytes."""
        head = self._in.read(_HEADER.size)
        if len(head) < _HEADER.size:
            raise ChildFailed(f"{self.what}: the process writing it ended without finishing ({self._ended()})")
        where, offset, length = _HEADER.unpack(head)
        if where == _RAW and self._spool is not None:
            if offset + length > os.fstat(self._spool).st_size:
                raise ChildFailed(f"{self.what}: the process writing it ended mid-answer ({self._ended()})")
            return FileRange(self._spool, offset, length)
        data = self._in.read(length) if where == _PIPE or self._spool is None else os.pread(self._spool, length, offset)
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
            if self._spool is not None:
                os.close(self._spool)
            _, self._status = os.waitpid(self.pid, 0)

    def stop(self) -> None:
        """End the child now (its work is no longer wanted) and wait for it."""
        if self._status is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self.close()

    def _ended(self) -> str:
        self.close()
        status = self._status or 0
        if os.WIFSIGNALED(status):
            return f"killed by signal {os.WTERMSIG(status)}"
        return f"exit status {os.WEXITSTATUS(status)}"


def _spool() -> int:
    """An open file no name leads to, for values on their way from the child."""
    handle = tempfile.TemporaryFile()
    fd = os.dup(handle.fileno())
    handle.close()
    return fd


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: cannot write it ({exc.strerror or type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}"
