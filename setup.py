"""Builds the wheel with the curated cases and the build-free adapters inside the package
(harness/_bundled/, see harness/bundled.py), so `pip install sigharness` runs with no checkout.
Everything else is declared in pyproject.toml."""

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness.bundled import SHIPPED  # noqa: E402 - what is copied, declared once
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".build", ".gitignore")


class BuildWithCorpus(build_py):
    """build_py, then a copy of each SHIPPED path under harness/_bundled/."""

    def run(self):
        super().run()
        target = Path(self.build_lib) / "harness" / "_bundled"
        for relative in SHIPPED:
            source, dest = HERE / relative, target / relative
            if not source.exists():  # an sdist without it: the package still works from a checkout
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, dest, ignore=SKIPPED, dirs_exist_ok=True)
            else:
                shutil.copy2(source, dest)


setup(cmdclass={"build_py": BuildWithCorpus})
