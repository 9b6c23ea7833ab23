"""sigharness verifier (oracle) over the `awssig` package (PyPI, Apache-2.0): presigned URLs outside S3.

Speaks the JSON-lines protocol of docs/adapter-protocol.md as a `verifier`. Each `verify` message carries
a received request and the server's configuration; the request is handed to awssig's
`AWSSigV4Verifier` as a web server hands it over (method, path and query string as received, header
values without their surrounding whitespace, the body's bytes), with the server's region and service and
a `key_mapping` that knows the server's credentials. The opinion is awssig's: `accept` when `verify()`
passes, `reject` with its `InvalidSignatureError` otherwise. Nothing here computes any part of a
signature.

What awssig 0.5.0 cannot judge is declared or answered `n/a` with the reason read in its source
(awssig/sigv4.py): SigV4A; S3 (its `AWSSigV4S3Verifier` requires an x-amz-content-sha256 header, so it has
no presigned-URL rule); a server that does not normalize the path (`get_canonical_uri_path` always
does); a header value with a line break (no HTTP server hands one over). Header-signed requests are not
asked (docs/oracles.md says why).
"""

from __future__ import annotations

import base64
import json
import platform
import sys
from importlib import metadata
from typing import Any, Callable
from urllib.parse import unquote

try:
    import awssig
except ImportError:  # the harness shows stderr as the reason the oracle is unavailable
    print(f"awssig is not installed for {sys.executable}: pip install -c constraints.txt awssig "
          "(the `adapters` extra of pyproject.toml)", file=sys.stderr)
    sys.exit(1)

LIBRARY = "awssig"
PROTOCOL = 1
NOT_S3 = ("awssig 0.5.0's S3 verifier (AWSSigV4S3Verifier) requires an x-amz-content-sha256 header and has no "
          "presigned-URL rule (S3 signs UNSIGNED-PAYLOAD when the URL carries none); S3 presigned URLs are judged "
          "by oracle-s3s and oracle-rustack")
SIGV4A = "awssig 0.5.0 verifies AWS4-HMAC-SHA256 only (sigv4.py AWS4_HMAC_SHA256), not SigV4A"
HEADER = ("not asked: awssig 0.5.0 would judge header-signed requests with the same rules, but those outside S3 "
          "already have two oracles (oracle-scratchstack, oracle-rustack); this oracle judges presigned URLs "
          "outside S3, which no other oracle can (docs/oracles.md)")
NOT_NORMALIZED = ("awssig 0.5.0's AWSSigV4Verifier always normalizes the path (get_canonical_uri_path removes '.', "
                  "'..' and empty segments); it cannot be a server that does not")
LINE_BREAK = "a header value holding a line break: no HTTP server hands it to the application as one value"

Opinion = tuple[str, str]  # ("accept" | "reject" | "n/a", reason)


def target(url: str) -> tuple[str, str]:
    """The received request target: the path and the query string exactly as sent."""
    rest = url.split("://", 1)[1] if "://" in url else url
    start = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    path, _, query = rest[start:].partition("?")
    return path or "/", query


def header_lists(pairs: list[list[str]]) -> dict[str, list[str]] | None:
    """The headers as awssig takes them: lower-cased name -> values in the order received, each without the
    whitespace around it (RFC 9110 5.5: it is not part of the value). None when a value holds a line break."""
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        if "\r" in value or "\n" in value:
            return None
        out.setdefault(name.lower(), []).append(value.strip(" \t"))
    return out


def key_mapping(server: dict[str, Any]) -> Callable[..., str]:
    """The server's credential store: the secret key of an access key issued with this session token.
    awssig hands over a presigned URL's X-Amz-Security-Token as its query parser left it, still
    percent-encoded (sigv4.py `session_token` reads `normalize_query_parameters`, which re-encodes; only
    X-Amz-Credential and X-Amz-SignedHeaders are unquoted there), so the store decodes it before comparing
    (a token is base64: decoding a header's token changes nothing)."""
    known = {c["access_key_id"]: c for c in server["credentials"]}

    def secret(access_key: str, session_token: str | None = None) -> str:
        credential = known.get(access_key)
        if credential is None:
            raise KeyError(f"unknown access key id {access_key!r}")
        if session_token is not None:
            session_token = unquote(session_token)
        if credential.get("session_token") != session_token:
            raise KeyError("the session token is missing" if session_token is None else "the session token does not match")
        return credential["secret_access_key"]

    return secret


def judge(request: dict[str, Any], server: dict[str, Any]) -> Opinion:
    """awssig's opinion of one received request, for the server described."""
    if server["service"] == "s3":
        return "n/a", NOT_S3
    if not server.get("normalize_path", not server.get("s3", False)):
        return "n/a", NOT_NORMALIZED
    headers = header_lists(request["headers"])
    if headers is None:
        return "n/a", LINE_BREAK
    path, query = target(request["url"])
    verifier = awssig.AWSSigV4Verifier(
        request_method=request["method"], uri_path=path, query_string=query, headers=headers,
        body=base64.b64decode(request.get("body_b64") or ""), region=server["region"], service=server["service"],
        key_mapping=key_mapping(server),
        timestamp_mismatch=None)  # no clock check: awssig's would compare X-Amz-Date with the wall clock, not an expiry
    try:
        verifier.verify()
    except awssig.InvalidSignatureError as exc:
        return "reject", f"awssig InvalidSignatureError: {exc}"
    except LookupError as exc:  # a form body in a charset Python has no codec for (not caught by verify())
        return "reject", f"awssig cannot decode the form body: {exc}"
    return "accept", ""


def hello(message: dict[str, Any]) -> dict[str, Any]:
    answer = {
        "type": "hello", "protocol": PROTOCOL, "language": "python", "runtime": f"python {platform.python_version()}",
        "library": LIBRARY, "library_version": metadata.version(LIBRARY),
        "capabilities": {"kind": "verifier", "algorithms": ["sigv4"], "modes": ["query"], "excluded_services": ["s3"],
                         # IAM auth tokens are presigned URLs too: the GET the database or STS checks
                         "surfaces": ["single", "rds", "dsql", "eks"],
                         "verifies": ["sigv4-presigned", "body-hash-payload"],
                         "why": {"sigv4a": SIGV4A, "header": HEADER, "excluded_services": NOT_S3}},
    }
    if message.get("adapter"):
        answer["name"] = message["adapter"]
    return answer


def answer(message: dict[str, Any]) -> dict[str, Any]:
    kind, msg_id = message.get("type"), message.get("id")
    if kind == "hello":
        return hello(message)
    if kind == "verify":
        try:
            verdict, reason = judge(message["request"], message["server"])
        except (KeyError, TypeError) as exc:
            verdict, reason = "n/a", f"verify message: {type(exc).__name__}: {exc}"
        return {"type": "opinion", "id": msg_id, "verdict": verdict, "reason": reason}
    return {"type": "result", "id": msg_id, "status": "error",
            "reason": f"unknown message type {kind!r} (this adapter is a verifier)"}


def main() -> int:
    out, sys.stdout = sys.stdout, sys.stderr  # anything else printed goes to the adapter's log
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except ValueError as exc:
            out.write(json.dumps({"type": "result", "id": None, "status": "error", "reason": f"not JSON: {exc}"}) + "\n")
            out.flush()
            continue
        if message.get("type") == "bye":
            break
        out.write(json.dumps(answer(message), separators=(",", ":")) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
