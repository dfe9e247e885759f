"""The HTML report in a real headless browser (Debian's chromium + chromedriver): every cell drawn, filters
change what is visible, a click opens a cell's details. Built from a recorded run (tests/fixtures/runs)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.reports import diff, history
from harness.reports.html import html_report
from harness.reports.overview import display_status
from harness.run import records as results
from harness.workflows.nightly import carry_history
from tests.conftest import FIXTURES

pytest.importorskip("selenium", reason="selenium not installed (pip install -e '.[test]')")
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

# Debian's chromium (.ci/run installs it), or the Google Chrome of GitHub's runner images.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="no chromium/chromedriver on PATH: apt-get install chromium chromium-driver (.ci/run does)",
    ),
]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",  # root in CI containers
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver: webdriver.Chrome, page: Path) -> None:
    """Load *page* and wait until its script has inflated the data and drawn the grids."""
    driver.get(page.as_uri())
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))


def visible(driver: webdriver.Chrome) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, "td.c:not(.hidden)"))


def test_html_report_in_browser(browser: webdriver.Chrome, tmp_path: Path) -> None:
    records, environment = results.load(FIXTURES / "runs" / "regressed")
    baseline, _ = results.load(FIXTURES / "runs" / "base")
    page = tmp_path / "report.html"
    page.write_text(html_report(records, environment, diff.diff(baseline, records), "base"))
    open_page(browser, page)

    cells = browser.find_elements(By.CSS_SELECTOR, "td.c")
    assert sorted(int(c.get_attribute("data-i") or -1) for c in cells) == list(range(len(records)))
    assert visible(browser) == len(records)
    assert browser.find_element(By.ID, "count").text == f"{len(records)} of {len(records)} cells shown"
    assert "Regressions" in browser.find_element(By.ID, "diff").text

    Select(browser.find_element(By.ID, "f-status")).select_by_value("fail")
    fails = [r for r in records if r.status == "fail"]
    assert 0 < visible(browser) == len(fails) < len(records)
    Select(browser.find_element(By.ID, "f-status")).select_by_value("")
    browser.find_element(By.ID, "f-text").send_keys("sysconfig/c-api:abi3t:")
    assert visible(browser) == sum(r.cell.startswith("sysconfig/c-api:abi3t:") for r in records)
    browser.find_element(By.ID, "f-text").send_keys(Keys.CONTROL, "a", Keys.BACKSPACE)
    assert visible(browser) == len(records)
    Select(browser.find_element(By.ID, "f-run_python")).select_by_value("cp313")
    assert visible(browser) == sum(r.run_python == "cp313" for r in records)

    details = browser.find_element(By.ID, "details")
    assert not details.is_displayed()
    target = next(r for r in fails if r.run_python == "cp313")  # the filter hides the others
    cell = browser.find_element(By.CSS_SELECTOR, f"td.c[title^='{target.cell}:']")
    cell.click()
    assert details.is_displayed()
    text = details.text
    assert target.cell in text
    assert "stages" in text
    assert "ModuleNotFoundError" in text or "does not fit" in text
    links = {a.text: a.get_attribute("href") for a in details.find_elements(By.TAG_NAME, "a")}
    assert target.log is not None
    assert (links["cell log"] or "").endswith(target.log)
    # A refused wheel loaded anyway: the cell says what its binary did.
    found = next(r for r in records if r.findings and r.run_python == "cp313")
    browser.find_element(By.ID, "close").click()
    browser.find_element(By.CSS_SELECTOR, f"td.c[title^='{found.cell}:']").click()
    assert "loaded anyway (findings)" in details.text
    assert f"{found.findings[0].route}: {found.findings[0].kind}" in details.text
    browser.save_screenshot(str(tmp_path / "report.png"))
    assert (tmp_path / "report.png").stat().st_size > 0
    keep = os.environ.get("ABI_HARNESS_SCREENSHOT")  # a copy to look at, outside pytest's tmp dir
    if keep:
        shutil.copy(tmp_path / "report.png", keep)


def in_view(driver: webdriver.Chrome, element: WebElement) -> bool:
    script = "const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight;"
    return bool(driver.execute_script(script, element))


def test_overview_jumps_to_the_cell(browser: webdriver.Chrome, tmp_path: Path) -> None:
    records, environment = results.load(FIXTURES / "runs" / "regressed")
    cells = sorted(records, key=lambda r: r.cell)
    # Two nights: the base run, then the regressed one (as the nightly's merge job carries them).
    carry_history(tmp_path, FIXTURES / "runs" / "base", records, environment, [], say=lambda _: None)
    page = tmp_path / "report.html"
    page.write_text(html_report(records, environment, history=history.required(tmp_path)))
    open_page(browser, page)
    heatmap = browser.find_element(By.ID, "heatmap")
    plot = browser.find_element(By.ID, "history-plot")
    assert in_view(browser, heatmap)  # the overview opens the page, without scrolling
    assert in_view(browser, plot)
    squares = heatmap.find_elements(By.TAG_NAME, "rect")
    assert len(squares) == len({(r.case, r.target, r.run_python) for r in records})
    assert len(plot.find_elements(By.TAG_NAME, "polyline")) == len({display_status(r) for r in records} | {"xfail"})
    assert plot.find_elements(By.CSS_SELECTOR, "circle.h-fail")[-1].size["height"] > 0
    shot = tmp_path / "overview.png"
    browser.save_screenshot(str(shot))

    # A filter hides the failing cells; a click on a failing square shows them again and jumps there.
    Select(browser.find_element(By.ID, "f-status")).select_by_value("skip")
    square = heatmap.find_element(By.CSS_SELECTOR, "rect.h-fail")
    link = square.find_element(By.XPATH, "..").get_dom_attribute("href") or ""
    index = int(link.rsplit("#cell-", 1)[1])
    assert cells[index].status == "fail"
    square.click()
    cell = browser.find_element(By.ID, f"cell-{index}")
    assert browser.execute_script("return location.hash") == f"#cell-{index}"
    assert cell.is_displayed()
    assert in_view(browser, cell)
    assert (cell.get_attribute("title") or "").startswith(f"{cells[index].cell}: fail")
    assert not in_view(browser, heatmap)
    cell.click()  # its details: a strip of its statuses night by night, xfail then fail
    strip = browser.find_element(By.CSS_SELECTOR, "#details .strip")
    assert [s.get_attribute("class") for s in strip.find_elements(By.TAG_NAME, "span")] == ["s-xfail", "s-fail"]
    browser.find_element(By.ID, "close").click()

    # What each backend produced: a click on a row of squares opens its tags and suffixes.
    browser.execute_script("scrollTo(0, 0)")
    produced = browser.find_element(By.ID, "produced")
    misfit = produced.find_element(By.XPATH, ".//summary[i[contains(@class, 'p-misfit')]]")
    misfit.click()
    assert "does not fit abi3" in misfit.find_element(By.XPATH, "..").text
    keep = os.environ.get("ABI_HARNESS_SCREENSHOT")
    if keep:  # the overview as it opens, next to the grid test's screenshot
        shutil.copy(shot, Path(keep).with_name("overview-" + Path(keep).name))
