"""junit.xml: one <testcase> per case x mode x adapter, a <testsuite> per adapter column. fail -> failure,
error -> error, unsupported -> skipped, variant -> passed (with the reason in system-out).

Written as pieces of text (what ElementTree with `indent` writes), from the `suites` of some of the rows:
the shares of a report's cases (harness/report/shares.py) each give theirs, and `joined` puts them together.
"""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass
from typing import Any

from harness import verdicts
from harness.report import model
from harness.report.text import xml_text
from harness.results import SPEC_RULES, expanded

_ATTR_SPECIAL = re.compile('[&<>"\n\r\t]')
_TEXT_SPECIAL = re.compile("[&<>]")


def _attr(value: Any) -> str:
    """An XML attribute value, escaped as ElementTree escapes it (after xml_text made it XML-safe)."""
    return _attr_text(value if isinstance(value, str) else xml_text(value))


@functools.lru_cache(maxsize=65536)
def _attr_text(value: str) -> str:
    """_attr of a text, once per text (reasons repeat across adapters and runs)."""
    text = xml_text(value)
    if _ATTR_SPECIAL.search(text):
        text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
                .replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;"))
    return text


def _text(value: Any) -> str:
    text = xml_text(value)
    if _TEXT_SPECIAL.search(text):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def pieces(clean: dict[str, Any]) -> list[str]:
    """junit.xml as pieces of text, element by element (an ElementTree of ~100,000 test cases costs seconds
    and hundreds of MB; so does one string of it); joined, what ElementTree with `indent` writes."""
    return joined(clean, [suites(clean, clean.get("results") or [])])


@dataclass
class Suite:
    """A junit.xml suite's part from some of the rows (`suites`): its test cases' elements, in order,
    their counts, and each one's time (the suite's time adds them up in order, as one pass over every row does)."""

    elements: str
    counts: dict[str, int]  # failures, errors, skipped
    times: list[float]


def suites(clean: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Suite]:
    """Per column key, its Suite from `rows` (its rows ordered by case and mode)."""
    cases = clean.get("cases") or {}
    if not _in_check_order(rows):
        by_adapter: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_adapter.setdefault(row["adapter"], []).append(row)
        rows = [row for of_adapter in by_adapter.values() for row in sorted(of_adapter, key=_case_and_mode)]
    # each column's rows now come in case and mode order (as runs and merges write them: then in one pass)
    inner_texts: dict[tuple[Any, ...], str] = {}
    # a verdict -> its JUnit element (None: a plain passed test case) and the suite count it adds to
    junit_count = {"failure": "failures", "error": "errors", "skipped": "skipped"}
    junit_and_count = {}
    for name, v in verdicts.VERDICTS.items():
        junit = None if name == verdicts.PASS else v.junit if v.junit in junit_count else "system-out"
        junit_and_count[name] = (junit, junit_count.get(junit))
    unknown = ("error", "errors")
    # column key -> (add a test case, add its time, its counts, how its test cases start); their parts and times
    open_suites: dict[str, tuple[Any, ...]] = {}
    made: dict[str, tuple[dict[str, int], list[str], list[float]]] = {}
    case = mode = names = None
    for row in rows:
        suite = open_suites.get(row["adapter"])
        if suite is None:
            parts: list[str] = []
            times: list[float] = []
            counts = {"failures": 0, "errors": 0, "skipped": 0}
            made[row["adapter"]] = (counts, parts, times)
            suite = open_suites[row["adapter"]] = (parts.append, times.append, counts, f'    <testcase classname="{_attr(row["adapter"])}.')
        add, timed, counts, start = suite
        get = row.get
        if row["case"] != case or row["mode"] != mode:  # the same for every adapter: escaped once per check
            case, mode = row["case"], row["mode"]
            topic = model.topic_of(case, cases.get(case, {}))
            names = f'{_attr(topic)}" name="{_attr(f"{case} [{mode}]")}" time="'
        elapsed = (get("duration_ms") or 0) / 1000
        timed(elapsed)
        status = get("status")
        junit, counted = junit_and_count.get(status, unknown)
        if junit is None:  # passed: most rows
            add(f'{start}{names}{elapsed:.3f}" />\n')
            continue
        if counted:
            counts[counted] += 1
        # rows read from results files share their values: one element for all rows alike (all but a failure's
        # hold the verdict and the reason alone: _junit_inner)
        alike = ((junit, status, case, mode, get("reason"), get("stage"), id(get("stages")), id(get("verification")),
                  id(get("expected"))) if junit == "failure" else (junit, status, get("reason")))
        inner = inner_texts.get(alike)
        if inner is None:
            inner = inner_texts[alike] = _junit_inner(clean, row, junit)
        add(f'{start}{names}{elapsed:.3f}">\n      {inner}\n    </testcase>\n')
    return {key: Suite("".join(parts), counts, times) for key, (counts, parts, times) in made.items()}


def _in_check_order(rows: list[dict[str, Any]]) -> bool:
    """Whether the rows come in case and mode order (then so does every column's)."""
    keys = list(map(_case_and_mode, rows))
    return all(map(operator.le, keys, keys[1:]))


def joined(clean: dict[str, Any], parts_of: list[dict[str, Suite]]) -> list[str]:
    """junit.xml (`pieces`) from the `suites` of consecutive sets of rows: a column's suite holds its test cases of
    each set in turn, its counts and time added up."""
    adapters = clean.get("adapters") or {}
    keys: dict[str, None] = {}
    for part in parts_of:
        keys.update(dict.fromkeys(part))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    stamp = _attr((clean.get("manifest") or {}).get("date", ""))
    parts: list[str] = []
    for key in model.adapter_order({k: adapters.get(k, {"name": k}) for k in keys}):
        pieces = [part[key] for part in parts_of if key in part]
        info = adapters.get(key, {})
        props = [f'      <property name="{prop}" value="{_attr(info[prop])}" />\n'
                 for prop in ("language", "library", "library_version", "runtime") if info.get(prop)]
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        seconds = 0.0
        for piece in pieces:
            counts["tests"] += len(piece.times)
            for name, n in piece.counts.items():
                counts[name] += n
            for elapsed in piece.times:
                seconds += elapsed
        for k, v in counts.items():
            totals[k] += v
        parts.append(f'  <testsuite name="{_attr(key)}" timestamp="{stamp}" tests="{counts["tests"]}" failures="{counts["failures"]}" '
                     f'errors="{counts["errors"]}" skipped="{counts["skipped"]}" time="{seconds:.3f}">\n')
        parts.append("    <properties>\n" + "".join(props) + "    </properties>\n" if props else "    <properties />\n")
        parts.append("".join(piece.elements for piece in pieces))  # a suite's test cases as one piece
        parts.append("  </testsuite>\n")
    root = (f'<testsuites name="sigharness" tests="{totals["tests"]}" failures="{totals["failures"]}" errors="{totals["errors"]}" '
            f'skipped="{totals["skipped"]}"')
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    if not parts:
        return [declaration + root + " />\n"]
    parts.insert(0, declaration + root + ">\n")
    parts.append("</testsuites>\n")
    return parts


_case_and_mode = operator.itemgetter("case", "mode")


def _junit_inner(clean: dict[str, Any], row: dict[str, Any], junit: str) -> str:
    """The element inside a test case that did not simply pass: failure, error, skipped or system-out."""
    status = row.get("status")
    reason = row.get("reason") or ""
    if junit == "failure":
        text = _text(_failure_text(expanded(clean, row)))
        return (f'<failure message="{_attr(reason)}" type="{_attr(row.get("stage") or status)}"'
                + (f">{text}</failure>" if text else " />"))
    if junit == "error":
        return f'<error message="{_attr(reason)}" type="{_attr(status)}" />'
    if junit == "skipped":
        return f'<skipped message="{_attr(f"{status}: " + reason)}" />'
    return f'<system-out>{_text(f"{status}: " + reason)}</system-out>'


def _failure_text(row: dict[str, Any]) -> str:
    parts = [row.get("reason") or ""]
    for name, st in (row.get("stages") or {}).items():
        if isinstance(st, dict) and st.get("diff"):
            parts.append(f"--- {name} (first difference at line {st.get('line')})\n{st['diff']}")
    ver = row.get("verification") or {}
    if ver and not ver.get("valid", True):
        parts.append(f"verifier: {ver.get('reason')} (rules: {ver.get('rules') or SPEC_RULES})")
    return "\n\n".join(p for p in parts if p)
