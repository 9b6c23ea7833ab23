"""Merge several results.json files into one (`sigharness report A.json B.json ...`). The inputs' rows
are taken over (renamed in place), so merge them once.

One column per adapter and library version: when the same adapter appears with several library versions
(botocore 1.31 in one run, 1.35 in another), each becomes its own column keyed `name@version`; an adapter
with one version across the inputs keeps its plain name. When two inputs hold the same check for the same
column, the later input wins.
"""

from __future__ import annotations

import os
import platform
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import harness
from harness.report.text import SHORTENED, tokens_shortened
from harness.redaction import Sink, utf8
from harness.results import (FORMAT, VERSION, adapter_prefix, check_key, check_prefix, encode_row, paused_gc, read_results,
                             row_spans, write_results)
from harness.results_lines import RowReader


def column_keys(inputs: list[dict[str, Any]]) -> list[dict[str, str]]:
    """For each input, {adapter name in that input: column key in the merged result}."""
    versions: dict[str, set[str]] = {}
    for data in inputs:
        for name, info in (data.get("adapters") or {}).items():
            base = info.get("name") or name
            if info.get("available", True) is not False and info.get("library_version"):
                versions.setdefault(base, set()).add(str(info["library_version"]))
    mapping = []
    for data in inputs:
        keys = {}
        for name, info in (data.get("adapters") or {}).items():
            base = info.get("name") or name
            version = info.get("library_version")
            if len(versions.get(base, ())) > 1 and version and info.get("available", True) is not False:
                keys[name] = f"{base}@{version}"
            elif len(versions.get(base, ())) > 1:
                keys[name] = f"{base}@unavailable"
            else:
                keys[name] = base
        for name in {row["adapter"] for row in data.get("results") or []} - keys.keys():
            keys[name] = name
        mapping.append(keys)
    return mapping


@dataclass
class Origins:
    """Where each merged row came from: (input, its place in that input's rows, its name there), for the rows
    taken over unchanged apart from their column key, so `write_merged` can copy their text."""

    inputs: list[tuple[str, int, Any]] = field(default_factory=list)  # (path, rows, format version) per input
    # per merged row, in the merged order: (the row, input, index, adapter there), or None for a row changed by
    # the merge (the row is kept to know it again: a row replaced since, by another object, is encoded)
    placed: list[tuple[dict[str, Any], int, int, str] | None] = field(default_factory=list)
    # per input, where each row's text lies (results.read_results found it while reading); else found again
    spans: list[list[tuple[int, int]] | None] = field(default_factory=list)


def merge(inputs: list[tuple[str, dict[str, Any]]], origins: Origins | None = None) -> dict[str, Any]:
    """One results structure from several (path, data) pairs, in the results.json format plus `manifest.merged`.
    With `origins`, it records where each row came from (for `write_merged`)."""
    with paused_gc():
        return _merge(inputs, origins)


def write_merged(out_dir: Path, data: dict[str, Any], origins: Origins, sink: Sink) -> Path:
    """The merged results.json, the same text `results.dumps(data)` gives, its rows' lines from `merged_lines`."""
    return write_results(Path(out_dir), data, sink, rows_chunks=merged_lines(data.get("results") or [], origins))


def merged_lines(rows: list[dict[str, Any]], origins: Origins, start: int = 0) -> list[bytes]:
    """The lines of some of the merged rows (those from place `start` on), in pieces (as `results.pieces` takes
    them): each row taken over unchanged copied from its input's file (its column key put in) instead of
    encoded again -- a merge of eight full runs writes ~130 MB, and encoding it cost more than reading the
    inputs. A row that changed, or an input laid out otherwise, is encoded."""
    known = origins.spans + [None] * (len(origins.inputs) - len(origins.spans))
    spans = [found if found is not None and len(found) == n else row_spans(Path(p), n) if v == VERSION else None
             for (p, n, v), found in zip(origins.inputs, known)]
    with ExitStack() as stack:
        files = [_Blocks(stack.enter_context(open(p, "rb")).fileno()) if s else None for (p, _, _), s in zip(origins.inputs, spans)]
        return list(_copied_rows(rows, origins.placed[start:start + len(rows)], spans, files))


def read_inputs(paths: list[Path], reader: RowReader) -> tuple[list[tuple[str, dict[str, Any]]], Origins]:
    """The inputs of a merge read with one RowReader, as (path, data), and where their rows' text lies; a file
    that cannot be read is one ValueError naming it."""
    inputs = []
    origins = Origins()
    for path in paths:
        try:
            data, spans = read_results(path, reader)
        except FileNotFoundError:
            raise ValueError(f"{path}: no such file") from None
        except OSError as exc:
            raise ValueError(f"{path}: cannot read it ({exc.strerror or type(exc).__name__})") from None
        inputs.append((str(path), data))
        origins.spans.append(spans)
    return inputs, origins


_ROWS_PER_CHUNK = 2000


def _copied_rows(rows: list[dict[str, Any]], placed: list[tuple[dict[str, Any], int, int, str] | None],
                 spans: list[list[tuple[int, int]] | None], files: list["_Blocks | None"]) -> Iterator[bytes]:
    """The rows' lines, _ROWS_PER_CHUNK at a time (one loop per chunk: a generator step per row cost more than
    the copying)."""
    # how a check's lines start (the same in every column; the rows come one check after the other), and
    # per input and adapter name there: (the column, the name's text in a line, the column's)
    case = mode = check = None
    skip = 0
    renamed: list[dict[str, tuple[str, bytes, bytes]]] = [{} for _ in files]
    placed = placed + [None] * (len(rows) - len(placed))
    for start in range(0, len(rows), _ROWS_PER_CHUNK):
        # the pieces of the chunk's lines, each row's rest of line a view of the block it lies in: copied once, by
        # the join
        parts: list[bytes | memoryview] = []
        add = parts.append
        between = b""
        for row, where in zip(rows[start:start + _ROWS_PER_CHUNK], placed[start:start + _ROWS_PER_CHUNK]):
            add(between)
            between = b",\n"
            if where is not None and where[0] is row:
                _, source, index, name = where
                blocks = files[source]
                if blocks is not None:
                    offset, length = spans[source][index]  # type: ignore[index]
                    if row["case"] != case or row["mode"] != mode:
                        case, mode = row["case"], row["mode"]
                        check = check_prefix(case, mode).encode("utf-8")
                        skip = len(check)
                    column = row["adapter"]
                    texts = renamed[source].get(name)
                    if texts is None or texts[0] != column:
                        texts = renamed[source][name] = (column, adapter_prefix(name).encode("utf-8"),
                                                         adapter_prefix(column).encode("utf-8"))
                    before = texts[1]
                    # the line where it lies in the block read (the block read before, mostly), compared and cut there
                    at = offset - blocks.start
                    if at < 0 or offset + length > blocks.end:
                        at = blocks.at(offset, length)
                    block = blocks.block
                    if (at + length <= len(block) and block.startswith(check, at)  # type: ignore[arg-type]
                            and block.startswith(before, at + skip)):
                        add(check)  # type: ignore[arg-type]
                        add(texts[2])
                        add(blocks.view[at + skip + len(before):at + length])
                        continue
            add(utf8(encode_row(row)))
        yield b"".join(parts)


class _Blocks:
    """An input file read in blocks as a merge asks for its rows' lines: nearly in the file's order (one
    check after the other; within a check, the columns' order may step back a little), so a block read a
    little before the line asked for holds most of the next ones. A line past the block is read alone."""

    SIZE = 1 << 22  # bytes per block (a mapped file would count as this process's memory)
    BACK = 1 << 18  # ... of them before the line that made it read

    def __init__(self, fd: int):
        self.fd = fd
        self.start = self.end = 0
        self.block = b""
        self.view = memoryview(self.block)

    def at(self, offset: int, length: int) -> int:
        """Where the line at `offset` starts in `block`, read first unless the block holds it: a block from a
        little before it, or the line alone when it is longer than a block."""
        at = offset - self.start
        if at >= 0 and offset + length <= self.end:
            return at
        if length > self.SIZE - self.BACK:
            self.start, self.block = offset, os.pread(self.fd, length, offset)
        else:
            self.start = max(0, offset - self.BACK)
            self.block = os.pread(self.fd, self.SIZE, self.start)
        self.end = self.start + len(self.block)
        self.view = memoryview(self.block)
        return offset - self.start

    def read(self, offset: int, length: int) -> bytes:
        """The line at `offset`."""
        at = self.at(offset, length)
        return self.block[at:at + length]


def _merge(inputs: list[tuple[str, dict[str, Any]]], origins: Origins | None = None) -> dict[str, Any]:
    datas = [d for _, d in inputs]
    mapping = column_keys(datas)
    adapters: dict[str, dict[str, Any]] = {}
    cases: dict[str, dict[str, Any]] = {}
    by_check: dict[tuple[str, str], dict[str, tuple[Any, ...]]] = {}  # (case, mode) -> {column: (row, its origin)}
    checks: dict[str, dict[str, Any]] = {}
    checks_merged: list[dict[str, Any]] = []  # the inputs' checks objects merged so far
    case_errors: list[str] = []
    merged_runs = []
    sources: list[dict[str, Any]] = []
    bench: dict[str, Any] = {}
    for index, ((path, data), keys) in enumerate(zip(inputs, mapping)):
        manifest = data.get("manifest") or {}
        merged_runs.append({"path": str(path), "manifest": manifest})
        for source in manifest.get("case_sources") or []:
            if source not in sources:
                sources.append(source)
        for name, info in (data.get("adapters") or {}).items():
            key = keys[name]
            previous = adapters.get(key)
            if previous is not None and previous.get("available", True) is not False and info.get("available", True) is False:
                continue  # an unavailable record never hides a run that had the adapter
            adapters[key] = {**info, "name": info.get("name") or name, "key": key, "run": index}
        cases.update(data.get("cases") or {})
        own = data.get("checks") or {}
        differing: set[str] = set()
        if not any(own is other for other in checks_merged):  # (inputs read by one RowReader share an equal text's value)
            checks_merged.append(own)
            for check, entry in own.items():
                checks.setdefault(check, entry)
            differing = {k for k, entry in own.items() if checks[k] is not entry and checks[k].get("expected") != entry.get("expected")}
        if origins is not None:
            origins.inputs.append((str(path), len(data.get("results") or []), data.get("version")))
        case = mode = None
        check_rows: dict[str, tuple[Any, ...]] = {}
        for place, row in enumerate(data.get("results") or []):  # rows are taken over, not copied: one copy of ~100,000 rows is enough
            name = row["adapter"]
            key = keys.get(name, name)
            row["adapter"] = key
            changed = False
            if differing:
                check = check_key(row["case"], row["mode"])
                if check in differing:
                    row["expected"] = own[check].get("expected")  # judged against another expectation
                    changed = True
            if row["case"] != case or row["mode"] != mode:  # (a check's rows mostly follow each other)
                case, mode = row["case"], row["mode"]
                check_rows = by_check.get((case, mode))  # type: ignore[arg-type, assignment]
                if check_rows is None:
                    check_rows = by_check[(case, mode)] = {}  # type: ignore[index]
            check_rows[key] = (row, None if changed else (row, index, place, name))
        for line in data.get("case_errors") or []:
            if line not in case_errors:
                case_errors.append(line)
        for name, value in (data.get("bench") or {}).items():
            bench[keys.get(name, name)] = value
    # ordered by case, mode and column (grouped by check first: sorting ~100,000 rows by a key of three texts cost
    # more than the rest of the merge); each row with where it came from
    ordered = [check_rows[key] for _, check_rows in sorted(by_check.items()) for key in sorted(check_rows)]
    if origins is not None:
        origins.placed = [where for _, where in ordered]
    out: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "manifest": {
            "harness_version": harness.__version__,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "platform": platform.platform(), "python": platform.python_version(), "machine": platform.machine(),
            "case_sources": sources,
            "merged": merged_runs,
            # the token pass is skipped only when every input's tokens are shortened already
            **({"session_tokens": SHORTENED} if datas and all(tokens_shortened(d) for d in datas) else {}),
        },
        "adapters": dict(sorted(adapters.items())),
        "cases": cases,
        "checks": checks,
        "case_errors": case_errors,
        "results": [row for row, _ in ordered],
    }
    if bench:
        out["bench"] = bench
    return out


def expand_inputs(paths: list[str]) -> tuple[list[Path], bool]:
    """(results files, merging?). A file is itself; a folder means its results.json, or every */results.json
    one level under it (a folder of runs). Merging when there is more than one input or a folder of runs:
    the merged report then goes to --out, never into the run folders found."""
    found: list[Path] = []
    merging = len(paths) > 1
    for name in paths:
        path = Path(name)
        if path.is_dir():
            if (path / "results.json").is_file():
                found.append(path / "results.json")
            else:
                runs = sorted(p for p in path.glob("*/results.json") if p.is_file())
                if not runs:
                    raise ValueError(f"{path}: no results.json in it or in its subfolders (name a run folder or a results file)")
                found += runs
                merging = True
        else:
            found.append(path)
    return found, merging
