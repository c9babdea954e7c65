"""The Mesa agents: countries that decide each month, the US backstop and Russia.

Agents hold their own state and call :mod:`sim.rules` on it — the same functions the ensemble engine
calls on whole arrays. Every random number an agent uses comes from the run's :class:`sim.draws.Draws`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import rules

if TYPE_CHECKING:
    from sim.model import ReassuranceModel


class CountryAgent(mesa.Agent):
    """A country: its pledges for this run (drawn and capped once), its conditions, and its decisions.

    State per month: ``deployed``, ``ready`` (months in a row with conditions met, for a parliament's
    mandate), ``withdrawn`` (final), ``land``/``air``/``sea`` (troops, aircraft, vessels in the force) and
    ``reasons`` (bit flags of every condition that held it back so far).
    """

    def __init__(self, model: ReassuranceModel, index: int):
        super().__init__(model)
        p, d = model.params, model.draws
        i = self.index = index
        self.iso3 = p.iso3[i]
        self.country_name = p.names[i]
        # Fixed for the run: willingness and pledges, drawn from this run's uniforms and capped.
        k = rules.run_constants(**p.constant_inputs(i), **d.constant_inputs(0, i))
        self.takes_part, self.fall_month = k.takes_part, k.fall_month
        self.land_pledge, self.air_pledge, self.sea_pledge = k.land, k.air, k.sea
        self.over_capacity, self.land_offer = k.over_capacity, k.land_offer
        self.has_offer, self.potential = k.has_offer, k.potential
        self.required_backstop = p.required_backstop[i]
        self.requires_un = p.requires_un[i]
        self.follows_leads = p.follows_leads[i]
        self.momentum_threshold = p.momentum_threshold[i]
        self.mandate_delay = p.mandate_delay[i]
        self.is_lead = p.is_lead[i]
        self.casualty_withdraw = p.casualty_withdraw[i]
        # Dynamic state.
        self.deployed = np.False_
        self.withdrawn = np.False_
        self.ready = np.int64(0)
        self.land = self.air = self.sea = 0.0
        self.withdrawn_month = -1
        self.months_deployed = 0
        self.window_sum = np.zeros(3)
        self.reasons = np.int64(k.reasons)

    def step(self) -> None:
        """Decide this month, from last month's force and this month's US backstop (synchronous)."""
        m = self.model
        p = m.params
        t = m.month
        static = rules.static_conditions(t, p.ceasefire_month, m.backstop_level, self.required_backstop,
                                         p.un_framework, self.requires_un, self.takes_part, self.fall_month)
        deployed, self.ready, withdrawn, bits = rules.decide(
            static == 0, self.has_offer, self.withdrawn, self.follows_leads, m.leads_present_prev,
            m.land_total_prev - self.land, self.momentum_threshold, self.ready, self.mandate_delay,
            self.deployed)
        self.reasons = rules.held_back(self.reasons, static, bits, self.potential, t >= p.assess_start)
        if withdrawn and not self.withdrawn:
            self.withdrawn_month = t
        self.deployed, self.withdrawn = deployed, withdrawn
        self.land = self.land_offer * deployed
        self.air = self.air_pledge * deployed
        self.sea = self.sea_pledge * deployed
        self.months_deployed += int(deployed)
        if t >= p.assess_start:
            self.window_sum += (self.land, self.air, self.sea)
        m.record_country(self)

    def hit(self, month: int, u: float) -> None:
        """Russia strikes this country's troops: it withdraws with its own probability."""
        if rules.withdraws_after_incident(u, self.casualty_withdraw):
            self.withdrawn = np.True_
            self.withdrawn_month = month
            self.reasons |= rules.INCIDENT


class USBackstop(mesa.Agent):
    """The United States as an actor: no troops, a backstop level per month set by the scenario."""

    def step(self) -> None:
        """Announce this month's backstop level."""
        m = self.model
        m.backstop_level = m.params.backstop_by_month[m.month]


class Russia(mesa.Agent):
    """Russia as an actor: if it rejects the force, it may strike the troops on the ground each month."""

    def __init__(self, model: ReassuranceModel):
        super().__init__(model)
        self.incidents = 0

    def step(self) -> None:
        """Strike or not, after the countries have decided this month."""
        m = self.model
        p, d, t = m.params, m.draws, m.month
        if rules.incident_occurs(d.incident[0, t], p.incident_rate, p.russia_rejects, m.land_total):
            self.incidents += 1
            target = int(rules.incident_target(m.land_now, d.target[0, t]))
            m.countries[target].hit(t, d.casualty[0, t])
