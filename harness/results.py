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
import os
import platform
import threading
from datetime import datetime, timezone
from pathlib import Path
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from typing import Any, Iterable, Iterator, TextIO

import harness
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
    elapsed_ns: int | None = None  # time the adapter reports inside the library
    duration_ms: float | None = None  # wall time of the check, as the harness saw it

    @classmethod
    def of(cls, case: str, mode: str, adapter: str, judged: dict[str, Any], algorithm: str | None = None) -> "ResultRow":
        known = {f.name for f in fields(cls)} - {"case", "mode", "adapter", "stages"}
        return cls(case, mode, adapter, stages=compact_stages(judged.get("stages"), algorithm),
                   **{k: v for k, v in judged.items() if k in known})

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, False, "") or k in ("status", "reason")}


def compact_stages(stages: dict[str, dict[str, Any]] | None, algorithm: str | None = None) -> dict[str, dict[str, Any]] | None:
    """A row's stages without what can be derived: no expected text and no diff (`checks` holds the
    expectation), no actual text where it equals the expectation, `compared` only when false, and the
    note of an uncompared stage only when it is not the usual one."""
    from harness.compare import uncompared_note

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
    from harness.compare import uncompared_note

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
    from harness.compare import first_difference

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
    """Append-only results.jsonl: every finished check is on disk before the next one starts."""

    def __init__(self, path: Path, redact: "Redactor"):
        self.path = path
        self.redact = redact
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        line = self.redact.text(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()


def read_journal(path: Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Rows and adapter records already written (a last line cut short by a kill is ignored)."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    adapters: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return [], adapters
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("type") == "adapter":
                adapters[record["name"]] = record
            elif record.get("type") == "result":
                rows[row_key(record)] = record
    return list(rows.values()), adapters


class Redactor:
    """Removes every secret access key the run knows of from text that leaves the harness."""

    def __init__(self, secrets: Iterable[str]):
        self.secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, "<secret redacted>")
            escaped = json.dumps(secret)[1:-1]
            if escaped != secret and escaped in value:
                value = value.replace(escaped, "<secret redacted>")
        return value


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


def _chunks(data: dict[str, Any], rows_per_chunk: int = 2000) -> Iterator[str]:
    head = {k: v for k, v in data.items() if k != "results"}
    yield json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1] + ',\n"results":[\n'
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    rows = data.get("results") or []
    for start in range(0, len(rows), rows_per_chunk):
        yield ("" if start == 0 else ",\n") + ",\n".join(map(encode, rows[start:start + rows_per_chunk]))
    yield "\n]}\n"


def dumps(data: dict[str, Any]) -> str:
    """results.json text: one line per row (readable, diffable) without the indentation of every key."""
    return "".join(_chunks(data))


def dump(data: dict[str, Any], handle: TextIO) -> None:
    """The text of `dumps` written row by row (a merged file of ~100,000 rows is never one string)."""
    for chunk in _chunks(data):
        handle.write(chunk)


def write_results(out_dir: Path, data: dict[str, Any], redact: Redactor) -> Path:
    path = out_dir / RESULTS
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(redact.text(dumps(data)), encoding="utf-8")
    tmp.replace(path)
    return path


def load_results(path: Path) -> dict[str, Any]:
    """A results.json of any known version, as the current version."""
    with paused_gc():
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a sigharness results file")
    version = data.get("version")
    if version == 1:
        return upgrade(data)
    if version != VERSION:
        raise ValueError(f"{path}: results format version {version!r}; this sigharness reads versions 1 and {VERSION} "
                         f"(upgrade sigharness to read it)")
    return data
