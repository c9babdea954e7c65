"""What decides the outcome: pivotal countries, closing the gap, and which levers matter.

Four analyses of a scenario and one component's threshold (``land`` by default), each a plain function
returning pandas tables (``docs/analysis.md`` describes every column):

- :func:`pivotal_countries` — Shapley values and Banzhaf indices of the countries for meeting the
  threshold, and the minimal winning coalitions (:mod:`sim.analysis.pivotal`);
- :func:`gap_plan` — the cheapest set of allowed changes that makes the threshold hold with a target
  probability (:mod:`sim.analysis.gap`);
- :func:`sobol_table` and :func:`prim_table` — Sobol indices (SALib) of ``P(met)`` to the uncertain
  inputs, and PRIM boxes (EMA Workbench) of the conditions under which the force succeeds
  (:mod:`sim.analysis.sensitivity`).

:func:`analyse` runs any of them and gathers their tables (``reassurance analyse`` is :mod:`sim.cli.analyse`).
Nothing here draws or prints: the app and the command line render.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.analysis import gap as _gap
from sim.analysis import pivotal as _pivotal
from sim.analysis import sensitivity as _sens
from sim.analysis.gap import Change, Cost, GapResult, close_gap, menu
from sim.analysis.pivotal import CoalitionGame, PivotalResult, exact_indices, minimal_winning, sampled_indices
from sim.analysis.sensitivity import Factor, Sample, default_factors, prim_boxes, sobol_indices, sobol_sample
from sim.params import compile_params
from sim.scenario import Scenario

ANALYSES = ("pivotal", "gap", "sobol", "prim")

__all__ = [
    "ANALYSES", "Analysis", "Change", "CoalitionGame", "Cost", "Factor", "GapResult", "PivotalResult", "Sample",
    "analyse", "close_gap", "default_factors", "exact_indices", "gap_plan", "gap_plan_table", "menu",
    "minimal_winning", "pivotal_countries", "pivotal_table", "prim_boxes", "prim_table",
    "sampled_indices", "sobol_indices", "sobol_sample", "sobol_table",
]


def pivotal_countries(scenario: Scenario, *, component: str = "land", reps: int = _pivotal.DEFAULT_REPS,
                      **options: Any) -> PivotalResult:
    """Shapley values, Banzhaf indices and minimal winning coalitions for a scenario's threshold.

    ``options`` are those of :func:`sim.analysis.pivotal.pivotal` (``worth``, ``exact_max``, ``samples``,
    ``sample_seed``, ``win_prob``, ``mwc_max_size``, ``mwc_max_evaluations``, ``mwc_max_results``).
    """
    return _pivotal.pivotal(compile_params(scenario), scenario=scenario.name, seed=scenario.seed,
                            component=component, reps=reps, **options)


def pivotal_table(scenario: Scenario, *, component: str = "land", reps: int = _pivotal.DEFAULT_REPS,
                  players_only: bool = True, **options: Any) -> pd.DataFrame:
    """One row per country (players only by default): ``shapley``, ``shapley_se``, ``banzhaf``, ... (for a chart)."""
    t = pivotal_countries(scenario, component=component, reps=reps, **options).table
    return t[t.player].reset_index(drop=True) if players_only else t


def gap_plan(scenario: Scenario, *, component: str = "land", target: float = _gap.DEFAULT_TARGET,
             **options: Any) -> GapResult:
    """The cheapest set of allowed changes that reaches the target (:func:`sim.analysis.gap.close_gap`)."""
    return close_gap(scenario, component=component, target=target, **options)


def gap_plan_table(scenario: Scenario, *, component: str = "land", target: float = _gap.DEFAULT_TARGET,
                   **options: Any) -> pd.DataFrame:
    """The plan as a short list: one row per change (``step``, ``change``, costs); ``attrs["verdict"]`` says it."""
    res = gap_plan(scenario, component=component, target=target, **options)
    df = res.plan.copy()
    df.attrs["verdict"] = res.verdict
    df.attrs["found"] = res.found
    return df


def sobol_table(scenario: Scenario, *, components: Sequence[str] = ("land",), n: int = _sens.DEFAULT_N,
                reps: int = _sens.DEFAULT_REPS, factors: Sequence[Factor] | None = None,
                seed: int = _sens.DEFAULT_SAMPLE_SEED, workers: int = 1) -> pd.DataFrame:
    """Sobol indices (``S1``, ``S1_conf``, ``ST``, ``ST_conf``) per component and factor."""
    sample = sobol_sample(scenario, factors=factors, n=n, reps=reps, seed=seed, workers=workers,
                          components=components)
    return sobol_indices(sample, scenario=scenario.name, components=components, seed=seed)


def prim_table(scenario: Scenario, *, component: str = "land", n: int = _sens.DEFAULT_N,
               reps: int = _sens.DEFAULT_REPS, factors: Sequence[Factor] | None = None,
               seed: int = _sens.DEFAULT_SAMPLE_SEED, workers: int = 1, **options: Any) -> pd.DataFrame:
    """PRIM box limits (one row per box and restricted factor) with the box's coverage and density."""
    sample = sobol_sample(scenario, factors=factors, n=n, reps=reps, seed=seed, workers=workers,
                          components=(component,))
    limits, boxes = prim_boxes(sample, scenario=scenario.name, component=component, **options)
    return limits.merge(boxes[["box", "coverage", "density", "mass"]], on="box", how="left")


@dataclass
class Analysis:
    """The tables of :func:`analyse`, a few lines to print, and what the manifest records."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    gap: GapResult | None = None
    pivotal: PivotalResult | None = None


def analyse(scenario: Scenario, *, what: Sequence[str] = ANALYSES, component: str = "land", reps: int | None = None,
            pivotal_options: dict[str, Any] | None = None, gap_options: dict[str, Any] | None = None,
            sobol_options: dict[str, Any] | None = None, prim_options: dict[str, Any] | None = None,
            progress: Any = None) -> Analysis:
    """Run the analyses named in ``what`` (any of :data:`ANALYSES`) and gather their tables.

    ``reps``: replications per evaluation for every analysis (default: each one's own: pivotal 500, gap
    screening 400, Sobol/PRIM 200). ``*_options`` go to :func:`pivotal_countries`, :func:`gap_plan`,
    :func:`sobol_sample` (``n``, ``seed``, ``workers``, ``factors``) and :func:`prim_boxes`.
    ``progress``: a callable taking a line of text, told when each analysis starts.
    """
    bad = [w for w in what if w not in ANALYSES]
    if bad:
        raise ValueError(f"unknown analysis {bad}; expected some of {ANALYSES}")
    say = progress or (lambda _line: None)
    out = Analysis()
    out.settings = {"component": component, "what": list(what), "reps": reps}
    sopts = dict(sobol_options or {})
    sopts.setdefault("components", (component,))  # the component analysed: the others' runs are not needed
    pending = None
    if ("sobol" in what or "prim" in what) and sopts.get("workers", 1) > 1:
        # The sample's points go to worker processes now, and this process does the other analyses beside
        # them; each analysis is deterministic, so the tables are the same as one after the other.
        say(f"sensitivity sample (N = {sopts.get('n', _sens.DEFAULT_N)}) in {sopts['workers']} worker processes, "
            "beside the other analyses ...")
        pending = _sens.sobol_sample_later(scenario, reps=reps or _sens.DEFAULT_REPS, **sopts)
    t_sample = time.perf_counter()
    try:
        _pivotal_and_gap(out, scenario, what, component, reps, pivotal_options, gap_options, say)
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    if "sobol" in what or "prim" in what:
        _sensitivity(out, scenario, what, component, reps, sopts, prim_options, say, pending, t_sample)
    return out


def _pivotal_and_gap(out: Analysis, scenario: Scenario, what: Sequence[str], component: str, reps: int | None,
                     pivotal_options: dict[str, Any] | None, gap_options: dict[str, Any] | None, say: Any) -> None:
    if "pivotal" in what:
        say("pivotal countries ...")
        t0 = time.perf_counter()
        opts = dict(pivotal_options or {})
        res = pivotal_countries(scenario, component=component, reps=reps or _pivotal.DEFAULT_REPS, **opts)
        out.seconds["pivotal"] = time.perf_counter() - t0
        out.pivotal = res
        out.tables.update({"pivotal": res.table, "pivotal_game": res.game, "winning_coalitions": res.coalitions})
        out.lines.append("Pivotal countries: " + res.verdict)
        out.settings["pivotal"] = res.settings
    if "gap" in what:
        say("closing the gap ...")
        t0 = time.perf_counter()
        opts = dict(gap_options or {})
        if reps is not None:
            opts.setdefault("reps", reps)
        res_gap = gap_plan(scenario, component=component, **opts)
        out.seconds["gap"] = time.perf_counter() - t0
        out.gap = res_gap
        out.tables.update({"gap_plan": res_gap.plan, "gap_summary": res_gap.summary, "gap_options": res_gap.options})
        out.lines.append("Closing the gap: " + res_gap.verdict)
        if len(res_gap.plan):
            out.lines += [f"  {r.step}. {r.change}" for r in res_gap.plan.itertuples()]
        out.settings["gap"] = res_gap.settings


def _sensitivity(out: Analysis, scenario: Scenario, what: Sequence[str], component: str, reps: int | None,
                 sopts: dict[str, Any], prim_options: dict[str, Any] | None, say: Any, pending: Any,
                 t_sample: float) -> None:
    if pending is None:
        say(f"sensitivity sample (N = {sopts.get('n', _sens.DEFAULT_N)}) ...")
        t_sample = time.perf_counter()
        sample = sobol_sample(scenario, reps=reps or _sens.DEFAULT_REPS, **sopts)
    else:
        sample = pending()
    out.seconds["sample"] = time.perf_counter() - t_sample  # from its start, beside the others
    out.tables["sensitivity_factors"] = _sens.factors_table(sample.factors)
    out.tables["sensitivity_samples"] = sample.frame(scenario.name)
    out.settings["sample"] = {"n": sample.n, "points": len(sample.X), "reps": sample.reps, "seed": sample.seed,
                              "components": list(sample.components),
                              "workers": sopts.get("workers", 1), "sampler": "SALib.sample.sobol.sample, "
                              "calc_second_order=False, scramble=True"}
    if "sobol" in what:
        t0 = time.perf_counter()
        sob = sobol_indices(sample, scenario=scenario.name, components=(component,), seed=sample.seed)
        out.seconds["sobol"] = time.perf_counter() - t0
        out.tables["sobol"] = sob
        top = sob.sort_values("ST", ascending=False).head(3)
        out.lines.append(
            f"Which levers matter (Sobol, N = {sample.n}, {len(sample.X):,} points x {sample.reps} runs): "
            + ", ".join(f"{r.factor} S1 {r.S1:.2f} (±{r.S1_conf:.2f}), ST {r.ST:.2f}" for r in top.itertuples())
            if sob.S1.notna().any() else f"Which levers matter: P({component} met) does not vary over the sample; "
            "Sobol indices are undefined.")
        out.settings["sobol"] = {"resamples": _sens.DEFAULT_RESAMPLES, "conf_level": 0.95,
                                 "analyzer": "SALib.analyze.sobol.analyze"}
    if "prim" in what:
        t0 = time.perf_counter()
        popts = dict(prim_options or {})
        limits, boxes = prim_boxes(sample, scenario=scenario.name, component=component, **popts)
        out.seconds["prim"] = time.perf_counter() - t0
        out.tables.update({"prim_boxes": boxes, "prim_limits": limits})
        out.lines += ["Where the force succeeds (PRIM): " + line for line in _sens.describe_boxes(limits, boxes)]
        out.settings["prim"] = {**popts, "implementation": "ema_workbench.analysis.prim.Prim"}
