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
  and any lock, in words), with no sliders until the person opens that country.

Each press is timed twice. *Round trip* is Playwright's: from asking Chromium to press the key to
Playwright hearing that the verdict changed (it includes Playwright's own messages to and from the
browser). *In the page* is taken by a script in the page itself (:data:`IN_PAGE`), on the page's own
clock: from the key's ``keydown`` event to the first animation frame after the verdict changed in the
page (what the person sees), split by the page's websocket into *sent* (the widget's message leaves),
*verdict message* (the message carrying the new verdict arrives: the rest is the browser's drawing,
and the browser drawing earlier messages) and *settled* (the run's last message arrives).

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
IN_PAGE = """
window.__bench = {press: null, sent: [], recv: [], shown: {}};
document.addEventListener('keydown', () => { window.__bench.press = performance.now(); }, true);
const PageSocket = window.WebSocket;
window.WebSocket = function (...args) {
  const ws = new PageSocket(...args);
  const send = ws.send.bind(ws);
  ws.send = (data) => { window.__bench.sent.push(performance.now()); return send(data); };
  ws.addEventListener('message', (ev) => {
    const t = performance.now();
    const m = new TextDecoder().decode(ev.data).match(/data-scenario=[^0-9a-f]*([0-9a-f]+)/);
    window.__bench.recv.push([t, m ? m[1] : null]);
  });
  return ws;
};
window.WebSocket.prototype = PageSocket.prototype;
Object.assign(window.WebSocket, PageSocket);
document.addEventListener('DOMContentLoaded', () => {
  new MutationObserver(() => {
    const e = document.querySelector('.vcards');
    const b = window.__bench;
    if (e === null || b.shown[e.dataset.scenario] !== undefined) return;
    const h = e.dataset.scenario, t = performance.now();
    b.shown[h] = [t, null];
    requestAnimationFrame(() => { b.shown[h][1] = performance.now(); });
  }).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-scenario']});
});
"""
"""Installed in the page before it loads: the time of each keydown, of each websocket message sent and
received (with the scenario hash of a verdict it carries), and when each verdict entered the page and
the next animation frame after that."""


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


def presses(page, n: int) -> dict[str, list[float]]:
    """Press ArrowRight on France's lower land thumb ``n`` times.

    Returns seconds per press: ``round_trip`` (Playwright's), and in the page, from the keydown:
    ``shown`` (first frame after the verdict entered the page), ``sent``, ``verdict_message`` and
    ``settled`` (see the module's docstring).
    """
    thumb = page.locator(".st-key-land_FRA").get_by_role("slider").first
    thumb.scroll_into_view_if_needed()
    thumb.focus()
    out: dict[str, list[float]] = {k: [] for k in ("round_trip", "shown", "sent", "verdict_message", "settled")}
    for _ in range(n):
        old = scenario_hash(page)
        page.evaluate("() => { const b = window.__bench; b.sent = []; b.recv = []; }")
        t0 = time.perf_counter()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(VERDICT_IS_NOT, arg=old, polling="raf", timeout=30_000)
        out["round_trip"].append(time.perf_counter() - t0)
        page.wait_for_timeout(300)  # let the rest of the page settle, as a person between two presses
        b = page.evaluate("() => window.__bench")
        new, press = scenario_hash(page), b["press"]
        nan = float("nan")
        out["shown"].append(((b["shown"].get(new) or [nan, nan])[1] or nan) - press)
        out["sent"].append(min(b["sent"], default=nan) - press)
        out["verdict_message"].append(next((t for t, h in b["recv"] if h == new), nan) - press)
        out["settled"].append(max((t for t, _ in b["recv"]), default=nan) - press)
    for k in ("shown", "sent", "verdict_message", "settled"):
        out[k] = [x / 1000 for x in out[k]]
    return out


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
            page.add_init_script(IN_PAGE)
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            # polled every frame: a locator's wait polls ever less often (up to every 0.5 s), which had
            # added up to half a second to this figure
            page.wait_for_function("() => document.querySelector('.vcard') !== null", polling="raf",
                                   timeout=60_000)
            first = time.perf_counter() - t0
            first_in_page = page.evaluate("() => Math.min(...Object.values(window.__bench.shown).map(v => v[1]))")
            page.wait_for_timeout(2000)
            closed = presses(page, args.moves)
            n_open = open_all_groups(page)
            opened = presses(page, args.moves)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    print(f"viewport {args.width}x{args.height}, default 2,000 runs, load: {os.getloadavg()[0]:.2f} (1 min)")
    print(f"server up: {up:.2f} s; first paint (verdict on screen after asking for the page): {first:.2f} s "
          f"(in the page, from the navigation: {first_in_page / 1000:.2f} s)")
    for name, m in (("groups as opened", closed), (f"all groups open ({n_open} more)", opened)):
        print(f"key press -> verdict, {name}:")
        print(f"    in the page (keydown to the first frame showing it): {fmt(m['shown'])}")
        print(f"    round trip (Playwright's): {fmt(m['round_trip'])}")
        print("    in the page, keydown -> " + "; ".join(
            f"{label}: median {statistics.median(m[k]) * 1000:.0f} ms" for k, label in (
                ("sent", "message sent"), ("verdict_message", "verdict's message"),
                ("settled", "last message of the run"))))


if __name__ == "__main__":
    main()
