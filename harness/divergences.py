"""The divergence catalogue as data (harness/divergences.yaml): where signers disagree, one entry per
`flags.divergence` id of the corpus. Read once; docs/divergences.md is `markdown()` of it
(`python -m harness.divergences > docs/divergences.md`)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from harness.refs import ref_link

ID = re.compile(r"^D[1-9][0-9]*$")
FIELDS = ("id", "title", "meaning", "topic", "refs", "seen")
TOPICS = ("query", "path", "headers", "method", "token", "payload", "presign", "sigv4a")
SOURCE = "harness/divergences.yaml"


@dataclass(frozen=True)
class Divergence:
    id: str
    title: str
    meaning: str
    topic: str
    refs: tuple[str, ...]
    seen: str

    @property
    def label(self) -> str:
        """'D1 literal + in a query value'."""
        return f"{self.id} {self.title}"


@dataclass(frozen=True)
class Catalogue:
    seen_in: str
    entries: dict[str, Divergence]  # in number order

    def get(self, divergence_id: str | None) -> Divergence | None:
        return self.entries.get(divergence_id or "")


def number(divergence_id: str) -> int:
    return int(divergence_id[1:]) if ID.match(divergence_id) else 0


# the catalogue is read by every report: libyaml's loader when PyYAML has it (the same safe subset, ten times faster)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: `{key}` must be non-empty text")
    return " ".join(value.split())


def parse(text: str, source: str = SOURCE) -> Catalogue:
    """The catalogue from YAML text; ValueError naming the entry for anything malformed."""
    data = yaml.load(text, Loader=_LOADER)
    if not isinstance(data, dict) or not isinstance(data.get("divergences"), list):
        raise ValueError(f"{source}: expected a mapping with a `divergences` list")
    entries: dict[str, Divergence] = {}
    for i, entry in enumerate(data["divergences"]):
        where = f"{source}: entry {i + 1}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a mapping")
        unknown = sorted(set(entry) - set(FIELDS))
        if unknown:
            raise ValueError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(FIELDS)})")
        ident = entry.get("id")
        if not isinstance(ident, str) or not ID.match(ident):
            raise ValueError(f"{where}: `id` must look like D1, D2, ... (got {ident!r})")
        where = f"{source}: {ident}"
        if ident in entries:
            raise ValueError(f"{where}: id given twice")
        topic = _text(entry, "topic", where)
        if topic not in TOPICS:
            raise ValueError(f"{where}: topic {topic!r} is not one of {', '.join(TOPICS)}")
        refs = entry.get("refs") or []
        if not isinstance(refs, list) or not all(isinstance(r, str) and ref_link(r) for r in refs):
            raise ValueError(f"{where}: every ref must be an http(s) link or owner/repo#N (got {refs!r})")
        entries[ident] = Divergence(ident, _text(entry, "title", where), _text(entry, "meaning", where), topic,
                                    tuple(refs), _text(entry, "seen", where))
    ordered = dict(sorted(entries.items(), key=lambda kv: number(kv[0])))
    return Catalogue(_text(data, "seen_in", source), ordered)


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    return parse(resources.files("harness").joinpath("divergences.yaml").read_text(encoding="utf-8"))


def get(divergence_id: str | None) -> Divergence | None:
    return catalogue().get(divergence_id)


def _link(ref: str) -> str:
    url = ref_link(ref)
    return f"[{ref}]({url})" if url and url != ref else f"<{ref}>"


def markdown(cat: Catalogue | None = None) -> str:
    """docs/divergences.md: an index table, then one section per entry."""
    cat = cat or catalogue()
    lines = [
        "# Divergences",
        "",
        f"<!-- Generated from {SOURCE} by `python -m harness.divergences > docs/divergences.md`; edit the YAML, "
        "not this file (tests/test_divergences.py checks the two agree). -->",
        "",
        "Where AWS request signers are known to disagree. Each case of the corpus that expresses one of these "
        "names it in `flags.divergence`; [corpus.md](corpus.md#divergence-coverage) lists the cases of each "
        "entry, and `sigharness disagreements` turns a run into one row per entry (the table in the README). "
        "The *seen* lines say what the project's own run shows, in the verdicts of "
        "[verdicts.md](verdicts.md): a **fail** is a request a server rejects or a different request than "
        "the one asked for, a **variant** one a server accepts although it differs from the reference.",
        "",
        f"Seen in {cat.seen_in}.",
        "",
        "| id | title | topic |",
        "| --- | --- | --- |",
    ]
    for d in cat.entries.values():
        lines.append(f"| [{d.id}](#{d.id.lower()}) | {d.title} | {d.topic} |")
    for d in cat.entries.values():
        lines += ["", f"## {d.id}", "", f"**{d.title}** ({d.topic}). {d.meaning}", "", f"Seen: {d.seen}"]
        if d.refs:
            lines += ["", "References: " + ", ".join(_link(r) for r in d.refs) + "."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
