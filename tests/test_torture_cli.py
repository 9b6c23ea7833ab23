"""Hostile command lines and results files, and runs killed at several points (issue 12): each ends in its
exact outcome -- one line and exit 2 for what the user can fix, never a traceback; after --resume nothing
lost, nothing counted twice, no garbled journal line, no secret in any file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import leakscan
from conftest import MUTANTS, ROOT
from harness import cli
from harness.results import read_journal

QUERY = ROOT / "cases" / "query"
SLOW = ["--adapter-dir", str(MUTANTS), "--adapters", "hostile-slow,hostile-slow-too"]
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def main(argv: list[str], capsys) -> tuple[int, str]:
    """The CLI in this process: a traceback would fail the test by itself."""
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# -- command lines ---------------------------------------------------------------------------------

LIMIT_FLAGS = [("--timeout", v) for v in ("0", "-1", "-0", "nan", "inf", "-inf")] + [
    ("--start-timeout", "0"), ("--max-restarts", "-1"), ("--max-answer-bytes", "0"), ("--max-log-bytes", "-5"),
    ("--max-body-bytes", "0"), ("--max-case-file-bytes", "0"), ("--max-yaml-aliases", "-1"), ("--max-nesting", "0"),
]


@pytest.mark.parametrize("flag,value", LIMIT_FLAGS)
def test_a_limit_out_of_range_is_refused_naming_the_flag(flag, value, tmp_path, capsys):
    code, text = main(["run", "--cases", str(QUERY), "--out", str(tmp_path / "run"), f"{flag}={value}"], capsys)
    assert code == 2
    assert text.startswith(f"sigharness: {flag}: limit ") and text.count("\n") == 1, text
    assert not (tmp_path / "run").exists()  # refused before anything was written


def _out_places(tmp_path: Path) -> list[tuple[str, str]]:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    return [
        (str(a_file), "is a file, not a folder"),
        (str(a_file / "under"), "is a file, so nothing can be created under it"),
        (str(a_file / "under" / "deeper"), "is a file, so nothing can be created under it"),
        ("/proc/sigharness-run", "cannot write there"),
        ("/proc/self/environ/x", "is a file, so nothing can be created under it"),
    ]


@pytest.mark.parametrize("index", range(5))
@pytest.mark.parametrize("command", ["run", "report"])
def test_an_unusable_out_folder_is_one_line(index, command, tmp_path, capsys):
    out, message = _out_places(tmp_path)[index]
    if command == "run":
        argv = ["run", "--cases", str(QUERY), "--adapter-dir", str(MUTANTS), "--adapters", "mutant-bad-signature", "--out", out]
    else:
        results = tmp_path / "results.json"
        results.write_text(json.dumps(valid_results()))
        argv = ["report", str(results), "--out", out]
    code, text = main(argv, capsys)
    assert code == 2 and message in text and "Traceback" not in text, text
    assert text.strip().count("\n") == 0, text


def _case_folders(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty"
    empty.mkdir()
    no_cases = tmp_path / "no-cases"
    no_cases.mkdir()
    (no_cases / "README.md").write_text("nothing here")
    empty_list = tmp_path / "empty-list"
    empty_list.mkdir()
    (empty_list / "none.yaml").write_text("[]\n")
    return {"empty": empty, "no-cases": no_cases, "empty-list": empty_list, "missing": tmp_path / "missing"}


@pytest.mark.parametrize("ci", ["", "true"])
@pytest.mark.parametrize("kind", ["empty", "no-cases", "empty-list", "missing"])
def test_no_usable_case_is_exit_2_even_in_ci(kind, ci, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CI", ci)
    folder = _case_folders(tmp_path)[kind]
    code, text = main(["run", "--cases", str(folder), "--adapter-dir", str(MUTANTS), "--adapters", "mutant-bad-signature",
                       "--out", str(tmp_path / "run"), "--quiet"], capsys)
    assert code == 2, text
    assert str(folder) in text and "Traceback" not in text


@pytest.mark.parametrize("argv,code,message", [
    (["--adapter-dir", "/nonexistent/adapters"], 2, "/nonexistent/adapters: no such adapter folder"),
    (["--adapter-dir", str(MUTANTS), "--adapters", "no-such-adapter"], 2, "unknown adapter 'no-such-adapter'"),
    (["--adapter-dir", str(MUTANTS), "--adapters", "mutant-bad-signature", "--case", "no/such/*"], 2, "no case id matches --case no/such/*"),
    (["--adapter-dir", str(MUTANTS), "--adapters", "mutant-bad-signature", "--adapter-env", "NOEQUALS"], 2, "--adapter-env takes KEY=VALUE"),
    (["--adapter-dir", str(MUTANTS), "--adapters", "mutant-bad-signature", "--adapter-env", "=x"], 2, "--adapter-env takes KEY=VALUE"),
    (["--adapter-dir", str(MUTANTS), "--adapters", "mutant-bad-signature", "--body-root", "/nonexistent/bodies"], 2, "--body-root /nonexistent/bodies: no such folder"),
])
def test_run_arguments_blamed_on_the_user_not_the_libraries(argv, code, message, tmp_path, capsys):
    got, text = main(["run", "--cases", str(QUERY / "plus.yaml"), "--out", str(tmp_path / "run"), "--quiet", *argv], capsys)
    assert got == code and message in text, text


def test_adapters_command_exits_2_on_a_missing_adapter_folder(capsys):
    code, text = main(["adapters", "--adapter-dir", "/nonexistent/adapters"], capsys)
    assert code == 2 and "/nonexistent/adapters: no such adapter folder" in text


RUN_JSON = [
    ("not json", b"{nope", "JSONDecodeError"),
    ("not utf-8", b"\xff\xfe{}", "UnicodeDecodeError"),
    ("a list", b"[]", "not a JSON object"),
    ("no case_paths", b"{}", "KeyError: 'case_paths'"),
    ("case_paths a string", b'{"case_paths": "/"}', "case_paths is not a list of text"),
    ("case_paths empty", b'{"case_paths": []}', "case_paths is empty"),
    ("case_paths numbers", b'{"case_paths": [1]}', "case_paths is not a list of text"),
    ("adapters a string", b'{"case_paths": ["x"], "adapters": "a,b"}', "adapters is not a list of text"),
    ("adapter_env a list", b'{"case_paths": ["x"], "adapter_env": ["A=1"]}', "adapter_env is not an object"),
    ("limits a list", b'{"case_paths": ["x"], "limits": []}', "limits is not an object"),
    ("a zero timeout", b'{"case_paths": ["x"], "limits": {"check_seconds": 0}}', "check_seconds must be a positive"),
    ("a string timeout", b'{"case_paths": ["x"], "limits": {"check_seconds": "1"}}', "check_seconds must be a number"),
    ("isolation unknown", b'{"case_paths": ["x"], "isolate_network": "maybe"}', "isolate_network is 'maybe'"),
    ("case_filter a dict", b'{"case_paths": ["x"], "case_filter": {}}', "case_filter is not a list of text"),
    ("body_roots a string", b'{"case_paths": ["x"], "body_roots": "/"}', "body_roots is not a list of text"),
    ("deep", b'{"case_paths": ' + b"[" * 100000 + b"]" * 100000 + b"}", "RecursionError"),
]


@pytest.mark.parametrize("name,content,message", RUN_JSON, ids=[r[0] for r in RUN_JSON])
def test_resume_of_a_corrupt_run_json_is_one_line(name, content, message, tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "run.json").write_bytes(content)
    code, text = main(["run", "--resume", str(folder)], capsys)
    assert code == 2, text
    assert text.startswith(f"sigharness: --resume {folder}: run.json is unreadable") and message in text, text
    assert sorted(p.name for p in folder.iterdir()) == ["run.json"]  # nothing run, nothing written


@pytest.mark.parametrize("make,message", [
    (lambda p: p / "missing", "no run.json there"),
    (lambda p: (p / "f").write_text("x") and p / "f", "no run.json there"),
    (lambda p: (p / "d").mkdir() or p / "d", "no run.json there"),
])
def test_resume_of_something_that_is_not_a_run_folder(make, message, tmp_path, capsys):
    code, text = main(["run", "--resume", str(make(tmp_path))], capsys)
    assert code == 2 and message in text


# -- results files for report and diff -----------------------------------------------------------


def valid_results() -> dict:
    return {
        "format": "sigharness-results", "version": 2,
        "manifest": {"date": "2026-01-01T00:00:00Z", "harness_version": "0.1.0", "case_sources": []},
        "adapters": {"a": {"name": "a", "language": "python", "library": "lib", "library_version": "1.0",
                           "available": True, "restarts": 0, "faults": [], "checks": 1}},
        "cases": {"c/one": {"title": "one", "tags": ["c"], "modes": ["header"], "source": "c.yaml:1",
                            "request": {"method": "GET", "url": "https://x/", "headers": [], "body_bytes": 0}}},
        "checks": {"c/one|header": {"expected": {"signature": "abc"}, "source": "case"}},
        "case_errors": [],
        "results": [{"case": "c/one", "mode": "header", "adapter": "a", "status": "fail", "reason": "differs",
                     "stage": "signature", "stages": {"signature": {"actual": "abd", "equal": False}},
                     "duration_ms": 1.5, "elapsed_ns": 1000}],
    }


def _set(path: str, value, delete: bool = False):
    def change(data: dict) -> dict:
        keys = path.split(".")
        node = data
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        last = int(keys[-1]) if isinstance(node, list) else keys[-1]
        if delete:
            del node[last]
        else:
            node[last] = value
        return data
    return change


BAD_SHAPES = [
    ("results an object", _set("results", {}), "results is an object, not a list"),
    ("results text", _set("results", "x"), "results is text, not a list"),
    ("results null", _set("results", None), "results is null, not a list"),
    ("results missing", _set("results", None, delete=True), "results is missing"),
    ("row a list", _set("results.0", []), "results[0] is a list, not an object"),
    ("row a number", _set("results.0", 5), "results[0] is a number, not an object"),
    ("row without case", _set("results.0.case", None, delete=True), "results[0] has no case"),
    ("row without mode", _set("results.0.mode", None, delete=True), "results[0] has no mode"),
    ("row without adapter", _set("results.0.adapter", None, delete=True), "results[0] has no adapter"),
    ("row without status", _set("results.0.status", None, delete=True), "results[0] has no status"),
    ("case a number", _set("results.0.case", 5), "results[0].case is a number, not text"),
    ("status null", _set("results.0.status", None), "results[0].status is null, not text"),
    ("adapter a list", _set("results.0.adapter", []), "results[0].adapter is a list, not text"),
    ("reason a number", _set("results.0.reason", 5), "results[0].reason is a number, not text"),
    ("stages a list", _set("results.0.stages", []), "results[0].stages is a list, not an object"),
    ("stage text", _set("results.0.stages.signature", "x"), "results[0].stages.signature is text, not an object"),
    ("actual a number", _set("results.0.stages.signature.actual", 5), "results[0].stages.signature.actual is a number"),
    ("signed headers text", _set("results.0.signed", {"headers": "x"}), "results[0].signed.headers is not a list"),
    ("duration text", _set("results.0.duration_ms", "x"), "results[0].duration_ms is text, not a number"),
    ("duration huge", _set("results.0.duration_ms", 1e300), "results[0].duration_ms is a number, not a number"),
    ("elapsed a boolean", _set("results.0.elapsed_ns", True), "results[0].elapsed_ns is a boolean, not a number"),
    ("elapsed 4000 digits", _set("results.0.elapsed_ns", 10 ** 4000), "results[0].elapsed_ns is a number, not a number"),
    ("adapters a list", _set("adapters", []), "adapters is a list, not an object"),
    ("adapter text", _set("adapters.a", "x"), "adapters['a'] is text, not an object"),
    ("version a number", _set("adapters.a.library_version", 5), "adapters['a'].library_version is a number, not text"),
    ("faults text", _set("adapters.a.faults", "x"), "adapters['a'].faults is not a list of text"),
    ("restarts text", _set("adapters.a.restarts", "3"), "adapters['a'].restarts is text, not a number"),
    ("cases a list", _set("cases", []), "cases is a list, not an object"),
    ("case a number", _set("cases.c/one", 5), "cases['c/one'] is a number, not an object"),
    ("tags text", _set("cases.c/one.tags", "c"), "cases['c/one'].tags is not a list of text"),
    ("request text", _set("cases.c/one.request", "GET /"), "cases['c/one'].request is text, not an object"),
    ("checks a list", _set("checks", []), "checks is a list, not an object"),
    ("check expected text", _set("checks.c/one|header.expected", "x"), "checks['c/one|header'] is not an object"),
    ("case_errors text", _set("case_errors", "x"), "case_errors is text, not a list"),
    ("case_errors numbers", _set("case_errors", [5]), "case_errors[0] is a number, not text"),
    ("manifest a list", _set("manifest", []), "manifest is a list, not an object"),
    ("date a number", _set("manifest.date", 5), "manifest.date is a number, not text"),
    ("bench a list", _set("bench", []), "bench is a list, not an object"),
    ("bench figure text", _set("bench", {"a": {"checks": {"x": {"signs_per_sec": "fast"}}}}), "signs_per_sec is text, not a number"),
    ("deep signed", _set("results.0.signed", {"x": json.loads("[" * 80 + "]" * 80)}), "nested more than 64 levels deep"),
    ("version 3", _set("version", 3), "results format version 3"),
    ("version text", _set("version", "2"), "results format version '2'"),
    ("version true", _set("version", True), "results format version True"),
    ("wrong format", _set("format", "other"), "not a sigharness results file"),
]
BAD_TEXTS = [
    ("empty file", b"", "not valid JSON"),
    ("not utf-8", b'{"format": "\xff"}', "not UTF-8"),
    ("a list", b"[1, 2]", "not a sigharness results file"),
    ("NaN", b'{"format": "sigharness-results", "version": 2, "results": [], "x": NaN}', "NaN is not a JSON number"),
    ("Infinity", b'{"format": "sigharness-results", "version": 2, "results": [], "x": Infinity}', "Infinity is not a JSON number"),
    ("-Infinity", b'{"format": "sigharness-results", "version": 2, "results": [], "x": -Infinity}', "-Infinity is not a JSON number"),
    ("1e999", b'{"format": "sigharness-results", "version": 2, "results": [], "x": 1e999}', "1e999 is too large a number"),
    ("5000 digits", b'{"format": "sigharness-results", "version": 2, "results": [], "x": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ("100000 deep", b"[" * 100000 + b"]" * 100000, "nested too deeply"),
    ("cut short", json.dumps(valid_results()).encode()[:-40], "not valid JSON"),
]


def _write_bad(tmp_path: Path, name: str) -> tuple[Path, str]:
    path = tmp_path / "bad.json"
    for label, change, message in BAD_SHAPES:
        if label == name:
            path.write_text(json.dumps(change(valid_results())), encoding="utf-8")
            return path, message
    for label, content, message in BAD_TEXTS:
        if label == name:
            path.write_bytes(content)
            return path, message
    raise KeyError(name)


ALL_BAD = [b[0] for b in BAD_SHAPES] + [b[0] for b in BAD_TEXTS]


@pytest.mark.parametrize("name", ALL_BAD)
@pytest.mark.parametrize("command", ["report", "diff"])
def test_a_results_file_of_the_wrong_shape_is_one_line_naming_it(command, name, tmp_path, capsys):
    bad, message = _write_bad(tmp_path, name)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(valid_results()))
    argv = ["report", str(bad), "--out", str(tmp_path / "out")] if command == "report" else ["diff", str(good), str(bad)]
    code, text = main(argv, capsys)
    assert code == 2, text
    assert text.startswith(f"sigharness {command}: {bad}: ") and message in text and text.count("\n") == 1, text
    assert not (tmp_path / "out").exists()


def test_a_lone_surrogate_in_a_results_file_renders_and_diffs(tmp_path, capsys):
    data = valid_results()
    text = json.dumps(data).replace('"differs"', '"differs \\ud800 here"').replace('"one"', '"title \\udfff"')
    path = tmp_path / "s.json"
    path.write_text(text)
    code, out = main(["report", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 0, out
    for name in ("index.html", "junit.xml", "summary.md"):
        assert "\\ud800" in (tmp_path / "out" / name).read_text(encoding="utf-8") or name == "summary.md"
    code, out = main(["diff", str(path), str(path)], capsys)
    assert code == 0 and "1 unchanged" in out


def test_report_of_a_parent_folder_merges_into_out_and_never_writes_the_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parent = tmp_path / "runs"
    for name in ("one", "two"):
        (parent / name).mkdir(parents=True)
        (parent / name / "results.json").write_text(json.dumps(valid_results()))
    before = {p: p.stat().st_mtime_ns for p in parent.rglob("*")}
    code, text = main(["report", str(parent)], capsys)
    assert code == 0, text
    assert {p: p.stat().st_mtime_ns for p in parent.rglob("*")} == before  # nothing added or rewritten under runs/
    assert (tmp_path / "reports" / "merged" / "index.html").exists() and "from 2 run(s)" in text
    code, text = main(["report", str(parent / "one")], capsys)
    assert code == 0 and (parent / "one" / "index.html").exists() and not (parent / "two" / "index.html").exists()
    empty = tmp_path / "nothing"
    empty.mkdir()
    code, text = main(["report", str(empty)], capsys)
    assert code == 2 and "no results.json in it or in its subfolders" in text


def test_report_called_as_a_function_leaves_nothing_behind(tmp_path, capsys):
    """`report` keeps its rows for a quick exit of the process (harness.cli.entry); `cli.main` called in a
    process that goes on frees them and hands the collector back everything it was told to leave alone."""
    import gc

    from harness.cli import common

    path = tmp_path / "one" / "results.json"
    path.parent.mkdir()
    path.write_text(json.dumps(valid_results()))
    code, text = main(["report", str(path)], capsys)
    assert code == 0, text
    assert not common.kept() and gc.get_freeze_count() == 0


def test_report_as_a_command_says_everything_before_its_quick_exit(tmp_path):
    """The process ends without freeing its rows (os._exit): every line it printed to a pipe (no
    PYTHONUNBUFFERED) is there, the last one included, and its status is the command's."""
    for name in ("one", "two"):
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / "results.json").write_text(json.dumps(valid_results()))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["PYTHONPATH"] = str(ROOT)
    out = tmp_path / "merged"
    proc = subprocess.run([sys.executable, "-m", "harness", "report", str(tmp_path / "runs"), "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].endswith("from 2 run(s)")
    assert lines[-1] == f"wrote {out / 'known-issues' / 'index.html'}"
    refused = subprocess.run([sys.executable, "-m", "harness", "report", str(tmp_path / "nowhere.json")],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "no such file" in refused.stderr


def test_diff_refuses_a_negative_limit(tmp_path, capsys):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(valid_results()))
    code, text = main(["diff", str(path), str(path), "--limit", "-1"], capsys)
    assert code == 2 and "--limit must be 0 or more" in text


# -- killed runs and --resume ----------------------------------------------------------------------


def _start(out: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("CI", None)
    return subprocess.Popen([sys.executable, "-m", "harness", "run", "--cases", str(QUERY), "--out", str(out), "--quiet",
                             "--no-report", *SLOW, "--adapter-env", "SLOW_SECONDS=0.01", *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _result_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b'"type":"result"')
    except FileNotFoundError:
        return 0


def _resume(out: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("CI", None)
    return subprocess.run([sys.executable, "-m", "harness", "run", "--resume", str(out), "--quiet", "--no-report"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _rows(out: Path) -> dict[tuple[str, str, str], str]:
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    keys = [(r["case"], r["mode"], r["adapter"]) for r in data["results"]]
    assert len(keys) == len(set(keys)), "a check counted twice"
    return {(r["case"], r["mode"], r["adapter"]): r["status"] for r in data["results"]}


def _journal_is_clean(path: Path) -> list[dict]:
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"", "the journal ends in a cut line"
    return [json.loads(line) for line in lines[:-1]]  # every line parses: none kept garbled


@pytest.fixture(scope="module")
def complete_run(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("complete") / "run"
    proc = _start(out)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr.decode()
    return out, _rows(out)


TOTAL = 2 * 121


@pytest.mark.parametrize("percent", [10, 50, 90])
def test_killed_at_a_point_and_resumed_loses_nothing_and_repeats_nothing(percent, complete_run, tmp_path):
    reference_out, reference = complete_run
    assert len(reference) == TOTAL
    out = tmp_path / "run"
    proc = _start(out)
    journal = out / "results.jsonl"
    deadline = time.monotonic() + 60
    while _result_lines(journal) < TOTAL * percent // 100 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    done_before = _result_lines(journal)
    assert 0 < done_before < TOTAL, done_before
    kept = {(r["case"], r["mode"], r["adapter"]): r["status"] for r in _journal_is_clean_or_cut(journal) if r.get("type") == "result"}
    assert not (out / "results.json").exists()  # a journal with rows and no results.json: resumable
    resumed = _resume(out)
    assert resumed.returncode == 0, resumed.stderr
    rows = _rows(out)
    assert rows == reference  # nothing lost, every verdict as in the uninterrupted run
    assert all(rows[k] == v for k, v in kept.items())
    records = [r for r in _journal_is_clean(journal) if r.get("type") == "result"]
    assert len(records) == TOTAL, "a finished check was redone"
    data = json.loads((out / "results.json").read_text())
    assert all(data["adapters"][a]["library_version"] not in (None, "unknown") for a in ("hostile-slow", "hostile-slow-too"))
    assert leakscan.scan(out, [SECRET]) == {}


def _journal_is_clean_or_cut(path: Path) -> list[dict]:
    """The records a killed run left (its last line may be cut: read_journal drops it)."""
    rows, adapters = read_journal(path)
    return rows + list(adapters.values())


def _copy_run(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for name in ("run.json", "results.jsonl"):
        (target / name).write_bytes((source / name).read_bytes())
    return target


def test_killed_between_the_verdicts_and_the_adapter_record(complete_run, tmp_path, capsys):
    source, reference = complete_run
    out = _copy_run(source, tmp_path / "run")
    journal = out / "results.jsonl"
    lines = journal.read_text(encoding="utf-8").splitlines(keepends=True)
    journal.write_text("".join(line for line in lines if '"type":"adapter"' not in line), encoding="utf-8")
    resumed = _resume(out)
    assert resumed.returncode == 0, resumed.stderr
    assert _rows(out) == reference
    records = _journal_is_clean(journal)
    assert sum(1 for r in records if r.get("type") == "result") == TOTAL  # no check redone
    data = json.loads((out / "results.json").read_text())
    versions = {}
    for name in ("hostile-slow", "hostile-slow-too"):
        info = data["adapters"][name]
        assert info["record_lost"] is True and "record lost" in info["note"]
        assert info["library_version"] not in (None, "", "unknown")
        versions[name] = info["library_version"]
    code, text = main(["report", str(out), "--out", str(tmp_path / "report")]
                      + [f"--expect-version={n}={v}" for n, v in versions.items()], capsys)
    assert code == 0, text


def test_a_cut_last_journal_line_is_dropped_and_its_check_redone(complete_run, tmp_path):
    source, reference = complete_run
    out = _copy_run(source, tmp_path / "run")
    journal = out / "results.jsonl"
    results = [line for line in journal.read_text(encoding="utf-8").splitlines() if '"type":"result"' in line]
    kept, cut = results[:100], results[100]
    journal.write_text("\n".join(kept) + "\n" + cut[: len(cut) // 2], encoding="utf-8")
    resumed = _resume(out)
    assert resumed.returncode == 0, resumed.stderr
    assert _rows(out) == reference
    records = _journal_is_clean(journal)
    assert sum(1 for r in records if r.get("type") == "result") == TOTAL


def test_a_run_with_a_lone_surrogate_and_nan_answers_writes_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["run", "--cases", str(QUERY / "plus.yaml"), "--adapter-dir", str(MUTANTS), "--adapters", "hostile-surrogate-nan",
            "--out", str(out), "--quiet"]
    code, text = main(argv, capsys)
    assert code == 0, text
    first = _rows(out)
    leakscan.loads_everywhere(out)
    (out / "results.json").unlink()
    code, text = main(["run", "--resume", str(out), "--quiet"], capsys)
    assert code == 0, text
    assert _rows(out) == first and all(status == "error" for status in first.values())
    code, text = main(["run", "--resume", str(out), "--quiet"], capsys)  # and again, on a finished run
    assert code == 0 and _rows(out) == first


# -- the JSON Schema kept in the repository says the same as the loader -----------------------------


def _schema():
    import jsonschema

    from harness.results import SCHEMA

    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))


def test_the_schema_accepts_what_a_run_writes(complete_run):
    out, _ = complete_run
    errors = list(_schema().iter_errors(json.loads((out / "results.json").read_text())))
    assert errors == []
    assert list(_schema().iter_errors(valid_results())) == []


@pytest.mark.parametrize("name", [b[0] for b in BAD_SHAPES if b[0] != "deep signed"])
def test_the_schema_refuses_what_the_loader_refuses(name):
    change = next(c for label, c, _ in BAD_SHAPES if label == name)
    assert list(_schema().iter_errors(change(valid_results()))), name


# -- case-input limits and body roots, wired from the command line -----------------------------------


def _body_case(tmp_path: Path) -> tuple[Path, Path]:
    cases, bodies = tmp_path / "cases", tmp_path / "bodies"
    cases.mkdir()
    bodies.mkdir()
    (bodies / "data.bin").write_bytes(b"a body of 31 bytes, more than 10")
    (cases / "b.yaml").write_text("- id: body/outside\n  title: body from a named folder\n  request:\n    method: PUT\n"
                                  "    url: https://example.amazonaws.com/x\n    body: {file: ../bodies/data.bin}\n")
    return cases, bodies


def test_validate_reads_bodies_only_from_the_tree_or_a_body_root_and_honours_the_body_limit(tmp_path, capsys):
    cases, bodies = _body_case(tmp_path)
    code, text = main(["validate", str(cases)], capsys)
    assert code == 2 and f"{cases / 'b.yaml'}:6: request.body.file '../bodies/data.bin' is outside the case folder" in text
    code, text = main(["validate", str(cases), "--body-root", str(bodies)], capsys)
    assert code == 0 and "1 cases valid, 0 problems" in text
    code, text = main(["validate", str(cases), "--body-root", str(bodies), "--max-body-bytes", "10"], capsys)
    assert code == 2 and "the limit is 10 (limit body_bytes)" in text
    code, text = main(["validate", str(cases), "--max-nesting=0"], capsys)
    assert code == 2 and text.startswith("sigharness: --max-nesting: limit nesting_depth")


def test_run_keeps_its_body_roots_and_limits_for_resume(tmp_path, capsys):
    cases, bodies = _body_case(tmp_path)
    out = tmp_path / "run"
    base = ["run", "--cases", str(cases), "--adapter-dir", str(MUTANTS), "--adapters", "hostile-slow", "--quiet", "--no-report"]
    code, text = main(base + ["--out", str(tmp_path / "refused")], capsys)
    assert code == 2 and "is outside the case folder" in text
    code, text = main(base + ["--out", str(tmp_path / "small"), "--body-root", str(bodies), "--max-body-bytes", "10"], capsys)
    assert code == 2 and "(limit body_bytes)" in text
    code, text = main(base + ["--out", str(out), "--body-root", str(bodies)], capsys)
    assert code == 0, text
    settings = json.loads((out / "run.json").read_text())
    assert settings["body_roots"] == [str(bodies.resolve())] and settings["limits"]["body_bytes"] == 16 << 20
    first = _rows(out)
    assert set(first.values()) == {"pass"} and len(first) == 2
    (out / "results.json").unlink()
    journal = out / "results.jsonl"
    journal.write_text(journal.read_text().splitlines()[0] + "\n")  # one verdict kept: the other is redone
    code, text = main(["run", "--resume", str(out), "--quiet", "--no-report"], capsys)
    assert code == 0, text  # the body root came back from run.json: no "outside the case folder"
    assert _rows(out) == first


@pytest.mark.parametrize("argv,message", [
    (lambda t, r: ["report", r, "--out", str(t / "o"), "--history", str(t)], "cannot write it (Is a directory)"),
    (lambda t, r: ["disagreements", r, "--update", str(t / "missing.md")], "--update"),
    (lambda t, r: ["disagreements", r, "--update", str(t / "plain.md")], "has no"),
    (lambda t, r: ["disagreements", str(t / "plain.md")], "not valid JSON"),
])
def test_unwritable_or_unfit_side_files_are_one_line(argv, message, tmp_path, capsys):
    results = tmp_path / "r.json"
    results.write_text(json.dumps(valid_results()))
    (tmp_path / "plain.md").write_text("no markers here\n")
    code, text = main(argv(tmp_path, str(results)), capsys)
    assert code == 2 and message in text and text.strip().count("\n") == 0, text


HISTORY_LINES = [
    "not json",
    "[]",
    '{"format": "sigharness-history", "changed": []}',
    '{"format": "sigharness-history", "changed": {"a": {"pass": "c/one|header"}}}',
    '{"format": "sigharness-history", "changed": {"a": []}}',
    '{"format": "sigharness-history", "adapters": {"a": {"counts": {"pass": "many"}}}}',
    '{"format": "sigharness-history", "adapters": {"a": "x"}}',
    '{"format": "sigharness-history", "date": 5, "changed": {}}',
    '{"format": "sigharness-history", "adapters": {"a": {"counts": {"pass": NaN}}}}',
    "[" * 50000 + "]" * 50000,
    '{"format": "sigharness-history", "changed": {"a": {"pass": ["c/one|header"]}}, "adapters": {"a": {"counts": {"pass": 1}}}, "date": "2026-01-0',
]


@pytest.mark.parametrize("append", [False, True])
def test_a_history_file_of_hostile_lines_is_read_past(append, tmp_path, capsys):
    results = tmp_path / "r.json"
    results.write_text(json.dumps(valid_results()))
    history = tmp_path / "history.jsonl"
    history.write_text("\n".join(HISTORY_LINES))  # the last line cut short, without its newline
    argv = ["report", str(results), "--out", str(tmp_path / "out"), "--history", str(history)] + ([] if append else ["--no-append"])
    code, text = main(argv, capsys)
    assert code == 0, text
    lines = history.read_text().splitlines()
    assert lines[: len(HISTORY_LINES)] == HISTORY_LINES  # read past, never rewritten
    assert len(lines) == len(HISTORY_LINES) + append
    if append:
        entry = json.loads(lines[-1])
        assert entry["changed"] == {"a": {"fail": ["c/one|header"]}} and entry["checks"] == 1


def test_a_results_file_that_cannot_be_written_is_one_line_and_the_journal_keeps_the_checks(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "results.json.tmp").mkdir()  # the atomic write of results.json cannot create its temporary file
    code, text = main(["run", "--cases", str(QUERY / "plus.yaml"), "--adapter-dir", str(MUTANTS), "--adapters", "hostile-slow",
                       "--out", str(out), "--quiet"], capsys)
    assert code == 2 and "Is a directory" in text and f"finish with `sigharness run --resume {out}`" in text, text
    rows, _ = read_journal(out / "results.jsonl")
    assert rows and all(r["status"] == "pass" for r in rows)
    (out / "results.json.tmp").rmdir()
    code, text = main(["run", "--resume", str(out), "--quiet", "--no-report"], capsys)
    assert code == 0 and len(_rows(out)) == len(rows)
