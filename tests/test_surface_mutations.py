"""The verifiers reject each single mutation of every form and token a server accepts.

For every post-policy, rds, dsql and eks case whose server accepts a correct answer (and that
does not pin a published policy), the reference's form or token is accepted, and then each single mutation of it is refused: every form
field changed in its first character or left out (except the fields a policy lets take any value),
every token query parameter changed in its last character or left out, the token's authority
changed. The hand-picked mutations with their expected reasons are in test_post_policy.py and
test_tokens.py; this sweeps every part of every case.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from harness.cases import load_cases
from harness.cases.surfaces import post_rules, post_upload, token_rules
from harness.model import Case
from harness.reference import post_policy as pp
from harness.reference import tokens as tk
from harness.verify.post_policy import verify_post_with_choices
from harness.verify.tokens import verify_token_with_choices

ROOT = Path(__file__).resolve().parents[1]
CASES = {c.id: c for c in load_cases([ROOT / "cases" / "post-policy", ROOT / "cases" / "tokens"]).cases}
ACCEPTED = sorted(i for i, c in CASES.items() if c.server is not None and c.server.verdict == "accept"
                  and not c.open_choices and not c.upload.get("fields")
                  # a pinned published policy has its form in the case (test_post_policy.py mutates it)
                  and not getattr(c.subject, "policy_base64", None))


def _change(text: str, at: int) -> str:
    """`text` with the character at `at` replaced by another of its kind (digit, letter), or with
    an 'x' added when it is empty."""
    if not text:
        return "x"
    c = text[at]
    if c.isdigit():
        new = str((int(c) + 1) % 10)
    elif c.isalpha() and c.isascii():
        new = "a" if c == "z" else "A" if c == "Z" else chr(ord(c) + 1)
    else:
        new = "x"
    at %= len(text)
    return text[:at] + new + text[at + 1:]


def _free_fields(case: Case) -> set[str]:
    """Fields any value satisfies: x-ignore-*, those without a condition, starts-with ""."""
    free = set()
    named = set()
    for condition in case.subject.conditions:
        if isinstance(condition, dict):
            named |= {n.lower() for n in condition}
        elif condition[0] != "content-length-range":
            name = str(condition[1]).lstrip("$").lower()
            named.add(name)
            if condition[0] == "starts-with" and condition[2] == "":
                free.add(name)
    free |= {n.lower() for n, _ in case.subject.fields if n.lower() not in named}
    return free | {n.lower() for n, _ in case.subject.fields if n.lower().startswith("x-ignore-")}


def _form_mutations(case: Case, fields: list[tuple[str, str]]):
    free = _free_fields(case)
    for i, (name, value) in enumerate(fields):
        if name.lower() in free:
            continue
        yield f"{name} changed", fields[:i] + [(name, _change(value, 0))] + fields[i + 1:]
        yield f"{name} left out", fields[:i] + fields[i + 1:]


@pytest.mark.parametrize("case_id", [i for i in ACCEPTED if CASES[i].surface == "post-policy"])
def test_every_single_form_mutation_is_rejected(case_id):
    case = CASES[case_id]
    stages = pp.sign_post(case.subject).stages
    fields = pp.form_fields(case.subject, stages["string_to_sign"], stages["signature"])
    rules = post_rules(case)
    assert verify_post_with_choices(post_upload(case, fields), rules, case.open_choices).valid
    tried = 0
    for what, mutated in _form_mutations(case, fields):
        result = verify_post_with_choices(post_upload(case, mutated), rules, case.open_choices)
        assert not result.valid, f"{case_id}: {what} is accepted"
        tried += 1
    assert tried >= 12  # key, policy, x-amz-algorithm/-credential/-date/-signature, changed and left out


def _url_of(kind: str, token: str) -> str:
    if kind != "eks":
        return token
    body = token[len(tk.EKS_PREFIX):]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")


def _token_mutations(kind: str, token: str):
    url = _url_of(kind, token)
    before, _, query = url.partition("?")
    pairs = query.split("&")
    frame = (lambda u: tk.token("eks", u)) if kind == "eks" else (lambda u: u)
    for i, pair in enumerate(pairs):
        name, _, value = pair.partition("=")
        changed = f"{name}={_change(value, -1)}"
        yield f"{name} changed", frame(before + "?" + "&".join(pairs[:i] + [changed] + pairs[i + 1:]))
        yield f"{name} left out", frame(before + "?" + "&".join(pairs[:i] + pairs[i + 1:]))
    scheme, sep, rest = before.rpartition("://")
    authority, _, path = rest.partition("/")
    host, colon, port = authority.rpartition(":") if not authority.endswith("]") else (authority, "", "")
    host = host if colon else authority
    other_host = host.replace(host.strip("[]").split(".")[0], _change(host.strip("[]").split(".")[0], -1), 1)
    yield "host changed", frame(f"{scheme}{sep}{other_host}{colon}{port}/{path}?{query}")
    if colon:
        yield "port changed", frame(f"{scheme}{sep}{host}:{_change(port, -1)}/{path}?{query}")


@pytest.mark.parametrize("case_id", [i for i in ACCEPTED if CASES[i].surface != "post-policy"])
def test_every_single_token_mutation_is_rejected(case_id):
    case = CASES[case_id]
    token = tk.sign_token(case.subject).stages["token"]
    rules = token_rules(case)
    assert verify_token_with_choices(token, rules, case.open_choices).valid
    tried = 0
    for what, mutated in _token_mutations(case.surface, token):
        result = verify_token_with_choices(mutated, rules, case.open_choices)
        assert not result.valid, f"{case_id}: {what} is accepted: {mutated}"
        tried += 1
    assert tried >= 13  # 6 X-Amz-* parameters and Action, changed and left out, and the host
