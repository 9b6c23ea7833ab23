"""Where cases come from: YAML files, folders of them, and aws-c-auth style suite folders."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.cases import suite, yamlfile
from harness.cases.errors import CaseError
from harness.model import Case


@dataclass
class Loaded:
    cases: list[Case] = field(default_factory=list)
    errors: list[CaseError] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)  # for the run manifest


def _revision(path: Path) -> str:
    """The suite's recorded revision (SOURCE.txt 'Commit:'), else 'unknown'."""
    source = path / "SOURCE.txt"
    if source.exists():
        for line in source.read_text(errors="replace").splitlines():
            if line.lower().startswith("commit:"):
                return line.split(":", 1)[1].strip().split()[0]
    return "unknown"


def load_cases(paths: list[str | Path]) -> Loaded:
    """Load every case under `paths`. A bad file adds one error; the others still load.
    Ids must be unique across all sources."""
    loaded = Loaded()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            loaded.errors.append(CaseError(str(path), 1, "no such file or folder"))
        elif suite.is_suite(path):
            loaded.cases += suite.load_suite(path, loaded.errors)
            loaded.sources.append({"path": str(path), "kind": "aws-c-auth suite", "revision": _revision(path)})
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            for file in files:
                try:
                    loaded.cases += yamlfile.load_file(file)
                except CaseError as exc:
                    loaded.errors.append(exc)
            loaded.sources.append({"path": str(path), "kind": "yaml cases", "revision": _git_revision(path)})
        else:
            try:
                loaded.cases += yamlfile.load_file(path)
            except CaseError as exc:
                loaded.errors.append(exc)
            loaded.sources.append({"path": str(path), "kind": "yaml file", "revision": _git_revision(path)})
    _reject_duplicates(loaded)
    return loaded


def _reject_duplicates(loaded: Loaded) -> None:
    seen: dict[str, Case] = {}
    unique: list[Case] = []
    for case in loaded.cases:
        first = seen.get(case.id)
        if first is not None:
            loaded.errors.append(
                CaseError(case.source.file, case.source.line, f"duplicate id {case.id!r} (first at {first.source.file}:{first.source.line})")
            )
            continue
        seen[case.id] = case
        unique.append(case)
    loaded.cases = unique


def _git_revision(path: Path) -> str:
    import subprocess

    try:
        out = subprocess.run(
            ["git", "-C", str(path if path.is_dir() else path.parent), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"
