"""The server's side: verify what arrives, one module per signing surface (single-shot header and
query signing in `single`; streaming, POST policies and tokens beside it), each on the shared
canonicalization code of `harness.reference`."""

from __future__ import annotations

from typing import Any, Callable, Protocol, TypeVar


class _Outcome(Protocol):
    valid: bool
    rules: str


class _Rules(Protocol):
    def with_choice(self, choice: str) -> Any: ...


V = TypeVar("V", bound=_Outcome)
R = TypeVar("R", bound=_Rules)


def first_accepting(verify: Callable[[Any, R], V], received: Any, rules: R, choices: tuple[str, ...]) -> V:
    """Verify under the spec's rules, then under each open choice the case names; the first that accepts
    wins (its name is in `rules`). Every surface's `*_with_choices` is this."""
    result = verify(received, rules)
    if result.valid:
        return result
    for choice in choices:
        alternative = verify(received, rules.with_choice(choice))
        if alternative.valid:
            alternative.rules = choice
            return alternative
    return result
