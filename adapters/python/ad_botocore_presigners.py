"""py-botocore-presigners: botocore's presigning helpers beyond header and query signing, called as
a user calls them on a client (botocore 1.44.5 looked at):

* post-policy: ``s3.generate_presigned_post(Bucket, Key, Fields, Conditions, ExpiresIn)`` on an S3
  client with ``Config(signature_version="s3v4")`` (botocore's default for a POST is SigV2);
* rds: ``rds.generate_db_auth_token(DBHostname, Port, DBUsername, Region)`` (its expiry is fixed at
  900 s: a case asking for another is unsupported);
* dsql: ``dsql.generate_db_connect_auth_token`` / ``generate_db_connect_admin_auth_token(Hostname,
  Region, ExpiresIn)``;
* eks: what aws-cli ``eks get-token`` does (awscli/customizations/eks/get_token.py): an STS client
  whose ``before-sign.sts.GetCallerIdentity`` handler adds the ``x-k8s-aws-id`` header,
  ``generate_presigned_url("get_caller_identity", ExpiresIn=..., HttpMethod="GET")``, then
  ``"k8s-aws-v1." + base64url(url)`` without padding.

awscrt is made unimportable first (as in py-botocore): with it botocore would presign with its CRT
signers. The clock is botocore's own hook, ``get_current_datetime``, in botocore.auth (signing) and
botocore.signers (the POST policy's expiration). Canonical request and string to sign come from
botocore's signing log, as in py-botocore (tokens only: a POST policy has none).
"""

from __future__ import annotations

import base64
import sys

sys.modules["awscrt"] = None  # type: ignore[assignment]

import botocore  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.compat  # noqa: E402
import botocore.session  # noqa: E402
import botocore.signers  # noqa: E402
from botocore.config import Config  # noqa: E402

from ad_botocore import BotocoreAdapter, _SigningLog  # noqa: E402
from ad_common import Check, FixedClock, Stopwatch, Unsupported, library_call  # noqa: E402

import logging  # noqa: E402

K8S_AWS_ID_HEADER = "x-k8s-aws-id"  # aws-cli get_token.py
TOKEN_PREFIX = "k8s-aws-v1."
RDS_EXPIRES = 900  # generate_db_auth_token passes expires_in=900, no parameter


class BotocorePresignersAdapter:
    library = "botocore"

    def __init__(self) -> None:
        self.session = botocore.session.get_session()
        self.clock = FixedClock()
        self.clock.install(botocore.auth, hook="get_current_datetime")
        self.clock.install(botocore.signers, hook="get_current_datetime")
        self.log = _SigningLog()
        logger = logging.getLogger("botocore.auth")
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.addHandler(self.log)

    def hello(self) -> dict:
        """py-botocore's hello (the same botocore, without awscrt), serving the presigning surfaces."""
        return {**BotocoreAdapter.hello(self), "surfaces": ["post-policy", "rds", "dsql", "eks"]}

    def _client(self, service: str, check: Check, **kwargs):
        return self.session.create_client(
            service, region_name=check.region, aws_access_key_id=check.access_key_id,
            aws_secret_access_key=check.secret_access_key, aws_session_token=check.session_token, **kwargs)

    def prepare(self, check: Check):
        surface = check.raw.get("surface")
        if surface is None:  # the engine never sends one: the adapter declares no single surface
            raise Unsupported("this adapter calls botocore's presigners; single-shot signing is py-botocore's")
        if surface == "post-policy":
            return self._client("s3", check, config=Config(signature_version="s3v4"))
        token = check.raw["token"]
        if surface == "rds":
            if token["expires"] != RDS_EXPIRES:
                raise Unsupported(f"generate_db_auth_token has no expiry parameter (always {RDS_EXPIRES} s)")
            return self._client("rds", check)
        if surface == "dsql":
            return self._client("dsql", check)
        if surface == "eks":
            host = token["host"]
            # aws-cli builds the STS client for the region; its regional endpoint is the default.
            extra = {} if host == f"sts.{check.region}.amazonaws.com" else {"endpoint_url": f"https://{host}"}
            client = self._client("sts", check, **extra)
            client.meta.events.register("provide-client-params.sts.GetCallerIdentity", _retrieve_k8s_aws_id)
            client.meta.events.register("before-sign.sts.GetCallerIdentity", _inject_k8s_aws_id_header)
            return client
        raise Unsupported(f"no botocore presigner for surface {surface!r}")

    def sign(self, check: Check, client, watch: Stopwatch) -> dict:
        surface = check.raw["surface"]
        self.clock.now = check.timestamp
        self.log.reset()
        if surface == "post-policy":
            post = check.raw["post"]
            with library_call(), watch.running():
                out = client.generate_presigned_post(
                    post["bucket"], post["key"], Fields={n: v for n, v in post["fields"]} or None,
                    Conditions=post["conditions"] or None, ExpiresIn=post["expires"])
            return {"form": {"url": out["url"], "fields": [[k, v] for k, v in out["fields"].items()]}}
        token = check.raw["token"]
        with library_call(), watch.running():
            if surface == "rds":
                text = client.generate_db_auth_token(token["host"], token["port"], token["user"], Region=check.region)
            elif surface == "dsql":
                generate = client.generate_db_connect_admin_auth_token if token["action"] == "DbConnectAdmin" \
                    else client.generate_db_connect_auth_token
                text = generate(token["host"], Region=check.region, ExpiresIn=token["expires"])
            else:
                url = client.generate_presigned_url("get_caller_identity", Params={K8S_AWS_ID_HEADER: token["cluster_id"]},
                                                    ExpiresIn=token["expires"], HttpMethod="GET")
                text = TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode("utf-8")).decode("utf-8").rstrip("=")
        return {"token": text, "canonical_request": self.log.canonical_request, "string_to_sign": self.log.string_to_sign}


def _retrieve_k8s_aws_id(params, context, **kwargs):
    """aws-cli STSClientFactory._retrieve_k8s_aws_id."""
    if K8S_AWS_ID_HEADER in params:
        context[K8S_AWS_ID_HEADER] = params.pop(K8S_AWS_ID_HEADER)


def _inject_k8s_aws_id_header(request, **kwargs):
    """aws-cli STSClientFactory._inject_k8s_aws_id_header."""
    if K8S_AWS_ID_HEADER in request.context:
        request.headers[K8S_AWS_ID_HEADER] = request.context[K8S_AWS_ID_HEADER]
