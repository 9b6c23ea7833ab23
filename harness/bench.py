"""`sigharness bench`: each library's signing throughput, measured inside its adapter (so process and
pipe costs are excluded), for SigV4 and SigV4A in header and query mode, next to the cost of the
bare HMAC-SHA256 chain in the same language (the floor)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from harness import protocol
from harness.adapters.manifest import AdapterSpec
from harness.adapters.pool import AdapterPool, AdapterSession, PoolSettings
from harness.adapters.process import AdapterFault
from harness.limits import Limits
from harness.results import dumps, load_results
from harness.model import Case, Check, Context, Request

# The workload: a small API request with a query and a JSON body (the same for every library).
BENCH_REQUEST = Request(
    method="POST",
    scheme="https",
    host="example.amazonaws.com",
    path="/prod/items/42",
    query="expand=true&limit=10",
    headers=(("Host", "example.amazonaws.com"), ("Content-Type", "application/json"), ("X-Custom", "bench")),
    body=b'{"name": "sigharness", "count": 3}',
)
BENCH_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # the example key of the AWS documentation
WORKLOADS = {
    "sigv4-header": ("sigv4", "header"),
    "sigv4-query": ("sigv4", "query"),
    "sigv4a-header": ("sigv4a", "header"),
    "sigv4a-query": ("sigv4a", "query"),
}


def bench_check(algorithm: str, mode: str) -> Check:
    context = Context(
        access_key_id="AKIDEXAMPLE",
        secret_access_key=BENCH_SECRET,
        session_token=None,
        region="us-east-1",
        region_set=("us-east-1",),
        service="execute-api",
        timestamp=datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc),
        algorithm=algorithm,
    )
    return Check(Case(f"bench/{algorithm}-{mode}", "benchmark request", BENCH_REQUEST, context), mode)


@dataclass
class AdapterBench:
    name: str
    library: str = ""
    library_version: str = ""
    language: str = ""
    floor_ns: float | None = None  # one HMAC chain (4 key HMACs + 1 signature HMAC)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "library": self.library,
            "library_version": self.library_version,
            "language": self.language,
            "floor_ns": self.floor_ns,
            "floor_per_sec": round(1e9 / self.floor_ns) if self.floor_ns else None,
            "checks": self.checks,
            "error": self.error,
        }


def _measure(session: AdapterSession, message: dict[str, Any]) -> float | str:
    """Nanoseconds per iteration, or the reason there is no figure."""
    answer, fault = session.request(message, expect="bench")
    if answer is None:
        raise AdapterFault(fault or "no answer")
    if answer.get("type") == "bench" and isinstance(answer.get("elapsed_ns"), int) and answer.get("iterations"):
        return answer["elapsed_ns"] / answer["iterations"]
    return str(answer.get("reason") or answer.get("status") or "no figure")


def bench_adapter(session: AdapterSession, seconds: float = 1.0) -> AdapterBench:
    spec = session.spec
    result = AdapterBench(spec.name, spec.library, language=spec.language)
    try:
        hello = session.start()
        result.library, result.library_version, result.language = hello.library, hello.library_version, hello.language
        floor = _calibrated(session, lambda n: protocol.bench_floor(n), seconds)
        result.floor_ns = floor if isinstance(floor, float) else None
        for name, (algorithm, mode) in WORKLOADS.items():
            check = bench_check(algorithm, mode)
            missing = session.missing_capability(check)
            if missing:
                result.checks[name] = {"status": "unsupported", "reason": missing}
                continue
            probe, fault = session.sign(check)
            if probe is None:
                raise AdapterFault(fault or "no answer")
            if probe.get("status") != "signed":
                result.checks[name] = {"status": probe.get("status"), "reason": probe.get("reason")}
                continue
            per = _calibrated(session, lambda n, c=check: protocol.bench_sign(c, n), seconds)
            if isinstance(per, str):
                result.checks[name] = {"status": "no figure", "reason": per}
            else:
                entry: dict[str, Any] = {"status": "measured", "ns_per_sign": round(per), "signs_per_sec": round(1e9 / per)}
                if result.floor_ns:
                    entry["times_floor"] = round(per / result.floor_ns, 1)
                result.checks[name] = entry
    except AdapterFault as exc:
        result.error = str(exc)
    finally:
        session.close()
    return result


def _calibrated(session: AdapterSession, message: Callable[[int], dict[str, Any]], seconds: float) -> float | str:
    """Warm up, then size the batch so the measured run lasts about `seconds`."""
    per = _measure(session, message(20))
    if isinstance(per, str):
        return per
    iterations = max(20, min(2_000_000, int(seconds * 1e9 / max(per, 1.0))))
    return _measure(session, message(iterations))


def bench(specs: list[AdapterSpec], seconds: float = 1.0, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Adapters run one after another (so they do not compete for the cores), through the adapter pool:
    the same builds, isolation and redaction as a run."""
    isolate, _ = PoolSettings.isolation("auto")
    settings = PoolSettings(limits=Limits(check_seconds=120.0), isolate_network=isolate,
                            secrets=frozenset({BENCH_SECRET}))
    out: dict[str, Any] = {}
    with AdapterPool(specs, settings, log) as pool:
        pool.prepare()
        for spec in specs:
            log(f"bench {spec.name} ...")
            if spec.name in pool.unavailable:
                out[spec.name] = AdapterBench(spec.name, spec.library, language=spec.language,
                                              error=f"unavailable: {pool.unavailable[spec.name]}").to_json()
                continue
            out[spec.name] = bench_adapter(pool.sessions[spec.name], seconds).to_json()
    return out


def format_table(results: dict[str, Any]) -> str:
    columns = list(WORKLOADS)
    lines = ["| adapter | version | HMAC floor /s | " + " | ".join(f"{c} /s (x floor)" for c in columns) + " |",
             "| --- | --- | ---: | " + " | ".join("---:" for _ in columns) + " |"]
    for name, r in results.items():
        cells = []
        for c in columns:
            e = r["checks"].get(c)
            if not e:
                cells.append(r.get("error") and "error" or "")
            elif e.get("status") == "measured":
                cells.append(f"{e['signs_per_sec']:,}" + (f" ({e['times_floor']})" if e.get("times_floor") else ""))
            else:
                cells.append(str(e.get("status")))
        floor = f"{r['floor_per_sec']:,}" if r.get("floor_per_sec") else "-"
        lines.append(f"| {name} | {r.get('library_version') or ''} | {floor} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def merge_into_results(results_path: Path, bench_results: dict[str, Any]) -> None:
    data = load_results(results_path)
    data["bench"] = bench_results
    tmp = results_path.with_suffix(".json.tmp")
    tmp.write_text(dumps(data), encoding="utf-8")
    tmp.replace(results_path)
