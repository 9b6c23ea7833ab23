"""Reading results.json in the layout `harness.results.dumps` writes -- the head on the first line, then one
row per line -- one row at a time, with rows that are the same apart from their timings parsed once.

A merge of eight runs of a version matrix holds each check eight times, mostly with the same verdict,
stages and signed request and only other timings: `RowReader` parses the first and hands out copies of
it for the others (their `duration_ms` and `elapsed_ns` read from their own line), so their nested
values are one object in memory and the report can build what it shows from them once
(harness/report/model.py). Every distinct row is checked as `load_results` checks a whole document.

`read` answers None for anything it does not take on itself -- another layout, a version-1 file, an
escaped lone surrogate, a line it cannot parse or a row of the wrong shape -- and the caller then reads
the file the careful way, which names the problem.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from json.decoder import scanstring
from json.encoder import encode_basestring
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson

from harness.results_shape import MAX_DEPTH, MAX_NUMBER, depth, row_problem, shape_problem

ROWS_START = b'\n"results":[\n'  # between the head and the first row
ROWS_END = b"\n]}\n"  # after the last row
TIMINGS = (("elapsed_ns", b'"elapsed_ns":'), ("duration_ms", b'"duration_ms":'))  # what differs between runs
_NUMBER_TEXT = re.compile(rb"-?[0-9][0-9.eE+-]*")
_NAMED = {name: key for name, key in TIMINGS}
_TAIL = re.compile(rb',"elapsed_ns":(-?[0-9][0-9.eE+-]*),"duration_ms":(-?[0-9][0-9.eE+-]*)\}')
# ... with plain numbers: an integer of at most 18 digits and a decimal fraction with at most 15 before the point
# (both under MAX_NUMBER; int and float, as json.loads reads them)
_PLAIN_TAIL = re.compile(rb',"elapsed_ns":([0-9]{1,18}),"duration_ms":([0-9]{1,15}\.[0-9]{1,17})\}')
_MS_TAIL = re.compile(rb',"duration_ms":(-?[0-9][0-9.eE+-]*)\}')
_PLAIN_MS_TAIL = re.compile(rb',"duration_ms":([0-9]{1,15}\.[0-9]{1,17})\}')  # ... the wall time alone, a plain number
_BOTH, _MS_ONLY = ((1, "elapsed_ns"), (2, "duration_ms")), ((1, "duration_ms"),)  # (group, name) of each tail
_HEAD_SHARED = 4096  # a head's value of at least this many characters is kept for the next file's head
_TAIL_MAX = 112  # the longest such tail looked for (two numbers of up to 40 characters)
_TAIL_WINDOW = -_TAIL_MAX  # where a search for it starts: from the line's end, never before its start
ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")  # a lone surrogate kept as text (json_safe)
ESCAPED_SURROGATE_BYTES = re.compile(ESCAPED_SURROGATE.pattern.encode())
# a JSON number (after ':', '[' or ',', not inside a string's hex digits) with an exponent of 3+ digits
BIG_EXPONENT = re.compile(r"[:\[,][ \t\r\n]*-?[0-9][0-9.]*[eE][+-]?[0-9]{3,}[ \t\r\n]*[,\]}]")


def no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is too large a number")
    return value


_ROW_DECODER = json.JSONDecoder(parse_constant=no_constant, parse_float=finite)
# a run of 19 digits (an integer past 64 bits may be one): the row's digits turned to "0" and every other byte to " ",
# then the run looked for as text (ten times quicker than a regular expression over a row)
_DIGITS_ONLY = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
_LONG_DIGITS = b"0" * 19
_HEAD_DECODER = json.JSONDecoder(parse_constant=no_constant)  # (a value of a head that holds no huge number)


class NotTaken(Exception):
    """This file is for the careful reader."""


class OutOfOrder(Exception):
    """A file's rows are not in case order around a Cut's pivot: a row of the other side lies among this side's.
    The other process reading it (harness/report/shares.py) may have missed rows: every row must be read in one."""


@dataclass(frozen=True)
class Cut:
    """The rows of the cases before `pivot` (`first`) or of the cases from it on: one of two processes reading
    a merge's inputs (harness/report/shares.py). A file's rows in case order, as runs and merges write them,
    are read from where the pivot's first row starts (found as text) on, or up to it, alone."""

    pivot: str
    first: bool

    def __call__(self, case: str) -> bool:
        return (case < self.pivot) == self.first

    def marker(self) -> bytes:
        """How the pivot's first row starts in a file, as `harness.results.dumps` writes it."""
        return b'\n{"case":' + encode_basestring(self.pivot).encode("utf-8") + b',"mode":'


@dataclass
class RowReader:
    """Parses rows once per distinct text (timings left out), across every file it reads; keep one for the
    inputs of one merge. Each table maps a row's text without its timing values to the row as parsed (never
    handed out: each row read is its own copy, its nested values shared)."""

    # rows whose line ends with both timings, as this version writes them: the text before them -> the row
    tailed: dict[bytes, dict[str, Any]] = field(default_factory=dict)
    ms_tailed: dict[bytes, dict[str, Any]] = field(default_factory=dict)  # ... ending with the wall time alone
    # rows of earlier versions, their timings elsewhere in the line: the text around them, joined with NUL
    parsed: dict[bytes, dict[str, Any]] = field(default_factory=dict)
    # large values of the heads read (cases, checks): key -> (the value's text, the value as parsed and checked)
    heads: dict[str, tuple[str, Any]] = field(default_factory=dict)
    rows_read: int = 0
    # which rows to read, by their case (harness/report/shares.py: a second process reads the others); all without
    keep: Callable[[str], bool] | None = None
    kept_cases: dict[bytes, bool] = field(default_factory=dict)  # a case's text in a row -> keep's answer

    def read(self, raw: bytes) -> tuple[dict[str, Any], list[tuple[int, int]]] | None:
        """(the document, where each row's text lies in `raw` as (byte offset, length)), or None."""
        try:
            return self._read(raw)
        except (NotTaken, ValueError, RecursionError, IndexError):  # (IndexError: a head cut short)
            return None

    def _read(self, raw: bytes) -> tuple[dict[str, Any], list[tuple[int, int]]]:
        cut = raw.find(ROWS_START)
        if cut < 1 or raw[cut - 1:cut] != b"," or ESCAPED_SURROGATE_BYTES.search(raw, 0, cut):
            raise NotTaken
        head = self._head(raw[:cut - 1] + b"}")
        start = cut + len(ROWS_START)
        if not raw.endswith(ROWS_END, start - 1):
            raise NotTaken
        # rows are separated by ",\n" (a row's text holds no raw line break: JSON escapes it; a file laid out
        # otherwise gives a piece that does not parse, and the careful reader takes the file)
        end = len(raw) - len(ROWS_END)
        keep = self.keep
        at = raw.find(keep.marker(), start - 1, end) + 1 if isinstance(keep, Cut) else 0
        if at > 0:  # rows in case order: this side's lie before the pivot's first row, or from it on
            start, end = (start, at - 2) if keep.first else (at, end)  # type: ignore[union-attr]
        region = raw[start:end]
        bodies = region.split(b",\n") if region else []
        rows: list[dict[str, Any]] = []
        lengths = list(map(len, bodies))  # each row's (offset, length), without a step per row in Python
        spans: list[tuple[int, int]] = list(zip(accumulate(map((2).__add__, lengths), initial=start), lengths))
        if keep is not None:
            kept = self._kept(bodies)
            if at > 0 and len(kept) < len(bodies):
                raise OutOfOrder(f"a row of a case {'from' if keep.first else 'before'} {keep.pivot!r} on is among "  # type: ignore[union-attr]
                                 f"the rows {'before' if keep.first else 'from'} it")  # type: ignore[union-attr]
            if len(kept) < len(bodies):
                bodies = [bodies[i] for i in kept]
                spans = [spans[i] for i in kept]
        row_of, add_row, like, ms_like = self._row, rows.append, self.tailed.get, self.ms_tailed.get
        window = _TAIL_WINDOW
        for body in bodies:
            # the common rows, inline (a call per row cost more than the rest): a row seen before whose line ends
            # with both timings, or (no elapsed_ns near its end: unsupported and wire rows) with the wall time
            # alone, as plain numbers -- what `_row` finds for them, sooner; every other row is `_row`'s
            at = body.rfind(b',"elapsed_ns":', window)
            if at > 0:
                tail = _PLAIN_TAIL.fullmatch(body, at)
                shared = like(body[:at]) if tail is not None else None
                if shared is not None:
                    row = shared.copy()
                    row["elapsed_ns"] = int(tail[1])  # type: ignore[index]
                    row["duration_ms"] = float(tail[2])  # type: ignore[index]
                    add_row(row)
                    continue
            elif at < 0:
                at = body.rfind(b',"duration_ms":', window)
                tail = _PLAIN_MS_TAIL.fullmatch(body, at) if at > 0 else None
                shared = ms_like(body[:at]) if tail is not None else None
                if shared is not None:
                    row = shared.copy()
                    row["duration_ms"] = float(tail[1])  # type: ignore[index]
                    add_row(row)
                    continue
            add_row(row_of(len(rows), body))  # (its index: the rows before it are in)
        self.rows_read += len(rows)
        head["results"] = rows
        return head, spans

    def _kept(self, bodies: list[bytes]) -> list[int]:
        """The places of the rows whose case `keep` keeps, each case's text decoded once. A row laid out otherwise,
        or a case holding an escaped lone surrogate (the careful reader changes its text: both readers must
        decide alike), leaves the file to the careful reader, which keeps rows by their case as read."""
        keep, known = self.keep, self.kept_cases
        assert keep is not None
        places = []
        add = places.append
        # a check's rows follow each other: a row that starts as the one before it has its answer
        same, wanted = b"\0", False
        for place, body in enumerate(bodies):
            if not body.startswith(same):
                end = body.find(b'","mode":"', 9)
                if end < 0 or not body.startswith(b'{"case":"'):
                    raise NotTaken
                text = body[9:end]
                found = known.get(text)
                if found is None:
                    if b"\\ud" in text or b"\\uD" in text:
                        raise NotTaken
                    found = known[text] = bool(keep(json.loads(b'"' + text + b'"')))
                same, wanted = body[:end + 3], found
            if wanted:
                add(place)
        return places

    def _head(self, text: bytes) -> dict[str, Any]:
        """The head (everything but the rows), checked. Its top-level values are read one by one, and a large
        one whose text is the same as in a file read before (the cases and the checks' expectations of runs
        of one corpus) is that file's value, already checked, instead of being parsed and checked again."""
        head_text = text.decode("utf-8")
        head: dict[str, Any] = {}
        seen: set[str] = set()  # keys whose value is one read before
        fresh: dict[str, tuple[str, Any]] = {}
        # as `dumps` writes a head: `{"key":value,...}` without spaces; anything else is the careful reader's
        if not head_text.startswith('{"'):
            raise NotTaken
        at, end = 1, len(head_text) - 1
        while True:
            if head_text[at] != '"':
                raise NotTaken
            key, at = scanstring(head_text, at + 1)
            if head_text[at] != ":":
                raise NotTaken
            at += 1
            known = self.heads.get(key)
            if known is not None and head_text.startswith(known[0], at):  # an object's text ends where it closes
                head[key] = known[1]
                at += len(known[0])
                seen.add(key)
            else:
                value, stop = _HEAD_DECODER.raw_decode(head_text, at)
                # a number too large for a float (1e999) is found by the hook, which costs a call per number:
                # only a value whose text may hold one (an exponent of three digits or more) is read with it
                # (looked for in this value's text alone: a value read before was looked at then)
                if BIG_EXPONENT.search(head_text, at - 1, stop + 1):
                    value, stop = _ROW_DECODER.raw_decode(head_text, at)
                if stop - at >= _HEAD_SHARED and type(value) in (dict, list):
                    fresh[key] = (head_text[at:stop], value)
                head[key] = value
                seen.discard(key)  # (a key named twice: the last value counts, as json.loads reads it)
                at = stop
            if head_text[at] == "," and at < end:
                at += 1
            elif head_text[at] == "}" and at == end:
                break
            else:
                raise NotTaken
        if head.get("version") != 2 or "results" in head:
            raise NotTaken  # version 1 is converted by the careful reader; a second "results" key is no row list
        # a value read before passed these checks at the same place in its file's head
        checked = {key: (type(value)() if key in seen else value) for key, value in head.items()}
        if shape_problem({**checked, "results": []}) or depth(checked) > MAX_DEPTH:
            raise NotTaken
        self.heads.update(fresh)  # kept only once its head passed
        return head

    def _row(self, index: int, body: bytes) -> dict[str, Any]:
        # as this version writes rows: the line ends with its timings (both, or the wall time alone: a wire row),
        # so the text before them is the key
        at = body.rfind(b',"elapsed_ns":', _TAIL_WINDOW)
        tail = _TAIL.fullmatch(body, at) if at > 0 else None
        if tail is not None:
            kept, names = self.tailed, _BOTH
        else:
            at = body.rfind(b',"duration_ms":', _TAIL_WINDOW)
            tail = _MS_TAIL.fullmatch(body, at) if at > 0 else None
            kept, names = self.ms_tailed, _MS_ONLY
        if tail is not None:
            key = body[:at]
            shared = kept.get(key)
            if shared is None:
                return self._first(index, body, key, None, kept)
            row = shared.copy()
            for n, name in names:
                row[name] = _number(tail.group(n))
            return row
        if b"\0" in body:
            raise NotTaken  # (not JSON; and the key below joins the text's parts with NUL)
        found = _timings_anywhere(body)  # (the timings are not at the end: a file of an earlier version)
        parts, position = [], 0
        for begin, end, _ in found:
            parts.append(body[position:begin])
            position = end
        parts.append(body[position:])
        key = b"\0".join(parts)  # the row's text without its timing values
        shared = self.parsed.get(key)
        if shared is None:
            return self._first(index, body, key, found, self.parsed)
        row = shared.copy()
        for begin, end, name in found:
            row[name] = _number(body[begin:end])
        return row

    def _first(self, index: int, body: bytes, key: bytes, found: list[tuple[int, int, str]] | None,
               kept: dict[bytes, dict[str, Any]]) -> dict[str, Any]:
        """A row not seen before: parsed and checked; kept for its like when the timing values cut out of its
        text are its own. `found`: where they lie, when elsewhere than at the end (each must be named once in
        the text, at the top level); None: the line ends with them, so they are the object's last members, the
        values a parser keeps (json and orjson keep a name's last value)."""
        if b"\\u" in body and (b"\\ud" in body or b"\\uD" in body) and ESCAPED_SURROGATE_BYTES.search(body):
            raise NotTaken
        # parsed by orjson (four times quicker than json), which refuses what json with the hooks refuses (a
        # number too large for a float, NaN, text that is not UTF-8) -- a refusal leaves the file to the careful
        # reader either way -- but reads an integer past 64 bits as a float: a row with 19 digits in a row is json's
        row = orjson.loads(body) if _LONG_DIGITS not in body.translate(_DIGITS_ONLY) else _ROW_DECODER.decode(body.decode("utf-8"))
        # nesting: a row with fewer brackets than the limit cannot nest deeper (brackets in texts count too)
        if row_problem(index, row) or (body.count(b"{") + body.count(b"[") > MAX_DEPTH - 2 and depth(row) > MAX_DEPTH - 2):
            raise NotTaken
        if found is None or all(body.count(_NAMED[name]) == 1 and name in row
                                and row[name] == _number(body[begin:end]) for begin, end, name in found):
            kept[key] = row
            return row.copy()
        return row


def _timings_anywhere(body: bytes) -> list[tuple[int, int, str]]:
    """The timing values of a row whose line holds them elsewhere (files of earlier versions), or none."""
    found = []
    for name, key in TIMINGS:
        at = body.rfind(key)
        if at >= 0:
            match = _NUMBER_TEXT.match(body, at + len(key))
            if match is None:
                raise NotTaken
            found.append((match.start(), match.end(), name))
    return sorted(found)


def _number(text: bytes) -> int | float:
    """A timing's JSON number, as json.loads reads it (int unless it has a fraction or an exponent)."""
    value: int | float = float(text) if (b"." in text or b"e" in text or b"E" in text) else int(text)
    if not abs(value) <= MAX_NUMBER:  # also NaN
        raise NotTaken
    return value
