"""How fast the report opens and answers filters in headless Chromium (issue 17's targets: a full run's page
opens in under 1.5 s; on a ~100,000-check merged report a filter answers in under 300 ms).

    PYTHONPATH=. python benchmarks/report_browser.py FULL/index.html [MERGED/index.html] [--loads 5] [--repeat 3]

FULL is a rendered full run (`sigharness report reports/latest --out DIR`); MERGED a merged report of ~100,000
checks (benchmarks/merge_runs.py builds the inputs: copies of one full run with other library versions, then
`sigharness report run*/results.json --out DIR`). Opening: milliseconds from navigation start to the end of the
load event (the page's script has laid out the matrix by then: it runs before `load`), fresh loads. Filters: each
fragment below is applied as a followed link would (`window.sigharnessReport.apply`, which filters, redraws the
matrix and the ranking and returns the milliseconds it took). The machine is shared: the 1-minute load average is
printed next to every figure. The browser is Debian's chromium with Debian's chromedriver.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path

CHROMIUM = os.environ.get("SIGHARNESS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = os.environ.get("SIGHARNESS_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--window-size=1400,1000"]

# The questions and the filters a reader clicks, as fragments.
FRAGMENTS = (
    "sv=execute-api",
    "sv=execute-api&tk=signed&m=query",
    "q=service%3Aexecute-api%20mode%3Aquery%20tag%3Atoken%2Cexpires%20lang%3Ajavascript",
    "q=service%3As3%20topic%3Apath%20lang%3Apython",
    "q=algorithm%3Asigv4a%20lang%3Ago",
    "s=fail",
    "s=accepted-invalid",
    "q=js-aws4%3Afail",
    "vd=1",
    "q=presign",
    "",
)


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="sigharness-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(DRIVER), options=options)
    browser.set_page_load_timeout(180)
    return browser, profile


def open_ms(browser, page: Path) -> float:
    browser.get("about:blank")
    browser.get(page.resolve().as_uri())
    if not browser.execute_script("return document.querySelectorAll('#gbody .r').length"):
        raise SystemExit(f"{page}: the page shows no row")
    return browser.execute_script("var t = performance.getEntriesByType('navigation')[0]; return t.loadEventEnd - t.startTime;")


def script_ms(browser) -> float:
    """Of the last load, the page's own script: from its first line to the laid-out matrix and ranking."""
    return browser.execute_script("var a = performance.getEntriesByName('sigharness-start')[0], b = performance.getEntriesByName('sigharness-ready')[0];"
                                  "return a && b ? b.startTime - a.startTime : -1;")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="+", type=Path)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    browser, profile = driver()
    try:
        for page in args.pages:
            size = page.stat().st_size / 1e6
            times, scripts = [], []
            for _ in range(args.loads):
                times.append(open_ms(browser, page))
                scripts.append(script_ms(browser))
            shown = browser.execute_script("return window.sigharnessReport.shown()")
            print(f"{page} ({size:.1f} MB, {shown['rows']} checks x {shown['adapters']} adapters): open "
                  f"best {min(times):.0f} ms, median {statistics.median(times):.0f} ms over {len(times)} loads; of which the page's script "
                  f"best {min(scripts):.0f} ms, median {statistics.median(scripts):.0f} ms ({load()})")
            worst = 0.0
            for fragment in FRAGMENTS:
                spent = [browser.execute_script("return window.sigharnessReport.apply(arguments[0])", fragment) for _ in range(args.repeat)]
                rows = browser.execute_script("return window.sigharnessReport.shown().rows")
                worst = max(worst, statistics.median(spent))
                print(f"  #{fragment or '(no filter)':70} {rows:6} rows  median {statistics.median(spent):6.0f} ms  "
                      f"max {max(spent):6.0f} ms  ({load()})")
            print(f"  slowest filter (median): {worst:.0f} ms")
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
