"""The report outputs (index.html, junit.xml, summary.md), merging runs and `sigharness report`."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import sigharness
from test_report_support import SCRIPT, SECRET, TOKEN, TOKEN_QUERY, make_results, write

from harness import report
from harness.report import merge, model, render
from harness.report.text import json_for_html, md_cell, shorten_tokens, short_token


def _blob(page: str, blob_id: str) -> dict:
    m = re.search(rf'<script type="application/json" id="{blob_id}">(.*?)</script>', page, re.S)
    assert m, f"no {blob_id} blob"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("report")
    paths = report.write_all(make_results(), out)
    assert [str(p.relative_to(out)) for p in paths] == ["index.html", "junit.xml", "summary.md", "known-issues/index.html"]
    return {str(p.relative_to(out)): p.read_text(encoding="utf-8") for p in paths} | {
        f"known-issues/{p.name}": p.read_text(encoding="utf-8") for p in (out / "known-issues").glob("*.html")}


def test_html_is_self_contained(rendered):
    page = rendered["index.html"]
    # nothing is fetched: no external script, stylesheet, image, font or frame
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)=', page)
    assert "@import" not in page and "url(http" not in page
    assert "default-src 'none'" in page


def test_inline_script_matches_its_csp_hash(rendered):
    # a mismatch would make the browser refuse the page's own script
    page = rendered["index.html"]
    declared = re.search(r"script-src 'sha256-([^']+)'", page).group(1)
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1
    assert base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode() == declared


def test_hostile_text_is_escaped_everywhere(rendered):
    page = rendered["index.html"]
    assert "<script>window.__pwned" not in page
    assert "<img src=x" not in page
    assert "<b>bold</b>" not in page
    # the data keeps the exact text: it is escaped, not altered
    data = _blob(page, "sh-data")
    case = next(c for c in data["cases"] if c["id"] == "headers/script")
    assert case["req"]["h"] == [["X-Evil", SCRIPT]]
    assert case["title"] == f"A header value {SCRIPT}"
    # javascript: and <…> references are never links
    refs = {r[0]: r[1] for r in case["refs"]}
    assert refs["javascript:alert(1)"] is None and refs["https://example.com/?a=<b>"] is None
    qcase = next(c for c in data["cases"] if c["id"] == "query/plus-literal")
    assert qcase["refs"] == [["mhart/aws4#126", "https://github.com/mhart/aws4/issues/126"]]
    assert "<script" not in rendered["summary.md"] and "</script" not in rendered["summary.md"]
    assert "\x00" not in rendered["summary.md"] and "\x1b" not in rendered["summary.md"]


def test_json_for_html_cannot_close_the_script_element():
    text = json_for_html({"a": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}
    # the page's blobs (written as bytes): the same guarantees and json_for_html's text, encoded by orjson; what orjson
    # refuses (a lone surrogate, an integer past 64 bits) by json, as ASCII
    for value in ({"a": "</script><!-- & \u2028 \u2029 … \U0001F37A", "b": [1, None, "x"]}, ["\x7f", "\x01\t", "é\U0010ffff", 1.5, True],
                  {"k": (1, "\u2029")}, ["\ud800"], [2 ** 70]):
        page = report._page_json(value).decode("utf-8")
        assert not set(page) & {"<", ">", "&", "\u2028", "\u2029"}
        assert json.loads(page) == json.loads(json.dumps(value))
        if value in (["\ud800"], [2 ** 70]):
            assert page.isascii()
        else:
            assert page == json_for_html(value)


def test_page_blobs_go_where_the_template_places_them():
    """index.html's two JSON blobs are written as bytes where the template renders their slots; a value holding a
    slot's text is escaped (its "<"), so it stays text; a slot the template lost is an error, not a page without data."""
    slot = {"<\0x>": b'{"a":1}'}
    assert list(render.spliced(["head <\0x> tail", "more"], slot)) == ["head ", b'{"a":1}', " tail", "more"]
    with pytest.raises(ValueError):
        list(render.spliced(["no slot here"], slot))
    data = make_results()
    data["cases"]["query/plus-literal"]["title"] = "<\0sh-data> in a title"
    page = report.render_html(data)
    assert "\0" not in page and page.count('id="sh-data"') == 1
    blob = re.search(r'<script type="application/json" id="sh-data">(.*?)</script>', page, re.S)
    assert blob is not None and '"title":"\\u003c\\u0000sh-data\\u003e in a title"' in blob.group(1) and json.loads(blob.group(1))


def test_a_report_does_not_load_the_signer(tmp_path):
    """The report orders surfaces by their names (harness/settings.py SURFACES, in the order the signer declares
    them): rendering results whose cases name their surface loads no signing code."""
    import subprocess
    import sys

    from harness import reference, settings

    assert list(reference.SURFACES) == list(settings.SURFACES)
    data = make_results()
    for case in data["cases"].values():
        case["surface"] = settings.SINGLE
    path = write(tmp_path / "run" / "results.json", data)
    script = ("import sys; from harness.report import write_all; from harness.results import load_results; "
              f"write_all(load_results({str(path)!r}), {str(tmp_path / 'out')!r}); print('harness.reference' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False"]


def test_session_tokens_shortened_and_no_secret(rendered):
    for name, text in rendered.items():
        assert TOKEN not in text, name
        assert TOKEN[:40] not in text, name
        assert TOKEN_QUERY[:40] not in text, name
        assert SECRET not in text, name
    page = rendered["index.html"]
    detail = _blob(page, "sh-detail")
    strings = "\n".join(detail["S"])
    assert short_token(TOKEN) in strings  # header line and header pair
    assert short_token(TOKEN_QUERY) in strings  # presigned URL parameter
    assert f"x-amz-security-token:{short_token(TOKEN)}" in strings


def test_shorten_tokens_finds_every_form():
    data = {
        "a": f"x-amz-security-token:{TOKEN}\nhost:x",
        "b": f"https://h/?X-Amz-Security-Token={TOKEN_QUERY}&X-Amz-Date=1",
        "c": ["X-Amz-Security-Token", TOKEN],
        "d": f"the token {TOKEN} was repeated in a reason",
        "e": "x-amz-security-token:short",
        "f": "nothing to see",
    }
    clean = shorten_tokens(data)
    flat = json.dumps(clean)
    assert TOKEN[:20] not in flat and TOKEN_QUERY[:20] not in flat
    assert clean["c"] == ["X-Amz-Security-Token", short_token(TOKEN)]
    assert clean["d"] == f"the token {short_token(TOKEN)} was repeated in a reason"
    assert clean["e"] == f"x-amz-security-token:{short_token('short')}"
    assert clean["f"] == "nothing to see"
    assert short_token(TOKEN) == TOKEN[:8] + f"…[{len(TOKEN)} chars]"
    assert shorten_tokens(clean) == clean  # idempotent


def test_junit_counts_and_validity(rendered):
    root = ET.fromstring(rendered["junit.xml"].encode())
    data = make_results()
    statuses = [r["status"] for r in data["results"]]
    assert int(root.get("tests")) == len(statuses)
    assert int(root.get("failures")) == statuses.count("fail")
    assert int(root.get("errors")) == statuses.count("error")
    assert int(root.get("skipped")) == statuses.count("unsupported")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"py-good", "js-mixed"}
    mixed = suites["js-mixed"]
    failed = [tc.get("name") for tc in mixed.iter("testcase") if tc.find("failure") is not None]
    assert sorted(failed) == ["headers/script [header]", "query/plus-literal [query]"]
    # the control characters of the error reason were made XML-safe, not dropped silently
    err = next(tc for tc in mixed.iter("testcase") if tc.find("error") is not None)
    assert "\\x1b" in err.find("error").get("message")
    props = {p.get("name"): p.get("value") for p in mixed.iter("property")}
    assert props["library_version"] == "2.0.0"


def test_summary_table(rendered):
    md = rendered["summary.md"]
    lines = md.splitlines()
    assert lines[0].startswith("### sigharness: 20 checks, 5 cases, 3 adapters")
    row = next(line for line in lines if line.startswith("| js-mixed "))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # adapter, library, version, score, pass, variant, fail, error, unsupported
    assert cells[:3] == ["js-mixed", "mixedlib", "2.0.0"]
    assert cells[4:] == ["4", "1", "2", "1", "2"]
    assert cells[3] == "62%"  # (4 + 1) / (4 + 1 + 2 + 1): unsupported left out
    assert any("go-off (unavailable)" in line for line in lines)
    assert "3 failing checks" in md


def test_score_leaves_unsupported_out():
    tally = model.Tally()
    for status in ["pass"] * 2 + ["variant"] + ["fail"] + ["unsupported"] * 50:
        tally.add(status)
    assert tally.score == pytest.approx(0.75)
    assert tally.exact == pytest.approx(0.5)
    assert model.percent(0.996) == "99%"  # a failure is never rounded away
    only_unsupported = model.Tally()
    only_unsupported.add("unsupported")
    assert only_unsupported.score is None and model.percent(None) == "—"


def test_matrix_blob_shape(rendered):
    data = _blob(rendered["index.html"], "sh-data")
    keys = [a["k"] for a in data["adapters"]]
    assert keys == ["go-off", "js-mixed", "py-good"]  # grouped by language
    assert data["topics"] == ["headers", "path", "query", "token"]
    row = next(r for r in data["rows"] if data["cases"][r[0]]["id"] == "query/plus-literal" and r[1] == "query")
    assert row[2] == ".fp"  # go-off not run, js-mixed fail, py-good pass
    repro = next(c for c in data["cases"] if c["id"] == "query/plus-literal")["repro"]
    assert repro == "--cases /work/cases/query.yaml --case query/plus-literal"
    detail = _blob(rendered["index.html"], "sh-detail")
    # a cell is positional (model.py): [core, ms, ns, history]; its core [stage, expected source, stages,
    # verification, signed, opinions, decided_by]
    cell = detail["B"][detail["cells"][data["rows"].index(row)][1][0]]
    names = detail["stages"]
    assert names[cell[0]] == "canonical_request"  # the first stage that differs
    stage = next(s for s in cell[2] if names[s[0]] == "canonical_request")
    assert stage[3:6] == [1, 0, 3]  # compared, not equal, first difference at line 3
    assert detail["S"][stage[1]].splitlines()[2] == "q=a%2Bb"  # expected, from the check
    assert detail["S"][stage[2]].splitlines()[2] == "q=a%20b"  # actual, from the row
    assert [names[s[0]] for s in cell[2]] == ["canonical_request", "string_to_sign", "signature", "signed_request"]


def test_page_data_carries_divergence_titles_from_the_catalogue(rendered):
    from harness import divergences

    data = _blob(rendered["index.html"], "sh-data")
    d1 = divergences.get("D1")
    assert data["divergences"] == {"D1": [d1.title, d1.meaning]}  # only the codes the report's cases name
    assert next(c for c in data["cases"] if c["id"] == "query/plus-literal")["div"] == "D1"
    assert model.divergence_texts(["D9999", None, "D2", 3]) == {"D2": [divergences.get("D2").title, divergences.get("D2").meaning]}


def test_bench_section_only_when_present(tmp_path):
    data = make_results()
    page = report.render_html(data)
    assert 'id="sec-bench"' not in page
    data["bench"] = {  # the shape `sigharness bench --results` writes
        "py-good": {"library": "goodlib", "library_version": "1.0.0", "language": "python", "floor_ns": 1250.0, "floor_per_sec": 800000,
                    "checks": {"sigv4-header": {"status": "measured", "ns_per_sign": 24390, "signs_per_sec": 41000, "times_floor": 19.5},
                               "sigv4a-header": {"status": "unsupported", "reason": "no <SigV4A> here"}}, "error": None},
        "go-off": {"library": "offlib", "library_version": "", "floor_ns": None, "checks": {}, "error": "unavailable: no go"},
    }
    page = report.render_html(data)
    assert 'id="sec-bench"' in page
    section = page[page.index('id="sec-bench"'):page.index('id="sec-manifest"')]
    assert "sigv4-header" in section and "41 000/s" in section and "×19.5" in section and "800 000/s" in section
    assert 'title="no &lt;SigV4A&gt; here">unsupported<' in section
    assert 'title="unavailable: no go">error<' in section


def test_adapter_env_values_are_not_shown():
    data = make_results()
    data["manifest"]["settings"]["adapter_env"] = {"SOME_API_KEY": "hunter2-not-for-the-page"}
    page = report.render_html(data)
    assert "SOME_API_KEY" in page and "hunter2-not-for-the-page" not in page


def test_manifest_section_lists_every_version(rendered):
    page = rendered["index.html"]
    section = html.unescape(page[page.index('id="sec-manifest"'):])
    for text in ("goodlib", "1.0.0", "mixedlib", "2.0.0", "node 18.19.0", "abc1234", "Linux-test", "unavailable: toolchain missing: go"):
        assert text in section, text


def test_merge_puts_versions_side_by_side():
    a = make_results(versions={"js-mixed": "1.31.0"})
    b = make_results(versions={"js-mixed": "1.35.0"}, overrides={("query/sorting", "query", "js-mixed"): "fail"})
    merged = merge.merge([("a.json", a), ("b.json", b)])
    assert set(merged["adapters"]) == {"js-mixed@1.31.0", "js-mixed@1.35.0", "py-good", "go-off"}
    assert merged["adapters"]["js-mixed@1.35.0"]["name"] == "js-mixed"
    by = {(r["case"], r["mode"], r["adapter"]): r["status"] for r in merged["results"]}
    assert by[("query/sorting", "query", "js-mixed@1.31.0")] == "pass"
    assert by[("query/sorting", "query", "js-mixed@1.35.0")] == "fail"
    # py-good has one version in both runs: one column, the later run's verdicts
    assert len([k for k in by if k[2] == "py-good"]) == 10
    assert [m["path"] for m in merged["manifest"]["merged"]] == ["a.json", "b.json"]


@pytest.mark.parametrize("block, back", [(1 << 22, 1 << 18), (64, 0)])
def test_merged_results_copy_rows_as_text_and_equal_the_encoded_document(tmp_path, monkeypatch, block, back):
    """write_merged copies each row's line from its input (its column key put in) instead of encoding it
    again; the file must be exactly what encoding the merged data gives: renamed rows, a row judged against
    another expectation (changed, so encoded), an input written by hand (no row per line), unicode. Inputs
    are read in blocks: also blocks that hold a few lines, or none (each line then read alone)."""
    from harness.redaction import Sink

    monkeypatch.setattr(merge._Blocks, "SIZE", block)
    monkeypatch.setattr(merge._Blocks, "BACK", back)
    from harness.results import dumps, encode_row as dumps_row, load_results

    def current(data: dict) -> dict:  # as a run of this version writes it (format 2)
        return load_results(write(tmp_path / "v1" / "results.json", data))

    a = current(make_results(versions={"js-mixed": "1.31.0"}))
    b = current(make_results(versions={"js-mixed": "1.35.0"}, overrides={("query/sorting", "query", "js-mixed"): "fail"}))
    c = current(make_results(versions={"js-mixed": "1.36.0"}))
    b["results"][0]["reason"] = "ünïcode — and \u2028 and 💥"
    first = next(iter(c["checks"]))
    c["checks"][first] = {**c["checks"][first], "expected": {"signature": "another expectation"}}
    paths = [tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"]
    paths[0].write_text(dumps(a), encoding="utf-8")
    paths[1].write_text(dumps(b), encoding="utf-8")
    paths[2].write_text(json.dumps(c, indent=2), encoding="utf-8")  # laid out otherwise: its rows are encoded
    inputs = [(str(p), load_results(p)) for p in paths]
    origins = merge.Origins()
    data = merge.merge(inputs, origins)
    # a row replaced after the merge (as taking secrets or whole session tokens out replaces one) is encoded
    data["results"][1] = {**data["results"][1], "reason": "replaced after the merge"}
    origin = {id(where[0]): where[1:] for where in origins.placed if where is not None}  # id(row) -> (input, index, name)
    copied = [r for r in data["results"] if id(r) in origin and origins.inputs[origin[id(r)][0]][0] != str(paths[2])]
    assert copied and any(r["adapter"].endswith("@1.35.0") for r in copied)  # renamed rows are copied as text
    out = tmp_path / "merged"
    out.mkdir()
    encoded = []
    monkeypatch.setattr(merge, "encode_row", lambda row: encoded.append(row) or dumps_row(row))
    written = merge.write_merged(out, data, origins, Sink())
    # only the rows of the hand-written input and the row judged against another expectation are encoded
    assert encoded and all(id(r) not in origin or origin[id(r)][0] == 2 for r in encoded)
    assert len(encoded) < len(data["results"]) - len(copied) + 1
    assert written.read_text(encoding="utf-8") == dumps(data)
    assert load_results(written)["results"] == data["results"]


@pytest.mark.parametrize("size, back", [(1 << 22, 1 << 18), (700, 250), (450, 100), (300, 0), (40, 10)])
def test_an_input_read_in_blocks_gives_each_line_as_in_the_file(tmp_path, monkeypatch, size, back):
    """A merge asks for its inputs' lines nearly in order, stepping back a little within a check: every line
    read through the blocks is the file's, whether it lies in the block, across its end, before it, or is
    longer than a block."""
    import random

    monkeypatch.setattr(merge._Blocks, "SIZE", size)
    monkeypatch.setattr(merge._Blocks, "BACK", back)
    chance = random.Random(7)
    lines = [bytes(chance.choice(b"abcdefgh") for _ in range(chance.choice([5, 60, 120, 400]))) for _ in range(400)]
    raw = b",\n".join(lines)
    path = tmp_path / "input"
    path.write_bytes(raw)
    spans, offset = [], 0
    for line in lines:
        spans.append((offset, len(line)))
        offset += len(line) + 2
    order = list(range(len(spans)))
    for at in range(0, len(order) - 4, 4):  # within each group of four, another order (columns against names)
        group = order[at:at + 4]
        chance.shuffle(group)
        order[at:at + 4] = group
    with open(path, "rb") as handle:
        blocks = merge._Blocks(handle.fileno())
        assert [blocks.read(*spans[i]) for i in order] == [lines[i] for i in order]


def test_cli_report_merges_and_checks_versions(tmp_path):
    a = write(tmp_path / "botocore-1.31.0" / "results.json", make_results(versions={"js-mixed": "1.31.0"}))
    write(tmp_path / "botocore-1.35.0" / "results.json", make_results(versions={"js-mixed": "1.35.0"}))
    out = tmp_path / "merged"
    proc = sigharness("report", str(tmp_path), "--out", str(out), "--title", "Version matrix")
    assert proc.returncode == 0, proc.stderr
    merged = json.loads((out / "results.json").read_text())
    assert {"js-mixed@1.31.0", "js-mixed@1.35.0"} <= set(merged["adapters"])
    page = (out / "index.html").read_text()
    assert "<title>Version matrix</title>" in page
    cols = [x["k"] for x in _blob(page, "sh-data")["adapters"]]
    assert cols.index("js-mixed@1.31.0") + 1 == cols.index("js-mixed@1.35.0")  # side by side, in version order
    assert (out / "junit.xml").exists() and (out / "summary.md").exists()

    ok = sigharness("report", str(a), "--out", str(tmp_path / "one"), "--expect-version", "js-mixed=1.31.0")
    assert ok.returncode == 0, ok.stderr
    wrong = sigharness("report", str(a), "--out", str(tmp_path / "two"), "--expect-version", "js-mixed=1.35.0")
    assert wrong.returncode == 2
    assert "js-mixed ran mixedlib 1.31.0, expected 1.35.0" in wrong.stderr
    missing = sigharness("report", str(tmp_path / "nowhere.json"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_markdown_cell_escaping():
    assert md_cell("a|b <script> *x* `y`") == "a\\|b &lt;script&gt; \\*x\\* \\`y\\`"
    assert md_cell("two\nlines") == "two lines"


def test_run_writes_every_output(tmp_path, suite):
    """A real run (the reference adapter over part of the official suite) writes all four files."""
    out = tmp_path / "run"
    proc = sigharness("run", "--cases", str(suite), "--case", "aws-c-auth/v4/get-vanilla*", "--case", "aws-c-auth/v4/post-*",
                      "--adapters", "py-reference", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ("results.json", "index.html", "junit.xml", "summary.md"):
        assert (out / name).is_file(), name
    data = json.loads((out / "results.json").read_text())
    assert data["cases"] and all(c.startswith(("aws-c-auth/v4/get-vanilla", "aws-c-auth/v4/post-")) for c in data["cases"])
    root = ET.fromstring((out / "junit.xml").read_bytes())
    assert int(root.get("tests")) == len(data["results"]) and int(root.get("failures")) == 0
    page = (out / "index.html").read_text()
    blob = _blob(page, "sh-data")
    assert len(blob["rows"]) == len({(r["case"], r["mode"]) for r in data["results"]})
    # the token of the suite's session-token case is shortened once, by the run, in results.json (which
    # says so, so no report or merge shortens it again) and so in the page
    token_case = [c for c in data["cases"] if "session-token" in c]
    assert token_case and data["manifest"]["session_tokens"] == "shortened"
    whole = (suite / "v4" / token_case[0].rsplit("/", 1)[-1] / "context.json").read_text()
    token = json.loads(whole)["credentials"]["token"]
    assert len(token) > 20 and token not in json.dumps(data) and token not in page
    shortened = f"{token[:8]}…[{len(token)} chars]"
    assert shortened in json.dumps(data, ensure_ascii=False)
    assert shortened in page or shortened.replace("…", "\\u2026") in page  # the page's data blob is ASCII


def test_results_text_one_row_per_line_written_in_pieces():
    """results.json: the head on the first line, then one row per line; `dump` writes the same text in pieces."""
    import io

    from harness import results

    data = make_results()
    text = results.dumps(data)
    assert json.loads(text) == data
    lines = text.split("\n")
    assert lines[1] == '"results":[' and lines[-2:] == ["]}", ""]
    assert [json.loads(line.rstrip(",")) for line in lines[2:-2]] == data["results"]
    handle = io.StringIO()
    results.dump(data, handle)
    assert handle.getvalue() == text
    assert "".join(results.pieces(data, rows_per_chunk=3)) == text  # a piece boundary inside the rows
    assert json.loads(results.dumps({**data, "results": []}))["results"] == []


def test_junit_attributes_and_text_escaped():
    """junit.xml is written as text: quotes, markup, ampersands, newlines and tabs survive a parser unchanged."""
    data = make_results()
    reason = 'a "quoted" <b>tag</b> & more\nsecond line\twith a tab'
    row = next(r for r in data["results"] if r["status"] == "fail")
    row["reason"] = reason
    root = ET.fromstring(report.render_junit(data).encode())
    case = next(tc for tc in root.iter("testcase") if tc.get("name") == f"{row['case']} [{row['mode']}]"
                and tc.find("failure") is not None and tc.get("classname").startswith(row["adapter"] + "."))
    failure = case.find("failure")
    assert failure.get("message") == reason
    assert failure.text.startswith(reason) and "first difference at line" in failure.text


def test_fail_kinds_are_derived_from_the_judgement():
    """A fail is 'accepted an invalid input' when the case expects a refusal, 'refused a valid input' when the
    library refused, else 'signed wrongly'; other verdicts have no kind."""
    from harness import verdicts

    signed_wrongly = {"status": "fail", "stage": "canonical_request", "verification": {"valid": False}}
    assert verdicts.fail_kind(signed_wrongly, {"expect_error": None}) == verdicts.REJECTED
    assert verdicts.fail_kind({"status": "fail", "stage": "sign", "verification": None}, {}) == verdicts.REFUSED_VALID
    assert verdicts.fail_kind({"status": "fail", "stage": "sign"}, {"expect_error": "X-Amz-Expires above 604800"}) == verdicts.ACCEPTED_INVALID
    # a token case whose server must refuse (expired) got one a server accepts
    token = {"status": "fail", "stage": "token", "verification": {"valid": True, "expected": "reject: expired"}}
    assert verdicts.fail_kind(token, {}) == verdicts.ACCEPTED_INVALID
    assert verdicts.fail_kind({"status": "pass", "stage": "sign"}, {"expect_error": "x"}) is None
    letters = [k.letter for k in verdicts.FAIL_KINDS]
    assert len(set(letters) | {v.letter for v in verdicts.VERDICTS.values() if v.name != "fail"}) == len(letters) + 4


def test_page_counts_kinds_coverage_and_surfaces():
    from test_report_support import question_results

    from harness.report import model
    from harness.report.text import shorten_tokens

    view = model.build(shorten_tokens(question_results()))
    assert view["kind_counts"] == {"rejected": 3, "accepted-invalid": 2, "refused-valid": 2}
    tally = {a["k"]: a["tally"] for a in view["adapters"]}
    assert tally["js-mixed"]["accepted-invalid"] == 1 and tally["js-mixed"]["refused-valid"] == 1
    assert round(tally["js-mixed"]["coverage"], 3) == round(9 / 11, 3) and tally["py-good"]["coverage"] == 1
    assert [a["k"] for a in view["adapters"] if a["ref"]] == ["py-reference"]
    assert {a["k"]: a["client"] for a in view["adapters"]}["py-good+urllib"] == "urllib"
    # pass and variant both count as passed: plus-literal header (pass, variant) is "all"
    rows = {(view["matrix"]["cases"][r[0]]["id"], r[1]): r[2] for r in view["matrix"]["rows"]}
    assert rows[("path/dots", "query")][1] == "r" and rows[("presign/expires-7d", "query")][1] == "a"
    assert view["matrix"]["surfaces"] == ["single"]


def test_surfaces_come_from_the_registry():
    from harness.reference import SURFACES
    from harness.report import model

    assert model.surface_of_case({"service": "rds-db"}, ["token"]) == "rds"
    assert model.surface_of_case({"service": "sts"}, ["token"]) == "eks"
    assert model.surface_of_case({"service": "s3"}, ["form"]) == "post-policy"
    assert model.surface_of_case({"service": "s3"}, ["header", "query"]) == "single"
    assert model.surface_of_case({"surface": "aws-chunked"}, ["header"]) == "aws-chunked"  # a case that names it wins
    assert model.surface_order() == list(SURFACES)
    assert model.readable_title("found/1445d9ec1e", {"title": "found/1445d9ec1e", "service": "s3", "tags": ["found", "path"],
                                                     "request": {"method": "GET", "url": "https://x.amazonaws.com/%80"}}) == \
        "found: s3 GET /%80 (path)"
    rows = [{"case": "found/1", "status": "fail", "stage": "canonical_request"}, {"case": "found/1", "status": "fail", "stage": "canonical_request"},
            {"case": "found/1", "status": "fail", "stage": "signature"}, {"case": "found/1", "status": "pass", "stage": None}]
    assert model.first_stages(rows) == {"found/1": "canonical_request"}
    assert model.readable_title("found/ab12cd34ef", {"title": "", "service": "s3", "request": {"url": "https://x/%80"}}, "canonical_request") == \
        "found: s3 GET /%80, differs in the canonical request"


def test_known_issues_pages(rendered):
    page = rendered["known-issues/js-mixed.html"]
    assert "Known issues: js-mixed" in page and "mixedlib" in page
    assert "sigharness run --cases /work/cases/query.yaml --case query/plus-literal --adapters js-mixed" in page
    assert "First difference in the canonical request" in page and "-q=a%2Bb" in page  # the Markdown to paste
    assert "known-issues/js-mixed.html" not in rendered["known-issues/index.html"] and 'href="js-mixed.html"' in rendered["known-issues/index.html"]
    assert "py-good.html" not in rendered["known-issues/index.html"]  # no failing check, no page
    assert "<script" not in page.replace("&lt;script", "")  # the case's <script> header value is text
