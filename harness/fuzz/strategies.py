"""The request grammar, as Hypothesis strategies.

Each strategy draws the parts signers are known to disagree on (docs/fuzzing.md lists them):
raw paths (unreserved, reserved, unicode, escapes of either case, malformed escapes, dot segments,
repeated slashes), raw queries (repeated keys, empty keys and values, keys without '=', '+', ';',
'=' in values, escapes, blank segments), headers (inner, leading and trailing whitespace, tabs,
obs-fold line breaks, duplicates, name case), bodies, services, modes, session tokens, SigV4 and
SigV4A.

What is drawn is a case *mapping*, shaped exactly as a YAML case in cases/ (docs/cases.md): the
fuzzer builds it with the normal loader (so the defaults a service implies are the loader's), and
the writer stores the same mapping. Every choice lists its simplest value first, so Hypothesis
shrinks toward GET / with no query, no extra header, SigV4, header mode and the generic service.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from harness.cases.yamlfile import _Lines, build_case
from harness.model import ALGORITHMS, MODES, Case

SERVICES = ("service", "s3", "execute-api", "es", "sts", "iotdevicegateway", "vpc-lattice-svcs")
METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "get")
HOSTS = ("example.amazonaws.com", "example.amazonaws.com:8443", "example.amazonaws.com:443")
# The AWS documentation's example session token: long, with '+', '/' and '='.
SESSION_TOKENS = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
    "token",
)
REGION_SETS = (["us-east-1"], ["*"], ["us-east-1", "us-west-2"])
EXPIRES = (3600, 1, 604800)

UNICODE = ("é", "日", "😀", "ß")
SUB_DELIMS = tuple("!$&'()*+,;=")
# Bytes whose escapes signers treat differently: unreserved (%41 %7E %2D), reserved (%2F %2B %3D
# %26 %3B %40 %3A), space, '%' itself, a UTF-8 lead byte.
ESCAPE_BYTES = (0x41, 0x7E, 0x2D, 0x2F, 0x2B, 0x3D, 0x26, 0x3B, 0x40, 0x3A, 0x20, 0x25, 0xC3, 0x2A)
MALFORMED_ESCAPES = ("%", "%4", "%zz", "%%")


@dataclass(frozen=True)
class Grammar:
    """Which parts of the space to draw from (the command line narrows it)."""

    modes: tuple[str, ...] = MODES
    algorithms: tuple[str, ...] = ALGORITHMS
    services: tuple[str, ...] = SERVICES
    methods: tuple[str, ...] = METHODS
    tokens: bool = True
    bodies: bool = True
    surfaces: tuple[str, ...] = ("single",)  # single, aws-chunked, event-stream (harness/fuzz/streams.py)


def _escape(byte: int, lower: bool) -> str:
    text = f"%{byte:02X}"
    return text.lower() if lower else text


@lru_cache(maxsize=None)
def escapes() -> st.SearchStrategy[str]:
    return st.builds(_escape, st.sampled_from(ESCAPE_BYTES) | st.integers(0, 255), st.booleans())


@lru_cache(maxsize=None)
def _atoms(*extra: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """One unit of a path segment, query key or value. Plain letters first (the shrink target).

    `one_of` picks a branch uniformly, so a branch listed twice comes twice as often: plain
    characters and escapes are common, the inputs most signers refuse or mangle (raw spaces,
    malformed escapes) rare, so that most examples hold few triggers at once."""
    plain = st.sampled_from(("a", "b", "A", "Z", "0", "9"))
    return st.one_of(
        plain,
        plain,
        plain,
        st.sampled_from(("-", ".", "_", "~")),
        st.sampled_from(SUB_DELIMS + (":", "@")),
        escapes(),
        escapes(),
        st.sampled_from(UNICODE),
        *extra,
        st.just(" "),
        st.sampled_from(MALFORMED_ESCAPES),
    )


def _join(parts: list[str]) -> str:
    return "".join(parts)


@lru_cache(maxsize=None)
def path_segments() -> st.SearchStrategy[str]:
    word = st.lists(_atoms(), min_size=1, max_size=5).map(_join)
    return st.one_of(word, st.sampled_from(("", ".", "..")))


def _path(segments: list[str], trailing: bool) -> str:
    if not segments:
        return "/"
    return "/" + "/".join(segments) + ("/" if trailing else "")


@lru_cache(maxsize=None)
def paths() -> st.SearchStrategy[str]:
    return st.builds(_path, st.lists(path_segments(), max_size=5), st.booleans())


# Query keys come mostly from a small pool, so repeated keys (D5), keys that prefix others (D4)
# and case-only differences (D3) turn up often.
KEY_POOL = ("a", "b", "A", "key", "key-type", "a+b", "%41", "~", "9", ":")


@lru_cache(maxsize=None)
def query_keys() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(KEY_POOL), st.lists(_atoms(st.just("?"), st.just("/")), min_size=1, max_size=4).map(_join))


@lru_cache(maxsize=None)
def query_values() -> st.SearchStrategy[str]:
    return st.lists(_atoms(st.just("="), st.just("?"), st.just("/")), max_size=5).map(_join)


def _param(key: str, value: str, form: int) -> str:
    if form == 1:
        return key  # no '=' at all (?acl)
    if form == 2:
        return ""  # a blank segment (?a=1&&b=2, a trailing '&')
    return f"{key.replace('&', '%26').replace('=', '%3D')}={value.replace('&', '%26')}"


@lru_cache(maxsize=None)
def query_params() -> st.SearchStrategy[str]:
    return st.builds(_param, query_keys(), query_values(), st.integers(0, 2))


@lru_cache(maxsize=None)
def queries() -> st.SearchStrategy[str]:
    return st.lists(query_params(), max_size=6).map("&".join)


HEADER_NAMES = ("X-Custom", "My-Header", "Content-Type", "X-Amz-Meta-Note", "Accept", "Range", "Date", "User-Agent", "X-Amz-Acl", "Expect")


def _name_case(name: str, how: int) -> str:
    return (name, name.lower(), name.upper())[how]


@lru_cache(maxsize=None)
def header_values() -> st.SearchStrategy[str]:
    unit = st.one_of(
        st.sampled_from(("v", "value", "1", "a,b", '"q  uoted"', "x=y;z")),
        st.sampled_from((" ", "   ", "\t", "\n  ", "\r\n\t")),  # runs, tabs, obs-fold
        st.sampled_from(("é", ",", ";", "=", "/")),
    )
    return st.lists(unit, max_size=5).map(_join)


@lru_cache(maxsize=None)
def headers() -> st.SearchStrategy[list[list[str]]]:
    pair = st.builds(lambda n, how, v: [_name_case(n, how), v], st.sampled_from(HEADER_NAMES), st.integers(0, 2), header_values())
    return st.lists(pair, max_size=4)


@lru_cache(maxsize=None)
def bodies() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.sampled_from(("{}", "a=1&b=2", "Action=ListUsers&Version=2010-05-08", "hello é")),
        st.binary(min_size=1, max_size=16).map(lambda b: {"base64": base64.b64encode(b).decode("ascii")}),
    )


def has_malformed_escape(text: str) -> bool:
    for i, ch in enumerate(text):
        if ch == "%" and not (len(text) >= i + 3 and all(c in "0123456789abcdefABCDEF" for c in text[i + 1 : i + 3])):
            return True
    return False


def case_flags(data: dict[str, Any]) -> dict[str, Any]:
    """The flags the curated corpus gives the same kind of input, applied to a drawn request:
    a literal '+' in the query leaves the server's choice open (cases/query/plus.yaml), a
    malformed escape may be refused (cases/query/escapes.yaml)."""
    req = data["request"]
    flags: dict[str, Any] = {}
    if "+" in req.get("query", ""):
        flags["open_choices"] = ["query-plus-as-space"]
    if has_malformed_escape(req.get("path", "")) or has_malformed_escape(req.get("query", "")):
        flags["refusal_ok"] = True
    return flags


@lru_cache(maxsize=None)
def case_data(grammar: Grammar = Grammar()) -> st.SearchStrategy[dict[str, Any]]:
    """One fuzz case as a YAML-shaped mapping (no id or title yet)."""
    return _case_data(grammar)


@st.composite
def _case_data(draw: st.DrawFn, grammar: Grammar) -> dict[str, Any]:
    # No draw for a single surface: runs without --surfaces keep the examples a seed gave before.
    surface = draw(st.sampled_from(grammar.surfaces)) if len(grammar.surfaces) > 1 else grammar.surfaces[0]
    if surface != "single":
        from harness.fuzz.streams import stream_data

        return draw(stream_data(surface, grammar.algorithms))
    mode = draw(st.sampled_from(grammar.modes))
    algorithm = draw(st.sampled_from(grammar.algorithms))
    service = draw(st.sampled_from(grammar.services))
    method = draw(st.sampled_from(grammar.methods))
    host = draw(st.sampled_from(HOSTS))
    request: dict[str, Any] = {"method": method, "host": host, "path": draw(paths())}
    query = draw(queries())
    if query:
        request["query"] = query
    extra = draw(headers())
    if extra:
        request["headers"] = extra
    if grammar.bodies:
        body = draw(bodies())
        if body is not None:
            request["body"] = body
    context: dict[str, Any] = {"modes": [mode]}
    if service != "service":
        context["service"] = service
    if algorithm != "sigv4":
        context["algorithm"] = algorithm
        region_set = draw(st.sampled_from(REGION_SETS))
        if region_set != ["us-east-1"]:
            context["region_set"] = region_set
    if grammar.tokens and draw(st.booleans()):
        token = draw(st.sampled_from(SESSION_TOKENS))
        context["credentials"] = {
            "access_key_id": "AKIDEXAMPLE",
            "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "session_token": token,
        }
        # A token added after signing is an unsigned x-amz-* header, which S3 refuses in header mode whoever
        # signed (HeadersNotSigned, docs/server-rules.md): every signer, the reference too, would "fail" such
        # an input, which says nothing about how signers differ. The draw is kept so the sequence stays.
        if draw(st.integers(0, 3)) == 3 and not (service == "s3" and mode == "header"):
            context["session_token_placement"] = "after"
    if mode == "query":
        expires = draw(st.sampled_from(EXPIRES))
        if expires != 3600:
            context["expires"] = expires
    data: dict[str, Any] = {"request": request, "context": context}
    flags = case_flags(data)
    if flags:
        data["flags"] = flags
    return data


def to_case(data: dict[str, Any], case_id: str = "found/candidate", title: str = "fuzz candidate") -> Case:
    """Build the Case exactly as the loader would from the same YAML."""
    full = {"id": case_id, "title": title, **data}
    return build_case(full, (), _Lines(), "<fuzz>")
