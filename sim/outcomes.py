"""Threshold tests and outcome tables (pandas), built from :class:`sim.arrays.RunArrays`.

Tables (every column documented in ``docs/outputs.md``):

Tables are built by :class:`TableBuilder` from blocks of runs, with the same result however the runs
were split into blocks.

- :func:`per_run`: one row per run: each component's threshold test, and how many countries each
  condition held back;
- ``summary``: one row per component: probability the threshold holds, with a 95% Wilson interval,
  and quantiles of the lowest strength over the assessment window;
- ``per_country``: one row per country: expected pledge and contribution, how often it took part, was
  deployed, withdrew, and how often each condition held it back;
- ``per_month``: one row per month: quantiles of each component's strength and the share of runs at
  or above the threshold;
- :func:`country_month`: one row per run x month x country (only when per-country series were collected).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim import rules
from sim.arrays import RunArrays
from sim.baseline import COMPONENTS
from sim.fold import Histogram, fold_series
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


UNITS = {"land": "troops", "air": "combat aircraft", "sea": "mine-countermeasure vessels"}


def per_run(res: RunArrays, p: Params, *, scenario: str, seed: int) -> pd.DataFrame:
    """One row per run: threshold tests per component and the count of countries each condition held back."""
    cols: dict[str, object] = {"scenario": scenario, "run": res.run, "seed": seed}
    all_met = np.ones(res.n, dtype=bool)
    for comp, (met, margin, first_below, minimum, mean) in threshold_tests(res, p).items():
        cols[f"{comp}_threshold"] = p.thresholds[comp]
        cols[f"{comp}_met"] = met
        cols[f"{comp}_margin"] = margin
        cols[f"{comp}_first_month_below"] = first_below
        cols[f"{comp}_min"] = minimum
        cols[f"{comp}_mean"] = mean
        all_met &= met
    cols["all_met"] = all_met
    for bit, name in rules.CONDITIONS.items():
        cols[f"held_back_{name}"] = ((res.reasons & bit) != 0).sum(axis=1).astype(np.int16)
    return pd.DataFrame(cols)


class TableBuilder:
    """Outcome tables built from blocks of runs, in any number and order of blocks, and mergeable.

    Every statistic is a count, a sum of whole numbers or a quantile read from an exact histogram of whole
    numbers (:mod:`sim.fold`), so the tables do not depend on how runs were split into blocks, in which order
    the blocks arrive, or which builders folded them: a worker folds its chunk into a builder of its own and
    ships it (a few kilobytes: pickling drops the parameters and keeps only non-zero histogram cells), and
    the client :meth:`merge` s the builders of a sweep point in any order. Memory: the per-run rows (if
    ``keep_runs``) and histograms of the window minimum and, if ``months``, of every month's total, whose size
    is bounded by the largest force total, not by the number of runs.
    """

    def __init__(self, p: Params, *, scenario: str, seed: int, months: bool = True, keep_runs: bool = True):
        self.p, self.scenario, self.seed = p, scenario, seed
        self.months, self.keep_runs = months, keep_runs
        C, T = p.n_countries, p.horizon
        self.n = 0
        self.runs: list[np.ndarray] = []
        self.per_run_blocks: list[pd.DataFrame] = []
        self.met = dict.fromkeys(COMPONENTS, 0)
        self.minima = {c: Histogram.empty(1) for c in COMPONENTS}
        self.window_total = dict.fromkeys(COMPONENTS, 0)  # sum over runs of the window's strength (whole)
        self.takes_part = np.zeros(C, dtype=np.int64)
        self.pledge = np.zeros((C, 3), dtype=np.int64)
        self.window_sum = np.zeros((C, 3), dtype=np.int64)
        self.months_deployed = np.zeros(C, dtype=np.int64)
        self.withdrew = np.zeros(C, dtype=np.int64)
        self.over = np.zeros(C, dtype=np.int64)
        self.held = np.zeros((C, len(rules.CONDITIONS)), dtype=np.int64)
        self.series = {c: Histogram.empty(T) for c in COMPONENTS} if months else {}
        self.month_sum = {c: np.zeros(T, dtype=np.int64) for c in COMPONENTS}
        self.month_at = {c: np.zeros(T, dtype=np.int64) for c in COMPONENTS}

    def add(self, res: RunArrays) -> None:
        """Take in a block of runs."""
        p = self.p
        self.n += res.n
        if self.keep_runs:  # run numbers order the per-run rows; nothing else needs them
            self.runs.append(res.run)
        for comp in COMPONENTS:
            met, total = fold_series(res.series(comp), p.assess_start, p.thresholds[comp], self.minima[comp],
                                     self.series.get(comp), self.month_sum[comp], self.month_at[comp])
            self.met[comp] += met
            self.window_total[comp] += total
        if self.keep_runs:
            self.per_run_blocks.append(per_run(res, p, scenario=self.scenario, seed=self.seed))
        self.takes_part += res.takes_part.sum(axis=0)
        self.pledge += _whole(res.pledge.sum(axis=0))
        self.window_sum += _whole(res.window_sum.sum(axis=0))
        self.months_deployed += res.months_deployed.sum(axis=0)
        self.withdrew += (res.withdrawn_month >= 0).sum(axis=0)
        self.over += res.over_capacity.sum(axis=0)
        for j, bit in enumerate(rules.CONDITIONS):
            self.held[:, j] += ((res.reasons & bit) != 0).sum(axis=0)

    def merge(self, other: TableBuilder) -> None:
        """Take in the runs another builder of the same sweep point folded (any order gives the same tables)."""
        self.n += other.n
        self.runs += other.runs
        self.per_run_blocks += other.per_run_blocks
        for comp in COMPONENTS:
            self.met[comp] += other.met[comp]
            self.window_total[comp] += other.window_total[comp]
            self.minima[comp].merge(other.minima[comp])
            if self.months:
                self.series[comp].merge(other.series[comp])
                self.month_sum[comp] += other.month_sum[comp]
                self.month_at[comp] += other.month_at[comp]
        for name in ("takes_part", "pledge", "window_sum", "months_deployed", "withdrew", "over", "held"):
            getattr(self, name).__iadd__(getattr(other, name))

    def __getstate__(self) -> dict:
        # What a worker ships: the counters, not the parameters (the client's builder has them).
        return {k: v for k, v in self.__dict__.items() if k != "p"}

    def _order(self) -> np.ndarray:
        return np.argsort(np.concatenate(self.runs), kind="stable")

    def summary(self) -> pd.DataFrame:
        """One row per component: P(threshold held) with its 95% interval, and strength quantiles."""
        p, n = self.p, self.n
        window = p.horizon - p.assess_start
        rows = []
        for comp in COMPONENTS:
            k = self.met[comp]
            lo, hi = wilson_interval(k, n)
            row = {
                "scenario": self.scenario, "seed": self.seed, "component": comp, "unit": UNITS[comp],
                "threshold": p.thresholds[comp], "runs": n, "runs_met": k, "p_met": k / n,
                "p_met_low95": float(lo), "p_met_high95": float(hi), "verdict": verdict_label(k / n),
                "assess_from_month": p.assess_start, "horizon_months": p.horizon,
                "mean_strength": float(self.window_total[comp]) / (n * window),
            }
            for q, v in zip(QUANTILES, self.minima[comp].quantiles(QUANTILES)[:, 0], strict=True):
                row[f"min_strength_q{int(q * 100):02d}"] = float(v)
            row["median_margin"] = row["min_strength_q50"] - p.thresholds[comp]  # margin = minimum - threshold
            rows.append(row)
        return pd.DataFrame(rows)

    def per_country(self) -> pd.DataFrame:
        """One row per country: expected pledge and contribution, participation, binding conditions."""
        p, n = self.p, self.n
        window = p.horizon - p.assess_start
        df = pd.DataFrame({"scenario": self.scenario, "iso3": list(p.iso3), "country": list(p.names),
                           "p_takes_part": self.takes_part / n})
        for j, comp in enumerate(COMPONENTS):
            df[f"pledge_{comp}_mean"] = self.pledge[:, j] / n
            df[f"expected_{comp}"] = self.window_sum[:, j] / (n * window)
        df["share_of_months_deployed"] = self.months_deployed / (n * p.horizon)
        df["p_withdrew"] = self.withdrew / n
        df["p_over_capacity"] = self.over / n
        df["sustainable_land"] = p.land_cap
        for j, name in enumerate(rules.CONDITIONS.values()):
            df[f"p_held_back_{name}"] = self.held[:, j] / n
        return df

    def per_month(self) -> pd.DataFrame:
        """One row per month and component: strength quantiles, mean, share of runs at/above threshold."""
        p = self.p
        frames = []
        for comp in COMPONENTS:
            f = pd.DataFrame({"scenario": self.scenario, "month": np.arange(p.horizon), "component": comp,
                              "mean": self.month_sum[comp] / self.n})
            for qi, qv in zip(QUANTILES, self.series[comp].quantiles(QUANTILES), strict=True):
                f[f"q{int(qi * 100):02d}"] = qv
            f["p_at_or_above_threshold"] = self.month_at[comp] / self.n
            frames.append(f)
        return pd.concat(frames, ignore_index=True)

    def tables(self) -> dict[str, pd.DataFrame]:
        """All tables, by name (per_run in run order)."""
        if self.n == 0:
            raise ValueError("no runs were added")
        out = {"summary": self.summary()}
        if self.keep_runs:
            rows = pd.concat(self.per_run_blocks, ignore_index=True)
            out["per_run"] = rows.iloc[self._order()].reset_index(drop=True)
        out["per_country"] = self.per_country()
        if self.months:
            out["per_month"] = self.per_month()
        return out


def _whole(sums: np.ndarray) -> np.ndarray:
    """Sums of whole numbers (exact in float64) as integers, so that adding them never rounds."""
    return sums.astype(np.int64)


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


def tables(res: RunArrays, p: Params, *, scenario: str, seed: int, months: bool = True) -> dict[str, pd.DataFrame]:
    """All outcome tables of one scenario's runs, by name."""
    builder = TableBuilder(p, scenario=scenario, seed=seed, months=months)
    builder.add(res)
    return builder.tables()
