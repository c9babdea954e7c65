"""A country's month, written once: the step functions both engines call.

A month of one country is its static conditions under the month's US backstop, then, for each component
it pledged (land, air, sea), its decision, the reasons that held it back and its withdrawal
(:func:`country_month`). Russia's strike picks a country (:func:`strike`) and the country hit may take
its troops home (:func:`struck`). Months in which nothing can change are booked without being computed
(:func:`carry`: fast-forward).

The Mesa agents call these functions on their own state (plain Python values and lists); the ensemble
engine compiles them with numba and calls them on rows of its arrays, run by run and country by country.
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
    ``leads_prev`` (a lead nation's troops were on the ground) and ``land_prev`` (land troops in the force).
    """

    t: Any
    level: Any
    ceasefire_month: Any
    un_framework: Any
    assessed: Any
    leads_prev: Any
    land_prev: Any


class Country(NamedTuple):
    """What a country brings to a run, fixed for the whole run: the inputs of its monthly step.

    Per component (land, air, sea; sequences of three): ``offer`` what it may send (troops, aircraft,
    vessels; land is zero under border priority), ``pledged`` whether it pledged something of that
    component (only then it decides), ``binds`` the bit mask of the conditions that bind it, and what the
    dynamic conditions ask where they bind it (``Params.component_conditions``): ``follows`` (deploys only
    after a lead nation), ``momentum`` (others' land troops needed), ``delay`` (months of a mandate).
    Per country: ``required`` backstop level in this run, ``requires_un``, ``takes_part`` and
    ``sends_troops`` (its draws), ``fall_month`` (out from then: ``rules.government_fall_month``),
    ``is_lead``.
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


def country_month(m: Month, c: Country, deployed, withdrawn, ready, reasons, withdrawn_month):
    """One country's month: its decision on each component it pledged, the reasons and their effects.

    ``deployed``, ``withdrawn``, ``ready`` and ``reasons`` are the country's state per component (three
    each: its own Python lists in the Mesa model, rows of the ensemble's arrays), updated in place;
    ``withdrawn_month`` is the first month a component withdrew (-1: none yet). The country decides from
    last month's force (``m``) and its own state only, so the order in which countries take their turn
    does not matter. Its land troops last month were ``offer[0]`` if its land component was deployed.

    Returns ``(withdrawn_month, changed, leads)``: ``changed`` if its month could differ from the next one
    even if nothing else happens (``rules.state_changed``: fast-forward must not skip the next month);
    ``leads`` if it is a lead nation with troops on the ground this month.
    """
    # a plain int: on numpy's scalars every operation of the Mesa agents' step would cost ~30 times more
    static = int(static_conditions(m.t, m.ceasefire_month, m.level, c.required, m.un_framework, c.requires_un,
                                   c.takes_part, c.sends_troops, c.fall_month))
    others_land = m.land_prev - c.offer[0] * deployed[0]
    changed = False
    for k in range(3):
        if not c.pledged[k]:
            continue
        sk = component_bits(static, c.binds[k])
        dep0, wd0, ready0 = deployed[k], withdrawn[k], ready[k]
        dep, rdy, wd, bits = decide(sk == 0, c.offer[k] > 0, wd0, c.follows[k], m.leads_prev, others_land,
                                    c.momentum[k], ready0, c.delay[k], m.assessed, dep0)
        reasons[k] = held_back(reasons[k], sk, bits, True, m.assessed, dep0 and not dep)
        if wd and not wd0 and withdrawn_month < 0:
            withdrawn_month = m.t
        if state_changed(dep, dep0, wd, wd0, bits, rdy, ready0):
            changed = True
        deployed[k], withdrawn[k], ready[k] = dep, wd, rdy
    return withdrawn_month, changed, bool(c.is_lead and deployed[0])


def strike(u_incident, u_target, incident_rate, russia_rejects, land_total, land):
    """Which country Russia's strike hits this month: an index into ``land`` (its troops), -1 if none.

    It strikes only if it rejects the force and troops are on the ground (``rules.incident_occurs``); the
    country hit is drawn in proportion to its land troops (``rules.incident_target``).
    """
    if incident_occurs(u_incident, incident_rate, russia_rejects, land_total):
        return incident_target(land, u_target)
    return -1


def struck(t, u_casualty, casualty_withdraw, withdrawn, reasons, withdrawn_month):
    """The country hit in month ``t`` takes its troops home with its own probability (land only).

    Updates ``withdrawn`` and ``reasons`` (its three components) in place: the land component is withdrawn
    from the next month, with the bit ``INCIDENT``. Returns ``(withdrawn_month, changed)``.
    """
    if withdraws_after_incident(u_casualty, casualty_withdraw):
        withdrawn[0] = True
        reasons[0] |= INCIDENT
        if withdrawn_month < 0:
            withdrawn_month = t
        return withdrawn_month, True
    return withdrawn_month, False


def carry(span, assessed, offer, deployed, window_sum, months_deployed):
    """Book ``span`` months of a country whose force stays as it is, ``assessed`` of them in the window.

    Adds its contributions to ``window_sum`` (three, in place) and returns ``months_deployed`` with the
    months it is in the force. One month at a time in the Mesa model; in the ensemble engine, the months
    fast-forward skips, booked as copies of the last computed month (exact: contributions are whole
    numbers).
    """
    for k in range(3):
        if deployed[k]:
            window_sum[k] += offer[k] * assessed
    if deployed[0] or deployed[1] or deployed[2]:
        months_deployed += span
    return months_deployed
