"""Running a planned batch: chunks through an executor, merged into each point's tables, checkpoints on the way.

:func:`run_batch` hands the plan's chunks to an executor (:mod:`sim.batch.executors`, or
:class:`sim.dask_executor.DaskExecutor`), which yields their results in any order. Each result is merged
into the :class:`sim.outcomes.TableBuilder` of its point as it arrives and dropped, so memory is what the
tables keep (the per-run rows if asked for; otherwise histograms bounded by the largest force total,
whatever the number of runs); merging is exact and order-independent, so serial, parallel, distributed and
resumed batches give byte-identical files.

Interruption: the results folder is written only once every chunk is done (by the caller, with
:func:`sim.export.write_results`). Completed points are checkpointed (:mod:`sim.batch.checkpoints`) when the
batch is interrupted — Ctrl-C, SIGTERM (:func:`stop_on_sigterm`), a dead worker, a failing chunk — and
raised as :class:`BatchInterruptedError`, which says what was done and how to go on.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from pathlib import Path

from sim.batch.checkpoints import Checkpoints
from sim.batch.chunks import run_chunk
from sim.batch.executors import Executor, ExecutorLostError, SerialExecutor, keep_freed_memory
from sim.batch.plan import BatchError, BatchPlan
from sim.batch.results import BatchResult, Tables, assemble


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
    done: dict[tuple[int, int], Tables] = {}
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
