"""The stages a streaming signer went through, in order: one Step per stage value (per chunk or
per event where the stage repeats)."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.model import Context, Request
from harness.reference.signer import SigningResult, sign_request


ONCE = ("final_chunk", "final_event")  # once per stream, though numbered as the last chunk or event


@dataclass(frozen=True)
class Step:
    """One stage's value; `index` numbers the chunk or event it belongs to (None: once per stream)."""

    stage: str
    text: str
    index: int | None = None


@dataclass
class Steps:
    steps: list[Step] = field(default_factory=list)

    def values(self, stage: str) -> list[str]:
        """The stage's values in order (chunk 0 first)."""
        return [s.text for s in self.steps if s.stage == stage]

    def flat(self) -> dict[str, str]:
        """The stages as one mapping in chain order: `stage.N` for a per-chunk or per-event value
        (`chunk_signature.0`), the name alone for a value once per stream (the final chunk's or
        final event's signature, the trailer's)."""
        return {(s.stage if s.index is None or s.stage in ONCE else f"{s.stage}.{s.index}"): s.text for s in self.steps}

    def first_difference(self, expected: dict[str, list[str] | tuple[str, ...]]) -> tuple[str, int, str, str] | None:
        """The first (stage, position, expected, actual) that differs, in chain order; None if all agree."""
        positions: dict[str, int] = {}
        for step in self.steps:
            position = positions.get(step.stage, 0)
            positions[step.stage] = position + 1
            wanted = expected.get(step.stage)
            if wanted is not None and position < len(wanted) and wanted[position] != step.text:
                return step.stage, position, wanted[position], step.text
        for stage, wanted in expected.items():
            if len(wanted) > positions.get(stage, 0):
                return stage, positions.get(stage, 0), wanted[positions.get(stage, 0)], ""
        return None


def sign_seed(request: Request, context: Context) -> tuple[SigningResult, list[Step]]:
    """The seed of a chain (aws-chunked or event stream): the header-signed request that opens it, and its
    stages as the chain's first steps (seed_canonical_request, seed_string_to_sign, seed_signature)."""
    seed = sign_request(request, context, "header")
    return seed, [Step(f"seed_{stage}", seed.stages[stage]) for stage in ("canonical_request", "string_to_sign", "signature")]
