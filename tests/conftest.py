from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def run_results(tmp_path: Path, *args: str, timeout: float = 900, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], dict]:
    out = tmp_path / "run"
    proc = sigharness("run", "--out", str(out), "--quiet", "--no-report", *args, timeout=timeout, env=env)
    path = out / "results.json"
    assert path.exists(), f"no results.json; stderr:\n{proc.stderr[-3000:]}"
    return proc, json.loads(path.read_text())


def verdicts(data: dict, adapter: str | None = None) -> dict[tuple[str, str], str]:
    return {(r["case"], r["mode"]): r["status"] for r in data["results"] if adapter is None or r["adapter"] == adapter}
