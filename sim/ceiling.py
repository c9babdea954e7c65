"""The ceiling: the largest strength any run of a scenario could reach, per component, and why.

An upper bound from the pledges, capacity and conditions alone, computed with the rules themselves: each
country's static conditions are taken at their most favourable (the ceasefire has come, the highest
backstop the US can give in the scenario against the lowest the country can require, it takes part and
sends troops wherever its chance is above zero, no fall of government), and a component counts when none
of the conditions that bind it fails even then. Its pledge counts at the top of its range, cut to the
most its forces can sustain. Followers of the lead nations count on land only if a lead nation can put
troops on the ground. A threshold above the ceiling cannot be met in the scenario, whatever the draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import rules
from sim.params import Params


@dataclass(frozen=True)
class Ceiling:
    """One component's ceiling.

    ``ceiling``: the most any run could reach; ``pledged``: the same without the capacity cap;
    ``all_pledges`` and ``all_capped``: every pledge at its top whatever the conditions, without and with
    the capacity cap; ``sustainable``: what the forces of the countries that pledged some of this component
    and can send it could sustain under the scenario's rotation ratio, however much they pledged (troops at
    the highest army share, vessels; none for aircraft); ``nato_sustainable``: for land, the same at NATO's
    8% sustainable target (``force.sustainable_share``) instead of the rotation ratio. :meth:`why_not` says
    what keeps a threshold out of reach.
    """

    component: str
    ceiling: float
    pledged: float
    all_pledges: float
    all_capped: float
    sustainable: float
    nato_sustainable: float

    def why_not(self, threshold: float) -> str:
        """Empty if ``threshold`` is within reach; else what keeps it out of reach.

        ``pledges`` (every pledge at its top falls short), ``capacity`` (the pledges would reach it but
        the forces cannot sustain them) or ``conditions`` (they could, but the scenario's conditions keep
        enough out).
        """
        if threshold <= self.ceiling:
            return ""
        if self.all_pledges < threshold:
            return "pledges"
        if self.all_capped < threshold:
            return "capacity"
        return "conditions"


def eligible(p: Params, *, every_month: bool = True) -> np.ndarray:
    """``[3, countries]``: whether each component of each country can be in the force.

    With ``every_month`` (the ceiling), in every assessed month: the threshold must hold in each of them,
    so a backstop that is cut within the window counts at its lowest. Without (pivotal players), in some
    month: a country that can deploy only for a while can still change what others do.
    """
    window = p.offered_range()[1][p.assess_start:]
    offered_hi = int(window.min() if every_month else window.max())
    required_lo = p.required_range()[0]
    month = p.horizon - 1
    best = rules.static_conditions(month, p.ceasefire_month, offered_hi, required_lo, p.un_framework,
                                   p.requires_un, p.p_participate > 0, p.p_troops > 0, rules.NEVER)
    out = np.stack([rules.component_bits(best, p.binds[k]) == 0 for k in range(3)])
    out[0] &= np.asarray(rules.land_allowed(p.border_priority, p.border_secure), dtype=bool)
    if p.binds_condition(rules.LEADS, 0):
        leads_can = bool((out[0] & p.is_lead & (p.land_hi > 0)).any())
        out[0] &= ~p.follows_leads | leads_can
    return out


def ceilings(p: Params) -> dict[str, Ceiling]:
    """Each component's :class:`Ceiling` in this scenario."""
    cap_hi = p.land_cap_range[1]
    top = np.stack([p.land_hi, p.air_hi, p.sea_hi])
    capped = np.stack([np.minimum(p.land_hi, cap_hi), p.air_hi, np.minimum(p.sea_hi, p.sea_cap)])
    caps = np.stack([cap_hi, np.full(p.n_countries, np.nan), p.sea_cap])
    nato = np.floor(rules.land_forces(p.active, p.uncertainty("army_share").high) * p.sustainable_share)
    ok = eligible(p)
    anyone = p.p_participate > 0
    return {comp: Ceiling(comp, float((capped[k] * ok[k]).sum()), float((top[k] * ok[k]).sum()),
                          float((top[k] * anyone).sum()), float((capped[k] * anyone).sum()),
                          float(np.where(ok[k] & (top[k] > 0), caps[k], 0.0).sum()) if k != 1 else float("nan"),
                          float((nato * (ok[0] & (top[0] > 0))).sum()) if k == 0 else float("nan"))
            for k, comp in enumerate(rules.COMPONENTS)}
