"""Where cases come from: YAML files, folders of them, and aws-c-auth style suite folders."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.cases import suite, yamlfile
from harness.cases.errors import CaseError
from harness.cases.files import InputFileError, is_utf8_name, read_limited, shown
from harness.limits import DEFAULT, Limits
from harness.model import Case


@dataclass
class Loaded:
    cases: list[Case] = field(default_factory=list)
    errors: list[CaseError] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)  # for the run manifest


def _revision(path: Path) -> str:
    """The suite's recorded revision (SOURCE.txt 'Commit:'), else 'unknown'."""
    try:
        text = read_limited(path / "SOURCE.txt", 64 * 1024).decode("utf-8", "replace")
    except InputFileError:
        return "unknown"
    for line in text.splitlines():
        if line.lower().startswith("commit:"):
            words = line.split(":", 1)[1].split()
            return words[0] if words else "unknown"
    return "unknown"


def load_cases(paths: list[str | Path], limits: Limits = DEFAULT, body_roots: tuple[str | Path, ...] = ()) -> Loaded:
    """Load every case under `paths`. A bad file adds one error; the others still load.
    Ids must be unique across all sources. A body file must lie inside the path it was found under
    (symlinks resolved) or inside one of `body_roots`. No exception escapes: every problem is an error line."""
    loaded = Loaded()
    extra_roots = tuple(Path(r) for r in body_roots)
    for raw in paths:
        path = Path(raw)
        try:
            _load_path(path, loaded, limits, extra_roots)
        except CaseError as exc:
            loaded.errors.append(exc)
        except Exception as exc:  # the last guard: one line, never a traceback
            loaded.errors.append(_unexpected(path, exc))
    _reject_duplicates(loaded)
    return loaded


def _unexpected(path: Path, exc: Exception) -> CaseError:
    return CaseError(shown(path), 1, shown(f"cannot read ({type(exc).__name__}: {str(exc)[:200]})"))


def _load_path(path: Path, loaded: Loaded, limits: Limits, extra_roots: tuple[Path, ...]) -> None:
    if not is_utf8_name(path):
        raise CaseError(shown(path), 1, "the path is not UTF-8; rename it")
    if not path.exists():
        raise CaseError(str(path), 1, "no such file or folder")
    if suite.is_suite(path):
        before = len(loaded.cases)
        loaded.cases += suite.load_suite(path, loaded.errors, limits)
        loaded.sources.append({"path": str(path), "kind": "aws-c-auth suite", "revision": _revision(path)})
        if len(loaded.cases) == before and not any(e.file.startswith(str(path)) for e in loaded.errors):
            raise CaseError(str(path), None, "no case folders found under v4/ or v4a/", whole=True)
    elif path.is_dir():
        roots = (path, *extra_roots)
        # not only regular files: a FIFO or a dangling link named *.yaml is reported, never skipped in silence
        files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and not p.is_dir())
        if not files:
            raise CaseError(str(path), None, "no case files found (*.yaml or *.yml, or a suite folder with v4/ or v4a/)", whole=True)
        for file in files:
            if not is_utf8_name(file):  # its name could not be printed or written to results.json
                loaded.errors.append(CaseError(shown(file), 1, "the file name is not UTF-8; rename the file"))
                continue
            try:
                loaded.cases += yamlfile.load_file(file, limits=limits, body_roots=roots)
            except CaseError as exc:
                loaded.errors.append(exc)
            except Exception as exc:  # one file's surprise does not stop the others
                loaded.errors.append(_unexpected(file, exc))
        loaded.sources.append({"path": str(path), "kind": "yaml cases", "revision": _git_revision(path)})
    else:
        loaded.sources.append({"path": str(path), "kind": "yaml file", "revision": _git_revision(path)})
        loaded.cases += yamlfile.load_file(path, limits=limits, body_roots=(path.parent, *extra_roots))


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
