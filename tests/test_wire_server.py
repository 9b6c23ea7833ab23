"""The wire stage's foundation: the capture server records requests exactly as they arrive, and the
relay lets a network-isolated command reach it -- and nothing else (the listener check)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import adapter_command, unavailable
from harness.model import Context, Request
from harness.reference.signer import sign_request
from harness.verify.single import ServerRules, verify
from harness.wire import relay
from harness.wire.server import THREAD_PREFIX, CaptureServer, WireLimits

CTX = Context("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, "us-east-1", ("us-east-1",), "execute-api",
              datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc))


# -- helpers -----------------------------------------------------------------------------------
def wire_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]


@pytest.fixture
def server():
    with CaptureServer(tcp=True) as srv:
        yield srv
    assert wire_threads() == [], "capture server threads left after stop()"


def connect(srv: CaptureServer, via: str = "tcp") -> socket.socket:
    if via == "tcp":
        sock = socket.create_connection(srv.tcp_address, timeout=5)
    else:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(5)
        sock.connect(srv.unix_path(via))
    return sock


def read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    """One response (head, body) read by Content-Length; leftovers stay in the socket."""
    head = b""
    while b"\r\n\r\n" not in head:
        data = sock.recv(1)
        assert data, f"connection closed after {head!r}"
        head += data
    length = int(next(l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")))
    body = b""
    while len(body) < length:
        body += sock.recv(length - len(body))
    return head, body


def exchange(srv: CaptureServer, raw: bytes, via: str = "tcp") -> tuple[bytes, bytes]:
    with connect(srv, via) as sock:
        sock.sendall(raw)
        return read_response(sock)


def need_relay(hosts: bool = False) -> None:
    if not relay.relay_available():
        unavailable("no network namespaces here (`unshare --net` fails): the relay and the listener check "
                    "cannot run", "network isolation of adapters")
    if hosts and not relay.relay_available(hosts=True):
        unavailable("no private mount namespace here (`unshare --mount` fails): no private /etc/hosts",
                    "host names inside the adapter's namespace")


def processes_with(marker: str) -> list[str]:
    """Processes (not this one) whose command line or environment holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                cmdline = (entry / "cmdline").read_bytes()
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline + environ:
                shown = cmdline.replace(b"\0", b" ")[:200]
                found.append(f"{entry.name}: {shown!r}")
    return found


@contextmanager
def decoy_listener():
    """A host listener on 127.0.0.1 that counts the connections it gets (it must get none)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.1)
    hits: list[str] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, addr = sock.accept()
            except (socket.timeout, OSError):
                continue
            hits.append(f"{addr}: {conn.recv(200)!r}")
            conn.close()

    thread = threading.Thread(target=accept, name="decoy")
    thread.start()
    try:
        yield sock.getsockname()[1], hits
    finally:
        done.set()
        thread.join()
        sock.close()


def run_wrapped(srv: CaptureServer, code: str, *args: str, port: int = 80, hosts: tuple[str, ...] = (),
                timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run a Python client through the relay; afterwards no process of it may be left."""
    argv = relay.wrap_command([sys.executable, "-c", textwrap.dedent(code), *args], srv.unix_path(), port, hosts=hosts)
    marker = f"wire-test-{uuid.uuid4().hex}"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "NO_PROXY": "*",
           "WIRE_TEST_MARKER": marker}
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    assert processes_with(marker) == [], "relay or client processes left running"
    return proc


# -- exact recording ---------------------------------------------------------------------------
def test_head_is_recorded_byte_for_byte_with_case_spacing_and_duplicates(server):
    raw = (b"GET /p?b=2&a=1 HTTP/1.1\r\n"
           b"Host:   svc.us-east-1.amazonaws.com   \r\n"
           b"x-AMZ-date:20150830T123600Z\r\n"
           b"X-Dup: one\r\n"
           b"X-Tab:\t a  b \t\r\n"
           b"x-dup: two\r\n"
           b"\r\n")
    head, body = exchange(server, raw)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and body == b"received\n"
    got = server.get()
    assert got.raw_head == raw
    assert (got.method, got.target, got.version) == ("GET", "/p?b=2&a=1", "HTTP/1.1")
    assert got.headers == (("Host", "svc.us-east-1.amazonaws.com"), ("x-AMZ-date", "20150830T123600Z"),
                           ("X-Dup", "one"), ("X-Tab", "a  b"), ("x-dup", "two"))
    assert got.header_values("x-dup") == ["one", "two"]
    assert got.client.startswith("tcp:127.0.0.1:") and got.fault is None and got.status == 200
    data = json.loads(json.dumps(got.to_json()))
    assert base64.b64decode(data["raw_head_b64"]) == raw and data["headers"][3] == ["X-Tab", "a  b"]


def test_target_kept_as_sent_percent_20_plus_and_raw_space(server):
    for target in (b"/a%20b?q=x%20y", b"/a+b?q=x+y", b"/a b/c d?q=x y", b"/%7e~@:"):
        exchange(server, b"GET " + target + b" HTTP/1.1\r\nHost: h\r\n\r\n")
        got = server.get()
        assert got.target == target.decode() and got.raw_head.split(b"\r\n")[0] == b"GET " + target + b" HTTP/1.1"
        assert got.to_signed_request().url == "https://h" + target.decode()


def test_host_header_does_not_matter_and_becomes_the_url(server):
    exchange(server, b"PUT /k HTTP/1.1\r\nHost: bucket.s3.example:8443\r\nContent-Length: 3\r\n\r\nabc")
    signed = server.get().to_signed_request()
    assert (signed.method, signed.url, signed.body) == ("PUT", "https://bucket.s3.example:8443/k", b"abc")
    exchange(server, b"GET http://other.example/x?y HTTP/1.1\r\nHost: ignored\r\n\r\n")
    assert server.get().to_signed_request().url == "http://other.example/x?y"


def test_chunked_body_recorded_raw_and_dechunked(server):
    framed = b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n"
    head = b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    with connect(server) as sock:
        for piece in (head, framed[:4], framed[4:13], framed[13:]):  # split mid-line and mid-chunk
            sock.sendall(piece)
            time.sleep(0.01)
        assert read_response(sock)[1] == b"received\n"
    got = server.get()
    assert got.chunked and got.raw_head == head and got.raw_body == framed
    assert got.body == b"hello, world" and got.trailers == (("X-Trailer", "t"),)


def test_expect_100_continue_is_answered_before_the_body(server):
    with connect(server) as sock:
        sock.sendall(b"PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"data")
        head, _ = read_response(sock)
        assert head.startswith(b"HTTP/1.1 200")
    got = server.get()
    assert got.continued and got.body == b"data"


def test_keep_alive_serves_two_requests_on_one_connection_then_close(server):
    with connect(server) as sock:
        sock.sendall(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
        first, _ = read_response(sock)
        second, _ = read_response(sock)
        assert b"Connection: close" not in first + second
        assert b"X-Sigharness-Received: 1" in first and b"X-Sigharness-Received: 2" in second
        sock.sendall(b"GET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        third, _ = read_response(sock)
        assert b"Connection: close" in third and sock.recv(10) == b""
    got = [server.get() for _ in range(3)]
    assert [r.target for r in got] == ["/1", "/2", "/3"] and len({r.client for r in got}) == 1


def test_a_body_sent_without_framing_is_noted_and_does_not_reach_the_next_request(server):
    """node:https sends a GET's body with neither Content-Length nor Transfer-Encoding: the server sees a request
    without a body and then bytes that would start the next request (another check's). They are noted on the
    request they followed, and the connection is closed; a pipelined next request is still served."""
    with connect(server) as sock:
        sock.sendall(b'GET /search HTTP/1.1\r\nHost: h\r\n\r\n{"query":{"match_all":{}}}')
        head, _ = read_response(sock)
        assert head.startswith(b"HTTP/1.1 200") and b"Connection: close" in head and sock.recv(10) == b""
    got = server.get()
    assert got.target == "/search" and got.body == b"" and got.status == 200
    assert got.notes and got.notes[0].startswith("26 bytes followed a request without Content-Length or Transfer-Encoding")
    with connect(server) as sock:  # the next check's request, on a new connection, is whole
        sock.sendall(b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
        head, _ = read_response(sock)
        assert head.startswith(b"HTTP/1.1 200")
    assert server.get().target == "/next"


def test_bare_lf_lines_and_head_requests(server):
    with connect(server) as sock:
        sock.sendall(b"HEAD /lf HTTP/1.1\nHost: h\nX-A:  1\n\n")
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += sock.recv(1)
        assert b"Content-Length: 9" in head
        sock.sendall(b"GET /after HTTP/1.1\r\nHost: h\r\n\r\n")  # no body came after the HEAD answer
        assert read_response(sock)[1] == b"received\n"
    got = server.get()
    assert got.raw_head == b"HEAD /lf HTTP/1.1\nHost: h\nX-A:  1\n\n" and got.headers == (("Host", "h"), ("X-A", "1"))
    assert server.get().target == "/after"


def test_http_1_0_closes_unless_keep_alive(server):
    with connect(server) as sock:
        sock.sendall(b"GET /a HTTP/1.0\r\n\r\n")
        head, _ = read_response(sock)
        assert b"Connection: close" in head and sock.recv(10) == b""
    with connect(server) as sock:
        sock.sendall(b"GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /c HTTP/1.0\r\n\r\n")
        assert b"Connection: keep-alive" in read_response(sock)[0]
        assert b"Connection: close" in read_response(sock)[0]
    assert [server.get().target for _ in range(3)] == ["/a", "/b", "/c"]


def test_unix_channels_name_the_client(server):
    exchange(server, b"GET /u HTTP/1.1\r\nHost: h\r\n\r\n", via="adapter-1")
    got = server.get()
    assert got.client == f"unix:adapter-1 pid={os.getpid()}"
    assert Path(server.unix_path("adapter-1")).parent == Path(server.folder)
    assert oct(os.stat(server.folder).st_mode & 0o777) == "0o700"
    with pytest.raises(ValueError):
        server.unix_path("../escape")


def test_listens_on_loopback_only_and_cleans_up():
    with CaptureServer(tcp=True) as srv:
        assert srv.tcp_address[0] == "127.0.0.1"
        folder = srv.folder
        idle = connect(srv)  # an idle kept-alive client must not hold stop() up
        idle.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        read_response(idle)
    assert not os.path.exists(folder) and wire_threads() == []
    assert idle.recv(10) == b""
    idle.close()


def test_callback_has_the_request_before_the_client_has_its_answer():
    seen: list[str] = []
    with CaptureServer(tcp=True, on_request=lambda r: (time.sleep(0.05), seen.append(r.target))) as srv:
        exchange(srv, b"GET /cb HTTP/1.1\r\nHost: h\r\n\r\n")
        assert seen == ["/cb"]
    failing = CaptureServer(tcp=True, on_request=lambda r: 1 / 0)
    with failing:
        assert exchange(failing, b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")[0].startswith(b"HTTP/1.1 200")
    assert failing.callback_errors and "ZeroDivisionError" in failing.callback_errors[0]


def test_received_request_is_judged_by_the_verifier(server):
    request = Request("GET", "https", "abc.execute-api.us-east-1.amazonaws.com", "/prod/a%20b", "x=1",
                      (("Host", "abc.execute-api.us-east-1.amazonaws.com"),))
    signed = sign_request(request, CTX, "header").signed
    lines = [f"{n}: {v}" for n, v in signed.headers] + ["User-Agent: client-added/1.0", "Accept: */*"]
    rules = ServerRules.for_context(CTX)
    for path, valid in (("/prod/a%20b", True), ("/prod/a+b", False)):  # a client rewriting %20 to + after signing
        exchange(server, f"GET {path}?x=1 HTTP/1.1\r\n".encode() + "\r\n".join(lines).encode() + b"\r\n\r\n")
        got = server.get()
        result = verify(got.to_signed_request(), got.body, rules)
        assert result.valid is valid, result.reason


# -- limits and faults -------------------------------------------------------------------------
LIMITS = WireLimits(head_bytes=1024, body_bytes=100, request_seconds=0.5, idle_seconds=2, connections=2)


@pytest.fixture
def small():
    with CaptureServer(tcp=True, limits=LIMITS) as srv:
        yield srv
    assert wire_threads() == []


def test_oversized_head_is_431_and_recorded(small):
    head, body = exchange(small, b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 2000 + b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431") and b"Connection: close" in head
    got = small.get()
    assert got.status == 431 and "1024" in got.fault and got.raw_head.startswith(b"GET / HTTP/1.1\r\nHost: h")


def test_oversized_body_is_413_before_the_body_is_read(small):
    with connect(small) as sock:
        sock.sendall(b"PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 101\r\n\r\n")
        head, _ = read_response(sock)  # no 100 Continue first
    assert head.startswith(b"HTTP/1.1 413")
    got = small.get()
    assert got.status == 413 and not got.continued and "101" in got.fault


def test_oversized_chunked_body_is_413(small):
    head, _ = exchange(small, b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"40\r\n" + b"a" * 64 + b"\r\n40\r\n" + b"b" * 64 + b"\r\n0\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    got = small.get()
    assert got.status == 413 and got.chunked and got.body == b"a" * 64


def test_slow_request_is_408_with_what_arrived(small):
    with connect(small) as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: h\r\n")
        start = time.monotonic()
        head, _ = read_response(sock)
        assert head.startswith(b"HTTP/1.1 408") and time.monotonic() - start < 5
    got = small.get()
    assert got.status == 408 and got.raw_head == b"GET /slow HTTP/1.1\r\nHost: h\r\n"


def test_a_stalled_request_is_408_at_once_and_a_trickling_one_is_read_whole():
    """stall_seconds (a run's server: 0.5 s): a Content-Length longer than what the client sends is
    answered when no byte has come for that long, not at request_seconds; bytes that keep coming
    (slower than that in all, but each within it) make a request that is whole."""
    limits = WireLimits(request_seconds=5.0, stall_seconds=0.3, idle_seconds=5)
    with CaptureServer(tcp=True, limits=limits) as srv:
        with connect(srv) as sock:
            sock.sendall(b"POST /short HTTP/1.1\r\nHost: h\r\nContent-Length: 29\r\n\r\n")
            start = time.monotonic()
            head, _ = read_response(sock)
            assert head.startswith(b"HTTP/1.1 408") and time.monotonic() - start < 2.5
        got = srv.get()
        assert got.status == 408 and got.fault == "request not whole, and no byte for 0.3s"
        with connect(srv) as sock:
            sock.sendall(b"POST /trickle HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n")
            for byte in b"abcd":
                time.sleep(0.15)
                sock.sendall(bytes([byte]))
            head, _ = read_response(sock)
        assert head.startswith(b"HTTP/1.1 200")
        got = srv.get()
        assert got.status == 200 and got.body == b"abcd"
    assert wire_threads() == []


@pytest.mark.parametrize("raw, status", [
    (b"GET /nover\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),  # space before the colon (RFC 9112 5.1)
    (b"GET / HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"PUT / HTTP/1.1\r\nExpect: tea\r\nContent-Length: 1\r\n\r\nx", 417),
    (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),  # HTTP/2 with prior knowledge
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-T: " + b"t" * 1100 + b"\r\n\r\n", 431),
])
def test_malformed_requests_are_rejected_and_recorded(small, raw, status):
    head, _ = exchange(small, raw)
    assert head.startswith(f"HTTP/1.1 {status}".encode())
    got = small.get()
    assert got.status == status and got.fault and got.raw_head


def test_connections_beyond_the_limit_get_503(small):
    held = [connect(small), connect(small)]
    for sock in held:  # answered, so served and kept alive
        sock.sendall(b"GET /held HTTP/1.1\r\nHost: h\r\n\r\n")
        read_response(sock)
    head, _ = exchange(small, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503")
    assert [small.get().status for _ in range(3)] == [200, 200, 503]
    for sock in held:
        sock.close()


def test_client_leaving_mid_request_is_recorded(small):
    with connect(small) as sock:
        sock.sendall(b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
    got = small.get()
    assert got.status == 0 and "closed" in got.fault and got.method == "PUT" and got.raw_body == b"abc"


# -- the relay: isolated clients reach the capture server, and nothing else ----------------------
URLLIB_CLIENT = """
import sys, urllib.request
req = urllib.request.Request("http://127.0.0.1" + sys.argv[1], data=b"{}", method="POST",
                             headers={"Host": "abc.execute-api.us-east-1.amazonaws.com", "X-Amz-Date": "20150830T123600Z"})
print(urllib.request.urlopen(req, timeout=10).read().decode(), end="")
"""

REQUESTS_CLIENT = """
import sys, requests
with requests.Session() as s:
    for path in sys.argv[1:]:  # one kept-alive connection through the relay
        r = s.get("http://127.0.0.1" + path, headers={"Host": "search-x.us-east-1.es.amazonaws.com"}, timeout=10)
        print(r.status_code, r.headers["X-Sigharness-Received"])
    # a generator body: requests sends it chunked, one chunk per item
    r = s.post("http://127.0.0.1/stream", data=(part for part in (b'{"a":', b' 1}')), timeout=10)
    print(r.status_code, r.headers["X-Sigharness-Received"])
"""


def test_urllib_client_through_the_relay():
    need_relay()
    with CaptureServer() as srv:  # Unix socket only: nothing on the host's TCP
        proc = run_wrapped(srv, URLLIB_CLIENT, "/prod/a%20b?q=x+y")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "received\n"
        got = srv.get()
    assert got.raw_head.startswith(b"POST /prod/a%20b?q=x+y HTTP/1.1\r\n")
    assert got.header_values("Host") == ["abc.execute-api.us-east-1.amazonaws.com"]
    assert got.header_values("User-Agent")[0].startswith("Python-urllib/") and got.body == b"{}"
    assert got.client.startswith("unix:default pid=")
    assert wire_threads() == []


def test_requests_client_through_the_relay_keeps_the_connection_alive():
    need_relay()
    with CaptureServer() as srv:
        proc = run_wrapped(srv, REQUESTS_CLIENT, "/a", "/b%2Fc")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split("\n")[:3] == ["200 1", "200 2", "200 3"]
        got = [srv.get(), srv.get(), srv.get()]
    assert [r.target for r in got] == ["/a", "/b%2Fc", "/stream"]
    stream = got[2]
    assert stream.chunked and stream.header_values("Transfer-Encoding") == ["chunked"]
    assert stream.raw_body == b'5\r\n{"a":\r\n3\r\n 1}\r\n0\r\n\r\n' and stream.body == b'{"a": 1}'
    assert stream.to_signed_request().body == b'{"a": 1}'
    assert got[0].client == got[1].client  # one connection, one relay process
    assert got[0].header_values("Host") == ["search-x.us-east-1.es.amazonaws.com"]
    assert got[0].header_values("Connection") == ["keep-alive"]


HOSTS_CLIENT = """
import json, socket, sys, urllib.request
out = {"answer": urllib.request.urlopen("http://" + sys.argv[1] + "/prod/x?a=1", timeout=10).read().decode()}
for name in ("example.org", "sts.amazonaws.com"):
    try:
        out[name] = str(socket.getaddrinfo(name, 443))
    except OSError as exc:
        out[name] = "no: " + type(exc).__name__
print(json.dumps(out))
"""


def test_private_hosts_let_a_client_open_the_signed_url_itself():
    """With `hosts`, the signed host name leads to the relay inside (http and port 80 instead of
    https): the client sets no Host header of its own. Other names resolve to nothing, and the
    host's /etc/hosts is untouched."""
    need_relay(hosts=True)
    name = "abc.execute-api.us-east-1.amazonaws.com"
    before = Path("/etc/hosts").read_bytes()
    with CaptureServer() as srv:
        proc = run_wrapped(srv, HOSTS_CLIENT, name, hosts=(name,))
        assert proc.returncode == 0, proc.stderr
        got = srv.get()
    out = json.loads(proc.stdout)
    assert out["answer"] == "received\n"
    assert got.raw_head.startswith(b"GET /prod/x?a=1 HTTP/1.1\r\n") and got.header_values("Host") == [name]
    assert out["example.org"].startswith("no: ") and out["sts.amazonaws.com"].startswith("no: ")
    assert Path("/etc/hosts").read_bytes() == before
    with pytest.raises(ValueError):
        relay.wrap_command(["a"], "/tmp/s", hosts=["evil.example\n127.0.0.1 x"])


BIG_BODY_CLIENT = """
import hashlib, socket, sys
body = bytes(range(256)) * (3 * 4096 + 7)  # about 3 MiB, every byte value
with socket.create_connection(("127.0.0.1", 80)) as s:
    s.sendall(b"PUT /big HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body)
    s.shutdown(socket.SHUT_WR)  # a half-close must reach the server after the last byte
    answer = b""
    while chunk := s.recv(65536):
        answer += chunk
print(hashlib.sha256(body).hexdigest(), answer.split(b"\\r\\n")[0].decode())
"""


def test_relay_moves_a_large_body_intact_and_passes_the_half_close_on():
    need_relay()
    with CaptureServer() as srv:
        proc = run_wrapped(srv, BIG_BODY_CLIENT)
        assert proc.returncode == 0, proc.stderr
        digest, status = proc.stdout.split(" ", 1)
        got = srv.get()
    assert status.strip() == "HTTP/1.1 200 OK"
    assert len(got.body) == 256 * (3 * 4096 + 7) and hashlib.sha256(got.body).hexdigest() == digest


LISTENER_CHECK_CLIENT = """
import json, socket, sys
marker, relay_port, others = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
out = {}
def attempt(host, port, payload):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(3)
            s.connect((host, int(port)))
            s.sendall(payload)
            return "connected: " + s.recv(200).decode("latin-1")
    except OSError as exc:
        return type(exc).__name__ + ": " + str(exc)
for target in others:
    host, _, port = target.rpartition(":")
    out[target] = attempt(host.strip("[]"), port, b"GET /leak HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
out["relay"] = attempt("127.0.0.1", relay_port,
                       ("GET /" + marker + " HTTP/1.1\\r\\nHost: h\\r\\nConnection: close\\r\\n\\r\\n").encode())
print(json.dumps(out))
"""


def host_addresses() -> list[str]:
    """The host's own non-loopback IPv4 addresses (reachable from the host, not from inside)."""
    found = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(info[4][0])
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith("127."))


def test_listener_check_wrapped_command_reaches_the_capture_server_and_nothing_else():
    """Host listeners on 127.0.0.1 -- one on the very port the relay uses inside, one on another
    port, and the capture server's own TCP port -- get no connection from inside the wrapped
    command, while the capture server gets the request through the relay."""
    need_relay()
    marker = f"listener-check-{uuid.uuid4().hex}"
    with decoy_listener() as (same_port, same_hits), decoy_listener() as (other_port, other_hits), \
            CaptureServer(tcp=True, keep=True) as srv:
        targets = [f"127.0.0.1:{other_port}", f"127.0.0.1:{srv.tcp_address[1]}", f"[::1]:{other_port}"]
        targets += [f"{addr}:{other_port}" for addr in host_addresses()]
        proc = run_wrapped(srv, LISTENER_CHECK_CLIENT, marker, str(same_port), *targets, port=same_port)
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        assert out["relay"].startswith("connected: HTTP/1.1 200 OK"), out
        for target in targets:
            assert not out[target].startswith("connected"), (target, out[target])
        got = srv.get()
        assert got.target == f"/{marker}" and got.client.startswith("unix:default")
        with pytest.raises(TimeoutError):
            srv.get(timeout=0.2)
        assert srv.received == [got] and srv.count == 1  # nothing came in on the server's TCP listener
    assert same_hits == [] and other_hits == []
    assert processes_with(marker) == []
    assert wire_threads() == []


def test_without_the_relay_the_namespace_reaches_nothing():
    """The control for the listener check: the same client in a bare `unshare --net` reaches nothing."""
    need_relay()
    with decoy_listener() as (port, hits):
        argv = [*relay.unshare_prefix(), sys.executable, "-c", textwrap.dedent(LISTENER_CHECK_CLIENT), "m", str(port),
                f"127.0.0.1:{port}"]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    out = json.loads(proc.stdout)
    assert not out["relay"].startswith("connected") and not out[f"127.0.0.1:{port}"].startswith("connected")
    assert hits == []


# -- the relay's process life --------------------------------------------------------------------
def test_relay_passes_stdio_and_exit_status_through():
    need_relay()
    marker = f"stdio-{uuid.uuid4().hex}"
    code = "import sys; print(sys.stdin.readline().strip().upper(), flush=True); sys.exit(7)"
    with CaptureServer() as srv:
        argv = relay.wrap_command([sys.executable, "-c", code, marker], srv.unix_path())
        proc = subprocess.run(argv, input="hello\n", capture_output=True, text=True, timeout=30)
    assert (proc.returncode, proc.stdout) == (7, "HELLO\n"), proc.stderr
    assert processes_with(marker) == []


def test_adapter_dies_with_the_relay_and_signals_are_forwarded():
    need_relay()
    with CaptureServer() as srv:
        for how in ("SIGTERM", "SIGKILL"):
            marker = f"life-{how}-{uuid.uuid4().hex}"
            code = "import sys, time; print('up', flush=True); time.sleep(60)"
            argv = relay.wrap_command([sys.executable, "-c", code, marker], srv.unix_path())
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                assert proc.stdout.readline() == b"up\n"
                assert len(processes_with(marker)) == 2  # the relay (argv holds the marker) and the adapter
                proc.send_signal(getattr(signal, how))  # to the relay only, not its process group
                assert proc.wait(timeout=10) == -getattr(signal, how)
                deadline = time.monotonic() + 5
                while processes_with(marker) and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert processes_with(marker) == []
            finally:
                proc.kill()
                proc.wait()
                for stream in (proc.stdin, proc.stdout, proc.stderr):
                    stream.close()


def test_relay_explains_a_missing_command():
    need_relay()
    with CaptureServer() as srv:
        proc = subprocess.run(relay.wrap_command(["/nonexistent/adapter"], srv.unix_path()),
                              capture_output=True, text=True, timeout=30)
    assert proc.returncode == 127 and "cannot start /nonexistent/adapter" in proc.stderr


# -- routes ------------------------------------------------------------------------------------
def test_wrap_command_shape_and_user_namespace_when_not_root(monkeypatch):
    argv = relay.wrap_command(["adapter", "--flag"], "/tmp/s.sock", [80, 8443])
    assert argv[-3:] == ["--", "adapter", "--flag"] and argv.count("--port") == 2
    assert argv[:2] == ["unshare", "--net"]
    monkeypatch.setattr(relay.os, "geteuid", lambda: 1000)
    assert relay.wrap_command(["a"], "/tmp/s.sock")[:4] == ["unshare", "--net", "--map-root-user", "--"]


def test_route_without_isolation_says_so_and_uses_the_tcp_listener():
    with CaptureServer(tcp=True) as srv:
        plain = relay.route(["adapter"], srv.unix_path(), srv.tcp_address, isolate=False)
        assert (plain.argv, plain.host, plain.port, plain.isolated) == (["adapter"], *srv.tcp_address, False)
        assert "NOT isolated" in plain.note
        isolated = relay.route(["adapter"], srv.unix_path(), srv.tcp_address, isolate=True, ports=(8080,))
        assert isolated.isolated and (isolated.host, isolated.port) == ("127.0.0.1", 8080)
        assert isolated.argv[-2:] == ["--", "adapter"]
    with pytest.raises(ValueError, match="tcp=True"):
        relay.route(["adapter"], "/tmp/s.sock", None, isolate=False)


def test_relay_as_an_unprivileged_user_through_a_user_namespace(monkeypatch):
    """`unshare --map-root-user`, the path a non-root harness takes: run as `nobody`, with the
    system's Python (the relay needs the standard library only)."""
    need_relay()
    if os.geteuid() != 0:
        pytest.skip("not root: every relay test above already runs through --map-root-user")
    python = "/usr/bin/python3"
    if not (os.access(python, os.X_OK) and subprocess.run(["which", "setpriv"], capture_output=True).returncode == 0):
        unavailable("/usr/bin/python3 or setpriv missing: cannot run the relay as an unprivileged user",
                    "the relay through a user namespace")
    monkeypatch.setattr(relay.os, "geteuid", lambda: 65534)
    with CaptureServer(keep=True) as srv:
        os.chmod(srv.folder, 0o711)  # the test's own server is root's; let `nobody` reach its socket
        os.chmod(srv.unix_path(), 0o777)
        code = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1/nobody').read().decode(), end='')"
        argv = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                *relay.wrap_command([python, "-c", code], srv.unix_path(), python=python)]
        assert "--map-root-user" in argv
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd="/")
        assert (proc.returncode, proc.stdout) == (0, "received\n"), proc.stderr
        assert [r.target for r in srv.received] == ["/nobody"]


# -- the pieces together: a real adapter signs through the relay, a client sends, the verifier judges
SEND_CLIENT = """
import json, sys, urllib.request
signed = json.loads(sys.argv[1])
target = "/" + signed["url"].partition("://")[2].partition("/")[2]
req = urllib.request.Request("http://127.0.0.1" + target, method=signed["method"])
for name, value in signed["headers"]:
    req.add_header(name, value)  # Host included: the signed one is sent
print(urllib.request.urlopen(req, timeout=10).read().decode(), end="")
"""


def test_adapter_signs_through_the_relay_and_what_a_client_sends_is_verified(tmp_path):
    need_relay()
    from conftest import ROOT, talk
    from harness.model import Case, Check

    try:
        import botocore  # noqa: F401
    except ImportError:
        unavailable("botocore is not installed (pip install -c constraints.txt botocore)", "py-botocore")
    host = "abc.execute-api.us-east-1.amazonaws.com"
    case = Case("wire/get-items", "GET through API Gateway",
                Request("GET", "https", host, "/prod/items", "limit=5", (("Host", host),)), CTX)
    check = Check(case, "header")
    with CaptureServer() as srv:
        adapter = relay.wrap_command(adapter_command("py-botocore")[0], srv.unix_path())
        answers, proc = talk(adapter, [{"type": "hello", "protocol": 1, "adapter": "py-botocore"},
                                       {"type": "sign", "id": "1", "check": check.to_json()}, {"type": "bye"}],
                             ROOT / "adapters" / "python", tmp_path)
        assert proc.returncode == 0 and [a["type"] for a in answers] == ["hello", "result"], proc.stderr
        assert answers[1]["status"] == "signed", answers[1]
        sent = run_wrapped(srv, SEND_CLIENT, json.dumps(answers[1]["signed"]))
        assert sent.returncode == 0 and sent.stdout == "received\n", sent.stderr
        got = srv.get()
    assert got.raw_head.startswith(b"GET /prod/items?limit=5 HTTP/1.1\r\n")
    assert got.header_values("User-Agent")  # added by urllib, not signed: fine
    result = verify(got.to_signed_request(), got.body, ServerRules.for_context(check.context))
    assert result.valid, result.reason
