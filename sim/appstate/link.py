"""The page's settings in its address (``?us_backstop=air_cover&land_GBR=0-0``), and back.

No Streamlit. Only the controls that differ from the loaded scenario go into the address; a hand-edited
address never breaks the page: what cannot be read is named in a note and left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sim import concepts
from sim.appstate.controls import CUSTOM, land_presets
from sim.baseline import BACKSTOP_LEVELS, LEDGER_START, Baseline
from sim.uncertainty import UNCERTAIN


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple | list):
        return f"{int(value[0])}-{int(value[1])}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def state_to_query(state: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, str]:
    """The controls that differ from ``defaults``, as text for the page's address (``land_FRA=0-0``)."""
    out = {}
    for key, default in defaults.items():
        if key in state and _to_text(state[key]) != _to_text(default):
            out[key] = _to_text(state[key])
    return out


_CHOICES: dict[str, tuple[Any, ...]] = {
    "us_backstop": (UNCERTAIN, *BACKSTOP_LEVELS), "russia_stance": concepts.lever("russia_stance").choices,
    "air_mission": concepts.lever("air_mission").choices,
}


def as_of_dates() -> list[str]:
    """The dates the page's "as of" control offers.

    The baseline's, then each on which a statement changed something (:func:`sim.timeline.as_of_choices`).
    Worked out once per process: the statements are data files read at start, and this reads each date's
    data (it cost more than a model run on every slider move).
    """
    return list(_as_of_dates())


@lru_cache(maxsize=1)
def _as_of_dates() -> tuple[str, ...]:
    from sim import timeline

    return tuple(timeline.as_of_choices())


def as_of_words() -> dict[str, str]:
    """Each date of the "as of" control in a few words: the date, and whose statements changed something."""
    return dict(_as_of_words())


@lru_cache(maxsize=1)
def _as_of_words() -> tuple[tuple[str, str], ...]:
    from sim import timeline

    out = {}
    for day, label in timeline.as_of_labels().items():
        if day == LEDGER_START:
            out[day] = f"{day} · the articles (baseline)"
            continue
        who = list(dict.fromkeys(part.split(" (")[0].strip() for part in label.split(";")))
        shown = ", ".join(who[:4]) + (f" +{len(who) - 4}" if len(who) > 4 else "")
        out[day] = f"{day} · {shown}"
    return tuple(out.items())


def query_to_state(query: Mapping[str, str], defaults: Mapping[str, Any],
                   baseline: Baseline | None = None) -> tuple[dict[str, Any], list[str]]:
    """Control values from the page's address, and a note for each entry that could not be used.

    Keys are the controls' (``defaults``); values are checked against the control's type and choices,
    so a hand-edited address never breaks the page (bounds are clamped later, as for any value).
    """
    state: dict[str, Any] = {}
    notes: list[str] = []
    presets = land_presets(baseline)
    for key, text in query.items():
        if key not in defaults:
            continue
        default = defaults[key]
        try:
            if isinstance(default, bool):
                if text not in ("0", "1"):
                    raise ValueError
                value: Any = text == "1"
            elif isinstance(default, tuple):
                lo, hi = (int(x) for x in text.split("-"))
                value = (min(lo, hi), max(lo, hi))
            elif key == "threshold_land_choice":
                value = CUSTOM if text == CUSTOM else int(text)
                if value not in (*presets, CUSTOM):
                    raise ValueError
            elif isinstance(default, int):
                value = int(text)
            elif isinstance(default, float):
                value = float(text)
            else:
                value = text
            if key in _CHOICES and value not in _CHOICES[key]:
                raise ValueError
            if key == "as_of" and value not in as_of_dates():
                raise ValueError
        except ValueError:
            notes.append(f"the link's value for {key.replace('_', ' ')} (“{text[:40]}”) was not understood")
            continue
        state[key] = value
    return state, notes
