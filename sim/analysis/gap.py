"""Closing the gap: the cheapest set of allowed changes that makes a threshold hold with a target probability.

The menu of allowed changes is built from the scenario (:func:`menu`):

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
(political steps), weighed as the user chooses (:class:`Cost`). The search is uniform-cost (cheapest set
first) over sets of at most ``max_changes`` changes: every cheaper set was evaluated and fell short, so the
first set that reaches the target is a cheapest one (up to the sampling noise of the screening runs). Each
set is screened with ``reps`` runs (common random numbers: the scenario's seed, run ``i`` with the same draws
for every set); a set that passes is confirmed with ``confirm_reps`` runs through the ordinary path
(``Scenario.with_changes``, ``compile_params``, the ensemble engine), and the search goes on if it fails.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.pivotal import player_inputs, players
from sim.arrays import COMPONENT_INDEX
from sim.baseline import BACKSTOP_LEVELS, load_baseline
from sim.draws import Draws, draw
from sim.ensemble import run_ensemble, simulate
from sim.outcomes import threshold_tests, wilson_interval
from sim.params import Params, compile_params
from sim.scenario import Scenario, country_fields
from sim.uncertainty import UNCERTAIN

KINDS = ("pledge", "willingness", "condition", "backstop")
COST_PARTS = ("troops", "countries", "political")
DEFAULT_WEIGHTS: Mapping[str, float] = {"troops": 1e-4, "countries": 1.0, "political": 1.0}
"""10,000 troops weigh as much as asking one more country or taking one more political step."""
DEFAULT_TARGET = 0.9
DEFAULT_REPS = 400
DEFAULT_CONFIRM_REPS = 2000
DEFAULT_MAX_CHANGES = 5
DEFAULT_MAX_EVALUATIONS = 3000
SCREEN_FIRST = 100
"""The search screens a set on its first runs and stops there when they show it cannot reach the target."""
UNITS = {"land": "troops", "air": "aircraft", "sea": "vessels"}


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


def _differences(base: Params, other: Params) -> dict[str, Any]:
    """The fields (and, for arrays, the elements as a mask) in which ``other`` differs from ``base``."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(Params):
        a, b = getattr(base, f.name), getattr(other, f.name)
        if isinstance(a, np.ndarray):
            if a.shape != b.shape:
                out[f.name] = True
            elif (mask := (a != b)).any():
                out[f.name] = mask
        elif a != b:
            out[f.name] = True
    return out


def _touch(x: Any, y: Any) -> bool:
    """Whether two difference masks (:func:`_differences` values) share a field element."""
    return x is True or y is True or bool((x & y).any())


class _Search:
    """Screening of sets of changes (cached), with the inert changes of a set dropped first.

    A change is *inert* in a set when it cannot alter any run: it concerns a country that is not a player
    once the set is applied (:func:`sim.analysis.pivotal.players`: it still cannot deploy anything that
    counts), or a condition or backstop level that no player waits for. Dropping it gives the same runs,
    so a set with an inert change is worth exactly what the cheaper set without it is worth.

    Speed: each change is compiled once, alone, and a set's parameters are the baseline's with each
    change's own differences laid over them (changes that touch disjoint parameters, as every change of the
    menu does: a country's pledge, a country's willingness, a condition, the backstop schedule; sets of
    changes that overlap are compiled the ordinary way). Who the players are depends only on the changes
    that alter what :func:`sim.analysis.pivotal.player_inputs` reads, so it is worked out once per set of
    those, not once per set. Both give exactly what compiling each set would (tests/test_analysis.py).
    """

    def __init__(self, scenario: Scenario, options: Sequence[Change], component: str, reps: int,
                 confirm_reps: int, target: float):
        self.scenario, self.options, self.component = scenario, list(options), component
        self.reps, self.confirm_reps, self.target = reps, confirm_reps, target
        p = self.base = compile_params(scenario)
        self.draws = draw(scenario.seed, p.n_countries, p.horizon, 0, reps)
        self.index = {iso: i for i, iso in enumerate(p.iso3)}
        self.screened: dict[tuple[int, ...], float] = {}
        self.confirmed: dict[tuple[int, ...], float] = {}
        self._params: dict[tuple[int, ...], Params] = {}
        self._players: dict[tuple[int, ...], tuple[Params, np.ndarray]] = {}
        self._reduced: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._part: dict[tuple[int, ...], int] = {}  # sets screened only on their first runs: runs met
        self.alone = [self._compiled((j,)) for j in range(len(self.options))]
        self.diffs = [_differences(p, q) for q in self.alone]
        self.overlaps = {(i, j) for i, j in itertools.combinations(range(len(self.options)), 2)
                         if any(_touch(m, self.diffs[j][f]) for f, m in self.diffs[i].items() if f in self.diffs[j])}
        base_inputs = player_inputs(p)
        self.moves_players = [any(np.any(a != b) for a, b in zip(base_inputs, player_inputs(q), strict=True))
                              for q in self.alone]

    def _compiled(self, items: tuple[int, ...]) -> Params:
        edits = merged([self.options[j] for j in items])
        return compile_params(self.scenario.with_changes(edits) if edits else self.scenario)

    def params(self, items: tuple[int, ...]) -> Params:
        """The compiled parameters of the scenario with the set's changes."""
        if items not in self._params:
            if len(items) < 2:
                got = self.base if not items else self.alone[items[0]]
            elif any(pair in self.overlaps for pair in itertools.combinations(items, 2)):
                got = self._compiled(items)
            else:
                changed: dict[str, Any] = {}
                for j in items:
                    for name, mask in self.diffs[j].items():
                        value = getattr(self.alone[j], name)
                        if mask is True:
                            changed[name] = value
                        else:
                            arr = changed[name] = changed.get(name, getattr(self.base, name)).copy()
                            arr[mask] = value[mask]
                got = dataclasses.replace(self.base, **changed)
            self._params[items] = got
        return self._params[items]

    def players_of(self, items: tuple[int, ...]) -> tuple[Params, np.ndarray]:
        """Parameters that read like the set's for :func:`players`, and the players (cached per what counts)."""
        key = tuple(j for j in items if self.moves_players[j])
        if key not in self._players:
            p = self.params(key)
            self._players[key] = (p, players(p, self.component))
        return self._players[key]

    def reduce(self, items: tuple[int, ...]) -> tuple[int, ...]:
        """The set without its inert changes (repeatedly, until none is inert)."""
        start = items
        if start not in self._reduced:
            while items:
                p, who = self.players_of(items)
                for j in items:
                    if self._inert(self.options[j], p, who, items, j):
                        items = tuple(k for k in items if k != j)
                        break
                else:
                    break
            self._reduced[start] = items
        return self._reduced[start]

    def _inert(self, c: Change, p: Params, who: np.ndarray, items: tuple[int, ...], j: int) -> bool:
        if c.kind in ("pledge", "willingness"):
            return not who[self.index[c.key.split(":", 1)[1]]]
        if c.key == "condition:un_framework":
            return not (who & p.requires_un).any()
        if c.key == "condition:eastern_border_secure":
            return not (who & p.border_priority).any()
        if c.kind == "backstop":
            # the whole sets' parameters, with and without it: pinning an uncertain backstop to its highest
            # option moves no player, so the players' parameters would not show it
            p, q = self.params(items), self.params(tuple(k for k in items if k != j))

            def met(x: Params) -> tuple[np.ndarray, ...]:
                lo, hi = x.offered_range()
                need_lo, need_hi = x.required_range()
                return (lo[:, None] >= need_hi[who], hi[:, None] >= need_lo[who])

            return all(np.array_equal(a, b) for a, b in zip(met(p), met(q), strict=True))
        return False

    @property
    def evaluated(self) -> int:
        """Sets screened so far, in full or only until they were certainly below the target."""
        return len(self.screened) + len(self._part)

    def _met(self, p: Params, a: int, b: int) -> int:
        """Screening runs ``a..b-1`` in which the threshold is met (runs are independent of each other)."""
        d = Draws(self.draws.u[a:b], self.draws.n_countries, self.draws.horizon)
        return int(threshold_tests(simulate(p, d, np.arange(a, b)), p)[self.component][0].sum())

    def screen(self, items: tuple[int, ...]) -> float:
        """P(met) over the screening runs (``reps``, shared draws), of the reduced set."""
        items = self.reduce(items)
        if items not in self.screened:
            p = self.params(items)
            if items in self._part:  # its first runs are done
                met = self._part.pop(items) + self._met(p, SCREEN_FIRST, self.reps)
            else:
                met = self._met(p, 0, self.reps)
            self.screened[items] = met / self.reps
        return self.screened[items]

    def below_target(self, items: tuple[int, ...]) -> bool:
        """Whether the set's screened P(met) is below the target, from its first runs where they settle it.

        After :data:`SCREEN_FIRST` runs with ``m`` met, P over all ``reps`` runs is at most
        ``(m + reps - SCREEN_FIRST) / reps``: when even that is below the target, the answer is exact without
        the other runs (the set is finished by :meth:`screen` only if its P is asked for).
        """
        items = self.reduce(items)
        if items in self._part:
            return True
        if items not in self.screened and self.reps > SCREEN_FIRST:
            met = self._met(self.params(items), 0, SCREEN_FIRST)
            if (met + self.reps - SCREEN_FIRST) / self.reps < self.target:
                self._part[items] = met
                return True
            self._part[items] = met  # screen() finishes it
        return self.screen(items) < self.target

    def confirm(self, items: tuple[int, ...]) -> float:
        """P(met) over ``confirm_reps`` runs by the ordinary path (scenario with the changes applied)."""
        if items not in self.confirmed:
            edits = merged([self.options[j] for j in items])
            self.confirmed[items], _ = p_met(self.scenario.with_changes(edits) if edits else self.scenario,
                                             component=self.component, reps=self.confirm_reps)
        return self.confirmed[items]

    def reaches(self, items: tuple[int, ...]) -> bool:
        """Screened at or above the target and confirmed there."""
        return self.screen(items) >= self.target and self.confirm(items) >= self.target


def p_met(scenario: Scenario, *, component: str = "land", reps: int | None = None) -> tuple[float, int]:
    """P(threshold met) of a scenario by the ordinary path (ensemble engine, scenario seed), and the runs."""
    reps = scenario.replications if reps is None else reps
    p = compile_params(scenario)
    res = run_ensemble(p, scenario.seed, reps)
    return float(threshold_tests(res, p)[component][0].mean()), reps


@dataclass(frozen=True)
class GapResult:
    """A gap-closing plan: the changes, the tables, a verdict, and the edits to apply as a scenario."""

    found: bool
    proven: bool  # every set cheaper than the plan was screened (or dropped as inert) and fell short
    plan: pd.DataFrame  # one row per change
    summary: pd.DataFrame  # one row
    options: pd.DataFrame  # the menu, with each option's cost and, if screened alone, its P
    verdict: str
    changes: dict[str, Any]  # merged dotted-path edits: scenario.with_changes(changes) applies the plan
    settings: dict


def _greedy(search: _Search, cost: Cost, max_changes: int, budget: int) -> tuple[int, ...] | None:
    """A plan that reaches the target by adding changes one at a time, or None.

    Each time the change whose set screens highest is added (the cheaper on ties); then changes that are
    not needed are dropped, dearest first.
    """
    items: tuple[int, ...] = ()
    n = len(search.options)
    while len(items) < max_changes and search.evaluated < budget:
        if search.reaches(items):
            break
        cands = [tuple(sorted((*items, j))) for j in range(n) if j not in items]
        if not cands:
            return None
        scored = [(-search.screen(c), cost.key([search.options[k] for k in c]), c) for c in cands]
        items = min(scored)[2]
    if not search.reaches(items):
        return None
    for j in sorted(items, key=lambda k: cost.key([search.options[k]]), reverse=True):
        fewer = tuple(k for k in items if k != j)
        if search.reaches(fewer):
            items = fewer
    return items


def close_gap(scenario: Scenario, *, component: str = "land", target: float = DEFAULT_TARGET,
              reps: int = DEFAULT_REPS, confirm_reps: int | None = None, max_changes: int = DEFAULT_MAX_CHANGES,
              max_evaluations: int = DEFAULT_MAX_EVALUATIONS, cost: Cost | None = None,
              options: Sequence[Change] | None = None, kinds: Sequence[str] = KINDS,
              include_unpledged: bool = False) -> GapResult:
    """The cheapest set of allowed changes after which ``P(component threshold met) >= target``.

    ``reps``: runs per screened set; ``confirm_reps``: runs to confirm a passing set (default: the larger
    of the scenario's replications and 2,000); ``max_changes``: largest set tried; ``max_evaluations``:
    most sets screened; ``cost``: how costs are weighed (:class:`Cost`); ``options``: the menu (default
    :func:`menu`).

    First a greedy pass finds a plan if one is within reach; then every set cheaper than that plan is
    screened, cheapest first, so a cheaper plan replaces it. When the budget runs out first, the plan is
    returned as not proven cheapest. Says so when no allowed set reaches the target.
    """
    if not 0 < target <= 1:
        raise ValueError("target must be a probability in (0, 1]")
    if reps < 1 or max_changes < 0 or max_evaluations < 1:
        raise ValueError("reps and max_evaluations must be at least 1, max_changes at least 0")
    cost = cost or Cost()
    confirm_reps = confirm_reps or max(scenario.replications, DEFAULT_CONFIRM_REPS)
    opts = list(options) if options is not None else menu(scenario, component=component, kinds=kinds,
                                                          include_unpledged=include_unpledged)
    opts.sort(key=lambda c: (cost.key([c]), c.key))
    search = _Search(scenario, opts, component, reps, confirm_reps, target)

    def key(items: tuple[int, ...]) -> tuple[float, ...]:
        return cost.key([opts[j] for j in items])

    plan = _greedy(search, cost, max_changes, max_evaluations)
    ceiling = key(plan) if plan is not None else None
    # Uniform-cost search below the ceiling: sets in order of cost, each made once (add higher indices).
    # A set's cost parts are its parent's plus the change added (the same sums, in the same order, as
    # Cost.parts), so the many sets pushed cost a few additions each.
    heap: list[tuple[tuple[float, ...], int, tuple[int, ...], tuple[float, frozenset, float]]] = [
        (key(()), 0, (), (0.0, frozenset(), 0.0))]
    counter = itertools.count(1)
    weights = None if cost.order else tuple(cost.weights.get(k, 0.0) for k in COST_PARTS)
    proven, searched_below = False, None
    while True:
        if not heap:
            proven = True
            break
        k, _n, items, (troops, asked, political) = heap[0]
        if ceiling is not None and k >= ceiling:
            proven = True
            break
        if search.evaluated >= max_evaluations:
            searched_below = k
            break
        heapq.heappop(heap)
        if (search.reduce(items) == items and not search.below_target(items)  # (a set with an inert change cannot
                and search.confirm(items) >= target):
            plan, proven = items, True  # reach: its cheaper reduced set was popped before and fell short)
            break
        if len(items) < max_changes:
            n = len(items) + 1
            for j in range((items[-1] + 1) if items else 0, len(opts)):
                c = opts[j]
                sums = (troops + c.troops, asked | c.countries, political + c.political)
                if weights is None:
                    kn = cost.key_of({"troops": sums[0], "countries": float(len(sums[1])), "political": sums[2]}, n)
                else:  # Cost.key_of's weighted sum, term by term in the same order
                    kn = (0 + weights[0] * sums[0] + weights[1] * float(len(sums[1])) + weights[2] * sums[2], n)
                if ceiling is None or kn < ceiling:
                    heapq.heappush(heap, (kn, next(counter), (*items, j), sums))

    found = plan is not None
    for items in [*search._part] if not found else [t for t in search._part if len(t) == 1]:
        search.screen(items)  # the exact P of every set reported: the best one, or the changes alone
    if found:
        chosen = plan
    else:
        best = max(search.screened.items(), key=lambda t: (t[1], [-x for x in key(t[0])]))
        chosen = best[0]
    sel = [opts[j] for j in chosen]
    base_p = search.confirm(())
    after = search.confirm(chosen)
    parts = cost.parts(sel)
    lo, hi = wilson_interval(round(after * confirm_reps), confirm_reps)
    threshold = float(compile_params(scenario).threshold_range(component)[0])
    added = "troops_added" if component == "land" else f"{UNITS[component]}_added"
    weighted = not cost.order
    rows = []
    for n, c in enumerate(sel):  # each step's cost is what it adds to the steps before it
        asked_before = frozenset().union(*(d.countries for d in sel[:n])) if n else frozenset()
        rows.append({
            "step": n + 1, "change": c.label, "kind": c.kind, "key": c.key, added: c.troops,
            "countries_asked": ",".join(sorted(c.countries - asked_before)), "political_steps": c.political,
            "cost": round(float(cost.key(sel[:n + 1])[0] - cost.key(sel[:n])[0]), 9) if weighted else None,
            "scenario_changes": json.dumps(dict(c.changes), sort_keys=True),
        })
    plan_df = pd.DataFrame(rows, columns=["step", "change", "kind", "key", added, "countries_asked",
                                          "political_steps", "cost", "scenario_changes"])
    singles = {items[0]: v for items, v in search.screened.items() if len(items) == 1}
    option_rows = pd.DataFrame([{
        "key": c.key, "change": c.label, "kind": c.kind, "added": c.troops,
        "countries_asked": ",".join(sorted(c.countries)), "political_steps": c.political,
        "cost": float(cost.key([c])[0]) if weighted else None,
        "p_met_alone": singles.get(j, np.nan), "in_plan": j in chosen,
        "scenario_changes": json.dumps(dict(c.changes), sort_keys=True),
    } for j, c in enumerate(opts)], columns=["key", "change", "kind", "added", "countries_asked", "political_steps",
                                            "cost", "p_met_alone", "in_plan", "scenario_changes"])
    verdict = _verdict(found, proven, searched_below, component, threshold, target, base_p, after, confirm_reps,
                       sel, parts, max_changes, search.evaluated, cost)
    summary = pd.DataFrame([{
        "scenario": scenario.name, "component": component, "threshold": threshold, "target": target,
        "found": found, "proven_cheapest": found and proven, "changes": len(sel), "p_met_before": base_p,
        "p_met_after": after, "p_met_after_low95": float(lo), "p_met_after_high95": float(hi),
        "confirm_reps": confirm_reps, "screen_reps": reps, "seed": scenario.seed,
        "sets_screened": search.evaluated, "sets_confirmed": len(search.confirmed),
        "max_changes": max_changes, "max_evaluations": max_evaluations, "options": len(opts),
        "cost_rule": cost.describe(), "troops_added": parts["troops"], "countries_asked": int(parts["countries"]),
        "political_steps": int(parts["political"]), "total_cost": float(key(chosen)[0]) if weighted else None,
        "verdict": verdict, "scenario_changes": json.dumps(merged(sel), sort_keys=True),
    }])
    settings = {"component": component, "target": target, "reps": reps, "confirm_reps": confirm_reps,
                "max_changes": max_changes, "max_evaluations": max_evaluations, "cost": cost.describe(),
                "weights": dict(cost.weights), "order": list(cost.order) if cost.order else None,
                "kinds": list(kinds), "include_unpledged": include_unpledged}
    return GapResult(found, found and proven, plan_df, summary, option_rows, verdict,
                     merged(sel) if found else {}, settings)


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _verdict(found: bool, proven: bool, searched_below: tuple[float, ...] | None, component: str,
             threshold: float, target: float, before: float, after: float, reps: int, sel: Sequence[Change],
             parts: Mapping[str, float], max_changes: int, screened: int, cost: Cost) -> str:
    what = f"P({component} >= {threshold:,.0f} {UNITS[component]})"
    costs = (f"{parts['troops']:,.0f} {UNITS[component]} added, {parts['countries']:.0f} "
             f"countr{'y' if parts['countries'] == 1 else 'ies'} asked, {parts['political']:.0f} political "
             f"step{'' if parts['political'] == 1 else 's'}")
    if found and not sel:
        return f"Nothing to close: {what} is already {_pct(before)} >= {_pct(target)} ({reps:,} runs)."
    steps = "; ".join(c.label for c in sel)
    if found:
        how = ("no cheaper set of allowed changes reaches it (at the screening precision)" if proven else
               f"not proven cheapest: the search stopped after {screened:,} sets"
               + (f", having ruled out every set costing less than {searched_below[0]:.3g}"
                  if searched_below is not None and not cost.order else ""))
        return (f"{what} rises from {_pct(before)} to {_pct(after)} ({reps:,} runs), reaching the target "
                f"{_pct(target)}, with {len(sel)} change{'s' if len(sel) != 1 else ''}: {steps}. Cost: {costs} "
                f"({cost.describe()}); {how}.")
    why = ("every allowed set was tried" if proven
           else f"the search stopped after {screened:,} sets, cheapest first")
    best = (f" The best set found ({steps}) reaches {_pct(after)} ({reps:,} runs)." if sel
            else f" No change raises it above {_pct(before)}.")
    return (f"No set of at most {max_changes} allowed changes reaches {what} >= {_pct(target)} ({why}); "
            f"it stands at {_pct(before)}." + best)
