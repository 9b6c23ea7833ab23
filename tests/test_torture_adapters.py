"""Hostile and broken adapters against the process layer (issue 12, items 1, 2, 7, 9 and 11's double
answer): every fault ends as an AdapterFault with a clear reason or a recorded protocol fault, stop()
and kill() always return, and no process an adapter started outlives it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from conftest import MUTANTS, ROOT, run_results, unavailable
from harness.adapters.manifest import read_manifest
from harness.adapters.process import (
    AdapterFault,
    AdapterProcess,
    nesting_depth_exceeds,
    parse_answer,
    pid_isolation_available,
)
from harness.cases import load_cases
from harness.model import Case, Check
from harness.reference import sign_request

TORTURE = {spec.name: spec for spec in read_manifest(MUTANTS / "torture" / "adapter.yaml")}
QUERY_CASES = ROOT / "cases" / "query"


@pytest.fixture(scope="module")
def cases() -> dict[str, Case]:
    loaded = load_cases([QUERY_CASES])
    assert not loaded.errors
    return {case.id: case for case in loaded.cases}


@pytest.fixture(scope="module")
def checks(cases) -> list[dict]:
    return [Check(case, mode).to_json() for case in cases.values() for mode in case.modes]


@pytest.fixture
def marker() -> str:
    return f"torture-{uuid.uuid4().hex}"


def marked_processes(marker: str) -> dict[int, str]:
    """Live processes (zombies excluded) whose environment or command line carries `marker`."""
    found = {}
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            if state in (b"Z", b"X"):
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read()
        except (OSError, IndexError):
            continue
        if needle in cmdline or needle in environ:
            found[int(entry)] = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


def gone(marker: str, seconds: float = 2.0) -> dict[int, str]:
    """What still carries `marker` after `seconds` (a just-killed process may take a moment)."""
    deadline = time.monotonic() + seconds
    while (left := marked_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def namespace_or_skip() -> None:
    if not pid_isolation_available():
        unavailable("`unshare --pid` does not work on this machine (needs root or user namespaces)", "PID namespaces")


MODES = [pytest.param(True, id="pid-namespace"), pytest.param(False, id="process-group")]


def started(name: str, marker: str, pid_namespace: bool | None = None, **kwargs) -> AdapterProcess:
    if pid_namespace:
        namespace_or_skip()
    proc = AdapterProcess(TORTURE[name], None, extra_env={"TORTURE_MARKER": marker}, start_timeout=30,
                          pid_namespace=pid_namespace, **kwargs)
    proc.start()
    return proc


def sign(proc: AdapterProcess, check: dict, timeout: float = 10) -> dict:
    return proc.request({"type": "sign", "check": check}, timeout)


# -- 1. children left running --------------------------------------------------------------------
@pytest.mark.parametrize("pid_namespace", MODES)
@pytest.mark.parametrize("ending", ["stop", "kill"])
@pytest.mark.parametrize("name", ["torture-shell-child", "torture-child-left", "torture-detached-child"])
def test_nothing_the_adapter_started_survives_it(name, ending, pid_namespace, marker, checks):
    proc = started(name, marker, pid_namespace)
    try:
        assert proc.mechanism == ("pid-namespace" if pid_namespace else "process-group")
        assert sign(proc, checks[0])["status"] == "signed"
        deadline = time.monotonic() + 5  # a detached grandchild may not have reached its exec yet
        while not (sleepers := [c for c in marked_processes(marker).values() if c.startswith("sleep")]):
            assert time.monotonic() < deadline, marked_processes(marker)  # the fixture really left a child
            time.sleep(0.05)
        assert len(sleepers) == 1
    finally:
        began = time.monotonic()
        getattr(proc, ending)()
        took = time.monotonic() - began
    assert took < 5, f"{ending}() took {took:.1f}s"
    assert gone(marker) == {}
    assert not any(reader.is_alive() for reader in proc._readers), "a pipe reader is still blocked"


def test_stop_is_prompt_even_though_the_child_holds_the_pipes(marker, checks):
    """The issue's reproduction: `sleep infinity` holding stdout used to make stop() wait forever."""
    proc = started("torture-child-left", marker, pid_namespace=False)
    assert sign(proc, checks[0])["status"] == "signed"
    began = time.monotonic()
    proc.stop()
    assert time.monotonic() - began < 5
    assert proc.proc is not None and proc.proc.returncode == 0  # it did exit on `bye` by itself
    assert gone(marker) == {}


@pytest.mark.parametrize("name", ["torture-child-left", "torture-detached-child"])
def test_a_killed_harness_leaves_no_adapter_process_behind(name, marker):
    """The harness dies without stop(): the adapter's input ends, it exits, its namespace goes."""
    namespace_or_skip()
    script = (
        "import sys, time\n"
        "sys.path.insert(0, 'tests')\n"
        "from test_torture_adapters import TORTURE\n"
        "from harness.adapters.process import AdapterProcess\n"
        f"p = AdapterProcess(TORTURE[{name!r}], None, extra_env={{'TORTURE_MARKER': {marker!r}}})\n"
        "p.start(); print('started', flush=True); time.sleep(60)\n"
    )
    harness = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert harness.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 5
        while not [c for c in marked_processes(marker).values() if c.startswith("sleep")]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        harness.kill()
        harness.wait()
    assert gone(marker, seconds=5) == {}


@pytest.mark.parametrize("name", ["torture-shell-child", "torture-detached-child"])
def test_a_run_with_children_left_running_ends_and_leaves_nothing(name, tmp_path, marker, checks):
    began = time.monotonic()
    proc, data = run_results(tmp_path, "--cases", str(QUERY_CASES), "--adapter-dir", str(MUTANTS), "--adapters", name,
                             "--adapter-env", f"TORTURE_MARKER={marker}", timeout=120)
    assert time.monotonic() - began < 60, "the run waited for the adapter's children"
    assert proc.returncode == 0, proc.stderr
    rows = [r for r in data["results"] if r["adapter"] == name]
    assert len(rows) == len(checks) and {r["status"] for r in rows} == {"pass"}
    assert gone(marker) == {}


# -- the harness's environment -------------------------------------------------------------------
def test_an_adapter_in_its_namespace_cannot_read_the_harness_environment(marker, checks):
    proc = started("torture-environ-probe", marker, pid_namespace=True)
    try:
        probe = json.loads(sign(proc, checks[0])["reason"])
    finally:
        proc.stop()
    with open("/proc/self/environ", "rb") as f:
        ours = {p.decode(errors="replace") for p in f.read().split(b"\0") if p}
    assert ours, "this test needs an environment to look for"
    assert probe["ppid"] == 0 and probe["parent_environ"].startswith("unreadable")
    assert probe["foreign"] == {}, probe["foreign"]
    assert probe["pids"] == [1], probe["pids"]  # only the adapter itself is visible
    text = json.dumps(probe)
    assert not [pair for pair in ours if pair in text]


def test_a_run_does_not_show_the_harness_environment_to_adapters(tmp_path, marker, checks):
    namespace_or_skip()
    host_secret = f"host-secret-{uuid.uuid4().hex}"
    proc, data = run_results(tmp_path, "--cases", str(QUERY_CASES), "--adapter-dir", str(MUTANTS),
                             "--adapters", "torture-environ-probe", env={"SIGHARNESS_TORTURE_HOST": host_secret}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = [r for r in data["results"] if r["adapter"] == "torture-environ-probe"]
    assert len(rows) == len(checks) and {r["status"] for r in rows} == {"unsupported"}
    for row in rows:
        probe = json.loads(row["reason"])
        assert probe["parent_environ"].startswith("unreadable") and probe["foreign"] == {}
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and host_secret in p.read_text(errors="replace")]


# -- 2 and 7. answers that must not be taken -----------------------------------------------------
@pytest.mark.parametrize("payload, reason", [
    (b"[" * 200000 + b"]" * 200000, "nested deeper than 64 levels"),
    (b'{"a":' * 65 + b"1" + b"}" * 65, "nested deeper than 64 levels"),
    (b'{"type": "result", "elapsed_ns": NaN}', "contains NaN"),
    (b'{"type": "result", "elapsed_ns": -Infinity}', "contains -Infinity"),
    (b'{"type": "result", "elapsed_ns": 1e999}', "contains 1e999"),
    (b'{"type": "result", "n": ' + b"9" * 5000 + b"}", "answer is not JSON"),
    (b'{"type": "result", "reason": "\\ud800"}', "lone UTF-16 surrogate"),
    (b'{"type": "result", "reason": "\xff"}', "not UTF-8"),
    (b'["a list"]', "not a JSON object"),
])
def test_unacceptable_answers_become_faults(payload, reason):
    with pytest.raises(AdapterFault, match=reason):
        parse_answer(payload, 64)


def test_acceptable_answers_pass_the_checks():
    at_limit = b'{"a":' * 63 + b"[1]" + b"}" * 63  # 64 levels
    assert not nesting_depth_exceeds(at_limit, 64) and nesting_depth_exceeds(at_limit, 63)
    assert parse_answer(at_limit, 64)["a"]
    brackets_in_strings = b'{"reason": "' + b"[{" * 500 + b'\\"]"}'
    assert parse_answer(brackets_in_strings, 64)["reason"].startswith("[{")
    assert parse_answer(b'{"emoji": "\\ud83d\\ude00", "n": 1.5e3}', 64) == {"emoji": "\U0001F600", "n": 1500.0}


@pytest.mark.parametrize("name, reason", [
    ("torture-nested-answer", "nested deeper than 64 levels"),
    ("torture-too-deep", "nested deeper than 64 levels"),
    ("torture-nan-answer", "contains NaN"),
    ("torture-infinity-answer", "contains 1e999"),
])
def test_a_bad_answer_is_a_fault_and_the_conversation_goes_on(name, reason, marker, checks):
    proc = started(name, marker)
    try:
        for check in checks[:3]:  # each answer is refused; the reader is still there for the next one
            with pytest.raises(AdapterFault, match=reason):
                sign(proc, check)
            assert proc._readers[0].is_alive()
    finally:
        proc.kill()


@pytest.mark.parametrize("name, reason", [
    ("torture-nested-answer", "nested deeper than 64 levels"),
    ("torture-nan-answer", "contains NaN"),
])
def test_a_run_keeps_every_check_of_an_adapter_with_bad_answers(name, reason, tmp_path, checks):
    proc, data = run_results(tmp_path, "--cases", str(QUERY_CASES), "--adapter-dir", str(MUTANTS), "--adapters", name,
                             "--max-restarts", "2", timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    rows = [r for r in data["results"] if r["adapter"] == name]
    assert len(rows) == len(checks)
    assert all(r["status"] == "error" and reason in r["reason"] for r in rows), rows[0]
    assert sum(r["reason"].startswith("adapter fault: ") for r in rows) == 3  # then it was given up on
    assert name in data["adapters"]
    json.loads((tmp_path / "run" / "results.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in results.json"))


def test_an_answer_over_the_size_limit_is_a_fault(marker, checks):
    proc = started("torture-nested-answer", marker, max_line=100_000)  # its answer is 400,000 bytes
    try:
        with pytest.raises(AdapterFault, match="answer longer than 100000 bytes"):
            sign(proc, checks[0])
    finally:
        proc.kill()


def test_lines_nobody_asked_for_are_a_fault_not_a_memory_leak(marker, checks):
    proc = AdapterProcess(TORTURE["torture-stdout-flood"], None, extra_env={"TORTURE_MARKER": marker})
    try:
        # The flood starts right after the hello: it may drown the hello itself, or the first check.
        with pytest.raises(AdapterFault, match="wrote more than 64 lines .* nobody asked for"):
            proc.start()
            deadline = time.monotonic() + 5
            while not proc._inbox.flooded and time.monotonic() < deadline:
                time.sleep(0.01)
            sign(proc, checks[0])
        assert list(proc._inbox._items) == [("flood", 64)]  # what was queued is dropped
    finally:
        proc.kill()
    assert gone(marker) == {}


def test_an_adapter_that_never_reads_cannot_hang_the_harness(marker, checks):
    proc = started("torture-never-reads", marker)
    try:
        sign_message = {"type": "sign", "check": checks[0]}
        with pytest.raises(AdapterFault, match="no answer within 1s"):
            proc.request(sign_message, 1)
        began = time.monotonic()
        with pytest.raises(AdapterFault, match="did not read its input within 1s"):
            proc.request(dict(sign_message, padding="x" * (4 << 20)), 1)  # more than a pipe holds
        assert time.monotonic() - began < 3
    finally:
        proc.kill()


# -- 9. stderr flood ------------------------------------------------------------------------------
def test_a_stderr_flood_is_capped_and_drained(tmp_path, marker, checks):
    log = tmp_path / "logs" / "flood.log"
    cap = 1 << 20
    flood_mb = 500
    proc = AdapterProcess(TORTURE["torture-stderr-flood"], None, log_path=log, log_limit=cap, start_timeout=30,
                          extra_env={"TORTURE_MARKER": marker, "TORTURE_FLOOD_MB": str(flood_mb)})
    proc.start()
    try:
        answer = sign(proc, checks[0], timeout=60)  # answered: the adapter never blocked on its stderr
        assert answer["status"] == "signed"
        assert sign(proc, checks[1])["status"] == "signed"
    finally:
        proc.stop()
    data = log.read_bytes()
    *kept, note = data.decode().splitlines()
    assert len(data) <= cap + 200
    assert set(kept) == {"x" * 1023} and len(kept) == cap // 1024  # whole lines, up to the cap exactly
    flooded = flood_mb * (1 << 20) + len(b"flood over\n")
    assert note == (f"[sigharness: {flooded - cap} more bytes of this adapter's stderr were dropped "
                    f"(limit adapter_log_bytes = {cap} bytes per log file)]")
    # A restarted adapter appends to the same file and shares its budget.
    again = AdapterProcess(TORTURE["torture-stderr-flood"], None, log_path=log, log_limit=cap,
                           extra_env={"TORTURE_MARKER": marker, "TORTURE_FLOOD_MB": "1"})
    again.start()
    try:
        assert sign(again, checks[0])["status"] == "signed"
    finally:
        again.stop()
    lines = log.read_text().splitlines()
    assert lines[:-1] == kept + [note] and lines[-1].startswith(f"[sigharness: {(1 << 20) + 11} more bytes")


def test_a_long_stderr_line_is_cut_without_leaving_part_of_a_secret(tmp_path):
    from harness.adapters.process import STDERR_LINE_BYTES, _StderrLog
    from harness.results import Redactor

    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    log = _StderrLog(tmp_path / "a.log", 1 << 20, Redactor([secret]).text, len(secret))
    straddling = b"y" * (STDERR_LINE_BYTES - 10) + secret.encode() + b" tail\n"
    log.feed(straddling[:1000])
    log.feed(straddling[1000:] + b"short " + secret.encode() + b"\n")
    log.close()
    text = (tmp_path / "a.log").read_text()
    assert secret[:10] not in text and "wJalr" not in text
    lines = text.splitlines()
    assert lines[0].endswith(" [rest of line dropped]") and lines[1] == "short <secret redacted>"


# -- 11. answers twice; closed stdout ----------------------------------------------------------------
def test_a_second_answer_is_discarded_and_blamed_on_the_adapter(marker, checks, cases):
    proc = started("torture-answers-twice", marker)
    try:
        for number, check in enumerate(checks[:5], 1):
            answer = sign(proc, check)
            assert answer["id"] == str(number) and answer["status"] == "signed"
            case = cases[check["case"]]  # its own answer, not the one before
            assert answer["canonical_request"] == sign_request(case.request, case.context, check["mode"]).stages["canonical_request"]
    finally:
        proc.stop()
    assert proc.protocol_faults == ["answered hello again (discarded while waiting for request '1')"] + [
        f"answered request '{n}' again (discarded while waiting for request '{n + 1}')" for n in range(1, 5)
    ]


def test_a_late_answer_is_discarded_and_the_next_request_gets_its_own(tmp_path, marker, checks):
    log = tmp_path / "late.log"
    proc = started("torture-late-first-answer", marker, log_path=log)
    try:
        with pytest.raises(AdapterFault, match="no answer within 0.5s"):
            sign(proc, checks[0], timeout=0.5)
        answer = sign(proc, checks[1], timeout=10)
        assert answer["id"] == "2" and answer["status"] == "signed"
    finally:
        proc.stop()
    fault = "answered request '1' after its time was up (discarded while waiting for request '2')"
    assert proc.protocol_faults == [fault] and proc.protocol_fault_count == 1
    assert log.read_text().splitlines() == [f"[sigharness: protocol fault: {fault}]"]


def test_a_run_with_an_adapter_that_answers_twice_blames_no_check(tmp_path, checks):
    proc, data = run_results(tmp_path, "--cases", str(QUERY_CASES), "--adapter-dir", str(MUTANTS),
                             "--adapters", "torture-answers-twice", timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = [r for r in data["results"] if r["adapter"] == "torture-answers-twice"]
    assert len(rows) == len(checks) and {r["status"] for r in rows} == {"pass"}
    assert data["adapters"]["torture-answers-twice"]["restarts"] == 0


@pytest.mark.parametrize("pid_namespace", MODES)
def test_closing_stdout_while_running_is_a_fault_at_once(pid_namespace, marker, checks):
    proc = started("torture-closed-stdout", marker, pid_namespace)
    try:
        began = time.monotonic()
        with pytest.raises(AdapterFault, match="closed its output but is still running"):
            sign(proc, checks[0], timeout=5)
        assert time.monotonic() - began < 2.5  # not the timeout: the harness saw the end of its output
        with pytest.raises(AdapterFault, match="closed its output"):  # and the next request too
            sign(proc, checks[1], timeout=5)
    finally:
        proc.kill()
    assert gone(marker) == {}


# -- 5. timeouts -----------------------------------------------------------------------------------
@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf")])
def test_a_timeout_that_is_not_a_positive_number_is_refused(timeout, marker, checks):
    proc = started("torture-answers-twice", marker)
    try:
        with pytest.raises(ValueError, match="timeout must be"):
            proc.request({"type": "sign", "check": checks[0]}, timeout)
        assert sign(proc, checks[0])["status"] == "signed"
    finally:
        proc.stop()
