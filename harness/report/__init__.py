"""Outputs rendered from results.json: index.html (one self-contained page), junit.xml and summary.md.

    write_all(data, out_dir, history=None) -> [index.html, junit.xml, summary.md, known-issues/index.html]

`history` is a history file (see harness.history); when given, the page shows per adapter how the pass
count moved over the last runs and since when each check has had its verdict. See docs/report.md.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import operator
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from markupsafe import Markup, escape

from harness import history as hist
from harness import oracle_table, verdicts
from harness.report import forked, known_issues, model
from harness.wire import table as wire_table
from harness.redaction import Sink
from harness.results import expanded, paused_gc
from harness.report.text import json_for_html, md_cell, with_short_tokens, xml_text

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@functools.lru_cache(maxsize=1)
def _environment():
    """The templates' environment, once per process; compiled templates are kept in Jinja's own cache
    folder (a private folder under the temporary directory), so a report does not compile the page's
    template again (0.3 s)."""
    import jinja2

    try:
        cache = jinja2.FileSystemBytecodeCache()
    except (RuntimeError, OSError):  # no safe temporary folder: compile every time
        cache = None
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        bytecode_cache=cache,
        autoescape=True,  # every value is escaped unless marked safe here
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = model.percent
    env.globals["score_cells"] = score_cells
    env.filters["num"] = lambda n: "—" if n is None else f"{n:,}".replace(",", " ")
    env.filters["show"] = _show
    return env


def score_cells(cells: list[dict[str, Any]], adapters: list[dict[str, Any]], label: str, blank: bool = False) -> list[Markup]:
    """The score cells of one row of the surface or topic table, one text each (a merged report's tables have
    ~10,000 cells; built in the template, each cost a dozen attribute lookups). `blank`: no text for a cell
    without a score (else the dash of `percent`)."""
    row = []
    where = escape(label)
    for adapter, c in zip(adapters, cells):
        sc = c["score"]
        band = "none" if sc is None else "full" if c["fail"] + c["error"] == 0 else "high" if sc >= 0.8 else "mid" if sc >= 0.5 else "low"
        row.append(Markup(f'<td class="num sc-{band}" title="{escape(adapter["k"])} · {where}: pass {escape(c["pass"])}, '
                          f'variant {escape(c["variant"])}, fail {escape(c["fail"])}, error {escape(c["error"])}, '
                          f'unsupported {escape(c["unsupported"])}">{"" if blank and sc is None else escape(model.percent(sc))}</td>'))
    return row


def _show(value: Any) -> str:
    """A setting as a person reads it: lists comma-separated, mappings as k=v."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={_show(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v) for v in value)
    return str(value)


def load_history(path: Path | str | None, last: int = 30) -> dict[str, Any] | None:
    if not path:
        return None
    entries = hist.read(path)
    if not entries:
        return None
    return {
        "path": str(path),
        "entries": len(entries),
        "state": hist.replay(entries),
        "latest_date": entries[-1].get("date"),
        "trend": hist.trend(entries, last),
        "recent": hist.recent_changes(entries, 100),
    }


def sparkline(points: list[dict[str, Any]], width: int = 120, height: int = 26) -> Markup:
    """An inline SVG of the pass count over runs (no script, no external resource), with a text alternative."""
    values = [p.get("pass", 0) for p in points]
    if not values:
        return Markup("")
    lo, hi = min(values), max(values)
    span = max(hi - lo, 1)
    n = len(values)
    xs = [2 + (width - 4) * (i / (n - 1) if n > 1 else 0.5) for i in range(n)]
    ys = [height - 3 - (height - 6) * ((v - lo) / span) for v in values]
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
    label = f"pass count over the last {n} runs: " + ", ".join(
        f"{p.get('date', '')[:10]} {p.get('pass', 0)}" + (f" ({p['version']})" if p.get("version") else "") for p in points)
    from markupsafe import escape

    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.8"><title>{escape(p.get("date", ""))}: {p.get("pass", 0)} pass'
        f'{escape(" · " + str(p["version"])) if p.get("version") else ""}</title></circle>'
        for x, y, p in zip(xs, ys, points))
    return Markup(
        f'<svg class="spark" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(label)}"><polyline points="{pts}" fill="none" stroke="currentColor" stroke-width="1.5"/>'
        f"{dots}</svg>"
    )


def render_html(data: dict[str, Any], history: dict[str, Any] | None = None, title: str | None = None) -> str:
    clean = with_short_tokens(data)
    return _html(clean, model.build(clean, history, title), history, title)


def _public(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest as the page shows it: adapter_env values (which may hold anything) are not shown, only names."""
    out = dict(manifest)
    settings = dict(out.get("settings") or {})
    if settings.get("adapter_env"):
        settings["adapter_env"] = {k: "(set)" for k in settings["adapter_env"]}
    out["settings"] = settings
    if out.get("merged"):
        out["merged"] = [{**run, "manifest": _public(run.get("manifest") or {})} for run in out["merged"]]
    return out


def _html(clean: dict[str, Any], view: dict[str, Any], history: dict[str, Any] | None, title: str | None) -> str:
    return "".join(_html_chunks(clean, view, history, title))


def _html_chunks(clean: dict[str, Any], view: dict[str, Any], history: dict[str, Any] | None, title: str | None) -> Iterator[str]:
    """index.html as the template's pieces (never one string of the whole page)."""
    manifest = _public(clean.get("manifest") or {})
    css = verdicts.css() + (STATIC / "report.css").read_text(encoding="utf-8")
    js = (STATIC / "report.js").read_text(encoding="utf-8")
    for name, text, closer in (("report.css", css, "</style"), ("report.js", js, "</script")):
        if closer in text.lower() or "<!--" in text:
            raise RuntimeError(f"{name} must not contain {closer!r} or '<!--' (it is inlined into the page)")
    script_hash = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode()
    page_title = title or "sigharness compatibility report"
    bench = clean.get("bench") or {}
    bench_checks = sorted({c for b in bench.values() if isinstance(b, dict) for c in (b.get("checks") or {})})
    bench_max = {c: max([((b.get("checks") or {}).get(c) or {}).get("signs_per_sec") or 0 for b in bench.values() if isinstance(b, dict)] or [0])
                 for c in bench_checks}
    trend = (history or {}).get("trend") or {}
    env = _environment()
    template = env.get_template("report.html.j2")
    return template.generate(
        title=page_title,
        view=view,
        manifest=manifest,
        merged=manifest.get("merged") or [],
        adapters=view["adapters"],
        case_errors=clean.get("case_errors") or [],
        statuses=model.STATUSES,
        scores_shown=model.SCORES_SHOWN,
        count_order=verdicts.COUNT_ORDER,
        symbols=model.SYMBOL,
        meaning=model.MEANING,
        formula=model.SCORE_FORMULA,
        bench=bench,
        bench_checks=bench_checks,
        bench_max=bench_max,
        history=history,
        trend=trend,
        sparkline=sparkline,
        css=Markup(css),
        js=Markup(js),
        script_hash=script_hash,
        data_json=Markup(_page_json(view["matrix"])),
        detail_json=Markup(_page_json(view["detail"])),
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        oracles=_once(view, "oracles", lambda: oracle_table.table(clean)),
        fail_kinds=verdicts.FAIL_KINDS,
        known_file=known_issues.file_name,
        kind_counts=view["kind_counts"],
        wire=_once(view, "wire", lambda: wire_table.table(clean)),
        wire_findings=_once(view, "wire_findings", lambda: wire_table.findings(clean)),
    )


def _once(view: dict[str, Any], name: str, make: Callable[[], Any]) -> Any:
    """A table both the page and the summary show, computed once per view (each is a pass over every row)."""
    if name not in view:
        view[name] = make()
    return view[name]


def _page_json(value: Any) -> str:
    """What json_for_html gives, as ASCII: every other character as a \\u escape, so the page's two big blobs
    are strings of one byte per character (one emoji in a reason makes a Python string four bytes per
    character) and U+2028/9 are escaped by the encoder itself."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_junit(data: dict[str, Any]) -> str:
    """One <testcase> per case x mode x adapter; a <testsuite> per adapter. fail -> failure, error -> error,
    unsupported -> skipped, variant -> passed (with the reason in system-out)."""
    return _junit(with_short_tokens(data))


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


def _junit(clean: dict[str, Any]) -> str:
    return "".join(_junit_chunks(clean))


def _junit_chunks(clean: dict[str, Any]) -> list[str]:
    """junit.xml as pieces of text, element by element (an ElementTree of ~100,000 test cases costs seconds
    and hundreds of MB; so does one string of it); joined, what ElementTree with `indent` writes."""
    adapters = clean.get("adapters") or {}
    cases = clean.get("cases") or {}
    by_adapter: dict[str, list[dict[str, Any]]] = {}
    for row in clean.get("results") or []:
        by_adapter.setdefault(row["adapter"], []).append(row)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    stamp = _attr((clean.get("manifest") or {}).get("date", ""))
    testcase_names: dict[tuple[str, str], str] = {}  # (case, mode) -> its escaped classname tail and name
    inner_texts: dict[tuple[Any, ...], str] = {}
    # a verdict -> its JUnit element (None: a plain passed test case) and the suite count it adds to
    junit_count = {"failure": "failures", "error": "errors", "skipped": "skipped"}
    junit_and_count = {}
    for name, v in verdicts.VERDICTS.items():
        junit = None if name == verdicts.PASS else v.junit if v.junit in junit_count else "system-out"
        junit_and_count[name] = (junit, junit_count.get(junit))
    unknown = ("error", "errors")
    parts: list[str] = []
    for key in model.adapter_order({k: adapters.get(k, {"name": k}) for k in by_adapter}):
        rows = sorted(by_adapter[key], key=_case_and_mode)
        info = adapters.get(key, {})
        props = [f'      <property name="{prop}" value="{_attr(info[prop])}" />\n'
                 for prop in ("language", "library", "library_version", "runtime") if info.get(prop)]
        opening = len(parts)
        parts.append("")  # the suite's opening tag, once its test cases are counted
        parts.append("    <properties>\n" + "".join(props) + "    </properties>\n" if props else "    <properties />\n")
        counts = {"tests": len(rows), "failures": 0, "errors": 0, "skipped": 0}
        seconds = 0.0
        name_attr = _attr(key)
        suite_start = len(parts)
        add = parts.append
        for row in rows:
            get = row.get
            case, mode = row["case"], row["mode"]
            names = testcase_names.get((case, mode))
            if names is None:  # the same for every adapter: escaped once
                topic = model.topic_of(case, cases.get(case, {}))
                names = testcase_names[(case, mode)] = f'{_attr(topic)}" name="{_attr(f"{case} [{mode}]")}'
            elapsed = (get("duration_ms") or 0) / 1000
            seconds += elapsed
            status = get("status")
            junit, counted = junit_and_count.get(status, unknown)
            if junit is None:  # passed: most rows
                add(f'    <testcase classname="{name_attr}.{names}" time="{elapsed:.3f}" />\n')
                continue
            if counted:
                counts[counted] += 1
            head = f'    <testcase classname="{name_attr}.{names}" time="{elapsed:.3f}"'
            # rows read from results files share their values: one element for all rows alike
            alike = (junit, status, case, mode, get("reason"), get("stage"), id(get("stages")), id(get("verification")),
                     id(get("expected")))
            inner = inner_texts.get(alike)
            if inner is None:
                inner = inner_texts[alike] = _junit_inner(clean, row, junit)
            add(f"{head}>\n      {inner}\n    </testcase>\n")
        parts[suite_start:] = ["".join(parts[suite_start:])]  # a suite's test cases as one piece
        for k, v in counts.items():
            totals[k] += v
        parts[opening] = (f'  <testsuite name="{name_attr}" timestamp="{stamp}" tests="{counts["tests"]}" failures="{counts["failures"]}" '
                          f'errors="{counts["errors"]}" skipped="{counts["skipped"]}" time="{seconds:.3f}">\n')
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
        parts.append(f"verifier: {ver.get('reason')} (rules: {ver.get('rules')})")
    return "\n\n".join(p for p in parts if p)


def render_summary(data: dict[str, Any], max_failures: int = 15) -> str:
    """A short Markdown table for a pull request comment."""
    clean = with_short_tokens(data)
    return _summary(clean, model.build(clean), max_failures)


def _summary(clean: dict[str, Any], view: dict[str, Any], max_failures: int = 15) -> str:
    manifest = clean.get("manifest") or {}
    counts = view["counts"]
    lines = [
        f"### sigharness: {view['n_checks']} checks, {view['n_cases']} cases, {len(view['adapters'])} adapters",
        "",
        f"{md_cell(manifest.get('date', ''))} · sigharness {md_cell(manifest.get('harness_version', ''))} · "
        + " · ".join(f"{model.SYMBOL[s]} {s} {counts[s]}" for s in model.STATUSES),
        "",
        "A fail is: " + " · ".join(f"{k.symbol} {k.label} {view['kind_counts'][k.name]}" for k in verdicts.FAIL_KINDS) + ".",
        "",
        "| adapter | library | version | score | " + " | ".join(f"{model.SYMBOL[s]} {s}" for s in verdicts.COUNT_ORDER) + " |",
        "| --- | --- | --- | ---: | " + " | ".join("---:" for _ in verdicts.COUNT_ORDER) + " |",
    ]
    for a in view["adapters"]:
        t = a["tally"]
        name = md_cell(a["k"]) + ("" if a["avail"] else " (unavailable)")
        lines.append(f"| {name} | {md_cell(a['lib'])} | {md_cell(a['ver'])} | {model.percent(t['score'])} | "
                     + " | ".join(str(t[s]) for s in verdicts.COUNT_ORDER) + " |")
    agree = view["agreement"]
    lines += ["", f"{model.SCORE_FORMULA}. Checks passed by all adapters that ran them: {agree.get('all', 0)}; "
              f"by some: {agree.get('some', 0)}; by none: {agree.get('none', 0)}."]
    lines += _oracle_lines(_once(view, "oracles", lambda: oracle_table.table(clean)))
    lines += _wire_lines(_once(view, "wire", lambda: wire_table.table(clean)),
                         _once(view, "wire_findings", lambda: wire_table.findings(clean)), max_failures)
    bad = [r for r in clean.get("results") or [] if verdicts.klass(r.get("status")) == verdicts.BAD]
    if bad:
        lines += ["", f"<details><summary>{len(bad)} failing checks</summary>", "",
                  "| case | mode | adapter | verdict | reason |", "| --- | --- | --- | --- | --- |"]
        for r in bad[:max_failures]:
            lines.append(f"| {md_cell(r['case'])} | {r['mode']} | {md_cell(r['adapter'])} | {model.SYMBOL[r['status']]} {r['status']} | "
                         f"{md_cell((r.get('reason') or '')[:200])} |")
        if len(bad) > max_failures:
            lines.append(f"| … {len(bad) - max_failures} more in index.html | | | | |")
        lines += ["", "</details>"]
    if clean.get("case_errors"):
        lines += ["", f"**{len(clean['case_errors'])} case file problem(s)**: " + "; ".join(md_cell(e) for e in clean["case_errors"][:5])]
    return "\n".join(lines) + "\n"


def _oracle_lines(table: list[dict[str, Any]]) -> list[str]:
    """The summary's oracle table (docs/oracles.md): checks each judged and its agreement with our verifier."""
    if not table:
        return []
    lines = ["", "| oracle | library | judged | agree | rate | disagree (known / to triage) | n/a |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for o in table:
        rate = "—" if o["rate"] is None else model.percent(o["rate"])
        name = md_cell(o["name"]) + ("" if o["available"] else " (unavailable)")
        lines.append(f"| {name} | {md_cell(o['library'])} {md_cell(o['version'])} | {o['judged']} | {o['agree']} | {rate} | "
                     f"{o['known']} / {o['unknown']} | {o['not_applicable']} |")
    return lines


def _wire_lines(table: list[dict[str, Any]], found: list[dict[str, Any]], max_rows: int) -> list[str]:
    """The wire stage (docs/wire.md): signer verdicts next to wire verdicts per ADAPTER+CLIENT, and the
    checks that pass when signed and fail when sent."""
    if not table:
        return []
    def tally(counts: dict[str, int]) -> str:
        return " ".join(f"{model.SYMBOL[s]}{counts[s]}" for s in verdicts.COUNT_ORDER if counts.get(s))
    lines = ["", "| adapter+client | signer verdicts | wire verdicts | passes when signed, fails when sent |",
             "| --- | --- | --- | ---: |"]
    for w in table:
        lines.append(f"| {md_cell(w['name'])} | {tally(w['signer'])} | {tally(w['wire'])} | {w['signed_not_sent']} |")
    if found:
        lines += ["", f"<details><summary>{len(found)} checks pass when signed and fail when sent</summary>", "",
                  "| case | mode | adapter+client | first difference |", "| --- | --- | --- | --- |"]
        lines += [f"| {md_cell(f['case'])} | {f['mode']} | {md_cell(f['adapter'])} | {md_cell(f['difference'][:200])} |"
                  for f in found[:max_rows]]
        lines += ["", "</details>"]
    return lines


def write_all(data: dict[str, Any], out_dir: Path | str, history: Path | str | None = None, title: str | None = None,
              sink: Sink | None = None, first: Callable[[], Path] | None = None) -> list[Path]:
    """Write index.html, junit.xml and summary.md into out_dir through `sink` (the run's redaction layer:
    secrets out of every value before rendering, and out of the rendered text once more); return their paths.
    `first` writes one more file (a merge's results.json) and returns its path, listed first."""
    with paused_gc():
        return _write_all(data, out_dir, history, title, sink or Sink(), first)


_TABLES: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (  # both the page and the summary show them
    ("oracles", oracle_table.table), ("wire", wire_table.table), ("wire_findings", wire_table.findings))


def _write_all(data: dict[str, Any], out_dir: Path | str, history: Path | str | None, title: str | None,
               sink: Sink, first: Callable[[], Path] | None = None) -> list[Path]:
    """The outputs one after the other, or, with a second core, in three processes: a child computes the
    tables and writes `first` and junit.xml while the page model is built; a second child writes summary.md
    and the known-issues pages while this process writes index.html (harness/report/forked.py)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clean = with_short_tokens(sink.clean(data))  # once for every output: no secret, no whole session token

    def junit() -> Path:
        return sink.write_pieces(out / "junit.xml", _junit_chunks(clean))

    if not forked.second_core():
        written = [first()] if first else []
        loaded = load_history(history)
        view = model.build(clean, loaded, title)
        written.append(sink.write_pieces(out / "index.html", _html_chunks(clean, view, loaded, title)))
        written.append(junit())
        written.append(sink.write_pieces(out / "summary.md", [_summary(clean, view)]))
        written.append(_write_known_issues(clean, view, out, sink))
        return written

    def tables_first_then_files(child: forked.Child) -> None:
        child.send({name: make(clean) for name, make in _TABLES})
        child.send([first()] if first else [])
        child.send(junit())

    def summary_and_known_issues(child: forked.Child) -> None:
        child.send(sink.write_pieces(out / "summary.md", [_summary(clean, view)]))
        child.send(_write_known_issues(clean, view, out, sink))

    files = forked.Child("junit.xml and results.json", tables_first_then_files)
    others: forked.Child | None = None
    try:
        loaded = load_history(history)
        view = model.build(clean, loaded, title)
        view.update(files.receive())
        others = forked.Child("summary.md and the known-issues pages", summary_and_known_issues)
        page = sink.write_pieces(out / "index.html", _html_chunks(clean, view, loaded, title))
        written = files.receive() + [page, files.receive()]
        written += [others.receive(), others.receive()]
        return written
    finally:
        files.close()
        if others is not None:
            others.close()


def _write_known_issues(clean: dict[str, Any], view: dict[str, Any], out: Path, sink: Sink) -> Path:
    """known-issues/<adapter>.html per adapter with failing checks, and known-issues/index.html (returned)."""
    folder = out / "known-issues"
    fresh, old = out / ".known-issues.new", out / ".known-issues.old"
    for leftover in (fresh, old):
        shutil.rmtree(leftover, ignore_errors=True)
    fresh.mkdir()
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    # the pages are written into a new folder that then replaces the old one at once (no stale page of a
    # library that no longer fails stays; one rename instead of one per page: a merge writes ~400)
    for name, text in known_issues.pages(clean, view, _environment(), generated):
        sink.write_text(fresh / name, text, atomic=False)
    if folder.exists():
        folder.rename(old)
    fresh.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder / "index.html"
