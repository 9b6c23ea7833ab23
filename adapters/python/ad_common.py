"""Shared plumbing for the project's Python adapters: the adapter SDK (harness/adapter_sdk.py, the
same one an out-of-tree adapter imports) and the path and session-token rules several adapters share.

Nothing in here computes any part of a signature: it only turns a check into the plain values an
adapter hands to its library, and turns the library's outcome into a protocol answer.
"""

from __future__ import annotations

from harness.adapter_sdk import (  # noqa: F401 - re-exported for the ad_* modules
    Check,
    FixedClock,
    Rejected,
    Stopwatch,
    Unsupported,
    b64_or_none,
    describe,
    dist_version,
    hmac_sha256_chain,
    library_call,
    parse_timestamp,
    pin_module_clock,
    signed_from_prepared,
)


def service_standard_path_rules(service: str) -> tuple[bool, bool]:
    """(normalize_path, double_encode) that the AWS spec prescribes for a service."""
    return (False, False) if service == "s3" else (True, True)


def require_path_rules(check: Check, library_rules: tuple[bool, bool], who: str) -> None:
    """Decide whether a library with fixed path rules can take this check.

    * the check asks for what the library does: sign;
    * the check asks for the service's standard rules: sign anyway -- the library is expected to
      implement the standard for that service, and where it does not, the verdict must show it;
    * the check pins non-standard rules the library has no option for: unsupported.
    """
    wanted = (check.normalize_path, check.double_encode)
    if wanted == library_rules or wanted == service_standard_path_rules(check.service):
        return
    have_n, have_d = library_rules
    raise Unsupported(
        f"{who} cannot be configured to normalize_path={check.normalize_path}, "
        f"double_encode={check.double_encode} for service {check.service!r} "
        f"(it always uses normalize_path={have_n}, double_encode={have_d})"
    )


def require_token_signed_in_presign(check: Check, who: str) -> None:
    """Presigning with `session_token_placement: after` needs a library option to leave the token
    out of the signed query; without one the URL is not the one the check asks for (a server that
    takes the token after signing recomputes the query without it), so: unsupported.

    In header mode a library that signs the token just lists one more signed header, which a
    server accepts; those checks are signed and the verdict shows the difference."""
    if check.mode == "query" and check.session_token and check.session_token_placement == "after":
        raise Unsupported(f"{who} has no option to add the session token after signing: "
                          "a presigned URL always carries a signed X-Amz-Security-Token")
