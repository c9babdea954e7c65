"""Run one scenario with either engine and get its outcome tables: the call the CLI and the app share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from sim import outcomes
from sim.arrays import RunArrays
from sim.ensemble import run_ensemble
from sim.params import Params, compile_params
from sim.scenario import Scenario

Engine = Literal["ensemble", "mesa"]
ENGINES: tuple[str, ...] = ("ensemble", "mesa")


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """A scenario's runs: the scenario, its compiled parameters, the run arrays and the outcome tables."""

    scenario: Scenario
    params: Params
    arrays: RunArrays
    tables: dict[str, pd.DataFrame]
    engine: str
    replications: int


def run_scenario(scenario: Scenario, *, replications: int | None = None, engine: Engine = "ensemble",
                 collect_countries: bool = False, months: bool = True) -> ScenarioResult:
    """Run ``replications`` runs (default: the scenario's own number) and build the outcome tables.

    Same scenario, seed and replications give identical tables with either engine.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")
    reps = scenario.replications if replications is None else replications
    if reps < 1:
        raise ValueError("replications must be at least 1")
    params = compile_params(scenario)
    if engine == "mesa":
        from sim.model import run_mesa  # Mesa only when asked for

        arrays = run_mesa(params, scenario.seed, range(reps), collect_countries=collect_countries)
    else:
        arrays = run_ensemble(params, scenario.seed, reps, collect_countries=collect_countries)
    tables = outcomes.tables(arrays, params, scenario=scenario.name, seed=scenario.seed, months=months)
    if collect_countries:
        tables["country_month"] = outcomes.country_month(arrays, params, scenario=scenario.name)
    return ScenarioResult(scenario, params, arrays, tables, engine, reps)
