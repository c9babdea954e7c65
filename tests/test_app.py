"""The browser app: widget state -> scenario (sim.appstate), and the page driven with Streamlit's AppTest."""

import os
import re
import time

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
os.environ["REASSURANCE_PRECOMPUTE"] = "0"  # no background analysis competing with the tests
os.environ["REASSURANCE_ANSWER_PAUSE"] = "0"  # no pause for a browser to draw the answer (there is none)


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


def test_country_rows_are_kept_per_scenario_and_a_caller_cannot_change_them(base, controls):
    harder = base.with_changes({"levers.rotation_ratio": 6.0})
    first = appstate.country_controls(base, caps_from=harder)
    first.clear()  # a caller's list is its own
    again = appstate.country_controls(base, caps_from=harder)
    assert len(again) == len(controls)
    assert control(again, "FRA").land.sustainable < control(controls, "FRA").land.sustainable
    assert appstate.country_controls(base) == controls  # the same scenario gives the same rows


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


# --- words, links and charts: pure functions ---------------------------------------------------------------

def test_verdict_words_are_the_summary_s_own(base):
    """The page says what the command line and the tables say (one definition: sim.outcomes.VERDICT_BANDS)."""
    for name in ("baseline.toml", "no_ceasefire.toml", "threshold_10000.toml"):
        summ = run_scenario(load_scenario(SCENARIOS / name), replications=300).tables["summary"]
        assert [appstate.verdict_words(r) for r in summ.itertuples()] == summ["verdict"].tolist()
    cards = appstate.verdict_cards(summ)
    assert {c["word"].lower() for c in cards} <= {"likely met", "uncertain", "unlikely", "cannot be met"}
    assert all(f"most any run could reach: {r.ceiling:,.0f}" in c["detail"]  # the ceiling, on every card
               for c, r in zip(cards, summ.itertuples(), strict=True))


def test_the_answer_sentence_says_the_band_the_shortfall_and_what_holds_countries_back(base):
    tables = run_scenario(base, replications=500).tables
    held = appstate.held_back_frame(tables["per_country"])
    text = appstate.answer_sentence(tables["summary"], held, base.levers.us_backstop)
    assert text.startswith("A land force of 30,000 troops is **unlikely**")
    assert "troops short" in text and "may want more from the US for their troops" in text
    air = base.with_changes({"levers.us_backstop": "air_cover"})
    t2 = run_scenario(air, replications=500).tables
    other = appstate.answer_sentence(t2["summary"], appstate.held_back_frame(t2["per_country"]), "air_cover")
    assert other != text and "want more from the US" not in other
    for words in (text, other):  # plain words: no lever paths, flags, Python literals or field names
        assert not any(bad in words for bad in ("levers.", "p_met", "True", "False", "_", "--"))


def test_changes_and_the_saved_description_are_in_plain_words(base, controls):
    state = {"us_backstop": "air_cover", "ceasefire": False, "land_FRA": (0, 0), "threshold_land_choice": 40_000}
    changes = appstate.changes_from_state(state, base, controls)
    lines = appstate.change_lines(changes)
    assert "US backstop: air cover" in lines and "Ceasefire: none" in lines
    assert "Land threshold: 40,000 troops" in lines and "France: land 0-0 troops" in lines
    assert not any("levers." in x or "True" in x or "False" in x for x in lines)
    scen, _ = appstate.build_scenario(base, state, controls)
    assert scen.description.startswith("Changed in the app from 'baseline':\n- US backstop: air cover")
    assert "before these changes" in scen.description  # the old text no longer passes for the scenario's


def test_inert_sliders_are_found_with_their_reason(base, controls):
    inert = appstate.inert_reasons(base, controls)
    assert "UN framework" in inert["ITA"]["land"] and "air" not in inert["ITA"]  # a condition about soldiers
    assert "eastern border" in inert["POL"]["land"] and "air" not in inert["POL"]
    assert "FRA" not in inert and "GBR" not in inert
    assert "0%" in inert["JPN"]["land"] and "part" not in inert["JPN"]
    low = appstate.inert_reasons(base.with_changes({"levers.us_backstop": "intelligence"}), controls)
    assert "command & control" in low["NLD"]["land"] and "air" not in low["NLD"] and "FRA" in low
    no_ceasefire = appstate.inert_reasons(base.with_changes({"levers.ceasefire": False}), controls)
    assert "ceasefire" in no_ceasefire["FRA"]["land"]


def test_a_closed_row_says_the_pledges_as_they_stand_and_any_lock(base, controls):
    fra, lux = control(controls, "FRA"), control(controls, "LUX")
    assert appstate.pledge_words(fra, {}) == "Offers 500–10,000 troops · 6–12 aircraft · 1–2 vessels · takes part 100%"
    moved = appstate.pledge_words(fra, {"land_FRA": (3000, 3000), "part_FRA": 50})
    assert moved.startswith("Offers 3,000 troops ·") and moved.endswith("takes part 50% · **changed**")
    assert "vessels" not in appstate.pledge_words(lux, {})  # no ships to offer: no slider, not said
    inert = appstate.inert_reasons(base, controls)
    assert appstate.lock_line(control(controls, "ITA"), inert["ITA"]).startswith("Its troops change nothing now: "
                                                                               "Italy needs a UN framework")
    assert appstate.lock_line(fra, {}) is None
    none = appstate.inert_reasons(base.with_changes({"levers.ceasefire": False}), controls)
    assert appstate.lock_line(fra, none["FRA"]).startswith("These sliders change nothing now: France nothing deploys")


def test_the_link_round_trips_the_controls_and_ignores_what_it_cannot_read(base, controls):
    defaults = appstate.control_defaults(base, controls)
    state = {**defaults, "land_FRA": (0, 500), "us_backstop": "air_cover", "ceasefire": False,
             "rotation_ratio": 4.5, "threshold_land_choice": appstate.CUSTOM, "threshold_land_custom": 12_000}
    q = appstate.state_to_query(state, defaults)
    assert q == {"land_FRA": "0-500", "us_backstop": "air_cover", "ceasefire": "0", "rotation_ratio": "4.5",
                 "threshold_land_choice": "custom", "threshold_land_custom": "12000"}
    back, notes = appstate.query_to_state(q, defaults)
    assert notes == [] and {**defaults, **back} == state
    back, notes = appstate.query_to_state({"us_backstop": "nukes", "land_FRA": "x", "seed": "7", "foo": "1"},
                                          defaults)
    assert back == {"seed": 7} and len(notes) == 2 and all("was not understood" in n for n in notes)


def test_sources_are_listed_in_plain_words(base):
    arts = appstate.article_list()
    assert len(arts) == 5 and [a["date"] for a in arts] == sorted(a["date"] for a in arts)
    assert all(a["publisher"] and a["title"] and a["link"].startswith("https://") for a in arts)
    lines = " ".join(appstate.source_lines(appstate.provenance_rows(base, "ITA")))
    assert "**Needs a UN framework**: yes" in lines and "**US backstop it requires**" in lines
    assert "uncertain" in lines.lower()
    assert not any(bad in lines for bad in ("requires_un_framework", "True", "False", "command_and_control"))


def test_charts_read_well_with_one_two_or_thirty_players_and_say_their_unit():
    from sim import charts

    def table(n, worth="p_met"):
        return pd.DataFrame({"country": [f"Country {i}" for i in range(n)], "player": True,
                             "shapley": [0.3 / (i + 1) for i in range(n)], "shapley_se": 0.0,
                             "worth": worth, "component": "land"})
    for n in (1, 2, 30):
        spec = charts.spec(charts.pivotal(table(n), "p_met", "land"))
        assert spec["height"] == {"step": charts.BAR_STEP}  # every bar the same height, however many
        x = spec["layer"][0]["encoding"]["x"]
        assert x["axis"]["format"] == ".1%" and "chance" in x["title"]
    x = charts.spec(charts.pivotal(table(3, "strength").assign(shapley=[19_931.04, 500.0, 12.0]), "strength",
                                   "land"))["layer"][0]["encoding"]["x"]
    assert x["axis"]["format"] == ",.0f" and "Troops" in x["title"] and "share of the worth" not in x["title"]
    assert charts.pivotal(table(2).assign(player=False), "p_met", "land") is None
    assert charts.pivotal(table(3).assign(shapley=0.0), "p_met", "land") is None  # all zero: said in words


def test_the_contributions_chart_is_its_skeleton_with_this_scenarios_data(base):
    from sim import charts
    pc = run_scenario(base, replications=200).tables["per_country"]
    one, two = charts.contributions(pc, "land", 30_000, 200), charts.contributions(pc, "land", 40_000, 200)
    assert [d["data"]["name"] for d in one["layer"]] == ["bars", "running", "threshold", "threshold"]
    assert one["datasets"]["threshold"] == [{"x": 30_000.0, "label": "threshold 30,000 troops"}]
    assert two["datasets"]["threshold"][0]["x"] == 40_000.0 and one["datasets"]["threshold"][0]["x"] == 30_000.0
    ranks = {r["country"]: r["rank"] for r in one["datasets"]["running"]}
    assert ranks["France"] < ranks["Turkey"]  # largest expected contribution first
    assert one["layer"][0]["encoding"]["y"]["sort"] == {"field": "rank", "op": "min", "order": "ascending"}


# --- the page, driven by AppTest ------------------------------------------------------------------------------

def new_app(query=None):
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def verdicts(at):
    """Component -> the verdict word on its card ("unlikely", "uncertain", "likely met")."""
    body = next(h.proto.body for h in at.get("html") if "vcards" in h.proto.body)
    return {c: w.lower() for c, w in re.findall(r'data-component="(\w+)".*?class="w">([^<]+)<', body)}


def answer(at):
    return next(m.value for m in at.markdown if m.value.startswith("A land force of"))


def country_line(at, name):
    lines = [c.value for c in at.caption if c.value.startswith(f"{name} in the force")]
    assert len(lines) == 1, lines
    return lines[0]


def expected_troops(at, name):
    return int(country_line(at, name).split("expected: ")[1].split(" troops")[0].replace(",", ""))


def changes_caption(at):
    return " ".join(c.value for c in at.caption if c.value.startswith(("Your changes", "The loaded scenario")))


@pytest.fixture()
def app():
    return new_app()


def test_the_page_opens_on_the_baseline_with_the_answer_first(app):
    assert app.main[0].type == "title"
    assert app.title[0].value == "Can the reassurance force for Ukraine add up?"
    assert verdicts(app)["land"] == "unlikely" and set(verdicts(app)) == {"land", "air", "sea"}
    assert "30,000 troops" in answer(app) and "want more from the US" in answer(app)
    assert app.selectbox(key="scenario_file").value == "baseline.toml"
    assert app.slider(key="land_FRA").value == (500, 10000)
    assert app.radio(key="us_backstop").value == "uncertain"
    assert not app.error and not app.warning
    assert changes_caption(app) == "The loaded scenario, unchanged."


def test_france_and_the_uk_at_zero_turn_the_land_verdict_to_cannot_be_met(app):
    app.radio(key="threshold_land_choice").set_value(10_000).run()
    assert verdicts(app)["land"] != "unlikely"
    app.slider(key="land_FRA").set_value((0, 0)).run()
    app.slider(key="land_GBR").set_value((0, 0)).run()
    assert not app.exception
    assert verdicts(app)["land"] == "cannot be met"  # the others follow the lead nations onto the ground
    assert app.slider(key="land_FRA").value == (0, 0)  # changing the UK kept France


def test_raising_pledges_raises_the_land_verdict(app):
    app.radio(key="us_backstop").set_value("air_cover")
    app.radio(key="threshold_land_choice").set_value(10_000)
    fra, gbr = app.slider(key="land_FRA"), app.slider(key="land_GBR")
    fra.set_value((int(fra.max), int(fra.max)))
    gbr.set_value((int(gbr.max), int(gbr.max)))
    app.run()
    assert verdicts(app)["land"] in ("uncertain", "likely met")
    assert "France: land" in changes_caption(app)


def test_the_us_backstop_changes_the_answer_and_unlocks_the_conditional_countries(app):
    before = answer(app)
    app.session_state["group_conditional"] = True  # open the group
    app.session_state["open_NLD"] = True  # and the Netherlands' row
    app.run()
    app.radio(key="us_backstop").set_value("intelligence").run()
    nld = app.slider(key="land_NLD")
    assert nld.value == (0, 1241) and nld.disabled and "command & control" in nld.help  # says why it does nothing
    assert not app.slider(key="air_NLD").disabled  # its aircraft do not wait for the US
    assert expected_troops(app, "Netherlands") == 0
    assert "US backstop too low" in country_line(app, "Netherlands")
    app.radio(key="us_backstop").set_value("air_cover").run()
    assert not app.exception
    assert answer(app) != before
    assert not app.slider(key="land_NLD").disabled
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
    assert app.radio(key="us_backstop").value == "air_cover"
    assert verdicts(app)["air"] == "likely met"


def test_a_scenario_file_can_be_chosen_and_controls_follow_it(app):
    app.slider(key="land_FRA").set_value((0, 0)).run()
    app.selectbox(key="scenario_file").set_value("no_ceasefire.toml").run()
    assert not app.exception
    assert app.toggle(key="ceasefire").value is False
    assert app.slider(key="land_FRA").value == (500, 10000)  # controls start again from the new file
    assert app.slider(key="land_FRA").disabled and "ceasefire" in app.slider(key="land_FRA").help
    assert verdicts(app) == {"land": "cannot be met", "air": "cannot be met", "sea": "cannot be met"}


def test_sliders_keep_their_values_across_searches_rotation_and_other_sliders(app):
    app.slider(key="land_FRA").set_value((1000, 2000)).run()
    app.slider(key="air_GBR").set_value((3, 4)).run()
    app.text_input(key="filter_text").set_value("Turkey").run()
    keys = {s.key for s in app.slider}
    assert "land_FRA" not in keys and "land_TUR" in keys
    app.slider(key="land_TUR").set_value((5000, 5000)).run()
    app.text_input(key="filter_text").set_value("nld").run()
    app.text_input(key="filter_text").set_value("").run()
    assert not any(s.key == "land_NLD" for s in app.slider)  # its group is closed
    assert app.slider(key="land_FRA").value == (1000, 2000)
    assert app.slider(key="air_GBR").value == (3, 4)
    cap = app.slider(key="land_FRA").max
    app.slider(key="rotation_ratio").set_value(6.0).run()
    assert not app.exception
    assert app.slider(key="land_FRA").max < cap
    assert app.slider(key="land_FRA").value == (1000, 2000)
    caption = changes_caption(app)
    assert "France: land 1,000-2,000 troops" in caption and "Turkey: land 5,000-5,000 troops" in caption
    assert "United Kingdom: air 3-4 aircraft" in caption and "Rotation ratio: 6.0 : 1" in caption


def test_a_closed_country_row_says_what_it_offers_and_keeps_its_sliders_values(app):
    app.slider(key="land_FRA").set_value((1000, 2000)).run()
    app.session_state["open_FRA"] = False  # close France's row: its sliders are no longer drawn
    app.session_state["group_no_troops_offered"] = True  # a group the page opens with its rows closed
    app.run()
    assert not app.exception
    keys = {s.key for s in app.slider}
    assert "land_FRA" not in keys and "land_GBR" in keys and "land_ITA" not in keys
    captions = [c.value for c in app.caption]
    france = next(c for c in captions if c.startswith("Offers 1,000–2,000 troops"))
    assert "**changed**" in france and "expected in the force: " in france
    italy = next(c for c in captions if "Italy needs a UN framework" in c)
    assert italy.startswith("Offers 0–4,965 troops") and "Its troops change nothing now" in italy
    assert "France: land 1,000-2,000 troops" in changes_caption(app)  # the closed row still counts
    assert app.query_params["land_FRA"] in ("1000-2000", ["1000-2000"])
    app.session_state["open_FRA"] = True
    app.run()
    assert app.slider(key="land_FRA").value == (1000, 2000)


def test_a_pledge_pulled_back_by_the_rotation_ratio_is_said_in_a_warning(app):
    fra = app.slider(key="land_FRA")
    fra.set_value((int(fra.max), int(fra.max))).run()
    app.slider(key="rotation_ratio").set_value(8.0).run()
    assert not app.exception
    assert any("France's land pledge was pulled back" in w.value for w in app.warning)


def test_reset_returns_every_control_to_the_scenario(app):
    app.slider(key="land_FRA").set_value((0, 0))
    app.radio(key="us_backstop").set_value("us_command")
    app.radio(key="threshold_land_choice").set_value(100_000)
    app.run()
    app.button(key="reset_controls").click().run()
    assert not app.exception
    assert app.slider(key="land_FRA").value == (500, 10000)
    assert app.radio(key="us_backstop").value == "uncertain"
    assert app.radio(key="threshold_land_choice").value == 30_000
    app.selectbox(key="scenario_file").set_value("un_framework.toml").run()
    app.button(key="reset_baseline").click().run()
    assert app.selectbox(key="scenario_file").value == "baseline.toml"


def test_invalid_settings_show_an_error_not_a_traceback(app):
    app.text_input(key="scenario_name").set_value("bad/name").run()
    assert not app.exception
    errors = " ".join(e.value for e in app.error)
    assert "do not make a valid scenario" in errors and "name" in errors and "'bad/name'" in errors
    assert "the page's settings (from baseline.toml)" in errors
    app.text_input(key="scenario_name").set_value("my-test").run()
    assert not app.error and verdicts(app)["land"] == "unlikely"


def test_thresholds_and_air_mission(app):
    app.radio(key="threshold_land_choice").set_value(appstate.CUSTOM).run()
    app.number_input(key="threshold_land_custom").set_value(500).run()
    assert verdicts(app)["land"] in ("uncertain", "likely met")
    assert answer(app).startswith("A land force of 500 troops is **")
    body = next(h.proto.body for h in app.get("html") if "vcards" in h.proto.body)
    assert "Air ≥ 12–36 aircraft" in body  # drawn per run from the data's range
    app.radio(key="air_mission").set_value("no_fly_zone").run()
    body = next(h.proto.body for h in app.get("html") if "vcards" in h.proto.body)
    assert "Air ≥ 24–72 aircraft" in body
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
        assert len(verdicts(app)) == 3, name
        scen = load_scenario(SCENARIOS / name)
        assert app.radio(key="us_backstop").value == scen.levers.us_backstop
        if scen.sweep:
            assert any("sweep" in w.value for w in app.warning), name


def test_a_shared_link_restores_the_sliders_and_the_verdict(app):
    app.radio(key="us_backstop").set_value("air_cover").run()
    app.slider(key="land_FRA").set_value((0, 9000)).run()
    app.radio(key="threshold_land_choice").set_value(10_000).run()
    link = {k: v[0] if isinstance(v, list) else v for k, v in app.query_params.items()}
    assert link == {"us_backstop": "air_cover", "land_FRA": "0-9000", "threshold_land_choice": "10000"}
    other = new_app(link)
    assert other.radio(key="us_backstop").value == "air_cover"
    assert other.slider(key="land_FRA").value == (0, 9000)
    assert verdicts(other) == verdicts(app) and answer(other) == answer(app)
    bad = new_app({"us_backstop": "nukes", "file": "no_ceasefire.toml"})
    assert bad.selectbox(key="scenario_file").value == "no_ceasefire.toml"
    assert any("was not understood" in w.value for w in bad.warning)


def test_sources_are_one_click_away(app):
    text = " ".join(m.value for m in app.markdown)  # the sources popover of the verdict bar
    assert text.count("https://") >= 5 and "Eunews" in text and "2025-09-05" in text
    app.session_state["src_ITA"] = True  # open Italy's sources popover
    app.session_state["group_no_troops_offered"] = True
    app.session_state["open_ITA"] = True
    app.run()
    text = " ".join(m.value for m in app.markdown)
    assert "**Needs a UN framework**: yes" in text and "A002" in text and "unless it is part of a UN framework" in text
    assert "requires_un_framework" not in text
    app.session_state["results_tab"] = "Sources"
    app.run()
    assert not app.exception
    prov = next(d.value for d in app.dataframe if "quote" in d.value.columns)
    assert {"Needs a UN framework", "US backstop it requires", "Active military personnel"} <= set(prov.label)
    app.session_state["results_tab"] = "Downloads"
    app.run()
    assert not app.exception
    labels = {b.label for b in app.get("download_button")}
    assert {"Scenario (TOML)", "All tables (XLSX)", "summary.csv", "per_country.csv"} <= labels


def test_who_decides_runs_only_on_demand_and_says_when_it_is_stale(app, monkeypatch):
    from sim import analysis
    calls = []
    real = analysis.pivotal_countries
    monkeypatch.setattr(analysis, "pivotal_countries", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(analysis, "gap_plan", lambda s, **k: _fake_gap())  # the search itself is tested elsewhere
    app.session_state["results_tab"] = "Who decides"
    app.session_state["decides_worth"] = "strength"
    app.run()
    assert not app.exception and calls == []  # opening the tab runs nothing
    assert any("Press Run" in i.value for i in app.info)
    app.button(key="decides_run").click().run()
    for _ in range(120):  # the analysis runs in the background; the page polls it
        if "Closing the gap" in " ".join(m.value for m in app.markdown):
            break
        time.sleep(0.5)
        app.run()
    assert not app.exception and len(calls) == 1
    text = " ".join(m.value for m in app.markdown)
    assert "France" in text and "Closing the gap to 90%" in text and "1. The US raises its backstop" in text
    assert "One change would lift the chance of a land force of 30,000 troops from 0% to 95%" in text
    app.slider(key="land_FRA").set_value((0, 9000)).run()  # an unrelated move
    assert len(calls) == 1
    assert any(w.value.startswith("Stale") for w in app.warning)
    assert "France" in " ".join(m.value for m in app.markdown)  # the old result stays, labelled


def _fake_gap():
    class Fake:
        plan = pd.DataFrame({"step": [1], "change": ["The US raises its backstop"]})
        summary = pd.DataFrame([{"component": "land", "threshold": 30_000.0, "found": True, "changes": 1,
                                 "p_met_before": 0.0, "p_met_after": 0.95, "target": 0.9, "troops_added": 0.0,
                                 "countries_asked": 0, "proven_cheapest": True, "max_changes": 4}])
    return Fake()


def test_an_uploaded_scenario_cannot_ask_for_millions_of_runs_and_the_page_says_so(app):
    big = (SCENARIOS / "baseline.toml").read_text().replace("replications = 2000", "replications = 10000000")
    app.file_uploader[0].set_value(("big.toml", big.encode(), "application/toml")).run()
    assert not app.exception
    assert app.number_input(key="replications").value <= appstate.MAX_APP_REPLICATIONS
    assert any("10,000,000 runs" in w.value and "at most 20,000" in w.value for w in app.warning)


def test_download_bytes_are_built_once_per_scenario_and_equal_the_export(base):
    import app as page
    toml = base.to_toml()
    one = page.download_bytes(toml, 200, "summary", "csv")
    two = page.download_bytes(toml, 200, "summary", "csv")
    assert one == two and one.startswith(b"scenario,")
    assert page.download_bytes(toml, 200, "all", "xlsx")[:2] == b"PK"  # a zip: the XLSX workbook


# --- the record since the articles (issue 12): the date control and the timeline -----------------------------

def test_the_as_of_date_becomes_the_scenario_s_as_of_and_travels_in_the_link(base, controls):
    dates = appstate.as_of_dates()
    defaults = appstate.control_defaults(base, controls)
    assert defaults["as_of"] == dates[0] == "2025-09-05" and len(dates) > 3
    assert appstate.changes_from_state({"as_of": dates[0]}, base, controls) == {}
    later = appstate.changes_from_state({"as_of": dates[-1]}, base, controls)
    assert later == {"as_of": dates[-1]}
    scen, _ = appstate.build_scenario(base, {"as_of": dates[-1]}, controls)
    assert scen.as_of == dates[-1] and f"Data as of: statements made up to {dates[-1]}" in scen.description
    q = appstate.state_to_query({**defaults, "as_of": dates[-1]}, defaults)
    assert q == {"as_of": dates[-1]} and appstate.query_to_state(q, defaults)[0] == {"as_of": dates[-1]}
    _, notes = appstate.query_to_state({"as_of": "1999-01-01"}, defaults)
    assert notes and "as of" in notes[0]
    words = appstate.as_of_words()
    assert list(words) == dates and "baseline" in words[dates[0]] and dates[-1] in words[dates[-1]]


def test_the_timeline_chart_draws_a_step_per_date():
    from sim import charts, timeline

    tl = timeline.timeline_tables(load_scenario(SCENARIOS / "baseline.toml"), replications=100)["timeline"]
    spec = charts.spec(charts.timeline(tl))
    values = [v for data in spec["datasets"].values() for v in data]
    assert {v["component"] for v in values} == {"land", "air", "sea"}
    assert len({v["as_of"] for v in values}) == len(timeline.as_of_choices())
    assert charts.timeline(tl.iloc[0:0]) is None


def test_moving_the_date_changes_the_answer_and_the_record_tab_lists_the_statements(app):
    before = answer(app)
    dates = appstate.as_of_dates()
    app.select_slider(key="as_of").set_value(dates[-1]).run()
    assert not app.exception and answer(app) != before
    assert f"Data as of: statements made up to {dates[-1]}" in changes_caption(app)
    app.session_state["results_tab"] = "The record"
    app.run()
    assert not app.exception and not any("record" in (i.value or "") for i in app.error)
    app.button(key="record_run").click().run(timeout=120)
    assert not app.exception
    frames = [d.value for d in app.dataframe]
    record = next(f for f in frames if "url" in f.columns and "quality" in f.columns)
    assert record["url"].str.startswith("http").all() and record["flagged"].any()
