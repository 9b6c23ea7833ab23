"""py-botocore's aws-chunked uploads: botocore has one, the S3 flexible-checksum upload, which is
STREAMING-UNSIGNED-PAYLOAD-TRAILER. A user's PutObject with a trailer checksum goes through
``botocore.httpchecksum.apply_request_checksum`` (the request's ``context['checksum']`` names the
algorithm, ``in: trailer``): it wraps the body in ``AwsChunkedWrapper`` (its own chunk size) and sets
the stream headers, and ``S3SigV4Auth`` signs the seed with STREAMING-UNSIGNED-PAYLOAD-TRAILER. The
wire body is what the wrapper reads out.

botocore 1.44 has no signed-chunk or event-stream signing: ``botocore.auth`` signs whole requests only
(the constant STREAMING_UNSIGNED_PAYLOAD_TRAILER is its one streaming value), and event streams are
only received (``botocore.eventstream`` decodes).
"""

from __future__ import annotations

import base64

import botocore
import botocore.auth
import botocore.httpchecksum
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ad_common import Check, Unsupported, library_call

NO_SIGNED_CHUNKS = (f"botocore {botocore.__version__} has no chunk signing: its aws-chunked body (httpchecksum.AwsChunkedWrapper) "
                    "is STREAMING-UNSIGNED-PAYLOAD-TRAILER only, and botocore.auth signs whole requests")
NO_EVENT_SIGNING = f"botocore {botocore.__version__} signs no event-stream messages (botocore.eventstream only decodes responses)"
WHY = {"event-stream": NO_EVENT_SIGNING}
STREAM_HEADERS = {"content-encoding", "x-amz-decoded-content-length", "content-length", "x-amz-trailer"}


def sign_chunked(check: Check, clock) -> dict:
    spec = check.raw["chunked"]
    if not spec["unsigned"]:
        raise Unsupported(NO_SIGNED_CHUNKS)
    trailers = spec["trailers"]
    name = trailers[0][0].lower() if len(trailers) == 1 else ""
    algorithm = name.removeprefix("x-amz-checksum-")
    if not name.startswith("x-amz-checksum-") or algorithm not in botocore.httpchecksum._CHECKSUM_CLS:
        raise Unsupported(f"botocore's trailer is one x-amz-checksum-* of {sorted(botocore.httpchecksum._CHECKSUM_CLS)}, not {trailers}")
    data = b"".join(base64.b64decode(c) for c in spec["chunks_b64"])
    headers = {n: v for n, v in check.headers if n.lower() not in STREAM_HEADERS}
    request_dict = {"method": check.method, "url": check.url, "headers": headers, "body": data,
                    "context": {"checksum": {"request_algorithm": {"in": "trailer", "algorithm": algorithm, "name": name}}}}
    with library_call():
        botocore.httpchecksum.apply_request_checksum(request_dict)
    request = AWSRequest(method=check.method, url=check.url, data=request_dict["body"], headers=request_dict["headers"])
    request.context = request_dict["context"]
    clock.now = check.timestamp
    with library_call():
        botocore.auth.S3SigV4Auth(Credentials(check.access_key_id, check.secret_access_key, check.session_token),
                                  "s3", check.region).add_auth(request)
        prepared = request.prepare()
        body = prepared.body.read()
    return {
        "signed": {"method": prepared.method, "url": prepared.url, "body_b64": None,
                   "headers": [[n, v] for n, v in prepared.headers.items()]},
        "stream": {"body_b64": base64.b64encode(body).decode("ascii")},
    }
