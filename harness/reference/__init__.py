"""The reference signer, written from the AWS specification: one module per signing surface, on
shared single-shot code (canonical.py, signing.py, authorization.py).

A surface declares itself here once: the check modes it serves, the stages it exposes (compared
with each adapter's answer, in order), the stages `sigharness show` prints, and its `sign(check)`.
Comparison, `show` and bless read the declaration; a new surface adds its module and one entry.
The streaming (chunked.py, event_stream.py), POST policy (post_policy.py) and token (tokens.py)
modules reproduce their vectors and are verified in harness/verify/; they join this table when the
case format carries them (docs/streaming.md, docs/post-policy-and-tokens.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from harness.model import Check
from harness.reference import signer
from harness.reference.signer import REFUSAL_STAGE, SigningResult, sign, sign_request


@dataclass(frozen=True)
class Surface:
    name: str
    modes: tuple[str, ...]
    stages: tuple[str, ...]  # compared with each adapter's answer, in order
    shown_stages: tuple[str, ...]  # what `sigharness show` prints
    sign: Callable[[Check], SigningResult]


SURFACES: dict[str, Surface] = {
    "single": Surface("single", ("header", "query"), signer.STAGES, signer.SHOWN_STAGES, signer.sign),
}


def surface_of(check: Check) -> Surface:
    for surface in SURFACES.values():
        if check.mode in surface.modes:
            return surface
    raise ValueError(f"no signing surface serves mode {check.mode!r}")


__all__ = ["REFUSAL_STAGE", "SURFACES", "Surface", "SigningResult", "sign", "sign_request", "surface_of"]
