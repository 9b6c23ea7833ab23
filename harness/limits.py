"""The harness's limits, declared once: what a case file, an adapter answer or an adapter log may
weigh, and how long things may take. Every limit is enforced where the data enters, has a default a
user can change (`sigharness run --help`), and is written in docs/limits.md."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

KIB, MIB = 1 << 10, 1 << 20


@dataclass(frozen=True)
class Limits:
    # case input
    case_file_bytes: int = 8 * MIB  # one YAML case file or suite file
    yaml_aliases: int = 100  # alias references (`*name`) in one YAML file: alias bombs stop here
    nesting_depth: int = 64  # mappings and lists inside each other, in a case file or an answer
    body_bytes: int = 16 * MIB  # one request body, `repeat` x `times` included
    # adapter answers and processes
    answer_bytes: int = 1 * MIB  # one protocol line from an adapter
    adapter_log_bytes: int = 8 * MIB  # what is kept of one adapter's stderr
    check_seconds: float = 30.0  # one check (per answer)
    start_seconds: float = 120.0  # an adapter's start, up to its hello
    max_restarts: int = 3  # faults in a row before an adapter's remaining checks are errors

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(f"limit {f.name} must be a number, not {value!r}")
            if f.name.endswith("_seconds"):
                if not value > 0 or value != value or value == float("inf"):
                    raise ValueError(f"limit {f.name} must be a positive number of seconds, not {value!r}")
            elif not isinstance(value, int) or value < (0 if f.name == "max_restarts" else 1):
                low = 0 if f.name == "max_restarts" else 1
                raise ValueError(f"limit {f.name} must be a whole number of at least {low}, not {value!r}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "Limits":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


DEFAULT = Limits()
