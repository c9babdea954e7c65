"""Who makes or breaks a threshold: a scenario's coalition game, Shapley, Banzhaf, minimal winning coalitions.

The game. The *players* are the countries that could ever add to the tested component in the scenario
(:func:`players`); every other country is a dummy and gets 0 by construction. A coalition ``S`` is a set
of players; its worth ``v(S)`` is computed by running the scenario's own model (momentum, lead nations,
US backstop, incidents and withdrawals all apply) with every country outside ``S`` absent, over ``reps``
replications that share their random draws (common random numbers: run ``i`` of every coalition sees the
same draws, those of run ``i`` of the scenario), and averaging a per-run worth:

- ``worth="p_met"`` (default): 1 if the component's threshold held over the assessment window, else 0,
  so ``v(S)`` is the probability that ``S`` alone reaches the threshold;
- ``worth="strength"``: the lowest strength of the component over the window (troops for land), so
  ``v(S)`` is what ``S`` alone can be counted on to hold.

A country is *absent* when its willingness draw says no in every run, exactly as ``p_participate = 0``
would make it (``countries.X.p_participate = 0`` in a scenario gives the same runs; a test proves it).
The engine is :func:`sim.ensemble.simulate`; coalitions are stacked as blocks of runs of one call.

Coalitions that cannot reach the threshold whatever happens are not simulated: their land (air, sea)
total can never exceed the sum of their members' largest possible contributions, counting followers of
the lead nations only if a lead nation is in the coalition (:meth:`CoalitionGame.bound`); when that is
below the threshold, ``v(S) = 0`` exactly.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from sim import rules
from sim.arrays import COMPONENT_INDEX
from sim.ceiling import eligible
from sim.concepts import WAITS_ON_LAND
from sim.draws import COUNTRY_STREAMS, Draws, draw
from sim.ensemble import simulate
from sim.params import Params

WORTHS = ("p_met", "strength")
DEFAULT_REPS = 500
DEFAULT_EXACT_MAX = 12
DEFAULT_PERMUTATIONS = 200
DEFAULT_WIN_PROB = 0.5
DEFAULT_MWC_EVALUATIONS = 2000
DEFAULT_MWC_RESULTS = 50
PERMUTATION_SEED = 6
"""Default seed of the permutation (and random-coalition) sampler; recorded in every result."""
ROWS_PER_CALL = 4096
"""Runs per engine call: coalitions are stacked until a call holds about this many runs."""
MAX_COMBINATIONS_PER_SIZE = 2_000_000
"""The minimal-winning-coalition search stops at a size with more candidate sets than this."""


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
    the component waits on troops on the ground (the lead nations or momentum bind it), or, on land, is a
    lead nation the others follow. Any other country never changes a run's total of the component, so it
    is a dummy (value 0).
    """
    k = COMPONENT_INDEX[component]
    off, can = max_offer(p), could_deploy(p)
    counts = can[k] & (off[:, k] > 0)
    if int(p.binds[k]) & WAITS_ON_LAND:  # every condition that waits on others' troops (sim.concepts)
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
        self.draws: Draws = draw(self.seed, params.n_countries, params.horizon, 0, self.reps)
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
        self._participate = COUNTRY_STREAMS.index("participate") * params.n_countries  # first column
        self._cache: dict[int, float] = {}
        self.simulated = 0  # coalitions run through the engine
        self.bounded = 0  # coalitions valued 0 by the bound, without running

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

    def _simulate(self, masks: np.ndarray) -> None:
        R, per_call = self.reps, max(1, ROWS_PER_CALL // self.reps)
        cols = np.array(self.players, dtype=np.int64)
        comp = self.component
        for a in range(0, masks.size, per_call):
            chunk = masks[a:a + per_call]
            k = chunk.size
            u = np.tile(self.draws.u, (k, 1))
            u3 = u.reshape(k, R, u.shape[1])  # a view: coalition x run x uniforms
            absent = ~self._bits(chunk)  # [k, n]
            # an absent country's willingness draw is 1.0: ``u < p_participate`` never holds, in any run
            u3[:, :, self._participate + cols] = np.where(absent[:, None, :], 1.0, u3[:, :, self._participate + cols])
            big = Draws(u, self.draws.n_countries, self.draws.horizon)
            res = simulate(self.params, big, np.tile(np.arange(R), k))
            met, _margin, _first, minimum, _mean = rules.threshold_test(
                res.series(comp), res.thresholds[:, COMPONENT_INDEX[comp]], self.params.assess_start)
            per_run = met if self.worth == "p_met" else minimum
            v = np.asarray(per_run, dtype=float).reshape(k, R).mean(axis=1)
            for m, x in zip(chunk, v, strict=True):
                self._cache[int(m)] = float(x)
            self.simulated += k


# --- Shapley values and Banzhaf indices ----------------------------------------------------------------

@dataclass(frozen=True)
class Indices:
    """Shapley values and Banzhaf indices of the players, with standard errors (zero when exact)."""

    method: str  # "exact" or "sampled"
    shapley: np.ndarray
    shapley_se: np.ndarray
    banzhaf: np.ndarray
    banzhaf_se: np.ndarray
    samples: int = 0  # permutations (Shapley) and random coalitions (Banzhaf) when sampled
    table: np.ndarray | None = field(default=None, repr=False)  # v over all 2^n masks when exact


def exact_indices(game: CoalitionGame) -> Indices:
    """Exact Shapley values and Banzhaf indices from the worth of all ``2^n`` coalitions.

    Shapley: ``phi_i = sum over S not containing i of |S|! (n-|S|-1)! / n! * (v(S+i) - v(S))``.
    Banzhaf: ``beta_i = 2^-(n-1) * sum over S not containing i of (v(S+i) - v(S))`` (not normalised).
    """
    n = game.n
    masks = np.arange(1 << n, dtype=np.int64)
    v = game.values(masks)
    size = np.bitwise_count(masks).astype(np.int64)
    weight = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) if s < n else 0.0
                       for s in range(n + 1)])
    phi, beta = np.zeros(n), np.zeros(n)
    for i in range(n):
        without = masks[(masks >> i & 1) == 0]
        d = v[without | (1 << i)] - v[without]
        phi[i] = float((weight[size[without]] * d).sum())
        beta[i] = float(d.mean())
    return Indices("exact", phi, np.zeros(n), beta, np.zeros(n), 0, v)


def sampled_indices(game: CoalitionGame, *, samples: int = DEFAULT_PERMUTATIONS,
                    seed: int = PERMUTATION_SEED) -> Indices:
    """Shapley values by permutation sampling and Banzhaf indices by random coalitions, with errors.

    Shapley: ``samples`` random orders of the players; each player's value is the mean of its marginal
    contribution ``v(P + i) - v(P)`` (``P`` = the players before it), and its standard error the standard
    deviation of those contributions over ``sqrt(samples)``. The estimates sum exactly to
    ``v(N) - v(empty)``. Banzhaf: ``samples`` coalitions ``S`` drawing each player with probability 1/2;
    ``beta_i`` is the mean of ``v(S + i) - v(S - i)``. Both are unbiased for the exact values of the
    same game (same draws and ``reps``); the errors are of the sampling over orders and coalitions only.
    """
    if samples < 2:
        raise ValueError("at least 2 samples are needed for a standard error")
    n = game.n
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    perms = np.array([rng.permutation(n) for _ in range(samples)], dtype=np.int64)  # [m, n]
    prefix = np.zeros((samples, n + 1), dtype=np.int64)
    prefix[:, 1:] = np.cumsum(np.int64(1) << perms, axis=1)
    coal = (rng.random((samples, n)) < 0.5) @ (np.int64(1) << np.arange(n, dtype=np.int64))
    bit = np.int64(1) << np.arange(n, dtype=np.int64)
    with_i, without_i = coal[:, None] | bit, coal[:, None] & ~bit  # [m, n]
    game.values(np.concatenate([prefix.ravel(), with_i.ravel(), without_i.ravel()]))  # all at once
    vp = game.values(prefix.ravel()).reshape(samples, n + 1)
    marg = np.zeros((samples, n))
    np.put_along_axis(marg, perms, np.diff(vp, axis=1), axis=1)
    d = game.values(with_i.ravel()).reshape(samples, n) - game.values(without_i.ravel()).reshape(samples, n)
    root = math.sqrt(samples)
    return Indices("sampled", marg.mean(0), marg.std(0, ddof=1) / root, d.mean(0), d.std(0, ddof=1) / root,
                   samples)


# --- minimal winning coalitions -------------------------------------------------------------------------

@dataclass(frozen=True)
class WinningSearch:
    """Minimal winning coalitions found, and how far the search went."""

    coalitions: list[tuple[int, float]]  # (mask, v) in order of size, then worth (highest first)
    complete: bool  # every coalition up to ``searched_size`` was decided (and the list is not cut)
    searched_size: int  # largest size fully searched
    note: str


def _is_superset(masks: np.ndarray, winners: list[int]) -> np.ndarray:
    out = np.zeros(masks.shape, dtype=bool)
    for w in winners:
        out |= (masks & w) == w
    return out


def minimal_winning(game: CoalitionGame, *, win_prob: float = DEFAULT_WIN_PROB, max_size: int | None = None,
                    max_evaluations: int = DEFAULT_MWC_EVALUATIONS, max_results: int = DEFAULT_MWC_RESULTS,
                    table: np.ndarray | None = None) -> WinningSearch:
    """The smallest coalitions that win (``v(S) >= win_prob``, worth ``p_met``) with no winning proper subset.

    With ``table`` (``v`` of all ``2^n`` masks, from :func:`exact_indices`) the list is exact. Otherwise
    coalitions are searched by increasing size; supersets of winners and coalitions whose bound is below
    the threshold are skipped; at most ``max_evaluations`` coalitions are simulated. If even the grand
    coalition does not win, the search is skipped: a coalition can beat the grand coalition only through
    Russia's strikes picking other targets, which the model allows but does not make likely.
    """
    if game.worth != "p_met":
        return WinningSearch([], False, 0, "minimal winning coalitions need the worth p_met")
    n = game.n
    max_size = n if max_size is None else min(max_size, n)
    winners: list[int] = []
    if table is not None:
        masks = np.arange(1 << n, dtype=np.int64)
        size = np.bitwise_count(masks)
        for s in range(1, max_size + 1):
            cand = masks[(size == s) & (table >= win_prob)]
            cand = cand[~_is_superset(cand, winners)]
            winners += [int(m) for m in cand]
        found = sorted(((m, float(table[m])) for m in winners), key=lambda t: (bin(t[0]).count("1"), -t[1]))
        cut = len(found) > max_results
        note = "exact (all coalitions evaluated)" + (f"; the first {max_results} are listed" if cut else "")
        return WinningSearch(found[:max_results], not cut and max_size == n, max_size, note)
    if n == 0 or game.value(game.grand) < win_prob:
        return WinningSearch([], n == 0, n if n == 0 else 0,
                             f"even the grand coalition reaches P = {game.value(game.grand) if n else 0:.3f} < "
                             f"{win_prob}; no coalition is expected to win, so none was searched")
    spent, searched, note = 0, 0, "searched every size up to the largest"
    for s in range(1, max_size + 1):
        if math.comb(n, s) > MAX_COMBINATIONS_PER_SIZE:
            note = f"stopped before size {s}: {math.comb(n, s):,} combinations"
            break
        cand = np.fromiter((sum(1 << j for j in c) for c in itertools.combinations(range(n), s)), dtype=np.int64)
        cand = cand[~_is_superset(cand, winners)]
        cand = cand[~game._zero_by_bound(cand)]
        fresh = np.array([int(m) not in game._cache for m in cand], dtype=bool)
        if spent + int(fresh.sum()) > max_evaluations:
            # Part of this size, the most promising (largest bound) first: every smaller size was searched
            # whole, so a winner found here is still minimal; the list is not complete.
            left = max_evaluations - spent
            order = np.argsort(-game.bound(cand), kind="stable")
            keep = order[np.cumsum(fresh[order]) <= left]
            v = game.values(cand[keep])
            winners += [int(m) for m in cand[keep][v >= win_prob]]
            note = (f"size {s} searched in part: {int(fresh[keep].sum()):,} of {int(fresh.sum()):,} coalitions, "
                    f"largest bound first (budget {max_evaluations:,}); smaller sizes searched whole")
            break
        spent += int(fresh.sum())
        v = game.values(cand)
        winners += [int(m) for m in cand[v >= win_prob]]
        searched = s
        if len(winners) > max_results:
            note = f"stopped after size {s}: more than {max_results} found"
            break
    found = sorted(((m, game.value(m)) for m in winners), key=lambda t: (bin(t[0]).count("1"), -t[1]))
    complete = searched == max_size and len(found) <= max_results
    return WinningSearch(found[:max_results], complete, searched, note)


# --- the whole analysis ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PivotalResult:
    """Pivotal-country analysis of one scenario and threshold: tables and a verdict."""

    table: pd.DataFrame  # one row per country
    coalitions: pd.DataFrame  # minimal winning coalitions
    game: pd.DataFrame  # one row: the game and the method
    verdict: str
    settings: dict


def pivotal(params: Params, *, scenario: str, seed: int, component: str = "land", reps: int = DEFAULT_REPS,
            worth: str = "p_met", exact_max: int = DEFAULT_EXACT_MAX, samples: int = DEFAULT_PERMUTATIONS,
            sample_seed: int = PERMUTATION_SEED, win_prob: float = DEFAULT_WIN_PROB,
            mwc_max_size: int | None = None, mwc_max_evaluations: int = DEFAULT_MWC_EVALUATIONS,
            mwc_max_results: int = DEFAULT_MWC_RESULTS) -> PivotalResult:
    """Shapley values, Banzhaf indices and minimal winning coalitions of a compiled scenario.

    Exact when there are at most ``exact_max`` players (``2^n`` coalitions of ``reps`` runs each),
    sampled otherwise (``samples`` permutations and random coalitions, seed ``sample_seed``, with a
    standard error per country).
    """
    game = CoalitionGame(params, seed=seed, reps=reps, component=component, worth=worth)
    ind = exact_indices(game) if game.n <= exact_max else sampled_indices(game, samples=samples, seed=sample_seed)
    win = minimal_winning(game, win_prob=win_prob, max_size=mwc_max_size, max_evaluations=mwc_max_evaluations,
                          max_results=mwc_max_results, table=ind.table)
    v_grand, v_empty = game.value(game.grand), game.value(0)
    off = max_offer(params)[:, COMPONENT_INDEX[component]]
    C = params.n_countries
    cols = {k: np.zeros(C) for k in ("shapley", "shapley_se", "banzhaf", "banzhaf_se")}
    for j, c in enumerate(game.players):
        cols["shapley"][c], cols["shapley_se"][c] = ind.shapley[j], ind.shapley_se[j]
        cols["banzhaf"][c], cols["banzhaf_se"][c] = ind.banzhaf[j], ind.banzhaf_se[j]
    is_player = np.zeros(C, dtype=bool)
    is_player[list(game.players)] = True
    total = v_grand - v_empty
    in_mwc = np.zeros(C, dtype=np.int64)
    for m, _v in win.coalitions:
        for j in range(game.n):
            if m >> j & 1:
                in_mwc[game.players[j]] += 1
    table = pd.DataFrame({
        "scenario": scenario, "component": component, "threshold": game.threshold, "worth": worth,
        "iso3": list(params.iso3), "country": list(params.names), "player": is_player,
        "method": np.where(is_player, ind.method, "dummy"),
        "shapley": cols["shapley"], "shapley_se": cols["shapley_se"],
        "shapley_share": cols["shapley"] / total if total != 0 else np.zeros(C),
        "banzhaf": cols["banzhaf"], "banzhaf_se": cols["banzhaf_se"],
        "in_minimal_winning": in_mwc, "max_contribution": off,
        "p_participate": params.p_participate, "is_lead": params.is_lead,
    })
    table = table.sort_values(["player", "shapley", "max_contribution"], ascending=False, kind="stable")
    table = table.reset_index(drop=True)
    names = dict(zip(params.iso3, params.names, strict=True))
    coal = pd.DataFrame([{
        "scenario": scenario, "component": component, "threshold": game.threshold, "win_prob": win_prob,
        "rank": r + 1, "size": bin(m).count("1"), "members": ",".join(game.members(m)),
        "countries": ", ".join(names[i] for i in game.members(m)), "p_met": v,
        "bound": float(game.bound(np.array([m]))[0]),
    } for r, (m, v) in enumerate(win.coalitions)], columns=[
        "scenario", "component", "threshold", "win_prob", "rank", "size", "members", "countries", "p_met",
        "bound"])
    settings = {"component": component, "reps": reps, "seed": seed, "worth": worth, "exact_max": exact_max,
                "samples": samples, "sample_seed": sample_seed, "win_prob": win_prob, "mwc_max_size": mwc_max_size,
                "mwc_max_evaluations": mwc_max_evaluations, "mwc_max_results": mwc_max_results}
    game_row = pd.DataFrame([{
        "scenario": scenario, "component": component, "threshold": game.threshold, "worth": worth,
        "players": game.n, "player_list": ",".join(game.iso3), "dummies": C - game.n, "method": ind.method,
        "samples": ind.samples, "sample_seed": sample_seed if ind.method == "sampled" else None,
        "reps": reps, "seed": seed, "v_grand": v_grand, "v_empty": v_empty, "sum_shapley": float(ind.shapley.sum()),
        "max_shapley_se": float(ind.shapley_se.max()) if game.n else 0.0,
        "coalitions_simulated": game.simulated, "coalitions_bounded": game.bounded,
        "win_prob": win_prob, "minimal_winning_found": len(win.coalitions), "minimal_winning_complete": win.complete,
        "minimal_winning_searched_size": win.searched_size, "minimal_winning_note": win.note,
    }])
    return PivotalResult(table, coal, game_row, _verdict(game, ind, win, table, v_grand, win_prob), settings)


def _verdict(game: CoalitionGame, ind: Indices, win: WinningSearch, table: pd.DataFrame, v_grand: float,
             win_prob: float) -> str:
    unit = {"land": "troops", "air": "aircraft", "sea": "vessels"}[game.component]
    what = (f"P({game.component} >= {game.threshold:,.0f} {unit})" if game.worth == "p_met"
            else f"the lowest {game.component} strength ({unit})")
    if game.n == 0:
        return f"No country can add to {game.component} in this scenario: every country is a dummy."
    head = (f"{game.n} countries can contribute ({ind.method}"
            + (f", {ind.samples} samples" if ind.method == "sampled" else "")
            + f"); together they reach {what} = {v_grand:,.3f}.")
    if abs(v_grand - game.value(0)) < 1e-12:
        hint = (" (the worth 'strength', --worth strength, shows who carries the force)"
                if game.worth == "p_met" else "")
        return head + " No coalition does better than none, so every country's value is 0" + hint + "."
    top = table[table.player].head(3)
    fmt = ".3f" if game.worth == "p_met" else ",.0f"
    parts = [f"{r.country} {r.shapley:{fmt}}" + (f" (±{r.shapley_se:{fmt}})" if ind.method == "sampled" else "")
             for r in top.itertuples()]
    out = head + " Largest Shapley values: " + ", ".join(parts) + "."
    if game.worth == "p_met":
        if win.coalitions:
            m, v = win.coalitions[0]
            out += (f" Smallest winning coalition (P >= {win_prob}): {', '.join(game.members(m))} (P = {v:.3f})"
                    + (f"; {len(win.coalitions)} minimal winning coalitions listed." if len(win.coalitions) > 1
                       else "."))
        elif win.complete:
            out += f" No coalition reaches P >= {win_prob}."
        else:
            out += f" No winning coalition (P >= {win_prob}) found: {win.note}."
    return out
