"""The templates' environment: Jinja with the report's filters and globals, once per process (index.html and
the known-issues pages are rendered through it, in this process or in a share's: harness/report/shares.py)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from harness.report import model

TEMPLATES = Path(__file__).resolve().parent / "templates"


@functools.lru_cache(maxsize=1)
def environment():
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
    env.filters["show"] = show
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


def show(value: Any) -> str:
    """A setting as a person reads it: lists comma-separated, mappings as k=v."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={show(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v) for v in value)
    return str(value)
