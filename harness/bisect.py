"""Find the first release of an adapter's library where a verdict changed: run the chosen checks
against the two named releases, then binary-search the releases between them (each probe runs the
harness on one cached throwaway environment; see harness/releases.py)."""

from __future__ import annotations

import difflib
import fnmatch
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness import results as res
from harness.adapters.manifest import AdapterSpec
from harness.cases import load_cases
from harness.limits import Limits
from harness.releases import Environment, Registry, ReleaseError, between, cached_versions
from harness.runner import RunOptions, run
from harness.stages import STAGES

Verdict = dict[tuple[str, str], str]  # (case, mode) -> status


@dataclass
class Probe:
    """One release, run."""

    version: str
    verdict: Verdict
    rows: dict[tuple[str, str], dict[str, Any]]
    reported_version: str  # what the adapter said it loaded
    results_path: Path | None
    seconds: float
    environment: Environment | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def untestable(self) -> bool:
        """Nothing ran on this release (every check an error, or the adapter loaded another version)."""
        wrong = self.reported_version not in (self.version, "")
        return bool(self.problems) or wrong or not self.verdict or all(s == "error" for s in self.verdict.values())

    def why_untestable(self) -> str:
        if self.problems:
            return "; ".join(self.problems)
        if self.reported_version not in (self.version, ""):
            return f"the adapter loaded {self.reported_version}, not {self.version}"
        reasons = {r.get("reason", "") for r in self.rows.values()}
        return "every check is an error: " + "; ".join(sorted(reasons))[:300]


@dataclass
class Bisection:
    adapter: str
    package: str
    candidates: list[str]
    probes: dict[str, Probe]
    before: Probe | None = None  # the last release with the first verdict
    after: Probe | None = None  # the first release with another verdict
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    message: str = ""

    @property
    def found(self) -> bool:
        return self.before is not None and self.after is not None


Runner = Callable[[str], Probe]


def search(candidates: list[str], probe: Runner, log: Callable[[str], None] = lambda line: None) -> tuple[int, int, list[str]] | str:
    """Binary search over `candidates` (ordered from the --from release to the --to one) for the first index whose verdict differs from the
    first one's. Returns (last index with the old verdict, first index with a new one, skipped releases)
    or a sentence saying why there is no answer. A release that cannot be tested is skipped, as `git bisect skip`."""
    first, last = probe(candidates[0]), probe(candidates[-1])
    for end in (first, last):
        if end.untestable:
            return f"{end.version} cannot be tested: {end.why_untestable()}"
    if first.verdict == last.verdict:
        return f"the verdict is the same on {first.version} and {last.version}: {_verdict_text(first.verdict)}"
    low, high, skipped = 0, len(candidates) - 1, []
    while True:
        inside = [i for i in range(low + 1, high) if candidates[i] not in skipped]
        if not inside:
            return low, high, skipped
        index = inside[len(inside) // 2]
        result = probe(candidates[index])
        if result.untestable:
            log(f"  {result.version}: skipped ({result.why_untestable()})")
            skipped.append(result.version)
            continue
        same = result.verdict == first.verdict
        log(f"  {result.version}: {_verdict_text(result.verdict, first.verdict)} ({'old' if same else 'new'} verdict, {result.seconds:.1f}s)")
        if same:
            low = index
        else:
            high = index


def _verdict_text(verdict: Verdict, reference: Verdict | None = None, most: int = 4) -> str:
    """The verdicts, or for many checks only those that differ from `reference`."""
    if len(verdict) <= most or reference is None:
        return ", ".join(f"{case} {mode}: {status}" for (case, mode), status in sorted(verdict.items())) or "no checks"
    moved = sorted(k for k in set(verdict) | set(reference) if verdict.get(k) != reference.get(k))
    shown = ", ".join(f"{case} {mode}: {verdict.get((case, mode))}" for case, mode in moved[:most])
    return f"{len(verdict)} checks, {len(moved)} differ from the first release" + (f" ({shown}{', ...' if len(moved) > most else ''})" if moved else "")


class Prober:
    """Runs the harness for one adapter on one release (cached: each release runs once per bisection)."""

    def __init__(self, spec: AdapterSpec, package: str, registry: Registry, case_paths: list[str], case_filter: list[str],
                 out: Path, log: Callable[[str], None] = print, isolate_network: str = "auto", timeout: float = 30.0):
        self.spec, self.package, self.registry = spec, package, registry
        self.case_paths, self.case_filter = case_paths, case_filter
        self.out, self.log, self.isolate_network, self.timeout = out, log, isolate_network, timeout
        self.done: dict[str, Probe] = {}

    def __call__(self, version: str) -> Probe:
        if version in self.done:
            return self.done[version]
        started = time.perf_counter()
        try:
            env = self.registry.environment(self.spec, self.package, version)
        except ReleaseError as exc:
            probe = Probe(version, {}, {}, "", None, time.perf_counter() - started, problems=[str(exc)])
            self.done[version] = probe
            return probe
        options = RunOptions(
            case_paths=self.case_paths, out_dir=self.out / f"{self.spec.name}@{version}", adapters=[self.spec.name],
            adapter_dirs=env.adapter_dirs or ([self.spec.folder.parent] if self.spec.folder.parent else None),
            adapter_env=env.adapter_env, case_filter=self.case_filter, isolate_network=self.isolate_network,
            limits=Limits(check_seconds=self.timeout, max_restarts=1),
        )
        problems: list[str] = []
        outcome = run(options, log=lambda line: problems.append(line))
        rows = {(r["case"], r["mode"]): res.expanded(outcome.data, r) for r in outcome.data["results"] if r["adapter"] == self.spec.name}
        adapter = outcome.data["adapters"].get(self.spec.name, {})
        hard = outcome.problems + outcome.case_errors + list(outcome.unavailable.values())
        probe = Probe(version, {k: r["status"] for k, r in rows.items()}, rows, adapter.get("library_version", ""),
                      outcome.results_path, time.perf_counter() - started, env, hard)
        self.done[version] = probe
        return probe


def bisect(spec: AdapterSpec, package: str, registry: Registry, start: str, end: str, case_paths: list[str],
           case_filter: list[str], out: Path, log: Callable[[str], None] = print, isolate_network: str = "auto") -> Bisection:
    """The first release between `start` and `end` where the verdict of the chosen checks changed."""
    started = time.perf_counter()
    case_paths = narrow_case_paths(case_paths, case_filter)
    candidates = between(cached_versions(registry, package, (start, end)), start, end)
    log(f"{len(candidates)} releases of {package} from {start} to {end}; about {max(len(candidates) - 2, 1).bit_length()} probes "
        f"after the two ends")
    prober = Prober(spec, package, registry, case_paths, case_filter, out, log, isolate_network)
    answer = search(candidates, prober, log)
    result = Bisection(spec.name, package, candidates, prober.done, seconds=time.perf_counter() - started)
    if isinstance(answer, str):
        result.message = answer
        return result
    low, high, skipped = answer
    result.before, result.after, result.skipped = prober.done[candidates[low]], prober.done[candidates[high]], skipped
    result.seconds = time.perf_counter() - started
    if high - low > 1:
        result.message = f"the change is somewhere from {candidates[low + 1]} to {candidates[high]} ({', '.join(skipped)} could not be tested)"
    return result


def narrow_case_paths(case_paths: list[str], case_filter: list[str]) -> list[str]:
    """The case files that hold the chosen cases (loaded once, not once per probe)."""
    loaded = load_cases(case_paths)
    chosen = [c for c in loaded.cases if any(fnmatch.fnmatchcase(c.id, p) for p in case_filter)]
    if not chosen:
        problems = "; ".join(str(e) for e in loaded.errors[:3])
        raise ReleaseError(f"no case id matches --case {' '.join(case_filter)}" + (f" ({problems})" if problems else ""))
    files = []
    for case in chosen:
        source = case.source.file if case.source and Path(str(case.source.file)).suffix in (".yaml", ".yml") else None
        if source is None:
            return case_paths  # a suite folder: run it as given
        if str(source) not in files:
            files.append(str(source))
    return files


def stage_diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Line diffs of every stage whose actual value moved between two result rows of the same check."""
    lines: list[str] = []
    old_stages, new_stages = before.get("stages") or {}, after.get("stages") or {}
    for stage in STAGES:
        old = (old_stages.get(stage) or {}).get("actual")
        new = (new_stages.get(stage) or {}).get("actual")
        if old == new:
            continue
        lines.append(f"    {stage}:")
        diff = difflib.unified_diff((old or "").splitlines(), (new or "").splitlines(), "before", "after", lineterm="", n=1)
        lines += [f"      {line}" for line in list(diff)[2:]]
    return lines


def format_bisection(result: Bisection) -> str:
    lines = []
    if not result.found:
        lines.append(f"no answer: {result.message}")
    else:
        before, after = result.before, result.after
        assert before is not None and after is not None
        lines.append(f"first release with a new verdict: {result.package} {after.version} (previous release: {before.version})")
        if result.message:
            lines.append(result.message)
        keys = sorted(set(before.verdict) | set(after.verdict))
        same = [k for k in keys if before.verdict.get(k) == after.verdict.get(k)]
        if len(keys) > 6:
            keys = [k for k in keys if k not in same]
            lines.append(f"  ({len(same)} other checks have the same verdict on both)")
        for key in keys:
            old, new = before.verdict.get(key), after.verdict.get(key)
            mark = "  " if old == new else "* "
            lines.append(f"{mark}{key[0]} [{key[1]}]: {old} ({before.version}) -> {new} ({after.version})")
            if old != new:
                row = after.rows.get(key, {})
                if row.get("reason"):
                    lines.append(f"    now: {row['reason']}")
                old_reason = before.rows.get(key, {}).get("reason")
                if old_reason:
                    lines.append(f"    was: {old_reason}")
                lines += stage_diff(before.rows.get(key, {}), row)
        moved = {k: (before.environment.packages.get(k) if before.environment else None, v)
                 for k, v in (after.environment.packages.items() if after.environment else ())
                 if before.environment and before.environment.packages.get(k) != v and k != result.package}
        if moved:
            lines.append("other packages that differ between the two environments: "
                         + ", ".join(f"{k} {a} -> {b}" for k, (a, b) in sorted(moved.items())))
    probed = [p for p in result.probes.values()]
    lines.append(f"{len(probed)} releases run of {len(result.candidates)} ({sum(1 for p in probed if p.environment and p.environment.cached)} "
                 f"from the cache) in {result.seconds:.1f}s")
    return "\n".join(lines)
