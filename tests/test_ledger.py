"""The ledger of dated statements: its entries, the baseline resolved as of a date, and the timeline."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from unittest.mock import patch

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import baseline as bl
from sim import ledger, timeline
from sim.baseline import ARTICLE_QUOTE_MAX_WORDS, LEDGER_START, DataError, load_baseline
from sim.cli import main
from sim.ledger import Statement, load_statements, resolved_values
from sim.runner import run_scenario
from sim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
WEAK = ("aggregator", "state_media")
START = date.fromisoformat(LEDGER_START)


def test_every_statement_is_dated_sourced_and_quoted_briefly():
    stmts = load_statements()
    assert len(stmts) >= 40
    sources = load_baseline().sources
    for s in stmts:
        assert s.date > LEDGER_START and date.fromisoformat(s.date).isoformat() == s.date, s.origin
        src = sources[s.source]
        assert src["kind"] == "report" and src["url"].startswith(("https://", "http://")), s.source
        assert src["quality"] in bl.SOURCE_QUALITIES and src["publisher"] and src["title"], s.source
        assert 0 < len(s.quote.split()) <= ARTICLE_QUOTE_MAX_WORDS, s.origin
        assert s.sets, s.origin
    assert [s.date for s in stmts] == sorted(s.date for s in stmts)


def test_the_coalition_countries_with_reported_changes_are_covered():
    about = {s.about for s in load_statements()} | {p.split(".")[1] for s in load_statements() for p in s.sets
                                                    if p.startswith("countries.")}
    for iso in ("GBR", "FRA", "DEU", "ESP", "NOR", "SWE", "BEL", "LTU", "CAN", "PRT", "NLD", "TUR", "ITA", "POL",
                "CZE", "GRC", "HRV", "FIN", "JPN", "USA", "RUS"):
        assert iso in about, iso


def test_reported_force_sizes_and_the_us_role_are_what_the_latest_record_says():
    latest = load_baseline(ledger.latest_date())
    assert latest.country("GBR")["land_troops"] == [500, 7500]  # The Times: fewer than 7,500
    assert sum(latest.country(c)["land_troops"][1] for c in ("GBR", "FRA")) <= 15000
    assert latest.country("DEU")["land_share"] == [0.0, 0.0]  # from neighbouring NATO territory only
    assert "neighbouring NATO territory" in latest.country("DEU").fields["land_share"].assumption
    us = latest.uncertainties["us_backstop"].value
    assert max(us, key=us.get) == "intelligence"  # monitoring, not support if attacked
    assert latest.uncertainties["us_backstop"].assumption


def _stated(s: bl.Sourced) -> str | None:
    m = re.match(r"stated (\d{4}-\d{2}-\d{2})", s.note or "")
    return m.group(1) if m else None


@settings(max_examples=60, deadline=None)
@given(day=st.dates(min_value=START, max_value=date(2026, 6, 30)), gap=st.integers(1, 400),
       weak=st.booleans())
def test_a_statement_dated_after_as_of_changes_nothing(day, gap, weak):
    """A new statement dated after ``as_of`` leaves the resolved inputs as they were; from its own date it applies."""
    later = (day + timedelta(days=gap)).isoformat()
    extra = Statement(index=10_000, date=later, about="GBR", source="R_LIGA_TIMES", quote="a test statement",
                      sets={"countries.GBR.land_troops": [1, 2], "uncertainties.us_backstop": {"none": 1.0}},
                      quality="aggregator" if weak else "wire_or_record")
    base = load_baseline()
    real = load_statements()
    before = resolved_values(ledger.resolve(base, day.isoformat()))
    with patch.object(ledger, "load_statements", lambda: tuple(sorted((*real, extra), key=lambda s: s.date))):
        after = resolved_values(ledger.resolve(base, day.isoformat()))
        then = ledger.resolve(base, later)
        then_strict = ledger.resolve(base, later, WEAK)
    assert after == before
    assert then.country("GBR")["land_troops"] == [1, 2]
    assert (then_strict.country("GBR")["land_troops"] == [1, 2]) is not weak
    # and every value the ledger set as of ``day`` was stated on or before it
    for c in ledger.resolve(base, day.isoformat()).countries:
        for s in c.fields.values():
            assert _stated(s) is None or _stated(s) <= day.isoformat()


def test_as_of_the_baseline_date_is_the_baseline_exactly():
    plain, dated = load_baseline(), load_baseline(LEDGER_START)
    assert resolved_values(plain) == resolved_values(dated)
    assert [c.fields for c in plain.countries] == [c.fields for c in dated.countries]
    scen = load_scenario(BASELINE)
    a = run_scenario(scen, replications=300, keep_arrays=False).tables
    b = run_scenario(scen.with_changes({"as_of": LEDGER_START}), replications=300, keep_arrays=False).tables
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert scen.content_hash() == load_scenario(BASELINE).content_hash()
    assert "as_of" not in scen.to_toml_dict()


def _daily_change_dates(exclude: tuple[str, ...] = ()) -> list[str]:
    """The dates on which the resolved inputs differ from the day before, found by resolving every day."""
    out, prev = [], resolved_values(load_baseline(None, exclude))
    day, last = START, date.fromisoformat(ledger.latest_date())
    while day < last:
        day += timedelta(days=1)
        now = resolved_values(load_baseline(day.isoformat(), exclude))
        if now != prev:
            out.append(day.isoformat())
        prev = now
    return out


@pytest.mark.parametrize("exclude", [(), WEAK])
def test_the_timeline_dates_are_exactly_the_dates_the_inputs_change(exclude):
    assert timeline.change_dates(exclude) == _daily_change_dates(exclude)
    assert timeline.as_of_choices(exclude) == [LEDGER_START, *_daily_change_dates(exclude)]
    labels = timeline.as_of_labels(exclude)
    assert list(labels) == timeline.as_of_choices(exclude) and all(labels.values())


def test_the_timeline_table_runs_every_change_date_with_its_sources(tmp_path, capsys):
    out = tmp_path / "tl"
    assert main(["timeline", str(BASELINE), "--out", str(out), "--reps", "60"]) == 0
    tl = pd.read_csv(out / "timeline.csv")
    assert list(dict.fromkeys(tl["as_of"])) == timeline.as_of_choices()
    assert set(tl["component"]) == {"land", "air", "sea"}
    for col in ("p_met", "p_met_low95", "p_met_high95", "verdict", "ceiling", "statements", "urls", "flagged"):
        assert col in tl.columns, col
    first = tl[tl["as_of"] == LEDGER_START]
    assert first["changes"].isna().all()  # the baseline's own date changes nothing
    later = tl[tl["as_of"] != LEDGER_START]
    assert later["statements"].notna().all() and later["urls"].str.contains("http").all()
    land = tl[tl["component"] == "land"].set_index("as_of")["ceiling"]
    assert land["2026-01-08"] < land["2026-01-07"]  # The Times' smaller UK and French numbers
    changes = pd.read_csv(out / "timeline_changes.csv")
    assert set(changes["as_of"]) == set(timeline.change_dates())
    assert changes.loc[changes["quality"].isin(WEAK), "flagged"].all()
    assert "manifest.json" in {p.name for p in out.iterdir()}
    assert "2026-01-08" in capsys.readouterr().out


@pytest.mark.parametrize("value,expect", [
    ('"2025-01-01"', "the ledger starts with the baseline of 5 September 2025"),
    ('"2026-13-01"', "expected a date"),
    ('"06/01/2026"', "as_of"),
    ("2025-09-04", "the ledger starts with the baseline of 5 September 2025"),  # a TOML date
])
def test_a_bad_as_of_names_the_file_and_the_field(tmp_path, value, expect):
    f = tmp_path / "dated.toml"
    f.write_text(BASELINE.read_text().replace('name = "baseline"', f'name = "dated"\nas_of = {value}'))
    with pytest.raises(ScenarioError) as err:
        load_scenario(f)
    text = str(err.value)
    assert str(f) in text and "as_of" in text and expect in text


def test_a_bad_source_quality_to_leave_out_names_the_field(tmp_path):
    f = tmp_path / "dated.toml"
    f.write_text(BASELINE.read_text().replace('name = "baseline"', 'name = "x"\nleave_out_sources = ["rumour"]'))
    with pytest.raises(ScenarioError, match="leave_out_sources"):
        load_scenario(f)
    with pytest.raises(DataError, match="ledger starts"):
        load_baseline("2024-12-31")


def test_a_toml_date_and_the_shipped_scenarios_load(tmp_path):
    f = tmp_path / "dated.toml"
    f.write_text(BASELINE.read_text().replace('name = "baseline"', 'name = "x"\nas_of = 2026-01-06'))
    assert load_scenario(f).as_of == "2026-01-06"
    latest = load_scenario(ROOT / "scenarios" / "as_of_latest.toml")
    assert latest.as_of == ledger.latest_date()
    paris = load_scenario(ROOT / "scenarios" / "as_of_paris_2026.toml")
    assert paris.baseline().left_out == WEAK


def test_leaving_out_weak_sources_changes_the_inputs_they_set():
    day = ledger.latest_date()
    every, strict = resolved_values(load_baseline(day)), resolved_values(load_baseline(day, WEAK))
    differ = {k for k in every if every[k] != strict.get(k)}
    assert differ
    weak_paths = {p for s in load_statements() if s.weak for p in s.sets}
    assert differ <= weak_paths
    assert every["countries.CZE.land_share"] == [0.0, 0.0]  # an aggregator alone carries Babiš's refusal
    assert strict["countries.CZE.land_share"] == load_baseline().country("CZE")["land_share"]


def test_the_scenario_runs_on_its_own_dated_data_whatever_baseline_is_passed():
    from sim.params import compile_params

    scen = load_scenario(ROOT / "scenarios" / "as_of_latest.toml")
    p = compile_params(scen, load_baseline())  # a caller holding the undated baseline
    gbr = p.iso3.index("GBR")
    assert p.land_hi[gbr] == 7500


def test_sources_marks_what_is_in_force_and_flags_weak_statements(capsys):
    assert main(["sources", "GBR", "--as-of", "2026-01-08"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "2026-01-08" in x and "land_troops" in x)
    assert "IN FORCE" in line and "range (drawn per run)" in line and "R_LIGA_TIMES" in line
    assert re.search(r"land_troops .*10,000 .*superseded", out)
    assert re.search(r"2026-01-09 .*p_troops .*after as-of", out)
    assert "weak source (state_media)" in out
    assert main(["sources", "GBR", "--as-of", "2025-01-01"]) == 2
    assert "--as-of" in capsys.readouterr().err


def test_a_bad_statement_fails_loudly_naming_the_field(monkeypatch):
    real = bl._read_text

    def fake(name):
        text = real(name)
        if name == "statements.toml":
            text = text.replace('date = "2025-09-06"', 'date = "2025-09-01"', 1)
        return text

    monkeypatch.setattr(bl, "_read_text", fake)
    ledger.load_statements.cache_clear()
    try:
        with pytest.raises(DataError, match=r"statements.toml: statement\[0\]\.date: got '2025-09-01'"):
            load_statements()
    finally:
        monkeypatch.undo()
        ledger.load_statements.cache_clear()


def test_a_statement_cannot_set_an_unknown_field_or_a_bad_value():
    base = load_baseline()
    with pytest.raises(DataError, match="unknown field"):
        ledger._check_value(base, "countries.GBR.troops", [1, 2], "here")
    with pytest.raises(DataError, match="expected"):
        ledger._check_value(base, "countries.GBR.p_troops", 1.5, "here")
    with pytest.raises(DataError, match="uncertainties.us_backstop"):
        ledger._check_value(base, "uncertainties.us_backstop", {"maybe": 1.0}, "here")
    with pytest.raises(DataError, match="only"):
        ledger._check_value(base, "conditions.momentum", ["air"], "here")
