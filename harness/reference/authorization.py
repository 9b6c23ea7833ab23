"""The Authorization header of SigV4 and SigV4A, written once and read once: the reference signer
formats it, the verifier and the comparison parse it.

    AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=...
"""

from __future__ import annotations

from dataclasses import dataclass


class MalformedAuthorization(ValueError):
    pass


@dataclass(frozen=True)
class Authorization:
    algorithm: str  # AWS4-HMAC-SHA256 or AWS4-ECDSA-P256-SHA256
    credential: str  # access key id / credential scope
    signed_headers: tuple[str, ...]
    signature: str

    def __str__(self) -> str:
        return (f"{self.algorithm} Credential={self.credential}, SignedHeaders={';'.join(self.signed_headers)}, "
                f"Signature={self.signature}")

    @classmethod
    def parse(cls, value: str) -> "Authorization":
        """Strict enough for a server: every component present (spaces after the commas are optional,
        as in the S3 documentation's examples)."""
        algorithm, found = components(value)
        missing = [k for k in ("Credential", "SignedHeaders", "Signature") if k not in found]
        if missing:
            raise MalformedAuthorization(f"Authorization header lacks {missing[0]}")
        return cls(algorithm, found["Credential"], tuple(found["SignedHeaders"].split(";")), found["Signature"])


def components(value: str) -> tuple[str, dict[str, str]]:
    """(algorithm, {component: value}) of an Authorization value, without judging it."""
    algorithm, _, rest = value.strip().partition(" ")
    found: dict[str, str] = {}
    for part in rest.split(","):
        key, eq, val = part.strip().partition("=")
        if eq:
            found[key] = val
    return algorithm, found


def is_sigv4(value: str) -> bool:
    """An Authorization value of the AWS4 family (SigV4 or SigV4A), as opposed to Basic, Bearer, AWS (SigV2)."""
    return value.strip().startswith("AWS4-")
