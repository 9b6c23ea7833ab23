"""Tasks 2 to 4 of the specification: string to sign, signing key, signature; and the SigV4A
variants (key derivation by NIST SP 800-108 counter KDF, ECDSA P-256 over SHA-256)."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

SIGV4_ALGORITHM = "AWS4-HMAC-SHA256"
SIGV4A_ALGORITHM = "AWS4-ECDSA-P256-SHA256"
ALGORITHM_NAMES = {"sigv4": SIGV4_ALGORITHM, "sigv4a": SIGV4A_ALGORITHM}

# Order n of the NIST P-256 group.
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

MAX_EXPIRES = 604800  # seven days: the longest a presigned URL may be valid (X-Amz-Expires)


def credential_scope(date_stamp: str, region: str, service: str, algorithm: str = "sigv4") -> str:
    """CredentialScope: date/region/service/aws4_request (SigV4A leaves the region out)."""
    if algorithm == "sigv4a":
        return f"{date_stamp}/{service}/aws4_request"
    return f"{date_stamp}/{region}/{service}/aws4_request"


def string_to_sign(algorithm: str, amz_date: str, scope: str, canonical_request: str) -> str:
    """StringToSign = Algorithm \\n RequestDateTime \\n CredentialScope \\n HashedCanonicalRequest."""
    hashed = hashlib.sha256(canonical_request.encode("utf-8", "surrogateescape")).hexdigest()
    return "\n".join((ALGORITHM_NAMES[algorithm], amz_date, scope, hashed))


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_access_key: str, date_stamp: str, region: str, service: str) -> bytes:
    """kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")."""
    k_date = _hmac(("AWS4" + secret_access_key).encode("utf-8"), date_stamp)
    k_region = _hmac(k_date, region)
    k_service = _hmac(k_region, service)
    return _hmac(k_service, "aws4_request")


def signature(key: bytes, string_to_sign_text: str) -> str:
    """Signature = HexEncode(HMAC(kSigning, StringToSign))."""
    return hmac.new(key, string_to_sign_text.encode("utf-8"), hashlib.sha256).hexdigest()


@lru_cache(maxsize=64)
def sigv4a_private_key(access_key_id: str, secret_access_key: str) -> ec.EllipticCurvePrivateKey:
    """Derive the SigV4A P-256 key: NIST SP 800-108 KDF in counter mode with HMAC-SHA256.

    For counter = 1, 2, ...: k0 = HMAC("AWS4A" + secret, i || label || 0x00 || access_key || counter || L),
    with i = 1 and L = 256 as 32-bit big-endian. The first k0 with k0 <= n - 2 gives d = k0 + 1.
    """
    key = ("AWS4A" + secret_access_key).encode("utf-8")
    label = SIGV4A_ALGORITHM.encode("ascii")
    for counter in range(1, 255):
        fixed_input = (
            (1).to_bytes(4, "big")
            + label
            + b"\x00"
            + access_key_id.encode("utf-8")
            + bytes((counter,))
            + (256).to_bytes(4, "big")
        )
        candidate = int.from_bytes(hmac.new(key, fixed_input, hashlib.sha256).digest(), "big")
        if candidate <= P256_N - 2:
            return ec.derive_private_key(candidate + 1, ec.SECP256R1())
    raise ValueError("SigV4A key derivation exhausted its counter")  # practically unreachable


def sigv4a_signature(private_key: ec.EllipticCurvePrivateKey, string_to_sign_text: str) -> str:
    """Hex of the DER-encoded ECDSA P-256 signature over SHA-256(StringToSign)."""
    return private_key.sign(string_to_sign_text.encode("utf-8"), ec.ECDSA(hashes.SHA256())).hex()


def signature_matches(algorithm: str, access_key_id: str, secret_access_key: str, date_stamp: str, region: str,
                      service: str, string_to_sign_text: str, received: str) -> bool:
    """The server's check of one received signature: HMAC for SigV4 (compared in constant time, as bytes,
    so a received signature with any characters is simply a mismatch), ECDSA with the public key derived
    from the credentials for SigV4A."""
    if algorithm == "sigv4a":
        public_key = sigv4a_private_key(access_key_id, secret_access_key).public_key()
        return sigv4a_verify(public_key, string_to_sign_text, received)
    key = signing_key(secret_access_key, date_stamp, region, service)
    return hmac.compare_digest(signature(key, string_to_sign_text).encode(), received.encode("utf-8", "surrogatepass"))


def sigv4a_verify(public_key: ec.EllipticCurvePublicKey, string_to_sign_text: str, signature_hex: str) -> bool:
    try:
        public_key.verify(bytes.fromhex(signature_hex), string_to_sign_text.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def public_key_from_xy(x_hex: str, y_hex: str) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicNumbers(int(x_hex, 16), int(y_hex, 16), ec.SECP256R1()).public_key()
