"""The Go adapters (adapters/go: `go-sdk-v2`, `go-http-auth`, `go-sdk-v1`) really sign with their libraries.

1. A normal harness run over the aws-c-auth suite: plain SigV4 cases (get-vanilla, post-vanilla,
   get-vanilla-query) pass in both modes for all three adapters, and the canonical request the two
   SDK signers log matches the suite's. go-http-auth also passes the same SigV4A cases (checked by
   verification). A few known divergences of the pinned versions are asserted as such.
2. The same run with the LIBRARIES broken at build time: `--adapter-env GOFLAGS=-modfile=<go.mod>`
   builds against an alternate go.mod whose `replace` directives point each library module (found
   in the module cache with `go list -deps`) at a copy in which one source file has its HMAC / hash
   input altered (Go refuses `-overlay` for files beneath GOMODCACHE):
   - aws-sdk-go-v2: aws/signer/internal/v4/hmac.go (HMACSHA256),
   - aws-sdk-go (v1): aws/signer/v4/v4.go (hmacSHA256),
   - smithy-go aws-http-auth: internal/v4/strings.go (Stosha, the SHA-256 behind the string to
     sign of both sigv4 and sigv4a).
   The adapter's own code is untouched, and the same checks now fail.
3. The protocol host itself: hello reports the versions pinned in go.mod (read from the binary's
   build info), bench and the HMAC floor answer, bad messages get `error` answers, `bye` and end of
   input end the process with status 0.

The harness caches builds by key (the GOFLAGS setting is part of it) and the altered copies live at a
path derived from their content (adapters/go/.sabotage/, ignored by git), so later runs reuse both
builds.

Without `go` the tests are skipped, except under CI (the CI variable set), where they fail.
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

from conftest import adapter_command, harness_run, suite_check, talk, unavailable

REPO = Path(__file__).resolve().parents[1]
ADAPTER_DIR = REPO / "adapters" / "go"
SUITE = Path(os.environ.get("SIGHARNESS_SUITE") or REPO.parent / "shared" / "vectors" / "aws-c-auth")
V2, HTTP_AUTH, V1 = "go-sdk-v2", "go-http-auth", "go-sdk-v1"
ADAPTERS = (V2, HTTP_AUTH, V1)
MODULES = {
    V2: "github.com/aws/aws-sdk-go-v2",
    HTTP_AUTH: "github.com/aws/smithy-go/aws-http-auth",
    V1: "github.com/aws/aws-sdk-go",
}
PLAIN = ("get-vanilla", "post-vanilla", "get-vanilla-query")
CHECKS = [(f"aws-c-auth/v4/{name}", mode) for name in PLAIN for mode in ("header", "query")]
V4A_CHECKS = [(f"aws-c-auth/v4a/{name}", mode) for name in PLAIN for mode in ("header", "query")]
RUN_TIMEOUT = 900  # seconds; a cold build downloads the three modules (aws-sdk-go v1 is large)

# (module, file inside the module, exact text, replacement): one altered file per library.
SABOTAGE = [
    (MODULES[V2], "aws/signer/internal/v4/hmac.go",
     "\thash.Write(data)\n",
     "\thash.Write(data)\n\thash.Write([]byte(\"sabotaged\"))\n"),
    (MODULES[V1], "aws/signer/v4/v4.go",
     "func hmacSHA256(key []byte, data []byte) []byte {\n\thash := hmac.New(sha256.New, key)\n\thash.Write(data)\n",
     "func hmacSHA256(key []byte, data []byte) []byte {\n\thash := hmac.New(sha256.New, key)\n\thash.Write(data)\n"
     "\thash.Write([]byte(\"sabotaged\"))\n"),
    (MODULES[HTTP_AUTH], "internal/v4/strings.go",
     "\th.Write([]byte(s))\n",
     "\th.Write([]byte(s))\n\th.Write([]byte(\"sabotaged\"))\n"),
]


def _unavailable(reason: str) -> None:
    unavailable(reason, "the Go adapters")


def _go(*args: str, timeout: int = RUN_TIMEOUT) -> str:
    proc = subprocess.run(["go", *args], cwd=ADAPTER_DIR, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"go {' '.join(args)} failed:\n{proc.stderr[-4000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def toolchain() -> None:
    if shutil.which("go") is None:
        _unavailable("`go` not on PATH (needs Go 1.24+, or Go 1.21+ that can fetch the go1.24 toolchain)")
    if not SUITE.is_dir():
        _unavailable(f"aws-c-auth vectors not found at {SUITE}")


def _pinned_versions() -> dict[str, str]:
    text = (ADAPTER_DIR / "go.mod").read_text()
    return {name: re.search(rf"^\s*{re.escape(module)} (v\S+)", text, re.M).group(1) for name, module in MODULES.items()}


def _run_harness(out: Path, *adapter_env: str) -> tuple[dict[tuple[str, str, str], dict], dict]:
    data, proc = harness_run(out, ",".join(ADAPTERS), *adapter_env, timeout=RUN_TIMEOUT)
    mine = {(r["adapter"], r["case"], r["mode"]): r for r in data["results"]}
    for name in ADAPTERS:
        assert data["adapters"].get(name, {}).get("available"), (name, data["adapters"].get(name), proc.stderr[-4000:])
        assert any(k[0] == name for k in mine), f"no results for {name}; stderr:\n{proc.stderr[-4000:]}"
    return mine, data["adapters"]


def _broken_modfile() -> Path:
    """An alternate go.mod whose `replace` directives point each library module at a copy with one
    file altered, at a path derived from the originals and the alterations (so the sabotaged build
    is cached). Go refuses -overlay for files beneath GOMODCACHE, hence copies + -modfile. Only the
    module's go.mod and the package folders the adapter links are copied."""
    _go("mod", "download", *MODULES.values())
    listing = _go("list", "-deps", "-f", "{{with .Module}}{{.Path}}|{{.Dir}}{{end}}|{{.Dir}}", ".")
    package_dirs: dict[str, set[Path]] = {m: set() for m in MODULES.values()}
    module_dirs: dict[str, Path] = {}
    for line in listing.splitlines():
        module, _, rest = line.partition("|")
        mod_dir, _, pkg_dir = rest.partition("|")
        if module in package_dirs:
            module_dirs[module] = Path(mod_dir)
            package_dirs[module].add(Path(pkg_dir))
    digest = hashlib.sha256((ADAPTER_DIR / "go.mod").read_bytes() + (ADAPTER_DIR / "go.sum").read_bytes()
                            + listing.encode())  # a new import needs a new copy
    edits = {}
    for module, rel, old, new in SABOTAGE:
        assert module in module_dirs, f"the adapter does not link {module}"
        original = module_dirs[module] / rel
        text = original.read_text()
        assert text.count(old) == 1, f"{original}: the text to alter is not there exactly once"
        edits[module] = (rel, text.replace(old, new))
        digest.update(f"{original}\0{old}\0{new}\0".encode() + text.encode())
    target = ADAPTER_DIR / ".sabotage" / digest.hexdigest()[:16]
    modfile = target / "go.mod"
    if modfile.exists():
        return modfile
    work = target.with_name(target.name + ".tmp")
    shutil.rmtree(work, ignore_errors=True)
    replaces = []
    for module, mod_dir in module_dirs.items():
        copy = work / module.replace("/", "_")
        for pkg in package_dirs[module] | {mod_dir}:
            dest = copy / pkg.relative_to(mod_dir)
            dest.mkdir(parents=True, exist_ok=True)
            for f in pkg.iterdir():
                if f.is_file() and not f.name.endswith("_test.go"):
                    shutil.copyfile(f, dest / f.name)
        rel, altered = edits[module]
        (copy / rel).write_text(altered)
        replaces.append(f"replace {module} => {target / copy.name}\n")
    (work / "go.mod").write_text((ADAPTER_DIR / "go.mod").read_text() + "\n" + "".join(sorted(replaces)))
    shutil.copyfile(ADAPTER_DIR / "go.sum", work / "go.sum")
    shutil.rmtree(target, ignore_errors=True)
    work.rename(target)
    return modfile


@pytest.fixture(scope="module")
def normal(toolchain, tmp_path_factory):
    return _run_harness(tmp_path_factory.mktemp("go-normal"))


@pytest.fixture(scope="module")
def sabotaged(toolchain, tmp_path_factory):
    return _run_harness(tmp_path_factory.mktemp("go-sabotaged"), f"GOFLAGS=-modfile={_broken_modfile()}")


def test_versions_are_read_from_the_built_modules(normal):
    _, adapters = normal
    for name, version in _pinned_versions().items():
        assert adapters[name]["library_version"] == version, (name, adapters[name])
        assert adapters[name]["runtime"].startswith("go "), adapters[name]


def test_plain_cases_pass(normal):
    results, _ = normal
    for name in ADAPTERS:
        for case, mode in CHECKS:
            r = results[(name, case, mode)]
            assert r["status"] == "pass", (name, case, mode, r["reason"])


def test_sdk_signers_expose_their_canonical_request(normal):
    results, _ = normal
    for name in (V2, V1):
        for case, mode in CHECKS:
            for stage in ("canonical_request", "string_to_sign"):
                s = results[(name, case, mode)]["stages"][stage]
                assert s["compared"] and s["equal"], (name, case, mode, stage, s)
    for case, mode in CHECKS:  # aws-http-auth exposes neither
        assert not results[(HTTP_AUTH, case, mode)]["stages"]["canonical_request"]["compared"]


def test_http_auth_sigv4a_verifies(normal):
    results, _ = normal
    for case, mode in V4A_CHECKS:
        r = results[(HTTP_AUTH, case, mode)]
        assert r["status"] == "pass", (case, mode, r["reason"])
        assert r["verification"]["valid"], (case, mode, r["verification"])


def test_sdk_signers_answer_unsupported_for_sigv4a_and_token_after(normal):
    results, _ = normal
    for name in (V2, V1):
        for case, mode in V4A_CHECKS:
            assert results[(name, case, mode)]["status"] == "unsupported"
    for name in (HTTP_AUTH, V1):
        # no option leaves the token out: a presigned URL cannot be the one asked for ...
        r = results[(name, "aws-c-auth/v4/post-sts-header-after", "query")]
        assert r["status"] == "unsupported" and "after" in r["reason"], (name, r)
        # ... while in header mode the token is one more signed header, which a server accepts
        r = results[(name, "aws-c-auth/v4/post-sts-header-after", "header")]
        assert r["status"] == "variant", (name, r["status"], r["reason"])
        auth = next(v for n, v in r["signed"]["headers"] if n.lower() == "authorization")
        assert "x-amz-security-token" in auth, (name, auth)


def test_sdk_v2_adds_the_token_after_signing_with_disable_session_token(normal):
    """DisableSessionToken leaves the token out of what is signed; the adapter adds it afterwards
    (header, or query parameter after the signature), and the suite's check passes."""
    results, _ = normal
    token = json.loads((SUITE / "v4" / "post-sts-header-after" / "context.json").read_text())["credentials"]["token"]
    header = results[(V2, "aws-c-auth/v4/post-sts-header-after", "header")]
    assert header["status"] == "pass", header["reason"]
    headers = {n.lower(): v for n, v in header["signed"]["headers"]}
    # results.json keeps session tokens shortened (manifest.session_tokens): the first characters and the length
    assert headers["x-amz-security-token"] == f"{token[:8]}…[{len(token)} chars]"
    assert "x-amz-security-token" not in headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
    query = results[(V2, "aws-c-auth/v4/post-sts-header-after", "query")]
    assert query["status"] == "pass", query["reason"]
    url = query["signed"]["url"]
    assert url.index("X-Amz-Signature=") < url.index("X-Amz-Security-Token=")


def _project_check(path: str, case_id: str, mode: str) -> dict:
    """The protocol's CHECK for one case of cases/, exactly as the runner sends it."""
    from harness.cases.sources import load_cases
    from harness.model import Check

    cases = {c.id: c for c in load_cases([REPO / "cases" / path]).cases}
    return Check(cases[case_id], mode).to_json()


def test_sdk_v1_resigns_a_preset_authorization_at_the_check_time(binary, tmp_path):
    """A request that already carries Authorization is re-signed by aws-sdk-go v1 with its clock;
    the adapter pins that clock (SignSDKRequestWithCurrentTime), so the check's time is signed."""
    sys.path.insert(0, str(REPO))
    messages = [{"type": "hello", "protocol": 1}]
    messages += [{"type": "sign", "id": mode, "check": _project_check("headers", "headers/preset-authorization", mode)}
                 for mode in ("header", "query")]
    (_, header, query), code = _talk(binary, V1, messages + [{"type": "bye"}], tmp_path)
    assert code == 0 and header["status"] == "signed" and query["status"] == "signed", (header, query)
    headers = {n.lower(): v for n, v in header["signed"]["headers"]}
    assert headers["x-amz-date"] == "20150830T123600Z", headers
    # the signature cases/headers/defaults.yaml expects (the reference signer's, at the check's time)
    assert headers["authorization"].endswith(
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"), headers
    assert "X-Amz-Date=20150830T123600Z" in query["signed"]["url"], query["signed"]["url"]


def test_known_divergences_of_the_pinned_versions(normal):
    """Real behaviours of the pinned libraries, kept visible (docs/adapters-go.md)."""
    results, _ = normal
    # No Go signer normalizes the path (D13).
    for name in ADAPTERS:
        for mode in ("header", "query"):
            assert results[(name, "aws-c-auth/v4/get-slashes-normalized", mode)]["status"] == "fail"
            assert results[(name, "aws-c-auth/v4/get-slashes-unnormalized", mode)]["status"] == "pass"
    # Query keys sorted before encoding (D3): aws-sdk-go v1 and aws-http-auth; v2 sorts after.
    case = "aws-c-auth/v4/get-vanilla-query-order-encoded"
    for mode in ("header", "query"):
        assert results[(V2, case, mode)]["status"] == "pass"
        assert results[(V1, case, mode)]["status"] == "fail"
        assert results[(HTTP_AUTH, case, mode)]["status"] == "fail"


def test_broken_libraries_make_the_same_checks_fail(normal, sabotaged):
    results, _ = normal
    broken, adapters = sabotaged
    for name, version in _pinned_versions().items():  # the build info names the altered copy
        assert adapters[name]["library_version"].startswith(f"{version} (replaced by "), adapters[name]
    for name in ADAPTERS:
        for case, mode in CHECKS:
            assert results[(name, case, mode)]["status"] == "pass"
            r = broken[(name, case, mode)]
            assert r["status"] == "fail", (name, case, mode, r["status"], r["reason"])
            assert not r["verification"]["valid"], (name, case, mode, r["verification"])
    for case, mode in V4A_CHECKS:
        r = broken[(HTTP_AUTH, case, mode)]
        assert r["status"] == "fail", (case, mode, r["status"], r["reason"])


# --- the protocol host --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def binary(normal) -> Path:
    sys.path.insert(0, str(REPO))
    from harness.adapters import manifest

    spec = next(s for s in manifest.read_manifest(ADAPTER_DIR / "adapter.yaml") if s.name == V2)
    avail = manifest.ensure_built(spec)
    assert avail.available and avail.build_dir, avail.reason
    path = avail.build_dir / "sigharness-go-adapter"
    assert path.exists()
    return path


def _talk(binary: Path, name: str, messages: list, home: Path) -> tuple[list[dict], int]:
    answers, proc = talk(adapter_command(name)[0], messages, ADAPTER_DIR, home, adapter=name)
    return answers, proc.returncode


def test_protocol_host(binary, tmp_path):
    pinned = _pinned_versions()
    check = suite_check("aws-c-auth/v4/get-vanilla", "header")
    for name in ADAPTERS:
        answers, code = _talk(binary, name, [
            {"type": "hello", "protocol": 1},
            {"type": "sign", "id": "s1", "check": check},
            {"type": "bench", "id": "b1", "check": check, "iterations": 20},
            {"type": "bench", "id": "b2", "floor": "hmac-sha256-chain", "iterations": 200},
            "this is not json",
            {"type": "nonsense", "id": "x1"},
            {"type": "bye"},
            {"type": "hello", "protocol": 1},  # after bye: never answered
        ], tmp_path)
        assert code == 0, name
        hello, signed, bench, floor, bad, unknown = answers
        assert hello["type"] == "hello" and hello["name"] == name and hello["language"] == "go"
        assert hello["library_version"] == pinned[name]
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
    answers, code = _talk(binary, V2, [{"type": "hello", "protocol": 1}], tmp_path)
    assert code == 0 and len(answers) == 1


def test_unknown_adapter_name_exits_nonzero(binary, tmp_path):
    proc = subprocess.run([str(binary), "no-such-adapter"], input="", capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
