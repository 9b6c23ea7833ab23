"""Bytes given in a case or vector: a plain string (UTF-8), {text}, {base64}, {hex}, or {repeat,
times}; one CaseError with FILE:LINE for a bad one."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from harness.cases.errors import CaseError


def content_bytes(spec: Any, where: str, file: str, line: int) -> bytes:
    """Bytes from {text}, {base64}, {hex}, {repeat, times} or a plain string."""
    if isinstance(spec, str):
        return spec.encode("utf-8")
    if not isinstance(spec, dict) or len(set(spec) & {"text", "base64", "hex", "repeat"}) != 1:
        raise CaseError(file, line, f"{where}: give one of text, base64, hex, or repeat with times")
    try:
        if "text" in spec:
            return str(spec["text"]).encode("utf-8")
        if "base64" in spec:
            return base64.b64decode(spec["base64"], validate=True)
        if "hex" in spec:
            return bytes.fromhex(spec["hex"])
    except (binascii.Error, ValueError) as exc:
        raise CaseError(file, line, f"{where}: {exc}") from None
    times = spec.get("times")
    if not isinstance(times, int) or times < 0:
        raise CaseError(file, line, f"{where}: repeat needs times, a whole number >= 0")
    return str(spec["repeat"]).encode("utf-8") * times
