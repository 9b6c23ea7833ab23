"""Judge an adapter's aws-chunked upload or event stream: compare the stages in chain order (the
first chunk or event that differs is the drill-down), verify the whole chain as S3 or a streaming
service would (harness/verify/chunked.py, event_stream.py, with the case's open choices), and check
that what was signed is what the case asked for (the request head, the decoded payload, trailers,
event payloads).

An answer carries `signed` (the seed request head as the library signed it) and `stream`
(docs/adapter-protocol.md): the chunk signatures in order (the final chunk's last) and the trailer
signature, or the wire body; per event the `:date` (milliseconds) and `:chunk-signature` (hex), or
the envelope message. Where the library gives signatures only, the harness writes them on the wire
the way aws-c-auth's and smithy-rs's writers do (the wire layout is not signed).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, replace
from typing import Any, Callable

from harness.cases.streams import AWS_CHUNKED, STREAM_SURFACES
from harness.integrity import request_changes
from harness.judgement import NOTE_ECDSA, Expected, Judgement, compare_stages
from harness.model import Check, SignedRequest
from harness.reference import chunked as ch
from harness.reference import event_stream as es
from harness.reference import signing, surface_of
from harness.reference.authorization import components
from harness.settings import PayloadKind
from harness.verify.chunked import parse_chunked_body, verify_upload
from harness.verify.event_stream import verify_stream
from harness.verify.single import Rejected, ServerRules

# Open choices of the aws-chunked verifier (docs/streaming.md) as verify_upload's keywords.
CHOICES: dict[str, dict[str, Any]] = {
    "aws-chunked-without-content-encoding": {"require_content_encoding": False},
    "chunks-below-8-kib": {"min_chunk_size": 0},
}
__all__ = ["STREAM_SURFACES", "expected_for_stream", "judge_stream"]
SIGNATURE_STAGES = ("seed_signature", "chunk_signature", "final_chunk", "trailer_signature")


@dataclass
class StreamVerification:
    valid: bool
    reason: str
    rules: str  # "spec", or the open choices under which a server accepts it
    decoded: list[bytes]  # the payload as the server decoded it (chunks) or the event payloads


def render_message(message: bytes) -> str:
    """An envelope as text: its headers sorted by name (their order is not signed: aws-sdk-go and
    the Ruby gem write :date first, smithy-rs :chunk-signature first), then its payload."""
    try:
        headers, payload, _ = es.decode_message(message)
    except es.MessageError as exc:
        return f"<not an event stream message: {exc}> {message[:64].hex()}"
    lines = []
    for h in sorted(headers, key=lambda h: h.name):
        value = bytes(h.value).hex() if isinstance(h.value, (bytes, bytearray)) else h.value
        lines.append(f"{h.name} ({h.type}): {value}")
    return "\n".join(lines + [f"payload ({len(payload)} bytes): {payload[:256].hex()}" + ("..." if len(payload) > 256 else "")])


def expected_for_stream(check: Check) -> Expected:
    """The reference's stages (`chunk_signature.0`, ...), the case's published values over them;
    envelopes as render_message shows them."""
    stages = dict(surface_of(check).sign(check).stages)
    given = check.case.expect.get(check.mode) or {}
    stages.update(given)
    for name, value in stages.items():
        if name.startswith("signed_message."):
            stages[name] = render_message(bytes.fromhex(value))
    return Expected(stages, "case" if given else "reference")


def seed_signature(signed: SignedRequest) -> str | None:
    for name, value in signed.headers:
        if name.lower() == "authorization":
            return components(value)[1].get("Signature", "").strip() or None
    return None


def _hex(value: Any, what: str) -> str:
    text = str(value).strip()
    try:
        bytes.fromhex(ch.trim_signature(text))
    except ValueError:
        raise ValueError(f"{what} {text[:80]!r} is not hex") from None
    return text


# -- aws-chunked ---------------------------------------------------------------------------------


def chunked_answer(check: Check, stream: dict[str, Any]) -> tuple[bytes, list[str], str | None, bool]:
    """(wire body, chunk signatures with the final one last, trailer signature, assembled here?)."""
    upload: ch.ChunkedUpload = check.case.subject
    if stream.get("body_b64") is not None:
        body = base64.b64decode(stream["body_b64"], validate=True)
        try:
            chunks, trailers = parse_chunked_body(body)
        except Rejected:
            return body, [], None, False  # the verifier names what is wrong with it
        sigs = [c.signature or "" for c in chunks] if not upload.unsigned else []
        trailer = next((v for n, v in trailers if n == "x-amz-trailer-signature"), None)
        return body, sigs, trailer, False
    sigs = [_hex(s, "chunk signature") for s in stream.get("chunk_signatures") or []]
    trailer = stream.get("trailer_signature")
    trailer = None if trailer is None else _hex(trailer, "trailer signature")
    context = upload.context
    body = bytearray()
    pieces = list(upload.chunks) + [b""]
    for index, data in enumerate(pieces):
        sig = None if upload.unsigned or index >= len(sigs) else ch.wire_signature(context, ch.trim_signature(sigs[index]))
        body += ch.chunk_header(len(data), sig)
        if data:
            body += data + b"\r\n"
        if not upload.unsigned and index >= len(sigs):
            break  # the library stopped signing: the stream is cut here
    else:
        body += ch.trailer_section(upload.trailers, None if trailer is None else ch.wire_signature(context, ch.trim_signature(trailer)))
    return bytes(body), sigs, trailer, True


def chunked_actual(check: Check, answer: dict[str, Any], sigs: list[str], trailer: str | None) -> dict[str, str | None]:
    upload: ch.ChunkedUpload = check.case.subject
    stream = answer.get("stream") or {}
    actual: dict[str, str | None] = {}
    n = len(upload.chunks)
    for index, sig in enumerate(sigs):
        actual["final_chunk" if index == n else f"chunk_signature.{index}"] = ch.trim_signature(sig)
    for index, sts in enumerate(stream.get("chunk_strings_to_sign") or []):
        actual[f"chunk_string_to_sign.{index}"] = str(sts)
    if trailer is not None:
        actual["trailer_signature"] = ch.trim_signature(trailer)
    if stream.get("trailer_string_to_sign") is not None:
        actual["trailer_string_to_sign"] = str(stream["trailer_string_to_sign"])
    return actual


def chain_on_actual(check: Check, seed: str | None, actual: dict[str, str | None], expected: dict[str, str]) -> dict[str, str]:
    """SigV4A signatures are random, so each chunk's and the trailer's string to sign is expected
    chained on the library's own previous signature (from its seed on)."""
    upload: ch.ChunkedUpload = check.case.subject
    ctx = upload.context
    scope = signing.credential_scope(ctx.date_stamp, ctx.region, ctx.service, ctx.algorithm)
    out = dict(expected)
    previous = seed
    for index, data in enumerate(list(upload.chunks) + [b""]):
        if previous is None:
            break
        out[f"chunk_string_to_sign.{index}"] = ch.chunk_string_to_sign(ctx.algorithm, ctx.amz_date, scope, previous, data)
        previous = actual.get("final_chunk" if index == len(upload.chunks) else f"chunk_signature.{index}")
    if previous is not None and "trailer_string_to_sign" in expected:
        out["trailer_string_to_sign"] = ch.trailer_string_to_sign(ctx.algorithm, ctx.amz_date, scope, previous, ch.trailing_headers(upload.trailers))
    return out


def verify_chunked(check: Check, signed: SignedRequest, body: bytes) -> StreamVerification:
    upload: ch.ChunkedUpload = check.case.subject
    rules = ServerRules.for_context(replace(upload.context, payload=PayloadKind.AUTO))
    choices = [c for c in check.case.open_choices if c in CHOICES]
    attempts: list[tuple[str, dict[str, Any]]] = [("spec", {})] + [(c, CHOICES[c]) for c in choices]
    if len(choices) > 1:
        attempts.append((",".join(choices), {k: v for c in choices for k, v in CHOICES[c].items()}))
    first = None
    for name, kwargs in attempts:
        result = verify_upload(signed, body, rules, **kwargs)
        first = first or result
        if result.valid:
            return StreamVerification(True, "", name, [result.decoded])
    assert first is not None
    return StreamVerification(False, first.reason, "spec", [])


def chunked_changes(check: Check, body: bytes, verification: StreamVerification) -> list[str]:
    upload: ch.ChunkedUpload = check.case.subject
    changes = []
    if verification.decoded and verification.decoded[0] != b"".join(upload.chunks):
        changes.append(f"the decoded payload is {len(verification.decoded[0])} bytes, not the {upload.decoded_length} asked for (or other bytes)")
    try:
        _, trailers = parse_chunked_body(body)
    except Rejected:
        return changes
    sent = [(n, v) for n, v in trailers if n != "x-amz-trailer-signature"]
    wanted = [(n.lower(), v.strip()) for n, v in upload.trailers]
    if sent != wanted:
        changes.append(f"trailers {sent} are not the {wanted} asked for")
    return changes


# -- event streams -------------------------------------------------------------------------------


def events_answer(check: Check, stream: dict[str, Any]) -> tuple[list[bytes], bool]:
    """The envelope messages in order (built here from :date and :chunk-signature when the library
    gives those only), and whether the harness assembled them."""
    subject: es.EventStream = check.case.subject
    messages, assembled = [], False
    for index, event in enumerate(stream.get("events") or []):
        if event.get("message_b64") is not None:
            messages.append(base64.b64decode(event["message_b64"], validate=True))
            continue
        if index >= len(subject.events):
            raise ValueError(f"answer has {len(stream['events'])} events, the case {len(subject.events)}")
        signature = _hex(event["signature"], f"event {index} signature")
        messages.append(es.signed_message(subject.events[index].payload, int(event["date_ms"]), signature))
        assembled = True
    return messages, assembled


def events_actual(answer: dict[str, Any], messages: list[bytes]) -> dict[str, str | None]:
    actual: dict[str, str | None] = {}
    answered = (answer.get("stream") or {}).get("events") or []
    for index, message in enumerate(messages):
        try:
            headers, payload, _ = es.decode_message(message)
        except es.MessageError:
            actual[f"signed_message.{index}"] = render_message(message)
            continue
        date = next((h for h in headers if h.name == ":date" and h.type == "timestamp"), None)
        sig = next((h for h in headers if h.name == ":chunk-signature" and h.type == "bytes"), None)
        if date is not None:
            actual[f"date_header.{index}"] = es.date_header(int(date.value)).hex()  # type: ignore[arg-type]
        if sig is not None:
            actual["final_event" if not payload else f"event_signature.{index}"] = bytes(sig.value).hex()  # type: ignore[arg-type]
        actual[f"signed_message.{index}"] = render_message(message)
        if index < len(answered) and answered[index].get("string_to_sign") is not None:
            actual[f"event_string_to_sign.{index}"] = str(answered[index]["string_to_sign"])
    return actual


def verify_events(check: Check, signed: SignedRequest, body: bytes) -> StreamVerification:
    subject: es.EventStream = check.case.subject
    result = verify_stream(signed, body, ServerRules.for_context(replace(subject.context, payload=PayloadKind.AUTO)))
    return StreamVerification(result.valid, result.reason, "spec", result.payloads)


def events_changes(check: Check, verification: StreamVerification) -> list[str]:
    subject: es.EventStream = check.case.subject
    wanted = [e.payload for e in subject.events if e.payload]
    if verification.valid and verification.decoded != wanted:
        return [f"{len(verification.decoded)} event payloads arrived, not the {len(wanted)} asked for (or other bytes)"]
    return []


# -- the verdict ---------------------------------------------------------------------------------


def judge_stream(check: Check, expected: Expected, answer: dict[str, Any]) -> Judgement:
    """The verdict for a `signed` answer to an aws-chunked or event-stream check."""
    case = check.case
    is_chunked = case.surface == AWS_CHUNKED
    try:
        signed = SignedRequest.from_json(answer["signed"])
        stream = answer.get("stream")
        if not isinstance(stream, dict):
            raise TypeError("no `stream` object")
        seed = seed_signature(signed)
        actual: dict[str, str | None] = {"seed_canonical_request": answer.get("canonical_request"),
                                         "seed_string_to_sign": answer.get("string_to_sign"), "seed_signature": seed}
        if is_chunked:
            body, sigs, trailer, assembled = chunked_answer(check, stream)
            actual.update(chunked_actual(check, answer, sigs, trailer))
        else:
            messages, assembled = events_answer(check, stream)
            body = b"".join(messages)
            actual.update(events_actual(answer, messages))
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        return Judgement("error", f"malformed `signed` or `stream` in the answer: {type(exc).__name__}: {exc}")

    sigv4a = case.context.algorithm == "sigv4a"
    wanted = chain_on_actual(check, seed, actual, expected.stages) if sigv4a else expected.stages
    names = list(dict.fromkeys(list(wanted) + [k for k in actual if k not in wanted]))
    stages, first = compare_stages(tuple(names), wanted, actual)
    if sigv4a:
        stages, first = _mask_ecdsa(stages, names)

    verify: Callable[[Check, SignedRequest, bytes], StreamVerification] = verify_chunked if is_chunked else verify_events
    verification = verify(check, signed, body)
    # The stream's own headers (Content-Length, x-amz-decoded-content-length, ...) follow the body the
    # library wrote (its chunk sizes); the verifier checks them against it.
    head = replace(case.request, headers=tuple(h for h in case.request.headers if h[0].lower() not in ch.STREAM_HEADERS))
    changes = request_changes(head, signed, check.context, case.open_choices)
    changes += chunked_changes(check, body, verification) if is_chunked else events_changes(check, verification)
    ver: dict[str, Any] = {"valid": verification.valid, "reason": verification.reason, "rules": verification.rules}
    if assembled:
        ver["wire"] = "written by the harness from the library's signatures (the library gives no wire body)"
    if changes:
        ver["request_changes"] = changes
    shown = dict(answer["signed"])
    result = Judgement("pass", stage=first, stages=stages, verification=ver, signed=shown, received_body=body)
    if not verification.valid:
        chunks = len(case.subject.chunks) if is_chunked else 0
        result.status, result.stage = "fail", first or stage_of_refusal(verification.reason, chunks)
        where = f"; first difference in {first}" if first else ""
        result.reason = f"a server would reject it: {verification.reason}{where}"
    elif changes:
        result.status, result.stage = "fail", first or "stream"
        result.reason = "signed a different stream than the one asked for: " + "; ".join(changes[:5])
    elif first is not None:
        result.status = "variant"
        choice = f" under the open choice {verification.rules}" if verification.rules != "spec" else ""
        result.reason = f"differs from the expectation in {first}, but a server accepts it{choice}"
    elif verification.rules != "spec":
        result.reason = f"a server accepts it under the open choice {verification.rules} (S3's own rules refuse it)"
    return result


def stage_of_refusal(reason: str, chunks: int) -> str:
    """The stage a verifier's refusal names ("chunk 3 signature ...", "message 1: ...", "trailer ..."),
    for the drill-down when no compared stage differs (SigV4A, strings to sign not exposed)."""
    found = re.match(r"(?:chunk (\d+)|(final chunk)|(trailer)|message (\d+))", reason)
    if found is None:
        return "stream"
    chunk, final, trailer, message = found.groups()
    if chunk is not None:
        return "final_chunk" if int(chunk) == chunks else f"chunk_signature.{chunk}"
    if final or trailer:
        return "final_chunk" if final else "trailer_signature"
    return f"event_signature.{message}"


def _mask_ecdsa(stages: dict[str, dict[str, Any]], names: list[str]) -> tuple[dict[str, dict[str, Any]], str | None]:
    """ECDSA signatures are not compared (random per signing; the verifier checks them)."""
    first = None
    for name in names:
        entry = stages[name]
        if name.split(".")[0] in SIGNATURE_STAGES:
            for key in ("equal", "line", "diff"):
                entry.pop(key, None)
            entry.update(compared=False, note=NOTE_ECDSA)
        elif entry.get("compared") and not entry.get("equal") and first is None:
            first = name
    return stages, first
