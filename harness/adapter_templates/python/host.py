"""sigharness adapter __NAME__, on the adapter SDK (harness/adapter_sdk.py). See README.md."""

from __future__ import annotations

from harness.adapter_sdk import Adapter, Check, Stopwatch, Unsupported, library_call, serve, signed  # noqa: F401

# import your_library


class __CLASS__(Adapter):
    library = "__NAME__"  # the PyPI distribution you wrap (`distribution = "..."` when it differs)
    algorithms: tuple[str, ...] = ()  # what it signs, e.g. ("sigv4",); empty: every check is `unsupported`
    modes: tuple[str, ...] = ()  # e.g. ("header", "query")
    exposes: tuple[str, ...] = ()  # ("canonical_request", "string_to_sign") if the library shows them
    why = {"sigv4": "__NAME__ is the adapter template, not filled in yet",  # why what is left out is left out
           "sigv4a": "__NAME__ is the adapter template, not filled in yet"}

    def library_version(self) -> str:  # delete once `library` is installed: the SDK reads its version
        return "template (not filled in)"

    def sign(self, check: Check, state: object, watch: Stopwatch) -> dict:
        raise Unsupported("__NAME__ is the sigharness adapter template, not filled in yet (write sign() in host.py)")
        # Configure the library from the check as a user would, sign at check.timestamp, and return
        # the request as the library would send it. Whatever it raises inside library_call() is `rejected`.
        # with library_call(), watch.running():
        #     out = your_library.sign(check.method, check.url, check.headers, check.body, ...)
        # return signed(out.method, out.url, out.headers)


if __name__ == "__main__":
    serve(__CLASS__())
