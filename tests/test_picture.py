"""The baseline shows the picture the articles draw, and each lever moves the result the way its claim says."""

import numpy as np
import pytest

from sim.runner import run_scenario

from .conftest import scenario

REPS = 2000
CONDITIONAL = ["NLD", "DNK", "SWE", "NOR", "FIN", "EST", "LVA", "LTU", "CZE", "ROU", "PRT", "CAN", "AUS"]


@pytest.fixture(scope="module")
def results():
    names = ["baseline", "no_us_backstop", "us_air_cover", "un_framework", "no_ceasefire", "russia_strikes",
             "france_government_falls"]
    return {n: run_scenario(scenario(f"{n}.toml"), replications=REPS) for n in names}


def _pc(res):
    return res.tables["per_country"].set_index("iso3")


def _land(res):
    return res.tables["summary"].set_index("component").loc["land"]


def test_baseline_france_and_uk_carry_the_land_force(results):
    pc = _pc(results["baseline"])
    top2 = pc["expected_land"].sort_values(ascending=False).index[:2].tolist()
    assert sorted(top2) == ["FRA", "GBR"]
    share = pc.loc[["FRA", "GBR"], "expected_land"].sum() / pc["expected_land"].sum()
    assert share > 0.75


def test_baseline_us_germany_italy_poland_send_no_ground_troops(results):
    res = results["baseline"]
    iso = list(res.params.iso3)
    for c in ("USA", "DEU", "ITA", "POL"):
        assert np.all(res.arrays.window_sum[:, iso.index(c), 0] == 0), c
    # Poland's and Italy's zeros come from their conditions, not from empty data: meet the conditions
    # (and the backstop the conditional countries need) and they send troops.
    met = scenario("baseline.toml").with_changes({"levers.eastern_border_secure": True, "levers.un_framework": True,
                                                 "levers.us_backstop": "air_cover"})
    pc = run_scenario(met, replications=300).tables["per_country"].set_index("iso3")
    assert pc.loc["POL", "expected_land"] > 0 and pc.loc["ITA", "expected_land"] > 0
    assert pc.loc["USA", "expected_land"] == 0 and pc.loc["DEU", "expected_land"] == 0


def test_baseline_conditional_europeans_hold_back_for_the_backstop(results):
    pc = _pc(results["baseline"])
    assert (pc.loc[CONDITIONAL, "expected_land"] == 0).all()
    assert (pc.loc[CONDITIONAL, "p_held_back_us_backstop"] == 1).all()


def test_baseline_30000_is_in_doubt(results):
    land = _land(results["baseline"])
    assert land.p_met < 0.5
    assert land.verdict == "not met"
    assert land.min_strength_q50 < 30000


def test_no_backstop_keeps_conditional_europeans_out(results):
    pc = _pc(results["no_us_backstop"])
    assert (pc.loc[CONDITIONAL, "expected_land"] == 0).all()
    assert _land(results["no_us_backstop"]).mean_strength < _land(results["baseline"]).mean_strength


def test_us_air_cover_brings_the_conditional_europeans_in(results):
    pc = _pc(results["us_air_cover"])
    assert (pc.loc[CONDITIONAL, "expected_land"] > 0).all()
    assert pc.loc["BEL", "expected_air"] > 0 and pc.loc["BEL", "expected_sea"] > 0  # Belgium: air and sea only
    assert _pc(results["baseline"]).loc["BEL", "expected_air"] == 0
    assert _land(results["us_air_cover"]).p_met > _land(results["baseline"]).p_met
    assert _land(results["us_air_cover"]).mean_strength > _land(results["baseline"]).mean_strength + 5000


def test_un_framework_brings_italy_in(results):
    assert _pc(results["baseline"]).loc["ITA", "expected_land"] == 0
    assert _pc(results["un_framework"]).loc["ITA", "expected_land"] > 0
    assert _land(results["un_framework"]).mean_strength > _land(results["baseline"]).mean_strength


def test_no_ceasefire_means_no_force(results):
    res = results["no_ceasefire"]
    assert res.arrays.land.max() == 0 and res.arrays.air.max() == 0 and res.arrays.sea.max() == 0
    assert (res.tables["summary"]["p_met"] == 0).all()


def test_russian_strikes_shrink_the_force(results):
    strikes, base = results["russia_strikes"], results["baseline"]
    assert _land(strikes).mean_strength < _land(base).mean_strength
    assert _pc(strikes)["p_held_back_incident"].sum() > _pc(base)["p_held_back_incident"].sum()
    assert _pc(strikes)["p_held_back_cascade"].sum() > _pc(base)["p_held_back_cascade"].sum()


def test_france_government_falling_weakens_the_force(results):
    fall, base = results["france_government_falls"], results["baseline"]
    assert _pc(fall).loc["FRA", "p_withdrew"] > _pc(base).loc["FRA", "p_withdrew"] + 0.2
    assert _land(fall).mean_strength < _land(base).mean_strength
    # France's withdrawal pulls out those who follow the lead nations when the UK is not there either
    assert _pc(fall).loc["TUR", "p_held_back_cascade"] > _pc(base).loc["TUR", "p_held_back_cascade"]


def test_raising_pledges_over_the_threshold_flips_the_verdict():
    base = scenario("baseline.toml")
    big = base.with_changes({"countries.FRA": {"land_troops": [20000, 20000]},
                             "countries.GBR": {"land_troops": [20000, 20000], "p_participate": 1.0}})
    assert _land(run_scenario(base, replications=500)).verdict == "not met"
    assert _land(run_scenario(big, replications=500)).verdict == "met"
    zero = base.with_changes({"countries.FRA": {"land_troops": [0, 0]}, "countries.GBR": {"land_troops": [0, 0]}})
    assert _land(run_scenario(zero, replications=200)).mean_strength < 7500  # only Turkey might remain


def test_capacity_cap_is_flagged_not_kept():
    base = scenario("baseline.toml")
    s = base.with_changes({"countries.FRA": {"land_troops": [90000, 90000]}})
    res = run_scenario(s, replications=50)
    i = res.params.iso3.index("FRA")
    assert res.arrays.over_capacity[:, i].all()
    assert res.arrays.pledge[:, i, 0].max() == res.params.land_cap[i] < 90000
    assert _pc(res).loc["FRA", "p_held_back_capacity"] == 1
