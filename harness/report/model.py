"""From results.json to what the report shows: scores, topics, agreement, and two compact JSON blobs.

The page embeds the matrix as one small blob (parsed at load: cases, one status letter per adapter per
check, reasons through a string table) and the drill-down details as a second blob (every stage text
stored once in a string table; parsed on the first click). So ~500 cases x 20 adapters stays a light page.

A drill-down cell is positional (a merged report holds ~100,000 of them; key names would be a third of
the page): [core, duration_ms, elapsed_ns, history], trailing nulls left out, where `core` indexes the blob's
`B`, what the cell shares with every cell of the same check that holds the same verdict (the columns of one
library at several versions mostly do; each is built and stored once):
  core: [stage, expected_source, stages, verification, signed, opinions, decided_by], trailing nulls left out.
opinions: the oracles' opinions [[oracle, verdict, reason, known difference or "" when flagged], ...], when
they were asked; decided_by: the rule that decided a fail or variant. Stage names are indices into the
blob's `stages`; texts are indices into `S`.
  stages:       [[stage, expected, actual, compared 1/0, equal 1/0/-1, line, note, diff], ...] (no trailing none)
  verification: [valid 1/0, reason, rules, canonical_request, [request change, ...]]
  signed:       [method, url, [name, value, name, value, ...], body bytes]
  decided_by:   [rule, evidence, [oracle that agrees, ...], [[oracle that disagrees, its reason, known entry], ...]]
"""

from __future__ import annotations

import re
import shlex
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from harness import divergences, verdicts
from harness.history import CheckState
from harness.judgement import uncompared_note
from harness.refs import ref_link
from harness.results import SPEC_RULES, check_key
from harness.settings import SURFACES as SURFACE_NAMES
from harness.stages import STAGES
from harness.verdicts import SCORE_FORMULA

STATUSES = verdicts.ORDER
LETTER = {v.name: v.letter for v in verdicts.VERDICTS.values()}
KIND_LETTER = {k.name: k.letter for k in verdicts.FAIL_KINDS}  # a fail cell carries its kind's letter
KINDS = tuple(k.name for k in verdicts.FAIL_KINDS)
MISSING = verdicts.MISSING.letter
SYMBOL = verdicts.page_data()["symbols"]
# the score table shows this many ranked adapters until asked for all: a merged report of a version matrix has
# hundreds of columns, and laying out a table of hundreds of rows at the top of the page held its opening up
# by about a second (docs/performance.md); a full run's columns (59 today) all fit
SCORES_SHOWN = 100
MEANING = verdicts.page_data()["meaning"]


def natural_key(text: str | None) -> list[Any]:
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text or "")]


def topic_of(case_id: str, case: dict[str, Any]) -> str:
    """Cases are grouped by the folder part of their id (query/plus-literal -> query; aws-c-auth/v4/x -> aws-c-auth/v4)."""
    if "/" in case_id:
        return case_id.rsplit("/", 1)[0]
    tags = case.get("tags") or []
    return tags[0] if tags else "other"


@dataclass
class Tally:
    counts: Counter = field(default_factory=Counter)

    def add(self, status: str, kind: str | None = None, n: int = 1) -> None:
        self.counts[status] += n
        if kind:
            self.counts[kind] += n

    @property
    def judged(self) -> int:
        return sum(self.counts[s] for s in verdicts.JUDGED)

    @property
    def score(self) -> float | None:
        good = sum(self.counts[s] for s in verdicts.JUDGED if verdicts.is_good(s))
        return good / self.judged if self.judged else None

    @property
    def exact(self) -> float | None:
        return self.counts[verdicts.PASS] / self.judged if self.judged else None

    @property
    def ran(self) -> int:
        """Checks the adapter answered: judged ones and the ones it said it cannot express."""
        return self.judged + self.counts[verdicts.UNSUPPORTED]

    @property
    def coverage(self) -> float | None:
        """The share of the checks it ran that the library can express (not unsupported)."""
        return self.judged / self.ran if self.ran else None

    def rate(self, *names: str) -> float | None:
        return sum(self.counts[n] for n in names) / self.judged if self.judged else None

    def as_dict(self, memo: dict[tuple[int, ...], dict[str, Any]] | None = None) -> dict[str, Any]:
        """The properties above in one pass (a merged report asks for one per topic and column: ~10,000). With
        `memo`, tallies of the same counts share one (their dicts are read, never changed)."""
        values = tuple(map(self.counts.get, _COUNTED, _ZEROS))  # (a Counter's missing key is a Python call)
        if memo is not None:
            found = memo.get(values)
            if found is not None:
                return found
        out = dict(zip(_COUNTED, values))
        judged = sum(map(out.__getitem__, verdicts.JUDGED))
        ran = judged + out[verdicts.UNSUPPORTED]
        good = sum(map(out.__getitem__, _GOOD))
        out.update(judged=judged, ran=ran, score=good / judged if judged else None,
                   exact=out[verdicts.PASS] / judged if judged else None, coverage=judged / ran if ran else None,
                   variant_rate=out[verdicts.VARIANT] / judged if judged else None,
                   fail_rate=(out[verdicts.FAIL] + out[verdicts.ERROR]) / judged if judged else None)
        if memo is not None:
            memo[values] = out
        return out


_GOOD = tuple(s for s in verdicts.JUDGED if verdicts.is_good(s))
_COUNTED = (*STATUSES, *KINDS)  # as_dict's counts, in its order
_ZEROS = (0,) * len(_COUNTED)


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    if 0.995 <= value < 1:
        return "99%"  # never round a failure away to 100%
    return f"{round(value * 100)}%"


class Strings:
    """A string table: every distinct text is stored once; -1 stands for None."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[Any, int] = {None: -1}
        self.known = self._index.get  # the index of a text stored already, else None (no call of this object)

    def __call__(self, text: Any) -> int:
        try:
            index = self._index.get(text)
        except TypeError:  # not hashable: stored as its text
            index = None
        if index is None:
            if type(text) is not str:
                text = str(text)
                index = self._index.get(text)
                if index is not None:
                    return index
            index = self._index[text] = len(self.items)
            self.items.append(text)
        return index


def shell(value: str) -> str:
    return shlex.quote(value)


def case_path(case: dict[str, Any], sources: list[dict[str, Any]]) -> str:
    """The path to give `--cases` to load this one case: its YAML file, or the aws-c-auth suite folder."""
    file = str(case.get("source") or "")
    file = re.sub(r":\d+$", "", file)
    for source in sources:
        root = str(source.get("path") or "").rstrip("/")
        if source.get("kind") == "aws-c-auth suite" and root and (file == root or file.startswith(root + "/")):
            return root
    return file


def adapter_order(adapters: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(adapters, key=lambda k: (adapters[k].get("language") or "~", natural_key(adapters[k].get("name") or k),
                                           natural_key(adapters[k].get("library_version")), k))


def short_runtime(runtime: str | None) -> str:
    """'java 17.0.15 (OpenJDK 64-Bit Server VM)' -> 'java 17.0.15' (the full text goes in the tooltip)."""
    text = (runtime or "").strip()
    return re.sub(r"\s*\(.*\)\s*$", "", text) or "—"


def surface_of_case(case: dict[str, Any], modes: Iterable[str]) -> str:
    """The signing surface of a case: the one it names (results.json `surface`), else the one of
    harness/reference SURFACES serving its modes (a token kind by its service's signing name; results of earlier
    versions name none). Only then is the signer loaded."""
    named = case.get("surface")
    if isinstance(named, str) and named:
        return named
    from harness.reference import SURFACES
    from harness.reference import tokens

    modes = list(modes)
    serving = [s.name for s in SURFACES.values() if any(m in s.modes for m in modes)]
    if len(serving) > 1:
        by_service = [n for n in serving if getattr(tokens.SURFACES.get(n), "service", None) == case.get("service")]
        serving = by_service or serving
    return serving[0] if serving else (modes[0] if modes else "other")


def surface_order() -> list[str]:
    return list(SURFACE_NAMES)


def payload_kind(case: dict[str, Any]) -> str:
    """What the case signs as its payload: empty, a body, unsigned, streaming (aws-chunked / event-stream)."""
    request = case.get("request") or {}
    headers = {str(k).lower(): str(v) for k, v in request.get("headers") or [] if isinstance(k, str)}
    sha = headers.get("x-amz-content-sha256", "")
    if sha.startswith("STREAMING") or "aws-chunked" in headers.get("content-encoding", ""):
        return "streaming"
    if sha.startswith("UNSIGNED"):
        return "unsigned"
    return "body" if request.get("body_bytes") else "empty"


_HASHLIKE = re.compile(r"^[0-9a-f]{8,}$")


def readable_title(case_id: str, case: dict[str, Any], differs: str | None = None) -> str:
    """The case's title; for a found case named by its hash, one generated from what it holds and from the stage
    where the libraries that fail it differ first (`differs`)."""
    title = str(case.get("title") or "")
    last = case_id.rsplit("/", 1)[-1]
    if title and title != case_id and not _HASHLIKE.match(title.rsplit("/", 1)[-1]):
        return title
    if not _HASHLIKE.match(last) and title:
        return title
    request = case.get("request") or {}
    url = str(request.get("url") or "")
    target = re.sub(r"^https?://[^/]+", "", url) or "/"
    tags = [t for t in case.get("tags") or [] if t not in ("found", "fuzz")]
    extra = f" ({', '.join(tags[:3])})" if tags else ""
    where = f", differs in the {differs.replace('_', ' ')}" if differs else ""
    return f"found: {case.get('service') or '?'} {request.get('method') or 'GET'} {target[:60]}{extra}{where}"


def first_stages(rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Per case, the first differing stage its failing rows name most often (for generated titles)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        if row.get("status") == verdicts.FAIL and row.get("stage"):
            counts[row["case"]][row["stage"]] += 1
    return {case: c.most_common(1)[0][0] for case, c in counts.items()}


def client_of(name: str) -> str:
    """The HTTP client of a wire column (`py-botocore+urllib` -> `urllib`); '' for a signer column."""
    base = name.split("@", 1)[0]
    return base.split("+", 1)[1] if "+" in base else ""


def divergence_texts(codes: Iterable[str | None]) -> dict[str, list[str]]:
    """code -> [title, meaning] from the catalogue, for the codes the report's cases name."""
    out = {}
    for code in sorted({c for c in codes if isinstance(c, str) and c}, key=divergences.number):
        entry = divergences.get(code)
        if entry:
            out[code] = [entry.title, entry.meaning]
    return out


@dataclass
class Frame:
    """What every share of the checks needs and sees the same: the columns in their order, the cases, the
    checks' expectations and the history's state. Adapters and cases named only in rows (a hand-made file)
    are added here, so each share of the rows gets the same columns."""

    adapters: dict[str, dict[str, Any]]
    cases: dict[str, dict[str, Any]]
    order: list[str]
    checks: dict[str, Any]
    state: dict[tuple[str, str, str], CheckState]
    latest_date: str | None

    @property
    def columns(self) -> dict[str, int]:
        return {key: i for i, key in enumerate(self.order)}


def frame(data: dict[str, Any], history: dict[str, Any] | None = None) -> Frame:
    """The Frame of a results document (its adapters and cases, with those named only in its rows added)."""
    adapters_in = data.get("adapters") or {}
    cases_in = data.get("cases") or {}
    for row in data.get("results") or []:
        # an adapter or a case named only in results (a hand-made file) still gets a column or a row
        if row["adapter"] not in adapters_in:
            adapters_in[row["adapter"]] = {"name": row["adapter"], "language": "?", "library": "?"}
        if row["case"] not in cases_in:
            cases_in[row["case"]] = {"title": row["case"], "tags": [], "modes": []}
    return Frame(adapters_in, cases_in, adapter_order(adapters_in), data.get("checks") or {},
                 (history or {}).get("state") or {}, (history or {}).get("latest_date"))


class OutsideFrame(ValueError):
    """A row names an adapter or a case its share's Frame does not hold (so the shares' columns could differ)."""


@dataclass
class Cells:
    """The page model's part computed from a share of the checks (`cells`); `assemble` joins the shares.
    Texts, reasons and stage names are indices into this share's own tables, and cells' cores into its `cores`."""

    checks: dict[str, list[tuple[Any, ...]]]  # case -> per mode: (mode, letters, reasons, cells, changed at, agreement)
    surface: dict[str, str]  # case -> its signing surface
    differs: dict[str, str]  # case -> the first differing stage its failing rows name most often
    texts: Strings
    reasons: Strings
    stage_names: Strings
    cores: list[list[Any]]
    tallied: Counter  # (column, topic, surface, status, fail kind) -> checks
    rows: int  # rows read


def _surface_key(surf_rank: dict[str, int], name: str) -> tuple[int, str]:
    return (surf_rank.get(name, len(surf_rank)), name)


def column(key: str, a: dict[str, Any]) -> dict[str, Any]:
    """A column as the page shows it (the report's `adapters`, without its tally), from its adapter record."""
    return {
        "k": key, "name": a.get("name") or key, "lang": a.get("language") or "?", "lib": a.get("library") or "?",
        "ver": a.get("library_version") or ("—" if a.get("available", True) else "unavailable"),
        "rt": a.get("runtime") or "", "rts": short_runtime(a.get("runtime")),
        "avail": a.get("available", True) is not False, "why": a.get("reason") or "",
        "faults": a.get("faults") or [], "restarts": a.get("restarts") or 0, "checks": a.get("checks"),
        "run": a.get("run"), "tally": None,
        "ref": a.get("folder") == "reference",  # the harness's own signer: shown apart, not ranked
        "base": (a.get("name") or key), "client": client_of(a.get("name") or key),
    }


def build(data: dict[str, Any], history: dict[str, Any] | None = None, title: str | None = None) -> dict[str, Any]:
    """Everything the template needs. `data` must already have its session tokens shortened."""
    where = frame(data, history)
    return assemble(data, where, [cells(where, data.get("results") or [])], title)


def cells(where: Frame, rows_in: list[dict[str, Any]], own: Callable[[str], bool] | None = None) -> Cells:
    """The page model's part for the checks of `rows_in`; with `own`, for the cases it holds (rows of other
    cases must not be given), else for every case of the frame."""
    cases_in = where.cases
    col = where.columns
    checks: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows_in:
        checks[(row["case"], row["mode"])][row["adapter"]] = row
    for case, mode in checks:
        if case not in cases_in:
            raise OutsideFrame(f"case {case!r}")
    for by_adapter in checks.values():
        for key in by_adapter:
            if key not in col:
                raise OutsideFrame(f"adapter {key!r}")
    case_set = [cid for cid in cases_in if own is None or own(cid)]
    modes_seen: dict[str, set[str]] = defaultdict(set)
    for c, m in checks:
        modes_seen[c].add(m)
    surf_rank = {name: i for i, name in enumerate(surface_order())}
    surface_by_case = {cid: surface_of_case(cases_in[cid], modes_seen.get(cid) or cases_in[cid].get("modes") or ())
                       for cid in case_set}
    # the cases in the page's order (as `assemble` orders every share's cases)
    case_ids = sorted(case_set, key=lambda cid: (_surface_key(surf_rank, surface_by_case[cid]), topic_of(cid, cases_in[cid]),
                                                 natural_key(cid)))
    reasons = Strings()
    reasons("")
    texts = Strings()
    stage_names = Strings()
    for name in STAGES:
        stage_names(name)

    def modes_of(cid: str) -> list[str]:
        modes = [m for m in ("header", "query") if (cid, m) in checks]
        modes += [m for m in cases_in[cid].get("modes") or [] if m not in modes]
        extra = sorted(m for m in modes_seen.get(cid, ()) if m not in modes)
        return modes + extra

    checks_in = where.checks
    expected_ids: dict[str, tuple[dict[str, int], str | None, str | None]] = {}

    def expectations(row: dict[str, Any]) -> tuple[dict[str, int], str | None, str | None]:
        """The check's expected texts as string-table indices (once per check), its source, the case's algorithm."""
        key = check_key(row["case"], row["mode"])
        found = None if row.get("expected") else expected_ids.get(key)
        if found is None:
            check = checks_in.get(key) or {}
            expected = row.get("expected") or check.get("expected") or {}
            found = ({name: texts(text) for name, text in expected.items() if text is not None}, check.get("source"),
                     cases_in.get(row["case"], {}).get("algorithm"))
            if not row.get("expected"):
                expected_ids[key] = found
        return found

    # a drill-down cell is [core, duration_ms, elapsed_ns, history] without trailing nulls; the core (what rows
    # alike share: stages, verification, signed request, opinions, provenance) is stored once, in `cores`
    cores: list[list[Any]] = []
    reason_no = reasons.known  # (a reason seen before, without a call)
    state = where.state
    good_letters = [LETTER[s] for s in verdicts.JUDGED if verdicts.is_good(s)]
    tallied: Counter = Counter()  # (adapter, topic, surface, status, kind) -> checks; folded into the tallies later
    error_letter, fail = LETTER[verdicts.ERROR], verdicts.FAIL
    width = len(where.order)
    unsupported = LETTER[verdicts.UNSUPPORTED]
    out: dict[str, list[tuple[Any, ...]]] = {}
    for cid in case_ids:
        topic = topic_of(cid, cases_in[cid])
        surface = surface_by_case[cid]
        case_in = cases_in.get(cid)
        entries = out[cid] = []
        for mode in modes_of(cid):
            by_adapter = checks.get((cid, mode), {})
            # a merge of a version matrix leaves most cells of a check empty: only the columns with a row are
            # visited, in the columns' order (the string tables are filled in that order)
            letters, rr, details = [MISSING] * width, [0] * width, [0] * width
            changed_at = None
            # what the check's rows alike share (rows read by harness.results_lines share their values: the same
            # objects): their values' identities -> [core index, status, reason, letter, reason index, kind], the
            # last five for the status and reason (objects) of the row they were found for
            alike_rows: dict[tuple[Any, ...], list[Any]] = {}
            for key in sorted(by_adapter, key=col.__getitem__):
                row = by_adapter[key]
                get = row.get
                at = col[key]
                status, reason = get("status", "error"), get("reason")
                # (written out here: a call per row cost a tenth of the page model)
                alike = (get("stage"), get("expected_source"), id(get("stages")), id(get("verification")), id(get("signed")),
                         id(get("opinions")), id(get("decided_by")), id(get("oracles_disagree")), id(get("expected")))
                shared = alike_rows.get(alike)
                if shared is None or shared[1] is not status or shared[2] is not reason:
                    kind = verdicts.fail_kind(row, case_in) if status == fail else None
                    text = reason or ""
                    number = reason_no(text)
                    if number is None:
                        number = reasons(text)
                    if shared is None:  # the drill-down cell's core: once for every row alike
                        shared = alike_rows[alike] = [len(cores)]
                        cores.append(_cell_core(row, expectations(row), texts, stage_names))
                    shared[1:] = (status, reason, KIND_LETTER[kind] if kind else LETTER.get(status, error_letter), number, kind)
                index, _, _, letters[at], rr[at], kind = shared
                tallied[(key, topic, surface, status, kind)] += 1
                hist = None
                if state:
                    hs = state.get((cid, mode, key))
                    if hs is not None and hs.status == status:
                        hist = [hs.since, hs.previous, hs.first_seen]
                        if hs.previous is not None and (changed_at is None or hs.since > changed_at):
                            changed_at = hs.since
                ms, ns = get("duration_ms"), get("elapsed_ns")
                details[at] = ([index, ms, ns, hist] if hist else [index, ms, ns] if ns is not None
                               else [index, ms] if ms is not None else [index])
            shown = "".join(letters)
            ran = width - shown.count(MISSING) - shown.count(unsupported)
            passed = sum(map(shown.count, good_letters))  # good, as the score counts it
            kind = "n/a" if not ran else "all" if passed == ran else "none" if passed == 0 else "some"
            entries.append((mode, shown, rr, details, changed_at, kind))
    return Cells(out, surface_by_case, first_stages(rows_in), texts, reasons, stage_names, cores, tallied, len(rows_in))


def absorbed(first: Cells, other: Cells) -> Cells:
    """`other` taken into `first`'s tables: its texts, reasons, stage names and cores renumbered in place (its
    cores moved to the end of `first`'s) and its tables made `first`'s, so every index it holds refers to them;
    returned. A share is taken in once: `assemble` knows an absorbed one by its tables."""
    if other.texts is first.texts:
        return other
    # (a text index of -1 is None: the map ends with -1, so t[-1] is -1 too)
    known = first.texts.known
    t = [i if (i := known(x)) is not None else first.texts(x) for x in other.texts.items] + [-1]
    n = [first.stage_names(x) for x in other.stage_names.items]
    r = [first.reasons(x) for x in other.reasons.items]
    offset = len(first.cores)
    first.cores.extend(_renumbered_core(core, t, n) for core in other.cores)
    renumber = r.__getitem__
    for entries in other.checks.values():
        for at, (mode, letters, rr, details, changed_at, kind) in enumerate(entries):
            for d in details:
                if d.__class__ is list:
                    d[0] += offset
            entries[at] = (mode, letters, list(map(renumber, rr)), details, changed_at, kind)
    other.texts, other.reasons, other.stage_names, other.cores = first.texts, first.reasons, first.stage_names, []
    return other


@dataclass
class PageOrder:
    """Where the page puts each case and topic, from the shares of the checks (`page_order`)."""

    share_of: dict[str, int]  # case -> the share holding its checks
    surface_by_case: dict[str, str]
    topic_by_case: dict[str, str]
    surfaces: list[str]  # in the page's order
    case_ids: list[str]  # in the page's order: by surface, topic and name
    cases_of: dict[str, list[str]]  # topic -> its cases, in the page's order
    topics: list[str]  # in the page's order: by their first case's surface, then name


def page_order(where: Frame, shares: list[Cells]) -> PageOrder:
    """The page's order of surfaces, cases and topics, from every share's cases; OutsideFrame for a share's case
    the frame does not have, ValueError for a case of the frame no share holds."""
    cases_in = where.cases
    share_of: dict[str, int] = {}
    surface_by_case: dict[str, str] = {}
    for number, share in enumerate(shares):
        for cid in share.checks:
            if cid not in cases_in:
                raise OutsideFrame(f"case {cid!r}")
            share_of[cid] = number
        surface_by_case.update(share.surface)
    missing = [cid for cid in cases_in if cid not in share_of]
    if missing:
        raise ValueError(f"no share of the checks holds case {missing[0]!r}")
    surf_rank = {name: i for i, name in enumerate(surface_order())}
    surfaces = sorted(set(surface_by_case.values()), key=lambda n: _surface_key(surf_rank, n))
    surface_index = {n: i for i, n in enumerate(surfaces)}
    topic_by_case = {cid: topic_of(cid, case) for cid, case in cases_in.items()}
    case_ids = sorted(cases_in, key=lambda cid: (surface_index[surface_by_case[cid]], topic_by_case[cid], natural_key(cid)))
    first_surface: dict[str, int] = {}  # topic -> the first surface (in the page's order) of its cases
    cases_of: dict[str, list[str]] = {}
    for cid in case_ids:
        first_surface.setdefault(topic_by_case[cid], surface_index[surface_by_case[cid]])
        cases_of.setdefault(topic_by_case[cid], []).append(cid)
    topics = sorted(cases_of, key=lambda t: (first_surface[t], natural_key(t)))
    return PageOrder(share_of, surface_by_case, topic_by_case, surfaces, case_ids, cases_of, topics)


def assemble(data: dict[str, Any], where: Frame, shares: list[Cells], title: str | None = None,
             place: PageOrder | None = None) -> dict[str, Any]:
    """Everything the template needs, from the shares of the checks (`cells` of each): the first share's
    tables are kept, every other share's texts, reasons, stage names and cores are renumbered into them
    (`absorbed`, unless it was already). `place`: their `page_order`, when known already."""
    cases_in, adapters_in, order = where.cases, where.adapters, where.order
    manifest = data.get("manifest") or {}
    sources = list(manifest.get("case_sources") or [])
    for run in manifest.get("merged") or []:
        sources += (run.get("manifest") or {}).get("case_sources") or []
    first = shares[0]
    shares = [first] + [absorbed(first, share) for share in shares[1:]]
    texts, reasons, stage_names, cores = first.texts, first.reasons, first.stage_names, first.cores
    placed = place if place is not None else page_order(where, shares)
    share_of, surface_by_case, topic_by_case = placed.share_of, placed.surface_by_case, placed.topic_by_case
    surfaces, case_ids, cases_of, topics = placed.surfaces, placed.case_ids, placed.cases_of, placed.topics
    surface_index = {n: i for i, n in enumerate(surfaces)}
    differs: dict[str, str] = {}
    tallied: Counter = Counter()
    for share in shares:
        differs.update(share.differs)
        tallied.update(share.tallied)
    topic_index = {t: i for i, t in enumerate(topics)}
    tags = sorted({t for c in cases_in.values() for t in c.get("tags") or []}, key=natural_key)
    tag_index = {t: i for i, t in enumerate(tags)}

    case_list, case_pos = [], {}
    for cid in case_ids:
        c = cases_in[cid]
        case_pos[cid] = len(case_list)
        request = c.get("request") or {}
        path = case_path(c, sources)
        case_list.append({
            "id": cid, "title": readable_title(cid, c, differs.get(cid)), "surf": surface_index[surface_by_case[cid]], "pay": payload_kind(c),
            "topic": topic_index[topic_by_case[cid]],
            "tags": [tag_index[t] for t in c.get("tags") or []], "algo": c.get("algorithm"), "svc": c.get("service"),
            "region": c.get("region"), "rset": c.get("region_set") or [], "modes": c.get("modes") or [],
            "note": c.get("note") or "", "refs": [[r, ref_link(str(r))] for r in c.get("refs") or []],
            "div": c.get("divergence"), "open": c.get("open_choices") or [], "err": c.get("expect_error"),
            "refusal": bool(c.get("refusal_ok")), "tok": bool(c.get("session_token")), "src": c.get("source") or "",
            "origin": c.get("origin") or "",
            "repro": f"--cases {shell(path)} --case {shell(cid)}" if path else f"--case {shell(cid)}",
            "show": f"sigharness show {shell(cid)} --cases {shell(path)}" if path else "",
            "req": {"m": request.get("method"), "u": request.get("url"), "h": request.get("headers") or [],
                    "b": request.get("body_bytes")},
        })

    rows, reason_rows, cell_details, last_change = [], [], [], []
    agreement: Counter = Counter()
    topic_agreement: dict[str, Counter] = {t: Counter() for t in topics}
    for cid in case_ids:
        topic = topic_by_case[cid]
        for mode, letters, rr, details, changed_at, kind in shares[share_of[cid]].checks[cid]:
            agreement[kind] += 1
            topic_agreement[topic][kind] += 1
            rows.append([case_pos[cid], mode, letters])
            reason_rows.append(rr)
            cell_details.append(details)
            last_change.append(changed_at)

    per_adapter = {key: Tally() for key in order}
    per_topic: dict[str, dict[str, Tally]] = {t: {key: Tally() for key in order} for t in topics}
    per_surface: dict[str, dict[str, Tally]] = {n: {key: Tally() for key in order} for n in surfaces}
    counts: Counter = Counter()
    kind_counts: Counter = Counter()
    for (key, topic, surface, status, kind), n in tallied.items():
        per_adapter[key].add(status, kind, n)
        per_topic[topic][key].add(status, kind, n)
        per_surface[surface][key].add(status, kind, n)
        counts[status] += n
        if kind:
            kind_counts[kind] += n

    adapters_out = []
    for key in order:
        out = column(key, adapters_in[key])
        out["tally"] = per_adapter[key].as_dict()
        adapters_out.append(out)
    languages = []
    for a in adapters_out:
        if not languages or languages[-1][0] != a["lang"]:
            languages.append([a["lang"], 0])
        languages[-1][1] += 1

    matrix = {
        "v": 1, "title": title or "", "statuses": list(STATUSES), **verdicts.page_data(),
        "adapters": adapters_out, "cases": case_list, "topics": topics, "tags": tags, "rows": rows, "surfaces": surfaces,
        "reasons": reasons.items, "rr": reason_rows, "stages": list(STAGES),
        "lastChange": last_change if where.state else None, "latestHistory": where.latest_date,
        "divergences": divergence_texts(c.get("divergence") for c in cases_in.values()),
    }
    detail = {"S": texts.items, "stages": stage_names.items, "B": cores, "cells": cell_details}

    topic_table = []
    alike: dict[tuple[int, ...], dict[str, Any]] = {}  # the table cells' tallies, one per set of counts
    for t in topics:
        cells_of = [per_topic[t][key].as_dict(alike) for key in order]
        n_cases = len(cases_of[t])
        first_case = cases_of[t][0]
        topic_table.append({"topic": t, "surface": surface_by_case[first_case], "cases": n_cases, "cells": cells_of,
                            "agreement": dict(topic_agreement[t])})
    surface_table = [{"surface": n, "cells": [per_surface[n][key].as_dict(alike) for key in order],
                      "cases": sum(1 for cid in case_ids if surface_by_case[cid] == n)} for n in surfaces]
    return {
        "surfaces": surface_table, "kind_counts": {k: kind_counts.get(k, 0) for k in KINDS},
        "matrix": matrix, "detail": detail, "adapters": adapters_out, "languages": languages, "topics": topic_table,
        "agreement": dict(agreement), "counts": {s: counts.get(s, 0) for s in STATUSES},
        "n_checks": sum(share.rows for share in shares), "n_rows": len(rows), "n_cases": len(case_ids),
    }


def _cell_core(row: dict[str, Any], expectation: tuple[dict[str, int], str | None, str | None], s: Strings,
               stage_no: Strings) -> list[Any]:
    """A drill-down cell's core (described at the top), every text through the string table. Taken from the
    row as stored, the expected texts from its check (already in the table)."""
    expected, source, algorithm = expectation
    stages = []
    for name, st in (row.get("stages") or {}).items():
        if not isinstance(st, dict):
            continue
        equal = st.get("equal")
        compared = st.get("compared", "equal" in st)
        exp = s(st["expected"]) if "expected" in st else expected.get(name, -1)  # a row written in full keeps its own
        act = exp if equal is True and "actual" not in st else s(st.get("actual"))
        note = st.get("note")
        if compared is False and note is None:
            note = uncompared_note(name, algorithm, st.get("actual"))
        entry = [stage_no(name), exp, act, 1 if compared else 0, -1 if equal is None else int(bool(equal)), st.get("line"),
                 s(note), s(st.get("diff"))]
        while len(entry) > 5 and entry[-1] in (None, -1):
            entry.pop()
        stages.append(entry)
    ver = row.get("verification")
    if isinstance(ver, dict):
        valid = ver.get("valid")
        ver = [None if valid is None else int(bool(valid)), s(ver.get("reason")), ver.get("rules") or SPEC_RULES, s(ver.get("canonical_request")),
               [s(c) for c in ver.get("request_changes") or []], s(ver.get("expected"))]
    else:
        ver = None
    signed = row.get("signed")
    if isinstance(signed, dict):
        body = signed.get("body_b64")
        headers = []
        for h in signed.get("headers") or []:
            if isinstance(h, (list, tuple)) and len(h) == 2:
                headers += (s(h[0]), s(h[1]))
        signed = [s(signed.get("method")), s(signed.get("url")), headers, None if body is None else _body_size(body)]
    else:
        signed = None
    stage = row.get("stage")
    opinions = row.get("opinions")
    said = None
    if isinstance(opinions, dict) and opinions:
        flagged = {f.get("oracle"): f.get("known") for f in row.get("oracles_disagree") or [] if isinstance(f, dict)}
        said = [[s(name), s((o or {}).get("verdict")), s((o or {}).get("reason"))] + ([s(flagged[name] or "")] if name in flagged else [])
                for name, o in sorted(opinions.items()) if isinstance(o, dict)]
    core = [None if stage is None else stage_no(stage), row.get("expected_source") or (source if row.get("stages") else None),
            stages, ver, signed, said or None, _decided(row, s)]
    while core and core[-1] is None:
        core.pop()
    return core


def _decided(row: dict[str, Any], s: Strings) -> list[Any] | None:
    """A fail's or variant's provenance (harness/provenance.py): the rule, its evidence, the oracles on each side."""
    decided = row.get("decided_by")
    if not isinstance(decided, dict):
        return None
    sides = decided.get("oracles") or {}
    flags = {f.get("oracle"): f for f in row.get("oracles_disagree") or () if isinstance(f, dict)}
    opinions = row.get("opinions") or {}
    # the oracle's reason is its opinion (a flag keeps only the oracle and the reviewed entry)
    against = [[name, s((opinions.get(name) or {}).get("reason") or (flags.get(name) or {}).get("reason")),
                (flags.get(name) or {}).get("known")] for name in sides.get("disagree") or ()]
    return [s(decided.get("rule")), s(decided.get("evidence")), list(sides.get("agree") or ()), against]


def _renumbered_core(core: list[Any], t: list[int], n: list[int]) -> list[Any]:
    """A core of another share, its texts renumbered through `t` and its stage names through `n` (the other
    share's index -> ours): every place `_cell_core` and `_decided` put an index, in the same layout."""
    out = list(core)
    if out and out[0] is not None:
        out[0] = n[out[0]]
    if len(out) > 2:
        stages = []
        for entry in out[2]:
            entry = list(entry)
            entry[0] = n[entry[0]]
            entry[1], entry[2] = t[entry[1]], t[entry[2]]
            for at in (6, 7):
                if len(entry) > at:
                    entry[at] = t[entry[at]]
            stages.append(entry)
        out[2] = stages
    if len(out) > 3 and out[3] is not None:
        valid, reason, rules, canonical, changes, expected = out[3]
        out[3] = [valid, t[reason], rules, t[canonical], [t[c] for c in changes], t[expected]]
    if len(out) > 4 and out[4] is not None:
        method, url, headers, size = out[4]
        out[4] = [t[method], t[url], [t[h] for h in headers], size]
    if len(out) > 5 and out[5] is not None:
        out[5] = [[t[x] for x in said] for said in out[5]]
    if len(out) > 6 and out[6] is not None:
        rule, evidence, agree, against = out[6]
        out[6] = [t[rule], t[evidence], agree, [[name, t[reason], known] for name, reason, known in against]]
    return out


def _body_size(body_b64: str) -> int:
    text = body_b64.strip()
    return max(0, len(text) * 3 // 4 - text.count("=", len(text) - 2))


__all__ = ["build", "frame", "cells", "absorbed", "assemble", "column", "Frame", "Cells", "OutsideFrame", "STATUSES", "SCORES_SHOWN", "SYMBOL", "MEANING", "SCORE_FORMULA", "percent"]
