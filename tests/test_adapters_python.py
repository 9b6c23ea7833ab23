"""The Python adapters (adapters/python) really sign with their libraries.

1. A normal harness run over the aws-c-auth suite: a few plain SigV4 cases (and SigV4A for the CRT
   adapters) come out `pass`, or `variant` for the libraries that always sign extra headers
   (requests-aws4auth signs x-amz-content-sha256; aws-requests-auth adds it unsigned), and every
   one of them verifies.
2. The same run with each library altered at import time: `--adapter-env PYTHONPATH=<dir>` puts a
   `sitecustomize.py` in front of the adapters' imports, and it patches, inside each library, the
   step that turns the secret into a signature (botocore's SigV4Auth.signature, awscrt's static
   credentials provider, requests-aws4auth's AWS4SigningKey.sign_sha256, aws-requests-auth's
   getSignatureKey, the documentation example's getSignatureKey). The adapter code is untouched,
   so when those same checks now `fail`, the signatures the adapters report come from the libraries.

Without the Python signing libraries installed the tests are skipped, except under CI (the CI
variable set), where they fail.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from harness import protocol
from conftest import adapter_command, harness_run, suite_check, talk, unavailable

REPO = Path(__file__).resolve().parents[1]
SUITE = Path(os.environ.get("SIGHARNESS_SUITE", REPO.parent / "shared" / "vectors" / "aws-c-auth"))
RUN_TIMEOUT = 600

V4_CASES = ("get-vanilla", "post-vanilla", "get-vanilla-query", "get-vanilla-with-session-token")


def _checks(modes: tuple[str, ...], v4a: bool = False) -> list[tuple[str, str]]:
    checks = [(f"aws-c-auth/v4/{case}", mode) for case in V4_CASES for mode in modes]
    if v4a:
        checks += [("aws-c-auth/v4a/get-vanilla", mode) for mode in modes]
    return checks


BOTH = ("header", "query")
# adapter -> (checks, the status a correct run gives them)
EXPECTED = {
    "py-botocore": (_checks(BOTH), "pass"),
    "py-botocore-crt": (_checks(BOTH, v4a=True), "pass"),
    "py-awscrt": (_checks(BOTH, v4a=True), "pass"),
    "py-requests-aws4auth": (_checks(("header",)), "variant"),
    "py-requests-aws4auth-refreshable": (_checks(("header",)), "variant"),
    "py-aws-requests-auth": (_checks(("header",)), "variant"),
    # The documentation example appends the token after X-Amz-SignedHeaders (unsorted) in its
    # presigned URL: that check fails even unaltered, so it is left out here.
    "py-docs-example": ([c for c in _checks(BOTH)
                         if c != ("aws-c-auth/v4/get-vanilla-with-session-token", "query")], "pass"),
}
ADAPTERS = tuple(EXPECTED)
DISTRIBUTIONS = {
    "py-botocore": "botocore",
    "py-botocore-crt": "botocore",
    "py-awscrt": "awscrt",
    "py-requests-aws4auth": "requests-aws4auth",
    "py-requests-aws4auth-refreshable": "requests-aws4auth",
    "py-aws-requests-auth": "aws-requests-auth",
}

# Patches each library, once imported, where it turns the secret into a signature.
SITECUSTOMIZE = textwrap.dedent('''
    """sigharness test: alter the signing libraries at import time (tests/test_adapters_python.py)."""
    import importlib.abc
    import sys


    def _botocore_auth(module):
        original = module.SigV4Auth.signature

        def signature(self, string_to_sign, request):
            return original(self, string_to_sign + "\\nsigharness-sabotage", request)

        module.SigV4Auth.signature = signature


    def _awscrt_auth(module):
        original = module.AwsCredentialsProvider.new_static

        def new_static(access_key_id, secret_access_key, session_token=None):
            return original(access_key_id, secret_access_key + "sabotage", session_token)

        module.AwsCredentialsProvider.new_static = staticmethod(new_static)


    def _requests_aws4auth_key(module):
        original = module.AWS4SigningKey.sign_sha256

        def sign_sha256(key, msg):
            return original(key + b"sabotage", msg)

        module.AWS4SigningKey.sign_sha256 = staticmethod(sign_sha256)


    def _aws_requests_auth(module):
        original = module.getSignatureKey
        module.getSignatureKey = lambda key, *rest: original(key + "sabotage", *rest)


    def _docs_example(module):
        original = module.getSignatureKey
        module.getSignatureKey = lambda key, *rest: original(key + "sabotage", *rest)


    PATCHES = {
        "botocore.auth": _botocore_auth,
        "awscrt.auth": _awscrt_auth,
        "requests_aws4auth.aws4signingkey": _requests_aws4auth_key,
        "aws_requests_auth.aws_auth": _aws_requests_auth,
        "ad_docs_example": _docs_example,
    }


    class _PatchingLoader(importlib.abc.Loader):
        def __init__(self, loader, patch):
            self.loader, self.patch = loader, patch

        def create_module(self, spec):
            return self.loader.create_module(spec)

        def exec_module(self, module):
            self.loader.exec_module(module)
            self.patch(module)
            print(f"sigharness-sabotage: altered {module.__name__}", file=sys.stderr)


    class _Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            patch = PATCHES.get(name)
            if patch is None:
                return None
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is not None and spec.loader is not None:
                    spec.loader = _PatchingLoader(spec.loader, patch)
                    return spec
            return None


    sys.meta_path.insert(0, _Finder())
''')


def _unavailable(reason: str) -> None:
    unavailable(reason, "the Python adapters")


@pytest.fixture(scope="module")
def libraries() -> None:
    missing = [m for m in ("botocore", "awscrt", "requests", "requests_aws4auth", "aws_requests_auth")
               if importlib.util.find_spec(m) is None]
    if missing:
        _unavailable(f"Python signing libraries not installed: {', '.join(missing)} "
                     "(pip install -c constraints.txt -e .[adapters])")
    if not SUITE.is_dir():
        _unavailable(f"aws-c-auth vectors not found at {SUITE}")


def _run_harness(out: Path, *adapter_env: str) -> dict:
    data, proc = harness_run(out, ",".join(ADAPTERS), *adapter_env, timeout=RUN_TIMEOUT)
    return data


def _by_check(run: dict) -> dict[tuple[str, str, str], dict]:
    return {(r["adapter"], r["case"], r["mode"]): r for r in run["results"]}


@pytest.fixture(scope="module")
def normal_run(libraries, tmp_path_factory) -> dict:
    return _run_harness(tmp_path_factory.mktemp("python-normal"))


@pytest.fixture(scope="module")
def sabotaged_run(libraries, tmp_path_factory) -> dict:
    site = tmp_path_factory.mktemp("python-sabotage-site")
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return _run_harness(tmp_path_factory.mktemp("python-sabotaged"), f"PYTHONPATH={site}")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_adapter_signs_aws_c_auth_cases(normal_run, adapter):
    results = _by_check(normal_run)
    checks, status = EXPECTED[adapter]
    for case, mode in checks:
        result = results.get((adapter, case, mode))
        assert result is not None, f"{adapter} {case} {mode} missing from the run"
        assert result["status"] == status, (adapter, case, mode, result)
        assert (result.get("verification") or {}).get("valid") is True, (adapter, case, mode, result)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_adapter_fails_when_its_library_is_altered(normal_run, sabotaged_run, adapter):
    normal = _by_check(normal_run)
    broken = _by_check(sabotaged_run)
    checks, status = EXPECTED[adapter]
    for case, mode in checks:
        assert normal[(adapter, case, mode)]["status"] == status
        result = broken.get((adapter, case, mode))
        assert result is not None, f"{adapter} {case} {mode} missing from the sabotaged run"
        assert result["status"] == "fail", (adapter, case, mode, result)


def _hello(adapter: str) -> dict:
    command, folder = adapter_command(adapter)
    proc = subprocess.run(
        command, cwd=folder, input=json.dumps(protocol.hello(adapter)) + '\n{"type": "bye"}\n',
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.splitlines()[0])


@pytest.mark.parametrize("adapter", sorted(DISTRIBUTIONS))
def test_hello_reports_the_installed_library_version(libraries, adapter):
    hello = _hello(adapter)
    assert hello["name"] == adapter
    assert hello["library_version"] == metadata.version(DISTRIBUTIONS[adapter])


def test_pure_botocore_runs_without_crt(libraries):
    assert "HAS_CRT=False" in _hello("py-botocore")["runtime"]


def test_bench_and_floor(libraries, tmp_path):
    check = suite_check("aws-c-auth/v4/get-vanilla", "header")
    lines = [{"type": "hello", "protocol": 1},
             {"type": "bench", "id": "f", "floor": "hmac-sha256-chain", "iterations": 200},
             {"type": "bench", "id": "b", "check": check, "iterations": 20},
             {"type": "bye"}]
    for adapter in ADAPTERS:
        answers, proc = talk(*adapter_command(adapter)[:1], lines, REPO / "adapters" / "python", tmp_path, adapter=adapter)
        assert [a["type"] for a in answers] == ["hello", "bench", "bench"], (adapter, answers)
        for answer, want in zip(answers[1:], (200, 20)):
            assert answer["iterations"] == want and answer["elapsed_ns"] > 0, (adapter, answer)
