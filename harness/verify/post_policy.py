"""Verify a browser-based POST upload the way S3 would: the form fields as received, the file's
name and size, the server's own credentials, bucket, region and clock.

Rules and their evidence are in docs/post-policy-and-tokens.md. In order: the required fields, the
algorithm, the credential scope, the signature over the `policy` field exactly as received, the
policy's expiration against the server's time, then every condition against the form, and every
form field against the conditions.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from harness.verify import first_accepting
from harness.reference import post_policy as pp
from harness.reference import signing
from harness.verify.single import Rejected, Verification

REQUIRED_FIELDS = ("key", "policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature")
# "Each form field that you specify in a form (except x-amz-signature, file, policy, and field
# names that have an x-ignore- prefix) must appear in the list of conditions."
UNCONDITIONED_FIELDS = frozenset({"x-amz-signature", "file", "policy"})
IGNORED_PREFIX = "x-ignore-"
_AMZ_DATE = re.compile(r"^\d{8}T\d{6}Z$")

OPEN_CHOICES = {
    "post-filename-as-sent": "the server checks the key conditions against the key as sent, '${filename}' not yet replaced",
}


@dataclass(frozen=True)
class PostServerRules:
    """What the receiving S3 endpoint knows."""

    credentials: dict[str, str]
    region: str
    bucket: str  # the bucket the form is posted to (its URL), the value of the implicit $bucket
    now: datetime
    session_token: str | None = None  # temporary credentials: the form must carry this token
    filename_replaced_first: bool = True  # ${filename} in key replaced before conditions are checked

    def with_choice(self, choice: str) -> "PostServerRules":
        if choice == "post-filename-as-sent":
            return replace(self, filename_replaced_first=False)
        raise ValueError(f"unknown open choice {choice!r}; known: {', '.join(OPEN_CHOICES)}")


@dataclass(frozen=True)
class Upload:
    """A multipart/form-data POST as received: the fields before the file, then the file."""

    fields: list[tuple[str, str]]
    filename: str = "upload.bin"
    size: int = 0
    details: dict[str, Any] = field(default_factory=dict)


def verify_post(upload: Upload, rules: PostServerRules) -> Verification:
    """Accept or reject one POST upload under `rules`."""
    try:
        return _verify(upload, rules)
    except Rejected as exc:
        return Verification(False, str(exc))


def verify_post_with_choices(upload: Upload, rules: PostServerRules, choices: tuple[str, ...]) -> Verification:
    """The spec rules first, then each open choice the case names (the first that accepts wins)."""
    return first_accepting(verify_post, upload, rules, choices)


def form_values(upload: Upload) -> dict[str, str]:
    """Field names are case-insensitive (the S3 documentation's own example form sends
    X-Amz-Credential for the policy's x-amz-credential). A field given twice is rejected."""
    values: dict[str, str] = {}
    for name, value in upload.fields:
        lname = name.lower()
        if lname in values:
            raise Rejected(f"form field {name!r} given more than once")
        values[lname] = value
    return values


def check_credential(values: dict[str, str], rules: PostServerRules) -> tuple[str, str]:
    """(secret, date stamp) for x-amz-credential, which must be <akid>/<date>/<region>/s3/aws4_request
    with the date of x-amz-date."""
    if values["x-amz-algorithm"] != pp.ALGORITHM:
        raise Rejected(f"x-amz-algorithm {values['x-amz-algorithm']!r} is not {pp.ALGORITHM}")
    amz_date = values["x-amz-date"]
    if not _AMZ_DATE.match(amz_date):
        raise Rejected(f"x-amz-date {amz_date!r} is not YYYYMMDDTHHMMSSZ")
    akid, _, scope = values["x-amz-credential"].partition("/")
    secret = rules.credentials.get(akid)
    if secret is None:
        raise Rejected(f"unknown access key id {akid!r}")
    expected = signing.credential_scope(amz_date[:8], rules.region, pp.SERVICE)
    if scope != expected:
        raise Rejected(f"credential scope {scope!r} is not {expected!r}")
    if rules.session_token is not None and values.get("x-amz-security-token") != rules.session_token:
        raise Rejected("x-amz-security-token missing or different")
    return secret, amz_date[:8]


def check_signature(values: dict[str, str], secret: str, date_stamp: str, rules: PostServerRules) -> None:
    """The signature covers the policy field byte for byte, as received."""
    key = signing.signing_key(secret, date_stamp, rules.region, pp.SERVICE)
    expected = signing.signature(key, values["policy"])
    if not hmac.compare_digest(expected.encode(), values["x-amz-signature"].encode("utf-8")):
        raise Rejected("x-amz-signature does not match the policy as received")


def decode_policy(policy_b64: str) -> dict[str, Any]:
    try:
        document = json.loads(base64.b64decode(policy_b64, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError) as exc:
        raise Rejected(f"policy is not base64 of a UTF-8 JSON document: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("conditions"), list) or "expiration" not in document:
        raise Rejected("policy document needs 'expiration' and a 'conditions' list")
    return document


def parse_expiration(text: Any) -> datetime:
    """ISO 8601 GMT, with or without fractional seconds ('2015-12-30T12:00:00.000Z')."""
    if not isinstance(text, str) or not text.endswith("Z"):
        raise Rejected(f"policy expiration {text!r} is not ISO 8601 GMT")
    try:
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc)
    except ValueError:
        raise Rejected(f"policy expiration {text!r} is not ISO 8601 GMT") from None


def check_expiration(document: dict[str, Any], rules: PostServerRules) -> None:
    """'specifies that the POST policy is not valid after' the expiration."""
    expiration = parse_expiration(document["expiration"])
    if rules.now > expiration:
        raise Rejected(f"Invalid according to Policy: Policy expired ({document['expiration']})")


def field_values(values: dict[str, str], upload: Upload, rules: PostServerRules) -> dict[str, str]:
    """What the conditions are checked against: the form fields (key with ${filename} replaced by
    the file's name, unless the open choice says otherwise) and the implicit bucket."""
    checked = dict(values)
    if rules.filename_replaced_first:
        checked["key"] = checked["key"].replace(pp.FILENAME_VARIABLE, upload.filename)
    checked["bucket"] = rules.bucket
    return checked


def parse_condition(condition: Any) -> tuple[str, str, Any]:
    """(operator, lowercase field name or '', operand) for one policy condition."""
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, value),) = condition.items()
        return "eq", name.lower(), value
    if isinstance(condition, list) and len(condition) == 3:
        op = str(condition[0]).lower()
        if op == "content-length-range":
            low, high = condition[1], condition[2]
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
                raise Rejected(f"content-length-range bounds must be integers: {condition!r}")
            return op, "", (low, high)
        if op in ("eq", "starts-with") and isinstance(condition[1], str) and condition[1].startswith("$"):
            return op, condition[1][1:].lower(), condition[2]
    raise Rejected(f"policy condition {json.dumps(condition)} is not a known condition")


def check_conditions(document: dict[str, Any], checked: dict[str, str], upload: Upload) -> set[str]:
    """Every condition must hold; returns the field names the conditions cover."""
    covered: set[str] = set()
    for condition in document["conditions"]:
        op, name, operand = parse_condition(condition)
        if op == "content-length-range":
            low, high = operand
            if not low <= upload.size <= high:
                raise Rejected(f"Your proposed upload size {upload.size} is outside content-length-range [{low}, {high}]")
            continue
        covered.add(name)
        value = checked.get(name, "")
        if not isinstance(operand, str):
            raise Rejected(f"policy condition {json.dumps(condition)}: the value must be a string")
        if op == "eq" and value != operand:
            raise Rejected(f"Invalid according to Policy: Policy Condition failed: [\"eq\", \"${name}\", {json.dumps(operand)}]")
        if op == "starts-with" and not value.startswith(operand):
            raise Rejected(f"Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"${name}\", {json.dumps(operand)}]")
    return covered


def check_every_field_covered(values: dict[str, str], covered: set[str]) -> None:
    for name in values:
        if name in UNCONDITIONED_FIELDS or name.startswith(IGNORED_PREFIX):
            continue
        if name not in covered:
            raise Rejected(f"Invalid according to Policy: Extra input fields: {name}")


def _verify(upload: Upload, rules: PostServerRules) -> Verification:
    values = form_values(upload)
    missing = [name for name in REQUIRED_FIELDS if name not in values]
    if missing:
        raise Rejected(f"form lacks {', '.join(missing)}")
    secret, date_stamp = check_credential(values, rules)
    check_signature(values, secret, date_stamp, rules)
    document = decode_policy(values["policy"])
    check_expiration(document, rules)
    covered = check_conditions(document, field_values(values, upload, rules), upload)
    check_every_field_covered(values, covered)
    return Verification(True, "", None, values["policy"], "spec", {"policy_document": json.dumps(document, ensure_ascii=False)})
