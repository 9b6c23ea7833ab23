"""Divergence signatures: classify each adapter's outcome, and tell new divergences from known ones.

Every adapter's answer to one generated check is judged as in a run (harness/compare.py: against
the reference signer's stages and by the verifier) and gets a class: pass, variant, fail,
unsupported, error -- or `n/a` when the adapter declares (in its hello) that it does not do this
algorithm or mode at all, so a library without SigV4A does not turn every SigV4A example into noise.
The tuple of classes, one per adapter in name order, is the *divergence signature*. With the first
stage at which any adapter differs, it is the deduplication key: one case per key. In the key only
the deviating adapters count (variant, fail, error): pass, n/a and unsupported are alike, so the
same divergence found in a SigV4 and a SigV4A request, where different adapters sit out or cannot
express the input, is one divergence.

A signature whose deviations are exactly covered by already known (smaller) ones is *compound*:
the request combines two known triggers (a '+' in the query that botocore signs differently, and a
tab in a header that Go keeps); where both hit one adapter, it shows the more severe class (or the
earlier stage). It is counted, not stored, unless asked (`--keep-compound`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from harness import verdicts
from harness.stages import REFUSAL_STAGE, STAGES

CLASSES = (*verdicts.ORDER, "n/a")
# Neither a pass nor sitting out is a deviation. Nor, for the key, is `unsupported`: a library that
# cannot express an input (aws-crt on a binary body, @smithy without SigV4A presigning) says so
# for every such input, which says nothing about how signers disagree. It stays in the signature.
NOT_DEVIATING = (verdicts.PASS, "n/a", verdicts.UNSUPPORTED)
# "sign" is a refusal (no signed request at all); then the stages in the order a signer computes them.
STAGE_ORDER = (REFUSAL_STAGE, *STAGES)
NO_STAGE = "-"


@dataclass(frozen=True)
class Outcome:
    """One adapter's answer to one check, judged."""

    status: str
    stage: str | None = None
    reason: str = ""
    detail: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)


Deviation = tuple[str, str, str]  # (adapter, class, first differing stage)


def _stage_rank(stage: str | None) -> int:
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)


@dataclass(frozen=True)
class Signature:
    classes: tuple[tuple[str, str], ...]  # (adapter, class), sorted by adapter
    stages: tuple[tuple[str, str], ...] = ()  # (adapter, stage) for deviating adapters with a stage

    @property
    def stage(self) -> str:
        """The first differing stage over all deviating adapters ('-' when none has one)."""
        stages = [s for _, s in self.stages]
        return min(stages, key=_stage_rank) if stages else NO_STAGE

    @property
    def key(self) -> tuple[tuple[tuple[str, str], ...], str]:
        """The deduplication key: the classes of the deviating adapters (pass and n/a are alike:
        neither deviates) and the first differing stage."""
        return (tuple((a, c) for a, c in self.classes if c not in NOT_DEVIATING), self.stage)

    @property
    def deviations(self) -> frozenset[Deviation]:
        """(adapter, class, first differing stage) of every deviating adapter: what compound
        detection and shrinking compare."""
        stages = dict(self.stages)
        return frozenset((a, c, stages.get(a, NO_STAGE)) for a, c in self.classes if c not in NOT_DEVIATING)

    @property
    def adapters(self) -> list[str]:
        """The adapters that deviate (not pass, n/a or unsupported)."""
        return [a for a, c in self.classes if c not in NOT_DEVIATING]

    @property
    def agrees(self) -> bool:
        return not self.deviations

    @property
    def short(self) -> str:
        return hashlib.sha256(repr(self.key).encode()).hexdigest()[:10]

    def describe(self) -> str:
        """'fail@canonical_request: a, b; variant@sign: c' (what does not deviate left out)."""
        stages = dict(self.stages)
        groups: dict[str, list[str]] = {}
        for adapter, cls in self.classes:
            if cls in NOT_DEVIATING:
                continue
            label = cls + (f"@{stages[adapter]}" if adapter in stages else "")
            groups.setdefault(label, []).append(adapter)
        return "; ".join(f"{label}: {', '.join(names)}" for label, names in sorted(groups.items())) or "all agree"

    def to_found_by(self) -> dict[str, Any]:
        return {
            "signature": {a: c for a, c in self.classes},
            "stage": self.stage,
            "stages": {a: s for a, s in self.stages},
            "adapters": self.adapters,
        }

    @classmethod
    def from_found_by(cls, found_by: Mapping[str, Any]) -> "Signature":
        classes = tuple(sorted((str(a), str(c)) for a, c in (found_by.get("signature") or {}).items()))
        stages = tuple(sorted((str(a), str(s)) for a, s in (found_by.get("stages") or {}).items()))
        return cls(classes, stages)


# When two triggers meet in one request, an adapter shows the more severe class of the two, and
# with the same class the earlier first differing stage.
SEVERITY = {"variant": 1, "fail": 2, "error": 3}


def _at_least(whole: tuple[str, str], part: tuple[str, str]) -> bool:
    (wc, ws), (pc, ps) = whole, part
    if SEVERITY.get(wc, 0) != SEVERITY.get(pc, 0):
        return SEVERITY.get(wc, 0) > SEVERITY.get(pc, 0)
    return _stage_rank(ws) <= _stage_rank(ps)


def contained(part: frozenset[Deviation], whole: frozenset[Deviation]) -> bool:
    """Could `part` be one of the triggers of `whole`? Every adapter deviating in `part` deviates
    in `whole` at least as much: more severely (a variant there became a fail here, not the
    reverse), or as severely from the same or an earlier stage."""
    by_adapter = {a: (c, s) for a, c, s in whole}
    return all(a in by_adapter and _at_least(by_adapter[a], (c, s)) for a, c, s in part)


def classify(outcomes: Mapping[str, Outcome]) -> Signature:
    classes = tuple(sorted((name, o.status) for name, o in outcomes.items()))
    stages = tuple(sorted(
        (name, o.stage) for name, o in outcomes.items() if o.status not in NOT_DEVIATING and o.stage
    ))
    return Signature(classes, stages)


class Known:
    """The divergences already stored (or already expressed by a curated case)."""

    def __init__(self, signatures: Iterable[Signature] = ()):
        self.parts: dict[tuple[Any, str], frozenset[Deviation]] = {}  # key -> deviations
        for signature in signatures:
            self.add(signature)

    def __len__(self) -> int:
        return len(self.parts)

    @property
    def keys(self) -> set[tuple[Any, str]]:
        return set(self.parts)

    def add(self, signature: Signature) -> None:
        self.parts.setdefault(signature.key, signature.deviations)

    def discard(self, signature: Signature) -> None:
        self.parts.pop(signature.key, None)

    def explained(self, signature: Signature, without: tuple[Any, str] | None = None) -> bool:
        """Is every deviation covered by known divergences that are each contained in this one?
        (`without`: leave that known key out, to ask whether a stored one is redundant.)"""
        wanted = signature.deviations
        covered: set[Deviation] = set()
        for key, part in self.parts.items():
            if key != without and part and contained(part, wanted):
                covered |= part & wanted
        return covered == wanted

    def verdict(self, signature: Signature, keep_compound: bool = False) -> str:
        """'agree' (nothing differs), 'known' (same key stored), 'compound' (a union of known
        divergences) or 'new'."""
        if signature.agrees:
            return "agree"
        if signature.key in self.parts:
            return "known"
        if not keep_compound and self.explained(signature):
            return "compound"
        return "new"
