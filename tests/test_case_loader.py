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
