"""py-reference's streaming signatures: an aws-chunked upload or an event stream from the check's
`chunked` / `event_stream` block (docs/adapter-protocol.md), signed by the reference modules
(harness/reference/chunked.py, event_stream.py)."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from harness.model import Check, parse_timestamp
from harness.reference import chunked, event_stream


def upload_of(data: dict[str, Any], check: Check) -> chunked.ChunkedUpload:
    c = data["chunked"]
    return chunked.ChunkedUpload(
        request=check.case.request, context=check.case.context,
        chunks=tuple(base64.b64decode(x) for x in c["chunks_b64"]),
        trailers=tuple((n, v) for n, v in c["trailers"]), unsigned=bool(c["unsigned"]),
        payload=c["payload"], add_stream_headers=False,
    )


def stream_of(data: dict[str, Any], check: Check) -> event_stream.EventStream:
    events = tuple(event_stream.Event(base64.b64decode(e["payload_b64"]), parse_timestamp(e["time"]))
                   for e in data["event_stream"]["events"])
    return event_stream.EventStream(check.case.request, check.case.context, events)


def sign_stream(data: dict[str, Any], check: Check) -> dict[str, Any]:
    """The seed request head, its stages, and the chain: chunk and trailer signatures (with their
    strings to sign), or each event's :date and :chunk-signature (with its string to sign)."""
    check = replace(check, case=replace(check.case, context=replace(check.case.context, payload="body")))
    if data["surface"] == "aws-chunked":
        result = chunked.sign_upload(upload_of(data, check))
        trailer = result.values("trailer_signature")
        stream: dict[str, Any] = {
            "chunk_signatures": result.values("chunk_signature") + result.values("final_chunk"),
            "chunk_strings_to_sign": result.values("chunk_string_to_sign"),
            "trailer_signature": trailer[0] if trailer else None,
            "trailer_string_to_sign": (result.values("trailer_string_to_sign") or [None])[0],
        }
        signing = result
    else:
        signing = event_stream.sign_stream(stream_of(data, check))
        stream = {"events": [
            {"date_ms": e.date_header_value, "signature": sig, "string_to_sign": sts}
            for e, sig, sts in zip(stream_of(data, check).events,
                                   [s.text for s in signing.steps if s.stage in ("event_signature", "final_event")],
                                   signing.values("event_string_to_sign"))
        ]}
    assert signing.signed is not None
    return {"status": "signed", "signed": signing.signed.to_json(), "stream": stream,
            "canonical_request": signing.values("seed_canonical_request")[0],
            "string_to_sign": signing.values("seed_string_to_sign")[0]}
