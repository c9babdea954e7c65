"""The browser app: widget state -> scenario (sim.appstate), and the page driven with Streamlit's AppTest."""

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from sim import appstate
from sim.baseline import load_baseline
from sim.cli import main as cli_main
from sim.params import compile_params
from sim.runner import run_scenario
from sim.scenario import ScenarioError, load_scenario, scenario_from_text

from .conftest import ROOT, SCENARIOS

APP = str(ROOT / "app.py")


# --- sim.appstate: pure translation between controls and scenarios ------------------------------------------

@pytest.fixture(scope="module")
def base():
    return load_scenario(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="module")
def controls(base):
    return appstate.country_controls(base)


def control(controls, iso3):
    return next(c for c in controls if c.iso3 == iso3)


def test_untouched_controls_run_the_loaded_scenario_itself(base, controls):
    defaults = appstate.control_defaults(base, controls)
    assert appstate.changes_from_state({}, base, controls) == {}
    assert appstate.changes_from_state(defaults, base, controls) == {}
    scen, changes = appstate.build_scenario(base, defaults, controls)
    assert changes == {} and scen.content_hash() == base.content_hash()


def test_slider_defaults_are_the_pledge_ranges_and_the_land_end_is_what_can_be_sustained(base, controls):
    p = compile_params(base)
    for i, c in enumerate(controls):
        assert c.land.default == (round(p.land_lo[i]), round(p.land_hi[i]))
        assert c.land.sustainable == int(p.land_cap_range[1][i])
        assert c.land.max_value == max(int(p.land_cap_range[1][i]), c.land.default[1])
        assert c.air.default == (p.air_lo[i], p.air_hi[i]) and c.sea.default == (p.sea_lo[i], p.sea_hi[i])
        assert c.sea.sustainable == int(p.sea_cap[i])
        assert c.land.key == f"land_{c.iso3}" and c.participate_key == f"part_{c.iso3}"
    fra = control(controls, "FRA")
    assert fra.group == "Lead nations" and fra.in_force and fra.land.max_value > fra.land.default[1]
    assert {c.iso3 for c in controls if not c.in_force} == {"USA", "UKR", "RUS"}


def test_the_rotation_ratio_moves_what_a_country_can_sustain(base, controls):
    harder = base.with_changes({"levers.rotation_ratio": 6.0})
    fra5 = control(appstate.country_controls(base, caps_from=harder), "FRA")
    fra3 = control(controls, "FRA")
    assert fra5.land.sustainable < fra3.land.sustainable
    assert fra5.land.default == fra3.land.default  # the pledge is the loaded scenario's, not the cap's


def test_moved_sliders_become_overrides_and_only_those(base, controls):
    state = {"land_FRA": (0, 0), "air_GBR": (10, 20), "sea_DEU": (0, 1), "part_TUR": 100, "land_ITA": (0, 4965)}
    changes = appstate.changes_from_state(state, base, controls)
    assert changes == {"countries.FRA.land_troops": [0, 0], "countries.GBR.air": [10, 20],
                       "countries.DEU.sea": [0, 1], "countries.TUR.p_participate": 1.0}
    scen, _ = appstate.build_scenario(base, state, controls)
    p = compile_params(scen)
    i = scen_index("FRA")
    assert p.land_lo[i] == 0 and p.land_hi[i] == 0
    assert scen.name == "baseline-modified" and "France: land 0-0 troops" in scen.description


def scen_index(iso3):
    return load_baseline().iso3.index(iso3)


def test_global_controls_become_lever_and_threshold_changes(base, controls):
    state = {"us_backstop": "air_cover", "ceasefire": False, "incident_rate_pct": 5.0, "rotation_ratio": 5.0,
             "threshold_land_choice": 10_000, "threshold_air_set": True, "threshold_air": 30, "seed": 7,
             "replications": 300, "un_framework": True}
    changes = appstate.changes_from_state(state, base, controls)
    assert changes == {"levers.us_backstop": "air_cover", "levers.ceasefire": False, "levers.incident_rate": 0.05,
                       "levers.rotation_ratio": 5.0, "thresholds.land": 10_000, "thresholds.air": 30, "seed": 7,
                       "replications": 300, "levers.un_framework": True}
    custom = appstate.changes_from_state({"threshold_land_choice": appstate.CUSTOM, "threshold_land_custom": 25_000},
                                         base, controls)
    assert custom == {"thresholds.land": 25_000}
    assert appstate.land_presets() == (10_000, 30_000, 40_000, 100_000)


def test_turning_an_own_threshold_off_returns_to_the_data_value(base, controls):
    with_air = base.with_changes({"thresholds.air": 30})
    ctl = appstate.country_controls(with_air)
    assert appstate.control_defaults(with_air, ctl)["threshold_air_set"] is True
    scen, changes = appstate.build_scenario(with_air, {"threshold_air_set": False}, ctl)
    assert changes == {"thresholds.air": None} and scen.thresholds.air is None


def test_a_land_slider_replaces_a_scenario_land_share(base):
    shared = base.with_changes({"countries.NLD.land_share": [0.05, 0.1]})
    ctl = appstate.country_controls(shared)
    scen, changes = appstate.build_scenario(shared, {"land_NLD": (100, 200)}, ctl)
    assert changes["countries.NLD.land_share"] is None
    assert scen.countries["NLD"].land_troops == (100, 200) and scen.countries["NLD"].land_share is None


def test_invalid_settings_raise_scenario_errors_naming_the_field(base, controls):
    with pytest.raises(ScenarioError) as e:
        appstate.build_scenario(base, {"scenario_name": "no/slashes"}, controls)
    assert any(fld == "name" for _, fld, _ in e.value.errors)
    with pytest.raises(ScenarioError) as e:
        appstate.build_scenario(base, {"horizon_months": 3, "ceasefire_month": 5}, controls)
    assert any(fld == "levers.ceasefire_month" for _, fld, _ in e.value.errors)


def test_the_downloaded_scenario_round_trips_and_the_command_line_runs_it(base, controls, tmp_path, capsys):
    state = {"land_FRA": (0, 0), "land_DEU": (5000, 5000), "us_backstop": "air_cover", "part_GBR": 0,
             "threshold_land_choice": 40_000, "threshold_sea_set": True, "threshold_sea": 6, "replications": 200}
    scen, _ = appstate.build_scenario(base, state, controls)
    data = appstate.scenario_toml_bytes(scen)
    path = tmp_path / f"{scen.name}.toml"
    path.write_bytes(data)
    again = load_scenario(path)
    assert again.content_hash() == scen.content_hash()
    assert scenario_from_text(data.decode()).content_hash() == scen.content_hash()
    a, b = run_scenario(scen), run_scenario(again)
    assert a.tables["summary"].drop(columns="scenario").equals(b.tables["summary"].drop(columns="scenario"))
    assert cli_main(["validate", str(path)]) == 0
    assert cli_main(["run", str(path)]) == 0
    out = capsys.readouterr().out
    assert "200 runs" in out and "LAND threshold 40,000 troops" in out
    # `reassurance batch` runs the file unchanged, to the same probabilities the page shows.
    assert cli_main(["batch", str(path), "--out", str(tmp_path / "res"), "--workers", "1", "--quiet"]) == 0
    batch_summary = pd.read_csv(tmp_path / "res" / "summary.csv")
    assert list(batch_summary["p_met"]) == pytest.approx(list(a.tables["summary"]["p_met"]))
    assert set(batch_summary["scenario"]) == {scen.name}


def test_uploads_are_validated_like_files(tmp_path):
    text = 'extends = "baseline.toml"\nname = "bad"\ndescription = "x"\n[levers]\nincident_rate = 2\n'
    with pytest.raises(ScenarioError) as up:
        appstate.scenario_from_upload("bad.toml", text.encode(), SCENARIOS)
    p = tmp_path / "bad.toml"
    p.write_text(text.replace('"baseline.toml"', f'"{SCENARIOS / "baseline.toml"}"'))
    with pytest.raises(ScenarioError) as cli:
        load_scenario(p)
    assert [(fld, msg) for _, fld, msg in up.value.errors] == [(fld, msg) for _, fld, msg in cli.value.errors]
    assert up.value.errors[0][0] == "bad.toml"
    with pytest.raises(ScenarioError, match="not UTF-8"):
        appstate.scenario_from_upload("x.toml", b"\xff\xfe\x00", SCENARIOS)
    with pytest.raises(ScenarioError, match="at most"):
        appstate.scenario_from_upload("x.toml", b"#" * (300 * 1024), SCENARIOS)
    good = appstate.scenario_from_upload("air.toml", (SCENARIOS / "us_air_cover.toml").read_bytes(), SCENARIOS)
    assert good.levers.us_backstop == "air_cover"


def test_display_frames(base):
    tables = run_scenario(base, replications=200).tables
    pc = tables["per_country"]
    contrib = appstate.contribution_frame(pc, "land")
    assert contrib["country"].iloc[0] in {"France", "United Kingdom"}
    assert contrib["expected"].is_monotonic_decreasing
    assert contrib["running_total"].iloc[-1] == pytest.approx(pc["expected_land"].sum())
    held = appstate.held_back_frame(pc)
    assert set(held.columns) == {"country", "iso3", "condition", "label", "share"} and (held.share >= 0.01).all()
    binding = dict(appstate.binding_summary(held))
    assert "Netherlands" in dict(binding["us_backstop"]) and "Italy" in dict(binding["un_framework"])
    prov = appstate.provenance_rows(base, "ITA")
    row = prov[prov.field == "requires_un_framework"].iloc[0]
    assert row.kind == "article" and "A002" in row.source and "UN framework" in row.quote
    assert (prov[prov.kind == "assumption"].why != "").all()
    assert set(appstate.condition_descriptions()) >= {"us_backstop", "un_framework", "capacity"}
    needs = appstate.backstop_requirements(appstate.country_controls(base), base)
    assert "France" in needs["backstop_required_by_leads"] and "Netherlands" in needs["backstop_required_by_others"]
    assert not any("United States" in names for names in needs.values())


# --- the page, driven by AppTest ------------------------------------------------------------------------------

def new_app():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def verdicts(at):
    """Component -> the metric's value ("Met" / "Not met")."""
    return {m.label.split(" ")[0].lower(): m.value.lower() for m in at.metric}


def country_line(at, name):
    lines = [c.value for c in at.caption if c.value.startswith(f"**{name} in the force**")]
    assert len(lines) == 1, lines
    return lines[0]


def expected_troops(at, name):
    line = country_line(at, name)
    return int(line.split("(expected): ")[1].split(" troops")[0].replace(",", ""))


@pytest.fixture()
def app():
    return new_app()


def test_the_page_opens_on_the_baseline(app):
    assert verdicts(app) == {"land": "unlikely", "air": "likely met", "sea": "likely met"}
    labels = [m.label for m in app.metric]
    assert labels[0] == "Land ≥ 30,000 troops"
    assert any("P(met)" in m.value and "95% CI" in m.value for m in app.markdown)
    assert app.selectbox(key="scenario_file").value == "baseline.toml"
    assert app.slider(key="land_FRA").value == (500, 10000)
    assert app.select_slider(key="us_backstop").value == "uncertain"
    assert not app.error
    what_binds = next(m.value for m in app.markdown if m.value.startswith("**What binds**"))
    assert "US backstop too low" in what_binds and "Poland" in what_binds


def test_france_and_the_uk_at_zero_turn_the_land_verdict_to_not_met(app):
    app.select_slider(key="us_backstop").set_value("air_cover")
    app.radio(key="threshold_land_choice").set_value(10_000).run()
    assert verdicts(app)["land"] in ("uncertain", "likely met")
    app.slider(key="land_FRA").set_value((0, 0)).run()
    app.slider(key="land_GBR").set_value((0, 0)).run()
    assert not app.exception
    assert verdicts(app)["land"] == "cannot be met"  # the others follow the lead nations onto the ground
    assert app.slider(key="land_FRA").value == (0, 0)  # changing the UK kept France


def test_raising_pledges_over_the_threshold_turns_the_land_verdict_to_met(app):
    app.select_slider(key="us_backstop").set_value("air_cover")
    app.slider(key="rotation_ratio").set_value(1.0)
    app.radio(key="threshold_land_choice").set_value(10_000)
    fra, gbr = app.slider(key="land_FRA"), app.slider(key="land_GBR")
    fra.set_value((int(fra.max), int(fra.max)))
    gbr.set_value((int(gbr.max), int(gbr.max)))
    app.run()
    assert verdicts(app)["land"] == "likely met"
    land = next(m for m in app.metric if m.label.startswith("Land"))
    assert land.delta.startswith("+")


def test_the_us_backstop_changes_what_conditional_countries_give(app):
    assert not any(s.key == "land_NLD" for s in app.slider)  # the conditional group starts closed
    app.session_state["group_conditional"] = True  # open it
    app.run()
    assert app.slider(key="land_NLD").value == (0, 1241)
    app.select_slider(key="us_backstop").set_value("command_and_control").run()
    assert "US backstop too low" in country_line(app, "Netherlands")
    app.select_slider(key="us_backstop").set_value("air_cover").run()
    assert not app.exception
    assert expected_troops(app, "Netherlands") > 0
    assert "US backstop" not in country_line(app, "Netherlands")
    assert verdicts(app)["air"] == "likely met"


def test_a_bad_upload_shows_its_errors_and_the_page_keeps_working(app):
    bad = b'extends = "baseline.toml"\nname = "bad"\ndescription = "x"\n[levers]\nincident_rate = 2\nfoo = 1\n'
    app.file_uploader[0].set_value(("bad.toml", bad, "application/toml")).run()
    assert not app.exception
    errors = " ".join(e.value for e in app.error)
    assert "bad.toml" in errors and "levers.incident_rate" in errors and "levers.foo" in errors
    assert "Traceback" not in errors
    assert verdicts(app)["land"] == "unlikely"  # still running the baseline
    app.slider(key="land_FRA").set_value((0, 0)).run()
    assert not app.exception and app.slider(key="land_FRA").value == (0, 0)


def test_a_good_upload_is_loaded(app):
    app.file_uploader[0].set_value(("air.toml", (SCENARIOS / "us_air_cover.toml").read_bytes(),
                                    "application/toml")).run()
    assert not app.exception and not app.error
    assert app.select_slider(key="us_backstop").value == "air_cover"
    assert verdicts(app)["air"] == "likely met"


def test_a_scenario_file_can_be_chosen_and_controls_follow_it(app):
    app.slider(key="land_FRA").set_value((0, 0)).run()
    app.selectbox(key="scenario_file").set_value("no_ceasefire.toml").run()
    assert not app.exception
    assert app.toggle(key="ceasefire").value is False
    assert app.slider(key="land_FRA").value == (500, 10000)  # controls start again from the new file
    assert verdicts(app) == {"land": "cannot be met", "air": "cannot be met", "sea": "cannot be met"}


def test_sliders_keep_their_values_across_filters_rotation_and_other_sliders(app):
    app.slider(key="land_FRA").set_value((1000, 2000)).run()
    app.slider(key="air_GBR").set_value((3, 4)).run()
    app.text_input(key="filter_text").set_value("Germany").run()
    keys = {s.key for s in app.slider}
    assert "land_FRA" not in keys and "land_DEU" in keys
    app.slider(key="land_DEU").set_value((5000, 5000)).run()
    app.text_input(key="filter_text").set_value("nld").run()
    app.slider(key="part_NLD").set_value(0).run()
    app.text_input(key="filter_text").set_value("").run()
    assert not any(s.key in ("land_DEU", "part_NLD") for s in app.slider)  # their groups are closed
    assert app.slider(key="land_FRA").value == (1000, 2000)
    assert app.slider(key="air_GBR").value == (3, 4)
    cap = app.slider(key="land_FRA").max
    app.slider(key="rotation_ratio").set_value(6.0).run()
    assert not app.exception
    assert app.slider(key="land_FRA").max < cap
    assert app.slider(key="land_FRA").value == (1000, 2000)
    caption = " ".join(c.value for c in app.caption)
    assert "France: land 1,000-2,000 troops" in caption and "Germany: land 5,000-5,000 troops" in caption
    assert "Netherlands: takes part with probability 0%" in caption and "United Kingdom: air 3-4 aircraft" in caption
    app.session_state["group_conditional"] = True
    app.session_state["group_no_troops_offered"] = True
    app.run()
    assert app.slider(key="part_NLD").value == 0 and app.slider(key="land_DEU").value == (5000, 5000)


def test_reset_returns_every_control_to_the_scenario(app):
    app.slider(key="land_FRA").set_value((0, 0))
    app.select_slider(key="us_backstop").set_value("us_command")
    app.radio(key="threshold_land_choice").set_value(100_000)
    app.run()
    app.button(key="reset_controls").click().run()
    assert not app.exception
    assert app.slider(key="land_FRA").value == (500, 10000)
    assert app.select_slider(key="us_backstop").value == "uncertain"
    assert app.radio(key="threshold_land_choice").value == 30_000
    app.selectbox(key="scenario_file").set_value("un_framework.toml").run()
    app.button(key="reset_baseline").click().run()
    assert app.selectbox(key="scenario_file").value == "baseline.toml"


def test_invalid_settings_show_an_error_not_a_traceback(app):
    app.text_input(key="scenario_name").set_value("bad/name").run()
    assert not app.exception
    errors = " ".join(e.value for e in app.error)
    assert "do not make a valid scenario" in errors and "`name`" in errors and "'bad/name'" in errors
    assert "the page's settings (from baseline.toml)" in errors
    app.text_input(key="scenario_name").set_value("my-test").run()
    assert not app.error and verdicts(app)["land"] == "unlikely"


def test_thresholds_and_air_mission(app):
    app.radio(key="threshold_land_choice").set_value(appstate.CUSTOM).run()
    app.number_input(key="threshold_land_custom").set_value(500).run()
    assert verdicts(app)["land"] in ("uncertain", "likely met")
    assert next(m.label for m in app.metric if m.label.startswith("Land")) == "Land ≥ 500 troops"
    assert next(m.label for m in app.metric if m.label.startswith("Air")) == "Air ≥ 12–36 aircraft"  # drawn
    app.radio(key="air_mission").set_value("no_fly_zone").run()
    assert next(m.label for m in app.metric if m.label.startswith("Air")) == "Air ≥ 24–72 aircraft"
    app.toggle(key="threshold_sea_set").set_value(True).run()
    app.number_input(key="threshold_sea").set_value(30).run()
    assert verdicts(app)["sea"] == "cannot be met"


def test_every_shipped_scenario_file_opens(app):
    files = app.selectbox(key="scenario_file").options
    assert "baseline.toml" in files and len(files) == len(list(SCENARIOS.glob("*.toml")))
    for name in files:
        app.selectbox(key="scenario_file").set_value(name).run()
        assert not app.exception, name
        assert not app.error, (name, [e.value for e in app.error])
        assert len(app.metric) == 3, name
        scen = load_scenario(SCENARIOS / name)
        assert app.select_slider(key="us_backstop").value == scen.levers.us_backstop
        if scen.sweep:
            assert any("sweep" in i.value for i in app.info), name


def test_the_title_comes_first_and_no_stray_text(app):
    assert app.main[0].type == "title"
    assert app.title[0].value == "Can the reassurance force for Ukraine add up?"
    assert not any("Groups open" in m.value for m in app.markdown)


def test_sources_are_one_click_away(app):
    app.session_state["src_ITA"] = True  # open Italy's sources popover
    app.session_state["group_no_troops_offered"] = True
    app.run()
    text = " ".join(m.value for m in app.markdown)
    assert "requires_un_framework" in text and "A002" in text and "unless it is part of a UN framework" in text
    app.session_state["results_tab"] = "Sources"
    app.run()
    assert not app.exception
    frames = [d.value for d in app.dataframe]
    prov = next(f for f in frames if "quote" in f.columns)
    assert set(prov.field) >= {"land_stance", "land_share", "air", "sea", "required_backstop", "active_personnel"}
    app.session_state["results_tab"] = "Tables & downloads"
    app.run()
    assert not app.exception
    labels = {b.label for b in app.get("download_button")}
    assert {"Scenario (TOML)", "All tables (XLSX)", "summary.csv", "per_country.csv"} <= labels


def test_who_decides_tab_shows_pivotal_countries_and_a_plan(app):
    app.session_state["results_tab"] = "Who decides"
    app.session_state["decides_worth"] = "strength"
    app.run(timeout=120)
    assert not app.exception
    text = " ".join(m.value for m in app.markdown)
    assert "France" in text or any("France" in str(d.value) for d in app.dataframe)
    assert "Closing the gap" in text
    # the plan is a numbered list of changes, or says why no plan exists
    assert "1. " in text or "no" in text.lower()


def test_an_uploaded_scenario_cannot_ask_for_millions_of_runs(app):
    big = (SCENARIOS / "baseline.toml").read_text().replace("replications = 2000", "replications = 10000000")
    app.file_uploader[0].set_value(("big.toml", big.encode(), "application/toml")).run()
    assert not app.exception
    assert app.number_input(key="replications").value <= appstate.MAX_APP_REPLICATIONS
    summ_runs = [m.value for m in app.markdown if "runs" in m.value]
    assert not any("10,000,000" in v for v in summ_runs)
