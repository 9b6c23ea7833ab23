from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.results import expanded, load_results

ROOT = Path(__file__).resolve().parents[1]
SUITE = Path(os.environ.get("SIGHARNESS_SUITE", ROOT.parent / "shared" / "vectors" / "aws-c-auth"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MUTANTS = FIXTURES / "adapters"


def suite_or_skip() -> Path:
    if not (SUITE / "v4").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the aws-c-auth suite is not at {SUITE}; set SIGHARNESS_SUITE")
        pytest.skip(f"aws-c-auth suite not found at {SUITE} (set SIGHARNESS_SUITE)")
    return SUITE


@pytest.fixture(scope="session")
def suite() -> Path:
    return suite_or_skip()


def sigharness(*args: str, timeout: float = 900, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would, from the project folder."""
    full_env = dict(os.environ, PYTHONPATH=str(ROOT))
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=full_env
    )


def run_results(tmp_path: Path, *args: str, timeout: float = 900, env: dict[str, str] | None = None,
                oracles: bool = False, send: bool = False) -> tuple[subprocess.CompletedProcess[str], dict]:
    """`sigharness run` into tmp_path/run; the oracles only when the test is about them (tests/test_oracles.py),
    the wire stage only when the test is about it (tests/test_wire_stage.py)."""
    out = tmp_path / "run"
    proc = sigharness("run", "--out", str(out), "--quiet", "--no-report", *([] if oracles else ["--no-oracles"]),
                      *([] if send else ["--no-send"]), *args,
                      timeout=timeout, env=env)
    path = out / "results.json"
    assert path.exists(), f"no results.json; stderr:\n{proc.stderr[-3000:]}"
    return proc, read_results(path)


def read_results(path: Path) -> dict:
    """A run's results.json with every row in full (expected and actual texts, diffs), as the report reads it."""
    data = load_results(path)
    return {**data, "results": [expanded(data, row) for row in data["results"]]}


def verdicts(data: dict, adapter: str | None = None) -> dict[tuple[str, str], str]:
    return {(r["case"], r["mode"]): r["status"] for r in data["results"] if adapter is None or r["adapter"] == adapter}


def unavailable(reason: str, what: str) -> None:
    """A missing toolchain or library: a failure in CI (never a silent skip there), a skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: {what} must be testable here)")
    pytest.skip(reason)


def harness_run(out: Path, adapters: str, *adapter_env: str, cases: Path | None = None, case_ids: tuple[str, ...] = (),
                timeout: float = 900, report: bool = False, oracles: bool = False,
                send: bool = False) -> tuple[dict, subprocess.CompletedProcess[str]]:
    """`sigharness run` over `cases` (default: the suite) for `adapters`, with extra adapter
    environment; returns results.json and the process (for its stderr)."""
    cmd = [sys.executable, "-m", "harness", "run", "--cases", str(cases or SUITE), "--adapters", adapters, "--out", str(out)]
    cmd += [] if report else ["--no-report", "--quiet"]
    cmd += [] if oracles else ["--no-oracles"]  # adapter tests judge signers; tests/test_oracles.py asks for oracles
    cmd += [] if send else ["--no-send"]  # and the wire stage only where a test is about it (tests/test_wire_stage.py)
    for case in case_ids:
        cmd += ["--case", case]
    for setting in adapter_env:
        cmd += ["--adapter-env", setting]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    results_file = out / "results.json"
    assert results_file.exists(), (
        f"harness run wrote no results.json (exit {proc.returncode})\n"
        f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    )
    return read_results(results_file), proc


def adapter_command(name: str) -> tuple[list[str], Path]:
    """How the manifest starts adapter `name` (built first when it has a build step), and its folder."""
    from harness.adapters.manifest import discover, ensure_built

    known, _ = discover()
    spec = known[name]
    availability = ensure_built(spec)
    if not availability.available:
        unavailable(availability.reason, name)
    return spec.command(availability.build_dir), spec.folder


def talk(command: list[str], messages: list, cwd: Path, home: Path,
         env: dict[str, str] | None = None, adapter: str | None = None) -> tuple[list[dict], subprocess.CompletedProcess[str]]:
    """Speak the adapter protocol to one adapter started by hand: JSON lines in, the answers out. With
    `adapter`, each hello says that name, as the harness does."""
    if adapter:
        messages = [dict(m, adapter=adapter) if isinstance(m, dict) and m.get("type") == "hello" else m for m in messages]
    text = "".join((m if isinstance(m, str) else json.dumps(m)) + "\n" for m in messages)
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "TZ": "UTC", **(env or {})}
    proc = subprocess.run(command, input=text, capture_output=True, text=True, timeout=120, env=full_env, cwd=cwd)
    return [json.loads(line) for line in proc.stdout.splitlines()], proc


def suite_check(case_id: str, mode: str) -> dict:
    """The protocol's CHECK for one aws-c-auth case, exactly as the runner sends it."""
    from harness.cases.suite import load_suite
    from harness.model import Check

    cases = {c.id: c for c in load_suite(suite_or_skip(), [])}
    return Check(cases[case_id], mode).to_json()


@__import__("contextlib").contextmanager
def one_oracle(name: str):
    """One oracle (a verifier adapter) started through the pool, one process; unavailable -> the CI failure or skip."""
    from harness.adapters.manifest import discover
    from harness.adapters.pool import PoolSettings
    from harness.oracles import Oracles, select

    specs, problems = select(discover(kind=None)[0], [name])
    assert not problems
    with Oracles(specs, PoolSettings(), processes=1) as started:
        started.start()
        if name not in started.oracles:
            unavailable(started.unavailable.get(name, "not started"), name)
        yield started


def oracle_opinion(oracles, name: str, check, signed, body: bytes, now: str | None = None) -> dict[str, str]:
    """An oracle's opinion of a signed request; `now`: the server's clock instead of the check's signing time."""
    import base64

    from harness import protocol
    from harness.oracles import server_for

    if now is None:
        return oracles.opinions(check, signed, body, names=[name])[name]
    server = dict(server_for(check), now=now)
    received = {"method": signed.method, "url": signed.url, "headers": [list(h) for h in signed.headers],
                "body_b64": base64.b64encode(body).decode("ascii")}
    return oracles.ask(name, check, protocol.verify(received, server, None))
