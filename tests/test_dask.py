"""Batch chunks on a Dask cluster: the same tables as a local run, worker deaths cost only retries, and an
unreachable scheduler fails fast. Every cluster here is a LocalCluster of worker processes on 127.0.0.1."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

distributed = pytest.importorskip("distributed", reason="needs the [cluster] extra (dask[distributed])")

from sim import batch, dask_executor  # noqa: E402
from sim.cli import main  # noqa: E402

from .conftest import SCENARIOS  # noqa: E402
from .test_batch import FEW, batch_args, only_inputs_left, table_files  # noqa: E402

ARGS = ["--reps", "300", "--chunk-size", "128"]  # 11 points x 3 chunks: results arrive out of order


@pytest.fixture(scope="module")
def cluster():
    """A scheduler and 2 worker processes (one thread each) on loopback, as `dask scheduler` + `dask worker`."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as c:
        yield c


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The tables of FEW computed in this process, with no Dask at all."""
    out = tmp_path_factory.mktemp("serial") / "res"
    assert main(batch_args(FEW, out, *ARGS, "--workers", "1")) == 0
    return table_files(out)


@pytest.fixture(autouse=True)
def no_scheduler_settings(monkeypatch):
    """Tests choose their cluster themselves: no scheduler from the environment or Dask's configuration."""
    monkeypatch.delenv(dask_executor.SCHEDULER_ENV, raising=False)
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    import dask

    with dask.config.set({"scheduler-address": None}):
        yield


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_pids(client) -> dict[str, int]:
    return client.run(os.getpid)


# ------------------------------------------------------------------------------------------ same answers


def test_dask_tables_are_byte_identical_to_local_ones(tmp_path, cluster, serial):
    out = tmp_path / "dask"
    assert main(batch_args(FEW, out, *ARGS, "--executor", "dask", "--scheduler", cluster.scheduler_address)) == 0
    assert table_files(out) == serial
    m = json.loads((out / "manifest.json").read_text())
    assert m["workers"] == 2 and m["chunk_size"] == 128
    assert m["options"]["executor"] == "dask" and m["options"]["scheduler"] == cluster.scheduler_address
    assert only_inputs_left(tmp_path, {"dask"}) == []


def test_the_mesa_engine_runs_on_dask_too(tmp_path, cluster):
    files = [SCENARIOS / "baseline.toml", SCENARIOS / "russia_strikes.toml"]
    args = ["--reps", "12", "--formats", "csv", "--engine", "mesa", "--chunk-size", "5"]
    assert main(batch_args(files, tmp_path / "local", *args, "--workers", "1")) == 0
    assert main(batch_args(files, tmp_path / "dask", *args, "--executor", "dask", "--scheduler",
                           cluster.scheduler_address)) == 0
    assert table_files(tmp_path / "local") == table_files(tmp_path / "dask")


def test_the_scheduler_can_come_from_the_environment(tmp_path, cluster, serial, monkeypatch):
    monkeypatch.setenv(dask_executor.SCHEDULER_ENV, cluster.scheduler_address)
    out = tmp_path / "res"
    assert main(batch_args(FEW, out, *ARGS, "--executor", "dask")) == 0
    assert table_files(out) == serial
    assert json.loads((out / "manifest.json").read_text())["options"]["scheduler"] == cluster.scheduler_address


def test_without_a_scheduler_a_local_cluster_is_started_and_closed(tmp_path, serial):
    import psutil

    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    out = tmp_path / "res"
    assert main(batch_args(FEW, out, *ARGS, "--executor", "dask", "--workers", "2")) == 0
    assert table_files(out) == serial
    m = json.loads((out / "manifest.json").read_text())
    assert m["workers"] == 2 and m["options"]["scheduler"] == "local cluster"
    deadline = time.monotonic() + 10
    while (left := {p.pid for p in me.children(recursive=True)} - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, "the local cluster's processes outlived the batch"


def test_scheduler_precedence(monkeypatch):
    import dask

    resolve = dask_executor.resolve_scheduler
    assert resolve(None) == (None, "a local cluster (no scheduler set)")
    with dask.config.set({"scheduler-address": "tcp://10.0.0.3:8786"}):
        assert resolve(None) == ("tcp://10.0.0.3:8786", "Dask configuration (scheduler-address)")
        monkeypatch.setenv(dask_executor.SCHEDULER_ENV, "tcp://10.0.0.2:8786")
        assert resolve(None) == ("tcp://10.0.0.2:8786", "$REASSURANCE_DASK_SCHEDULER")
        assert resolve("tcp://10.0.0.1:8786") == ("tcp://10.0.0.1:8786", "--scheduler")
        assert resolve("local")[0] is None


# ------------------------------------------------------------------------------------------------ faults


class KillingDaskExecutor(dask_executor.DaskExecutor):
    """Kills (SIGKILL) a worker process that is computing a chunk, once ``after`` results were handed over."""

    after = 3
    killed: list[int] = []

    def map_unordered(self, fn, items):
        for i, result in enumerate(super().map_unordered(fn, items)):
            if i == self.after:
                busy = [w for w, keys in self.client.processing().items() if keys] or list(self.client.nthreads())
                pid = worker_pids(self.client)[busy[0]]
                os.kill(pid, signal.SIGKILL)
                self.killed.append(pid)
            yield result


def test_a_killed_worker_costs_only_a_retry_of_its_chunks(tmp_path, cluster, monkeypatch, serial):
    monkeypatch.setattr(dask_executor, "DaskExecutor", KillingDaskExecutor)
    out = tmp_path / "res"
    assert main(batch_args(FEW, out, *ARGS, "--executor", "dask", "--scheduler", cluster.scheduler_address)) == 0
    assert len(KillingDaskExecutor.killed) == 1
    assert table_files(out) == serial  # complete and identical
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=30)  # the nanny restarted it
        assert KillingDaskExecutor.killed[0] not in worker_pids(client).values()


def _die_once(marker, fn, chunk):
    """Kill this worker process in the middle of the first chunk of point 4 (the first time only)."""
    if (chunk.index, chunk.point, chunk.start) == (2, 4, 0) and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return fn(chunk)


def test_a_worker_dying_mid_chunk_is_recomputed_elsewhere(tmp_path, cluster):
    import functools

    plan = batch.plan_batch(batch.load_batch(FEW), reps=300, chunk_size=128)
    local = batch.run_batch(plan)
    marker = tmp_path / "died"
    with dask_executor.DaskExecutor(cluster.scheduler_address) as ex:
        real = ex.map_unordered
        ex.map_unordered = lambda fn, items: real(functools.partial(_die_once, str(marker), fn), items)
        remote = batch.run_batch(plan, executor=ex)
    assert marker.exists()  # a worker did die, in the middle of a chunk
    for name, df in local.tables.items():
        assert df.equals(remote.tables[name]), name


def test_an_unreachable_scheduler_fails_fast_with_a_clear_message(tmp_path, capsys):
    address = f"tcp://127.0.0.1:{free_port()}"
    kept = batch.checkpoint_dir(tmp_path / "res") / "earlier-point"
    kept.mkdir(parents=True)
    assert main(batch_args(FEW[:1], tmp_path / "res", "--executor", "dask", "--scheduler", address, "--fresh")) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the Dask scheduler at {address} (from --scheduler) within 5 s" in err, err
    assert "dask scheduler" in err
    assert kept.exists()  # nothing was written or deleted, not even by --fresh
    assert only_inputs_left(tmp_path, {kept.parent.name}) == []


class ProbeDaskExecutor(dask_executor.DaskExecutor):
    """Calls ``probe(i)`` after handing over result ``i``."""

    def __init__(self, *args, probe, **kwargs):
        super().__init__(*args, **kwargs)
        self.probe = probe

    def map_unordered(self, fn, items):
        for i, result in enumerate(super().map_unordered(fn, items)):
            self.probe(i)
            yield result


def test_the_dask_commands_of_the_docs_and_a_lost_scheduler(tmp_path):
    """`dask scheduler` and `dask worker` as docs/cluster.md starts them; then the scheduler dies mid-batch."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    bindir = os.path.dirname(sys.executable)
    procs = [subprocess.Popen([os.path.join(bindir, "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", "127.0.0.1:0"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, cwd=tmp_path)]
    try:
        procs.append(subprocess.Popen([os.path.join(bindir, "dask"), "worker", address, "--nworkers", "2",
                                       "--nthreads", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      cwd=tmp_path))
        plan = batch.plan_batch(batch.load_batch(FEW), reps=300, chunk_size=128)
        local = batch.run_batch(plan)
        with distributed.Client(address, timeout="20s", set_as_default=False) as c:
            c.wait_for_workers(2, timeout=30)
        with dask_executor.DaskExecutor(address) as ex:
            assert ex.workers == 2
            remote = batch.run_batch(plan, executor=ex)
        for name, df in local.tables.items():
            assert df.equals(remote.tables[name]), name

        def kill_scheduler(i):
            if i == 3:
                procs[0].kill()
                procs[0].wait()

        with ProbeDaskExecutor(address, probe=kill_scheduler) as ex, pytest.raises(batch.BatchInterruptedError) as e:
            batch.run_batch(plan, executor=ex)
        assert f"lost the connection to the Dask scheduler at {address}" in e.value.cause
        assert e.value.exit_code == 1
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class InterruptingDaskExecutor(dask_executor.DaskExecutor):
    """Hands over ``after`` results, then behaves as if Ctrl-C had been pressed."""

    after = 12

    def map_unordered(self, fn, items):
        for i, result in enumerate(super().map_unordered(fn, items)):
            if i == self.after:
                raise KeyboardInterrupt
            yield result


def test_ctrl_c_leaves_no_table_and_a_rerun_resumes(tmp_path, cluster, monkeypatch, capsys, serial):
    out = tmp_path / "res"
    args = batch_args(FEW, out, *ARGS, "--executor", "dask", "--scheduler", cluster.scheduler_address)
    with monkeypatch.context() as m:
        m.setattr(dask_executor, "DaskExecutor", InterruptingDaskExecutor)
        assert main(args) == 130
    err = capsys.readouterr().err
    assert "interrupted by the user" in err and "No results folder was written" in err and "done:" in err
    assert not out.exists()
    assert batch.checkpoint_dir(out).exists()
    assert main(args) == 0
    assert table_files(out) == serial
    assert json.loads((out / "manifest.json").read_text())["reused_points"]
    assert only_inputs_left(tmp_path, {"res"}) == []


# ------------------------------------------------------------------------------------------ at the door


def test_without_the_extra_dask_is_refused_with_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask[distributed] were not installed
    assert main(batch_args(FEW[:1], tmp_path / "res", "--executor", "dask")) == 2
    assert "pip install '.[cluster]'" in capsys.readouterr().err
    assert only_inputs_left(tmp_path, set()) == []


def test_the_command_line_imports_no_dask_unless_asked():
    code = "import sys, sim.cli; sys.exit('distributed' in sys.modules or 'dask' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_bad_executor_options_are_refused(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(batch_args(FEW[:1], out, "--scheduler", "tcp://127.0.0.1:1")) == 2
    assert "--scheduler needs --executor dask" in capsys.readouterr().err
    assert main(batch_args(FEW[:1], out, "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1",
                           "--workers", "3")) == 2
    assert "--workers sets the size of a local Dask cluster" in capsys.readouterr().err
    assert only_inputs_left(tmp_path, set()) == []


def test_a_worker_with_other_code_refuses_to_compute(monkeypatch):
    monkeypatch.setattr(dask_executor, "keep_freed_memory", lambda: False)  # a worker's tuning, not this process's
    other = dict(dask_executor.worker_identity(), code="0" * 64)
    with pytest.raises(dask_executor.WorkerMismatchError, match="install the same version of reassurance"):
        dask_executor._checked(other, len, "chunk")
    assert dask_executor._checked(dask_executor.worker_identity(), len, "chunk") == 5


def test_the_default_chunk_on_a_cluster():
    assert dask_executor.dask_chunk_size("ensemble") == batch.DEFAULT_CHUNK
    assert dask_executor.dask_chunk_size("mesa") == batch.DEFAULT_CHUNK_MESA
    plan = batch.plan_batch(batch.load_batch([SCENARIOS / "baseline.toml"]), reps=1000)
    assert dask_executor.DaskExecutor.for_batch("local", workers=64, plan=plan).local_workers == 1  # 1 chunk
