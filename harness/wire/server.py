"""The capture server: an HTTP/1.1 server on loopback that records every request byte for byte.

It parses just enough HTTP/1.1 (RFC 9112) to know where a request ends -- the request line, the
header lines, a Content-Length or chunked body -- and keeps the bytes as they arrived: header names
in their case, values in their spacing (in `raw_head`), duplicates in order. It never looks at the
Host header. Every request (and every rejected one, with its fault) is queued and handed to an
optional callback before the small fixed answer goes out, so a client that has its answer can be
sure the server already has the request.

It listens on Unix domain sockets in a private folder (one per channel; network-isolated adapters
reach them through harness/wire/relay.py) and, when asked, on 127.0.0.1:<ephemeral port>. Never on
any other address.
"""

from __future__ import annotations

import base64
import os
import queue
import re
import selectors
import shutil
import socket
import struct
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from harness.limits import DEFAULT, KIB
from harness.model import Headers, SignedRequest

THREAD_PREFIX = "sigharness-wire"
UNIX_PATH_MAX = 107  # sun_path is 108 bytes with the terminating NUL
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(rb"HTTP/[0-9]\.[0-9]")
_HEAD_END = re.compile(rb"\n\r?\n")
_CHANNEL = re.compile(r"[A-Za-z0-9._-]{1,40}")
_REQUEST_LINE = re.compile(rb"[\r\n]*[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ \r\n]+ HTTP/")  # a (pipelined) next request
_REASONS = {100: "Continue", 200: "OK", 400: "Bad Request", 408: "Request Timeout", 413: "Content Too Large",
            417: "Expectation Failed", 431: "Request Header Fields Too Large", 503: "Service Unavailable",
            505: "HTTP Version Not Supported"}


@dataclass(frozen=True)
class WireLimits:
    """What one request may weigh and how long it may take (docs/wire.md)."""

    head_bytes: int = 64 * KIB  # request line + header lines (and chunked trailers): 431 beyond
    body_bytes: int = DEFAULT.body_bytes  # the body's content, de-chunked: 413 beyond
    chunk_line_bytes: int = 4 * KIB  # one chunk-size line with its extensions: 400 beyond
    request_seconds: float = 10.0  # from a request's first byte to its last: 408 beyond
    stall_seconds: float | None = None  # a request begun but not whole, and no byte for this long: 408 (None: only request_seconds)
    idle_seconds: float = 30.0  # a kept-alive connection waiting for its next request: closed
    connections: int = 64  # connections served at once: 503 beyond


@dataclass(frozen=True)
class Received:
    """One request as it arrived. `raw_head` and `raw_body` are the bytes on the wire; the other
    fields are read from them (text as UTF-8, or Latin-1 where the bytes are not UTF-8). A request
    rejected before its request line was whole has an empty method and target; `fault` says why."""

    seq: int
    method: str
    target: str
    version: str
    headers: Headers
    body: bytes  # the content: de-chunked for a chunked body
    raw_head: bytes  # request line, header lines and the empty line, exactly
    raw_body: bytes = b""  # the body as framed on the wire (chunk sizes, extensions, trailers)
    chunked: bool = False
    trailers: Headers = ()
    continued: bool = False  # the server sent `100 Continue` before reading the body
    client: str = ""  # "tcp:127.0.0.1:PORT" or "unix:CHANNEL pid=N" (the relay's process id)
    status: int = 200  # what the server answered (0: the client left before an answer)
    fault: str | None = None
    notes: tuple[str, ...] = ()

    def header_values(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for n, v in self.headers if n.lower() == lname]

    def to_json(self) -> dict[str, Any]:
        """For results files: the parsed fields, and the raw bytes in base64."""
        return {
            "seq": self.seq, "method": self.method, "target": self.target, "version": self.version,
            "headers": [list(h) for h in self.headers], "trailers": [list(h) for h in self.trailers],
            "chunked": self.chunked, "continued": self.continued, "client": self.client, "status": self.status,
            "fault": self.fault, "notes": list(self.notes),
            "raw_head_b64": base64.b64encode(self.raw_head).decode("ascii"),
            "raw_body_b64": base64.b64encode(self.raw_body).decode("ascii"),
            "body_b64": base64.b64encode(self.body).decode("ascii"),
        }

    def to_signed_request(self, scheme: str = "https") -> SignedRequest:
        """The request as the verifier sees it: the URL from the Host header as sent and the target
        as sent (an absolute-form target is the URL itself), every header as sent, the content."""
        if self.target.startswith(("http://", "https://")):
            url = self.target
        else:
            hosts = self.header_values("Host")
            url = f"{scheme}://{hosts[0] if hosts else ''}{self.target}"
        return SignedRequest(method=self.method, url=url, headers=self.headers, body=self.body)


class _Closed(Exception):
    """The client closed its side."""


class _Reject(Exception):
    def __init__(self, status: int, fault: str):
        super().__init__(fault)
        self.status, self.fault = status, fault


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class _Reader:
    """Bytes from one connection, with a deadline per request."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()
        self.deadline = 0.0
        self.limit_seconds = 0.0
        self.stall: float | None = None  # seconds without a byte that end the request (None: the deadline only)
        self.stalled = False

    def fill(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        wait = remaining if self.stall is None else min(remaining, self.stall)
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            self.stalled = wait < remaining
            raise TimeoutError from None
        except OSError:
            raise _Closed from None
        if not data:
            raise _Closed
        self.buf += data

    def take(self, n: int) -> bytes:
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def line(self, limit: int, status: int, what: str) -> bytes:
        """One line with its LF, at most `limit` bytes."""
        while True:
            end = self.buf.find(b"\n")
            if end != -1:
                if end + 1 > limit:
                    raise _Reject(status, f"{what} longer than {limit} bytes")
                return self.take(end + 1)
            if len(self.buf) > limit:
                raise _Reject(status, f"{what} longer than {limit} bytes")
            self.fill()

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.fill()
        return self.take(n)


@dataclass
class _Request:
    """A request being read; becomes a Received."""

    raw_head: bytes = b""
    raw_body: bytes = b""
    method: str = ""
    target: str = ""
    version: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunked: bool = False
    trailers: list[tuple[str, str]] = field(default_factory=list)
    continued: bool = False
    close: bool = False
    notes: list[str] = field(default_factory=list)


class CaptureServer:
    """Start with `with CaptureServer(tcp=True) as server:`; `server.unix_path()` and
    `server.tcp_address` are where clients connect. Each request goes to `on_request` when given
    (called on the connection's thread, before the answer), else to a queue read by `get()`;
    `keep=True` also keeps them all in `received` (tests; a run would hold every body)."""

    def __init__(self, *, tcp: bool = False, limits: WireLimits = WireLimits(),
                 on_request: Callable[[Received], None] | None = None, keep: bool = False,
                 response_body: bytes = b"received\n"):
        self.tcp = tcp
        self.limits = limits
        self.on_request = on_request
        self.keep = keep
        self.response_body = response_body
        self.received: list[Received] = []
        self.callback_errors: list[str] = []
        self.tcp_address: tuple[str, int] | None = None
        self.folder: str | None = None
        self._queue: queue.Queue[Received] = queue.Queue()
        self._lock = threading.Lock()
        self._seq = 0
        self._listeners: dict[str, socket.socket] = {}
        self._pending: list[tuple[str, socket.socket]] = []
        self._conns: dict[int, tuple[socket.socket, threading.Thread]] = {}
        self._conn_ids = 0
        self._stopping = threading.Event()
        self._accept_thread: threading.Thread | None = None
        self._wake_r = self._wake_w = -1

    # -- life cycle --------------------------------------------------------------------------
    def __enter__(self) -> "CaptureServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._accept_thread is not None:
            raise RuntimeError("capture server already started")
        self.folder = tempfile.mkdtemp(prefix="sigharness-wire-")  # mode 0700: this user only
        self._wake_r, self._wake_w = os.pipe()
        try:
            self.unix_path("default")
            if self.tcp:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", 0))
                sock.listen(128)
                self.tcp_address = sock.getsockname()[:2]
                self._pending.append(("tcp", sock))
        except BaseException:
            self._close_listeners()
            raise
        self._accept_thread = threading.Thread(target=self._accept_loop, name=f"{THREAD_PREFIX}-accept", daemon=True)
        self._accept_thread.start()

    def stop(self) -> None:
        """Close the listeners and every connection; return when every server thread has ended."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._wake_w != -1:
            os.write(self._wake_w, b"x")
        if self._accept_thread is not None:
            self._accept_thread.join()
        with self._lock:
            conns = list(self._conns.values())
        for sock, _ in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for _, thread in conns:
            thread.join()
        self._close_listeners()

    def _close_listeners(self) -> None:
        for sock in list(self._listeners.values()) + [s for _, s in self._pending]:
            sock.close()
        self._listeners.clear()
        self._pending.clear()
        for fd in (self._wake_r, self._wake_w):
            if fd != -1:
                os.close(fd)
        self._wake_r = self._wake_w = -1
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def unix_path(self, channel: str = "default") -> str:
        """The Unix socket of `channel` (created on first use): requests through it are recorded
        with client "unix:CHANNEL", so each adapter can have its own."""
        if not _CHANNEL.fullmatch(channel):
            raise ValueError(f"channel name {channel!r}: use 1-40 letters, digits, '.', '_' or '-'")
        if self.folder is None:
            raise RuntimeError("capture server not started")
        path = os.path.join(self.folder, f"{channel}.sock")
        with self._lock:
            if channel in self._listeners or any(name == channel for name, _ in self._pending):
                return path
            if len(os.fsencode(path)) > UNIX_PATH_MAX:
                raise ValueError(f"Unix socket path {path!r} is longer than {UNIX_PATH_MAX} bytes; set TMPDIR shorter")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(path)
            sock.listen(128)
            self._pending.append((channel, sock))
        if self._accept_thread is not None:
            os.write(self._wake_w, b"x")
        return path

    # -- results -----------------------------------------------------------------------------
    @property
    def count(self) -> int:
        """Requests recorded so far (rejected ones included)."""
        return self._seq

    def get(self, timeout: float = 5.0) -> Received:
        """The next request received (in arrival order); TimeoutError if none comes in time."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no request reached the capture server within {timeout:g}s") from None

    # -- serving -----------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._wake_r, selectors.EVENT_READ, None)
        try:
            while not self._stopping.is_set():
                with self._lock:
                    pending, self._pending = self._pending, []
                for name, sock in pending:
                    self._listeners[name] = sock
                    sel.register(sock, selectors.EVENT_READ, name)
                for key, _ in sel.select():
                    if key.data is None:
                        os.read(self._wake_r, 64)
                        continue
                    try:
                        conn, addr = key.fileobj.accept()  # type: ignore[union-attr]
                    except OSError:
                        continue
                    self._serve(conn, key.data, addr)
        finally:
            sel.close()

    def _serve(self, conn: socket.socket, channel: str, addr: object) -> None:
        if channel == "tcp":
            client = f"tcp:{addr[0]}:{addr[1]}"  # type: ignore[index]
        else:
            client = f"unix:{channel}"
            try:
                pid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
                client += f" pid={pid}"
            except OSError:
                pass
        with self._lock:
            if self._stopping.is_set():
                conn.close()
                return
            busy = len(self._conns) >= self.limits.connections
            self._conn_ids += 1
            ident = self._conn_ids
            thread = threading.Thread(target=self._connection, args=(ident, conn, client, busy),
                                      name=f"{THREAD_PREFIX}-conn-{ident}", daemon=True)
            self._conns[ident] = (conn, thread)
        thread.start()

    def _connection(self, ident: int, conn: socket.socket, client: str, busy: bool) -> None:
        try:
            if busy:
                fault = f"more than {self.limits.connections} connections at once"
                self._record(_Request(), client, 503, fault)
                self._respond(conn, 503, "", True, fault)
                return
            reader = _Reader(conn)
            while not self._stopping.is_set():
                if not self._one_request(reader, client):
                    return
        except OSError:
            pass
        finally:
            try:
                conn.close()
            finally:
                with self._lock:
                    self._conns.pop(ident, None)

    def _one_request(self, reader: _Reader, client: str) -> bool:
        """Read, record and answer one request; False when the connection is done."""
        limits = self.limits
        reader.deadline = time.monotonic() + limits.idle_seconds
        reader.stall, reader.stalled = None, False
        req = _Request()
        try:
            while not reader.buf.strip(b"\r\n"):
                # RFC 9112 2.2: empty lines before a request line are ignored.
                reader.buf.clear()
                reader.fill()
            reader.deadline = time.monotonic() + limits.request_seconds
            reader.stall = limits.stall_seconds
            while reader.buf[:1] in (b"\r", b"\n"):
                del reader.buf[:1]
            self._read_head(reader, req)
            self._read_body(reader, req)
        except _Closed:
            if req.raw_head or reader.buf:
                self._keep_partial(req, reader)
                self._record(req, client, 0, "the client closed the connection before the request was whole")
            return False
        except TimeoutError:
            if not req.raw_head and not reader.buf:
                return False  # an idle kept-alive connection: nothing to record
            self._keep_partial(req, reader)
            fault = (f"request not whole, and no byte for {limits.stall_seconds:g}s" if reader.stalled
                     else f"request not whole after {limits.request_seconds:g}s")
            received = self._record(req, client, 408, fault)
            self._respond(reader.sock, 408, req.method, True, fault, received.seq)
            return False
        except _Reject as exc:
            self._keep_partial(req, reader)
            received = self._record(req, client, exc.status, exc.fault)
            self._respond(reader.sock, exc.status, req.method, True, exc.fault, received.seq)
            return False
        received = self._record(req, client, 200, None)
        self._respond(reader.sock, 200, req.method, req.close, None, received.seq, req.version == "HTTP/1.0")
        return not req.close

    def _keep_partial(self, req: _Request, reader: _Reader) -> None:
        """A request cut short keeps what arrived of it (within the limits)."""
        if not req.raw_head:
            req.raw_head = bytes(reader.buf[: self.limits.head_bytes])
        else:
            req.raw_body += bytes(reader.buf[: max(0, self.limits.body_bytes - len(req.raw_body))])

    def _read_head(self, reader: _Reader, req: _Request) -> None:
        limit = self.limits.head_bytes
        while True:
            match = _HEAD_END.search(reader.buf)
            if match:
                if match.end() > limit:
                    raise _Reject(431, f"request head longer than {limit} bytes")
                req.raw_head = reader.take(match.end())
                break
            if len(reader.buf) > limit:
                raise _Reject(431, f"request head longer than {limit} bytes")
            reader.fill()
        lines = [line[:-1] if line.endswith(b"\r") else line for line in req.raw_head.split(b"\n")[:-2]]
        request_line = lines[0]
        first, last = request_line.find(b" "), request_line.rfind(b" ")
        method, target, version = request_line[:first], request_line[first + 1:last], request_line[last + 1:]
        if first <= 0 or last == first or not _TOKEN.fullmatch(method) or not target or not _VERSION.fullmatch(version):
            raise _Reject(400, f"malformed request line {request_line[:200]!r}")
        req.method, req.target, req.version = method.decode("ascii"), _text(target), version.decode("ascii")
        if not version.startswith(b"HTTP/1."):
            raise _Reject(505, f"{req.version} is not HTTP/1.x (an HTTP/2 client without fallback?)")
        if target != target.strip(b" \t"):
            req.notes.append("spaces around the request target")
        req.headers = self._header_lines(lines[1:])

    def _header_lines(self, lines: list[bytes]) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        for line in lines:
            if line[:1] in (b" ", b"\t"):
                raise _Reject(400, f"obsolete line folding (RFC 9112 5.2) in {line[:200]!r}")
            name, colon, value = line.partition(b":")
            if not colon or not _TOKEN.fullmatch(name):
                raise _Reject(400, f"malformed header line {line[:200]!r}")
            headers.append((name.decode("ascii"), _text(value.strip(b" \t"))))
        return headers

    def _read_body(self, reader: _Reader, req: _Request) -> None:
        values = lambda name: [v for n, v in req.headers if n.lower() == name]  # noqa: E731
        connection = {t.strip().lower() for v in values("connection") for t in v.split(",")}
        req.close = "close" in connection or (req.version == "HTTP/1.0" and "keep-alive" not in connection)
        codings = [t.strip().lower() for v in values("transfer-encoding") for t in v.split(",") if t.strip()]
        lengths = {t.strip() for v in values("content-length") for t in v.split(",")}
        if codings:
            if codings[-1] != "chunked":
                raise _Reject(400, f"Transfer-Encoding {', '.join(codings)} does not end in chunked (RFC 9112 6.3)")
            req.chunked = True
            if lengths:
                req.notes.append("both Transfer-Encoding and Content-Length: the length is ignored (RFC 9112 6.3)")
                req.close = True
            size = None
        elif lengths:
            if len(lengths) > 1 or not all(v.isdigit() and v.isascii() for v in lengths):
                raise _Reject(400, f"invalid Content-Length {', '.join(sorted(lengths))}")
            size = int(lengths.pop())
            if size > self.limits.body_bytes:
                raise _Reject(413, f"body of {size} bytes, more than {self.limits.body_bytes}")
        else:
            if reader.buf and not _REQUEST_LINE.match(reader.buf):
                # bytes right behind a request without a body that are not a next request: a body sent without
                # framing (node:https on a GET). A server reads them as the start of the next request, which
                # would then fail as another check's: they are noted on this one and the connection is closed.
                req.notes.append(f"{len(reader.buf)} bytes followed a request without Content-Length or Transfer-Encoding "
                                 "(a body sent without framing: a server reads it as the start of the next request); "
                                 "the connection was closed")
                reader.buf.clear()
                req.close = True
            return
        expect = [v.strip().lower() for v in values("expect")]
        if expect:
            if expect != ["100-continue"]:
                raise _Reject(417, f"unknown expectation {', '.join(expect)}")
            if req.version != "HTTP/1.0" and (req.chunked or size) and not reader.buf:
                reader.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                req.continued = True
        if size is not None:
            req.body = req.raw_body = reader.exactly(size)
        else:
            self._read_chunked(reader, req)

    def _read_chunked(self, reader: _Reader, req: _Request) -> None:
        raw, body = bytearray(), bytearray()
        limits = self.limits
        try:
            while True:
                line = reader.line(limits.chunk_line_bytes, 400, "chunk-size line")
                raw += line
                size_text = line.rstrip(b"\r\n").partition(b";")[0].strip(b" \t")
                if not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
                    raise _Reject(400, f"malformed chunk-size line {line[:100]!r}")
                size = int(size_text, 16)
                if size == 0:
                    break
                if len(body) + size > limits.body_bytes:
                    raise _Reject(413, f"chunked body of more than {limits.body_bytes} bytes")
                data = reader.exactly(size)
                raw += data
                body += data
                end = reader.line(2, 400, "chunk end")
                raw += end
                if end not in (b"\r\n", b"\n"):
                    raise _Reject(400, "chunk data not followed by CRLF")
            trailer_lines, trailer_bytes = [], 0
            while True:
                line = reader.line(limits.head_bytes - trailer_bytes, 431, "chunked trailer section")
                raw += line
                trailer_bytes += len(line)
                if line in (b"\r\n", b"\n"):
                    break
                trailer_lines.append(line.rstrip(b"\r\n"))
            req.trailers = self._header_lines(trailer_lines)
        finally:
            req.raw_body, req.body = bytes(raw), bytes(body)

    def _record(self, req: _Request, client: str, status: int, fault: str | None) -> Received:
        with self._lock:
            self._seq += 1
            received = Received(
                seq=self._seq, method=req.method, target=req.target, version=req.version,
                headers=tuple(req.headers), body=req.body, raw_head=req.raw_head, raw_body=req.raw_body,
                chunked=req.chunked, trailers=tuple(req.trailers), continued=req.continued, client=client,
                status=status, fault=fault, notes=tuple(req.notes),
            )
            if self.keep:
                self.received.append(received)
        if self.on_request is None:
            self._queue.put(received)
            return received
        try:
            self.on_request(received)
        except Exception as exc:  # the callback's bug must not take the connection down
            self.callback_errors.append(f"request {received.seq}: {type(exc).__name__}: {exc}")
        return received

    def _respond(self, sock: socket.socket, status: int, method: str, close: bool, fault: str | None,
                 seq: int = 0, keep_alive_header: bool = False) -> None:
        body = self.response_body if fault is None else (fault + "\n").encode("utf-8", "replace")
        head = [f"HTTP/1.1 {status} {_REASONS[status]}", "Content-Type: text/plain; charset=utf-8",
                f"Content-Length: {len(body)}"]
        if seq:
            head.append(f"X-Sigharness-Received: {seq}")
        if close:
            head.append("Connection: close")
        elif keep_alive_header:
            head.append("Connection: keep-alive")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + (b"" if method == "HEAD" else body)
        try:
            sock.settimeout(self.limits.request_seconds)
            sock.sendall(data)
            if close:
                sock.shutdown(socket.SHUT_WR)
            if fault is not None:
                _linger(sock)
        except OSError:
            pass


def _linger(sock: socket.socket, seconds: float = 1.0) -> None:
    """Read and drop what the client still sends after a rejection, for a moment, so that closing
    with unread bytes (a TCP reset) does not destroy the answer before the client reads it."""
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            if not sock.recv(65536):
                return
        except OSError:
            return
