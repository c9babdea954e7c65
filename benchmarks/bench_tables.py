"""Do the tables keep up with the engine? Throughput on one core with and without folding (run by hand).

    .venv/bin/python benchmarks/bench_tables.py                 # baseline, 65,536 runs, best of 3
    .venv/bin/python benchmarks/bench_tables.py --scenario scenarios/sweep_backstop_threshold.toml --runs 131072

Measures, interleaved in rounds so that all see the same load (best of ``--repeat``):

- the engine alone (``sim.ensemble.iter_blocks``, block by block, results dropped);
- the engine + folding into the summary and per-country tables (``TableBuilder(months=False,
  keep_runs=False)``), as ``reassurance batch --no-runs --no-months`` does in each chunk;
- the same + the per-month table (``months=True``);
- the same + per-run rows (``keep_runs=True``);

and prints runs/s and each as a share of the engine alone (targets: 60% for summary + per-country, 40% with
per-month), plus the time of turning the folded counters into tables once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.ensemble import iter_blocks  # noqa: E402
from sim.outcomes import TableBuilder  # noqa: E402
from sim.params import compile_params  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

MODES = {"engine alone": None, "summary + per_country": (False, False), "+ per_month": (True, False),
         "+ per_month + per_run": (True, True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    ap.add_argument("--runs", type=int, default=65_536)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    s = load_scenario(args.scenario)
    p = compile_params(s)
    print(f"{s.name}: {args.runs:,} runs on one core; load average "
          + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    for b in iter_blocks(p, s.seed, 0, 2048):  # compiled code loaded before timing
        TableBuilder(p, scenario=s.name, seed=s.seed).add(b)
    best = dict.fromkeys(MODES, float("inf"))
    build = float("inf")
    for _ in range(args.repeat):
        for mode, opts in MODES.items():
            t = time.perf_counter()
            if opts is None:
                for _b in iter_blocks(p, s.seed, 0, args.runs):
                    pass
            else:
                tb = TableBuilder(p, scenario=s.name, seed=s.seed, months=opts[0], keep_runs=opts[1])
                for b in iter_blocks(p, s.seed, 0, args.runs):
                    tb.add(b)
            best[mode] = min(best[mode], time.perf_counter() - t)
            if opts == (True, False):
                t = time.perf_counter()
                tb.tables()
                build = min(build, time.perf_counter() - t)
    engine = best["engine alone"]
    for mode, sec in best.items():
        print(f"  {mode:24s} {args.runs / sec:>10,.0f} runs/s  {engine / sec:6.0%} of the engine alone")
    print(f"  tables from the counters (summary, per_country, per_month): {build * 1000:.1f} ms once per point")
    print("load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
