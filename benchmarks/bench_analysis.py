"""Benchmark the analyses of issue 6 (run by hand, not in CI's tests).

    .venv/bin/python benchmarks/bench_analysis.py                # pivotal, gap, Sobol at the default N
    .venv/bin/python benchmarks/bench_analysis.py --stability    # also S1 at N = 64 ... 1024 (a few minutes)
    .venv/bin/python benchmarks/bench_analysis.py --quick        # smaller settings, a smoke check

Prints, in one process on one core (wall-clock seconds, median of --repeat runs for the fast ones):
- pivotal-country analysis (Shapley, Banzhaf, minimal winning coalitions) of the baseline (3 players:
  exact) and of us_air_cover (21 players: sampled, 200 permutations), 500 runs per coalition;
- the gap-closing search on the baseline (target P(land met) >= 0.9);
- a Sobol analysis (7 factors, N x 9 points x 200 runs per point, SALib) at the default N, and with
  --stability the first-order indices at N = 64, 128, ..., 1024 and the largest change of S1 between
  successive sizes, which is how the default N was chosen (docs/analysis.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.analysis import gap as gap_mod  # noqa: E402
from sim.analysis import pivotal as piv  # noqa: E402
from sim.analysis import sensitivity as sens  # noqa: E402
from sim.params import compile_params  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402


def scen(name: str):
    return load_scenario(ROOT / "scenarios" / f"{name}.toml")


def time_pivotal(name: str, reps: int, repeat: int) -> dict:
    s = scen(name)
    p = compile_params(s)
    times, res = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = piv.pivotal(p, scenario=s.name, seed=s.seed, reps=reps)
        times.append(time.perf_counter() - t0)
    g = res.game.iloc[0]
    return {"scenario": name, "seconds": round(statistics.median(times), 3), "players": int(g.players),
            "method": g.method, "samples": int(g.samples), "reps": reps, "v_grand": float(g.v_grand),
            "coalitions_simulated": int(g.coalitions_simulated), "coalitions_bounded": int(g.coalitions_bounded),
            "max_shapley_se": round(float(g.max_shapley_se), 4)}


def time_gap(reps: int, max_evaluations: int) -> dict:
    s = scen("baseline")
    t0 = time.perf_counter()
    res = gap_mod.close_gap(s, target=0.9, reps=reps, max_evaluations=max_evaluations)
    row = res.summary.iloc[0]
    return {"scenario": "baseline", "seconds": round(time.perf_counter() - t0, 2), "found": bool(row.found),
            "proven_cheapest": bool(row.proven_cheapest), "sets_screened": int(row.sets_screened),
            "p_met_after": float(row.p_met_after), "plan": list(res.plan.key)}


def time_sobol(n: int, reps: int) -> dict:
    s = scen("baseline")
    t0 = time.perf_counter()
    sample = sens.sobol_sample(s, n=n, reps=reps)
    t1 = time.perf_counter()
    tab = sens.sobol_indices(sample, scenario=s.name, components=("land",))
    t2 = time.perf_counter()
    return {"scenario": "baseline", "N": n, "points": len(sample.X), "reps": reps,
            "seconds_sample": round(t1 - t0, 2), "seconds_analyze": round(t2 - t1, 2),
            "S1": {r.factor: round(r.S1, 3) for r in tab.itertuples()},
            "S1_conf_max": round(float(tab.S1_conf.max()), 3),
            "ST": {r.factor: round(r.ST, 3) for r in tab.itertuples()}}


def stability(ns: list[int], reps: int) -> dict:
    s = scen("baseline")
    by_n, out = {}, {}
    for n in ns:
        t0 = time.perf_counter()
        tab = sens.sobol_indices(sens.sobol_sample(s, n=n, reps=reps), scenario=s.name, components=("land",))
        by_n[n] = tab.set_index("factor")
        out[n] = {"seconds": round(time.perf_counter() - t0, 2),
                  "S1": {f: round(v, 3) for f, v in by_n[n].S1.items()},
                  "S1_conf_max": round(float(by_n[n].S1_conf.max()), 3)}
    for a, b in zip(ns, ns[1:], strict=False):
        out[b]["max_abs_change_S1_from_previous_N"] = round(float((by_n[b].S1 - by_n[a].S1).abs().max()), 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--stability", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    reps = 100 if a.quick else piv.DEFAULT_REPS
    results = {
        "pivotal_baseline": time_pivotal("baseline", reps, a.repeat),
        "pivotal_us_air_cover": time_pivotal("us_air_cover", reps, 1),
        "gap_baseline_target_0.9": time_gap(100 if a.quick else gap_mod.DEFAULT_REPS,
                                            200 if a.quick else gap_mod.DEFAULT_MAX_EVALUATIONS),
        "sobol_default_N": time_sobol(32 if a.quick else sens.DEFAULT_N, 50 if a.quick else sens.DEFAULT_REPS),
    }
    if a.stability:
        results["sobol_stability"] = stability([64, 128, 256, 512, 1024], sens.DEFAULT_REPS)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
