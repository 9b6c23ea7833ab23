"""Time per request through the capture server: straight to its loopback TCP port, and from inside a
network namespace through the relay (harness/wire/relay.py), on one kept-alive connection and on a
new connection per request. Prints milliseconds per request (median of 3 rounds).

    PYTHONPATH=$PWD python benchmarks/wire_relay.py [REQUESTS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys

from harness.wire import relay
from harness.wire.server import CaptureServer

CLIENT = """
import socket, sys, time
host, port, n, fresh = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "fresh"
req = b"GET /bench?a=1 HTTP/1.1\\r\\nHost: svc.us-east-1.amazonaws.com\\r\\nX-Amz-Date: 20150830T123600Z\\r\\n\\r\\n"
def answer(s):
    data = b""
    while not data.endswith(b"received\\n"):
        data += s.recv(4096)
start = time.perf_counter()
s = None
for _ in range(n):
    if s is None or fresh:
        if s: s.close()
        s = socket.create_connection((host, port))
    s.sendall(req)
    answer(s)
s.close()
print((time.perf_counter() - start) * 1000 / n)
"""


def timed(argv: list[str]) -> float:
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=300).stdout
    return float(out.strip())


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with CaptureServer(tcp=True) as srv:
        rows = []
        for style in ("keep-alive", "fresh"):
            direct = [sys.executable, "-c", CLIENT, *map(str, srv.tcp_address), str(n), style]
            rows.append((f"loopback TCP, {style}", direct))
            if relay.relay_available():
                wrapped = relay.wrap_command([sys.executable, "-c", CLIENT, "127.0.0.1", "80", str(n), style],
                                             srv.unix_path())
                rows.append((f"through the relay, {style}", wrapped))
        for name, argv in rows:
            figures = [timed(argv) for _ in range(3)]
            print(f"{name:32} {statistics.median(figures):.3f} ms/request (rounds: "
                  + ", ".join(f"{f:.3f}" for f in figures) + ")")
        print(f"requests recorded: {srv.count}")


if __name__ == "__main__":
    main()
