"""An independent server-side judgement of a signed SigV4 request, written from the AWS documentation
alone (it imports nothing from harness/): docs/rederivation.md.

- https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html (canonical request:
  double-encoded, normalized path outside S3; query sorted by name then value; trimall; signed headers)
- https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html and
  sigv4-query-string-auth.html (S3: path encoded once, not normalized; x-amz-content-sha256 or
  UNSIGNED-PAYLOAD)
- S3 re-encodes the received path once (boto/boto#2849, aws/aws-sdk-js#853; docs/server-rules.md)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import posixpath
import re
from urllib.parse import unquote_to_bytes

UNRESERVED = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def encode(data: bytes, keep_slash: bool = False) -> str:
    return "".join(chr(b) if b in UNRESERVED or (keep_slash and b == 0x2F) else f"%{b:02X}" for b in data)


def decode(text: str) -> bytes:
    return unquote_to_bytes(text)  # a '%' that starts no escape stays as it is


def split(url: str) -> tuple[str, str, str]:
    rest = url.split("://", 1)[1]
    cut = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0] or [len(rest)])
    host, target = rest[:cut], rest[cut:]
    path, _, query = target.partition("?")
    return host, path or "/", query


def canonical_uri(path: str, s3: bool, plus_literal: bool = True) -> str:
    if s3:  # decoded, then encoded once, '/' kept; no normalization
        return "/".join(encode(decode(seg)) for seg in path.split("/")) or "/"
    normalized = posixpath.normpath(path) if path not in ("", "/") else "/"
    if normalized.startswith("//"):
        normalized = "/" + normalized.lstrip("/")
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    return encode(normalized.encode(), keep_slash=True)  # the received (encoded) path encoded again


def canonical_query(query: str, drop_signature: bool, plus_as_space: bool = False) -> str:
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if drop_signature and decode(name) == b"X-Amz-Signature":
            continue
        fix = (lambda t: t.replace("+", " ")) if plus_as_space else (lambda t: t)
        pairs.append((encode(decode(fix(name))), encode(decode(fix(value)))))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def trimall(value: str) -> str:
    return re.sub(r"[ \t]+", " ", value.strip())


def judge(signed: dict, secret: str, service: str, body: bytes, s3: bool, plus_as_space: bool = False) -> tuple[bool, str]:
    """(accepted, why) for a received request signed with AWS4-HMAC-SHA256."""
    host, path, query = split(signed["url"])
    headers = [(n.lower(), v) for n, v in signed["headers"]]
    if signed.get("body_b64") is not None:
        body = base64.b64decode(signed["body_b64"])
    auth = next((v for n, v in headers if n == "authorization" and v.startswith("AWS4-HMAC-SHA256")), None)
    params = {decode(p.partition("=")[0]).decode(): decode(p.partition("=")[2]).decode("utf-8", "replace")
              for p in query.split("&") if p}
    presigned = "X-Amz-Signature" in params
    if presigned and not 1 <= int(params.get("X-Amz-Expires", "0") or 0) <= 604800:
        return False, "X-Amz-Expires must be 1..604800 seconds (S3 query-string auth)"
    if presigned and any(n == "authorization" for n, _ in headers):
        return False, "two auth mechanisms (S3: Only one auth mechanism allowed)"
    if auth:
        fields = dict(f.strip().split("=", 1) for f in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        credential, signed_names, signature = fields["Credential"], fields["SignedHeaders"].split(";"), fields["Signature"]
        when = next((v for n, v in headers if n == "x-amz-date"), None)
    elif presigned:
        credential, signed_names = params["X-Amz-Credential"], params["X-Amz-SignedHeaders"].split(";")
        signature, when = params["X-Amz-Signature"], params["X-Amz-Date"]
    else:
        return False, "not signed"
    if when is None:
        return False, "no X-Amz-Date (this judge does not read Date)"
    scope = credential.split("/", 1)[1]
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name, []).append(trimall(value))
    if "host" not in values:
        values["host"] = [host]
    if s3 and not presigned:
        unsigned = [n for n in values if n.startswith("x-amz-") and n not in signed_names and n != "x-amz-content-sha256"]
        if unsigned:
            return False, f"S3 HeadersNotSigned: {unsigned}"
    declared = values.get("x-amz-content-sha256", [None])[0]
    if declared is not None:
        if not declared.startswith("STREAMING-") and declared != "UNSIGNED-PAYLOAD" and declared != hashlib.sha256(body).hexdigest():
            return False, "x-amz-content-sha256 is not the body's hash"
        payload = declared
    elif s3 and presigned:
        payload = "UNSIGNED-PAYLOAD"
    elif s3:
        return False, "S3 header auth without x-amz-content-sha256"
    else:
        payload = hashlib.sha256(body).hexdigest()
    canonical = "\n".join([
        signed["method"], canonical_uri(path, s3), canonical_query(query, presigned, plus_as_space),
        "".join(f"{n}:{','.join(values.get(n, []))}\n" for n in signed_names), ";".join(signed_names), payload])
    sts = "\n".join(["AWS4-HMAC-SHA256", when, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    ok = hmac.compare_digest(hmac.new(key, sts.encode(), hashlib.sha256).hexdigest(), signature)
    return ok, "" if ok else "signature does not match"


def judge_post(fields_text: str, secret: str, bucket: str, server_at: str, filename: str = "") -> tuple[bool, str]:
    """(accepted, why) for an S3 POST form (fields as "name: value" lines), from the S3 POST documentation:
    https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html and
    sigv4-authentication-HTTPPOST.html: x-amz-signature is HMAC-SHA256(signing key, the policy field as
    sent); the policy has not expired; every field but the exempt ones is named by a condition, and every
    condition holds for the fields (key with ${filename} replaced)."""
    import json as _json
    from datetime import datetime as _dt

    fields: dict[str, str] = {}
    for line in fields_text.split("\n"):
        name, _, value = line.partition(": ")
        fields[name.lower()] = value
    credential = fields["x-amz-credential"]
    scope = credential.split("/", 1)[1]
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(hmac.new(key, fields["policy"].encode(), hashlib.sha256).hexdigest(), fields["x-amz-signature"]):
        return False, "x-amz-signature is not the HMAC of the policy"
    policy = _json.loads(base64.b64decode(fields["policy"]))
    expiration = _dt.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    if expiration <= _dt.fromisoformat(server_at.replace("Z", "+00:00")):
        return False, "policy expired"
    values = dict(fields, bucket=bucket)
    values["key"] = values.get("key", "").replace("${filename}", filename)
    named = {"bucket", "policy", "x-amz-signature", "file"}
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            (name, want), = condition.items()
            named.add(name.lower())
            if values.get(name.lower()) != want:
                return False, f"condition {condition} fails"
        elif condition[0] == "content-length-range":
            continue
        else:
            op, name, want = condition
            name = name.lstrip("$").lower()
            named.add(name)
            got = values.get(name, "")
            if (op == "eq" and got != want) or (op == "starts-with" and not got.startswith(want)):
                return False, f"condition {condition} fails"
    extra = [n for n in fields if n not in named and not n.startswith("x-ignore-")]
    return (False, f"fields not in the policy: {extra}") if extra else (True, "")
