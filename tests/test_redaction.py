"""The one redaction layer (harness/redaction.py): every form of every secret, whatever its length, out of
every file under a run folder and every console line; unrelated text left alone. The files are checked
by tests/leakscan.py, which decodes them instead of encoding the secret (so it is no copy of the redactor)."""

from __future__ import annotations

import base64
import html
import json
import math
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from harness import cli, redaction
from harness.redaction import MARK, FileRange, Redactor, Sink, json_safe, printable
import leakscan
from conftest import MUTANTS, ROOT

sys.path.insert(0, str(MUTANTS / "hostile"))
_argv, sys.argv = sys.argv, [sys.argv[0], "slow"]  # hostile.py reads its behaviour from argv at import
import hostile  # noqa: E402  the fixture's list of encodings
sys.argv = _argv

LONG = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SPECIALS = "a+b/c d&e<f>\"g'h\\i=é"
SHORT = ["Q", "Zx7", "+/"]
SECRETS = [LONG, SPECIALS, *SHORT]


def cases_file(folder: Path) -> Path:
    """Cases whose secrets are long, full of characters every encoder touches, and 1 to 3 characters long."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, (secret, method) in enumerate(zip(SECRETS, ("GET", "GET", "GET", "POST", "GET"))):
        entries.append({"id": f"leak/n{i}", "title": f"secret number {i}",
                        "request": {"method": method, "url": "https://example.amazonaws.com/?a=b"},
                        "context": {"credentials": {"access_key_id": "AKIDEXAMPLE", "secret_access_key": secret}}})
    path = folder / "leak.yaml"
    path.write_text(json.dumps(entries), encoding="utf-8")  # JSON is YAML
    return folder


@pytest.mark.parametrize("secret", SECRETS)
def test_every_form_the_hostile_adapter_uses_is_redacted(secret):
    redactor = Redactor(SECRETS)
    checked = 0
    for form in hostile.forms(secret):
        text = f"before {form} after"
        if not leakscan.leaks(text, secret):
            continue  # base64 of a short secret inside longer text: not a form of the secret itself
        out = redactor.text(text)
        assert leakscan.leaks(out, secret) == [], (form, out)
        assert out.startswith("before ") and out.endswith(" after") and MARK in out
        checked += 1
    assert checked >= 12


@pytest.mark.parametrize("form", [
    lambda s: quote(s, safe="").lower(),  # only the hex digits are lower-cased by an encoder; here all of it: not the secret
])
def test_a_different_string_is_not_the_secret(form):
    assert Redactor([LONG]).text(form(LONG)) == form(LONG)


@pytest.mark.parametrize("text,secret,kept", [
    ("x-amz-date:20150830T123600Z", "x", True),
    ("the k3yboard", "k3y", True),
    ("failed with key k3y.", "k3y", False),
    ("key=k3y&b=1", "k3y", False),
    ("Zx7Zx7", "Zx7", True),
    ("[Zx7]", "Zx7", False),
    ("AKIDEXAMPLE/20150830/us-east-1/service/aws4_request", "Q", True),
    ("%2B%2F", "+/", False),
    ("a +/ b", "+/", False),
])
def test_a_short_secret_is_redacted_as_a_whole_token_only(text, secret, kept):
    out = Redactor([secret]).text(text)
    assert (out == text) is kept, out


def test_long_secrets_are_redacted_inside_words_and_documents_keep_their_markup():
    redactor = Redactor([LONG, "Q"])
    assert redactor.text(f"xx{LONG}yy") == f"xx{MARK}yy"
    page = f'<div class="Q">Q</div><script>var Q = "{html.escape(LONG)}";</script>'
    assert redactor.document(page) == f'<div class="Q">Q</div><script>var Q = "{MARK}";</script>'


def test_base64_of_a_secret_inside_base64_of_longer_text_is_cut_out():
    for prefix in (b"", b"a", b"ab", b"abc"):
        blob = base64.b64encode(prefix + LONG.encode() + b" and more").decode()
        out = Redactor([LONG]).text(blob)
        assert MARK in out and leakscan.leaks(out, LONG) == [], prefix


def test_data_redacts_keys_and_values_and_keeps_every_key():
    redactor = Redactor(["Zx7"])
    data = {"Zx7": 1, "<secret redacted>": 2, "list": ["Zx7", {"a": "key Zx7"}], "n": 1.5, "b": True, "none": None}
    out = redactor.data(data)
    assert len(out) == len(data) and {1, 2} <= {v for v in out.values() if isinstance(v, int)}
    assert out["list"] == [MARK, {"a": f"key {MARK}"}]
    assert (out["n"], out["b"], out["none"]) == (1.5, True, None)


def test_json_safe_turns_nan_infinity_and_surrogates_into_text():
    data = {"a": float("nan"), "b": [float("inf"), -float("inf")], "c\ud800": "x\udfffy", "d": (1, 2), "e": 10 ** 30}
    out = json_safe(data)
    assert out == {"a": None, "b": [None, None], "c\\ud800": "x\\udfffy", "d": [1, 2], "e": 10 ** 30}
    json.dumps(out, allow_nan=False).encode("utf-8")
    assert printable("ok") == "ok" and printable("\ud800").encode()


def test_sink_writes_files_and_lines_that_never_fail(tmp_path, capsys):
    sink = Sink(Redactor([LONG]))
    path = sink.write_json(tmp_path / "x.json", {"r": f"k {quote_plus(LONG)}", "n": math.nan, "s": "\ud800"})
    text = path.read_text(encoding="utf-8")
    assert LONG not in text and '"n": null' in text and leakscan.leaks(text, LONG) == []
    json.loads(text, parse_constant=lambda c: pytest.fail(c))
    sink.say(f"gave up: {LONG} \ud800")
    err = capsys.readouterr().err
    assert MARK in err and LONG not in err


@pytest.mark.parametrize("copies", ["copy_file_range", "sendfile", "neither"])
def test_a_piece_lying_in_another_file_is_written_whole_and_redacted(copies, tmp_path, monkeypatch):
    """FileRange: a forked child's share of the lines, copied file to file (or read and written where the
    system copies by neither), between pieces of text; read and redacted when the sink has a secret."""
    if copies in ("sendfile", "neither"):
        monkeypatch.delattr(redaction.os, "copy_file_range", raising=False)
    if copies == "neither":
        monkeypatch.delattr(redaction.os, "sendfile", raising=False)
    middle = ("row " * 70_000).encode() + f"k {LONG}".encode()
    spool = tmp_path / "spool"
    spool.write_bytes(b"before" + middle + b"after")
    with open(spool, "rb") as handle:
        piece = FileRange(handle.fileno(), len(b"before"), len(middle))
    assert len(piece) == len(middle) and piece.read() == middle  # its own descriptor: the file is closed here
    Sink().write_pieces(tmp_path / "plain", ["head:", piece, b":", "tail"])
    assert (tmp_path / "plain").read_bytes() == b"head:" + middle + b":tail"
    Sink(Redactor([LONG])).write_pieces(tmp_path / "clean", ["head:", piece, "tail"])
    clean = (tmp_path / "clean").read_text()
    assert LONG not in clean and clean.startswith("head:row row ") and clean.endswith(f"k {MARK}tail")
    with open(spool, "rb") as handle:
        short = FileRange(handle.fileno(), 0, spool.stat().st_size + 10)
    with pytest.raises(OSError, match="10 bytes short"):
        Sink().write_pieces(tmp_path / "short", [short])
    assert not (tmp_path / "short").exists() and not list(tmp_path.glob("*.tmp"))


def _run(argv: list[str], capsys) -> tuple[int, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_leaking_adapter_leaves_no_secret_in_any_file_or_console_line(tmp_path, capsys):
    cases = cases_file(tmp_path / "cases")
    out = tmp_path / "run"
    code, console = _run(["run", "--cases", str(cases), "--adapter-dir", str(MUTANTS),
                          "--adapters", "hostile-leaks-encoded,hostile-surrogate-nan", "--out", str(out)], capsys)
    assert code == 0, console
    assert {p.name for p in out.iterdir()} >= {"results.json", "results.jsonl", "run.json", "index.html", "junit.xml",
                                                "summary.md", "logs"}
    assert leakscan.scan(out, SECRETS) == {}
    for secret in SECRETS:
        assert leakscan.leaks(console, secret) == [], secret
    leakscan.loads_everywhere(out)
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    rows = [r for r in data["results"] if r["adapter"] == "hostile-leaks-encoded"]
    assert len(rows) == 10 and all(MARK in json.dumps(r) for r in rows)
    odd = [r for r in data["results"] if r["adapter"] == "hostile-surrogate-nan"]
    # the adapter process may refuse such an answer as a protocol fault; if it lets it through, the text is escaped
    assert len(odd) == 10 and all(r["status"] == "error" and "elapsed_ns" not in r for r in odd)
    assert all(r["reason"].endswith("bad \\ud800 text") or "NaN" in r["reason"] or "surrogate" in r["reason"] for r in odd)
    assert MARK in (out / "logs" / "hostile-leaks-encoded.log").read_text(encoding="utf-8")

    # everything rendered later from this run folder stays clean too
    merged = tmp_path / "merged"
    code, console = _run(["report", str(out / "results.json"), str(out / "results.json"), "--out", str(merged)], capsys)
    assert code == 0, console
    code, diff_text = _run(["diff", str(out), str(merged), "--format", "json"], capsys)
    assert code == 0, diff_text
    assert leakscan.scan(merged, SECRETS) == {} and all(leakscan.leaks(diff_text, s) == [] for s in SECRETS)


def test_the_issue_reproduction_leaves_no_secret_in_the_reports(tmp_path, capsys):
    out = tmp_path / "run"
    code, console = _run(["run", "--adapter-dir", str(MUTANTS), "--adapters", "mutant-leaks-secret",
                          "--cases", str(ROOT / "cases" / "headers"), "--out", str(out)], capsys)
    assert code == 0, console
    for name in ("index.html", "junit.xml", "summary.md", "results.json", "results.jsonl"):
        assert LONG not in (out / name).read_text(encoding="utf-8"), name
        assert "secret redacted" in (out / name).read_text(encoding="utf-8"), name
    assert leakscan.scan(out, [LONG]) == {}


def test_adapters_find_no_secret_in_the_harness_environment_or_command_line(tmp_path, capsys):
    cases = cases_file(tmp_path / "cases")
    out = tmp_path / "run"
    code, console = _run(["run", "--cases", str(cases), "--adapter-dir", str(MUTANTS), "--adapters", "hostile-proc-probe",
                          "--out", str(out), "--no-report"], capsys)
    assert code == 0, console
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    probes = [json.loads(r["reason"]) for r in data["results"]]
    assert len(probes) == 10
    for probe in probes:
        assert probe["cmdline"] != "secret" and probe["environ"] != "secret", probe


def test_the_harness_environment_s_own_secret_is_redacted_too(tmp_path, monkeypatch):
    from harness.redaction import harness_environment_secrets

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "planted/SECRET+in+the+harness+env")
    assert "planted/SECRET+in+the+harness+env" in harness_environment_secrets()
    sink = Sink(Redactor(harness_environment_secrets()))
    assert sink.line("x planted%2FSECRET%2Bin%2Bthe%2Bharness%2Benv") == f"x {MARK}"


def test_fault_reasons_and_the_gave_up_line_are_redacted(tmp_path, capsys):
    cases = cases_file(tmp_path / "cases")
    out = tmp_path / "run"
    code, console = _run(["run", "--cases", str(cases), "--adapter-dir", str(MUTANTS), "--adapters", "hostile-garbage-secret",
                          "--out", str(out), "--max-restarts", "1"], capsys)
    assert code == 0, console
    assert "adapter hostile-garbage-secret: gave up after 2 faults in a row; last fault: answer is not JSON" in console, console
    for secret in SECRETS:
        assert leakscan.leaks(console, secret) == [], (secret, console)
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    faults = data["adapters"]["hostile-garbage-secret"]["faults"]
    assert faults and all("answer is not JSON" in f for f in faults) and any(MARK in f for f in faults)
    assert leakscan.scan(out, SECRETS) == {}


def test_journal_and_results_written_with_nan_and_surrogates_read_back(tmp_path):
    from harness import results as res

    sink = Sink(Redactor([LONG]))
    journal = res.Journal(tmp_path / "results.jsonl", sink)
    row = {"type": "result", "case": "c\ud800", "mode": "header", "adapter": "a", "status": "error",
           "reason": f"bad \udfff {LONG}", "elapsed_ns": math.nan, "duration_ms": math.inf}
    journal.write(row)
    journal.write({"type": "adapter", "name": "a", "library_version": "1", "library_elapsed_ns": -math.inf})
    journal.close()
    rows, adapters = res.read_journal(tmp_path / "results.jsonl")
    assert rows == [{"type": "result", "case": "c\\ud800", "mode": "header", "adapter": "a", "status": "error",
                     "reason": f"bad \\udfff {MARK}", "elapsed_ns": None, "duration_ms": None}]
    assert adapters["a"]["library_elapsed_ns"] is None
    data = {"format": res.FORMAT, "version": res.VERSION, "results": [{k: v for k, v in row.items() if k != "type"}],
            "cases": {"c\ud800": {"title": "t\ud800"}}}
    path = res.write_results(tmp_path, data, sink)
    text = path.read_text(encoding="utf-8")
    assert LONG not in text and "NaN" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(c))
    loaded = res.load_results(path)  # our own file passes our own shape check
    assert loaded["results"][0]["reason"] == f"bad \\udfff {MARK}"


def test_bench_output_is_redacted(tmp_path, capsys):
    results = tmp_path / "run" / "results.json"
    results.parent.mkdir()
    results.write_text(json.dumps({"format": "sigharness-results", "version": 2, "results": []}))
    code, console = _run(["bench", "--adapter-dir", str(MUTANTS), "--adapters", "hostile-leaks-encoded", "--seconds", "0.02",
                          "--out", str(tmp_path / "bench.json"), "--results", str(results)], capsys)
    assert code == 0, console
    figures = json.loads((tmp_path / "bench.json").read_text())["hostile-leaks-encoded"]["checks"]
    assert figures["sigv4-header"]["status"] == "measured" and MARK in figures["sigv4-query"]["reason"]
    assert leakscan.leaks(console, LONG) == [] and leakscan.scan(tmp_path, [LONG]) == {}


def test_a_secret_longer_than_the_char_by_char_limit_is_found_in_its_whole_forms_at_once():
    import time

    huge = "ab/+c=" * 50000  # 300,000 characters
    started = time.monotonic()
    redactor = Redactor([huge, LONG])
    for form in (huge, quote(huge, safe=""), quote_plus(huge), json.dumps(huge)[1:-1].replace("/", "\\/"),
                 html.escape(huge), base64.b64encode(huge.encode()).decode()):
        assert redactor.text(f"x {form} y") == f"x {MARK} y"
        assert redactor.document(f"x {form} y") == f"x {MARK} y"
    assert time.monotonic() - started < 5


def test_many_secrets_share_one_pattern_and_each_is_found():
    import random

    rng = random.Random(12)
    keys = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/") for _ in range(40)) for _ in range(60)]
    keys += [keys[0][:20], keys[1] + "tail"]  # one a prefix of another, one extending another
    redactor = Redactor(keys)
    for key in keys:
        assert redactor.text(f"[{quote(key, safe='')}]") == f"[{MARK}]", key
    assert redactor.text(keys[1] + "tail") == MARK  # the longer secret wins
