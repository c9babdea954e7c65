"""The ensemble engine: many runs of a scenario at once, as ``[runs, countries]`` arrays.

It calls the same :mod:`sim.rules` functions as the Mesa agents, in the same order within a month, on
the same draws (:mod:`sim.draws`), so run ``i`` here equals the Mesa model's run ``i`` exactly (a test
proves it). Runs are processed in blocks, so memory stays bounded whatever the number of runs.

Work is spent only where it can matter: countries that pledged nothing in any run of a block are left
out of the monthly loop (their contribution is zero by construction); the conditions that do not depend
on other countries are evaluated for all months at once before the loop; and each month only the runs in
which something can change are computed (fast-forward, as in the Mesa model).
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


def simulate(p: Params, d: Draws, runs: np.ndarray, *, collect_countries: bool = False,
             fast_forward: bool = True) -> RunArrays:
    """Simulate the runs whose draws are ``d`` (run numbers ``runs``) and return their arrays.

    With ``fast_forward`` (the default), each month only the runs in which something can change are
    computed (:func:`sim.rules.month_events`, :func:`sim.rules.state_changed`); the others repeat their
    last month, which is exactly what computing them would give. ``fast_forward=False`` computes every run
    every month (same results, slower).
    """
    n, C, T = d.n, p.n_countries, p.horizon
    k = rules.run_constants(**p.constant_inputs(np.arange(C)), **d.constant_inputs(slice(None), slice(None)))
    reasons = np.array(k.reasons, dtype=np.int64)
    withdrawn_month = np.full((n, C), -1, dtype=np.int64)
    months_deployed = np.zeros((n, C), dtype=np.int64)
    window_sum = np.zeros((n, C, 3))
    totals = np.zeros((3, n, T))
    monthly = np.zeros((n, T, C, 3)) if collect_countries else None
    start = p.assess_start

    cols = np.flatnonzero(k.potential.any(axis=0))  # countries that could act in this block
    if cols.size:
        c = cols.size
        pot = k.potential[:, cols]
        # whole numbers as int32 (exact; halves memory traffic against float64)
        offer = np.stack([k.land_offer[:, cols], k.air[:, cols], k.sea[:, cols]]).astype(np.int32)  # [3, n, c]
        has_offer = k.has_offer[:, cols]
        static = rules.static_conditions(np.arange(T)[:, None, None], p.ceasefire_month,
                                         p.backstop_by_month[:, None, None], p.required_backstop[cols],
                                         p.un_framework, p.requires_un[cols], k.takes_part[:, cols],
                                         k.fall_month[:, cols])  # [T, n, c]
        events = rules.month_events(static, d.incident, p.incident_rate, p.russia_rejects, start)  # [T, n]
        if not fast_forward:
            events[:] = True
        static_ok = static == 0
        follows, momentum = p.follows_leads[cols], p.momentum_threshold[cols]
        delay, is_lead, casualty = p.mandate_delay[cols], p.is_lead[cols], p.casualty_withdraw[cols]

        deployed = np.zeros((n, c), dtype=bool)
        withdrawn = np.zeros((n, c), dtype=bool)
        ready = np.zeros((n, c), dtype=np.int16)
        contrib = np.zeros((3, n, c), dtype=np.int32)  # each run's current land, air, sea per country
        land_total_prev = np.zeros(n, dtype=np.int32)
        leads_prev = np.zeros(n, dtype=bool)
        reasons_c = reasons[:, cols].astype(np.int16)
        wmonth = np.full((n, c), -1, dtype=np.int64)
        mdeployed = np.zeros((n, c), dtype=np.int16)
        wsum = np.zeros((3, n, c), dtype=np.int64)
        done = np.zeros(n, dtype=np.int64)  # months already added to the running sums, per run
        computed = np.zeros((n, T), dtype=bool)
        changed = np.ones(n, dtype=bool)

        def catch_up(idx: np.ndarray, upto: int) -> None:
            # months done[idx]..upto-1 repeated the runs' current state: add them to the running sums
            gap = upto - done[idx]
            mdeployed[idx] += deployed[idx] * gap[:, None]
            in_window = np.maximum(upto - np.maximum(done[idx], start), 0)
            wsum[:, idx] += contrib[:, idx] * in_window[:, None]
            done[idx] = upto

        for t in range(T):
            idx = np.flatnonzero(events[t] | changed)
            changed[:] = False
            if not idx.size:
                continue
            lagging = idx[done[idx] < t]
            if lagging.size:
                catch_up(lagging, t)
            # state of the runs computed this month: views when all runs are, copies of the rows otherwise
            sel = slice(None) if idx.size == n else idx
            dep0, wd0 = deployed[sel], withdrawn[sel]
            land_prev = contrib[0, sel]
            dep, rdy, wd, bits = rules.decide(
                static_ok[t, sel], has_offer[sel], wd0, follows, leads_prev[sel, None],
                land_total_prev[sel, None] - land_prev, momentum, ready[sel], delay, dep0)
            reasons_c[sel] = rules.held_back(reasons_c[sel], static[t, sel], bits, pot[sel], t >= start,
                                             dep0 & (dep ^ True))
            cur = offer[:, sel] * dep  # [3, m, c]
            sums = cur.sum(axis=2)  # [3, m]
            # Russia: strikes in the runs where it occurs; the country hit may withdraw.
            hit = np.flatnonzero(rules.incident_occurs(d.incident[idx, t], p.incident_rate, p.russia_rejects,
                                                       sums[0]))
            newly = wd & (wd0 ^ True)
            if hit.size:
                target = rules.incident_target(cur[0, hit], d.target[idx[hit], t])
                leaves = rules.withdraws_after_incident(d.casualty[idx[hit], t], casualty[target])
                r, tc = hit[leaves], target[leaves]
                wd[r, tc] = True
                newly[r, tc] = True
                reasons_c[idx[r], tc] |= rules.INCIDENT
            wm = wmonth[sel]
            wm[newly] = t
            wmonth[sel] = wm
            changed[sel] = rules.state_changed(dep, dep0, wd, wd0, bits).any(axis=1)
            deployed[sel], withdrawn[sel], ready[sel], contrib[:, sel] = dep, wd, rdy, cur
            land_total_prev[sel] = sums[0]
            leads_prev[sel] = (dep & is_lead).any(axis=1)
            totals[:, sel, t] = sums
            done[sel] = t + 1
            mdeployed[sel] += dep
            if t >= start:
                wsum[:, sel] += cur
            computed[sel, t] = True
            if monthly is not None:
                m = monthly[sel]
                m[:, t][:, cols] = np.moveaxis(cur, 0, -1)
                monthly[sel] = m
        catch_up(np.arange(n), T)
        # months not computed repeat the last computed month (month 0 is always computed)
        src = np.maximum.accumulate(np.where(computed, np.arange(T), 0), axis=1)
        totals = np.take_along_axis(totals, src[None], axis=2)
        if monthly is not None:
            monthly = np.take_along_axis(monthly, src[:, :, None, None], axis=1)
        reasons[:, cols] = reasons_c
        withdrawn_month[:, cols] = wmonth
        months_deployed[:, cols] = mdeployed
        window_sum[:, cols] = np.moveaxis(wsum, 0, -1)

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
