"""The adapter SDK (harness/adapter_sdk.py, adapters/js/sdk.js), a manifest's `python:`, the
`new-adapter` template, and an adapter kept out of tree, written with the SDK, that catches a
regression of its library through `--baseline`."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import types
from importlib import metadata
from pathlib import Path

import pytest

from conftest import ROOT, sigharness
from harness import adapter_sdk as sdk
from harness import protocol
from harness.adapters.manifest import ManifestError, ensure_built, read_manifest
from harness.cli import main as cli_main
from harness.cli.new_adapter import class_name

CHECK = {
    "case": "t/one", "mode": "header", "algorithm": "sigv4",
    "request": {"method": "GET", "scheme": "https", "host": "example.amazonaws.com", "path": "/", "query": "",
                "url": "https://example.amazonaws.com/", "headers": [["Host", "example.amazonaws.com"]], "body_b64": ""},
    "context": {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                "session_token": None, "region": "us-east-1", "region_set": ["us-east-1"], "service": "service",
                "timestamp": "2015-08-30T12:36:00Z", "expires": 3600, "payload": "body", "content_sha256_header": False,
                "session_token_placement": "signed", "normalize_path": True, "double_encode": True},
}


def sign_msg(ident: str, case: str = "t/one") -> dict:
    return {"type": "sign", "id": ident, "check": dict(CHECK, case=case)}


class Scripted(sdk.Adapter):
    """Answers by the check's case name: what a library (or an adapter bug) would do."""

    library = "PyYAML"  # an installed distribution: its version is read from it
    why = {"sigv4a": "no SigV4A signer in 1.0"}

    def __init__(self) -> None:
        self.prepared = self.signed = 0
        self.capture: list[bool] = []

    def set_capture(self, on: bool) -> None:
        self.capture.append(on)

    def prepare(self, check: sdk.Check) -> str:
        self.prepared += 1
        if check.case == "t/unsupported":
            raise sdk.Unsupported("the library has no option for that (checked in 1.0)")
        return "signer"

    def sign(self, check: sdk.Check, state: str, watch: sdk.Stopwatch) -> dict:
        self.signed += 1
        if check.case == "t/library-raises":
            with sdk.library_call():
                raise ValueError("X-Amz-Expires must be <= 604800")
        if check.case == "t/adapter-bug":
            return {}["signed"]  # a KeyError outside library_call(): the adapter's fault
        print("library chatter on stdout")  # must not reach the protocol stream
        with watch.running():
            pass
        return sdk.signed(check.method, check.url, [("Host", check.host), ("X-Amz-Date", check.amz_date)])


def serve_lines(adapter, messages: list, capsys=None) -> list[dict]:
    out = io.StringIO()
    lines = [m if isinstance(m, str) else json.dumps(m) for m in messages]
    sdk.serve(adapter, lines=lines, out=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


# -- the Python SDK --------------------------------------------------------------------------------
def test_python_sdk_sorts_refusals_from_errors(capsys):
    adapter = Scripted()
    answers = serve_lines(adapter, [
        protocol.hello("py-scripted"), sign_msg("ok"), sign_msg("u", "t/unsupported"), sign_msg("r", "t/library-raises"),
        sign_msg("e", "t/adapter-bug"), "not json", {"type": "nonsense", "id": "n"}, protocol.BYE, sign_msg("after-bye"),
    ])
    hello, ok, unsupported, rejected, error, garbage, unknown = answers  # nothing after bye
    parsed = protocol.Hello.parse(hello, "py-scripted")
    assert hello["name"] == "py-scripted" and parsed.library_version == metadata.version("PyYAML")
    assert parsed.capabilities.algorithms == ("sigv4",) and parsed.capabilities.bench
    assert hello["capabilities"]["why"] == {"sigv4a": "no SigV4A signer in 1.0"}
    assert ok["status"] == "signed" and ok["signed"]["headers"][1] == ["X-Amz-Date", "20150830T123600Z"]
    assert unsupported == {"type": "result", "id": "u", "status": "unsupported",
                           "reason": "the library has no option for that (checked in 1.0)"}
    assert rejected["status"] == "rejected" and rejected["reason"] == "ValueError: X-Amz-Expires must be <= 604800"
    assert error["status"] == "error" and error["reason"] == "KeyError: 'signed'", error
    for answer in (ok, unsupported, rejected, error):
        protocol.validate("result_answer", answer)
    assert garbage["status"] == "error" and garbage["id"] is None and "not JSON" in garbage["reason"]
    assert unknown == {"type": "result", "id": "n", "status": "error", "reason": "unknown message type 'nonsense'"}
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err  # the adapter bug's traceback is logged, not answered
    assert "library chatter on stdout" in err  # printed while serving: sent to stderr


def test_python_sdk_names_a_library_that_is_not_installed():
    class Missing(sdk.Adapter):
        library = "no-such-signing-library-xyz"
    with pytest.raises(RuntimeError, match="'no-such-signing-library-xyz' is not installed for .*python"):
        serve_lines(Missing(), [protocol.hello("missing")])


def test_python_sdk_bench_floor_and_repeated_signs():
    adapter = Scripted()
    floor, bench, refused = serve_lines(adapter, [
        {"type": "bench", "id": "f", "floor": "hmac-sha256-chain", "iterations": 200},
        {"type": "bench", "id": "b", "check": CHECK, "iterations": 7},
        {"type": "bench", "id": "x", "floor": "md5", "iterations": 1},
    ])
    assert floor["type"] == "bench" and floor["iterations"] == 200 and floor["elapsed_ns"] > 0
    protocol.validate("bench_answer", floor)
    assert bench["type"] == "bench" and bench["iterations"] == 7 and bench["elapsed_ns"] > 0
    assert (adapter.prepared, adapter.signed) == (1, 7)  # the signer is built once, signing repeated
    assert adapter.capture == [False, True]  # stage capture off while timing, back on after
    assert refused["status"] == "unsupported" and "md5" in refused["reason"]


def test_python_sdk_keeps_stdout_for_protocol_lines_in_a_real_process(tmp_path):
    """A library printing at import and while signing: stdout still carries only protocol lines."""
    (tmp_path / "chatty.py").write_text(textwrap.dedent("""
        print("imported, says the library")
        from harness.adapter_sdk import Adapter, signed
        class Chatty(Adapter):
            library = "PyYAML"
            def sign(self, check, state, watch):
                print("signing, says the library")
                return signed(check.method, check.url, check.headers)
    """))
    messages = "".join(json.dumps(m) + "\n" for m in (protocol.hello("chatty"), sign_msg("1"), protocol.BYE))
    proc = subprocess.run([sys.executable, str(ROOT / "adapters" / "python" / "host.py"), "chatty:Chatty"], input=messages,
                          capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          env=dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}"))
    assert proc.returncode == 0, proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [a["type"] for a in answers] == ["hello", "result"] and answers[1]["status"] == "signed"
    assert "imported, says the library" in proc.stderr and "signing, says the library" in proc.stderr


def test_python_sdk_clock_helpers():
    when = dt.datetime(2015, 8, 30, 12, 36, tzinfo=dt.timezone.utc)
    # a library with its own clock hook (botocore's get_current_datetime)
    hooked = types.ModuleType("hooked")
    hooked.get_current_datetime = lambda remove_tzinfo=True: dt.datetime.now()
    clock = sdk.FixedClock().install(hooked, hook="get_current_datetime")
    with clock.at(when):
        assert hooked.get_current_datetime() == when.replace(tzinfo=None)
        assert hooked.get_current_datetime(remove_tzinfo=False) == when
    with pytest.raises(RuntimeError, match="signing time not set"):
        hooked.get_current_datetime()  # outside at(): never the real clock by accident
    # a library that reads datetime.datetime.utcnow() itself
    plain = types.ModuleType("plain")
    exec("import datetime\ndef stamp():\n    return datetime.datetime.utcnow().strftime('%Y%m%dT%H%M%SZ')\n", plain.__dict__)
    clock2 = sdk.FixedClock().install(plain)
    with clock2.at(when):
        assert plain.stamp() == "20150830T123600Z"
    assert dt.datetime.utcnow().year > 2015  # the real datetime module is untouched
    # patched() puts the original back, also after an exception
    holder = types.SimpleNamespace(now=lambda: "real")
    with pytest.raises(ZeroDivisionError):
        with sdk.patched(holder, "now", lambda: "fixed"):
            assert holder.now() == "fixed"
            1 / 0
    assert holder.now() == "real"


# -- the JavaScript SDK ----------------------------------------------------------------------------
JS_ADAPTER = """
const { serve, Unsupported, libraryCall, signed, withFixedDate, amzDate } = require(%(sdk)s);
let built = 0;
serve({
  library: 'js-scripted',
  version: () => '1.2.3',
  capabilities: { algorithms: ['sigv4'], modes: ['header'], why: { query: 'cannot presign' } },
  prepare(check) {
    built += 1;
    if (check.id === 't/unsupported') throw new Unsupported('no such option (checked in 1.2.3)');
    return async () => {
      if (check.id === 't/library-raises') await libraryCall(() => { throw new RangeError('expires too long'); });
      if (check.id === 't/adapter-bug') undefined.boom;
      console.log('library chatter');
      const pinned = await withFixedDate(check.timestamp, async () => [amzDate(new Date()), String(Date.now())]);
      return signed(check.request.method, check.request.url,
                    [['X-Amz-Date', pinned[0]], ['X-Now', pinned[1]], ['X-After', String(new Date().getFullYear())], ['X-Built', String(built)]]);
    };
  },
});
"""


def test_js_sdk_follows_the_same_rules(tmp_path):
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    script = tmp_path / "host.js"
    script.write_text(JS_ADAPTER % {"sdk": json.dumps(str(ROOT / "adapters" / "js" / "sdk.js"))})
    messages = [protocol.hello("js-scripted"), sign_msg("ok"), sign_msg("u", "t/unsupported"), sign_msg("r", "t/library-raises"),
                sign_msg("e", "t/adapter-bug"), {"type": "bench", "id": "f", "floor": "hmac-sha256-chain", "iterations": 100},
                {"type": "bench", "id": "b", "check": CHECK, "iterations": 5}, "not json", {"type": "nonsense", "id": "n"},
                protocol.BYE, sign_msg("after-bye")]
    text = "".join((m if isinstance(m, str) else json.dumps(m)) + "\n" for m in messages)
    proc = subprocess.run(["node", str(script)], input=text, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    hello, ok, unsupported, rejected, error, floor, bench, garbage, unknown = answers
    parsed = protocol.Hello.parse(hello, "js-scripted")
    assert parsed.library_version == "1.2.3" and parsed.capabilities.modes == ("header",)
    assert hello["capabilities"]["why"] == {"query": "cannot presign"} and hello["capabilities"]["exposes"] == []
    headers = dict(ok["signed"]["headers"])
    assert headers["X-Amz-Date"] == "20150830T123600Z" and headers["X-Now"] == "1440938160000"  # Date pinned
    assert int(headers["X-After"]) > 2015  # and the real Date back afterwards
    assert unsupported["status"] == "unsupported" and unsupported["reason"] == "no such option (checked in 1.2.3)"
    assert rejected["status"] == "rejected" and rejected["reason"] == "RangeError: expires too long"
    assert error["status"] == "error" and error["reason"].startswith("TypeError: ") and "TypeError" in proc.stderr
    assert floor["type"] == "bench" and floor["elapsed_ns"] > 0 and bench["iterations"] == 5
    assert garbage["status"] == "error" and garbage["id"] is None
    assert unknown["status"] == "error" and unknown["id"] == "n"
    assert "library chatter" in proc.stderr
    for answer in (ok, unsupported, rejected, error, unknown):
        protocol.validate("result_answer", answer)


# -- a manifest's `python:` ------------------------------------------------------------------------
def _manifest(folder: Path, python: str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = {"language": "python", "env": {"PYTHONPATH": "{project}"},
            "adapters": [{"name": folder.name, "library": "PyYAML", "start": ["{python}", "host.py"]}]}
    if python is not None:
        data["python"] = python
    (folder / "adapter.yaml").write_text(json.dumps(data))
    return folder / "adapter.yaml"


def test_manifest_python_key_and_environment_override(tmp_path, monkeypatch):
    monkeypatch.delenv("SIGHARNESS_PYTHON", raising=False)
    relative, = read_manifest(_manifest(tmp_path / "rel", ".venv/bin/python"))
    assert relative.command(None)[0] == str(tmp_path / "rel" / ".venv" / "bin" / "python")
    absolute, = read_manifest(_manifest(tmp_path / "abs", "/opt/py/bin/python3"))
    assert absolute.command(None) == ["/opt/py/bin/python3", "host.py"]
    plain, = read_manifest(_manifest(tmp_path / "plain", None))
    assert plain.command(None)[0] == sys.executable
    monkeypatch.setenv("SIGHARNESS_PYTHON", "/elsewhere/python")
    assert plain.command(None)[0] == "/elsewhere/python"  # the environment overrides the default...
    assert absolute.command(None)[0] == "/opt/py/bin/python3"  # ...but not a manifest's own key
    missing = ensure_built(relative)
    assert not missing.available and "python:" in missing.reason and ".venv/bin/python" in missing.reason
    with pytest.raises(ManifestError, match="python:"):
        read_manifest(_manifest(tmp_path / "bad", ["python3"]))  # type: ignore[arg-type]


def test_manifest_python_key_starts_the_adapter_with_that_interpreter(tmp_path):
    """`python: ./bin/py` (a wrapper, as a virtualenv's python would be): the adapter runs under it."""
    folder = tmp_path / "adapters" / "py-own-interpreter"
    _manifest(folder, "./bin/py")
    (folder / "bin").mkdir()
    wrapper = folder / "bin" / "py"
    wrapper.write_text(f'#!/bin/sh\nSIGHARNESS_TEST_INTERPRETER=wrapper exec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    (folder / "host.py").write_text(textwrap.dedent("""
        import os
        from harness.adapter_sdk import Adapter, serve
        class Own(Adapter):
            library = "PyYAML"
            def hello(self):
                return {**super().hello(), "runtime_extra": "via " + os.environ.get("SIGHARNESS_TEST_INTERPRETER", "harness python")}
        serve(Own())
    """))
    proc = sigharness("adapters", "--adapter-dir", str(tmp_path / "adapters"), "--check", "--json")
    assert proc.returncode == 0, proc.stderr
    row, = json.loads(proc.stdout)
    assert row["status"] == "available" and row["runtime"].endswith("(via wrapper)"), row


# -- new-adapter -----------------------------------------------------------------------------------
def test_new_adapter_writes_a_template(tmp_path, capsys):
    for name, language in (("py-my-signer", "python"), ("js-my-signer", "javascript")):
        assert cli_main(["new-adapter", name, "--language", language, "--dir", str(tmp_path)]) == 0
        assert f"--adapter-dir {tmp_path}" in capsys.readouterr().out
    py, js = tmp_path / "py-my-signer", tmp_path / "js-my-signer"
    assert sorted(p.name for p in py.iterdir()) == ["README.md", "adapter.yaml", "host.py"]
    assert sorted(p.name for p in js.iterdir()) == ["README.md", "adapter.yaml", "host.js", "package.json", "sdk.js"]
    spec, = read_manifest(py / "adapter.yaml")
    assert (spec.name, spec.language, spec.command(None)[1:]) == ("py-my-signer", "python", ["host.py"])
    assert "class PyMySignerAdapter(Adapter)" in (py / "host.py").read_text()
    assert "__NAME__" not in (py / "README.md").read_text() + (js / "host.js").read_text()
    assert (js / "sdk.js").read_bytes() == (ROOT / "adapters" / "js" / "sdk.js").read_bytes()
    for argv, message in ((["py-my-signer", "--language", "python"], "exists and is not empty"),
                          (["My Signer", "--language", "python"], "adapter name"),
                          (["x", "--language", "cobol"], "python or javascript")):
        assert cli_main(["new-adapter", *argv, "--dir", str(tmp_path)]) == 2
        assert message in capsys.readouterr().err
    assert class_name("py-aws4.auth_x") == "PyAws4AuthXAdapter"


@pytest.mark.slow
def test_new_adapter_templates_pass_the_conformance_test_and_refuse_every_check(tmp_path):
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    extra = tmp_path / "extra"
    for name, language in (("tpl-python", "python"), ("tpl-javascript", "javascript")):
        assert sigharness("new-adapter", name, "--language", language, "--dir", str(extra)).returncode == 0
    env = dict(os.environ, SIGHARNESS_ADAPTER_DIRS=str(extra), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "-m", "slow",
                           str(ROOT / "tests" / "test_protocol_conformance.py"), "-k", "tpl-"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    for name in ("tpl-python", "tpl-javascript"):
        assert f"PASSED tests/test_protocol_conformance.py::test_adapter_speaks_the_protocol[{name}]" in proc.stdout, proc.stdout[-3000:]
    # the adapter answers `unsupported` itself, saying it is not filled in
    for name, start in (("tpl-python", [sys.executable, "host.py"]), ("tpl-javascript", ["node", "host.js"])):
        text = json.dumps(protocol.hello(name)) + "\n" + json.dumps({"type": "sign", "id": "1", "check": CHECK}) + "\n"
        out = subprocess.run(start, input=text, capture_output=True, text=True, cwd=extra / name, timeout=60,
                             env=dict(os.environ, PYTHONPATH=str(ROOT))).stdout.splitlines()
        answer = json.loads(out[1])
        assert answer["status"] == "unsupported" and "not filled in" in answer["reason"], answer


# -- the "done when": an adapter kept out of tree catches its library's regression ------------------
OUT_OF_TREE = '''\
"""botocore's SigV4Auth / SigV4QueryAuth (S3 variants for s3), kept out of tree, on the adapter SDK."""
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness.adapter_sdk import Adapter, FixedClock, Unsupported, library_call, serve, signed_from_prepared

CLOCK = FixedClock().install(botocore.auth, hook="get_current_datetime")  # botocore's own clock hook


class Botocore(Adapter):
    library = "botocore"

    def prepare(self, check):
        s3 = check.service == "s3"
        if (check.normalize_path, check.double_encode) != (not s3, not s3):
            raise Unsupported("botocore's path rules are fixed per service (botocore 1.44)")
        if check.payload != "body" or check.session_token_placement != "signed":
            raise Unsupported("botocore signs the body's SHA-256 and the session token (botocore 1.44)")
        creds = Credentials(check.access_key_id, check.secret_access_key, check.session_token)
        if check.mode == "header":
            return (botocore.auth.S3SigV4Auth if s3 else botocore.auth.SigV4Auth)(creds, check.service, check.region)
        cls = botocore.auth.S3SigV4QueryAuth if s3 else botocore.auth.SigV4QueryAuth
        return cls(creds, check.service, check.region, expires=check.expires)

    def sign(self, check, signer, watch):
        request = AWSRequest(method=check.method, url=check.url, data=check.body)
        for name, value in check.headers:
            request.headers[name] = value
        with CLOCK.at(check.timestamp), library_call(), watch.running():
            signer.add_auth(request)
        return {"signed": signed_from_prepared(check, request.prepare())}


if __name__ == "__main__":
    serve(Botocore())
'''

# A botocore "release" that stopped trimming header values (SigV4Auth._header_value), put in front of
# the adapter's imports as a sitecustomize; the adapter's code is the same in both runs.
REGRESSED_BOTOCORE = '''\
import botocore.auth
botocore.auth.SigV4Auth._header_value = lambda self, value: value
'''


def test_the_documented_example_is_the_tested_adapter():
    doc = (ROOT / "docs" / "adapter-protocol.md").read_text()
    body = OUT_OF_TREE.split('"""', 2)[2].strip()  # without its docstring
    assert body in doc


@pytest.mark.slow
def test_an_out_of_tree_sdk_adapter_fails_a_baseline_check_when_its_library_regresses(tmp_path):
    pytest.importorskip("botocore")
    lines = [line for line in OUT_OF_TREE.splitlines() if line.strip()]
    assert len(lines) < 40, f"the adapter takes {len(lines)} lines"
    project = tmp_path / "my-project"  # nothing of this checkout in it
    folder = project / "sigharness-adapters" / "my-botocore"
    folder.mkdir(parents=True)
    (folder / "host.py").write_text(OUT_OF_TREE)
    (folder / "adapter.yaml").write_text('language: python\nenv: {PYTHONPATH: "{project}"}\n'
                                         'adapters:\n  - {name: my-botocore, library: botocore, start: ["{python}", "host.py"]}\n')
    site = tmp_path / "regressed-site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(REGRESSED_BOTOCORE)
    adapters = ["--adapter-dir", str(project / "sigharness-adapters"), "--adapters", "my-botocore"]

    first = sigharness("run", *adapters, "--out", str(tmp_path / "before"), "--no-report", "--quiet")
    assert first.returncode == 0, first.stderr[-3000:]
    before = json.loads((tmp_path / "before" / "results.json").read_text())
    statuses = [r["status"] for r in before["results"]]
    assert len(before["cases"]) > 200 and statuses.count("pass") > 200 and "error" not in statuses  # the whole corpus

    again = sigharness("run", *adapters, "--out", str(tmp_path / "same"), "--no-report", "--quiet",
                       "--baseline", str(tmp_path / "before" / "results.json"))
    assert again.returncode == 0, again.stdout[-3000:]  # the same library: no regression

    regressed = sigharness("run", *adapters, "--out", str(tmp_path / "after"), "--no-report", "--quiet",
                           "--adapter-env", f"PYTHONPATH={site}{os.pathsep}{ROOT}",
                           "--baseline", str(tmp_path / "before" / "results.json"))
    assert regressed.returncode == 1, regressed.stdout[-3000:] + regressed.stderr[-3000:]
    assert "regression" in regressed.stdout and "my-botocore" in regressed.stdout
    after = {(r["case"], r["mode"]): r["status"] for r in json.loads((tmp_path / "after" / "results.json").read_text())["results"]}
    was = {(r["case"], r["mode"]): r["status"] for r in before["results"]}
    worse = sorted(k for k in was if was[k] == "pass" and after[k] == "fail")
    assert ("headers/inner-spaces", "header") in worse, worse  # the untrimmed header values
    assert all(case in regressed.stdout for case, _ in worse[:3])
    assert sum(1 for k in was if was[k] == after[k]) > len(was) // 2  # only what the regression touches moved
