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

    State per month: ``deployed``, ``ready`` (months in a row with conditions met, for a parliament's
    mandate), ``withdrawn`` (final), ``land``/``air``/``sea`` (troops, aircraft, vessels in the force) and
    ``reasons`` (bit flags of every condition that held it back so far).

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
        # Fixed for the run: willingness, pledges (drawn and capped), fall month, static conditions.
        k = constants
        self.takes_part = bool(k.takes_part[i])
        self.land_pledge, self.air_pledge, self.sea_pledge = float(k.land[i]), float(k.air[i]), float(k.sea[i])
        self.over_capacity = bool(k.over_capacity[i])
        self.land_offer = float(k.land_offer[i])
        self.has_offer, self.potential = bool(k.has_offer[i]), bool(k.potential[i])
        self.static_by_month = static_by_month
        self.follows_leads = bool(p.follows_leads[i])
        self.momentum_threshold = float(p.momentum_threshold[i])
        self.mandate_delay = int(p.mandate_delay[i])
        self.is_lead = bool(p.is_lead[i])
        self.casualty_withdraw = float(p.casualty_withdraw[i])
        # Dynamic state.
        self.deployed = False
        self.withdrawn = False
        self.ready = 0
        self.land = self.air = self.sea = 0.0
        self.withdrawn_month = -1
        self.reasons = int(k.reasons[i])

    def step(self) -> None:
        """Decide this month, from last month's force and this month's conditions (synchronous)."""
        m = self.model
        t = m.month
        static = self.static_by_month[t]
        deployed, self.ready, withdrawn, bits = rules.decide(
            static == 0, self.has_offer, self.withdrawn, self.follows_leads, m.leads_present_prev,
            m.land_total_prev - self.land, self.momentum_threshold, self.ready, self.mandate_delay,
            self.deployed)
        self.reasons = rules.held_back(self.reasons, static, bits, self.potential, t >= m.params.assess_start,
                                       self.deployed and not deployed)
        if rules.state_changed(deployed, self.deployed, withdrawn, self.withdrawn, bits):
            m.changed = True
        if withdrawn and not self.withdrawn:
            self.withdrawn_month = t
        self.deployed, self.withdrawn = deployed, withdrawn
        self.land = self.land_offer * deployed
        self.air = self.air_pledge * deployed
        self.sea = self.sea_pledge * deployed
        m.record_country(self)

    def hit(self, month: int, u: float) -> None:
        """Russia strikes this country's troops: it withdraws with its own probability."""
        if rules.withdraws_after_incident(u, self.casualty_withdraw):
            self.withdrawn = True
            self.withdrawn_month = month
            self.reasons |= rules.INCIDENT
            self.model.changed = True


class USBackstop(mesa.Agent):
    """The United States as an actor: no troops, a backstop level per month set by the scenario."""

    def step(self) -> None:
        """Announce this month's backstop level."""
        m = self.model
        m.backstop_level = int(m.params.backstop_by_month[m.month])


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
