"""`pip install` of the built wheel gives a working `sigharness` with the curated cases, without a
checkout: the wheel is built from this folder with no network (setuptools and wheel from the test
environment), installed into a fresh virtualenv whose dependencies come from the test environment
(a .pth file after the venv's own site-packages), and run from an empty folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from harness.bundled import SHIPPED

pytest.importorskip("wheel", reason="building the wheel offline needs the `wheel` package (constraints.txt)")


pytestmark = pytest.mark.slow  # builds and installs a wheel (about 20 s)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(the virtualenv's bin folder, the wheel)."""
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"  # a clean copy of what the build reads (it writes build/ and *.egg-info next to setup.py)
    skip = shutil.ignore_patterns("__pycache__", ".build", "node_modules", "*.egg-info")
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "harness", *SHIPPED):
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, target, ignore=skip)
        else:
            shutil.copy2(ROOT / name, target)
    wheels = tmp / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "-w", str(wheels), "--no-deps",
                            "--no-build-isolation", "--no-index", "-q"], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    wheel, = wheels.glob("sigharness-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies (PyYAML, jsonschema, ...) of the test environment, after the venv's own packages
    Path(site, "zz-test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # --ignore-installed: the test environment (on the venv's path through the .pth above) may hold an editable
    # sigharness already (tox installs one), and the wheel must still be installed, console script and all
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                              "--ignore-installed", "-q", str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-3000:]
    return venv / "bin", wheel


def run_installed(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SIGHARNESS_ADAPTER_DIRS", "SIGHARNESS_PYTHON")}
    return subprocess.run([str(bin_dir / "sigharness"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_wheel_carries_the_cases_and_the_build_free_adapters(installed):
    _, wheel = installed
    names = zipfile.ZipFile(wheel).namelist()
    shipped_cases = {n.split("harness/_bundled/", 1)[1] for n in names if n.startswith("harness/_bundled/cases/")}
    in_checkout = {str(p.relative_to(ROOT)) for p in (ROOT / "cases").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert shipped_cases == in_checkout and any(n.endswith(".bin") for n in in_checkout)  # data files too
    for needed in ("harness/_bundled/adapters/reference/adapter.yaml", "harness/_bundled/adapters/python/host.py",
                   "harness/_bundled/adapters/js/sdk.js", "harness/adapter_sdk.py",
                   "harness/adapter_templates/python/host.py", "harness/protocol.schema.json"):
        assert needed in names, needed
    assert not [n for n in names if "__pycache__" in n or "/.build/" in n]


def test_installed_sigharness_validates_and_runs_the_shipped_cases(installed, tmp_path):
    bin_dir, _ = installed
    validate = run_installed(bin_dir, tmp_path, "validate")
    assert validate.returncode == 0, validate.stdout + validate.stderr
    count = sum(1 for _ in (ROOT / "cases").rglob("*.yaml"))
    assert "cases valid, 0 problems" in validate.stderr and count > 10
    run = run_installed(bin_dir, tmp_path, "run", "--adapters", "py-reference", "--case", "query/*", "--no-report", "--quiet")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results, = tmp_path.glob("reports/run-*/results.json")  # outputs go to the current folder, not site-packages
    data = json.loads(results.read_text())
    statuses = {r["status"] for r in data["results"]}
    assert data["results"] and statuses == {"pass"} and all(case.startswith("query/") for case in data["cases"])
    case_path, = data["manifest"]["settings"]["case_paths"]  # the installed copy, not this checkout's cases/
    assert case_path.startswith(str(bin_dir.parent)) and case_path.endswith("harness/_bundled/cases"), case_path
    # the SDK and the template command come with it
    new = run_installed(bin_dir, tmp_path, "new-adapter", "js-mine", "--language", "javascript", "--dir", str(tmp_path / "ext"))
    assert new.returncode == 0, new.stderr
    assert (tmp_path / "ext" / "js-mine" / "sdk.js").read_bytes() == (ROOT / "adapters" / "js" / "sdk.js").read_bytes()
    sdk = subprocess.run([str(bin_dir / "python"), "-c", "from harness.adapter_sdk import serve, Unsupported, Rejected, FixedClock"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert sdk.returncode == 0, sdk.stderr
