"""Evaluating the points of a sensitivity design: P(met) at each, on common runs, serially or in workers.

A point is a set of factor values (:class:`sim.analysis.sensitivity.Factor`); its parameters are compiled
from the scenario with the point's edits, or composed from points already compiled
(:func:`point_params`); every point runs the same runs (:class:`sim.runner.CommonRuns`), of which only
those that could meet a threshold are simulated.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.analysis.overlay import differences, lay_over, overlaps, union
from sim.baseline import COMPONENTS
from sim.batch import process_pool
from sim.params import Params, compile_params
from sim.runner import CommonRuns
from sim.scenario import Scenario

if TYPE_CHECKING:
    from sim.analysis.sensitivity import Factor

DEFAULT_REPS = 200


def point_edits(scenario: Scenario, factors: Sequence[Factor], x: Sequence[float]) -> dict[str, Any]:
    """The scenario changes of one input point."""
    out: dict[str, Any] = {}
    for f, v in zip(factors, x, strict=True):
        out.update(f.edits(float(v), scenario))
    return out


def _factor_elements(scenario: Scenario, factors: Sequence[Factor]) -> list[dict[str, Any]] | None:
    """The compiled elements each factor sets (from compiling it alone at its low, middle and high value).

    None when two factors set a common element: their points are then compiled the ordinary way.
    """
    out = []
    for f in factors:
        at = [compile_params(scenario.with_changes(f.edits(x, scenario))) for x in
              (f.low, (f.low + f.high) / 2, f.high - 1e-9 * (f.high - f.low))]
        out.append(union(differences(at[0], at[1]), differences(at[0], at[2])))
    if any(overlaps(a, b) for a, b in itertools.combinations(out, 2)):
        return None
    return out


def point_params(scenario: Scenario, factors: Sequence[Factor], X: np.ndarray) -> Iterator[tuple[int, Params]]:
    """Each point's compiled parameters, as ``(index, params)``, in an order that saves compiling.

    A point that differs from an already compiled point in one factor only, whose value some compiled point
    has, is the first with that factor's elements laid over from the second (:mod:`sim.analysis.overlay`;
    each factor sets its own elements, as its value alone decides, checked by :func:`_factor_elements`).
    In Saltelli's design every point of a block but its two ends (rows of ``A`` and ``B``, compiled first)
    is such a point. The others are compiled: ``scenario.with_changes(point_edits(...))``.
    """
    X = np.asarray(X, dtype=float)
    k = len(factors)
    elements = _factor_elements(scenario, factors) if k > 1 else None
    ends = np.isin(np.arange(len(X)) % (k + 2), (0, k + 1))
    rest: list[dict[tuple, Params]] = [{} for _ in range(k)]  # per factor: the other values -> params
    value: list[dict[float, Params]] = [{} for _ in range(k)]  # per factor: its value -> params
    for i in np.argsort(~ends, kind="stable"):
        x = tuple(X[i])
        got = None
        if elements is not None:
            for f in range(k):
                base, src = rest[f].get(x[:f] + x[f + 1:]), value[f].get(x[f])
                if base is not None and src is not None:
                    got = lay_over(base, [(src, elements[f])])
                    break
        if got is None:
            got = compile_params(scenario.with_changes(point_edits(scenario, factors, x)))
            if elements is not None:
                for f in range(k):
                    rest[f].setdefault(x[:f] + x[f + 1:], got)
                    value[f].setdefault(x[f], got)
        yield int(i), got


def evaluate_points(scenario: Scenario, factors: Sequence[Factor], X: np.ndarray, *, reps: int = DEFAULT_REPS,
                    components: Sequence[str] = COMPONENTS) -> np.ndarray:
    """``P(threshold met)`` per point and asked component: ``[points, len(components)]``.

    Every point runs the same ``reps`` runs of the scenario's seed (common random numbers,
    :class:`sim.runner.CommonRuns`); only the runs in which some asked component could be met are
    simulated (:meth:`sim.runner.CommonRuns.met`). A point that sets every factor as an earlier point does
    (in Saltelli's design, often: a level factor whose value in ``B`` picks the level ``A`` has) makes the
    same scenario, so it gets that point's answer without running.
    """
    runs = CommonRuns.of(compile_params(scenario), scenario.seed, reps)
    out = np.empty((len(X), len(components)))
    first: dict[tuple, int] = {}  # what a point sets -> the first point that set it
    for i, p in point_params(scenario, factors, X):
        same = first.setdefault(tuple(f.level(v) if f.mode == "level" else v for f, v in zip(factors, X[i],
                                                                                           strict=True)), i)
        out[i] = out[same] if same != i else runs.met(p, tuple(components)).mean(axis=0)
    return out


def _evaluate_chunk(args: tuple[Scenario, tuple[Factor, ...], np.ndarray, int, tuple[str, ...]]) -> np.ndarray:
    scenario, factors, X, reps, components = args
    return evaluate_points(scenario, factors, X, reps=reps, components=components)


def evaluate_parallel(scenario: Scenario, factors: Sequence[Factor], X: np.ndarray, *, reps: int = DEFAULT_REPS,
                      workers: int = 1, chunk: int | None = None,
                      components: Sequence[str] = COMPONENTS) -> np.ndarray:
    """:func:`evaluate_points` over ``workers`` processes (identical results whatever ``workers``).

    ``chunk``: points per task (default: the points shared evenly, in whole blocks of Saltelli's design).
    """
    return evaluate_later(scenario, factors, X, reps=reps, workers=workers, chunk=chunk, components=components)()


class Later:
    """A result being computed: call it to wait for it; :meth:`cancel` drops what has not started."""

    def __init__(self, finish: Callable[[], Any], cancel: Callable[[], None] = lambda: None):
        self._finish, self.cancel = finish, cancel

    def __call__(self) -> Any:
        """Wait for the result and return it."""
        return self._finish()


def evaluate_later(scenario: Scenario, factors: Sequence[Factor], X: np.ndarray, *, reps: int = DEFAULT_REPS,
                   workers: int = 1, chunk: int | None = None, components: Sequence[str] = COMPONENTS) -> Later:
    """:func:`evaluate_parallel`, started: with ``workers`` > 1 the points go to worker processes now.

    This process is free until the result is asked for (serially, the points are computed then). The pool
    is started from this thread, so it can fork (:func:`sim.batch.default_start_method`).
    """
    X = np.asarray(X, dtype=float)
    block = len(factors) + 2
    chunk = chunk or block * max(1, -(-len(X) // (block * max(1, workers))))
    if workers <= 1 or len(X) <= chunk:
        return Later(lambda: evaluate_points(scenario, factors, X, reps=reps, components=components))
    parts = [(scenario, tuple(factors), X[a:a + chunk], reps, tuple(components)) for a in range(0, len(X), chunk)]
    ex = process_pool(workers)
    futures = [ex.submit(_evaluate_chunk, part) for part in parts]

    def finish() -> np.ndarray:
        try:
            return np.concatenate([f.result() for f in futures])
        finally:
            ex.shutdown()

    return Later(finish, lambda: ex.shutdown(cancel_futures=True))
