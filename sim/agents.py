"""The Mesa agents: countries that decide each month, the US backstop and Russia.

Agents hold their own state as plain Python values and tuples and call the step functions of
:mod:`sim.step` on it — the functions the ensemble engine compiles and calls on rows of its arrays. Every
random number an agent uses comes from the run's :class:`sim.draws.Draws`, drawn up front.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim import rules, step

if TYPE_CHECKING:
    from sim.model import ReassuranceModel
    from sim.rules import RunConstants


class CountryAgent(mesa.Agent):
    """A country: its pledges for this run (drawn and capped once), its conditions, and its decisions.

    It decides on each component it pledged (land, air, sea) separately, since each condition binds only
    the components the data says it binds (:func:`sim.step.country_month`). ``state`` is its
    :class:`sim.step.State` (per component: deployed, withdrawn, ready, reasons; and its withdrawal month);
    ``land``/``air``/``sea`` are the troops, aircraft and vessels it has in the force this
    month, ``months_deployed`` and ``window_sum`` its running bookkeeping.

    Args:
        model: the model.
        index: the country's position in the baseline's tables.
        constants: the run's fixed quantities for every country (``rules.run_constants``).
        fall_month: this country's month of a fall of government (``rules.government_fall_month``).
        required: the US backstop level it requires in this run (``Params.per_run``).
    """

    def __init__(self, model: ReassuranceModel, index: int, constants: RunConstants, fall_month: int,
                 required: int):
        super().__init__(model)
        p = model.params
        i = self.index = index
        self.iso3 = p.iso3[i]
        self.country_name = p.names[i]
        # Fixed for the run: willingness, pledges (drawn and capped), what each condition asks of it.
        k = constants
        self.takes_part = bool(k.takes_part[i])
        self.pledges = [float(k.land[i]), float(k.air[i]), float(k.sea[i])]
        self.over_capacity = bool(k.over_land[i] or k.over_sea[i])
        self.casualty_withdraw = float(p.casualty_withdraw[i])
        follows, momentum, delay = p.component_conditions
        self.country = step.Country(
            offer=[float(k.land_offer[i]), float(k.air[i]), float(k.sea[i])],
            pledged=[bool(k.pot_land[i]), bool(k.pot_air[i]), bool(k.pot_sea[i])],
            binds=[int(b) for b in p.binds], follows=follows[i].tolist(), momentum=momentum[i].tolist(),
            delay=delay[i].tolist(), required=int(required), requires_un=bool(p.requires_un[i]),
            takes_part=self.takes_part, sends_troops=bool(k.sends_troops[i]), fall_month=int(fall_month),
            is_lead=bool(p.is_lead[i]), fields=p.country_rows[i])
        self.potential = any(self.country.pledged)
        # Dynamic state, per component, and bookkeeping.
        self.state = step.State(deployed=(False, False, False), withdrawn=(False, False, False), ready=(0, 0, 0),
                                reasons=(int(k.reasons_land[i]), 0, int(k.reasons_sea[i])), withdrawn_month=-1)
        self.land = self.air = self.sea = 0.0
        self.months_deployed = 0
        self.window_sum = (0.0, 0.0, 0.0)

    @property
    def in_force(self) -> bool:
        """Whether any of its components is deployed this month."""
        return any(self.state.deployed)

    def step(self) -> None:
        """Decide this month, component by component, from last month's force (synchronous)."""
        m = self.model
        self.state, changed, leads = step.country_month(m.now, self.country, self.state)
        self.land, self.air, self.sea = (o * d for o, d in zip(self.country.offer, self.state.deployed, strict=True))
        m.record_country(self, changed, leads)

    def book(self) -> None:
        """Add this month to its running bookkeeping (months in the force, sums over the tested months)."""
        m = self.model
        self.window_sum, self.months_deployed = step.carry(1, int(m.month >= m.params.assess_start),
                                                           self.country.offer, self.state.deployed, self.window_sum,
                                                           self.months_deployed)

    def hit(self, month: int, u: float) -> None:
        """Russia strikes this country's troops: it takes them home with its own probability."""
        self.state, changed = step.struck(month, u, self.casualty_withdraw, self.state)
        self.model.changed |= changed


class USBackstop(mesa.Agent):
    """The United States as an actor: no troops, a backstop level each month, which the countries read.

    The level it gives this run (``offered``) is pinned by the scenario or drawn (a declared uncertainty);
    each month it announces ``level``: the scenario's scheduled change for that month if any, else
    ``offered`` (``rules.backstop_level``).
    """

    def __init__(self, model: ReassuranceModel, offered: int):
        super().__init__(model)
        self.offered = offered
        self.level = None

    def step(self) -> None:
        """Announce this month's level."""
        m = self.model
        self.level = int(rules.backstop_level(m.params.backstop_scheduled[m.month], self.offered))


class Russia(mesa.Agent):
    """Russia as an actor: if it rejects the force, it may strike the troops on the ground each month."""

    def __init__(self, model: ReassuranceModel):
        super().__init__(model)
        self.incidents = 0

    def step(self) -> None:
        """Strike or not, after the countries have decided this month (:func:`sim.step.strike`)."""
        m = self.model
        p, d, t = m.params, m.draws, m.month
        target = step.strike(float(d.incident[0, t]), float(d.target[0, t]), p.incident_rate, bool(p.russia_rejects),
                             m.land_total, m.land_now)
        if target >= 0:
            self.incidents += 1
            m.countries[target].hit(t, float(d.casualty[0, t]))
