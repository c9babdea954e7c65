"""Each lever, country field and condition is declared once (sim/concepts.py); the rest follows from it."""

import dataclasses

import pytest

from sim import concepts, report, rules, words
from sim.baseline import COUNTRY_FIELDS, load_baseline
from sim.concepts import COUNTRY_FIELDS as DECLARED_FIELDS
from sim.fields import data_value_ok, model
from sim.params import compile_params
from sim.scenario import CountryOverride, Levers, Thresholds, load_scenario

from .conftest import ROOT


def test_the_schema_has_one_field_per_declaration_with_its_bounds():
    assert tuple(Levers.model_fields) == tuple(q.name for q in concepts.LEVERS)
    assert tuple(Thresholds.model_fields) == tuple(q.name for q in concepts.THRESHOLDS)
    assert tuple(CountryOverride.model_fields) == tuple(q.name for q in concepts.OVERRIDE_FIELDS)
    rotation = Levers.model_json_schema()["properties"]["rotation_ratio"]
    assert (rotation["minimum"], rotation["maximum"]) == concepts.lever("levers.rotation_ratio").bounds == (1, 10)
    assert rotation["description"] == concepts.lever("rotation_ratio").text


def test_a_changed_bound_changes_the_schema_and_the_data_check():
    q = dataclasses.replace(concepts.lever("rotation_ratio"), high=12.0)
    assert model("L", (q,), "doc").model_json_schema()["properties"]["rotation_ratio"]["maximum"] == 12
    air = next(f for f in DECLARED_FIELDS if f.name == "air")
    assert data_value_ok(air, [0, 1000]) and not data_value_ok(air, [0, 1001])
    assert not data_value_ok(dataclasses.replace(air, high=10), [0, 11])


@pytest.mark.parametrize("q", [q for q in DECLARED_FIELDS if q.in_data and q.in_scenario], ids=lambda q: q.name)
def test_the_data_and_a_scenario_accept_the_same_country_values(q):
    """The data check and the override schema are one declaration: a value fits both or neither."""
    samples = {"flag": [True, 1, "yes"], "whole": [0, -1, 5, 601, 2.5], "real": [0.0, 0.5, 1, -0.1, 2e6, 3e6],
               "range_whole": [[0, 5], [-1, 2], [0, 101], [0, 1001]], "range_real": [[0.0, 0.5], [0, 1.5]],
               "choice": ["willing", "eager"], "required_level": ["air_cover", "backstop_required_by_leads", "x"],
               "country": ["DEU", "", 5], "text": ["x", 5]}
    for v in samples[q.kind]:
        in_data = data_value_ok(q, v)
        try:
            CountryOverride.model_validate({q.name: tuple(v) if isinstance(v, list) else v})
            in_schema = not (q.checked_late and v not in q.choices)
        except ValueError:
            in_schema = False
        assert in_data == in_schema, (q.name, v)
    assert set(COUNTRY_FIELDS) == {f.name for f in DECLARED_FIELDS if f.in_data}


def test_every_condition_has_its_words_bit_and_binding():
    names = [c.name for c in concepts.CONDITIONS_DECLARED]
    assert list(rules.CONDITIONS.values()) == names
    assert set(words.CONDITION_LABELS) == set(words.CONDITION_TEXT) == set(names)
    assert [line.split()[0] for line in report.condition_glossary()] == names
    base = load_baseline()
    assert {k: tuple(s.value) for k, s in base.conditions.items()} == {c.name: c.binds
                                                                       for c in concepts.CONDITIONS_DECLARED}
    p = compile_params(load_scenario(ROOT / "scenarios" / "baseline.toml"))
    for c in concepts.CONDITIONS_DECLARED:
        for k, comp in enumerate(concepts.COMPONENTS):
            assert p.binds_condition(c.bit, k) == (comp in c.binds), (c.name, comp)


def test_conditions_that_wait_on_troops_make_land_contributors_players():
    """The pivotal pruning knows every condition that waits on others' troops, from its declaration."""
    from sim.analysis.pivotal import players

    waiting = [c.bit for c in concepts.CONDITIONS_DECLARED if c.waits_on_land]
    assert rules.LEADS in waiting and rules.MOMENTUM in waiting
    p = compile_params(load_scenario(ROOT / "scenarios" / "us_air_cover.toml"))
    no_wait = dataclasses.replace(p, binds=p.binds & ~concepts.WAITS_ON_LAND)
    land_only = players(no_wait, "land") & ~players(no_wait, "air")
    assert land_only.any()  # countries with troops and no aircraft: not players of air when nothing waits
    for bit in waiting:
        binds = no_wait.binds.copy()
        binds[1] |= bit  # air waits on troops on the ground: every land contributor can change air's total
        assert (players(dataclasses.replace(no_wait, binds=binds), "air") >= land_only).all(), bit


def test_a_bad_declaration_is_refused_at_import(monkeypatch):
    twice = (*concepts.CONDITIONS_DECLARED, dataclasses.replace(concepts.CONDITIONS_DECLARED[-1], name="again"))
    monkeypatch.setattr(concepts, "CONDITIONS_DECLARED", twice)
    with pytest.raises(ValueError, match="distinct single bits"):
        concepts._check_declarations()


def test_roles_not_counted_say_why_and_what_stands_for_them():
    from sim.appstate import NOT_IN_FORCE_ROLES
    from sim.scenario import NOT_CONTRIBUTORS

    assert set(NOT_IN_FORCE_ROLES) == set(NOT_CONTRIBUTORS) == {"backstop", "host", "adversary"}
    assert all(NOT_IN_FORCE_ROLES.values()) and all(NOT_CONTRIBUTORS.values())
