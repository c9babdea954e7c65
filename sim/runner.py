"""Run one scenario with either engine and get its outcome tables: the call the CLI and the app share.

The choice of engine is made here, once (:func:`iter_runs`): a batch's chunks (:mod:`sim.batch`) and a
scenario's runs (:func:`run_scenario`) both get their blocks of runs from it. :class:`CommonRuns` is the
analyses' way in: many variants of one scenario on the same runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from sim import outcomes
from sim.arrays import COMPONENT_INDEX, RunArrays
from sim.ceiling import run_bounds, run_totals_bound
from sim.draws import COUNTRY_STREAMS, DRAW_BLOCK, Draws, draw
from sim.ensemble import iter_blocks, simulate
from sim.params import Params, compile_params
from sim.scenario import Scenario

COMPONENTS: tuple[str, ...] = tuple(COMPONENT_INDEX)

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


# --- many variants of one scenario on the same runs (the analyses) ---------------------------------------

@dataclass(frozen=True, eq=False)
class CommonRuns:
    """Runs ``0..reps-1`` of one seed, drawn once, for evaluating many variants of a scenario.

    Common random numbers: run ``i`` of every variant (a coalition, a set of changes, a sample point) sees
    the draws of run ``i`` of the seed, so differences between variants come from what was changed. The
    variants must have the scenario's countries and horizon. Runs are independent of each other, so any
    subset of them can be simulated alone and gives what the whole set gives for those runs.
    """

    seed: int
    draws: Draws

    @classmethod
    def of(cls, params: Params, seed: int, reps: int) -> CommonRuns:
        """Draw runs ``0..reps-1`` of ``seed`` for scenarios shaped like ``params``."""
        if reps < 1:
            raise ValueError("reps must be at least 1")
        return cls(int(seed), draw(seed, params.n_countries, params.horizon, 0, reps))

    @property
    def reps(self) -> int:
        """Number of runs."""
        return self.draws.n

    def simulate(self, params: Params, rows: np.ndarray | None = None,
                 absent: np.ndarray | None = None) -> RunArrays:
        """Simulate runs ``rows`` (default: all, in order; a run may appear more than once) of ``params``.

        ``absent``: ``[len(rows), countries]`` booleans, the countries that sit each row out: their
        willingness draw says no, exactly as ``p_participate = 0`` would make it.
        """
        rows = np.arange(self.reps) if rows is None else np.asarray(rows, dtype=np.int64)
        u = self.draws.u[rows]
        if absent is not None:
            start = COUNTRY_STREAMS.index("participate") * self.draws.n_countries
            cols = u[:, start:start + self.draws.n_countries]
            cols[np.asarray(absent, dtype=bool)] = 1.0  # u < p_participate never holds
        return simulate(params, Draws(u, self.draws.n_countries, self.draws.horizon), rows)

    def _rows(self, rows: np.ndarray | None) -> Draws:
        return self.draws if rows is None else Draws(self.draws.u[rows], self.draws.n_countries, self.draws.horizon)

    def bounds(self, params: Params, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:func:`sim.ceiling.run_bounds` of runs ``rows`` (default: all)."""
        return run_bounds(params, self._rows(rows))

    def thresholds(self, params: Params, rows: np.ndarray | None = None) -> np.ndarray:
        """Each component's threshold in runs ``rows``: ``[rows, 3]`` (air and sea may be drawn)."""
        return params.per_run(self._rows(rows)).thresholds

    def could_meet(self, params: Params, components: tuple[str, ...] = COMPONENTS,
                   rows: np.ndarray | None = None) -> np.ndarray:
        """Whether some asked component's bound reaches its threshold in runs ``rows``: ``[rows]`` booleans.

        Where not, no month of the window can reach any asked threshold (:func:`sim.ceiling.run_totals_bound`),
        so none is met: an upper bound on :meth:`met`, without simulating.
        """
        ks = [COMPONENT_INDEX[c] for c in components]
        d = self._rows(rows)
        run = params.per_run(d)
        most, leads = run_bounds(params, d, run)
        bound = run_totals_bound(params, most, leads)[:, ks]
        return (bound >= run.thresholds[:, ks]).any(axis=1)

    def met(self, params: Params, components: tuple[str, ...] = COMPONENTS,
            rows: np.ndarray | None = None) -> np.ndarray:
        """Whether each component's threshold held in runs ``rows``: ``[rows, len(components)]`` booleans.

        Only runs in which some asked component could be met (:meth:`could_meet`) are simulated: in the
        others no month of the window can reach it, so it is not met. The answer is what simulating every
        run gives.
        """
        need = np.flatnonzero(self.could_meet(params, components, rows))
        rows = np.arange(self.reps) if rows is None else np.asarray(rows, dtype=np.int64)
        out = np.zeros((rows.size, len(components)), dtype=bool)
        if need.size:
            res = self.simulate(params, rows[need])
            tests = outcomes.threshold_tests(res, params)
            out[need] = np.stack([tests[c][0] for c in components], axis=1)
        return out
