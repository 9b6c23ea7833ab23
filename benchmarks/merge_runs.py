"""Size of results.json per check, and the cost of merging eight full runs (~100,000 checks) into one
report: wall time, CPU time and peak resident memory of `sigharness report RUN1 ... RUN8 --out DIR`,
measured in a child process, then how long the merged page takes to open in headless Chromium.

    PYTHONPATH=. python benchmarks/merge_runs.py reports/latest/results.json [--runs 8] [--repeat 3] [--no-browser] [--phases]
        [--rows 12500] [--signers-only]

The eight inputs are copies of one full run, each with other library versions (so every adapter gets
one column per copy, as in a version matrix), its own timings in every row and 2 % of its rows with
another reason (`--changed`), written to a temporary folder. The machine is shared:
every figure is printed with the load average (1 minute) next to it, and CPU time (user + system of
the child) is printed beside wall time because on a loaded machine wall time mostly measures waiting
for a core. `--phases` also times each step of the command in this process (what each one costs).
The browser is Debian's chromium driven through Debian's chromedriver (as tests/test_report_browser.py
starts it; never a driver fetched from the network).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.results import dumps, load_results  # noqa: E402

CHROMIUM = os.environ.get("SIGHARNESS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = os.environ.get("SIGHARNESS_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--window-size=1400,1000"]


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def copies(source: Path, runs: int, folder: Path, changed: float = 0.02, rows: int | None = None,
           signers_only: bool = False) -> list[Path]:
    """`runs` copies of one run, each as another run of other library versions would differ: every row's
    timings measured anew (duration_ms and elapsed_ns vary by up to 30 %), and a share `changed` of the
    rows with another verdict text (what a new library version changes). `rows`: a run of that many rows,
    every n-th row of the source (the full run of the issue's day had 12,920 checks: eight made ~100,000).
    `signers_only`: without the wire stage's rows and columns (ADAPTER+CLIENT), as `run --no-send` writes a
    run and as the issue's full runs were (20 columns each then)."""
    data = load_results(source)
    if signers_only:
        data["results"] = [row for row in data["results"] if "wire" not in row and "+" not in row["adapter"]]
        data["adapters"] = {name: info for name, info in data["adapters"].items() if "+" not in name}
    if rows and rows < len(data["results"]):
        step = len(data["results"]) / rows
        data["results"] = [data["results"][int(i * step)] for i in range(rows)]
    paths = []
    for i in range(runs):
        copy = json.loads(json.dumps(data))
        for info in copy["adapters"].values():
            info["library_version"] = f"{info.get('library_version')}-bench{i}"
        chance = random.Random(i)
        for row in copy["results"]:
            for key, kind in (("elapsed_ns", int), ("duration_ms", float)):
                if row.get(key) is not None:  # last in the row, as this version writes rows
                    row[key] = kind(round(row.pop(key) * chance.uniform(0.7, 1.3), 3))
            if i and chance.random() < changed:
                row["reason"] = f"{row.get('reason') or ''} (as run {i} found it)"
        path = folder / f"run{i}" / "results.json"
        path.parent.mkdir(parents=True)
        path.write_text(dumps(copy), encoding="utf-8")
        paths.append(path)
    return paths


def measured(command: list[str]) -> dict[str, Any]:
    """Wall seconds, CPU seconds, peak RSS in MB and the first line of output of a child process.

    Linux hands a process the peak RSS of the one that started it (across fork and exec), so every process
    measured here is started by a small one (`--child`), never by the benchmark's own process, which has
    held a full run's results."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "rss": after.ru_maxrss / 1024, "out": (proc.stdout.splitlines() or [""])[0]}


def child(paths: list[Path], out: Path) -> None:
    """One timed `sigharness report`."""
    print(json.dumps(measured([sys.executable, "-m", "harness", "report", *map(str, paths), "--out", str(out)])))


def phases(paths: list[Path], out: Path, shorten: bool = True) -> None:
    """The steps of `sigharness report` one by one, in a fresh process: wall and CPU seconds of each, and
    the peak RSS so far. Without `shorten`, the session-token pass is left out (as when runs write tokens
    already shortened)."""
    from harness import report
    from harness.report import junit, known_issues, merge, model, shares
    from harness.redaction import Sink
    from harness.report.text import shorten_tokens, tokens_shortened
    from harness.results import paused_gc, write_results

    mark = [time.perf_counter(), time.process_time()]

    def lap(name: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  {name:28} wall {wall - mark[0]:6.2f} s  cpu {cpu - mark[1]:6.2f} s  peak RSS so far {peak:5.0f} MB  ({load()})", flush=True)
        mark[:] = [time.perf_counter(), time.process_time()]

    from harness.results import read_results
    from harness.results_lines import RowReader

    gc_paused = paused_gc()
    gc_paused.__enter__()  # as `sigharness report` runs: no cyclic collection while results are alive
    sink = Sink()
    reader, origins, inputs = RowReader(), merge.Origins(), []
    for p in paths:
        data, spans = read_results(p, reader)
        inputs.append((str(p), data))
        origins.spans.append(spans)
    del reader
    lap("load inputs")
    data = sink.adopt(merge.merge(inputs, origins))
    del inputs
    lap("merge")
    out.mkdir(parents=True, exist_ok=True)
    with paused_gc():
        if shorten and not tokens_shortened(data):
            clean = shorten_tokens(data)
            lap("shorten session tokens")
        else:
            clean = data
        where = model.frame(clean)
        found = {}
        # one share of every check, field by field (with a second core, two processes each compute one of two)
        for name, value in shares.fields(clean, where, clean.get("results") or [], None,
                                         lambda rows: merge.merged_lines(rows, origins)):
            found[name] = value
            lap(f"share: {name}")
        share = shares.Share(**found)
        write_results(out, data, sink, rows_chunks=share.lines)
        lap("write merged results.json")
        joined = shares.join(clean, [share])
        view = model.assemble(clean, where, joined.cells)
        view.update(joined.tables)
        lap("page model (assemble)")
        sink.write_pieces(out / "index.html", report._html_chunks(clean, view, None, None))
        lap("index.html")
        sink.write_pieces(out / "junit.xml", junit.joined(clean, joined.suites))
        lap("junit.xml")
        sink.write_pieces(out / "summary.md", [report._summary(clean, view, failing=(joined.failing_rows, joined.failing_count))])
        lap("summary.md")
        report._write_known_issues(view["adapters"], out, sink, known_issues.ordered(joined.failing, view["matrix"]["topics"]))
        lap("known-issues pages")


def browser_open_ms(page: Path, times: int = 3) -> list[float]:
    """Milliseconds from navigation start to the end of the load event (the page's script has laid out the
    matrix by then: it runs before `load`), `times` fresh loads."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="sigharness-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(120)
    found = []
    try:
        for _ in range(times):
            driver.get("about:blank")
            driver.get(page.as_uri())
            rows = driver.execute_script("return document.querySelectorAll('#gbody .r').length")
            if not rows:
                raise SystemExit("the merged page shows no row")
            found.append(driver.execute_script(
                "var t = performance.getEntriesByType('navigation')[0]; return t.loadEventEnd - t.startTime;"))
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1, help="timed `sigharness report` runs (best and median printed)")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--changed", type=float, default=0.02, help="share of rows each copy changes (default 0.02)")
    parser.add_argument("--rows", type=int, help="runs of this many rows (every n-th row of RESULTS): 12500 makes eight runs ~100,000 checks")
    parser.add_argument("--signers-only", action="store_true",
                        help="leave out the wire stage's rows and columns (ADAPTER+CLIENT), as `run --no-send` writes a run")
    parser.add_argument("--phases", action="store_true", help="also time each step of the command, one by one")
    parser.add_argument("--child", nargs="+", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-phases", choices=("with-shortening", "without-shortening"), help=argparse.SUPPRESS)
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child and args.child_phases:
        phases(args.child[:-1], args.child[-1], args.child_phases == "with-shortening")
        return
    if args.child:
        child(args.child[:-1], args.child[-1])
        return
    if args.prepare:
        paths = copies(args.results, args.runs, args.prepare, args.changed, args.rows, args.signers_only)
        print(json.dumps({"checks": len(load_results(paths[0])["results"]), "paths": list(map(str, paths))}))
        return
    me = [sys.executable, __file__, str(args.results)]
    with tempfile.TemporaryDirectory(prefix="sigharness-merge-") as tmp:
        folder = Path(tmp)
        prepared = json.loads(subprocess.run(me + ["--runs", str(args.runs), "--changed", str(args.changed)]
                                             + (["--rows", str(args.rows)] if args.rows else [])
                                             + (["--signers-only"] if args.signers_only else []) + ["--prepare", str(folder)], check=True,
                                             capture_output=True, text=True).stdout)
        checks, paths, size = prepared["checks"], prepared["paths"], args.results.stat().st_size
        print(f"{args.results}: {size / len(load_results(args.results)['results']):.0f} bytes per check ({size / 1e6:.1f} MB); "
              f"{args.runs} runs of {checks} checks each")
        out = folder / "merged"
        figures = []
        for _ in range(args.repeat):
            shutil.rmtree(out, ignore_errors=True)
            before = load()
            proc = subprocess.run(me + ["--child", *paths, str(out)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise SystemExit(proc.stderr[-3000:] or proc.stdout[-3000:])
            figure = json.loads(proc.stdout.strip().splitlines()[-1])
            figures.append(figure)
            print(f"merge + report of {args.runs} runs ({figure['out']}): wall {figure['wall']:.2f} s, cpu {figure['cpu']:.2f} s, "
                  f"peak RSS {figure['rss']:.0f} MB ({before} before, {load()} after)", flush=True)
        if len(figures) > 1:
            walls, cpus, rss = ([f[k] for f in figures] for k in ("wall", "cpu", "rss"))
            print(f"{len(figures)} runs: wall best {min(walls):.2f} s median {statistics.median(walls):.2f} s; cpu best {min(cpus):.2f} s "
                  f"median {statistics.median(cpus):.2f} s; peak RSS max {max(rss):.0f} MB")
        print(f"merged results.json {(out / 'results.json').stat().st_size / 1e6:.0f} MB, "
              f"index.html {(out / 'index.html').stat().st_size / 1e6:.0f} MB, junit.xml {(out / 'junit.xml').stat().st_size / 1e6:.0f} MB")
        if args.phases:
            for how in ("with-shortening", "without-shortening"):
                print(f"steps, one by one in a fresh process, {how.replace('-', ' ')} of session tokens:", flush=True)
                subprocess.run(me + ["--child-phases", how, "--child", *paths, str(folder / "phases")], check=True)
        if not args.no_browser:
            before = load()
            ms = browser_open_ms(out / "index.html")
            print(f"merged page opens in headless Chromium in {min(ms):.0f} ms best, {statistics.median(ms):.0f} ms median of "
                  f"{len(ms)} ({before} before, {load()} after)")


if __name__ == "__main__":
    main()
