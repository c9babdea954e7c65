"""Benchmark the app's responsiveness (run by hand, not in the tests: timings are not assertions).

    .venv/bin/python benchmarks/bench_app.py           # 5 slider changes, uncached 2,000-run verdicts

Drives app.py with Streamlit's AppTest (no browser): moves France's land slider and times the script's
rerun, which computes the verdict anew (2,000 runs, not from the cache). Prints every time and the
median. Target (issue "the Streamlit page"): a verdict within about a second of a change; the browser
test (tests/test_browser.py) prints the key-press-to-verdict times it measures in a real browser.
Report the load next to the figures (`uptime`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=5, help="slider changes to time (default 5)")
    args = ap.parse_args()
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    times = []
    for lo in range(100, 100 * (args.changes + 1), 100):
        at.slider(key="land_FRA").set_value((lo, 12000))
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
        if at.exception:
            raise SystemExit(f"the app raised: {at.exception}")
    ms = [round(t * 1000) for t in times]
    print(f"rerun after a slider change (uncached 2,000 runs): {ms} ms; median {statistics.median(ms):.0f} ms; "
          f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
