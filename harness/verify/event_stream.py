"""Verify a signed event stream the way a streaming service would: the seed request, then every
envelope message in order, each chained on the signature before it, up to the empty message that
ends the stream.

Each envelope carries ':date' (timestamp) and ':chunk-signature' (bytes) headers; its payload is the
inner message. The verifier re-encodes the ':date' header it received, rebuilds the string to sign
from the prior signature it holds, and compares. The rules and their evidence are in
docs/streaming.md.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime, timezone

from harness.model import SignedRequest
from harness.reference import event_stream as ref
from harness.reference import signing
from harness.verify.single import MAX_CLOCK_SKEW, Rejected, ServerRules, _first, _parse_authorization, verify


@dataclass
class EventStreamVerification:
    valid: bool
    reason: str = ""
    events: int = 0  # messages with a payload accepted before the verdict
    payloads: list[bytes] = field(default_factory=list)


def verify_stream(signed: SignedRequest, body: bytes, rules: ServerRules) -> EventStreamVerification:
    """Accept or reject one event stream (request head + the envelope messages as sent)."""
    progress = EventStreamVerification(False)
    try:
        _verify(signed, body, rules, progress)
    except (Rejected, ref.MessageError) as exc:
        progress.reason = str(exc)
        return progress
    progress.valid = True
    return progress


def verify_messages(messages: bytes, prior_signature: str, access_key_id: str, rules: ServerRules) -> EventStreamVerification:
    """Verify the envelope messages alone, chained on a known prior signature."""
    progress = EventStreamVerification(False)
    try:
        if access_key_id not in rules.credentials:
            raise Rejected(f"unknown access key id {access_key_id!r}")
        _verify_messages(messages, prior_signature, rules.credentials[access_key_id], rules, progress)
    except (Rejected, ref.MessageError) as exc:
        progress.reason = str(exc)
        progress.valid = False
        return progress
    progress.valid = True
    return progress


def _verify(signed: SignedRequest, body: bytes, rules: ServerRules, progress: EventStreamVerification) -> None:
    declared = (_first(signed.headers, "X-Amz-Content-Sha256") or "").strip()
    if declared != ref.STREAMING_EVENTS_PAYLOAD:
        raise Rejected(f"x-amz-content-sha256 {declared!r} is not {ref.STREAMING_EVENTS_PAYLOAD}")
    seed = verify(signed, b"", rules)
    if not seed.valid:
        raise Rejected(f"seed request: {seed.reason}")
    algorithm_name, credential, _, seed_signature = _parse_authorization(_first(signed.headers, "Authorization") or "")
    if algorithm_name != signing.SIGV4_ALGORITHM:
        raise Rejected(f"event streams are signed with {signing.SIGV4_ALGORITHM}, not {algorithm_name}")
    _verify_messages(body, seed_signature, rules.credentials[credential.partition("/")[0]], rules, progress)


def _header(headers: list[ref.Header], name: str, kind: str, index: int) -> ref.Header:
    found = [h for h in headers if h.name == name]
    if len(found) != 1:
        raise Rejected(f"message {index}: {len(found)} {name} headers, not one")
    if found[0].type != kind:
        raise Rejected(f"message {index}: {name} is a {found[0].type}, not a {kind}")
    return found[0]


def _verify_messages(body: bytes, prior: str, secret: str, rules: ServerRules, progress: EventStreamVerification) -> None:
    pos = 0
    index = 0
    ended = False
    while pos < len(body):
        if ended:
            raise Rejected(f"message {index} arrives after the empty message that ends the stream")
        headers, payload, length = ref.decode_message(body[pos:])
        pos += length
        date = _header(headers, ":date", "timestamp", index)
        sig = _header(headers, ":chunk-signature", "bytes", index)
        when = datetime.fromtimestamp(int(date.value) / 1000, timezone.utc)  # type: ignore[arg-type]
        if abs(rules.now - when) > MAX_CLOCK_SKEW:
            raise Rejected(f"message {index}: :date {when:%Y%m%dT%H%M%SZ} is more than 15 minutes from the server's time")
        amz_date = when.strftime("%Y%m%dT%H%M%SZ")
        scope = signing.credential_scope(amz_date[:8], rules.region, rules.service)
        sts = ref.event_string_to_sign(amz_date, scope, prior, ref.date_header(int(date.value)), payload)  # type: ignore[arg-type]
        key = signing.signing_key(secret, amz_date[:8], rules.region, rules.service)
        expected = signing.signature(key, sts)
        received = bytes(sig.value).hex()  # type: ignore[arg-type]
        if not hmac.compare_digest(expected, received):
            raise Rejected(f"message {index}: signature does not match (chained on {prior[:16]}...)")
        prior = received
        if payload:
            progress.events += 1
            progress.payloads.append(payload)
        else:
            ended = True
        index += 1
    if not ended:
        raise Rejected("truncated stream: no empty signed message ends it")
