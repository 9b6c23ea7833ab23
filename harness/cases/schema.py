"""The case schema (case.schema.json) and its one FILE:LINE message per invalid case, shared by the
request-case loader (yamlfile.py) and the surface-case loader (surfaces.py)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema

from harness.cases.errors import CaseError

Path_ = tuple[Any, ...]


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files("harness.cases").joinpath("case.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema())
    return cls(schema())


def _describe(error: jsonschema.ValidationError) -> tuple[Path_, str, bool]:
    """(path, message, point-at-key) for the most useful schema error."""
    path = tuple(error.absolute_path)
    where = ".".join(str(p) for p in path) or "case"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        if extra:
            known = ", ".join(sorted(error.schema.get("properties", {})))
            return path + (extra[0],), f"unknown key {extra[0]!r} in {where} (known: {known})", True
    if error.validator == "required":
        return path, f"{where}: {error.message}", True
    if error.validator in ("oneOf", "anyOf") and error.context:
        if where == "request":
            return path, "request: give either `url`, or `host` (with optional scheme, path, query), not both", True
        best = jsonschema.exceptions.best_match(error.context)
        return path, f"{where}: {best.message}", False
    return path, f"{where}: {error.message}", False


def _schema_check(data: dict[str, Any], base: Path_, lines: Any, file: str,
                  validator: jsonschema.protocols.Validator | None = None) -> None:
    """One FILE:LINE error for the most useful schema error of `data` (the case schema, or `validator`'s)."""
    errors = sorted((validator or _validator()).iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        path, message, at_key = _describe(jsonschema.exceptions.best_match(errors))
        raise CaseError(file, lines.line(base + path, key=at_key), message)
