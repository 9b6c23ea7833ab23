"""The report's outputs on the second core (harness/report/forked.py): the same files as in one process, and a
failure in a child is one clear line, with no child left behind."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest

from conftest import sigharness
from test_report_support import make_results, write

from harness.report import forked

DATES = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|\d{4}-\d\d-\d\d \d\d:\d\d UTC")


def outputs(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): DATES.sub("DATE", p.read_text(encoding="utf-8"))
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_forked_outputs_are_the_files_one_process_writes(tmp_path):
    if not forked.second_core():
        pytest.skip("one CPU: the report writes in one process")  # CI machines have two
    write(tmp_path / "runs" / "a" / "results.json", make_results(versions={"js-mixed": "1.31.0"}))
    write(tmp_path / "runs" / "b" / "results.json", make_results(versions={"js-mixed": "1.35.0"}))
    one = sigharness("report", str(tmp_path / "runs"), "--out", str(tmp_path / "one"),
                     env={"SIGHARNESS_REPORT_PROCESSES": "1"})
    two = sigharness("report", str(tmp_path / "runs"), "--out", str(tmp_path / "two"))
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    assert one.stdout.replace("/one/", "/two/") == two.stdout  # the same files, listed in the same order
    first, second = outputs(tmp_path / "one"), outputs(tmp_path / "two")
    assert set(first) >= {"results.json", "index.html", "junit.xml", "summary.md", "known-issues/index.html"}
    assert first == second


def test_a_child_that_cannot_write_is_one_line_and_the_others_are_written(tmp_path):
    if not forked.second_core():
        pytest.skip("one CPU: the report writes in one process")
    results = write(tmp_path / "run" / "results.json", make_results())
    out = tmp_path / "out"
    out.mkdir()
    (out / ".known-issues.new").write_text("in the way")  # the folder the child writes the pages into, a file
    proc = sigharness("report", str(results), "--out", str(out))
    assert proc.returncode == 2
    assert re.fullmatch(r"sigharness report: the known-issues pages: \S*known-issues\S*: cannot write it \(.+\)\n",
                        proc.stderr), proc.stderr
    # written by this process meanwhile, whole
    assert {p.name for p in out.iterdir()} >= {"index.html", "junit.xml", "summary.md"}
    assert (out / "junit.xml").read_text().rstrip().endswith("</testsuites>")
    assert not list(out.glob("*.tmp"))  # no file left half written


def test_child_values_arrive_in_order_and_errors_and_deaths_are_named():
    child = forked.Child("two values", lambda c: (c.send({"a": [1, 2]}), c.send("b")))
    assert child.receive() == {"a": [1, 2]} and child.receive() == "b"
    child.close()

    def fails(c: forked.Child) -> None:
        raise ValueError("no such table")

    broken = forked.Child("a table", fails)
    with pytest.raises(forked.ChildFailed, match=r"^a table: ValueError: no such table$"):
        broken.receive()

    killed = forked.Child("a page", lambda c: os.kill(os.getpid(), signal.SIGKILL))
    with pytest.raises(forked.ChildFailed, match=r"^a page: the process writing it ended without finishing \(killed by signal 9\)$"):
        killed.receive()
    for c in (broken, killed):
        c.close()
        with pytest.raises(ChildProcessError):
            os.waitpid(c.pid, os.WNOHANG)  # reaped: no child left behind


def test_one_process_when_asked_or_without_fork_or_beside_another_thread(monkeypatch):
    import threading

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert forked.second_core()
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not forked.second_core()  # a child would hold a copy of whatever lock that thread holds
    finally:
        release.set()
        other.join()
    monkeypatch.setenv("SIGHARNESS_REPORT_PROCESSES", "1")
    assert not forked.second_core()
    monkeypatch.delenv("SIGHARNESS_REPORT_PROCESSES")
    monkeypatch.delattr(os, "fork")
    assert not forked.second_core()
