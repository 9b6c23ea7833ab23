"""Service profiles as data (harness/services.yaml): the per-service rules of canonicalization and
what a service requires, read once and used by the case loader, the check model and the verifier."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from harness.settings import PayloadKind


@dataclass(frozen=True)
class ServiceProfile:
    name: str
    double_encode: bool
    normalize_path: bool
    content_sha256_header: bool  # the default of a case's context.content_sha256_header
    presigned_payload: PayloadKind  # what `payload: auto` means for a presigned URL
    requires_content_sha256_header: bool  # header-signed requests without it are rejected
    reencode_path: bool = False  # the server decodes the received path and URI-encodes it once (S3)
    received_payload: PayloadKind = PayloadKind.BODY  # a presigned URL without x-amz-content-sha256
    rejects_unsigned_amz_headers: bool = False  # an x-amz-* header not in SignedHeaders: rejected
    unsigned_amz_headers_tolerated: frozenset[str] = frozenset()  # ... except these
    one_auth_mechanism: bool = True  # a presigned URL with another Authorization header: rejected
    evidence: tuple[str, ...] = ()

    def payload(self, declared: str, mode: str) -> PayloadKind:
        """The payload kind a check signs: `auto` resolved for this service and mode."""
        if declared != PayloadKind.AUTO:
            return PayloadKind(declared)
        return self.presigned_payload if mode == "query" else PayloadKind.BODY


@lru_cache(maxsize=1)
def _profiles() -> dict[str, ServiceProfile]:
    data = yaml.safe_load(resources.files("harness").joinpath("services.yaml").read_text(encoding="utf-8"))
    base = data["default"]
    out = {}
    for name, entry in data.items():
        merged = {**base, **entry}
        out[name] = ServiceProfile(
            name=name, double_encode=bool(merged["double_encode"]), normalize_path=bool(merged["normalize_path"]),
            content_sha256_header=bool(merged["content_sha256_header"]),
            presigned_payload=PayloadKind(merged["presigned_payload"]),
            requires_content_sha256_header=bool(merged["requires_content_sha256_header"]),
            reencode_path=bool(merged["reencode_path"]),
            received_payload=PayloadKind(merged["received_payload"]),
            rejects_unsigned_amz_headers=bool(merged["rejects_unsigned_amz_headers"]),
            unsigned_amz_headers_tolerated=frozenset(h.lower() for h in merged["unsigned_amz_headers_tolerated"]),
            one_auth_mechanism=bool(merged["one_auth_mechanism"]),
            evidence=tuple(merged.get("evidence") or ()),
        )
    return out


def profile(service: str) -> ServiceProfile:
    profiles = _profiles()
    return profiles.get(service) or profiles["default"]
