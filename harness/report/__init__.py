"""Outputs rendered from results.json: index.html (one self-contained page), junit.xml and summary.md.

    write_all(data, out_dir, history=None) -> [index.html, junit.xml, summary.md, known-issues/index.html]

`history` is a history file (see harness.history); when given, the page shows per adapter how the pass
count moved over the last runs and since when each check has had its verdict. See docs/report.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import orjson
from markupsafe import Markup

from harness import history as hist
from harness import oracle_table, verdicts
from harness.report import forked, junit, known_issues, model, render, shares
from harness.wire import table as wire_table
from harness.redaction import Sink
from harness.results import paused_gc, write_results
from harness.results_lines import Cut
from harness.report.text import md_cell, with_short_tokens

if TYPE_CHECKING:
    from harness.report.merge import Origins

STATIC = Path(__file__).resolve().parent / "static"


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
    return "".join(p.decode("utf-8") if type(p) is bytes else p for p in _html_chunks(clean, view, history, title))  # type: ignore[union-attr]


# where the page's two blobs go: rendered as these slots, each then replaced by its JSON given as the (UTF-8) bytes
# it is, never copied into the page's text (a rendered value's "<" is escaped: only the template places a slot)
_DATA_SLOT, _DETAIL_SLOT = Markup("<\0sh-data>"), Markup("<\0sh-detail>")


def _html_chunks(clean: dict[str, Any], view: dict[str, Any], history: dict[str, Any] | None, title: str | None) -> Iterator[str | bytes]:
    """index.html as the template's pieces, joined in groups (never one string of the whole page), and its two
    JSON blobs as bytes."""
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
    env = render.environment()
    template = env.get_template("report.html.j2")
    blobs = {_DATA_SLOT: _page_json(view["matrix"]), _DETAIL_SLOT: _page_json(view["detail"])}
    return render.spliced(render.grouped(template.generate(
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
        data_json=_DATA_SLOT,
        detail_json=_DETAIL_SLOT,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        oracles=_once(view, "oracles", lambda: oracle_table.table(clean)),
        fail_kinds=verdicts.FAIL_KINDS,
        known_file=known_issues.file_name,
        kind_counts=view["kind_counts"],
        wire=_once(view, "wire", lambda: wire_table.table(clean)),
        wire_findings=_once(view, "wire_findings", lambda: wire_table.findings(clean)),
    )), blobs)


def _once(view: dict[str, Any], name: str, make: Callable[[], Any]) -> Any:
    """A table both the page and the summary show, computed once per view (each is a pass over every row)."""
    if name not in view:
        view[name] = make()
    return view[name]


def _page_json(value: Any) -> bytes:
    """What json_for_html gives, as the UTF-8 bytes written into the page: no '<', '>' or '&' (so no '</script>'),
    no U+2028/9. Encoded by orjson (a merged report's blobs took a tenth of the report's time with json); a value
    it does not take (a lone surrogate, an integer past 64 bits) by json, as ASCII."""
    try:
        data = orjson.dumps(value)
    except TypeError:
        data = json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    # (as bytes: each replace is a scan for one byte)
    data = data.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")
    if not data.isascii():
        data = data.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
    return data


def render_junit(data: dict[str, Any]) -> str:
    """One <testcase> per case x mode x adapter; a <testsuite> per adapter. fail -> failure, error -> error,
    unsupported -> skipped, variant -> passed (with the reason in system-out)."""
    return "".join(junit.pieces(with_short_tokens(data)))


def render_summary(data: dict[str, Any], max_failures: int = shares.FAILING_SHOWN) -> str:
    """A short Markdown table for a pull request comment."""
    clean = with_short_tokens(data)
    return _summary(clean, model.build(clean), max_failures)


def _summary(clean: dict[str, Any], view: dict[str, Any], max_failures: int = shares.FAILING_SHOWN,
             failing: tuple[list[dict[str, Any]], int] | None = None) -> str:
    """summary.md; `failing`: (the first failing rows, how many there are), when known already."""
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
    bad, bad_count = shares.failing_rows(clean.get("results") or [], max_failures) if failing is None else failing
    if bad_count:
        lines += ["", f"<details><summary>{bad_count} failing checks</summary>", "",
                  "| case | mode | adapter | verdict | reason |", "| --- | --- | --- | --- | --- |"]
        for r in bad[:max_failures]:
            lines.append(f"| {md_cell(r['case'])} | {r['mode']} | {md_cell(r['adapter'])} | {model.SYMBOL[r['status']]} {r['status']} | "
                         f"{md_cell((r.get('reason') or '')[:200])} |")
        if bad_count > max_failures:
            lines.append(f"| … {bad_count - max_failures} more in index.html | | | | |")
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


class Written(list):
    """The paths `write_all` wrote, in order, and the number of checks (rows) the report holds; `made_from`: what
    the outputs were made from (page model, shares), for a command that ends its process without freeing them
    (harness/cli/common.keep_until_exit: a merge's page model is millions of objects, 0.03 s to free)."""

    checks: int = 0
    made_from: tuple[Any, ...] = ()


def write_all(data: dict[str, Any], out_dir: Path | str, history: Path | str | None = None, title: str | None = None,
              sink: Sink | None = None, origins: "Origins | None" = None,
              theirs: tuple[str, Callable[[model.Cells], shares.Share]] | None = None) -> Written:
    """Write index.html, junit.xml and summary.md into out_dir through `sink` (the run's redaction layer:
    secrets out of every value before rendering, and out of the rendered text once more); return their paths.
    With `origins` (a merge's), the merged results.json too, listed first. `theirs`: (pivot case, a function
    giving the Share of the cases from the pivot on, its cells renumbered into the Cells given), when another
    process read those rows and `data` holds the cases before it."""
    with paused_gc():
        return _write_all(data, out_dir, history, title, sink or Sink(), origins, theirs)


def _write_all(data: dict[str, Any], out_dir: Path | str, history: Path | str | None, title: str | None,
               sink: Sink, origins: "Origins | None" = None,
               theirs: tuple[str, Callable[[model.Cells], shares.Share]] | None = None) -> Written:
    """What each output takes from the rows is computed in shares of the cases (harness/report/shares.py): with
    a second core, the cases from a pivot on by another process, while this one writes a merge's results.json
    lines; the shares joined, a child writes the known-issues pages while this process writes index.html,
    junit.xml and summary.md."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clean = with_short_tokens(sink.clean(data))  # once for every output: no secret, no whole session token
    loaded = load_history(history)
    where = model.frame(clean, loaded)
    rows = clean.get("results") or []
    def lines_from(start: int) -> Callable[[list[dict[str, Any]]], list[bytes]] | None:
        """A merge's results.json lines for the merged rows from place `start` on (None: not a merge)."""
        if origins is None:
            return None
        from harness.report.merge import merged_lines

        return lambda part: merged_lines(part, origins, start)

    lines = lines_from(0)
    second = forked.second_core()
    if second:
        sink.retired = []  # the old results.json is removed by the child writing the pages (below)
    receive: Callable[[], shares.Share] | None = None
    child: forked.Child | None = None
    if theirs is not None:
        pivot, receive_theirs = theirs
        mine = shares.share(clean, where, rows, Cut(pivot, first=True), lines)
        receive = lambda: receive_theirs(mine.cells)  # noqa: E731
    else:
        cut = shares.rows_pivot(rows) if second else None
        if cut is None:
            mine = shares.share(clean, where, rows, None, lines)
        else:
            pivot, at = cut
            child = forked.Child("the checks from case " + repr(pivot) + " on",
                                 lambda c: shares.sent(c.send, c.send_bytes, clean, where, rows[at:], Cut(pivot, first=False), lines_from(at)))
            mine = shares.share(clean, where, rows[:at], Cut(pivot, first=True), lines)
            receive = lambda: shares.received(child.receive, mine.cells)  # noqa: E731
    parts = [mine]
    written = Written()
    try:
        if origins is not None:
            def rows_chunks() -> Iterator[bytes]:
                # this share's lines are written while the other share is on its way
                yield from mine.lines
                if receive is not None:
                    parts.append(receive())
                    yield from parts[1].lines
            written.append(write_results(out, data, sink, rows_chunks=rows_chunks()))
            for part in parts:
                del part.lines[:]
        elif receive is not None:
            parts.append(receive())
    finally:
        if child is not None:
            child.stop()
    joined = shares.join(clean, parts)
    try:
        place = model.page_order(where, joined.cells)
    except model.OutsideFrame as exc:
        raise shares.Mismatch(f"a share holds a {exc} outside the frame") from None
    columns = [model.column(key, where.adapters[key]) for key in where.order]
    found = known_issues.ordered(joined.failing, place.topics)
    failing = (joined.failing_rows, joined.failing_count)

    def known_issues_pages() -> Path:
        sink.remove_retired()
        return _write_known_issues(columns, out, sink, found)

    # the known-issues pages (a few hundred, the longest of the outputs) are written by a child while this process
    # makes the page model and writes index.html, junit.xml and summary.md; the child also removes the old
    # results.json. The templates are loaded first, once for both (loading Jinja takes 0.05 s)
    env = render.environment()
    for name in ("report.html.j2", "known_issues.html.j2"):
        env.get_template(name)
    pages = forked.Child("the known-issues pages", lambda c: c.send(known_issues_pages())) if second else None
    sink.retired = None
    written.checks = joined.rows
    try:
        view = model.assemble(clean, where, joined.cells, title, place)
        view.update(joined.tables)
        written.append(sink.write_pieces(out / "index.html", _html_chunks(clean, view, loaded, title)))
        written.append(sink.write_pieces(out / "junit.xml", junit.joined(clean, joined.suites)))
        written.append(sink.write_pieces(out / "summary.md", [_summary(clean, view, failing=failing)]))
        written.append(pages.receive() if pages is not None else known_issues_pages())
        written.made_from = (view, joined, found, parts, where)
        return written
    except BaseException:
        if pages is not None:
            pages.stop()  # (no longer wanted: a caller may write the pages again)
        raise
    finally:
        if pages is not None:
            pages.close()


def _write_known_issues(columns: list[dict[str, Any]], out: Path, sink: Sink, found: dict[str, list[dict[str, Any]]]) -> Path:
    """known-issues/<adapter>.html per adapter with failing checks, and known-issues/index.html (returned)."""
    folder = out / "known-issues"
    fresh, old = out / ".known-issues.new", out / ".known-issues.old"
    for leftover in (fresh, old):
        shutil.rmtree(leftover, ignore_errors=True)
    fresh.mkdir()
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    # the pages are written into a new folder that then replaces the old one at once (no stale page of a
    # library that no longer fails stays; one rename instead of one per page: a merge writes ~400)
    for name, pieces in known_issues.pages(columns, render.environment(), generated, found):
        sink.write_pieces(fresh / name, pieces, atomic=False)
    if folder.exists():
        folder.rename(old)
    fresh.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder / "index.html"
