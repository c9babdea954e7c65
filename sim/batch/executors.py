"""Where chunks are computed: the executor seam, this process, and a pool of local worker processes.

An :class:`Executor` maps a function (:func:`sim.batch.chunks.run_chunk`) over the chunks and yields the
results in any order: :class:`SerialExecutor` (this process), :class:`ProcessExecutor` (a pool of worker
processes on this machine) and :class:`sim.dask_executor.DaskExecutor` (a Dask cluster) stand behind the
same seam. :func:`make_executor` chooses between the first two from a measured cost model
(:func:`predicted_seconds`): a batch too small to pay for starting a pool runs in this process.
"""

from __future__ import annotations

import heapq
import itertools
import multiprocessing
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from functools import cache, partial
from pathlib import Path
from typing import Protocol

from sim.atomic import pid_alive
from sim.batch.plan import BatchError, BatchPlan


class ExecutorLostError(RuntimeError):
    """An executor lost what computes its chunks (e.g. a cluster's scheduler): not a chunk's fault."""


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


def remove_dead_spools(folder: str | Path | None = None) -> list[Path]:
    """Delete the spool folders of batches whose process is gone (killed outright); return what was deleted."""
    removed = []
    for d in Path(folder or tempfile.gettempdir()).glob(f"{SPOOL_PREFIX}*-*"):
        pid = d.name[len(SPOOL_PREFIX):].partition("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)) and d.is_dir():
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
"""What starting a pool costs before its workers compute (measured with ``benchmarks/bench_parallel.py
--pool`` on a 2-CPU machine: a forked worker is ready in milliseconds; a spawned one imports numpy, pandas
and numba and loads the compiled engine, about 1.5 s, on each CPU)."""

SECONDS_PER_RUN = {"ensemble": 1 / 200_000, "mesa": 1 / 1_500}
"""What a run costs on one CPU, with its tables (``benchmarks/bench_parallel.py --pool``; per-run rows cost
more, which only makes a pool pay sooner)."""

SECONDS_PER_CHUNK = 0.003
"""What a chunk costs in a pool besides its runs: handing it to a worker and its partial tables back, the
merge in this process (which shares the CPUs with the workers), about 2 to 3 ms
(``benchmarks/bench_parallel.py --chunks``)."""


def makespan(costs: Iterable[float], workers: int) -> float:
    """When the last of ``workers`` finishes, each taking the next task in order as soon as it is free."""
    free = [0.0] * workers
    for c in costs:
        heapq.heapreplace(free, free[0] + c)
    return max(free)


def predicted_seconds(plan: BatchPlan, workers: int, start_method: str | None = None) -> float:
    """The cost model behind :func:`default_workers`: how long the batch computes with ``workers``.

    One worker computes in this process: the runs' cost. A pool adds its start, and each chunk's hand-over;
    its workers take the chunks in order as they become free, so a batch of few or uneven chunks is as
    slow as its busiest worker (:func:`makespan`).
    """
    per_run = SECONDS_PER_RUN.get(plan.engine, SECONDS_PER_RUN["ensemble"])
    if workers == 1:
        return plan.runs * per_run
    start = POOL_START_SECONDS[start_method or default_start_method()]
    return start + makespan((n * per_run + SECONDS_PER_CHUNK for n in plan.chunk_runs()), workers)


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
