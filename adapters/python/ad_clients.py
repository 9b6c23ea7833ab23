"""The HTTP clients the project's Python adapters send signed requests with (the wire stage,
docs/wire.md), each called the way its users call it with headers a signer returned:

* ``urllib``: ``urllib.request.urlopen(urllib.request.Request(url, data=body, headers=dict(headers),
  method=method))``, the AWS documentation's standard-library style;
* ``requests``: ``session.request(method, url, headers=dict(headers), data=body)`` on one
  ``requests.Session`` kept for the adapter's life, as an application keeps one;
* ``httpx``: ``client.request(method, url, headers=headers, content=body)`` on one ``httpx.Client``
  (``httpx.request()`` builds a client, and its TLS context, for every call: about 0.1-0.3 s).

The URL is the signed one with the scheme `send` gives (http); the client derives Host from it, or
sends the signed Host header where the signer returned one. Nothing here touches a signature.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from harness.adapter_sdk import SEND_TIMEOUT, Check, Unsupported, send_url, sent_by, signed_parts


def _urllib(method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body or None, headers=dict(headers), method=method)
    try:
        with urllib.request.urlopen(request, timeout=SEND_TIMEOUT) as answer:
            answer.read()
            return answer.status, answer.headers
    except urllib.error.HTTPError as answer:  # an answer all the same (4xx/5xx)
        return answer.code, answer.headers


_KEPT: dict[str, Any] = {}  # one requests.Session / httpx.Client per adapter process


def _requests(method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> tuple[int, Any]:
    if "requests" not in _KEPT:
        import requests

        _KEPT["requests"] = requests.Session()
    answer = _KEPT["requests"].request(method, url, headers=dict(headers), data=body or None, timeout=SEND_TIMEOUT)
    return answer.status_code, answer.headers


def _httpx(method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> tuple[int, Any]:
    if "httpx" not in _KEPT:
        import httpx

        _KEPT["httpx"] = httpx.Client(timeout=SEND_TIMEOUT)
    answer = _KEPT["httpx"].request(method, url, headers=headers, content=body or None)
    return answer.status_code, answer.headers


SENDERS = {"urllib": _urllib, "requests": _requests, "httpx": _httpx}


def send_signed(check: Check, outcome: dict, client: str, scheme: str) -> dict:
    """Send what a signer returned (method, URL, headers, body) with `client`: the `sent` answer."""
    sender = SENDERS.get(client)
    if sender is None:
        raise Unsupported(f"no sender for client {client!r} here")
    method, url, headers, body = signed_parts(check, outcome)
    return sent_by(client, lambda: sender(method, send_url(url, scheme), headers, body))
