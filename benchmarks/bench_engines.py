"""Benchmark the two engines on the baseline (run by hand, not in CI's tests).

    .venv/bin/python benchmarks/bench_engines.py            # all measurements
    .venv/bin/python benchmarks/bench_engines.py --quick    # smaller N, for a smoke check
    .venv/bin/python benchmarks/bench_engines.py --blocks   # ensemble runs/s by computing block size
    .venv/bin/python benchmarks/bench_engines.py --profile  # where a run's time goes, and what it bounds

Prints, on one core and in one process per measurement:
- Mesa engine: median time per baseline run (36 months) and runs per second;
- ensemble engine: runs per second at N = 1,000, 100,000 and 1,000,000, and the engine time for 2,000
  replications (the app's default);
- the ensemble/Mesa throughput ratio;
- peak memory (max resident set size) of a fresh process that runs 1,000,000 baseline runs through the
  ensemble engine and folds them into the outcome tables (no per-run rows kept, no monthly quantiles).
Targets (issue "Monte Carlo at scale"): ratio >= 200; 1M runs under 600 MB; 2,000 reps under 50 ms;
Mesa under 1 ms per run.

``--profile`` splits a run's CPU time on one core into its parts (draws, run-level quantities, the start
of a run, the months computed and their cost, the folding into tables) for a few shipped scenarios, and
says what that bounds: the runs per second of one core, and the minutes 100,000,000 runs take on two.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.draws import draw  # noqa: E402
from sim.ensemble import DEFAULT_BLOCK, iter_blocks, run_ensemble, simulate  # noqa: E402
from sim.model import ReassuranceModel  # noqa: E402
from sim.outcomes import TableBuilder  # noqa: E402
from sim.params import compile_params  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "baseline.toml"


def setup():
    s = load_scenario(SCENARIO)
    return s, compile_params(s)


def mesa_per_run(n_runs: int) -> list[float]:
    s, p = setup()
    d = draw(s.seed, p.n_countries, p.horizon, 0, n_runs)
    times = []
    for r in range(n_runs):
        t0 = time.perf_counter()
        m = ReassuranceModel(params=p, draws=d.run(r), run=r)
        m.run_model()
        m.results()
        times.append(time.perf_counter() - t0)
    return times


def ensemble_rate(n: int) -> float:
    s, p = setup()
    run_ensemble(p, s.seed, 2048)  # warm-up
    t0 = time.perf_counter()
    for _ in iter_blocks(p, s.seed, 0, n):
        pass
    return n / (time.perf_counter() - t0)


def ensemble_2000(repeats: int = 15) -> float:
    s, p = setup()
    run_ensemble(p, s.seed, 2000)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run_ensemble(p, s.seed, 2000)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def block_sizes(n: int = 204_800, repeats: int = 5) -> dict[int, list[float]]:
    """Ensemble runs/s for several block sizes, interleaved so that machine noise hits all alike."""
    s, p = setup()
    run_ensemble(p, s.seed, 2048)
    rates: dict[int, list[float]] = {b: [] for b in (1024, 2048, 4096, 8192)}
    for _ in range(repeats):
        for b in rates:
            t0 = time.perf_counter()
            for _ in iter_blocks(p, s.seed, 0, n, block=b):
                pass
            rates[b].append(n / (time.perf_counter() - t0))
    return rates


def profile(name: str, blocks: int = 10, sample: int = 400, repeats: int = 9) -> dict:
    """Where one run's time goes in the ensemble engine on one core, in microseconds per run.

    Measured block by block (``blocks`` computing blocks of :data:`sim.ensemble.DEFAULT_BLOCK` runs), as the
    engine runs; each part's CPU time is the least of ``repeats`` passes:

    - ``draws``: the runs' random inputs (:func:`sim.draws.draw`);
    - ``per_run``: the run-level quantities (declared uncertainties, capacity; numpy);
    - the compiled loop, split by running it with the fast-forward switched on and off (same results, more
      months): ``month`` the cost of one computed month (every country's decision, Russia's strike, the
      booking) as the extra months cost it, ``computed_months`` the mean number computed per run with
      fast-forward (counted by the Mesa model on ``sample`` runs: it computes the same months), and
      ``run_start`` the rest (the months of a fall of government, each country's run constants, the run's
      month events, the result arrays);
    - ``tables``: folding the runs into the summary and per-country tables (no per-run rows, no months),
      without the one-off cost of building the tables' frames at the end of a sweep point.
    """
    s = load_scenario(ROOT / "scenarios" / f"{name}.toml")
    p = compile_params(s)
    size, n = DEFAULT_BLOCK, blocks * DEFAULT_BLOCK
    builder = TableBuilder(p, scenario=s.name, seed=s.seed, months=False, keep_runs=False)

    def one_pass() -> np.ndarray:
        """Block by block, as the engine runs: CPU seconds of each part, summed over the blocks."""
        spent = np.zeros(5)
        for b in range(blocks):
            clock = [time.process_time()]
            d = draw(s.seed, p.n_countries, p.horizon, b * size, (b + 1) * size)
            clock.append(time.process_time())
            p.per_run(d)
            clock.append(time.process_time())
            res = simulate(p, d, np.arange(b * size, (b + 1) * size))
            clock.append(time.process_time())
            simulate(p, d, np.arange(b * size, (b + 1) * size), fast_forward=False)
            clock.append(time.process_time())
            builder.add(res)
            clock.append(time.process_time())
            spent += np.diff(clock)
        return spent

    one_pass()  # compiled code loaded, memory settled
    t_draw, t_per_run, t_on, t_off, t_tables = np.min([one_pass() for _ in range(repeats)], axis=0)
    months, d0 = [], draw(s.seed, p.n_countries, p.horizon, 0, sample)
    for r in range(sample):
        m = ReassuranceModel(params=p, draws=d0.run(r), run=r)
        m.run_model()
        months.append(m.computed_months)
    m_on = statistics.mean(months)
    us = 1e6 / n
    month = (t_off - t_on) * us / (p.horizon - m_on)
    out = {"scenario": name, "draws": t_draw * us, "per_run": t_per_run * us,
           "run_start": (t_on - t_per_run) * us - month * m_on, "month": month, "computed_months": m_on,
           "tables": t_tables * us}
    out["engine"] = out["draws"] + t_on * us
    out["with_tables"] = out["engine"] + out["tables"]
    return out


def million_with_tables(n: int) -> dict:
    """Run in a fresh process: n runs folded into tables; report time and peak RSS."""
    s, p = setup()
    t0 = time.perf_counter()
    builder = TableBuilder(p, scenario=s.name, seed=s.seed, months=False, keep_runs=False)
    for block in iter_blocks(p, s.seed, 0, n):
        builder.add(block)
    tables = builder.tables()
    elapsed = time.perf_counter() - t0
    land = tables["summary"].set_index("component").loc["land"]
    return {"n": n, "seconds": elapsed, "runs_per_s": n / elapsed, "p_met_land": float(land.p_met),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--blocks", action="store_true", help="compare computing block sizes only")
    ap.add_argument("--profile", action="store_true", help="where a run's time goes (one core)")
    ap.add_argument("--scenario", action="append", help="with --profile: a shipped scenario's name (repeatable)")
    ap.add_argument("--million-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.profile:
        print(f"one core, CPU time, least of several; µs per run; load {os.getloadavg()[0]:.1f}")
        for name in args.scenario or ["baseline", "russia_strikes", "us_air_cover"]:
            f = profile(name)
            print(f"{name}: draws {f['draws']:.2f} + per-run quantities {f['per_run']:.2f} + run start "
                  f"{f['run_start']:.2f} + {f['computed_months']:.2f} computed months x {f['month']:.2f} "
                  f"= engine {f['engine']:.2f} ({1e6 / f['engine']:,.0f} runs/s); + tables {f['tables']:.2f} "
                  f"= {f['with_tables']:.2f} ({1e6 / f['with_tables']:,.0f} runs/s; 100,000,000 runs on 2 "
                  f"cores: {1e8 * f['with_tables'] / 1e6 / 2 / 60:.0f} min)")
        return
    if args.million_child:
        print(json.dumps(million_with_tables(args.million_child)))
        return
    if args.blocks:
        for b, r in block_sizes().items():
            print(f"block {b:>5,}: median {statistics.median(r):,.0f} runs/s (min {min(r):,.0f}, max {max(r):,.0f})")
        return
    big = 100_000 if args.quick else 1_000_000
    print(f"machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}; one process, one core")
    mesa = mesa_per_run(300 if args.quick else 2000)
    mesa_median = statistics.median(mesa)
    print(f"Mesa engine: median {mesa_median * 1000:.3f} ms per baseline run "
          f"({1 / mesa_median:,.0f} runs/s; mean {statistics.mean(mesa) * 1000:.3f} ms)")
    t2000 = ensemble_2000()
    print(f"ensemble: 2,000 replications in {t2000 * 1000:.1f} ms (median of 15)")
    rates = {}
    for n in (1_000, 100_000, big):
        rates[n] = ensemble_rate(n)
        print(f"ensemble: N = {n:>9,}: {rates[n]:,.0f} runs/s")
    print(f"ratio ensemble/Mesa (N = {big:,}): {rates[big] * mesa_median:,.0f}")
    child = subprocess.run([sys.executable, __file__, "--million-child", str(big)], capture_output=True,
                           text=True, check=True)
    info = json.loads(child.stdout)
    print(f"fresh process, {info['n']:,} runs folded into tables: {info['seconds']:.1f} s "
          f"({info['runs_per_s']:,.0f} runs/s), peak RSS {info['peak_rss_mb']:.0f} MB, "
          f"P(land >= 30,000) = {info['p_met_land']:.4f}")


if __name__ == "__main__":
    main()
