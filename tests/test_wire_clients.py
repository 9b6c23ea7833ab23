"""The adapters' `send` capability (issue 14 §2) for the JavaScript, Go, Java, Ruby and Rust adapters,
tested without the engine: each adapter is started once per module and sent `send` messages whose
checks point at a capture server (harness/wire/server.py). What arrived is compared with what the
library signed: method, target, every signed header byte-identical, the `received` number naming the
request, and the headers the client added recorded by the server.

Two routes:
- direct: the check's host is the capture server's own `127.0.0.1:PORT`, so the signed URL points at it;
- through the relay (when network namespaces are available): the adapter runs inside
  `route(..., hosts=["example.amazonaws.com"], ports=(80,))` and signs a normal
  `example.amazonaws.com` check; the client opens the signed URL itself.
"""

from __future__ import annotations

import base64
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.wire.relay import relay_available, route
from harness.wire.server import CaptureServer, Received
from conftest import adapter_command, talk

pytestmark = pytest.mark.slow

SIGNED_HOST = "example.amazonaws.com"

# adapter -> the clients its hello must declare
CLIENTS = {
    "js-aws4": ["fetch", "node-https", "axios"],
    "js-smithy": ["fetch", "node-https"],
    "js-aws4fetch": ["fetch", "node-https"],
    "js-aws-crt": ["fetch", "node-https"],
    "js-sdk-crt": ["fetch", "node-https"],
    "go-sdk-v2": ["net-http"],
    "go-http-auth": ["net-http"],
    "go-sdk-v1": ["net-http"],
    "java-sdk-v2": ["java-net-http", "apache"],
    "java-crt": ["java-net-http"],
    "rb-aws-sigv4": ["net-http", "open-uri"],
    "rust-aws-sigv4": ["reqwest"],
}

# A few headers each client adds by default (docs/wire.md "Clients per adapter"); the server must
# have recorded them, unsigned, next to the signed ones.
ADDED = {
    "fetch": {"user-agent", "accept"},
    "node-https": {"connection"},
    "axios": {"user-agent", "accept"},
    "net-http": set(),  # per language below
    "java-net-http": {"user-agent"},
    "apache": {"user-agent"},
    "open-uri": {"user-agent", "accept"},
    "reqwest": {"accept"},
}
ADDED_BY_LANGUAGE = {("go", "net-http"): {"user-agent", "accept-encoding"}, ("rb", "net-http"): {"user-agent", "accept"}}

# What a client refuses to send by default (not worked around: docs/wire.md "Clients per adapter").
# java.net.http throws for a restricted header name in HttpRequest.Builder.header unless the user
# sets -Djdk.httpclient.allowRestrictedHeaders (aws/aws-sdk-java-v2#3152); every signed request has Host.
REFUSED = {"java-net-http": 'java.lang.IllegalArgumentException: restricted header name: "Host"'}

CONTEXT = {
    "access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "session_token": None, "region": "us-east-1", "region_set": ["us-east-1"], "service": "service",
    "timestamp": "2015-08-30T12:36:00Z", "expires": 3600, "payload": "body", "content_sha256_header": False,
    "session_token_placement": "signed", "normalize_path": True, "double_encode": True,
}


def make_check(case: str, mode: str, host: str, method: str = "GET", path: str = "/", query: str = "",
               headers: tuple[tuple[str, str], ...] = (), body: bytes = b"") -> dict:
    url = f"https://{host}{path}" + (f"?{query}" if query else "")
    return {
        "case": case, "mode": mode, "algorithm": "sigv4",
        "request": {"method": method, "scheme": "https", "host": host, "path": path, "query": query, "url": url,
                    "headers": [["Host", host], *map(list, headers)], "body_b64": base64.b64encode(body).decode()},
        "context": dict(CONTEXT),
    }


def checks(host: str) -> dict[str, dict]:
    """The checks every client is sent: a header-signed GET with a query, a header-signed POST with a
    body, a presigned GET."""
    return {
        "get": make_check("wire/get", "header", host, path="/path/to", query="Param1=value1",
                          headers=(("My-Header1", "value1"),)),
        "post": make_check("wire/post", "header", host, method="POST", path="/items",
                           headers=(("Content-Type", "application/json"),), body=b'{"a": 1}'),
        "presigned": make_check("wire/presigned", "query", host, path="/object", query="Param1=value1"),
    }


@dataclass
class Exchange:
    hello: dict
    answers: dict[str, dict]  # "client/check" -> answer
    received: dict[int, Received]  # seq -> request
    stderr: str
    arrived: int  # requests the server received while this adapter ran


def run_exchange(name: str, server: CaptureServer, host: str, tmp: Path, *, relay: bool = False) -> Exchange:
    """Start adapter `name` once and send it every (client, check) pair."""
    command, folder = adapter_command(name)
    if relay:
        command = route(command, server.unix_path(name.replace("_", "-")), server.tcp_address,
                        ports=(80,), hosts=[SIGNED_HOST], isolate=True).argv
    keys, messages = [], [{"type": "hello", "protocol": 1}]
    for client in CLIENTS[name]:
        for label, check in checks(host).items():
            keys.append(f"{client}/{label}")
            messages.append({"type": "send", "id": str(len(keys)), "check": check, "client": client, "scheme": "http"})
    messages.append({"type": "bye"})
    home = tmp / f"home-{name}"
    home.mkdir(exist_ok=True)
    before = len(server.received)
    answers, proc = talk(command, messages, folder, home, adapter=name)
    assert answers and answers[0]["type"] == "hello", proc.stderr[-3000:]
    by_id = {a.get("id"): a for a in answers[1:]}
    return Exchange(answers[0], {k: by_id.get(str(i + 1), {}) for i, k in enumerate(keys)},
                    {r.seq: r for r in server.received}, proc.stderr, len(server.received) - before)


@pytest.fixture(scope="module")
def direct(tmp_path_factory):
    """One capture server for the module; each adapter's exchange is run once, on first use."""
    with CaptureServer(tcp=True, keep=True) as server:
        host = f"127.0.0.1:{server.tcp_address[1]}"
        tmp = tmp_path_factory.mktemp("wire-clients")
        yield functools.cache(lambda name: run_exchange(name, server, host, tmp))


@pytest.fixture(scope="module")
def relayed(tmp_path_factory):
    if not relay_available(hosts=True):
        pytest.skip("no network namespace with a private /etc/hosts here (harness/wire/relay.py relay_available)")
    with CaptureServer(tcp=False, keep=True) as server:
        tmp = tmp_path_factory.mktemp("wire-clients-relay")
        yield functools.cache(lambda name: run_exchange(name, server, SIGNED_HOST, tmp, relay=True))


def signed_header_names(signed: dict) -> list[str]:
    """SignedHeaders of the Authorization header, or X-Amz-SignedHeaders of a presigned URL."""
    for name, value in signed["headers"]:
        if name.lower() == "authorization":
            return re.search(r"SignedHeaders=([^,\s]+)", value).group(1).split(";")
    m = re.search(r"[?&]X-Amz-SignedHeaders=([^&]+)", signed["url"])
    return m.group(1).replace("%3B", ";").replace("%3b", ";").split(";")


def target_of(url: str) -> str:
    return re.sub(r"^[a-z]+://[^/?#]*", "", url) or "/"


def assert_arrived(ex: Exchange, key: str, language: str) -> Received | None:
    answer = ex.answers[key]
    client = key.split("/")[0]
    assert answer.get("status") == "signed", answer
    sent = answer.get("sent")
    assert sent and sent.get("client") == client, answer
    if client in REFUSED:
        assert sent.get("error") == REFUSED[client] and "status" not in sent, sent
        return None
    assert "error" not in sent, f"{key}: the client failed: {sent['error']}\n{ex.stderr[-2000:]}"
    assert sent["status"] == 200, sent
    got = ex.received[int(sent["received"])]
    signed = answer["signed"]
    assert got.method == signed["method"], (got.method, signed["method"])
    target = got.target if not got.target.startswith("http") else target_of(got.target)
    assert target == target_of(signed["url"]), (got.target, signed["url"])
    body = base64.b64decode(signed["body_b64"]) if signed.get("body_b64") else got.body
    assert got.body == body
    signed_values = {}
    for name, value in signed["headers"]:
        signed_values.setdefault(name.lower(), []).append(value)
    for name in signed_header_names(signed):
        if name in signed_values:  # a header the signer lists and the answer carries: sent as signed
            assert got.header_values(name) == [v.strip() for v in signed_values[name]], (name, got.headers)
    added = {n.lower() for n, _ in got.headers} - set(signed_values)
    expected_added = ADDED_BY_LANGUAGE.get((language, client), ADDED[client])
    assert expected_added <= added, (key, sorted(added))
    return got


def language(name: str) -> str:
    return name.split("-")[0]


PAIRS = [(a, c, k) for a, cs in CLIENTS.items() for c in cs for k in ("get", "post", "presigned")]


def applicable(client: str, check: str) -> bool:
    return not (client == "open-uri" and check != "presigned")


@pytest.mark.parametrize("name", list(CLIENTS))
def test_hello_declares_the_clients(direct, name):
    assert direct(name).hello["capabilities"].get("clients") == CLIENTS[name]


@pytest.mark.parametrize("name,client,check", PAIRS, ids=[f"{a}+{c}-{k}" for a, c, k in PAIRS])
def test_send_arrives_as_signed(direct, name, client, check):
    ex = direct(name)
    key = f"{client}/{check}"
    if not applicable(client, check):
        answer = ex.answers[key]
        assert answer["status"] == "unsupported" and client in answer["reason"], answer
        return
    got = assert_arrived(ex, key, language(name))
    if got is None:  # refused by the client: nothing of this adapter's may have arrived from it
        named = sum(1 for a in ex.answers.values() if "received" in a.get("sent", {}))
        assert ex.arrived == named, f"{ex.arrived} requests arrived while the adapter was running, {named} answered"
        return
    assert got.client.startswith("tcp:127.0.0.1:")


REFUSAL_PAIRS = [("js-aws4", "fetch"), ("go-sdk-v2", "net-http"), ("java-sdk-v2", "apache"),
                 ("rb-aws-sigv4", "net-http"), ("rust-aws-sigv4", "reqwest")]


@pytest.mark.parametrize("name,client", REFUSAL_PAIRS, ids=[f"{a}+{c}" for a, c in REFUSAL_PAIRS])
def test_unknown_client_and_failed_connection_are_answered(tmp_path, name, client):
    """An unknown client is an adapter error; a connection that fails is `sent.error` (the client's
    exception), not a hang and not a lost answer (nothing listens on the port)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    check = make_check("wire/refused", "header", f"127.0.0.1:{port}")
    command, folder = adapter_command(name)
    answers, proc = talk(command, [{"type": "hello", "protocol": 1},
                                   {"type": "send", "id": "1", "check": check, "client": "no-such", "scheme": "http"},
                                   {"type": "send", "id": "2", "check": check, "client": client, "scheme": "http"},
                                   {"type": "bye"}], folder, tmp_path, adapter=name)
    assert len(answers) == 3, proc.stderr[-2000:]
    assert answers[1]["status"] == "error" and "no-such" in answers[1]["reason"], answers[1]
    sent = answers[2].get("sent", {})
    assert answers[2]["status"] == "signed" and "status" not in sent, answers[2]
    assert sent["client"] == client and "refused" in sent["error"].lower(), sent


RELAY_PAIRS = [(a, CLIENTS[a][-1] if a == "java-sdk-v2" else CLIENTS[a][0]) for a in CLIENTS] + [("rb-aws-sigv4", "open-uri")]


@pytest.mark.parametrize("name,client", RELAY_PAIRS, ids=[f"{a}+{c}" for a, c in RELAY_PAIRS])
def test_send_through_the_relay_with_the_signed_host(relayed, name, client):
    """Inside the namespace the signed host name resolves to the relay: the client opens the signed
    URL itself and the Host that arrives is the signed one."""
    ex = relayed(name)
    for check in ("get", "post", "presigned"):
        if not applicable(client, check):
            continue
        got = assert_arrived(ex, f"{client}/{check}", language(name))
        if got is None:
            continue
        assert got.header_values("Host") == [SIGNED_HOST]
        assert got.client.startswith("unix:")
