"""Closing the gap: the cheapest set of allowed changes that makes a threshold hold with a target probability.

The allowed changes (raise a pledge to what can be sustained, commit for certain, meet a condition, raise
the US backstop) and their costs are those of :mod:`sim.analysis.changes` (:func:`menu`, :class:`Cost`).

The search is uniform-cost (cheapest set first) over sets of at most ``max_changes`` changes: every
cheaper set was evaluated and fell short, so the first set that reaches the target is a cheapest one (up
to the sampling noise of the screening runs). Each set is screened with ``reps`` runs (common random
numbers: the scenario's seed, run ``i`` with the same draws for every set, :mod:`sim.analysis.gap_search`);
a set that passes is confirmed with ``confirm_reps`` runs through the ordinary path
(``Scenario.with_changes``, :func:`sim.runner.run_scenario`), and the search goes
on if it fails. The names of both modules are re-exported here.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.changes import (
    COST_PARTS,
    DEFAULT_WEIGHTS,
    KINDS,
    UNITS,
    Change,
    Cost,
    menu,
    merged,
)
from sim.analysis.gap_search import SCREEN_FIRST, _Search, p_met
from sim.outcomes import wilson_interval
from sim.params import compile_params
from sim.scenario import Scenario

DEFAULT_TARGET = 0.9
DEFAULT_REPS = 400
DEFAULT_CONFIRM_REPS = 2000
DEFAULT_MAX_CHANGES = 5
DEFAULT_MAX_EVALUATIONS = 3000

__all__ = [
    "COST_PARTS", "DEFAULT_CONFIRM_REPS", "DEFAULT_MAX_CHANGES", "DEFAULT_MAX_EVALUATIONS", "DEFAULT_REPS",
    "DEFAULT_TARGET", "DEFAULT_WEIGHTS", "KINDS", "SCREEN_FIRST", "UNITS", "Change", "Cost", "GapResult",
    "close_gap", "menu", "merged", "p_met",
]


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
