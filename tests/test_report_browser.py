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

from test_report_support import SCRIPT, TOKEN, make_results, question_results

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
    assert lines[0] == "case,mode,topic,adapter,language,library,library_version,status,reason,fail_kind"
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


def test_score_table_of_many_columns_shows_its_first_rows(browser, tmp_path, monkeypatch):
    """A score table longer than model.SCORES_SHOWN shows its first rows (the page of a version matrix opens a
    second sooner); the button shows them all and back; sorting shows the first rows of the new order."""
    from selenium.webdriver.common.by import By

    from harness.report import model

    monkeypatch.setattr(model, "SCORES_SHOWN", 2)
    out = tmp_path / "capped"
    report.write_all(question_results(), out)
    _open(browser, (out / "index.html").as_uri())
    shown = ("return Array.from(document.querySelectorAll('#scores-ranked tr[data-k]'))"
             ".filter(tr => tr.getClientRects().length).map(tr => tr.getAttribute('data-k'))")
    every = "return Array.from(document.querySelectorAll('#scores-ranked tr[data-k]')).map(tr => tr.getAttribute('data-k'))"
    ranked = browser.execute_script(every)
    assert len(ranked) > 2 and browser.execute_script(shown) == ranked[:2]
    button = browser.find_element(By.ID, "scores-all")
    assert button.text == f"Show all {len(ranked)} adapters"
    browser.execute_script("arguments[0].click()", button)
    assert browser.execute_script(shown) == ranked and button.text == "Show the first 2"
    browser.execute_script("arguments[0].click()", button)
    browser.execute_script("document.querySelector('#scores button.sort[data-col=\"1\"]').click()")  # by name, A to Z
    by_name = browser.execute_script(every)
    assert by_name == browser.execute_script(  # A to Z, an adapter that did not run last
        "var rows = Array.from(document.querySelectorAll('#scores-ranked tr[data-k]')), key = tr => tr.getAttribute('data-k');"
        "var ran = rows.filter(tr => !tr.classList.contains('unavailable')).map(key).sort((a, b) => a.localeCompare(b));"
        "return ran.concat(rows.filter(tr => tr.classList.contains('unavailable')).map(key));")
    assert by_name[:2] != ranked[:2]  # the sort brought other rows to the top ...
    assert browser.execute_script(shown) == by_name[:2]  # ... and those are the ones shown
    assert _severe(browser) == []


@pytest.fixture(scope="module")
def question_url(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("question-report")
    report.write_all(question_results(), out)
    return (out / "index.html").as_uri()


def _shown(driver) -> dict:
    return driver.execute_script("return window.sigharnessReport.shown()")


def _ranking(driver) -> list[list[str]]:
    """The scenario panel's ranking: [rank, adapter, right] per line, as shown."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#rank-body tr')).map(tr => [tr.cells[0].textContent, tr.cells[1].textContent, tr.cells[3].textContent])")


def test_questions_in_chromium(browser, question_url):
    """Issue 17: AND across dimensions, the query language, the scenario panel, the kinds of fail, versions,
    wire columns and the reference apart, as the page shows them."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    # AND across dimensions, OR within one
    counts = {}
    for fragment in ("sv=execute-api", "tk=signed", "sv=execute-api&tk=signed", "t=query&t=token", "sv=execute-api&tk=signed&m=query"):
        _open(browser, question_url + "#" + fragment)
        counts[fragment] = _shown(browser)["rows"]
    assert counts == {"sv=execute-api": 7, "tk=signed": 4, "sv=execute-api&tk=signed": 2, "t=query&t=token": 6,
                      "sv=execute-api&tk=signed&m=query": 1}
    assert sorted(_rows(browser)) == ["token/session query"]

    # the query language: the same question typed, and a per-adapter verdict
    _open(browser, question_url)
    search = browser.find_element(By.ID, "f-q")
    search.send_keys("service:execute-api token:signed mode:query js-mixed:error")
    _wait(browser, lambda d: _shown(d)["rows"] == 1)
    assert _rows(browser) == ["token/session query"]
    assert "q=service%3Aexecute-api" in browser.current_url  # the question is a link
    search.clear()
    search.send_keys("js-mixed@3.0.0:pass -mode:header tag:query")
    _wait(browser, lambda d: sorted(_rows(d)) == ["query/plus-literal query", "query/sorting query"])
    search.clear()
    search.send_keys("colour:red")
    _wait(browser, lambda d: d.find_element(By.ID, "q-problems").is_displayed())
    assert "unknown key colour" in browser.find_element(By.ID, "q-problems").text

    # the scenario panel: execute-api with a session token -> ranked libraries and what breaks
    _open(browser, question_url)
    Select(browser.find_element(By.CSS_SELECTOR, '#scenario select[data-dim="sv"]')).select_by_value("execute-api")
    Select(browser.find_element(By.CSS_SELECTOR, '#scenario select[data-dim="tk"]')).select_by_value("signed")
    _wait(browser, lambda d: _shown(d)["rows"] == 2)
    assert "sv=execute-api" in browser.current_url and "tk=signed" in browser.current_url
    ranking = _ranking(browser)
    assert [line[1] for line in ranking[:2]] == ["py-good", "py-good+urllib"] and ranking[0][2] == "2/2"
    assert ranking[-1][:2] == ["ref", "py-reference"]  # shown apart, not ranked
    mixed = next(line for line in ranking if line[1] == "js-mixed")
    assert mixed[2] == "1/2" and mixed[0] != "ref"
    breaks = browser.execute_script("return document.querySelector('#rank-body tr[data-k=\"js-mixed\"] ul.breaks button')")
    assert "A session token (query)" in breaks.text
    breaks.click()
    _wait(browser, lambda d: d.find_element(By.ID, "drawer").is_displayed())
    assert "oa=js-mixed" in browser.current_url and "oc=token%2Fsession" in browser.current_url

    # the kinds of fail: own symbols, counts, filter buttons and words in the drill-down
    _open(browser, question_url)
    legend = browser.execute_script("return document.getElementById('kinds').textContent.replace(/\\s+/g, ' ')")
    assert "accepted an invalid input 2" in legend and "refused a valid input 2" in legend and "signed wrongly 3" in legend
    assert browser.execute_script("return Array.from(document.querySelectorAll('#gbody .c.k-accepted-invalid')).map(c => c.textContent)") == \
        ["⚠fail (accepted an invalid input)"] * 2
    browser.find_element(By.CSS_SELECTOR, '#f-status button[data-v="refused-valid"]').click()
    _wait(browser, lambda d: _rows(d) == ["path/dots query"])
    browser.execute_script("document.querySelector('#gbody .c.k-refused-valid').click()")
    _wait(browser, lambda d: d.find_element(By.ID, "drawer").is_displayed())
    body = browser.find_element(By.ID, "dr-body").text
    assert "fail: refused a valid input" in body and "refused to sign a valid request" in body
    _open(browser, question_url + "#s=accepted-invalid&oc=presign%2Fexpires-7d&om=query&oa=js-mixed")
    body = browser.find_element(By.ID, "dr-body").text
    assert "fail: accepted an invalid input" in body
    assert "Evidence and known issues:" in body and "sigv4-query-string-auth" in body  # the case's reference, next to the verdict

    # the oracles' opinions, a disagreement with this harness's verifier marked
    _open(browser, question_url + "#oc=query%2Fplus-literal&om=query&oa=js-mixed")
    oracles = browser.execute_script("return Array.from(document.querySelectorAll('#dr-body ul.oracles li')).map(li => [li.textContent, li.className])")
    assert oracles == [["oracle-lenient: accept (signature matches its reading) — disagrees with this harness's verifier (reject)"
                        " · a reviewed difference: lenient-plus (harness/oracle_differences.yaml)", "differs known"],
                       ["oracle-strict: reject", ""]]

    # the score table: coverage and rates; the reference apart; sortable
    scores = browser.execute_script(
        "return Array.from(document.querySelectorAll('#scores-ranked tr[data-k]')).map(tr => tr.getAttribute('data-k'))")
    assert "py-reference" not in scores and "py-good+urllib" in scores
    ref = browser.execute_script("return document.querySelector('#scores tbody.ref-group tr[data-k]').getAttribute('data-k')")
    assert ref == "py-reference"
    cov = browser.execute_script("return document.querySelector('#scores-ranked tr[data-k=\"js-mixed\"]').children[6].textContent")
    assert cov.strip() == "82%"  # 9 of the 11 checks it ran can be expressed (2 unsupported)
    browser.execute_script("document.querySelector('#scores button.sort[data-col=\"6\"]').click()")  # the drawer covers the heading
    ordered = browser.execute_script(
        "return Array.from(document.querySelectorAll('#scores-ranked tr[data-k]')).map(tr => tr.getAttribute('data-k'))")
    assert sorted(ordered[-3:-1]) == ["js-mixed", "js-mixed@3.0.0"] and ordered[-1] == "go-off"  # lowest coverage; not run last

    # passed by counts what the score counts as good: pass + variant is "all"
    _open(browser, question_url + "#q=plus-literal&m=header")
    assert browser.execute_script("return document.querySelector('#gbody .r .agree').className") == "agree all"

    # export keeps the cells of the chosen kind, and names it
    _open(browser, question_url + "#s=refused-valid")
    records = browser.execute_script("return window.sigharnessReport.viewRecords()")
    assert [(r["case"], r["adapter"], r["status"], r["fail_kind"]) for r in records] == \
        [("path/dots", "js-mixed", "fail", "refused-valid"), ("path/dots", "js-mixed@3.0.0", "fail", "refused-valid")]

    # versions: only the checks whose verdict differs across versions of one library
    _open(browser, question_url + "#vd=1")
    assert _rows(browser) == ["query/plus-literal query"]
    assert browser.find_element(By.ID, "f-vd").is_selected()

    # wire columns: the full name renders, and the client is a dimension
    _open(browser, question_url + "#cl=urllib")
    assert _shown(browser)["adapters"] == 1
    assert browser.execute_script("return document.querySelector('#ghead .hc.name').textContent") == "py-good+urllib"
    assert _severe(browser) == []


def test_permalink_opens_and_scrolls_to_the_drill_down(browser, tmp_path):
    """A link to a check far down a long matrix opens its drill-down and scrolls the matrix to its row; a section
    id as the fragment goes to that section."""
    import copy

    from selenium.webdriver.common.by import By

    base = make_results()
    data = copy.deepcopy(base)
    data["cases"], data["results"] = {}, []
    for rep in range(80):
        for cid, case in base["cases"].items():
            data["cases"][f"{cid}-{rep:03d}"] = case
        for row in base["results"]:
            data["results"].append({**row, "case": f"{row['case']}-{rep:03d}"})
    out = tmp_path / "long"
    report.write_all(data, out)
    url = (out / "index.html").as_uri()
    _open(browser, url + "#oc=token%2Fsession-079&om=query&oa=js-mixed")
    _wait(browser, lambda d: d.find_element(By.ID, "drawer").is_displayed())
    state = browser.execute_script(
        "var g = document.getElementById('grid'), row = Array.from(document.querySelectorAll('#gbody .r')).find(r => r.querySelector('.cid').textContent === 'token/session-079' && r.querySelector('.mode').textContent === 'query');"
        "var m = document.getElementById('sec-matrix').getBoundingClientRect();"
        "return {scrolled: g.scrollTop, row: !!row, sel: !!(row && row.querySelector('.c.sel')), top: Math.round(m.top)}")
    assert state["scrolled"] > 1000 and state["row"] and state["sel"]
    _wait(browser, lambda d: abs(d.execute_script("return document.getElementById('sec-matrix').getBoundingClientRect().top")) < 5)
    _open(browser, url + "#sec-choose")
    top = browser.execute_script("return Math.round(document.getElementById('sec-choose').getBoundingClientRect().top)")
    assert abs(top) < 5 and browser.execute_script("return window.scrollY") > 0
    assert _severe(browser) == []
