"""Benchmark a large sweep on local worker processes against a local Dask cluster (run by hand, not a test).

    .venv/bin/python benchmarks/bench_dask.py                  # 2,000,000 runs each way, then 10,000,000 on Dask
    .venv/bin/python benchmarks/bench_dask.py --runs 500000 --memory-runs 0    # quick
    .venv/bin/python benchmarks/bench_dask.py --memory-runs 10000000 --memory-shape point   # one 10M-run point

The sweep is ``baseline.toml`` x 4 US backstops x 5 incident rates x 5 land thresholds = 100 sweep points,
``--runs / 100`` replications each, run as ``reassurance batch --no-runs --no-months`` would (the tables kept
for tens of millions of runs). Each measurement runs in a fresh Python process, so that its peak resident
memory (``getrusage(RUSAGE_SELF).ru_maxrss``) is the client's alone (worker processes not included):

- ``local``: :class:`sim.batch.ProcessExecutor` with ``--workers`` processes;
- ``dask``: :class:`sim.dask_executor.DaskExecutor` on a LocalCluster of ``--workers`` processes (one
  thread each) on 127.0.0.1, with the default chunk size on a cluster.

Prints, per measurement: the time to start the workers (the local pool starts inside ``run_batch``, so its
start is counted in the run), the time of ``run_batch`` (every chunk computed, sent back and folded, tables
built) and runs per second, runs per CPU-second of the client and its workers together (less sensitive than
wall time to other work on the machine), the client's resident memory once set up and at
its peak, the bytes of results shipped per run (Dask: compressed, as received; local: pickled, as spooled),
and a hash of the tables (equal hashes: identical tables), with the 1-minute load average before and after
(other work on the machine slows either mode). Then the memory a sweep point's
:class:`sim.outcomes.TableBuilder` keeps on the client after more and more runs, in each table mode: flat
without per-run rows (counters and histograms bounded by the largest force total).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import batch  # noqa: E402

SWEEP = """name = "bench_sweep"
description = "benchmark sweep: 4 backstops x 5 incident rates x 5 land thresholds"
extends = "{base}"
replications = {reps}

[sweep]
"levers.us_backstop" = ["none", "command_and_control", "air_cover", "us_command"]
"levers.incident_rate" = [0.0, 0.02, 0.05, 0.1, 0.2]
"thresholds.land" = [10000, 20000, 30000, 40000, 60000]
"""
POINTS = 100


def scenario_files(folder: Path, runs: int, shape: str) -> list[Path]:
    """The batch's scenario files: the sweep, in as many files (each its own seed) as the per-file cap needs."""
    base = (ROOT / "scenarios" / "baseline.toml").as_posix()
    if shape == "point":  # one point of all the runs: the largest TableBuilder the client can have
        path = folder / "bench_point.toml"
        path.write_text(f'name = "bench_point"\ndescription = "benchmark: one point"\nextends = "{base}"\n'
                        f"replications = {runs}\n")
        return [path]
    per_file = batch.MAX_RUNS_PER_SCENARIO
    files = []
    for i in range(max(1, -(-runs // per_file))):
        path = folder / f"bench_sweep_{i}.toml"
        reps = max(1, min(runs - i * per_file, per_file) // POINTS)
        text = SWEEP.format(base=base, reps=reps).replace('name = "bench_sweep"', f'name = "bench_sweep_{i}"')
        path.write_text(text.replace("replications =", f"seed = {20250904 + i}\nreplications ="))
        files.append(path)
    return files


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def cpu_s() -> float:
    """CPU seconds (user + system) of this process and of its children that have exited (the workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def tables_hash(tables) -> str:
    h = hashlib.sha256()
    for name in sorted(tables):  # less the points' file column: the scenario file is in a temporary folder
        h.update(name.encode() + tables[name].drop(columns="file", errors="ignore").to_csv(index=False).encode())
    return h.hexdigest()[:16]


class _Counting:
    """An executor that also counts the pickled bytes of the results it hands over (what a local pool spools)."""

    def __init__(self, executor):
        self.executor, self.workers, self.bytes_received = executor, executor.workers, 0

    def map_unordered(self, fn, items):
        import pickle

        for r in self.executor.map_unordered(fn, items):
            self.bytes_received += len(pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL))
            yield r


def child(mode: str, runs: int, workers: int, shape: str, months: bool) -> dict:
    """One measurement, in this (fresh) process."""
    with tempfile.TemporaryDirectory() as tmp:
        files = scenario_files(Path(tmp), runs, shape)
        if mode == "dask":
            from sim import dask_executor

            chunk = dask_executor.dask_chunk_size("ensemble")
        else:
            chunk = batch.DEFAULT_CHUNK
        plan = batch.plan_batch(batch.load_batch(files), chunk_size=chunk, max_runs=10**9)
        cpu0 = cpu_s()
        t0 = time.perf_counter()
        if mode == "dask":
            executor = dask_executor.DaskExecutor(local_workers=workers).open()
        else:
            executor = _Counting(batch.ProcessExecutor(workers))
        t1 = time.perf_counter()
        set_up = current_rss_mb()
        try:
            result = batch.run_batch(plan, executor=executor, per_run=False, months=months)
        finally:
            if mode == "dask":
                executor.close()
        t2 = time.perf_counter()
        cpu = cpu_s() - cpu0  # the workers have exited (pool shut down, cluster closed): their time is counted
        return {"mode": mode, "runs": plan.runs, "points": len(plan.points), "chunk": chunk, "workers": workers,
                "cpu_s": cpu, "start_s": t1 - t0, "run_s": t2 - t1, "rss_set_up_mb": set_up, "rss_peak_mb": rss_mb(),
                "bytes_per_run": executor.bytes_received / plan.runs, "months": months,
                "tables": tables_hash(result.tables)}


def measure(mode: str, runs: int, workers: int, shape: str = "sweep", months: bool = False) -> dict:
    load = os.getloadavg()[0]
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--runs", str(runs), "--workers", str(workers),
                          "--memory-shape", shape, *(["--months"] if months else [])],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]), load=(load, os.getloadavg()[0]))


def show(m: dict) -> None:
    print(f"  [load {m['load'][0]:.1f} before, {m['load'][1]:.1f} after]", end="")
    print(f"  {m['mode']:<5} {m['workers']} workers, {m['points']} points, {m['runs']:>11,} runs, "
          f"chunk {m['chunk']:,}: "
          f"start {m['start_s']:.1f} s + run and tables {m['run_s']:.1f} s: {m['runs'] / m['run_s']:,.0f} runs/s, "
          f"{m['runs'] / (m['start_s'] + m['run_s']):,.0f} with the start; {m['runs'] / m['cpu_s']:,.0f} runs per "
          "CPU-second (client and workers, start included) | "
          f"client memory {m['rss_set_up_mb']:.0f} MB set up, {m['rss_peak_mb']:.0f} MB peak | "
          f"{m['bytes_per_run']:.1f} bytes shipped per run ({'with' if m['months'] else 'no'} per_month) | "
          f"tables {m['tables']}", flush=True)


def builder_bytes(runs: tuple[int, ...] = (16_384, 65_536, 262_144)) -> dict[str, list[float]]:
    """Bytes a sweep point's TableBuilder keeps on the client after ``runs`` runs, for each table mode."""
    from sim.outcomes import TableBuilder

    plan = batch.plan_batch(batch.load_batch([ROOT / "scenarios" / "baseline.toml"]), reps=max(runs))
    pt = plan.points[0]
    out: dict[str, list[float]] = {}
    for label, months, keep in (("--no-runs --no-months", False, False), ("--no-runs", True, False),
                                ("all tables", True, True)):
        tb = TableBuilder(pt.params, scenario=pt.name, seed=pt.scenario.seed, months=months, keep_runs=keep)
        done = 0
        for c in plan.chunks(months=months, per_run=keep):
            tb.merge(batch.run_chunk(c).tables)
            done += c.runs
            if done in runs:
                kept = sum(a.nbytes for a in (tb.takes_part, tb.pledge, tb.window_sum, tb.held))
                kept += sum(h.counts.nbytes for h in (*tb.minima.values(), *tb.series.values()))
                kept += sum(int(df.memory_usage(deep=True).sum()) for df in tb.per_run_blocks)
                kept += sum(a.nbytes for a in tb.runs)
                out.setdefault(label, []).append(kept)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2_000_000, help="runs of the throughput comparison")
    ap.add_argument("--memory-runs", type=int, default=10_000_000, help="runs of the Dask memory measurement "
                    "(0: skip)")
    ap.add_argument("--memory-shape", choices=("sweep", "point"), default="sweep",
                    help="memory run: the 100-point sweep, or one point of all the runs")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2, help="rounds of the throughput comparison (best is kept)")
    ap.add_argument("--months", action="store_true", help="also the per_month table (as with --no-runs)")
    ap.add_argument("--child", choices=("local", "dask"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.runs, args.workers, args.memory_shape, args.months)))
        return
    print(f"{os.cpu_count()} CPUs; tables as with --no-runs{'' if args.months else ' --no-months'}; each line a fresh "
          "client process")
    if args.runs:
        print(f"Throughput, {args.runs:,}-run sweep, {args.repeat} round(s), local and dask alternating:")
        best: dict[str, dict] = {}
        for _ in range(args.repeat):
            for mode in ("local", "dask"):
                m = measure(mode, args.runs, args.workers, months=args.months)
                show(m)
                if mode not in best or m["run_s"] < best[mode]["run_s"]:
                    best[mode] = m
        if args.repeat > 1:
            print("  best of each:")
            for m in best.values():
                show(m)
        print(f"  tables identical: {len({m['tables'] for m in best.values()}) == 1}")
    if args.memory_runs:
        print(f"Client memory, {args.memory_runs:,} runs on Dask ({args.memory_shape}):")
        show(measure("dask", args.memory_runs, args.workers, args.memory_shape, months=args.months))
    print("Memory a sweep point's TableBuilder keeps on the client after 16,384 / 65,536 / 262,144 runs:")
    for label, sizes in builder_bytes().items():
        print(f"  {label:<22} " + " / ".join(f"{b / 2**20:6.2f} MiB" for b in sizes))


if __name__ == "__main__":  # required: worker processes are spawned and import this module
    main()
