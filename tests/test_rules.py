"""Each rule on its own: numbers that follow from the rule's definition, computed independently."""

import numpy as np

from sim import rules


def test_rule_of_thirds_capacity_and_flag():
    # 200,000 active, 40% deployable, rule of thirds -> floor(26,666.67)
    assert rules.sustainable_troops(200_000, 0.40, 3.0) == 26_666
    # ratio 5 reproduces NATO's 8% sustainable target
    assert rules.sustainable_troops(100_000, 0.40, 5.0) == 8_000
    kept, over = rules.cap_to_capacity(np.array([10_000.0, 30_000.0]), np.array([26_666.0, 26_666.0]))
    assert kept.tolist() == [10_000.0, 26_666.0]
    assert over.tolist() == [False, True]
    assert rules.sustainable_vessels(7, 3.0) == 2


def test_draws_cover_the_range():
    u = np.linspace(0, 0.999999, 1001)
    troops = rules.draw_whole(1000.0, 2000.0, u)
    assert troops.min() == 1000 and troops.max() == 2000 and np.all(troops == np.floor(troops))
    whole = rules.draw_whole(0, 4, u)
    assert set(whole.tolist()) == {0, 1, 2, 3, 4}
    assert rules.participates(0.7, np.array([0.1, 0.69, 0.71])).tolist() == [True, True, False]


def test_government_fall_month_is_geometric():
    rng = np.random.default_rng(1)
    u = rng.random(200_000)
    m = rules.government_fall_month(0.05, 0.4, u, -1, rng.random(200_000))
    q = 0.05 * 0.4
    assert abs(m.mean() - (1 - q) / q) < 1.0  # geometric mean on {0, 1, ...}
    assert np.all(rules.government_fall_month(0.0, 0.5, u[:10], -1, u[:10]) == rules.NEVER)
    forced = rules.government_fall_month(0.0, 1.0, u[:10], 6, u[:10])
    assert np.all(forced == 6)
    not_forced = rules.government_fall_month(0.0, 0.0, u[:10], 6, u[:10])
    assert np.all(not_forced == rules.NEVER)


def test_static_conditions_bits():
    T = np.arange(4)[:, None]
    bits = rules.static_conditions(T, 2, np.array([2, 2, 3, 3])[:, None], np.array([3]), np.bool_(False),
                                   np.array([False]), np.array([True]), np.array([True]), np.array([10]))
    assert (bits[:2, 0] & rules.CEASEFIRE).all() and not (bits[2:, 0] & rules.CEASEFIRE).any()
    assert (bits[:2, 0] & rules.BACKSTOP).all() and bits[2, 0] == 0 and bits[3, 0] == 0
    un = rules.static_conditions(0, 0, 2, 2, np.bool_(False), np.True_, np.True_, np.True_, 99)
    assert un == rules.UN_FRAMEWORK
    assert rules.static_conditions(0, 0, 2, 2, np.bool_(True), np.True_, np.True_, np.True_, 99) == 0
    assert rules.static_conditions(5, 0, 2, 2, np.bool_(True), np.True_, np.False_, np.True_, 5) == (
        rules.WILLINGNESS | rules.GOVERNMENT_FELL)
    assert rules.static_conditions(0, 0, 2, 2, np.bool_(True), np.True_, np.True_, np.False_, 99) == rules.TROOPS


def test_component_bits_keep_only_what_binds_the_component():
    land_only = rules.BACKSTOP | rules.TROOPS
    every = rules.CEASEFIRE | rules.WILLINGNESS
    bits = rules.BACKSTOP | rules.CEASEFIRE
    assert rules.component_bits(bits, land_only | every) == bits
    assert rules.component_bits(bits, every) == rules.CEASEFIRE
    assert rules.component_bits(rules.BACKSTOP, every) == 0  # an air pledge does not wait for the backstop


def test_backstop_level_takes_the_schedule_over_the_runs_own():
    assert rules.backstop_level(-1, 2) == 2
    assert rules.backstop_level(0, 2) == 0
    assert rules.backstop_level(np.array([-1, -1, 3]), 1).tolist() == [1, 1, 3]


def test_draw_option_follows_the_weights():
    cum = np.cumsum([0.3, 0.5, 0.2])
    u = np.random.default_rng(2).random(100_000)
    got = np.bincount(rules.draw_option(cum / cum[-1], u), minlength=3) / u.size
    assert np.allclose(got, [0.3, 0.5, 0.2], atol=0.01)
    assert rules.draw_option(np.array([1.0]), np.array([0.0, 0.9999])).tolist() == [0, 0]
    assert rules.draw_real(0.35, 0.65, np.array([0.0, 0.5])).tolist() == [0.35, 0.5]


def test_land_capacity_comes_from_land_forces():
    # 200,000 active, half of them land forces, 40% deployable, rule of thirds -> floor(13,333.3)
    assert rules.sustainable_troops(rules.land_forces(200_000, 0.5), 0.40, 3.0) == 13_333


def _decide(**kw):
    args = dict(static_ok=np.True_, has_offer=np.True_, withdrawn=np.False_, follows_leads=np.False_,
                leads_present=np.False_, others_land=0.0, momentum_threshold=0.0, ready_months=np.int64(0),
                mandate_delay=np.int64(0), counting=np.True_, deployed_prev=np.False_)
    args.update(kw)
    return rules.decide(**args)


def test_decide_conditions():
    dep, ready, wd, bits = _decide()
    assert dep and ready == 1 and not wd and bits == 0
    dep, ready, *_ = _decide(counting=np.False_)  # no mandate to wait for: deploys during the build-up too
    assert dep and ready == 0
    dep, *_, bits = _decide(follows_leads=np.True_)
    assert not dep and bits == rules.LEADS
    dep, *_ = _decide(follows_leads=np.True_, leads_present=np.True_)
    assert dep
    dep, *_, bits = _decide(momentum_threshold=5000.0, others_land=4999.0)
    assert not dep and bits == rules.MOMENTUM
    dep, *_ = _decide(momentum_threshold=5000.0, others_land=5000.0)
    assert dep
    # a parliament mandate of 3 months: ready in month 1..3, deployed from the 4th month in a row
    ready = np.int64(0)
    seen = []
    for _ in range(5):
        dep, ready, _, bits = _decide(ready_months=ready, mandate_delay=np.int64(3))
        seen.append(bool(dep))
    assert seen == [False, False, False, True, True]
    # the mandate is counted from when the country is ready: months of the build-up do not count
    ready, seen = np.int64(0), []
    for counting in [False] * 6 + [True] * 4:
        dep, ready, _, bits = _decide(ready_months=ready, mandate_delay=np.int64(3), counting=np.bool_(counting))
        seen.append(bool(dep))
        assert bool(bits & rules.MANDATE) != bool(dep)
    assert seen == [False] * 9 + [True]


def test_withdrawal_cascades_and_is_final():
    # deployed last month, momentum lost now -> withdraws for good, flagged as cascade
    dep, _, wd, bits = _decide(deployed_prev=np.True_, momentum_threshold=5000.0, others_land=0.0)
    assert not dep and wd and bits & rules.CASCADE
    dep, _, wd, _ = _decide(withdrawn=np.True_)
    assert not dep and wd


def test_incident_target_is_proportional_to_troops():
    land = np.array([0.0, 1000.0, 0.0, 3000.0])
    u = np.random.default_rng(0).random(20_000)
    target = np.array([rules.incident_target(land, x) for x in u])
    assert set(np.unique(target)) == {1, 3}
    assert abs((target == 3).mean() - 0.75) < 0.01
    assert not rules.incident_occurs(0.0, 0.5, np.True_, 0.0)  # no troops, no strike
    assert not rules.incident_occurs(0.0, 0.5, np.False_, 100.0)  # Russia tolerates
    assert rules.incident_occurs(0.1, 0.5, np.True_, 100.0)


def test_threshold_test():
    s = np.array([[0, 0, 100, 120, 90, 130], [0, 0, 100, 100, 100, 100.0]])
    met, margin, first, mn, mean = rules.threshold_test(s, 100.0, 2)
    assert met.tolist() == [False, True]
    per_run = rules.threshold_test(s, np.array([90.0, 101.0]), 2)  # a threshold drawn per run
    assert per_run[0].tolist() == [True, False] and per_run[2].tolist() == [-1, 2]
    assert margin.tolist() == [-10.0, 0.0]
    assert first.tolist() == [4, -1]
    assert mn.tolist() == [90.0, 100.0]
    assert mean[0] == (100 + 120 + 90 + 130) / 4
    assert rules.assessment_start(0, 6, 36) == 6
    assert rules.assessment_start(rules.NEVER, 6, 36) == 6
    assert rules.assessment_start(34, 6, 36) == 35


def test_a_country_that_cannot_fall_is_never_out_for_a_fall():
    """The ensemble computes fall months only where rules.can_fall: elsewhere they must be NEVER."""
    rng = np.random.default_rng(3)
    hazard = np.array([0.0, 0.0, 0.1, 0.0, 0.2, 1.0, 0.0])
    p_withdraw = np.array([0.0, 1.0, 0.0, 0.5, 0.5, 1.0, 0.0])
    forced = np.array([-1, -1, 4, 2, -1, -1, 3])
    u, u_forced = rng.random((5000, 7)), rng.random((5000, 7))
    months = rules.government_fall_month(hazard, p_withdraw, u, forced, u_forced)
    possible = rules.can_fall(hazard, p_withdraw, forced)
    assert possible.tolist() == [False, False, False, True, True, True, False]
    assert np.all(months[:, ~possible] == rules.NEVER)
    assert np.all((months[:, possible] < rules.NEVER).any(axis=0))
