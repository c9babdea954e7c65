"""The command line: verdicts, tables written whole and reproducibly, bad input refused."""

import hashlib
import json
import subprocess
import sys

import pytest

from sim.cli import main

from .conftest import ROOT, SCENARIOS


def test_run_prints_a_verdict(capsys):
    assert main(["run", str(SCENARIOS / "baseline.toml"), "--reps", "200"]) == 0
    out = capsys.readouterr().out
    assert "LAND threshold 30,000 troops: UNLIKELY" in out and "ceiling" in out
    assert "France" in out
    # why countries stayed out, in the same words as the app, with what they mean; no internal codes
    poland = next(line for line in out.splitlines() if line.startswith("  Poland "))
    assert "US backstop too low" in poland and "Border priority 100%" in poland
    assert "Border priority          land troops stay home while the eastern border is not secure" in out
    assert "border_priority" not in out and "us_backstop" not in out


def test_run_writes_tables_and_a_matching_manifest(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", str(SCENARIOS / "us_air_cover.toml"), "--reps", "300", "--out", str(out), "--xlsx"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 20250904 and manifest["replications"] == 300
    assert manifest["scenarios"][0]["name"] == "us_air_cover"
    for fname, info in manifest["files"].items():
        assert hashlib.sha256((out / fname).read_bytes()).hexdigest() == info["sha256"], fname
    assert {"summary.csv", "per_run.parquet", "per_country.csv", "per_month.csv", "tables.xlsx"} <= set(
        manifest["files"])
    import pandas as pd
    sheets = pd.read_excel(out / "tables.xlsx", sheet_name=None)
    assert set(sheets) == {"summary", "per_run", "per_country", "drivers", "per_month", "columns"}
    assert len(sheets["per_run"]) == 300
    per_run = pd.read_csv(out / "per_run.csv")
    assert (per_run.air_first_month_below == -1).any()  # the CSV keeps -1 ...
    assert set(sheets["per_run"].air_first_month_below[per_run.air_first_month_below == -1]) == {"never"}  # ...
    meaning = sheets["columns"].set_index(["sheet", "column"]).meaning
    assert "never if none" in meaning["per_run", "air_first_month_below"]
    assert "Border priority" in meaning["per_country", "p_held_back_land_border_priority"]
    assert "drawn" in meaning["per_run", "us_backstop"] and "first-order" in meaning["drivers", "first_order_index"]
    footer = capsys.readouterr().out.strip().splitlines()[-1]
    assert footer.startswith(f"Tables written to {out}/") and "tables.xlsx" in footer and "columns" in footer
    assert not list(tmp_path.glob(".tmp-*"))


def test_same_seed_gives_byte_identical_files(tmp_path):
    for d in ("a", "b"):
        assert main(["run", str(SCENARIOS / "baseline.toml"), "--reps", "300", "--out", str(tmp_path / d)]) == 0
    for f in ("summary.csv", "per_run.csv", "per_country.csv", "per_month.csv", "per_run.parquet"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_bad_file_fails_with_exit_2_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{SCENARIOS / "baseline.toml"}"\nname = "bad"\ndescription = "x"\n'
                   '[levers]\nincident_rate = 2\n')
    out = tmp_path / "res"
    assert main(["run", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "levers.incident_rate" in err
    assert not out.exists()
    assert main(["validate", str(bad), str(SCENARIOS / "baseline.toml")]) == 2
    captured = capsys.readouterr()
    assert "baseline.toml: ok" in captured.out and "levers.incident_rate" in captured.err


def test_python_dash_m_and_sources():
    r = subprocess.run([sys.executable, "-m", "sim", "sources", "ITA"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "requires_un_framework" in r.stdout and "UN framework" in r.stdout
    r = subprocess.run([sys.executable, "-m", "sim", "sources", "XXX"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "unknown country code" in r.stderr


def test_run_checks_its_output_before_running(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["run", str(SCENARIOS / "baseline.toml"), "--reps", "10", "--out", str(afile / "sub")]) == 2
    notres = tmp_path / "notes"
    notres.mkdir()
    (notres / "mine.txt").write_text("keep me")
    assert main(["run", str(SCENARIOS / "baseline.toml"), "--reps", "10", "--out", str(notres)]) == 2
    assert (notres / "mine.txt").read_text() == "keep me"
    err = capsys.readouterr().err
    assert "not a results folder" in err
    assert main(["run", str(SCENARIOS / "baseline.toml"), "--reps", "1100000", "--out", str(tmp_path / "x"),
                 "--xlsx"]) == 2
    assert "an Excel sheet holds" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_run_without_per_run_rows(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", str(SCENARIOS / "baseline.toml"), "--reps", "500", "--out", str(out), "--no-runs",
                 "--no-months"]) == 0
    files = {p.name for p in out.iterdir()}
    assert "summary.csv" in files and "per_country.csv" in files
    assert "per_run.csv" not in files and "per_month.csv" not in files


def test_every_table_column_says_what_it_means():
    """The XLSX 'columns' sheet explains every column; a new column without words would say nothing."""
    from sim import words
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    tables = run_scenario(load_scenario(SCENARIOS / "baseline.toml"), replications=50).tables
    missing = {name: [c for c in df.columns if words.column_meaning(str(c)) is None] for name, df in tables.items()}
    assert not any(missing.values()), missing


def test_batch_labels_name_the_country_print_whole_numbers_and_align(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(f'extends = "{SCENARIOS / "baseline.toml"}"\nname = "uk"\ndescription = "x"\n[sweep]\n'
                 '"countries.GBR.land_troops" = [[0, 0], [5000, 12000]]\n"countries.GBR.p_participate" = [0.4, 1]\n'
                 '"thresholds.land" = [30000]\n')
    assert main(["batch", str(f), "--reps", "20", "--out", str(tmp_path / "res"), "--workers", "1"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("  uk[")]
    assert lines[0].startswith("  uk[0] (GBR land_troops = [0, 0], GBR p_participate = 0.4, land threshold = 30,000)")
    assert len({ln.index("%") for ln in lines}) == 1  # the columns line up


def test_version_and_sources_in_troops(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("reassurance ")
    assert main(["sources", "GBR"]) == 0
    out = capsys.readouterr().out.splitlines()
    troops = next(ln for ln in out if ln.split()[1:2] == ["land_troops"])
    assert "500-10,000 troops" in troops and "drawn per run" in troops and "IN FORCE" in troops
    assert "R_TIMES_UK_FR_TROOPS (aggregator)" in troops and "weak source" in troops
    assert "not used" in next(ln for ln in out if " land_share " in ln)  # the troops figure replaces it
    assert main(["sources", "NLD"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if " land_share " in ln)
    assert "0-1,241 troops (0-0.03 of 41,380 active)" in line
