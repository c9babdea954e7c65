"""Run one scenario with either engine and get its outcome tables: the call the CLI and the app share.

The choice of engine is made here, once (:func:`iter_runs`): a batch's chunks (:mod:`sim.batch`) and a
scenario's runs (:func:`run_scenario`) both get their blocks of runs from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from sim import outcomes
from sim.arrays import RunArrays
from sim.draws import DRAW_BLOCK
from sim.ensemble import iter_blocks
from sim.params import Params, compile_params
from sim.scenario import Scenario

Engine = Literal["ensemble", "mesa"]
ENGINES: tuple[str, ...] = ("ensemble", "mesa")


def check_engine(engine: str) -> None:
    """Raise ``ValueError`` naming the engines if ``engine`` is not one of :data:`ENGINES`."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")


def iter_runs(params: Params, seed: int, start: int, stop: int, *, engine: str = "ensemble",
              collect_countries: bool = False) -> Iterator[RunArrays]:
    """Runs ``start..stop-1`` of a compiled scenario, block by block, computed by ``engine``.

    Both engines give the same runs for the same seed and run numbers; blocks are at most
    :data:`sim.draws.DRAW_BLOCK` runs, so memory stays bounded. Mesa is imported only when asked for
    (worker processes of the ensemble engine start faster without it).
    """
    check_engine(engine)
    if engine == "mesa":
        from sim.model import run_mesa

        for a in range(start, stop, DRAW_BLOCK):
            yield run_mesa(params, seed, range(a, min(a + DRAW_BLOCK, stop)), collect_countries=collect_countries)
    else:
        yield from iter_blocks(params, seed, start, stop, collect_countries=collect_countries)


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """A scenario's runs: the scenario, its compiled parameters, the run arrays (if kept) and the tables."""

    scenario: Scenario
    params: Params
    arrays: RunArrays | None
    tables: dict[str, pd.DataFrame]
    engine: str
    replications: int


def run_scenario(scenario: Scenario, *, replications: int | None = None, engine: Engine = "ensemble",
                 collect_countries: bool = False, months: bool = True, keep_runs: bool = True,
                 keep_arrays: bool = True) -> ScenarioResult:
    """Run ``replications`` runs (default: the scenario's own number) and build the outcome tables.

    Runs are computed and folded into the tables block by block, so memory is what the tables keep
    (``keep_runs``: the per-run rows; ``months``: each run's monthly totals) plus, if ``keep_arrays``,
    every run's arrays. Same scenario, seed and replications give identical tables with either engine.
    """
    check_engine(engine)
    reps = scenario.replications if replications is None else replications
    if reps < 1:
        raise ValueError("replications must be at least 1")
    params = compile_params(scenario)
    builder = outcomes.TableBuilder(params, scenario=scenario.name, seed=scenario.seed, months=months,
                                    keep_runs=keep_runs)
    kept: list[RunArrays] = []
    for block in iter_runs(params, scenario.seed, 0, reps, engine=engine, collect_countries=collect_countries):
        builder.add(block)
        if keep_arrays or collect_countries:
            kept.append(block)
    arrays = RunArrays.concat(kept) if kept else None
    tables = builder.tables()
    if collect_countries:
        tables["country_month"] = outcomes.country_month(arrays, params, scenario=scenario.name)
    return ScenarioResult(scenario, params, arrays if keep_arrays else None, tables, engine, reps)
