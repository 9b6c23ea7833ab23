"""The reference signer, written from the AWS specification: one module per signing surface, on
shared single-shot code (canonical.py, signing.py, authorization.py).

A surface declares itself here once: the check modes it serves, the stages it exposes (compared
with each adapter's answer, in order), the stages `sigharness show` prints, and its `sign(check)`.
Comparison, `show` and bless read the declaration; a new surface adds its module and one entry.
A case names its surface (`Case.surface`: single, post-policy, rds, dsql, eks, aws-chunked,
event-stream; docs/streaming.md for the last two).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from harness import settings
from harness.model import SINGLE, Check
from harness.reference import chunked, event_stream, post_policy, signer, tokens
from harness.reference.signer import REFUSAL_STAGE, SigningResult, sign, sign_request


@dataclass(frozen=True)
class Surface:
    name: str
    modes: tuple[str, ...]
    stages: tuple[str, ...]  # compared with each adapter's answer, in order
    shown_stages: tuple[str, ...]  # what `sigharness show` prints
    sign: Callable[[Check], SigningResult]


def render_fields(fields: list[tuple[str, str]]) -> str:
    """A form as text (the POST `form_fields` stage): one `name: value` line per field, names in
    lower case and sorted, as S3 reads them (names are case-insensitive, the order is free)."""
    return "\n".join(f"{name.lower()}: {value}" for name, value in sorted(fields, key=lambda f: f[0].lower()))


def sign_post(check: Check) -> SigningResult:
    """Every stage of a presigned POST for a post-policy case (its `subject` is a PostPolicy)."""
    stages = post_policy.sign_post(check.case.subject).stages
    return SigningResult({**stages, "form_fields": render_fields(stages["form_fields"])})


def sign_token(check: Check) -> SigningResult:
    """Every stage of an IAM token for an rds, dsql or eks case (its `subject` is a TokenRequest)."""
    return SigningResult(dict(tokens.sign_token(check.case.subject).stages))


def sign_chunked(check: Check) -> SigningResult:
    """Every stage of an aws-chunked upload (its `subject` is a ChunkedUpload), `stage.N` per chunk."""
    result = chunked.sign_upload(check.case.subject)
    return SigningResult(result.flat(), result.signed)


def sign_events(check: Check) -> SigningResult:
    """Every stage of an event stream (its `subject` is an EventStream), `stage.N` per event."""
    result = event_stream.sign_stream(check.case.subject)
    return SigningResult(result.flat(), result.signed)


_DECLARED: dict[str, Surface] = {
    SINGLE: Surface(SINGLE, ("header", "query"), signer.STAGES, signer.SHOWN_STAGES, signer.sign),
    "post-policy": Surface("post-policy", ("form",), post_policy.STAGES, post_policy.STAGES, sign_post),
    **{kind: Surface(kind, ("token",), tokens.STAGES, tokens.STAGES[:3] + ("signed_url", "token"), sign_token)
       for kind in tokens.SURFACES},
    # One mode, `stream`; the stages repeat per chunk or event (`chunk_signature.0`, ...).
    "aws-chunked": Surface("aws-chunked", ("stream",), chunked.STAGES, chunked.STAGES, sign_chunked),
    "event-stream": Surface("event-stream", ("stream",), event_stream.STAGES, event_stream.STAGES, sign_events),
}
if set(_DECLARED) != set(settings.SURFACES):
    raise RuntimeError(f"harness/settings.py SURFACES names {sorted(settings.SURFACES)}, the signer declares {sorted(_DECLARED)}")
# in the order harness/settings.py names them (the report's)
SURFACES: dict[str, Surface] = {name: _DECLARED[name] for name in settings.SURFACES}


def surface_of(check: Check) -> Surface:
    """The surface the check's case names, else the one serving its mode."""
    named = SURFACES.get(check.case.surface)
    if named is not None and check.mode in named.modes:
        return named
    for surface in SURFACES.values():
        if check.mode in surface.modes:
            return surface
    raise ValueError(f"no signing surface serves mode {check.mode!r}")


__all__ = ["REFUSAL_STAGE", "SURFACES", "Surface", "SigningResult", "render_fields", "sign", "sign_request", "surface_of"]
