"""`sigharness diff OLD.json NEW.json`: regressions first, then fixes, changes and new checks; exit 1 on a regression."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness import diff
from harness.redaction import Sink


def _fail(message: str) -> int:
    print(f"sigharness diff: {Sink().line(message)}", file=sys.stderr)
    return 2


def cmd_diff(args: argparse.Namespace) -> int:
    if args.limit < 0:
        return _fail(f"--limit must be 0 or more, not {args.limit}")
    loaded = []
    for name in (args.old, args.new):
        path = Path(name)
        if path.is_dir():
            path = path / "results.json"
        try:
            loaded.append((path, diff.load(path)))
        except FileNotFoundError:
            return _fail(f"{path}: no such file")
        except OSError as exc:
            return _fail(f"{path}: cannot read it ({exc.strerror or type(exc).__name__})")
        except ValueError as exc:  # load_results names the file and the first problem
            return _fail(str(exc))
    (old_path, old), (new_path, new) = loaded
    comparison = diff.compare(old, new)
    old_label = diff.describe(old, old_path)
    new_label = diff.describe(new, new_path)
    sink = Sink()
    if args.format == "json":
        text = json.dumps(sink.clean({
            "old": str(old_path), "new": str(new_path), "counts": comparison.counts(), "unchanged": comparison.unchanged,
            "versions": [dict(zip(("adapter", "library", "old", "new"), v)) for v in comparison.versions],
            "changes": [c.to_json() for c in comparison.changes],
        }), indent=1, ensure_ascii=False, allow_nan=False)
    elif args.format == "md":
        text = diff.format_markdown(comparison, old_label, new_label).rstrip("\n")
    else:
        text = diff.format_text(comparison, old_label, new_label, limit=args.limit)
    sink.say(text, sys.stdout)
    return 1 if comparison.regressions else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "diff",
        help="compare two results.json files: regressions, fixes, changes, new checks (exit 1 on a regression)",
        description="Compare two runs per case x mode x adapter. A regression is a check that moved down a class "
        "(pass/variant -> unsupported -> fail/error); see docs/verdicts.md. Exit 1 when anything regressed.",
    )
    p.add_argument("old", metavar="OLD.json", help="the baseline results.json (or its run folder)")
    p.add_argument("new", metavar="NEW.json", help="the results.json to judge (or its run folder)")
    p.add_argument("--format", choices=("text", "json", "md"), default="text", help="output format (md: for a pull request comment)")
    p.add_argument("--limit", type=int, default=200, metavar="N", help="list at most N new / gone checks (default 200)")
    p.set_defaults(func=cmd_diff)
