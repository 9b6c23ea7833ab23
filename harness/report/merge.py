"""Merge several results.json files into one (`sigharness report A.json B.json ...`). The inputs' rows
are taken over (renamed in place), so merge them once.

One column per adapter and library version: when the same adapter appears with several library versions
(botocore 1.31 in one run, 1.35 in another), each becomes its own column keyed `name@version`; an adapter
with one version across the inputs keeps its plain name. When two inputs hold the same check for the same
column, the later input wins.
"""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import harness
from harness.results import FORMAT, VERSION, check_key, paused_gc


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
        for row in data.get("results") or []:
            keys.setdefault(row["adapter"], row["adapter"])
        mapping.append(keys)
    return mapping


def merge(inputs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One results structure from several (path, data) pairs, in the results.json format plus `manifest.merged`."""
    with paused_gc():
        return _merge(inputs)


def _merge(inputs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    datas = [d for _, d in inputs]
    mapping = column_keys(datas)
    adapters: dict[str, dict[str, Any]] = {}
    cases: dict[str, dict[str, Any]] = {}
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    checks: dict[str, dict[str, Any]] = {}
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
        for check, entry in own.items():
            checks.setdefault(check, entry)
        differing = {k for k, entry in own.items() if checks[k] is not entry and checks[k].get("expected") != entry.get("expected")}
        for row in data.get("results") or []:  # rows are taken over, not copied: one copy of ~100,000 rows is enough
            key = keys.get(row["adapter"], row["adapter"])
            row["adapter"] = key
            if differing:
                check = check_key(row["case"], row["mode"])
                if check in differing:
                    row["expected"] = own[check].get("expected")  # judged against another expectation
            rows[(row["case"], row["mode"], key)] = row
        for line in data.get("case_errors") or []:
            if line not in case_errors:
                case_errors.append(line)
        for name, value in (data.get("bench") or {}).items():
            bench[keys.get(name, name)] = value
    out: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "manifest": {
            "harness_version": harness.__version__,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "platform": platform.platform(), "python": platform.python_version(), "machine": platform.machine(),
            "case_sources": sources,
            "merged": merged_runs,
        },
        "adapters": dict(sorted(adapters.items())),
        "cases": cases,
        "checks": checks,
        "case_errors": case_errors,
        "results": sorted(rows.values(), key=lambda r: (r["case"], r["mode"], r["adapter"])),
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
