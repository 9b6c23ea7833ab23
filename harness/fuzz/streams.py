"""Streaming inputs for the fuzzer (docs/streaming.md): aws-chunked uploads (chunk sizes around the
8 KiB floor and tiny ones, contents by text or repeat, trailers of every checksum kind, unsigned
payload trailer, SigV4 and SigV4A) and event streams (messages with headers of every type, empty
payloads, events in the same second).

What is drawn is a streaming case mapping, shaped exactly as a YAML case (docs/cases.md), built by
the normal loader. Every choice lists its simplest value first, so Hypothesis shrinks toward one
short chunk (or one message without headers), SigV4, no trailer.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness.cases.streams import AWS_CHUNKED, EVENT_STREAM
from harness.verify.chunked import CHECKSUMS

CHUNK_SIZES = (1, 8192, 8191, 8193, 3, 16384, 100)
CHECKSUM_TRAILERS = tuple(CHECKSUMS)  # x-amz-checksum-crc32, ... (values: auto)
# An event header of every type, with values at their edges.
HEADER_VALUES: dict[str, tuple[Any, ...]] = {
    "string": ("", "AudioEvent", "héllo 日"),
    "bool": (True, False),
    "byte": (0, -128, 127),
    "short": (0, -32768, 32767),
    "integer": (0, -(2**31), 2**31 - 1),
    "long": (0, -(2**63), 2**63 - 1),
    "bytes": ({"text": ""}, {"hex": "00ff"}, {"base64": "AAECAw=="}),
    "timestamp": (0, 1700000000123),
    "uuid": ("00000000-0000-0000-0000-000000000000", "0f8fad5b-d9cb-469f-a165-70867728950e"),
}
HEADER_NAMES = (":event-type", ":content-type", ":message-type", "x", "日本")


@st.composite
def chunk_specs(draw: st.DrawFn) -> list[Any]:
    """Chunks as case items: {repeat, times} of a drawn size, or short text."""
    chunks: list[Any] = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            chunks.append(draw(st.text(alphabet="ab\r\n\x00é", min_size=1, max_size=12)))
        else:
            chunks.append({"repeat": draw(st.sampled_from(("a", "xyz", "\r\n"))), "times": draw(st.sampled_from(CHUNK_SIZES))})
    return [c if not isinstance(c, dict) or len(c["repeat"]) == 1 else {"repeat": c["repeat"], "times": max(1, c["times"] // len(c["repeat"]))}
            for c in chunks]


@st.composite
def chunked_data(draw: st.DrawFn, algorithms: tuple[str, ...]) -> dict[str, Any]:
    algorithm = draw(st.sampled_from(algorithms))
    chunks = draw(chunk_specs())
    spec: dict[str, Any] = {"chunks": chunks}
    unsigned = algorithm == "sigv4" and draw(st.integers(0, 4)) == 4
    names = draw(st.lists(st.sampled_from(CHECKSUM_TRAILERS), max_size=2, unique=True))
    if unsigned and not names:
        names = [CHECKSUM_TRAILERS[0]]
    if names:
        spec["trailers"] = [[n, "auto"] for n in names]
    if unsigned:
        spec["unsigned"] = True
    context: dict[str, Any] = {"service": "s3"}
    if algorithm != "sigv4":
        context["algorithm"] = algorithm
    return {
        "surface": AWS_CHUNKED,
        "request": {"method": "PUT", "url": "https://examplebucket.s3.amazonaws.com/fuzz.bin"},
        "context": context,
        "chunked": spec,
        # Chunks under 8 KiB (the fuzzer draws them on purpose) are S3's rule, not a signing divergence.
        "flags": {"open_choices": ["chunks-below-8-kib"]},
    }


@st.composite
def event_headers(draw: st.DrawFn) -> list[dict[str, Any]]:
    headers = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(tuple(HEADER_VALUES)))
        headers.append({"name": draw(st.sampled_from(HEADER_NAMES)), "type": kind, "value": draw(st.sampled_from(HEADER_VALUES[kind]))})
    return headers


@st.composite
def event_stream_data(draw: st.DrawFn) -> dict[str, Any]:
    events = []
    for _ in range(draw(st.integers(1, 3))):
        message: dict[str, Any] = {}
        headers = draw(event_headers())
        if headers:
            message["headers"] = headers
        payload = draw(st.sampled_from(("", "x", '{"a":1}', None)))
        if payload is None:
            message["payload"] = {"repeat": "\x7f", "times": draw(st.sampled_from((1, 1000, 70000)))}
        elif payload:
            message["payload"] = {"text": payload}
        event: dict[str, Any] = {"message": message}
        if draw(st.booleans()):
            event["offset_seconds"] = 0  # the same second as the stream's start
        events.append(event)
    return {
        "surface": EVENT_STREAM,
        "request": {"method": "POST", "url": "https://transcribestreaming.us-east-1.amazonaws.com/stream-transcription",
                    "headers": [["Content-Type", "application/vnd.amazon.eventstream"]]},
        "context": {"service": "transcribe"},
        "events": events,
    }


def stream_data(surface: str, algorithms: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return chunked_data(algorithms) if surface == AWS_CHUNKED else event_stream_data()
