"""The adapters for presigned POST policies and IAM tokens really call their libraries.

1. A harness run over cases/post-policy and cases/tokens: each adapter's verdicts are the ones in
   EXPECTED (published token vectors `pass`: the library's token is the published one; POST forms
   are `variant`: every generator writes its own policy document, which S3 accepts).
2. The same run with the libraries altered as they load (the sitecustomize of
   tests/test_adapters_python.py for botocore's SigV4Auth.signature, which S3SigV4PostAuth and
   SigV4QueryAuth sign with; adapters/js/testing/break-libraries.js for @smithy/signature-v4, which
   the rds, dsql and POST generators derive their keys with): every one of those checks `fail`s,
   so the forms and tokens come from the libraries, not from the adapters.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, harness_run, run_results, unavailable
from test_adapters_python import SITECUSTOMIZE

BREAK_JS = ROOT / "adapters" / "js" / "testing" / "break-libraries.js"
BREAK_RUBY = ROOT / "adapters" / "ruby" / "testing" / "break_presigners.rb"
CASES = ROOT / "cases"


def _ids(surface: str) -> list[str]:
    from harness.cases import load_cases

    loaded = load_cases([CASES / "post-policy", CASES / "tokens"])
    return sorted(c.id for c in loaded.cases if c.surface == surface)


# adapter -> {case id: status}; an adapter answers only its surfaces (the others are the engine's `unsupported`).
def _table(surfaces: dict[str, str], exceptions: dict[str, str]) -> dict[str, str]:
    table = {case: status for surface, status in surfaces.items() for case in _ids(surface)}
    table.update(exceptions)
    return table


NO_EXPIRY_OPTION = {"tokens/rds-expires-too-long": "unsupported"}  # both RDS generators hard-code 900 s
EXPECTED = {
    "py-botocore-presigners": _table(
        {"post-policy": "variant", "rds": "pass", "dsql": "pass", "eks": "pass"},
        # botocore signs Host without ':443' while its token keeps it (the case's open choice).
        {**NO_EXPIRY_OPTION, "tokens/rds-port-443": "variant"},
    ),
    "js-s3-presigned-post": _table({"post-policy": "variant"}, {}),
    "js-rds-signer": _table({"rds": "pass"}, NO_EXPIRY_OPTION),
    # SignatureV4.presign refuses more than a week (the case allows the refusal).
    "js-dsql-signer": _table({"dsql": "pass"}, {"tokens/dsql-expires-above-one-week": "variant"}),
    # Aws::S3::PresignedPost has no option for an exact key condition ending in ${filename};
    # Aws::STS::Presigner always presigns for 900 s (only the Ruby vectors ask for that). Its token
    # for the global endpoint is scoped us-east-1, as STS wants, where the case pins the old
    # us-west-2 vector and expects a refusal.
    "rb-aws-sdk-presigners": {
        **_table({"post-policy": "variant", "eks": "unsupported"}, {"post-policy/exact-key-with-filename": "unsupported"}),
        "tokens/eks-ruby-sts-presigner": "pass", "tokens/eks-ruby-sts-presigner-global-endpoint": "fail",
    },
    # aws-sdk-rds 1.159.0 auth_token: DBUser goes into the URL unencoded, so a user name with a space
    # or non-ASCII letter makes its own SignableRequest::new(...).expect() panic; url::Url drops
    # ':443' from the token while the signature covers what it signed; expires_in is clamped to 900.
    "rust-sdk-tokens": _table({"rds": "pass", "dsql": "pass"}, {
        "tokens/rds-special-user": "fail", "tokens/rds-port-443": "fail", "tokens/rds-expires-too-long": "fail"}),
}
ADAPTERS = tuple(EXPECTED)
# Refused for what a server checks before the signature (the credential scope, X-Amz-Expires): an
# altered signature shows only as a differing signature stage (variant), not in the server's verdict.
REFUSED_BEFORE_SIGNATURE = {"tokens/eks-ruby-sts-presigner-global-endpoint", "tokens/dsql-expires-above-one-week",
                            "tokens/eks-expires-above-900"}


# Fails already in the normal run (see EXPECTED): nothing for an altered library to change.
KNOWN_FAILS = {("rb-aws-sdk-presigners", "tokens/eks-ruby-sts-presigner-global-endpoint"),
               *(("rust-sdk-tokens", c) for c in ("tokens/rds-special-user", "tokens/rds-port-443", "tokens/rds-expires-too-long"))}
# Not altered in the sabotaged run: an aws-sigv4 patched in (SIGHARNESS_RUST_PATCH_AWS_SIGV4, as
# tests/test_adapters_rust.py does) rebuilds aws-sdk-rds in a new target folder, many minutes. Its
# tokens are the published ones byte for byte (tokens/rds-botocore, tokens/dsql-botocore-*: pass).
NOT_SABOTAGED = {"rust-sdk-tokens"}


@pytest.fixture(scope="module")
def ready() -> None:
    if importlib.util.find_spec("botocore") is None:
        unavailable("botocore not installed", "the presigner adapters")
    if shutil.which("node") is None or shutil.which("npm") is None:
        unavailable("node / npm not installed", "the JavaScript presigner adapters")
    if shutil.which("ruby") is None:
        unavailable("ruby not installed", "the Ruby presigner adapter")


def _run(out: Path, *env: str, adapters: tuple[str, ...] = ADAPTERS) -> dict[tuple[str, str], dict]:
    data, _ = harness_run(out, ",".join(adapters), *env, cases=CASES, case_ids=("post-policy/*", "tokens/*"), timeout=600)
    return {(r["adapter"], r["case"]): r for r in data["results"]}


@pytest.fixture(scope="module")
def normal_run(ready, tmp_path_factory):
    return _run(tmp_path_factory.mktemp("surfaces-normal"))


@pytest.fixture(scope="module")
def sabotaged_run(ready, tmp_path_factory):
    site = tmp_path_factory.mktemp("surfaces-sabotage-site")
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return _run(tmp_path_factory.mktemp("surfaces-sabotaged"), f"PYTHONPATH={site}", f"NODE_OPTIONS=--require={BREAK_JS}",
                f"RUBYOPT=-r{BREAK_RUBY}", adapters=tuple(a for a in ADAPTERS if a not in NOT_SABOTAGED))


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_adapter_makes_forms_and_tokens_a_server_accepts(normal_run, adapter):
    for case, status in EXPECTED[adapter].items():
        result = normal_run.get((adapter, case))
        assert result is not None, f"{adapter} {case} missing from the run"
        assert result["status"] == status, (adapter, case, result)
        if status == "pass" and "expected" not in (result.get("verification") or {}):
            assert result["verification"]["valid"] is True, (adapter, case, result)
    others = [r for (a, c), r in normal_run.items() if a == adapter and c not in EXPECTED[adapter]]
    assert all(r["status"] == "unsupported" and r.get("declared") for r in others), others


@pytest.mark.parametrize("adapter", [a for a in ADAPTERS if a not in NOT_SABOTAGED])
def test_adapter_fails_when_its_library_is_altered(normal_run, sabotaged_run, adapter):
    for case, status in EXPECTED[adapter].items():
        if status == "unsupported" or (adapter, case) in KNOWN_FAILS:
            continue
        result = sabotaged_run.get((adapter, case))
        assert result is not None, f"{adapter} {case} missing from the sabotaged run"
        if normal_run[(adapter, case)]["reason"].startswith("refused"):  # the library made nothing to alter
            assert result["status"] == "variant" and result["reason"].startswith("refused"), (adapter, case, result)
            continue
        if case in REFUSED_BEFORE_SIGNATURE:
            signature = (result.get("stages") or {}).get("signature") or {}
            if signature.get("compared") is False:  # no expectation (the reference refuses it too): nothing shows it
                assert result["status"] == "pass", (adapter, case, result)
            else:
                assert result["status"] == "variant" and result["stage"] == "signature", (adapter, case, result)
            continue
        assert result["status"] == "fail", (adapter, case, result)


def test_planted_credentials_and_region_are_never_used(normal_run, tmp_path):
    """The generators get the check's credentials and region explicitly: with other credentials,
    a session token and a region planted in the environment and ~/.aws, every verdict is the same
    and nothing planted reaches the results."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text("[default]\naws_access_key_id = AKIAPLANTEDPLANTED00\n"
                                               "aws_secret_access_key = plantedplantedplantedplantedplanted0000\n")
    (home / ".aws" / "config").write_text("[default]\nregion = eu-west-3\n")
    env = dict(os.environ, HOME=str(home), AWS_ACCESS_KEY_ID="AKIAPLANTEDPLANTED00",
               AWS_SECRET_ACCESS_KEY="plantedplantedplantedplantedplanted0000", AWS_SESSION_TOKEN="planted-token",
               AWS_REGION="eu-west-3", AWS_DEFAULT_REGION="eu-west-3", PYTHONPATH=str(ROOT))
    _, data = run_results(tmp_path, "--cases", str(CASES), "--case", "post-policy/*", "--case", "tokens/*",
                          "--adapters", ",".join(ADAPTERS), env=env, timeout=600)
    assert {(r["adapter"], r["case"]): r["status"] for r in data["results"]} == {k: r["status"] for k, r in normal_run.items()}
    text = (tmp_path / "run" / "results.json").read_text()
    assert "AKIAPLANTED" not in text and "planted-token" not in text and "eu-west-3" not in text
