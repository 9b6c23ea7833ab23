"""The Ruby adapter (adapters/ruby: `rb-aws-sigv4`) really signs with the aws-sigv4 gem.

1. A normal harness run over the aws-c-auth suite: plain SigV4 cases (get-vanilla, post-vanilla,
   get-vanilla-query) pass in both modes, and in header mode the canonical request and string to
   sign the gem returns (Signature#canonical_request / #string_to_sign) match the suite's. Known
   behaviours of the pinned gem are asserted as such (SigV4A needs aws-crt; a headers Hash cannot
   repeat a name; URI.parse refuses spaces and raw UTF-8; no path normalization).
2. The same run with the LIBRARY broken at load time: `--adapter-env RUBYOPT=-r<break.rb>` where
   adapters/ruby/testing/break.rb reopens Aws::Sigv4::Signer and alters its final HMAC (hexhmac).
   The adapter's own code is untouched, and the same checks now fail.
3. The protocol host itself: hello reports Aws::Sigv4::VERSION, bench and the HMAC floor answer,
   bad messages get `error` answers, `bye` and end of input end the process with status 0.

Without ruby or the aws-sigv4 gem the tests are skipped, except under CI (the CI variable set),
where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import harness_run, suite_check, talk, unavailable

REPO = Path(__file__).resolve().parents[1]
ADAPTER_DIR = REPO / "adapters" / "ruby"
BREAK = ADAPTER_DIR / "testing" / "break.rb"
SUITE = Path(os.environ.get("SIGHARNESS_SUITE") or REPO.parent / "shared" / "vectors" / "aws-c-auth")
NAME = "rb-aws-sigv4"
PLAIN = ("get-vanilla", "post-vanilla", "get-vanilla-query")
CHECKS = [(f"aws-c-auth/v4/{name}", mode) for name in PLAIN for mode in ("header", "query")]
RUN_TIMEOUT = 600


def _unavailable(reason: str) -> None:
    unavailable(reason, "the Ruby adapter")


def _gem_version() -> str | None:
    try:
        proc = subprocess.run(["ruby", "-e", "require 'aws-sigv4'; print Aws::Sigv4::VERSION"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


@pytest.fixture(scope="module")
def gem_version() -> str:
    if shutil.which("ruby") is None:
        _unavailable("`ruby` not on PATH (apt-get install ruby ruby-aws-sigv4)")
    version = _gem_version()
    if not version:
        _unavailable("the aws-sigv4 gem does not load (apt-get install ruby-aws-sigv4)")
    if not SUITE.is_dir():
        _unavailable(f"aws-c-auth vectors not found at {SUITE}")
    return version


def _run_harness(out: Path, *adapter_env: str) -> tuple[dict[tuple[str, str], dict], dict]:
    data, proc = harness_run(out, NAME, *adapter_env, timeout=RUN_TIMEOUT)
    assert data["adapters"].get(NAME, {}).get("available"), (data["adapters"].get(NAME), proc.stderr[-4000:])
    mine = {(r["case"], r["mode"]): r for r in data["results"] if r["adapter"] == NAME}
    assert mine, f"no results for {NAME}; stderr:\n{proc.stderr[-4000:]}"
    return mine, data["adapters"][NAME]


@pytest.fixture(scope="module")
def normal(gem_version, tmp_path_factory):
    return _run_harness(tmp_path_factory.mktemp("rb-normal"))


@pytest.fixture(scope="module")
def sabotaged(gem_version, tmp_path_factory):
    return _run_harness(tmp_path_factory.mktemp("rb-sabotaged"), f"RUBYOPT=-r{BREAK}")


def test_version_is_the_installed_gem(normal, gem_version):
    _, adapter = normal
    assert adapter["library_version"] == gem_version
    assert re.fullmatch(r"ruby \d+\.\d+\.\d+", adapter["runtime"]), adapter["runtime"]


def test_plain_cases_pass(normal):
    results, _ = normal
    for case, mode in CHECKS:
        r = results[(case, mode)]
        assert r["status"] == "pass", (case, mode, r["reason"])


def test_gem_exposes_canonical_request_in_header_mode(normal):
    results, _ = normal
    for case, mode in CHECKS:
        stages = results[(case, mode)]["stages"]
        for stage in ("canonical_request", "string_to_sign"):
            if mode == "header":
                assert stages[stage]["compared"] and stages[stage]["equal"], (case, stage, stages[stage])
            else:  # presign_url returns only the URL
                assert not stages[stage]["compared"], (case, stage)


def test_known_behaviours_of_the_gem(normal):
    """Real behaviours of the installed gem, kept visible (docs/adapters-ruby.md)."""
    results, _ = normal
    for mode in ("header", "query"):
        r = results[("aws-c-auth/v4a/get-vanilla", mode)]
        assert r["status"] == "unsupported" and "aws-crt" in r["reason"], r
        r = results[("aws-c-auth/v4/get-header-key-duplicate", mode)]
        assert r["status"] == "unsupported" and "Hash" in r["reason"], r
        # Token after signing: omit_session_token needs aws-crt. Presigned: unsupported; header
        # mode: the token is one more signed header, which a server accepts (variant).
        r = results[("aws-c-auth/v4/post-sts-header-after", mode)]
        if mode == "query":
            assert r["status"] == "unsupported" and "omit_session_token" in r["reason"], r
        else:
            assert r["status"] == "variant", r
            auth = next(v for n, v in r["signed"]["headers"] if n.lower() == "authorization")
            assert "x-amz-security-token" in auth, auth
        # URI.parse refuses a raw space and raw UTF-8: the gem raises, the request is not signed.
        for case in ("aws-c-auth/v4/get-space-unnormalized", "aws-c-auth/v4/get-utf8"):
            r = results[(case, mode)]
            assert r["status"] == "fail" and "URI::InvalidURIError" in r["reason"], (case, r)
        # No path normalization on the pure-Ruby path.
        assert results[("aws-c-auth/v4/get-slashes-normalized", mode)]["status"] == "fail"
        assert results[("aws-c-auth/v4/get-slashes-unnormalized", mode)]["status"] == "pass"
        # Folded header lines are collapsed like the suite expects.
        assert results[("aws-c-auth/v4/get-header-value-multiline", mode)]["status"] == "pass"


def test_broken_library_makes_the_same_checks_fail(normal, sabotaged):
    results, _ = normal
    broken, _ = sabotaged
    for case, mode in CHECKS:
        assert results[(case, mode)]["status"] == "pass"
        r = broken[(case, mode)]
        assert r["status"] == "fail", (case, mode, r["status"], r["reason"])
        assert not r["verification"]["valid"], (case, mode, r["verification"])
        if mode == "header":  # the gem still builds the same canonical request; only the HMAC changed
            assert r["stages"]["canonical_request"]["equal"], (case, r["stages"]["canonical_request"])


# --- the protocol host --------------------------------------------------------------------------


def _talk(messages: list, home: Path, *extra_env: tuple[str, str]) -> tuple[list[dict], int]:
    answers, proc = talk(["ruby", "host.rb"], messages, ADAPTER_DIR, home, dict(extra_env))
    return answers, proc.returncode


def test_protocol_host(gem_version, tmp_path):
    check = suite_check("aws-c-auth/v4/get-vanilla", "header")
    answers, code = _talk([
        {"type": "hello", "protocol": 1},
        {"type": "sign", "id": "s1", "check": check},
        {"type": "bench", "id": "b1", "check": check, "iterations": 20},
        {"type": "bench", "id": "b2", "floor": "hmac-sha256-chain", "iterations": 200},
        "this is not json",
        {"type": "nonsense", "id": "x1"},
        {"type": "bye"},
        {"type": "hello", "protocol": 1},  # after bye: never answered
    ], tmp_path)
    assert code == 0
    hello, signed, bench, floor, bad, unknown = answers
    assert hello["type"] == "hello" and hello["name"] == NAME and hello["language"] == "ruby"
    assert hello["library_version"] == gem_version
    assert signed["id"] == "s1" and signed["status"] == "signed"
    auth = next(v for n, v in signed["signed"]["headers"] if n.lower() == "authorization")
    expected = (SUITE / "v4" / "get-vanilla" / "header-signature.txt").read_text().strip()
    assert auth.endswith("Signature=" + expected)
    assert bench == {"type": "bench", "id": "b1", "iterations": 20, "elapsed_ns": bench["elapsed_ns"]}
    assert bench["elapsed_ns"] > 0
    assert floor["id"] == "b2" and floor["iterations"] == 200 and floor["elapsed_ns"] > 0
    assert bad["status"] == "error"
    assert unknown["id"] == "x1" and unknown["status"] == "error"
    # End of input without bye also ends the process cleanly.
    answers, code = _talk([{"type": "hello", "protocol": 1}], tmp_path)
    assert code == 0 and len(answers) == 1
