"""The outcome tables shaped and put in words: the answer sentence, the verdict cards, each country's line.

No Streamlit. Every number comes from the tables of :func:`sim.runner.run_scenario` or of the analyses
(:func:`sim.analysis.pivotal_countries`, :func:`sim.analysis.gap_plan`); the verdict words are the summary's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from sim import rules, words
from sim.appstate.labels import BACKSTOP_LABELS, COMPONENT_UNITS, condition_label, pct_text
from sim.outcomes import CANNOT, VERDICT_BANDS
from sim.uncertainty import UNCERTAIN


def _rows(df: pd.DataFrame, cols: Sequence[str]) -> list[SimpleNamespace]:
    """``df``'s rows with ``cols`` as attributes, read a column at a time.

    ``itertuples`` reads a frame a column at a time through pandas' indexing and builds a class per
    call: on the three-row summary that cost more than the words made from it, on every slider move.
    """
    columns = [df[c].tolist() for c in cols]
    return [SimpleNamespace(**dict(zip(cols, vals, strict=True))) for vals in zip(*columns, strict=True)]


_SUMMARY_COLS = ("component", "verdict", "threshold_low", "threshold_high", "p_met", "p_met_low95", "p_met_high95",
                 "runs", "median_margin", "min_strength_q50", "ceiling", "ceiling_reason")


def contribution_frame(per_country: pd.DataFrame, component: str) -> pd.DataFrame:
    """Countries that pledge or give anything of ``component``, largest expected contribution first.

    Columns: ``country``, ``iso3``, ``pledged`` (mean pledge after the capacity cut), ``expected`` (mean
    contribution over the tested months), ``running_total`` (sum of ``expected`` down the list).
    """
    df = pd.DataFrame({
        "country": per_country["country"], "iso3": per_country["iso3"],
        "pledged": per_country[f"pledge_{component}_mean"], "expected": per_country[f"expected_{component}"],
    })
    df = df[(df.pledged > 0) | (df.expected > 0)]
    df = df.sort_values(["expected", "pledged"], ascending=False, kind="stable").reset_index(drop=True)
    df["running_total"] = df["expected"].cumsum()
    return df


def held_back_frame(per_country: pd.DataFrame, min_share: float = 0.01) -> pd.DataFrame:
    """Which condition held which country back, and in what share of runs (at least ``min_share``).

    A long table: ``country``, ``iso3``, ``condition``, ``label``, ``share``; conditions in
    :data:`sim.rules.CONDITIONS` order.
    """
    names = [n for n in rules.CONDITIONS.values() if f"p_held_back_land_{n}" in per_country]
    share = per_country[[f"p_held_back_land_{n}" for n in names]].to_numpy(dtype=float)
    j, i = np.nonzero(share.T >= min_share)  # condition by condition, countries in table order
    return pd.DataFrame({"country": per_country["country"].to_numpy()[i], "iso3": per_country["iso3"].to_numpy()[i],
                         "condition": [names[k] for k in j], "label": [condition_label(names[k]) for k in j],
                         "share": share[i, j]})


def binding_summary(held: pd.DataFrame, min_share: float = 0.5) -> list[tuple[str, list[tuple[str, float]]]]:
    """Conditions that held countries back in at least ``min_share`` of runs, with whom.

    ``held`` is a :func:`held_back_frame`. Returns ``[(condition, [(country, share), ...]), ...]``, the
    condition holding back most countries first, each list by share, largest first.
    """
    who: dict[str, list[tuple[str, float]]] = {}
    for name, country, share in zip(held["condition"], held["country"], held["share"], strict=True):
        if share >= min_share:
            who.setdefault(name, []).append((country, float(share)))
    out = [(name, sorted(rows, key=lambda r: -r[1])) for name, rows in who.items()]
    return sorted(out, key=lambda x: -len(x[1]))


def strength_frame(per_month: pd.DataFrame, component: str) -> pd.DataFrame:
    """One component's monthly strength quantiles (``month``, ``q05`` ... ``q95``, ``mean``)."""
    return per_month[per_month["component"] == component].reset_index(drop=True)


# --- plain words for the page: verdict, answer, reasons, sources ---------------------------------------------

def verdict_words(row) -> str:
    """The verdict of one threshold in words: the summary's own.

    By :data:`sim.outcomes.VERDICT_BANDS`, and "cannot be met" above the ceiling: the page, the command line
    and the tables say the same.
    """
    return str(row.verdict)


def threshold_text(row) -> str:
    """A summary row's threshold for a reader: one number, or the range it is drawn from."""
    return words.threshold_text(row.threshold_low, row.threshold_high)


VERDICT_TONE = {**dict(zip((word for _, word in VERDICT_BANDS), ("good", "mixed", "bad"), strict=True)), CANNOT: "bad"}
"""Colour class of each verdict word (the page maps these to colours)."""


def _names(names: Sequence[str], most: int = 3) -> str:
    names = list(names)
    if len(names) > most:
        return f"{len(names)} countries"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def obstacle_words(binding: Sequence[tuple[str, Sequence[tuple[str, float]]]], backstop: str) -> str | None:
    """The condition holding back most countries, as a clause ("12 countries want more from the US ...").

    ``binding`` is :func:`binding_summary`; ``backstop`` the US backstop level at the start. None if nothing binds.
    """
    if not binding:
        return None
    name, who = binding[0]
    names = [n for n, _ in who]
    many = len(names) > 1
    if name == "us_backstop" and backstop == UNCERTAIN:
        return (f"{_names(names)} may want more from the US for {'their' if many else 'its'} troops than it gives "
                "(what the US gives is uncertain)")
    if name == "us_backstop":
        return (f"{_names(names)} want{'' if many else 's'} more from the US for {'their' if many else 'its'} "
                f"troops than {BACKSTOP_LABELS.get(backstop, backstop).lower()}")
    if name == "un_framework":
        return f"{_names(names)} need{'' if many else 's'} a UN framework and there is none"
    if name == "ceasefire":
        return "there is no ceasefire, and the force deploys only after one"
    if name == "border_priority":
        return f"{_names(names)} keep{'' if many else 's'} troops home while the eastern border is not secure"
    if name == "willingness":
        return f"{_names(names)} often decide{'' if many else 's'} not to take part"
    return f"“{condition_label(name).lower()}” holds back {_names(names)}"


def answer_sentence(summary: pd.DataFrame, held: pd.DataFrame, backstop: str) -> str:
    """One sentence that answers the page's question for the current scenario, in plain words.

    The land verdict with its probability and what it would take (the typical shortfall or margin),
    the air and sea verdicts, and the condition that holds back most countries.
    """
    rows = {r.component: r for r in _rows(summary, _SUMMARY_COLS)}
    land = rows["land"]
    word = verdict_words(land)
    margin = float(land.median_margin)
    how = (f"a typical run falls about {-margin:,.0f} troops short" if margin < 0
           else f"a typical run clears it by about {margin:,.0f} troops")
    head = (f"A land force of {threshold_text(land)} troops is **{word}**: it holds in "
            f"{pct_text(land.p_met)} of {land.runs:,} runs and {how}")
    if word == CANNOT:
        head += f" (no run could reach more than {land.ceiling:,.0f}: {land.ceiling_reason})"
    others = [f"{c} {verdict_words(r)}"
              for c, r in (("air", rows.get("air")), ("sea", rows.get("sea"))) if r is not None]
    text = head + ("; " + " and ".join(others) if others else "")
    why = obstacle_words(binding_summary(held, min_share=0.5), backstop)
    return text + (f" — mainly because {why}." if why else ".")


def verdict_cards(summary: pd.DataFrame) -> list[dict[str, str]]:
    """One card per component: ``title``, ``word``, ``tone``, ``p`` (P(met) with interval), ``detail``."""
    cards = []
    for r in _rows(summary, _SUMMARY_COLS):
        unit = COMPONENT_UNITS[r.component]
        word = verdict_words(r)
        cards.append({
            "component": r.component,
            "title": f"{r.component.capitalize()} ≥ {threshold_text(r)} {unit}",
            "word": word.capitalize(), "tone": VERDICT_TONE[word],
            "p": f"P(met) {r.p_met:.0%} · {r.p_met_low95:.0%}–{r.p_met_high95:.0%}",
            "detail": (f"Lowest strength, median: {r.min_strength_q50:,.0f} {unit} "
                       f"({float(r.median_margin):+,.0f}) · most any run could reach: {r.ceiling:,.0f}"),
        })
    return cards


def _expected(row: Any) -> str:
    u = COMPONENT_UNITS
    return (f"{row.expected_land:,.0f} {u['land']} · {row.expected_air:,.1f} {u['air']} · "
            f"{row.expected_sea:,.1f} {u['sea']}")


def country_lines(per_country: pd.DataFrame, held: pd.DataFrame, min_share: float = 0.05) -> dict[str, str]:
    """Each country's result in one line to show under its sliders: iso3 -> text."""
    why: dict[str, list[tuple[str, float]]] = {}
    for iso, label, share in zip(held["iso3"], held["label"], held["share"], strict=True):
        if share >= min_share:
            why.setdefault(iso, []).append((label, float(share)))
    out = {}
    for row in _rows(per_country, ("iso3", "country", "expected_land", "expected_air", "expected_sea",
                                    "share_of_months_deployed")):
        text = (f"{row.country} in the force, expected: {_expected(row)} · "
                f"deployed {row.share_of_months_deployed:.0%} of tested months")
        if row.iso3 in why:
            text += "  \nHeld back: " + ", ".join(f"{lab} ({sh:.0%} of runs)"
                                                  for lab, sh in sorted(why[row.iso3], key=lambda r: -r[1]))
        out[row.iso3] = text
    return out


def expected_words(per_country: pd.DataFrame) -> dict[str, str]:
    """Each country's expected contribution in a few words, for its closed row: iso3 -> text."""
    return {row.iso3: f"expected in the force: {_expected(row)}" for row in
            _rows(per_country, ("iso3", "expected_land", "expected_air", "expected_sea"))}


def pivotal_words(table: pd.DataFrame, coalitions: pd.DataFrame, worth: str) -> str:
    """The pivotal-country analysis (:func:`sim.analysis.pivotal_countries`) in two or three plain sentences."""
    players = table[table.player].sort_values("shapley", ascending=False, kind="stable")
    if players.empty:
        return "No country can add anything to this component in this scenario."
    comp = str(table["component"].iloc[0])
    unit = COMPONENT_UNITS[comp]
    n = len(players)
    head = f"{n} {'country can' if n == 1 else 'countries can'} add {unit} here."
    if not (players.shapley.abs() > 1e-12).any():
        if worth == "p_met":
            return (head + " Even all of them together never meet the threshold in these runs, so no country "
                    "changes the chance of meeting it. Switch the measure to “lowest strength” to see who carries "
                    "the force.")
        return head + " None of them adds to the lowest strength in these runs."
    fmt = (lambda v: f"{v:.0%} of the chance") if worth == "p_met" else (lambda v: f"{v:,.0f} {unit}")
    top = "; ".join(f"{r.country} {fmt(r.shapley)}" for r in players.head(3).itertuples())
    text = f"{head} The largest shares (Shapley values): {top}."
    if worth == "p_met" and len(coalitions):
        best = coalitions.iloc[0]
        text += (f" The smallest group that meets the threshold in most runs: {best['countries']} "
                 f"({best['p_met']:.0%} of runs).")
    return text


def gap_words(summary: pd.DataFrame) -> str:
    """The gap-closing plan's one-row summary (:func:`sim.analysis.gap_plan`) as a plain sentence."""
    r = summary.iloc[0]
    unit = COMPONENT_UNITS[str(r["component"])]
    what = f"a {r['component']} force of {r['threshold']:,.0f} {unit}"
    if not r["found"]:
        return (f"No set of up to {int(r['max_changes'])} of the allowed changes lifts the chance of {what} to "
                f"{r['target']:.0%} (it is {pct_text(float(r['p_met_before']))} now).")
    n = int(r["changes"])
    if n == 0:
        return f"Nothing needs to change: the chance of {what} is already {pct_text(float(r['p_met_before']))}."
    asked = int(r["countries_asked"])
    return (f"{'One change' if n == 1 else f'{n} changes'} would lift the chance of {what} from "
            f"{pct_text(float(r['p_met_before']))} to {pct_text(float(r['p_met_after']))} (the target is "
            f"{r['target']:.0%}), adding {float(r['troops_added']):,.0f} troops and asking "
            f"{asked} {'country' if asked == 1 else 'countries'}"
            + ("; no cheaper set reaches it:" if r["proven_cheapest"] else ":"))
