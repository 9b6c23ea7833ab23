"""The browser's side of a presigned POST: a form and a file as the multipart/form-data request an
oracle receives (docs/oracles.md, s3s). Nothing here signs: the fields are the generator's.

"Creating an HTML Form" (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTForms.html):
the form is posted as multipart/form-data; "the file or text content must be the last field in the
form". The file is `size` zero bytes named `filename` (the case's upload).
"""

from __future__ import annotations

from harness.model import SignedRequest, split_url
from harness.verify.post_policy import Upload

BOUNDARY = "sigharness-form-boundary-7MA4YWxkTrZu0gW"


def _part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if filename is not None:
        head += "Content-Type: application/octet-stream\r\n"
    return (head + "\r\n").encode("utf-8") + value + b"\r\n"


def multipart_body(upload: Upload) -> bytes:
    """The form's fields in order, then the file, as a browser encodes them."""
    parts = [_part(name, value.encode("utf-8")) for name, value in upload.fields]
    parts.append(_part("file", bytes(upload.size), upload.filename))
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode("ascii")


def browser_post(url: str, upload: Upload) -> SignedRequest:
    """The POST a browser sends for `upload` to the form's action `url`."""
    _, host, _, _ = split_url(url)
    headers = (("Host", host), ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}"))
    return SignedRequest("POST", url, headers, multipart_body(upload))
