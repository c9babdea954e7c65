"""Batch runs: scenario files x sweep points x replications, cut into chunks, run here, in a pool or on a cluster.

The rooms, in the order a batch goes through them:

- :mod:`sim.batch.plan` — loading the files together and planning the batch: sweep points, run limits,
  chunks of a fixed size (:func:`plan_batch`);
- :mod:`sim.batch.chunks` — a chunk, the unit of work, computed anywhere and folded into partial tables
  where it runs (:func:`run_chunk`);
- :mod:`sim.batch.executors` — where chunks are computed: this process, a pool of local worker processes,
  and the cost model that chooses between them (:func:`make_executor`); a Dask cluster stands behind the
  same seam in :mod:`sim.dask_executor`;
- :mod:`sim.batch.run` — running a plan: merging results into each point's tables, interruption
  (:func:`run_batch`);
- :mod:`sim.batch.checkpoints` — completed points kept on disk so that an interrupted batch resumes;
- :mod:`sim.batch.results` — the points' tables assembled into the batch's, and its manifest.

Writing the results folder is :func:`sim.export.write_results`, atomically (:mod:`sim.atomic`). The public
names of every room are importable from ``sim.batch``.
"""

from sim.batch.checkpoints import CHECKPOINT_VERSION, Checkpoints, checkpoint_dir, code_fingerprint
from sim.batch.chunks import Chunk, ChunkResult, run_chunk
from sim.batch.executors import (
    POOL_START_SECONDS,
    SECONDS_PER_CHUNK,
    SECONDS_PER_RUN,
    SPOOL_PREFIX,
    Executor,
    ExecutorLostError,
    ProcessExecutor,
    SerialExecutor,
    default_start_method,
    default_workers,
    keep_freed_memory,
    make_executor,
    makespan,
    predicted_seconds,
    process_pool,
    remove_dead_spools,
)
from sim.batch.plan import (
    DEFAULT_CHUNK,
    DEFAULT_CHUNK_MESA,
    DEFAULT_MAX_RUNS,
    MAX_RUNS_PER_SCENARIO,
    SEEDING,
    BatchError,
    BatchPlan,
    Entry,
    Point,
    default_chunk_size,
    lever_value,
    load_batch,
    plan_batch,
    scenario_runs_errors,
    split_runs,
)
from sim.batch.results import (
    EXCEL_MAX_ROWS,
    POINTS_TABLE,
    BatchResult,
    assemble,
    batch_manifest,
    excel_errors,
    table_names,
)
from sim.batch.run import (
    CHECKPOINT_AFTER_SECONDS,
    BatchInterruptedError,
    StopRequestedError,
    run_batch,
    stop_on_sigterm,
)
from sim.draws import DRAW_BLOCK
from sim.runner import ENGINES

__all__ = [
    "CHECKPOINT_AFTER_SECONDS", "CHECKPOINT_VERSION", "DEFAULT_CHUNK", "DEFAULT_CHUNK_MESA", "DEFAULT_MAX_RUNS",
    "DRAW_BLOCK", "ENGINES", "EXCEL_MAX_ROWS", "MAX_RUNS_PER_SCENARIO", "POINTS_TABLE", "POOL_START_SECONDS",
    "SECONDS_PER_RUN", "SEEDING", "SPOOL_PREFIX", "BatchError", "BatchInterruptedError", "BatchPlan",
    "BatchResult", "Checkpoints", "Chunk", "ChunkResult", "Entry", "Executor", "ExecutorLostError", "Point",
    "ProcessExecutor", "SerialExecutor", "StopRequestedError", "assemble", "batch_manifest", "checkpoint_dir",
    "code_fingerprint", "default_chunk_size", "default_start_method", "default_workers", "excel_errors",
    "keep_freed_memory", "lever_value", "load_batch", "make_executor", "plan_batch", "predicted_seconds",
    "process_pool", "remove_dead_spools", "run_batch", "run_chunk", "scenario_runs_errors", "stop_on_sigterm",
    "table_names", "SECONDS_PER_CHUNK", "makespan", "split_runs",
]
