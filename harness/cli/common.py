"""What every command shares: exit codes, usage errors, default paths and small argument parsers."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CASES = [str(PROJECT_ROOT / "cases")]

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
