"""The menu of allowed changes that could close a gap, and how their cost is weighed.

The menu is built from the scenario (:func:`menu`):

- ``pledge``: a coalition member that pledged something to the component raises its pledge to what it can
  sustain (land: ``countries.X.land_troops = [cap, cap]``; sea: ``countries.X.sea = [cap, cap]``; air has no
  capacity data, so no air pledge is raised). Cost: the troops (vessels) added over its expected pledge,
  and one country asked;
- ``willingness``: a hesitant member (``p_participate < 1``) that pledged something commits for certain
  (``countries.X.p_participate = 1``). Cost: one country asked and one political step;
- ``condition``: a condition someone waits for is met (``levers.un_framework``, ``levers.eastern_border_secure``).
  Cost: one political step;
- ``backstop``: the US raises its backstop one level (every month of the schedule). Cost: one country
  asked (the US) and one political step.

The cost of a set of changes is ``troops``, ``countries`` (distinct countries asked) and ``political``
(political steps), weighed as the user chooses (:class:`Cost`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.arrays import COMPONENT_INDEX
from sim.baseline import BACKSTOP_LEVELS, load_baseline
from sim.concepts import SHORT_UNITS
from sim.params import Params, compile_params
from sim.scenario import Scenario, country_fields
from sim.uncertainty import UNCERTAIN

KINDS = ("pledge", "willingness", "condition", "backstop")
COST_PARTS = ("troops", "countries", "political")
DEFAULT_WEIGHTS: Mapping[str, float] = {"troops": 1e-4, "countries": 1.0, "political": 1.0}
"""10,000 troops weigh as much as asking one more country or taking one more political step."""
UNITS = SHORT_UNITS


@dataclass(frozen=True)
class Change:
    """One allowed change: its scenario edits (dotted paths) and its cost."""

    key: str  # e.g. "pledge:FRA", "willingness:GBR", "condition:un_framework", "backstop:+1"
    kind: str
    label: str
    changes: Mapping[str, Any]
    troops: float = 0.0  # troops (land) or vessels (sea) added over the expected pledge
    countries: frozenset[str] = frozenset()
    political: int = 0


@dataclass(frozen=True)
class Cost:
    """How the cost of a set of changes is weighed.

    ``weights``: a weighted sum of ``troops`` (per troop), ``countries`` (per distinct country asked) and
    ``political`` (per political step). ``order``: if given, costs are compared lexicographically in that
    order instead (e.g. ``("political", "countries", "troops")``: fewest political steps first).
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    order: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        bad = [k for k in (*self.weights, *(self.order or ())) if k not in COST_PARTS]
        if bad:
            raise ValueError(f"unknown cost part(s) {bad}; expected {COST_PARTS}")
        if any(w < 0 for w in self.weights.values()):
            raise ValueError("cost weights must not be negative")

    def parts(self, changes: Sequence[Change]) -> dict[str, float]:
        """Troops added, distinct countries asked and political steps of a set of changes."""
        asked = frozenset().union(*(c.countries for c in changes)) if changes else frozenset()
        return {"troops": float(sum(c.troops for c in changes)), "countries": float(len(asked)),
                "political": float(sum(c.political for c in changes))}

    def key(self, changes: Sequence[Change]) -> tuple[float, ...]:
        """The sort key of a set of changes (smaller is cheaper); never smaller for a superset."""
        return self.key_of(self.parts(changes), len(changes))

    def key_of(self, parts: Mapping[str, float], n: int) -> tuple[float, ...]:
        """The sort key of a set of ``n`` changes whose :meth:`parts` are ``parts``."""
        if self.order:
            return tuple(parts[k] for k in self.order) + (n,)
        return (sum(self.weights.get(k, 0.0) * parts[k] for k in COST_PARTS), n)

    def describe(self) -> str:
        """The rule in words."""
        if self.order:
            return "lexicographic: " + ", then ".join(self.order)
        return "weighted: " + " + ".join(f"{self.weights.get(k, 0.0):g} x {k}" for k in COST_PARTS)


def _expected_pledge(lo: float, hi: float, cap: float) -> float:
    """Mean of ``min(x, cap)`` for ``x`` uniform on the whole numbers ``lo..hi`` (the engine's draw)."""
    lo, hi = int(round(lo)), int(round(hi))
    n = hi - lo + 1
    if cap >= hi:
        return (lo + hi) / 2
    if cap <= lo:
        return float(cap)
    below = np.arange(lo, int(np.floor(cap)) + 1, dtype=float)
    return float((below.sum() + cap * (n - below.size)) / n)


def _level_name(level: str) -> str:
    return level.replace("_", " ")


def menu(scenario: Scenario, params: Params | None = None, *, component: str = "land",
         kinds: Sequence[str] = KINDS, include_unpledged: bool = False) -> list[Change]:
    """The allowed changes for a scenario and component, cheapest first (module docstring).

    ``include_unpledged``: also let members that pledged nothing to the component (e.g. Germany's ruled-out
    land troops) be asked to send what they can sustain.
    """
    if component not in COMPONENT_INDEX:
        raise ValueError(f"unknown component {component!r}; expected one of {tuple(COMPONENT_INDEX)}")
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ValueError(f"unknown change kind(s) {bad}; expected {KINDS}")
    p = params if params is not None else compile_params(scenario)
    baseline = load_baseline()
    fields = country_fields(scenario, baseline)
    out: list[Change] = []
    hi = {"land": p.land_hi, "air": p.air_hi, "sea": p.sea_hi}[component]
    pledged = hi > 0
    member = np.array([bool(f["coalition_member"].value) for f in fields])
    for i, iso in enumerate(p.iso3):
        name = p.names[i]
        if "pledge" in kinds and member[i] and component != "air" and (pledged[i] or include_unpledged):
            lo_i, hi_i, cap = ((p.land_lo[i], p.land_hi[i], p.land_cap_range[1][i]) if component == "land"
                               else (p.sea_lo[i], p.sea_hi[i], p.sea_cap[i]))
            if cap > hi_i:
                now = _expected_pledge(lo_i, hi_i, cap)
                unit = UNITS[component]
                if component == "land":
                    edits: dict[str, Any] = {f"countries.{iso}.land_troops": [float(cap), float(cap)]}
                    if iso in scenario.countries and scenario.countries[iso].land_share is not None:
                        edits[f"countries.{iso}.land_share"] = None
                else:
                    edits = {f"countries.{iso}.sea": [int(cap), int(cap)]}
                out.append(Change(f"pledge:{iso}", "pledge",
                                  f"{name} raises its {component} pledge to {cap:,.0f} {unit}, what it can sustain "
                                  f"(expected now {now:,.0f})", edits, troops=float(cap - now),
                                  countries=frozenset({iso})))
        troops_doubt = component == "land" and 0 < p.p_troops[i] < 1
        if ("willingness" in kinds and member[i] and (0 < p.p_participate[i] < 1 or troops_doubt)
                and (pledged[i] or p.is_lead[i])):
            sure = p.p_participate[i] * (p.p_troops[i] if component == "land" else 1.0)
            edits = {f"countries.{iso}.p_participate": 1.0}
            if troops_doubt:
                edits[f"countries.{iso}.p_troops"] = 1.0
            out.append(Change(f"willingness:{iso}", "willingness",
                              f"{name} commits for certain (chance of its {component} contribution {sure:.0%} -> "
                              "100%)", edits, countries=frozenset({iso}), political=1))
    if "condition" in kinds:
        has = pledged & member
        un = [p.names[i] for i in np.flatnonzero(has & p.requires_un)]
        if not scenario.levers.un_framework and un:
            out.append(Change("condition:un_framework", "condition",
                              f"A UN framework is agreed (the condition of {', '.join(un)}), which needs Russia's "
                              "vote: Russia tolerates the force", {"levers.un_framework": True,
                                                                   "levers.russia_stance": "tolerate"},
                              political=1))
        border = [p.names[i] for i in np.flatnonzero((p.land_hi > 0) & member & p.border_priority)]
        if not scenario.levers.eastern_border_secure and border and component == "land":
            out.append(Change("condition:eastern_border_secure", "condition",
                              f"The eastern border is declared secure ({', '.join(border)} may send land troops)",
                              {"levers.eastern_border_secure": True}, political=1))
    if "backstop" in kinds:
        lv = scenario.levers
        top = len(BACKSTOP_LEVELS) - 1
        offered = p.uncertainty("us_backstop")
        idx = int(offered.low) if lv.us_backstop == UNCERTAIN else BACKSTOP_LEVELS.index(lv.us_backstop)
        if lv.us_backstop == UNCERTAIN and offered.low < offered.high:
            # The offer is uncertain: the change is the US committing to the most it may give.
            new = BACKSTOP_LEVELS[int(offered.high)]
            out.append(Change("backstop:+1", "backstop",
                              f"The US commits to {_level_name(new)} (now uncertain: "
                              f"{_level_name(BACKSTOP_LEVELS[idx])} to {_level_name(new)})",
                              {"levers.us_backstop": new}, countries=frozenset({"USA"}), political=1))
        elif idx < top or any(BACKSTOP_LEVELS.index(c.level) < top for c in lv.us_backstop_changes):
            new = BACKSTOP_LEVELS[min(idx + 1, top)]
            edits = {"levers.us_backstop": new}
            if lv.us_backstop_changes:
                edits["levers.us_backstop_changes"] = [
                    {"month": c.month, "level": BACKSTOP_LEVELS[min(BACKSTOP_LEVELS.index(c.level) + 1, top)]}
                    for c in lv.us_backstop_changes]
            label = (f"The US raises its backstop one level, from {_level_name(BACKSTOP_LEVELS[idx])} to "
                     f"{_level_name(new)}" + (" (and every scheduled change one level)" if lv.us_backstop_changes
                                             else ""))
            out.append(Change("backstop:+1", "backstop", label, edits, countries=frozenset({"USA"}), political=1))
    return out


def merged(changes: Sequence[Change]) -> dict[str, Any]:
    """The dotted-path edits of a set of changes, as one dict for ``Scenario.with_changes``."""
    out: dict[str, Any] = {}
    for c in changes:
        out.update(c.changes)
    return out
