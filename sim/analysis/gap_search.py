"""Screening sets of changes for the gap search: each set's parameters, its inert changes, its P(met).

Every set is screened on the same runs (:class:`sim.runner.CommonRuns`, the scenario's seed), of which
only those whose bound reaches the threshold are simulated (:meth:`sim.runner.CommonRuns.met`); a set that
passes is confirmed through the ordinary path (:func:`p_met`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from sim.analysis.changes import Change, merged
from sim.analysis.game import player_inputs, players
from sim.analysis.overlay import differences, lay_over, overlaps
from sim.arrays import COMPONENT_INDEX
from sim.ceiling import run_totals_bound
from sim.params import Params, compile_params
from sim.runner import CommonRuns, run_scenario
from sim.scenario import Scenario

SCREEN_FIRST = 100
"""The search screens a set on its first runs and stops there when they show it cannot reach the target."""


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
        self.runs = CommonRuns.of(p, scenario.seed, reps)
        self.index = {iso: i for i, iso in enumerate(p.iso3)}
        self.screened: dict[tuple[int, ...], float] = {}
        self.confirmed: dict[tuple[int, ...], float] = {}
        self._params: dict[tuple[int, ...], Params] = {}
        self._players: dict[tuple[int, ...], tuple[Params, np.ndarray]] = {}
        self._reduced: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._part: dict[tuple[int, ...], int | None] = {}  # sets screened only on their first runs: runs met
        # there (None: not simulated, their bounds sufficed)
        self.alone = [self._compiled((j,)) for j in range(len(self.options))]
        self.diffs = [differences(p, q) for q in self.alone]
        self.overlaps = {(i, j) for i, j in itertools.combinations(range(len(self.options)), 2)
                         if overlaps(self.diffs[i], self.diffs[j])}
        base_inputs = player_inputs(p)
        self.moves_players = [any(np.any(a != b) for a, b in zip(base_inputs, player_inputs(q), strict=True))
                              for q in self.alone]
        self.local = [self._local_to(j) for j in range(len(self.options))]
        self._bounds: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}  # of the first runs
        self._thresholds: dict[tuple[int, ...], np.ndarray] = {}

    def _local_to(self, j: int) -> int | None:
        """The country of change ``j`` if it alters that country's own parameters only, else None."""
        c = self.options[j]
        if c.kind not in ("pledge", "willingness"):
            return None
        i, n = self.index[c.key.split(":", 1)[1]], self.base.n_countries

        def only_i(m: object) -> bool:  # a per-country mask, set only at country i
            if isinstance(m, dict):
                return all(only_i(x) for x in m.values())
            return isinstance(m, np.ndarray) and m.shape[:1] == (n,) and not np.delete(m, i, axis=0).any()

        return i if all(only_i(m) for m in self.diffs[j].values()) else None

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
                got = lay_over(self.base, ((self.alone[j], self.diffs[j]) for j in items))
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

    def _first_bounds(self, items: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """:func:`sim.ceiling.run_bounds` of the set's first :data:`SCREEN_FIRST` runs (cached)."""
        if items not in self._bounds:
            self._bounds[items] = self.runs.bounds(self.params(items), np.arange(SCREEN_FIRST))
        return self._bounds[items]

    def could_first(self, items: tuple[int, ...]) -> int:
        """How many of the first :data:`SCREEN_FIRST` runs have a bound that reaches the threshold.

        What :meth:`sim.runner.CommonRuns.could_meet` counts, composed: what a country could field in a run
        depends on its own parameters and the scenario-wide ones only (:func:`sim.ceiling.run_bounds`), so
        its column is that of the set of the scenario-wide changes and its own (computed once per such
        pair), and only the sum over countries (:func:`sim.ceiling.run_totals_bound`, which applies the
        lead nations) is made per set.
        """
        k = COMPONENT_INDEX[self.component]
        wide = tuple(j for j in items if self.local[j] is None)
        most, leads = self._first_bounds(wide)
        own: dict[int, list[int]] = {}
        for j in items:
            if self.local[j] is not None:
                own.setdefault(self.local[j], []).append(j)
        if own:
            most, leads = most.copy(), leads.copy()
            for c, js in own.items():
                m, lead = self._first_bounds(tuple(sorted((*wide, *js))))
                most[:, c], leads[:, c] = m[:, c], lead[:, c]
        if wide not in self._thresholds:
            self._thresholds[wide] = self.runs.thresholds(self.params(wide), np.arange(SCREEN_FIRST))
        bound = run_totals_bound(self.params(items), most, leads)[:, k]
        return int((bound >= self._thresholds[wide][:, k]).sum())

    @property
    def evaluated(self) -> int:
        """Sets screened so far, in full or only until they were certainly below the target."""
        return len(self.screened) + len(self._part)

    def _met(self, p: Params, a: int, b: int) -> int:
        """Screening runs ``a..b-1`` in which the threshold is met (runs are independent of each other)."""
        return int(self.runs.met(p, (self.component,), np.arange(a, b)).sum())

    def screen(self, items: tuple[int, ...]) -> float:
        """P(met) over the screening runs (``reps``, shared draws), of the reduced set."""
        items = self.reduce(items)
        if items not in self.screened:
            p = self.params(items)
            first = self._part.pop(items, None)
            if first is not None:  # its first runs are simulated
                met = first + self._met(p, SCREEN_FIRST, self.reps)
            else:
                met = self._met(p, 0, self.reps)
            self.screened[items] = met / self.reps
        return self.screened[items]

    def below_target(self, items: tuple[int, ...]) -> bool:
        """Whether the set's screened P(met) is below the target, from its first runs where they settle it.

        Of the first :data:`SCREEN_FIRST` runs, at most the ``c`` whose bound reaches the threshold
        (:meth:`could_first`) can be met, and ``m <= c`` are (simulated only if needed).
        P over all ``reps`` runs is at most ``(c + reps - SCREEN_FIRST) / reps``, and at most
        ``(m + reps - SCREEN_FIRST) / reps``: when either is below the target, the answer is exact without
        the other runs (the set is finished by :meth:`screen` only if its P is asked for).
        """
        items = self.reduce(items)
        if items in self._part:
            return True
        if items not in self.screened and self.reps > SCREEN_FIRST:
            p = self.params(items)
            could = self.could_first(items)
            if (could + self.reps - SCREEN_FIRST) / self.reps < self.target:
                self._part[items] = None  # nothing simulated yet
                return True
            met = self._met(p, 0, SCREEN_FIRST)
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
    """P(threshold met) of a scenario by the ordinary path (:func:`sim.runner.run_scenario`), and the runs."""
    reps = scenario.replications if reps is None else reps
    res = run_scenario(scenario, replications=reps, months=False, keep_runs=False, keep_arrays=False)
    return float(res.tables["summary"].set_index("component").loc[component, "p_met"]), reps
