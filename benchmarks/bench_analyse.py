"""Time what a user waits for in the analyses (issue 16): the ``analyse`` command and the app's "Who decides".

    .venv/bin/python benchmarks/bench_analyse.py              # both, once each
    .venv/bin/python benchmarks/bench_analyse.py --repeat 3   # median of three
    .venv/bin/python benchmarks/bench_analyse.py --workers 1  # the command on one process

Prints, as JSON, with the machine's load average before and after (the targets are for a quiet machine):

- ``analyse``: ``reassurance analyse scenarios/baseline.toml`` (all four analyses, the defaults) in a fresh
  process: wall seconds, CPU seconds of the process and its workers, and the seconds of each analysis
  from its manifest (the sample runs beside pivotal and gap when there are workers). Target: under 10 s.
- ``who_decides``: the calls the app's "Who decides" tab makes for the baseline (``app.py``
  ``run_analysis``: :func:`sim.analysis.pivotal_countries` with 200 runs per coalition and 100 samples,
  then :func:`sim.analysis.gap_plan` with 200 runs and at most 1,500 sets), each timed in a fresh process
  (cold: imports and the compiled engine loaded from its cache) and again warm. Target for pivotal: under 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WHO_DECIDES = """
import json, sys, time
t0 = time.perf_counter()
from sim import analysis
from sim.scenario import load_scenario
s = load_scenario("scenarios/baseline.toml")
t1 = time.perf_counter()
out = {"import_s": round(t1 - t0, 2)}
for run in ("cold", "warm"):
    a = time.perf_counter()
    res = analysis.pivotal_countries(s, component="land", worth="p_met", reps=200, samples=100)
    b = time.perf_counter()
    gap = analysis.gap_plan(s, component="land", target=0.9, reps=200, max_evaluations=1500)
    c = time.perf_counter()
    out[run] = {"pivotal_s": round(b - a, 2), "gap_s": round(c - b, 2)}
g = res.game.iloc[0]
out["pivotal"] = {"players": int(g.players), "coalitions_simulated": int(g.coalitions_simulated),
                  "coalitions_bounded": int(g.coalitions_bounded), "v_grand": float(g.v_grand)}
out["gap_sets_screened"] = int(gap.summary.iloc[0].sets_screened)
print(json.dumps(out))
"""


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def time_analyse(workers: int | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "analysis"
        cmd = [sys.executable, "-m", "sim", "analyse", "scenarios/baseline.toml", "--quiet", "--out", str(out)]
        if workers:
            cmd += ["--workers", str(workers)]
        cpu0, t0 = children_cpu(), time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True)
        wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
        manifest = json.loads((out / "manifest.json").read_text())
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "analyses_s": manifest["seconds"]}


def time_who_decides() -> dict:
    done = subprocess.run([sys.executable, "-c", WHO_DECIDES], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workers", type=int, help="--workers for the command (default: its own, every CPU)")
    a = ap.parse_args()
    before = load()
    runs = [time_analyse(a.workers) for _ in range(a.repeat)]
    who = [time_who_decides() for _ in range(a.repeat)]
    result = {
        "load_before": before,
        "analyse": {"command": "reassurance analyse scenarios/baseline.toml"
                    + (f" --workers {a.workers}" if a.workers else ""),
                    "wall_s_median": statistics.median(r["wall_s"] for r in runs), "runs": runs},
        "who_decides": {"pivotal_cold_s_median": statistics.median(w["cold"]["pivotal_s"] for w in who),
                        "runs": who},
        "load_after": load(), "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
