"""The ensemble engine: many runs of a scenario at once, as ``[runs, countries]`` arrays.

It calls the same :mod:`sim.rules` functions as the Mesa agents, in the same order within a month, on
the same draws (:mod:`sim.draws`), so run ``i`` here equals the Mesa model's run ``i`` exactly (a test
proves it). Runs are processed in blocks, so memory stays bounded whatever the number of runs.

Two stages per block:

1. numpy, over whole ``[runs, countries]`` arrays: each run's fixed quantities (``rules.run_constants``)
   and the months in which something can change in every run (``rules.schedule_events``);
2. the monthly loop, compiled with numba: for each run, the months in which something can change
   (``rules.month_events``), then for each computed month and country the rule functions of :mod:`sim.rules`
   themselves (``static_conditions``, ``decide``, ``held_back``, ``state_changed``, ``incident_occurs``,
   ``incident_target``, ``withdraws_after_incident``), compiled from the same source the Mesa agents run.
   Months in which nothing can change are fast-forwarded, as in the Mesa model: the last computed month
   is carried over them in one step (when the next month is computed, or at the end of the run). The
   loop is plain bookkeeping around those calls; compiled code is cached on disk after the first use.

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

DEFAULT_BLOCK = DRAW_BLOCK
"""Runs per computing block: one draw block, drawn in place; its ``[runs, countries]`` arrays stay in the
CPU cache (of 1,024 to 8,192 runs per block, 1,024 ran fastest: ``benchmarks/bench_engines.py --blocks``)."""

# The rule functions, compiled from the same source the Mesa agents call.
_jit = numba.njit(cache=True)
_static_conditions = _jit(rules.static_conditions)
_month_events = _jit(rules.month_events)
_decide = _jit(rules.decide)
_held_back = _jit(rules.held_back)
_state_changed = _jit(rules.state_changed)
_incident_occurs = _jit(rules.incident_occurs)
_incident_target = _jit(rules.incident_target)
_withdraws = _jit(rules.withdraws_after_incident)
_INCIDENT = rules.INCIDENT


@numba.njit(cache=True)
def _carry(r, a, b, assess_start, cols, deployed, offer, current, months_deployed, window_sum, totals,
           monthly, collect):  # pragma: no cover
    """Book months ``a..b-1`` of run ``r`` as copies of month ``a`` (computed; nothing changes after it)."""
    span = b - a
    assessed = max(0, b - max(a, assess_start))
    for k in range(3):
        totals[k, r, a:b] = current[k]
    for j in range(cols.shape[0]):
        if deployed[j]:
            col = cols[j]
            months_deployed[r, col] += span
            for k in range(3):
                window_sum[r, col, k] += offer[k][r, col] * assessed
                if collect:
                    monthly[r, a:b, col, k] = offer[k][r, col]


@numba.njit(cache=True)
def _month_loop(schedule, backstop_by_month, ceasefire_month, un_framework, required_backstop, requires_un,
                follows, momentum, delay, is_lead, casualty, takes_part, fall_month, offer, has_offer, potential,
                u_incident, u_target, u_casualty, incident_rate, russia_rejects, assess_start, fast_forward, cols,
                reasons, withdrawn_month, months_deployed, window_sum, totals, monthly, collect):  # pragma: no cover
    n = potential.shape[0]
    T = schedule.shape[0]
    c = cols.shape[0]
    deployed = np.zeros(c, np.bool_)  # one run's state, reset for each run
    withdrawn = np.zeros(c, np.bool_)
    ready = np.zeros(c, np.int64)
    land = np.zeros(c, np.float64)
    new_land = np.zeros(c, np.float64)
    current = np.zeros(3, np.float64)
    for r in range(n):
        deployed[:] = False
        withdrawn[:] = False
        ready[:] = 0
        land[:] = 0.0
        current[:] = 0.0
        land_total_prev = 0.0
        leads_prev = False
        changed = True
        events = _month_events(schedule, fall_month[r], potential[r], u_incident[r], incident_rate, russia_rejects)
        last = -1  # the last computed month
        for t in range(T):
            if fast_forward and not (events[t] or changed):
                continue  # nothing can change this month: it repeats the last computed month exactly
            if last >= 0:
                _carry(r, last, t, assess_start, cols, deployed, offer, current, months_deployed, window_sum,
                       totals, monthly, collect)
            last = t
            changed = False
            leads = False
            current[:] = 0.0
            new_land[:] = 0.0
            for j in range(c):
                col = cols[j]
                if not potential[r, col]:
                    continue
                bits_static = _static_conditions(t, ceasefire_month, backstop_by_month[t], required_backstop[col],
                                                 un_framework, requires_un[col], takes_part[r, col],
                                                 fall_month[r, col])
                dep0, wd0 = deployed[j], withdrawn[j]
                dep, rdy, wd, bits = _decide(bits_static == 0, has_offer[r, col], wd0, follows[col], leads_prev,
                                             land_total_prev - land[j], momentum[col], ready[j], delay[col], dep0)
                reasons[r, col] = _held_back(reasons[r, col], bits_static, bits, True, t >= assess_start,
                                             dep0 and not dep)
                if wd and not wd0:
                    withdrawn_month[r, col] = t
                if _state_changed(dep, dep0, wd, wd0, bits):
                    changed = True
                deployed[j], withdrawn[j], ready[j] = dep, wd, rdy
                if dep:
                    new_land[j] = offer[0][r, col]
                    for k in range(3):
                        current[k] += offer[k][r, col]
                    if is_lead[col]:
                        leads = True
            land[:] = new_land
            # Russia: a strike on the troops on the ground; the country hit may withdraw.
            if _incident_occurs(u_incident[r, t], incident_rate, russia_rejects, current[0]):
                target = _incident_target(land, u_target[r, t])
                if _withdraws(u_casualty[r, t], casualty[cols[target]]):
                    withdrawn[target] = True
                    withdrawn_month[r, cols[target]] = t
                    reasons[r, cols[target]] |= _INCIDENT
                    changed = True
            land_total_prev = current[0]
            leads_prev = leads
        _carry(r, last, T, assess_start, cols, deployed, offer, current, months_deployed, window_sum, totals,
               monthly, collect)


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
    totals = np.zeros((3, n, T))
    monthly = np.zeros((n, T, C, 3)) if collect_countries else np.zeros((1, 1, 1, 3))

    cols = np.flatnonzero(k.potential.any(axis=0))  # countries that could act in this block
    if cols.size:
        _month_loop(rules.schedule_events(T, p.ceasefire_month, p.backstop_by_month, p.assess_start),
                    p.backstop_by_month, int(p.ceasefire_month), bool(p.un_framework), p.required_backstop,
                    p.requires_un, p.follows_leads, p.momentum_threshold, p.mandate_delay, p.is_lead,
                    p.casualty_withdraw, k.takes_part, k.fall_month, (k.land_offer, k.air, k.sea), k.has_offer,
                    k.potential, d.incident, d.target, d.casualty, float(p.incident_rate), bool(p.russia_rejects),
                    int(p.assess_start), bool(fast_forward), cols, reasons, withdrawn_month, months_deployed,
                    window_sum, totals, monthly, bool(collect_countries))

    return RunArrays(
        run=np.asarray(runs, dtype=np.int64),
        land=totals[0], air=totals[1], sea=totals[2],
        pledge=np.stack([k.land, k.air, k.sea], axis=-1).astype(float, copy=False),
        over_capacity=np.asarray(k.over_capacity, dtype=bool),
        takes_part=np.asarray(k.takes_part, dtype=bool),
        window_sum=window_sum,
        months_deployed=months_deployed,
        reasons=reasons,
        withdrawn_month=withdrawn_month,
        country_monthly=monthly if collect_countries else None,
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
