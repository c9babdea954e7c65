"""Nothing decorative: every lever, country field and condition changes some outcome in some scenario."""

import pytest

from sim import rules
from sim.runner import run_scenario
from sim.scenario import CountryOverride, Levers, Thresholds

from .conftest import scenario

REPS = 400
DESCRIPTIVE = {"coalition_member", "land_stance", "air_stance", "sea_stance"}
"""Country fields that are shown and exported but drive no rule (CountryOverride's docstring says so)."""

AIR_COVER = {"levers.us_backstop": "air_cover"}
# dotted path -> (scenario file, extra changes that put the lever where it can bite, the changed value)
LEVER_CHANGES = {
    "levers.us_backstop": ("baseline.toml", {}, "air_cover"),
    "levers.backstop_required_by_leads": ("baseline.toml", {}, "intelligence"),
    "levers.backstop_required_by_others": ("baseline.toml", {}, "command_and_control"),
    "levers.army_share": ("us_air_cover.toml", {"levers.rotation_ratio": 5.0}, 0.2),
    "levers.us_backstop_changes": ("us_air_cover.toml", {}, [{"month": 12, "level": "none"}]),
    "levers.ceasefire": ("baseline.toml", {}, False),
    "levers.ceasefire_month": ("baseline.toml", {}, 10),
    "levers.un_framework": ("baseline.toml", {**AIR_COVER, "levers.russia_stance": "tolerate"}, True),
    "levers.eastern_border_secure": ("baseline.toml", AIR_COVER, True),
    "levers.russia_stance": ("us_air_cover.toml", {}, "tolerate"),
    "levers.incident_rate": ("us_air_cover.toml", {}, 0.3),
    "levers.rotation_ratio": ("us_air_cover.toml", {}, 6.0),
    "levers.horizon_months": ("baseline.toml", {}, 12),
    "levers.air_mission": ("baseline.toml", {}, "no_fly_zone"),
    "thresholds.land": ("baseline.toml", {}, 10000),
    "thresholds.air": ("baseline.toml", {}, 60),
    "thresholds.sea": ("baseline.toml", {}, 20),
}
COUNTRY_CHANGES = {
    "is_lead": ("us_air_cover.toml", {}, "TUR", True),
    "land_share": ("us_air_cover.toml", {}, "NLD", [0.05, 0.05]),
    "land_troops": ("baseline.toml", {}, "FRA", [20000, 20000]),
    "air": ("baseline.toml", {}, "DEU", [10, 10]),
    "sea": ("baseline.toml", {}, "DEU", [3, 3]),
    "p_participate": ("baseline.toml", {}, "NLD", 0.0),
    "p_troops": ("baseline.toml", {}, "GBR", 1.0),
    "required_backstop": ("baseline.toml", {}, "FRA", "none"),
    "requires_un_framework": ("baseline.toml", {}, "FRA", True),
    "mandate_delay_months": ("us_air_cover.toml", {}, "GBR", 4),
    "follows_leads": ("us_air_cover.toml", {"countries.FRA.government_falls_month": 8,
                                            "countries.FRA.withdraw_if_government_falls": 1.0}, "TUR", False),
    "momentum_threshold": ("us_air_cover.toml", {}, "NLD", 40000),
    "border_priority": ("baseline.toml", {}, "FRA", True),
    "government_fall_hazard": ("baseline.toml", {"countries.GBR.withdraw_if_government_falls": 0.5}, "GBR", 0.2),
    "withdraw_if_government_falls": ("france_government_falls.toml", {}, "FRA", 1.0),
    "casualty_withdraw_prob": ("russia_strikes.toml", AIR_COVER, "GBR", 1.0),
    "government_falls_month": ("baseline.toml", {"countries.GBR.withdraw_if_government_falls": 1.0}, "GBR", 6),
}


def _outcome(s):
    t = run_scenario(s, replications=REPS).tables
    return {name: t[name].drop(columns="scenario") for name in ("summary", "per_country", "per_month")}


def _differs(a, b):
    return any(not a[k].equals(b[k]) for k in a)


def test_every_lever_and_country_field_has_a_change_that_bites():
    levers = {f"levers.{k}" for k in Levers.model_fields} | {f"thresholds.{k}" for k in Thresholds.model_fields}
    assert set(LEVER_CHANGES) == levers
    assert set(COUNTRY_CHANGES) == set(CountryOverride.model_fields) - DESCRIPTIVE


@pytest.mark.parametrize("path", sorted(LEVER_CHANGES))
def test_a_lever_changes_an_outcome(path):
    file, setup, value = LEVER_CHANGES[path]
    base = scenario(file).with_changes(setup) if setup else scenario(file)
    assert _differs(_outcome(base), _outcome(base.with_changes({path: value}))), path


@pytest.mark.parametrize("field", sorted(COUNTRY_CHANGES))
def test_a_country_field_changes_an_outcome(field):
    file, setup, iso, value = COUNTRY_CHANGES[field]
    base = scenario(file).with_changes(setup) if setup else scenario(file)
    changed = base.with_changes({f"countries.{iso}.{field}": value})
    assert _differs(_outcome(base), _outcome(changed)), field


# condition -> a scenario in which it holds some country back (per_country p_held_back_*)
CONDITION_SCENARIOS = {
    "ceasefire": ("no_ceasefire.toml", {}),
    "us_backstop": ("baseline.toml", {}),
    "un_framework": ("baseline.toml", {}),
    "border_priority": ("baseline.toml", {}),
    "willingness": ("baseline.toml", {}),
    "government_fell": ("france_government_falls.toml", {}),
    "lead_nations": ("baseline.toml", {}),
    "momentum": ("baseline.toml", {}),
    "parliament_mandate": ("germany_sends_troops.toml", AIR_COVER),
    "incident": ("russia_strikes.toml", AIR_COVER),
    "cascade": ("russia_strikes.toml", AIR_COVER),
    "capacity": ("us_air_cover.toml", {"levers.rotation_ratio": 6.0}),
    "troops_decision": ("baseline.toml", {}),
}


def test_every_condition_has_a_scenario():
    assert set(CONDITION_SCENARIOS) == set(rules.CONDITIONS.values())


@pytest.mark.parametrize("name", sorted(CONDITION_SCENARIOS))
def test_a_condition_holds_someone_back_somewhere(name):
    file, setup = CONDITION_SCENARIOS[name]
    s = scenario(file).with_changes(setup) if setup else scenario(file)
    pc = run_scenario(s, replications=REPS).tables["per_country"]
    cols = [c for c in pc.columns if c.startswith("p_held_back_") and c.endswith(f"_{name}")]
    assert cols and pc[cols].to_numpy().max() > 0, name
