"""Shapley values and Banzhaf indices of a coalition game, exact or sampled, and its minimal winning coalitions.

The game is a :class:`sim.analysis.game.CoalitionGame`; these functions only ask it for the worth of
coalitions (bit masks over its players), all at once where they can, so it simulates what it must once.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from sim.analysis.game import CoalitionGame

DEFAULT_PERMUTATIONS = 200
DEFAULT_WIN_PROB = 0.5
DEFAULT_MWC_EVALUATIONS = 2000
DEFAULT_MWC_RESULTS = 50
PERMUTATION_SEED = 6
"""Default seed of the permutation (and random-coalition) sampler; recorded in every result."""
MAX_COMBINATIONS_PER_SIZE = 2_000_000
"""The minimal-winning-coalition search stops at a size with more candidate sets than this."""


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
