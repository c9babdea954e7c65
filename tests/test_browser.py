"""End to end in a real browser: `streamlit run app.py`, driven by Playwright in Debian's Chromium.

Skipped (with the reason) only when BROWSER_TESTS=0 or Chromium / the playwright package is missing.
Never runs `playwright install`: the browser is $CHROMIUM_PATH (default /usr/bin/chromium).
Set BROWSER_ARTIFACTS=/some/dir to keep the screenshots (1366x768 and a 390x844 phone) and the
downloaded tables there. Speed is measured by benchmarks/bench_app.py, not here.
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


def _keep(path, artifacts):
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(artifacts) / Path(path).name)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log_path = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed in the finally below
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REASSURANCE_PRECOMPUTE": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, proc, START_TIMEOUT_S)
        yield f"http://127.0.0.1:{port}/", log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                               args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield b
        finally:
            b.close()


SIZES = {"laptop": (1366, 768), "phone": (390, 844)}


def _open(browser, url, size):
    w, h = SIZES[size]
    page = browser.new_page(viewport={"width": w, "height": h}, accept_downloads=True)
    page.set_default_timeout(STEP_TIMEOUT_MS)
    page.goto(url, timeout=STEP_TIMEOUT_MS)
    page.locator(".vcard").first.wait_for(timeout=60_000)
    return page


def _shot(page, tmp_path, name):
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    _keep(path, os.environ.get("BROWSER_ARTIFACTS"))


def _verdict(page):
    """The answer sentence and the verdict words, as the page shows them."""
    return (page.locator(".st-key-answer").inner_text().strip(),
            [w.inner_text() for w in page.locator(".vcard .w").all()])


def _scenario(page):
    return page.evaluate("() => document.querySelector('.vcards').dataset.scenario")


def _wait_still(page, locator, polls=3):
    """Wait until ``locator`` stays put for ``polls`` polls 100 ms apart (an opening expander grows for a while)."""
    last, still = None, 0
    for _ in range(100):
        box = locator.bounding_box()
        still = still + 1 if box == last else 0
        if still >= polls:
            return
        last = box
        page.wait_for_timeout(100)
    raise AssertionError("the element kept moving for 10 s")


def _press(page, control, key):
    """Press ``key`` on ``control`` (scrolled into view) and wait for the new verdict."""
    control.scroll_into_view_if_needed()
    control.focus()
    old = _scenario(page)
    page.keyboard.press(key)
    _wait_new_verdict(page, old)


def _press_and_see(page, control, key):
    """:func:`_press`, then the verdict and the control are both in the viewport."""
    _press(page, control, key)
    assert _in_viewport(page, page.locator(".st-key-verdict")), "the verdict scrolled out of view"
    assert _in_viewport(page, control), "the control moved out of view"


def _wait_new_verdict(page, old):
    page.wait_for_function("(old) => document.querySelector('.vcards')?.dataset.scenario !== old", arg=old,
                           polling="raf", timeout=STEP_TIMEOUT_MS)


def _in_viewport(page, locator):
    box = locator.bounding_box()
    vh = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 120) <= vh


@pytest.mark.parametrize("size", list(SIZES))
def test_the_verdict_stays_in_view_while_a_slider_moves_and_follows_the_us_backstop(server, browser, size,
                                                                                    tmp_path):
    from playwright.sync_api import expect

    url, log = server
    page = _open(browser, url, size)
    # The verdict comes first; the screenshot waits for the rest of the page (no widget left as a placeholder).
    page.locator(".st-key-land_FRA").wait_for()
    page.wait_for_function("() => !document.querySelector('[data-testid*=keleton], [class*=keleton]')")
    _shot(page, tmp_path, f"{size}-opened")
    before = _verdict(page)
    assert before[0].startswith("A land force of 30,000 troops is unlikely") and before[1][0] == "Unlikely"

    # France's land pledge: the top thumb to what France can sustain. The slider is far down the page.
    thumb = page.locator(".st-key-land_FRA").get_by_role("slider").nth(1)
    _press_and_see(page, thumb, "End")
    expect(page.locator(".st-key-vtools")).to_contain_text("France: land 500-17,333 troops")
    _shot(page, tmp_path, f"{size}-slider-moved")

    # The US backstop: air cover changes the answer sentence.
    answer = _verdict(page)[0]
    radio = page.locator(".st-key-us_backstop").get_by_text("Air cover", exact=True)
    radio.scroll_into_view_if_needed()
    old = _scenario(page)
    radio.click()
    _wait_new_verdict(page, old)
    assert _verdict(page)[0] != answer
    assert "want more from the US" not in _verdict(page)[0]
    assert page.get_by_test_id("stException").count() == 0
    page.close()


def test_a_shared_link_opens_the_same_sliders_and_verdict(server, browser):
    url, _ = server
    page = _open(browser, url, "laptop")
    radio = page.locator(".st-key-us_backstop").get_by_text("Air cover", exact=True)
    old = _scenario(page)
    radio.click()
    _wait_new_verdict(page, old)
    _press(page, page.locator(".st-key-land_GBR").get_by_role("slider").first, "Home")
    page.wait_for_function("() => location.search.includes('land_GBR=0-')")
    link, seen, scenario = page.url, _verdict(page), _scenario(page)
    assert "us_backstop=air_cover" in link
    other = _open(browser, link, "phone")
    assert _scenario(other) == scenario and _verdict(other) == seen
    assert other.locator(".st-key-land_GBR").get_by_role("slider").first.get_attribute("aria-valuetext") == "0"
    page.close()
    other.close()


def test_a_locked_slider_says_why(server, browser):
    url, _ = server
    page = _open(browser, url + "?us_backstop=intelligence", "laptop")  # below what any country's troops need
    block = page.locator(".st-key-land_EST")
    block.scroll_into_view_if_needed()
    assert block.get_by_role("slider").first.is_disabled()
    estonia = page.locator("[data-testid=stVerticalBlockBorderWrapper], [data-testid=stVerticalBlock]").filter(
        has=page.locator(".st-key-land_EST")).last
    assert "Estonia needs the US to give command & control at least" in estonia.inner_text()
    assert not page.locator(".st-key-sea_EST").get_by_role("slider").first.is_disabled()  # its ship does not wait
    page.close()


def _show(page, view: str) -> None:
    """Pick one of the detail's views (the row of buttons under "Show")."""
    page.locator(".st-key-results_tab").get_by_role("radio", name=view, exact=True).click()


def test_who_decides_runs_nothing_until_asked(server, browser):
    from playwright.sync_api import expect

    url, _ = server
    page = _open(browser, url, "laptop")
    _show(page, "Who decides")
    expect(page.get_by_text("Press Run to work out")).to_be_visible()
    _press(page, page.locator(".st-key-land_FRA").get_by_role("slider").first, "ArrowLeft")
    page.wait_for_timeout(1000)
    assert page.get_by_test_id("stProgress").count() == 0  # no analysis started
    expect(page.get_by_text("Press Run to work out")).to_be_visible()
    page.close()


def test_two_quick_clicks_on_a_download_give_two_whole_files(server, browser, tmp_path):
    url, log = server
    page = _open(browser, url, "laptop")
    _show(page, "Downloads")
    button = page.get_by_role("button", name="summary.csv")
    button.wait_for()
    downloads = []
    page.on("download", lambda d: downloads.append(d))
    button.click()
    button.click()
    page.wait_for_timeout(3000)
    assert len(downloads) == 2
    for i, d in enumerate(downloads):
        path = tmp_path / f"summary-{i}.csv"
        d.save_as(path)
        _keep(path, os.environ.get("BROWSER_ARTIFACTS"))
        summary = pd.read_csv(path)
        assert list(summary["component"]) == ["land", "air", "sea"] and (summary["runs"] == 2000).all()
    assert "MediaFileStorageError" not in Path(log).read_text()
    page.close()


def test_with_every_country_group_open_a_closed_country_opens_moves_the_verdict_and_keeps_its_value(server, browser,
                                                                                                    tmp_path):
    from playwright.sync_api import expect

    url, _ = server
    page = _open(browser, url, "laptop")
    page.locator(".st-key-land_FRA").wait_for()  # the verdict comes first; the groups after it
    closed = page.locator("[class*=st-key-group_] > [data-testid=stExpander] > details:not([open]) > summary")
    assert closed.count() > 0, "no country group starts closed"
    while closed.count():
        n = closed.count()
        closed.first.scroll_into_view_if_needed()
        closed.first.click()
        page.wait_for_function("(n) => document.querySelectorAll('[class*=st-key-group_] > [data-testid=stExpander]"
                               " > details:not([open])').length < n", arg=n)
    # a country of a group opened by hand is a closed row: its pledges and result in words, no sliders
    row = page.locator(".st-key-open_NLD")
    expect(row).to_contain_text("Netherlands")
    assert page.locator(".st-key-part_NLD").count() == 0
    row.locator("summary").click()  # open it: its sliders are drawn
    slider = page.locator(".st-key-part_NLD").get_by_role("slider").first
    slider.wait_for()
    _wait_still(page, slider)  # the row grows for a moment after its sliders appear
    _press_and_see(page, slider, "ArrowLeft")
    page.wait_for_function("() => location.search.includes('part_NLD=89')")
    _shot(page, tmp_path, "laptop-all-groups-open")
    row.locator("summary").click()  # close it again: the value is kept and said in its row
    page.locator(".st-key-part_NLD").wait_for(state="detached")
    expect(row.locator("xpath=following-sibling::*[1]")).to_contain_text("takes part 89% · changed")
    expect(page.locator(".st-key-vtools")).to_contain_text("Netherlands: takes part with probability 89%")
    _shot(page, tmp_path, "laptop-country-closed-again")
    link, seen, scenario = page.url, _verdict(page), _scenario(page)
    other = _open(browser, link, "laptop")
    assert _scenario(other) == scenario and _verdict(other) == seen
    assert page.get_by_test_id("stException").count() == 0
    page.close()
    other.close()
