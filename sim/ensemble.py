"""The ensemble engine: many runs of a scenario at once, as ``[runs, countries]`` arrays.

It calls the same :mod:`sim.rules` functions as the Mesa agents, in the same order within a month, on
the same draws (:mod:`sim.draws`), so run ``i`` here equals the Mesa model's run ``i`` exactly (a test
proves it). Runs are processed in blocks, so memory stays bounded whatever the number of runs.

Work is spent only where it can matter: countries that pledged nothing in any run of a block are left
out of the monthly loop (their contribution is zero by construction), and the conditions that do not
depend on other countries are evaluated for all months at once before the loop.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sim import rules
from sim.arrays import RunArrays
from sim.draws import DRAW_BLOCK, Draws, draw
from sim.params import Params

DEFAULT_BLOCK = 4 * DRAW_BLOCK
"""Runs per computing block: large enough to amortise numpy's per-call cost, small enough for cache."""


def simulate(p: Params, d: Draws, runs: np.ndarray, *, collect_countries: bool = False) -> RunArrays:
    """Simulate the runs whose draws are ``d`` (run numbers ``runs``) and return their arrays."""
    n, C, T = d.n, p.n_countries, p.horizon
    all_cols = np.arange(C)
    k = rules.run_constants(**p.constant_inputs(all_cols), **d.constant_inputs(slice(None), slice(None)))
    reasons = np.array(k.reasons, dtype=np.int64)
    withdrawn_month = np.full((n, C), -1, dtype=np.int64)
    months_deployed = np.zeros((n, C), dtype=np.int64)
    window_sum = np.zeros((n, C, 3))
    totals = np.zeros((3, n, T))
    monthly = np.zeros((n, T, C, 3)) if collect_countries else None

    cols = np.flatnonzero(k.potential.any(axis=0))  # countries that could act in this block
    if cols.size:
        pot = k.potential[:, cols]
        land_offer, air, sea = k.land_offer[:, cols], k.air[:, cols], k.sea[:, cols]
        has_offer = k.has_offer[:, cols]
        months = np.arange(T)
        static = rules.static_conditions(months[:, None, None], p.ceasefire_month,
                                         p.backstop_by_month[:, None, None], p.required_backstop[cols],
                                         p.un_framework, p.requires_un[cols], k.takes_part[:, cols],
                                         k.fall_month[:, cols])  # [T, n, c]
        reasons_c = reasons[:, cols]
        static_ok = static == 0
        follows, momentum = p.follows_leads[cols], p.momentum_threshold[cols]
        delay, is_lead, casualty = p.mandate_delay[cols], p.is_lead[cols], p.casualty_withdraw[cols]

        shape = (n, cols.size)
        deployed = np.zeros(shape, dtype=bool)
        withdrawn = np.zeros(shape, dtype=bool)
        ready = np.zeros(shape, dtype=np.int64)
        land_prev = np.zeros(shape)
        land_total_prev = np.zeros(n)
        leads_prev = np.zeros(n, dtype=bool)
        wmonth = np.full(shape, -1, dtype=np.int64)
        mdeployed = np.zeros(shape, dtype=np.int64)
        wsum = np.zeros((n, cols.size, 3))
        for t in range(T):
            deployed, ready, now_withdrawn, bits = rules.decide(
                static_ok[t], has_offer, withdrawn, follows, leads_prev[:, None],
                land_total_prev[:, None] - land_prev, momentum, ready, delay, deployed)
            reasons_c = rules.held_back(reasons_c, static[t], bits, pot, t >= p.assess_start)
            wmonth[now_withdrawn & ~withdrawn] = t
            withdrawn = now_withdrawn
            land_t, air_t, sea_t = land_offer * deployed, air * deployed, sea * deployed
            land_total = land_t.sum(axis=1)
            totals[0, :, t], totals[1, :, t], totals[2, :, t] = land_total, air_t.sum(axis=1), sea_t.sum(axis=1)
            mdeployed += deployed
            if t >= p.assess_start:
                wsum[..., 0] += land_t
                wsum[..., 1] += air_t
                wsum[..., 2] += sea_t
            if monthly is not None:
                monthly[:, t, cols, 0], monthly[:, t, cols, 1], monthly[:, t, cols, 2] = land_t, air_t, sea_t
            # Russia: strikes in the runs where it occurs; the country hit may withdraw.
            hit_runs = np.flatnonzero(rules.incident_occurs(d.incident[:, t], p.incident_rate, p.russia_rejects,
                                                            land_total))
            if hit_runs.size:
                target = rules.incident_target(land_t[hit_runs], d.target[hit_runs, t])
                leaves = rules.withdraws_after_incident(d.casualty[hit_runs, t], casualty[target])
                r, c = hit_runs[leaves], target[leaves]
                withdrawn[r, c] = True
                wmonth[r, c] = t
                reasons_c[r, c] |= rules.INCIDENT
            land_prev, land_total_prev = land_t, land_total
            leads_prev = (deployed & is_lead).any(axis=1)
        reasons[:, cols] = reasons_c
        withdrawn_month[:, cols] = wmonth
        months_deployed[:, cols] = mdeployed
        window_sum[:, cols] = wsum

    return RunArrays(
        run=np.asarray(runs, dtype=np.int64),
        land=totals[0], air=totals[1], sea=totals[2],
        pledge=np.stack([k.land, k.air, k.sea], axis=-1).astype(float),
        over_capacity=np.asarray(k.over_capacity, dtype=bool),
        takes_part=np.asarray(k.takes_part, dtype=bool),
        window_sum=window_sum,
        months_deployed=months_deployed,
        reasons=reasons,
        withdrawn_month=withdrawn_month,
        country_monthly=monthly,
    )


def iter_blocks(p: Params, seed: int, start: int, stop: int, *, block: int = DEFAULT_BLOCK,
                collect_countries: bool = False) -> Iterator[RunArrays]:
    """Simulate runs ``start..stop-1`` block by block, yielding each block's arrays (bounded memory)."""
    if block < 1:
        raise ValueError("block must be at least 1 run")
    a = start
    while a < stop:
        b = min(stop, (a // block + 1) * block)
        d = draw(seed, p.n_countries, p.horizon, a, b)
        yield simulate(p, d, np.arange(a, b), collect_countries=collect_countries)
        a = b


def run_ensemble(p: Params, seed: int, n_runs: int, *, start: int = 0, block: int = DEFAULT_BLOCK,
                 collect_countries: bool = False) -> RunArrays:
    """Simulate ``n_runs`` runs (numbers ``start..start+n_runs-1``) and return all their arrays."""
    if n_runs < 1:
        raise ValueError("n_runs must be at least 1")
    return RunArrays.concat(list(iter_blocks(p, seed, start, start + n_runs, block=block,
                                             collect_countries=collect_countries)))
