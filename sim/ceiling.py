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
from functools import cache

import numpy as np

from sim import rules
from sim.concepts import DEPENDENT_CONDITIONS, HOLDS_BACK_ONLY
from sim.draws import Draws
from sim.params import Params, PerRun

# How each condition the rules' static functions do not compute holds a country back is declared with the
# condition (sim.concepts, ``Condition.bounds``). The ceilings, the per-run bounds and the pivotal players
# compute the conditions of sim.rules.static_conditions and sim.rules.run_constants by calling them (at
# their most favourable); one that only holds a country back can be left out of an upper bound; one that
# waits on other countries changes who can matter. check_conditions refuses a condition that is in
# neither place, so a new condition cannot silently make a bound too low (and a Shapley value wrong).


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


@cache
def _rule_bits() -> int:
    """The condition bits the rules' own static functions produce (everything failing at once)."""
    static = rules.static_conditions(0, 1, 0, 1, False, True, False, False, 0)
    run = rules.run_constants(1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 1.0, 2.0, 2.0, 1.0, True, False,
                              0.0, 0.0, 0.0, 0.0, 0.0)
    return int(static) | int(run.reasons_land) | int(run.reasons_sea)


def check_conditions() -> None:
    """Refuse to bound anything if a condition is known neither to the rules' static functions nor here."""
    known = _rule_bits()
    unknown = [name for bit, name in rules.CONDITIONS.items() if not bit & known and bit not in DEPENDENT_CONDITIONS]
    if unknown:
        raise ValueError(f"condition(s) {unknown} unknown to the bounds: declare how each holds a country back "
                         "with the condition (bounds=, sim/concepts.py), else pruning could drop coalitions that win")


def waits_on_land(p: Params, component: int) -> bool:
    """Whether a component waits on troops on the ground (a condition of another country's land binds it)."""
    check_conditions()
    return any(p.binds_condition(bit, component) for bit, how in DEPENDENT_CONDITIONS.items()
               if how != HOLDS_BACK_ONLY)


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


def run_bounds(p: Params, d: Draws, run: PerRun | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The most each country could field of each component in each run, and which can lead there.

    Returns ``(most, leads)``: ``most`` ``[runs, countries, 3]`` is the run's pledge after the capacity cap
    and the border rule (:func:`sim.rules.run_constants`, the run's own willingness and troops draws),
    counted where the conditions that do not depend on the others (:func:`sim.rules.static_conditions`
    with the run's backstop and requirements, no fall of government) hold in some assessed month, else 0;
    ``leads`` ``[runs, countries]`` marks lead nations with troops to put down in the run. ``run``: the
    runs' :meth:`sim.params.Params.per_run`, if already computed. Conditions that
    wait on others are for the caller (:func:`run_totals_bound`); the rest only hold a country back
    (:data:`sim.concepts.DEPENDENT_CONDITIONS`). So no month of the window can see a country field more than ``most``.
    """
    check_conditions()
    run = p.per_run(d) if run is None else run
    every = slice(None)
    q = rules.run_constants(**p.constant_inputs(every), land_cap=run.land_cap, **d.constant_inputs(every, every))
    # A month's static conditions depend on the month only through the ceasefire and the backstop schedule
    # (no fall of government here): the first month of each distinct pair stands for all its months.
    firsts: dict[tuple[bool, int], int] = {}
    for t in range(p.assess_start, p.horizon):
        firsts.setdefault((t < p.ceasefire_month, int(p.backstop_scheduled[t])), t)
    window = np.array(list(firsts.values()), dtype=np.int64)
    level = rules.backstop_level(p.backstop_scheduled[window][:, None, None], run.offered[None, :, None])
    bits = rules.static_conditions(window[:, None, None], p.ceasefire_month, level, run.required[None],
                                   p.un_framework, p.requires_un, q.takes_part[None], q.sends_troops[None],
                                   rules.NEVER)
    ok = np.stack([(rules.component_bits(bits, p.binds[k]) == 0).any(axis=0) for k in range(3)], axis=-1)
    most = np.stack([q.land_offer, q.air, q.sea], axis=-1) * ok
    return most, p.is_lead & (most[:, :, 0] > 0)


def run_totals_bound(p: Params, most: np.ndarray, leads: np.ndarray, members: np.ndarray | None = None) -> np.ndarray:
    """Upper bound of each component's total in each assessed month: ``[..., runs, 3]``.

    ``members`` ``[..., countries]`` (booleans; ``...`` e.g. coalitions) says who may take part (default:
    every country). A follower of the lead nations counts only in runs where a member lead nation has
    troops to put down, where the lead nations bind the component.
    """
    led = p.follows_leads
    if members is None:
        own, follow, has_lead = most[:, ~led].sum(axis=1), most[:, led].sum(axis=1), leads.any(axis=1)
    else:
        m = np.asarray(members, dtype=float)  # [..., countries]; sums of whole numbers: exact in any order
        own = np.einsum("...c,rck->...rk", m * ~led, most)
        follow = np.einsum("...c,rck->...rk", m * led, most)
        has_lead = np.einsum("...c,rc->...r", m, leads.astype(float)) > 0
    binds = np.array([p.binds_condition(rules.LEADS, k) for k in range(3)])
    return own + np.where(binds, has_lead[..., None], True) * follow


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
