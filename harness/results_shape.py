"""The shape of a results document (results.schema.json): the checks every reader (report, merge, diff,
history, disagreements) relies on, so none of them meets a wrong type. `shape_problem` checks a whole
document; `row_problem` one row (a reader that parses rows one by one checks each distinct row once)."""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 64
MAX_NUMBER = 1e18  # counts and times beyond this are not measurements (and would overflow float arithmetic)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


_TEXT = (str, type(None))
_OBJECT = (dict, type(None))
_NUMBER = (int, float, type(None))


def is_text(v: Any) -> bool:
    return isinstance(v, str)


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) <= MAX_NUMBER


def depth(obj: Any) -> int:
    """How many levels of objects and lists nest (stops past MAX_DEPTH): one level at a time, so ~100,000
    rows cost one list comprehension per level instead of a recursive call per value."""
    level, count = [obj] if type(obj) in (dict, list) else [], 0
    while level and count <= MAX_DEPTH:
        count += 1
        level = [c for o in level for c in (o.values() if type(o) is dict else o) if type(c) is dict or type(c) is list]
    return count


def _row_ok(row: Any) -> bool:
    """A row of the right shape, found quickly (the checks below, without the message: ~130,000 rows in a
    merge of eight runs). False sends the row through those checks, which name its first problem."""
    if type(row) is not dict:
        return False
    get = row.get
    if not (type(get("case")) is str and type(get("mode")) is str and type(get("adapter")) is str
            and type(get("status")) is str and type(get("reason")) in _TEXT and type(get("stage")) in _TEXT
            and type(get("expected_source")) in _TEXT):
        return False
    stages, verification, signed, expected = get("stages"), get("verification"), get("signed"), get("expected")
    if not (type(stages) in _OBJECT and type(verification) in _OBJECT and type(signed) in _OBJECT and type(expected) in _OBJECT):
        return False
    for key in ("duration_ms", "elapsed_ns"):
        value = get(key)
        if type(value) not in _NUMBER or (value is not None and abs(value) > MAX_NUMBER):
            return False
    # (written out rather than as generators: a generator per stage cost a third of this function)
    if stages:
        for entry in stages.values():
            if type(entry) is not dict:
                return False
            at = entry.get
            if not (type(at("expected")) in _TEXT and type(at("actual")) in _TEXT and type(at("note")) in _TEXT
                    and type(at("diff")) in _TEXT):
                return False
    if expected:
        for v in expected.values():
            if type(v) not in _TEXT:
                return False
    if signed:
        headers = signed.get("headers")
        if headers is not None:
            if type(headers) is not list:
                return False
            for h in headers:
                if type(h) is not list:
                    return False
        if not (type(signed.get("method")) in _TEXT and type(signed.get("url")) in _TEXT and type(signed.get("body_b64")) in _TEXT):
            return False
    return True


def shape_problem(data: dict[str, Any]) -> str | None:
    """The first way `data` differs from the results format (results.schema.json), or None. It checks what
    every reader (report, merge, diff, history, disagreements) relies on, so none of them meets a wrong type."""
    if "results" not in data:
        return "results is missing"
    for key, kind in (("manifest", dict), ("adapters", dict), ("cases", dict), ("checks", dict), ("results", list),
                      ("case_errors", list), ("bench", dict)):
        if key in data and not isinstance(data[key], kind):
            return f"{key} is {_kind(data[key])}, not {_kind(kind())}"
    if depth(data) > MAX_DEPTH:
        return f"nested more than {MAX_DEPTH} levels deep"
    manifest = data.get("manifest") or {}
    for key in ("date", "harness_version"):
        if manifest.get(key) is not None and not is_text(manifest[key]):
            return f"manifest.{key} is {_kind(manifest[key])}, not text"
    for key in ("case_sources", "merged"):
        if manifest.get(key) is not None and not (isinstance(manifest[key], list) and all(isinstance(v, dict) for v in manifest[key])):
            return f"manifest.{key} is not a list of objects"
    for name, info in (data.get("adapters") or {}).items():
        where = f"adapters[{name!r}]"
        if not isinstance(info, dict):
            return f"{where} is {_kind(info)}, not an object"
        for key in ("name", "library", "library_version", "language", "runtime", "reason", "key"):
            if info.get(key) is not None and not is_text(info[key]):
                return f"{where}.{key} is {_kind(info[key])}, not text"
        for key in ("restarts", "checks", "library_elapsed_ns"):
            if info.get(key) is not None and not is_number(info[key]):
                return f"{where}.{key} is {_kind(info[key])}, not a number"
        if info.get("faults") is not None and not (isinstance(info["faults"], list) and all(is_text(f) for f in info["faults"])):
            return f"{where}.faults is not a list of text"
    for name, case in (data.get("cases") or {}).items():
        where = f"cases[{name!r}]"
        if not isinstance(case, dict):
            return f"{where} is {_kind(case)}, not an object"
        for key in ("tags", "refs", "modes", "open_choices", "region_set"):
            if case.get(key) is not None and not (isinstance(case[key], list) and all(is_text(v) for v in case[key])):
                return f"{where}.{key} is not a list of text"
        for key in ("title", "source", "note", "origin", "surface", "algorithm", "service", "region"):
            if case.get(key) is not None and not is_text(case[key]):
                return f"{where}.{key} is {_kind(case[key])}, not text"
        request = case.get("request")
        if request is not None and not isinstance(request, dict):
            return f"{where}.request is {_kind(request)}, not an object"
    for key, check in (data.get("checks") or {}).items():
        if not isinstance(check, dict) or not isinstance(check.get("expected") or {}, dict):
            return f"checks[{key!r}] is not an object with an expected object"
    for name, entry in (data.get("bench") or {}).items():
        if not isinstance(entry, dict) or not isinstance(entry.get("checks") or {}, dict):
            return f"bench[{name!r}] is not an object with a checks object"
        for check, figure in (entry.get("checks") or {}).items():
            if not isinstance(figure, dict):
                return f"bench[{name!r}].checks.{check} is {_kind(figure)}, not an object"
            for key in ("signs_per_sec", "ns_per_sign", "times_floor"):
                if figure.get(key) is not None and not is_number(figure[key]):
                    return f"bench[{name!r}].checks.{check}.{key} is {_kind(figure[key])}, not a number"
        for key in ("floor_per_sec", "floor_ns"):
            if entry.get(key) is not None and not is_number(entry[key]):
                return f"bench[{name!r}].{key} is {_kind(entry[key])}, not a number"
    for index, line in enumerate(data.get("case_errors") or []):
        if not is_text(line):
            return f"case_errors[{index}] is {_kind(line)}, not text"
    for index, row in enumerate(data["results"]):
        problem = row_problem(index, row)
        if problem:
            return problem
    return None


def row_problem(index: int, row: Any) -> str | None:
    """How results[index] differs from a row's shape, or None."""
    if _row_ok(row):
        return None
    where = f"results[{index}]"
    if not isinstance(row, dict):
        return f"{where} is {_kind(row)}, not an object"
    for key in ("case", "mode", "adapter", "status"):
        if key not in row:
            return f"{where} has no {key}"
        if not is_text(row[key]):
            return f"{where}.{key} is {_kind(row[key])}, not text"
    for key in ("reason", "stage", "expected_source"):
        if row.get(key) is not None and not is_text(row[key]):
            return f"{where}.{key} is {_kind(row[key])}, not text"
    for key in ("stages", "verification", "signed", "expected"):
        if row.get(key) is not None and not isinstance(row[key], dict):
            return f"{where}.{key} is {_kind(row[key])}, not an object"
    for stage, entry in (row.get("stages") or {}).items():
        if not isinstance(entry, dict):
            return f"{where}.stages.{stage} is {_kind(entry)}, not an object"
        for key in ("expected", "actual", "note", "diff"):
            if entry.get(key) is not None and not is_text(entry[key]):
                return f"{where}.stages.{stage}.{key} is {_kind(entry[key])}, not text"
    for stage, text in (row.get("expected") or {}).items():
        if text is not None and not is_text(text):
            return f"{where}.expected.{stage} is {_kind(text)}, not text"
    signed = row.get("signed") or {}
    headers = signed.get("headers")
    if headers is not None and not (isinstance(headers, list) and all(isinstance(h, list) for h in headers)):
        return f"{where}.signed.headers is not a list of [name, value] pairs"
    for key in ("method", "url", "body_b64"):
        if signed.get(key) is not None and not is_text(signed[key]):
            return f"{where}.signed.{key} is {_kind(signed[key])}, not text"
    for key in ("duration_ms", "elapsed_ns"):
        if row.get(key) is not None and not is_number(row[key]):
            return f"{where}.{key} is {_kind(row[key])}, not a number"
    return None
