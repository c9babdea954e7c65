"""Batch runs: scenario files x sweep points x replications, cut into chunks, run serially or in parallel.

A batch is planned once (:func:`plan_batch`): every scenario file is expanded into its sweep points
(:meth:`sim.scenario.Scenario.expand`), each point is compiled to :class:`sim.params.Params`, and its runs
``0 .. reps-1`` are cut into :class:`Chunk` s of a fixed size (``chunk_size`` runs, the same whatever the
number of workers). A chunk is self-contained and picklable: :func:`run_chunk` computes it anywhere and
folds its runs into partial tables there (a :class:`sim.outcomes.TableBuilder`: counters and exact
histograms, a few kilobytes), which is what travels back.

An :class:`Executor` maps :func:`run_chunk` over the chunks and yields results in any order
(:class:`SerialExecutor`, :class:`ProcessExecutor`, and :class:`sim.dask_executor.DaskExecutor` on a Dask
cluster, behind the same seam). The parent merges each result into the :class:`sim.outcomes.TableBuilder` of
its point as it arrives and drops it, so memory is what the tables keep (the per-run rows if asked for;
otherwise histograms bounded by the largest force total, whatever the number of runs); merging is exact and
order-independent, so serial, parallel, distributed and resumed batches give byte-identical files.

Seeds: every sweep point of a scenario uses the scenario's ``seed``, and replication ``i`` is run ``i``,
whose draws come from the generator of its block of :data:`sim.draws.DRAW_BLOCK` runs,
``numpy.random.SeedSequence(seed, spawn_key=(i // DRAW_BLOCK,))`` (:mod:`sim.draws`). So run ``i`` of
every sweep point sees the same random inputs (common random numbers): differences between points come
from the levers, not from sampling noise.

Interruption: the results folder is written only once every chunk is done (:func:`sim.export.write_results`,
atomically). The sweep points whose runs are all done are checkpointed (Parquet, written atomically) in a
``.partial-NAME`` folder beside the output when the batch is interrupted, and as they complete once it has
run for :data:`CHECKPOINT_AFTER_SECONDS`; a rerun with the same inputs (same resolved scenario,
replications, engine, tables asked for, code and package versions) reuses those points and computes the
rest, with identical results. The checkpoints are deleted once the results folder is in place.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from sim import export
from sim.baseline import load_baseline
from sim.draws import DRAW_BLOCK
from sim.ensemble import iter_blocks
from sim.outcomes import TableBuilder
from sim.params import Params, compile_params
from sim.runner import ENGINES
from sim.scenario import MAX_REPLICATIONS, Scenario, ScenarioError, country_fields, load_scenario

DEFAULT_CHUNK = 4 * DRAW_BLOCK
"""Runs per chunk with the ensemble engine (4,096, under a second): a fixed unit of work, whatever the workers."""

DEFAULT_CHUNK_MESA = DRAW_BLOCK
"""Runs per chunk with the Mesa engine (1,024, about a second: progress and Ctrl-C stay responsive)."""

MAX_RUNS_PER_SCENARIO = MAX_REPLICATIONS
"""At most this many runs (sweep points x replications) for one scenario file."""

DEFAULT_MAX_RUNS = 20_000_000
"""At most this many runs in a whole batch unless the caller raises the limit (``--max-runs``)."""

EXCEL_MAX_ROWS = 1_048_575
"""Rows of data an Excel sheet holds (1,048,576 rows less the header)."""

TABLES = ("points", "summary", "per_run", "per_country", "drivers", "per_month")
CHECKPOINT_VERSION = 1


def default_chunk_size(engine: str) -> int:
    """The chunk size used unless one is given: :data:`DEFAULT_CHUNK` or, for Mesa, :data:`DEFAULT_CHUNK_MESA`."""
    return DEFAULT_CHUNK_MESA if engine == "mesa" else DEFAULT_CHUNK


class StopRequestedError(KeyboardInterrupt):
    """A termination signal (SIGTERM) turned into an interruption, so that a batch stops cleanly."""


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`StopRequestedError` (main thread only; restored after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise StopRequestedError("stopped by a termination signal (SIGTERM)")

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


class BatchError(ValueError):
    """A batch cannot start (a bad option or output folder); nothing was run or written."""


class ExecutorLostError(RuntimeError):
    """An executor lost what computes its chunks (e.g. a cluster's scheduler): not a chunk's fault."""


class BatchInterruptedError(RuntimeError):
    """A batch stopped before it finished (Ctrl-C, a killed worker, a failing chunk); no results were written.

    ``completed`` and ``pending`` name the sweep points (``scenario[point]``) done and not done;
    ``checkpoint`` is the folder holding the completed points for a rerun (None if checkpoints are off);
    ``exit_code`` is 130 for Ctrl-C, 143 for SIGTERM, 1 otherwise.
    """

    def __init__(self, cause: str, *, completed: list[str], pending: list[str], checkpoint: Path | None,
                 exit_code: int):
        self.cause, self.completed, self.pending = cause, completed, pending
        self.checkpoint, self.exit_code = checkpoint, exit_code
        super().__init__(cause)

    def report(self) -> str:
        """What stopped, what was done and how to go on, for the terminal."""
        lines = [f"batch interrupted: {self.cause}",
                 "No results folder was written (an existing one is unchanged).",
                 f"Sweep points completed: {len(self.completed)} of {len(self.completed) + len(self.pending)}"]
        if self.completed:
            lines.append("  done:     " + ", ".join(self.completed))
        if self.pending:
            lines.append("  not done: " + ", ".join(self.pending))
        if self.checkpoint is not None and self.completed:
            lines.append(f"Completed points are kept in {self.checkpoint}/: rerun the same command to resume "
                         "(they are reused only if scenarios, replications, engine and code are unchanged), "
                         "or add --fresh to redo everything.")
        else:
            lines.append("Rerun the same command to redo the batch.")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------
# Loading and planning
# --------------------------------------------------------------------------------------------------------

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

    def chunks(self, points: Iterable[Point] | None = None, *, months: bool = True,
               per_run: bool = True) -> Iterator[Chunk]:
        """The chunks of ``points`` (default: all), point by point, in run order, folding the tables asked for."""
        for pt in self.points if points is None else points:
            for a in range(0, pt.reps, self.chunk_size):
                yield Chunk(pt.index, pt.point, a, min(pt.reps, a + self.chunk_size), pt.scenario.seed,
                            self.engine, pt.params, pt.name, months, per_run)


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


# --------------------------------------------------------------------------------------------------------
# Computing chunks, and the executor seam
# --------------------------------------------------------------------------------------------------------

def run_chunk(chunk: Chunk) -> ChunkResult:
    """Compute a chunk's runs with its engine and fold them into partial tables, where it runs.

    Module-level, so any executor can ship it to a worker; what travels back is counters, not the runs' arrays.
    """
    tables = TableBuilder(chunk.params, scenario=chunk.name, seed=chunk.seed, months=chunk.months,
                          keep_runs=chunk.per_run)
    if chunk.engine == "mesa":
        from sim.model import run_mesa  # Mesa only when asked for: ensemble workers start faster

        tables.add(run_mesa(chunk.params, chunk.seed, range(chunk.start, chunk.stop)))
    else:
        for block in iter_blocks(chunk.params, chunk.seed, chunk.start, chunk.stop):
            tables.add(block)
    return ChunkResult(chunk.index, chunk.point, chunk.start, chunk.stop, tables)


class Executor(Protocol):
    """Where chunks are computed: ``map_unordered(fn, items)`` yields ``fn(item)`` for every item, in any order.

    It must raise (not swallow) a failing item's exception, and stop its workers when the iterator is
    closed early; it may raise :class:`BatchError` if it cannot start (nothing computed) and
    :class:`ExecutorLostError` if it loses what computes the items. ``workers`` is informational (recorded
    in the manifest).
    """

    workers: int

    def map_unordered[T, R](self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(item)`` for each item as results become available."""
        ...


class SerialExecutor:
    """Computes items one after another in this process."""

    workers = 1

    def map_unordered[T, R](self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(item)`` for each item, in order."""
        for item in items:
            yield fn(item)


@cache
def keep_freed_memory() -> bool:
    """Let this process's allocator (glibc) reuse freed memory instead of returning it to the system at once.

    The engine allocates a block's arrays afresh (about 10 MB per 1,024 runs). With glibc's defaults, or
    Dask's nanny's ``MALLOC_TRIM_THRESHOLD_=65536`` (which also stops glibc from raising its mmap threshold),
    each is a fresh ``mmap`` that is page-faulted in and unmapped again: five times the page faults and
    twice the system time of a batch (``benchmarks/bench_parallel.py``), and chunks about twice as slow on a
    Dask worker. Setting both thresholds (32 MiB to map directly, 128 MiB to trim) restores the reuse,
    whatever the environment. Linux with glibc only; True if applied. Called once per process that computes.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
        return bool(libc.mallopt(m_mmap_threshold, 32 << 20)) and bool(libc.mallopt(m_trim_threshold, 128 << 20))
    except (OSError, AttributeError):  # another C library (musl): its defaults stand
        return False


SPOOL_PREFIX = "reassurance-spool-"
"""Temporary folders of :class:`ProcessExecutor` results: ``reassurance-spool-PID-XXXXXXXX`` in the temp folder."""

_PR_SET_PDEATHSIG = 1  # from linux/prctl.h


def _worker_init(parent: int) -> None:
    """Set up a worker process: die with the parent, leave Ctrl-C to it."""
    # Ctrl-C goes to the whole process group: the parent handles it and stops the workers, which must not
    # each print a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits the parent's SIGTERM handler (stop_on_sigterm), which turns the signal into an
    # exception; the pool stops its workers with SIGTERM when one of them dies, and a worker waiting for work
    # then hung instead of ending (seen in tests/test_batch.py's killed-worker test): SIGTERM ends a worker.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # A parent killed outright (SIGKILL, out of memory) cannot stop its workers: Linux does it for us.
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above: nothing to work for
        os._exit(1)
    keep_freed_memory()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_dead_spools(folder: str | Path | None = None) -> list[Path]:
    """Delete the spool folders of batches whose process is gone (killed outright); return what was deleted."""
    removed = []
    for d in Path(folder or tempfile.gettempdir()).glob(f"{SPOOL_PREFIX}*-*"):
        pid = d.name[len(SPOOL_PREFIX):].partition("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)) and d.is_dir():
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


def default_start_method() -> str:
    """``fork`` where it is safe and fast (Linux, no other Python thread in this process), else ``spawn``.

    A forked worker starts in milliseconds with everything this process imported and compiled; a spawned one
    is a fresh interpreter that imports numpy, pandas and numba and loads the compiled engine (about 1.5 s,
    ``benchmarks/bench_parallel.py --pool``). Forking a process whose other threads may hold a lock the child
    needs can deadlock the child, so a process running Python threads (the app, a progress monitor) spawns.
    The threads that numpy's BLAS and pyarrow's allocator start on import are idle and fork-safe (both
    libraries re-arm after a fork), so they do not count.
    """
    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return "spawn"
    return "fork" if threading.active_count() == 1 else "spawn"


class _Pool(ProcessPoolExecutor):
    def submit(self, fn, /, *args, **kwargs):
        with warnings.catch_warnings():  # fork only with library threads beside this one: see default_start_method
            warnings.filterwarnings("ignore", r"This process .* is multi-threaded", DeprecationWarning)
            return super().submit(fn, *args, **kwargs)  # (a submit may start the workers)


def process_pool(workers: int, start_method: str | None = None) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes started the fastest safe way (:func:`default_start_method`).

    Its workers leave Ctrl-C to this process and die with it, even when it is killed outright.
    """
    return _Pool(max_workers=workers, mp_context=multiprocessing.get_context(start_method or default_start_method()),
                 initializer=_worker_init, initargs=(os.getpid(),))


class ProcessExecutor:
    """Computes items in a pool of worker processes (``concurrent.futures``), at most a few ahead.

    A worker writes each result to a file in a private spool folder and sends back only its name, which
    the parent reads and deletes. So a worker killed at any moment (SIGKILL, out of memory) cannot leave a
    half-sent result in the pool's pipe, which would hang the parent; the pool reports a dead worker as
    ``BrokenProcessPool`` instead. Results are a chunk's partial tables (a few kilobytes without per-run
    rows), so the spool costs next to nothing. Workers die with the parent even when it is killed outright
    (Linux), and a spool folder left by a killed batch is deleted by the next one.

    Args:
        workers: number of processes (at least 1).
        start_method: ``fork``, ``spawn`` or ``forkserver``; default :func:`default_start_method`. It is set
            on this pool only, never process-wide.
        ahead: items submitted per worker ahead of the results consumed (bounds memory).
    """

    def __init__(self, workers: int, *, start_method: str | None = None, ahead: int = 2):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers, self.start_method, self.ahead = workers, start_method, ahead

    def map_unordered[T, R](self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(item)`` for each item as workers finish; a crashed worker raises BrokenProcessPool."""
        it = iter(items)
        first = list(itertools.islice(it, self.workers * self.ahead))
        if not first:
            return
        remove_dead_spools()
        spool = Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-"))
        task = partial(_spooled, fn, str(spool))
        pool = process_pool(min(self.workers, len(first)), self.start_method)
        try:
            pending: set[Future] = {pool.submit(task, x) for x in first}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    path = Path(fut.result())  # re-raises a chunk's exception or BrokenProcessPool
                    with open(path, "rb") as f:
                        result = pickle.load(f)
                    path.unlink()
                    nxt = next(it, _END)
                    if nxt is not _END:
                        pending.add(pool.submit(task, nxt))
                    yield result
        finally:
            # On an interruption, queued items are cancelled and the chunks being computed are let finish
            # (a chunk takes about a second), so every worker leaves at a clean point.
            pool.shutdown(wait=True, cancel_futures=True)
            shutil.rmtree(spool, ignore_errors=True)


def _spooled[T, R](fn: Callable[[T], R], spool: str, item: T) -> str:
    """Run ``fn(item)`` in a worker and write the result to a new file in ``spool``; return its path."""
    result = fn(item)
    fd, path = tempfile.mkstemp(suffix=".pickle", dir=spool)
    with os.fdopen(fd, "wb") as f:
        pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)  # a private hand-over, never kept
    return path


_END = object()


POOL_START_SECONDS = {"fork": 0.05, "spawn": 1.5, "forkserver": 1.5}
"""What starting a pool costs before its workers compute (measured with ``benchmarks/bench_parallel.py`` on a
2-CPU machine: a forked worker is ready in milliseconds; a spawned one imports numpy, pandas and numba and
loads the compiled engine, about 1.5 s, on each CPU)."""

SECONDS_PER_RUN = {"ensemble": 1 / 200_000, "mesa": 1 / 1_500}
"""What a run costs on one CPU, with its tables (``benchmarks/bench_parallel.py``; per-run rows cost more,
which only makes a pool pay sooner)."""


def predicted_seconds(plan: BatchPlan, workers: int, start_method: str | None = None) -> float:
    """The cost model behind :func:`default_workers`: pool start plus the runs shared among ``workers``.

    The work is cut into chunks, so ``workers`` share whole chunks: the slowest worker computes
    ``ceil(chunks / workers)`` of them.
    """
    per_run = SECONDS_PER_RUN.get(plan.engine, SECONDS_PER_RUN["ensemble"])
    if workers == 1:
        return plan.runs * per_run
    chunks = plan.chunk_count
    start = POOL_START_SECONDS[start_method or default_start_method()]
    return start + plan.runs * per_run * (-(-chunks // workers)) / chunks


def default_workers(plan: BatchPlan | None = None) -> int:
    """As many worker processes as pay for themselves: all CPUs at most, no more than the batch has chunks.

    The count is the one of least :func:`predicted_seconds` (in this process, no pool, if none is faster), so a
    batch too small to pay for a pool runs in this process.
    """
    n = os.cpu_count() or 1
    if plan is None:
        return max(1, n)
    return min(range(1, max(1, min(n, plan.chunk_count)) + 1), key=lambda w: predicted_seconds(plan, w))

def make_executor(workers: int | None, plan: BatchPlan | None = None) -> Executor:
    """A serial executor for one worker, else a process pool of ``workers`` (default: :func:`default_workers`).

    An explicit number is honoured, but never more processes than the plan has chunks.
    """
    if workers is None:
        n = default_workers(plan)
    else:
        if workers < 1:
            raise BatchError(f"workers must be at least 1, got {workers}")
        n = workers if plan is None else min(workers, max(1, plan.chunk_count))
    return SerialExecutor() if n == 1 else ProcessExecutor(n)


# --------------------------------------------------------------------------------------------------------
# Checkpoints: completed sweep points, so an interrupted batch can resume
# --------------------------------------------------------------------------------------------------------

@cache
def code_fingerprint() -> str:
    """SHA-256 over the package's code and data files: any change to either invalidates checkpoints."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted([*root.rglob("*.py"), *(root / "data").glob("*")]):
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def checkpoint_dir(out_dir: Path) -> Path:
    """The folder of a batch's checkpoints: ``.partial-NAME`` beside the results folder ``NAME``."""
    out_dir = Path(out_dir)
    return out_dir.parent / f".partial-{out_dir.name}"


class Checkpoints:
    """Completed sweep points' tables on disk (Parquet), keyed by everything their tables depend on."""

    def __init__(self, folder: Path, *, engine: str, months: bool, per_run: bool):
        self.folder = Path(folder)
        versions = export.package_versions()
        self.common = {"version": CHECKPOINT_VERSION, "code": code_fingerprint(), "engine": engine,
                       "months": months, "per_run": per_run,
                       "packages": {k: versions[k] for k in ("python", "numpy", "pandas", "pyarrow")}}

    def key(self, pt: Point) -> str:
        """The checkpoint name of a point: a hash of the resolved scenario, replications and the above."""
        ident = dict(self.common, scenario=pt.scenario.content_hash(), reps=pt.reps)
        return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:32]

    def load(self, pt: Point) -> dict[str, pd.DataFrame] | None:
        """The point's tables if a complete checkpoint of it exists, else None."""
        d = self.folder / self.key(pt)
        try:
            meta = json.loads((d / "point.json").read_text())
            return {name: pd.read_parquet(d / f"{name}.parquet", engine="pyarrow") for name in meta["tables"]}
        except (OSError, ValueError, KeyError):
            return None

    def save(self, pt: Point, tables: dict[str, pd.DataFrame]) -> None:
        """Write the point's tables into a temporary folder and rename it into place."""
        self.folder.mkdir(parents=True, exist_ok=True)
        final = export.safe_child(self.folder, self.key(pt))
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.folder))
        try:
            for name, df in tables.items():
                df.to_parquet(tmp / f"{name}.parquet", index=False, engine="pyarrow")
            (tmp / "point.json").write_text(json.dumps({"point": pt.label, "tables": list(tables)}) + "\n")
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def clear(self) -> None:
        """Delete every checkpoint."""
        shutil.rmtree(self.folder, ignore_errors=True)


# --------------------------------------------------------------------------------------------------------
# Running a batch
# --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class BatchResult:
    """The batch's tables (concatenated over scenarios and sweep points) and what the manifest records."""

    plan: BatchPlan
    tables: dict[str, pd.DataFrame]
    point_tables: dict[tuple[int, int], dict[str, pd.DataFrame]] = field(repr=False)
    reused: tuple[str, ...]
    workers: int


def _progress_bar(total: int, enabled: bool):
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: this process stays single-threaded, so a pool can fork
    return tqdm(total=total, unit="run", unit_scale=True, desc="batch", file=sys.stderr, dynamic_ncols=True,
                disable=not (enabled and sys.stderr.isatty()), leave=False)


CHECKPOINT_AFTER_SECONDS = 10.0
"""A batch running longer than this checkpoints each sweep point as it completes; a shorter one only when
it is interrupted (saving costs about as much as computing a small point)."""


def run_batch(plan: BatchPlan, *, executor: Executor | None = None, months: bool = True, per_run: bool = True,
              checkpoints: Checkpoints | None = None, checkpoint_after: float = CHECKPOINT_AFTER_SECONDS,
              progress: bool = False) -> BatchResult:
    """Run every chunk of the plan and build the tables; raises :class:`BatchInterruptedError` if stopped.

    Points already in ``checkpoints`` are reused. Completed points are checkpointed when the batch is
    interrupted (Ctrl-C, SIGTERM, a dead worker, a failing chunk) and, once the batch has run for
    ``checkpoint_after`` seconds, as soon as each completes (so even a killed parent leaves them).
    """
    executor = executor or SerialExecutor()
    keep_freed_memory()
    done: dict[tuple[int, int], dict[str, pd.DataFrame]] = {}
    reused = []
    if checkpoints is not None:
        for pt in plan.points:
            tables = checkpoints.load(pt)
            if tables is not None:
                done[(pt.index, pt.point)] = tables
                reused.append(pt.label)
    saved = set(done)
    every = {(pt.index, pt.point): pt for pt in plan.points}
    todo = [pt for pt in plan.points if (pt.index, pt.point) not in done]
    remaining = {(pt.index, pt.point): -(-pt.reps // plan.chunk_size) for pt in todo}
    builders = {}  # created when a point's first chunk arrives, dropped when its last one is folded in
    started = time.monotonic()

    def save_done() -> None:
        if checkpoints is not None:
            for key in [k for k in done if k not in saved]:
                checkpoints.save(every[key], done[key])
                saved.add(key)

    def interrupted(cause: str, code: int) -> BatchInterruptedError:
        try:
            save_done()
        except (Exception, KeyboardInterrupt):  # a second Ctrl-C, a full disk: keep what was saved
            pass
        return BatchInterruptedError(
            cause, completed=[pt.label for pt in plan.points if (pt.index, pt.point) in saved],
            pending=[pt.label for pt in plan.points if (pt.index, pt.point) not in saved],
            checkpoint=checkpoints.folder if checkpoints is not None else None, exit_code=code)

    bar = _progress_bar(sum(pt.reps for pt in todo), progress)
    try:
        chunks = plan.chunks(todo, months=months, per_run=per_run)
        with closing(iter(executor.map_unordered(run_chunk, chunks))) as results:
            for res in results:
                key = (res.index, res.point)
                pt = every[key]
                if key in builders:
                    builders[key].merge(res.tables)
                else:  # the point's first result becomes its tables (a worker's comes without the parameters)
                    builders[key] = res.tables
                    res.tables.p = pt.params
                remaining[key] -= 1
                bar.update(res.stop - res.start)
                if remaining[key] == 0:
                    done[key] = builders.pop(key).tables()
                    if time.monotonic() - started >= checkpoint_after:
                        save_done()
    except StopRequestedError as e:
        raise interrupted(str(e), 128 + signal.SIGTERM) from None
    except KeyboardInterrupt:
        raise interrupted("interrupted by the user (Ctrl-C)", 130) from None
    except BrokenProcessPool as e:
        raise interrupted(f"a worker process died ({e})", 1) from e
    except BatchError:  # the executor could not start (e.g. an unreachable cluster): nothing was computed
        raise
    except ExecutorLostError as e:
        raise interrupted(str(e), 1) from e
    except Exception as e:  # a chunk failed: report what was done, keep what is checkpointed
        raise interrupted(f"a chunk failed: {type(e).__name__}: {e}", 1) from e
    finally:
        bar.close()
    return BatchResult(plan, assemble(plan, done), done, tuple(reused), executor.workers)


def assemble(plan: BatchPlan, done: dict[tuple[int, int], dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Concatenate the points' tables in batch order, with ``point`` and one column per swept lever.

    Also builds ``points``: one row per scenario x sweep point with its resolved levers and scenario hash.
    """
    rows = []
    parts: dict[str, list[pd.DataFrame]] = {}
    for pt in plan.points:
        levers = {k: lever_value(pt.scenario, pt.params, k) for k in plan.levers}
        rows.append({"scenario": pt.name, "point": pt.point, **levers, "seed": pt.scenario.seed, "runs": pt.reps,
                     "scenario_hash": pt.scenario.content_hash(), "file": pt.file,
                     "changes": json.dumps(pt.changes, sort_keys=True)})
        for name, df in done[(pt.index, pt.point)].items():
            df = df.copy()
            df.insert(1, "point", pt.point)
            for j, (k, v) in enumerate(levers.items()):
                df.insert(2 + j, k, v)
            parts.setdefault(name, []).append(df)
    out = {"points": pd.DataFrame(rows)}
    for name in TABLES[1:]:
        if name in parts:
            out[name] = pd.concat(parts[name], ignore_index=True)
    return out


def batch_manifest(result: BatchResult, *, started: str, finished: str, command: str | None = None,
                   options: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the manifest records about a batch (``write_results`` adds files, packages, code revision)."""
    plan = result.plan
    scenarios = []
    for i, e in enumerate(plan.entries):
        pts = [pt for pt in plan.points if pt.index == i]
        scenarios.append({
            "name": e.scenario.name, "file": e.file, "hash": e.scenario.content_hash(), "seed": e.scenario.seed,
            "replications": pts[0].reps, "resolved": e.scenario.to_toml_dict(),
            "sweep_points": [{"point": pt.point, "changes": pt.changes, "hash": pt.scenario.content_hash()}
                             for pt in pts],
        })
    return {
        "kind": "batch", "command": command, "options": options or {}, "scenarios": scenarios,
        "seeds": {e.scenario.name: e.scenario.seed for e in plan.entries},
        "seeding": ("every sweep point of a scenario uses the scenario's seed; replication i is run i, drawn "
                    "from numpy.random.SeedSequence(seed, spawn_key=(i // DRAW_BLOCK,)), DRAW_BLOCK = "
                    f"{DRAW_BLOCK} (sim/draws.py)"),
        "replications_override": plan.reps_override, "engine": plan.engine, "chunk_size": plan.chunk_size,
        "workers": result.workers, "points": len(plan.points), "runs": plan.runs,
        "swept_levers": list(plan.levers), "tables": list(result.tables), "reused_points": list(result.reused),
        "started": started, "finished": finished,
    }


def excel_errors(plan: BatchPlan, *, per_run: bool, months: bool) -> list[str]:
    """Tables too long for an Excel sheet (checked before running, when XLSX is asked for)."""
    rows = {"per_run": plan.runs if per_run else 0,
            "per_month": sum(3 * pt.params.horizon for pt in plan.points) if months else 0,
            "per_country": sum(pt.params.n_countries for pt in plan.points)}
    return [f"{name} would have {n:,} rows; an Excel sheet holds {EXCEL_MAX_ROWS:,}"
            for name, n in rows.items() if n > EXCEL_MAX_ROWS]
