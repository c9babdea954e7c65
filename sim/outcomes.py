"""Threshold tests and outcome tables (pandas), built from :class:`sim.arrays.RunArrays`.

Tables (every column documented in ``docs/outputs.md``):

- :func:`per_run`: one row per run: each component's threshold test, and how many countries each
  condition held back;
- :func:`summary`: one row per component: probability the threshold holds, with a 95% Wilson interval,
  and quantiles of the lowest strength over the assessment window;
- :func:`per_country`: one row per country: expected pledge and contribution, how often it took part, was
  deployed, withdrew, and how often each condition held it back;
- :func:`per_month`: one row per month: quantiles of each component's strength and the share of runs at
  or above the threshold;
- :func:`country_month`: one row per run x month x country (only when per-country series were collected).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim import rules
from sim.arrays import RunArrays
from sim.baseline import COMPONENTS
from sim.params import Params

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
Z95 = 1.959963984540054


MET_IF_P_AT_LEAST = 0.5
"""A threshold is called "met" for a scenario when it holds in at least half of the runs."""


def verdict_label(p_met: float) -> str:
    """``"met"`` when the threshold holds in at least half the runs, else ``"not met"``."""
    return "met" if p_met >= MET_IF_P_AT_LEAST else "not met"


def wilson_interval(successes: np.ndarray | int, n: int, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (95% by default); well behaved at 0 and 1."""
    k = np.asarray(successes, dtype=float)
    phat = k / n
    denom = 1 + z**2 / n
    centre = (phat + z**2 / (2 * n)) / denom
    half = z * np.sqrt(phat * (1 - phat) / n + z**2 / (4 * n**2)) / denom
    lo = np.where(k == 0, 0.0, np.clip(centre - half, 0, 1))
    hi = np.where(k == n, 1.0, np.clip(centre + half, 0, 1))
    return lo, hi


def threshold_tests(res: RunArrays, p: Params) -> dict[str, tuple[np.ndarray, ...]]:
    """Per component: ``(met, margin, first_below, minimum, mean)`` arrays over runs (rules.threshold_test)."""
    return {c: rules.threshold_test(res.series(c), p.thresholds[c], p.assess_start) for c in COMPONENTS}


def per_run(res: RunArrays, p: Params, *, scenario: str, seed: int) -> pd.DataFrame:
    """One row per run: threshold tests per component and the count of countries each condition held back."""
    cols: dict[str, object] = {
        "scenario": scenario,
        "run": res.run,
        "seed": seed,
    }
    tests = threshold_tests(res, p)
    all_met = np.ones(res.n, dtype=bool)
    for comp, (met, margin, first_below, minimum, mean) in tests.items():
        cols[f"{comp}_threshold"] = p.thresholds[comp]
        cols[f"{comp}_met"] = met
        cols[f"{comp}_margin"] = margin
        cols[f"{comp}_first_month_below"] = first_below
        cols[f"{comp}_min"] = minimum
        cols[f"{comp}_mean"] = mean
        all_met &= met
    cols["all_met"] = all_met
    for bit, name in rules.CONDITIONS.items():
        cols[f"held_back_{name}"] = ((res.reasons & bit) != 0).sum(axis=1)
    return pd.DataFrame(cols)


def summary(res: RunArrays, p: Params, *, scenario: str, seed: int) -> pd.DataFrame:
    """One row per component: P(threshold held) with its 95% interval, and strength quantiles."""
    rows = []
    for comp, (met, _margin, _first, minimum, mean) in threshold_tests(res, p).items():
        k = int(met.sum())
        lo, hi = wilson_interval(k, res.n)
        row = {
            "scenario": scenario, "seed": seed, "component": comp, "unit": UNITS[comp],
            "threshold": p.thresholds[comp], "runs": res.n, "runs_met": k, "p_met": k / res.n,
            "p_met_low95": float(lo), "p_met_high95": float(hi), "assess_from_month": p.assess_start,
            "horizon_months": p.horizon, "mean_strength": float(mean.mean()),
            "verdict": verdict_label(k / res.n),
        }
        for q, v in zip(QUANTILES, np.quantile(minimum, QUANTILES), strict=True):
            row[f"min_strength_q{int(q * 100):02d}"] = float(v)
        rows.append(row)
    return pd.DataFrame(rows)


UNITS = {"land": "troops", "air": "combat aircraft", "sea": "mine-countermeasure vessels"}


def per_country(res: RunArrays, p: Params, *, scenario: str) -> pd.DataFrame:
    """One row per country: expected pledge and contribution, participation, and binding conditions."""
    df = pd.DataFrame({
        "scenario": scenario,
        "iso3": list(p.iso3),
        "country": list(p.names),
        "p_takes_part": res.takes_part.mean(axis=0),
    })
    for j, comp in enumerate(COMPONENTS):
        df[f"pledge_{comp}_mean"] = res.pledge[:, :, j].mean(axis=0)
        df[f"expected_{comp}"] = res.mean_contribution[:, :, j].mean(axis=0)
    df["share_of_months_deployed"] = res.months_deployed.mean(axis=0) / p.horizon
    df["p_withdrew"] = (res.withdrawn_month >= 0).mean(axis=0)
    df["p_over_capacity"] = res.over_capacity.mean(axis=0)
    df["sustainable_land"] = p.land_cap
    for bit, name in rules.CONDITIONS.items():
        df[f"p_held_back_{name}"] = ((res.reasons & bit) != 0).mean(axis=0)
    return df


def per_month(res: RunArrays, p: Params, *, scenario: str) -> pd.DataFrame:
    """One row per month and component: strength quantiles over runs, and the share at/above threshold."""
    frames = []
    months = np.arange(p.horizon)
    for comp in COMPONENTS:
        s = res.series(comp)
        q = np.quantile(s, QUANTILES, axis=0)
        f = pd.DataFrame({"scenario": scenario, "month": months, "component": comp, "mean": s.mean(axis=0)})
        for qi, qv in zip(QUANTILES, q, strict=True):
            f[f"q{int(qi * 100):02d}"] = qv
        f["p_at_or_above_threshold"] = (s >= p.thresholds[comp]).mean(axis=0)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def country_month(res: RunArrays, p: Params, *, scenario: str) -> pd.DataFrame:
    """One row per run x month x country with its land, air and sea contribution (needs country series)."""
    if res.country_monthly is None:
        raise ValueError("per-country monthly series were not collected (collect_countries=True)")
    n, T, C, _ = res.country_monthly.shape
    idx = pd.MultiIndex.from_product([res.run, np.arange(T), list(p.iso3)], names=["run", "month", "iso3"])
    flat = res.country_monthly.reshape(n * T * C, 3)
    df = pd.DataFrame(flat, index=idx, columns=list(COMPONENTS)).reset_index()
    df.insert(0, "scenario", scenario)
    return df


def condition_names(bits: int) -> list[str]:
    """Names of the conditions set in a reasons bit field."""
    return [name for bit, name in rules.CONDITIONS.items() if bits & bit]


def tables(res: RunArrays, p: Params, *, scenario: str, seed: int, months: bool = True) -> dict[str, pd.DataFrame]:
    """All outcome tables of one scenario's runs, by name."""
    out = {
        "summary": summary(res, p, scenario=scenario, seed=seed),
        "per_run": per_run(res, p, scenario=scenario, seed=seed),
        "per_country": per_country(res, p, scenario=scenario),
    }
    if months:
        out["per_month"] = per_month(res, p, scenario=scenario)
    return out
