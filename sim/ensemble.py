"""The ensemble engine: many runs of a scenario at once, as ``[runs, countries]`` arrays.

It calls the same step functions (:mod:`sim.step`) as the Mesa agents, in the same order within a month,
on the same draws (:mod:`sim.draws`), so run ``i`` here equals the Mesa model's run ``i`` exactly (a test
proves it). What is its own is the scheduling: runs in blocks (memory stays bounded whatever the number
of runs), run by run, country by country, and the months it skips.

Per block:

1. numpy, over the whole ``[runs, countries]`` block: each country's month of a fall of government
   (``rules.government_fall_month``: the one rule with a logarithm, computed with numpy in both engines
   so that both get the same last bit; only for countries that ``rules.can_fall``), and the run-level
   quantities (declared uncertainties: the backstop offered and required, thresholds, army share and with
   it land capacity; ``Params.per_run``), as the Mesa model does;
2. a loop compiled with numba, given the block as one structure (:class:`Block`), run by run: each
   country's fixed quantities (``rules.run_constants``), the months in which something can change
   (``rules.month_events``), then for each computed month each country's month
   (``step.country_month``), Russia's strike (``step.strike``, ``step.struck``) and the bookkeeping
   (``step.carry``), compiled from the same source the Mesa agents run. Months in which nothing can
   change are fast-forwarded, as in the Mesa model: the last computed month is carried over them in one
   step (when the next month is computed, or at the end of the run). Compiled code is cached on disk
   after the first use, and compiled again when this file, ``sim/rules.py`` or ``sim/step.py`` changes
   (:func:`_sources_key`).

Countries that pledged nothing in a run are left out of its monthly loop (their contribution is zero).
"""

from __future__ import annotations

import hashlib
import types
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numba
import numpy as np

from sim import concepts, rules, step
from sim.arrays import RunArrays
from sim.draws import DRAW_BLOCK, Draws, draw
from sim.params import Compiled, Params
from sim.step import Country, Month, State

DEFAULT_BLOCK = DRAW_BLOCK
"""Runs per computing block: one draw block, drawn in place; its ``[runs, countries]`` arrays stay in the
CPU cache (of 1,024 to 8,192 runs per block, 1,024 ran fastest: ``benchmarks/bench_engines.py --blocks``)."""

# The functions the loop calls are inlined into it (numba IR level), with no disk cache of their own: the loop's
# cache holds their code under a key that covers their source (_sources_key), whereas a cache of their own would
# not notice an edited rule they call from another file (numba issue #1833). Inlined, the rows of the run's
# arrays they update in place cost no reference counting (called, the loop ran about three times slower).
_jit = numba.njit(inline="always")
_SOURCES = (rules, step)
"""The modules whose functions the compiled loop calls (compiled with it) and whose source keys its cache."""


def _compiled(fn):
    """``fn`` compiled from its own code, with the functions of :data:`_SOURCES` it calls compiled too.

    (Compiled code can call only compiled functions; the code of ``fn`` and of the rules it calls is
    unchanged: the functions the Mesa agents call are the ones compiled here.)
    """
    scope = dict(fn.__globals__)
    for name in fn.__code__.co_names:
        f = scope.get(name)
        if isinstance(f, types.FunctionType) and any(f.__module__ == m.__name__ for m in _SOURCES):
            scope[name] = _compiled(f)
    return _jit(types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__))


_run_constants = _compiled(rules.run_constants)
_month_events = _compiled(rules.month_events)
_backstop_level = _compiled(rules.backstop_level)
_country_month = _compiled(step.country_month)
_strike = _compiled(step.strike)
_struck = _compiled(step.struck)
_carry = _compiled(step.carry)


class Block(NamedTuple):
    """All a computing block of runs needs, as the one argument of the compiled loop.

    ``scenario``: the scenario's numbers (:attr:`sim.params.Params.compiled`). The block's runs,
    ``[runs, countries]``: ``land_cap``, ``required`` (``Params.per_run``), ``fall_month``
    (``rules.government_fall_month``); ``[runs]``: ``offered``. Its draws (:class:`sim.draws.Draws`):
    ``u_participate`` … ``u_sea`` ``[runs, countries]``, ``u_incident``, ``u_target``, ``u_casualty``
    ``[runs, months]``. What it fills in (:class:`sim.arrays.RunArrays`): ``takes_part``, ``pledge``,
    ``over_capacity``, ``reasons``, ``withdrawn_month``, ``months_deployed``, ``window_sum``, ``totals``
    (``[3, runs, months]``) and, if ``collect``, ``monthly``. ``fast_forward``: skip the months in which
    nothing can change.
    """

    scenario: Compiled
    land_cap: np.ndarray
    required: np.ndarray
    fall_month: np.ndarray
    offered: np.ndarray
    u_participate: np.ndarray
    u_troops: np.ndarray
    u_land: np.ndarray
    u_air: np.ndarray
    u_sea: np.ndarray
    u_incident: np.ndarray
    u_target: np.ndarray
    u_casualty: np.ndarray
    takes_part: np.ndarray
    pledge: np.ndarray
    over_capacity: np.ndarray
    reasons: np.ndarray
    withdrawn_month: np.ndarray
    months_deployed: np.ndarray
    window_sum: np.ndarray
    totals: np.ndarray
    monthly: np.ndarray
    collect: bool
    fast_forward: bool


@_jit
def _load(j, r, col, deployed, withdrawn, ready, reasons, withdrawn_month):  # pragma: no cover
    """Country ``j``'s state (column ``col`` of run ``r``'s outputs) as a :class:`sim.step.State`."""
    return State((deployed[j, 0], deployed[j, 1], deployed[j, 2]), (withdrawn[j, 0], withdrawn[j, 1], withdrawn[j, 2]),
                 (ready[j, 0], ready[j, 1], ready[j, 2]), (reasons[r, col, 0], reasons[r, col, 1], reasons[r, col, 2]),
                 withdrawn_month[r, col])


@_jit
def _store(st, j, r, col, deployed, withdrawn, ready, reasons, withdrawn_month):  # pragma: no cover
    """Write back what :func:`_load` read."""
    for k in range(3):
        deployed[j, k], withdrawn[j, k], ready[j, k] = st.deployed[k], st.withdrawn[k], st.ready[k]
        reasons[r, col, k] = st.reasons[k]
    withdrawn_month[r, col] = st.withdrawn_month


@_jit
def _book(r, a, z, assess_start, cols, c, deployed, offer, current, totals, months_deployed, window_sum, monthly,
          collect):  # pragma: no cover
    """Book months ``a..z-1`` of run ``r`` as copies of month ``a`` (computed; nothing changes after it)."""
    assessed = max(0, z - max(a, assess_start))
    for k in range(3):
        for t in range(a, z):  # a loop, not a slice: a slice's view cost ~4% of the engine's time
            totals[k, r, t] = current[k]
    for j in range(c):
        col = cols[j]
        w, months_deployed[r, col] = _carry(
            z - a, assessed, (offer[j, 0], offer[j, 1], offer[j, 2]), (deployed[j, 0], deployed[j, 1], deployed[j, 2]),
            (window_sum[r, col, 0], window_sum[r, col, 1], window_sum[r, col, 2]), months_deployed[r, col])
        for k in range(3):
            window_sum[r, col, k] = w[k]
            if collect and deployed[j, k]:
                monthly[r, a:z, col, k] = offer[j, k]


def _sources_key() -> str:
    """A digest of :data:`_SOURCES` (``sim/rules.py``, ``sim/step.py``) and ``sim/concepts.py``: the cache key.

    It is part of the compiled loop's on-disk cache key (in the loop's closure).

    numba's cache notices changes to the file a compiled function is defined in, not to the files of the
    functions it calls (numba issue #1833). Without this key, an edited rule or step would keep running its
    old compiled code in the ensemble engine while the Mesa model ran the new one.
    The condition bits the rules use are declared in ``sim/concepts.py`` and compiled in as constants, so
    that file counts too.
    """
    digest = hashlib.sha256()
    for m in (*_SOURCES, concepts):
        digest.update(Path(m.__file__).read_bytes())
    return digest.hexdigest()


def _compile_block(sources_key: str):
    """The block loop, compiled; ``sources_key`` (:func:`_sources_key`) is in its closure, hence in its cache key."""

    @numba.njit(cache=True)
    def block(b):  # pragma: no cover
        _ = sources_key  # keys the on-disk cache of this loop to the rules' and steps' source
        s = b.scenario
        # The arrays taken out of the structure once, into local names: each access through the structure
        # would cost a reference count (an atomic add and subtract; the loop ran ~1.5 times slower).
        land_cap, required, fall_month, offered = b.land_cap, b.required, b.fall_month, b.offered
        u_participate, u_troops, u_land, u_air, u_sea = b.u_participate, b.u_troops, b.u_land, b.u_air, b.u_sea
        u_incident, u_target, u_casualty, takes_part = b.u_incident, b.u_target, b.u_casualty, b.takes_part
        pledge, over_capacity, reasons, withdrawn_month = b.pledge, b.over_capacity, b.reasons, b.withdrawn_month
        months_deployed, window_sum, totals, monthly = b.months_deployed, b.window_sum, b.totals, b.monthly
        collect, fast_forward = b.collect, b.fast_forward
        p_participate, p_troops, land_lo, land_hi = s.p_participate, s.p_troops, s.land_lo, s.land_hi
        air_lo, air_hi, sea_lo, sea_hi, sea_cap = s.air_lo, s.air_hi, s.sea_lo, s.sea_hi, s.sea_cap
        border_priority, requires_un, is_lead = s.border_priority, s.requires_un, s.is_lead
        casualty_withdraw, backstop_scheduled, follows = s.casualty_withdraw, s.backstop_scheduled, s.follows
        momentum, delay, schedule, border_secure = s.momentum, s.delay, s.schedule, s.border_secure
        countries = s.countries
        ceasefire_month, un_framework, incident_rate = s.ceasefire_month, s.un_framework, s.incident_rate
        russia_rejects, assess_start = s.russia_rejects, s.assess_start
        n, C = fall_month.shape
        T = schedule.shape[0]
        # One run's state, reset for each run. The first c rows are the countries that pledged anything;
        # state is per component (0 land, 1 air, 2 sea) since each condition binds its own components.
        cols = np.zeros(C, np.int64)
        offer = np.zeros((C, 3), np.float64)
        pot = np.zeros((C, 3), np.bool_)
        potential = np.zeros(C, np.bool_)
        sends_troops = np.zeros(C, np.bool_)
        deployed = np.zeros((C, 3), np.bool_)
        withdrawn = np.zeros((C, 3), np.bool_)
        ready = np.zeros((C, 3), np.int64)
        land = np.zeros(C, np.float64)
        land_each = np.zeros(C, np.float64)  # each country's land troops last month, by its index in the data
        current = np.zeros(3, np.float64)
        binds = (s.binds[0], s.binds[1], s.binds[2])
        for r in range(n):
            c = 0
            for j in range(C):
                q = _run_constants(p_participate[j], p_troops[j], land_lo[j], land_hi[j], land_cap[r, j],
                                   air_lo[j], air_hi[j], sea_lo[j], sea_hi[j], sea_cap[j],
                                   border_priority[j], border_secure, u_participate[r, j], u_troops[r, j],
                                   u_land[r, j], u_air[r, j], u_sea[r, j])
                takes_part[r, j] = q.takes_part
                pledge[r, j, 0], pledge[r, j, 1], pledge[r, j, 2] = q.land, q.air, q.sea
                over_capacity[r, j] = q.over_land or q.over_sea
                reasons[r, j, 0], reasons[r, j, 2] = q.reasons_land, q.reasons_sea
                potential[j] = q.pot_land or q.pot_air or q.pot_sea
                if potential[j]:
                    cols[c] = j
                    offer[c, 0], offer[c, 1], offer[c, 2] = q.land_offer, q.air, q.sea
                    pot[c, 0], pot[c, 1], pot[c, 2] = q.pot_land, q.pot_air, q.pot_sea
                    sends_troops[c] = q.sends_troops
                    c += 1
            if c == 0:
                continue  # nobody pledged anything: the force is empty all run (totals stay zero)
            deployed[:c] = False
            withdrawn[:c] = False
            ready[:c] = 0
            current[:] = 0.0
            land_each[:] = 0.0
            land_prev = 0.0
            leads_prev = False
            changed = True
            events = _month_events(schedule, fall_month[r], potential, u_incident[r], incident_rate,
                                   russia_rejects)
            last = -1  # the last computed month
            for t in range(T):
                if fast_forward and not (events[t] or changed):
                    continue  # nothing can change this month: it repeats the last computed month exactly
                if last >= 0:
                    _book(r, last, t, assess_start, cols, c, deployed, offer, current, totals, months_deployed,
                          window_sum, monthly, collect)
                last = t
                month = Month(t, _backstop_level(backstop_scheduled[t], offered[r]), ceasefire_month,
                              un_framework, t >= assess_start, leads_prev, land_prev, land_each)
                changed = False
                leads = False
                current[:] = 0.0
                for j in range(c):
                    col = cols[j]
                    country = Country((offer[j, 0], offer[j, 1], offer[j, 2]), (pot[j, 0], pot[j, 1], pot[j, 2]),
                                      binds, (follows[col, 0], follows[col, 1], follows[col, 2]),
                                      (momentum[col, 0], momentum[col, 1], momentum[col, 2]),
                                      (delay[col, 0], delay[col, 1], delay[col, 2]),
                                      required[r, col], requires_un[col], takes_part[r, col], sends_troops[j],
                                      fall_month[r, col], is_lead[col], countries[col])
                    st, ch, lead = _country_month(month, country, _load(j, r, col, deployed, withdrawn, ready,
                                                                        reasons, withdrawn_month))
                    _store(st, j, r, col, deployed, withdrawn, ready, reasons, withdrawn_month)
                    changed |= ch
                    leads |= lead
                    for k in range(3):
                        if deployed[j, k]:
                            current[k] += offer[j, k]
                    land[j] = offer[j, 0] * deployed[j, 0]
                # Russia: a strike on the troops on the ground; the country hit may take its troops home.
                target = _strike(u_incident[r, t], u_target[r, t], incident_rate, russia_rejects, current[0],
                                 land[:c])
                if target >= 0:
                    col = cols[target]
                    st, ch = _struck(t, u_casualty[r, t], casualty_withdraw[col],
                                     _load(target, r, col, deployed, withdrawn, ready, reasons, withdrawn_month))
                    _store(st, target, r, col, deployed, withdrawn, ready, reasons, withdrawn_month)
                    changed |= ch
                land_prev = current[0]
                leads_prev = leads
                for j in range(c):
                    land_each[cols[j]] = land[j]
            _book(r, last, T, assess_start, cols, c, deployed, offer, current, totals, months_deployed, window_sum,
                  monthly, collect)

    return block


_block = _compile_block(_sources_key())


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
    out = RunArrays(
        run=np.asarray(runs, dtype=np.int64),
        land=None, air=None, sea=None,
        pledge=np.zeros((n, C, 3)),
        over_capacity=np.zeros((n, C), dtype=bool),
        takes_part=np.zeros((n, C), dtype=bool),
        window_sum=np.zeros((n, C, 3)),
        months_deployed=np.zeros((n, C), dtype=np.int64),
        reasons=np.zeros((n, C, 3), dtype=np.int64),
        withdrawn_month=np.full((n, C), -1, dtype=np.int64),
        uncertain=run.values,
        thresholds=run.thresholds,
        country_monthly=np.zeros((n, T, C, 3)) if collect_countries else None,
    )
    totals = np.zeros((3, n, T))
    _block(Block(
        scenario=p.compiled, land_cap=run.land_cap, required=run.required, fall_month=fall_month,
        offered=run.offered, u_participate=d.participate, u_troops=d.troops, u_land=d.land, u_air=d.air,
        u_sea=d.sea, u_incident=d.incident, u_target=d.target, u_casualty=d.casualty,
        takes_part=out.takes_part, pledge=out.pledge, over_capacity=out.over_capacity, reasons=out.reasons,
        withdrawn_month=out.withdrawn_month, months_deployed=out.months_deployed, window_sum=out.window_sum,
        totals=totals, monthly=out.country_monthly if collect_countries else np.zeros((1, 1, 1, 3)),
        collect=bool(collect_countries), fast_forward=bool(fast_forward)))
    return replace(out, land=totals[0], air=totals[1], sea=totals[2])


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
