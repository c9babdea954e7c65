"""Benchmark the page in a real browser: first paint, and key press to updated verdict (run by hand).

    .venv/bin/python benchmarks/bench_app.py                  # 1366x768, 9 key presses, groups closed and open
    .venv/bin/python benchmarks/bench_app.py --moves 15 --width 390 --height 844

Starts ``streamlit run app.py`` on a free port (the baseline analysis is not precomputed in the
background, so it does not compete for the CPU), opens it in Chromium ($CHROMIUM_PATH, default
/usr/bin/chromium) through Playwright, and measures:

- *server up*: from starting the server to its port accepting connections;
- *first paint*: from asking for the page (server up) to the verdict cards being on screen;
- *key press to verdict*: France's land slider has focus; each ArrowRight moves its lower end by 100
  troops (a scenario never run before, so nothing is cached) and the time is taken until the verdict
  shows that scenario (the cards carry the scenario's hash), polling every animation frame. Done with
  the country groups as the page opens them, then with every group open. What is drawn: the page opens
  three groups (lead nations, willing, considering) with their five countries open, each with its four
  sliders (20 sliders); "every group open" opens the other four groups by hand, whose 29 countries show
  as the page shows them when a group is opened: one closed row each (name, what it offers, its result
  and any lock, in words), with no sliders until the person opens that country. Each press is also split
  by the page's websocket: *sent* (press to the widget's message leaving the browser), *verdict
  message* (press to the message carrying the new verdict arriving: the rest, to the verdict on
  screen, is the browser's drawing) and *settled* (press to the run's last message arriving), to tell
  the browser's, the server's and the drawing's shares apart.

Prints each figure and the median; report the machine's load (``uptime``) next to them.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
VERDICT_IS_NOT = ("(old) => { const e = document.querySelector('.vcards');"
                  " return e !== null && e.dataset.scenario !== old; }")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> tuple[subprocess.Popen, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REASSURANCE_PRECOMPUTE": "0"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited with code {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, time.perf_counter() - t0
        if time.perf_counter() - t0 > 120:
            proc.kill()
            raise SystemExit("streamlit did not start within 120 s")
        time.sleep(0.05)


def scenario_hash(page) -> str:
    return page.evaluate("() => document.querySelector('.vcards').dataset.scenario")


def presses(page, n: int, frames: list[tuple[str, float, bytes]]) -> tuple[list[float], ...]:
    """Press ArrowRight on France's lower land thumb ``n`` times.

    Returns seconds from each press to the new verdict, to its message leaving the browser, to the
    verdict's message arriving and to the run's last message arriving (``frames`` is filled by the
    page's websocket listeners).
    """
    thumb = page.locator(".st-key-land_FRA").get_by_role("slider").first
    thumb.scroll_into_view_if_needed()
    thumb.focus()
    out, sent, verdict, settled = [], [], [], []
    for _ in range(n):
        old = scenario_hash(page)
        frames.clear()
        t0 = time.perf_counter()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(VERDICT_IS_NOT, arg=old, polling="raf", timeout=30_000)
        out.append(time.perf_counter() - t0)
        page.wait_for_timeout(300)  # let the rest of the page settle, as a person between two presses
        new = scenario_hash(page).encode()
        sent += [next((t - t0 for k, t, _ in frames if k == "sent"), float("nan"))]
        verdict += [next((t - t0 for k, t, p in frames if k == "recv" and new in p), float("nan"))]
        settled += [max((t - t0 for k, t, _ in frames if k == "recv"), default=float("nan"))]
    return out, sent, verdict, settled


def open_all_groups(page) -> int:
    """Open every closed country group (each opening reruns the page); returns how many were opened.

    Only the groups: the countries in them stay as the page shows them when a group is opened.
    """
    opened = 0
    closed = page.locator("[class*=st-key-group_] > [data-testid=stExpander] > details:not([open]) > summary")
    while closed.count() and opened < 20:
        closed.first.scroll_into_view_if_needed()
        closed.first.click()
        page.wait_for_timeout(1500)
        opened += 1
    return opened


def fmt(xs: list[float]) -> str:
    ms = [round(x * 1000) for x in xs]
    return f"median {statistics.median(ms):.0f} ms (min {min(ms)}, max {max(ms)}; all: {ms})"


def main() -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moves", type=int, default=9, help="key presses per measurement (default 9)")
    ap.add_argument("--width", type=int, default=1366)
    ap.add_argument("--height", type=int, default=768)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc, up = start_server(port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            frames: list[tuple[str, float, bytes]] = []
            page.on("websocket", lambda ws: (
                ws.on("framesent", lambda _: frames.append(("sent", time.perf_counter(), b""))),
                ws.on("framereceived", lambda p: frames.append(
                    ("recv", time.perf_counter(), p if isinstance(p, bytes) else p.encode())))))
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator(".vcard").first.wait_for(timeout=60_000)
            first = time.perf_counter() - t0
            page.wait_for_timeout(2000)
            closed = presses(page, args.moves, frames)
            n_open = open_all_groups(page)
            opened = presses(page, args.moves, frames)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    print(f"viewport {args.width}x{args.height}, default 2,000 runs, load: {os.getloadavg()[0]:.2f} (1 min)")
    print(f"server up: {up:.2f} s; first paint (verdict on screen after asking for the page): {first:.2f} s")
    for name, (shown, sent, verdict, settled) in (("groups as opened", closed),
                                                  (f"all groups open ({n_open} more)", opened)):
        print(f"key press -> verdict, {name}: {fmt(shown)}")
        print(f"    press -> message sent: median {statistics.median(sent) * 1000:.0f} ms; press -> verdict's "
              f"message: median {statistics.median(verdict) * 1000:.0f} ms; press -> last message "
              f"of the run: median {statistics.median(settled) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
