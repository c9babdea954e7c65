"""Which levers matter: Sobol indices (SALib) and scenario discovery with PRIM (EMA Workbench).

The uncertain inputs are :class:`Factor` s, each a range of a scenario field (:func:`default_factors`).
A sample of input points is drawn with SALib's Sobol' sequence (Saltelli's scheme,
``N * (k + 2)`` points for ``k`` factors, first- and total-order indices only). At every point the
scenario, changed by the point's values, is run ``reps`` times with common random numbers (the scenario's
seed and the same draws at every point), giving ``P(threshold met)`` for each component. SALib's
``sobol.analyze`` turns those into first-order (``S1``) and total (``ST``) indices with bootstrap
confidence intervals. PRIM (the EMA Workbench's implementation) then looks, in the same sample, for a
box of input values in which the force succeeds (``P(met) >= prim_threshold``), and reports its limits,
its coverage (the share of all successes that fall in the box) and its density (the share of points in
the box that succeed).

``P(met)`` at a point is itself estimated from ``reps`` runs, so it carries binomial noise (at most
``0.5 / sqrt(reps)``); that noise shows up as a small share of variance no factor explains, and it widens
the confidence intervals. Neither library is re-implemented here: SALib samples and analyses, the EMA
Workbench peels and pastes; this module maps inputs to scenarios and runs them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.points import (  # noqa: F401 - evaluate_*, point_*: this module's names before the split
    DEFAULT_REPS,
    Later,
    evaluate_later,
    evaluate_parallel,
    evaluate_points,
    point_edits,
    point_params,
)
from sim.baseline import BACKSTOP_LEVELS, COMPONENTS, load_baseline
from sim.params import compile_params
from sim.scenario import Scenario, country_fields
from sim.uncertainty import UNCERTAINTIES

DEFAULT_N = 512
"""Base sample size of the Sobol' design (a power of two); ``N * (k + 2)`` points. See docs/analysis.md."""
DEFAULT_SAMPLE_SEED = 2025
DEFAULT_RESAMPLES = 1000
DEFAULT_PRIM_THRESHOLD = 0.5
DEFAULT_MIN_DENSITY = 0.8
DEFAULT_MAX_BOXES = 2
MODES = ("set", "scale", "level")


@dataclass(frozen=True)
class Factor:
    """An uncertain input: a range of values for a scenario field.

    ``mode``: ``set`` writes the value to ``path`` (a dotted scenario path, e.g. ``levers.incident_rate``
    or ``countries.GBR.p_participate``); ``scale`` multiplies the field ``path`` (e.g. ``p_participate``)
    of every country in ``countries`` (iso3 codes) by the value (clipped to ``[0, 1]`` for probabilities); ``level``
    maps the value ``x`` in ``[0, len(levels))`` to ``levels[floor(x)]`` and writes it to ``path``.
    """

    name: str
    path: str
    low: float
    high: float
    description: str
    mode: str = "set"
    countries: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"factor {self.name}: unknown mode {self.mode!r}; expected one of {MODES}")
        if not self.low < self.high:
            raise ValueError(f"factor {self.name}: low {self.low} must be below high {self.high}")
        if self.mode == "level" and (self.low != 0 or self.high != len(self.levels)):
            raise ValueError(f"factor {self.name}: a level factor ranges over [0, {len(self.levels)})")
        if self.mode == "scale" and not self.countries:
            raise ValueError(f"factor {self.name}: a scale factor needs countries")

    def level(self, x: float) -> str:
        """The level a value stands for (level factors)."""
        return self.levels[min(int(math.floor(x)), len(self.levels) - 1)]

    def edits(self, x: float, scenario: Scenario) -> dict[str, Any]:
        """The dotted-path scenario changes that set this factor to ``x``."""
        if self.mode == "set":
            return {self.path: float(x)}
        if self.mode == "level":
            return {self.path: self.level(x)}
        baseline = load_baseline()
        out: dict[str, Any] = {}
        for c, f in zip(baseline.countries, country_fields(scenario, baseline), strict=True):
            if c.iso3 in self.countries:
                v = float(f[self.path].value) * float(x)
                out[f"countries.{c.iso3}.{self.path}"] = min(max(v, 0.0), 1.0) if self.path == "p_participate" else v
        return out


def default_factors(scenario: Scenario) -> list[Factor]:
    """The default uncertain inputs of a scenario, read from its data.

    Every declared uncertainty the scenario leaves drawn (its options or range from the data,
    :mod:`sim.uncertainty`); each country's troops decision that is neither certain nor ruled out (its
    chance ``p`` over ``p ± min(p, 1 - p)``); one multiplier (0.5 - 1.1) on the willingness of every country
    whose chance of taking part is neither 0 nor 1; each country whose government may fall (its monthly
    hazard over 0 - 3x); and two modelling assumptions (docs/analysis.md).
    """
    p = compile_params(scenario)
    out = []
    for u, d in zip(UNCERTAINTIES, p.drawn, strict=True):
        if d.pinned is not None or d.low == d.high:
            continue
        if u.kind == "level":
            levels = tuple(BACKSTOP_LEVELS[int(v)] for v in d.values)
            out.append(Factor(u.name, u.pin, 0.0, float(len(levels)), f"{u.label}, each option equally likely",
                              mode="level", levels=levels))
        else:
            out.append(Factor(u.name, u.pin, d.low, d.high, f"{u.label} ({u.unit})"))
    for i in np.flatnonzero((p.p_troops > 0) & (p.p_troops < 1)):
        x, half = float(p.p_troops[i]), float(min(p.p_troops[i], 1 - p.p_troops[i]))
        out.append(Factor(f"troops_{p.iso3[i]}", f"countries.{p.iso3[i]}.p_troops", round(x - half, 9),
                          round(x + half, 9),
                          f"{p.names[i]}'s chance of sending troops (baseline {x:g})"))
    hesitant = tuple(p.iso3[i] for i in np.flatnonzero((p.p_participate > 0) & (p.p_participate < 1)))
    if hesitant:
        out.append(Factor("willingness_uncertain", "p_participate", 0.5, 1.1,
                          "multiplier on the willingness of every country whose chance of taking part is neither 0 "
                          f"nor 1 ({', '.join(hesitant)}; clipped to 1)", mode="scale", countries=hesitant))
    for i in np.flatnonzero(p.fall_hazard > 0):
        x = float(p.fall_hazard[i])
        out.append(Factor(f"fall_hazard_{p.iso3[i]}", f"countries.{p.iso3[i]}.government_fall_hazard", 0.0,
                          round(min(3 * x, 1.0), 9),
                          f"monthly chance that {p.names[i]}'s government falls (baseline {x:g})"))
    return out + [
        Factor("incident_rate", "levers.incident_rate", 0.0, 0.1,
               "monthly chance that Russia strikes the force (baseline 0.02)"),
        Factor("rotation_ratio", "levers.rotation_ratio", 2.0, 5.0,
               "troops needed per deployed soldier, sustaining the force (rule of thirds 3; NATO 8%: 5)"),
    ]


@dataclass(frozen=True)
class Sample:
    """Input points, their ``P(met)`` per evaluated component, and how they were drawn."""

    factors: tuple[Factor, ...]
    X: np.ndarray  # [points, k]
    Y: np.ndarray  # [points, len(components)]
    n: int  # base sample size N
    reps: int
    seed: int  # of the Sobol' sequence's scrambling
    components: tuple[str, ...] = COMPONENTS  # the columns of Y

    def p_met(self, component: str) -> np.ndarray:
        """``P(met)`` of one component at every point (it must have been evaluated)."""
        if component not in self.components:
            raise ValueError(f"the sample was evaluated for {', '.join(self.components)}, not {component}")
        return self.Y[:, self.components.index(component)]

    def frame(self, scenario: str) -> pd.DataFrame:
        """One row per point: the factor values (level factors also by name) and P(met) per component."""
        df = pd.DataFrame({"scenario": scenario, "point": np.arange(len(self.X))})
        for j, f in enumerate(self.factors):
            df[f.name] = self.X[:, j]
            if f.mode == "level":
                df[f"{f.name}_level"] = [f.level(v) for v in self.X[:, j]]
        for j, c in enumerate(self.components):
            df[f"p_met_{c}"] = self.Y[:, j]
        return df


def problem(factors: Sequence[Factor]) -> dict[str, Any]:
    """The SALib problem definition of the factors."""
    return {"num_vars": len(factors), "names": [f.name for f in factors],
            "bounds": [[f.low, f.high] for f in factors]}


def sobol_sample(scenario: Scenario, *, factors: Sequence[Factor] | None = None, n: int = DEFAULT_N,
                 reps: int = DEFAULT_REPS, seed: int = DEFAULT_SAMPLE_SEED, workers: int = 1,
                 components: Sequence[str] = COMPONENTS) -> Sample:
    """Draw SALib's Sobol' design (``n * (k + 2)`` points, first and total order) and run every point.

    ``components``: those whose ``P(met)`` is estimated at every point (fewer: fewer runs to simulate).
    """
    return sobol_sample_later(scenario, factors=factors, n=n, reps=reps, seed=seed, workers=workers,
                              components=components)()


def sobol_sample_later(scenario: Scenario, *, factors: Sequence[Factor] | None = None, n: int = DEFAULT_N,
                       reps: int = DEFAULT_REPS, seed: int = DEFAULT_SAMPLE_SEED, workers: int = 1,
                       components: Sequence[str] = COMPONENTS) -> Later:
    """:func:`sobol_sample`, started (:func:`evaluate_later`): call the result for the :class:`Sample`."""
    from SALib.sample import sobol as sobol_sampler

    if n < 2 or n & (n - 1):
        raise ValueError(f"n must be a power of two (>= 2) for the Sobol' sequence, got {n}")
    factors = tuple(factors or default_factors(scenario))
    X = sobol_sampler.sample(problem(factors), n, calc_second_order=False, scramble=True, seed=seed)
    components = tuple(components)
    Y = evaluate_later(scenario, factors, X, reps=reps, workers=workers, components=components)
    return Later(lambda: Sample(factors, X, Y(), n, reps, seed, components), Y.cancel)


def sobol_indices(sample: Sample, *, scenario: str, components: Sequence[str] = ("land",),
                  resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SAMPLE_SEED) -> pd.DataFrame:
    """First-order and total Sobol indices (SALib ``sobol.analyze``), one row per component and factor.

    Where ``P(met)`` does not vary over the sample (always or never met) the indices are undefined (NaN).
    """
    from SALib.analyze import sobol as sobol_analyzer

    rows = []
    prob = problem(sample.factors)
    for comp in components:
        y = sample.p_met(comp)
        var = float(np.var(y))
        if var > 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                si = sobol_analyzer.analyze(prob, y, calc_second_order=False, num_resamples=resamples,
                                            conf_level=0.95, seed=seed, print_to_console=False)
        for j, f in enumerate(sample.factors):
            row = {"scenario": scenario, "component": comp, "factor": f.name, "low": f.low, "high": f.high,
                   "description": f.description, "N": sample.n, "points": len(sample.X), "reps": sample.reps,
                   "p_met_mean": float(y.mean()), "p_met_var": var}
            for k in ("S1", "S1_conf", "ST", "ST_conf"):
                row[k] = float(si[k][j]) if var > 0 else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


# --- scenario discovery ---------------------------------------------------------------------------------

def _prim_x(sample: Sample) -> pd.DataFrame:
    # A level factor enters as its level's index, a float column (0.0, 1.0, ...): PRIM's integer and
    # categorical columns fail with pandas 3 in ema_workbench 3.0.0; peeling an ordered index is the same.
    return pd.DataFrame({f.name: (np.minimum(np.floor(sample.X[:, j]), len(f.levels) - 1)
                                  if f.mode == "level" else sample.X[:, j])
                         for j, f in enumerate(sample.factors)})


def prim_boxes(sample: Sample, *, scenario: str, component: str = "land",
               threshold: float = DEFAULT_PRIM_THRESHOLD, min_density: float = DEFAULT_MIN_DENSITY,
               max_boxes: int = DEFAULT_MAX_BOXES, max_qp: float | None = 0.05, peel_alpha: float = 0.05,
               mass_min: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PRIM boxes in which the force succeeds (``P(met) >= threshold``): ``(limits, boxes)`` tables.

    Uses ``ema_workbench.analysis.prim.Prim``. On each box's peeling trajectory the box kept is the one
    with the largest coverage among those with density ``>= min_density`` (the densest if none is).
    ``limits`` has one row per box and restricted factor (low/high, or the levels kept, and the
    quasi-p-values); ``boxes`` one row per box (coverage, density, mass, restricted dimensions).
    """
    y = sample.p_met(component) >= threshold
    lim_cols = ["scenario", "component", "box", "factor", "low", "high", "levels", "qp_low", "qp_high"]
    box_cols = ["scenario", "component", "box", "success_if_p_met_at_least", "points", "successes", "coverage",
                "density", "mass", "restricted", "trajectory_index", "note"]
    if y.all() or not y.any():
        note = "the force succeeds at every point" if y.all() else "the force succeeds at no point"
        return (pd.DataFrame(columns=lim_cols), pd.DataFrame([{
            "scenario": scenario, "component": component, "box": 0, "success_if_p_met_at_least": threshold,
            "points": len(y), "successes": int(y.sum()), "coverage": np.nan, "density": np.nan, "mass": np.nan,
            "restricted": "", "trajectory_index": -1, "note": note + ": no box to find"}], columns=box_cols))
    x = _prim_x(sample)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ema_workbench warns at import about optional parallel back-ends
        from ema_workbench.analysis import prim as ema_prim  # imported only when there is a box to find (~2.5 s)

        alg = ema_prim.Prim(x, y.astype(int), peel_alpha=peel_alpha, mass_min=mass_min)
        lims, boxes = [], []
        for b in range(max_boxes):
            box = alg.find_box()
            if box is None:
                break
            traj = box.peeling_trajectory
            ok = traj[traj.density >= min_density]
            i = int(ok.coverage.idxmax()) if len(ok) else int(traj.density.idxmax())
            box.select(i)
            stats, limits = box.inspect(i, style="data")[0]
            limits = limits.droplevel(0, axis=1) if isinstance(limits.columns, pd.MultiIndex) else limits
            if max_qp is not None:  # drop the restrictions that are not significant (EMA's practice)
                weak = [u for u in limits.index if np.nanmin(limits.loc[u].iloc[2:4].astype(float)) > max_qp]
                if weak and len(weak) < len(limits.index):
                    for u in weak:
                        box.drop_restriction(u)
                    i = len(box.peeling_trajectory) - 1
                    stats, limits = box.inspect(i, style="data")[0]
                    limits = limits.droplevel(0, axis=1) if isinstance(limits.columns, pd.MultiIndex) else limits
            restricted = list(limits.index)
            levels = {f.name: f.levels for f in sample.factors if f.mode == "level"}
            for factor in restricted:
                row = limits.loc[factor]
                lo, hi = float(row.iloc[0]), float(row.iloc[1])
                kept = (", ".join(levels[factor][math.ceil(lo):math.floor(hi) + 1]) if factor in levels else "")
                lims.append({"scenario": scenario, "component": component, "box": b + 1, "factor": factor,
                             "low": lo, "high": hi, "levels": kept,
                             "qp_low": float(row.iloc[2]), "qp_high": float(row.iloc[3])})
            boxes.append({"scenario": scenario, "component": component, "box": b + 1,
                          "success_if_p_met_at_least": threshold, "points": int(stats["n"]),
                          "successes": int(stats["k"]), "coverage": float(stats["coverage"]),
                          "density": float(stats["density"]), "mass": float(stats["mass"]),
                          "restricted": ", ".join(restricted), "trajectory_index": i,
                          "note": "" if stats["density"] >= min_density else
                          f"no box on the trajectory reaches density {min_density}; the densest is kept"})
            if stats["density"] < min_density:
                break
    return pd.DataFrame(lims, columns=lim_cols), pd.DataFrame(boxes, columns=box_cols)


def describe_boxes(limits: pd.DataFrame, boxes: pd.DataFrame) -> list[str]:
    """Each box in words: the conditions and how much of the success it covers."""
    out = []
    for b in boxes.itertuples():
        if b.trajectory_index < 0:
            out.append(f"PRIM: {b.note}.")
            continue
        conds = []
        for r in limits[limits.box == b.box].itertuples():
            conds.append(f"{r.factor} in {{{r.levels}}}" if r.levels else f"{r.low:.3g} <= {r.factor} <= {r.high:.3g}")
        out.append(f"Box {b.box}: {' and '.join(conds) or 'no restriction'} - covers {b.coverage:.0%} of the "
                   f"successes (P(met) >= {b.success_if_p_met_at_least:g}); {b.successes:,} of its {b.points:,} "
                   f"points succeed (density {b.density:.1%}; {b.mass:.0%} of the sample).")
    return out


def library_versions() -> dict[str, str]:
    """Versions of the libraries these analyses rely on."""
    out = {}
    for name in ("SALib", "ema_workbench", "scipy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def factors_table(factors: Sequence[Factor]) -> pd.DataFrame:
    """The factors, their ranges and meaning."""
    return pd.DataFrame([{"factor": f.name, "path": f.path, "mode": f.mode, "countries": ", ".join(f.countries),
                          "low": f.low, "high": f.high, "levels": ", ".join(f.levels),
                          "description": f.description} for f in factors])


def stability(scenario: Scenario, *, ns: Sequence[int], factors: Sequence[Factor] | None = None,
              reps: int = DEFAULT_REPS, component: str = "land", seed: int = DEFAULT_SAMPLE_SEED,
              workers: int = 1) -> pd.DataFrame:
    """S1 and ST at several base sample sizes, to choose one at which the first-order indices settle."""
    frames = []
    for n in ns:
        s = sobol_sample(scenario, factors=factors, n=n, reps=reps, seed=seed, workers=workers)
        frames.append(sobol_indices(s, scenario=scenario.name, components=(component,), seed=seed))
    return pd.concat(frames, ignore_index=True)

