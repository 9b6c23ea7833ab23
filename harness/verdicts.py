"""Every verdict, declared once: its order, class, symbol, letter, meaning, colour and JUnit mapping.

History, diff, the report (Python and, through the page data, JavaScript), disagreements, fuzzing,
JUnit, the summary and the CLI all read this module; none keeps a list of its own
(docs/verdicts.md explains the choices).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.stages import REFUSAL_STAGE  # the stage a refusal is judged at

GOOD, NEUTRAL, BAD = "good", "unsupported", "bad"
CLASS_RANK = {GOOD: 2, NEUTRAL: 1, BAD: 0}  # a move to a lower class is a regression


@dataclass(frozen=True)
class Verdict:
    name: str
    klass: str  # good | unsupported | bad
    symbol: str
    letter: str  # the one-letter code the report's page data uses
    meaning: str
    colours: tuple[str, str, str, str]  # the report's chips: light text, light background, dark text, dark background
    junit: str  # passed | skipped | failure | error

    @property
    def rank(self) -> int:
        """Best first: 0 is the best verdict."""
        return ORDER.index(self.name)


# Best first: pass > variant > unsupported > fail > error.
_DECLARED = (
    Verdict("pass", GOOD, "✓", "p", "matches the expectation", ("#1a7f37", "#dafbe1", "#3fb950", "#12261e"), "passed"),
    Verdict("variant", GOOD, "≈", "v",
            "differs from the expectation, but a server accepts the request (a different valid choice)",
            ("#0550ae", "#ddf4ff", "#4493f8", "#121d2f"), "passed"),
    Verdict("unsupported", NEUTRAL, "–", "u",
            "the library cannot express this case (counted apart, never as a failure)",
            ("#59636e", "#eff2f5", "#9198a1", "#1c2128"), "skipped"),
    Verdict("fail", BAD, "✗", "f",
            "a server would reject the request, or it signed what should have been refused",
            ("#cf222e", "#ffebe9", "#f85149", "#2d1214"), "failure"),
    Verdict("error", BAD, "!", "e", "the adapter crashed, timed out or answered nonsense",
            ("#8250df", "#fbefff", "#ab7df8", "#231a33"), "error"),
)
ORDER: tuple[str, ...] = tuple(v.name for v in _DECLARED)
VERDICTS: dict[str, Verdict] = {v.name: v for v in _DECLARED}
PASS, VARIANT, UNSUPPORTED, FAIL, ERROR = ORDER

# A cell with no verdict (adapter unavailable, or the case was not in that adapter's run).
MISSING = Verdict("missing", NEUTRAL, "·", ".", "no verdict: the adapter was unavailable, or the case was not in its run",
                  ("#8c959f", "transparent", "#6e7681", "transparent"), "skipped")

# Columns in tables of counts: the good ones, then the bad, then unsupported (counted apart).
COUNT_ORDER: tuple[str, ...] = (PASS, VARIANT, FAIL, ERROR, UNSUPPORTED)
# The worst verdict of a set wins a summary cell; unsupported only where nothing ran.
WORST_FIRST: tuple[str, ...] = (ERROR, FAIL, VARIANT, PASS, UNSUPPORTED)
JUDGED: tuple[str, ...] = tuple(v.name for v in _DECLARED if v.klass != NEUTRAL)
NOT_BAD: frozenset[str] = frozenset(v.name for v in _DECLARED if v.klass != BAD)  # any other name is bad (klass)

# -- what a fail is (docs/verdicts.md, "What a fail is"): sub-classes of `fail`, derived from the judgement,
# never stored. Diff, history and the score keep comparing verdicts; the report counts and shows these apart.


@dataclass(frozen=True)
class FailKind:
    name: str
    symbol: str
    letter: str  # the report's page data: a fail cell carries its kind's letter
    label: str
    meaning: str


REJECTED, ACCEPTED_INVALID, REFUSED_VALID = "rejected", "accepted-invalid", "refused-valid"
FAIL_KINDS: tuple[FailKind, ...] = (
    FailKind(REJECTED, "✗", "f", "signed wrongly",
             "a server rejects what it signed, or it signed another request than the one asked for"),
    FailKind(ACCEPTED_INVALID, "⚠", "a", "accepted an invalid input",
             "signed without complaint an input a correct signer refuses (or a server must refuse)"),
    FailKind(REFUSED_VALID, "⊘", "r", "refused a valid input", "refused to sign a valid request"),
)
FAIL_KIND: dict[str, FailKind] = {k.name: k for k in FAIL_KINDS}


def fail_kind(row: dict, case: dict | None = None) -> str | None:
    """What a `fail` row is (None for any other verdict), from the row and its case as results.json holds them:
    a case that expects a refusal (`expect_error`, or a surface case whose server must refuse) and got a
    signature accepted an invalid input; a refusal of anything else refused a valid input; the rest is rejected."""
    if row.get("status") != FAIL:
        return None
    ver = row.get("verification") if isinstance(row.get("verification"), dict) else {}
    if (case or {}).get("expect_error") or (ver.get("expected") and ver.get("valid") is True):
        return ACCEPTED_INVALID
    if row.get("stage") == REFUSAL_STAGE and not ver:
        return REFUSED_VALID
    return REJECTED


SCORE_FORMULA = "score = (pass + variant) ÷ (pass + variant + fail + error); unsupported checks are left out"


def klass(name: str | None) -> str:
    """The class of a verdict name; anything unknown counts as bad."""
    verdict = VERDICTS.get(name or "")
    return verdict.klass if verdict else BAD


def is_good(name: str | None) -> bool:
    return klass(name) == GOOD


def symbol(name: str) -> str:
    return (VERDICTS.get(name) or MISSING).symbol


def worst(names: set[str] | list[str] | tuple[str, ...]) -> str | None:
    """The verdict a summary cell shows for a set of verdicts."""
    return next((n for n in WORST_FIRST if n in names), None)


def css() -> str:
    """The verdict colours as CSS variables (--pass, --pass-bg, ...), light and dark."""
    every = (*_DECLARED, MISSING)
    light = " ".join(f"--{v.name}: {v.colours[0]}; --{v.name}-bg: {v.colours[1]};" for v in every)
    dark = " ".join(f"--{v.name}: {v.colours[2]}; --{v.name}-bg: {v.colours[3]};" for v in every)
    return f":root {{ {light} }}\n@media (prefers-color-scheme: dark) {{ :root {{ {dark} }} }}\n"


def page_data() -> dict[str, object]:
    """What the report's JavaScript needs to know of the verdicts (it keeps no list of its own)."""
    every = (*_DECLARED, MISSING)
    return {
        "order": list(ORDER),
        "count_order": list(COUNT_ORDER),
        "letters": {v.letter: v.name for v in every},
        "symbols": {v.name: v.symbol for v in every},
        "meaning": {v.name: v.meaning for v in every},
        "classes": {v.name: v.klass for v in every},
        "fail_kinds": [{"name": k.name, "symbol": k.symbol, "letter": k.letter, "label": k.label, "meaning": k.meaning}
                       for k in FAIL_KINDS],
    }


# -- how a verdict moved between two runs (docs/verdicts.md, "Regressions, fixes and changes")
REGRESSION, FIX, CHANGE, NEW, GONE = "regression", "fix", "change", "new", "gone"
KIND_ORDER = (REGRESSION, FIX, CHANGE, NEW, GONE)


def movement(old: str | None, new: str | None) -> str | None:
    """What moving from verdict `old` to `new` is (None: nothing changed). A missing side is None."""
    if old == new:
        return None
    if old is None:
        return NEW
    if new is None:
        return GONE
    old_rank, new_rank = CLASS_RANK[klass(old)], CLASS_RANK[klass(new)]
    if new_rank < old_rank:
        return REGRESSION
    if new_rank > old_rank:
        return FIX
    return CHANGE


def severity(old: str | None, new: str | None) -> int:
    """How far a verdict fell (larger is worse); sorts regressions: pass->error before variant->unsupported."""
    rank = {v: len(ORDER) - i for i, v in enumerate(ORDER)}
    return rank.get(old or "", 0) - rank.get(new or "", 0)
