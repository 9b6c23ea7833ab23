"""The one result model: results.jsonl written as checks finish, results.json at the end.

results.json = {"format": "sigharness-results", "version": 1, "manifest": {...},
                "adapters": {name: {...}}, "cases": {id: {...}}, "results": [row, ...]}
See docs/results.md.
"""

from __future__ import annotations

import json
import os
import platform
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import harness
from harness.model import Case

FORMAT = "sigharness-results"
VERSION = 1
JOURNAL = "results.jsonl"
RESULTS = "results.json"
RUN_SETTINGS = "run.json"


def row_key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (row["case"], row["mode"], row["adapter"])


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


def write_results(out_dir: Path, data: dict[str, Any], redact: Redactor) -> Path:
    path = out_dir / RESULTS
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(redact.text(json.dumps(data, ensure_ascii=False, indent=1)), encoding="utf-8")
    tmp.replace(path)
    return path


def load_results(path: Path) -> dict[str, Any]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a sigharness results file")
    return data
