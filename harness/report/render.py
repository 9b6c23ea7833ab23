"""The templates' environment: Jinja with the report's filters and globals, once per process (index.html and
the known-issues pages are rendered through it, in this process or in a share's: harness/report/shares.py)."""

from __future__ import annotations

import functools
import re
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator

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
    env.globals["finding_rows"] = finding_rows
    env.filters["num"] = lambda n: "—" if n is None else f"{n:,}".replace(",", " ")
    env.filters["show"] = show
    return env


def grouped(pieces: Iterable[str], size: int = 1024) -> Iterator[str]:
    """A template's pieces joined `size` at a time: a merged report's page yields ~100,000, and a step per piece
    in the writer cost a tenth of a second."""
    source = iter(pieces)
    while group := list(islice(source, size)):
        yield "".join(group)


def spliced(texts: Iterable[str], slots: dict[str, bytes]) -> Iterator[str | bytes]:
    """`texts` with each slot (a text holding a NUL) replaced by its bytes, given as they are; ValueError unless
    each slot was found once."""
    pattern = re.compile("|".join(map(re.escape, slots)))
    found = []
    for text in texts:
        if "\0" not in text:
            yield text
            continue
        at = 0
        for match in pattern.finditer(text):
            yield text[at:match.start()]
            yield slots[match.group()]
            found.append(match.group())
            at = match.end()
        yield text[at:]
    if sorted(found) != sorted(slots):
        raise ValueError(f"the page's template places {len(found)} of its {len(slots)} blobs")


def score_cells(cells: list[dict[str, Any]], adapters: list[dict[str, Any]], label: str, blank: bool = False) -> Markup:
    """The score cells of one row of the surface or topic table, as one text: a line each (a merged report's
    tables have ~10,000 cells; built in the template, each cost a dozen attribute lookups, and written as a
    piece each, more). Their counts are integers (model.Tally), written as they are. `blank`: no text for a
    cell without a score (else the dash of `percent`). What a cell says of its tally is made once per tally
    (tables share a tally among cells of the same counts: model.Tally.as_dict)."""
    row = []
    where = escape(label)
    made: dict[int, tuple[str, str]] = {}
    for adapter, c in zip(adapters, cells):
        told = made.get(id(c))
        if told is None:
            sc = c["score"]
            band = "none" if sc is None else "full" if c["fail"] + c["error"] == 0 else "high" if sc >= 0.8 else "mid" if sc >= 0.5 else "low"
            told = made[id(c)] = (f'          <td class="num sc-{band}" title="',
                                  f': pass {c["pass"]:d}, variant {c["variant"]:d}, fail {c["fail"]:d}, error {c["error"]:d}, '
                                  f'unsupported {c["unsupported"]:d}">{"" if blank and sc is None else _escaped(model.percent(sc))}</td>\n')
        row.append(f'{told[0]}{_escaped(adapter["k"])} · {where}{told[1]}')
    return Markup("".join(row))


def finding_rows(findings: list[dict[str, Any]]) -> Markup:
    """The rows of the checks that pass when signed and fail when sent, as one text, a line each (a merged report
    lists thousands; in the template each cost six attribute lookups and escapes)."""
    return Markup("".join(f'      <tr><td>{_escaped(f["case"])}</td><td>{_escaped(f["mode"])}</td><td>{_escaped(f["adapter"])}</td>'
                          f'<td>{_escaped(f["signer"])}</td><td>{_escaped(f["status"])}</td><td>{escape(f["difference"])}</td></tr>\n'
                          for f in findings))


@functools.lru_cache(maxsize=65536)
def _escaped(text: str) -> Markup:
    """A text escaped once (a table's row repeats every column's key, and its percentages repeat)."""
    return escape(text)


def show(value: Any) -> str:
    """A setting as a person reads it: lists comma-separated, mappings as k=v."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={show(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v) for v in value)
    return str(value)
