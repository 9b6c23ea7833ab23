"""The Rust adapter (adapters/rust, `rust-aws-sigv4`) really signs with the aws-sigv4 crate.

1. A normal harness run over the aws-c-auth suite: a few plain SigV4 cases pass in both modes.
2. The same run with the crate swapped for a copy whose SigV4 signature computation is altered
   (`SIGHARNESS_RUST_PATCH_AWS_SIGV4=<dir>` through `--adapter-env`; adapters/rust/build.sh turns
   it into a cargo `[patch.crates-io]` for aws-sigv4): the same checks now fail. The adapter code
   is untouched, so the signatures it reports come from the crate.

Both builds are cached by the harness (the env setting is part of the build key), and the altered
crate copy lives at a path derived from its content, so later runs reuse both builds.

Without a usable Rust toolchain the tests are skipped, except under CI (the CI variable set),
where they fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import harness_run, suite_or_skip, unavailable

REPO = Path(__file__).resolve().parents[1]
ADAPTER_DIR = REPO / "adapters" / "rust"
ADAPTER = "rust-aws-sigv4"
MIN_RUSTC = (1, 94, 1)  # rust-version of aws-sigv4 1.6.4 (the version in Cargo.lock)
CHECKS = [
    (f"aws-c-auth/v4/{name}", mode)
    for name in ("get-vanilla", "post-vanilla", "get-vanilla-query")
    for mode in ("header", "query")
]
PATCH_ENV = "SIGHARNESS_RUST_PATCH_AWS_SIGV4"
RUN_TIMEOUT = 1800  # seconds; covers a cold release build on a 2-core machine


def _unavailable(reason: str) -> None:
    unavailable(reason, "the Rust adapter")


def _rustc_version() -> tuple[int, ...] | None:
    try:
        out = subprocess.run(["rustc", "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"rustc (\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in m.groups()) if m else None


@pytest.fixture(scope="module")
def toolchain() -> None:
    if shutil.which("cargo") is None or shutil.which("rustc") is None:
        _unavailable("cargo/rustc not on PATH")
    version = _rustc_version()
    if version is None or version < MIN_RUSTC:
        _unavailable(f"rustc {version} is older than {MIN_RUSTC} (needed by aws-sigv4 1.6.4)")
    suite_or_skip()  # SIGHARNESS_SUITE, as every other test


def _run_harness(out: Path, *adapter_env: str) -> tuple[dict, dict[tuple[str, str], dict]]:
    """(the adapter's entry in results.json `adapters`, its results by (case, mode))."""
    data, proc = harness_run(out, ADAPTER, *adapter_env, timeout=RUN_TIMEOUT, report=True)
    doc = data
    mine = {(r["case"], r["mode"]): r for r in doc["results"] if r["adapter"] == ADAPTER}
    assert mine, f"no results for {ADAPTER}; stderr:\n{proc.stderr[-4000:]}"
    return doc.get("adapters", {}).get(ADAPTER, {}), mine


def _locked_version() -> str:
    lock = (ADAPTER_DIR / "Cargo.lock").read_text()
    m = re.search(r'name = "aws-sigv4"\nversion = "([^"]+)"', lock)
    assert m, "aws-sigv4 not in adapters/rust/Cargo.lock"
    return m.group(1)


def _aws_sigv4_source() -> Path:
    """The registry source of the aws-sigv4 version pinned in Cargo.lock (fetched if needed)."""
    proc = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked",
         "--manifest-path", str(ADAPTER_DIR / "Cargo.toml")],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, f"cargo metadata failed:\n{proc.stderr[-4000:]}"
    packages = json.loads(proc.stdout)["packages"]
    (pkg,) = [p for p in packages if p["name"] == "aws-sigv4" and (p.get("source") or "").startswith("registry+")]
    return Path(pkg["manifest_path"]).parent


SIGNATURE_LINE = "    mac.update(string_to_sign);\n    hex::encode(mac.finalize_fixed())"
SABOTAGED_LINE = '    mac.update(string_to_sign);\n    mac.update(b"sigharness-sabotage");\n    hex::encode(mac.finalize_fixed())'


def _sabotaged_crate() -> Path:
    """A copy of aws-sigv4 whose v4::calculate_signature HMACs extra bytes, at a stable path."""
    source = _aws_sigv4_source()
    v4_rs = (source / "src" / "sign" / "v4.rs").read_text()
    assert v4_rs.count(SIGNATURE_LINE) == 1, "aws-sigv4 src/sign/v4.rs changed: update the sabotage"
    altered = v4_rs.replace(SIGNATURE_LINE, SABOTAGED_LINE)
    digest = hashlib.sha256((source.name + "\0" + altered).encode()).hexdigest()[:16]
    target = ADAPTER_DIR / ".sabotage" / f"{source.name}-{digest}"
    if not (target / "Cargo.toml").exists():
        tmp = target.with_name(target.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(source, tmp)
        (tmp / "src" / "sign" / "v4.rs").write_text(altered)
        tmp.rename(target)
    return target


@pytest.fixture(scope="module")
def normal_run(toolchain, tmp_path_factory) -> tuple[dict, dict[tuple[str, str], dict]]:
    return _run_harness(tmp_path_factory.mktemp("rust-normal"))


def test_rust_adapter_passes_aws_c_auth(normal_run):
    info, normal_results = normal_run
    if "library_version" in info:
        assert info["library_version"] == _locked_version(), info
    for key in CHECKS:
        assert key in normal_results, f"{key} missing from the run"
        assert normal_results[key]["status"] == "pass", (key, normal_results[key])


def test_rust_adapter_fails_with_altered_crate(normal_run, tmp_path_factory):
    _, normal_results = normal_run
    crate = _sabotaged_crate()
    info, broken = _run_harness(tmp_path_factory.mktemp("rust-sabotaged"), f"{PATCH_ENV}={crate}")
    if "library_version" in info:  # build.rs marks a crate built from a path patch
        assert info["library_version"] == _locked_version() + "+path", info
    for key in CHECKS:
        assert normal_results[key]["status"] == "pass", (key, normal_results[key])
        assert key in broken, f"{key} missing from the sabotaged run"
        assert broken[key]["status"] == "fail", (key, broken[key])
