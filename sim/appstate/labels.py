"""Names and values in plain words, for the page: units, US backstop levels, stances, data fields, glossary.

No Streamlit. Every other module of :mod:`sim.appstate` takes its words for these things from here.
"""

from __future__ import annotations

from typing import Any

from sim import concepts, words
from sim.baseline import BACKSTOP_LEVELS
from sim.outcomes import VERDICT_BANDS
from sim.uncertainty import LEVEL_UNCERTAINTIES, UNCERTAIN, declared

COMPONENT_UNITS: dict[str, str] = concepts.SHORT_UNITS
"""Short unit of each component, for labels and axes (declared in :mod:`sim.concepts`)."""

BACKSTOP_LABELS: dict[str, str] = {
    UNCERTAIN: "Uncertain (drawn)",
    **{level: words.LEVEL_LABELS[level][:1].upper() + words.LEVEL_LABELS[level][1:] for level in BACKSTOP_LEVELS},
    **{name: declared(name).label[:1].upper() + declared(name).label[1:] + " (drawn per run)"
       for name in LEVEL_UNCERTAINTIES},
}
"""Readable names of the US backstop levels, lowest to highest (:data:`sim.baseline.BACKSTOP_LEVELS`), and of
"uncertain": drawn per run from the declared options (sim/data [uncertainties])."""

STANCE_LABELS: dict[str, str] = {
    "willing": "willing", "conditional": "conditional", "considering": "considering", "ruled_out": "ruled out",
    "not_stated": "not stated", "none": "none", "materiel": "materiel only", "backstop": "US backstop",
    "host": "host",
}

CONDITION_LABELS = words.CONDITION_LABELS  # declared once, in sim.words (the command line uses them too)


def pct(x: float) -> str:
    """A share as a percent for tables and lists: whole, or with one decimal when it has one (2.5%)."""
    return f"{x:.0%}" if x * 100 == round(x * 100) else f"{x:.1%}"


def pct_text(p: float) -> str:
    """A probability for prose: whole percent, with "<1%" / ">99%" near the ends."""
    if 0 < p < 0.005:
        return "under 1%"
    if 0.995 <= p < 1:
        return "over 99%"
    return f"{p:.0%}"


FIELD_LABELS: dict[str, str] = {**concepts.FIELD_LABELS, "active_personnel": "Active military personnel",
                                "mine_vessels": "Mine-countermeasure vessels it has"}
"""Plain names of a country's data fields (the page never shows the field names themselves)."""

_PROB_FIELDS = {"p_participate", "government_fall_hazard", "withdraw_if_government_falls", "casualty_withdraw_prob"}


def plain_value(field: str, value: Any) -> str:
    """A data value in words: yes/no for flags, percent for chances, levels and stances by name."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "not set"
    if field == "required_backstop":
        return BACKSTOP_LABELS.get(value, str(value)).lower()
    if field in _PROB_FIELDS:
        return pct(float(value))
    if field == "land_share" and isinstance(value, list | tuple):
        return "–".join(pct(float(v)) for v in value)
    if isinstance(value, list | tuple):
        return "–".join(f"{v:,}" if isinstance(v, int) else str(v) for v in value)
    if isinstance(value, int | float):
        return f"{value:,}" if float(value).is_integer() or isinstance(value, int) else f"{value:,.3g}"
    text = str(value)
    return STANCE_LABELS.get(text, text.replace("_", " "))


def condition_descriptions() -> dict[str, str]:
    """Condition name -> what it means (:data:`sim.words.CONDITION_TEXT`)."""
    return dict(words.CONDITION_TEXT)


def condition_label(name: str) -> str:
    """Short display name of a condition (:func:`sim.words.condition_label`)."""
    return words.condition_label(name)


GLOSSARY: dict[str, str] = {
    "P(met)": "The share of the model's runs in which the force stays at or above the threshold in every tested "
              "month. Each run draws who takes part, governments falling and attacks at random. The range after "
              "it (\u201c18–21%\u201d) is its 95% interval: the uncertainty from the number of runs.",
    "Likely met / uncertain / unlikely": f"Likely met: P(met) at least {VERDICT_BANDS[0][0]:.0%}. Unlikely: under "
                                         f"{VERDICT_BANDS[1][0]:.0%}. Uncertain: in between. Cannot be met: the "
                                         "threshold is above the ceiling, the most any run could reach.",
    "Lowest strength": "The fewest troops (aircraft, vessels) on the ground in any tested month of a run; the "
                       "number in brackets is its median minus the threshold.",
    "Shapley value": "A fair share of the credit for meeting the threshold: a country's average addition to the "
                     "result over every order in which the countries could join.",
    "US backstop": "What the United States gives the force, lowest to highest: none, intelligence, command & "
                   "control, air cover, US command; 'uncertain' draws it per run, as no source pins it down. A "
                   "country sends troops only if it gets what it requires (also drawn per run); its aircraft and "
                   "ships do not wait for it.",
}
"""The few terms the page keeps, each in one or two plain sentences."""
