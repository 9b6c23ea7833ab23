"""The Java adapters (adapters/java: `java-sdk-v2`, `java-crt`) really sign with their libraries.

1. A normal harness run over the aws-c-auth suite: a few plain SigV4 cases pass in query mode for
   both adapters and in header mode for java-crt. In header mode java-sdk-v2 is a `variant`: the SDK
   always adds and signs x-amz-content-sha256 (a real divergence, asserted as such). The SDK's own
   canonical request (recorded from its debug log) matches the suite's.
2. The same run with one LIBRARY method rewritten while its classes load, by a Java agent that the
   test compiles from adapters/java/testing/BreakAgent.java and passes with
   `--adapter-env JAVA_TOOL_OPTIONS=-javaagent:<jar>=sdk|crt`:
   - `sdk`: the SDK's SignerUtils.computeSignature signs an altered string to sign;
   - `crt`: aws-crt's AwsSigningConfig.setCredentials keeps another secret key, so the native signer
     signs with it.
   The adapter code is untouched, and the same checks now fail.
3. The protocol host itself: hello reports the versions pinned in pom.xml (read from the jars at run
   time), bench and the HMAC floor answer, bad messages get `error` answers, `bye` ends with 0.

Builds are cached by the harness (the agent setting is part of the build key) and the agent jar lives
at a path derived from its source, so later runs reuse everything.

Without java/javac/jar/mvn the tests are skipped, except under CI (the CI variable set), where they fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import harness_run, unavailable

REPO = Path(__file__).resolve().parents[1]
ADAPTER_DIR = REPO / "adapters" / "java"
SUITE = Path(os.environ.get("SIGHARNESS_SUITE") or REPO.parent / "shared" / "vectors" / "aws-c-auth")
SDK, CRT = "java-sdk-v2", "java-crt"
PLAIN = ("get-vanilla", "post-vanilla", "get-vanilla-query")
CHECKS = [(f"aws-c-auth/v4/{name}", mode) for name in PLAIN for mode in ("header", "query")]
V4A_CHECKS = [(f"aws-c-auth/v4a/{name}", mode) for name in PLAIN for mode in ("header", "query")]
RUN_TIMEOUT = 900  # seconds; a cold Maven build downloads the SDK and aws-crt (about 40 MB)


def _unavailable(reason: str) -> None:
    unavailable(reason, "the Java adapters")


def _java_major() -> int | None:
    try:
        proc = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'version "(\d+)', proc.stderr + proc.stdout)
    return int(m.group(1)) if m else None


@pytest.fixture(scope="module")
def toolchain() -> None:
    for tool in ("java", "javac", "jar", "mvn"):
        if shutil.which(tool) is None:
            _unavailable(f"`{tool}` not on PATH (needs a JDK 17+ and Maven 3.8+)")
    major = _java_major()
    if major is None or major < 17:
        _unavailable(f"java {major} is older than 17")
    if not SUITE.is_dir():
        _unavailable(f"aws-c-auth vectors not found at {SUITE}")


def _run_harness(out: Path, adapters: str, *adapter_env: str) -> dict[tuple[str, str, str], dict]:
    data, proc = harness_run(out, adapters, *adapter_env, timeout=RUN_TIMEOUT)
    mine = {(r["adapter"], r["case"], r["mode"]): r for r in data["results"]}
    for name in adapters.split(","):
        assert any(k[0] == name for k in mine), f"no results for {name}; stderr:\n{proc.stderr[-4000:]}"
    return mine


def _agent_jar() -> Path:
    """BreakAgent compiled into an agent jar at a path derived from its source and the JDK."""
    source = ADAPTER_DIR / "testing" / "BreakAgent.java"
    java_version = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    digest = hashlib.sha256(source.read_bytes() + java_version.encode()).hexdigest()[:16]
    target = ADAPTER_DIR / ".sabotage" / f"break-agent-{digest}.jar"
    if target.exists():
        return target
    work = target.with_name(target.name + ".tmp")
    shutil.rmtree(work, ignore_errors=True)
    (work / "classes").mkdir(parents=True)
    proc = subprocess.run(
        ["javac", "--add-exports", "java.base/jdk.internal.org.objectweb.asm=ALL-UNNAMED",
         "-d", str(work / "classes"), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"javac BreakAgent failed (needs the JDK's internal ASM, JDK 17-23):\n{proc.stderr}"
    (work / "manifest.txt").write_text("Premain-Class: BreakAgent\n")
    jar = work / "agent.jar"
    proc = subprocess.run(["jar", "cfm", str(jar), str(work / "manifest.txt"), "-C", str(work / "classes"), "."],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"jar failed:\n{proc.stderr}"
    jar.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    return target


@pytest.fixture(scope="module")
def normal(toolchain, tmp_path_factory) -> dict[tuple[str, str, str], dict]:
    return _run_harness(tmp_path_factory.mktemp("java-normal"), f"{SDK},{CRT}")


def _signed_headers(result: dict) -> list[str]:
    auth = next(v for n, v in result["signed"]["headers"] if n.lower() == "authorization")
    return re.search(r"SignedHeaders=([^,]+)", auth).group(1).split(";")


def test_java_crt_passes_aws_c_auth(normal):
    for case, mode in CHECKS + V4A_CHECKS:
        r = normal[(CRT, case, mode)]
        assert r["status"] == "pass", (case, mode, r["reason"])


def test_java_sdk_v2_passes_aws_c_auth_presigned_and_exposes_canonical_request(normal):
    for case, mode in CHECKS:
        if mode != "query":
            continue
        r = normal[(SDK, case, mode)]
        assert r["status"] == "pass", (case, mode, r["reason"])
        stage = r["stages"]["canonical_request"]
        assert stage["compared"] and stage["equal"], (case, stage)  # recorded from the SDK's debug log


def test_java_sdk_v2_header_mode_signs_content_sha256(normal):
    """Header mode: AwsV4HttpSigner always adds and signs x-amz-content-sha256 (divergence D19):
    a valid request that differs from the suite's, hence `variant`, never `pass` or `fail`."""
    for case, mode in CHECKS:
        if mode != "header":
            continue
        r = normal[(SDK, case, mode)]
        assert r["status"] == "variant", (case, mode, r["status"], r["reason"])
        assert "x-amz-content-sha256" in _signed_headers(r), r["signed"]


def test_java_sdk_v2_refuses_to_presign_token_after(normal):
    """No signer property leaves the token out: presigning is unsupported; in header mode the token
    is one more signed header, which a server accepts (variant)."""
    r = normal[(SDK, "aws-c-auth/v4/post-sts-header-after", "query")]
    assert r["status"] == "unsupported", r
    r = normal[(SDK, "aws-c-auth/v4/post-sts-header-after", "header")]
    assert r["status"] == "variant", (r["status"], r["reason"])
    assert "x-amz-security-token" in _signed_headers(r), r["signed"]
    for mode in ("header", "query"):
        assert normal[(CRT, "aws-c-auth/v4/post-sts-header-after", mode)]["status"] == "pass"


@pytest.mark.parametrize("case", ["aws-c-auth/v4/get-space-normalized", "aws-c-auth/v4a/get-space-normalized",
                                  "aws-c-auth/v4a/get-space-unnormalized"])
@pytest.mark.parametrize("mode", ["header", "query"])
def test_java_sdk_v2_encodes_a_raw_space_in_the_path_as_the_sdk_marshallers_do(normal, case, mode):
    """The suite's '/example space/' is not an encoded path: it goes to encodedPath as
    SdkHttpUtils.urlEncodeIgnoreSlashes writes it, so the SDK signs and sends it (a raw space made
    java.net.URI refuse the request)."""
    r = normal[(SDK, case, mode)]
    assert r["signed"] is not None, (case, mode, r["status"], r["reason"])
    assert r["signed"]["url"].startswith("https://example.amazonaws.com/example%20space/"), r["signed"]["url"]
    assert r["verification"]["valid"] is True, (case, mode, r["verification"])


def test_java_sdk_v2_fails_with_altered_sdk_signer(normal, tmp_path_factory):
    agent = _agent_jar()
    broken = _run_harness(tmp_path_factory.mktemp("java-sdk-broken"), SDK,
                          f"JAVA_TOOL_OPTIONS=-javaagent:{agent}=sdk")
    for case, mode in CHECKS:
        assert normal[(SDK, case, mode)]["status"] in ("pass", "variant")
        assert broken[(SDK, case, mode)]["status"] == "fail", (case, mode, broken[(SDK, case, mode)])


def test_java_crt_fails_with_altered_crt_config(normal, tmp_path_factory):
    agent = _agent_jar()
    broken = _run_harness(tmp_path_factory.mktemp("java-crt-broken"), CRT,
                          f"JAVA_TOOL_OPTIONS=-javaagent:{agent}=crt")
    for case, mode in CHECKS + V4A_CHECKS:
        assert normal[(CRT, case, mode)]["status"] == "pass"
        assert broken[(CRT, case, mode)]["status"] == "fail", (case, mode, broken[(CRT, case, mode)])


# --- the protocol host, driven directly ------------------------------------------------------------


def _start_command(name: str) -> list[str]:
    sys.path.insert(0, str(REPO))
    from harness.adapters.manifest import build_key, read_manifest, substitute

    (spec,) = [s for s in read_manifest(ADAPTER_DIR / "adapter.yaml") if s.name == name]
    build_dir = ADAPTER_DIR / ".build" / build_key(spec, {})
    assert (build_dir / ".built").exists(), "the normal harness run should have built the adapter"
    return substitute(spec.start, build_dir)


def _pom_property(name: str) -> str:
    m = re.search(rf"<{re.escape(name)}>([^<]+)</{re.escape(name)}>", (ADAPTER_DIR / "pom.xml").read_text())
    assert m, name
    return m.group(1)


def _check(mode: str = "header") -> dict:
    return {
        "case": "t/get", "mode": mode, "algorithm": "sigv4",
        "request": {"method": "GET", "scheme": "https", "host": "example.amazonaws.com", "path": "/",
                    "query": "", "url": "https://example.amazonaws.com/",
                    "headers": [["Host", "example.amazonaws.com"]], "body_b64": ""},
        "context": {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                    "session_token": None, "region": "us-east-1", "region_set": ["us-east-1"],
                    "service": "service", "timestamp": "2015-08-30T12:36:00Z", "expires": 3600,
                    "payload": "body", "content_sha256_header": False, "session_token_placement": "signed",
                    "normalize_path": True, "double_encode": True},
    }


@pytest.mark.parametrize("name,version_property", [(SDK, "awssdk.version"), (CRT, "awscrt.version")])
def test_protocol_host(normal, tmp_path, name, version_property):
    messages = [
        {"type": "hello", "protocol": 1, "adapter": name},
        {"type": "sign", "id": "s1", "check": _check("query")},
        {"type": "bench", "id": "b1", "check": _check(), "iterations": 20},
        {"type": "bench", "id": "b2", "floor": "hmac-sha256-chain", "iterations": 200},
        {"type": "sign", "id": "s2", "check": {"mode": "header"}},
        {"type": "what", "id": "w1"},
        {"type": "bye"},
    ]
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    proc = subprocess.run(_start_command(name), cwd=ADAPTER_DIR, env=env, capture_output=True, text=True,
                          input="".join(json.dumps(m) + "\n" for m in messages), timeout=120)
    assert proc.returncode == 0, proc.stderr
    hello, s1, b1, b2, s2, w1 = [json.loads(line) for line in proc.stdout.splitlines()]
    assert hello["name"] == name and hello["protocol"] == 1 and hello["language"] == "java"
    assert hello["library_version"] == _pom_property(version_property)
    assert s1["id"] == "s1" and s1["status"] == "signed"
    # the suite's get-vanilla presign signature (aws-c-auth v4/get-vanilla/query-signature.txt)
    expected = (SUITE / "v4" / "get-vanilla" / "query-signature.txt").read_text().strip()
    assert f"X-Amz-Signature={expected}" in s1["signed"]["url"]
    assert b1 == {"type": "bench", "id": "b1", "iterations": 20, "elapsed_ns": b1["elapsed_ns"]} and b1["elapsed_ns"] > 0
    assert b2["type"] == "bench" and b2["iterations"] == 200 and b2["elapsed_ns"] > 0
    assert s2["id"] == "s2" and s2["status"] == "error"
    assert w1["id"] == "w1" and w1["status"] == "error"
