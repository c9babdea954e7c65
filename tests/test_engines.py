"""The Mesa model and the ensemble engine: one semantics, identical runs, reproducible tables."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import outcomes
from sim.draws import DRAW_BLOCK, draw
from sim.ensemble import run_ensemble, simulate
from sim.model import ReassuranceModel, run_mesa
from sim.params import compile_params
from sim.runner import run_scenario

from .conftest import SCENARIOS as SCENARIO_DIR
from .conftest import SHIPPED, scenario

FIELDS = ("land", "air", "sea", "pledge", "over_capacity", "takes_part", "window_sum", "months_deployed",
          "reasons", "withdrawn_month", "uncertain", "thresholds")


def assert_same_runs(a, b):
    assert np.array_equal(a.run, b.run)
    for f in FIELDS:
        assert np.array_equal(getattr(a, f), getattr(b, f)), f


@pytest.mark.parametrize("name", SHIPPED)
def test_mesa_equals_ensemble_run_by_run(name):
    s = scenario(name)
    p = compile_params(s)
    runs = list(range(0, 40)) + [DRAW_BLOCK - 1, DRAW_BLOCK, 5 * DRAW_BLOCK + 3]  # across draw blocks
    mesa = run_mesa(p, s.seed, runs, collect_countries=True)
    ens = run_ensemble(p, s.seed, 5 * DRAW_BLOCK + 4, block=DRAW_BLOCK + 7, collect_countries=True)
    sel = np.array(runs)
    for f in FIELDS:
        assert np.array_equal(getattr(mesa, f), getattr(ens, f)[sel]), f
    assert np.array_equal(mesa.country_monthly, ens.country_monthly[sel])


@pytest.mark.parametrize("name", SHIPPED)
def test_compiled_run_constants_give_numpys_bits(name):
    """The ensemble compiles rules.run_constants; over many draws it must give exactly numpy's results."""
    from sim import rules

    s = scenario(name)
    p = compile_params(s)
    d = draw(s.seed, p.n_countries, p.horizon, 0, 100_000)
    every = slice(None)
    run = p.per_run(d)
    k = rules.run_constants(**p.constant_inputs(every), land_cap=run.land_cap, **d.constant_inputs(every, every))
    res = simulate(p, d, np.arange(d.n))
    assert np.array_equal(res.pledge, np.stack([k.land, k.air, k.sea], axis=-1))
    assert np.array_equal(res.over_capacity, k.over_land | k.over_sea)
    assert np.array_equal(res.takes_part, k.takes_part)
    assert np.array_equal(res.uncertain, run.values) and np.array_equal(res.thresholds, run.thresholds)
    # the initial reasons are kept, each on its component
    assert np.all(res.reasons[..., 0] & k.reasons_land == k.reasons_land)
    assert np.all(res.reasons[..., 2] & k.reasons_sea == k.reasons_sea)


def test_draws_do_not_depend_on_how_runs_are_grouped():
    a = draw(7, 5, 12, 0, 3000)
    b = draw(7, 5, 12, 1000, 2100)
    assert np.array_equal(a.land[1000:2100], b.land)
    assert np.array_equal(a.incident[1000:2100], b.incident)
    assert not np.array_equal(draw(8, 5, 12, 0, 10).land, a.land[:10])


def test_mesa_datacollector_records_the_same_totals(baseline_params, baseline_scenario):
    d = draw(baseline_scenario.seed, baseline_params.n_countries, baseline_params.horizon, 3, 4)
    m = ReassuranceModel(params=baseline_params, draws=d, run=3, collect_countries=True)
    m.run_model()
    df = m.datacollector.get_model_vars_dataframe()
    res = m.results()
    assert len(df) == baseline_params.horizon
    assert np.array_equal(df["land"].to_numpy(), res.land[0])
    agents = m.datacollector.get_agenttype_vars_dataframe(type(m.countries[0]))
    fra = agents[agents["iso3"] == "FRA"]["land"].to_numpy()
    assert np.array_equal(fra, res.country_monthly[0, :, baseline_params.iso3.index("FRA"), 0])


def test_the_mesa_results_are_read_from_the_datacollector(baseline_params, baseline_scenario):
    d = draw(baseline_scenario.seed, baseline_params.n_countries, baseline_params.horizon, 0, 1)
    m = ReassuranceModel(params=baseline_params, draws=d, run=0)  # run 0 of the baseline has troops
    m.run_model()
    land = m.results().land[0]
    t = int(land.argmax())
    assert land[t] > 0
    m.datacollector.model_vars["land"][t] = -1.0
    assert m.results().land[0, t] == -1.0


def test_the_countries_read_the_us_agents_level(baseline_scenario, monkeypatch):
    """A US agent that announces no backstop gives the runs of a scenario that pins it at none."""
    from sim.agents import USBackstop

    p = compile_params(baseline_scenario)
    none = compile_params(baseline_scenario.with_changes({"levers.us_backstop": "none"}))
    runs = range(8)
    normal = run_mesa(p, baseline_scenario.seed, runs)
    assert normal.land.max() > 0
    monkeypatch.setattr(USBackstop, "step", lambda self: setattr(self, "level", 0))
    silent = run_mesa(p, baseline_scenario.seed, runs)
    pinned = run_ensemble(none, baseline_scenario.seed, len(runs))
    for f in ("land", "air", "sea", "reasons", "months_deployed", "window_sum"):
        assert np.array_equal(getattr(silent, f), getattr(pinned, f)), f
    assert silent.land.max() == 0


def test_same_seed_same_tables_and_engine_does_not_matter(baseline_scenario):
    a = run_scenario(baseline_scenario, replications=300)
    b = run_scenario(baseline_scenario, replications=300)
    c = run_scenario(baseline_scenario, replications=300, engine="mesa")
    for name in a.tables:
        assert a.tables[name].equals(b.tables[name]), name
        assert a.tables[name].equals(c.tables[name]), name
    other = run_scenario(baseline_scenario.with_changes({"seed": baseline_scenario.seed + 1}), replications=300)
    assert not a.tables["per_run"].equals(other.tables["per_run"])


def test_block_size_does_not_change_results(baseline_params, baseline_scenario):
    a = run_ensemble(baseline_params, baseline_scenario.seed, 3000, block=DRAW_BLOCK)
    b = run_ensemble(baseline_params, baseline_scenario.seed, 3000, block=777)
    assert_same_runs(a, b)


LEVELS = ["none", "intelligence", "command_and_control", "air_cover", "us_command"]
REQUIRED = [*LEVELS, "backstop_required_by_leads", "backstop_required_by_others"]
COUNTRIES = ["FRA", "GBR", "DEU", "ITA", "POL", "TUR", "NLD", "EST", "CAN"]


@st.composite
def scenarios(draw_):
    base = scenario("baseline.toml")
    horizon = draw_(st.integers(8, 48))
    changes = {
        "seed": draw_(st.integers(0, 2**32)),
        "levers.us_backstop": draw_(st.sampled_from([*LEVELS, "uncertain"])),
        "levers.backstop_required_by_leads": draw_(st.sampled_from([*LEVELS, "uncertain"])),
        "levers.army_share": draw_(st.one_of(st.none(), st.floats(0.05, 1.0))),
        "levers.ceasefire": draw_(st.booleans()),
        "levers.ceasefire_month": draw_(st.integers(0, min(10, horizon - 7))),  # tested months must exist
        "levers.eastern_border_secure": draw_(st.booleans()),
        "levers.incident_rate": draw_(st.floats(0, 1)),
        "levers.rotation_ratio": draw_(st.floats(1, 6)),
        "levers.horizon_months": horizon,
        "thresholds.land": draw_(st.floats(1000, 60000)),
        "thresholds.air": draw_(st.one_of(st.none(), st.floats(1, 80))),
    }
    stance = draw_(st.sampled_from(["reject", "tolerate"]))
    changes["levers.russia_stance"] = stance
    changes["levers.un_framework"] = stance == "tolerate" and draw_(st.booleans())  # a UN mandate needs Russia
    months = draw_(st.lists(st.integers(0, 7), max_size=3, unique=True))
    if months:
        changes["levers.us_backstop_changes"] = [{"month": m, "level": draw_(st.sampled_from(LEVELS))}
                                                 for m in sorted(months)]
    for iso in draw_(st.lists(st.sampled_from(COUNTRIES), max_size=4, unique=True)):
        lo = draw_(st.floats(0, 20000))
        changes[f"countries.{iso}"] = {
            "land_troops": [lo, lo + draw_(st.floats(0, 20000))],
            "p_participate": draw_(st.floats(0, 1)),
            "p_troops": draw_(st.floats(0, 1)),
            "required_backstop": draw_(st.sampled_from(REQUIRED)),
            "follows_leads": draw_(st.booleans()),
            "momentum_threshold": draw_(st.floats(0, 20000)),
            "mandate_delay_months": draw_(st.integers(0, 6)),
            "casualty_withdraw_prob": draw_(st.floats(0, 1)),
            "government_fall_hazard": draw_(st.floats(0, 0.3)),
            "withdraw_if_government_falls": draw_(st.floats(0, 1)),
            "government_falls_month": draw_(st.integers(0, 7)),
            "is_lead": draw_(st.booleans()),
            "border_priority": draw_(st.booleans()),
            "requires_un_framework": draw_(st.booleans()),
            "air": [0, draw_(st.integers(0, 8))],
            "sea": [0, draw_(st.integers(0, 3))],
        }
    return base.with_changes(changes, name="generated")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_a_country_absent_from_the_tested_months_always_has_a_reason(s):
    """Whoever pledged something but is never in the force while it is tested has a recorded reason."""
    p = compile_params(s)
    res = run_ensemble(p, s.seed, 64)
    absent = (res.pledge > 0) & (res.window_sum == 0)  # per component
    assert np.all(res.reasons[absent] != 0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_mesa_equals_ensemble_on_generated_scenarios(s):
    p = compile_params(s)
    mesa = run_mesa(p, s.seed, range(6))
    assert_same_runs(mesa, run_ensemble(p, s.seed, 6))
    # fast-forward (skipping months where nothing can change) is exact, in both engines
    assert_same_runs(mesa, run_mesa(p, s.seed, range(6), fast_forward=False))
    d = draw(s.seed, p.n_countries, p.horizon, 0, 40)
    assert_same_runs(simulate(p, d, np.arange(40)), simulate(p, d, np.arange(40), fast_forward=False))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_event_months_cover_every_change_of_static_conditions(s):
    """Fast-forward is exact only if every month in which a static condition changes is computed."""
    from sim import rules

    p = compile_params(s)
    d = draw(s.seed, p.n_countries, p.horizon, 0, 64)
    fall = rules.government_fall_month(**p.fall_inputs(slice(None)), **d.fall_inputs(slice(None), slice(None)))
    run = p.per_run(d)
    k = rules.run_constants(**p.constant_inputs(slice(None)), land_cap=run.land_cap,
                            **d.constant_inputs(slice(None), slice(None)))
    months = np.arange(p.horizon)[:, None, None]
    level = rules.backstop_level(p.backstop_scheduled[:, None], run.offered[None, :])[:, :, None]
    static = rules.static_conditions(months, p.ceasefire_month, level, run.required, p.un_framework,
                                     p.requires_un, k.takes_part, k.sends_troops, fall)  # [T, runs, countries]
    potential = k.pot_land | k.pot_air | k.pot_sea
    changes = ((static[1:] != static[:-1]) & potential).any(axis=-1)  # [T-1, runs]
    schedule = rules.schedule_events(p.horizon, p.ceasefire_month, p.backstop_scheduled, p.assess_start)
    for r in range(d.n):
        events = rules.month_events(schedule, fall[r], potential[r], d.incident[r], p.incident_rate,
                                    p.russia_rejects)
        assert events[0] and events[p.assess_start]
        assert not np.any(changes[:, r] & ~events[1:]), r
        strikes = bool(p.russia_rejects) & (d.incident[r] < p.incident_rate)
        assert np.all(events[strikes])


def test_engines_agree_statistically_with_their_own_randomness():
    """Each engine with its own seed: the probability of meeting the threshold agrees (two-proportion z)."""
    s = scenario("threshold_10000.toml")
    p = compile_params(s)
    n_m, n_e = 800, 20000
    mesa = run_mesa(p, 1001, range(n_m))
    ens = run_ensemble(p, 2002, n_e)
    pm = outcomes.threshold_tests(mesa, p)["land"][0].mean()
    pe = outcomes.threshold_tests(ens, p)["land"][0].mean()
    pooled = (pm * n_m + pe * n_e) / (n_m + n_e)
    z = (pm - pe) / np.sqrt(pooled * (1 - pooled) * (1 / n_m + 1 / n_e))
    assert 0.05 < pe < 0.95
    assert abs(z) < 3.5, (pm, pe, z)


def test_tables_do_not_depend_on_how_runs_are_split(baseline_params, baseline_scenario):
    from sim.outcomes import TableBuilder, tables

    res = run_ensemble(baseline_params, baseline_scenario.seed, 2500)
    whole = tables(res, baseline_params, scenario="b", seed=1)
    builder = TableBuilder(baseline_params, scenario="b", seed=1)
    cuts = [0, 7, 900, 901, 1800, 2500]
    parts = [run_ensemble(baseline_params, baseline_scenario.seed, b - a, start=a)
             for a, b in zip(cuts, cuts[1:], strict=False)]
    for part in reversed(parts):  # blocks may arrive in any order
        builder.add(part)
    split = builder.tables()
    assert set(whole) == set(split)
    for name in whole:
        assert whole[name].equals(split[name]), name


def test_an_edited_rule_is_recompiled_not_served_from_the_cache(tmp_path):
    """numba's disk cache does not notice edits to rules.py by itself; the ensemble keys its loop to them."""
    import os
    import shutil
    import subprocess
    import sys

    from .conftest import ROOT

    shutil.copytree(ROOT / "sim", tmp_path / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    script = ("import sim; from sim.scenario import load_scenario; from sim.params import compile_params; "
              "from sim.ensemble import run_ensemble; "
              f"s = load_scenario({str(SCENARIO_DIR / 'baseline.toml')!r}); p = compile_params(s); "
              "print(sim.__file__, int(run_ensemble(p, s.seed, 200).months_deployed.sum()))")

    def months_in_force():
        out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONPATH": str(tmp_path)}).stdout.split()
        assert out[0].startswith(str(tmp_path))  # the copy, not the checkout
        return int(out[1])

    assert months_in_force() > 0  # compiled and cached
    rules_py = tmp_path / "sim" / "rules.py"
    text = rules_py.read_text()
    rule = "deployed = cond & ((mandate_delay == 0) | (ready > mandate_delay))"
    edited = text.replace(rule, rule + " & False")
    assert edited != text
    rules_py.write_text(edited)  # nobody deploys any more
    assert months_in_force() == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_no_run_rises_above_the_ceiling(s):
    """The ceiling is an upper bound: no run's lowest strength over the tested months exceeds it."""
    from sim.ceiling import ceilings

    p = compile_params(s)
    res = run_ensemble(p, s.seed, 64)
    tops = ceilings(p)
    for comp, (_met, _margin, _first, minimum, _mean) in outcomes.threshold_tests(res, p).items():
        assert minimum.max() <= tops[comp].ceiling, comp


def test_every_declared_number_field_reaches_both_engines_by_name():
    """A country field declared in sim/concepts.py (a flag, number or country) is in each country's record and
    row, by its name, with the scenario's value: what a new condition's rule reads (step.Country.fields)."""
    from sim.concepts import COUNTRY_FIELDS
    from sim.params import ENGINE_FIELDS
    from sim.scenario import country_fields

    s = scenario("baseline.toml")
    p = compile_params(s)
    kinds = {q.name: q.kind for q in COUNTRY_FIELDS if q.in_data and q.kind in ("flag", "whole", "real", "country")}
    assert set(ENGINE_FIELDS) == set(kinds) and "is_lead" in kinds
    fields = country_fields(s)
    for name in ENGINE_FIELDS:
        values = [f[name].value for f in fields]
        if kinds[name] == "country":  # a country is its index in the data, -1 for none
            values = [p.iso3.index(v) if v else -1 for v in values]
        assert p.countries[name].tolist() == values, name
        assert [getattr(row, name) for row in p.country_rows] == values, name
    assert np.array_equal(p.countries["is_lead"], p.is_lead)


def test_the_mesa_model_counts_the_months_it_computes():
    """``computed_months`` (read by the engine profile) is every month without fast-forward, fewer with it."""
    s = scenario("baseline.toml")
    p = compile_params(s)
    d = draw(s.seed, p.n_countries, p.horizon, 0, 1)
    counts = {}
    for ff in (True, False):
        m = ReassuranceModel(params=p, draws=d.run(0), run=0, fast_forward=ff)
        m.run_model()
        counts[ff] = m.computed_months
    assert counts[False] == p.horizon
    assert 1 <= counts[True] < p.horizon
