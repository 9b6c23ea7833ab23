"""The command table (harness/cli/__init__.py): each module registers the commands the table names for it, a
command line loads the module of its command alone, and `--help` lists every command."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from conftest import ROOT
from harness import cli


def _registered(module: str) -> tuple[str, ...]:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    importlib.import_module(f"harness.cli.{module}").register(sub)
    return tuple(sub.choices)


def test_each_module_registers_the_commands_the_table_names():
    for module, names in cli.COMMANDS:
        assert _registered(module) == names, module
    every = [name for _, names in cli.COMMANDS for name in names]
    assert len(every) == len(set(every))


def test_a_command_line_loads_its_command_alone_and_help_lists_them_all():
    script = ("import sys; from harness.cli import build_parser; build_parser(sys.argv[1:]); "
              "print(' '.join(sorted(m for m in sys.modules if m.startswith('harness.cli.'))))")
    loaded = lambda *argv: subprocess.run([sys.executable, "-c", script, *argv], cwd=ROOT, capture_output=True,  # noqa: E731
                                          text=True, check=True).stdout.split()
    assert loaded("report", "a.json") == ["harness.cli.common", "harness.cli.report"]
    upgrade = loaded("companions", "x")
    assert "harness.cli.upgrade" in upgrade and "harness.cli.report" not in upgrade and "harness.cli.fuzz" not in upgrade
    every = {f"harness.cli.{module}" for module, _ in cli.COMMANDS}
    assert set(loaded("--help")) >= every and set(loaded()) >= every and set(loaded("nosuch")) >= every
    parser = cli.build_parser([])
    help_text = parser.format_help()
    for _, names in cli.COMMANDS:
        for name in names:
            assert f"    {name}" in help_text, name
