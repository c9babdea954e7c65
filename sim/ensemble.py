"""The ensemble engine: many runs of a scenario at once, as ``[runs, countries]`` arrays.

It calls the same :mod:`sim.rules` functions as the Mesa agents, in the same order within a month, on
the same draws (:mod:`sim.draws`), so run ``i`` here equals the Mesa model's run ``i`` exactly (a test
proves it). Runs are processed in blocks, so memory stays bounded whatever the number of runs.

Per block:

1. numpy, over the whole ``[runs, countries]`` block: each country's month of a fall of government
   (``rules.government_fall_month``: the one rule with a logarithm, computed with numpy in both engines
   so that both get the same last bit; only for countries that ``rules.can_fall``), and the months in
   which something can change in every run (``rules.schedule_events``);
2. a loop compiled with numba, run by run: each country's fixed quantities (``rules.run_constants``), the
   months in which something can change (``rules.month_events``), then for each computed month and
   country the rule functions of :mod:`sim.rules` themselves (``static_conditions``, ``decide``,
   ``held_back``, ``state_changed``, ``incident_occurs``, ``incident_target``,
   ``withdraws_after_incident``), compiled from the same source the Mesa agents run. Months in which
   nothing can change are fast-forwarded, as in the Mesa model: the last computed month is carried over
   them in one step (when the next month is computed, or at the end of the run). The loop is plain
   bookkeeping around those calls; compiled code is cached on disk after the first use, and compiled
   again when this file or ``sim/rules.py`` changes (:func:`_rules_key`).

Countries that pledged nothing in a run are left out of its monthly loop (their contribution is zero).
Each country decides on each component it pledged (land, air, sea) separately, because each condition
binds only the components the data says it binds (``Params.binds``). The run-level quantities (declared
uncertainties: the backstop offered and required, thresholds, army share and with it land capacity) are
computed per run with numpy before the loop (``Params.per_run``), as the Mesa model does.
"""

from __future__ import annotations

import hashlib
import types
from collections.abc import Iterator
from pathlib import Path

import numba
import numpy as np

from sim import concepts, rules
from sim.arrays import RunArrays
from sim.draws import DRAW_BLOCK, Draws, draw
from sim.params import Params

DEFAULT_BLOCK = DRAW_BLOCK
"""Runs per computing block: one draw block, drawn in place; its ``[runs, countries]`` arrays stay in the
CPU cache (of 1,024 to 8,192 runs per block, 1,024 ran fastest: ``benchmarks/bench_engines.py --blocks``)."""

# The rule functions, compiled from the same source the Mesa agents call.
_jit = numba.njit(cache=True)


def _compiled(rule, *calls: str):
    """``rule`` compiled from its own code, with the :mod:`sim.rules` functions it ``calls`` compiled too.

    (Compiled code can call only compiled functions; the code and the rules it calls are unchanged.)
    """
    scope = dict(rule.__globals__)
    scope.update({name: _jit(getattr(rules, name)) for name in calls})
    return _jit(types.FunctionType(rule.__code__, scope, rule.__name__, rule.__defaults__, rule.__closure__))


_run_constants = _compiled(rules.run_constants, "participates", "draw_whole", "cap_to_capacity", "land_allowed")
_static_conditions = _jit(rules.static_conditions)
_component_bits = _jit(rules.component_bits)
_backstop_level = _jit(rules.backstop_level)
_month_events = _jit(rules.month_events)
_decide = _jit(rules.decide)
_held_back = _jit(rules.held_back)
_state_changed = _jit(rules.state_changed)
_incident_occurs = _jit(rules.incident_occurs)
_incident_target = _jit(rules.incident_target)
_withdraws = _jit(rules.withdraws_after_incident)
_INCIDENT, _LEADS, _MOMENTUM, _MANDATE = rules.INCIDENT, rules.LEADS, rules.MOMENTUM, rules.MANDATE


@numba.njit(cache=True)
def _carry(r, a, b, assess_start, cols, c, deployed, offer, current, months_deployed, window_sum, totals,
           monthly, collect):  # pragma: no cover
    """Book months ``a..b-1`` of run ``r`` as copies of month ``a`` (computed; nothing changes after it)."""
    span = b - a
    assessed = max(0, b - max(a, assess_start))
    for k in range(3):
        totals[k, r, a:b] = current[k]
    for j in range(c):
        col = cols[j]
        if deployed[0, j] or deployed[1, j] or deployed[2, j]:
            months_deployed[r, col] += span
        for k in range(3):
            if deployed[k, j]:
                window_sum[r, col, k] += offer[k, j] * assessed
                if collect:
                    monthly[r, a:b, col, k] = offer[k, j]


def _rules_key() -> str:
    """A digest of ``sim/rules.py`` and ``sim/concepts.py`` (the bits): part of the compiled loop's cache key.

    numba's cache notices changes to the file a compiled function is defined in, not to the files of the
    functions it calls (numba issue #1833). Without this key, an edited rule would keep running its old
    compiled code in the ensemble engine while the Mesa model ran the new one. The condition bits the rules
    use are declared in ``sim/concepts.py`` and compiled in as constants, so that file counts too.
    """
    return hashlib.sha256(b"".join(Path(m.__file__).read_bytes() for m in (rules, concepts))).hexdigest()


def _compile_block(rules_key: str):
    """The block loop, compiled; ``rules_key`` (:func:`_rules_key`) is in its closure, hence in its cache key."""

    @numba.njit(cache=True)
    def block(p_participate, p_troops, land_lo, land_hi, land_cap, air_lo, air_hi, sea_lo, sea_hi, sea_cap,
              border_priority, border_secure, fall_month, u_participate, u_troops, u_land, u_air, u_sea,
              schedule, backstop_scheduled, offered, ceasefire_month, un_framework, required, requires_un,
              follows, momentum, delay, is_lead, casualty, binds, u_incident, u_target, u_casualty, incident_rate,
              russia_rejects, assess_start, fast_forward,
              takes_part, pledge, over_capacity, reasons, withdrawn_month, months_deployed, window_sum, totals,
              monthly, collect):  # pragma: no cover
        _ = rules_key  # keys the on-disk cache of this loop to the rules' source (see _rules_key)
        n, C = fall_month.shape
        T = schedule.shape[0]
        # One run's state, reset for each run. The first c entries are the countries that pledged anything;
        # state is per component (0 land, 1 air, 2 sea) since each condition binds its own components.
        cols = np.zeros(C, np.int64)
        offer = np.zeros((3, C), np.float64)
        pot = np.zeros((3, C), np.bool_)
        potential = np.zeros(C, np.bool_)
        sends_troops = np.zeros(C, np.bool_)
        deployed = np.zeros((3, C), np.bool_)
        withdrawn = np.zeros((3, C), np.bool_)
        ready = np.zeros((3, C), np.int64)
        land = np.zeros(C, np.float64)
        new_land = np.zeros(C, np.float64)
        current = np.zeros(3, np.float64)
        follows_k = np.zeros(3, np.bool_)
        momentum_k = np.zeros(3, np.bool_)
        delay_k = np.zeros(3, np.bool_)
        for k in range(3):
            follows_k[k] = (binds[k] & _LEADS) != 0
            momentum_k[k] = (binds[k] & _MOMENTUM) != 0
            delay_k[k] = (binds[k] & _MANDATE) != 0
        for r in range(n):
            c = 0
            for j in range(C):
                q = _run_constants(p_participate[j], p_troops[j], land_lo[j], land_hi[j], land_cap[r, j],
                                   air_lo[j], air_hi[j], sea_lo[j], sea_hi[j], sea_cap[j], border_priority[j],
                                   border_secure, u_participate[r, j], u_troops[r, j], u_land[r, j], u_air[r, j],
                                   u_sea[r, j])
                takes_part[r, j] = q.takes_part
                pledge[r, j, 0], pledge[r, j, 1], pledge[r, j, 2] = q.land, q.air, q.sea
                over_capacity[r, j] = q.over_land or q.over_sea
                reasons[r, j, 0], reasons[r, j, 2] = q.reasons_land, q.reasons_sea
                potential[j] = q.pot_land or q.pot_air or q.pot_sea
                if potential[j]:
                    cols[c] = j
                    offer[0, c], offer[1, c], offer[2, c] = q.land_offer, q.air, q.sea
                    pot[0, c], pot[1, c], pot[2, c] = q.pot_land, q.pot_air, q.pot_sea
                    sends_troops[c] = q.sends_troops
                    c += 1
            if c == 0:
                continue  # nobody pledged anything: the force is empty all run (totals stay zero)
            deployed[:, :c] = False
            withdrawn[:, :c] = False
            ready[:, :c] = 0
            land[:c] = 0.0
            current[:] = 0.0
            land_total_prev = 0.0
            leads_prev = False
            changed = True
            events = _month_events(schedule, fall_month[r], potential, u_incident[r], incident_rate, russia_rejects)
            last = -1  # the last computed month
            for t in range(T):
                if fast_forward and not (events[t] or changed):
                    continue  # nothing can change this month: it repeats the last computed month exactly
                if last >= 0:
                    _carry(r, last, t, assess_start, cols, c, deployed, offer, current, months_deployed, window_sum,
                           totals, monthly, collect)
                last = t
                changed = False
                leads = False
                current[:] = 0.0
                new_land[:c] = 0.0
                level = _backstop_level(backstop_scheduled[t], offered[r])
                assessed = t >= assess_start
                for j in range(c):
                    col = cols[j]
                    bits_static = _static_conditions(t, ceasefire_month, level, required[r, col], un_framework,
                                                     requires_un[col], takes_part[r, col], sends_troops[j],
                                                     fall_month[r, col])
                    others_land = land_total_prev - land[j]
                    for k in range(3):
                        if not pot[k, j]:
                            continue
                        sk = _component_bits(bits_static, binds[k])
                        dep0, wd0 = deployed[k, j], withdrawn[k, j]
                        dep, rdy, wd, bits = _decide(sk == 0, offer[k, j] > 0, wd0, follows[col] and follows_k[k],
                                                     leads_prev, others_land, momentum[col] * momentum_k[k],
                                                     ready[k, j], delay[col] * delay_k[k], assessed, dep0)
                        reasons[r, col, k] = _held_back(reasons[r, col, k], sk, bits, True, assessed,
                                                        dep0 and not dep)
                        if wd and not wd0 and withdrawn_month[r, col] < 0:
                            withdrawn_month[r, col] = t
                        if _state_changed(dep, dep0, wd, wd0, bits, rdy, ready[k, j]):
                            changed = True
                        deployed[k, j], withdrawn[k, j], ready[k, j] = dep, wd, rdy
                        if dep:
                            current[k] += offer[k, j]
                    if deployed[0, j]:
                        new_land[j] = offer[0, j]
                        if is_lead[col]:
                            leads = True
                land[:c] = new_land[:c]
                # Russia: a strike on the troops on the ground; the country hit may take its troops home.
                if _incident_occurs(u_incident[r, t], incident_rate, russia_rejects, current[0]):
                    target = _incident_target(land[:c], u_target[r, t])
                    if _withdraws(u_casualty[r, t], casualty[cols[target]]):
                        withdrawn[0, target] = True
                        if withdrawn_month[r, cols[target]] < 0:
                            withdrawn_month[r, cols[target]] = t
                        reasons[r, cols[target], 0] |= _INCIDENT
                        changed = True
                land_total_prev = current[0]
                leads_prev = leads
            _carry(r, last, T, assess_start, cols, c, deployed, offer, current, months_deployed, window_sum, totals,
                   monthly, collect)

    return block


_block = _compile_block(_rules_key())


def simulate(p: Params, d: Draws, runs: np.ndarray, *, collect_countries: bool = False,
             fast_forward: bool = True) -> RunArrays:
    """Simulate the runs whose draws are ``d`` (run numbers ``runs``) and return their arrays.

    With ``fast_forward`` (the default), months in which nothing can change are not computed
    (:func:`sim.rules.month_events`, :func:`sim.rules.state_changed`): they repeat the last month, which
    is exactly what computing them would give. ``fast_forward=False`` computes every month (same results).
    """
    n, C, T = d.n, p.n_countries, p.horizon
    every = slice(None)
    fall_month = np.full((n, C), rules.NEVER, dtype=np.int64)
    falls = np.flatnonzero(rules.can_fall(**p.fall_inputs(every)))  # the others are never out for this
    if falls.size:
        fall_month[:, falls] = rules.government_fall_month(**p.fall_inputs(falls), **d.fall_inputs(every, falls))
    run = p.per_run(d)
    takes_part = np.zeros((n, C), dtype=bool)
    pledge = np.zeros((n, C, 3))
    over_capacity = np.zeros((n, C), dtype=bool)
    reasons = np.zeros((n, C, 3), dtype=np.int64)
    withdrawn_month = np.full((n, C), -1, dtype=np.int64)
    months_deployed = np.zeros((n, C), dtype=np.int64)
    window_sum = np.zeros((n, C, 3))
    totals = np.zeros((3, n, T))
    monthly = np.zeros((n, T, C, 3)) if collect_countries else np.zeros((1, 1, 1, 3))
    _block(**p.constant_inputs(every), land_cap=run.land_cap, fall_month=fall_month,
           **d.constant_inputs(every, every),
           schedule=rules.schedule_events(T, p.ceasefire_month, p.backstop_scheduled, p.assess_start),
           backstop_scheduled=p.backstop_scheduled, offered=run.offered, ceasefire_month=int(p.ceasefire_month),
           un_framework=bool(p.un_framework), required=run.required, requires_un=p.requires_un,
           follows=p.follows_leads, momentum=p.momentum_threshold, delay=p.mandate_delay, is_lead=p.is_lead,
           casualty=p.casualty_withdraw, binds=p.binds, u_incident=d.incident, u_target=d.target,
           u_casualty=d.casualty, incident_rate=float(p.incident_rate), russia_rejects=bool(p.russia_rejects),
           assess_start=int(p.assess_start), fast_forward=bool(fast_forward), takes_part=takes_part, pledge=pledge,
           over_capacity=over_capacity, reasons=reasons, withdrawn_month=withdrawn_month,
           months_deployed=months_deployed, window_sum=window_sum, totals=totals, monthly=monthly,
           collect=bool(collect_countries))
    return RunArrays(
        run=np.asarray(runs, dtype=np.int64),
        land=totals[0], air=totals[1], sea=totals[2],
        pledge=pledge,
        over_capacity=over_capacity,
        takes_part=takes_part,
        window_sum=window_sum,
        months_deployed=months_deployed,
        reasons=reasons,
        withdrawn_month=withdrawn_month,
        uncertain=run.values,
        thresholds=run.thresholds,
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
