"""`sigharness new-adapter NAME --language python|javascript [--dir DIR]`: a template adapter folder on
the adapter SDK (harness/adapter_templates/), which speaks the protocol as generated and answers
`unsupported` for every check until it is filled in."""

from __future__ import annotations

import argparse
import re
import shutil
from importlib import resources
from pathlib import Path

from harness.bundled import project_path
from harness.cli.common import EXIT_OK, Subparsers, UsageError

LANGUAGES = {"python": "python", "py": "python", "javascript": "javascript", "js": "javascript"}
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
JS_SDK = "adapters/js/sdk.js"


def class_name(name: str) -> str:
    """`my-signer` -> `MySignerAdapter`."""
    return "".join(part.capitalize() for part in re.split(r"[^a-z0-9]+", name) if part) + "Adapter"


def template_files(language: str) -> dict[str, str]:
    """The template's files, by name, with the placeholders still in."""
    folder = resources.files("harness").joinpath("adapter_templates", language)
    return {item.name: item.read_text(encoding="utf-8") for item in folder.iterdir() if item.is_file()}


def create(name: str, language: str, parent: Path) -> Path:
    """Write the template folder `parent/name`; refuses to write over an existing one."""
    if not NAME.match(name):
        raise UsageError(f"adapter name {name!r}: use lowercase letters, digits, '.', '-' and '_' (like py-botocore)")
    folder = parent / name
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"{folder} exists and is not empty; choose another NAME or --dir")
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, text in template_files(language).items():
        text = text.replace("__NAME__", name).replace("__CLASS__", class_name(name))
        (folder / file_name).write_text(text, encoding="utf-8")
    if language == "javascript":
        shutil.copyfile(project_path(JS_SDK), folder / "sdk.js")
    return folder


def cmd_new_adapter(args: argparse.Namespace) -> int:
    language = LANGUAGES.get(args.language.lower())
    if language is None:
        raise UsageError(f"--language {args.language!r}: choose python or javascript")
    parent = Path(args.dir)
    folder = create(args.name, language, parent)
    host = "host.py" if language == "python" else "host.js"
    print(f"created {folder}/ ({', '.join(sorted(p.name for p in folder.iterdir()))})")
    print(f"next: fill in {folder / host} (see {folder / 'README.md'}), then")
    print(f"  sigharness adapters --adapter-dir {parent} --check")
    print(f"  sigharness run --adapter-dir {parent} --adapters {args.name}")
    return EXIT_OK


def register(sub: Subparsers) -> None:
    p = sub.add_parser("new-adapter", help="create a template adapter folder on the adapter SDK (python or javascript)")
    p.add_argument("name", metavar="NAME", help="the adapter's name, e.g. py-my-signer")
    p.add_argument("--language", required=True, metavar="LANGUAGE", help="python or javascript")
    p.add_argument("--dir", default=".", metavar="DIR",
                   help="the folder to create NAME/ in (default: the current folder); pass DIR to --adapter-dir")
    p.set_defaults(func=cmd_new_adapter)
