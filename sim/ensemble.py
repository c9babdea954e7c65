"""The ensemble engine: many runs of a scenario at once, as ``[runs, countries]`` arrays.

It calls the same :mod:`sim.rules` functions as the Mesa agents, in the same order within a month, on
the same draws (:mod:`sim.draws`), so run ``i`` here equals the Mesa model's run ``i`` exactly (a test
proves it). Runs are processed in blocks, so memory stays bounded whatever the number of runs.

Two stages per block:

1. numpy, over whole ``[runs, countries]`` arrays: each run's fixed quantities (``rules.run_constants``),
   the static conditions of every month (``rules.static_conditions``) and the months in which something
   can change (``rules.month_events``);
2. the monthly loop, compiled with numba: for each run and month, the rule functions of
   :mod:`sim.rules` themselves (``decide``, ``held_back``, ``state_changed``, ``incident_occurs``,
   ``incident_target``, ``withdraws_after_incident``), compiled from the same source the Mesa agents run.
   Months in which nothing can change are fast-forwarded, as in the Mesa model. The loop is plain
   bookkeeping around those calls; compiled code is cached on disk after the first use.

Countries that pledged nothing in any run of a block are left out (their contribution is zero).
"""

from __future__ import annotations

from collections.abc import Iterator

import numba
import numpy as np

from sim import rules
from sim.arrays import RunArrays
from sim.draws import DRAW_BLOCK, Draws, draw
from sim.params import Params

DEFAULT_BLOCK = 4 * DRAW_BLOCK
"""Runs per computing block: large enough to amortise per-call costs, small enough for cache."""

# The rule functions, compiled from the same source the Mesa agents call.
_jit = numba.njit(cache=True)
_decide = _jit(rules.decide)
_held_back = _jit(rules.held_back)
_state_changed = _jit(rules.state_changed)
_incident_occurs = _jit(rules.incident_occurs)
_incident_target = _jit(rules.incident_target)
_withdraws = _jit(rules.withdraws_after_incident)
_INCIDENT = rules.INCIDENT


@numba.njit(cache=True)
def _month_loop(static, events, offer, has_offer, potential, follows, momentum, delay, is_lead, casualty,
                u_incident, u_target, u_casualty, incident_rate, russia_rejects, assess_start, fast_forward,
                reasons, withdrawn_month, months_deployed, window_sum, totals, monthly, collect):  # pragma: no cover
    n, T, c = static.shape
    deployed = np.zeros(c, np.bool_)  # one run's state, reset for each run (no allocation per run)
    withdrawn = np.zeros(c, np.bool_)
    ready = np.zeros(c, np.int64)
    land = np.zeros(c, np.int64)
    new_land = np.zeros(c, np.int64)
    current = np.zeros(3, np.int64)
    for r in range(n):
        deployed[:] = False
        withdrawn[:] = False
        ready[:] = 0
        land[:] = 0
        current[:] = 0
        land_total_prev = 0
        leads_prev = False
        changed = True
        for t in range(T):
            if fast_forward and not (events[r, t] or changed):
                # nothing can change this month: the last month repeats exactly
                for j in range(c):
                    if deployed[j]:
                        months_deployed[r, j] += 1
                        if t >= assess_start:
                            for k in range(3):
                                window_sum[k, r, j] += offer[k, r, j]
                        if collect:
                            for k in range(3):
                                monthly[r, t, j, k] = offer[k, r, j]
                for k in range(3):
                    totals[k, r, t] = current[k]
                continue
            changed = False
            leads = False
            for k in range(3):
                current[k] = 0
            new_land[:] = 0
            for j in range(c):
                if not potential[r, j]:
                    continue
                bits_static = static[r, t, j]
                dep0, wd0 = deployed[j], withdrawn[j]
                dep, rdy, wd, bits = _decide(bits_static == 0, has_offer[r, j], wd0, follows[j], leads_prev,
                                             land_total_prev - land[j], momentum[j], ready[j], delay[j], dep0)
                reasons[r, j] = _held_back(reasons[r, j], bits_static, bits, True, t >= assess_start,
                                           dep0 and not dep)
                if wd and not wd0:
                    withdrawn_month[r, j] = t
                if _state_changed(dep, dep0, wd, wd0, bits):
                    changed = True
                deployed[j], withdrawn[j], ready[j] = dep, wd, rdy
                if dep:
                    new_land[j] = offer[0, r, j]
                    months_deployed[r, j] += 1
                    for k in range(3):
                        current[k] += offer[k, r, j]
                        if t >= assess_start:
                            window_sum[k, r, j] += offer[k, r, j]
                        if collect:
                            monthly[r, t, j, k] = offer[k, r, j]
                    if is_lead[j]:
                        leads = True
            land[:] = new_land
            for k in range(3):
                totals[k, r, t] = current[k]
            # Russia: a strike on the troops on the ground; the country hit may withdraw.
            if _incident_occurs(u_incident[r, t], incident_rate, russia_rejects, current[0]):
                target = _incident_target(land, u_target[r, t])
                if _withdraws(u_casualty[r, t], casualty[target]):
                    withdrawn[target] = True
                    withdrawn_month[r, target] = t
                    reasons[r, target] |= _INCIDENT
                    changed = True
            land_total_prev = current[0]
            leads_prev = leads


def simulate(p: Params, d: Draws, runs: np.ndarray, *, collect_countries: bool = False,
             fast_forward: bool = True) -> RunArrays:
    """Simulate the runs whose draws are ``d`` (run numbers ``runs``) and return their arrays.

    With ``fast_forward`` (the default), months in which nothing can change are not computed
    (:func:`sim.rules.month_events`, :func:`sim.rules.state_changed`): they repeat the last month, which
    is exactly what computing them would give. ``fast_forward=False`` computes every month (same results).
    """
    n, C, T = d.n, p.n_countries, p.horizon
    k = rules.run_constants(**p.constant_inputs(np.arange(C)), **d.constant_inputs(slice(None), slice(None)))
    reasons = np.array(k.reasons, dtype=np.int64)
    withdrawn_month = np.full((n, C), -1, dtype=np.int64)
    months_deployed = np.zeros((n, C), dtype=np.int64)
    window_sum = np.zeros((n, C, 3))
    totals = np.zeros((3, n, T), dtype=np.int64)
    monthly = np.zeros((n, T, C, 3)) if collect_countries else None

    cols = np.flatnonzero(k.potential.any(axis=0))  # countries that could act in this block
    if cols.size:
        c = cols.size
        # [n, T, c]: each run's months side by side in memory, the order the loop reads them in
        static = rules.static_conditions(np.arange(T)[None, :, None], p.ceasefire_month,
                                         p.backstop_by_month[None, :, None], p.required_backstop[cols],
                                         p.un_framework, p.requires_un[cols], k.takes_part[:, None, cols],
                                         k.fall_month[:, None, cols])
        events = rules.month_events(static.transpose(1, 0, 2), d.incident, p.incident_rate, p.russia_rejects,
                                    p.assess_start).T.copy()  # [n, T]
        offer = np.ascontiguousarray(np.stack([k.land_offer[:, cols], k.air[:, cols], k.sea[:, cols]]),
                                     dtype=np.int64)  # [3, n, c]: whole numbers
        reasons_c = np.ascontiguousarray(reasons[:, cols])
        wmonth = np.full((n, c), -1, dtype=np.int64)
        mdeployed = np.zeros((n, c), dtype=np.int64)
        wsum = np.zeros((3, n, c), dtype=np.int64)
        monthly_c = np.zeros((n, T, c, 3), dtype=np.int64) if collect_countries else np.zeros((1, 1, 1, 3), np.int64)
        _month_loop(static, events, offer,
                    np.ascontiguousarray(k.has_offer[:, cols]), np.ascontiguousarray(k.potential[:, cols]),
                    p.follows_leads[cols], p.momentum_threshold[cols], p.mandate_delay[cols], p.is_lead[cols],
                    p.casualty_withdraw[cols], np.ascontiguousarray(d.incident), np.ascontiguousarray(d.target),
                    np.ascontiguousarray(d.casualty), float(p.incident_rate), bool(p.russia_rejects),
                    int(p.assess_start), bool(fast_forward), reasons_c, wmonth, mdeployed, wsum, totals,
                    monthly_c, bool(collect_countries))
        reasons[:, cols] = reasons_c
        withdrawn_month[:, cols] = wmonth
        months_deployed[:, cols] = mdeployed
        window_sum[:, cols] = np.moveaxis(wsum, 0, -1)
        if monthly is not None:
            monthly[:, :, cols] = monthly_c

    return RunArrays(
        run=np.asarray(runs, dtype=np.int64),
        land=totals[0].astype(float), air=totals[1].astype(float), sea=totals[2].astype(float),
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
