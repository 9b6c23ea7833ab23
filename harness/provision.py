"""`sigharness setup`: install what the adapters and tests need and build every adapter once.

System packages are declared in the adapter manifests (`toolchain: [{command, apt, check}]`) and in
SYSTEM_PACKAGES below; they are installed with apt-get when missing and when running as root,
otherwise the command to run is printed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness.adapters.manifest import AdapterSpec, discover, ensure_built

# Needed by the project's own tests (the report is checked in headless Chromium).
SYSTEM_PACKAGES = {"chromium": ("chromium",), "chromedriver": ("chromium-driver",)}


def _present(command: str, check: tuple[str, ...]) -> bool:
    if shutil.which(command) is None:
        return False
    if not check:
        return True
    try:
        return subprocess.run(check, capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def missing_packages(specs: list[AdapterSpec]) -> list[str]:
    wanted: list[str] = []
    for command, packages in SYSTEM_PACKAGES.items():
        if not _present(command, ()):
            wanted += packages
    for spec in specs:
        for tool in spec.toolchain:
            if tool.apt and not _present(tool.command, tool.check):
                wanted += [p for p in tool.apt if p not in wanted]
    return wanted


def install(packages: list[str], log=print) -> bool:
    if not packages:
        return True
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        log(f"missing system packages: {' '.join(packages)}; install them with: sudo apt-get update && sudo {' '.join(command)}")
        return False
    log(f"installing system packages: {' '.join(packages)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    update = subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, text=True)
    if update.returncode != 0:
        log("apt-get update failed: " + update.stderr.strip()[-300:])
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        log("apt-get install failed: " + done.stderr.strip()[-500:])
        return False
    return True


def setup(log=print, build: bool = True, system: bool = True) -> int:
    specs, problems = discover(kind=None)  # signers and verifiers (oracles) alike
    for line in problems:
        log(line)
    ok = True
    if system:
        ok = install(missing_packages(list(specs.values())), log) and ok
    if build:
        seen: set[Path] = set()
        for spec in specs.values():
            if spec.folder in seen:
                continue
            seen.add(spec.folder)
            availability = ensure_built(spec, announce=log)
            if availability.built_now:
                log(f"built {spec.folder.name} in {availability.build_seconds:.0f}s")
            if not availability.available:
                ok = False
                log(f"adapters in {spec.folder.name} are unavailable: {availability.reason}")
    if not ok and os.environ.get("CI"):
        log("setup incomplete; in CI every adapter and tool must be available")
        return 1
    return 0


def main() -> int:
    return setup(log=lambda line: print(f"setup: {line}", file=sys.stderr, flush=True))
