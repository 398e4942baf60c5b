"""The workbench in a real browser: Debian's chromium, headless, driven by Selenium.

Every page loads without a console error (a blocked script or style under the content-security
policy is one); changing the Ascend 910C's die yield on the Assumptions page changes the unit-cost
answer on the Overview; and the scenario file the page downloads gives the same number through
the report's Python API. These tests never skip: without chromium they fail.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
YIELD_910C = "chip_costs:huawei-ascend-910c-cost:yields.1.value"
REPORT_WAIT = 180  # s: the overview builds the report (~7 s alone; more on a busy 2-core machine)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """``chipgap serve`` in a subprocess on a free loopback port; yields its URL."""
    port = _free_port()
    code = "from chipgap.cli import main; main()"
    proc = subprocess.Popen([sys.executable, "-c", code, "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    start = time.monotonic()
    try:
        while True:
            try:
                urllib.request.urlopen(url + "/api/schema/train", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() - start > 30:
                    raise RuntimeError("chipgap serve did not start: " + proc.stderr.read().decode()) from None
                time.sleep(0.1)
        started = time.monotonic() - start
        assert started < 5, f"chipgap serve took {started:.1f} s to answer"
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(tmp_path_factory, downloads):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1300,1000",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def _errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _overview_line(driver, url: str) -> str:
    driver.get(url + "/")
    el = WebDriverWait(driver, REPORT_WAIT).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "#a-unit-cost .headline")))
    return el.text


PAGES = ("/report", "/chips", "/chips/compare?ids=huawei-ascend-910c&ids=nvidia-h100-sxm",
         "/train?model=llama-3.1-70b&chip=huawei-ascend-910c&chips=1024&seq_len=8192&samples=100",
         "/serve?model=llama-3.1-70b&chip=nvidia-h100-sxm&chips=8&input_len=2048&output_len=512&tpot_ms=50",
         "/sweeps", "/apidoc", "/assumptions")


def test_every_page_loads_without_console_errors(server, browser):
    browser.get_log("browser")
    line = _overview_line(browser, server)
    assert "die yield" in line
    assert _errors(browser) == []
    for path in PAGES:
        browser.get(server + path)
        WebDriverWait(browser, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")
        if "/train?" in path or "/serve?" in path:
            WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "figure.chart canvas"))
            assert browser.find_elements(By.CSS_SELECTOR, "#rows tr td")
        assert _errors(browser) == [], path
    browser.get(server + "/chips")
    chips = browser.find_elements(By.CSS_SELECTOR, "#chips tbody tr")
    browser.find_element(By.ID, "filter").send_keys("ascend")
    shown = [r for r in browser.find_elements(By.CSS_SELECTOR, "#chips tbody tr") if r.is_displayed()]
    assert 0 < len(shown) < len(chips)
    assert _errors(browser) == []


def test_a_changed_910c_yield_moves_the_unit_cost_and_the_download_reproduces_it(server, browser, downloads):
    from chipgap.report.build import build_report
    from chipgap.text import num

    before = _overview_line(browser, server)
    browser.get(server + "/assumptions")
    box = browser.find_element(By.NAME, YIELD_910C)
    box.clear()
    box.send_keys("0.5")
    WebDriverWait(browser, REPORT_WAIT).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "#changes-answers #a-unit-cost.changed")))
    assert "changed" in browser.find_element(By.CSS_SELECTOR, f'tr[data-key="{YIELD_910C}"]').get_attribute("class")
    after = _overview_line(browser, server)
    assert after != before and "50% die yield" in after
    assert _errors(browser) == []

    browser.get(server + "/assumptions")
    browser.find_element(By.ID, "download").click()
    deadline = time.monotonic() + 30
    while not (files := list(downloads.glob("*.yaml"))) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert files, "the scenario file was not downloaded"
    report = build_report(scenario=files[0], samples=2000, seed=0)
    cost = report.section("unit-cost").numbers["cost.yield50.p50"]
    assert f"US${num(cost)} at 50% die yield" in after
