"""A sent request that differs from the signed one only by unsigned transport headers (harness/oracles.py
TRANSPORT_HEADERS) is the same request to an oracle: it is asked once, also when the signed row and its
sent copies are judged at the same time; anything a verifier reads makes it a new request (docs/oracles.md)."""

from __future__ import annotations

import threading
import time

import pytest

from conftest import ROOT
from harness.adapters.pool import PoolSettings
from harness.cases import load_cases
from harness.model import Check, SignedRequest
from harness.oracles import Oracle, Oracles, judged_form

AUTH = ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                         "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
SIGNED = SignedRequest("GET", "https://example.amazonaws.com/", (("Host", "example.amazonaws.com"),
                       ("X-Amz-Date", "20150830T123600Z"), ("My-Header1", "value2"), ("My-Header1", "value1"), AUTH))


class Counting(Oracles):
    """Oracles without processes: `ask` counts the requests that reach the oracle."""

    def __init__(self, delay: float = 0.0):
        super().__init__([], PoolSettings())
        self.oracles = {"oracle-counting": Oracle("oracle-counting", None)}  # type: ignore[arg-type]
        self.asked: list[dict] = []
        self.delay = delay
        self._lock = threading.Lock()

    def _missing(self, name, check):
        return None

    def ask(self, name, check, message):
        with self._lock:
            self.asked.append(message)
        time.sleep(self.delay)
        return {"verdict": "accept", "reason": f"request {len(self.asked)}"}


@pytest.fixture(scope="module")
def check() -> Check:
    case = next(c for c in load_cases([ROOT / "cases" / "headers"]).cases if c.context.service != "s3")
    return Check(case, "header")


def sent(*added: tuple[str, str]) -> SignedRequest:
    """The signed request as a client delivers it: Authorization first, names lower-cased, plus `added`."""
    rest = tuple((n.lower(), v) for n, v in SIGNED.headers if n != "Authorization")
    return SignedRequest(SIGNED.method, SIGNED.url, (AUTH,) + tuple(added) + rest)


def test_unsigned_transport_headers_do_not_make_a_new_request(check):
    oracles = Counting()
    first = oracles.opinions(check, SIGNED, b"")
    again = oracles.opinions(check, sent(("User-Agent", "Go-http-client/1.1"), ("Accept-Encoding", "gzip"),
                                         ("Connection", "keep-alive"), ("Accept", "*/*")), b"")
    assert len(oracles.asked) == 1 and again == first
    # the oracle was asked about the request as received first, headers and all
    assert oracles.asked[0]["request"]["headers"] == [list(h) for h in SIGNED.headers]


@pytest.mark.parametrize("request_", [
    sent(("X-Amz-Meta-Added", "1")),  # an unsigned x-amz-* header: S3 refuses it (HeadersNotSigned)
    sent(("Content-Length", "0")),  # framing: not a transport header here
    SignedRequest("GET", SIGNED.url, SIGNED.headers[:2] + (SIGNED.headers[3], SIGNED.headers[2], AUTH)),  # values of one name swapped
    SignedRequest("GET", "https://example.amazonaws.com/?a=b", SIGNED.headers),  # the query
    SignedRequest("HEAD", SIGNED.url, SIGNED.headers),  # the method
])
def test_anything_a_verifier_reads_makes_a_new_request(check, request_):
    oracles = Counting()
    oracles.opinions(check, SIGNED, b"")
    oracles.opinions(check, request_, b"")
    assert len(oracles.asked) == 2


def test_a_signed_transport_header_is_part_of_the_request(check):
    auth = ("Authorization", AUTH[1].replace("host;x-amz-date", "host;user-agent;x-amz-date"))
    signed = SignedRequest("GET", SIGNED.url, (("Host", "example.amazonaws.com"), ("User-Agent", "lib/1"),
                                               ("X-Amz-Date", "20150830T123600Z"), auth))
    oracles = Counting()
    oracles.opinions(check, signed, b"")
    oracles.opinions(check, SignedRequest("GET", SIGNED.url, signed.headers[:1] + (("User-Agent", "client/2"),) + signed.headers[2:]), b"")
    assert len(oracles.asked) == 2
    # a request that does not say what it signed keeps every header in its name
    bare = SignedRequest("GET", SIGNED.url, (("Host", "example.amazonaws.com"),))
    assert judged_form(bare) != judged_form(SignedRequest("GET", SIGNED.url, bare.headers + (("Accept", "*/*"),)))


def test_presigned_urls_read_their_signed_headers_from_the_query(check):
    url = ("https://example.amazonaws.com/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=host%3Baccept"
           "&X-Amz-Signature=00")
    base = SignedRequest("GET", url, (("Host", "example.amazonaws.com"), ("Accept", "text/plain")))
    plus_agent = SignedRequest("GET", url, base.headers + (("User-Agent", "curl/8"),))
    other_accept = SignedRequest("GET", url, (base.headers[0], ("Accept", "*/*")))
    assert judged_form(base) == judged_form(plus_agent)  # User-Agent is not signed
    assert judged_form(base) != judged_form(other_accept)  # Accept is
    # both mechanisms at once (a presigned URL that still carries an Authorization header): every header kept
    both = SignedRequest("GET", url, base.headers + (AUTH,))
    assert judged_form(both) != judged_form(SignedRequest("GET", url, both.headers + (("User-Agent", "curl/8"),)))


def test_copies_judged_at_the_same_time_ask_once(check):
    oracles = Counting(delay=0.2)
    copies = [SIGNED] + [sent(("User-Agent", f"client/{i}")) for i in range(5)]
    answers: list[dict] = []
    threads = [threading.Thread(target=lambda r=r: answers.append(oracles.opinions(check, r, b""))) for r in copies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(oracles.asked) == 1 and len(answers) == 6 and all(a == answers[0] for a in answers)


def test_a_fault_is_not_kept_and_the_next_copy_asks_again(check):
    oracles = Counting()
    oracles.ask = lambda name, check, message: (oracles.asked.append(message) or
                                                {"verdict": "n/a", "reason": "oracle fault: it hung up"})
    oracles.opinions(check, SIGNED, b"")
    oracles.opinions(check, sent(("User-Agent", "x")), b"")
    assert len(oracles.asked) == 2
