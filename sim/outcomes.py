"""Threshold tests and outcome tables (pandas), built from :class:`sim.arrays.RunArrays`.

Tables (every column documented in ``docs/outputs.md``):

Tables are built by :class:`TableBuilder` from blocks of runs, with the same result however the runs
were split into blocks.

- :func:`per_run`: one row per run: each component's threshold test, and how many countries each
  condition held back;
- ``summary``: one row per component: probability the threshold holds, with a 95% Wilson interval, its
  verdict by probability band, the ceiling (the most any run could reach) and quantiles of the lowest
  strength over the assessment window;
- ``drivers``: one row per component, drawn uncertainty and value band: P(met) in the runs that drew it,
  and the uncertainty's first-order index (its share of the variance of "met");
- ``per_country``: one row per country: expected pledge and contribution, how often it took part, was
  deployed, withdrew, and how often each condition held it back;
- ``per_month``: one row per month: quantiles of each component's strength and the share of runs at
  or above the threshold;
- :func:`country_month`: one row per run x month x country (only when per-country series were collected).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim import rules
from sim.arrays import RunArrays
from sim.baseline import BACKSTOP_LEVELS, COMPONENTS
from sim.ceiling import ceilings
from sim.concepts import UNITS
from sim.fold import Histogram, fold_series
from sim.params import Params
from sim.uncertainty import UNCERTAINTIES

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
Z95 = 1.959963984540054


VERDICT_BANDS: tuple[tuple[float, str], ...] = ((0.9, "likely met"), (0.1, "uncertain"), (0.0, "unlikely"))
"""Verdict words by the probability that a threshold holds: the first band whose floor P(met) reaches
("likely met" at P >= 0.9, "unlikely" at P < 0.1, "uncertain" between); the interval is shown beside it."""
CANNOT = "cannot be met"
"""The verdict when the threshold is above the ceiling: no run of the scenario could reach it."""


def verdict_label(p_met: float, *, reachable: bool = True) -> str:
    """The verdict words for a probability that the threshold holds (:data:`VERDICT_BANDS`)."""
    if not reachable:
        return CANNOT
    return next(word for floor, word in VERDICT_BANDS if p_met >= floor)


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
    """Per component: ``(met, margin, first_below, minimum, mean)`` arrays over runs (rules.threshold_test).

    Each run is tested against its own threshold (air and sea may be drawn).
    """
    return {c: rules.threshold_test(res.series(c), res.thresholds[:, k], p.assess_start)
            for k, c in enumerate(COMPONENTS)}


def held_back_columns(p: Params) -> list[tuple[int, str, int, str]]:
    """``(component index, component, bit, condition)`` for every condition that can bind a component."""
    return [(k, comp, bit, name) for k, comp in enumerate(COMPONENTS) for bit, name in rules.CONDITIONS.items()
            if p.binds_condition(bit, k)]


DRAWN_COLUMNS = tuple(u.name for u in UNCERTAINTIES if not u.name.endswith("_threshold"))
"""Declared uncertainties written to the per-run table under their own name (the drawn thresholds are
the ``{component}_threshold`` columns)."""


def _uncertain_column(res: RunArrays, name: str):
    i = [u.name for u in UNCERTAINTIES].index(name)
    v = res.uncertain[:, i]
    if UNCERTAINTIES[i].kind == "level":
        return np.array(BACKSTOP_LEVELS, dtype=object)[v.astype(np.int64)]
    return v


def per_run(res: RunArrays, p: Params, *, scenario: str, seed: int) -> pd.DataFrame:
    """One row per run: threshold tests per component and the count of countries each condition held back."""
    cols: dict[str, object] = {"scenario": scenario, "run": res.run, "seed": seed}
    all_met = np.ones(res.n, dtype=bool)
    for comp, (met, margin, first_below, minimum, mean) in threshold_tests(res, p).items():
        cols[f"{comp}_threshold"] = res.thresholds[:, COMPONENTS.index(comp)]
        cols[f"{comp}_met"] = met
        cols[f"{comp}_margin"] = margin
        cols[f"{comp}_first_month_below"] = first_below
        cols[f"{comp}_min"] = minimum
        cols[f"{comp}_mean"] = mean
        all_met &= met
    cols["all_met"] = all_met
    for name in DRAWN_COLUMNS:
        cols[name] = _uncertain_column(res, name)
    for k, comp, bit, name in held_back_columns(p):
        cols[f"held_back_{comp}_{name}"] = ((res.reasons[:, :, k] & bit) != 0).sum(axis=1).astype(np.int16)
    return pd.DataFrame(cols)


DRIVER_BINS = 4
"""Equal-width bands of a drawn range, for the ``drivers`` table (a level's options are its own bands)."""


def _driver_bands(p: Params) -> list[tuple[int, str, np.ndarray, list[str]]]:
    """The bands of every uncertainty the scenario leaves drawn.

    ``(column in RunArrays.uncertain, name, band edges or option values, band labels)`` each.
    """
    out = []
    for i, (u, d) in enumerate(zip(UNCERTAINTIES, p.drawn, strict=True)):
        if d.pinned is not None or d.low == d.high:
            continue
        if u.kind == "level":
            out.append((i, u.name, d.values, [BACKSTOP_LEVELS[int(v)] for v in d.values]))
        elif u.kind == "whole" and d.high - d.low < 2 * DRIVER_BINS:  # a few whole numbers: each its own band
            values = np.arange(d.low, d.high + 1)
            out.append((i, u.name, np.append(values, d.high + 1), [f"{v:,.0f}" for v in values]))
        else:
            edges = np.linspace(d.low, d.high, DRIVER_BINS + 1)
            fmt = "{:.2f}" if u.kind == "real" else "{:,.0f}"
            labels = [f"{fmt.format(a)}-{fmt.format(b)}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
            out.append((i, u.name, edges, labels))
    return out


def _band_of(values: np.ndarray, edges_or_options: np.ndarray, kind: str) -> np.ndarray:
    if kind == "level":
        return np.searchsorted(np.sort(edges_or_options), values).astype(np.int64)
    return np.clip(np.searchsorted(edges_or_options, values, side="right") - 1, 0, len(edges_or_options) - 2)


class TableBuilder:
    """Outcome tables built from blocks of runs, in any number and order of blocks, and mergeable.

    Every statistic is a count, a sum of whole numbers or a quantile read from an exact histogram of whole
    numbers (:mod:`sim.fold`), so the tables do not depend on how runs were split into blocks, in which order
    the blocks arrive, or which builders folded them: a worker folds its chunk into a builder of its own and
    ships it (a few kilobytes: pickling drops the parameters and keeps only non-zero histogram cells), and
    the client :meth:`merge` s the builders of a sweep point in any order. Memory: the per-run rows (if
    ``keep_runs``) and histograms of the window minimum (and of its margin over a drawn threshold) and, if
    ``months``, of every month's total, whose size is bounded by the largest force total, not by the number
    of runs.
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
        # a drawn threshold's margins (minimum - threshold), shifted by its highest value to be >= 0
        self.margin_offset = {c: int(p.threshold_range(c)[1]) for c in COMPONENTS
                              if p.threshold_range(c)[0] != p.threshold_range(c)[1]}
        self.margins = {c: Histogram.empty(1) for c in self.margin_offset}
        self.window_total = dict.fromkeys(COMPONENTS, 0)  # sum over runs of the window's strength (whole)
        self.takes_part = np.zeros(C, dtype=np.int64)
        self.pledge = np.zeros((C, 3), dtype=np.int64)
        self.window_sum = np.zeros((C, 3), dtype=np.int64)
        self.months_deployed = np.zeros(C, dtype=np.int64)
        self.withdrew = np.zeros(C, dtype=np.int64)
        self.over = np.zeros(C, dtype=np.int64)
        self.held_columns = held_back_columns(p)
        self.held = np.zeros((C, len(self.held_columns)), dtype=np.int64)
        self.series = {c: Histogram.empty(T) for c in COMPONENTS} if months else {}
        self.month_sum = {c: np.zeros(T, dtype=np.int64) for c in COMPONENTS}
        self.month_at = {c: np.zeros(T, dtype=np.int64) for c in COMPONENTS}
        self.bands = _driver_bands(p)
        self.band_runs = [np.zeros(len(labels), dtype=np.int64) for *_, labels in self.bands]
        self.band_met = {c: [np.zeros(len(labels), dtype=np.int64) for *_, labels in self.bands] for c in COMPONENTS}

    def add(self, res: RunArrays) -> None:
        """Take in a block of runs."""
        p = self.p
        self.n += res.n
        if self.keep_runs:  # run numbers order the per-run rows; nothing else needs them
            self.runs.append(res.run)
        band_idx = [_band_of(res.uncertain[:, i], edges, UNCERTAINTIES[i].kind) for i, _n, edges, _l in self.bands]
        for b, idx in enumerate(band_idx):
            self.band_runs[b] += np.bincount(idx, minlength=len(self.band_runs[b]))
        met_runs = np.empty(res.n, dtype=np.bool_)
        for k, comp in enumerate(COMPONENTS):
            met, total = fold_series(res.series(comp), p.assess_start, res.thresholds[:, k], self.minima[comp],
                                     self.series.get(comp), self.month_sum[comp], self.month_at[comp], met_runs,
                                     self.margins.get(comp), self.margin_offset.get(comp, 0))
            self.met[comp] += met
            self.window_total[comp] += total
            for b, idx in enumerate(band_idx):
                self.band_met[comp][b] += np.bincount(idx[met_runs], minlength=len(self.band_runs[b]))
        if self.keep_runs:
            self.per_run_blocks.append(per_run(res, p, scenario=self.scenario, seed=self.seed))
        self.takes_part += res.takes_part.sum(axis=0)
        self.pledge += _whole(res.pledge.sum(axis=0))
        self.window_sum += _whole(res.window_sum.sum(axis=0))
        self.months_deployed += res.months_deployed.sum(axis=0)
        self.withdrew += (res.withdrawn_month >= 0).sum(axis=0)
        self.over += res.over_capacity.sum(axis=0)
        for j, (k, _comp, bit, _name) in enumerate(self.held_columns):
            self.held[:, j] += ((res.reasons[:, :, k] & bit) != 0).sum(axis=0)

    def merge(self, other: TableBuilder) -> None:
        """Take in the runs another builder of the same sweep point folded (any order gives the same tables)."""
        self.n += other.n
        self.runs += other.runs
        self.per_run_blocks += other.per_run_blocks
        for comp in COMPONENTS:
            self.met[comp] += other.met[comp]
            self.window_total[comp] += other.window_total[comp]
            self.minima[comp].merge(other.minima[comp])
            if comp in self.margins:
                self.margins[comp].merge(other.margins[comp])
            if self.months:
                self.series[comp].merge(other.series[comp])
                self.month_sum[comp] += other.month_sum[comp]
                self.month_at[comp] += other.month_at[comp]
            for mine, theirs in zip(self.band_met[comp], other.band_met[comp], strict=True):
                mine += theirs
        for mine, theirs in zip(self.band_runs, other.band_runs, strict=True):
            mine += theirs
        for name in ("takes_part", "pledge", "window_sum", "months_deployed", "withdrew", "over", "held"):
            getattr(self, name).__iadd__(getattr(other, name))

    def __getstate__(self) -> dict:
        # What a worker ships: the counters, not the parameters (the client's builder has them).
        return {k: v for k, v in self.__dict__.items() if k != "p"}

    def _order(self) -> np.ndarray:
        return np.argsort(np.concatenate(self.runs), kind="stable")

    def summary(self) -> pd.DataFrame:
        """One row per component: P(threshold held) with its 95% interval, verdict, ceiling, strength quantiles."""
        p, n = self.p, self.n
        window = p.horizon - p.assess_start
        tops = ceilings(p)
        rows = []
        for comp in COMPONENTS:
            k = self.met[comp]
            lo, hi = wilson_interval(k, n)
            t_lo, t_hi = p.threshold_range(comp)
            top = tops[comp]
            row = {
                "scenario": self.scenario, "seed": self.seed, "component": comp, "unit": UNITS[comp],
                "threshold": t_lo if t_lo == t_hi else np.nan, "threshold_low": t_lo, "threshold_high": t_hi,
                "runs": n, "runs_met": k, "p_met": k / n,
                "p_met_low95": float(lo), "p_met_high95": float(hi),
                "verdict": verdict_label(k / n, reachable=not top.why_not(t_lo)),
                "ceiling": top.ceiling, "ceiling_reason": top.why_not(t_hi), "sustainable": top.sustainable,
                "sustainable_nato": top.nato_sustainable,
                "assess_from_month": p.assess_start, "horizon_months": p.horizon,
                "mean_strength": float(self.window_total[comp]) / (n * window),
            }
            for q, v in zip(QUANTILES, self.minima[comp].quantiles(QUANTILES)[:, 0], strict=True):
                row[f"min_strength_q{int(q * 100):02d}"] = float(v)
            if comp in self.margins:  # margin = minimum - threshold, run by run
                row["median_margin"] = float(self.margins[comp].quantiles([0.5])[0, 0]) - self.margin_offset[comp]
            else:
                row["median_margin"] = row["min_strength_q50"] - t_lo
            rows.append(row)
        return pd.DataFrame(rows)

    def drivers(self) -> pd.DataFrame:
        """Which drawn uncertainties decide each verdict.

        Per component, uncertainty and band: the runs that drew it and P(met) among them, and the
        uncertainty's first-order index: the share of the variance of "met" explained by the band it fell
        in (the correlation ratio, a given-data estimate of the first-order Sobol index; 0 when "met" does
        not vary).
        """
        rows = []
        n = self.n
        for comp in COMPONENTS:
            p_all = self.met[comp] / n
            var = p_all * (1 - p_all)
            for b, (_i, name, _e, labels) in enumerate(self.bands):
                runs, met = self.band_runs[b], self.band_met[comp][b]
                with np.errstate(invalid="ignore", divide="ignore"):
                    p_band = np.where(runs > 0, met / np.maximum(runs, 1), np.nan)
                between = float(np.nansum(runs * (p_band - p_all) ** 2) / n)
                index = between / var if var > 0 else 0.0
                for label, r, m, pb in zip(labels, runs, met, p_band, strict=True):
                    rows.append({"scenario": self.scenario, "component": comp, "uncertainty": name, "band": label,
                                 "runs": int(r), "runs_met": int(m), "p_met": float(pb),
                                 "first_order_index": index})
        cols = ["scenario", "component", "uncertainty", "band", "runs", "runs_met", "p_met", "first_order_index"]
        return pd.DataFrame(rows, columns=cols)

    def per_country(self) -> pd.DataFrame:
        """One row per country: expected pledge and contribution, participation, binding conditions."""
        p, n = self.p, self.n
        window = p.horizon - p.assess_start
        # columns gathered first and framed once (a column added at a time cost more than the app's run)
        cols: dict[str, Any] = {"scenario": self.scenario, "iso3": list(p.iso3), "country": list(p.names),
                                "p_takes_part": self.takes_part / n}
        for j, comp in enumerate(COMPONENTS):
            cols[f"pledge_{comp}_mean"] = self.pledge[:, j] / n
            cols[f"expected_{comp}"] = self.window_sum[:, j] / (n * window)
        cols["share_of_months_deployed"] = self.months_deployed / (n * p.horizon)
        cols["p_withdrew"] = self.withdrew / n
        cols["p_over_capacity"] = self.over / n
        cols["sustainable_land_low"], cols["sustainable_land_high"] = p.land_cap_range
        for j, (_k, comp, _bit, name) in enumerate(self.held_columns):
            cols[f"p_held_back_{comp}_{name}"] = self.held[:, j] / n
        return pd.DataFrame(cols)

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
        out["drivers"] = self.drivers()
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
