"""Bad input and faults on the command line: one clear error per problem, all at once, nothing run or left behind.

One test per class of bad input (issue "first ten minutes"): paths the system refuses, oversized sweeps,
duplicate names, several errors in one file, control characters and formula-like text, an output that
cannot be written, and an --out that is a symbolic link.
"""

import errno
import io
import os
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from sim import export, words
from sim.cli import main
from sim.scenario import MAX_SWEEP_POINTS, ScenarioError, load_scenario

from .conftest import SCENARIOS

BASELINE = SCENARIOS / "baseline.toml"


def write(folder: Path, text: str, name: str = "s.toml") -> Path:
    p = folder / name
    p.write_text(text)
    return p


def delta(change: str = "", name: str = "bad", extends: str | None = None) -> str:
    ext = str(BASELINE) if extends is None else extends
    return f'extends = "{ext}"\nname = "{name}"\ndescription = "x"\n{change}\n'


def command(kind: str, f: Path, out: Path) -> list[str]:
    return {"validate": ["validate", str(f)],
            "run": ["run", str(f), "--reps", "10", "--out", str(out)],
            "batch": ["batch", str(f), "--reps", "10", "--out", str(out), "--quiet", "--workers", "1"],
            "analyse": ["analyse", str(f), "--reps", "10", "--what", "pivotal", "--out", str(out), "--quiet"]}[kind]


def refused(capsys, argv, code=2) -> str:
    """Run the command line; it must exit with ``code`` and print a plain error, never a traceback."""
    assert main(argv) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip(), err
    return err


# --- 8. paths the operating system refuses, in `extends` -----------------------------------------------------

BAD_PATHS = {
    "NUL byte": "a\\u0000b.toml",
    "name over the file-name limit": "a" * 300 + ".toml",
    "path over the path limit": "/".join(["d" * 200] * 30) + ".toml",
    "a path through a file": f"{BASELINE}/x.toml",
}


@pytest.mark.parametrize("kind", ["validate", "run", "batch", "analyse"])
@pytest.mark.parametrize("label", list(BAD_PATHS))
def test_an_extends_path_the_system_refuses_is_a_plain_error(tmp_path, capsys, kind, label):
    f = write(tmp_path, delta(extends=BAD_PATHS[label]))
    err = refused(capsys, command(kind, f, tmp_path / "res"))
    assert f"{f}: extends: " in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]  # nothing written


def test_a_loop_of_links_in_extends_is_a_plain_error(tmp_path, capsys):
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    f = write(tmp_path, delta(extends="a.toml"))
    assert f"{f}: extends: " in refused(capsys, ["validate", str(f)])


# --- 9. a sweep far over the point limit is refused by its size, before any value is checked ----------------

@pytest.mark.parametrize("sweep", [
    {"levers.incident_rate": 3 * MAX_SWEEP_POINTS},  # one long list
    {"levers.incident_rate": 200, "levers.rotation_ratio": 200},  # a product of short ones
])
def test_an_oversized_sweep_is_refused_by_its_size_alone(tmp_path, sweep):
    # every value is invalid too: were they checked one by one, there would be thousands of errors
    lines = "\n".join(f'"{k}" = [{", ".join(["-1.5"] * n)}]' for k, n in sweep.items())
    f = write(tmp_path, delta("[sweep]\n" + lines))
    with pytest.raises(ScenarioError) as e:
        load_scenario(f)
    points = 1
    for n in sweep.values():
        points *= n
    assert e.value.errors == [(str(f), "sweep", f"{points:,} combinations; at most {MAX_SWEEP_POINTS:,} expected")]


def test_a_sweep_repeating_a_bad_value_reports_each_place_once(tmp_path):
    f = write(tmp_path, delta('[sweep]\n"levers.incident_rate" = [0.1, 7, 0.2, 7]'))
    with pytest.raises(ScenarioError) as e:
        load_scenario(f)
    assert [fld for _, fld, _ in e.value.errors] == ["sweep.levers.incident_rate[1]", "sweep.levers.incident_rate[3]"]


# --- 10. validate refuses what batch refuses: two files of the same name, one file twice ---------------------

@pytest.mark.parametrize("case", ["same file twice", "two files, one name"])
def test_validate_refuses_duplicate_names_as_batch_does(tmp_path, capsys, case):
    a = write(tmp_path, delta(name="twin"), "a.toml")
    files = [a, a] if case == "same file twice" else [a, write(tmp_path, delta(name="twin"), "b.toml")]
    other = write(tmp_path, delta(name="other"), "c.toml")
    assert main(["validate", *map(str, [*files, other])]) == 2
    io_ = capsys.readouterr()
    assert "expected a name not already used in this batch" in io_.err
    assert io_.out.strip() == f"{other}: ok ('other', seed 20250904, 2000 replications, 1 sweep point)"
    assert "expected a name not already used in this batch" in refused(
        capsys, ["batch", *map(str, files), "--out", str(tmp_path / "res"), "--quiet"])


# --- 11. all errors at once ------------------------------------------------------------------------------------

SCHEMA_ERROR = ("countries.FRA.p_participate", "p_participate = 2")
CROSS_ERRORS = {
    "min above max": ("countries.GBR.land_troops", "[countries.GBR]\nland_troops = [9000, 100]"),
    "unknown country": ("countries.XXX", "[countries.XXX]\np_participate = 0.5"),
    "a sweep path": ("sweep.foo.bar", '[sweep]\n"foo.bar" = [1, 2]'),
    "a month after the horizon": ("countries.DEU.government_falls_month",
                                  "[countries.DEU]\ngovernment_falls_month = 400"),
    "backstop change after the horizon": ("levers.us_backstop_changes[0].month",
                                          "[[levers.us_backstop_changes]]\nmonth = 400\nlevel = \"none\""),
    "ceasefire after the horizon": ("levers.ceasefire_month", "[levers]\nceasefire_month = 300"),
}


@pytest.mark.parametrize("label", list(CROSS_ERRORS))
def test_a_check_across_fields_runs_even_when_a_field_fails_its_own(tmp_path, label):
    field, text = CROSS_ERRORS[label]
    # FRA's bad p_participate fails the schema; the check across fields must still be made
    f = write(tmp_path, delta(f"replications = \"many\"\n{text}\n[countries.FRA]\n{SCHEMA_ERROR[1]}"))
    with pytest.raises(ScenarioError) as e:
        load_scenario(f)
    fields = [fld for _, fld, _ in e.value.errors]
    assert field in fields and SCHEMA_ERROR[0] in fields and "replications" in fields, fields


def test_six_errors_in_one_file_come_in_one_round(tmp_path, capsys):
    text = "\n".join(t for label, (_, t) in CROSS_ERRORS.items() if label != "ceasefire after the horizon")
    f = write(tmp_path, delta('replications = "many"\n' + text.replace("[countries.GBR]", "[countries.GBR]\n"
                                                                          "p_participate = 2")))
    err = refused(capsys, ["validate", str(f)])
    lines = [ln for ln in err.splitlines() if ln.startswith(f"  {f}: ")]
    assert len(lines) >= 6, err


# --- 12. control characters are shown, never obeyed; text in tables.xlsx is never a formula -----------------

ESC = "\x1b[2J\x1b[Hvalidate: all files ok"


@pytest.mark.parametrize("where", ["unknown top-level key", "unknown lever", "unknown country", "sweep key",
                                   "file name"])
def test_control_characters_in_echoed_names_are_escaped(tmp_path, capsys, where):
    key = '"' + ESC.replace("\x1b", "\\u001b") + '"'
    text = {"unknown top-level key": delta(f"{key} = 1"),
            "unknown lever": delta(f"[levers]\n{key} = 1"),
            "unknown country": delta(f"[countries.{key}]\np_participate = 0.5"),
            "sweep key": delta(f"[sweep]\n{key} = [1]"),
            "file name": delta("replications = 0")}[where]
    f = write(tmp_path, text, ESC.replace("/", "_") + ".toml" if where == "file name" else "s.toml")
    err = refused(capsys, ["validate", str(f)])
    assert "\x1b" not in err and "\\x1b[2J" in err, err


def test_text_in_tables_xlsx_stays_text(tmp_path):
    tricky = ["=1+1", "=HYPERLINK(\"http://x\")", "+1", "-1+2", "@SUM(A1)", "a\x1b[2Jb", "tab\there", "\u202eevil"]
    table = pd.DataFrame({"scenario": tricky, "land_first_month_below": [-1, 0, 5, -1, 2, 3, 4, -1]})
    wb = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes({"per_run": table})))
    cells = [c for c in wb["per_run"]["A"][1:]]
    assert all(c.data_type == "s" for c in cells)
    assert [c.value for c in cells] == [words.printable(t) for t in tricky]
    assert [c.value for c in wb["per_run"]["B"][1:]] == ["never", 0, 5, "never", 2, 3, 4, "never"]
    assert wb.sheetnames == ["per_run", "columns"]


def test_a_formula_like_file_name_reaches_tables_xlsx_as_text(tmp_path, capsys):
    f = write(tmp_path, delta(name="plain"), "=1+1.toml")
    out = tmp_path / "res"
    assert main(["batch", str(f), "--reps", "5", "--out", str(out), "--quiet", "--workers", "1", "--xlsx"]) == 0
    cells = {c.value: c.data_type for row in openpyxl.load_workbook(out / "tables.xlsx")["points"].iter_rows()
             for c in row}
    assert cells[str(f)] == "s"


# --- 13. an output that cannot be written: refused before running, or one line when writing fails -----------

def _no_run(*_a, **_k):
    raise AssertionError("the model ran although the output cannot be written")


@pytest.mark.parametrize("kind", ["run", "batch", "analyse"])
@pytest.mark.parametrize("fault", ["read-only", "full disk", "inside a file"])
def test_an_output_that_cannot_be_written_is_refused_before_running(tmp_path, capsys, monkeypatch, kind, fault):
    out = tmp_path / "res"
    if fault == "read-only":
        monkeypatch.setattr(export.os, "access", lambda *_a, **_k: False)
    elif fault == "full disk":
        monkeypatch.setattr(export.shutil, "disk_usage", lambda _p: type("U", (), {"free": 1000})())
    else:
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "res"
    monkeypatch.setattr("sim.cli.commands.run_scenario", _no_run)
    monkeypatch.setattr("sim.batch.run_batch", _no_run)
    monkeypatch.setattr("sim.analysis.analyse", _no_run)
    err = refused(capsys, command(kind, BASELINE, out))
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EIO])
@pytest.mark.parametrize("existing", [False, True])
def test_a_failure_while_writing_is_one_line_and_keeps_what_was_there(tmp_path, capsys, monkeypatch, code, existing):
    out = tmp_path / "res"
    if existing:
        assert main(["run", str(BASELINE), "--reps", "10", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()} if existing else None
    capsys.readouterr()

    def fail(self, data):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(Path, "write_bytes", fail)
    err = refused(capsys, ["run", str(BASELINE), "--reps", "20", "--out", str(out)], code=1)
    assert len(err.strip().splitlines()) == 1, err
    assert ("is unchanged" if existing else "was not created") in err
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["res"] if existing else [])  # no .tmp-* left
    if existing:
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# --- 14 (the writer's part) and 15: leftovers of a killed write, and an --out that is a symbolic link -------

def test_leftovers_of_a_dead_writer_are_removed_and_a_live_ones_kept(tmp_path, capsys):
    dead = 2**22 + 12345  # above the usual pid_max: no such process
    for name in (f".tmp-res-{dead}-abc", f".old-res-{dead}", f".tmp-res-{os.getppid()}-live", ".tmp-other-1-x"):
        (tmp_path / name).mkdir()
    assert main(["run", str(BASELINE), "--reps", "10", "--out", str(tmp_path / "res")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp-other-1-x", f".tmp-res-{os.getppid()}-live", "res"]


def test_an_out_that_is_a_link_is_followed_and_stays_a_link(tmp_path, capsys):
    (tmp_path / "real").mkdir()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real")
    for reps in ("10", "20"):  # the second run replaces the results the link points to
        assert main(["run", str(BASELINE), "--reps", reps, "--out", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(tmp_path / "real")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]  # no .old-link-PID
    assert len(pd.read_csv(tmp_path / "real" / "per_run.csv")) == 20


def test_an_out_that_is_a_dangling_link_is_refused(tmp_path, capsys):
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    err = refused(capsys, ["run", str(BASELINE), "--reps", "10", "--out", str(tmp_path / "link")])
    assert "does not exist" in err and not (tmp_path / "nowhere").exists()
