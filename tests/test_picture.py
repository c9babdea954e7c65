"""The baseline shows the picture the evidence draws, and each lever moves the result the way its claim says."""

import numpy as np
import pytest

from sim import outcomes
from sim.runner import run_scenario

from .conftest import scenario

REPS = 2000
# Possible contributors of the conditional profile that pledged land troops (Romania, Greece, Croatia,
# Luxembourg and Bulgaria ruled troops out before September 2025).
CONDITIONAL = ["NLD", "DNK", "SWE", "NOR", "FIN", "EST", "LVA", "LTU", "CZE", "PRT", "CAN", "AUS"]
ALL_NEEDS_MET = {"levers.us_backstop": "air_cover", "levers.backstop_required_by_leads": "air_cover",
                 "levers.backstop_required_by_others": "air_cover"}


@pytest.fixture(scope="module")
def results():
    names = ["baseline", "no_us_backstop", "us_air_cover", "un_framework", "no_ceasefire", "russia_strikes",
             "france_government_falls", "threshold_100000"]
    return {n: run_scenario(scenario(f"{n}.toml"), replications=REPS) for n in names}


def _pc(res):
    return res.tables["per_country"].set_index("iso3")


def _row(res, comp="land"):
    return res.tables["summary"].set_index("component").loc[comp]


def test_baseline_france_and_uk_carry_the_land_force(results):
    pc = _pc(results["baseline"])
    top2 = pc["expected_land"].sort_values(ascending=False).index[:2].tolist()
    assert sorted(top2) == ["FRA", "GBR"]
    share = pc.loc[["FRA", "GBR"], "expected_land"].sum() / pc["expected_land"].sum()
    assert share > 0.5


def test_baseline_us_germany_italy_poland_send_no_ground_troops(results):
    res = results["baseline"]
    iso = list(res.params.iso3)
    for c in ("USA", "DEU", "ITA", "POL"):
        assert np.all(res.arrays.window_sum[:, iso.index(c), 0] == 0), c
    # Poland's and Italy's zeros come from their conditions, not from empty data: meet the conditions
    # (a UN framework needs Russia's vote) and they send troops.
    met = scenario("baseline.toml").with_changes({"levers.eastern_border_secure": True, "levers.un_framework": True,
                                                 "levers.russia_stance": "tolerate", **ALL_NEEDS_MET})
    pc = run_scenario(met, replications=300).tables["per_country"].set_index("iso3")
    assert pc.loc["POL", "expected_land"] > 0 and pc.loc["ITA", "expected_land"] > 0
    assert pc.loc["USA", "expected_land"] == 0 and pc.loc["DEU", "expected_land"] == 0


def test_the_backstop_holds_back_troops_not_aircraft_or_ships(results):
    """A condition binds the components its source speaks of: 'without US support' is about troops."""
    pc = _pc(results["baseline"])
    assert (pc.loc[CONDITIONAL, "p_held_back_land_us_backstop"] > 0.3).all()
    assert "p_held_back_air_us_backstop" not in pc.columns and "p_held_back_sea_us_backstop" not in pc.columns
    flyers = [c for c in CONDITIONAL if pc.loc[c, "pledge_air_mean"] > 0]
    assert flyers and (pc.loc[flyers, "expected_air"] > 0).all()
    # pinned to a backstop below what the others require, their troops stay home; their aircraft still fly
    low = scenario("baseline.toml").with_changes({"levers.us_backstop": "command_and_control",
                                                 "levers.backstop_required_by_others": "air_cover"})
    pc = _pc(run_scenario(low, replications=500))
    others = [c for c in CONDITIONAL if c not in ("EST", "LTU")]  # the Baltic two hold to the leads' need
    assert (pc.loc[others, "p_held_back_land_us_backstop"] > 0.95).all()  # whenever they pledged troops
    assert (pc.loc[others, "expected_land"] == 0).all()
    assert (pc.loc[flyers, "expected_air"] > 0).all()


def test_baseline_30000_is_unlikely(results):
    land = _row(results["baseline"])
    assert land.p_met < 0.1 and land.verdict == "unlikely"
    assert land.min_strength_q50 < 30000
    assert 30000 < land.ceiling and land.ceiling_reason == ""


def test_no_backstop_keeps_everyone_s_troops_out(results):
    res = results["no_us_backstop"]
    assert res.arrays.land.max() == 0
    land = _row(res)
    assert land.verdict == outcomes.CANNOT and land.ceiling == 0 and land.ceiling_reason == "conditions"
    assert _row(res, "air").p_met > 0.9  # air patrols do not wait for the US backstop


def test_us_air_cover_brings_the_conditional_europeans_in(results):
    pc = _pc(results["us_air_cover"])
    assert (pc.loc[CONDITIONAL, "expected_land"] > 0).all()
    assert _row(results["us_air_cover"]).p_met > _row(results["baseline"]).p_met
    assert _row(results["us_air_cover"]).mean_strength > _row(results["baseline"]).mean_strength + 3000


def test_un_framework_brings_italy_in(results):
    assert _pc(results["baseline"]).loc["ITA", "expected_land"] == 0
    assert _pc(results["un_framework"]).loc["ITA", "expected_land"] > 0
    assert _row(results["un_framework"]).mean_strength > _row(results["baseline"]).mean_strength


def test_no_ceasefire_means_no_force(results):
    res = results["no_ceasefire"]
    assert res.arrays.land.max() == 0 and res.arrays.air.max() == 0 and res.arrays.sea.max() == 0
    summ = res.tables["summary"]
    assert (summ["p_met"] == 0).all() and (summ["verdict"] == outcomes.CANNOT).all()


def test_a_backstop_cut_in_the_tested_months_puts_the_threshold_out_of_reach():
    """The threshold must hold in every tested month: a backstop withdrawn in month 12 leaves no troops."""
    res = run_scenario(scenario("backstop_withdrawn_month_12.toml"), replications=200)
    land = _row(res)
    assert land.verdict == outcomes.CANNOT and land.ceiling == 0 and land.ceiling_reason == "conditions"


def test_a_threshold_above_every_pledge_cannot_be_met(results):
    land = _row(results["threshold_100000"])
    assert land.verdict == outcomes.CANNOT and land.ceiling < 100000 and land.ceiling_reason == "pledges"


def test_russian_strikes_shrink_the_force(results):
    strikes, base = results["russia_strikes"], results["baseline"]
    assert _row(strikes).mean_strength < _row(base).mean_strength
    assert _pc(strikes)["p_held_back_land_incident"].sum() > _pc(base)["p_held_back_land_incident"].sum()
    assert _pc(strikes)["p_held_back_land_cascade"].sum() > _pc(base)["p_held_back_land_cascade"].sum()


def test_france_government_falling_weakens_the_force(results):
    fall, base = results["france_government_falls"], results["baseline"]
    assert _pc(fall).loc["FRA", "p_withdrew"] > _pc(base).loc["FRA", "p_withdrew"] + 0.2
    assert _row(fall).mean_strength < _row(base).mean_strength
    assert _row(fall, "air").mean_strength < _row(base, "air").mean_strength  # its aircraft go home too


def test_raising_pledges_over_the_threshold_flips_the_verdict():
    base = scenario("baseline.toml")
    big = base.with_changes({"countries.FRA": {"land_troops": [20000, 20000]},
                             "countries.GBR": {"land_troops": [20000, 20000], "p_troops": 1.0},
                             "countries.FRA.government_fall_hazard": 0.0, "levers.russia_stance": "tolerate",
                             "levers.rotation_ratio": 1.0, **ALL_NEEDS_MET})
    assert _row(run_scenario(base, replications=500)).verdict == "unlikely"
    assert _row(run_scenario(big, replications=500)).verdict == "likely met"


def test_capacity_cap_is_flagged_not_kept():
    base = scenario("baseline.toml")
    s = base.with_changes({"countries.FRA": {"land_troops": [90000, 90000]}})
    res = run_scenario(s, replications=50)
    i = res.params.iso3.index("FRA")
    assert res.arrays.over_capacity[:, i].all()
    assert res.arrays.pledge[:, i, 0].max() <= res.params.land_cap_range[1][i] < 90000
    assert _pc(res).loc["FRA", "p_held_back_land_capacity"] == 1


def test_capacity_binds_so_the_rotation_ratio_matters():
    """Land capacity comes from land forces: with the reported pledges, sustaining them at a higher rotation
    ratio cuts what the lead nations keep on the ground."""
    s = scenario("us_air_cover.toml")
    easy = run_scenario(s.with_changes({"levers.rotation_ratio": 1.0}), replications=1000)
    hard = run_scenario(s.with_changes({"levers.rotation_ratio": 6.0}), replications=1000)
    assert _pc(hard).loc["GBR", "p_over_capacity"] > 0.3 > _pc(easy).loc["GBR", "p_over_capacity"]
    assert _row(hard).mean_strength < _row(easy).mean_strength
    assert _row(hard).ceiling < _row(easy).ceiling


def test_a_mandate_delays_past_the_build_up():
    """Germany's Bundestag mandate (A003) is counted from when it is ready, so it can cost tested months."""
    s = scenario("germany_sends_troops.toml").with_changes(ALL_NEEDS_MET)
    slow = run_scenario(s, replications=300)
    fast = run_scenario(s.with_changes({"countries.DEU.mandate_delay_months": 0}), replications=300)
    assert _pc(slow).loc["DEU", "p_held_back_land_parliament_mandate"] > 0.5
    assert _pc(slow).loc["DEU", "expected_land"] < _pc(fast).loc["DEU", "expected_land"]


def test_drawn_uncertainties_are_recorded_and_their_drivers_reported(results):
    res = results["baseline"]
    runs = res.tables["per_run"]
    assert set(runs["us_backstop"]) == {"intelligence", "command_and_control", "air_cover"}
    assert runs["air_threshold"].between(12, 36).all() and runs["air_threshold"].nunique() > 10
    drivers = res.tables["drivers"]
    assert set(drivers["uncertainty"]) >= {"us_backstop", "backstop_required_by_others", "army_share"}
    assert drivers["first_order_index"].between(0, 1).all()
    air = drivers[(drivers.component == "air") & (drivers.uncertainty == "air_threshold")]
    assert air["first_order_index"].iloc[0] > drivers[(drivers.component == "air")
                                                      & (drivers.uncertainty == "army_share")][
        "first_order_index"].iloc[0]
    # pinned, an uncertainty is the same in every run and no longer among the drivers
    pinned = results["us_air_cover"]
    assert set(pinned.tables["per_run"]["us_backstop"]) == {"air_cover"}
    assert "us_backstop" not in set(pinned.tables["drivers"]["uncertainty"])


def test_verdict_words_by_probability_band():
    assert outcomes.verdict_label(0.95) == "likely met"
    assert outcomes.verdict_label(0.9) == "likely met"
    assert outcomes.verdict_label(0.503) == "uncertain"
    assert outcomes.verdict_label(0.1) == "uncertain"
    assert outcomes.verdict_label(0.02) == "unlikely"
    assert outcomes.verdict_label(0.95, reachable=False) == outcomes.CANNOT
