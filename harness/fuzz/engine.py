"""Drive the adapters and the search.

`Fleet` starts every selected adapter once (in parallel), keeps the processes for the whole fuzz
run, sends each generated check to all of them at once and judges every answer as a run would
(`harness.compare.judge` against the reference signer's stages, plus the verifier). A crashed or
hung adapter is restarted, a bounded number of times in a row.

`Fuzzer` is the search. It works in rounds; each round is one Hypothesis run (seeded from `--seed`
and the round number, no example database) over the request grammar whose test function signs the
drawn request everywhere and classifies the outcomes into a divergence signature. A signature that
is new raises an exception of a class made for that signature, so Hypothesis stops generating and
shrinks the request while keeping *that* signature (its own shrinker, its own notion of simpler).
The minimal request is handed to `on_finding`, its signature becomes known, and the next round
starts. Rounds end when the examples or the seconds are spent. Answers are cached by request, so
the examples Hypothesis tries again cost nothing.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

from harness.adapters.manifest import AdapterSpec, discover
from harness.adapters.pool import AdapterPool, AdapterSession, PoolSettings
from harness.limits import Limits
from harness.compare import Expected, expected_for, judge
from harness.fuzz.signature import Known, Outcome, Signature, classify, contained
from harness.fuzz.strategies import Grammar, case_data, to_case
from harness.model import Check

Evaluate = Callable[[Check], Mapping[str, Outcome]]


# -- adapters ------------------------------------------------------------------------------------
def _outcome(session: AdapterSession, check: Check, expected: Expected) -> Outcome:
    """One adapter's judged answer; `n/a` where the adapter declares it has no such algorithm or mode."""
    missing = session.missing_capability(check)
    if missing:
        return Outcome("n/a", reason=f"{session.spec.name}: {missing}")
    answer, fault = session.sign(check)
    if answer is None:
        return Outcome("error", reason=fault or "no answer")
    try:
        judged = judge(check, expected, answer)
    except Exception as exc:  # a harness bug is reported as one, not a crash of the fuzzer
        return Outcome("error", reason=f"harness could not judge this answer: {type(exc).__name__}: {exc}")
    # A streaming stage without its chunk or event number (`chunk_signature.3` -> `chunk_signature`):
    # the same fault at another chunk is the same divergence, and shrinking finds the first.
    stage = judged.stage.partition(".")[0] if judged.stage else judged.stage
    return Outcome(judged.status, stage, judged.reason, judged.to_json())


class Fleet:
    """The selected adapters, started once (through the adapter pool) and reused for every example."""

    def __init__(self, specs: list[AdapterSpec], *, adapter_env: dict[str, str] | None = None, timeout: float = 10.0,
                 start_timeout: float = 120.0, max_restarts: int = 3, log_dir: Path | None = None,
                 log: Callable[[str], None] = lambda line: None):
        from harness.cases.yamlfile import DEFAULT_CREDENTIALS

        limits = Limits(check_seconds=timeout, start_seconds=start_timeout, max_restarts=max_restarts)
        isolate, _ = PoolSettings.isolation("auto")
        settings = PoolSettings(limits=limits, adapter_env=adapter_env or {}, isolate_network=isolate, log_dir=log_dir,
                                secrets=frozenset({DEFAULT_CREDENTIALS["secret_access_key"]}))
        self.pool = AdapterPool(specs, settings, log)
        self._threads: ThreadPoolExecutor | None = None

    @property
    def unavailable(self) -> dict[str, str]:
        return self.pool.unavailable

    def start(self) -> None:
        self.pool.prepare().start_all()
        self._threads = ThreadPoolExecutor(max_workers=max(len(self.pool.sessions), 1), thread_name_prefix="fuzz-adapter")

    @property
    def names(self) -> list[str]:
        return sorted(self.pool.sessions)

    def versions(self) -> dict[str, str]:
        return {name: s.hello.library_version if s.hello else "unknown" for name, s in sorted(self.pool.sessions.items())}

    def evaluate(self, check: Check) -> dict[str, Outcome]:
        """Every adapter's judged answer for one check. Raises when the reference cannot sign it."""
        expected = expected_for(check)
        assert self._threads is not None, "Fleet.start() first"
        futures = {name: self._threads.submit(_outcome, s, check, expected) for name, s in self.pool.sessions.items()}
        return {name: f.result() for name, f in futures.items()}

    def close(self) -> None:
        self.pool.close()
        if self._threads is not None:
            self._threads.shutdown(wait=False)
            self._threads = None


def select(adapter_dirs: list[Path] | None, wanted: list[str] | None) -> tuple[list[AdapterSpec], list[str]]:
    """The adapters to fuzz (all found when `wanted` is empty) and problems (unknown names...)."""
    from harness.runner import select_adapters

    known, problems = discover(adapter_dirs) if adapter_dirs else discover()
    chosen, unknown = select_adapters(known, wanted)
    return chosen, problems + unknown


# -- the search ----------------------------------------------------------------------------------
@dataclass
class FuzzOptions:
    seed: int = 0
    max_examples: int = 1000  # generated examples over all rounds (shrinking not counted)
    seconds: float = 300.0  # generation stops then; a shrink in progress gets its own budget
    shrink_seconds: float = 60.0  # per finding
    grammar: Grammar = field(default_factory=Grammar)
    keep_compound: bool = False
    exact_shrink: bool = False  # shrink keeping the exact signature (default: any new part of it)
    max_findings: int | None = None


@dataclass
class Finding:
    """A new divergence, shrunk: the case mapping, its signature and every adapter's outcome."""

    data: dict[str, Any]
    signature: Signature
    outcomes: dict[str, Outcome]
    seed: int
    round: int
    check: Check


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    generated: int = 0  # examples drawn while searching
    shrink_calls: int = 0  # examples tried while shrinking
    evaluated: int = 0  # distinct checks sent to the adapters
    skipped: int = 0  # requests the reference signer could not sign
    rounds: int = 0
    verdicts: dict[str, int] = field(default_factory=lambda: {"agree": 0, "known": 0, "compound": 0, "shadow": 0, "new": 0})
    signatures: set[tuple[Any, str]] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)
    pruned: list[Finding] = field(default_factory=list)
    stopped: str = ""
    phase: str = "search"

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


class _Stop(BaseException):
    """The budget is spent: leaves the Hypothesis run at once (not a test failure to shrink)."""


class Divergence(Exception):
    """Raised inside the Hypothesis test for a new divergence (one subclass per round)."""

    data: dict[str, Any]
    signature: Signature


def sibling(data: dict[str, Any]) -> dict[str, Any] | None:
    """The same request in the context more adapters can express: SigV4 instead of SigV4A, the
    session token signed instead of added after signing. None when there is no such context."""
    context = dict(data["context"])
    changed = False
    if context.get("algorithm") == "sigv4a":
        context.pop("algorithm")
        context.pop("region_set", None)
        changed = True
    if context.get("session_token_placement") == "after":
        context.pop("session_token_placement")
        changed = True
    return dict(data, context=context) if changed else None


def round_seed(run_seed: int, round_no: int) -> int:
    digest = hashlib.sha256(f"sigharness-fuzz:{run_seed}:{round_no}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def data_key(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


class Fuzzer:
    def __init__(self, evaluate: Evaluate, options: FuzzOptions, known: Known | None = None,
                 on_finding: Callable[[Finding], None] = lambda f: None,
                 on_prune: Callable[[Finding], None] = lambda f: None,
                 progress: Callable[[Stats], None] = lambda s: None,
                 log: Callable[[str], None] = lambda line: None):
        self.evaluate = evaluate
        self.options = options
        self.known = known if known is not None else Known()
        self.on_finding = on_finding
        self.on_prune = on_prune
        self.progress = progress
        self.log = log
        self.stats = Stats()
        self._cache: dict[str, tuple[Signature, dict[str, Outcome], Check] | None] = {}
        self._lock = threading.Lock()

    # One drawn mapping -> (signature, outcomes, check), cached; None when the reference refuses.
    def _outcome(self, data: dict[str, Any]) -> tuple[Signature, dict[str, Outcome], Check] | None:
        key = data_key(data)
        if key in self._cache:
            return self._cache[key]
        case = to_case(data)
        check = Check(case, case.modes[0])  # header or query; `stream` for a streaming case
        try:
            outcomes = dict(self.evaluate(check))
        except Exception as exc:  # the reference signer cannot sign it: not a divergence to judge
            self.stats.skipped += 1
            self.log(f"skipped a request the reference cannot sign: {type(exc).__name__}: {exc}")
            self._cache[key] = None
            return None
        self.stats.evaluated += 1
        result = (classify(outcomes), outcomes, check)
        self._cache[key] = result
        return result

    def run(self) -> Stats:
        opts = self.options
        deadline = self.stats.started + opts.seconds
        round_no = 0
        while True:
            if self.stats.generated >= opts.max_examples:
                self.stats.stopped = f"{opts.max_examples} examples"
                break
            if time.monotonic() >= deadline:
                self.stats.stopped = f"{opts.seconds:g} seconds"
                break
            if opts.max_findings is not None and len(self.stats.findings) >= opts.max_findings:
                self.stats.stopped = f"{opts.max_findings} findings"
                break
            before = self.stats.generated
            finding = self._round(round_no, deadline)
            self.stats.rounds += 1
            if finding is not None:
                self.known.add(finding.signature)
                self.stats.findings.append(finding)
                self.on_finding(finding)
            elif self.stats.generated == before:
                self.stats.stopped = "the grammar is exhausted"
                break
            if self.stats.stopped:
                break
            round_no += 1
        if not opts.keep_compound:
            self._prune()
        self.stats.phase = "done"
        self.progress(self.stats)
        return self.stats

    def _prune(self) -> None:
        """Drop this run's findings that later, smaller findings explain (a request that combined
        two triggers, found before either trigger alone was)."""
        for finding in sorted(self.stats.findings, key=lambda f: -len(f.signature.deviations)):
            if self.known.explained(finding.signature, without=finding.signature.key):
                self.known.discard(finding.signature)
                self.stats.findings.remove(finding)
                self.stats.pruned.append(finding)
                self.log(f"dropped a finding now explained by smaller ones ({finding.signature.describe()})")
                self.on_prune(finding)

    def _round(self, round_no: int, deadline: float) -> Finding | None:
        opts = self.options
        stats = self.stats
        divergence = type(f"Divergence_round_{round_no}", (Divergence,), {})
        state: dict[str, Any] = {"target": None, "shrink_deadline": 0.0}

        def test(data: dict[str, Any]) -> None:
            target = state["target"]
            if target is None:
                if stats.generated >= opts.max_examples:
                    stats.stopped = f"{opts.max_examples} examples"
                    raise _Stop()
                if time.monotonic() >= deadline:
                    stats.stopped = f"{opts.seconds:g} seconds"
                    raise _Stop()
                stats.generated += 1
            else:
                stats.shrink_calls += 1
                if time.monotonic() >= state["shrink_deadline"] and data_key(data) not in self._cache:
                    return  # shrinking time is up: only what is known already can still count
            result = self._outcome(data)
            self.progress(stats)
            if result is None:
                return
            signature = result[0]
            if target is None:
                stats.signatures.add(signature.key)
                verdict = self._verdict(signature, data)
                stats.verdicts[verdict] += 1
                if verdict == "shadow":
                    # Known from now on, so requests combining it with other known triggers
                    # are compound. (Only while searching: the shrink predicate must not move.)
                    self.known.add(signature)
                if verdict != "new":
                    return
                target = state["target"] = signature
                state["shrink_deadline"] = time.monotonic() + opts.shrink_seconds
                stats.phase = "shrink"
                self.log(f"new divergence ({signature.describe()}); shrinking")
            if self._keeps(signature, target, data):
                # One raise statement and one class per round: Hypothesis tells failures apart by
                # exception type and line, and shrinks while both stay the same.
                raise self._divergence(divergence, signature, data)

        hypothesis_settings = settings(
            database=None,
            max_examples=max(opts.max_examples - stats.generated, 1),
            deadline=None,
            derandomize=False,
            report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck),
            phases=(Phase.generate, Phase.shrink),
            verbosity=Verbosity.debug if __import__("os").environ.get("FUZZ_DEBUG") else Verbosity.quiet,
            print_blob=False,
        )
        runner = hypothesis_settings(seed(round_seed(opts.seed, round_no))(given(case_data(opts.grammar))(test)))
        stats.phase = "search"
        try:
            runner()
        except _Stop:
            return None
        except Divergence as exc:
            return self._finding(exc, round_no)
        finally:
            stats.phase = "search"
        return None

    def _verdict(self, signature: Signature, data: dict[str, Any]) -> str:
        """Known.verdict, plus 'shadow': a SigV4A (or token-added-after-signing) request whose
        divergence is the one the same request shows as SigV4 (token signed), already known, seen
        through the fewer adapters that can take part (the others are n/a or unsupported here)."""
        verdict = self.known.verdict(signature, self.options.keep_compound)
        if verdict != "new" or self.options.keep_compound:
            return verdict
        twin = sibling(data)
        result = self._outcome(twin) if twin is not None else None
        if result is None:
            return verdict
        twin_signature = result[0]
        if self.known.verdict(twin_signature) not in ("known", "compound"):
            return verdict
        # Compared without stages: a SigV4A signature is verified, never compared, so a library
        # that hides its canonical request differs at `signature` in SigV4 but only at
        # `signed_request` in SigV4A.
        taking_part = {a for a, c in signature.classes if c not in ("n/a", "unsupported")}
        seen_there = {(a, c) for a, c, _ in twin_signature.deviations if a in taking_part}
        if seen_there == {(a, c) for a, c, _ in signature.deviations}:
            return "shadow"
        return verdict

    def _keeps(self, signature: Signature, target: Signature, data: dict[str, Any]) -> bool:
        """While shrinking: does this request still show what was found? By default, any new
        divergence made of the target's deviations (a part of it is enough: shrinking a request
        that combines two triggers then isolates one, and the other is found in a later round);
        with --exact-shrink, only the target's own key."""
        if self.options.exact_shrink:
            return signature.key == target.key
        if signature.agrees or not contained(signature.deviations, target.deviations):
            return False
        return signature.key == target.key or self._verdict(signature, data) == "new"

    def _divergence(self, cls: type[Divergence], signature: Signature, data: dict[str, Any]) -> Divergence:
        exc = cls(signature.describe())
        exc.data = data
        exc.signature = signature
        return exc

    def _finding(self, exc: Divergence, round_no: int) -> Finding:
        result = self._outcome(exc.data)
        assert result is not None
        signature, outcomes, check = result
        return Finding(exc.data, signature, outcomes, self.options.seed, round_no, check)


def known_from_cases(cases: list, evaluate: Evaluate, log: Callable[[str], None] = lambda line: None) -> list[Signature]:
    """The signatures of existing cases: stored ones from their `flags.found_by`; the others by
    signing them with the adapters (so a divergence a curated case already shows is not new)."""
    out: list[Signature] = []
    for case in cases:
        found_by = case.flags.get("found_by")
        if isinstance(found_by, dict) and found_by.get("signature"):
            out.append(Signature.from_found_by(found_by))
            continue
        for mode in case.modes:
            try:
                out.append(classify(evaluate(Check(case, mode))))
            except Exception as exc:
                log(f"{case.id} ({mode}): the reference cannot sign it ({type(exc).__name__}); not used as known")
    return out
