"""The adapter protocol, checked the same way against every adapter the manifests declare.

One transcript (hello, signs inside and outside the declared capabilities, a bench floor, an unknown
message, bye) is replayed against each signer, and one of its own against each verifier (hello, an
official signed request it must accept, the same request mutated that it must reject, bye), each
started exactly as its manifest says, and every line
it writes must be a valid answer (harness/protocol.schema.json) to the right message. A new adapter
folder with a manifest -- under adapters/ or a folder named in SIGHARNESS_ADAPTER_DIRS -- is checked
with no test edited (the last test shows it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, suite_check, suite_or_skip, unavailable
from harness import protocol
from harness.adapters.manifest import discover, ensure_built
from harness.adapters.process import scrubbed_env
from harness.cases import load_cases
from harness.compare import expected_for, judge
from harness.model import Check

KNOWN, PROBLEMS = discover(kind=None)
SIGNERS = sorted(n for n, s in KNOWN.items() if s.kind == "signer")
VERIFIERS = sorted(n for n, s in KNOWN.items() if s.kind == "verifier")


# One case per signing surface beyond single-shot, sent to the adapters that declare the surface.
SURFACE_CASES = {
    "post-policy": "post-policy/every-condition-kind",
    "rds": "tokens/rds-session-token-nondefault-port",  # (aws-sdk-rds refuses the special user name: a verdict, not protocol)
    "dsql": "tokens/dsql-botocore-dbconnect",
    "eks": "tokens/eks-ruby-sts-presigner",  # X-Amz-Expires 900: Aws::STS::Presigner presigns for 900 s only
    "aws-chunked": "streaming/chunked-unsigned-payload-trailer",  # botocore's one aws-chunked upload
    "event-stream": "streaming/events-transcribe-audio",
}


def surface_check(surface: str) -> Check:
    loaded = load_cases([ROOT / "cases" / "post-policy", ROOT / "cases" / "tokens", ROOT / "cases" / "streaming"])
    case = next(c for c in loaded.cases if c.id == SURFACE_CASES[surface])
    return Check(case, case.modes[0])


def transcript(name: str, surfaces: tuple[str, ...] = ("single",)) -> list[dict]:
    """Single-shot signs for every adapter (one that does not declare the single surface answers
    them unsupported), then one sign per other surface the adapter declares."""
    return [
        protocol.hello(name),
        {"type": "sign", "id": "v4-header", "check": suite_check("aws-c-auth/v4/get-vanilla", "header")},
        {"type": "sign", "id": "v4-query", "check": suite_check("aws-c-auth/v4/get-vanilla-query", "query")},
        {"type": "sign", "id": "v4a-header", "check": suite_check("aws-c-auth/v4a/get-vanilla", "header")},
        *({"type": "sign", "id": surface, "check": surface_check(surface).to_json()} for surface in surfaces if surface != "single"),
        {"type": "bench", "id": "floor", "floor": "hmac-sha256-chain", "iterations": 50},
        {"type": "no-such-message", "id": "odd"},
        protocol.BYE,
    ]


# What each verifier judges, so its transcript asks about a request it can take: (case, mode).
VERIFIER_CASE = {"sigv4a": ("aws-c-auth/v4a/get-vanilla", "header"), "sigv4": ("aws-c-auth/v4/get-vanilla-query", "header")}


def verifier_transcript(name: str, capabilities: protocol.Capabilities) -> list[dict]:
    """hello, an official signed request (must be accepted), the same with a changed query (must be
    rejected), an unknown message, bye. S3-only verifiers get the vector re-scoped by the reference
    signer to s3 (see s3_official)."""
    from harness.cases.suite import load_suite
    from harness.model import Check
    from harness.oracles import hints_for, server_for
    from test_official_suite import _official_signed

    case_id, mode = VERIFIER_CASE["sigv4" if "sigv4" in capabilities.algorithms else "sigv4a"]
    mode = mode if mode in capabilities.modes else capabilities.modes[0]  # oracle-awssig: presigned URLs only
    case = {c.id: c for c in load_suite(suite_or_skip(), [])}[case_id]
    if capabilities.services and "service" not in capabilities.services:
        case, signed = s3_official(case, mode)
    else:
        signed = _official_signed(case, mode)
    check = Check(case, mode)
    mutated = signed.__class__(signed.method, signed.url + ("&" if "?" in signed.url else "?") + "added=1", signed.headers, None)
    body = case.request.body
    asks = [protocol.verify(s.__class__(s.method, s.url, s.headers, body).to_json(), server_for(check), hints_for(check, s, body))
            for s in (signed, mutated)]
    return [protocol.hello(name), dict(asks[0], id="official"), dict(asks[1], id="mutated"),
            {"type": "no-such-message", "id": "odd"}, protocol.BYE]


def s3_official(case, mode):
    """The official vector as an S3 request: the same request and credentials, service s3, signed by
    the reference signer (which reproduces every official vector, tests/test_official_suite.py)."""
    from dataclasses import replace

    from harness.model import Check
    from harness.reference import sign

    s3_case = replace(case, context=replace(case.context, service="s3", double_encode=False, normalize_path=False,
                                            content_sha256_header=True))
    return s3_case, sign(Check(s3_case, mode)).signed


def replay(name: str, home: Path, messages: list[dict] | None = None,
           prefix: list[str] = ()) -> tuple[list[dict], subprocess.CompletedProcess[str]]:
    spec = KNOWN[name]
    availability = ensure_built(spec)
    if not availability.available:
        unavailable(availability.reason, name)
    text = "".join(json.dumps(m) + "\n" for m in (messages or transcript(name)))
    proc = subprocess.run([*prefix, *spec.command(availability.build_dir)], input=text, capture_output=True, text=True,
                          timeout=300, cwd=spec.folder, env=scrubbed_env(str(home), None, spec.env))
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    answers = []
    for line in lines:
        try:
            answers.append(json.loads(line))
        except ValueError:
            pytest.fail(f"{name}: stdout carries a line that is not a protocol message: {line[:200]!r}")
    return answers, proc


def test_manifests_are_readable():
    assert not PROBLEMS, PROBLEMS
    assert KNOWN, "no adapter declared"


def test_every_adapter_gets_a_transcript():
    """Signers and verifiers each have theirs: no adapter of another kind is left out silently."""
    assert sorted(SIGNERS + VERIFIERS) == sorted(KNOWN)
    assert len(VERIFIERS) >= 3, VERIFIERS


@pytest.mark.slow
@pytest.mark.parametrize("name", VERIFIERS)
def test_verifier_speaks_the_protocol(name, tmp_path):
    first, _ = replay(name, tmp_path, [protocol.hello(name), protocol.BYE])
    hello = protocol.Hello.parse(first[0], name)
    assert hello.capabilities.kind == "verifier" and hello.library_version not in ("", "unknown")
    messages = verifier_transcript(name, hello.capabilities)
    answers, proc = replay(name, tmp_path, messages)
    assert proc.returncode == 0, f"{name} exited {proc.returncode} after bye; stderr: {proc.stderr[-2000:]}"
    assert [a.get("id") for a in answers[1:]] == ["official", "mutated", "odd"], answers
    official, mutated = (protocol.Opinion.parse(a) for a in answers[1:3])
    assert official.verdict == protocol.ACCEPT, f"{name} does not accept an official signed request: {official}"
    assert mutated.verdict == protocol.REJECT and mutated.reason, f"{name} accepts a mutated request: {mutated}"
    assert answers[3]["type"] == "result" and answers[3]["status"] == protocol.ERROR, answers[3]


@pytest.mark.slow
@pytest.mark.parametrize("name", SIGNERS)
def test_adapter_speaks_the_protocol(name, tmp_path):
    probe, _ = replay(name, tmp_path, [protocol.hello(name), protocol.BYE])
    surfaces = protocol.Hello.parse(probe[0], name).capabilities.surfaces if probe else ("single",)
    messages = transcript(name, surfaces)
    answers, proc = replay(name, tmp_path, messages)
    assert proc.returncode == 0, f"{name} exited {proc.returncode} after bye; stderr: {proc.stderr[-2000:]}"
    assert len(answers) == len(messages) - 1, f"{name}: one answer per message but bye; got {answers}"
    hello, *results = answers
    parsed = protocol.Hello.parse(hello, name)  # schema, version, and the manifest's name (or none)
    assert parsed.library_version not in ("", "unknown")
    by_id = {}
    for answer in results:
        assert answer.get("type") in ("result", "bench"), (name, answer)
        protocol.validate("bench_answer" if answer["type"] == "bench" else "result_answer", answer)
        by_id[answer["id"]] = answer
    others = [s for s in surfaces if s != "single"]
    assert [a["id"] for a in results] == ["v4-header", "v4-query", "v4a-header", *others, "floor", "odd"], "answers in order"
    for ident, mode, algorithm in (("v4-header", "header", "sigv4"), ("v4-query", "query", "sigv4"),
                                   ("v4a-header", "header", "sigv4a")):
        answer = protocol.Result.parse(by_id[ident])
        declared = "single" in parsed.capabilities.surfaces and mode in parsed.capabilities.modes \
            and algorithm in parsed.capabilities.algorithms
        if declared:
            assert answer.status == protocol.SIGNED, f"{name} declares {algorithm} {mode} but answered {answer}"
        else:
            assert answer.status == protocol.UNSUPPORTED and answer.reason, f"{name}: undeclared {algorithm} {mode}: {answer}"
    for surface in others:  # a declared surface is signed, and its form or token is one a server accepts
        answer = protocol.Result.parse(by_id[surface])
        assert answer.status == protocol.SIGNED, f"{name} declares {surface} but answered {answer}"
        check = surface_check(surface)
        verdict = judge(check, expected_for(check), by_id[surface])
        assert verdict.status in ("pass", "variant"), f"{name} {surface}: {verdict.status}: {verdict.reason}"
    floor = by_id["floor"]
    if parsed.capabilities.bench:
        assert floor["type"] == "bench" and floor["iterations"] == 50 and floor["elapsed_ns"] > 0, floor
    assert by_id["odd"]["type"] == "result" and by_id["odd"]["status"] == protocol.ERROR, by_id["odd"]


def test_a_new_adapter_folder_is_checked_with_no_test_edited(tmp_path):
    """A folder named in SIGHARNESS_ADAPTER_DIRS with one manifest: the conformance test picks it up,
    passes a well-behaved adapter and fails one that answers with the wrong id."""
    extra = tmp_path / "extra"
    for name, mode in (("fake-good", None), ("fake-wrong-id", "wrong-id")):
        folder = extra / name
        folder.mkdir(parents=True)
        start = ["{python}", str(ROOT / "tests" / "fixtures" / "adapters" / "mutants" / "mutant.py"), mode] if mode else \
            ["{python}", str(ROOT / "adapters" / "reference" / "host.py")]
        (folder / "adapter.yaml").write_text(json.dumps({
            "language": "python", "env": {"PYTHONPATH": "{project}"},
            "adapters": [{"name": name, "library": "fake", "start": start}],
        }))
    env = dict(os.environ, SIGHARNESS_ADAPTER_DIRS=str(extra), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "-m", "slow",
                           str(Path(__file__)), "-k", "fake"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout
    assert "PASSED tests/test_protocol_conformance.py::test_adapter_speaks_the_protocol[fake-good]" in out, out[-3000:]
    assert "FAILED tests/test_protocol_conformance.py::test_adapter_speaks_the_protocol[fake-wrong-id]" in out, out[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("name", SIGNERS)
def test_a_sender_answers_send_with_what_its_client_did(name, tmp_path):
    """An adapter that declares HTTP clients answers `send` (docs/adapter-protocol.md) once per client:
    the signed request and `sent`. Replayed in a network namespace with nothing in it, so every client
    fails to connect: the answer must say so in `sent.error` (a wire failure), not crash or hang."""
    from harness.wire.relay import unshare_prefix

    probe, _ = replay(name, tmp_path, [protocol.hello(name), protocol.BYE])
    capabilities = protocol.Hello.parse(probe[0], name).capabilities if probe else protocol.Capabilities(modes=())
    clients = capabilities.clients
    if not clients or "header" not in capabilities.modes or "sigv4" not in capabilities.algorithms:
        return  # no send (no clients declared), or not for this check
    check = suite_check("aws-c-auth/v4/get-vanilla", "header")
    messages = [protocol.hello(name), *({"type": "send", "id": c, "check": check, "client": c, "scheme": "http"} for c in clients),
                protocol.BYE]
    try:
        answers, proc = replay(name, tmp_path, messages, prefix=unshare_prefix())
    except FileNotFoundError:
        unavailable("unshare is not installed", "send conformance")
    if proc.returncode != 0 and not answers:
        unavailable(f"cannot start {name} in a network namespace: {proc.stderr[-300:]}", "send conformance")
    results = answers[1:]
    assert [a.get("id") for a in results] == list(clients), f"{name}: one answer per send, in order: {results}"
    for client, answer in zip(clients, results):
        protocol.validate("result_answer", answer)
        if answer["status"] == protocol.UNSUPPORTED:
            assert answer.get("reason"), (name, client, answer)
            continue
        assert answer["status"] == protocol.SIGNED, f"{name} {client}: {answer}"
        sent = protocol.Sent.parse(answer)
        assert sent is not None and sent.client == client, (name, answer)
        assert sent.error, f"{name} {client}: nothing is reachable, yet no error: {answer['sent']}"
