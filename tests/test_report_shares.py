"""The report computed in shares of the checks and joined (harness/report/shares.py): two shares give the
page model, and every file, of one; a second process that fails, or shares that see different columns,
leave the report to one process, which still writes it whole."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import pytest

from test_report_support import make_results, question_results

from harness.cli import main
from harness.redaction import FileRange
from harness.report import forked, model, shares
from harness.report.text import shorten_tokens
from harness.results import dumps, upgrade

JOIN = shares.join  # (the tests below watch it)
DATES = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|\d{4}-\d\d-\d\d \d\d:\d\d UTC")


def resolved(view: dict[str, Any]) -> tuple[Any, ...]:
    """The page model with every index into a table (texts, reasons, stage names, cores) replaced by what it
    names: two models that show the same are equal here, however their tables are numbered."""
    matrix, detail = view["matrix"], view["detail"]
    texts, stage_names, cores = detail["S"], detail["stages"], detail["B"]

    def text(i: Any) -> Any:
        return None if i is None or i < 0 else texts[i]

    def core(c: list[Any]) -> tuple[Any, ...]:
        c = list(c) + [None] * (7 - len(c))
        stage, source, stages, ver, signed, said, decided = c
        st = []
        for e in stages:
            e = list(e) + [None] * (8 - len(e))
            st.append((stage_names[e[0]], text(e[1]), text(e[2]), e[3], e[4], e[5], text(e[6]), text(e[7])))
        return (None if stage is None else stage_names[stage], source, st,
                ver and (ver[0], text(ver[1]), ver[2], text(ver[3]), [text(x) for x in ver[4]], text(ver[5])),
                signed and (text(signed[0]), text(signed[1]), [text(x) for x in signed[2]], signed[3]),
                said and [[text(x) for x in s] for s in said],
                decided and (text(decided[0]), text(decided[1]), decided[2], [[a, text(b), k] for a, b, k in decided[3]]))

    rows = [(matrix["cases"][r[0]]["id"], r[1], r[2], [matrix["reasons"][i] for i in rr],
             [0 if c == 0 else (core(cores[c[0]]), c[1:]) for c in cells])
            for r, rr, cells in zip(matrix["rows"], matrix["rr"], detail["cells"])]
    rest = {k: v for k, v in matrix.items() if k not in ("rows", "rr", "reasons")}
    return rows, rest, {k: v for k, v in view.items() if k not in ("matrix", "detail")}


@pytest.mark.parametrize("data", [make_results(), question_results()], ids=["results", "questions"])
def test_two_shares_make_the_page_model_of_one(data):
    """Cases given alternately to two shares, so the second share's cases lie between the first's in the page:
    each of its texts, reasons, stage names and cores is renumbered into the first's tables."""
    clean = shorten_tokens(upgrade(copy.deepcopy(data)))
    one = model.build(copy.deepcopy(clean))
    where = model.frame(clean)
    cases = sorted(where.cases)
    first = set(cases[::2])
    rows = clean["results"]
    a = model.cells(where, [r for r in rows if r["case"] in first], lambda c: c in first)
    b = model.cells(where, [r for r in rows if r["case"] not in first], lambda c: c not in first)
    assert a.cores and b.cores and len(b.texts.items) > 1  # both shares hold something to renumber
    two = model.assemble(clean, where, [a, b])
    assert resolved(two) == resolved(one)
    assert two["detail"]["S"] != one["detail"]["S"] or two["matrix"]["rows"] == one["matrix"]["rows"]


def test_a_share_must_not_hold_a_case_outside_the_frame():
    clean = upgrade(make_results())
    where = model.frame(clean)
    stranger = dict(clean["results"][0], case="elsewhere/unknown")
    with pytest.raises(model.OutsideFrame):
        model.cells(where, clean["results"] + [stranger])


def _inputs(folder: Path, extra_row: dict[str, Any] | None = None) -> list[str]:
    """Two runs of other library versions, written as `sigharness run` writes them (the quick reader takes them)."""
    paths = []
    for name, version in (("a", "1.31.0"), ("b", "1.35.0")):
        data = upgrade(make_results(versions={"js-mixed": version}))
        if extra_row is not None and name == "b":
            data["results"].append(extra_row)
            data["results"].sort(key=lambda r: (r["case"], r["mode"], r["adapter"]))
        path = folder / name / "results.json"
        path.parent.mkdir(parents=True)
        path.write_text(dumps(data), encoding="utf-8")
        paths.append(str(path))
    return paths


def _outputs(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): DATES.sub("DATE", p.read_text(encoding="utf-8"))
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _report(monkeypatch, args: list[str], out: Path, processes: str | None) -> list[int]:
    """`sigharness report ARGS --out OUT` in this process, any input worth two shares; the shares joined (one
    number of rows per share, in order)."""
    if processes:
        monkeypatch.setenv("SIGHARNESS_REPORT_PROCESSES", processes)
    else:
        monkeypatch.delenv("SIGHARNESS_REPORT_PROCESSES", raising=False)
    monkeypatch.setattr(shares, "SPLIT_ROWS", 1)
    seen: list[int] = []

    def join(clean: dict[str, Any], parts: list[shares.Share]) -> shares.Joined:
        seen.extend(p.rows for p in parts)
        return JOIN(clean, parts)

    monkeypatch.setattr(shares, "join", join)
    assert main(["report", *args, "--out", str(out)]) == 0
    return seen


needs_two_cores = pytest.mark.skipif(not forked.second_core(), reason="one CPU: the report writes in one process")


@needs_two_cores
def test_a_merge_read_by_two_processes_writes_the_files_of_one(tmp_path, monkeypatch, capsys):
    """Each process reads the rows of its cases (the second from the pivot on): the merged results.json,
    junit.xml, summary.md, index.html and the known-issues pages are those one process writes."""
    inputs = _inputs(tmp_path)
    one = _report(monkeypatch, inputs, tmp_path / "one", "1")
    two = _report(monkeypatch, inputs, tmp_path / "two", None)
    assert len(one) == 1 and len(two) == 2 and all(two) and sum(two) == one[0]
    assert _outputs(tmp_path / "two") == _outputs(tmp_path / "one")
    out = capsys.readouterr().out
    assert out.count(f"{one[0]} checks, 5 cases") == 2  # every check counted, in both
    # over the report of before: the old results.json is kept aside, then removed by the child writing the pages
    (tmp_path / "two" / "results.json").write_text("the old one")
    old = tmp_path / "two" / "results.json"
    kept = tmp_path / "kept.json"
    os.link(old, kept)
    assert _report(monkeypatch, inputs, tmp_path / "two", None) == two
    assert _outputs(tmp_path / "two") == _outputs(tmp_path / "one")  # (no file left aside)
    assert kept.read_text() == "the old one" and os.stat(kept).st_nlink == 1  # its other names are gone


@needs_two_cores
def test_rows_in_memory_are_shared_with_a_second_process(tmp_path, monkeypatch):
    """One run's report: its rows, read here, are cut at the pivot and the second process takes the rest."""
    path = tmp_path / "run" / "results.json"
    path.parent.mkdir()
    path.write_text(dumps(upgrade(question_results())), encoding="utf-8")
    for folder, processes in (("one", "1"), ("two", None)):
        (tmp_path / folder).mkdir()
    one = _report(monkeypatch, [str(path)], tmp_path / "one", "1")
    two = _report(monkeypatch, [str(path)], tmp_path / "two", None)
    assert len(one) == 1 and len(two) == 2 and all(two)
    assert _outputs(tmp_path / "two") == _outputs(tmp_path / "one")


@needs_two_cores
def test_a_second_process_that_fails_leaves_the_merge_to_this_one(tmp_path, monkeypatch, capsys):
    import harness.cli.report as command

    inputs = _inputs(tmp_path)
    _report(monkeypatch, inputs, tmp_path / "one", "1")

    def broken(child: forked.Child, paths: list[Path], pivot: str) -> None:
        raise MemoryError("no room for the second share")

    monkeypatch.setattr(command, "_share_from", broken)
    seen = _report(monkeypatch, inputs, tmp_path / "two", None)
    assert len(seen) == 2 and sum(seen) == 30  # never joined; every row read again here (and its rows then shared)
    assert _outputs(tmp_path / "two") == _outputs(tmp_path / "one")
    err = capsys.readouterr().err
    assert re.fullmatch(r"sigharness report: the checks from case '[^']+' on: MemoryError: no room for the second share; "
                        r"reading every input in one process\n", err), err


@needs_two_cores
def test_rows_naming_a_column_no_head_names_leave_the_merge_to_one_process(tmp_path, monkeypatch, capsys):
    """A hand-made row of an adapter no input's head names gets a column of its own; the second process alone
    would see it, so the two shares are not joined: one process reads everything and writes the report."""
    ghost = copy.deepcopy(upgrade(make_results())["results"][-1])
    ghost["adapter"] = "ghost"
    inputs = _inputs(tmp_path, extra_row=ghost)
    one = _report(monkeypatch, inputs, tmp_path / "one", "1")
    seen = _report(monkeypatch, inputs, tmp_path / "two", None)
    # two shares refused; every row read again here (then shared in memory, where the frame is every row's)
    assert len(seen) == 4 and sum(seen[:2]) == sum(seen[2:]) == one[0]
    assert '"ghost"' in (tmp_path / "two" / "results.json").read_text()
    assert _outputs(tmp_path / "two") == _outputs(tmp_path / "one")
    assert "reading every input" not in capsys.readouterr().err  # not a failure: nothing to say


def test_a_large_value_and_bytes_arrive_whole_through_the_spool_or_the_pipe(monkeypatch):
    big = {"rows": ["x" * 1000] * 5000}  # ~5 MB: more than a pipe holds
    for spool in (True, False):
        if not spool:
            monkeypatch.setattr(forked, "_spool", lambda: (_ for _ in ()).throw(OSError("no temporary folder")))
        pieces = [bytes([n % 251]) * (n * 37 % 5000) for n in range(1500)]  # more pieces than one writev takes
        child = forked.Child("a share", lambda c: (c.send(big), c.send_bytes(pieces), c.send_bytes([])))
        try:
            assert child.receive() == big
            assert _bytes(child.receive()) == b"".join(pieces)
            assert _bytes(child.receive()) == b""
        finally:
            child.close()


def test_pivots_cut_the_rows_where_a_case_starts(tmp_path, monkeypatch):
    rows = upgrade(make_results())["results"]
    monkeypatch.setattr(shares, "SPLIT_ROWS", 1)
    pivot, at = shares.rows_pivot(rows)
    assert rows[at]["case"] == pivot and rows[at - 1]["case"] < pivot and 0 < at < len(rows)
    assert shares.rows_pivot(list(reversed(rows))) is None  # rows not in case order: one share
    monkeypatch.setattr(shares, "SPLIT_ROWS", len(rows) + 1)
    assert shares.rows_pivot(rows) is None  # too few rows to be worth a second process
    path = tmp_path / "results.json"
    path.write_text(dumps(upgrade(make_results())), encoding="utf-8")
    monkeypatch.setattr(shares, "SPLIT_ROWS", 1)
    assert shares.file_pivot(path, 10**9) in {r["case"] for r in rows}
    path.write_text("{}", encoding="utf-8")
    assert shares.file_pivot(path, 10**9) is None


@needs_two_cores
@pytest.mark.parametrize("where", ["before", "after"])
def test_an_input_out_of_case_order_leaves_the_merge_to_one_process(tmp_path, monkeypatch, capsys, where):
    """A hand-made input whose rows are not in case order: the side that finds a row of the other side among
    its own (this process, or the second one) makes one process read every row, silently."""
    inputs = _inputs(tmp_path)
    path = Path(inputs[1])
    text = path.read_text(encoding="utf-8")
    head, rows = text.split('"results":[\n', 1)
    lines = rows[:-len("\n]}\n")].split(",\n")
    pivot = shares.file_pivot(Path(inputs[0]), 10**9)
    # a row of the cases before the pivot moved behind it, or one of the pivot's side before it; a row of the
    # column only this input has (js-mixed at its version: no other input's row stands in for it)
    mixed = [i for i, line in enumerate(lines) if '"adapter":"js-mixed"' in line]
    moved = lines.pop(mixed[0] if where == "after" else mixed[-1])
    at = next(i for i, line in enumerate(lines) if line.startswith('{"case":"' + pivot + '"'))
    lines.insert(at + 1 if where == "after" else 0, moved)
    path.write_text(head + '"results":[\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")
    one = _report(monkeypatch, inputs, tmp_path / "one", "1")
    seen = _report(monkeypatch, inputs, tmp_path / "two", None)
    assert sum(seen[-2:]) == one[0]  # every row, read again here (then shared in memory)
    assert _outputs(tmp_path / "two") == _outputs(tmp_path / "one")
    assert capsys.readouterr().err == ""


@needs_two_cores
def test_a_merge_whose_files_cannot_be_written_is_one_line_not_a_second_reading(tmp_path, monkeypatch, capsys):
    """The process writing the known-issues pages failing is not the second share failing: one line, exit 2, no
    reading again."""
    inputs = _inputs(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".known-issues.new").write_text("in the way")
    monkeypatch.delenv("SIGHARNESS_REPORT_PROCESSES", raising=False)
    monkeypatch.setattr(shares, "SPLIT_ROWS", 1)
    assert main(["report", *inputs, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(r"sigharness report: the known-issues pages: \S*known-issues\S*: cannot write it \(.+\)\n", err), err


def test_bytes_arrive_whole_where_the_system_has_no_writev(monkeypatch):
    monkeypatch.delattr(forked.os, "pwritev")
    pieces = [b"a" * 70_000, b"", b",\n", b"b" * 5]
    child = forked.Child("a share", lambda c: c.send_bytes(pieces))
    try:
        assert _bytes(child.receive()) == b"".join(pieces)
    finally:
        child.close()


def _bytes(value):
    """Bytes a child sent: a FileRange of its spool (read here), or bytes (without a spool)."""
    return value.read() if isinstance(value, FileRange) else value
