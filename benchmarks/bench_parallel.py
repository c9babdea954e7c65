"""Does a process pool pay? One worker against two, interleaved, as a user runs it (run by hand, not a test).

    .venv/bin/python benchmarks/bench_parallel.py                     # the 1.8M-run sweep, 2 rounds
    .venv/bin/python benchmarks/bench_parallel.py --reps 20000 --rounds 3
    .venv/bin/python benchmarks/bench_parallel.py --pool               # the cost model's constants only
    .venv/bin/python benchmarks/bench_parallel.py --chunks --reps 100000   # where a pool's time goes, chunk by chunk

Runs ``reassurance batch scenarios/sweep_backstop_threshold.toml --reps N --no-runs --no-months --workers W``
as a subprocess, alternating W = 1 and 2 so that both see the same load, and prints each run's wall, user
and system time (of the command and its workers), page faults, the speed-up of each pair, and the load
average before and after: a ratio is meaningful only on a quiet machine. Tables must be identical.

``--pool`` measures what the cost model of ``sim.batch.default_workers`` uses: the start of a pool of two
(fork and spawn: from creating it to both workers having computed a tiny chunk) and a run's cost with its
tables on one CPU.

``--chunks`` runs the sweep in this process with a pool of ``--workers`` (default 2) and a given
``--chunk-size``, timing every chunk in its worker: each worker's busy time, the wait for the last chunk
(the tail, while other workers are idle), this process's CPU time per chunk (hand-over and merge: the
cost model's ``SECONDS_PER_CHUNK``), and the chunks' spread.
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


def _timed(chunk):
    from sim import batch

    t0 = time.time()
    res = batch.run_chunk(chunk)
    return res, os.getpid(), t0, time.time()


def chunk_timings(reps: int, workers: int, chunk_size: int | None) -> None:
    from sim import batch

    plan = batch.plan_batch(batch.load_batch([SWEEP]), reps=reps, chunk_size=chunk_size)
    batch.run_chunk(next(plan.chunks(months=False, per_run=False)))  # compiled code loaded, as in the CLI
    print(f"{plan.runs:,} runs in {plan.chunk_count} chunks of at most {plan.chunk_size:,} runs, {workers} workers")
    ex = batch.ProcessExecutor(workers)
    spans = []
    cpu0, t_start = time.process_time(), time.time()
    builders = {}
    for res, pid, a, b in ex.map_unordered(_timed, plan.chunks(months=False, per_run=False)):
        spans.append((pid, a, b, res.stop - res.start))
        key = (res.index, res.point)
        if key in builders:
            builders[key].merge(res.tables)
        else:
            builders[key] = res.tables
    t_end, cpu = time.time(), time.process_time() - cpu0
    wall = t_end - t_start
    by = {}
    for pid, a, b, _n in spans:
        by.setdefault(pid, []).append((a, b))
    secs = sorted(b - a for _p, a, b, _n in spans)
    print(f"  wall {wall:.2f} s; this process {cpu:.2f} s CPU ({1000 * cpu / len(spans):.2f} ms per chunk)")
    print(f"  chunk seconds: median {secs[len(secs) // 2]:.3f}, slowest {secs[-1]:.3f}, fastest {secs[0]:.3f}; "
          f"{sum(n for *_x, n in spans) / sum(secs):,.0f} runs/s per busy worker")
    first_start = min(a for _p, a, _b, _n in spans)
    for pid, ab in sorted(by.items()):
        busy = sum(b - a for a, b in ab)
        print(f"  worker {pid}: {len(ab)} chunks, busy {busy:.2f} s of {wall:.2f} s, first chunk after "
              f"{min(a for a, _ in ab) - t_start:.3f} s, idle at the end {t_end - max(b for _, b in ab):.3f} s")
    last = [max(b for _, b in ab) for ab in by.values()]
    print(f"  pool start (to the first chunk): {first_start - t_start:.3f} s; "
          f"tail (first worker done to last): {max(last) - min(last):.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--pool", action="store_true", help="measure the cost model's constants only")
    ap.add_argument("--chunks", action="store_true", help="time every chunk of a pool (in this process)")
    ap.add_argument("--workers", type=int, default=2, help="with --chunks: the pool's size")
    ap.add_argument("--chunk-size", type=int, default=None, help="with --chunks: runs per chunk (default: the batch's)")
    args, extra = ap.parse_known_args()
    print(load())
    if args.pool:
        pool_costs()
    elif args.chunks:
        chunk_timings(args.reps, args.workers, args.chunk_size)
    else:
        interleaved(args.reps, args.rounds, extra)
    print(load())


if __name__ == "__main__":
    main()
