"""The Mesa agents: countries that decide each month, the US backstop and Russia.

Agents hold their own state as plain Python values and call :mod:`sim.rules` on it — the same functions
the ensemble engine calls on whole arrays. Every random number an agent uses comes from the run's
:class:`sim.draws.Draws`, drawn up front.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim import rules

if TYPE_CHECKING:
    from sim.model import ReassuranceModel
    from sim.rules import RunConstants


class CountryAgent(mesa.Agent):
    """A country: its pledges for this run (drawn and capped once), its conditions, and its decisions.

    It decides on each component it pledged (land, air, sea) separately, since each condition binds only
    the components the data says it binds. State per month and component: ``deployed``, ``ready`` (months
    in a row with conditions met once the build-up is over, for a parliament's mandate), ``withdrawn``
    (final) and ``reasons`` (bit flags of every condition that held it back so far); ``land``/``air``/``sea``
    are the troops, aircraft and vessels it has in the force.

    Args:
        model: the model.
        index: the country's position in the baseline's tables.
        constants: the run's fixed quantities for every country (``rules.run_constants``).
        static_by_month: this country's static condition bits for each month (``rules.static_conditions``).
    """

    def __init__(self, model: ReassuranceModel, index: int, constants: RunConstants, static_by_month: list[int]):
        super().__init__(model)
        p = model.params
        i = self.index = index
        self.iso3 = p.iso3[i]
        self.country_name = p.names[i]
        # Fixed for the run: willingness, pledges (drawn and capped), static conditions.
        k = constants
        self.takes_part = bool(k.takes_part[i])
        self.pledges = [float(k.land[i]), float(k.air[i]), float(k.sea[i])]
        self.offers = [float(k.land_offer[i]), float(k.air[i]), float(k.sea[i])]
        self.pledged = [bool(k.pot_land[i]), bool(k.pot_air[i]), bool(k.pot_sea[i])]
        self.potential = any(self.pledged)
        self.over_capacity = bool(k.over_land[i] or k.over_sea[i])
        self.static_by_month = static_by_month
        self.is_lead = bool(p.is_lead[i])
        self.casualty_withdraw = float(p.casualty_withdraw[i])
        # What each component needs of the dynamic conditions that bind it (declared in sim.concepts).
        self.follows = [bool(p.follows_leads[i]) and p.binds_condition(rules.LEADS, c) for c in range(3)]
        self.momentum = [float(p.momentum_threshold[i]) * p.binds_condition(rules.MOMENTUM, c) for c in range(3)]
        self.delay = [int(p.mandate_delay[i]) * p.binds_condition(rules.MANDATE, c) for c in range(3)]
        self.binds = [int(b) for b in p.binds]
        # Dynamic state, per component.
        self.deployed = [False, False, False]
        self.withdrawn = [False, False, False]
        self.ready = [0, 0, 0]
        self.land = self.air = self.sea = 0.0
        self.withdrawn_month = -1
        self.reasons = [int(k.reasons_land[i]), 0, int(k.reasons_sea[i])]

    def step(self) -> None:
        """Decide this month, component by component, from last month's force (synchronous)."""
        m = self.model
        t = m.month
        static = self.static_by_month[t]
        assessed = t >= m.params.assess_start
        others_land = m.land_total_prev - self.land
        for c in range(3):
            if not self.pledged[c]:
                continue
            sk = rules.component_bits(static, self.binds[c])
            dep0, wd0, ready0 = self.deployed[c], self.withdrawn[c], self.ready[c]
            dep, self.ready[c], wd, bits = rules.decide(
                sk == 0, self.offers[c] > 0, wd0, self.follows[c], m.leads_present_prev, others_land,
                self.momentum[c], ready0, self.delay[c], assessed, dep0)
            self.reasons[c] = rules.held_back(self.reasons[c], sk, bits, True, assessed, dep0 and not dep)
            if rules.state_changed(dep, dep0, wd, wd0, bits, self.ready[c], ready0):
                m.changed = True
            if wd and not wd0 and self.withdrawn_month < 0:
                self.withdrawn_month = t
            self.deployed[c], self.withdrawn[c] = dep, wd
        self.land, self.air, self.sea = (self.offers[c] * self.deployed[c] for c in range(3))
        m.record_country(self)

    def hit(self, month: int, u: float) -> None:
        """Russia strikes this country's troops: it takes them home with its own probability."""
        if rules.withdraws_after_incident(u, self.casualty_withdraw):
            self.withdrawn[0] = True
            if self.withdrawn_month < 0:
                self.withdrawn_month = month
            self.reasons[0] |= rules.INCIDENT
            self.model.changed = True


class USBackstop(mesa.Agent):
    """The United States as an actor: no troops, a backstop level per month.

    The level it gives this run is pinned by the scenario or drawn (a declared uncertainty), and changed
    in the months the scenario schedules; the countries read it from this agent.
    """

    def __init__(self, model: ReassuranceModel, offered: int):
        super().__init__(model)
        self.offered = offered

    def level(self, month):
        """The backstop level of a month (or of each of an array of months)."""
        return rules.backstop_level(self.model.params.backstop_scheduled[month], self.offered)


class Russia(mesa.Agent):
    """Russia as an actor: if it rejects the force, it may strike the troops on the ground each month."""

    def __init__(self, model: ReassuranceModel):
        super().__init__(model)
        self.incidents = 0

    def step(self) -> None:
        """Strike or not, after the countries have decided this month."""
        m = self.model
        p, d, t = m.params, m.draws, m.month
        if rules.incident_occurs(float(d.incident[0, t]), p.incident_rate, bool(p.russia_rejects), m.land_total):
            self.incidents += 1
            target = int(rules.incident_target(m.land_now, d.target[0, t]))
            m.countries[target].hit(t, float(d.casualty[0, t]))
