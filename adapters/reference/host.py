"""py-reference: the harness's own reference signer behind the adapter protocol."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import platform
import sys
import time

import harness
from harness.model import Case, Check, Context, Request, parse_timestamp
from harness.reference import post_policy, sign_request, tokens

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))  # stream.py, beside this file, also
from stream import sign_stream  # noqa: E402       when host.py is loaded by path (tests, out-of-tree adapters)


def _check(data: dict) -> Check:
    req, ctx = data["request"], data["context"]
    request = Request(
        req["method"], req["scheme"], req["host"], req["path"], req["query"],
        tuple((n, v) for n, v in req["headers"]), base64.b64decode(req["body_b64"]),
    )
    context = Context(
        access_key_id=ctx["access_key_id"],
        secret_access_key=ctx["secret_access_key"],
        session_token=ctx.get("session_token"),
        region=ctx["region"],
        region_set=tuple(ctx["region_set"]),
        service=ctx["service"],
        timestamp=parse_timestamp(ctx["timestamp"]),
        algorithm=data["algorithm"],
        expires=int(ctx["expires"]),
        payload=ctx["payload"],
        content_sha256_header=bool(ctx["content_sha256_header"]),
        session_token_placement=ctx["session_token_placement"],
        normalize_path=bool(ctx["normalize_path"]),
        double_encode=bool(ctx["double_encode"]),
    )
    return Check(Case(data["case"], data["case"], request, context), data["mode"])


def _sign_surface(data: dict) -> dict:
    """A presigned POST form or an IAM token, from the check's `post` / `token` block, by the
    reference modules (harness/reference/post_policy.py, tokens.py)."""
    ctx, started = data["context"], time.perf_counter_ns()
    timestamp = parse_timestamp(ctx["timestamp"])
    if data["surface"] == "post-policy":
        p = data["post"]
        context = Context(ctx["access_key_id"], ctx["secret_access_key"], ctx.get("session_token"), ctx["region"],
                          (ctx["region"],), "s3", timestamp, expires=int(p["expires"]))
        post = post_policy.PostPolicy(p["bucket"], p["key"], context, conditions=p["conditions"],
                                      fields=[(n, v) for n, v in p["fields"]], expiration=p["expiration"])
        fields = post_policy.sign_post(post).fields
        return {"status": "signed", "form": {"url": p["url"], "fields": [list(f) for f in fields]},
                "elapsed_ns": time.perf_counter_ns() - started}
    t = data["token"]
    request = tokens.TokenRequest(t["kind"], t["host"], ctx["access_key_id"], ctx["secret_access_key"], ctx["region"], timestamp,
                                  session_token=ctx.get("session_token"), port=t["port"], user=t["user"],
                                  action=t["action"] or "DbConnect", cluster_id=t["cluster_id"], expires=t["expires"])
    stages = tokens.sign_token(request).stages
    return {"status": "signed", "token": stages["token"], "canonical_request": stages["canonical_request"],
            "string_to_sign": stages["string_to_sign"], "elapsed_ns": time.perf_counter_ns() - started}


def _sign(check: Check) -> dict:
    started = time.perf_counter_ns()
    result = sign_request(check.case.request, check.case.context, check.mode)
    elapsed = time.perf_counter_ns() - started
    assert result.signed is not None
    return {
        "status": "signed",
        "signed": result.signed.to_json(),
        "canonical_request": result.stages["canonical_request"],
        "string_to_sign": result.stages["string_to_sign"],
        "elapsed_ns": elapsed,
    }


def _floor(iterations: int) -> int:
    secret = b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    started = time.perf_counter_ns()
    for _ in range(iterations):
        key = secret
        for part in (b"20150830", b"us-east-1", b"service", b"aws4_request"):
            key = hmac.new(key, part, hashlib.sha256).digest()
        hmac.new(key, b"AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" + b"0" * 64, hashlib.sha256).hexdigest()
    return time.perf_counter_ns() - started


def handle(message: dict) -> dict | None:
    kind = message.get("type")
    if kind == "hello":
        return {
            "type": "hello", "protocol": 1, "language": "python",  # its name is the manifest's (the harness says it)
            "runtime": f"{platform.python_implementation()} {platform.python_version()}",
            "library": "sigharness reference signer", "library_version": harness.__version__,
            "capabilities": {"algorithms": ["sigv4", "sigv4a"], "modes": ["header", "query"],
                             "surfaces": ["single", "post-policy", "rds", "dsql", "eks", "aws-chunked", "event-stream"],
                             "exposes": ["canonical_request", "string_to_sign"], "bench": True},
        }
    ident = message.get("id")
    if kind == "sign":
        try:
            data = message["check"]
            if data.get("surface") in ("aws-chunked", "event-stream"):
                answer = sign_stream(data, _check(data))
            else:
                answer = _sign_surface(data) if data.get("surface") else _sign(_check(data))
            return dict(answer, type="result", id=ident)
        except Exception as exc:  # the reference refusing is a finding, reported as such
            return {"type": "result", "id": ident, "status": "rejected", "reason": f"{type(exc).__name__}: {exc}"}
    if kind == "bench":
        n = int(message.get("iterations", 100))
        if message.get("floor") == "hmac-sha256-chain":
            return {"type": "bench", "id": ident, "iterations": n, "elapsed_ns": _floor(n)}
        check = _check(message["check"])
        started = time.perf_counter_ns()
        for _ in range(n):
            sign_request(check.case.request, check.case.context, check.mode)
        return {"type": "bench", "id": ident, "iterations": n, "elapsed_ns": time.perf_counter_ns() - started}
    return {"type": "result", "id": ident, "status": "error", "reason": f"unknown message type {kind!r}"}


def main() -> int:
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        if message.get("type") == "bye":
            return 0
        answer = handle(message)
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
