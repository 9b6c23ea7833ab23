"""Looks for a secret in every file under a folder, in every form an output could hold it in. Independent of
harness/redaction.py on purpose: it decodes the files (percent, form, JSON, HTML/XML escapes, base64 runs)
instead of encoding the secret, so a form the redactor forgot is still found."""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from pathlib import Path
from urllib.parse import unquote, unquote_plus

_JSON_ESCAPE = re.compile(r"\\\\?u([0-9a-fA-F]{4})|\\\\?([\"\\/bfnrt])|\\x([0-9a-fA-F]{2})")
_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
_SHORT = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _json_unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return chr(int(m.group(1), 16))
        if m.group(2):
            return _SHORT.get(m.group(2), m.group(2))
        return chr(int(m.group(3), 16))
    return _JSON_ESCAPE.sub(one, text)


def views(text: str) -> list[str]:
    """The text decoded every way a secret could have been encoded in it (and twice where encodings nest)."""
    out = {text}
    for _ in range(2):
        for view in list(out):
            out |= {unquote(view), unquote_plus(view), html.unescape(view), _json_unescape(view)}
    return list(out)


def _base64_decoded(text: str) -> list[bytes]:
    found = []
    for m in _B64_RUN.finditer(text):
        run = m.group(0).replace("-", "+").replace("_", "/").rstrip("=")
        for start in range(4):  # the run may begin mid-quantum of the encoded text
            piece = run[start:]
            piece = piece[:-1] if len(piece) % 4 == 1 else piece + "=" * (-len(piece) % 4)
            if len(piece) >= 4:
                try:
                    found.append(base64.b64decode(piece, validate=True))
                except (binascii.Error, ValueError):
                    pass
    return found


def is_token(text: str, start: int, end: int) -> bool:
    def word(i: int) -> bool:
        return 0 <= i < len(text) and (text[i].isalnum() or text[i] in "_-")
    return not word(start - 1) and not word(end)


def leaks(text: str, secret: str) -> list[str]:
    """Where the secret shows in `text` (long secrets anywhere, short ones as whole tokens)."""
    found = []
    for view in views(text):
        start = view.find(secret)
        while start >= 0:
            if len(secret) >= 8 or is_token(view, start, start + len(secret)):
                found.append(view[max(0, start - 30): start + len(secret) + 30])
                break
            start = view.find(secret, start + 1)
    if len(secret) >= 8:
        for blob in _base64_decoded(text):
            if secret.encode() in blob:
                found.append(f"base64 of {blob[:60]!r}")
    else:
        form = base64.b64encode(secret.encode()).decode().rstrip("=")
        start = text.find(form)
        while start >= 0:
            if is_token(text, start, start + len(form)):
                found.append(f"base64 {text[max(0, start - 20): start + len(form) + 20]}")
                break
            start = text.find(form, start + 1)
    return found


def scan(folder: Path, secrets: list[str]) -> dict[str, list[str]]:
    """{relative path: places} for every file under `folder` that holds any of `secrets`."""
    hits: dict[str, list[str]] = {}
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", "replace")
        for secret in secrets:
            for place in leaks(text, secret):
                hits.setdefault(str(path.relative_to(folder)), []).append(f"{secret!r}: {place}")
    return hits


def loads_everywhere(folder: Path) -> None:
    """Every JSON file and JSON-lines file under `folder` parses without NaN (what a reader would meet)."""
    def strict(name: str) -> None:
        raise AssertionError(f"{name} in a JSON output")
    for path in Path(folder).rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"), parse_constant=strict)
    for path in Path(folder).rglob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            json.loads(line, parse_constant=strict)
