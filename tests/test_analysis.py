"""Pivotal countries, closing the gap, and which levers matter (sim/analysis)."""

import argparse
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.analysis import analyse
from sim.analysis import gap as gap_mod
from sim.analysis import pivotal as piv
from sim.analysis import sensitivity as sens
from sim.cli.analyse import add_parser as add_cli
from sim.cli.analyse import run as run_cli
from sim.ensemble import run_ensemble
from sim.outcomes import threshold_tests
from sim.params import compile_params
from sim.runner import run_scenario

from .conftest import SCENARIOS, scenario

KEEP = ("FRA", "GBR", "EST", "LTU", "TUR")
"""The small game: two lead nations, Turkey, and two identical followers (Estonia, Lithuania)."""


def _only(base, keep, **extra):
    """``base`` with every country outside ``keep`` out (p_participate 0), plus ``extra`` dotted changes."""
    changes = {f"countries.{c}.p_participate": 0.0 for c in compile_params(base).iso3 if c not in keep}
    changes.update(extra)
    return base.with_changes(changes)


@pytest.fixture(scope="module")
def small():
    """Five players; Estonia and Lithuania identical (certain, 300 troops each, within what both can sustain)."""
    s = _only(scenario("us_air_cover.toml"), KEEP, **{
        "thresholds.land": 8000,
        "countries.EST.land_troops": [300, 300], "countries.LTU.land_troops": [300, 300],
        "countries.EST.p_participate": 1.0, "countries.LTU.p_participate": 1.0,
        "countries.EST.mandate_delay_months": 0})
    p = compile_params(s)
    game = piv.CoalitionGame(p, seed=s.seed, reps=300)
    return s, p, game, piv.exact_indices(game)


# --- the game ------------------------------------------------------------------------------------------

def test_players_are_the_countries_that_can_contribute(small):
    s, p, game, _ = small
    assert game.iso3 == KEEP
    baseline = set(piv.CoalitionGame(compile_params(scenario("baseline.toml")), seed=1, reps=10).iso3)
    assert {"FRA", "GBR", "TUR", "EST", "LTU", "NLD"} <= baseline
    # ruled out, waiting for a UN framework or their border, or no troops pledged: never a land player
    assert not baseline & {"DEU", "ITA", "POL", "ROU", "GRC", "HRV", "LUX", "BGR", "USA", "JPN", "UKR"}


def test_worth_is_the_scenario_run_with_the_others_absent():
    s = scenario("us_air_cover.toml")
    p = compile_params(s)
    game = piv.CoalitionGame(p, seed=s.seed, reps=256)
    # the grand coalition is the scenario itself: non-players are dummies
    assert game.value(game.grand) == threshold_tests(run_ensemble(p, s.seed, 256), p)["land"][0].mean()
    rng = np.random.default_rng(3)
    for _ in range(3):
        members = [c for c in game.iso3 if rng.random() < 0.7]
        absent = {f"countries.{c}.p_participate": 0.0 for c in p.iso3 if c not in members}
        s2 = s.with_changes(absent)
        p2 = compile_params(s2)
        tests = threshold_tests(run_ensemble(p2, s2.seed, 256), p2)["land"]
        assert game.value(game.mask_of(members)) == tests[0].mean()
        strength = piv.CoalitionGame(p, seed=s.seed, reps=256, worth="strength")
        assert strength.value(game.mask_of(members)) == pytest.approx(tests[3].mean(), abs=1e-9)


def test_bound_never_prunes_a_coalition_that_could_win(small):
    _, p, game, _ = small
    masks = np.arange(1 << game.n)
    pruned = masks[game.bound(masks) < game.threshold]
    assert 0 < pruned.size < masks.size
    fresh = piv.CoalitionGame(p, seed=game.seed, reps=game.reps)
    fresh._simulate(pruned)  # run them anyway, past the bound
    assert all(fresh._cache[int(m)] == 0 for m in pruned)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keep=st.sets(st.sampled_from(("FRA", "GBR", "TUR", "GRC", "ROU", "CAN", "AUS", "NLD", "ITA")),
                    min_size=1, max_size=6),
       threshold=st.integers(1000, 40000), worth=st.sampled_from(piv.WORTHS))
def test_efficiency_and_dummies_hold_in_any_small_game(keep, threshold, worth):
    s = _only(scenario("us_air_cover.toml"), keep, **{"thresholds.land": threshold})
    p = compile_params(s)
    game = piv.CoalitionGame(p, seed=s.seed, reps=64, worth=worth)
    assert set(game.iso3) <= keep - {"ITA"}  # Italy waits for a UN framework: a dummy here
    ind = piv.exact_indices(game)
    total = game.value(game.grand) - game.value(0)
    assert ind.shapley.sum() == pytest.approx(total, abs=1e-9 * max(1.0, abs(total)))
    assert game.value(game.grand) == pytest.approx(
        float(np.mean(threshold_tests(run_ensemble(p, s.seed, 64), p)["land"][0 if worth == "p_met" else 3])))
    res = piv.pivotal(p, scenario=s.name, seed=s.seed, reps=64, worth=worth)
    dummies = res.table[~res.table.player]
    assert (dummies.shapley == 0).all() and (dummies.banzhaf == 0).all()


# --- Shapley and Banzhaf -------------------------------------------------------------------------------

def test_shapley_values_sum_to_the_grand_coalition(small):
    _, _, game, ind = small
    total = game.value(game.grand) - game.value(0)
    assert total > 0.2
    assert ind.shapley.sum() == pytest.approx(total, abs=1e-12)
    sampled = piv.sampled_indices(game, samples=50, seed=1)
    assert sampled.shapley.sum() == pytest.approx(total, abs=1e-12)  # every permutation sums exactly


def test_identical_countries_get_identical_values(small):
    _, _, game, ind = small
    est, ltu = game.iso3.index("EST"), game.iso3.index("LTU")
    assert ind.shapley[est] == pytest.approx(ind.shapley[ltu], abs=1e-12)
    assert ind.banzhaf[est] == pytest.approx(ind.banzhaf[ltu], abs=1e-12)
    assert ind.shapley[est] > 0  # they matter (the 8,000 threshold), so the check is not vacuous


def test_a_dummy_gets_zero():
    # Latvia pledges nothing: it is no player, and if made one anyway its marginal worth is always 0
    s = _only(scenario("us_air_cover.toml"), (*KEEP, "LVA"), **{
        "thresholds.land": 15000, "countries.LVA.land_troops": [0, 0], "countries.LVA.air": [0, 0],
        "countries.LVA.sea": [0, 0]})
    p = compile_params(s)
    res = piv.pivotal(p, scenario=s.name, seed=s.seed, reps=200)
    row = res.table.set_index("iso3").loc["LVA"]
    assert not row.player and row.method == "dummy" and row.shapley == 0 and row.banzhaf == 0
    lva = p.iso3.index("LVA")
    forced = piv.players(p, "land")
    forced[lva] = True
    game = piv.CoalitionGame(p, seed=s.seed, reps=200, player_mask=forced)
    ind = piv.exact_indices(game)
    j = game.iso3.index("LVA")
    assert ind.shapley[j] == 0 and ind.banzhaf[j] == 0
    assert np.abs(ind.shapley).sum() > 0


def test_sampled_values_agree_with_exact_within_their_stated_error(small):
    _, _, game, ind = small
    sampled = piv.sampled_indices(game, samples=400, seed=11)
    assert sampled.method == "sampled" and (sampled.shapley_se > 0).any()
    assert np.all(np.abs(sampled.shapley - ind.shapley) <= 4 * sampled.shapley_se + 1e-12)
    assert np.all(np.abs(sampled.banzhaf - ind.banzhaf) <= 4 * sampled.banzhaf_se + 1e-12)


def test_minimal_winning_coalitions_are_winning_and_minimal(small):
    _, _, game, ind = small
    exact = piv.minimal_winning(game, win_prob=0.5, table=ind.table)
    assert exact.coalitions and exact.complete
    for m, v in exact.coalitions:
        assert v >= 0.5
        subsets = [m & ~(1 << j) for j in range(game.n) if m >> j & 1]
        assert all(ind.table[s] < 0.5 for s in subsets)
    searched = piv.minimal_winning(game, win_prob=0.5)
    assert sorted(m for m, _ in searched.coalitions) == sorted(m for m, _ in exact.coalitions)


def test_pivotal_tables_of_the_baseline():
    s = scenario("baseline.toml")
    res = piv.pivotal(compile_params(s), scenario=s.name, seed=s.seed, reps=100, worth="strength", samples=60)
    t = res.table
    assert len(t) == 34 and {"FRA", "GBR"} <= set(t[t.player].iso3)
    assert t.shapley.sum() == pytest.approx(res.game.v_grand.iloc[0])
    assert t.set_index("iso3").shapley.idxmax() in ("FRA", "GBR")
    high = scenario("threshold_100000.toml")  # above the ceiling: nobody can win
    flat = piv.pivotal(compile_params(high), scenario=high.name, seed=high.seed, reps=100, samples=20)
    assert (flat.table.shapley == 0).all() and flat.coalitions.empty and "No coalition" in flat.verdict


# --- closing the gap -----------------------------------------------------------------------------------

def test_menu_edits_are_valid_and_raise_pledges_to_capacity():
    s = scenario("baseline.toml")
    opts = gap_mod.menu(s)
    keys = {c.key for c in opts}
    assert {"pledge:FRA", "willingness:GBR", "condition:un_framework", "condition:eastern_border_secure",
            "backstop:+1"} <= keys
    assert "pledge:DEU" not in keys and "willingness:FRA" not in keys  # nothing pledged; already certain
    fra = next(c for c in opts if c.key == "pledge:FRA")
    p = compile_params(s.with_changes(dict(fra.changes)))
    i = p.iso3.index("FRA")
    cap = p.land_cap_range[1][i]
    assert p.land_lo[i] == p.land_hi[i] == cap
    assert fra.troops == pytest.approx(cap - (500 + 10000) / 2)
    assert compile_params(s.with_changes(gap_mod.merged(opts))).n_countries == 34  # all together is valid


def test_gap_plan_applied_as_a_scenario_meets_the_target():
    s = scenario("baseline.toml")
    res = gap_mod.close_gap(s, target=0.5, reps=200, confirm_reps=1000, max_evaluations=400)
    assert res.found and len(res.plan) >= 1  # with ~20 contributors, 400 sets do not prove it the cheapest
    assert res.proven == ("not proven" not in res.verdict)
    assert res.summary.p_met_after.iloc[0] >= 0.5 and res.summary.p_met_before.iloc[0] < 0.5
    planned = s.with_changes(res.changes, name="planned")
    fresh = run_scenario(planned, replications=1000, months=False).tables["summary"].set_index("component")
    assert fresh.loc["land", "p_met"] >= 0.5
    other_seed = run_scenario(planned.with_changes({"seed": 7}), replications=1000, months=False)
    assert other_seed.tables["summary"].set_index("component").loc["land", "p_met"] >= 0.45
    assert "rises from" in res.verdict and res.plan.change.str.len().min() > 10


@pytest.mark.parametrize("name,unpledged", [("baseline.toml", False), ("baseline.toml", True),
                                             ("us_air_cover.toml", False)])
def test_gap_search_shortcuts_give_what_compiling_each_set_gives(name, unpledged):
    """Sets' parameters laid over from changes compiled alone, players per what counts, and screening cut
    short below the target: each equals the ordinary path, set by set."""
    import dataclasses
    import random

    s = scenario(name)
    opts = gap_mod.menu(s, include_unpledged=unpledged)
    search = gap_mod._Search(s, opts, "land", 200, 200, 0.9)
    rng = random.Random(3)
    sets = [tuple(range(len(opts)))]  # every change at once: reaches the target, so must not be cut short
    sets += [tuple(sorted(rng.sample(range(len(opts)), rng.randint(0, min(5, len(opts)))))) for _ in range(60)]
    by_bounds = 0  # sets ruled out by their first runs' bounds, nothing simulated
    for items in sets:
        fast, slow = search.params(items), search._compiled(items)
        for f in dataclasses.fields(slow):
            a, b = getattr(fast, f.name), getattr(slow, f.name)
            assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b, (items, f.name)
        assert (search.players_of(items)[1] == piv.players(slow, "land")).all(), items
        first = np.arange(gap_mod.SCREEN_FIRST)  # bounds composed per country equal the set's own
        assert search.could_first(items) == search.runs.could_meet(slow, ("land",), first).sum(), items
        fresh = search.reduce(items) not in search.screened
        below = search.below_target(items)
        by_bounds += fresh and search._part.get(search.reduce(items), 0) is None
        assert below == (search.screen(items) < 0.9)
        res = run_ensemble(search.params(search.reduce(items)), s.seed, 200)
        assert search.screen(items) == threshold_tests(res, slow)["land"][0].mean()
    assert by_bounds > 0
    assert {opts[j].kind for j, c in enumerate(search.local) if c is not None} == {"pledge", "willingness"}


def test_gap_bounds_composed_per_country_equal_each_sets_own():
    """The screening's bound counts, composed from each country's column, equal the set's own bounds, also
    where a lead nation's willingness decides whether its followers count (France and the UK uncertain)."""
    s = scenario("baseline.toml").with_changes({"countries.FRA.p_participate": 0.5,
                                                "countries.GBR.p_participate": 0.5, "thresholds.land": 12000})
    opts = gap_mod.menu(s)
    search = gap_mod._Search(s, opts, "land", 200, 200, 0.9)
    first = np.arange(gap_mod.SCREEN_FIRST)
    leads = [j for j, o in enumerate(opts) if o.key in ("willingness:FRA", "willingness:GBR")]
    assert len(leads) == 2
    counts = set()
    for items in {tuple(sorted({a, b})) for a in leads for b in range(len(opts))} | {tuple(leads)}:
        own = search.runs.could_meet(search.params(items), ("land",), first).sum()
        assert search.could_first(items) == own, [opts[j].key for j in items]
        counts.add(int(own))
    assert len(counts) > 5  # the sets differ in what their runs could field


def test_gap_says_when_no_allowed_change_reaches_the_target():
    s = scenario("baseline.toml")
    res = gap_mod.close_gap(s, target=0.9, reps=100, confirm_reps=200, kinds=("condition",))
    assert not res.found and res.changes == {}
    assert res.verdict.startswith("No set of at most")


def test_lexicographic_cost_orders_by_political_steps_first():
    cost = gap_mod.Cost(order=("political", "countries", "troops"))
    a = gap_mod.Change("a", "pledge", "a", {}, troops=20000, countries=frozenset({"FRA"}))
    b = gap_mod.Change("b", "condition", "b", {}, political=1)
    assert cost.key([a]) < cost.key([b])
    assert gap_mod.Cost().key([a]) > gap_mod.Cost().key([b])  # weighted: 2 + 1 country > 1 step
    with pytest.raises(ValueError):
        gap_mod.Cost(weights={"money": 1})


# --- which levers matter -------------------------------------------------------------------------------

def test_sobol_on_a_tiny_sample_returns_finite_indices_for_each_input():
    s = scenario("baseline.toml").with_changes({"thresholds.land": 20000})
    sample = sens.sobol_sample(s, n=8, reps=50)
    assert sample.X.shape == (8 * (len(sample.factors) + 2), len(sample.factors))
    t = sens.sobol_indices(sample, scenario=s.name, components=("land",))
    assert list(t.factor) == [f.name for f in sens.default_factors(s)]
    assert {"us_backstop", "backstop_required_by_others", "army_share"} <= set(t.factor)
    assert np.isfinite(t[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy()).all()


def test_factor_edits_are_valid_scenario_changes():
    s = scenario("baseline.toml")
    f = {x.name: x for x in sens.default_factors(s)}
    edits = f["willingness_uncertain"].edits(2.0, s)
    assert edits["countries.NLD.p_participate"] == 1.0 and "countries.FRA.p_participate" not in edits
    # the declared options of the US backstop, each equally likely
    assert f["us_backstop"].edits(1.7, s) == {"levers.us_backstop": "command_and_control"}
    assert f["us_backstop"].edits(2.999, s) == {"levers.us_backstop": "air_cover"}
    assert f["army_share"].edits(0.5, s) == {"levers.army_share": 0.5}
    pinned = s.with_changes({"levers.us_backstop": "air_cover"})
    assert "us_backstop" not in {x.name for x in sens.default_factors(pinned)}
    x = [(v.low + v.high) / 2 for v in f.values()]
    compile_params(s.with_changes(sens.point_edits(s, list(f.values()), x)))


def test_prim_finds_the_backstop_as_the_driver():
    s = scenario("baseline.toml").with_changes({"thresholds.land": 10000})
    factors = [v for v in sens.default_factors(s) if v.name in ("us_backstop", "incident_rate", "troops_TUR")]
    sample = sens.sobol_sample(s, factors=factors, n=32, reps=100)
    limits, boxes = sens.prim_boxes(sample, scenario=s.name, threshold=0.5)
    assert len(boxes) >= 1 and boxes.coverage.iloc[0] > 0.5
    first = limits[limits.box == 1].set_index("factor")
    assert "us_backstop" in first.index
    assert set(first.loc["us_backstop", "levels"].split(", ")) <= {"air_cover", "us_command"}
    assert sens.describe_boxes(limits, boxes)[0].startswith("Box 1: ")


def test_parallel_evaluation_is_identical_to_serial():
    s = scenario("baseline.toml")
    factors = sens.default_factors(s)
    X = np.random.default_rng(0).uniform([f.low for f in factors], [f.high for f in factors], (12, len(factors)))
    serial = sens.evaluate_points(s, factors, X, reps=50)
    assert np.array_equal(sens.evaluate_parallel(s, factors, X, reps=50, workers=2, chunk=6), serial)


# --- the command -----------------------------------------------------------------------------------------

def _parse(argv):
    ap = argparse.ArgumentParser(prog="reassurance")
    add_cli(ap.add_subparsers(dest="command", required=True))
    args = ap.parse_args(argv)
    args.argv = argv
    return args


def test_analyse_command_writes_tables_with_a_manifest(tmp_path, capsys):
    out = tmp_path / "an"
    argv = ["analyse", str(SCENARIOS / "baseline.toml"), "--threshold", "land=20000", "--what", "pivotal,gap,prim",
            "--reps", "100", "--confirm-reps", "400", "--target", "0.6", "--sobol-n", "8", "--out", str(out)]
    assert run_cli(_parse(argv)) == 0
    text = capsys.readouterr().out
    assert "Pivotal countries:" in text and "Closing the gap:" in text and "PRIM" in text
    # a plain summary leads, the statistics follow
    summary, _, details = text.partition("The analyses in detail")
    assert "In short:\n- Now: the land threshold of 20,000 troops holds with probability" in summary
    assert "- What it would take to reach 60%" in summary and "- Who makes the difference: " in summary
    assert "Shapley" not in summary.replace("(Shapley shares)", "") and "Pivotal countries:" in details
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "analysis" and manifest["seed"] == 20250904
    assert manifest["scenarios"][0]["resolved"]["thresholds"]["land"] == 20000
    assert manifest["replications"]["pivotal_per_coalition"] == 100
    assert {"pivotal.csv", "winning_coalitions.parquet", "gap_plan.csv", "prim_boxes.csv",
            "sensitivity_samples.parquet"} <= set(manifest["files"])
    assert "code_revision" in manifest and manifest["analysis_packages"]["SALib"]


def test_analyse_command_refuses_bad_input(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _parse(["analyse", str(SCENARIOS / "baseline.toml"), "--threshold", "tanks"])
    assert run_cli(_parse(["analyse", str(tmp_path / "missing.toml")])) == 2
    assert run_cli(_parse(["analyse", str(SCENARIOS / "baseline.toml"), "--sobol-n", "100"])) == 2
    assert "cannot read" in capsys.readouterr().err


def test_analyse_function_runs_only_what_is_asked():
    res = analyse(scenario("baseline.toml"), what=("pivotal",), reps=50)
    assert set(res.tables) == {"pivotal", "pivotal_game", "winning_coalitions"} and res.gap is None


def test_same_inputs_give_byte_identical_tables(tmp_path):
    for d in ("a", "b"):
        argv = ["analyse", str(SCENARIOS / "us_air_cover.toml"), "--what", "pivotal,gap", "--reps", "64",
                "--samples", "20", "--confirm-reps", "300", "--max-evaluations", "50", "--quiet",
                "--out", str(tmp_path / d)]
        assert run_cli(_parse(argv)) == 0
    for f in ("pivotal.csv", "pivotal_game.csv", "winning_coalitions.csv", "gap_plan.csv", "gap_summary.csv",
              "gap_options.parquet"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_a_us_commitment_is_never_dropped_as_inert():
    """Pinning the uncertain US backstop to its highest option moves no player, yet it changes runs."""
    s = scenario("baseline.toml")
    opts = gap_mod.menu(s)
    j = next(i for i, c in enumerate(opts) if c.key == "backstop:+1")
    search = gap_mod._Search(s, opts, "land", reps=50, confirm_reps=50, target=0.5)
    assert search.reduce((j,)) == (j,)


# --- bounds, the runner's common runs, composed parameters -----------------------------------------------

@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(("baseline.toml", "us_air_cover.toml")), seed=st.integers(0, 2**31),
       keep=st.sets(st.sampled_from(("FRA", "GBR", "TUR", "NLD", "EST", "ITA", "POL", "CAN", "ESP")), min_size=1),
       un=st.sampled_from(({}, {"levers.un_framework": True, "levers.russia_stance": "tolerate"})),
       changes=st.fixed_dictionaries({}, optional={"levers.eastern_border_secure": st.booleans(),
           "levers.us_backstop": st.sampled_from(("intelligence", "air_cover")),
           "levers.rotation_ratio": st.floats(2, 5), "levers.incident_rate": st.floats(0, 0.3)}))
def test_run_bounds_are_never_below_what_a_run_fields(name, seed, keep, un, changes):
    """In every run and component, no assessed month's total exceeds the bound of the members present."""
    from sim.ceiling import run_bounds, run_totals_bound
    from sim.runner import CommonRuns

    s = scenario(name).with_changes({**changes, **un, "seed": seed})
    p = compile_params(s)
    runs = CommonRuns.of(p, s.seed, 300)
    members = np.isin(p.iso3, sorted(keep))
    res = runs.simulate(p, absent=np.broadcast_to(~members, (300, p.n_countries)))
    most, leads = run_bounds(p, runs.draws)
    bound = run_totals_bound(p, most, leads, members)
    for k, c in enumerate(("land", "air", "sea")):
        assert (res.series(c)[:, p.assess_start:].min(axis=1) <= bound[:, k]).all(), c
    assert np.array_equal(run_totals_bound(p, most, leads), run_totals_bound(p, most, leads, np.ones(34, bool)))
    plain = threshold_tests(runs.simulate(p), p)
    assert np.array_equal(runs.met(p), np.stack([plain[c][0] for c in ("land", "air", "sea")], axis=1))


def test_a_condition_the_bounds_do_not_know_stops_the_analysis(monkeypatch):
    """A new condition must say how it holds a country back, or the bounds (and Shapley values) refuse."""
    from sim import ceiling, concepts, rules

    ceiling.check_conditions()
    p = compile_params(scenario("baseline.toml"))
    monkeypatch.setitem(rules.CONDITIONS, 1 << 14, "deploys_only_if_germany_deploys")
    with pytest.raises(ValueError, match="deploys_only_if_germany_deploys"):
        piv.CoalitionGame(p, seed=1, reps=10)
    monkeypatch.setitem(ceiling.DEPENDENT_CONDITIONS, 1 << 14, concepts.WAITS_ON_TROOPS)
    assert piv.CoalitionGame(p, seed=1, reps=10).n > 0


def test_sample_points_composed_from_block_ends_equal_compiled_points(monkeypatch):
    """Only the two ends of each Saltelli block are compiled (factors that change different fields of one
    country's record, Turkey's troops decision and willingness, do not stop it), and every composed point
    equals the compiled one."""
    import dataclasses

    from SALib.sample import sobol as sampler

    from sim.analysis import points

    compiled = []
    monkeypatch.setattr(points, "compile_params", lambda sc: compiled.append(sc) or compile_params(sc))
    for name in ("baseline.toml", "us_air_cover.toml"):
        s = scenario(name)
        factors = sens.default_factors(s)
        assert {"troops_TUR", "willingness_uncertain"} <= {f.name for f in factors}
        X = sampler.sample(sens.problem(factors), 4, calc_second_order=False, scramble=True, seed=5)
        seen = 0
        compiled.clear()
        for i, fast in sens.point_params(s, factors, X):
            slow = compile_params(s.with_changes(sens.point_edits(s, factors, X[i])))
            for f in dataclasses.fields(slow):
                a, b = getattr(fast, f.name), getattr(slow, f.name)
                assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b, (name, i, f.name)
            seen += 1
        assert seen == len(X)
        assert len(compiled) == 3 * len(factors) + 2 * 4, name  # each factor alone 3 times, then 2 ends per block


def test_sample_points_that_set_the_same_scenario_share_an_answer_equal_to_running_each():
    """In Saltelli's design a level factor often takes from ``B`` the level ``A`` has: such a point is not run
    again, and every point's P(met) is what running its own scenario on the common runs gives."""
    from SALib.sample import sobol as sampler

    from sim.runner import CommonRuns

    s = scenario("baseline.toml").with_changes({"thresholds.land": 10000})
    factors = sens.default_factors(s)
    X = sampler.sample(sens.problem(factors), 8, calc_second_order=False, scramble=True, seed=5)
    sets = [tuple(f.level(v) if f.mode == "level" else v for f, v in zip(factors, x, strict=True)) for x in X]
    assert len(set(sets)) < len(X)  # some points repeat what an earlier one sets
    got = sens.evaluate_points(s, factors, X, reps=100, components=("land",))
    runs = CommonRuns.of(compile_params(s), s.seed, 100)
    each = [runs.met(compile_params(s.with_changes(sens.point_edits(s, factors, x))), ("land",)).mean() for x in X]
    assert 0 < got.mean() < 1 and np.array_equal(got[:, 0], each)


def test_factors_follow_the_data():
    s = scenario("baseline.toml")
    names = {f.name: f for f in sens.default_factors(s)}
    assert {"troops_GBR", "troops_TUR", "fall_hazard_FRA"} <= set(names)
    assert "TUR" in names["willingness_uncertain"].countries and "FRA" not in names["willingness_uncertain"].countries
    changed = sens.default_factors(s.with_changes({"countries.DEU.p_participate": 0.5, "countries.FRA.p_troops": 0.6,
                                                   "countries.TUR.p_troops": 1.0}))
    by = {f.name: f for f in changed}
    assert "DEU" in by["willingness_uncertain"].countries
    assert (by["troops_FRA"].low, by["troops_FRA"].high) == (0.2, 1.0) and "troops_TUR" not in by


def test_every_default_factor_is_said_in_words_not_by_its_code():
    """The plain summary names each sensitivity factor in words read from the declarations."""
    from sim.analysis.summary import factor_words

    for name in ("baseline.toml", "us_air_cover.toml"):
        for f in sens.default_factors(scenario(name)):
            words = factor_words(f.name)
            assert words != f.name and "_" not in words, (name, f.name, words)
