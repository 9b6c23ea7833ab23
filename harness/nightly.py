"""The nightly workflow's own commands (.github/workflows/nightly.yml calls them; the local dry run,
harness/nightly_dry_run.py, runs the same steps on this machine):

  python3 -m harness.nightly node-version adapters/js/package-lock.json   the Node.js major the lock file needs
  python3 -m harness.nightly adapters FOLDER                             the adapters of adapters/FOLDER, comma-separated
  python3 -m harness.nightly build FOLDER                                build adapters/FOLDER (cached), nothing else
  python3 -m harness.nightly use-latest FOLDER --env-file FILE           move FOLDER's libraries to their newest releases
  python3 -m harness.nightly gate PREVIOUS CURRENT --markdown FILE       diff each track against the previous night
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from harness import diff
from harness.adapters.manifest import PROJECT_ROOT, ensure_built, read_manifest

TRACKS = ("pinned", "latest")
# The newest releases of each folder's libraries, as each ecosystem's own client moves them. Ruby runs
# Debian's ruby-aws-sigv4 only (pinned and latest are the same package), the reference signer has no releases.
PYPI_LATEST = ("botocore", "awscrt", "requests", "requests-aws4auth", "aws-requests-auth")
LATEST_COMMANDS: dict[str, list[list[str]]] = {
    "go": [["go", "get", "-u", "./..."], ["go", "mod", "tidy"]],
    "rust": [["cargo", "update"]],
    "java": [["mvn", "-B", "-q", "versions:use-latest-releases", "-DgenerateBackupPoms=false"]],
}
_MAJOR = re.compile(r"(?:>=|\^|~|=)?\s*v?(\d+)")


def node_major(lock_file: Path, floor: int = 18) -> int:
    """The smallest Node.js major that every package in the lock file accepts (the largest `engines.node` minimum)."""
    data = json.loads(lock_file.read_text())
    need = floor
    for info in (data.get("packages") or {}).values():
        spec = ((info or {}).get("engines") or {}).get("node") if isinstance((info or {}).get("engines"), dict) else None
        if not spec:
            continue
        # "a || b": the package runs on either, so its minimum is the smallest alternative's
        minimums = [int(m.group(1)) for part in spec.split("||") if (m := _MAJOR.search(part.strip()))]
        if minimums:
            need = max(need, min(minimums))
    return need


def folder_adapters(folder: str) -> list[str]:
    return [spec.name for spec in read_manifest(PROJECT_ROOT / "adapters" / folder / "adapter.yaml")]


def build_folder(folder: str) -> int:
    """Build one folder's adapters before `use-latest` moves their libraries (a build after it would reinstall
    the lock file's versions: `npm ci` empties node_modules)."""
    specs = read_manifest(PROJECT_ROOT / "adapters" / folder / "adapter.yaml")
    availability = ensure_built(specs[0], announce=print)
    if not availability.available:
        print(f"adapters in {folder} are unavailable: {availability.reason}", file=sys.stderr)
        return 1
    print(f"{folder}: built" + (f" in {availability.build_seconds:.0f}s" if availability.built_now else " (cached)"))
    return 0


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    print("+ " + " ".join(command), flush=True)
    subprocess.run(command, cwd=cwd, check=True, env=env)


def use_latest(folder: str, env_file: Path, cache: Path) -> list[str]:
    """Move `folder`'s libraries to their newest releases; returns the `--adapter-env` settings for the run."""
    settings: list[str] = []
    adapter_dir = PROJECT_ROOT / "adapters" / folder
    if folder == "python":
        target = cache / "python-latest"
        env = {k: v for k, v in os.environ.items() if k != "PIP_CONSTRAINT"}
        _run([sys.executable, "-m", "pip", "--disable-pip-version-check", "install", "--quiet", "--upgrade",
              "--only-binary", ":all:", "--target", str(target), *PYPI_LATEST], PROJECT_ROOT, env)
        settings.append(f"PYTHONPATH={target}")
    elif folder == "js":
        packages = sorted(json.loads((adapter_dir / "package.json").read_text()).get("dependencies", {}))
        _run(["npm", "install", "--no-save", "--no-audit", "--no-fund", *[f"{p}@latest" for p in packages]], adapter_dir)
    elif folder in LATEST_COMMANDS:
        for command in LATEST_COMMANDS[folder]:
            _run(command, adapter_dir)
    else:
        print(f"{folder}: no newer releases to move to (see harness/nightly.py)")
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.write_text("".join(f"--adapter-env\n{s}\n" for s in settings))
    return settings


def gate(previous: Path, current: Path, markdown: Path) -> int:
    """Diff every track of tonight's run against the previous night's; the markdown is the job summary."""
    parts, regressions = [], 0
    for track in TRACKS:
        new_path = current / track / "results.json"
        if not new_path.exists():
            continue
        old_path = previous / track / "results.json"
        if not old_path.exists():
            parts.append(f"## {track}\n\nNo previous night to compare with ({old_path} is absent): nothing gated.\n")
            continue
        old, new = diff.load(old_path), diff.load(new_path)
        comparison = diff.compare(old, new)
        regressions += len(comparison.regressions)
        parts.append(f"## {track}\n\n" + diff.format_markdown(
            comparison, diff.describe(old, f"previous night ({track})"), diff.describe(new, f"tonight ({track})")))
    verdict = f"**{regressions} regression(s)** against the previous night." if regressions else "No regression against the previous night."
    markdown.parent.mkdir(parents=True, exist_ok=True)
    markdown.write_text(f"# sigharness nightly\n\n{verdict}\n\n" + "\n".join(parts))
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a") as handle:
            handle.write(f"regressions={regressions}\n")
    return 1 if regressions else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m harness.nightly", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("node-version", help="the Node.js major the lock file's engines need")
    p.add_argument("lock_file", type=Path)
    p = sub.add_parser("adapters", help="the adapters of adapters/FOLDER, comma-separated")
    p.add_argument("folder")
    p = sub.add_parser("build", help="build adapters/FOLDER (cached)")
    p.add_argument("folder")
    p = sub.add_parser("use-latest", help="move FOLDER's libraries to their newest releases")
    p.add_argument("folder")
    p.add_argument("--env-file", type=Path, required=True, help="write the run's --adapter-env arguments here (one per line)")
    p.add_argument("--cache", type=Path, default=Path(".nightly-cache"), help="where newest PyPI releases are installed")
    p = sub.add_parser("gate", help="diff tonight against the previous night; exit 1 on a regression")
    p.add_argument("previous", type=Path, help="the previous night's folder (pinned/results.json, latest/results.json)")
    p.add_argument("current", type=Path, help="tonight's folder, the same layout")
    p.add_argument("--markdown", type=Path, required=True, help="write the diff here (the job summary)")
    args = parser.parse_args(argv)
    if args.command == "node-version":
        print(node_major(args.lock_file))
    elif args.command == "adapters":
        print(",".join(folder_adapters(args.folder)))
    elif args.command == "build":
        return build_folder(args.folder)
    elif args.command == "use-latest":
        use_latest(args.folder, args.env_file, args.cache.resolve())
    else:
        return gate(args.previous, args.current, args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
