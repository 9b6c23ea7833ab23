"""`sigharness bless`: write the reference signer's stages into YAML cases as their expectations,
with a provenance line, so a reviewer can read what each case expects.

Comments in a blessed file are not kept (the file is written back from its data); put notes in
`flags.note`, where the report shows them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import harness
from harness.cases.errors import CaseError
from harness.cases.yamlfile import build_case, parse_yaml
from harness.model import SINGLE, Check
from harness.reference import sign

PROVENANCE = f"reference signer (harness/reference, sigharness {harness.__version__}); written by `sigharness bless`"


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and not any(line != line.rstrip() for line in value.split("\n")) and "\r" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list(dumper: yaml.SafeDumper, value: list) -> yaml.Node:
    flow = bool(value) and all(isinstance(v, (str, int, bool)) and "\n" not in str(v) for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(list, _list)


def expectations(case_data: dict[str, Any], base: tuple, lines, file: str) -> dict[str, Any] | None:
    case = build_case(case_data, base, lines, file)
    if case.surface != SINGLE:  # POST policy and token cases hold published values only, never the reference's
        return case_data.get("expect")
    if case.expect_error:
        return None
    expect: dict[str, Any] = {}
    for mode in case.modes:
        result = sign(Check(case, mode))
        stages = {
            "canonical_request": result.stages["canonical_request"],
            "string_to_sign": result.stages["string_to_sign"],
        }
        if case.context.algorithm == "sigv4":
            stages["signature"] = result.stages["signature"]
            if mode == "header":
                stages["authorization"] = result.stages["authorization"]
            else:
                stages["signed_url"] = result.stages["signed_url"]
        expect[mode] = stages
    expect["provenance"] = PROVENANCE
    return expect


def _same(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    strip = lambda d: {k: v for k, v in (d or {}).items() if k != "provenance"}  # noqa: E731
    return strip(old) == strip(new)


def bless_file(path: Path, check_only: bool = False) -> int:
    """Bless every case in one file; returns how many cases changed (or would)."""
    text = path.read_text(encoding="utf-8")
    docs, lines = parse_yaml(text, str(path))
    changed = 0
    for data, base in docs:
        new = expectations(data, base, lines, str(path))
        if not _same(data.get("expect"), new):
            changed += 1
            if new is None:
                data.pop("expect", None)
            else:
                data["expect"] = new
    if changed and not check_only:
        payload: Any = docs[0][0] if len(docs) == 1 and docs[0][1] == () else [d for d, _ in docs]
        path.write_text(yaml.dump(payload, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096), encoding="utf-8")
    return changed


def bless_paths(paths: list[str], check_only: bool = False) -> tuple[list[tuple[Path, int]], list[str]]:
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        files += sorted(f for f in p.rglob("*") if f.suffix in (".yaml", ".yml")) if p.is_dir() else [p]
    changed, problems = [], []
    for file in files:
        try:
            n = bless_file(file, check_only)
        except CaseError as exc:
            problems.append(str(exc))
            continue
        except OSError as exc:
            problems.append(f"{file}:1: {exc.strerror}")
            continue
        if n:
            changed.append((file, n))
    return changed, problems
