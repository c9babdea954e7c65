"""End to end in a real browser: `streamlit run app.py`, driven by Playwright in Debian's Chromium.

Skipped (with the reason) only when BROWSER_TESTS=0 or Chromium / the playwright package is missing.
Never runs `playwright install`: the browser is $CHROMIUM_PATH (default /usr/bin/chromium).
Set BROWSER_ARTIFACTS=/some/dir to keep the screenshot and the downloaded table there.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from .conftest import ROOT

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
START_TIMEOUT_S = 90
STEP_TIMEOUT_MS = 30_000


def _skip_reason():
    if os.environ.get("BROWSER_TESTS", "1") == "0":
        return "BROWSER_TESTS=0"
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (set CHROMIUM_PATH)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e .[browser])"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port, proc, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.25)
    raise TimeoutError(f"streamlit did not listen on port {port} within {timeout_s} s")


@pytest.fixture()
def server(tmp_path):
    port = _free_port()
    log = open(tmp_path / "streamlit.log", "w")  # noqa: SIM115 - closed in the finally below
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, proc, START_TIMEOUT_S)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


def _keep(path, artifacts):
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(artifacts) / Path(path).name)


def _timed_press(page, key, js_condition, arg):
    """Press ``key`` and wait (polling every animation frame) until ``js_condition(arg)`` holds; seconds taken."""
    t0 = time.perf_counter()
    page.keyboard.press(key)
    page.wait_for_function(js_condition, arg=arg, polling="raf", timeout=STEP_TIMEOUT_MS)
    return time.perf_counter() - t0


LAND_VERDICT_IS = "(v) => document.querySelector('[data-testid=stMetricValue]')?.innerText.trim() === v"
CHANGES_SAY = ("(t) => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
               ".some(e => e.innerText.includes(t))")


def test_move_a_slider_see_the_verdict_change_and_download_a_table(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    artifacts = os.environ.get("BROWSER_ARTIFACTS")
    timings = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1100}, accept_downloads=True)
            page.set_default_timeout(STEP_TIMEOUT_MS)
            page.goto(server, timeout=STEP_TIMEOUT_MS)
            land_value = page.get_by_test_id("stMetricValue").first
            expect(land_value).to_have_text("Not met", timeout=60_000)
            expect(page.get_by_test_id("stMetricLabel").first).to_contain_text("Land ≥ 30,000 troops")
            expect(page.get_by_text("P(met)").first).to_contain_text("0.0%")

            # France's land pledge: the top thumb to the end (what France can sustain), then the bottom one.
            thumbs = page.locator(".st-key-land_FRA").get_by_role("slider")
            expect(thumbs).to_have_count(2)
            thumbs.nth(1).focus()
            timings.append(_timed_press(page, "End", CHANGES_SAY, "France: land 6,000-26,666 troops"))
            expect(land_value).to_have_text("Not met")
            thumbs.nth(0).focus()
            timings.append(_timed_press(page, "End", LAND_VERDICT_IS, "Met"))
            expect(page.get_by_text("France: land 26,666-26,666 troops", exact=False)).to_be_visible()
            expect(page.get_by_text("P(met)").first).not_to_contain_text("0.0%")

            # Home takes the bottom thumb to zero and the verdict back; arrow keys step it (a 100-troop grid).
            timings.append(_timed_press(page, "Home", LAND_VERDICT_IS, "Not met"))
            for k in (1, 2, 3):
                timings.append(_timed_press(page, "ArrowRight", CHANGES_SAY, f"France: land {k * 100}-26,666 troops"))
            assert page.get_by_test_id("stException").count() == 0

            shot = tmp_path / "app.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000
            _keep(shot, artifacts)
            server_note = page.get_by_text("verdict ready").inner_text().split(" Your changes")[0]

            # Download a table: the summary as CSV, from the tables tab.
            page.get_by_role("tab", name="Tables & downloads").click()
            button = page.get_by_role("button", name="summary.csv")
            expect(button).to_be_visible()
            with page.expect_download(timeout=STEP_TIMEOUT_MS) as dl:
                button.click()
            csv_path = tmp_path / "summary.csv"
            dl.value.save_as(csv_path)
            _keep(csv_path, artifacts)
            summary = pd.read_csv(csv_path)
            assert list(summary["component"]) == ["land", "air", "sea"]
            assert summary.loc[0, "verdict"] == "not met" and summary.loc[0, "threshold"] == 30000
            assert (summary["runs"] == 2000).all()
            assert summary.loc[0, "scenario"] == "baseline-modified"
        finally:
            browser.close()
    ms = sorted(round(t * 1000) for t in timings)
    print(f"\nresponsiveness (key press -> verdict updated in the browser, uncached 2,000 runs): {ms} ms; "
          f"median {ms[len(ms) // 2]} ms. Server: {server_note}")
