"""The nightly workflow: it lints clean (actionlint), its shards cover every adapter folder, paths work inside
containers, Node.js follows the lock file, and its own steps run here (the dry run) for two nights: the
second, with the reference adapter broken, fails the gate, keeps the diff as the summary and reaches the
issue step."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from harness.adapters.manifest import read_manifest
from harness import nightly
from harness.nightly_dry_run import expand_matrix, run_night

from conftest import ROOT, SUITE, unavailable

WORKFLOW = ROOT / ".github" / "workflows" / "nightly.yml"
ACTIONLINT = "v1.7.12"
CASES = "--case headers/connection-not-signed --case sigv4a/vanilla"


def _flow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _actionlint() -> Path:
    cache = Path(os.environ.get("SIGHARNESS_CACHE") or Path.home() / ".cache" / "sigharness") / "tools" / f"actionlint-{ACTIONLINT}"
    binary = cache / "actionlint"
    if binary.exists():
        return binary
    if shutil.which("go") is None:
        unavailable("`go` is not on PATH: cannot install actionlint", "actionlint")
    proc = subprocess.run(["go", "install", f"github.com/rhysd/actionlint/cmd/actionlint@{ACTIONLINT}"],
                          env=dict(os.environ, GOBIN=str(cache), GOFLAGS="-mod=mod"), capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        unavailable(f"go install actionlint@{ACTIONLINT} failed: {proc.stderr.strip()[-300:]}", "actionlint")
    return binary


def test_workflow_lints_clean():
    proc = subprocess.run([str(_actionlint()), "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path):
    """The lint is real: an unknown matrix key in an expression is reported."""
    broken = tmp_path / "nightly.yml"
    broken.write_text(WORKFLOW.read_text().replace("if: matrix.folder == 'js'", "if: matrix.flder == 'js'"))
    proc = subprocess.run([str(_actionlint()), "-no-color", str(broken)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "flder" in proc.stdout


def test_shards_cover_every_adapter_folder_pinned_and_latest():
    combos = expand_matrix(_flow()["jobs"]["shard"]["strategy"])
    # every folder with a signer (folders of oracles only -- verifier-kind adapters -- sign nothing)
    folders = {p.parent.name for p in (ROOT / "adapters").glob("*/adapter.yaml")
               if any(spec.kind == "signer" for spec in read_manifest(p))}
    assert {"python", "js", "go", "rust", "java", "ruby", "reference"} <= folders
    assert {c["folder"] for c in combos} == folders
    pinned = {c["folder"] for c in combos if c["track"] == "pinned"}
    latest = {c["folder"] for c in combos if c["track"] == "latest"}
    assert pinned == folders
    # every folder with releases to move to runs its newest ones too
    assert latest == {"python", "js", *nightly.LATEST_COMMANDS}
    assert len(combos) == len({(c["folder"], c["track"]) for c in combos})


def test_container_jobs_never_use_the_host_workspace_path():
    for name, job in _flow()["jobs"].items():
        if "container" not in job:
            continue
        text = yaml.safe_dump(job)
        assert "github.workspace" not in text, f"job {name}: ${{{{ github.workspace }}}} is the host's path in a container"
        assert "$GITHUB_WORKSPACE" in text


def test_node_comes_from_the_lock_files_engines(tmp_path: Path):
    assert nightly.node_major(ROOT / "adapters" / "js" / "package-lock.json") >= 20
    lock = tmp_path / "package-lock.json"
    lock.write_text(json.dumps({"packages": {
        "": {"engines": {"node": ">=18"}}, "node_modules/a": {"engines": {"node": ">= 0.4"}},
        "node_modules/b": {"engines": {"node": "^14.17.0 || >=16.0.0"}}, "node_modules/c": {"engines": {"node": ">=20.0.0"}},
    }}))
    assert nightly.node_major(lock) == 20
    for job in _flow()["jobs"].values():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/setup-node"):
                assert step["with"]["node-version"] == "${{ steps.node.outputs.major }}"
    debian = [s["run"] for j in _flow()["jobs"].values() for s in j.get("steps", []) if "apt-get install" in str(s.get("run"))]
    assert debian and not any(re.search(r"\bnodejs\b", run) for run in debian)  # Debian 12's nodejs is 18


def test_docs_say_node_20():
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        assert not re.search(r"Node(\.js)? 18\+", path.read_text()), f"{path} still says Node.js 18+"


SUITE_PATH = re.compile(r'vectors"?\s*/\s*"?aws-c-auth"')  # the signing suite's folder, not aws-c-auth-streaming


def test_every_test_reads_the_suite_from_sigharness_suite():
    assert SUITE_PATH.search('REPO.parent / "shared" / "vectors" / "aws-c-auth"')  # the old hard-coded form
    assert not SUITE_PATH.search('ROOT.parent / "shared/vectors/aws-c-auth-streaming"')
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text()
        if SUITE_PATH.search(text):
            assert "SIGHARNESS_SUITE" in text, f"{path.name} hard-codes the suite path"


def _results(path: Path, statuses: dict[tuple[str, str], str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"case": c, "mode": m, "adapter": "a", "status": s} for (c, m), s in statuses.items()]
    path.write_text(json.dumps({"format": "sigharness-results", "version": 1, "manifest": {}, "adapters": {}, "cases": {},
                                "results": rows}))


def test_gate_fails_on_a_regression_only(tmp_path: Path):
    _results(tmp_path / "old" / "pinned" / "results.json", {("c1", "header"): "pass", ("c2", "header"): "fail"})
    _results(tmp_path / "new" / "pinned" / "results.json", {("c1", "header"): "variant", ("c2", "header"): "pass"})
    assert nightly.gate(tmp_path / "old", tmp_path / "new", tmp_path / "diff.md") == 0
    _results(tmp_path / "new" / "latest" / "results.json", {("c1", "header"): "error"})
    _results(tmp_path / "old" / "latest" / "results.json", {("c1", "header"): "pass"})
    assert nightly.gate(tmp_path / "old", tmp_path / "new", tmp_path / "diff.md") == 1
    text = (tmp_path / "diff.md").read_text()
    assert "**1 regression(s)**" in text and "## latest" in text and "c1" in text


def test_dry_run_two_nights_history_gate_and_issue(tmp_path: Path):
    if not (SUITE / "v4").is_dir():
        unavailable(f"aws-c-auth suite not found at {SUITE}", "the suite")
    state = tmp_path / "state"
    first = run_night(state, ["reference"], ["pinned"], CASES, SUITE, log=lambda line: None)
    assert not first.failed(), first.records
    assert "No previous night" in first.summaries["merge"]
    ran = {r.name for r in first.records if r.status == "ran"}
    assert {"Run this folder's adapters", "Merge the shards, per track and side by side",
            "Gate against the previous night (exit 1 on a regression)"} <= ran

    # the second night the reference adapter's Python cannot start (its standard library is not where
    # PYTHONHOME says): every check becomes an error, whatever is installed where
    broken = f"{CASES} --adapter-env PYTHONHOME={tmp_path / 'nothing-here'}"
    second = run_night(state, ["reference"], ["pinned"], broken, SUITE, log=lambda line: None)
    assert [r.name for r in second.failed()] == ["Gate against the previous night (exit 1 on a regression)"]
    summary = second.summaries["merge"]
    assert "**4 regression(s)**" in summary and "sigv4a/vanilla" in summary
    issue = next(r for r in second.records if r.name == "Open or update the regression issue")
    assert issue.status == "github"  # its condition held; it calls GitHub, so it is not run here

    origin = state / "origin.git"
    log = subprocess.run(["git", "-C", str(origin), "log", "--format=%s", "sigharness-history"], capture_output=True, text=True)
    assert len(log.stdout.splitlines()) == 2
    kept = json.loads(subprocess.run(["git", "-C", str(origin), "show", "sigharness-history:pinned/results.json"],
                                     capture_output=True, text=True).stdout)
    assert {r["status"] for r in kept["results"]} == {"error"}
    assert "index.html" in subprocess.run(["git", "-C", str(origin), "ls-tree", "-r", "--name-only", "sigharness-history"],
                                          capture_output=True, text=True).stdout


def test_nightly_runs_the_readme_commands():
    """The README's commands are what the nightly runs: its tests command as written, the full run's
    `sigharness run --cases cases $SIGHARNESS_SUITE` split into shards, the tox envs it names exist.
    (Was tests/test_report_matrix.py's, for the single-job workflow.)"""
    import configparser

    flow = _flow()
    runs = {name: "\n".join(str(s.get("run", "")) for s in job.get("steps", [])) for name, job in flow["jobs"].items()}
    readme = (ROOT / "README.md").read_text()
    tests = "python3 -m pip install tox==4.67.15 && tox -e tests"
    assert tests in readme and tests in runs["matrix-and-tests"]
    assert "tox -m matrix" in runs["matrix-and-tests"]
    tox_ini = (ROOT / "tox.ini").read_text()
    assert "sigharness run --cases {toxinidir}/cases {env:SIGHARNESS_SUITE}" in tox_ini  # tox -e report
    assert 'python3 -m harness run --cases cases "$SIGHARNESS_SUITE"' in runs["shard"]
    tox = configparser.ConfigParser(interpolation=None)
    tox.read_string(tox_ini)
    envs = set()
    for section in tox.sections():
        if section.startswith("testenv:"):
            name = section.split(":", 1)[1]
            m = re.fullmatch(r"(.*)\{(.*)\}(.*)", name)
            envs |= {f"{m.group(1)}{x}{m.group(3)}" for x in m.group(2).split(",")} if m else {name}
    for env in re.findall(r"tox -e ([\w.,-]+)", "\n".join(runs.values())):
        assert set(env.split(",")) <= envs, f"the workflow runs tox env {env}, which tox.ini does not define"
    uploads = [s for s in flow["jobs"]["matrix-and-tests"]["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert uploads and "reports/matrix/" in uploads[0]["with"]["path"]


def test_shards_build_before_moving_to_the_newest_releases():
    names = [s.get("id") for s in _flow()["jobs"]["shard"]["steps"]]
    assert names.index("build") < names.index("latest") < names.index("run")
