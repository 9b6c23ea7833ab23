"""The YAML case loader: every malformed file ends in one line FILE:LINE: problem, others still load."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from harness.cases import load_cases
from harness.model import Check

from conftest import FIXTURES, sigharness

MALFORMED = sorted((FIXTURES / "malformed").glob("*.yaml"))
GOOD = """
- id: good/one
  title: fine
  flags: {note: a valid case next to broken ones}
  request: {method: GET, url: "https://example.amazonaws.com/a?b=c"}
- id: good/two
  title: s3 defaults
  request: {method: PUT, host: bucket.s3.amazonaws.com, path: /k, body: {repeat: "ab", times: 3}}
  context: {service: s3}
"""


def _expectation(path: Path) -> tuple[int, str]:
    first = path.read_bytes().split(b"\n", 1)[0].decode("ascii")
    match = re.match(r"# expect: (\d+): (.+)", first)
    assert match, f"{path.name} needs a first line '# expect: LINE: text'"
    return int(match.group(1)), match.group(2)


def test_there_are_at_least_thirty_malformed_inputs():
    assert len(MALFORMED) >= 30


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.name)
def test_malformed_file_gives_one_line_with_file_line_and_problem(path):
    line, text = _expectation(path)
    loaded = load_cases([path])
    assert loaded.cases == []  # a bad file is rejected whole
    assert len(loaded.errors) == 1
    message = str(loaded.errors[0])
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith(f"{path}:{line}: "), message
    assert text in message


def test_bad_files_do_not_stop_the_others(tmp_path):
    shutil.copytree(FIXTURES / "malformed", tmp_path / "cases")
    (tmp_path / "cases" / "good.yaml").write_text(GOOD)
    loaded = load_cases([tmp_path / "cases"])
    assert sorted(c.id for c in loaded.cases) == ["good/one", "good/two"]
    assert len(loaded.errors) == len(MALFORMED)


def test_defaults_resolve_per_service_and_mode(tmp_path):
    (tmp_path / "c.yaml").write_text(GOOD)
    one, two = load_cases([tmp_path / "c.yaml"]).cases
    assert one.context.normalize_path and one.context.double_encode and not one.context.content_sha256_header
    assert one.request.headers[0] == ("Host", "example.amazonaws.com")
    assert (one.request.path, one.request.query) == ("/a", "b=c")
    assert not two.context.normalize_path and not two.context.double_encode and two.context.content_sha256_header
    assert Check(two, "header").context.payload == "body"
    assert Check(two, "query").context.payload == "unsigned"
    assert two.request.body == b"ababab"


def test_duplicate_ids_are_reported_with_both_places(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    loaded = load_cases([tmp_path])
    assert len(loaded.cases) == 2
    assert len(loaded.errors) == 2
    assert all("duplicate id" in str(e) and "a.yaml" in str(e) and str(e).startswith(str(tmp_path / "b.yaml")) for e in loaded.errors)


def test_raw_request_parts_survive_byte_for_byte(tmp_path):
    (tmp_path / "c.yaml").write_text(
        'id: raw/x\ntitle: t\nrequest:\n  method: get\n  url: "https://h:8443/a%2fb/./c//d?x=%7e&y=a+b&&z"\n'
        '  headers:\n    - [X-A, "  1  "]\n    - [x-a, "2"]\n'
    )
    (case,) = load_cases([tmp_path / "c.yaml"]).cases
    assert case.request.method == "get"
    assert case.request.host == "h:8443"
    assert case.request.path == "/a%2fb/./c//d"
    assert case.request.query == "x=%7e&y=a+b&&z"
    assert case.request.headers[1:] == (("X-A", "  1  "), ("x-a", "2"))


def test_suite_folder_with_missing_file_reports_it_and_loads_the_rest(tmp_path, suite):
    copy = tmp_path / "suite"
    shutil.copytree(suite / "v4" / "get-vanilla", copy / "v4" / "get-vanilla")
    shutil.copytree(suite / "v4" / "post-vanilla", copy / "v4" / "post-vanilla")
    (copy / "v4" / "post-vanilla" / "request.txt").unlink()
    (copy / "v4" / "broken-json").mkdir()
    (copy / "v4" / "broken-json" / "context.json").write_text("{not json")
    (copy / "v4" / "broken-json" / "request.txt").write_text("GET / HTTP/1.1\nHost:h\n")
    loaded = load_cases([copy])
    assert [c.id for c in loaded.cases] == ["suite/v4/get-vanilla"]
    messages = sorted(str(e) for e in loaded.errors)
    assert len(messages) == 2
    assert "broken-json/context.json:1: not valid JSON" in messages[0]
    assert "post-vanilla/request.txt:1: missing file" in messages[1]


def test_validate_command_exit_codes(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    ok = sigharness("validate", str(tmp_path / "good.yaml"))
    assert ok.returncode == 0 and "2 cases valid" in ok.stderr
    bad = sigharness("validate", str(FIXTURES / "malformed"))
    assert bad.returncode == 2
    assert "Traceback" not in bad.stdout + bad.stderr
    assert len(bad.stdout.strip().splitlines()) == len(MALFORMED)


# --- hostile input: the exact line for each reproduction of issue 12 -------------------------------

CASE_HEAD = "id: h/x\ntitle: t\nrequest: {method: PUT, url: 'https://example.amazonaws.com/'}\n"


def _one_error(tmp_path, name, text, **kwargs):
    """Load a folder holding the broken file and a valid one: the valid one loads, the broken one is one line."""
    folder = tmp_path / "cases"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    (folder / "zz-good.yaml").write_text(GOOD)
    loaded = load_cases([folder], **kwargs)
    assert sorted(c.id for c in loaded.cases) == ["good/one", "good/two"]
    assert len(loaded.errors) == 1, [str(e) for e in loaded.errors]
    return str(loaded.errors[0]).replace(str(folder) + "/", "")


def test_unquoted_impossible_date(tmp_path):
    assert _one_error(tmp_path, "d.yaml", CASE_HEAD + "context:\n  timestamp: 2015-02-30T12:00:00Z\n") == \
        "d.yaml:5: context.timestamp: day is out of range for month"


def test_unknown_tags(tmp_path):
    assert _one_error(tmp_path, "t.yaml", "id: h/x\ntitle: !foo t\n") == \
        "t.yaml:2: unknown YAML tag '!foo': tags are not supported (quote the value if it is text)"
    assert _one_error(tmp_path, "t.yaml", "id: h/x\ntitle: t\nrequest: !!python/object:os.system {method: GET}\n") == \
        "t.yaml:3: unknown YAML tag '!!python/object:os.system': tags are not supported (quote the value if it is text)"


@pytest.mark.parametrize("nested", ["[" * 5000 + "]" * 5000, "\n" + "- " * 5000 + "x"])
def test_five_thousand_deep_nesting(tmp_path, nested):
    line = 3 if nested.startswith("[") else 4
    assert _one_error(tmp_path, "n.yaml", "id: h/x\ntitle: t\ntags: " + nested + "\n") == \
        f"n.yaml:{line}: nested more than 64 levels deep (limit nesting_depth)"


def test_lone_surrogate_nul_and_invalid_utf8(tmp_path):
    assert _one_error(tmp_path, "s.yaml", 'id: h/x\ntitle: "\\ud800"\n') == \
        "s.yaml:2: text holds a lone surrogate \\ud800, which is not a Unicode character (write the character itself, or a \\U00XXXXXX escape)"
    assert _one_error(tmp_path, "s.yaml", b"id: h/x\ntitle: a\x00b\n") == "s.yaml:2: control character U+0000 (NUL) is not allowed in YAML text"
    assert _one_error(tmp_path, "s.yaml", b"id: h/x\ntitle: a\xffb\n") == "s.yaml:2: not UTF-8 text (byte 0xff at offset 16)"


def test_alias_bomb_stops_during_composition_in_bounded_time_and_memory(tmp_path):
    import time
    import tracemalloc

    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for prev, name in zip("abcdefgh", "bcdefghi"):
        bomb += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    assert len(bomb) < 600  # 9 levels of 9: 387 million strings once expanded
    tracemalloc.start()
    started = time.perf_counter()
    message = _one_error(tmp_path, "bomb.yaml", bomb)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert message == "bomb.yaml:4: more than 100 aliases once expanded (limit yaml_aliases): an alias bomb, or anchors nested too deep"
    assert elapsed < 2 and peak < 20 * 2**20


def test_repeat_times_over_the_body_limit_is_refused_before_allocating(tmp_path):
    import tracemalloc

    tracemalloc.start()
    message = _one_error(tmp_path, "r.yaml", "id: h/x\ntitle: t\nrequest:\n  method: PUT\n  url: 'https://h/'\n  body: {repeat: '" + "x" * 1000 + "', times: 100000000}\n")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert message == "r.yaml:6: request.body repeat x times is 100000000000 bytes; the limit is 16777216 (limit body_bytes)"
    assert peak < 20 * 2**20


def test_oversized_files_are_refused_by_their_size_without_reading_them(tmp_path):
    import tracemalloc

    from harness.limits import Limits

    folder = tmp_path / "cases"
    folder.mkdir()
    with open(folder / "huge.bin", "wb") as f:
        f.truncate(4 << 30)  # a sparse 4 GiB body
    with open(tmp_path / "huge.yaml", "wb") as f:
        f.truncate(1 << 30)  # a sparse 1 GiB case file
    tracemalloc.start()
    body = _one_error(tmp_path, "b.yaml", CASE_HEAD.replace("}\n", ", body: {file: huge.bin}}\n"))
    loaded = load_cases([tmp_path / "huge.yaml"])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert body == "b.yaml:3: request.body.file 'huge.bin': body is 4294967296 bytes; the limit is 16777216 (limit body_bytes)"
    assert [str(e) for e in loaded.errors] == [f"{tmp_path / 'huge.yaml'}:1: cannot read: file is 1073741824 bytes; the limit is 8388608 (limit case_file_bytes; use request.body.file for large bodies)"]
    assert peak < 20 * 2**20
    small = load_cases([folder / "b.yaml"], limits=Limits(case_file_bytes=50))
    size = (folder / "b.yaml").stat().st_size
    assert str(small.errors[0]).endswith(f"cannot read: file is {size} bytes; the limit is 50 (limit case_file_bytes; use request.body.file for large bodies)")


def test_body_files_stay_inside_the_case_tree(tmp_path):
    import os

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.bin").write_bytes(b"secret-ish")
    folder = tmp_path / "cases"
    (folder / "sub").mkdir(parents=True)
    (folder / "inside.bin").write_bytes(b"fine")
    os.symlink(outside / "data.bin", folder / "link.bin")
    os.mkfifo(folder / "pipe.bin")

    def body(name):
        return CASE_HEAD.replace("}\n", f", body: {{file: '{name}'}}}}\n")

    assert _one_error(tmp_path, "p.yaml", body("../../../../etc/passwd")) == \
        "p.yaml:3: request.body.file '../../../../etc/passwd' is outside the case folder " + str(folder) + \
        " (bodies are read only from the case tree or a folder named as a body root)"
    assert _one_error(tmp_path, "p.yaml", body("/etc/passwd")) == "p.yaml:3: request.body.file '/etc/passwd' must be a path relative to the case file"
    assert "request.body.file 'link.bin' is outside the case folder" in _one_error(tmp_path, "p.yaml", body("link.bin"))
    assert _one_error(tmp_path, "p.yaml", body("pipe.bin")) == "p.yaml:3: request.body.file 'pipe.bin': is a FIFO (named pipe), not a regular file"
    # a case in a subfolder may read a body anywhere in the tree the user named
    (folder / "p.yaml").unlink()
    (folder / "sub" / "ok.yaml").write_text(body("../inside.bin").replace("h/x", "h/ok"))
    loaded = load_cases([folder / "sub" / "ok.yaml"])  # named alone, its tree is its own folder
    assert "is outside the case folder" in str(loaded.errors[0])
    loaded = load_cases([folder / "sub"], body_roots=[folder])  # unless the user names the folder
    assert [c.request.body for c in loaded.cases] == [b"fine"]
    (folder / "sub" / "ok.yaml").write_text(body("../../outside/data.bin").replace("h/x", "h/ok"))
    assert "outside the case folder" in str(load_cases([folder / "sub"]).errors[0])
    assert [c.request.body for c in load_cases([folder / "sub"], body_roots=[outside]).cases] == [b"secret-ish"]


def test_empty_folders_and_folders_without_cases_are_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "README.md").write_text("no cases here")
    (tmp_path / "suite" / "v4").mkdir(parents=True)
    loaded = load_cases([tmp_path / "empty", tmp_path / "notes", tmp_path / "suite"])
    assert [str(e) for e in loaded.errors] == [
        f"{tmp_path / 'empty'}: no case files found (*.yaml or *.yml, or a suite folder with v4/ or v4a/)",
        f"{tmp_path / 'notes'}: no case files found (*.yaml or *.yml, or a suite folder with v4/ or v4a/)",
        f"{tmp_path / 'suite'}: no case folders found under v4/ or v4a/",
    ]
    proc = sigharness("validate", str(tmp_path / "empty"))
    assert proc.returncode == 2 and "no case files found" in proc.stdout


def test_load_cases_takes_its_limits(tmp_path):
    from harness.limits import Limits

    text = CASE_HEAD + "flags:\n  found_by:\n    a: {b: 1}\n"
    assert load_cases([_write(tmp_path, text)]).errors == []
    assert [str(e) for e in load_cases([_write(tmp_path, text)], limits=Limits(nesting_depth=3)).errors] == [
        f"{tmp_path / 'one.yaml'}:6: nested more than 3 levels deep (limit nesting_depth)"]
    anchors = "id: h/x\ntitle: &n t\nrequest: {method: GET, url: 'https://h/'}\ntags: &t [a]\nflags: {refs: *t, note: *n}\n"
    (case,) = load_cases([_write(tmp_path, anchors)]).cases
    assert case.tags == ("a",) and case.flags == {"refs": ["a"], "note": "t"}
    assert [str(e) for e in load_cases([_write(tmp_path, anchors)], limits=Limits(yaml_aliases=1)).errors] == [
        f"{tmp_path / 'one.yaml'}:5: more than 1 aliases once expanded (limit yaml_aliases): an alias bomb, or anchors nested too deep"]


def _write(tmp_path, text):
    path = tmp_path / "one.yaml"
    path.write_text(text)
    return path


def test_a_fifo_or_dangling_link_named_yaml_is_reported_not_skipped(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.yaml")
    os.symlink(tmp_path / "nothing", tmp_path / "dangling.yaml")
    (tmp_path / "good.yaml").write_text(GOOD)
    loaded = load_cases([tmp_path])
    assert len(loaded.cases) == 2
    assert sorted(str(e).replace(str(tmp_path) + "/", "") for e in loaded.errors) == [
        "dangling.yaml:1: cannot read: No such file or directory",
        "pipe.yaml:1: cannot read: is a FIFO (named pipe), not a regular file",
    ]
