"""Run every check through every selected adapter, in parallel (one process per adapter, started
once), judging each answer as it comes and writing it to disk before the next one."""

from __future__ import annotations

import fnmatch
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness import results as res
from harness.adapters.manifest import AdapterSpec, Availability, discover, ensure_built
from harness.adapters.process import network_isolation_available
from harness.adapters.session import AdapterSession
from harness.cases import Loaded, load_cases
from harness.compare import Expected, expected_for, judge
from harness.model import Check
from harness.verdicts import COUNT_ORDER


@dataclass
class RunOptions:
    case_paths: list[str]
    out_dir: Path
    adapters: list[str] | None = None  # None: every adapter found
    adapter_dirs: list[Path] | None = None
    adapter_env: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0  # per check
    start_timeout: float = 120.0
    max_restarts: int = 3  # faults in a row before an adapter's remaining checks become errors
    max_line: int = 1 << 20
    resume: bool = False
    isolate_network: str = "auto"  # "auto": when the machine allows it; "on": required; "off"
    case_filter: list[str] | None = None  # case id patterns (fnmatch); None: every case

    def settings(self) -> dict[str, Any]:
        return {
            "case_paths": [str(p) for p in self.case_paths],
            "adapters": self.adapters,
            "adapter_dirs": [str(p) for p in self.adapter_dirs or []],
            "adapter_env": self.adapter_env,
            "timeout": self.timeout,
            "start_timeout": self.start_timeout,
            "max_restarts": self.max_restarts,
            "max_line": self.max_line,
            "case_filter": self.case_filter,
        }


@dataclass
class RunOutcome:
    out_dir: Path
    results_path: Path
    data: dict[str, Any]
    case_errors: list[str]
    problems: list[str]  # unknown adapters, manifest problems
    unavailable: dict[str, str]


class Progress:
    """Counts finished checks and tells the user, at most a few times a second."""

    def __init__(self, total: int, emit: Callable[[str, bool], None]):
        self.total = total
        self.done = 0
        self.counts: Counter[str] = Counter()
        self.emit = emit
        self._lock = threading.Lock()
        self._last = 0.0

    def add(self, status: str) -> None:
        with self._lock:
            self.done += 1
            self.counts[status] += 1
            now = time.monotonic()
            if now - self._last >= 0.2 or self.done == self.total:
                self._last = now
                self.emit(self.line(), self.done == self.total)

    def line(self) -> str:
        pct = 100 * self.done // max(self.total, 1)
        parts = " ".join(f"{k} {self.counts[k]}" for k in COUNT_ORDER if self.counts[k])
        return f"[{self.done}/{self.total} {pct}%] {parts}"


def select_adapters(known: dict[str, AdapterSpec], wanted: list[str] | None) -> tuple[list[AdapterSpec], list[str]]:
    if not wanted:
        return list(known.values()), []
    chosen, problems = [], []
    for name in wanted:
        if name in known:
            chosen.append(known[name])
        else:
            problems.append(f"unknown adapter {name!r}; known adapters: {', '.join(sorted(known)) or 'none'} (see `sigharness adapters`)")
    return chosen, problems


def run(options: RunOptions, log: Callable[[str], None] = print, progress_emit: Callable[[str, bool], None] | None = None) -> RunOutcome:
    wall_started, cpu_started = time.perf_counter(), time.process_time()
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / res.RUN_SETTINGS).write_text(json.dumps(options.settings(), indent=1))

    loaded: Loaded = load_cases(options.case_paths)
    case_errors = [str(e) for e in loaded.errors]
    for line in case_errors:
        log(line)
    filter_problems = []
    if options.case_filter:
        loaded.cases = [c for c in loaded.cases if any(fnmatch.fnmatchcase(c.id, p) for p in options.case_filter)]
        if not loaded.cases:
            filter_problems.append(f"no case id matches --case {' '.join(options.case_filter)} (ids are listed in results.json and the report)")
    known, problems = discover(options.adapter_dirs or None) if options.adapter_dirs else discover()
    isolate = options.isolate_network == "on" or (options.isolate_network == "auto" and network_isolation_available())
    if options.isolate_network == "on" and not network_isolation_available():
        problems.append("--isolate-network on: `unshare --net` does not work here (needs root or user namespaces)")
        isolate = False
    specs, unknown = select_adapters(known, options.adapters)
    problems += filter_problems + unknown
    for line in problems:
        log(line)

    checks = [Check(case, mode) for case in loaded.cases for mode in case.modes]
    expected: dict[tuple[str, str], Expected] = {}
    for check in checks:
        try:
            expected[check.key] = expected_for(check)
        except Exception as exc:  # e.g. an expect_error case: judged on refusal and verification alone
            expected[check.key] = Expected({}, f"none (the reference signer refuses it: {type(exc).__name__}: {exc})")

    secrets = {c.context.secret_access_key for c in loaded.cases}
    redactor = res.Redactor(secrets)
    journal_path = out / res.JOURNAL
    previous_rows, previous_adapters = res.read_journal(journal_path) if options.resume else ([], {})
    if not options.resume and journal_path.exists():
        journal_path.unlink()
    done = {res.row_key(r) for r in previous_rows}
    journal = res.Journal(journal_path, redactor)

    adapters_info: dict[str, dict[str, Any]] = dict(previous_adapters)
    unavailable: dict[str, str] = {}
    runnable: list[tuple[AdapterSpec, Availability]] = []
    for spec in specs:
        todo = [c for c in checks if (c.case.id, c.mode, spec.name) not in done]
        if not todo:
            continue
        availability = ensure_built(spec, options.adapter_env, announce=log)
        if availability.built_now:
            log(f"built {spec.folder.name} in {availability.build_seconds:.0f}s")
        if not availability.available:
            unavailable[spec.name] = availability.reason
            log(f"adapter {spec.name} is unavailable: {availability.reason}")
            record = {"type": "adapter", "name": spec.name, "language": spec.language, "library": spec.library,
                      "available": False, "reason": availability.reason}
            adapters_info[spec.name] = record
            journal.write(record)
            continue
        runnable.append((spec, availability))

    total = sum(1 for spec, _ in runnable for c in checks if (c.case.id, c.mode, spec.name) not in done)
    progress = Progress(total, progress_emit or (lambda line, final: None))
    rows: list[dict[str, Any]] = list(previous_rows)
    rows_lock = threading.Lock()

    def worker(spec: AdapterSpec, availability: Availability) -> None:
        todo = [c for c in checks if (c.case.id, c.mode, spec.name) not in done]
        info = _AdapterRun(spec, availability, options, out, secrets, log, isolate)
        for check in todo:
            row = info.check(check, expected[check.key])
            row = {"type": "result", "case": check.case.id, "mode": check.mode, "adapter": spec.name, **row}
            journal.write(row)
            with rows_lock:
                rows.append(row)
            progress.add(row["status"])
        info.close()
        record = {"type": "adapter", **info.record()}
        adapters_info[spec.name] = record
        journal.write(record)

    threads = [threading.Thread(target=worker, args=pair, name=pair[0].name, daemon=True) for pair in runnable]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal.close()

    checks_run = len(rows) - len(previous_rows)
    timing = {
        "wall_s": round(time.perf_counter() - wall_started, 3),
        "harness_cpu_s": round(time.process_time() - cpu_started, 3),  # this process only, not the adapters
        "checks": checks_run,
    }
    if checks_run:
        timing["harness_cpu_ms_per_check"] = round(1000 * timing["harness_cpu_s"] / checks_run, 3)
    data = {
        "format": res.FORMAT,
        "version": res.VERSION,
        "manifest": dict(res.manifest(loaded.sources, options.settings()), timing=timing),
        "adapters": {k: {kk: vv for kk, vv in v.items() if kk != "type"} for k, v in sorted(adapters_info.items())},
        "cases": {c.id: res.case_summary(c) for c in loaded.cases},
        "case_errors": case_errors,
        "results": sorted((
            {k: v for k, v in r.items() if k != "type"} for r in rows
        ), key=lambda r: (r["case"], r["mode"], r["adapter"])),
    }
    path = res.write_results(out, data, redactor)
    return RunOutcome(out, path, data, case_errors, problems, unavailable)


class _AdapterRun:
    """One adapter through a run: its session, and the judging of each answer."""

    def __init__(self, spec: AdapterSpec, availability: Availability, options: RunOptions, out: Path, secrets: set[str],
                 log: Callable[[str], None], isolate_network: bool = False):
        self.spec = spec
        self.isolate_network = isolate_network
        self.session = AdapterSession(
            spec, availability.build_dir, log_path=out / "logs" / f"{spec.name}.log", extra_env=options.adapter_env,
            secrets=secrets, timeout=options.timeout, start_timeout=options.start_timeout,
            max_restarts=options.max_restarts, max_line=options.max_line, isolate_network=isolate_network, log=log,
        )

    def check(self, check: Check, expected: Expected) -> dict[str, Any]:
        started = time.perf_counter_ns()
        answer, fault = self.session.sign(check)
        if answer is None:
            return {"status": "error", "reason": fault, "duration_ms": _ms(started)}
        judging = time.perf_counter_ns()
        try:
            judged = judge(check, expected, answer).to_json()
        except Exception as exc:  # a harness bug must not stop the run
            judged = {"status": "error", "reason": f"harness could not judge this answer: {type(exc).__name__}: {exc}"}
        judged["expected_source"] = expected.source
        judged["elapsed_ns"] = answer.get("elapsed_ns")
        judged["judge_ms"] = _ms(judging)
        judged["duration_ms"] = _ms(started)
        return judged

    def close(self) -> None:
        self.session.close()

    def record(self) -> dict[str, Any]:
        session = self.session
        hello = session.hello.raw if session.hello else {}
        return {
            "name": self.spec.name,
            "language": hello.get("language", self.spec.language),
            "library": hello.get("library", self.spec.library),
            "library_version": hello.get("library_version", "unknown"),
            "runtime": hello.get("runtime", "unknown"),
            "capabilities": hello.get("capabilities", {}),
            "available": True,
            "folder": self.spec.folder.name,
            "network_isolated": self.isolate_network,
            "restarts": session.restarts,
            "faults": session.faults[-10:],
            "checks": session.checks,
            "library_elapsed_ns": session.elapsed_ns,
        }


def _ms(started_ns: int) -> float:
    return round((time.perf_counter_ns() - started_ns) / 1e6, 3)
