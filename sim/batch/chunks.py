"""A chunk of a batch, the unit of work: computed anywhere and folded into partial tables where it runs.

A :class:`Chunk` is self-contained and picklable: :func:`run_chunk` computes its runs with its engine (the
choice made once, :func:`sim.runner.iter_runs`) in whatever process or machine it lands on, and folds them
there into partial tables (a :class:`sim.outcomes.TableBuilder`: counters and exact histograms, a few
kilobytes), which is what travels back in a :class:`ChunkResult`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.outcomes import TableBuilder
from sim.params import Params
from sim.runner import iter_runs


@dataclass(frozen=True, eq=False)
class Chunk:
    """Runs ``start .. stop-1`` of one sweep point: a self-contained unit of work (picklable).

    Everything a worker needs travels with it (the compiled parameters, the seed, the engine), so a chunk
    can be computed in another process or on another machine.
    """

    index: int
    point: int
    start: int
    stop: int
    seed: int
    engine: str
    params: Params
    name: str = ""
    months: bool = True
    per_run: bool = True

    @property
    def runs(self) -> int:
        """Number of runs in the chunk."""
        return self.stop - self.start


@dataclass(frozen=True, eq=False)
class ChunkResult:
    """A chunk's runs folded into partial tables (merged by the client into its point's), with its coordinates."""

    index: int
    point: int
    start: int
    stop: int
    tables: TableBuilder


def run_chunk(chunk: Chunk) -> ChunkResult:
    """Compute a chunk's runs with its engine and fold them into partial tables, where it runs.

    Module-level, so any executor can ship it to a worker; what travels back is counters, not the runs' arrays.
    """
    tables = TableBuilder(chunk.params, scenario=chunk.name, seed=chunk.seed, months=chunk.months,
                          keep_runs=chunk.per_run)
    for block in iter_runs(chunk.params, chunk.seed, chunk.start, chunk.stop, engine=chunk.engine):
        tables.add(block)
    return ChunkResult(chunk.index, chunk.point, chunk.start, chunk.stop, tables)
