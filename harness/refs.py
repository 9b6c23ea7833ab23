"""References as the corpus and the divergence catalogue write them: a link, or owner/repo#N."""

from __future__ import annotations

import re

_URL = re.compile(r"^https?://[^\s<>\"']+$")
_ISSUE = re.compile(r"^([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)#(\d+)$")


def ref_link(ref: str) -> str | None:
    """A URL for a reference: itself when it is http(s), owner/repo#N as a GitHub issue, else None."""
    ref = ref.strip()
    if _URL.match(ref):
        return ref
    m = _ISSUE.match(ref)
    if m:
        return f"https://github.com/{m.group(1)}/{m.group(2)}/issues/{m.group(3)}"
    return None
