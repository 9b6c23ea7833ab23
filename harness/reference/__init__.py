"""The reference signer, written from the AWS specification."""

from harness.reference.signer import SigningResult, sign, sign_request

__all__ = ["SigningResult", "sign", "sign_request"]
