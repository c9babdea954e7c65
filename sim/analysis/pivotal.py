"""Who makes or breaks a threshold: a scenario's coalition game, Shapley, Banzhaf, minimal winning coalitions.

:func:`pivotal` plays the game of :mod:`sim.analysis.game` (its players, the worth of a coalition, the
bounds that save runs) with the indices of :mod:`sim.analysis.shapley` (exact up to ``exact_max``
players, else sampled; the minimal winning coalitions) and returns the tables and a verdict. The names of
both modules are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.game import (
    DEFAULT_REPS,
    ROWS_PER_CALL,
    WORTHS,
    CoalitionGame,
    could_deploy,
    max_offer,
    player_inputs,
    players,
)
from sim.analysis.shapley import (
    DEFAULT_MWC_EVALUATIONS,
    DEFAULT_MWC_RESULTS,
    DEFAULT_PERMUTATIONS,
    DEFAULT_WIN_PROB,
    MAX_COMBINATIONS_PER_SIZE,
    PERMUTATION_SEED,
    Indices,
    WinningSearch,
    exact_indices,
    minimal_winning,
    sampled_indices,
)
from sim.arrays import COMPONENT_INDEX
from sim.concepts import SHORT_UNITS
from sim.params import Params

DEFAULT_EXACT_MAX = 12

__all__ = [
    "DEFAULT_EXACT_MAX", "DEFAULT_MWC_EVALUATIONS", "DEFAULT_MWC_RESULTS", "DEFAULT_PERMUTATIONS", "DEFAULT_REPS",
    "DEFAULT_WIN_PROB", "MAX_COMBINATIONS_PER_SIZE", "PERMUTATION_SEED", "ROWS_PER_CALL", "WORTHS", "CoalitionGame",
    "Indices", "PivotalResult", "WinningSearch", "could_deploy", "exact_indices", "max_offer", "minimal_winning",
    "pivotal", "player_inputs", "players", "sampled_indices",
]


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
    unit = SHORT_UNITS[game.component]
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
