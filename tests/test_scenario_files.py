"""Scenario files are validated at the door: a wrong file names the file, the field and what was expected."""

import pytest

from sim.scenario import ScenarioError, load_scenario, scenario_from_text

from .conftest import SCENARIOS, SHIPPED

BASE = (SCENARIOS / "baseline.toml").read_text()


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_are_valid_and_round_trip(name):
    s = load_scenario(SCENARIOS / name)
    assert s.description and s.seed >= 0
    again = scenario_from_text(s.to_toml(), name="again")
    assert again.content_hash() == s.content_hash()


@pytest.mark.parametrize("change,field,expected", [
    ("[levers]\nus_backstop = \"lots\"", "levers.us_backstop", "Input should be 'none'"),
    ("[levers]\nincident_rate = 1.5", "levers.incident_rate", "less than or equal to 1"),
    ("[levers]\nhorizon_months = 10000000", "levers.horizon_months", "less than or equal to 600"),
    ("[levers]\nrotation_ratio = \"three\"", "levers.rotation_ratio", "valid number"),
    ("[levers]\nbogus = 1", "levers.bogus", "unknown field"),
    ("[thresholds]\nland = 0", "thresholds.land", "greater than 0"),
    ("[countries.XYZ]\np_participate = 0.5", "countries.XYZ", "unknown country code"),
    ("[countries.FRA]\nland_troops = [-5, 10]", "countries.FRA.land_troops[0]", "greater than or equal to 0"),
    ("[countries.FRA]\nland_troops = [500, 10]", "countries.FRA", "above max"),
    ("[countries.FRA]\nland_stance = \"eager\"", "countries.FRA.land_stance", "expected one of"),
    ("[sweep]\n\"levers.nope\" = [1, 2]", "sweep.levers.nope", ""),
])
def test_bad_values_name_file_field_and_expectation(tmp_path, change, field, expected):
    p = write(tmp_path, f'extends = "{SCENARIOS / "baseline.toml"}"\nname = "bad"\ndescription = "x"\n{change}\n')
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    msg = str(e.value)
    assert str(p) in msg and field in msg and expected in msg, msg


def test_all_errors_of_a_file_are_reported_at_once(tmp_path):
    text = BASE.replace("incident_rate = 0.02", "incident_rate = -1").replace(
        "horizon_months = 36", "horizon_months = 0").replace("seed = 20250904", 'seed = "abc"')
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, text))
    fields = {f for _, f, _ in e.value.errors}
    assert {"levers.incident_rate", "levers.horizon_months", "seed"} <= fields


def test_missing_lever_is_named(tmp_path):
    with pytest.raises(ScenarioError, match=r"levers.rotation_ratio: required field is missing"):
        load_scenario(write(tmp_path, BASE.replace("rotation_ratio = 3.0\n", "")))


def test_not_toml_and_too_big_and_too_deep(tmp_path):
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(write(tmp_path, "name = [unclosed"))
    with pytest.raises(ScenarioError, match="bytes"):
        load_scenario(write(tmp_path, "# " + "x" * 300_000))
    deep = "a = " + "[" * 10 + "]" * 10
    with pytest.raises(ScenarioError, match="nested deeper"):
        load_scenario(write(tmp_path, deep))
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.toml")


def test_extends_missing_and_cyclic(tmp_path):
    with pytest.raises(ScenarioError, match=r"extends: 'nope.toml': no such file"):
        load_scenario(write(tmp_path, 'extends = "nope.toml"\nname = "x"\ndescription = "x"\n'))
    write(tmp_path, 'extends = "b.toml"\nname = "a"\ndescription = "x"\n', "a.toml")
    write(tmp_path, 'extends = "a.toml"\nname = "b"\ndescription = "x"\n', "b.toml")
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.toml")


def test_ceasefire_after_horizon_is_refused(tmp_path):
    text = BASE.replace("ceasefire_month = 0", "ceasefire_month = 40")
    with pytest.raises(ScenarioError, match="levers.ceasefire_month"):
        load_scenario(write(tmp_path, text))


def test_extends_changes_only_what_it_says():
    base = load_scenario(SCENARIOS / "baseline.toml")
    air = load_scenario(SCENARIOS / "us_air_cover.toml")
    assert air.levers.us_backstop == "air_cover"
    assert air.levers.model_copy(update={"us_backstop": base.levers.us_backstop}) == base.levers
    assert air.seed == base.seed and air.name == "us_air_cover"


def test_sweep_expands_every_combination(tmp_path):
    text = BASE + '\n[sweep]\n"levers.us_backstop" = ["none", "air_cover"]\n"thresholds.land" = [10000, 30000, 40000]\n'
    s = load_scenario(write(tmp_path, text))
    points = s.expand()
    assert len(points) == 6
    seen = {(sc.levers.us_backstop, sc.thresholds.land) for _, sc in points}
    assert seen == {(b, t) for b in ("none", "air_cover") for t in (10000, 30000, 40000)}


@pytest.mark.parametrize("change,field", [
    ("seed = true", "seed"),
    ("replications = false", "replications"),
    ('[levers]\nhorizon_months = "12"', "levers.horizon_months"),
    ("[levers]\nceasefire = 1", "levers.ceasefire"),
    ("[levers]\nincident_rate = true", "levers.incident_rate"),
    ("[levers]\nincident_rate = nan", "levers.incident_rate"),
    ("[thresholds]\nland = inf", "thresholds.land"),
    ("[countries.FRA]\nmandate_delay_months = true", "countries.FRA.mandate_delay_months"),
])
def test_booleans_strings_and_non_finite_numbers_are_not_taken_for_numbers(tmp_path, change, field):
    p = write(tmp_path, f'extends = "{SCENARIOS / "baseline.toml"}"\nname = "bad"\ndescription = "x"\n{change}\n')
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    assert field in {f for _, f, _ in e.value.errors}, str(e.value)


def test_whole_numbers_are_fine_for_decimal_levers(tmp_path):
    text = BASE.replace("rotation_ratio = 3.0", "rotation_ratio = 3")
    text = text.replace("incident_rate = 0.02", "incident_rate = 0")
    s = load_scenario(write(tmp_path, text))
    assert s.levers.rotation_ratio == 3.0 and s.levers.incident_rate == 0.0


def test_very_deep_nesting_a_folder_and_a_device_are_refused_cleanly(tmp_path):
    with pytest.raises(ScenarioError, match="nested deeper"):
        load_scenario(write(tmp_path, "a = " + "[" * 5000 + "]" * 5000))
    with pytest.raises(ScenarioError, match="a folder"):
        load_scenario(tmp_path)
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario("/dev/zero")


def test_an_upload_may_only_extend_a_shipped_scenario_and_unknown_values_are_not_echoed(tmp_path):
    secret = tmp_path / "secret.toml"
    secret.write_text('api_token = "s3cr3t-value"\n')
    with pytest.raises(ScenarioError, match="may only extend a shipped scenario"):
        scenario_from_text(f'extends = "{secret}"\nname = "x"\ndescription = "x"\n', base_dir=SCENARIOS)
    with pytest.raises(ScenarioError, match="may only extend"):
        scenario_from_text('extends = "../tests/x.toml"\nname = "x"\ndescription = "x"\n', base_dir=SCENARIOS)
    ok = scenario_from_text('extends = "baseline.toml"\nname = "x"\ndescription = "x"\n', base_dir=SCENARIOS)
    assert ok.levers.us_backstop == "uncertain"
    with pytest.raises(ScenarioError) as e:
        scenario_from_text(BASE + 'api_token = "s3cr3t-value"\n')
    assert "api_token" in str(e.value) and "s3cr3t" not in str(e.value)


def test_the_us_russia_and_ukraine_act_through_levers_not_pledges(tmp_path):
    base = f'extends = "{SCENARIOS / "baseline.toml"}"\nname = "x"\ndescription = "x"\n'
    for iso in ("USA", "RUS", "UKR"):
        with pytest.raises(ScenarioError, match=f"countries.{iso}: .* not a contributor"):
            load_scenario(write(tmp_path, base + f"[countries.{iso}]\nland_troops = [1000, 2000]\n"))
    # keeping them out explicitly is fine
    load_scenario(write(tmp_path, base + "[countries.USA]\np_participate = 0.0\n"))


def test_the_tested_months_must_fit_in_the_horizon(tmp_path):
    with pytest.raises(ScenarioError, match="levers.horizon_months: got 36; the thresholds are tested from"):
        load_scenario(write(tmp_path, BASE.replace("ceasefire_month = 0", "ceasefire_month = 30")))
    with pytest.raises(ScenarioError, match="levers.horizon_months"):
        load_scenario(write(tmp_path, BASE.replace("horizon_months = 36", "horizon_months = 1")))
    with pytest.raises(ScenarioError, match="government_falls_month"):
        load_scenario(write(tmp_path, BASE + "[countries.FRA]\ngovernment_falls_month = 500\n"))
