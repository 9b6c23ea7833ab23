"""What every command shares: exit codes, usage errors, default paths and small argument parsers."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

from harness.bundled import project_path, work_folder

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
PROJECT_ROOT = work_folder()  # the checkout; for an installed harness, the current folder (reports/ go there)
DEFAULT_CASES = [str(project_path("cases"))]  # the checkout's cases/, else the copy installed with the package

Subparsers = argparse._SubParsersAction


class UsageError(Exception):
    """A mistake the user can fix: one line on stderr, exit 2."""


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
