"""Adapter manifests (`adapters/<folder>/adapter.yaml`): discovery, toolchains and cached builds."""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from harness.bundled import project_path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ADAPTER_DIRS = (project_path("adapters"),)  # the checkout's, else the installed copy
BUILD_TIMEOUT = 1800
KINDS = ("signer", "verifier")


class ManifestError(Exception):
    pass


@dataclass(frozen=True)
class Toolchain:
    command: str
    hint: str = ""
    apt: tuple[str, ...] = ()  # Debian packages that provide it (installed by `sigharness setup`)
    check: tuple[str, ...] = ()  # a command that must succeed when the toolchain is complete


@dataclass(frozen=True)
class Build:
    command: tuple[str, ...]
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdapterSpec:
    """One adapter as its manifest declares it."""

    name: str
    language: str
    library: str
    folder: Path
    start: tuple[str, ...]
    toolchain: tuple[Toolchain, ...] = ()
    build: Build | None = None
    env: tuple[tuple[str, str], ...] = ()
    description: str = ""
    python: str | None = None  # the manifest's `python:` (absolute), used for `{python}`
    kind: str = "signer"  # "signer" (signs checks) or "verifier" (an oracle: answers verify messages)

    @property
    def manifest(self) -> Path:
        return self.folder / "adapter.yaml"

    def command(self, build_dir: Path | None) -> list[str]:
        """`start` with its placeholders filled in (`{python}` from this manifest)."""
        return substitute(self.start, build_dir, self.python)


@dataclass
class Availability:
    available: bool
    reason: str = ""
    build_dir: Path | None = None
    built_now: bool = False
    build_seconds: float = 0.0


def _as_tuple(value: object, what: str, file: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"{file}: {what} must be a list of strings")
    return tuple(value)


def read_manifest(file: Path) -> list[AdapterSpec]:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{file}: cannot read manifest: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("adapters"), list):
        raise ManifestError(f"{file}: a manifest needs an `adapters:` list")
    toolchain = tuple(
        Toolchain(t["command"], t.get("hint", ""), tuple(t.get("apt", ())), tuple(t.get("check", ())))
        if isinstance(t, dict) else Toolchain(str(t))
        for t in data.get("toolchain", []) or []
    )
    build = None
    if data.get("build"):
        b = data["build"]
        build = Build(
            _as_tuple(b.get("command"), "build.command", file),
            _as_tuple(b.get("inputs"), "build.inputs", file),
            _as_tuple(b.get("outputs"), "build.outputs", file),
        )
    env_common = data.get("env", {}) or {}
    python = manifest_python(data.get("python"), file)
    specs = []
    for entry in data["adapters"]:
        if not isinstance(entry, dict) or not {"name", "start"} <= set(entry):
            raise ManifestError(f"{file}: each adapter needs `name` and `start`")
        env = dict(env_common, **(entry.get("env", {}) or {}))
        kind = entry.get("kind", "signer")
        if kind not in KINDS:
            raise ManifestError(f"{file}: adapter {entry['name']!r}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
        specs.append(
            AdapterSpec(
                name=entry["name"],
                language=entry.get("language", data.get("language", "unknown")),
                library=entry.get("library", entry["name"]),
                folder=file.parent,
                start=_as_tuple(entry["start"], "start", file),
                toolchain=toolchain,
                build=build,
                env=tuple(sorted((str(k), str(v)) for k, v in env.items())),
                description=entry.get("description", ""),
                python=python,
                kind=kind,
            )
        )
    return specs


PYTHON_ENV = "SIGHARNESS_PYTHON"


def manifest_python(value: object, file: Path) -> str | None:
    """A manifest's `python:` key: an interpreter path, absolute or relative to the manifest's folder.
    Not resolved (a virtualenv's python is a link whose target loses the virtualenv)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ManifestError(f"{file}: `python:` must be the path of an interpreter (absolute, or relative to {file.parent})")
    path = Path(os.path.expanduser(value))
    return os.path.normpath(path if path.is_absolute() else file.parent / path)


def default_python() -> str:
    """`{python}` for a manifest without `python:`: $SIGHARNESS_PYTHON, else the harness's interpreter."""
    return os.environ.get(PYTHON_ENV, "").strip() or sys.executable


ADAPTER_DIRS_ENV = "SIGHARNESS_ADAPTER_DIRS"


def adapter_dirs(extra: list[Path] | tuple[Path, ...] | None = None) -> list[Path]:
    """Where adapters are looked for: the project's adapters/, then each folder of the environment
    variable SIGHARNESS_ADAPTER_DIRS (separated by ':'), then each --adapter-dir."""
    env = [Path(p) for p in os.environ.get(ADAPTER_DIRS_ENV, "").split(os.pathsep) if p.strip()]
    return [*DEFAULT_ADAPTER_DIRS, *env, *(extra or [])]


def discover(dirs: tuple[Path, ...] | list[Path] | None = None,
             kind: str | None = "signer") -> tuple[dict[str, AdapterSpec], list[str]]:
    """The adapters of `kind` (None: every kind) under `dirs` (default: `adapter_dirs()`; each subfolder
    with an adapter.yaml), and manifest problems (a name declared twice keeps its first declaration).
    Signers are the default: verifiers (oracles, harness/oracles.py) are asked for explicitly."""
    found: dict[str, AdapterSpec] = {}
    problems: list[str] = []
    for root in (adapter_dirs() if dirs is None else dirs):
        if not Path(root).is_dir():
            problems.append(f"{root}: no such adapter folder")
            continue
        for file in sorted(Path(root).glob("*/adapter.yaml")):
            try:
                for spec in read_manifest(file):
                    if spec.name in found:
                        problems.append(f"{file}: adapter {spec.name!r} is also declared in {found[spec.name].manifest}")
                        continue
                    found[spec.name] = spec
            except ManifestError as exc:
                problems.append(str(exc))
    return {n: s for n, s in found.items() if kind is None or s.kind == kind}, problems


def substitute(args: tuple[str, ...], build_dir: Path | None, python: str | None = None) -> list[str]:
    """Fill in `{python}` (`python`, else `default_python()`), `{build_dir}` and `{project}`."""
    mapping = {
        "{python}": python or default_python(),
        "{build_dir}": str(build_dir) if build_dir else "",
        "{project}": str(PROJECT_ROOT),
    }
    out = []
    for arg in args:
        for key, value in mapping.items():
            arg = arg.replace(key, value)
        out.append(arg)
    return out


def missing_toolchain(spec: AdapterSpec) -> str | None:
    if any("{python}" in arg for arg in (*spec.start, *(spec.build.command if spec.build else ()))):
        python = spec.python or default_python()
        if not (os.path.isfile(python) and os.access(python, os.X_OK)):
            where = f"{spec.manifest}: python:" if spec.python else f"${PYTHON_ENV}" if os.environ.get(PYTHON_ENV, "").strip() else "{python}"
            return f"needs the interpreter {python} ({where}), which is not an executable file"
    for tool in spec.toolchain:
        if shutil.which(tool.command) is None:
            hint = f" ({tool.hint})" if tool.hint else ""
            return f"needs `{tool.command}`, not found on PATH{hint}"
    return None


def build_key(spec: AdapterSpec, extra_env: dict[str, str]) -> str:
    assert spec.build is not None
    digest = hashlib.sha256()
    digest.update(repr(spec.build.command).encode())
    for key, value in sorted(extra_env.items()):
        digest.update(f"\0env {key}={value}".encode())
    for pattern in spec.build.inputs:
        for name in sorted(glob.glob(str(spec.folder / pattern), recursive=True)):
            path = Path(name)
            if path.is_file():
                # an input may lie beside the folder (`../oracle-common/...`: a crate and build script the Rust oracles share)
                digest.update(b"\0file " + os.path.relpath(path, spec.folder).encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_env(extra_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(extra_env)
    return env


def ensure_built(
    spec: AdapterSpec,
    extra_env: dict[str, str] | None = None,
    announce: Callable[[str], None] | None = None,
) -> Availability:
    """Check the toolchain and build the adapter's folder if its cache is stale."""
    extra_env = extra_env or {}
    missing = missing_toolchain(spec)
    if missing:
        return Availability(False, missing)
    if spec.build is None:
        return Availability(True)
    key = build_key(spec, extra_env)
    build_root = spec.folder / ".build"
    build_dir = build_root / key
    stamp = build_dir / ".built"
    build_root.mkdir(parents=True, exist_ok=True)
    with open(build_root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build per folder at a time, across processes
        outputs_ok = all((spec.folder / o).exists() or (build_dir / o).exists() for o in spec.build.outputs)
        if stamp.exists() and outputs_ok:
            return Availability(True, build_dir=build_dir)
        build_dir.mkdir(parents=True, exist_ok=True)
        command = substitute(spec.build.command, build_dir, spec.python)
        if announce:
            announce(f"building {spec.folder.name} adapters ({' '.join(command)}); cached afterwards")
        log_path = build_dir / "build.log"
        started = time.monotonic()
        try:
            with open(log_path, "wb") as log:
                proc = subprocess.run(
                    command, cwd=spec.folder, env=build_env(extra_env), stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, timeout=BUILD_TIMEOUT,
                )
        except FileNotFoundError as exc:
            return Availability(False, f"build command not found: {exc.filename}")
        except subprocess.TimeoutExpired:
            return Availability(False, f"build timed out after {BUILD_TIMEOUT}s (log: {log_path})")
        seconds = time.monotonic() - started
        if proc.returncode != 0:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
            return Availability(False, f"build failed (exit {proc.returncode}; log: {log_path}): " + " | ".join(tail))
        missing_out = [o for o in spec.build.outputs if not ((spec.folder / o).exists() or (build_dir / o).exists())]
        if missing_out:
            return Availability(False, f"build did not produce {', '.join(missing_out)} (log: {log_path})")
        stamp.write_text(f"{seconds:.1f}\n")
        return Availability(True, build_dir=build_dir, built_now=True, build_seconds=seconds)
