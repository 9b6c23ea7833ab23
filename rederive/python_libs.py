"""Re-derive the sample's Python-library verdicts by calling each library directly, as its README
shows (docs/rederivation.md): the case's request signed with the check's credentials and time, the
signed request (or the library's refusal) printed next to what the harness recorded, and the signed
request judged by rederive/judge.py.

    PYTHONPATH=$PWD python rederive/python_libs.py
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import judge as independent  # noqa: E402

from harness.cases import load_cases  # noqa: E402  (case data only)


class Frozen(dt.datetime):
    at: dt.datetime = dt.datetime(2015, 8, 30, 12, 36)

    @classmethod
    def utcnow(cls):
        return cls.at.replace(tzinfo=None)

    @classmethod
    def now(cls, tz=None):
        return cls.at.replace(tzinfo=tz)


def frozen_module(at: dt.datetime) -> types.ModuleType:
    Frozen.at = at
    module = types.ModuleType("datetime")
    module.__dict__.update(dt.__dict__)
    module.datetime = Frozen
    return module


def botocore_sign(case, mode):
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    ctx, req = case.context, case.request
    botocore.auth.get_current_datetime = lambda: ctx.timestamp.replace(tzinfo=None)
    creds = Credentials(ctx.access_key_id, ctx.secret_access_key, ctx.session_token)
    s3 = ctx.service == "s3"
    cls = {("header", False): botocore.auth.SigV4Auth, ("header", True): botocore.auth.S3SigV4Auth,
           ("query", False): botocore.auth.SigV4QueryAuth, ("query", True): botocore.auth.S3SigV4QueryAuth}[(mode, s3)]
    request = AWSRequest(method=req.method, url=req.url, data=req.body)
    for name, value in req.headers:
        request.headers[name] = value
    cls(creds, ctx.service, ctx.region).add_auth(request)
    prepared = request.prepare()
    return {"method": prepared.method, "url": prepared.url, "headers": list(prepared.headers.items()), "body_b64": b64(prepared.body)}


def b64(body) -> str:
    import base64
    return base64.b64encode(body.encode() if isinstance(body, str) else (body or b"")).decode()


def requests_aws4auth_sign(case, mode):
    import requests
    import requests_aws4auth.aws4auth as module
    from requests_aws4auth import AWS4Auth

    ctx, req = case.context, case.request
    module.datetime = frozen_module(ctx.timestamp.replace(tzinfo=None))
    auth = AWS4Auth(ctx.access_key_id, ctx.secret_access_key, ctx.region, ctx.service,
                    date=ctx.timestamp.strftime("%Y%m%d"), session_token=ctx.session_token)
    prepared = requests.Request(req.method, req.url, headers=dict(req.headers), data=req.body or None, auth=auth).prepare()
    return {"method": prepared.method, "url": prepared.url, "headers": list(prepared.headers.items())}


def aws_requests_auth_sign(case, mode):
    import requests
    from aws_requests_auth import aws_auth

    ctx, req = case.context, case.request
    aws_auth.datetime = frozen_module(ctx.timestamp.replace(tzinfo=None))
    auth = aws_auth.AWSRequestsAuth(aws_access_key=ctx.access_key_id, aws_secret_access_key=ctx.secret_access_key,
                                    aws_host=req.host, aws_region=ctx.region, aws_service=ctx.service,
                                    aws_token=ctx.session_token)
    prepared = requests.Request(req.method, req.url, headers=dict(req.headers), data=req.body or None, auth=auth).prepare()
    return {"method": prepared.method, "url": prepared.url, "headers": list(prepared.headers.items())}


def awscrt_sign(case, mode):
    from awscrt import auth, http

    ctx, req = case.context, case.request
    s3 = ctx.service == "s3"
    config = auth.AwsSigningConfig(
        algorithm=auth.AwsSigningAlgorithm.V4,
        signature_type=auth.AwsSignatureType.HTTP_REQUEST_HEADERS if mode == "header" else auth.AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS,
        credentials_provider=auth.AwsCredentialsProvider.new_static(ctx.access_key_id, ctx.secret_access_key, ctx.session_token),
        region=ctx.region, service=ctx.service, date=ctx.timestamp,
        use_double_uri_encode=not s3, should_normalize_uri_path=not s3,
        signed_body_header_type=auth.AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256 if s3 else auth.AwsSignedBodyHeaderType.NONE,
        expiration_in_seconds=3600 if mode == "query" else None)
    target = req.path + (f"?{req.query}" if req.query else "")
    crt_request = http.HttpRequest(req.method, target, http.HttpHeaders(list(req.headers)))
    signed = auth.aws_sign_request(crt_request, config).result()
    return {"method": signed.method, "url": f"{req.scheme}://{req.host}{signed.path}", "headers": list(signed.headers)}


def same(a: dict, b: dict) -> bool:
    """The same request: method, path, query parameters (any order), headers (names in any case, any order)."""
    def form(r: dict):
        host, path, query = independent.split(r.get("url") or "https://x/")
        return (r.get("method"), host, path, sorted(query.split("&")),
                sorted((str(n).lower(), str(v)) for n, v in r.get("headers") or [] if str(n).lower() != "host"))  # the URL carries the host
    return form(a) == form(b)


LIBRARIES = {
    "py-botocore": botocore_sign, "py-botocore-crt": botocore_sign,  # botocore-crt presigns with botocore's query auth too
    "py-requests-aws4auth": requests_aws4auth_sign, "py-requests-aws4auth-refreshable": requests_aws4auth_sign,
    "py-aws-requests-auth": aws_requests_auth_sign, "py-awscrt": awscrt_sign,
}


def main() -> int:
    sample = json.loads((HERE / "sample.json").read_text())["sample"]
    cases = {c.id: c for c in load_cases([HERE.parent / "cases", Path("/work/shared/vectors/aws-c-auth")]).cases}
    out = []
    for row in sample:
        sign = LIBRARIES.get(row["adapter"])
        if sign is None:
            continue
        case = cases[row["case"]]
        try:
            signed = sign(case, row["mode"])
            got = {"signed": signed}
            s3 = case.context.service == "s3" or not case.context.double_encode
            got["independent_valid"], got["why"] = independent.judge(signed, case.context.secret_access_key,
                                                                     case.context.service, case.request.body, s3)
            recorded = row.get("signed") or {}
            got["same_as_recorded"] = same(signed, recorded)
        except Exception as exc:  # noqa: BLE001 - a refusal is the library's answer
            got = {"refused": f"{type(exc).__name__}: {exc}"[:200]}
        entry = {"case": row["case"], "mode": row["mode"], "adapter": row["adapter"], "status": row["status"],
                 "reason": row["reason"][:160], **got}
        out.append(entry)
        print(json.dumps({k: v for k, v in entry.items() if k != "signed"}))
    (HERE / "python_libs.json").write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
