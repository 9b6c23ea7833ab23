"""The relay: the only way out of an adapter's network namespace, and it leads to the capture server.

`wrap_command()` gives the argv the harness starts instead of the adapter's own:

    unshare --net [--map-root-user] -- PYTHON -I .../relay.py --unix SOCKET --port 80 -- ADAPTER...

Inside the new network namespace (no interface but a down `lo`) this file, run as a script, brings
`lo` up, listens on 127.0.0.1:PORT (and [::1]:PORT where IPv6 exists), then forks: the child execs
the adapter (same stdin, stdout, stderr, environment and process group; killed if the relay dies),
the parent relays every TCP connection byte for byte to the capture server's Unix socket -- a file,
so reachable from any network namespace -- and exits with the adapter's status when it ends.

Nothing else is reachable from inside: the namespace has no route anywhere, and its 127.0.0.1 is
its own, not the host's. Stdlib only (it runs with `python -I`, outside the project's imports).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

RELAY = Path(__file__).resolve()
DEFAULT_PORTS = (80,)  # the namespace is private, so the default HTTP port is free: URLs need no :port
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
PR_SET_PDEATHSIG = 1
MS_BIND = 4096
_HOSTNAME = re.compile(r"[A-Za-z0-9_.-]{1,253}")
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)


# -- the harness's side ------------------------------------------------------------------------
def unshare_prefix(mount: bool = False) -> list[str]:
    """`unshare --net` (and `--mount`, private, for a private /etc/hosts), with a user namespace
    (`--map-root-user`) when not root: inside it the process may configure its own namespaces
    (CAP_NET_ADMIN and CAP_SYS_ADMIN there), nothing outside."""
    return (["unshare", "--net"] + (["--mount", "--propagation", "private"] if mount else [])
            + ([] if os.geteuid() == 0 else ["--map-root-user"]) + ["--"])


def _check_hosts(hosts: Sequence[str]) -> list[str]:
    for name in hosts:
        if not _HOSTNAME.fullmatch(name):
            raise ValueError(f"host name {name!r}: letters, digits, '-', '.' and '_' only, no port")
    return list(hosts)


def wrap_command(command: Sequence[str], socket_path: str, port: int | Sequence[int] = DEFAULT_PORTS,
                 python: str = sys.executable, hosts: Sequence[str] = ()) -> list[str]:
    """The argv that runs `command` in a new network namespace whose only way out is the relay
    from 127.0.0.1:`port` to the capture server's Unix socket `socket_path`. With `hosts`, those
    names resolve to 127.0.0.1 inside (a private /etc/hosts in a private mount namespace), so a
    client can open the signed URL itself, `http://` and the relay's port instead of `https://`.
    The relay runs on `python` (any Python 3.9+: it uses the standard library only)."""
    ports = [port] if isinstance(port, int) else list(port)
    if not ports or not command:
        raise ValueError("wrap_command needs a command and at least one port")
    argv = [*unshare_prefix(bool(hosts)), python, "-I", str(RELAY), "--unix", socket_path]
    for p in ports:
        argv += ["--port", str(int(p))]
    for name in _check_hosts(hosts):
        argv += ["--host", name]
    return [*argv, "--", *command]


_AVAILABLE: dict[bool, bool] = {}


def relay_available(hosts: bool = False) -> bool:
    """True when `wrap_command` works here: unshare can make a network namespace and the relay can
    bring its loopback up and listen in it (with `hosts`: and mount a private /etc/hosts). Checked
    once per process."""
    if hosts not in _AVAILABLE:
        argv = [*unshare_prefix(hosts), sys.executable, "-I", str(RELAY), "--check", "--port", str(DEFAULT_PORTS[0])]
        argv += ["--host", "relay-check.invalid"] if hosts else []
        try:
            _AVAILABLE[hosts] = shutil.which("unshare") is not None and subprocess.run(
                argv, capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _AVAILABLE[hosts] = False
    return _AVAILABLE[hosts]


@dataclass(frozen=True)
class Route:
    """How one adapter reaches the capture server: the argv to start and the address to send to."""

    argv: list[str]
    host: str
    port: int
    isolated: bool
    note: str


def route(command: Sequence[str], socket_path: str, tcp_address: tuple[str, int] | None, *,
          ports: Sequence[int] = DEFAULT_PORTS, hosts: Sequence[str] = (), isolate: bool | None = None) -> Route:
    """Isolated when the machine allows it (`isolate=None`: check): the adapter sends to
    127.0.0.1:ports[0] (or to one of `hosts`) in its own namespace. Otherwise the adapter runs as
    is, NOT isolated, and sends to the capture server's own loopback TCP address (the server must
    listen on TCP; `hosts` do not resolve there)."""
    if isolate is None:
        isolate = relay_available(bool(hosts))
    if isolate:
        return Route(wrap_command(command, socket_path, ports, hosts=hosts), "127.0.0.1", int(ports[0]), True,
                     "network namespace: only the relay to the capture server is reachable")
    if tcp_address is None:
        raise ValueError("no network isolation here and the capture server has no TCP listener (tcp=True)")
    return Route(list(command), tcp_address[0], tcp_address[1], False,
                 "NOT isolated (no network namespace on this machine): the adapter could reach any address")


# -- inside the namespace ----------------------------------------------------------------------
def loopback_up() -> None:
    """`ip link set lo up`, by ioctl (no iproute2 needed): 127.0.0.1 and ::1 come with it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        ifreq = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, ifreq))[1]
        if not flags & IFF_UP:
            fcntl.ioctl(sock.fileno(), SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


def private_hosts(names: Sequence[str], hosts_file: str = "/etc/hosts") -> None:
    """Bind-mount, over /etc/hosts in this (private) mount namespace, a copy of it that also maps
    `names` to 127.0.0.1. The host's /etc/hosts is untouched."""
    original = Path(hosts_file).read_text(encoding="utf-8", errors="replace")
    extra = "".join(f"127.0.0.1 {name}\n" for name in names)
    fd, path = tempfile.mkstemp(prefix="sigharness-hosts-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(original.rstrip("\n") + "\n# sigharness wire: these lead to the relay\n" + extra)
        os.chmod(path, 0o644)
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.mount(path.encode(), hosts_file.encode(), None, MS_BIND, None) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"mount --bind over {hosts_file}: {os.strerror(err)}")
    finally:
        os.unlink(path)  # the bind mount keeps the file for as long as the namespace lives


def listen(ports: Sequence[int]) -> list[socket.socket]:
    listeners = []
    for port in ports:
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)
            except OSError:
                continue  # no IPv6 in this kernel
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((host, port))
                sock.listen(128)
            except OSError as exc:
                sock.close()
                if family == socket.AF_INET6 and exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                    continue
                raise
            listeners.append(sock)
    return listeners


class _Direction:
    """Bytes on their way from one socket to the other; `done` once the source's EOF is passed on."""

    def __init__(self, src: socket.socket, dst: socket.socket):
        self.src, self.dst = src, dst
        self.pending = b""
        self.eof = self.done = False


class Relay:
    """One thread, one selector: accept on the listeners, and for each connection move bytes both
    ways between it and a new connection to the capture server's Unix socket, reading from a side
    only when what it sent before is written (no unbounded buffer), passing half-closes on."""

    def __init__(self, listeners: list[socket.socket], socket_path: str):
        self.socket_path = socket_path
        self.sel = selectors.DefaultSelector()
        self.ways: dict[socket.socket, tuple[_Direction, _Direction]] = {}  # socket -> (out of it, into it)
        for listener in listeners:
            listener.setblocking(False)
            self.sel.register(listener, selectors.EVENT_READ, None)

    def run(self) -> None:
        while True:
            for key, events in self.sel.select():
                sock = key.fileobj
                if key.data is None:
                    self._accept(sock)  # type: ignore[arg-type]
                    continue
                out, into = self.ways.get(sock, (None, None))  # type: ignore[arg-type]
                if out is None:
                    continue  # closed earlier in this round
                try:
                    if events & selectors.EVENT_WRITE:
                        self._write(into)
                    if events & selectors.EVENT_READ:
                        self._read(out)
                except OSError:
                    self._close(out.src, out.dst)
                    continue
                except Exception as exc:  # a bug here must not stop the relay for the other connections
                    print(f"relay: dropped a connection: {type(exc).__name__}: {exc}", file=sys.stderr)
                    self._close(out.src, out.dst)
                    continue
                if out.done and into.done:
                    self._close(out.src, out.dst)
                else:
                    self._interest(out.src)
                    self._interest(out.dst)

    def _accept(self, listener: socket.socket) -> None:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(self.socket_path)
        except OSError as exc:
            print(f"relay: cannot reach the capture server at {self.socket_path}: {exc.strerror or exc}",
                  file=sys.stderr)
            upstream.close()
            client.close()
            return
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for sock in (client, upstream):
            sock.setblocking(False)
        up, down = _Direction(client, upstream), _Direction(upstream, client)
        self.ways[client] = (up, down)
        self.ways[upstream] = (down, up)
        self.sel.register(client, selectors.EVENT_READ, "side")
        self.sel.register(upstream, selectors.EVENT_READ, "side")

    def _read(self, way: _Direction) -> None:
        if way.pending or way.eof:
            return  # not asked for: the selector's answer was older than the last change
        try:
            data = way.src.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        if data:
            way.pending = data
            self._write(way)
        else:
            way.eof = True
            self._write(way)

    def _write(self, way: _Direction) -> None:
        if way.pending:
            try:
                sent = way.dst.send(way.pending)
            except (BlockingIOError, InterruptedError):
                sent = 0
            way.pending = way.pending[sent:]
        if way.eof and not way.pending and not way.done:
            way.done = True
            try:
                way.dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def _interest(self, sock: socket.socket) -> None:
        out, into = self.ways[sock]
        events = (selectors.EVENT_READ if not out.eof and not out.pending else 0) | (
            selectors.EVENT_WRITE if into.pending else 0)
        registered = sock in self.sel.get_map()
        if events and registered:
            self.sel.modify(sock, events, "side")
        elif events:
            self.sel.register(sock, events, "side")
        elif registered:
            self.sel.unregister(sock)  # nothing to do for it until the other side moves

    def _close(self, *socks: socket.socket) -> None:
        for sock in socks:
            if self.ways.pop(sock, None) is not None:
                if sock in self.sel.get_map():
                    self.sel.unregister(sock)
                sock.close()


def _exec_adapter(command: list[str], parent: int) -> None:
    """In the child: die with the relay, restore the signal dispositions Python changed, exec."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)
        for sig in (signal.SIGPIPE, signal.SIGXFSZ, *FORWARDED_SIGNALS):
            signal.signal(sig, signal.SIG_DFL)
        os.execvp(command[0], command)
    except OSError as exc:
        print(f"relay: cannot start {command[0]}: {exc.strerror or exc}", file=sys.stderr)
    os._exit(127)


def main(argv: list[str]) -> int:
    own, command = argv, []
    if "--" in argv:
        cut = argv.index("--")
        own, command = argv[:cut], argv[cut + 1:]
    ports: list[int] = []
    hosts: list[str] = []
    socket_path, check = None, False
    it = iter(own)
    for arg in it:
        if arg == "--port":
            ports.append(int(next(it)))
        elif arg == "--unix":
            socket_path = next(it)
        elif arg == "--host":
            hosts.append(next(it))
        elif arg == "--check":
            check = True
        else:
            print(f"relay: unknown argument {arg!r}", file=sys.stderr)
            return 2
    if not ports or (not check and (socket_path is None or not command)):
        print("usage: relay.py --unix SOCKET --port PORT... [--host NAME...] -- COMMAND... | --check --port PORT [--host NAME]",
              file=sys.stderr)
        return 2
    try:
        loopback_up()
        listeners = listen(ports)
    except OSError as exc:
        print(f"relay: cannot bring up loopback and listen on {ports} in this network namespace: "
              f"{exc.strerror or exc} (needs CAP_NET_ADMIN in it: root, or unshare --map-root-user)", file=sys.stderr)
        return 71
    if hosts:
        try:
            private_hosts(_check_hosts(hosts))
        except (OSError, ValueError) as exc:
            print(f"relay: cannot give the namespace its own /etc/hosts: {exc} (needs a private mount "
                  "namespace, unshare --mount, and CAP_SYS_ADMIN in it)", file=sys.stderr)
            return 72
    if check:
        return 0
    parent = os.getpid()
    child = os.fork()
    if child == 0:
        _exec_adapter(command, parent)
    # The relay keeps stderr for its own messages; the adapter alone holds the protocol pipes.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass  # already gone: the relay exits with its status in a moment

    for sig in FORWARDED_SIGNALS:
        signal.signal(sig, forward)
    threading.Thread(target=Relay(listeners, socket_path).run, daemon=True).start()
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    sys.stderr.flush()
    if code < 0:  # the adapter died of a signal: so does the relay, for the harness to see
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        code = 128 - code
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
