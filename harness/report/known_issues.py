"""Known issues per library: known-issues/<adapter>.html next to index.html, one page per adapter with
failing checks (fail or error), grouped by topic, each with what happened, the first differing stage, the
lines that differ, the evidence and the command that reproduces it, and the same as Markdown to paste
into a bug report upstream. known-issues/index.html lists the pages. Static HTML: no script.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterator

from markupsafe import Markup, escape

from harness import verdicts
from harness.redaction import utf8
from harness.refs import ref_link
from harness.report import model
from harness.results import expanded

STAGE_WORDS = {"canonical_request": "canonical request", "string_to_sign": "string to sign", "signature": "signature",
               "signed_request": "signed request", "sign": "signing (the library refused)", "policy_document": "POST policy document",
               "form_fields": "form fields", "token": "token", "form": "form"}
MAX_DIFF_LINES = 12


def file_name(adapter: str) -> str:
    """The page's file name for an adapter column key (`name@version` and `signer+client` keys included)."""
    return "".join(ch if ch.isalnum() or ch in "-_.@+" else "_" for ch in adapter) + ".html"


def _first_difference(row: dict[str, Any]) -> tuple[str | None, str]:
    """The first differing stage and its unified diff (clipped), from the expanded row."""
    stage = row.get("stage")
    stages = row.get("stages") or {}
    entry = stages.get(stage) if isinstance(stages.get(stage), dict) else None
    if entry is None:
        entry = next((st for st in stages.values() if isinstance(st, dict) and st.get("diff")), None)
    diff = (entry or {}).get("diff") or ""
    lines = diff.split("\n")
    if len(lines) > MAX_DIFF_LINES:
        lines = lines[:MAX_DIFF_LINES] + [f"... ({len(lines) - MAX_DIFF_LINES} more lines)"]
    return stage, "\n".join(lines).strip()


def failing(clean: dict[str, Any], columns: dict[str, dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per column key (of `columns`: column key -> the column as the page shows it, model.column), the items of
    its failing rows among `rows`, in their order, each its case, mode, topic and `html` (the item as its page
    shows it, UTF-8: a share of the checks renders its own, harness/report/shares.py); `ordered` joins such sets
    and orders each column's items as the page lists them."""
    cases = clean.get("cases") or {}
    manifest = clean.get("manifest") or {}
    sources = list(manifest.get("case_sources") or [])
    for run in manifest.get("merged") or []:
        sources += (run.get("manifest") or {}).get("case_sources") or []
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    alike: dict[tuple[Any, ...], dict[str, Any]] = {}  # what rows alike share (rows read from files share their values)
    by_column: dict[str, tuple[bytes, bytes]] = {}  # column key -> (its adapter's name quoted for the shell, its Markdown words), escaped
    for row in rows:
        if row.get("status") in verdicts.NOT_BAD or row["adapter"] not in columns:
            continue
        key = (row["case"], row["mode"], row.get("status"), row.get("reason"), row.get("stage"), id(row.get("stages")),
               id(row.get("verification")), id(row.get("expected")))
        shared = alike.get(key)
        if shared is None:
            shared = alike[key] = _shared(clean, row, cases.get(row["case"]) or {}, sources)
            # items of several columns share it: one head each, and the escaped texts around the column's words
            shared["parts"] = _item_parts(shared)
        column = by_column.get(row["adapter"])
        if column is None:
            adapter = columns[row["adapter"]]
            column = by_column[row["adapter"]] = (utf8(escape(model.shell(adapter["name"]))), utf8(_column_words(adapter)))
        name, words = column
        before, title, after, end = shared["parts"]
        out[row["adapter"]].append({"case": shared["case"], "mode": shared["mode"], "topic": shared["topic"],
                                    "html": b"".join((before, name, title, words, after, name, end))})
    return out


def ordered(found: list[dict[str, list[dict[str, Any]]]], topics: list[str]) -> dict[str, list[dict[str, Any]]]:
    """`failing` of consecutive sets of rows joined, each column's items in the report's topic order (`topics`:
    model.page_order's)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for part in found:
        for key, items in part.items():
            out[key] += items
    topic_rank = {t: i for i, t in enumerate(topics)}
    case_key: dict[str, list[Any]] = {}  # (once per case: each is failed by many columns)
    for rows in out.values():
        for r in rows:
            if r["case"] not in case_key:
                case_key[r["case"]] = model.natural_key(r["case"])
        rows.sort(key=lambda r: (topic_rank.get(r["topic"], 1 << 30), case_key[r["case"]], r["mode"]))
    return out


def _shared(clean: dict[str, Any], row: dict[str, Any], case: dict[str, Any], sources: list[dict[str, Any]]) -> dict[str, Any]:
    """A failing check's item without what depends on the column (the command that reproduces it)."""
    stage, diff = _first_difference(expanded(clean, row))
    kind = verdicts.fail_kind(row, case)
    path = model.case_path(case, sources)
    code = case.get("divergence")
    entry = model.divergence_texts([code]).get(code) if code else None
    return {
        "case": row["case"], "mode": row["mode"], "title": model.readable_title(row["case"], case, row.get("stage")),
        "topic": model.topic_of(row["case"], case), "status": row.get("status"),
        "kind": verdicts.FAIL_KIND[kind] if kind else None, "stage": stage, "stage_words": STAGE_WORDS.get(stage or "", stage or ""),
        "reason": row.get("reason") or "", "diff": diff, "refs": [(str(r), ref_link(str(r))) for r in case.get("refs") or []],
        "divergence": (code, entry[0], entry[1]) if entry else None,
        "request": case.get("request") or {}, "service": case.get("service"), "algorithm": case.get("algorithm"),
        "path": model.shell(path) if path else "", "case_arg": model.shell(row["case"]),
    }


def _column_words(adapter: dict[str, Any]) -> str:
    """What the Markdown says of the column, escaped: its library, version and runtime."""
    return str(escape(f"{adapter['lib']} {adapter['ver']} ({adapter['rts']})"))


def _markdown_parts(item: dict[str, Any]) -> tuple[str, str, str]:
    """The Markdown without what depends on the column: (before the column's words, between them and the command
    that reproduces it, after the command)."""
    what = item["kind"].label if item["kind"] else item["status"]
    lines = [f", {item['algorithm']} for service `{item['service']}`, {item['mode']} mode: **{what}**. {item['reason']}", ""]
    request = item["request"]
    if request.get("url"):
        lines += ["Request:", "", "```", f"{request.get('method') or 'GET'} {request.get('url')}",
                  *[f"{h[0]}: {h[1]}" for h in request.get("headers") or [] if isinstance(h, (list, tuple)) and len(h) == 2], "```", ""]
    if item["diff"]:
        lines += [f"First difference in the {item['stage_words']} (expected vs actual):", "", "```diff", item["diff"], "```", ""]
    if item["divergence"]:
        code, title, meaning = item["divergence"]
        lines += [f"Known divergence {code}: {title}. {meaning}", ""]
    if item["refs"]:
        lines += ["References: " + ", ".join(link or text for text, link in item["refs"]), ""]
    lines += ["Reproduce (sigharness, the conformance harness that found it):", "", "```", ""]
    return f"### {item['title']}\n\n", "\n".join(lines), "\n```"


def _head_html(it: dict[str, Any]) -> str:
    """A failing check's item up to its diff, as the page shows it (`_item_parts` adds the column's command that
    reproduces it and its Markdown): once for every column that fails the check alike."""
    kind = it["kind"]
    what = (f"{escape(kind.symbol)} {escape(kind.label)}" if kind
            else f"{escape(model.SYMBOL.get(it['status'], '?'))} {escape(it['status'])}")
    case, mode = escape(it["case"]), escape(it["mode"])
    parts = [f'<div class="item" id="{case}@{mode}">\n  <h3>{escape(it["title"])}</h3>\n  <p><code>{case}</code> · {mode} mode ·\n'
             f'    <span class="kind">{what}</span>\n']
    if it["stage"]:
        parts.append(f"· first difference: <strong>{escape(it['stage_words'])}</strong>")
    parts.append(f"</p>\n  <p>{escape(it['reason'])}</p>\n")
    if it["divergence"]:
        code, title, meaning = it["divergence"]
        parts.append(f"<p>Known divergence <strong>{escape(code)}</strong>: {escape(title)}. {escape(meaning)}</p>")
    if it["refs"]:
        links = (f'<a href="{escape(link)}" rel="noreferrer noopener">{escape(text)}</a>'
                 if link and (link.startswith("https://") or link.startswith("http://")) else str(escape(text))
                 for text, link in it["refs"])
        parts.append(f"<p>References: {', '.join(links)}</p>")
    if it["diff"]:
        parts.append(f"<pre>{escape(it['diff'])}</pre>")
    return "".join(parts)


def _item_parts(shared: dict[str, Any]) -> tuple[bytes, bytes, bytes, bytes]:
    """A failing check's item on its page, escaped, in the pieces between which a column puts its adapter's quoted
    name (twice) and its Markdown words: its head (`_head_html`), the command that reproduces it
    and its Markdown for a bug report, in UTF-8. Written here, not in the page's template, and once for every
    column that fails the check alike: a merged report's pages hold ~15,000 items."""
    command = escape(f"sigharness run --cases {shared['path']} --case {shared['case_arg']} --adapters "
                     if shared["path"] else f"sigharness run --case {shared['case_arg']} --adapters ")
    title, after, end = (str(escape(part)) for part in _markdown_parts(shared))
    return (utf8(f'{_head_html(shared)}  <p>Reproduce: <code>{command}'),
            utf8(f'</code></p>\n  <details><summary>Markdown for a bug report</summary><pre>{title}'),
            utf8(f"{after}{command}"), utf8(f"{end}</pre></details>\n</div>\n"))


_SLOT = Markup("<\0items>")  # where a topic's items go in a rendered page (a rendered value's "<" is escaped)


def pages(adapters: list[dict[str, Any]], env: Any, generated: str,
          found: dict[str, list[dict[str, Any]]]) -> Iterator[tuple[str, list[str | bytes]]]:
    """(file name under known-issues/, its html in pieces) for every column (of `adapters`, as model.column gives
    them, in the page's order) with failing checks (`found`: `ordered`'s), then the index. The page's template is
    rendered around its items, which go to the writer as the pieces they are (a merged report's pages are ~30 MB
    of items)."""
    template = env.get_template("known_issues.html.j2")
    listed = []
    for adapter in adapters:
        items = found.get(adapter["k"])
        if not items:
            continue
        by_topic: dict[str, list[bytes]] = defaultdict(list)
        for item in items:
            by_topic[item["topic"]].append(item["html"])
        name = file_name(adapter["k"])
        listed.append((adapter, name, len(items)))
        around = template.render(adapter=adapter, by_topic=[(topic, len(html), _SLOT) for topic, html in by_topic.items()],
                                 n=len(items), generated=generated, kinds=verdicts.FAIL_KINDS, symbols=model.SYMBOL,
                                 index=False, listed=[]).split(_SLOT)
        if len(around) != len(by_topic) + 1:
            raise ValueError(f"known-issues/{name}: the page's template does not place each topic's items once")
        pieces: list[str | bytes] = [around[0]]
        for html, after in zip(by_topic.values(), around[1:]):
            pieces += html
            pieces.append(after)
        yield name, pieces
    yield "index.html", [template.render(adapter=None, by_topic=[], n=0, generated=generated, kinds=verdicts.FAIL_KINDS,
                                         symbols=model.SYMBOL, index=True, listed=listed)]
