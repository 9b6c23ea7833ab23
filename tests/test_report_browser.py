"""The report in a real headless Chromium (Selenium + Debian's chromium-driver).

Loads index.html from disk and checks what a person would: no console error, a filter click changes the
visible rows, a click opens the drill-down with the first differing line marked, the keyboard works, a
copied link (URL fragment) reopens the same view, and a case whose header value is <script> does not run.
When Chromium, its driver or Selenium is missing the test is skipped, or fails when CI is set.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from test_report_support import SCRIPT, TOKEN, make_results

from harness import divergences, report

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("SIGHARNESS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = os.environ.get("SIGHARNESS_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--window-size=1400,1000"]


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "Python package selenium is not installed (pip install -e .[test])"
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if not Path(DRIVER).exists():
        return f"chromedriver not found at {DRIVER} (apt-get install chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser():
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run in CI: {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="sigharness-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def page_url(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("browser-report")
    report.write_all(make_results(), out)
    return (out / "index.html").as_uri()


def _wait(driver, condition, timeout=10):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def _rows(driver) -> list[str]:
    """The ids of the check rows the matrix shows (it renders only what is in view: all of them here)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#gbody .r')).map(r => r.querySelector('.cid').textContent + ' ' + r.querySelector('.mode').textContent)")


def _open(driver, url: str) -> None:
    driver.get("about:blank")
    driver.get(url)
    _wait(driver, lambda d: d.execute_script("return !!window.sigharnessReport && document.querySelectorAll('#gbody .r').length > 0"))


def _severe(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def test_report_in_chromium(browser, page_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _open(browser, page_url)
    assert _severe(browser) == []  # includes a Content-Security-Policy refusal of the page's own script
    assert browser.execute_script("return window.__pwned") is None
    all_rows = _rows(browser)
    assert len(all_rows) == 10  # 5 cases x 2 modes

    # a filter click changes the visible rows: only checks with a failing shown adapter
    browser.find_element(By.CSS_SELECTOR, '#f-status button[data-v="fail"]').click()
    _wait(browser, lambda d: len(_rows(d)) != len(all_rows))
    assert sorted(_rows(browser)) == ["headers/script header", "query/plus-literal query"]
    assert "Showing 2 of 10 checks" in browser.find_element(By.ID, "shown").text
    # cells with other verdicts are dimmed, the failing ones are not
    assert browser.execute_script("return document.querySelectorAll('#gbody .c.st-fail:not(.dim)').length") == 2
    assert browser.execute_script("return document.querySelectorAll('#gbody .c.st-pass.dim').length") == 2

    # the drill-down: every stage, the first differing line marked
    fail_cell = browser.execute_script(
        "return Array.from(document.querySelectorAll('#gbody .r')).find(r => r.querySelector('.cid').textContent === 'query/plus-literal')"
        ".querySelector('.c.st-fail')")
    fail_cell.click()
    drawer = browser.find_element(By.ID, "drawer")
    _wait(browser, lambda d: drawer.is_displayed())
    body = browser.find_element(By.ID, "dr-body").text
    assert "canonical request" in body and "string to sign" in body and "signed request" in body
    first = browser.execute_script(
        "return Array.from(document.querySelectorAll('#dr-body table.cmp tr.first')).map(tr => Array.from(tr.cells).map(c => c.textContent))")
    # one marked line per differing stage: canonical request (line 3), signature (line 1)
    assert first == [["3", "▶first difference", "q=a%2Bb", "3", "q=a%20b"], ["1", "▶first difference", "aaaa", "1", "bbbb"]]
    assert "sigharness run --cases" in body and "--adapters js-mixed" in body
    assert f"{divergences.get('D1').label}: {divergences.get('D1').meaning}" in body  # the catalogue's title and meaning

    # the link restores the view: filter, and the open drill-down
    link = browser.current_url
    assert "s=fail" in link and "oc=" in link and "oa=js-mixed" in link
    title = browser.find_element(By.ID, "dr-title").text
    _open(browser, link)
    _wait(browser, lambda d: d.find_element(By.ID, "drawer").is_displayed())
    assert browser.find_element(By.ID, "dr-title").text == title
    assert sorted(_rows(browser)) == ["headers/script header", "query/plus-literal query"]
    assert browser.find_element(By.CSS_SELECTOR, '#f-status button[data-v="fail"]').get_attribute("aria-pressed") == "true"

    # Escape closes it; keyboard: arrows move between cells, Enter opens
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    _wait(browser, lambda d: not d.find_element(By.ID, "drawer").is_displayed())
    assert "oc=" not in browser.current_url
    browser.find_element(By.CSS_SELECTOR, "#b-reset").click()
    _wait(browser, lambda d: len(_rows(d)) == 10)
    first_case = browser.find_element(By.CSS_SELECTOR, '#gbody .r .h')
    first_case.click()  # opens the case overview: every adapter on this check
    _wait(browser, lambda d: d.find_element(By.ID, "drawer").is_displayed())
    assert "Every adapter on this check" in browser.find_element(By.ID, "dr-body").text
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    _wait(browser, lambda d: not d.find_element(By.ID, "drawer").is_displayed())
    focused = browser.switch_to.active_element
    assert focused.get_attribute("data-col") == "0"
    focused.send_keys(Keys.ARROW_RIGHT)
    focused = browser.switch_to.active_element
    assert focused.get_attribute("data-col") == "1"
    focused.send_keys(Keys.ARROW_RIGHT, Keys.ENTER)
    _wait(browser, lambda d: d.find_element(By.ID, "drawer").is_displayed())
    assert "oa=js-mixed" in browser.current_url  # columns: go-off, js-mixed, py-good

    # the <script> case: shown as text, never run
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    search = browser.find_element(By.ID, "f-q")
    search.clear()
    search.send_keys("__pwned")
    _wait(browser, lambda d: len(_rows(d)) == 2)
    browser.find_element(By.CSS_SELECTOR, '#gbody .r .c.st-pass').click()
    _wait(browser, lambda d: d.find_element(By.ID, "drawer").is_displayed())
    assert SCRIPT in browser.find_element(By.ID, "dr-title").text
    assert SCRIPT in browser.find_element(By.ID, "dr-body").text
    assert browser.execute_script("return window.__pwned") is None
    assert browser.execute_script("return document.querySelectorAll('#dr-body script, #dr-body img').length") == 0

    # session tokens are shortened in what the page shows
    _open(browser, page_url + "#q=token%2Fsession&oc=token%2Fsession&om=header&oa=py-good")
    _wait(browser, lambda d: d.find_element(By.ID, "drawer").is_displayed())
    shown = browser.find_element(By.ID, "dr-body").text
    assert TOKEN[:8] + "…[" in shown and TOKEN[:30] not in shown

    # export of the current view
    _open(browser, page_url + "#s=unsupported")
    csv = browser.execute_script("return window.sigharnessReport.viewCSV()")
    lines = csv.strip().split("\r\n")
    assert lines[0] == "case,mode,topic,adapter,language,library,library_version,status,reason"
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["headers/script", "path/dots"]
    assert all(",unsupported," in line for line in lines[1:])
    exported = browser.execute_script("return JSON.parse(window.sigharnessReport.viewJSON())")
    assert exported["view"] == "s=unsupported" and len(exported["checks"]) == 2
    assert _severe(browser) == []


def test_large_report_stays_light(browser, tmp_path):
    """~600 cases x 20 adapters: only the rows in view are in the page, scrolling and filtering stay exact."""
    import copy

    base = make_results()
    data = copy.deepcopy(base)
    data["cases"], data["results"], data["adapters"] = {}, [], {}
    for n in range(10):
        for name, info in base["adapters"].items():
            if info.get("available", True):
                data["adapters"][f"{name}-{n}"] = {**info, "name": f"{name}-{n}"}
    for rep in range(120):
        for cid, case in base["cases"].items():
            data["cases"][f"{cid}-{rep:03d}"] = case
        for row in base["results"]:
            for n in range(10):
                data["results"].append({**row, "case": f"{row['case']}-{rep:03d}", "adapter": f"{row['adapter']}-{n}"})
    out = tmp_path / "large"
    report.write_all(data, out)
    _open(browser, (out / "index.html").as_uri())
    assert browser.execute_script("return window.sigharnessReport.shown()") == {"rows": 1200, "cases": 600, "adapters": 20}
    rendered = len(_rows(browser))
    assert 10 < rendered < 120  # virtualized: a window around the view, not 1200 rows
    last = browser.execute_script("var g = document.getElementById('grid'); g.scrollTop = g.scrollHeight; g.dispatchEvent(new Event('scroll'));"
                                  "return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(document.querySelector('#gbody .r:last-child .cid').textContent))))")
    assert last == "token/session-119"
    _open(browser, (out / "index.html").as_uri() + "#s=error")
    assert browser.execute_script("return window.sigharnessReport.shown()") == {"rows": 120, "cases": 120, "adapters": 20}
    assert _severe(browser) == []
