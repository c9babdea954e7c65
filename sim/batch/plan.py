"""Planning a batch: scenario files loaded together, expanded into sweep points, cut into chunks.

A batch is planned once (:func:`plan_batch`): every scenario file is expanded into its sweep points
(:meth:`sim.scenario.Scenario.expand`), each point is compiled to :class:`sim.params.Params`, and its runs
``0 .. reps-1`` are cut into :class:`sim.batch.chunks.Chunk` s of a fixed size (``chunk_size`` runs, the
same whatever the number of workers, so the tables never depend on it). The run limits are checked here,
before anything runs.

Seeds: every sweep point of a scenario uses the scenario's ``seed``, and replication ``i`` is run ``i``,
whose draws come from the generator of its block of :data:`sim.draws.DRAW_BLOCK` runs,
``numpy.random.SeedSequence(seed, spawn_key=(i // DRAW_BLOCK,))`` (:mod:`sim.draws`). So run ``i`` of
every sweep point sees the same random inputs (common random numbers): differences between points come
from the levers, not from sampling noise.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.baseline import load_baseline
from sim.batch.chunks import Chunk
from sim.draws import DRAW_BLOCK
from sim.params import Params, compile_params
from sim.runner import ENGINES
from sim.scenario import MAX_REPLICATIONS, Scenario, ScenarioError, country_fields, load_scenario

DEFAULT_CHUNK = 16 * DRAW_BLOCK
"""Most runs per chunk with the ensemble engine (16,384: about 80 ms on one core), whatever the workers.

Large enough that what a chunk costs besides its runs (handing it to a worker, its partial tables back, the
merge: 2 to 3 ms in this process, ``benchmarks/bench_parallel.py --chunks``) stays a few percent of it,
since this process shares the CPUs with the workers; small enough that progress, Ctrl-C and the last
chunk of a batch (while other workers may wait) stay short."""

DEFAULT_CHUNK_MESA = DRAW_BLOCK
"""Runs per chunk with the Mesa engine (1,024, about a second: progress and Ctrl-C stay responsive)."""

MAX_RUNS_PER_SCENARIO = MAX_REPLICATIONS
"""At most this many runs (sweep points x replications) for one scenario file."""

DEFAULT_MAX_RUNS = 20_000_000
"""At most this many runs in a whole batch unless the caller raises the limit (``--max-runs``)."""

SEEDING = ("every sweep point of a scenario uses the scenario's seed; replication i is run i, drawn from "
           "numpy.random.SeedSequence(seed, spawn_key=(i // DRAW_BLOCK,)), DRAW_BLOCK = "
           f"{DRAW_BLOCK} (sim/draws.py)")
"""How a batch's runs are seeded, in the words its manifest records."""


def default_chunk_size(engine: str) -> int:
    """The chunk size used unless one is given: :data:`DEFAULT_CHUNK` or, for Mesa, :data:`DEFAULT_CHUNK_MESA`."""
    return DEFAULT_CHUNK_MESA if engine == "mesa" else DEFAULT_CHUNK


class BatchError(ValueError):
    """A batch cannot start (a bad option or output folder); nothing was run or written."""


@dataclass(frozen=True)
class Entry:
    """A scenario file of the batch: where it was read from and the validated scenario."""

    file: str
    scenario: Scenario


@dataclass(frozen=True, eq=False)
class Point:
    """One sweep point of one scenario: ``changes`` applied to the scenario gives ``scenario``.

    ``index`` is the scenario's position in the batch and ``point`` the sweep point's position in
    :meth:`Scenario.sweep_points` order (0 for a scenario without a sweep); ``reps`` runs are made.
    """

    index: int
    point: int
    name: str
    file: str
    changes: dict[str, Any]
    scenario: Scenario
    params: Params
    reps: int

    @property
    def label(self) -> str:
        """``scenario[point]``, how the point is named in messages."""
        return f"{self.name}[{self.point}]"


@dataclass(frozen=True, eq=False)
class BatchPlan:
    """Every sweep point of every scenario, in batch order, and the levers swept anywhere in the batch."""

    entries: tuple[Entry, ...]
    points: tuple[Point, ...]
    levers: tuple[str, ...]
    engine: str
    chunk_size: int
    reps_override: int | None

    @property
    def runs(self) -> int:
        """Runs in the whole batch."""
        return sum(p.reps for p in self.points)

    @property
    def chunk_count(self) -> int:
        """Chunks in the whole batch."""
        return sum(-(-pt.reps // self.chunk_size) for pt in self.points)

    def chunk_runs(self) -> list[int]:
        """The runs of every chunk of the batch, in the order :meth:`chunks` gives them (for the cost model)."""
        return [b - a for pt in self.points for a, b in split_runs(pt.reps, self.chunk_size)]

    def chunks(self, points: Iterable[Point] | None = None, *, months: bool = True,
               per_run: bool = True) -> Iterator[Chunk]:
        """The chunks of ``points`` (default: all), point by point, in run order, folding the tables asked for."""
        for pt in self.points if points is None else points:
            for a, b in split_runs(pt.reps, self.chunk_size):
                yield Chunk(pt.index, pt.point, a, b, pt.scenario.seed, self.engine, pt.params, pt.name, months,
                            per_run)


def split_runs(reps: int, chunk_size: int) -> list[tuple[int, int]]:
    """Runs ``0 .. reps-1`` cut into ``ceil(reps / chunk_size)`` chunks as even as possible: ``(start, stop)`` each.

    Even, so that a point of few chunks does not leave one worker computing a long chunk while another
    waits for a short one (20,000 runs: two chunks of 10,240 and 9,760 runs, not 16,384 and 3,616). When the
    chunk size is a multiple of :data:`sim.draws.DRAW_BLOCK`, so is every boundary: a block of draws is
    then generated by one chunk only. No chunk is longer than ``chunk_size``. The cut never changes a
    table (merging is exact), only how the work is shared.
    """
    n = -(-reps // chunk_size)
    unit = DRAW_BLOCK if chunk_size % DRAW_BLOCK == 0 else 1
    units = -(-reps // unit)
    q, r = divmod(units, n)
    bounds = [0]
    for k in range(n):
        bounds.append(min(reps, bounds[-1] + (q + (k < r)) * unit))
    return list(itertools.pairwise(bounds))


def load_batch(files: Sequence[str | Path]) -> list[Entry]:
    """Load and validate every file; all errors of all files are raised together as one ScenarioError.

    Scenario names must be unique within a batch (they identify rows in the tables).
    """
    errors: list[tuple[str, str, str]] = []
    entries: list[Entry] = []
    for f in files:
        try:
            entries.append(Entry(str(f), load_scenario(f)))
        except ScenarioError as e:
            errors.extend(e.errors)
    seen: dict[str, str] = {}
    for e in entries:
        if e.scenario.name in seen:
            errors.append((e.file, "name", f"got {e.scenario.name!r}; expected a name not already used in "
                                           f"this batch (also the name in {seen[e.scenario.name]})"))
        else:
            seen[e.scenario.name] = e.file
    if not files:
        errors.append(("<batch>", "", "no scenario files given"))
    if errors:
        raise ScenarioError(errors)
    return entries


def scenario_runs_errors(entry: Entry, reps: int | None = None,
                         limit: int = MAX_RUNS_PER_SCENARIO) -> list[tuple[str, str, str]]:
    """Errors if the file's sweep points x replications exceed ``limit`` runs (empty list if fine)."""
    s = entry.scenario
    points = len(s.sweep_points())
    r = s.replications if reps is None else reps
    if points * r > limit:
        where = "sweep" if points > 1 else "replications"
        return [(entry.file, where, f"{points} sweep point{'s' if points != 1 else ''} x {r} replications = "
                                    f"{points * r:,} runs; at most {limit:,} expected")]
    return []


def _scalar(value: Any) -> Any:
    """A lever value fit for a table cell: scalars as they are, anything else as JSON text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    elif isinstance(value, tuple):
        value = [v.model_dump(mode="json") if hasattr(v, "model_dump") else v for v in value]
    return json.dumps(value, sort_keys=True)


def lever_value(scenario: Scenario, params: Params, path: str) -> Any:
    """The resolved value of a dotted lever path in a scenario (a threshold left to the data: its range)."""
    head, _, rest = path.partition(".")
    if head == "thresholds" and rest in ("land", "air", "sea"):
        lo, hi = params.threshold_range(rest)
        return lo if lo == hi else f"drawn {lo:g}-{hi:g}"
    if head == "levers":
        return _scalar(getattr(scenario.levers, rest, None))
    if head == "countries":
        iso, _, fld = rest.partition(".")
        base = load_baseline()
        if iso not in base.iso3:
            return None
        if not fld:
            ov = scenario.countries.get(iso)
            return None if ov is None else _scalar(ov.model_dump(mode="json", exclude_none=True))
        fields = country_fields(scenario, base)[base.iso3.index(iso)]
        if fld in fields:
            return _scalar(fields[fld].value)
        ov = scenario.countries.get(iso)
        return None if ov is None else _scalar(getattr(ov, fld, None))
    return None


def plan_batch(entries: Sequence[Entry], *, reps: int | None = None, engine: str = "ensemble",
               chunk_size: int | None = None, max_runs: int = DEFAULT_MAX_RUNS) -> BatchPlan:
    """Expand every scenario into its sweep points and compile them; check the run limits at the door.

    ``reps`` overrides every scenario's ``replications``; ``chunk_size`` defaults to
    :func:`default_chunk_size` of the engine (results do not depend on it). Raises :class:`ScenarioError`
    (naming the file and field) if a file's sweep would make too many runs, :class:`BatchError` for a bad
    option.
    """
    if engine not in ENGINES:
        raise BatchError(f"unknown engine {engine!r}; expected one of {ENGINES}")
    if chunk_size is None:
        chunk_size = default_chunk_size(engine)
    if chunk_size < 1:
        raise BatchError(f"chunk size must be at least 1 run, got {chunk_size}")
    if reps is not None and not 1 <= reps <= MAX_REPLICATIONS:
        raise BatchError(f"replications must be 1..{MAX_REPLICATIONS}, got {reps}")
    errors = [err for e in entries for err in scenario_runs_errors(e, reps)]
    if errors:
        raise ScenarioError(errors)
    total = sum(len(e.scenario.sweep_points()) * (reps or e.scenario.replications) for e in entries)
    if total > max_runs:
        raise BatchError(f"the batch would make {total:,} runs; at most {max_runs:,} allowed "
                         "(raise the limit with --max-runs, or lower --reps)")
    levers: list[str] = []
    for e in entries:
        for key in sorted(e.scenario.sweep):
            if key not in levers:
                levers.append(key)
    points = []
    for i, e in enumerate(entries):
        r = e.scenario.replications if reps is None else reps
        for j, (changes, scen) in enumerate(e.scenario.expand()):
            points.append(Point(i, j, e.scenario.name, e.file, changes, scen, compile_params(scen), r))
    return BatchPlan(tuple(entries), tuple(points), tuple(levers), engine, chunk_size, reps)

