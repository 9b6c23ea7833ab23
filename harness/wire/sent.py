"""The `sent` stage: the request as it arrived at the capture server, compared with the request the
library signed, and the wire verdict (docs/wire.md, "The sent stage").

`differences(signed, body, received)` names what the HTTP client changed after signing, first difference
first (what a server's signature check sees before what it does not); `judge_sent` verifies the
received request as a server would (harness/verify/single.py, the service's rules and the case's open
choices) and gives the verdict. The oracles judge the received request too: the judged row carries it
as `signed` (harness/oracles.py reads it there).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from harness.judgement import clip, stored
from harness.model import Check, SignedRequest
from harness.protocol import RECEIVED_HEADER, Sent
from harness.reference.authorization import components
from harness.reference.encoding import uri_decode
from harness.verdicts import ERROR, FAIL, PASS, VARIANT
from harness.verify.single import ServerRules, verify_with_choices
from harness.wire.server import Received

FRAMING = ("content-length", "transfer-encoding")
KEPT_DIFFERENCES = 10


@dataclass(frozen=True)
class Difference:
    """One change the client made: `kind` (method, path, query, host, signed-header, framing, body,
    unsigned-header: changed or dropped, added-header) and what it was, in words."""

    kind: str
    text: str
    signed: bool  # the change touches what the signature covers (or the body the hash stands for)

    def to_json(self) -> dict[str, Any]:
        """`signed` only when true (most differences are headers a client adds, which no signature covers)."""
        return {"kind": self.kind, "text": self.text, **({"signed": True} if self.signed else {})}


def signed_header_names(request: SignedRequest) -> list[str]:
    """The SignedHeaders of a header-signed request (Authorization) or a presigned URL (X-Amz-SignedHeaders)."""
    for name, value in request.headers:
        if name.lower() == "authorization":
            fields = components(value)[1]
            if "SignedHeaders" in fields:
                return [h for h in fields["SignedHeaders"].strip().split(";") if h]
    query = request.parts()[3]
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if uri_decode(key) == b"X-Amz-SignedHeaders":
            return [h for h in uri_decode(value).decode("utf-8", "replace").split(";") if h]
    return []


def _values(headers: tuple[tuple[str, str], ...] | list[tuple[str, str]], name: str) -> list[str]:
    return [v.strip() for n, v in headers if n.lower() == name]


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def differences(signed: SignedRequest, signed_body: bytes, received: Received) -> list[Difference]:
    """What the client changed between the library's signed request and what arrived; changes to what
    the signature covers first."""
    arrived = received.to_signed_request(signed.parts()[0] or "https")
    _, host, path, query = signed.parts()
    _, r_host, r_path, r_query = arrived.parts()
    covered = set(signed_header_names(signed))
    out: list[Difference] = []
    if received.method != signed.method:
        out.append(Difference("method", f"client changed the method {signed.method} -> {received.method}", True))
    if r_path != path:
        out.append(Difference("path", f"client rewrote the path `{_short(path)}` -> `{_short(r_path)}` after signing", True))
    if r_query != query:
        out.append(Difference("query", f"client rewrote the query `{_short(query)}` -> `{_short(r_query)}` after signing", True))
    signed_host = _values(signed.headers, "host") or [host]
    if _values(received.headers, "host") != signed_host[:1]:
        got = ", ".join(_values(received.headers, "host")) or "none"
        out.append(Difference("host", f"client sent Host `{got}`, the library signed `{signed_host[0]}`", "host" in covered))
    sent_names = {n.lower() for n, _ in signed.headers} | {"host"}
    for name in sorted(sent_names - {"host"}):
        before, after = _values(signed.headers, name), _values(received.headers, name)
        if before == after:
            continue
        is_covered = name in covered
        if name in FRAMING:
            kind = "framing"
        else:
            kind = "signed-header" if is_covered else "unsigned-header"
        if not after:
            what = f"client dropped the {'signed ' if is_covered else ''}header {name}"
        else:
            what = f"client changed the {'signed ' if is_covered else ''}header {name}: `{_short(', '.join(before))}` -> `{_short(', '.join(after))}`"
        out.append(Difference(kind, what + ("" if is_covered else " (not signed)"), is_covered))
    if received.body != signed_body:
        out.append(Difference("body", f"client changed the body ({len(signed_body)} bytes signed, {len(received.body)} arrived)", True))
    added: list[str] = []  # headers the client added that no signature covers and S3 does not refuse
    for name, value in received.headers:
        lname = name.lower()
        if lname in sent_names:
            continue
        sent_names.add(lname)
        if received.chunked and lname == "transfer-encoding":
            text = "client framed the body with Transfer-Encoding: chunked"
            if _values(signed.headers, "content-length"):
                text += " instead of the Content-Length it was given"
            out.append(Difference("framing", text, False))
        elif lname.startswith("x-amz-"):
            out.append(Difference("added-header", f"client added {name}: {_short(value, 60)} (an unsigned x-amz-* header: S3 rejects those)", False))
        else:
            added.append(name)
    if added:  # one entry: their values are in the row's `signed` (the request as received)
        out.append(Difference("added-header", f"client added {', '.join(added)} (not signed: fine)", False))
    return sorted(out, key=lambda d: not d.signed)  # stable: what the signature covers first


def rendered_head(received: Received) -> bytes:
    """The head written from the parsed fields (`Name: value`, CRLF): when the raw head is exactly this,
    results.json does not keep it twice."""
    lines = [f"{received.method} {received.target} {received.version}"] + [f"{n}: {v}" for n, v in received.headers]
    text = "\r\n".join(lines) + "\r\n\r\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return b""


DEFAULT_VERSION = "HTTP/1.1"  # a received request's version, left out of results.json when it is this one


def received_json(received: Received, signed_body: bytes | None = None, client_status: int | None = None) -> dict[str, Any]:
    """The received request for results.json, compact: the request line's target and version (only when not
    HTTP/1.1), the status the server answered (only when the client did not report that one: `wire.status`),
    the raw head as text only where it is not exactly `Name: value` lines of the row's `signed` (the request
    as received: method, URL, headers in order), and the body (base64, first 4 KiB) only where it differs from
    the body signed."""
    data: dict[str, Any] = {"seq": received.seq, "target": received.target}
    if received.version != DEFAULT_VERSION:
        data["version"] = received.version
    if received.status != client_status:
        data["status"] = received.status
    if received.raw_head != rendered_head(received):  # else the head is the row's `signed` (method, target, headers) exactly
        data["raw_head"] = clip(received.raw_head.decode("latin-1"))
    for key, value in (("fault", received.fault), ("notes", list(received.notes)), ("chunked", received.chunked),
                       ("continued", received.continued), ("trailers", [list(h) for h in received.trailers])):
        if value:
            data[key] = value
    if signed_body is None or received.body != signed_body:
        data["body_b64"] = base64.b64encode(received.body[:4096]).decode("ascii")
        if len(received.body) > 4096:
            data["body_kept"] = f"first 4096 of {len(received.body)} bytes"
    return data


def judge_sent(check: Check, signed_json: dict[str, Any] | None, sent: Sent | None, received: Received | None,
               signer_status: str) -> dict[str, Any]:
    """The wire row's judged fields (status, reason, stage, verification, signed = the request as
    received, wire = client, signer verdict, differences, received request)."""
    wire: dict[str, Any] = {"client": sent.client if sent else None, "signer": signer_status}
    if sent is None:
        return {"status": ERROR, "reason": "the adapter's answer to send has no `sent`", "stage": "sent", "wire": wire}
    if sent.error is not None:
        wire["error"] = sent.error
        return {"status": FAIL, "reason": f"the client refused or failed to send: {sent.error}", "stage": "sent", "wire": wire}
    wire["status"] = sent.status
    if received is None:
        what = (f"the client's answer (status {sent.status}) carried no {RECEIVED_HEADER}" if sent.received is None else
                f"the capture server has no request {sent.received!r} from this adapter (the client got status {sent.status})")
        return {"status": ERROR, "reason": what, "stage": "sent", "wire": wire}
    wire["received"] = received_json(received, client_status=sent.status)
    if received.fault:
        return {"status": FAIL, "reason": f"the capture server could not read what the client sent: {received.fault}",
                "stage": "sent", "wire": wire}
    if signed_json is None:
        return {"status": ERROR, "reason": "the adapter's answer to send has no `signed`", "stage": "sent", "wire": wire}
    signed = SignedRequest.from_json(signed_json)
    signed_body = check.case.request.body if signed.body is None else signed.body
    wire["received"] = received_json(received, signed_body, sent.status)
    diffs = differences(signed, signed_body, received)
    wire["differences"] = [d.to_json() for d in diffs[:KEPT_DIFFERENCES]]  # the first is the row's first difference
    arrived = received.to_signed_request(signed.parts()[0] or "https")
    if received.target.startswith("/") and arrived.url.endswith(received.target):
        del wire["received"]["target"]  # the row's `signed` URL (the request as received) ends with it
    verification = verify_with_choices(arrived, received.body, ServerRules.for_context(check.context), check.case.open_choices)
    ver = {"valid": verification.valid, "reason": verification.reason, "rules": verification.rules}
    judged: dict[str, Any] = {"verification": ver, "wire": wire, "stage": "sent",
                              "signed": stored(SignedRequest(arrived.method, arrived.url, arrived.headers,
                                                             None if received.body == check.case.request.body else received.body).to_json())}
    first = f"; first difference: {diffs[0].text}" if diffs else "; it arrived as signed"
    body_changed = any(d.kind == "body" for d in diffs)
    if not verification.valid:
        if not any(d.signed for d in diffs):
            first = f"; nothing the signature covers changed on the wire (the signer's verdict: {signer_status})"
        return {**judged, "status": FAIL, "reason": f"a server would reject what arrived: {verification.reason}{first}"}
    if body_changed:
        return {**judged, "status": FAIL, "reason": f"a server accepts it, but not the body the library signed{first}"}
    if verification.rules != "spec":
        return {**judged, "status": VARIANT, "reason": f"a server accepts what arrived under the open choice {verification.rules}{first}"}
    judged["stage"] = None
    return {**judged, "status": PASS, "reason": "a server accepts what arrived" + (first if diffs else " (it arrived as signed)")}
