"""The coalition game of a scenario's threshold: its players and the worth of each coalition.

The *players* are the countries that could ever add to the tested component in the scenario
(:func:`players`); every other country is a dummy and gets 0 by construction. A coalition ``S`` is a set
of players; its worth ``v(S)`` is computed by running the scenario's own model (momentum, lead nations,
US backstop, incidents and withdrawals all apply) with every country outside ``S`` absent, over ``reps``
replications that share their random draws (common random numbers, :class:`sim.runner.CommonRuns`: run
``i`` of every coalition sees the draws of run ``i`` of the scenario), and averaging a per-run worth:

- ``worth="p_met"`` (default): 1 if the component's threshold held over the assessment window, else 0,
  so ``v(S)`` is the probability that ``S`` alone reaches the threshold;
- ``worth="strength"``: the lowest strength of the component over the window (troops for land), so
  ``v(S)`` is what ``S`` alone can be counted on to hold.

A country is *absent* when its willingness draw says no in every run, exactly as ``p_participate = 0``
would make it (``countries.X.p_participate = 0`` in a scenario gives the same runs; a test proves it).

Two exact bounds save runs. Coalitions that cannot reach the threshold in any run are not simulated:
their total can never exceed the sum of their members' largest possible contributions, counting
followers of the lead nations only if a lead nation is in the coalition (:meth:`CoalitionGame.bound`).
Of the others, only the runs whose own bound reaches the threshold are simulated
(:func:`sim.ceiling.run_bounds`: each member's pledge and conditions in that run); in every other run the
threshold cannot be met (worth ``strength``: only runs in which the coalition could field nothing are
skipped). Both bounds compute the conditions with the rules themselves and refuse a condition they do not
know (:func:`sim.ceiling.check_conditions`), so ``v(S)`` is what simulating every run gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from sim import rules
from sim.arrays import COMPONENT_INDEX
from sim.ceiling import check_conditions, eligible, run_totals_bound, waits_on_land
from sim.params import Params
from sim.runner import CommonRuns

WORTHS = ("p_met", "strength")
DEFAULT_REPS = 500
ROWS_PER_CALL = 4096
"""Runs per engine call: the runs of coalitions are stacked until a call holds about this many."""
BOUND_CELLS = 1 << 16
"""Coalitions x runs bounded at once (memory: about 300 bytes a cell)."""


def max_offer(p: Params) -> np.ndarray:
    """Largest contribution each country could ever make: ``[countries, 3]`` (troops, aircraft, vessels).

    Land is the pledge's top after the capacity cap, zero under border priority; air is the pledge's top
    (no capacity data); sea is the pledge's top after the capacity cap.
    """
    land = (rules.cap_to_capacity(p.land_hi, p.land_cap_range[1])[0]
            * rules.land_allowed(p.border_priority, p.border_secure))
    return np.stack([land, p.air_hi, rules.cap_to_capacity(p.sea_hi, p.sea_cap)[0]], axis=-1).astype(float)


def could_deploy(p: Params) -> np.ndarray:
    """Whether each component of each country can ever be in the force (``[3, countries]`` booleans).

    :func:`sim.ceiling.eligible`: the model's own rule (:func:`sim.rules.static_conditions`) at the most
    favourable draws, so the answer errs on the side of "could": pruning never drops a real player.
    """
    return eligible(p, every_month=False)


def player_inputs(p: Params) -> tuple:
    """Everything :func:`players` reads from the parameters, as it reads it.

    Pledges and capacity count only as "more than nothing", willingness only as "possible": parameters with
    equal inputs have the same players, for every component. Keep it in step with :func:`max_offer` and
    :func:`could_deploy`.
    """
    return (p.land_hi > 0, p.land_cap_range[1] > 0, p.air_hi > 0, p.sea_hi > 0, p.sea_cap > 0, p.border_priority,
            p.border_secure, p.is_lead, p.follows_leads, p.horizon, p.assess_start, p.ceasefire_month,
            p.offered_range()[1], p.required_range()[0], p.un_framework, p.requires_un, p.p_participate > 0,
            p.p_troops > 0, tuple(p.binds))


def players(p: Params, component: str = "land") -> np.ndarray:
    """Countries that can change whether ``component``'s threshold is met: ``[countries]`` booleans.

    A player can put something of the component in the force (:func:`could_deploy`), or land troops when
    the component waits on troops on the ground (a condition that waits on others binds it,
    :func:`sim.ceiling.waits_on_land`), or, on land, is a
    lead nation the others follow. Any other country never changes a run's total of the component, so it
    is a dummy (value 0).
    """
    k = COMPONENT_INDEX[component]
    off, can = max_offer(p), could_deploy(p)
    counts = can[k] & (off[:, k] > 0)
    if waits_on_land(p, k):
        counts |= can[0] & (off[:, 0] > 0)
    return counts


class CoalitionGame:
    """The worth of every coalition of a scenario's players (cached), for one component's threshold.

    ``params``: the compiled scenario; ``seed``: the seed of the draws (the scenario's); ``reps``: runs
    per coalition; ``component``: ``land``, ``air`` or ``sea``; ``worth``: ``p_met`` or ``strength``
    (module docstring). Coalitions are bit masks over :attr:`players` (bit ``j`` is player ``j``).
    """

    def __init__(self, params: Params, *, seed: int, reps: int = DEFAULT_REPS, component: str = "land",
                 worth: str = "p_met", player_mask: np.ndarray | None = None):
        if component not in COMPONENT_INDEX:
            raise ValueError(f"unknown component {component!r}; expected one of {tuple(COMPONENT_INDEX)}")
        if worth not in WORTHS:
            raise ValueError(f"unknown worth {worth!r}; expected one of {WORTHS}")
        if reps < 1:
            raise ValueError("reps must be at least 1")
        mask = players(params, component) if player_mask is None else np.asarray(player_mask, dtype=bool)
        self.component, self.worth, self.reps, self.seed = component, worth, int(reps), int(seed)
        self.threshold = float(params.threshold_range(component)[0])  # the lowest: pruning stays safe
        self.players: tuple[int, ...] = tuple(int(i) for i in np.flatnonzero(mask))
        if len(self.players) > 62:
            raise ValueError("at most 62 players (coalitions are 64-bit masks)")
        self.iso3 = tuple(params.iso3[i] for i in self.players)
        # Non-players never take part and pledge nothing (same totals; they leave the engine's loop).
        zero = ~mask
        self.params = replace(
            params, p_participate=np.where(zero, 0.0, params.p_participate),
            land_lo=np.where(zero, 0.0, params.land_lo), land_hi=np.where(zero, 0.0, params.land_hi),
            air_lo=np.where(zero, 0.0, params.air_lo), air_hi=np.where(zero, 0.0, params.air_hi),
            sea_lo=np.where(zero, 0.0, params.sea_lo), sea_hi=np.where(zero, 0.0, params.sea_hi))
        check_conditions()
        self.runs = CommonRuns.of(params, self.seed, self.reps)
        k, who = COMPONENT_INDEX[component], list(self.players)
        off = max_offer(self.params)[who, k]
        can = could_deploy(self.params)[:, who]
        ok = can[k]
        # Followers count only beside a lead nation with troops on the ground, where the lead nations bind.
        follows = self.params.follows_leads[who] & self.params.binds_condition(rules.LEADS, k)
        lead = self.params.is_lead[who] & (max_offer(self.params)[who, 0] > 0) & can[0]
        self._own = np.where(ok & ~follows, off, 0.0)
        self._led = np.where(ok & follows, off, 0.0)
        self._lead_bits = int(sum(1 << j for j in np.flatnonzero(lead)))
        most, leads = self.runs.bounds(self.params)
        self._most, self._leads = most, leads  # each country's most in each run, and who can lead there
        self._run_threshold = self.runs.thresholds(self.params)[:, k]
        self._cache: dict[int, float] = {}
        self.simulated = 0  # coalitions run through the engine
        self.bounded = 0  # coalitions valued 0 by the bound, without running
        self.runs_simulated = 0  # runs through the engine: those of simulated coalitions whose bound reaches

    @property
    def n(self) -> int:
        """Number of players."""
        return len(self.players)

    @property
    def grand(self) -> int:
        """The mask of the grand coalition (all players)."""
        return (1 << self.n) - 1

    def members(self, mask: int) -> list[str]:
        """The iso3 codes of a coalition's members, in baseline order."""
        return [self.iso3[j] for j in range(self.n) if mask >> j & 1]

    def mask_of(self, iso3: Iterable[str]) -> int:
        """The mask of a coalition given by iso3 codes (each must be a player)."""
        out = 0
        for code in iso3:
            if code not in self.iso3:
                raise ValueError(f"{code} is not a player of this game (players: {', '.join(self.iso3)})")
            out |= 1 << self.iso3.index(code)
        return out

    def _bits(self, masks: np.ndarray) -> np.ndarray:
        return ((masks[:, None] >> np.arange(self.n, dtype=np.int64)) & 1).astype(bool)

    def bound(self, masks: np.ndarray) -> np.ndarray:
        """Largest total of the component each coalition could ever field (followers only with a lead)."""
        masks = np.asarray(masks, dtype=np.int64)
        bits = self._bits(masks)
        has_lead = (masks & self._lead_bits) != 0
        return bits @ self._own + has_lead * (bits @ self._led)

    def _zero_by_bound(self, masks: np.ndarray) -> np.ndarray:
        b = self.bound(masks)
        return b < self.threshold if self.worth == "p_met" else b <= 0

    def values(self, masks: Sequence[int] | np.ndarray) -> np.ndarray:
        """``v(S)`` for each mask (computed once, then cached)."""
        masks = np.asarray(masks, dtype=np.int64).reshape(-1)
        todo = np.array(sorted({int(m) for m in masks} - self._cache.keys()), dtype=np.int64)
        if todo.size:
            zero = self._zero_by_bound(todo)
            for m in todo[zero]:
                self._cache[int(m)] = 0.0
            self.bounded += int(zero.sum())
            self._simulate(todo[~zero])
        return np.array([self._cache[int(m)] for m in masks], dtype=float)

    def value(self, mask: int) -> float:
        """``v(S)`` of one coalition."""
        return float(self.values([mask])[0])

    def run_bound(self, masks: np.ndarray) -> np.ndarray:
        """Largest total of the component each coalition could field in each run: ``[masks, runs]``."""
        members = np.zeros((masks.size, self.params.n_countries), dtype=bool)
        members[:, list(self.players)] = self._bits(masks)
        return run_totals_bound(self.params, self._most, self._leads, members)[..., COMPONENT_INDEX[self.component]]

    def _simulate(self, masks: np.ndarray) -> None:
        """Worth of coalitions, simulating only the runs whose bound leaves the run's worth in doubt."""
        R, k = self.reps, COMPONENT_INDEX[self.component]
        cols = np.array(self.players, dtype=np.int64)
        total = np.zeros(masks.size)
        per_chunk = max(1, BOUND_CELLS // R)
        for a in range(0, masks.size, per_chunk):  # coalitions a few at a time: bounded memory
            chunk = masks[a:a + per_chunk]
            bound = self.run_bound(chunk)
            need = bound >= self._run_threshold if self.worth == "p_met" else bound > 0  # [coalitions, runs]
            which, runs = np.nonzero(need)
            for b in range(0, which.size, ROWS_PER_CALL):
                w, r = which[b:b + ROWS_PER_CALL], runs[b:b + ROWS_PER_CALL]
                absent = np.zeros((w.size, self.params.n_countries), dtype=bool)
                absent[:, cols] = ~self._bits(chunk[w])
                res = self.runs.simulate(self.params, r, absent)
                met, _margin, _first, minimum, _mean = rules.threshold_test(
                    res.series(self.component), res.thresholds[:, k], self.params.assess_start)
                per_run = np.asarray(met if self.worth == "p_met" else minimum, dtype=float)
                self.runs_simulated += w.size
                total[a:a + chunk.size] += np.bincount(w, weights=per_run, minlength=chunk.size)
        for m, x in zip(masks, total / R, strict=True):
            self._cache[int(m)] = float(x)
        self.simulated += masks.size
