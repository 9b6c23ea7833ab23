"""What every command shares: exit codes, usage errors, default paths and small argument parsers."""

from __future__ import annotations

import argparse
import gc
from datetime import datetime, timezone
from pathlib import Path

from harness.bundled import project_path, work_folder
from harness.limits import Limits

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
PROJECT_ROOT = work_folder()  # the checkout; for an installed harness, the current folder (reports/ go there)
DEFAULT_CASES = [str(project_path("cases"))]  # the checkout's cases/, else the copy installed with the package

Subparsers = argparse._SubParsersAction


class UsageError(Exception):
    """A mistake the user can fix: one line on stderr, exit 2."""


_KEPT: list[object] = []  # what a command left for the process's exit (keep_until_exit)


def keep_until_exit(*values: object) -> None:
    """Leave `values` in memory when the command returns, for `harness.cli.entry` to end the process without
    freeing them one by one: a merge's ~100,000 rows are millions of objects, and freeing them (with the
    collector's look at them once it runs again) took a tenth of `sigharness report`. The collector is told
    to leave everything alive now alone (gc.freeze). Called as a function, `harness.cli.main` frees them
    and undoes that when the command returns."""
    _KEPT.extend(values)
    gc.freeze()


def kept() -> bool:
    return bool(_KEPT)


def free_kept() -> None:
    if _KEPT:
        _KEPT.clear()
        gc.unfreeze()


def env_pairs(values: list[str] | None) -> dict[str, str]:
    env = {}
    for item in values or []:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise UsageError(f"--adapter-env takes KEY=VALUE, got {item!r}")
        env[key] = value
    return env


def adapter_list(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [a.strip() for a in value.split(",") if a.strip()]


def default_out() -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return PROJECT_ROOT / "reports" / f"run-{stamp}"


def add_case_input_options(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """--body-root and the case-input limits (harness/limits.py), shared by `run` and `validate`."""
    from harness.limits import DEFAULT

    p.add_argument("--body-root", action="append", metavar="DIR",
                   help="a folder `body: {file: ...}` may also read from, besides the case tree (repeatable; docs/limits.md)")
    limits = p.add_argument_group("limits (docs/limits.md)")
    limits.add_argument("--max-body-bytes", type=int, metavar="N", help=f"largest request body a case may build (default {DEFAULT.body_bytes})")
    limits.add_argument("--max-case-file-bytes", type=int, metavar="N", help=f"largest case file read (default {DEFAULT.case_file_bytes})")
    limits.add_argument("--max-yaml-aliases", type=int, metavar="N", help=f"alias references allowed in one YAML file (default {DEFAULT.yaml_aliases})")
    limits.add_argument("--max-nesting", type=int, metavar="N", help=f"deepest nesting of lists and mappings in a case file or an answer (default {DEFAULT.nesting_depth})")
    return limits


def writable_folder(path: Path, option: str) -> Path:
    """The folder `path`, created if needed and checked writable; else one UsageError naming the fix."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path}: is a file, not a folder; name a folder")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"{option} {path}: {parent} is a file, so nothing can be created under it; name a folder")
        if parent.exists():
            break
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".sigharness-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write there ({exc.strerror or type(exc).__name__}); name a folder you can write") from None
    return path


LIMIT_FLAGS = {  # command-line flag -> the field of harness/limits.py it sets
    "timeout": "check_seconds", "start_timeout": "start_seconds", "max_restarts": "max_restarts",
    "max_answer_bytes": "answer_bytes", "max_log_bytes": "adapter_log_bytes", "max_body_bytes": "body_bytes",
    "max_case_file_bytes": "case_file_bytes", "max_yaml_aliases": "yaml_aliases", "max_nesting": "nesting_depth",
}


def limits_from(args: argparse.Namespace) -> Limits:
    given = {field: getattr(args, flag) for flag, field in LIMIT_FLAGS.items() if getattr(args, flag, None) is not None}
    try:
        return Limits(**given)
    except ValueError as exc:
        flag = next((f for f, field in LIMIT_FLAGS.items() if field in str(exc)), None)
        raise UsageError(f"--{flag.replace('_', '-')}: {exc}" if flag else str(exc)) from None


def body_roots(values: list[str] | None) -> list[str]:
    roots = []
    for value in values or []:
        if not Path(value).is_dir():
            raise UsageError(f"--body-root {value}: no such folder")
        roots.append(str(Path(value).resolve()))
    return roots
