"""The one result model: results.jsonl written as checks finish, results.json at the end.

results.json = {"format": "sigharness-results", "version": 2, "manifest": {...},
                "adapters": {name: {...}}, "cases": {id: {...}},
                "checks": {"<case>|<mode>": {"expected": {stage: text}, "source": ...}},
                "results": [row, ...]}
Each expectation is stored once per check (in `checks`); a row keeps a stage's actual text only where
it differs from the expectation. `expanded(data, row)` gives a row with every text back (and the
diffs), which is what the report's drill-down and JUnit show. Files of version 1 still load: they are
converted in memory. See docs/results.md.
"""

from __future__ import annotations

import functools
import gc
import json
import math
import os
import re
import platform
from itertools import accumulate
from json.encoder import encode_basestring
import threading
from datetime import datetime, timezone
from pathlib import Path
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Iterable, Iterator, TextIO

import harness
from harness.redaction import Redactor, Sink, json_safe  # noqa: F401  Redactor: the one redaction layer
from harness.results_lines import (BIG_EXPONENT, ESCAPED_SURROGATE, ESCAPED_SURROGATE_BYTES, Cut, OutOfOrder, RowReader, finite,
                                   no_constant)
from harness.results_shape import MAX_DEPTH, MAX_NUMBER, shape_problem  # noqa: F401  (read here, used by readers)

if TYPE_CHECKING:
    from harness.model import Case

FORMAT = "sigharness-results"
VERSION = 2
JOURNAL = "results.jsonl"
RESULTS = "results.json"
RUN_SETTINGS = "run.json"


def row_key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (row["case"], row["mode"], row["adapter"])


def check_key(case: str, mode: str) -> str:
    """A check's key in `checks` (and in history files): case id and mode."""
    return f"{case}|{mode}"


def split_check_key(key: str) -> tuple[str, str]:
    case, _, mode = key.rpartition("|")
    return case, mode


@dataclass
class ResultRow:
    """One verdict: a case, in one mode, through one adapter (docs/results.md, "results")."""

    case: str
    mode: str
    adapter: str
    status: str
    reason: str = ""
    stage: str | None = None
    stages: dict[str, dict[str, Any]] | None = None  # compact: `actual` only where it differs
    verification: dict[str, Any] | None = None
    signed: dict[str, Any] | None = None
    declared: bool = False  # unsupported because the adapter declares it cannot (no message sent)
    opinions: dict[str, dict[str, str]] | None = None  # oracle name -> {"verdict", "reason"} (harness/oracles.py)
    oracles_disagree: list[dict[str, Any]] | None = None  # oracles whose accept/reject differs from ours
    wire: dict[str, Any] | None = None  # an ADAPTER+CLIENT row: client, signer verdict, differences, received (harness/wire/sent.py)
    decided_by: dict[str, Any] | None = None  # fail/variant: the rule (harness/provenance.py) and the oracles on each side
    # last in a row's line: what differs between two runs of the same check (harness/results_lines.py)
    elapsed_ns: int | None = None  # time the adapter reports inside the library
    duration_ms: float | None = None  # wall time of the check, as the harness saw it

    @classmethod
    def of(cls, case: str, mode: str, adapter: str, judged: dict[str, Any], algorithm: str | None = None) -> "ResultRow":
        known = {f.name for f in fields(cls)} - {"case", "mode", "adapter", "stages", "verification", "oracles_disagree"}
        return cls(case, mode, adapter, stages=compact_stages(judged.get("stages"), algorithm),
                   verification=compact_verification(judged.get("verification")),
                   oracles_disagree=compact_disagreements(judged.get("oracles_disagree")),
                   **{k: v for k, v in judged.items() if k in known})

    def to_json(self) -> dict[str, Any]:
        """The row as results.json holds it: empty fields left out, but for the status and the reason (every row
        has both: readers take them as given). Its values are the judged row's own (a row's nested values are
        JSON data already: not copied again, 0.6 ms a row with `asdict`)."""
        return {k: v for k in _ROW_FIELDS if (v := getattr(self, k)) not in (None, False, "", {}, []) or k in ("status", "reason")}


_ROW_FIELDS = tuple(f.name for f in fields(ResultRow))


SPEC_RULES = "spec"  # a verification's `rules` when no open choice was taken: left out of results.json, read as this


def compact_verification(verification: dict[str, Any] | None) -> dict[str, Any] | None:
    """The verifier's answer without an empty reason (an accepted request has none) and without `rules` when they
    are the specification's (a missing one reads as "spec")."""
    if not verification:
        return verification
    return {k: v for k, v in verification.items() if not (k == "reason" and not v or k == "rules" and v == SPEC_RULES)}


def compact_disagreements(flags: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Each disagreeing oracle's name and the reviewed entry that covers it (or null: to triage). Its verdict
    and reason are the row's `opinions`, and ours is `verification.valid`: a row does not repeat them."""
    if not flags:
        return None
    return [{"oracle": f["oracle"], "known": f.get("known")} for f in flags]


def compact_stages(stages: dict[str, dict[str, Any]] | None, algorithm: str | None = None) -> dict[str, dict[str, Any]] | None:
    """A row's stages without what can be derived: no expected text and no diff (`checks` holds the
    expectation), no actual text where it equals the expectation, `compared` only when false, and the
    note of an uncompared stage only when it is not the usual one."""
    from harness.judgement import uncompared_note

    if not stages:
        return None
    out = {}
    for name, entry in stages.items():
        kept = {k: v for k, v in entry.items() if k not in ("expected", "diff") and v is not None}
        if entry.get("equal") is True:
            kept.pop("actual", None)
        if "equal" in kept and kept.get("compared") is True:
            kept.pop("compared")
        if kept.get("compared") is False and kept.get("note") == uncompared_note(name, algorithm, entry.get("actual")):
            kept.pop("note")
        out[name] = kept
    return out


def expanded(data: dict[str, Any], row: dict[str, Any], diffs: bool = True) -> dict[str, Any]:
    """The row with every stage's expected and actual text and (with `diffs`) the unified diff of the ones
    that differ (the report's page shows expected and actual side by side and needs no diff)."""
    from harness.judgement import uncompared_note

    if not row.get("stages"):
        return row
    check = (data.get("checks") or {}).get(check_key(row["case"], row["mode"])) or {}
    expected = row.get("expected") or check.get("expected") or {}
    algorithm = ((data.get("cases") or {}).get(row["case"]) or {}).get("algorithm")
    stages = {}
    for name, entry in row["stages"].items():
        full = dict(entry)
        full.setdefault("compared", "equal" in entry)
        if full["compared"] is False:
            full.setdefault("note", uncompared_note(name, algorithm, entry.get("actual")))
        full.setdefault("expected", expected.get(name))  # a row written in full (version 1) keeps its own
        if entry.get("equal") is True:
            full.setdefault("actual", full["expected"])
        elif diffs and entry.get("equal") is False and "diff" not in full and full["expected"] is not None \
                and full.get("actual") is not None:
            full["line"], full["diff"] = _first_difference(full["expected"], full["actual"])
        stages[name] = full
    return {**row, "stages": stages, "expected_source": row.get("expected_source") or check.get("source")}


@functools.lru_cache(maxsize=1024)
def _first_difference(expected: str, actual: str) -> tuple[int, str]:
    """compare.first_difference, once per pair of texts: the columns of a merged report (one adapter at
    several versions) mostly fail with the same text."""
    from harness.judgement import first_difference  # (not through harness.compare: it loads every surface's judge)

    return first_difference(expected, actual)


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A results document of format version 1 (every expectation repeated in every row) as version 2."""
    checks: dict[str, dict[str, Any]] = {}
    rows = []
    for row in data.get("results") or []:
        key = check_key(row["case"], row["mode"])
        stages = row.get("stages") or {}
        expected = {n: e.get("expected") for n, e in stages.items() if isinstance(e, dict) and e.get("expected") is not None}
        if key not in checks or (expected and not checks[key]["expected"]):
            checks[key] = {"expected": expected, "source": row.get("expected_source")}
        new = {k: v for k, v in row.items() if k not in ("stages", "expected_source")}
        if stages:
            new["stages"] = compact_stages(stages, ((data.get("cases") or {}).get(row["case"]) or {}).get("algorithm"))
            if expected and expected != checks[key]["expected"]:
                new["expected"] = expected  # this row was judged against another expectation
        rows.append(new)
    return {**data, "version": VERSION, "checks": checks, "results": rows}


class Journal:
    """Append-only results.jsonl: every finished check is on disk before the next one starts. Every line
    goes through the run's Sink (redacted, JSON-safe)."""

    def __init__(self, path: Path, sink: "Sink | Redactor | None" = None):
        self.path = path
        self.sink = sink if isinstance(sink, Sink) else Sink(sink or Redactor())
        self._lock = threading.Lock()
        if path.exists():
            drop_partial_line(path)
        self._file = open(path, "a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        line = self.sink.json_line(record)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()


def drop_partial_line(path: Path) -> int:
    """Cut a last line that a kill left without its newline (it is never kept, never glued to the next
    record). Returns the number of bytes removed."""
    with open(path, "rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return 0
        keep, pos = 0, size
        while pos > 0:
            start = max(0, pos - (1 << 16))
            handle.seek(start)
            cut = handle.read(pos - start).rfind(b"\n")
            if cut >= 0:
                keep = start + cut + 1
                break
            pos = start
        handle.truncate(keep)
        return size - keep


def read_journal(path: Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Rows and adapter records already written. A last line cut short by a kill, a line that is not JSON
    and a record without its keys are skipped (never kept); a later row for the same check replaces an
    earlier one, so no check is counted twice."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    adapters: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return [], adapters
    with open(path, "rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                continue  # cut short by a kill: dropped (Journal() removes it before appending)
            try:
                record = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                continue
            if not isinstance(record, dict):
                continue
            if record.get("type") == "adapter" and isinstance(record.get("name"), str):
                adapters[record["name"]] = record
            elif record.get("type") == "result" and all(isinstance(record.get(k), str) for k in ("case", "mode", "adapter", "status")):
                rows[row_key(record)] = record
    return list(rows.values()), adapters


def case_summary(case: Case) -> dict[str, Any]:
    """What the report needs to know about a case (no secret key)."""
    ctx = case.context
    return {
        "title": case.title,
        "origin": case.origin,
        "tags": list(case.tags),
        "note": case.flags.get("note", ""),
        "refs": list(case.flags.get("refs", []) or []),
        "divergence": case.flags.get("divergence"),
        "open_choices": list(case.open_choices),
        "refusal_ok": bool(case.flags.get("refusal_ok")),
        "expect_error": case.expect_error,
        "source": f"{case.source.file}:{case.source.line}",
        "surface": case.surface,
        "algorithm": ctx.algorithm,
        "service": ctx.service,
        "region": ctx.region,
        "region_set": list(ctx.region_set),
        "modes": list(case.modes),
        "session_token": bool(ctx.session_token),
        "request": {
            "method": case.request.method,
            "url": case.request.url,
            "headers": [list(h) for h in case.request.headers],
            "body_bytes": len(case.request.body),
        },
    }


def manifest(sources: list[dict[str, str]], settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "harness_version": harness.__version__,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "case_sources": sources,
        "settings": settings,
    }


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while results are loaded, merged or rendered: JSON holds no cycles, and
    each collection would walk every one of the millions of objects of ~100,000 rows (most of the time
    of a merge went there)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def head_text(data: dict[str, Any]) -> str:
    """results.json's first line: everything but the rows."""
    head = {k: v for k, v in data.items() if k != "results"}
    return json.dumps(head, ensure_ascii=False, separators=(",", ":"), allow_nan=False)[:-1] + ',\n"results":[\n'


def pieces(data: dict[str, Any], rows_per_chunk: int = 2000, rows_chunks: Iterable[bytes] | None = None) -> Iterator[str | bytes]:
    """results.json in pieces of `rows_per_chunk` rows. `rows_chunks`, when given, is the rows' text instead,
    in UTF-8: consecutive pieces, each the lines of some rows joined by ",\\n" (a merge copies rows from its
    inputs' files rather than encoding them again)."""
    yield head_text(data)
    # NaN and Infinity never reach a file: a Sink's json_safe has turned them into null already, and
    # anything that slipped past raises here rather than write invalid JSON.
    rows = data.get("results") or []
    if rows_chunks is None:
        texts = map(encode_row, rows)
        for start in range(0, len(rows), rows_per_chunk):
            yield ("" if start == 0 else ",\n") + ",\n".join(next(texts) for _ in range(min(rows_per_chunk, len(rows) - start)))
    else:
        between = b""
        for chunk in rows_chunks:  # (a chunk may be tens of MB: the separator goes on its own, the chunk is not copied)
            yield between
            yield chunk
            between = b",\n"
    yield "\n]}\n"


def row_spans(path: Path, count: int) -> list[tuple[int, int]] | None:
    """Where each of the file's `count` rows lies, as (byte offset, length): results.json as `dumps` writes
    it, the head on the first line and then one row per line. None for a file laid out otherwise (written
    by hand, or by another tool): its rows are then encoded again when they are copied."""
    raw = Path(path).read_bytes()
    if ESCAPED_SURROGATE_BYTES.search(raw):
        return None  # load_results changed those rows (json_safe): copied, they would differ from the data
    start = raw.find(b'\n"results":[\n')
    if start < 0:
        return None
    start += len(b'\n"results":[\n')
    lines = raw[start:].split(b"\n")
    if len(lines) < count + 1:
        return None
    rows = lines[:count]
    if lines[count].strip() not in (b"]}", b"") or not all(line.startswith(b"{") for line in rows):
        return None
    if count and rows[-1].endswith(b","):
        return None  # every row but the last ends with the comma that joins it to the next
    lengths = list(map(len, rows))
    offsets = list(accumulate(map((1).__add__, lengths[:-1]), initial=start))
    lengths = [n - 1 for n in lengths]  # the comma
    if count:
        lengths[-1] += 1
    return list(zip(offsets, lengths))


encode_row = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode  # a row, as `dumps` writes it


_quoted = functools.lru_cache(maxsize=65536)(encode_basestring)  # a JSON string as `dumps` writes it (ensure_ascii=False)


def row_prefix(case: str, mode: str, adapter: str) -> str:
    """How a row's line starts in results.json (ResultRow's first three fields, as `dumps` encodes them):
    check_prefix + adapter_prefix."""
    return check_prefix(case, mode) + adapter_prefix(adapter)


def check_prefix(case: str, mode: str) -> str:
    return f'{{"case":{_quoted(case)},"mode":{_quoted(mode)}'


def adapter_prefix(adapter: str) -> str:
    return f',"adapter":{_quoted(adapter)}'


def dumps(data: dict[str, Any]) -> str:
    """results.json text: one line per row (readable, diffable) without the indentation of every key."""
    return "".join(pieces(data))


def dump(data: dict[str, Any], handle: TextIO) -> None:
    """The text of `dumps` written row by row (a merged file of ~100,000 rows is never one string)."""
    for chunk in pieces(data):
        handle.write(chunk)


def write_results(out_dir: Path, data: dict[str, Any], sink: "Sink | Redactor | None" = None,
                  rows_chunks: Iterable[bytes] | None = None) -> Path:
    """results.json, through the run's Sink (redacted, JSON-safe), replaced atomically; `rows_chunks` as in
    `pieces` (a merge's rows copied from its inputs)."""
    sink = sink if isinstance(sink, Sink) else Sink(sink or Redactor())
    return sink.write_pieces(Path(out_dir) / RESULTS, pieces(sink.clean(data), rows_chunks=rows_chunks))


def load_results(path: Path, reader: RowReader | None = None) -> dict[str, Any]:
    """A results.json of any known version, as the current version. Anything else -- not UTF-8, not JSON,
    NaN or Infinity, or a document of the wrong shape -- is one ValueError naming the file and the first
    problem (the shape is the one results.schema.json describes). `reader`: one RowReader for all the
    files of a merge (rows the same apart from their timings are parsed once)."""
    return read_results(path, reader)[0]


def read_results(path: Path, reader: RowReader | None = None) -> tuple[dict[str, Any], list[tuple[int, int]] | None]:
    """`load_results`, and where each row's text lies in the file (byte offset, length) when it is laid out
    as `dumps` writes it (None otherwise): a merge copies unchanged rows' text from there."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise ValueError(f"{path}: is a folder, not a results file") from None
    with paused_gc():
        quick = (reader or RowReader()).read(raw)
    if quick is not None:
        return quick
    data = _careful(path, raw)
    if reader is not None and reader.keep is not None:
        rows = data["results"]
        if isinstance(reader.keep, Cut):
            _in_order(path, rows, reader.keep)
        data["results"] = [row for row in rows if reader.keep(row["case"])]
    return data, None


def _in_order(path: Path, rows: list[dict[str, Any]], cut: Cut) -> None:
    """A file read the careful way, whose rows the other side of `cut` may have read from where the pivot's
    first row starts (results_lines.Cut): OutOfOrder unless every row before that one is before the pivot and
    every one from it on is not."""
    first = next((at for at, row in enumerate(rows) if row["case"] == cut.pivot), None)
    if first is not None and not (all(row["case"] < cut.pivot for row in rows[:first])
                                  and all(row["case"] >= cut.pivot for row in rows[first:])):
        raise OutOfOrder(f"{path}: its rows are not in case order around {cut.pivot!r}")


def _careful(path: Path, raw: bytes) -> dict[str, Any]:
    """The whole document parsed and checked at once: every other layout, version 1, and the files the
    quick reader leaves (this one names the problem)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 (byte {exc.start})") from None
    del raw
    try:
        with paused_gc():
            # a number too large for a float (1e999) is found by the hook; the hook costs a Python call per
            # number, so only a text that may hold one (an exponent of three digits or more) pays for it
            hook = finite if BIG_EXPONENT.search(text) else None
            data = json.loads(text, parse_constant=no_constant, parse_float=hook)
    except RecursionError:
        raise ValueError(f"{path}: nested too deeply to be a results file") from None
    except ValueError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a sigharness results file (no \"format\": \"{FORMAT}\")")
    version = data.get("version")
    if version not in (1, VERSION) or isinstance(version, bool):
        raise ValueError(f"{path}: results format version {version!r}; this sigharness reads versions 1 and {VERSION} "
                         f"(upgrade sigharness to read it)")
    problem = shape_problem(data)
    if problem:
        raise ValueError(f"{path}: {problem}")
    if ESCAPED_SURROGATE.search(text):
        data = json_safe(data)  # a lone surrogate is kept as the text \\udXXX, so every output can print it
    return upgrade(data) if version == 1 else data


SCHEMA = Path(__file__).with_name("results.schema.json")
