"""The JavaScript adapters (adapters/js) really sign with their libraries.

1. A normal harness run over a few aws-c-auth cases: plain SigV4 cases in both modes (and SigV4A
   where the library has it) come out `pass`, and every one of them verifies.
2. The same run with each library altered at load time: `--adapter-env
   NODE_OPTIONS=--require=adapters/js/testing/break-libraries.js` wraps, inside each library, the
   step that turns the secret into a signature (@smithy/signature-v4 SignatureV4.getSigningKey,
   @smithy/signature-v4a SignatureV4a.getSignature, aws4 RequestSigner.signature, aws4fetch
   AwsV4Signer.signature, aws-crt AwsCredentialsProvider.newStatic, @aws-sdk/signature-v4-crt
   CrtSignerV4.options2crtConfigure). The adapter code is untouched, so when the same checks now
   `fail`, the signatures the adapters report come from the libraries.

Without Node.js and npm the tests are skipped, except under CI (the CI variable set), where they
fail.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import adapter_command, harness_run, suite_check, talk, unavailable

REPO = Path(__file__).resolve().parents[1]
JS = REPO / "adapters" / "js"
BREAK_FILE = JS / "testing" / "break-libraries.js"
SUITE = Path(os.environ.get("SIGHARNESS_SUITE", REPO.parent / "shared" / "vectors" / "aws-c-auth"))
RUN_TIMEOUT = 600

BOTH = ("header", "query")
V4_CASES = ("get-vanilla", "post-vanilla", "get-vanilla-query", "get-vanilla-with-session-token")


def _checks(v4a_modes: tuple[str, ...] = (), body: bool = False) -> list[tuple[str, str]]:
    checks = [(f"aws-c-auth/v4/{case}", mode) for case in V4_CASES for mode in BOTH]
    checks += [(f"aws-c-auth/v4a/{case}", mode) for case in ("get-vanilla", "post-vanilla") for mode in v4a_modes]
    if body:  # a signed body (x-amz-content-sha256 added and signed)
        checks += [("aws-c-auth/v4/post-x-www-form-urlencoded", "header")]
    return checks


# adapter -> the checks that pass when the library is intact
EXPECTED = {
    "js-smithy": _checks(v4a_modes=("header",), body=True),  # SignatureV4a has no presign
    "js-aws4": _checks(),
    "js-aws4fetch": _checks(),
    "js-aws-crt": _checks(v4a_modes=BOTH, body=True),
    "js-sdk-crt": _checks(v4a_modes=BOTH, body=True),
}
ADAPTERS = tuple(EXPECTED)
CASE_IDS = sorted({case for checks in EXPECTED.values() for case, _ in checks})
# adapter -> the npm packages whose versions hello reports, as pinned in package-lock.json
PACKAGES = {
    "js-smithy": ("@smithy/signature-v4", "@smithy/signature-v4a"),
    "js-aws4": ("aws4",),
    "js-aws4fetch": ("aws4fetch",),
    "js-aws-crt": ("aws-crt",),
    "js-sdk-crt": ("@aws-sdk/signature-v4-crt", "aws-crt"),
}


def _unavailable(reason: str) -> None:
    unavailable(reason, "the JavaScript adapters")


@pytest.fixture(scope="module")
def toolchain() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        _unavailable(f"{' and '.join(missing)} not on PATH (install Node.js 18+ with npm)")
    if not (SUITE / "v4").is_dir():
        _unavailable(f"aws-c-auth vectors not found at {SUITE} (set SIGHARNESS_SUITE)")


def _run_harness(out: Path, *adapter_env: str) -> dict:
    data, proc = harness_run(out, ",".join(ADAPTERS), *adapter_env, timeout=RUN_TIMEOUT, case_ids=tuple(CASE_IDS))
    return data


def _by_check(run: dict) -> dict[tuple[str, str, str], dict]:
    return {(r["adapter"], r["case"], r["mode"]): r for r in run["results"]}


@pytest.fixture(scope="module")
def normal_run(toolchain, tmp_path_factory) -> dict:
    return _run_harness(tmp_path_factory.mktemp("js-normal"))


@pytest.fixture(scope="module")
def sabotaged_run(toolchain, tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("js-sabotaged")
    return _run_harness(out, f"NODE_OPTIONS=--require={BREAK_FILE}"), out


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_adapter_signs_aws_c_auth_cases(normal_run, adapter):
    results = _by_check(normal_run)
    for case, mode in EXPECTED[adapter]:
        result = results.get((adapter, case, mode))
        assert result is not None, f"{adapter} {case} {mode} missing from the run"
        assert result["status"] == "pass", (adapter, case, mode, result)
        assert (result.get("verification") or {}).get("valid") is True, (adapter, case, mode, result)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_adapter_fails_when_its_library_is_altered(normal_run, sabotaged_run, adapter):
    normal = _by_check(normal_run)
    run, out = sabotaged_run
    broken = _by_check(run)
    for case, mode in EXPECTED[adapter]:
        assert normal[(adapter, case, mode)]["status"] == "pass"
        result = broken.get((adapter, case, mode))
        assert result is not None, f"{adapter} {case} {mode} missing from the sabotaged run"
        assert result["status"] == "fail", (adapter, case, mode, result)
    # the alteration happened inside the library the adapter loaded (the break file logs it)
    log = (out / "logs" / f"{adapter}.log").read_text(errors="replace")
    assert "sigharness-sabotage: altered" in log, log[-2000:]


def _talk(adapter: str, lines: list[dict], home: Path) -> list[dict]:
    answers, proc = talk(adapter_command(adapter)[0], lines, JS, home, adapter=adapter)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return answers


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_hello_reports_the_locked_library_version(normal_run, adapter, tmp_path):
    (hello,) = _talk(adapter, [{"type": "hello", "protocol": 1}, {"type": "bye"}], tmp_path)
    assert hello["type"] == "hello" and hello["name"] == adapter and hello["language"] == "javascript"
    lock = json.loads((JS / "package-lock.json").read_text())["packages"]
    for package in PACKAGES[adapter]:
        version = lock[f"node_modules/{package}"]["version"]
        assert version in hello["library_version"], (package, version, hello["library_version"])
    assert hello["library_version"].startswith(lock[f"node_modules/{PACKAGES[adapter][0]}"]["version"])


def test_bench_and_floor(normal_run, tmp_path):
    check = suite_check("aws-c-auth/v4/get-vanilla", "header")
    lines = [{"type": "hello", "protocol": 1},
             {"type": "bench", "id": "f", "floor": "hmac-sha256-chain", "iterations": 200},
             {"type": "bench", "id": "b", "check": check, "iterations": 20},
             {"type": "sign", "id": "s", "check": check},
             {"type": "bye"}]
    for adapter in ADAPTERS:
        answers = _talk(adapter, lines, tmp_path)
        assert [a["type"] for a in answers] == ["hello", "bench", "bench", "result"], (adapter, answers)
        for answer, want in zip(answers[1:3], (200, 20)):
            assert answer["iterations"] == want and answer["elapsed_ns"] > 0, (adapter, answer)
        signed = answers[3]
        assert signed["status"] == "signed", (adapter, signed)
        auth = [v for n, v in signed["signed"]["headers"] if n.lower() == "authorization"]
        # aws-c-auth v4/get-vanilla header-signature.txt
        assert auth and auth[0].endswith(
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"), (adapter, signed)


def _project_check(case_id: str, mode: str) -> dict:
    """The protocol's CHECK for one case of cases/, exactly as the runner sends it."""
    from harness.cases.sources import load_cases
    from harness.model import Check

    cases = {c.id: c for c in load_cases([REPO / "cases" / case_id.split("/")[0]]).cases}
    return Check(cases[case_id], mode).to_json()


def _project_expectation(case_id: str, mode: str, key: str) -> str:
    from harness.cases.sources import load_cases

    (case,) = [c for c in load_cases([REPO / "cases" / case_id.split("/")[0]]).cases if c.id == case_id]
    return case.expect[mode][key]


def test_aws_crt_signs_a_binary_body_with_the_sdk_payload_hash(normal_run, tmp_path):
    """A non-UTF-8 body (bytes 0x00-0xFF) is hashed as @aws-sdk/signature-v4-crt hashes bodies for
    the same CRT signer; the CRT then signs what the case expects (it was `unsupported`)."""
    check = _project_check("bodies/binary", "header")
    (_, answer) = _talk("js-aws-crt", [{"type": "hello", "protocol": 1},
                                       {"type": "sign", "id": "b", "check": check}, {"type": "bye"}], tmp_path)
    assert answer["status"] == "signed", answer
    auth = next(v for n, v in answer["signed"]["headers"] if n.lower() == "authorization")
    assert auth.endswith("Signature=" + _project_expectation("bodies/binary", "header", "signature")), auth


def _query_pairs(url: str) -> list[tuple[str, str]]:
    """The URL's query split as SigV4 splits it: at '&', then at the first '=', then decoded."""
    from urllib.parse import unquote, urlsplit

    query = urlsplit(url).query
    return [(unquote(k), unquote(v)) for k, _, v in (p.partition("=") for p in query.split("&") if p)]


# case -> the parameters the signed URL must still carry (values with '=' and ';' intact)
QUERY_KEPT = {
    "query/equals-in-value": [("a", "b=c"), ("d", "=")],
    "query/semicolon-separator": [("a", "1;b=2")],
    "query/plus-nexttoken": [("MarketplaceIds", "ATVPDKIKX0DER"), ("NextToken", "aQVM/pLGd+zFWYRq/If2+oaVu===")],
    "query/only-ampersands": [],
}


@pytest.mark.parametrize("adapter", ("js-smithy", "js-sdk-crt"))
def test_smithy_request_query_splits_at_the_first_equals(normal_run, adapter, tmp_path):
    """The HttpRequest's query keeps a value's own '=' (the SDK parser cut 'b=c' to 'b')."""
    checks = [(case, mode) for case in QUERY_KEPT for mode in BOTH]
    lines = [{"type": "hello", "protocol": 1}]
    lines += [{"type": "sign", "id": f"{case} {mode}", "check": _project_check(case, mode)} for case, mode in checks]
    answers = _talk(adapter, lines + [{"type": "bye"}], tmp_path)[1:]
    for (case, mode), answer in zip(checks, answers, strict=True):
        assert answer["status"] == "signed", (adapter, case, mode, answer)
        pairs = [p for p in _query_pairs(answer["signed"]["url"]) if not p[0].startswith("X-Amz-")]
        assert pairs == QUERY_KEPT[case], (adapter, case, mode, answer["signed"]["url"])
    if adapter == "js-smithy":  # its canonical request (the signer's own) signs the whole value
        header = dict(zip(checks, answers))[("query/equals-in-value", "header")]
        assert header["canonical_request"].split("\n")[2] == "a=b%3Dc&d=%3D", header["canonical_request"]
