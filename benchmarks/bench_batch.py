"""Benchmark batch runs of the shipped scenarios (run by hand, not a timed test).

    .venv/bin/python benchmarks/bench_batch.py                  # every scenarios/*.toml at 1,000 replications
    .venv/bin/python benchmarks/bench_batch.py --reps 10000 --workers 1 2 4
    .venv/bin/python benchmarks/bench_batch.py --engine mesa --repeat 1

For each number of workers (1 = in this process, no pool; more = a process pool, "spawn"), prints the wall
time of planning + running every chunk + building the tables (the whole of ``run_batch``), the time to
write the results folder (CSV + Parquet, atomically), and runs per second. Each measurement is the best of
``--repeat`` rounds. Also checks that every worker count gives identical tables.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import batch, export  # noqa: E402


def measure(files, *, reps: int, workers: int, per_run: bool, months: bool, engine: str):
    t0 = time.perf_counter()
    plan = batch.plan_batch(batch.load_batch(files), reps=reps, engine=engine)
    t1 = time.perf_counter()
    result = batch.run_batch(plan, executor=batch.make_executor(workers), per_run=per_run, months=months)
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        export.write_results(Path(tmp) / "out", result.tables, manifest={"benchmark": True})
    t3 = time.perf_counter()
    return {"plan": t1 - t0, "run": t2 - t1, "write": t3 - t2, "runs": plan.runs, "points": len(plan.points),
            "tables": result.tables}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--engine", choices=batch.ENGINES, default="ensemble")
    ap.add_argument("--no-runs", action="store_true", help="leave out the per_run table")
    ap.add_argument("--no-months", action="store_true", help="leave out the per_month table")
    args = ap.parse_args()
    files = sorted((ROOT / "scenarios").glob("*.toml"))
    print(f"{len(files)} scenario files, {args.reps:,} replications per sweep point, {args.engine} engine; "
          f"{os.cpu_count()} CPUs; tables: {'no ' if args.no_runs else ''}per_run, "
          f"{'no ' if args.no_months else ''}per_month")
    reference = None
    for w in args.workers:
        best = None
        for _ in range(args.repeat):
            m = measure(files, reps=args.reps, workers=w, per_run=not args.no_runs, months=not args.no_months,
                        engine=args.engine)
            if best is None or m["run"] < best["run"]:
                best = m
        if reference is None:
            reference = best["tables"]
        same = all(reference[k].equals(best["tables"][k]) for k in reference)
        total = best["plan"] + best["run"] + best["write"]
        print(f"workers {w}: {best['points']} points, {best['runs']:,} runs | plan {best['plan']:.2f} s, "
              f"run + tables {best['run']:.2f} s ({best['runs'] / best['run']:,.0f} runs/s), write "
              f"{best['write']:.2f} s | total {total:.2f} s ({best['runs'] / total:,.0f} runs/s) | "
              f"tables identical to workers {args.workers[0]}: {same}")


if __name__ == "__main__":  # required: worker processes are spawned and import this module
    main()
