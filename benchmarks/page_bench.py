"""Measure a run's report.html, never assert on it: its size, and how fast headless Chromium shows it.

    python benchmarks/page_bench.py RUN_DIR [--loads N]

RUN_DIR holds a report.html (`python -m harness report RUN_DIR --format html` writes it). The page is
opened N times (default 5) in Debian's chromium through chromedriver (selenium), each time in a fresh
tab with a cold profile-less cache of the file; per load, from the browser's own Performance API:
first-paint and first-contentful-paint (the static parts: totals, overview, history), and when the
page's script had drawn every grid (body[data-ready]) relative to navigation start. Prints a table and
last one line `PAGE {json}` (medians).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

TIMING = """
const paint = Object.fromEntries(performance.getEntriesByType('paint').map(e => [e.name, e.startTime]));
const nav = performance.getEntriesByType('navigation')[0];
return {first_paint: paint['first-paint'], first_contentful_paint: paint['first-contentful-paint'],
        dom_content_loaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
        ready: Number(document.body.dataset.readyAt || NaN)};
"""


def browser(profile: Path) -> webdriver.Chrome:
    chromium = shutil.which("chromium") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        sys.exit("page_bench: no chromium/chromedriver on PATH (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))


def measure(page: Path, loads: int) -> list[dict[str, Any]]:
    out = []
    with tempfile.TemporaryDirectory() as profile:
        driver = browser(Path(profile))
        try:
            for _ in range(loads):
                driver.get("about:blank")
                start = time.perf_counter()
                driver.get(page.as_uri())
                WebDriverWait(driver, 60).until(
                    lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready")
                )
                timing: dict[str, Any] = driver.execute_script(TIMING)
                timing["wall_until_ready"] = (time.perf_counter() - start) * 1000
                out.append(timing)
        finally:
            driver.quit()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    page = (args.run_dir / "report.html").resolve()
    if not page.is_file():
        sys.exit(f"page_bench: {page}: no report.html (python -m harness report {args.run_dir} --format html)")
    loads = measure(page, args.loads)
    keys = list(loads[0])
    print(f"{page}: {page.stat().st_size / 1e6:.2f} MB, {args.loads} loads (ms after navigation start)")
    print("  ".join(f"{k:>22}" for k in keys))
    for row in loads:
        print("  ".join(f"{row[k]:>22.0f}" for k in keys))
    medians = {k: round(statistics.median(row[k] for row in loads), 1) for k in keys}
    print("PAGE " + json.dumps({"bytes": page.stat().st_size, **medians}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
