"""Run every check through every selected adapter, in parallel (one process per adapter, started
once), judging each answer as it comes and writing it to disk before the next one."""

from __future__ import annotations

import fnmatch
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness import oracles as orc
from harness import provenance
from harness import results as res
from harness.adapters.manifest import AdapterSpec, discover
from harness.adapters.pool import AdapterPool, AdapterSession, PoolSettings
from harness.wire import run as wire_run
from harness.cases import Loaded, load_cases
from harness.compare import Expected, clip, expected_for, judge
from harness.model import Check
from harness.limits import Limits
from harness.redaction import harness_environment_secrets
from harness.report.text import with_short_tokens
from harness.verdicts import COUNT_ORDER, ERROR, UNSUPPORTED


@dataclass
class RunOptions:
    case_paths: list[str]
    out_dir: Path
    adapters: list[str] | None = None  # None: every adapter found
    adapter_dirs: list[Path] | None = None
    adapter_env: dict[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)  # time, size and restart limits (harness/limits.py)
    resume: bool = False
    isolate_network: str = "auto"  # "auto": when the machine allows it; "on": required; "off"
    case_filter: list[str] | None = None  # case id patterns (fnmatch); None: every case
    oracles: list[str] | None = None  # verifier-kind adapters to ask (harness/oracles.py); None: every one
    use_oracles: bool = True  # False: --no-oracles
    body_roots: list[str] = field(default_factory=list)  # folders body files may come from besides the case tree
    send: bool = True  # False: --no-send (no wire stage: the signer-only run)

    def settings(self) -> dict[str, Any]:
        return {
            "case_paths": [str(p) for p in self.case_paths],
            "adapters": self.adapters,
            "adapter_dirs": [str(p) for p in self.adapter_dirs or []],
            "adapter_env": self.adapter_env,
            "limits": self.limits.to_json(),
            "case_filter": self.case_filter,
            "isolate_network": self.isolate_network,
            "oracles": self.oracles if self.use_oracles else [],
            "body_roots": [str(p) for p in self.body_roots],
            "send": self.send,
        }


@dataclass
class RunOutcome:
    out_dir: Path
    results_path: Path
    data: dict[str, Any]
    case_errors: list[str]
    problems: list[str]  # unknown adapters, manifest problems
    unavailable: dict[str, str]
    sink: res.Sink = field(default_factory=res.Sink)  # every later output of this run goes through it


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


@dataclass
class Plan:
    """What a run will do: its checks with their expectations, and the adapters that still owe verdicts."""

    loaded: Loaded
    checks: list[Check]
    expected: dict[tuple[str, str], Expected]
    specs: list[AdapterSpec]
    problems: list[str]
    isolate_network: bool
    previous_rows: list[dict[str, Any]]
    previous_adapters: dict[str, dict[str, Any]]
    oracle_specs: list[AdapterSpec] = field(default_factory=list)
    oracle_records: dict[str, dict[str, Any]] = field(default_factory=dict)
    sink: res.Sink = field(default_factory=res.Sink)  # the run's one redaction layer (harness/redaction.py)

    @property
    def case_errors(self) -> list[str]:
        return [str(e) for e in self.loaded.errors]

    @property
    def secrets(self) -> set[str]:
        return set(self.sink.redactor.secrets)

    def lost_record(self, adapter: str) -> bool:
        """Every verdict of this adapter is in the journal but not its record (the run died in between)."""
        return (adapter not in self.previous_adapters and not self.todo(adapter)
                and any(r["adapter"] == adapter for r in self.previous_rows))

    def todo(self, adapter: str) -> list[Check]:
        done = self._done()
        return [c for c in self.checks if (c.case.id, c.mode, adapter) not in done]

    def _done(self) -> set[tuple[str, str, str]]:
        cached = getattr(self, "_done_keys", None)
        if cached is None:
            cached = {res.row_key(r) for r in self.previous_rows}
            object.__setattr__(self, "_done_keys", cached)
        return cached


def plan(options: RunOptions, log: Callable[[str], None] = print) -> Plan:
    """Load and select cases and adapters, expand checks, compute expectations, read what a resumed run has.
    The run's Sink is built here, from every case's secret, before anything is logged."""
    loaded: Loaded = load_cases(options.case_paths, limits=options.limits, body_roots=tuple(options.body_roots))
    sink = res.Sink(res.Redactor(run_secrets(loaded)))
    log = _redacted(log, sink)
    for error in loaded.errors:
        log(str(error))
    problems: list[str] = []
    if options.case_filter:
        loaded.cases = [c for c in loaded.cases if any(fnmatch.fnmatchcase(c.id, p) for p in options.case_filter)]
        if not loaded.cases:
            problems.append(f"no case id matches --case {' '.join(options.case_filter)} (ids are listed in results.json and the report)")
    every, manifest_problems = discover(options.adapter_dirs, kind=None) if options.adapter_dirs else discover(kind=None)
    known = {n: s for n, s in every.items() if s.kind == "signer"}
    isolate, isolation_problem = PoolSettings.isolation(options.isolate_network)
    specs, unknown = select_adapters(known, options.adapters)
    oracle_specs, unknown_oracles = orc.select(every, options.oracles, options.use_oracles)
    problems = manifest_problems + ([isolation_problem] if isolation_problem else []) + problems + unknown + unknown_oracles
    for line in problems:
        log(line)
    checks = [Check(case, mode) for case in loaded.cases for mode in case.modes]
    expected: dict[tuple[str, str], Expected] = {}
    for check in checks:
        try:
            expected[check.key] = expected_for(check)
        except Exception as exc:  # e.g. an expect_error case: judged on refusal and verification alone
            expected[check.key] = Expected({}, f"none (the reference signer refuses it: {type(exc).__name__}: {exc})")
    journal_path = options.out_dir / res.JOURNAL
    previous_rows, previous_adapters = res.read_journal(journal_path) if options.resume else ([], {})
    return Plan(loaded, checks, expected, specs, problems, isolate, previous_rows, previous_adapters,
                oracle_specs=oracle_specs, sink=sink)


def run_secrets(loaded: Loaded) -> set[str]:
    """What no output may hold: every case's secret key (of every case loaded, selected or not) and the
    harness's own environment's."""
    return {c.context.secret_access_key for c in loaded.cases} | harness_environment_secrets()


def _redacted(log: Callable[[str], None], sink: "res.Sink") -> Callable[[str], None]:
    return lambda line: log(sink.line(line))


def run(options: RunOptions, log: Callable[[str], None] = print, progress_emit: Callable[[str, bool], None] | None = None) -> RunOutcome:
    wall_started, cpu_started = time.perf_counter(), time.process_time()
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    the_plan = plan(options, log)
    sink = the_plan.sink
    log = _redacted(log, sink)
    if progress_emit is not None:
        emit = progress_emit
        progress_emit = lambda line, final: emit(sink.line(line), final)  # noqa: E731
    sink.write_json(out / res.RUN_SETTINGS, options.settings())
    rows, adapters_info, unavailable = execute(the_plan, options, sink, log, progress_emit)
    # cleaned once: results.json and every later output (report, history, console, --baseline) come from it;
    # session tokens shortened here, once, so no report or merge of this run has to (docs/results.md)
    data = sink.clean(with_short_tokens(assemble(the_plan, options, rows, adapters_info, wall_started, cpu_started)))
    path = res.write_results(out, data, sink)
    return RunOutcome(out, path, data, the_plan.case_errors, the_plan.problems, unavailable, sink)


def execute(the_plan: Plan, options: RunOptions, sink: "res.Sink", log: Callable[[str], None],
            progress_emit: Callable[[str, bool], None] | None = None
            ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], dict[str, str]]:
    """Every check through every adapter that still owes it, in parallel through the adapter pool; each row
    is in the journal before the next check starts. Returns (rows, adapter records, unavailable adapters)."""
    journal_path = options.out_dir / res.JOURNAL
    if not options.resume and journal_path.exists():
        journal_path.unlink()
    journal = res.Journal(journal_path, sink)
    adapters_info: dict[str, dict[str, Any]] = dict(the_plan.previous_adapters)
    # an adapter owes verdicts, or its record (lost when the run died between its verdicts and its record)
    owing = [spec for spec in the_plan.specs if the_plan.todo(spec.name) or the_plan.lost_record(spec.name)]
    settings = PoolSettings(limits=options.limits, adapter_env=options.adapter_env,
                            secrets=frozenset(the_plan.secrets), isolate_network=the_plan.isolate_network,
                            log_dir=options.out_dir / "logs")
    rows: list[dict[str, Any]] = list(the_plan.previous_rows)
    rows_lock = threading.Lock()
    wire = wire_run.start(options.send and bool(owing), the_plan.isolate_network, the_plan.checks, log)
    signer_settings = wire_run.with_wire(settings, wire)
    with wire or wire_run.nothing(), AdapterPool(owing, signer_settings, log) as pool, \
            orc.Oracles(the_plan.oracle_specs if owing else [], settings, log) as oracles:
        oracles.start_in_background()  # built and started while the signers are; they judge while the signers sign on
        pool.prepare()
        for name, reason in pool.unavailable.items():
            spec = next(s for s in owing if s.name == name)
            record = {"type": "adapter", "name": name, "language": spec.language, "library": spec.library,
                      "available": False, "reason": reason}
            if the_plan.lost_record(name):
                record = {**record, "available": True, "library_version": "unknown", "record_lost": True,
                          "reason": f"record lost when the run was interrupted; the adapter is unavailable now ({reason})"}
            adapters_info[name] = record
            journal.write(record)
        total = sum(len(the_plan.todo(name)) for name in pool.sessions)
        progress = Progress(total, progress_emit or (lambda line, final: None))

        def finish(check: Check, name: str, judged: dict[str, Any], counted: bool = True) -> None:
            row = {"type": "result", **res.ResultRow.of(check.case.id, check.mode, name, judged, check.context.algorithm).to_json()}
            journal.write(row)
            with rows_lock:
                rows.append(row)
            if counted:
                progress.add(row["status"])

        def work(session: AdapterSession) -> None:
            name = session.spec.name
            try:
                if not the_plan.todo(name):
                    session.ready()  # only the record is owed: start the adapter to read its version again
                first = wire_run.FirstSend(session) if wire is not None else None
                for check in the_plan.todo(name):
                    try:
                        judged = check_one(session, check, the_plan.expected[check.key], oracles,
                                           first.sign if first is not None else None)
                    except Exception as exc:  # noqa: BLE001 - a harness bug costs one check, not the adapter's run
                        judged = {"status": ERROR, "reason": f"harness error: {type(exc).__name__}: {exc}"}
                    # The row is written once the oracles have judged it (at once when none is asked).
                    oracles.then(judged, lambda c=check, j=judged: finish(c, name, j))
                    if wire is not None:
                        for client, sent in wire_run.send_all(wire, session, check, judged, oracles, first):
                            oracles.then(sent, lambda c=check, j=sent, n=f"{name}+{client}": finish(c, n, j, counted=False))
            finally:
                session.close()
                record = {"type": "adapter", **resumed_record(session.record(), the_plan.previous_adapters.get(name),
                                                              the_plan.lost_record(name))}
                adapters_info[name] = record
                journal.write(record)
                for client_record in wire_run.client_records(wire, record):
                    adapters_info[client_record["name"]] = client_record
                    journal.write(client_record)

        pool.each(work)
        oracles.drain()  # every pending row judged and written
        the_plan.oracle_records = oracles.records()
    journal.close()
    return rows, adapters_info, dict(pool.unavailable)


def resumed_record(record: dict[str, Any], previous: dict[str, Any] | None, lost: bool) -> dict[str, Any]:
    """An adapter's record after a resume: counts of both parts of the run added up; a record that was lost
    says so (its version is the one the adapter reports now)."""
    if lost:
        return {**record, "record_lost": True,
                "note": "record lost when the run was interrupted; version read again on --resume"}
    if not previous or previous.get("available") is False:
        return record
    merged = dict(record)
    for key in ("restarts", "checks", "library_elapsed_ns"):
        if isinstance(previous.get(key), int) and isinstance(record.get(key), int):
            merged[key] = previous[key] + record[key]
    merged["faults"] = ((previous.get("faults") or []) + (record.get("faults") or []))[-10:]
    return merged


def check_one(session: AdapterSession, check: Check, expected: Expected, oracles: "orc.Oracles | None" = None,
              sign: Callable[[Check], tuple[dict[str, Any] | None, str | None]] | None = None) -> dict[str, Any]:
    """One check through one adapter, judged (the row's fields besides case, mode and adapter); with
    `oracles`, every signed answer also carries their opinions (harness/oracles.py). `sign`: how the
    answer is asked for (default `session.sign`; the wire stage's FirstSend.sign)."""
    started = time.perf_counter_ns()
    fault = session.ready()
    if fault:
        return {"status": ERROR, "reason": fault, "duration_ms": _ms(started)}
    missing = session.missing_capability(check)
    if missing:
        return {"status": UNSUPPORTED, "reason": missing, "declared": True, "duration_ms": _ms(started)}
    answer, fault = (sign or session.sign)(check)
    if answer is None:
        return {"status": ERROR, "reason": fault, "duration_ms": _ms(started)}
    try:
        judged = judge(check, expected, answer).to_json()
    except Exception as exc:  # a harness bug must not stop the run
        judged = {"status": ERROR, "reason": f"harness could not judge this answer: {type(exc).__name__}: {exc}"}
    elapsed = answer.get("elapsed_ns")  # a number the adapter reports: kept only when it is a whole number
    judged["elapsed_ns"] = elapsed if isinstance(elapsed, int) and not isinstance(elapsed, bool) else None
    judged["duration_ms"] = _ms(started)  # the adapter's check; the oracles' time is not the adapter's
    try:
        decided = provenance.decided_by(check, judged)
    except Exception as exc:  # noqa: BLE001 - a provenance bug must not cost the verdict
        decided = {"rule": f"unknown (harness error: {type(exc).__name__}: {exc})"}
    if decided:
        judged["decided_by"] = decided
    if oracles is not None:
        oracles.annotate(check, judged)
    return judged


def assemble(the_plan: Plan, options: RunOptions, rows: list[dict[str, Any]], adapters_info: dict[str, dict[str, Any]],
             wall_started: float, cpu_started: float) -> dict[str, Any]:
    """The results.json document (docs/results.md) from the rows and adapter records."""
    fresh = rows[len(the_plan.previous_rows):]
    sent = sum(1 for r in fresh if r.get("wire"))  # the wire stage's ADAPTER+CLIENT rows
    checks_run = len(fresh) - sent
    timing = {
        "wall_s": round(time.perf_counter() - wall_started, 3),
        "harness_cpu_s": round(time.process_time() - cpu_started, 3),  # this process only, not the adapters
        "checks": checks_run,
        **({"sent": sent} if sent else {}),
    }
    if checks_run:
        timing["harness_cpu_ms_per_check"] = round(1000 * timing["harness_cpu_s"] / checks_run, 3)
    return {
        "format": res.FORMAT,
        "version": res.VERSION,
        "manifest": dict(res.manifest(the_plan.loaded.sources, options.settings()), timing=timing),
        "adapters": {k: {kk: vv for kk, vv in v.items() if kk != "type"} for k, v in sorted(adapters_info.items())},
        **({"oracles": the_plan.oracle_records} if the_plan.oracle_records else {}),
        "cases": {c.id: res.case_summary(c) for c in the_plan.loaded.cases},
        "checks": {res.check_key(*check.key): {"expected": {stage: clip(text) for stage, text in the_plan.expected[check.key].stages.items()},
                                                "source": the_plan.expected[check.key].source} for check in the_plan.checks},
        "case_errors": the_plan.case_errors,
        "results": sorted((
            {k: v for k, v in r.items() if k != "type"} for r in rows
        ), key=lambda r: (r["case"], r["mode"], r["adapter"])),
    }


def _ms(started_ns: int) -> float:
    return round((time.perf_counter_ns() - started_ns) / 1e6, 3)
