"""A local dry run of .github/workflows/nightly.yml: the `run:` scripts of its steps that have an `id` (the
project's own commands), as written there, with bash, on this machine, one call being one night.

  python -m harness.nightly_dry_run --state DIR [--folder python] [--track pinned] [--run-args "--case ID"]

GitHub's parts are played locally: the checkout is a git repository of links to this project whose `origin`
is a bare repository in DIR (so the history branch is really fetched and pushed), artifacts are folders in
the night's folder, `${{ }}` expressions in `env:`, `with:` and `if:` are evaluated for the values the
workflow uses, and steps calling GitHub (setup actions, Pages, the issue script) are listed, not run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.adapters.manifest import PROJECT_ROOT

WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "nightly.yml"
JOBS = ("shard", "merge")  # the jobs with project commands; the others need GitHub or the full toolchains
LINKED = ("harness", "cases", "adapters", "constraints.txt", "constraints-matrix.txt", "pyproject.toml", "tox.ini")
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class StepRecord:
    job: str
    name: str
    status: str  # ran, failed, skipped, github (an action played or listed)
    detail: str = ""


@dataclass
class Night:
    folder: Path
    records: list[StepRecord] = field(default_factory=list)
    summaries: dict[str, str] = field(default_factory=dict)

    def failed(self, job: str | None = None) -> list[StepRecord]:
        return [r for r in self.records if r.status == "failed" and (job is None or r.job == job)]


class _Ns(dict):
    """Attribute access for expressions: steps.gate.outcome, matrix.folder, needs.merge.result."""

    def __getattr__(self, name: str) -> Any:
        value = self.get(name.replace("-", "_"), self.get(name, ""))
        return _Ns(value) if isinstance(value, dict) else value


def _evaluate(expression: str, context: dict[str, Any]) -> Any:
    """The small part of GitHub's expression language the workflow uses: ==, !=, &&, ||, !, always(), lookups."""
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2].strip()
    text = text.replace("&&", " and ").replace("||", " or ")
    text = re.sub(r"!(?!=)", " not ", text)
    text = text.replace("always()", "True").replace("success()", "(not _failed)").replace("failure()", "_failed")
    namespace = {k: _Ns(v) if isinstance(v, dict) else v for k, v in context.items()}
    return eval(text, {"__builtins__": {}}, namespace)  # noqa: S307 - our own workflow file, not user input


def _substitute(value: Any, context: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return _EXPR.sub(lambda m: str(_evaluate(m.group(1), context)), value)
    if isinstance(value, dict):
        return {k: _substitute(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, context) for v in value]
    return value


def expand_matrix(strategy: dict[str, Any] | None) -> list[dict[str, Any]]:
    matrix = dict((strategy or {}).get("matrix") or {})
    include = matrix.pop("include", []) or []
    exclude = matrix.pop("exclude", []) or []
    keys = list(matrix)
    combos = [dict(zip(keys, values)) for values in itertools.product(*(matrix[k] for k in keys))] if keys else [{}]
    combos = [c for c in combos if not any(all(c.get(k) == v for k, v in e.items()) for e in exclude)]
    return combos + [dict(i) for i in include]


def _workspace(night: Path, origin: Path) -> Path:
    """A checkout of the project: links to its files, a first commit, `origin` the local bare repository."""
    work = night / "workspace"
    work.mkdir(parents=True)
    for name in LINKED:
        (work / name).symlink_to(PROJECT_ROOT / name)
    git = ["git", "-C", str(work), "-c", "user.name=dry run", "-c", "user.email=dry-run@localhost"]
    subprocess.run(git[:3] + ["init", "--quiet"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "--quiet", "-m", "checkout"], check=True)
    subprocess.run(git[:3] + ["remote", "add", "origin", str(origin)], check=True)
    return work


def _bin_dir(night: Path) -> Path:
    """`python3` is this interpreter (the harness's virtualenv), as the workflow's venv is on its PATH."""
    folder = night / "bin"
    folder.mkdir(exist_ok=True)
    wrapper = folder / "python3"  # a script, not a link: through a link a virtualenv's python loses its site-packages
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    return folder


def _play_action(uses: str, with_: dict[str, Any], work: Path, artifacts: Path, suite: Path | None) -> str:
    name = uses.split("@")[0]
    if name == "actions/checkout":
        if with_.get("repository") == "awslabs/aws-c-auth" and suite is not None:
            target = work / with_.get("path", "aws-c-auth") / "tests" / "aws-signing-test-suite"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(suite)
            return f"linked the suite at {suite}"
        return "the workspace is the checkout"
    if name == "actions/upload-artifact" or name == "actions/upload-pages-artifact":
        dest = artifacts / (with_.get("name") or "github-pages")
        source = work / str(with_.get("path", "")).strip().splitlines()[0]
        if source.exists():
            shutil.copytree(source, dest, dirs_exist_ok=True)
            return f"kept {source.relative_to(work)} as {dest.name}"
        return f"nothing at {source.relative_to(work)}"
    if name == "actions/download-artifact":
        pattern = with_.get("pattern", "*")
        into = work / with_.get("path", ".")
        got = []
        for item in sorted(artifacts.glob(pattern)):
            shutil.copytree(item, into / item.name, dirs_exist_ok=True)
            got.append(item.name)
        return "downloaded " + (", ".join(got) or "nothing")
    return "GitHub only: not run here"


def run_night(state: Path, folders: list[str] | None = None, tracks: list[str] | None = None, run_args: str = "",
              suite: Path | None = None, workflow: Path = WORKFLOW, log=print) -> Night:
    """One night of the workflow's project steps; the bare `origin` in `state` carries the history across nights."""
    state.mkdir(parents=True, exist_ok=True)
    origin = state / "origin.git"
    if not origin.exists():
        subprocess.run(["git", "init", "--quiet", "--bare", str(origin)], check=True)
    night_dir = Path(tempfile.mkdtemp(prefix="night-", dir=state))
    night = Night(night_dir)
    artifacts = night_dir / "artifacts"
    artifacts.mkdir()
    flow = yaml.safe_load(workflow.read_text())
    top_env = {k: str(v) for k, v in (flow.get("env") or {}).items()}
    top_env["NIGHTLY_RUN_ARGS"] = run_args
    path_dir = _bin_dir(night_dir)
    results: dict[str, dict[str, str]] = {}
    for job_name, job in flow["jobs"].items():
        if job_name not in JOBS:
            night.records.append(StepRecord(job_name, "(job)", "github", "needs GitHub or every toolchain: not run here"))
            continue
        combos = expand_matrix(job.get("strategy"))
        combos = [c for c in combos if (not folders or c.get("folder", folders[0]) in folders)
                  and (not tracks or c.get("track", tracks[0]) in tracks)]
        for matrix in combos:
            label = job_name + (f" ({', '.join(str(v) for v in matrix.values())})" if matrix else "")
            work = _workspace(night_dir / re.sub(r"\W+", "-", label).strip("-"), origin)
            summary = work.parent / "step-summary.md"
            summary.touch()
            context: dict[str, Any] = {"matrix": matrix, "env": dict(top_env), "steps": {}, "needs": results,
                                       "github": {"workspace": str(work)}, "_failed": False}
            job_env = dict(top_env, **{k: str(_substitute(v, context)) for k, v in (job.get("env") or {}).items()})
            job_env["CI"] = ""  # not GitHub: unavailable adapters are reported, not fatal
            context["env"] = job_env
            for step in job["steps"]:
                name = step.get("name") or step.get("uses") or step.get("id", "step")
                condition = step.get("if")
                wanted = _evaluate(str(condition), context) if condition is not None else not context["_failed"]
                if not wanted:
                    night.records.append(StepRecord(label, name, "skipped", f"if: {condition}"))
                    continue
                if "uses" in step:
                    detail = _play_action(step["uses"], _substitute(step.get("with") or {}, context), work, artifacts, suite)
                    night.records.append(StepRecord(label, name, "github", detail))
                    continue
                if "id" not in step:
                    night.records.append(StepRecord(label, name, "skipped", "toolchain or install step (this machine has them)"))
                    continue
                outcome, outputs = _run_step(step, context, job_env, work, summary, path_dir, log)
                context["steps"][step["id"]] = {"outcome": outcome, "conclusion": outcome, "outputs": outputs}
                if outcome == "failure":
                    context["_failed"] = True
                night.records.append(StepRecord(label, name, "ran" if outcome == "success" else "failed"))
            night.summaries[label] = summary.read_text()
            results[job_name] = {"result": "failure" if context["_failed"] else "success"}
    return night


def _run_step(step: dict[str, Any], context: dict[str, Any], job_env: dict[str, str], work: Path, summary: Path,
              path_dir: Path, log) -> tuple[str, dict[str, str]]:
    scratch = Path(tempfile.mkdtemp(dir=work.parent))
    output, env_file = scratch / "output", scratch / "env"
    output.touch()
    env_file.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_"))}
    env.update(job_env)
    env.update({k: str(_substitute(v, context)) for k, v in (step.get("env") or {}).items()})
    env.update({
        "GITHUB_WORKSPACE": str(work), "GITHUB_OUTPUT": str(output), "GITHUB_ENV": str(env_file),
        "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_PATH": str(scratch / "path"),
        "PATH": f"{path_dir}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}", "PYTHONPATH": str(PROJECT_ROOT),
    })
    log(f"--- {step.get('name', step['id'])}")
    proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=work, env=env)
    for line in env_file.read_text().splitlines():  # what later steps see in their environment
        key, _, value = line.partition("=")
        if key:
            job_env[key] = value
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return ("success" if proc.returncode == 0 else "failure"), outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.nightly_dry_run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", type=Path, required=True, help="keeps the history branch's origin across nights")
    parser.add_argument("--folder", action="append", help="adapter folders to run (default: every one in the matrix)")
    parser.add_argument("--track", action="append", choices=("pinned", "latest"), help="tracks to run (default: both)")
    parser.add_argument("--run-args", default="", help="NIGHTLY_RUN_ARGS, e.g. \"--case 'headers/*'\"")
    parser.add_argument("--suite", type=Path, default=Path(os.environ.get("SIGHARNESS_SUITE") or PROJECT_ROOT.parent / "shared" / "vectors" / "aws-c-auth"))
    args = parser.parse_args(argv)
    night = run_night(args.state, args.folder, args.track, args.run_args, args.suite if args.suite.is_dir() else None)
    for record in night.records:
        print(f"{record.status:8} {record.job}: {record.name}" + (f" ({record.detail})" if record.detail else ""))
    for label, text in night.summaries.items():
        if text.strip():
            print(f"\n=== job summary: {label}\n{text}")
    print(json.dumps({"night": str(night.folder), "failed": [f"{r.job}: {r.name}" for r in night.failed()]}))
    return 1 if night.failed() else 0


if __name__ == "__main__":
    raise SystemExit(main())
