"""Outputs rendered from results.json: index.html (one self-contained page), junit.xml and summary.md.

    write_all(data, out_dir, history=None) -> [index.html, junit.xml, summary.md]

`history` is a history file (see harness.history); when given, the page shows per adapter how the pass
count moved over the last runs and since when each check has had its verdict. See docs/report.md.
"""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from markupsafe import Markup

from harness import history as hist
from harness import oracles, verdicts
from harness.report import model
from harness.redaction import Sink
from harness.results import expanded
from harness.report.text import json_for_html, md_cell, shorten_tokens, xml_text

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every value is escaped unless marked safe here
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = model.percent
    env.filters["num"] = lambda n: "—" if n is None else f"{n:,}".replace(",", " ")
    env.filters["show"] = _show
    return env


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
    clean = shorten_tokens(data)
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
    return template.render(
        title=page_title,
        view=view,
        manifest=manifest,
        merged=manifest.get("merged") or [],
        adapters=view["adapters"],
        case_errors=clean.get("case_errors") or [],
        statuses=model.STATUSES,
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
        data_json=Markup(json_for_html(view["matrix"])),
        detail_json=Markup(json_for_html(view["detail"])),
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        oracles=oracles.table(clean),
    )


def render_junit(data: dict[str, Any]) -> str:
    """One <testcase> per case x mode x adapter; a <testsuite> per adapter. fail -> failure, error -> error,
    unsupported -> skipped, variant -> passed (with the reason in system-out)."""
    return _junit(shorten_tokens(data))


def _junit(clean: dict[str, Any]) -> str:
    adapters = clean.get("adapters") or {}
    by_adapter: dict[str, list[dict[str, Any]]] = {}
    for row in clean.get("results") or []:
        by_adapter.setdefault(row["adapter"], []).append(row)
    root = ET.Element("testsuites", name="sigharness")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    stamp = (clean.get("manifest") or {}).get("date", "")
    for key in model.adapter_order({k: adapters.get(k, {"name": k}) for k in by_adapter}):
        rows = sorted(by_adapter[key], key=lambda r: (r["case"], r["mode"]))
        info = adapters.get(key, {})
        suite = ET.SubElement(root, "testsuite", name=xml_text(key), timestamp=xml_text(stamp))
        props = ET.SubElement(suite, "properties")
        for prop in ("language", "library", "library_version", "runtime"):
            if info.get(prop):
                ET.SubElement(props, "property", name=prop, value=xml_text(info[prop]))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        seconds = 0.0
        for row in rows:
            case = row["case"]
            topic = model.topic_of(case, (clean.get("cases") or {}).get(case, {}))
            elapsed = (row.get("duration_ms") or 0) / 1000
            seconds += elapsed
            tc = ET.SubElement(suite, "testcase", classname=xml_text(f"{key}.{topic}"),
                               name=xml_text(f"{case} [{row['mode']}]"), time=f"{elapsed:.3f}")
            counts["tests"] += 1
            status, reason = row.get("status"), xml_text(row.get("reason") or "")
            junit = (verdicts.VERDICTS.get(status) or verdicts.VERDICTS[verdicts.ERROR]).junit
            if junit == "failure":
                counts["failures"] += 1
                node = ET.SubElement(tc, "failure", message=reason, type=xml_text(row.get("stage") or status))
                node.text = xml_text(_failure_text(expanded(clean, row)))
            elif junit == "error":
                counts["errors"] += 1
                ET.SubElement(tc, "error", message=reason, type=xml_text(status))
            elif junit == "skipped":
                counts["skipped"] += 1
                ET.SubElement(tc, "skipped", message=xml_text(f"{status}: " + (row.get("reason") or "")))
            elif status != verdicts.PASS:
                ET.SubElement(tc, "system-out").text = xml_text(f"{status}: " + (row.get("reason") or ""))
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
        suite.set("time", f"{seconds:.3f}")
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


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
    clean = shorten_tokens(data)
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
    lines += _oracle_lines(oracles.table(clean))
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


def write_all(data: dict[str, Any], out_dir: Path | str, history: Path | str | None = None, title: str | None = None,
              sink: Sink | None = None) -> list[Path]:
    """Write index.html, junit.xml and summary.md into out_dir through `sink` (the run's redaction layer:
    secrets out of every value before rendering, and out of the rendered text once more); return their paths."""
    sink = sink or Sink()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    clean = shorten_tokens(sink.clean(data))  # once for every output: no secret, no whole session token
    loaded = load_history(history)
    view = model.build(clean, loaded, title)
    for name, text in (
        ("index.html", _html(clean, view, loaded, title)),
        ("junit.xml", _junit(clean)),
        ("summary.md", _summary(clean, view)),
    ):
        written.append(sink.write_text(out / name, text))
    return written
