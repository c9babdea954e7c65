"""How a country decides: every rule of the model, once, as a pure function over numpy arrays.

No Mesa, no pandas, no I/O; the model's only import is :mod:`sim.concepts`, the declarations. Each
function broadcasts, so one country (plain Python scalars) and ``[runs, countries]`` arrays go through the
same code: the Mesa agents call these on their own state, the ensemble engine on whole arrays. The
per-month rules use only operators that mean the same on Python scalars and numpy arrays (negation is
written ``x ^ True``: ``~True`` is ``-2`` in Python).

Conditions that hold a country back are reported as bit flags (declared in :mod:`sim.concepts`), so a whole
``[runs, countries]`` array of reasons costs one integer per cell.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from sim.concepts import BIT, COMPONENTS, CONDITIONS  # noqa: F401  (re-exported: the rules' vocabulary)

# Bit flags: why a country that has something to offer is not (or no longer) deployed. Each condition is
# declared once, with its bit, words and the components it binds, in sim.concepts; the rules name them here.
CEASEFIRE = BIT["ceasefire"]  # no ceasefire in force yet (or ever)
BACKSTOP = BIT["us_backstop"]  # the US backstop is below what the country requires
UN_FRAMEWORK = BIT["un_framework"]  # the country requires a UN framework and there is none
BORDER = BIT["border_priority"]  # border priority: land troops stay home while the eastern border is not secure
WILLINGNESS = BIT["willingness"]  # the country's willingness draw says it does not take part in this run
GOVERNMENT_FELL = BIT["government_fell"]  # its government fell and, with it, its part in the force
LEADS = BIT["lead_nations"]  # it follows the lead nations, and none of them is deployed
MOMENTUM = BIT["momentum"]  # the others' troops on the ground are below its momentum threshold
MANDATE = BIT["parliament_mandate"]  # waiting for a parliamentary mandate (deployment delay)
INCIDENT = BIT["incident"]  # it withdrew after an attack on its troops
CASCADE = BIT["cascade"]  # it withdrew because the force shrank or the lead nations left
CAPACITY = BIT["capacity"]  # its pledge exceeded what it can sustain and was cut to its capacity
TROOPS = BIT["troops_decision"]  # it takes part, but its troops-decision draw says it sends no land troops

NEVER = np.iinfo(np.int32).max
"""A month that never comes (e.g. no ceasefire, no fall of government)."""


# --- capacity ----------------------------------------------------------------------------------------

def sustainable_troops(land_forces, deployable_share, rotation_ratio):
    """Whole troops a country can keep on the ground indefinitely, from its land forces (army).

    A share ``deployable_share`` of its land forces is usable abroad (NATO's usability target: 40%), and a
    sustained deployment of S needs ``rotation_ratio`` x S of them (rule of thirds: 3; one deployed, one
    preparing, one recovering). With ratio 5 this gives NATO's 8% sustainable target.
    """
    return np.floor(land_forces * deployable_share / rotation_ratio)


def land_forces(active_personnel, army_share):
    """Land forces (army) from all-service active personnel and the army's share of them."""
    return active_personnel * army_share


def sustainable_vessels(vessels, rotation_ratio):
    """Whole vessels a navy can keep on station indefinitely under the rotation ratio."""
    return np.floor(vessels / rotation_ratio)


def cap_to_capacity(pledge, capacity):
    """What a country can actually keep deployed, and whether its pledge exceeded that (flagged).

    Returns ``(kept, over)``: ``kept = min(pledge, capacity)``; ``over`` is True where the pledge could not
    be sustained. A pledge is never silently kept above capacity.
    """
    return np.minimum(pledge, capacity), pledge > capacity


# --- willingness: drawn once per run ------------------------------------------------------------------

def draw_whole(lo, hi, u):
    """A whole number drawn uniformly from ``lo..hi`` (whole numbers, inclusive) from ``u`` in [0, 1).

    Pledges of troops, aircraft and vessels are whole numbers: that keeps every sum exact, so totals do
    not depend on the order they are added in (the two engines add in different orders).
    """
    return np.minimum(np.floor(lo + (hi - lo + 1) * u), hi)


def draw_real(lo, hi, u):
    """A real number drawn uniformly from ``[lo, hi)`` from ``u`` in [0, 1) (``lo`` when ``lo == hi``)."""
    return lo + (hi - lo) * u


def draw_option(cum_weights, u):
    """Index of the option drawn from ``u`` in [0, 1), given the options' cumulative weights (last = 1)."""
    return np.minimum(np.searchsorted(cum_weights, u, side="right"), len(cum_weights) - 1)


def participates(p_participate, u):
    """Whether the country takes part at all in this run (its willingness draw)."""
    return u < p_participate


def withdrawal_rate(hazard, p_withdraw):
    """Monthly probability that a fall of government takes the country out: ``min(hazard * p_withdraw, 1)``."""
    return np.minimum(hazard * p_withdraw, 1.0)


def government_fall_month(hazard, p_withdraw, u, forced_month, u_forced):
    """First month from which the country is out because its government fell and it withdrew.

    Falls come at ``hazard`` per month; after each, the country withdraws with ``p_withdraw``. Only the
    first withdrawal matters (withdrawal is final), so its month is geometric with rate
    ``hazard * p_withdraw`` (inverse-CDF of ``u``). A scenario may force a fall at ``forced_month``
    (``< 0``: none), which leads to withdrawal when ``u_forced < p_withdraw``. :data:`NEVER` if neither.
    """
    q = withdrawal_rate(hazard, p_withdraw)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        m = np.floor(np.log1p(-u) / np.log1p(-q))
    m = np.where(q <= 0.0, NEVER, np.where(q >= 1.0, 0, np.minimum(m, NEVER)))
    forced = (forced_month >= 0) & (u_forced < p_withdraw)
    return np.where(forced, np.minimum(m, forced_month), m).astype(np.int64)


def can_fall(hazard, p_withdraw, forced_month):
    """Whether :func:`government_fall_month` can give anything but :data:`NEVER` (per country).

    Only then need it be computed: a country with no hazard of a withdrawal-causing fall and no forced
    fall that can lead to withdrawal is never out for this reason.
    """
    return (withdrawal_rate(hazard, p_withdraw) > 0.0) | ((forced_month >= 0) & (p_withdraw > 0.0))


class RunConstants(NamedTuple):
    """What a country brings to one run, fixed for the whole run (scalars, or arrays ``[runs, countries]``).

    ``takes_part``: its willingness draw (any component); ``sends_troops``: its troops-decision draw (land);
    ``land``, ``air``, ``sea``: its pledges after the capacity cap (troops, aircraft, vessels);
    ``over_land``, ``over_sea``: the pledge was cut to capacity; ``land_offer``: the land pledge it may
    send (zero under border priority); ``pot_land``, ``pot_air``, ``pot_sea``: it pledged something of
    that component, before the capacity cap (that component's reasons are tracked); ``reasons_land``,
    ``reasons_sea``: the bits known before the run starts (capacity cut, border priority).
    """

    takes_part: Any
    sends_troops: Any
    land: Any
    air: Any
    sea: Any
    over_land: Any
    over_sea: Any
    land_offer: Any
    pot_land: Any
    pot_air: Any
    pot_sea: Any
    reasons_land: Any
    reasons_sea: Any


def run_constants(p_participate, p_troops, land_lo, land_hi, land_cap, air_lo, air_hi, sea_lo, sea_hi, sea_cap,
                  border_priority, border_secure, u_participate, u_troops, u_land, u_air,
                  u_sea) -> RunConstants:
    """Draw a country's willingness and pledges for a run and cap them to capacity.

    ``land_cap`` is the run's (its army share is a declared uncertainty, drawn per run with numpy in both
    engines). The rest is written with operators that mean the same on scalars and arrays (the Mesa model
    calls it on one run's countries, the ensemble engine compiles it for one country of one run). It uses
    sums, products, ``floor``, ``min`` and comparisons only, each rounded as IEEE 754 prescribes in numpy
    and in compiled code alike (the compiled code fuses no multiply-add), so it gives the same bits either
    way; a test compares the two.
    """
    takes_part = participates(p_participate, u_participate)
    sends_troops = participates(p_troops, u_troops)
    land_pledged, sea_pledged = draw_whole(land_lo, land_hi, u_land), draw_whole(sea_lo, sea_hi, u_sea)
    land, over_land = cap_to_capacity(land_pledged, land_cap)
    sea, over_sea = cap_to_capacity(sea_pledged, sea_cap)
    air = draw_whole(air_lo, air_hi, u_air)
    border_ok = land_allowed(border_priority, border_secure)
    land_offer = land * border_ok
    pot_land, pot_air, pot_sea = land_pledged > 0, air > 0, sea_pledged > 0
    reasons_land = (over_land * CAPACITY | ((border_ok ^ True) & (land > 0)) * BORDER) * pot_land
    reasons_sea = over_sea * CAPACITY * pot_sea
    return RunConstants(takes_part, sends_troops, land, air, sea, over_land, over_sea, land_offer, pot_land,
                        pot_air, pot_sea, reasons_land, reasons_sea)


# --- conditions ---------------------------------------------------------------------------------------

def static_conditions(month, ceasefire_month, backstop_level, required_backstop, un_framework, requires_un,
                      takes_part, sends_troops, fall_month):
    """Bits of the conditions that do not depend on the other countries this month (0: all hold).

    ``month`` and ``backstop_level`` may be arrays over months; the rest broadcast over countries. Each
    bit binds the components the data says it binds (:func:`component_bits`):
    - ceasefire: deployment only from the ceasefire month on (the day after a ceasefire);
    - US backstop: the level offered this month must reach the country's requirement;
    - UN framework: required by some (Italy) and absent unless the scenario says so;
    - willingness: the run's draw; troops decision: the run's draw on sending land troops;
    - government fell: out from the month a fall of government ended its part (deployed or not).
    """
    i16 = np.int16  # bits as int16: whole [months, runs, countries] arrays stay small and fast
    return ((month < ceasefire_month) * i16(CEASEFIRE)
            | (backstop_level < required_backstop) * i16(BACKSTOP)
            | (requires_un & (un_framework ^ True)) * i16(UN_FRAMEWORK)
            | (takes_part ^ True) * i16(WILLINGNESS)
            | (sends_troops ^ True) * i16(TROOPS)
            | (month >= fall_month) * i16(GOVERNMENT_FELL))


def component_bits(bits, binds_mask):
    """The condition bits that bind one component: ``bits`` restricted to that component's mask."""
    return bits & binds_mask


def backstop_level(scheduled, offered):
    """The US backstop level of a month.

    The scenario's scheduled change if any (``>= 0``), else the run's offered level (pinned by the
    scenario or drawn, a declared uncertainty).
    """
    return (scheduled >= 0) * scheduled + (scheduled < 0) * offered


def land_allowed(border_priority, border_secure):
    """Whether land troops may leave: a border-priority country (Poland) keeps them home unless secure."""
    return (border_priority ^ True) | border_secure


def decide(static_ok, has_offer, withdrawn, follows_leads, leads_present, others_land, momentum_threshold,
           ready_months, mandate_delay, counting, deployed_prev):
    """One month's decision of a country on one component (or of every country in every run at once).

    A component deploys this month when its static conditions hold (``static_ok``), the country offers
    something of it, it has not withdrawn it, the lead nations' troops were on the ground last month (if
    it follows them), the others had at least ``momentum_threshold`` troops on the ground last month, and
    its parliament's mandate has come: ``mandate_delay`` months counted from when the country is ready
    (its conditions hold and the build-up is over: ``counting``), so a mandate can delay a country past
    the build-up. Inputs refer to last month's force, so every country decides at once and the order of
    agents does not matter. Conditions that do not bind this component are passed as met (no leads to
    follow, a zero momentum threshold, no mandate delay).

    A component that was deployed last month and no longer is withdraws for good (withdrawal cascades).

    Returns ``(deployed, ready_months, withdrawn, bits)`` where ``bits`` are the dynamic conditions that
    held it back this month (:data:`LEADS`, :data:`MOMENTUM`, :data:`MANDATE`, :data:`CASCADE`).
    """
    want = static_ok & has_offer & (withdrawn ^ True)
    leads_ok = (follows_leads ^ True) | leads_present
    momentum_ok = others_land >= momentum_threshold
    cond = want & leads_ok & momentum_ok
    ready = (ready_months + counting) * cond
    deployed = cond & ((mandate_delay == 0) | (ready > mandate_delay))
    cascade = deployed_prev & (deployed ^ True)
    bits = ((want & (leads_ok ^ True)) * LEADS | (want & (momentum_ok ^ True)) * MOMENTUM
            | (cond & (deployed ^ True)) * MANDATE | (cascade & want) * CASCADE)
    return deployed, ready, withdrawn | cascade, bits


def state_changed(deployed, deployed_prev, withdrawn, withdrawn_prev, bits, ready, ready_prev):
    """Whether a country's month can differ from the next one even if nothing else happens.

    True if it joined or left the force, withdrew, or its parliament's mandate is counting down (it waits
    for one and its count of ready months moved; during the build-up the count does not move, so a wait
    then repeats itself). When this is false for every country of a run and no event falls in the next
    month (:func:`month_events`), the next month's decisions repeat this month's exactly, so an engine may
    skip them (fast-forward).
    """
    return ((deployed != deployed_prev) | (withdrawn != withdrawn_prev)
            | (((bits & MANDATE) != 0) & (ready != ready_prev)))


def schedule_events(horizon, ceasefire_month, backstop_by_month, assess_start):
    """Months in which something can change in every run of a scenario: ``[horizon]`` booleans.

    The first month, the ceasefire month, every month in which the US backstop level changes, and the
    first assessed month (from which held-back reasons are recorded).
    """
    events = np.zeros(horizon, dtype=np.bool_)
    events[0] = True
    events[min(assess_start, horizon - 1)] = True
    if ceasefire_month < horizon:
        events[ceasefire_month] = True
    for t in range(1, horizon):
        if backstop_by_month[t] != backstop_by_month[t - 1]:
            events[t] = True
    return events


def month_events(schedule, fall_month, potential, u_incident, incident_rate, russia_rejects):
    """One run's months in which something can change regardless of last month: ``[months]`` booleans.

    ``schedule`` is :func:`schedule_events`; to it come the month each country that pledged anything is
    out after a fall of government (``fall_month``, ``[countries]``), and the months in which Russia may
    strike (``u_incident``, ``[months]``). These are all the months in which a static condition
    (:func:`static_conditions`) can change: the ceasefire, the backstop and falls of government are its
    only inputs that vary by month. (A listed month need not change anything: computing it anyway is exact.)
    """
    events = schedule | (russia_rejects & (u_incident < incident_rate))
    for j in range(fall_month.shape[0]):
        if potential[j] and fall_month[j] < events.shape[0]:
            events[fall_month[j]] = True
    return events


def held_back(reasons, static_bits, dynamic_bits, potential, assessed, left):
    """Add this month's reasons to a country's record of what held it back.

    Conditions count in the assessed months only (from the end of the build-up on), so the record
    answers "what kept it out of the force the thresholds were tested on". A withdrawal counts whenever
    it happens, with its cause: ``left`` is true in the month a deployed country leaves the force, and
    then the conditions that failed that month are recorded too (a country that left before the
    assessed months for a static reason, say a backstop cut, keeps that reason). Countries that pledged
    nothing (``potential`` false) have no reasons.
    """
    counts_all = assessed | left
    counted = counts_all * (static_bits | dynamic_bits) | (counts_all ^ True) * (dynamic_bits & CASCADE)
    return reasons | counted * potential


# --- Russia's response ------------------------------------------------------------------------------

def incident_occurs(u, incident_rate, russia_rejects, land_total):
    """Whether Russia strikes the force this month: only if it rejects the force and troops are there."""
    return russia_rejects & (u < incident_rate) & (land_total > 0)


def incident_target(land, u):
    """Index of the country whose troops are hit: chosen with probability proportional to its troops.

    ``land`` is one run's ``[countries]`` troops with a positive total; ``u`` in [0, 1).
    """
    cum = np.cumsum(land)
    return np.argmax(cum > u * cum[-1])


def withdraws_after_incident(u, casualty_withdraw_prob):
    """Whether the country hit withdraws (its own probability of leaving after an attack)."""
    return u < casualty_withdraw_prob


# --- threshold tests -----------------------------------------------------------------------------------

def assessment_start(ceasefire_month, build_up_months, horizon):
    """First month the thresholds are tested.

    That is ``build_up_months`` after the ceasefire (after month 0 if no ceasefire comes, when nothing
    deploys), and never past the last month.
    """
    start = np.where(ceasefire_month >= NEVER, 0, ceasefire_month) + build_up_months
    return np.minimum(start, horizon - 1)


def threshold_test(series, threshold, start):
    """Test a ``[..., months]`` strength series against a threshold from month ``start`` on.

    ``threshold`` is a number or one per series (``[...]``: a drawn threshold differs from run to run).
    Returns ``(met, margin, first_below, minimum, mean)``: met when the minimum over the window reaches
    the threshold; margin = minimum - threshold; first_below is the first month in the window below the
    threshold (-1 if none); minimum and mean over the window.
    """
    threshold = np.asarray(threshold)
    window = series[..., start:]
    minimum = window.min(axis=-1)
    mean = window.mean(axis=-1)
    below = window < threshold[..., None]
    any_below = below.any(axis=-1)
    first_below = np.where(any_below, below.argmax(axis=-1) + start, -1)
    return minimum >= threshold, minimum - threshold, first_below, minimum, mean
