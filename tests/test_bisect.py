"""`sigharness bisect`: the search, the release list, and a real run of the harness per release on a fake
library whose releases from 1.0.23 on sign wrongly (a fake registry installs each release into its own
folder, as harness/releases.py does for PyPI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.version import Version

from harness import releases
from harness.adapters.manifest import discover
from harness.bisect import Probe, bisect, format_bisection, search
from harness.releases import Environment, ReleaseError, between, cached_versions

from conftest import ROOT, unavailable

CASE = "headers/connection-not-signed"
BREAKS_AT = "1.0.23"
RELEASES = [f"1.0.{i}" for i in range(40)] + ["1.0.30rc1", "1.1.0-beta.1"]

FAKE_HOST = '''
"""A fake signer's adapter: the reference signer, except that the `fakesigner` release on PYTHONPATH
may be broken (then it signs with a zeroed signature)."""
import importlib.util, json, re, sys
import fakesigner
spec = importlib.util.spec_from_file_location("reference_host", "{project}/adapters/reference/host.py")
ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)

def handle(message):
    answer = ref.handle(message)
    if message.get("type") == "hello":
        answer.update(name="fake-signer", library="fakesigner", library_version=fakesigner.__version__)
    elif answer.get("status") == "signed" and fakesigner.BROKEN:
        text = re.sub(r"(Signature=)[0-9a-f]{64}", lambda m: m.group(1) + "0" * 64, json.dumps(answer["signed"]))
        answer["signed"] = json.loads(text)
    return answer

for line in sys.stdin:
    message = json.loads(line)
    if message.get("type") == "bye":
        break
    sys.stdout.write(json.dumps(handle(message)) + "\\n"); sys.stdout.flush()
'''


class FakeRegistry:
    """Releases of `fakesigner`; each is written into a folder of its own, put first on PYTHONPATH."""

    ecosystem = "fake"

    def __init__(self, cache: Path, versions: list[str] = RELEASES):
        self.cache = cache
        self.listed = 0
        self.installed: list[str] = []
        self._versions = versions

    def versions(self, package: str) -> list[str]:
        self.listed += 1
        return list(self._versions)

    def environment(self, spec, package: str, version: str) -> Environment:
        site = self.cache / f"{package}-{version}"
        if not site.exists():
            site.mkdir(parents=True)
            broken = releases.release_key(version) >= releases.release_key(BREAKS_AT)
            (site / "fakesigner.py").write_text(f"__version__ = {version!r}\nBROKEN = {broken}\n")
            self.installed.append(version)
        return Environment(version, {"PYTHONPATH": f"{site}{os.pathsep}{ROOT}"}, None, {package: version})


@pytest.fixture()
def fake_adapter(tmp_path: Path):
    folder = tmp_path / "adapters" / "fake"
    folder.mkdir(parents=True)
    (folder / "host.py").write_text(FAKE_HOST.replace("{project}", str(ROOT)))
    (folder / "adapter.yaml").write_text(textwrap.dedent("""\
        language: python
        adapters:
          - {name: fake-signer, library: fakesigner, start: ["{python}", host.py]}
    """))
    known, problems = discover([tmp_path / "adapters"])
    assert not problems
    return known["fake-signer"]


def _probe(verdicts: dict[str, str], calls: list[str], untestable: set[str] = frozenset()):
    def run(version: str) -> Probe:
        calls.append(version)
        if version in untestable:
            return Probe(version, {}, {}, "", None, 0.0, problems=["cannot install"])
        return Probe(version, {("c", "header"): verdicts[version]}, {}, version, None, 0.0)
    return run


def test_search_finds_the_first_release_with_a_new_verdict_in_log2_probes():
    candidates = [f"2.{i}" for i in range(1000)]
    verdicts = {v: "variant" if i < 617 else "pass" for i, v in enumerate(candidates)}
    calls: list[str] = []
    assert search(candidates, _probe(verdicts, calls)) == (616, 617, [])
    assert len(calls) <= 2 + 10 and len(set(calls)) == len(calls)


def test_search_skips_a_release_that_cannot_be_tested():
    candidates = [f"2.{i}" for i in range(50)]
    verdicts = {v: "pass" if i < 30 else "fail" for i, v in enumerate(candidates)}
    low, high, skipped = search(candidates, _probe(verdicts, [], untestable={"2.30"}))
    assert (candidates[low], candidates[high], skipped) == ("2.29", "2.31", ["2.30"])


def test_search_without_a_change_says_so():
    candidates = [f"2.{i}" for i in range(8)]
    answer = search(candidates, _probe({v: "pass" for v in candidates}, []))
    assert isinstance(answer, str) and "same on 2.0 and 2.7" in answer


def test_between_keeps_final_releases_in_the_asked_direction():
    assert between(RELEASES, "1.0.28", "1.0.31") == ["1.0.28", "1.0.29", "1.0.30", "1.0.31"]
    assert between(RELEASES, "1.0.31", "1.0.29") == ["1.0.31", "1.0.30", "1.0.29"]
    assert between(["1.9.0", "1.10.0", "1.9.1"], "1.9.0", "1.10.0") == ["1.9.0", "1.9.1", "1.10.0"]  # not string order
    with pytest.raises(ReleaseError, match="--to 9.9.9: no such release"):
        between(RELEASES, "1.0.1", "9.9.9")


def test_release_list_is_cached_until_a_needed_version_is_missing(tmp_path: Path):
    registry = FakeRegistry(tmp_path)
    cached_versions(registry, "fakesigner", ("1.0.0", "1.0.39"))
    cached_versions(registry, "fakesigner", ("1.0.0", "1.0.39"))
    assert registry.listed == 1
    cached_versions(registry, "fakesigner", ("1.0.0", "1.0.40"))
    assert registry.listed == 2


def test_bisect_runs_each_probed_release_and_names_the_first_broken_one(tmp_path: Path, fake_adapter):
    registry = FakeRegistry(tmp_path / "cache")
    result = bisect(fake_adapter, "fakesigner", registry, "1.0.0", "1.0.39", [str(ROOT / "cases")], [CASE],
                    tmp_path / "runs", log=lambda line: None, isolate_network="off")
    assert result.found, result.message
    assert (result.before.version, result.after.version) == ("1.0.22", BREAKS_AT)
    assert set(result.before.verdict.values()) == {"pass"} and set(result.after.verdict.values()) == {"fail"}
    # each probe really ran the release it names, and only a few releases were installed
    assert all(p.reported_version == p.version for p in result.probes.values())
    assert len(registry.installed) <= 2 + 6 and "1.0.30rc1" not in registry.installed
    text = format_bisection(result)
    assert f"fakesigner {BREAKS_AT} (previous release: 1.0.22)" in text
    assert f"* {CASE} [header]: pass (1.0.22) -> fail ({BREAKS_AT})" in text
    assert "+" + "0" * 64 in text  # the stage diff shows the new signature


def test_bisect_cli_rejects_an_unknown_adapter_with_one_line():
    from harness.cli import bisect as cli_bisect
    import argparse

    parser = argparse.ArgumentParser()
    cli_bisect.register(parser.add_subparsers())
    args = parser.parse_args(["bisect", "no-such-adapter", "--case", CASE, "--from", "1", "--to", "2"])
    assert args.func(args) == 2


@pytest.mark.slow
def test_real_bisect_of_botocore_names_1_42_61(tmp_path: Path):
    """botocore stopped signing `Connection` in 1.42.61 (a narrow range keeps the test short; docs/regressions.md
    has the figures for 1.27.13 -> 1.44.5)."""
    code = (
        "import argparse, sys; from harness.cli import bisect as cli_bisect; p = argparse.ArgumentParser(); "
        "cli_bisect.register(p.add_subparsers()); a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "bisect", "py-botocore", "--case", CASE, "--from", "1.42.59", "--to", "1.42.63",
         "--out", str(tmp_path / "runs")],
        cwd=ROOT, capture_output=True, text=True, timeout=900, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    if proc.returncode == 2 and "listing botocore releases" in proc.stderr:
        unavailable(f"PyPI cannot be reached: {proc.stderr.strip()[-300:]}", "PyPI")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "first release with a new verdict: botocore 1.42.61 (previous release: 1.42.60)" in proc.stdout
    assert f"* {CASE} [header]: variant (1.42.60) -> pass (1.42.61)" in proc.stdout
    assert json.loads((tmp_path / "runs" / "py-botocore@1.42.61" / "results.json").read_text())["adapters"]["py-botocore"]["library_version"] == "1.42.61"


# ------------------------------------------------------------------------------- upgrade-check and companion pins

class FakeRegistryWithCompanion(FakeRegistry):
    """As FakeRegistry, and each release comes with the `fakecrt` version it declares."""

    def environment(self, spec, package: str, version: str) -> Environment:
        env = super().environment(spec, package, version)
        env.packages = {package: version, "fakecrt": "2.0" if releases.release_key(version) >= releases.release_key(BREAKS_AT) else "1.0", "jmespath": "1.0.1"}
        return env


def test_upgrade_check_diffs_the_two_releases_and_lists_what_moved_with_them(tmp_path: Path, fake_adapter):
    from harness.upgrade import format_upgrade, upgrade_check

    check = upgrade_check([fake_adapter], "fakesigner", FakeRegistryWithCompanion(tmp_path / "cache"), "1.0.3", BREAKS_AT,
                          [str(ROOT / "cases")], [CASE], tmp_path / "out", log=lambda line: None, isolate_network="off")
    assert {(c.case, c.mode, c.old, c.new) for c in check.comparison.regressions} == {
        (CASE, "header", "pass", "fail"), (CASE, "query", "pass", "fail")}
    assert check.moved == [("fakecrt", "1.0", "2.0")]
    assert (tmp_path / "out" / f"fakesigner-{BREAKS_AT}" / "freeze.txt").read_text() == (
        f"fakecrt==2.0\nfakesigner=={BREAKS_AT}\njmespath==1.0.1\n")
    text = format_upgrade(check)
    assert "fakesigner: fakesigner 1.0.3 -> 1.0.23" in text.replace("fake-signer", "fakesigner")
    assert "  fakecrt: 1.0 -> 2.0" in text


def test_declared_companion_reads_the_extra_of_requires_dist():
    from harness.upgrade import declared_companion

    requires = ["jmespath<2.0.0,>=0.7.1", "urllib3<1.27,>=1.25.4", "awscrt==0.13.8; extra == \"crt\""]
    assert str(declared_companion(requires, "awscrt", ("crt",))) == "==0.13.8"
    assert declared_companion(requires, "awscrt", ()) is None
    assert str(declared_companion(requires, "urllib3", ())) == "<1.27,>=1.25.4"


@pytest.mark.slow
def test_companion_pin_for_an_old_botocore_is_the_oldest_awscrt_with_a_wheel(tmp_path: Path):
    from harness.releases import PyPI
    from harness.upgrade import companion_pin

    try:
        pin = companion_pin(PyPI(), "botocore", "1.27.13", "awscrt", ("crt",))
    except ReleaseError as exc:
        unavailable(f"PyPI cannot be reached: {exc}", "PyPI")
    assert pin.declared == "==0.13.8"  # botocore 1.27.13's METADATA: Requires-Dist: awscrt (==0.13.8) ; extra == 'crt'
    assert pin.chosen is not None and Version(pin.chosen) > Version("0.13.8") and "no wheel" in pin.note


@pytest.mark.slow
def test_real_bisect_of_aws4_on_npm_names_1_9_1(tmp_path: Path):
    """aws4 1.9.1 started sorting query keys that share a prefix (`key` before `key-type`) as the spec does."""
    import shutil as _shutil

    if _shutil.which("npm") is None or _shutil.which("node") is None:
        unavailable("node/npm not on PATH", "the JS adapters")
    code = (
        "import argparse, sys; from harness.cli import bisect as cli_bisect; p = argparse.ArgumentParser(); "
        "cli_bisect.register(p.add_subparsers()); a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "bisect", "js-aws4", "--case", "query/key-prefix", "--from", "1.9.0", "--to", "1.13.2",
         "--out", str(tmp_path / "runs")],
        cwd=ROOT, capture_output=True, text=True, timeout=900, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    if proc.returncode == 2 and "listing aws4 releases" in proc.stderr:
        unavailable(f"npm cannot reach its registry: {proc.stderr.strip()[-300:]}", "npm")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "first release with a new verdict: aws4 1.9.1 (previous release: 1.9.0)" in proc.stdout
    assert "* query/key-prefix [header]: fail (1.9.0) -> pass (1.9.1)" in proc.stdout
    data = json.loads((tmp_path / "runs" / "js-aws4@1.9.0" / "results.json").read_text())
    assert data["adapters"]["js-aws4"]["library_version"] == "1.9.0"  # the probed release, not the lock file's 1.13.2
