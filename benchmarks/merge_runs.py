"""Size of results.json per check, and the cost of merging eight full runs (~100,000 checks) into one
report: wall time and peak resident memory of `sigharness report RUN1 ... RUN8 --out DIR`, measured in
a child process, then how long the merged page takes to open in headless Chromium.

    python benchmarks/merge_runs.py reports/latest/results.json [--runs 8] [--no-browser]

The eight inputs are copies of one full run, each with other library versions (so every adapter gets
one column per copy, as in a version matrix), written to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.results import dumps, load_results  # noqa: E402


def copies(source: Path, runs: int, folder: Path) -> list[Path]:
    data = load_results(source)
    paths = []
    for i in range(runs):
        copy = json.loads(json.dumps(data))
        for info in copy["adapters"].values():
            info["library_version"] = f"{info.get('library_version')}-bench{i}"
        path = folder / f"run{i}" / "results.json"
        path.parent.mkdir(parents=True)
        path.write_text(dumps(copy), encoding="utf-8")
        paths.append(path)
    return paths


def measured(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of a child process."""
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, peak


def browser_open_ms(page: Path) -> float | None:
    """Milliseconds until the page's own script has laid out the matrix (Selenium + Debian's chromium)."""
    try:
        from selenium import webdriver
    except ImportError:
        return None
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"):
        options.add_argument(flag)
    if shutil.which("chromium"):
        options.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(options=options)
    try:
        driver.get(page.as_uri())
        return driver.execute_script(
            "var t = performance.getEntriesByType('navigation')[0]; return t.loadEventEnd - t.startTime;")
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    data = load_results(args.results)
    checks = len(data["results"])
    size = args.results.stat().st_size
    print(f"{args.results}: {checks} checks, {size / checks:.0f} bytes per check ({size / 1e6:.1f} MB)")
    with tempfile.TemporaryDirectory(prefix="sigharness-merge-") as tmp:
        folder = Path(tmp)
        paths = copies(args.results, args.runs, folder)
        out = folder / "merged"
        wall, peak = measured([sys.executable, "-m", "harness", "report", *map(str, paths), "--out", str(out)])
        merged = load_results(out / "results.json")
        print(f"merge + report of {args.runs} runs ({len(merged['results'])} checks): {wall:.2f} s, peak RSS {peak:.0f} MB; "
              f"merged results.json {(out / 'results.json').stat().st_size / 1e6:.0f} MB, index.html "
              f"{(out / 'index.html').stat().st_size / 1e6:.0f} MB")
        if not args.no_browser:
            ms = browser_open_ms(out / "index.html")
            print("browser: selenium not installed" if ms is None else f"merged page opens in headless Chromium in {ms:.0f} ms")


if __name__ == "__main__":
    main()
