"""Judge an adapter's presigned POST form or IAM token: compare the surface's declared stages with
the expectation, verify the form or token as S3, the database or the cluster would (with the
case's open choices), and check that it is the form or token the case asked for.

An answer for a surface case carries `form: {url, fields: [[name, value], ...]}` (post-policy) or
`token: "..."` (rds, dsql, eks) instead of `signed` (docs/adapter-protocol.md).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from typing import Any

from harness import protocol
from harness.cases.surfaces import POST_POLICY, expected_verdict, post_rules, post_upload, token_rules
from harness.judgement import Expected, Judgement, compare_stages
from harness.model import Check
from harness.reference import render_fields, surface_of
from harness.reference import tokens as tk
from harness.reference.encoding import uri_decode
from harness.verify.post_policy import verify_post_with_choices
from harness.verify.tokens import checked_request, verify_token_with_choices


def token_url(kind: str, token: str) -> str | None:
    """The presigned URL a token is: 'https://' + the token (rds, dsql), or the URL inside an EKS
    token's base64url framing (None when it is not one)."""
    if kind != "eks":
        return "https://" + token
    if not token.startswith(tk.EKS_PREFIX):
        return None
    body = token[len(tk.EKS_PREFIX):]
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def render_token(kind: str, token: str) -> str:
    """A token as text (the `token` stage): its authority and path, then its query parameters one
    per line, sorted (their order is the library's and means nothing to the server). An EKS token
    is shown as the URL inside its base64url framing."""
    head = ""
    text = token
    if kind == "eks":
        url = token_url(kind, token)
        if url is None:
            return token
        text = url
        head = tk.EKS_PREFIX + (" base64url (padded) of:" if "=" in token else " base64url of:") + "\n"
    before, _, query = text.partition("?")
    params = sorted(p for p in query.split("&") if p)
    return head + "\n".join([before] + [f"?{p}" for p in params])


def _signature_in(token_text: str) -> str | None:
    for line in token_text.split("\n"):
        name, _, value = line[1:].partition("=") if line.startswith("?") else ("", "", "")
        if uri_decode(name).lower() == b"x-amz-signature":
            return value
    return None


def expected_for_surface(check: Check) -> Expected:
    """The case's published values where it has them, the reference's stages otherwise."""
    case = check.case
    reference = surface_of(check).sign(check).stages
    stages = {name: reference[name] for name in surface_of(check).stages}
    if case.surface != POST_POLICY:
        stages["token"] = render_token(case.surface, reference["token"])
    given = case.expect.get(check.mode) or {}
    if not given:
        return Expected(stages, "reference")
    for name in ("policy_document", "string_to_sign", "signature", "canonical_request"):
        if name in given:
            stages[name] = given[name]
    if "token" in given:
        stages["token"] = render_token(case.surface, given["token"])
    elif "signed_url" in given:
        stages["token"] = render_token(case.surface, tk.token(case.surface, given["signed_url"]))
    return Expected(stages, "case")


def _form(answer: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    form = answer["form"]
    return str(form.get("url") or ""), [(str(n), str(v)) for n, v in form["fields"]]


def form_changes(check: Check, fields: list[tuple[str, str]]) -> list[str]:
    """How the form differs from what was asked for: another key, or a field the user gave missing
    or changed (a policy can stay valid without them, so the verifier alone would not see it)."""
    post = check.case.subject
    values: dict[str, list[str]] = {}
    for name, value in fields:
        values.setdefault(name.lower(), []).append(value)
    changes = []
    if values.get("key") != [post.key]:
        changes.append(f"key is {values.get('key')!r}, asked for {post.key!r}")
    for name, value in post.fields:
        if name.lower() != "key" and value not in values.get(name.lower(), []):
            changes.append(f"field {name!r} is {values.get(name.lower())!r}, asked for {value!r}")
    return changes


def judge_surface(check: Check, expected: Expected, answer: dict[str, Any]) -> Judgement:
    """The verdict for a `signed` answer to a post-policy, rds, dsql or eks check."""
    case = check.case
    changes: list[str] = []
    receiving: dict[str, Any] | None = None  # the oracles' server, when it is not the check's (a token's)
    try:
        if case.surface == POST_POLICY:
            url, fields = _form(answer)
            values = {n.lower(): v for n, v in fields}
            policy = values.get("policy")
            try:
                document = base64.b64decode(policy or "", validate=True).decode("utf-8") if policy is not None else None
            except (binascii.Error, ValueError):
                document = f"<not base64 of UTF-8 text: {policy!r}>"
            actual = {"policy_document": document, "string_to_sign": policy, "signature": values.get("x-amz-signature"),
                      "form_fields": render_fields(fields)}
            upload, rules = post_upload(case, fields), post_rules(case)
            verification = verify_post_with_choices(upload, rules, case.open_choices)
            at_signing = verify_post_with_choices(upload, replace(rules, now=case.context.timestamp), case.open_choices)
            changes = form_changes(check, fields)
            # The form's fields as the generator returned them: the oracles get the browser's POST
            # built from them (harness/post_form.py).
            signed = {"method": "POST", "url": url, "headers": [], "form": [list(f) for f in fields]}
        else:
            token = answer["token"]
            if not isinstance(token, str):
                raise TypeError("token is not a string")
            shown = render_token(case.surface, token)
            actual = {"canonical_request": answer.get("canonical_request"), "string_to_sign": answer.get("string_to_sign"),
                      "signature": _signature_in(shown), "token": shown}
            rules = token_rules(case)
            verification = verify_token_with_choices(token, rules, case.open_choices)
            at_signing = verify_token_with_choices(token, replace(rules, now=case.context.timestamp), case.open_choices)
            # the oracles receive the GET the database or STS checks (its Host, and the cluster id for EKS)
            checked = checked_request(token, rules)
            signed = {"method": "GET", "url": token_url(case.surface, token) or token, "headers": []}
            if checked is not None:
                signed = {**signed, "url": checked.request.url, "headers": [list(h) for h in checked.request.headers]}
                receiving = protocol.server_config(
                    [{"access_key_id": k, "secret_access_key": v, "session_token": rules.session_token}
                     for k, v in rules.credentials.items()],
                    checked.region, checked.service, checked.now.strftime("%Y-%m-%dT%H:%M:%SZ"), False)
    except (KeyError, TypeError, ValueError) as exc:
        what = "form" if case.surface == POST_POLICY else "token"
        return Judgement("error", f"malformed `{what}` in the answer: {type(exc).__name__}: {exc}")

    stages, first = compare_stages(surface_of(check).stages, expected.stages, actual)
    wanted, wanted_reason = expected_verdict(case)
    ver: dict[str, Any] = {"valid": verification.valid, "reason": verification.reason, "rules": verification.rules}
    if wanted == "reject":
        ver["expected"] = f"reject: {wanted_reason}" if wanted_reason else "reject"
    if changes:
        ver["request_changes"] = changes
    result = Judgement("pass", stage=first, stages=stages, verification=ver, signed=signed, receiving_server=receiving)
    what = "form" if case.surface == POST_POLICY else "token"
    if wanted == "accept" and not verification.valid:
        result.status, result.stage = "fail", first or what
        where = f"; first difference in {first}" if first else ""
        result.reason = f"a server would reject it: {verification.reason}{where}"
    elif wanted == "reject" and verification.valid:
        result.status, result.stage = "fail", first or what
        result.reason = f"a server accepts it where it must refuse a correct {what} ({wanted_reason or 'the case says reject'})"
    elif wanted == "reject" and wanted_reason not in verification.reason:
        result.status, result.stage = "fail", first or what
        result.reason = f"a server refuses it for another reason than the case's ({wanted_reason}): {verification.reason}"
    elif wanted == "reject" and not at_signing.valid and wanted_reason not in at_signing.reason:
        # Refused as the case expects (say, expired) -- but at its signing time it would be refused
        # for another reason (say, its signature): the expected refusal hid a broken form or token.
        result.status, result.stage = "fail", first or what
        result.reason = f"refused as the case expects, but at its signing time a server refuses it too: {at_signing.reason}"
        ver["at_signing_time"] = at_signing.reason
    elif changes:
        result.status, result.stage = "fail", first or what
        result.reason = f"signed a different {what} than the one asked for: " + "; ".join(changes[:5])
    elif first is not None:
        result.status = "variant"
        choice = f" under the open choice {verification.rules}" if verification.rules not in ("spec", None) else ""
        decides = "refuses it as the case expects" if wanted == "reject" else "accepts it"
        result.reason = f"differs from the expectation in {first}, but a server {decides}{choice}"
    elif wanted == "reject":
        result.reason = f"a server refuses it as the case expects: {verification.reason}"
    return result
