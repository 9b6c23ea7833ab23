"""Releases of an adapter's library from its registry (PyPI, npm), and throwaway environments that
run an adapter against one chosen release, cached under a folder and reused across runs.

PyPI: `pip index versions NAME` lists releases; `pip install --no-deps --target CACHE/pypi/NAME-V
NAME==V` installs one, and the folder goes first on the adapter's PYTHONPATH, so the harness's own
virtualenv supplies every other package. A dependency the release declares that the base
environment does not satisfy (urllib3 < 1.27 for an old botocore) is installed into the same
folder, and said.

npm: `npm view NAME versions --json` lists releases; `npm install NAME@V` goes into a folder of its
own next to links to the adapter's files, run by Node with --preserve-symlinks so that `require`
finds the release installed there (the adapter's other packages come from its own node_modules via
NODE_PATH). No adapter file is edited or copied.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Protocol

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from harness.adapters.manifest import AdapterSpec, default_python, ensure_built, substitute
from harness.bundled import project_path

REGISTRY_TIMEOUT = 300
RECORD = ".sigharness-release.json"  # what an install put in its folder
ECOSYSTEMS = {"python": "pypi", "javascript": "npm"}


class ReleaseError(Exception):
    """A registry or an install failed; the message says which command and why."""


@dataclass
class Environment:
    """How to run one adapter against one release: extra environment and adapter folders for RunOptions."""

    version: str
    adapter_env: dict[str, str] = field(default_factory=dict)
    adapter_dirs: list[Path] | None = None
    packages: dict[str, str] = field(default_factory=dict)  # every package version the adapter sees, by name
    companions: dict[str, str] = field(default_factory=dict)  # installed next to the release because it declares them
    cached: bool = False
    site: Path | None = None  # the folder the release was installed into


class Registry(Protocol):
    ecosystem: str

    def versions(self, package: str) -> list[str]: ...

    def environment(self, spec: AdapterSpec, package: str, version: str) -> Environment: ...


def default_cache() -> Path:
    base = os.environ.get("SIGHARNESS_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "sigharness")
    return Path(base) / "releases"


def release_key(version: str) -> tuple:
    """Sort key for a PyPI or npm version string (an unparsable one sorts first)."""
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def is_final(version: str) -> bool:
    """A final release: no pre-release, dev or npm `-tag` part."""
    if "-" in version:
        return False
    try:
        parsed = Version(version)
    except InvalidVersion:
        return False
    return not (parsed.is_prerelease or parsed.is_devrelease)


def between(versions: list[str], start: str, end: str) -> list[str]:
    """The final releases from `start` to `end` inclusive, oldest first; both ends must be releases."""
    known = set(versions)
    for name, value in (("--from", start), ("--to", end)):
        if value not in known:
            near = sorted(known, key=release_key)[-5:]
            raise ReleaseError(f"{name} {value}: no such release (newest: {', '.join(near)})")
    low, high = sorted((start, end), key=release_key)
    chosen = [v for v in versions if release_key(low) <= release_key(v) <= release_key(high) and (is_final(v) or v in (low, high))]
    ordered = sorted(set(chosen), key=release_key)
    return ordered if release_key(start) <= release_key(end) else ordered[::-1]


def cached_versions(registry: Registry, package: str, need: tuple[str, ...] = (), max_age: float = 6 * 3600) -> list[str]:
    """The registry's release list, kept for `max_age` seconds next to the installed releases (asked again
    when a needed version is not in it)."""
    cache = getattr(registry, "cache", None)
    if cache is None:
        return registry.versions(package)
    file = Path(cache) / f"{re.sub(r'[^A-Za-z0-9._-]', '_', package)}.versions.json"
    try:
        if time.time() - file.stat().st_mtime < max_age:
            versions = json.loads(file.read_text())
            if all(v in versions for v in need):
                return versions
    except (OSError, ValueError):
        pass
    versions = registry.versions(package)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(versions))
    return versions


def _run(command: list[str], what: str, cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=REGISTRY_TIMEOUT, cwd=cwd,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ReleaseError(f"{what}: `{command[0]}` not found on PATH") from None
    except subprocess.TimeoutExpired:
        raise ReleaseError(f"{what}: `{' '.join(command)}` took more than {REGISTRY_TIMEOUT}s") from None
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-4:])
        raise ReleaseError(f"{what}: `{' '.join(command)}` failed (exit {proc.returncode}): {tail}")
    return proc.stdout


class _Locked:
    """One installer per cache folder at a time, across processes."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / ".lock"

    def __enter__(self):
        self.handle = open(self.path, "w")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        self.handle.close()


def _pythonpath(spec: AdapterSpec, first: Path) -> str:
    """`first`, then whatever PYTHONPATH the manifest gives the adapter (the reference adapter needs the project)."""
    own = dict(spec.env).get("PYTHONPATH")
    parts = [str(first)] + ([substitute((own,), None)[0]] if own else [])
    return os.pathsep.join(parts)


def declared_requirements(dist: metadata.Distribution, extras: tuple[str, ...] = ()) -> list[Requirement]:
    """The release's Requires-Dist that apply here, with the given extras (e.g. botocore's `crt`)."""
    wanted = []
    for line in dist.requires or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is None:
            wanted.append(req)
            continue
        if any(req.marker.evaluate({"extra": extra}) for extra in ("", *extras)):
            wanted.append(req)
    return wanted


def _base_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


_FROM_VERSIONS = re.compile(r"from versions: ([^)]*)\)")


def installable_versions(python: str, name: str, probe: str) -> list[str] | None:
    """The versions of `name` with a wheel for `python`, as pip lists them when asked for one it cannot
    install (None when `probe` installs, i.e. nothing to choose)."""
    proc = subprocess.run(
        [python, "-m", "pip", "--disable-pip-version-check", "install", "--dry-run", "--quiet", "--no-deps",
         "--ignore-installed", "--only-binary", ":all:", f"{name}=={probe}"],
        capture_output=True, text=True, timeout=300, env={k: v for k, v in os.environ.items() if k != "PIP_CONSTRAINT"},
    )
    if proc.returncode == 0:
        return None
    match = _FROM_VERSIONS.search(proc.stderr)
    if not match:
        raise ReleaseError(f"pip could not tell which {name} releases install here: {proc.stderr.strip()[-300:]}")
    return [v.strip() for v in match.group(1).split(",") if v.strip() and v.strip() != "none"]



class PyPI:
    """PyPI through pip, run by the interpreter the Python adapters run on (`{python}`)."""

    ecosystem = "pypi"

    def __init__(self, cache: Path | None = None, python: str = sys.executable, extras: tuple[str, ...] = ()):
        self.cache = (cache or default_cache()) / "pypi"
        self.python = python
        self.extras = extras

    def _pip(self, *args: str) -> list[str]:
        return [self.python, "-m", "pip", "--disable-pip-version-check", *args]

    def versions(self, package: str) -> list[str]:
        out = _run(self._pip("index", "versions", package), f"listing {package} releases")
        for line in out.splitlines():
            if line.startswith("Available versions:"):
                return [v.strip() for v in line.split(":", 1)[1].split(",") if v.strip()]
        raise ReleaseError(f"listing {package} releases: pip printed no `Available versions:` line")

    def install(self, package: str, version: str) -> tuple[Path, bool]:
        """The folder holding `package` `version` (and what it requires that the base lacks); True when cached."""
        suffix = "+".join(self.extras)
        target = self.cache / (f"{package}-{version}" + (f"[{suffix}]" if suffix else ""))
        record = target / RECORD
        with _Locked(self.cache):
            cached = record.exists()
            if not cached:
                self._install(package, version, target, record)
        return target, cached

    def environment(self, spec: AdapterSpec, package: str, version: str) -> Environment:
        target, cached = self.install(package, version)
        info = json.loads((target / RECORD).read_text())
        packages = {d.metadata["Name"].lower(): d.version for d in metadata.distributions()}
        packages.update(info["installed"])
        return Environment(version, {"PYTHONPATH": _pythonpath(spec, target)}, None, packages, info["companions"], cached, target)

    def _installable(self, requirement: str) -> str:
        """An exact pin without a wheel for this Python becomes the oldest release above it that has one."""
        req = Requirement(requirement)
        exact = [s.version for s in req.specifier if s.operator == "=="]
        if not exact:
            return requirement
        available = installable_versions(self.python, req.name, exact[0])
        if available is None:
            return requirement
        newer = sorted((v for v in available if release_key(v) >= release_key(exact[0])), key=release_key)
        return f"{req.name}=={newer[0]}" if newer else requirement

    def _install(self, package: str, version: str, target: Path, record: Path) -> None:
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        _run(self._pip("install", "--quiet", "--no-deps", "--no-compile", "--target", str(partial), f"{package}=={version}"),
             f"installing {package} {version}")
        dists = {d.metadata["Name"].lower(): d for d in metadata.distributions(path=[str(partial)])}
        dist = dists.get(package.lower().replace("_", "-")) or next(iter(dists.values()))
        missing = []
        for req in declared_requirements(dist, self.extras):
            have = _base_version(req.name)
            if have is None or not req.specifier.contains(have, prereleases=True):
                missing.append(str(req).split(";")[0].strip())
        if missing:
            missing = [self._installable(req) for req in missing]
            _run(self._pip("install", "--quiet", "--no-deps", "--no-compile", "--only-binary", ":all:", "--target", str(partial),
                           *missing), f"installing what {package} {version} requires ({', '.join(missing)})")
        installed = {d.metadata["Name"].lower(): d.version for d in metadata.distributions(path=[str(partial)])}
        companions = {k: v for k, v in installed.items() if k != package.lower()}
        (partial / record.name).write_text(json.dumps({"package": package, "version": version, "installed": installed,
                                                        "companions": companions, "declared_missing": missing}, indent=1))
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)


def npm_package_versions(folder: Path) -> dict[str, str]:
    """name -> version of every package under `folder`/node_modules (one level, scoped included)."""
    found = {}
    modules = folder / "node_modules"
    for pkg in list(modules.glob("*/package.json")) + list(modules.glob("@*/*/package.json")):
        try:
            data = json.loads(pkg.read_text())
            found[data["name"]] = data["version"]
        except (OSError, ValueError, KeyError):
            continue
    return found


class Npm:
    """npm through its own client; the release goes into a folder of its own (see the module docstring)."""

    ecosystem = "npm"
    SKIP = {"node_modules", "adapter.yaml", ".build", "package.json", "package-lock.json", "testing"}

    def __init__(self, cache: Path | None = None, npm: str = "npm"):
        self.cache = (cache or default_cache()) / "npm"
        self.npm = npm

    def _link_adapter(self, spec: AdapterSpec, folder: Path, package: str, version: str, base_modules: Path) -> None:
        """Links to the adapter folder's files and a manifest for the one adapter, rewritten at every use so
        that they follow the adapter folder as it is now (the installed release is what is cached)."""
        for item in folder.iterdir():
            if item.is_symlink() or item.name == "adapter.yaml":
                item.unlink()
        for item in spec.folder.iterdir():
            if item.name not in self.SKIP and not item.name.startswith("."):
                (folder / item.name).symlink_to(item)
        manifest = {
            "language": spec.language,
            "env": {"NODE_OPTIONS": "--preserve-symlinks --preserve-symlinks-main", "NODE_PATH": str(base_modules),
                    **dict(spec.env)},
            "adapters": [{"name": spec.name, "library": spec.library, "start": list(spec.start)}],
        }
        (folder / "adapter.yaml").write_text(
            f"# generated by sigharness: {spec.name} against {package} {version} (adapter files linked from {spec.folder})\n"
            + yaml.safe_dump(manifest, sort_keys=False))

    def versions(self, package: str) -> list[str]:
        out = _run([self.npm, "view", package, "versions", "--json"], f"listing {package} releases")
        data = json.loads(out or "[]")
        return [data] if isinstance(data, str) else list(data)

    def environment(self, spec: AdapterSpec, package: str, version: str) -> Environment:
        base = ensure_built(spec)
        if not base.available:
            raise ReleaseError(f"adapter {spec.name} is unavailable: {base.reason}")
        base_modules = (base.build_dir / "node_modules") if base.build_dir and (base.build_dir / "node_modules").is_dir() \
            else spec.folder / "node_modules"
        root = self.cache / f"{re.sub(r'[^A-Za-z0-9._-]', '_', package)}-{version}" / spec.name
        folder = root / spec.folder.name
        stamp = root / ".sigharness-release.json"
        with _Locked(self.cache):
            cached = stamp.exists()
            if not cached:
                shutil.rmtree(root, ignore_errors=True)
                folder.mkdir(parents=True)
                (folder / "package.json").write_text(json.dumps({"name": "sigharness-probe", "private": True}))
                _run([self.npm, "install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--ignore-scripts",
                      f"{package}@{version}"], f"installing {package} {version}", cwd=folder)
                stamp.write_text(json.dumps({"package": package, "version": version}))
            self._link_adapter(spec, folder, package, version, base_modules)
        installed = npm_package_versions(folder)
        packages = dict(npm_package_versions(base_modules.parent), **installed)
        companions = {k: v for k, v in installed.items() if k != package}
        return Environment(version, {}, [root], packages, companions, cached, folder)


def registry_for(spec: AdapterSpec, cache: Path | None = None, extras: tuple[str, ...] = ()) -> Registry:
    ecosystem = ECOSYSTEMS.get(spec.language)
    if ecosystem == "pypi":
        return PyPI(cache, python=spec.python or default_python(), extras=extras)
    if ecosystem == "npm":
        return Npm(cache)
    raise ReleaseError(f"adapter {spec.name} is written in {spec.language}: only Python (PyPI) and JavaScript (npm) "
                       f"adapters can be run against another release so far")


def project_cases() -> list[str]:
    return [str(project_path("cases"))]
