"""Signing settings as types, one name per concept from the YAML case to the verdict (in the spirit
of smithy-rs aws-sigv4's `settings.rs`). The case format, the adapter protocol, the reference
signer and the verifier all use these names and values; the official suite's own keys
(`omit_session_token`, `normalize`, `double_uri_encode`, `sign_body`) are translated where the suite
is read (harness/cases/suite.py), nowhere else.

Each enum is a `str`, so its value is what YAML, JSON and the adapters see.
"""

from __future__ import annotations

from enum import Enum


class SignatureLocation(str, Enum):
    """Where the signature goes: the Authorization header, or the query of a presigned URL."""

    HEADER = "header"
    QUERY = "query"


class SessionTokenPlacement(str, Enum):
    """Whether the session token is signed (the rule) or added after signing (IoT style)."""

    SIGNED = "signed"
    AFTER = "after"


class PayloadKind(str, Enum):
    """What the payload hash covers. AUTO resolves per service and mode (see harness/services.py)."""

    AUTO = "auto"
    BODY = "body"  # hex SHA-256 of the body
    EMPTY = "empty"  # hex SHA-256 of the empty string, whatever the body
    UNSIGNED = "unsigned"  # the literal UNSIGNED-PAYLOAD


class Algorithm(str, Enum):
    SIGV4 = "sigv4"  # AWS4-HMAC-SHA256
    SIGV4A = "sigv4a"  # AWS4-ECDSA-P256-SHA256


MODES: tuple[str, ...] = tuple(m.value for m in SignatureLocation)
ALGORITHMS: tuple[str, ...] = tuple(a.value for a in Algorithm)
# the single-shot surface: a request signed in header or query mode (the others: harness/reference SURFACES)
SINGLE = "single"
# every signing surface, in the report's order: names alone (harness/reference SURFACES says what each is, in
# this order; the report orders surfaces without loading the signer)
SURFACES: tuple[str, ...] = (SINGLE, "post-policy", "rds", "dsql", "eks", "aws-chunked", "event-stream")
PAYLOADS: tuple[str, ...] = tuple(p.value for p in PayloadKind if p is not PayloadKind.AUTO)
TOKEN_PLACEMENTS: tuple[str, ...] = tuple(t.value for t in SessionTokenPlacement)
