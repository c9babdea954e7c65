"""A country's month, written once: the step functions both engines call.

A month of one country is its static conditions under the month's US backstop, then, for each component
it pledged (land, air, sea), its decision, the reasons that held it back and its withdrawal
(:func:`country_month`). Russia's strike picks a country (:func:`strike`) and the country hit may take
its troops home (:func:`struck`). Months in which nothing can change are booked without being computed
(:func:`carry`: fast-forward).

The Mesa agents call these functions on their own state (plain Python values and tuples); the ensemble
engine compiles them with numba and calls them on values read from its arrays, run by run and country by
country.
Each engine keeps only its own scheduling: which months it computes, how the countries take their turn,
how it collects what they did. The functions call the rules of :mod:`sim.rules` by name (imported below),
so that the ensemble can compile them with the rules compiled too.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sim.rules import (
    INCIDENT,
    component_bits,
    decide,
    held_back,
    incident_occurs,
    incident_target,
    state_changed,
    static_conditions,
    withdraws_after_incident,
)


class Month(NamedTuple):
    """What every country senses in a month.

    ``t`` the month; ``level`` the US backstop level the US agent gives this month (``rules.backstop_level``);
    ``ceasefire_month`` and ``un_framework`` the scenario's; ``assessed`` whether the thresholds are tested
    this month (``t >= assess_start``: reasons count, a mandate counts down); last month's force:
    ``leads_prev`` (a lead nation's troops were on the ground), ``land_prev`` (land troops in the force) and
    ``land_each_prev`` (each country's land troops in the force, by its index in the data: what a condition
    on one named country reads).
    """

    t: Any
    level: Any
    ceasefire_month: Any
    un_framework: Any
    assessed: Any
    leads_prev: Any
    land_prev: Any
    land_each_prev: Any


class Country(NamedTuple):
    """What a country brings to a run, fixed for the whole run: the inputs of its monthly step.

    Per component (land, air, sea; sequences of three): ``offer`` what it may send (troops, aircraft,
    vessels; land is zero under border priority), ``pledged`` whether it pledged something of that
    component (only then it decides), ``binds`` the bit mask of the conditions that bind it, and what the
    dynamic conditions ask where they bind it (``Params.component_conditions``): ``follows`` (deploys only
    after a lead nation), ``momentum`` (others' land troops needed), ``delay`` (months of a mandate).
    Per country: ``required`` backstop level in this run, ``requires_un``, ``takes_part`` and
    ``sends_troops`` (its draws), ``fall_month`` (out from then: ``rules.government_fall_month``),
    ``is_lead``; ``fields``: its declared country fields, read by name (``c.fields.follows_leads``): its
    record of ``Params.countries`` in the ensemble, the same values as a ``params.CountryRow`` in the Mesa
    model. A condition on a new field declared in :mod:`sim.concepts` reads it here, in this module or
    in :mod:`sim.rules`, and neither engine changes.
    """

    offer: Any
    pledged: Any
    binds: Any
    follows: Any
    momentum: Any
    delay: Any
    required: Any
    requires_un: Any
    takes_part: Any
    sends_troops: Any
    fall_month: Any
    is_lead: Any
    fields: Any


class State(NamedTuple):
    """A country's state in a run: what its monthly step reads and returns.

    Per component (land, air, sea; three each): ``deployed``, ``withdrawn`` (final), ``ready`` (months in a
    row with its conditions met once the build-up is over, for a mandate), ``reasons`` (bit flags of every
    condition that held it back so far); and ``withdrawn_month``, the first month a component withdrew (-1:
    none yet). The step functions take a state and return the next one: tuples, no array is updated in
    place (compiled, the values stay in registers).
    """

    deployed: Any
    withdrawn: Any
    ready: Any
    reasons: Any
    withdrawn_month: Any


def component_month(m: Month, c: Country, k, static, others_land, deployed, withdrawn, ready, reasons):
    """One component's month (``k``: 0 land, 1 air, 2 sea) of a country; unchanged if it pledged none of it.

    ``static`` are the country's static condition bits this month, restricted here to those that bind the
    component. Returns ``(deployed, withdrawn, ready, reasons, changed)``.
    """
    if not c.pledged[k]:
        return deployed, withdrawn, ready, reasons, False
    sk = component_bits(static, c.binds[k])
    dep, rdy, wd, bits = decide(sk == 0, c.offer[k] > 0, withdrawn, c.follows[k], m.leads_prev, others_land,
                                c.momentum[k], ready, c.delay[k], m.assessed, deployed)
    reasons = held_back(reasons, sk, bits, True, m.assessed, deployed and not dep)
    return dep, wd, rdy, reasons, state_changed(dep, deployed, wd, withdrawn, bits, rdy, ready)


def country_month(m: Month, c: Country, s: State):
    """One country's month: its decision on each component it pledged, the reasons and their effects.

    The country decides from last month's force (``m``) and its own state ``s`` only, so the order in which
    countries take their turn does not matter. Its land troops last month were ``offer[0]`` if its land
    component was deployed.

    Returns ``(state, changed, leads)``: its next state; ``changed`` if its month could differ from the next
    one even if nothing else happens (``rules.state_changed``: fast-forward must not skip the next month);
    ``leads`` if it is a lead nation with troops on the ground this month.
    """
    # a plain int: on numpy's scalars every operation of the Mesa agents' step would cost ~30 times more
    static = int(static_conditions(m.t, m.ceasefire_month, m.level, c.required, m.un_framework, c.requires_un,
                                   c.takes_part, c.sends_troops, c.fall_month))
    others_land = m.land_prev - c.offer[0] * s.deployed[0]
    d0, w0, r0, e0, ch0 = component_month(m, c, 0, static, others_land, s.deployed[0], s.withdrawn[0], s.ready[0],
                                          s.reasons[0])
    d1, w1, r1, e1, ch1 = component_month(m, c, 1, static, others_land, s.deployed[1], s.withdrawn[1], s.ready[1],
                                          s.reasons[1])
    d2, w2, r2, e2, ch2 = component_month(m, c, 2, static, others_land, s.deployed[2], s.withdrawn[2], s.ready[2],
                                          s.reasons[2])
    withdrawn_month = s.withdrawn_month
    if withdrawn_month < 0 and ((w0 and not s.withdrawn[0]) or (w1 and not s.withdrawn[1])
                                or (w2 and not s.withdrawn[2])):
        withdrawn_month = m.t
    state = State((d0, d1, d2), (w0, w1, w2), (r0, r1, r2), (e0, e1, e2), withdrawn_month)
    return state, ch0 or ch1 or ch2, bool(c.is_lead and d0)


def strike(u_incident, u_target, incident_rate, russia_rejects, land_total, land):
    """Which country Russia's strike hits this month: an index into ``land`` (its troops), -1 if none.

    It strikes only if it rejects the force and troops are on the ground (``rules.incident_occurs``); the
    country hit is drawn in proportion to its land troops (``rules.incident_target``).
    """
    if incident_occurs(u_incident, incident_rate, russia_rejects, land_total):
        return incident_target(land, u_target)
    return -1


def struck(t, u_casualty, casualty_withdraw, s: State):
    """The country hit in month ``t`` takes its troops home with its own probability (land only).

    Its land component is withdrawn from the next month, with the bit ``INCIDENT``. Returns
    ``(state, changed)``.
    """
    if withdraws_after_incident(u_casualty, casualty_withdraw):
        state = State(s.deployed, (True, s.withdrawn[1], s.withdrawn[2]), s.ready,
                      (s.reasons[0] | INCIDENT, s.reasons[1], s.reasons[2]),
                      t if s.withdrawn_month < 0 else s.withdrawn_month)
        return state, True
    return s, False


def carry(span, assessed, offer, deployed, window_sum, months_deployed):
    """Book ``span`` months of a country whose force stays as it is, ``assessed`` of them in the window.

    Returns ``(window_sum, months_deployed)`` with its contributions and its months in the force added.
    One month at a time in the Mesa model; in the ensemble engine, the months fast-forward skips, booked as
    copies of the last computed month (exact: contributions are whole numbers).
    """
    window_sum = (window_sum[0] + (offer[0] * assessed if deployed[0] else 0.0),
                  window_sum[1] + (offer[1] * assessed if deployed[1] else 0.0),
                  window_sum[2] + (offer[2] * assessed if deployed[2] else 0.0))
    if deployed[0] or deployed[1] or deployed[2]:
        months_deployed += span
    return window_sum, months_deployed
