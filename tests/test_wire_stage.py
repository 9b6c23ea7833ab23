"""The wire stage in `sigharness run` (docs/wire.md): signed checks sent with each client an adapter
declares, what arrives judged. A fake adapter (tests/fixtures/wire/fake-client: the reference signer
and a raw-socket client) shows the verdicts; the Python adapters show real clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.model import SignedRequest
from harness.wire.relay import relay_available
from harness.wire.sent import differences
from harness.wire.server import Received
from conftest import ROOT, run_results, unavailable

FAKE = ROOT / "tests" / "fixtures" / "wire"
CASE = """
- id: wire-test/space
  title: a raw space in the path
  request:
    method: GET
    url: https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/docs/a b
    headers:
    - [Accept, application/json]
- id: wire-test/port
  title: a non-default port
  request:
    method: POST
    url: https://example.amazonaws.com:8443/x?q=1
    body: hello
"""


@pytest.fixture(scope="module")
def namespaces() -> None:
    if not relay_available(hosts=True):
        unavailable("no network namespace with a private /etc/hosts here (unshare, root or user namespaces)", "the wire stage")


def _cases(tmp_path: Path) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(CASE, encoding="utf-8")
    return path


def _fake_run(tmp_path: Path, behaviour: str, *extra: str) -> tuple[object, dict[tuple[str, str, str], dict]]:
    proc, data = run_results(tmp_path, "--cases", str(_cases(tmp_path)), "--adapter-dir", str(FAKE), "--adapters", "fake-wire",
                             "--adapter-env", f"WIRE_FAKE_CLIENT={behaviour}", *extra, timeout=120,
                             send="--no-send" not in extra)
    return proc, {(r["case"], r["mode"], r["adapter"]): r for r in data["results"]}


def test_a_client_that_rewrites_the_path_fails_on_the_wire_with_the_difference_named(tmp_path, namespaces):
    _, rows = _fake_run(tmp_path, "rewrite-path")
    signer, wire = rows[("wire-test/space", "header", "fake-wire")], rows[("wire-test/space", "header", "fake-wire+urllib")]
    assert signer["status"] == "pass"
    assert wire["status"] == "fail", wire
    assert wire["wire"]["signer"] == "pass" and wire["wire"]["client"] == "urllib"
    assert "rewrote the path `/docs/a b` -> `/docs/a%20b`" in wire["wire"]["differences"][0]["text"]
    assert wire["wire"]["differences"][0]["signed"] is True
    assert "a server would reject" in wire["reason"]
    # the target is the row's `signed` URL (the request as received): not written twice
    assert "target" not in wire["wire"]["received"] and wire["signed"]["url"].endswith("/docs/a%20b")
    assert "raw_head" not in wire["wire"]["received"]  # written as `Name: value` lines: the row's `signed` holds it
    # a request without a space is not rewritten: the same client passes it
    assert rows[("wire-test/port", "header", "fake-wire+urllib")]["status"] == "pass"


def test_a_faithful_client_passes_and_the_request_arrives_byte_for_byte(tmp_path, namespaces):
    _, rows = _fake_run(tmp_path, "faithful")
    for mode in ("header", "query"):
        wire = rows[("wire-test/space", mode, "fake-wire+urllib")]
        assert wire["status"] == "pass", wire
        assert "target" not in wire["wire"]["received"]
        assert wire["signed"]["url"].startswith("https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/docs/a b")
    port = rows[("wire-test/port", "header", "fake-wire+urllib")]
    assert port["status"] == "pass", port  # reached the relay on :8443, Host kept its port
    assert ["Host", "example.amazonaws.com:8443"] in port["signed"]["headers"]
    assert "body_b64" not in port["wire"]["received"]  # the body arrived as signed
    # HTTP/1.1, and the client got what the server answered: neither is written again in `received`
    assert "version" not in port["wire"]["received"] and "status" not in port["wire"]["received"]
    assert port["wire"]["status"] == 200 and "reason" in port and "rules" not in port["verification"]
    assert "body_b64" not in port["signed"]  # ... so the request as received keeps no null body (judgement.stored)


def test_a_client_that_refuses_is_a_wire_failure_not_an_adapter_error(tmp_path, namespaces):
    _, rows = _fake_run(tmp_path, "refuse")
    wire = rows[("wire-test/space", "header", "fake-wire+urllib")]
    assert wire["status"] == "fail"
    assert wire["reason"] == "the client refused or failed to send: ValueError: this client refuses to send"
    assert rows[("wire-test/space", "header", "fake-wire")]["status"] == "pass"


def test_a_sent_check_is_signed_once_by_an_adapter_started_once(tmp_path, namespaces):
    """The signer row is the first send's answer (no separate `sign`), and the adapter starts once,
    through the relay (docs/performance.md, "The wire stage")."""
    calls = tmp_path / "calls.log"
    _, rows = _fake_run(tmp_path, "faithful", "--adapter-env", f"WIRE_FAKE_LOG={calls}")
    sent = [key for key in rows if key[2] == "fake-wire+urllib"]
    assert len(sent) == 4 and all(rows[key]["status"] == "pass" for key in sent)
    assert all(rows[(case, mode, "fake-wire")]["status"] == "pass" for case, mode, _ in sent)
    logged = [line.split(":") for line in calls.read_text(encoding="utf-8").split()]
    assert len({pid for pid, _ in logged}) == 1, logged
    assert [what for _, what in logged] == ["sign", "send"] * 4


def test_a_check_the_first_client_does_not_take_is_signed_with_sign(tmp_path, namespaces):
    calls = tmp_path / "calls.log"
    _, rows = _fake_run(tmp_path, "unsupported", "--adapter-env", f"WIRE_FAKE_LOG={calls}")
    for case, mode, adapter in [key for key in rows if key[2] == "fake-wire+urllib"]:
        assert rows[(case, mode, adapter)]["status"] == "unsupported"
        assert rows[(case, mode, adapter)]["reason"] == "this client does not take this check"
        assert rows[(case, mode, "fake-wire")]["status"] == "pass"  # signed again, with `sign`
    assert [line.split(":")[1] for line in calls.read_text(encoding="utf-8").split()] == ["sign", "send", "sign"] * 4


def test_no_send_gives_the_signer_only_run(tmp_path):
    proc, rows = _fake_run(tmp_path, "rewrite-path", "--no-send")
    assert rows and not [key for key in rows if "+" in key[2]]
    assert "wire stage" not in proc.stderr


def test_python_adapters_send_with_urllib_requests_and_botocore_session(tmp_path, namespaces):
    proc, data = run_results(tmp_path, "--cases", str(ROOT / "cases" / "wire" / "clients.yaml"),
                             str(ROOT / "cases" / "scenarios" / "apigateway.yaml"),
                             "--case", "wire/path-raw-space", "--case", "scenarios/apigw-post-sts",
                             "--adapters", "py-botocore,py-requests-aws4auth", timeout=300, send=True)
    rows = {(r["case"], r["mode"], r["adapter"]): r for r in data["results"]}
    for adapter in ("py-botocore+urllib", "py-botocore+botocore-session", "py-botocore+httpx", "py-requests-aws4auth+requests"):
        row = rows[("scenarios/apigw-post-sts", "header", adapter)]
        assert row["status"] == "pass", row
        headers = dict((n.lower(), v) for n, v in row["signed"]["headers"])  # the request as received
        assert headers["x-amz-security-token"] and headers["host"] == "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
    # botocore signs the raw space; urllib refuses the URL, botocore's session and httpx escape it
    space = ("wire/path-raw-space", "header")
    assert rows[(*space, "py-botocore")]["status"] == "pass"
    assert rows[(*space, "py-botocore+urllib")]["reason"].startswith("the client refused or failed to send: InvalidURL")
    for adapter in ("py-botocore+botocore-session", "py-botocore+httpx"):
        assert rows[(*space, adapter)]["status"] == "fail"
        assert "`/prod/files/my file.txt` -> `/prod/files/my%20file.txt`" in rows[(*space, adapter)]["wire"]["differences"][0]["text"]
    # requests-aws4auth signs in the auth hook, after requests requoted the URL: what arrives is what it signed
    assert rows[(*space, "py-requests-aws4auth+requests")]["status"] == "pass"
    assert data["adapters"]["py-botocore+urllib"]["signer"] == "py-botocore"


def _received(head: str, body: bytes = b"") -> Received:
    lines = head.split("\n")
    method, target, version = lines[0].split(" ", 2) if lines[0].count(" ") == 2 else (lines[0].split(" ")[0], " ".join(lines[0].split(" ")[1:-1]), lines[0].split(" ")[-1])
    headers = tuple(tuple(line.split(": ", 1)) for line in lines[1:] if line)
    return Received(1, method, target, version, headers, body, head.encode())


def test_differences_name_what_the_client_changed_signed_first():
    signed = SignedRequest("PUT", "https://h.example.com/a%20b?x=1", (
        ("Host", "h.example.com"), ("Content-Length", "3"), ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s/aws4_request, "
                          "SignedHeaders=content-length;host;x-amz-date, Signature=00")), None)
    arrived = _received("PUT /a+b?x=1 HTTP/1.1\nHost: h.example.com\nX-Amz-Date: 20150830T123600Z\n"
                        "Authorization: x\nUser-Agent: ua\nTransfer-Encoding: chunked", b"abc")
    found = differences(signed, b"abc", arrived)
    kinds = [d.kind for d in found]
    assert kinds[0] == "path" and found[0].signed
    assert "framing" in kinds and any("dropped the signed header content-length" in d.text for d in found)
    assert any(d.kind == "added-header" and "User-Agent" in d.text and not d.signed for d in found)
    assert not any(d.kind == "body" for d in found)
    same = _received("PUT /a%20b?x=1 HTTP/1.1\nHost: h.example.com\nContent-Length: 3\nX-Amz-Date: 20150830T123600Z\n"
                     "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s/aws4_request, "
                     "SignedHeaders=content-length;host;x-amz-date, Signature=00", b"abc")
    assert differences(signed, b"abc", same) == []


def test_hello_clients_must_belong_to_the_adapters_language():
    from harness.protocol import Hello, ProtocolError

    hello = {"type": "hello", "protocol": 1, "language": "javascript", "library": "x", "library_version": "1",
             "capabilities": {"clients": ["urllib"]}}
    with pytest.raises(ProtocolError, match="urllib is not a javascript client"):
        Hello.parse(hello, "x")
    hello["capabilities"]["clients"] = ["fetch", "axios"]
    assert Hello.parse(hello, "x").capabilities.clients == ("fetch", "axios")
    del hello["capabilities"]["clients"]
    assert Hello.parse(hello, "x").capabilities.clients == ()  # no clients: no send


def test_hosts_and_ports_of_the_planned_checks(tmp_path):
    from harness.cases import load_cases
    from harness.model import Check
    from harness.wire.stage import hosts_and_ports

    (tmp_path / "c.yaml").write_text(CASE + """
- id: wire-test/ip
  title: an IP literal host
  request: {method: GET, url: 'https://127.0.0.1:443/x'}
""", encoding="utf-8")
    loaded = load_cases([str(tmp_path / "c.yaml")])
    hosts, ports, bad = hosts_and_ports([Check(c, m) for c in loaded.cases for m in c.modes])
    assert hosts == ["a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", "example.amazonaws.com"]
    assert ports == [80, 8443]  # 443 is the default port: sent to 80
    assert bad == ["127.0.0.1"]


def test_the_wire_stage_says_in_one_line_why_it_is_off():
    from harness.wire import run as wire_run

    lines: list[str] = []
    assert wire_run.start(True, False, [], lines.append) is None  # adapters not isolated (--isolate-network off)
    assert lines == ["wire stage off: adapters are not network-isolated here (--isolate-network off, or no namespaces); "
                     "only what the signers return is judged (--no-send silences this)"]
    assert wire_run.start(False, True, [], lines.append) is None and len(lines) == 1  # --no-send: silent


def test_the_quick_check_of_an_answer_to_send_agrees_with_the_schema():
    """protocol.validate_result_answer skips the schema for the common answer; every variation below
    must be accepted or refused exactly as the schema does (ProtocolError naming the problem)."""
    from harness import protocol

    good = {"type": "result", "id": "7", "status": "signed", "reason": None, "elapsed_ns": 12,
            "canonical_request": "GET\n/\n", "string_to_sign": None,
            "signed": {"method": "GET", "url": "https://h/", "headers": [["Host", "h"]], "body_b64": None},
            "sent": {"client": "urllib", "status": 200, "received": "3"}}
    variations = [{}, {"sent": None}, {"sent": {"client": "urllib", "error": "E: x"}},
                  {"sent": {"client": "urllib", "status": 200, "error": "E: x"}}, {"sent": {"client": "urllib"}},
                  {"sent": {"client": "urllib", "status": True}}, {"sent": {"client": 1, "status": 200}},
                  {"sent": {"client": "urllib", "status": 200, "received": 3}}, {"sent": []},
                  {"elapsed_ns": True}, {"elapsed_ns": 1.5}, {"elapsed_ns": None}, {"id": 7}, {"type": "hello"},
                  {"status": "rejected"}, {"status": "ok"}, {"reason": 1}, {"canonical_request": ["x"]},
                  {"signed": None}, {"signed": {"method": "GET", "url": "https://h/"}},
                  {"signed": {"method": "GET", "url": "https://h/", "headers": [["Host"]]}},
                  {"signed": {"method": "GET", "url": "https://h/", "headers": [["Host", 1]]}},
                  {"signed": {"method": "GET", "url": "https://h/", "headers": {"Host": "h"}}},
                  {"signed": {"method": "GET", "url": "https://h/", "headers": [], "body_b64": 5}},
                  {"token": "t"}, {"form": {"fields": "x"}}, {"stream": []}, {"extra": 1}]
    for change in variations:
        answer = {**good, **change}
        try:
            protocol.validate("result_answer", answer)
            expected = None
        except protocol.ProtocolError as exc:
            expected = str(exc)
        try:
            protocol.validate_result_answer(answer)
            got = None
        except protocol.ProtocolError as exc:
            got = str(exc)
        assert got == expected, change
    assert protocol._plainly_sent(good)  # the quick path is the one taken for a good answer
