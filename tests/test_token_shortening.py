"""Session tokens shortened on a document's JSON text (harness/report/text.py): the quick search (patterns
over the lower-cased text, `str.find` for the values found) gives exactly what the patterns give one at a
time, on random documents with tokens in every place and case, and falls back where it cannot stand for them."""

from __future__ import annotations

import json
import random

import pytest

from harness.report import text as t

ALPHABET = "AQoDYXdzEJr//////////wEaDOSZ+/=%20abcXYZ0123456789-_."


def token(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(3, 60)))


def name(rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c for c in "x-amz-security-token")


def document(rng: random.Random) -> dict:
    tokens = [token(rng) for _ in range(rng.randint(1, 4))]
    pick = lambda: rng.choice(tokens)  # noqa: E731
    space = rng.choice(["", " ", "\t"])
    strings = [
        f"GET\n/\n\nhost:example.com\n{name(rng)}:{space}{pick()}{rng.choice(['', ' '])}\n\nhost",
        f"https://example.com/?a=b&{name(rng)}={pick()}&X-Amz-Signature=00",
        f"the token {pick()} was repeated in a reason",
        f"{name(rng)}: {pick()}\r\n{name(rng)}={pick()} \"{pick()}\"",
        "İstanbul " * rng.randint(0, 1) + "no token here",
        f"{name(rng)}:{pick()}…[12 chars]",
    ]
    rng.shuffle(strings)
    rows = [{"reason": s, "headers": [[name(rng), pick()], ["Host", "example.com"]]} for s in strings]
    return {"results": rows, "quoted": f'"{name(rng)}","{pick()}"'}


@pytest.mark.parametrize("seed", range(200))
def test_quick_search_gives_what_the_patterns_give_one_at_a_time(seed):
    text = json.dumps(document(random.Random(seed)), ensure_ascii=False, separators=(",", ":"))
    assert t.shorten_tokens_in_json(text) == t._shorten_named_one_pattern_at_a_time(text)


def test_every_form_is_shortened_and_the_fallbacks_are_taken():
    whole = "AQoDYXdzEJr/////////wEaDOSZexampletoken"
    data = {"a": f"X-AMZ-SECURITY-TOKEN:{whole}", "b": [["x-amz-Security-Token", whole]],
            "c": f"?x-amz-security-token={whole}&x=1", "d": f"said {whole} twice: {whole}"}
    text = json.dumps(data, separators=(",", ":"))
    out = json.loads(t.shorten_tokens_in_json(text))
    assert whole not in json.dumps(out) and out["d"] == f"said {t.short_token(whole)} twice: {t.short_token(whole)}"
    assert t._named_matches(text) is not None
    # a character whose lower case is longer: positions would not line up, so the patterns run one at a time
    wider = json.dumps({**data, "e": "İ"}, ensure_ascii=False)
    assert t._named_matches(wider) is None
    assert t.shorten_tokens_in_json(wider) == t._shorten_named_one_pattern_at_a_time(wider)
    assert whole not in t.shorten_tokens_in_json(wider)
