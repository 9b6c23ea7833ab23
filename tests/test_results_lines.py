"""results.json read one row per line (harness/results_lines.py): rows alike apart from their timings are
parsed once and share their values; every other file goes the careful way and gets its precise message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.results import VERSION, _careful, dumps, load_results, read_results
from harness.results_lines import RowReader


def _row(adapter: str, ms: float, ns: int, reason: str = "", wire: dict | None = None) -> dict:
    row = {"case": "query/a", "mode": "header", "adapter": adapter, "status": "pass", "reason": reason,
           "stages": {"canonical_request": {"equal": True}}, "signed": {"method": "GET", "url": "https://h/", "headers": [["host", "h"]]}}
    if wire:
        row["wire"] = wire
    row["elapsed_ns"] = ns
    row["duration_ms"] = ms
    return row


def _doc(rows: list[dict]) -> dict:
    return {"format": "sigharness-results", "version": VERSION, "manifest": {"date": "2026-12-01T00:00:00Z"},
            "adapters": {}, "cases": {}, "checks": {}, "results": rows}


def _write(tmp_path: Path, name: str, rows: list[dict]) -> Path:
    path = tmp_path / name
    path.write_text(dumps(_doc(rows)), encoding="utf-8")
    return path


def test_rows_alike_apart_from_timings_share_their_values(tmp_path):
    one = _write(tmp_path, "one.json", [_row("x", 1.5, 10), _row("y", 2.0, 20)])
    two = _write(tmp_path, "two.json", [_row("x", 9.25, 99), _row("y", 2.0, 20, reason="changed")])
    reader = RowReader()
    first, spans = read_results(one, reader)
    second, _ = read_results(two, reader)
    a, b = first["results"][0], second["results"][0]
    assert a == _row("x", 1.5, 10) and b == _row("x", 9.25, 99)  # each its own timings
    assert a is not b and a["stages"] is b["stages"] and a["signed"] is b["signed"]  # read once
    c, d = first["results"][1], second["results"][1]
    assert d["reason"] == "changed" and c["stages"] is not d["stages"]  # another text: parsed apart
    assert list(b) == list(_row("x", 0, 0))  # keys in the file's order (a merge copies the line as it is)
    raw = one.read_bytes()
    offset, length = spans[1]
    assert json.loads(raw[offset:offset + length]) == _row("y", 2.0, 20)
    # mutating a row read (as a merge renames its column) leaves its like alone
    b["adapter"] = "x@2"
    assert a["adapter"] == "x"


def test_a_timing_named_inside_a_value_is_not_cut_out(tmp_path):
    """A nested `duration_ms` (here in a wire record) must not make two different rows one."""
    rows = [_row("x", 1.0, 1, wire={"client": "c", "duration_ms": 5}), _row("x", 1.0, 1, wire={"client": "c", "duration_ms": 6})]
    for row in rows:  # rows without timings of their own: the only `duration_ms` is the wire record's
        del row["elapsed_ns"], row["duration_ms"]
    path = tmp_path / "nested.json"
    path.write_text(dumps(_doc(rows)), encoding="utf-8")
    data = RowReader().read(path.read_bytes())
    assert data is not None
    assert [r["wire"]["duration_ms"] for r in data[0]["results"]] == [5, 6]
    assert all("duration_ms" not in r for r in data[0]["results"])


def test_timings_named_twice_read_as_the_careful_reader_reads_them(tmp_path):
    """A row naming its timings again before its last members (a name's last value counts, for json as for orjson)
    and inside a value: every row of two files, the second's alike apart from the timings at their ends, reads as
    the careful reader reads it."""
    def text(ns: int, ms: str) -> str:
        return ('{"case":"query/a","mode":"header","adapter":"x","status":"pass","reason":"","duration_ms":7.5,"elapsed_ns":3,'
                f'"stages":{{"canonical_request":{{"equal":true,"elapsed_ns":4}}}},"elapsed_ns":{ns},"duration_ms":{ms}}}')
    paths = []
    for name, timings in (("one.json", [(10, "1.5"), (11, "2.25")]), ("two.json", [(12, "3.0"), (13, "4.5")])):
        head = dumps(_doc([])).split('\n"results":[')[0]
        path = tmp_path / name
        path.write_text(head + '\n"results":[\n' + ",\n".join(text(ns, ms) for ns, ms in timings) + "\n]}\n", encoding="utf-8")
        paths.append(path)
    reader = RowReader()
    for path in paths:
        quick = reader.read(path.read_bytes())
        assert quick is not None and quick[0] == _careful(path, path.read_bytes())
    assert [(r["elapsed_ns"], r["duration_ms"]) for r in quick[0]["results"]] == [(12, 3.0), (13, 4.5)]
    assert quick[0]["results"][0]["stages"]["canonical_request"]["elapsed_ns"] == 4


@pytest.mark.parametrize("mutate, message", [
    (lambda row: row.update(status=3), "results[1].status is a number, not text"),
    (lambda row: row.update(duration_ms="slow"), "results[1].duration_ms is text, not a number"),
    (lambda row: row.update(signed={"headers": "host"}), "results[1].signed.headers is not a list of [name, value] pairs"),
])
def test_a_row_of_the_wrong_shape_gets_the_careful_message(tmp_path, mutate, message):
    rows = [_row("x", 1.0, 1), _row("y", 1.0, 1)]
    mutate(rows[1])
    path = _write(tmp_path, "bad.json", rows)
    with pytest.raises(ValueError) as caught:
        load_results(path)
    assert str(caught.value) == f"{path}: {message}"


def test_a_huge_timing_is_refused(tmp_path):
    path = _write(tmp_path, "huge.json", [_row("x", 1.0, 1), _row("y", 1.0, 1)])
    text = path.read_text().replace('"duration_ms":1.0}\n]}', '"duration_ms":1e999}\n]}')
    path.write_text(text)
    with pytest.raises(ValueError, match="not valid JSON|too large"):
        load_results(path)


def test_a_row_seen_before_with_a_huge_timing_is_refused(tmp_path):
    path = _write(tmp_path, "huge2.json", [_row("x", 1.0, 1), _row("x", 1.0, 1)])
    text = path.read_text().replace('"elapsed_ns":1,"duration_ms":1.0}\n]}', '"elapsed_ns":1,"duration_ms":1e30}\n]}')
    path.write_text(text)
    with pytest.raises(ValueError, match=r"results\[1\]\.duration_ms is a number|not a number"):
        load_results(path)


def test_an_escaped_lone_surrogate_goes_the_careful_way(tmp_path):
    path = _write(tmp_path, "sur.json", [_row("x", 1.0, 1)])
    text = path.read_text().replace('"reason":""', '"reason":"a\\ud800b"')
    path.write_text(text)
    assert RowReader().read(path.read_bytes()) is None
    assert load_results(path)["results"][0]["reason"] == "a\\ud800b"  # kept printable


@pytest.mark.parametrize("number", ["18446744073709551616", "-9223372036854775809", "1234567890123456789", "1e400", "-1E999"])
def test_numbers_of_a_row_read_as_the_careful_reader_reads_them(tmp_path, number):
    """A row's numbers outside a float's or a 64-bit integer's range: the quick reader (orjson for a row not
    seen before) reads what the careful one reads (an integer of any size as an integer), or leaves the file
    to it (a number too large for a float)."""
    path = _write(tmp_path, "n.json", [_row("x", 1.0, 1, wire={"client": "c", "received": {"seq": 7}})])
    path.write_text(path.read_text().replace('"seq":7', f'"seq":{number}'))
    raw = path.read_bytes()
    quick = RowReader().read(raw)
    if "e" in number.lower():
        assert quick is None
        with pytest.raises(ValueError):
            load_results(path)
    else:
        assert quick is not None and quick[0] == _careful(path, raw)
        seq = quick[0]["results"][0]["wire"]["received"]["seq"]
        assert type(seq) is int and seq == int(number)


def test_rows_of_earlier_files_read_the_same_either_way(tmp_path):
    """Timings in the middle of a row's line (results of earlier versions) and rows without them."""
    rows = [_row("x", 1.0, 1), _row("y", 2.0, 2)]
    for row in rows:
        row["opinions"] = {"o": {"verdict": "accept"}}
        row["elapsed_ns"], row["duration_ms"] = row.pop("elapsed_ns"), row.pop("duration_ms")
    reordered = [{k: r[k] for k in ("case", "mode", "adapter", "status", "reason", "elapsed_ns", "duration_ms", "stages", "signed", "opinions")}
                 for r in rows]
    reordered.append({"case": "query/b", "mode": "query", "adapter": "x", "status": "unsupported", "reason": "no"})
    path = _write(tmp_path, "earlier.json", reordered)
    raw = path.read_bytes()
    quick = RowReader().read(raw)
    assert quick is not None and quick[0] == _careful(path, raw)


def test_rows_with_the_wall_time_alone_share_their_values_too(tmp_path):
    """A wire row ends with its duration_ms alone; read in two runs, its values are one object."""
    def wire_row(ms: float) -> dict:
        row = _row("x+c", ms, 0, wire={"client": "c", "status": 200})
        del row["elapsed_ns"]
        return row
    one = _write(tmp_path, "one.json", [wire_row(1.5)])
    two = _write(tmp_path, "two.json", [wire_row(7.25)])
    reader = RowReader()
    a = read_results(one, reader)[0]["results"][0]
    b = read_results(two, reader)[0]["results"][0]
    assert a == wire_row(1.5) and b == wire_row(7.25) and a["wire"] is b["wire"]


def test_a_row_without_elapsed_ns_is_not_a_copy_of_one_with_it(tmp_path):
    """The same text before the timings, once with both timings and once with the wall time alone: two rows."""
    both = _row("x", 1.0, 5)
    alone = _row("x", 2.0, 0)
    del alone["elapsed_ns"]
    path = _write(tmp_path, "mixed.json", [both, alone])
    rows = read_results(path, RowReader())[0]["results"]
    assert rows == [both, alone] and "elapsed_ns" not in rows[1]


def test_a_wire_row_seen_before_with_a_huge_wall_time_is_refused(tmp_path):
    """A row like one read before, with the wall time alone and a number past the limit: refused, not copied."""
    rows = [_row("x+c", 1.0, 0), _row("x+c", 1.0, 0)]
    for row in rows:
        del row["elapsed_ns"]
    path = _write(tmp_path, "huge3.json", rows)
    text = path.read_text().replace('"duration_ms":1.0}\n]}', '"duration_ms":1234567890123456789.5}\n]}')
    path.write_text(text)
    with pytest.raises(ValueError, match=r"results\[1\]\.duration_ms is a number"):
        load_results(path)


def _cases(n: int = 200) -> dict:
    """A head value long enough to be kept for the next file's head."""
    return {f"query/c{i}": {"title": f"case {i}", "tags": ["query"], "modes": ["header", "query"]} for i in range(n)}


def _with_cases(tmp_path: Path, name: str, cases: dict) -> Path:
    doc = _doc([_row("x", 1.0, 1)])
    doc["cases"] = cases
    path = tmp_path / name
    path.write_text(dumps(doc), encoding="utf-8")
    return path


def test_a_head_value_read_before_is_shared_and_another_is_parsed(tmp_path):
    docs = [_with_cases(tmp_path, name, cases) for name, cases in
            (("one.json", _cases()), ("two.json", _cases()), ("three.json", {**_cases(), "query/new": {"title": "new"}}))]
    reader = RowReader()
    one, two, three = (read_results(path, reader)[0] for path in docs)
    assert one["cases"] == _cases() and two["cases"] is one["cases"]
    assert three["cases"] is not one["cases"] and three["cases"]["query/new"] == {"title": "new"}
    assert [load_results(path) for path in docs] == [one, two, three]  # the same as each file read alone


def test_a_head_value_that_failed_its_check_is_not_taken_on_trust_later(tmp_path):
    """A file whose cases are of the wrong shape is refused; a second file with the same text is refused too,
    even through the reader that read the first."""
    cases = _cases()
    cases["query/c7"]["tags"] = "query"  # not a list
    reader = RowReader()
    for path in (_with_cases(tmp_path, "bad.json", cases), _with_cases(tmp_path, "bad-again.json", cases)):
        with pytest.raises(ValueError, match=r"cases\['query/c7'\]\.tags is not a list of text"):
            read_results(path, reader)


def test_a_huge_number_in_a_head_value_not_read_before_is_refused(tmp_path):
    """Only the head values not read before are looked at for a number too large for a float: one in a new
    value is found, after a first file whose values are shared."""
    reader = RowReader()
    first = _with_cases(tmp_path, "one.json", _cases())
    assert read_results(first, reader)[1] is not None  # read the quick way
    cases = _cases()
    cases["query/c7"]["weight"] = 1
    second = _with_cases(tmp_path, "two.json", cases)
    second.write_text(second.read_text().replace('"weight":1', '"weight":1e999'))
    with pytest.raises(ValueError, match="1e999 is too large a number"):
        read_results(second, reader)
    third = _with_cases(tmp_path, "three.json", _cases())
    third.write_text(third.read_text().replace('"manifest":{', '"manifest":{"big":-2.5E+308,'))
    with pytest.raises(ValueError, match="too large a number"):
        read_results(third, reader)


def _rows_of(cases: list[str]) -> list[dict]:
    rows = []
    for case in cases:
        for adapter in ("x", "y"):
            row = _row(adapter, 1.0, 1)
            row["case"] = case
            rows.append(row)
    return rows


def test_keep_reads_the_rows_of_some_cases_and_where_they_lie(tmp_path):
    """A reader with `keep` (a second process reads the other cases: harness/report/shares.py) gives the rows
    of the cases it keeps, in order, and each one's place in the file; the two halves make up the whole."""
    cases = ["query/a", "query/b", 'query/"quoted"', "query/é", "query/z"]
    path = _write(tmp_path, "run.json", _rows_of(cases))
    whole = load_results(path)["results"]
    raw = path.read_bytes()
    halves = []
    for keep in (lambda c: c < "query/b", lambda c: c >= "query/b"):
        data, spans = read_results(path, RowReader(keep=keep))
        assert len(spans) == len(data["results"])
        for row, (offset, length) in zip(data["results"], spans):
            assert json.loads(raw[offset:offset + length]) == row
        halves.append(data["results"])
    assert [r["case"] for r in halves[0]] == ["query/a", "query/a", 'query/"quoted"', 'query/"quoted"']
    assert sorted(map(json.dumps, halves[0] + halves[1])) == sorted(map(json.dumps, whole))


def test_keep_with_the_careful_reader_keeps_by_the_case_as_read(tmp_path):
    """A file the quick reader leaves (here laid out with spaces; or a case with an escaped lone surrogate,
    which the careful reader keeps as text) is kept by its cases as the careful reader reads them."""
    spaced = tmp_path / "spaced.json"
    spaced.write_text(json.dumps(_doc(_rows_of(["query/a", "query/b"])), indent=1), encoding="utf-8")
    data, spans = read_results(spaced, RowReader(keep=lambda c: c >= "query/b"))
    assert spans is None and [r["case"] for r in data["results"]] == ["query/b", "query/b"]
    lone = _write(tmp_path, "lone.json", _rows_of(["query/a", "query/LONE"]))
    lone.write_text(lone.read_text().replace("query/LONE", "query/\\ud800"))
    kept = [read_results(lone, RowReader(keep=keep))[0]["results"] for keep in (lambda c: c < "query/b", lambda c: c >= "query/b")]
    # kept as the text \ud800 (printable), which sorts before "b": every row in the first half, none twice
    assert [r["case"] for r in kept[0]] == ["query/a", "query/a", "query/\\ud800", "query/\\ud800"] and kept[1] == []


def test_a_cut_reads_one_side_of_the_pivot_from_where_its_first_row_lies(tmp_path):
    """Rows in case order: each side reads from the pivot's first row on, or up to it, alone; both sides make
    up the whole, each row's place is where it lies; a file without the pivot's row is read whole and kept."""
    from harness.results_lines import Cut

    path = _write(tmp_path, "run.json", _rows_of(["query/a", "query/b", "query/c", "query/d"]))
    whole = load_results(path)["results"]
    raw = path.read_bytes()
    sides = []
    for first in (True, False):
        data, spans = read_results(path, RowReader(keep=Cut("query/c", first)))
        assert [json.loads(raw[o:o + n]) for o, n in spans] == data["results"]
        sides.append(data["results"])
    assert [r["case"] for r in sides[0]] == ["query/a"] * 2 + ["query/b"] * 2
    assert sides[0] + sides[1] == whole
    absent = [read_results(path, RowReader(keep=Cut("query/bb", first)))[0]["results"] for first in (True, False)]
    assert absent[0] + absent[1] == whole


@pytest.mark.parametrize("first", [True, False])
def test_rows_out_of_case_order_around_the_pivot_are_refused_by_the_side_that_sees_them(tmp_path, first):
    """A row of the other side among this side's rows means the other side, reading from the pivot's first row,
    may have missed rows: OutOfOrder, whether the file is read the quick way or the careful way."""
    from harness.results_lines import Cut, OutOfOrder

    # query/a after query/c: among the rows from the pivot on (seen by the second side); query/d before it:
    # among the rows before it (seen by the first side)
    order = ["query/b", "query/c", "query/a"] if not first else ["query/b", "query/d", "query/c"]
    path = _write(tmp_path, "run.json", _rows_of(order))
    with pytest.raises(OutOfOrder):
        read_results(path, RowReader(keep=Cut("query/c", first)))
    spaced = tmp_path / "spaced.json"  # the careful reader's
    spaced.write_text(json.dumps(_doc(_rows_of(order)), indent=1), encoding="utf-8")
    with pytest.raises(OutOfOrder):
        read_results(spaced, RowReader(keep=Cut("query/c", first)))
    # the other side sees only its own rows where it looks: it cannot tell (its process learns it from this one)
    read_results(path, RowReader(keep=Cut("query/c", not first)))
