"""Batch chunks on a Dask distributed cluster: :class:`DaskExecutor`, behind the :class:`sim.batch.Executor` seam.

``reassurance batch ... --executor dask [--scheduler tcp://HOST:PORT]`` sends the batch's chunks (scenario x
sweep point x block of replications, :class:`sim.batch.Chunk`) to the workers of a Dask cluster
(``dask[distributed]``, the optional extra ``pip install '.[cluster]'``). Each worker folds its chunk into
partial tables (counters and exact histograms, :class:`sim.outcomes.TableBuilder`) and ships only those,
compressed (a few bytes per run); this process merges each into its sweep point's tables as it arrives,
exactly as with the local process pool (same :func:`sim.batch.run_batch`). Tables are byte-identical to a
local run: a chunk is a pure function of its inputs, and merging is exact in any order.

Which cluster (the first that is set):

1. ``--scheduler ADDRESS`` (``--scheduler local``: a local cluster whatever the settings below);
2. the environment variable :data:`SCHEDULER_ENV` (``REASSURANCE_DASK_SCHEDULER``);
3. Dask's own configuration key ``scheduler-address`` (a Dask YAML file such as
   ``~/.config/dask/distributed.yaml``, or ``DASK_SCHEDULER_ADDRESS``);
4. none: a :class:`distributed.LocalCluster` of worker processes on 127.0.0.1 is started for the batch and
   closed after it.

Faults: a chunk whose worker dies is recomputed elsewhere by Dask (the scheduler reschedules the tasks of a
lost worker); a chunk that raises is retried (``retries``) and then reported; a scheduler that cannot be
reached within :data:`CONNECT_TIMEOUT` seconds fails before anything runs. At most ``ahead`` chunks per
worker thread are in flight, and each result is released as soon as it is folded, so memory on the client,
the scheduler and the workers stays bounded whatever the size of the batch.

Dask is imported only when a :class:`DaskExecutor` is opened: this module itself needs no Dask.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import sys
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError
from functools import partial
from typing import Any, Self

from sim.batch import (
    DEFAULT_CHUNK,
    BatchError,
    BatchPlan,
    ExecutorLostError,
    code_fingerprint,
    default_chunk_size,
    keep_freed_memory,
)

SCHEDULER_ENV = "REASSURANCE_DASK_SCHEDULER"
"""Environment variable naming the scheduler (``tcp://HOST:PORT``) when ``--scheduler`` is not given."""

CONNECT_TIMEOUT = 5.0
"""Seconds to wait for the scheduler before giving up (an unreachable one fails the batch fast)."""

DEFAULT_CHUNK_DASK = DEFAULT_CHUNK
"""Runs per chunk on a cluster with the ensemble engine (16,384, as on this machine): 40 to 100 ms of engine
work on one core for the shipped scenarios, so Dask's own cost per task (about a millisecond on the
scheduler, a round trip to the client) stays at 1 to 3% of it (docs/cluster.md), while a 10-million-run
sweep still has over 600 chunks to spread over the workers. A result is the chunk's partial tables, a few
kilobytes (docs/cluster.md)."""

INSTALL_HINT = "pip install '.[cluster]' (from a checkout of reassurance) or pip install 'dask[distributed]'"

RETRIES = 2
"""A chunk that raises is tried this many more times (a chunk whose worker dies is always recomputed)."""


class WorkerMismatchError(RuntimeError):
    """A Dask worker runs another version of the code or of numpy than this process (results could differ)."""


def dask_chunk_size(engine: str) -> int:
    """The chunk size used on a cluster unless one is given: :data:`DEFAULT_CHUNK_DASK`; Mesa's own default."""
    return DEFAULT_CHUNK_DASK if engine == "ensemble" else default_chunk_size(engine)


def require_distributed() -> Any:
    """Import ``distributed`` or fail with a :class:`sim.batch.BatchError` saying how to install it."""
    try:
        import distributed
    except ImportError as e:
        raise BatchError(f"--executor dask needs Dask's distributed scheduler, which is not installed ({e}); "
                         f"install it with: {INSTALL_HINT}") from None
    return distributed


def resolve_scheduler(option: str | None) -> tuple[str | None, str]:
    """The scheduler address to use (None: start a local cluster) and which setting gave it.

    Precedence: ``option`` (``--scheduler``; ``"local"`` forces a local cluster), then the environment
    variable :data:`SCHEDULER_ENV`, then Dask's configuration key ``scheduler-address``, then a local cluster.
    """
    for value, source in ((option, "--scheduler"), (os.environ.get(SCHEDULER_ENV), f"${SCHEDULER_ENV}")):
        if value and value.strip():
            value = value.strip()
            return (None, f"{source} local") if value == "local" else (value, source)
    import dask.config

    address = dask.config.get("scheduler-address", None)
    if address:
        return str(address), "Dask configuration (scheduler-address)"
    return None, "a local cluster (no scheduler set)"


def worker_identity() -> dict[str, str]:
    """What a worker's results depend on besides a chunk: the package's code and data, numpy, Python."""
    import numpy

    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return {"code": code_fingerprint(), "numpy": numpy.__version__, "python": python}


def _checked[T, R](expected: dict[str, str], fn: Callable[[T], R], item: T) -> R:
    """On a worker: refuse to compute with other code or numpy than the client's, else ``fn(item)``."""
    keep_freed_memory()
    got = worker_identity()
    if got != expected:
        raise WorkerMismatchError(_mismatch(_this_worker(), got, expected))
    return fn(item)


def _packed[T](expected: dict[str, str], fn: Callable[[T], Any], item: T) -> bytes:
    """On a worker: :func:`_checked`, its result pickled and compressed for the trip to the client.

    A chunk's result is its partial tables: counters and the non-zero cells of histograms. With --no-months
    that is a few kilobytes; with per-month tables the land histograms hold tens of thousands of cells, whose
    gaps and counts compress about fivefold (zlib, fastest level: about 15 ms for a 16,384-run chunk, against
    50 to 100 ms of computing it).
    """
    return zlib.compress(pickle.dumps(_checked(expected, fn, item), protocol=pickle.HIGHEST_PROTOCOL), 1)


def unpack(data: bytes) -> Any:
    """On the client: a result of :func:`_packed` (from our own workers, checked to run our code)."""
    return pickle.loads(zlib.decompress(data))


def _this_worker() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "a worker"


def _mismatch(where: str, got: dict[str, str], expected: dict[str, str]) -> str:
    def show(i: dict[str, str]) -> str:
        return f"code {i['code'][:12]}, numpy {i['numpy']}, Python {i['python']}"

    return (f"{where} runs {show(got)}, this process {show(expected)}: install the same version of reassurance "
            "(and numpy, Python) on every worker, then restart the workers")


def dask_setup(worker: Any) -> None:
    """Preload of the local cluster's workers: Ctrl-C is for the client, which stops the batch and the cluster.

    Ctrl-C reaches every process of the terminal's process group; without this each local worker would also
    print a KeyboardInterrupt traceback (as :class:`sim.batch.ProcessExecutor`'s workers would, but for
    their initializer).
    """
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


class DaskExecutor:
    """Computes items as tasks on a Dask cluster (``distributed.Client.submit``), at most a few ahead.

    Use as a context manager (or :meth:`open` / :meth:`close`) to connect before the batch and to report an
    unreachable scheduler as a :class:`sim.batch.BatchError`; :meth:`map_unordered` also connects by itself
    (and disconnects after) when the executor is not open.

    Args:
        scheduler: address of a running scheduler (``tcp://HOST:PORT``), or None to start a local cluster
            of ``local_workers`` processes (one thread each) on 127.0.0.1, closed again by :meth:`close`.
        local_workers: size of the local cluster (default: the number of CPUs).
        retries: further tries of a chunk that raises (a chunk whose worker dies is recomputed anyway).
        ahead: chunks in flight per worker thread (bounds memory; 2 keeps every worker busy).
        timeout: seconds to wait for the scheduler.
    """

    def __init__(self, scheduler: str | None = None, *, local_workers: int | None = None, retries: int = RETRIES,
                 ahead: int = 2, timeout: float = CONNECT_TIMEOUT):
        if local_workers is not None and local_workers < 1:
            raise ValueError(f"local_workers must be at least 1, got {local_workers}")
        self.scheduler, self.local_workers = scheduler, local_workers
        self.retries, self.ahead, self.timeout = retries, ahead, timeout
        self.client: Any = None
        self.cluster: Any = None
        self.identity: dict[str, str] | None = None
        self.workers = 0 if scheduler else (local_workers or os.cpu_count() or 1)
        self.source = "the caller"  # which setting chose the scheduler (for messages)
        self.bytes_received = 0  # results' bytes shipped from the workers (compressed), for benchmarks

    @classmethod
    def for_batch(cls, scheduler_option: str | None, *, workers: int | None = None,
                  plan: BatchPlan | None = None) -> DaskExecutor:
        """The executor ``reassurance batch --executor dask`` uses (see :func:`resolve_scheduler`).

        ``workers`` sizes a local cluster (default: all CPUs, but no more processes than the plan has
        chunks); it is refused with a scheduler, whose cluster is as large as the workers started for it.
        """
        require_distributed()
        address, source = resolve_scheduler(scheduler_option)
        if address is not None and workers is not None:
            raise BatchError(f"--workers sets the size of a local Dask cluster, but the scheduler {address} is set "
                             f"(by {source}): its cluster has the workers started with `dask worker`; drop "
                             "--workers, or pass --scheduler local")
        n = workers or os.cpu_count() or 1
        if plan is not None:
            n = min(n, max(1, sum(-(-pt.reps // plan.chunk_size) for pt in plan.points)))
        ex = cls(address, local_workers=None if address else n)
        ex.source = source
        return ex

    @property
    def address(self) -> str:
        """The scheduler's address (a local cluster's once open), or ``"a local cluster"`` before."""
        if self.client is not None:
            return self.client.scheduler.address
        return self.scheduler or "a local cluster"

    # ---------------------------------------------------------------------------------------- connecting

    def open(self) -> Self:
        """Connect to the scheduler (or start the local cluster) and check the workers' code; idempotent.

        Raises :class:`sim.batch.BatchError` if Dask is not installed, the scheduler cannot be reached in
        ``timeout`` seconds, or a worker runs other code than this process.
        """
        if self.client is not None:
            return self
        distributed = require_distributed()
        try:
            if self.scheduler is None:
                self.cluster = distributed.LocalCluster(
                    n_workers=self.local_workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                    host="127.0.0.1", dashboard_address="127.0.0.1:0", preload=[__name__],
                    silence_logs=logging.ERROR)
                self.client = distributed.Client(self.cluster, set_as_default=False, direct_to_workers=True)
            else:
                self.client = distributed.Client(self.scheduler, timeout=self.timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            self.close()
            if self.scheduler is None:
                raise BatchError(f"could not start a local Dask cluster: {type(e).__name__}: {e}") from None
            raise BatchError(f"cannot reach the Dask scheduler at {self.scheduler} (from {self.source}) within "
                             f"{self.timeout:g} s: {e}. Is `dask scheduler` running there, and is its port open "
                             "from this machine?") from None
        try:
            self.identity = worker_identity()
            self._check_workers()
            self.workers = sum(self.client.nthreads().values())
        except BaseException:
            self.close()
            raise
        return self

    def _check_workers(self) -> None:
        try:
            found = self.client.run(worker_identity)
        except Exception as e:
            raise BatchError(f"the Dask workers of {self.address} cannot run reassurance ({type(e).__name__}: "
                             f"{e}): install the same version of it on every worker, with its [cluster] "
                             "extra") from None
        bad = [_mismatch(f"worker {w}", got, self.identity) for w, got in sorted(found.items())
               if got != self.identity]
        if bad:
            raise BatchError("; ".join(bad))

    def close(self) -> None:
        """Disconnect, and close the local cluster if this executor started it."""
        client, cluster, self.client, self.cluster = self.client, self.cluster, None, None
        try:
            if client is not None:
                client.close()
        finally:
            if cluster is not None:
                cluster.close()

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------------- computing

    def _threads(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def map_unordered[T, R](self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(item)`` for each item as the cluster finishes it; a chunk that keeps failing raises.

        Items are submitted lazily, ``ahead`` per worker thread (re-read every few seconds, so workers that
        join are used); each result is released on the cluster as soon as it is handed over.
        """
        from distributed import as_completed

        owned = self.client is None
        self.open()
        client, where = self.client, self.address
        task = partial(_packed, self.identity, fn)
        tag = uuid.uuid4().hex[:8]
        it = enumerate(items)
        pending: set[Any] = set()
        done = as_completed(loop=client.loop)
        limit, checked = self.ahead * self._threads(), time.monotonic()

        def top_up() -> None:
            for i, item in itertools.islice(it, max(0, limit - len(pending))):
                fut = client.submit(task, item, key=f"reassurance-chunk-{tag}-{i}", retries=self.retries)
                pending.add(fut)
                done.add(fut)

        try:
            top_up()
            for fut in done:
                pending.discard(fut)
                try:
                    result = fut.result()  # re-raises a chunk's exception (after its retries), or KilledWorker
                except (OSError, CancelledError) as e:
                    if client.status == "running":  # a chunk's own error
                        raise
                    raise ExecutorLostError(f"lost the connection to the Dask scheduler at {where} "
                                            f"({type(e).__name__}: {e})") from e
                fut.release()
                self.bytes_received += len(result)
                if time.monotonic() - checked > 2.0:
                    limit, checked = self.ahead * self._threads(), time.monotonic()
                top_up()
                yield unpack(result)
        finally:
            # Interrupted or failed: drop the chunks not yet done, so that a shared cluster stops working on
            # them (a local cluster of our own is about to be closed anyway).
            done.clear()
            if pending and self.cluster is None and self.client is not None:
                try:
                    client.cancel(list(pending))
                except Exception:  # the scheduler is gone: nothing left to cancel
                    pass
            if owned:
                self.close()
