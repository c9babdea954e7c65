"""Batch runs: sweeps expand, bad input is refused at the door, and results are identical however they are run."""

import functools
import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from sim import batch
from sim.cli import main
from sim.scenario import MAX_SWEEP_POINTS

from .conftest import ROOT, SCENARIOS

REFERENCE = ROOT / "results" / "reference"
FEW = [SCENARIOS / "baseline.toml", SCENARIOS / "france_government_falls.toml",
       SCENARIOS / "sweep_backstop_threshold.toml"]
TABLE_FILES = ("points", "summary", "per_run", "per_country", "drivers", "per_month")


def write(folder: Path, text: str, name: str = "s.toml") -> Path:
    p = folder / name
    p.write_text(text)
    return p


def delta(change: str, name: str = "bad") -> str:
    return f'extends = "{SCENARIOS / "baseline.toml"}"\nname = "{name}"\ndescription = "x"\n{change}\n'


def batch_args(files, out, *extra):
    return ["batch", *map(str, files), "--out", str(out), "--quiet", *map(str, extra)]


def table_files(folder: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir()) if f.name != "manifest.json"}


def only_inputs_left(folder: Path, inputs: set[str]) -> list[str]:
    """Anything in ``folder`` other than the input files (results, temporary folders, checkpoints)."""
    return sorted(p.name for p in folder.iterdir() if p.name not in inputs)


# ------------------------------------------------------------------------------------------------ planning


def test_sweep_expands_every_combination_in_a_fixed_order_with_one_seed():
    plan = batch.plan_batch(batch.load_batch([SCENARIOS / "sweep_backstop_threshold.toml"]), reps=1000,
                            chunk_size=300)
    assert plan.levers == ("levers.us_backstop", "thresholds.land")
    got = [(pt.scenario.levers.us_backstop, pt.scenario.thresholds.land) for pt in plan.points]
    assert got == [(b, t) for b in ("none", "command_and_control", "air_cover") for t in (10000, 30000, 40000)]
    assert [pt.point for pt in plan.points] == list(range(9))
    assert {pt.scenario.seed for pt in plan.points} == {20250904}  # common random numbers across points
    assert len({pt.scenario.content_hash() for pt in plan.points}) == 9
    chunks = list(plan.chunks())
    assert len(chunks) == 9 * 4
    assert [(c.start, c.stop) for c in chunks[:4]] == [(0, 250), (250, 500), (500, 750), (750, 1000)]  # even
    assert plan.runs == 9000


def test_chunk_size_does_not_depend_on_workers_and_defaults_by_engine():
    entries = batch.load_batch(FEW)
    assert batch.plan_batch(entries).chunk_size == batch.DEFAULT_CHUNK
    assert batch.plan_batch(entries, engine="mesa").chunk_size == batch.DEFAULT_CHUNK_MESA
    assert batch.DEFAULT_CHUNK % batch.DRAW_BLOCK == 0


def test_chunks_are_even_and_share_no_block_of_draws():
    plan = batch.plan_batch(batch.load_batch([SCENARIOS / "baseline.toml"]), reps=20_000)
    assert [(c.start, c.stop) for c in plan.chunks()] == [(0, 10_240), (10_240, 20_000)]  # not 16,384 + 3,616
    assert plan.chunk_runs() == [10_240, 9_760] and plan.chunk_count == 2
    for reps, size in [(200_000, batch.DEFAULT_CHUNK), (16_385, batch.DEFAULT_CHUNK), (5_000, 1_024), (999, 7)]:
        cuts = batch.split_runs(reps, size)
        runs = [b - a for a, b in cuts]
        assert [a for a, _ in cuts[1:]] == [b for _, b in cuts[:-1]] and cuts[0][0] == 0 and cuts[-1][1] == reps
        unit = batch.DRAW_BLOCK if size % batch.DRAW_BLOCK == 0 else 1  # boundaries on whole blocks of draws
        assert all(a % unit == 0 for a, _ in cuts)
        assert len(cuts) == -(-reps // size) and max(runs) <= size and max(runs) - min(runs) < 2 * unit


def test_sweep_points_share_random_inputs(tmp_path):
    out = tmp_path / "res"
    assert main(batch_args([SCENARIOS / "sweep_backstop_threshold.toml"], out, "--reps", "200", "--workers", "1",
                           "--formats", "csv")) == 0
    runs = pd.read_csv(out / "per_run.csv")
    assert (runs["seed"] == 20250904).all()
    assert runs.groupby("point")["run"].apply(list).map(lambda r: r == list(range(200))).all()
    by = {p: g.reset_index(drop=True) for p, g in runs.groupby("point")}
    # same backstop, different thresholds: the very same runs, only the test against the threshold differs
    assert by[3]["land_min"].equals(by[4]["land_min"]) and by[4]["land_min"].equals(by[5]["land_min"])
    assert not by[3]["land_met"].equals(by[5]["land_met"])
    assert set(runs.columns[:5]) == {"scenario", "point", "levers.us_backstop", "thresholds.land", "run"}


# ------------------------------------------------------------------------------------------ bad input


BAD = [
    ("unknown key", "[levers]\nbogus = 1", "levers.bogus", "unknown field"),
    ("wrong type", '[levers]\nrotation_ratio = "three"', "levers.rotation_ratio", "valid number"),
    ("negative troops", "[countries.FRA]\nland_troops = [-500, 1000]", "countries.FRA.land_troops[0]",
     "greater than or equal to 0"),
    ("probability above 1", "[countries.GBR]\np_participate = 1.5", "countries.GBR.p_participate",
     "less than or equal to 1"),
    ("probability below 0", "[levers]\nincident_rate = -0.1", "levers.incident_rate", "greater than or equal to 0"),
    ("unknown country", "[countries.XYZ]\np_participate = 0.5", "countries.XYZ", "unknown country code"),
    ("threshold of zero", "[thresholds]\nland = 0", "thresholds.land", "greater than 0"),
    ("horizon of 10 million months", "[levers]\nhorizon_months = 10000000", "levers.horizon_months",
     "less than or equal to 600"),
    ("sweep of too many points", "[sweep]\n" + '"levers.incident_rate" = [' + ", ".join(
        str(i / 200) for i in range(101)) + "]\n" + '"levers.rotation_ratio" = [' + ", ".join(
        str(1 + i / 100) for i in range(100)) + "]", "sweep", f"at most {MAX_SWEEP_POINTS:,}"),
    ("sweep of too many runs", 'replications = 6000000\n[sweep]\n"levers.un_framework" = [true, false]', "sweep",
     "12,000,000 runs; at most 10,000,000"),
    ("sweep of a bad value", '[sweep]\n"thresholds.land" = [10000, -5]', "sweep.thresholds.land[1]",
     "greater than 0"),
    ("name escaping the folder", "", "name", "should match pattern"),
]


@pytest.mark.parametrize("label,change,field,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_refused_naming_file_and_field_and_nothing_is_written(tmp_path, capsys, label, change, field,
                                                                          expected):
    name = "../../x" if label == "name escaping the folder" else "bad"
    bad = write(tmp_path, delta(change, name=name))
    out = tmp_path / "res"
    assert main(batch_args([SCENARIOS / "baseline.toml", bad], out)) == 2
    err = capsys.readouterr().err
    assert f"{bad}: {field}: " in err and expected in err, err
    assert only_inputs_left(tmp_path, {"s.toml"}) == []
    assert not (tmp_path.parent.parent / "x").exists()
    assert not (SCENARIOS.parent / "x").exists()
    assert main(["validate", str(bad)]) == 2  # validate checks the same, without running anything
    assert f"{bad}: {field}: " in capsys.readouterr().err


def test_every_bad_file_of_a_batch_is_reported_at_once(tmp_path, capsys):
    a = write(tmp_path, delta("[levers]\nincident_rate = 2\nhorizon_months = 0", name="a"), "a.toml")
    b = write(tmp_path, delta("[thresholds]\nland = -1", name="b"), "b.toml")
    c = write(tmp_path, delta("", name="baseline"), "c.toml")  # the same name as baseline.toml
    assert main(batch_args([SCENARIOS / "baseline.toml", a, b, c], tmp_path / "res")) == 2
    err = capsys.readouterr().err
    for text in (f"{a}: levers.incident_rate", f"{a}: levers.horizon_months", f"{b}: thresholds.land",
                 f"{c}: name: got 'baseline'"):
        assert text in err, err
    assert only_inputs_left(tmp_path, {"a.toml", "b.toml", "c.toml"}) == []


def test_too_big_or_too_deep_files_are_refused(tmp_path, capsys):
    big = write(tmp_path, "# " + "x" * 300_000, "big.toml")
    deep = write(tmp_path, "a = " + "[" * 10 + "]" * 10, "deep.toml")
    assert main(batch_args([big, deep], tmp_path / "res")) == 2
    err = capsys.readouterr().err
    assert f"{big}: file is" in err and f"{deep}: nested deeper" in err
    assert only_inputs_left(tmp_path, {"big.toml", "deep.toml"}) == []


def test_batch_limit_and_bad_options_write_nothing(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(batch_args(FEW, out, "--reps", "1000", "--max-runs", "5000")) == 2
    assert "11,000 runs; at most 5,000" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(batch_args(FEW, out, "--formats", "csv,xml"))
    with pytest.raises(SystemExit):
        main(batch_args(FEW, out, "--workers", "0"))
    assert only_inputs_left(tmp_path, set()) == []


def test_an_output_folder_that_is_not_a_results_folder_is_not_replaced(tmp_path, capsys):
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    assert main(batch_args([SCENARIOS / "baseline.toml"], precious, "--reps", "10")) == 2
    assert "not a results folder" in capsys.readouterr().err
    assert (precious / "thesis.txt").read_text() == "years of work"
    assert only_inputs_left(tmp_path, {"notes"}) == []


def test_run_refuses_a_sweep_and_points_at_batch(capsys):
    assert main(["run", str(SCENARIOS / "sweep_backstop_threshold.toml"), "--reps", "10"]) == 2
    assert "reassurance batch" in capsys.readouterr().err


# ------------------------------------------------------------------------------ reproducible results


def test_serial_and_parallel_batches_give_byte_identical_files(tmp_path):
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    assert main(batch_args(FEW, serial, "--reps", "300", "--workers", "1")) == 0
    # two worker processes, small chunks: results arrive out of order, split differently
    assert main(batch_args(FEW, parallel, "--reps", "300", "--workers", "2", "--chunk-size", "128")) == 0
    a, b = table_files(serial), table_files(parallel)
    assert set(a) == {f"{t}.{fmt}" for t in TABLE_FILES for fmt in ("csv", "parquet")}
    assert a == b
    ma, mb = (json.loads((d / "manifest.json").read_text()) for d in (serial, parallel))
    assert ma["files"] == mb["files"] and ma["workers"] == 1 and mb["workers"] == 2
    assert only_inputs_left(tmp_path, {"serial", "parallel"}) == []


def test_the_mesa_engine_gives_the_same_tables(tmp_path):
    files = [SCENARIOS / "baseline.toml", SCENARIOS / "russia_strikes.toml"]
    assert main(batch_args(files, tmp_path / "e", "--reps", "12", "--workers", "1", "--formats", "csv")) == 0
    assert main(batch_args(files, tmp_path / "m", "--reps", "12", "--workers", "1", "--formats", "csv",
                           "--engine", "mesa", "--chunk-size", "5")) == 0
    assert table_files(tmp_path / "e") == table_files(tmp_path / "m")


def test_manifest_matches_the_tables(tmp_path):
    out = tmp_path / "res"
    assert main(batch_args(FEW, out, "--reps", "150", "--workers", "1", "--no-months")) == 0
    m = json.loads((out / "manifest.json").read_text())
    on_disk = {f.name for f in out.iterdir()} - {"manifest.json"}
    assert set(m["files"]) == on_disk
    for fname, info in m["files"].items():
        assert hashlib.sha256((out / fname).read_bytes()).hexdigest() == info["sha256"], fname
        if fname.endswith(".csv"):
            assert len(pd.read_csv(out / fname)) == info["rows"], fname
    assert m["kind"] == "batch" and m["runs"] == 11 * 150 and m["points"] == 11
    assert m["tables"] == ["points", "summary", "per_run", "per_country", "drivers"]
    assert [s["name"] for s in m["scenarios"]] == ["baseline", "france_government_falls", "sweep_backstop_threshold"]
    assert m["seeds"] == dict.fromkeys(["baseline", "france_government_falls", "sweep_backstop_threshold"], 20250904)
    sweep = m["scenarios"][2]
    assert len(sweep["sweep_points"]) == 9 and sweep["replications"] == 150
    assert sweep["sweep_points"][4]["changes"] == {"levers.us_backstop": "command_and_control",
                                                  "thresholds.land": 30000}
    points = pd.read_csv(out / "points.csv")
    assert points["scenario_hash"].tolist() == [p["hash"] for s in m["scenarios"] for p in s["sweep_points"]]
    assert m["scenarios"][0]["resolved"]["levers"]["us_backstop"] == "uncertain"
    assert {"code_revision", "packages", "started", "finished", "chunk_size"} <= set(m)


def test_xlsx_opens_with_pandas_with_one_sheet_per_table(tmp_path):
    out = tmp_path / "res"
    assert main(batch_args(FEW[:2], out, "--reps", "40", "--workers", "1", "--xlsx")) == 0
    sheets = pd.read_excel(out / "tables.xlsx", sheet_name=None)
    assert list(sheets) == [*TABLE_FILES, "columns"]
    columns = sheets.pop("columns")
    for name, df in sheets.items():
        assert len(df) == len(pd.read_csv(out / f"{name}.csv")), name
        described = columns[columns.sheet == name]
        assert list(described.column) == list(df.columns), name  # every column of every sheet, in order
    assert len(sheets["per_run"]) == 80
    assert not columns.meaning.str.startswith("see docs").any(), columns[columns.meaning.str.startswith("see")]


def test_optional_tables_can_be_left_out(tmp_path):
    out = tmp_path / "res"
    assert main(batch_args(FEW[:1], out, "--reps", "20", "--workers", "1", "--no-runs", "--no-months",
                           "--formats", "csv")) == 0
    assert sorted(f.name for f in out.iterdir()) == ["drivers.csv", "manifest.json", "per_country.csv",
                                                     "points.csv", "summary.csv"]


def test_every_table_a_point_produces_is_written(tmp_path, monkeypatch):
    """Which tables exist is decided where they are built: a new one reaches the folder without a list to edit."""
    from sim.outcomes import TableBuilder

    built = TableBuilder.tables

    def with_a_new_table(self):
        return {**built(self), "new_table": pd.DataFrame({"scenario": [self.scenario], "runs": [self.n]})}

    monkeypatch.setattr(TableBuilder, "tables", with_a_new_table)
    out = tmp_path / "res"
    assert main(batch_args(FEW[:2], out, "--reps", "20", "--workers", "1", "--formats", "csv")) == 0
    new = pd.read_csv(out / "new_table.csv")
    assert new[["scenario", "point", "runs"]].values.tolist() == [["baseline", 0, 20],
                                                                  ["france_government_falls", 0, 20]]
    assert json.loads((out / "manifest.json").read_text())["tables"][-1] == "new_table"


def test_a_point_missing_a_table_the_others_have_is_an_error_not_a_shorter_table():
    plan = batch.plan_batch(batch.load_batch(FEW[:2]), reps=10)
    done = {(pt.index, pt.point): {"summary": pd.DataFrame({"scenario": [pt.name]})} for pt in plan.points}
    done[(1, 0)]["drivers"] = pd.DataFrame({"scenario": ["france_government_falls"]})
    with pytest.raises(ValueError, match=r"baseline\[0\] has no drivers table"):
        batch.assemble(plan, done)


# ------------------------------------------------------------------------------------------ interruption


class InterruptingExecutor(batch.SerialExecutor):
    """Computes ``after`` chunks, then behaves as if Ctrl-C had been pressed."""

    def __init__(self, after: int):
        self.after = after

    def map_unordered(self, fn, items):
        for i, item in enumerate(items):
            if i == self.after:
                raise KeyboardInterrupt
            yield fn(item)


def _die_on(fn, victim, chunk):
    if (chunk.index, chunk.point, chunk.start) == victim:
        os._exit(3)  # the worker process dies without a word
    return fn(chunk)


class KillingExecutor(batch.ProcessExecutor):
    """A process pool in which the worker computing one given chunk dies."""

    def __init__(self, victim):
        super().__init__(2)
        self.victim = victim

    def map_unordered(self, fn, items):
        return super().map_unordered(functools.partial(_die_on, fn, self.victim), items)


def test_ctrl_c_leaves_no_table_says_what_completed_and_a_rerun_resumes(tmp_path, capsys, monkeypatch):
    fresh, out = tmp_path / "fresh", tmp_path / "res"
    args = ["--reps", "200", "--chunk-size", "100", "--formats", "csv,parquet"]
    assert main(batch_args(FEW, fresh, *args, "--workers", "1")) == 0
    capsys.readouterr()
    real = batch.make_executor
    monkeypatch.setattr(batch, "make_executor", lambda workers, plan=None: InterruptingExecutor(after=9))
    assert main(batch_args(FEW, out, *args)) == 130
    err = capsys.readouterr().err
    assert "interrupted by the user" in err and "No results folder was written" in err
    assert "Sweep points completed: 4 of 11" in err and "done:     baseline[0]" in err
    assert "sweep_backstop_threshold[8]" in err.split("not done:")[1]
    assert not out.exists()
    assert not list(tmp_path.glob(".tmp-*"))
    partial = batch.checkpoint_dir(out)
    assert len([d for d in partial.iterdir() if not d.name.startswith(".")]) == 4  # only whole points are kept
    # The rerun reuses the 4 completed points, computes the rest, and gives the same files as a fresh batch.
    monkeypatch.setattr(batch, "make_executor", real)
    assert main(batch_args(FEW, out, *args, "--workers", "1")) == 0
    assert table_files(out) == table_files(fresh)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["reused_points"] == ["baseline[0]", "france_government_falls[0]",
                                         "sweep_backstop_threshold[0]", "sweep_backstop_threshold[1]"]
    assert not partial.exists()


def test_checkpoints_of_other_inputs_are_not_reused(tmp_path, monkeypatch, capsys):
    out = tmp_path / "res"
    monkeypatch.setattr(batch, "make_executor", lambda workers, plan=None: InterruptingExecutor(after=3))
    assert main(batch_args(FEW[:2], out, "--reps", "100", "--chunk-size", "50")) == 130
    assert len(list(batch.checkpoint_dir(out).iterdir())) == 1
    monkeypatch.undo()
    assert main(batch_args(FEW[:2], out, "--reps", "101", "--workers", "1")) == 0  # other replications
    assert json.loads((out / "manifest.json").read_text())["reused_points"] == []


def test_a_killed_worker_leaves_the_previous_results_untouched(tmp_path, capsys, monkeypatch):
    out = tmp_path / "res"
    assert main(batch_args(FEW[:1], out, "--reps", "50", "--workers", "1")) == 0
    before = table_files(out)
    victim = (2, 5, 0)  # sweep_backstop_threshold, point 5, first chunk
    monkeypatch.setattr(batch, "make_executor", lambda workers, plan=None: KillingExecutor(victim))
    assert main(batch_args(FEW, out, "--reps", "100", "--chunk-size", "50")) == 1
    err = capsys.readouterr().err
    assert "a worker process died" in err and "not done:" in err and "sweep_backstop_threshold[5]" in err
    assert table_files(out) == before
    assert not list(tmp_path.glob(".tmp-*"))


def test_a_failing_chunk_is_reported_not_hidden(tmp_path, capsys, monkeypatch):
    def broken(chunk):
        raise RuntimeError("boom")

    class Broken(batch.SerialExecutor):
        def map_unordered(self, fn, items):
            return super().map_unordered(broken, items)

    monkeypatch.setattr(batch, "make_executor", lambda workers, plan=None: Broken())
    assert main(batch_args(FEW[:1], tmp_path / "res", "--reps", "10")) == 1
    assert "a chunk failed: RuntimeError: boom" in capsys.readouterr().err
    assert not (tmp_path / "res").exists()


# ------------------------------------------------------------------------------------------ golden results


def test_regenerating_the_shipped_results_gives_the_same_tables(tmp_path, monkeypatch):
    """The golden baseline: refresh it only on purpose, with scripts/regenerate_results.sh (see results/README.md)."""
    manifest = json.loads((REFERENCE / "manifest.json").read_text())
    opts = manifest["options"]
    files = [s["file"] for s in manifest["scenarios"]]
    assert sorted(files) == sorted(f"scenarios/{p.name}" for p in SCENARIOS.glob("*.toml")), \
        "a scenario was added or removed: run scripts/regenerate_results.sh"
    extra = ["--formats", ",".join(opts["formats"]), "--workers", "2"]
    if opts["reps"]:
        extra += ["--reps", str(opts["reps"])]
    extra += [] if opts["months"] else ["--no-months"]
    extra += [] if opts["per_run"] else ["--no-runs"]
    monkeypatch.chdir(ROOT)
    out = tmp_path / "reference"
    assert main(batch_args(files, out, *extra)) == 0
    shipped, again = table_files(REFERENCE), table_files(out)
    assert set(shipped) == set(again)
    for name in shipped:
        assert shipped[name] == again[name], f"{name} differs from results/reference/{name}"
    regenerated = json.loads((out / "manifest.json").read_text())
    assert {k: v["sha256"] for k, v in regenerated["files"].items()} == {
        k: v["sha256"] for k, v in manifest["files"].items()}


def test_default_workers_fit_the_batch():
    entries = batch.load_batch(FEW)
    small = batch.plan_batch(entries, reps=100)
    assert batch.default_workers(small) == 1 and isinstance(batch.make_executor(None, small), batch.SerialExecutor)
    big = batch.plan_batch(entries, reps=100_000)
    assert batch.default_workers(big) == min(os.cpu_count() or 1, 11)  # 1.1M runs: 100,000 a worker at least
    assert batch.make_executor(64, small).workers == 11  # never more processes than chunks
    assert batch.make_executor(1, big).workers == 1


def test_sigterm_stops_a_batch_like_ctrl_c():
    import signal

    with pytest.raises(batch.StopRequestedError), batch.stop_on_sigterm():
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_a_long_batch_checkpoints_points_as_they_complete(tmp_path):
    plan = batch.plan_batch(batch.load_batch(FEW[:2]), reps=30)
    ck = batch.Checkpoints(tmp_path / ".partial-x", engine="ensemble", months=True, per_run=True)
    first = batch.run_batch(plan, checkpoints=ck, checkpoint_after=0)
    assert len(list(ck.folder.iterdir())) == 2
    again = batch.run_batch(plan, checkpoints=ck)
    assert again.reused == ("baseline[0]", "france_government_falls[0]")
    for name, df in first.tables.items():
        assert df.equals(again.tables[name]), name
        assert list(df.dtypes) == list(again.tables[name].dtypes), name


def test_a_folder_is_replaced_whole_or_not_at_all(tmp_path):
    from sim.atomic import replacing_folder

    final = tmp_path / "f"
    final.mkdir()
    (final / "a").write_text("old")
    with pytest.raises(RuntimeError), replacing_folder(final) as tmp:
        (tmp / "a").write_text("new")
        raise RuntimeError("a failure half-way")
    assert (final / "a").read_text() == "old" and only_inputs_left(tmp_path, {"f"}) == []
    with replacing_folder(final) as tmp:
        (tmp / "b").write_text("new")
    assert [p.name for p in final.iterdir()] == ["b"] and only_inputs_left(tmp_path, {"f"}) == []


def children_of(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    kids = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(d.name))
        except (OSError, IndexError, ValueError):
            pass
    return kids


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_a_killed_parent_takes_its_workers_with_it_and_the_next_run_removes_its_spool(tmp_path, monkeypatch):
    import signal
    import subprocess
    import sys
    import tempfile
    import time

    env = dict(os.environ, TMPDIR=str(tmp_path))
    cmd = [sys.executable, "-m", "sim", *batch_args([SCENARIOS / "sweep_backstop_threshold.toml"], tmp_path / "res",
                                                    "--reps", "200000", "--workers", "2", "--no-runs")]
    parent = subprocess.Popen(cmd, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while len(children_of(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = children_of(parent.pid)  # the pool's workers, and a resource tracker if there were one
        assert len(workers) >= 2, "the pool did not start"
        assert list(tmp_path.glob(f"{batch.SPOOL_PREFIX}*"))
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    killed = time.monotonic()
    while any(alive(w) for w in workers) and time.monotonic() < killed + 10:
        time.sleep(0.01)
    print(f"workers gone {time.monotonic() - killed:.3f} s after their parent")
    assert not [w for w in workers if alive(w)], "worker processes outlived their parent"
    left = list(tmp_path.glob(f"{batch.SPOOL_PREFIX}*"))
    assert left  # a parent killed outright cannot clean up: the next batch does
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(batch_args(FEW[:1], tmp_path / "next", "--reps", "2000", "--workers", "2", "--chunk-size", "500")) == 0
    assert not list(tmp_path.glob(f"{batch.SPOOL_PREFIX}*"))
