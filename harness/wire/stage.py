"""The wire stage of a run: one capture server, one channel (Unix socket) per adapter, every adapter
started through the relay (harness/wire/relay.py) with the run's signed host names and ports, and
the received requests handed to the `sent` stage by the number the client read from the answer.
docs/wire.md, "Plugging it into a run".
"""

from __future__ import annotations

import re
import threading
from typing import Callable, Iterable

from harness.model import SINGLE, Check
from harness.wire.relay import DEFAULT_PORTS, relay_available, route
from harness.wire.server import CaptureServer, Received, WireLimits

SCHEME = "http"  # what adapters send with: no TLS; the scheme is not signed
# A run's capture server answers a request that is not whole (a Content-Length longer than the body
# sent) within 2 s, well inside a client's own timeout (adapter_sdk.SEND_TIMEOUT, 10 s).
# Every adapter+client keeps its own kept-alive connections (pools: undici, urllib3, reqwest, axios), each
# a connection to the one server through the relays: a full run (~50 pairs) went past the default 64 and
# clients got 503s. 512 at once, and an idle connection closed after 10 s, leave room for several each.
# A client writes a request's head and body back to back: a request begun and then silent for 0.5 s is
# one whose client sends no more (a Content-Length longer than the body: botocore's query-mode POST,
# docs/wire.md), answered 408 then rather than after the 2 s every client of it used to wait.
RUN_LIMITS = WireLimits(request_seconds=2.0, stall_seconds=0.5, connections=512, idle_seconds=10.0)
DEFAULT_PORT = {"https": 443, "http": 80}
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,253}")
_UNCLAIMED = 1000  # requests kept per channel that no answer named (a client's retry, a redirect)


def hosts_and_ports(checks: Iterable[Check]) -> tuple[list[str], list[int], list[str]]:
    """The signed host names and the ports the relay must answer on (80 for the default ports, else
    the URL's own), and the host names the relay cannot map (they are reported, not sent to)."""
    hosts: set[str] = set()
    ports: set[int] = set(DEFAULT_PORTS)
    bad: set[str] = set()
    for check in checks:
        if check.surface != SINGLE:
            continue
        request = check.case.request
        name, colon, port = request.host.rpartition(":")
        if not colon or "]" in port:
            name, port = request.host, ""
        if port.isdigit() and 0 < int(port) < 65536 and int(port) != DEFAULT_PORT.get(request.scheme):
            ports.add(int(port))
        if _NAME.fullmatch(name) and not name.replace(".", "").isdigit():
            hosts.add(name.lower())
        elif name:
            bad.add(name)
    return sorted(hosts), sorted(ports), sorted(bad)


def unavailable_reason(isolated: bool) -> str | None:
    """Why the wire stage cannot run here (None: it can)."""
    if not isolated:
        return "adapters are not network-isolated here (--isolate-network off, or no namespaces)"
    if not relay_available(hosts=True):
        return "this machine cannot give adapters a network namespace with a private /etc/hosts (needs unshare and root or user namespaces)"
    return None


class WireStage:
    """Use as a context: the capture server runs while the adapters send. `command(adapter, argv)` is
    the adapter's start command through the relay; `claim(adapter, number)` the request a client sent."""

    def __init__(self, hosts: list[str], ports: list[int], limits: WireLimits = RUN_LIMITS):
        self.hosts = hosts
        self.ports = ports
        self.server = CaptureServer(on_request=self._arrived, limits=limits)
        self._lock = threading.Lock()
        self._channels: dict[str, str] = {}
        self._records: dict[str, dict[str, Received]] = {}  # channel -> number -> request
        self.requests = 0

    def __enter__(self) -> "WireStage":
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def channel(self, adapter: str) -> str:
        with self._lock:
            if adapter not in self._channels:
                safe = re.sub(r"[^A-Za-z0-9._-]", "_", adapter)[:32]
                self._channels[adapter] = f"{safe}.{len(self._channels)}"
                self._records[self._channels[adapter]] = {}
            return self._channels[adapter]

    def command(self, adapter: str, argv: list[str]) -> list[str]:
        """The argv that starts `adapter` in its own network namespace whose only way out is its channel."""
        path = self.server.unix_path(self.channel(adapter))
        return route(argv, path, None, ports=self.ports, hosts=self.hosts, isolate=True).argv

    def _arrived(self, received: Received) -> None:
        channel = received.client[len("unix:"):].split(" ", 1)[0] if received.client.startswith("unix:") else ""
        with self._lock:
            self.requests += 1
            records = self._records.get(channel)
            if records is None:
                return
            if len(records) >= _UNCLAIMED:
                records.pop(next(iter(records)))
            records[str(received.seq)] = received

    def claim(self, adapter: str, number: str | None) -> Received | None:
        """The request numbered `number` if it came through `adapter`'s channel (an adapter cannot
        claim another's request), once."""
        if number is None:
            return None
        with self._lock:
            return self._records.get(self._channels.get(adapter, ""), {}).pop(str(number).strip(), None)


WireCommand = Callable[[str, list[str]], list[str]]
