"""Would upgrading a signing library from one release to another change any verdict? Both releases run
in their own throwaway environment (harness/releases.py), the runs are diffed (harness/diff.py), and
every other package whose version differs between the two environments is listed with the diff.

Also the companion pins of the version matrix: for a release (botocore 1.27.13), the version of a
companion package (awscrt) that its metadata requires through an extra (`crt`), or, when that exact
release cannot be installed here (no wheel for this interpreter), the oldest installable one above it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from harness import diff
from harness.adapters.manifest import AdapterSpec
from harness.releases import PyPI, Registry, ReleaseError, declared_requirements, installable_versions
from harness.runner import RunOptions, run


@dataclass
class Side:
    version: str
    data: dict[str, Any]
    packages: dict[str, str]
    out: Path


@dataclass
class UpgradeCheck:
    package: str
    before: Side
    after: Side
    comparison: diff.Comparison
    moved: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # name, before, after


def moved_packages(before: dict[str, str], after: dict[str, str], package: str) -> list[tuple[str, str | None, str | None]]:
    """Every package other than `package` whose version differs (None: absent on that side)."""
    names = sorted((set(before) | set(after)) - {package.lower(), package})
    return [(n, before.get(n), after.get(n)) for n in names if before.get(n) != after.get(n)]


def freeze_text(packages: dict[str, str]) -> str:
    return "".join(f"{name}=={version}\n" for name, version in sorted(packages.items()))


def _merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One results.json-shaped dict from per-adapter runs of the same cases."""
    merged = dict(runs[0], results=[], adapters={})
    for data in runs:
        merged["results"] += data["results"]
        merged["adapters"].update(data["adapters"])
    return merged


def run_release(specs: list[AdapterSpec], package: str, registry: Registry, version: str, case_paths: list[str],
                case_filter: list[str] | None, out: Path, log: Callable[[str], None], isolate_network: str = "auto") -> Side:
    runs, packages = [], {}
    for spec in specs:
        env = registry.environment(spec, package, version)
        packages.update(env.packages)
        options = RunOptions(
            case_paths=case_paths, out_dir=out / spec.name, adapters=[spec.name],
            adapter_dirs=env.adapter_dirs or [spec.folder.parent], adapter_env=env.adapter_env,
            case_filter=case_filter, isolate_network=isolate_network,
        )
        outcome = run(options, log=log)
        reported = outcome.data["adapters"].get(spec.name, {}).get("library_version")
        if reported != version:
            raise ReleaseError(f"{spec.name} ran {package} {reported}, not {version} (see {outcome.out_dir / 'logs'})")
        runs.append(outcome.data)
    (out / "freeze.txt").write_text(freeze_text(packages))
    return Side(version, _merge(runs), packages, out)


def upgrade_check(specs: list[AdapterSpec], package: str, registry: Registry, start: str, end: str, case_paths: list[str],
                  case_filter: list[str] | None, out: Path, log: Callable[[str], None] = print,
                  isolate_network: str = "auto") -> UpgradeCheck:
    before = run_release(specs, package, registry, start, case_paths, case_filter, out / f"{package}-{start}", log, isolate_network)
    after = run_release(specs, package, registry, end, case_paths, case_filter, out / f"{package}-{end}", log, isolate_network)
    return UpgradeCheck(package, before, after, diff.compare(before.data, after.data),
                        moved_packages(before.packages, after.packages, package))


def format_upgrade(check: UpgradeCheck, limit: int = 200) -> str:
    lines = [diff.format_text(check.comparison, f"{check.package} {check.before.version}",
                                 f"{check.package} {check.after.version}", limit=limit)]
    if check.moved:
        lines.append(f"other packages that moved with {check.package} ({check.before.out / 'freeze.txt'} -> "
                     f"{check.after.out / 'freeze.txt'}):")
        lines += [f"  {name}: {old or 'absent'} -> {new or 'absent'}" for name, old, new in check.moved]
    else:
        lines.append("no other package differs between the two environments")
    return "\n".join(lines)


# ------------------------------------------------------------------------------- companion pins

@dataclass
class CompanionPin:
    package: str
    version: str
    companion: str
    declared: str  # the specifier the release's metadata gives, "" when it names none
    chosen: str | None
    note: str = ""

    def requirement(self) -> str | None:
        return f"{self.companion}=={self.chosen}" if self.chosen else None


def declared_companion(requires: list[str], companion: str, extras: tuple[str, ...]) -> SpecifierSet | None:
    """The specifier for `companion` among a release's Requires-Dist lines, with `extras` selected."""

    class _Dist:
        pass

    dist = _Dist()
    dist.requires = requires  # type: ignore[attr-defined]
    for req in declared_requirements(dist, extras):  # type: ignore[arg-type]
        if req.name.lower() == companion.lower():
            return req.specifier
    return None


def companion_pin(registry: PyPI, package: str, version: str, companion: str, extras: tuple[str, ...]) -> CompanionPin:
    """What `package` `version` declares for `companion` (with `extras`), made installable on this interpreter."""
    site, _ = registry.install(package, version)
    dists = [d for d in metadata.distributions(path=[str(site)]) if d.metadata["Name"].lower() == package.lower()]
    if not dists:
        raise ReleaseError(f"{package} {version}: no metadata in {site}")
    spec = declared_companion(dists[0].requires or [], companion, extras)
    if spec is None:
        return CompanionPin(package, version, companion, "", None, f"{package} {version} declares no {companion}")
    exact = [s.version for s in spec if s.operator in ("==", "===")]
    if not exact:
        return CompanionPin(package, version, companion, str(spec), None, "a range, not a pin: pip's choice within it is kept")
    available = installable_versions(registry.python, companion, exact[0])
    if available is None:
        return CompanionPin(package, version, companion, str(spec), exact[0], "as declared")
    newer = sorted((v for v in available if Version(v) >= Version(exact[0])), key=Version)
    if not newer:
        return CompanionPin(package, version, companion, str(spec), None, f"no {companion} release at or above {exact[0]} installs here")
    return CompanionPin(package, version, companion, str(spec), newer[0],
                        f"{companion} {exact[0]} has no wheel for this Python; {newer[0]} is the oldest release above it that has one")


def install_pin(pin: CompanionPin, python: str = sys.executable) -> None:
    """Install the chosen companion into `python`'s environment (the matrix constraints do not apply to it)."""
    requirement = pin.requirement()
    if requirement is None:
        return
    env = {k: v for k, v in os.environ.items() if k != "PIP_CONSTRAINT"}
    proc = subprocess.run([python, "-m", "pip", "--disable-pip-version-check", "install", "--quiet", "--no-deps", requirement],
                          capture_output=True, text=True, timeout=600, env=env)
    if proc.returncode != 0:
        raise ReleaseError(f"installing {requirement} failed: {proc.stderr.strip()[-300:]}")
