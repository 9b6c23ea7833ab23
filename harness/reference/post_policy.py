"""S3 presigned POST (browser-based upload), SigV4: the POST policy and the form fields.

"For signature calculation the POST policy is the string to sign": StringToSign is the Base64 of
the UTF-8 policy document, and the signature is the usual HMAC with the SigV4 signing key of scope
date/region/s3/aws4_request (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html).
Only the signing key and the HMAC come from the shared code; there is no canonical request.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from harness.model import Context
from harness.reference import signing

STAGES = ("policy_document", "string_to_sign", "signature", "form_fields")
SERVICE = "s3"
ALGORITHM = signing.SIGV4_ALGORITHM
FILENAME_VARIABLE = "${filename}"
EXPIRATION_FORMAT = "%Y-%m-%dT%H:%M:%S.000Z"  # ISO 8601 GMT, as in the S3 documentation's examples

Condition = Any  # a JSON value: {"name": "value"} or ["eq" | "starts-with", "$name", "v"] or ["content-length-range", lo, hi]


@dataclass(frozen=True)
class PostPolicy:
    """What a user asks a presigned-POST generator for (botocore `generate_presigned_post` shape).

    `policy_base64` pins the exact policy document (the S3 documentation's example, with its CRLF
    line endings); without it the reference writes the document itself."""

    bucket: str
    key: str
    context: Context  # credentials, region, timestamp; expires = seconds until the policy expires
    conditions: list[Condition] = field(default_factory=list)
    fields: list[tuple[str, str]] = field(default_factory=list)
    expiration: str | None = None  # exact text of the policy's "expiration"; default timestamp + expires
    policy_base64: str | None = None


@dataclass
class PostResult:
    stages: dict[str, Any]

    @property
    def fields(self) -> list[tuple[str, str]]:
        return self.stages["form_fields"]


def credential(context: Context) -> str:
    """x-amz-credential: <access key id>/<date>/<region>/s3/aws4_request."""
    return f"{context.access_key_id}/{signing.credential_scope(context.date_stamp, context.region, SERVICE)}"


def key_condition(key: str) -> Condition:
    """An exact key, or, when the key ends in ${filename}, 'starts-with' the part before it (the
    file name is only known at upload time)."""
    if key.endswith(FILENAME_VARIABLE):
        return ["starts-with", "$key", key[: -len(FILENAME_VARIABLE)]]
    return {"key": key}


def signer_conditions(context: Context) -> list[Condition]:
    """The conditions a SigV4 POST policy must hold for the x-amz-* form fields."""
    conditions: list[Condition] = [
        {"x-amz-algorithm": ALGORITHM},
        {"x-amz-credential": credential(context)},
        {"x-amz-date": context.amz_date},
    ]
    if context.session_token:
        conditions.append({"x-amz-security-token": context.session_token})
    return conditions


def policy_document(post: PostPolicy) -> str:
    """Stage 1, the POST policy: {"expiration": ..., "conditions": [...]} as UTF-8 JSON.

    The user's conditions, then the bucket and the key, then the signer's x-amz-* conditions."""
    if post.policy_base64 is not None:
        return base64.b64decode(post.policy_base64, validate=True).decode("utf-8")
    expiration = post.expiration or (post.context.timestamp + timedelta(seconds=post.context.expires)).strftime(EXPIRATION_FORMAT)
    conditions = list(post.conditions) + [{"bucket": post.bucket}, key_condition(post.key)] + signer_conditions(post.context)
    return json.dumps({"expiration": expiration, "conditions": conditions}, ensure_ascii=False)


def string_to_sign(document: str) -> str:
    """Stage 2: "Convert the UTF-8-encoded policy to Base64. The result is the string to sign.\""""
    return base64.b64encode(document.encode("utf-8")).decode("ascii")


def signature(context: Context, string_to_sign_text: str) -> str:
    """Stage 3: HexEncode(HMAC-SHA256(kSigning, StringToSign)), kSigning for date/region/s3."""
    key = signing.signing_key(context.secret_access_key, context.date_stamp, context.region, SERVICE)
    return signing.signature(key, string_to_sign_text)


def form_fields(post: PostPolicy, policy_b64: str, signature_hex: str) -> list[tuple[str, str]]:
    """Stage 4, the form a browser posts (before the file): the user's fields, key, the x-amz-*
    fields, policy and x-amz-signature."""
    context = post.context
    fields = [(n, v) for n, v in post.fields if n.lower() != "key"]
    fields += [
        ("key", post.key),
        ("x-amz-algorithm", ALGORITHM),
        ("x-amz-credential", credential(context)),
        ("x-amz-date", context.amz_date),
    ]
    if context.session_token:
        fields.append(("x-amz-security-token", context.session_token))
    fields += [("policy", policy_b64), ("x-amz-signature", signature_hex)]
    return fields


def sign_post(post: PostPolicy) -> PostResult:
    """Every stage of one presigned POST."""
    stages: dict[str, Any] = {"policy_document": policy_document(post)}
    stages["string_to_sign"] = post.policy_base64 or string_to_sign(stages["policy_document"])
    stages["signature"] = signature(post.context, stages["string_to_sign"])
    stages["form_fields"] = form_fields(post, stages["string_to_sign"], stages["signature"])
    return PostResult(stages)
