"""Does a process pool pay? One worker against two, interleaved, as a user runs it (run by hand, not a test).

    .venv/bin/python benchmarks/bench_parallel.py                     # the 1.8M-run sweep, 2 rounds
    .venv/bin/python benchmarks/bench_parallel.py --reps 20000 --rounds 3
    .venv/bin/python benchmarks/bench_parallel.py --pool               # the cost model's constants only

Runs ``reassurance batch scenarios/sweep_backstop_threshold.toml --reps N --no-runs --no-months --workers W``
as a subprocess, alternating W = 1 and 2 so that both see the same load, and prints each run's wall, user
and system time (of the command and its workers), page faults, the speed-up of each pair, and the load
average before and after: a ratio is meaningful only on a quiet machine. Tables must be identical.

``--pool`` measures what the cost model of ``sim.batch.default_workers`` uses: the start of a pool of two
(fork and spawn: from creating it to both workers having computed a tiny chunk) and a run's cost with its
tables on one CPU.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SWEEP = ROOT / "scenarios" / "sweep_backstop_threshold.toml"


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def one(reps: int, workers: int, out: Path, extra: list[str]) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = [str(ROOT / ".venv" / "bin" / "reassurance"), "batch", str(SWEEP), "--reps", str(reps), "--no-runs",
           "--no-months", "--workers", str(workers), "--out", str(out), "--quiet", "--formats", "csv", *extra]
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": wall, "user": after.ru_utime - before.ru_utime, "sys": after.ru_stime - before.ru_stime,
            "faults": after.ru_minflt - before.ru_minflt,
            "tables": {f.name: f.read_bytes() for f in out.iterdir() if f.suffix == ".csv"}}


def interleaved(reps: int, rounds: int, extra: list[str]) -> None:
    print(f"reassurance batch {SWEEP.relative_to(ROOT)} --reps {reps} --no-runs --no-months "
          f"({9 * reps:,} runs); {os.cpu_count()} CPUs; {load()}")
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        reference = None
        for r in range(rounds):
            got = {}
            for w in (1, 2):
                m = got[w] = one(reps, w, Path(tmp) / f"w{w}-{r}", extra)
                reference = reference or m["tables"]
                print(f"  round {r + 1} --workers {w}: {m['wall']:6.2f} s wall, {m['user']:6.2f} s user, "
                      f"{m['sys']:5.2f} s sys, {m['faults']:>9,} page faults, "
                      f"{9 * reps / m['wall']:>9,.0f} runs/s | tables identical: {m['tables'] == reference}")
            ratios.append(got[1]["wall"] / got[2]["wall"])
            print(f"  round {r + 1}: --workers 2 is {ratios[-1]:.2f}x as fast as --workers 1 ({load()})")
    print(f"speed-up of 2 workers over 1: best {max(ratios):.2f}x, median {sorted(ratios)[len(ratios) // 2]:.2f}x")


def pool_costs() -> None:
    from sim import batch
    from sim.outcomes import TableBuilder

    plan = batch.plan_batch(batch.load_batch([SWEEP]), reps=64, chunk_size=32)
    tiny = list(plan.chunks(months=False, per_run=False))[:2]
    batch.run_chunk(tiny[0])  # compiled code loaded here, as in a CLI process before its pool starts
    for method in ("fork", "spawn"):
        ex = batch.ProcessExecutor(2, start_method=method, ahead=1)
        t = time.perf_counter()
        list(ex.map_unordered(batch.run_chunk, tiny))
        print(f"pool of 2 ({method}): {time.perf_counter() - t:.3f} s from start to both tiny chunks back")
    big = batch.plan_batch(batch.load_batch([SWEEP]), reps=40_960)
    for months in (False, True):
        t = time.perf_counter()
        for c in big.chunks(months=months, per_run=False):
            batch.run_chunk(c)
        s = time.perf_counter() - t
        print(f"one CPU, engine + tables ({'with' if months else 'no'} per_month): {big.runs / s:,.0f} runs/s")
    del TableBuilder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--pool", action="store_true", help="measure the cost model's constants only")
    args, extra = ap.parse_known_args()
    print(load())
    if args.pool:
        pool_costs()
    else:
        interleaved(args.reps, args.rounds, extra)
    print(load())


if __name__ == "__main__":
    main()
