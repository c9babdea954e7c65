"""Plain words for the model's codes, declared once: the command line, the reports, the app and tables.xlsx.

The tables keep the short codes (``border_priority``, ``held_back_cascade``...) that code and scripts
rely on; what a person reads says it in words from here.
"""

from __future__ import annotations

import re

from sim.concepts import CONDITIONS_DECLARED, LEVELS, UNITS

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    r"""``text`` with control characters shown as escapes (``\x1b``, ``\u202e``), never obeyed by a terminal.

    Covers the C0 and C1 controls (escape codes, NUL, line breaks) and the invisible and bidirectional
    format characters that can make a line read other than it is.
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        str(text))


CONDITION_LABELS: dict[str, str] = {c.name: c.label for c in CONDITIONS_DECLARED}
"""Short display names of the conditions (why a country stayed out), from their declarations."""

CONDITION_TEXT: dict[str, str] = {c.name: c.text for c in CONDITIONS_DECLARED}
"""What each condition means, in a sentence."""

LEVEL_LABELS: dict[str, str] = LEVELS
"""US backstop levels in words, lowest to highest."""


def threshold_text(low: float, high: float, dash: str = "–") -> str:
    """A threshold for a reader: one number, or the range it is drawn from per run."""
    return f"{low:,.0f}" if low == high else f"{low:,.0f}{dash}{high:,.0f}"


def band_label(band: str) -> str:
    """A band of the drivers table in words: a backstop level by name, a range as it is."""
    return LEVEL_LABELS.get(band, band)


def condition_label(name: str) -> str:
    """Short display name of a condition (an unknown name is made readable)."""
    return CONDITION_LABELS.get(name, name.replace("_", " ").capitalize())


NEVER = "never"
"""What a month column's ``-1`` (no such month) reads as where people read it (tables.xlsx, the terminal)."""

NEVER_COLUMNS = re.compile(r"^(land|air|sea)_first_month_below$")
"""Columns in which ``-1`` means "never"."""

COLUMNS: dict[str, str] = {
    "scenario": "scenario name",
    "point": "sweep point index within its scenario (0 for a file without a sweep)",
    "seed": "scenario seed",
    "component": "land, air or sea",
    "unit": "troops, combat aircraft or mine-countermeasure vessels",
    "threshold": "threshold the component must hold over the assessment window",
    "runs": "number of runs",
    "runs_met": "runs in which the minimum strength over the window reached the threshold",
    "p_met": "runs_met / runs: the probability that the threshold holds",
    "p_met_low95": "lower bound of the 95% Wilson interval for p_met",
    "p_met_high95": "upper bound of the 95% Wilson interval for p_met",
    "assess_from_month": "first month of the assessment window (months count from 0)",
    "horizon_months": "number of months simulated",
    "mean_strength": "mean over runs of each run's mean strength over the window",
    "median_margin": "median over runs of the lowest strength in the window minus the threshold (negative: short)",
    "verdict": "likely met (P >= 0.9), uncertain, unlikely (P < 0.1), or cannot be met (threshold above the ceiling)",
    "threshold_low": "lowest threshold of the component in this scenario (drawn thresholds vary by run)",
    "threshold_high": "highest threshold of the component in this scenario",
    "ceiling": "the most any run could reach: every pledge at its top, capped, under the scenario's conditions",
    "ceiling_reason": "empty if the highest threshold is within reach; else pledges, capacity or conditions",
    "sustainable": "what the forces of the countries that pledged and can send the component could sustain",
    "sustainable_nato": "land: the same at NATO's 8% sustainable target instead of the rotation ratio",
    "uncertainty": "a declared uncertainty drawn per run (sim/uncertainty.py)",
    "band": "the value, or range of values, the uncertainty took in these runs",
    "first_order_index": "share of the variance of met explained by the band (first-order index, given data)",
    "us_backstop": "the US backstop drawn (or pinned) for the run",
    "backstop_required_by_leads": "the backstop the lead nations required in the run (drawn or pinned)",
    "backstop_required_by_others": "the backstop the other contributors required in the run (drawn or pinned)",
    "army_share": "land forces as a share of active personnel in the run (drawn or pinned)",
    "min_strength_q{q}": "the {q}% quantile over runs of the lowest strength in the window",
    "run": "run number (run i always uses the draws of run i)",
    "{c}_threshold": "threshold of component {c}",
    "{c}_met": "the minimum strength of {c} over the window reached the threshold",
    "{c}_margin": "minimum of {c} over the window minus the threshold (negative: short by that much)",
    "{c}_first_month_below": f"first month in the window with {{c}} below the threshold; {NEVER} if none",
    "{c}_min": "lowest strength of {c} over the window",
    "{c}_mean": "mean strength of {c} over the window",
    "all_met": "all three components met their thresholds",
    "held_back_{c}_{name}": "number of countries whose {c} this condition held back in the run: {label} ({text})",
    "iso3": "country code",
    "country": "country name",
    "p_takes_part": "share of runs in which its willingness draw said yes",
    "pledge_{c}_mean": "mean over runs of its {c} pledge after the capacity cap, whether or not it took part",
    "expected_{c}": "mean over runs of its mean {c} contribution over the assessment window",
    "share_of_months_deployed": "mean over runs of months deployed / horizon_months",
    "p_withdrew": "share of runs in which it withdrew for good",
    "p_over_capacity": "share of runs in which its land or sea pledge exceeded what it can sustain and was cut",
    "sustainable_land_low": "troops it can keep on the ground indefinitely at the lowest army share drawn",
    "sustainable_land_high": "troops it can keep on the ground indefinitely at the highest army share drawn",
    "p_held_back_{c}_{name}": "share of runs in which this condition held back its {c}: {label} ({text})",
    "month": "month, counting from 0",
    "mean": "mean strength over runs this month",
    "q{q}": "the {q}% quantile of strength over runs this month",
    "p_at_or_above_threshold": "share of runs with strength at or above the threshold this month",
    "{c}": "its {c} contribution in the force this month (0 if not deployed)",
    "scenario_hash": "SHA-256 of the resolved scenario at this point, as in the manifest",
    "file": "the scenario file, as given on the command line",
    "changes": "the point's changes to the scenario (JSON)",
}
"""What the outcome tables' columns mean, for the ``columns`` sheet of tables.xlsx (``docs/outputs.md`` has
the full account). ``{c}`` stands for a component, ``{name}`` for a condition, ``{q}`` for a percentile."""

def column_meaning(column: str) -> str | None:
    """What an outcome-table column means, or None if this module does not describe it."""
    if column in COLUMNS:
        return COLUMNS[column]
    if "." in column:
        return f"the lever {column} at this sweep point"
    for pattern, text in COLUMNS.items():
        rx = re.escape(pattern).replace(r"\{c\}", "(?P<c>land|air|sea)").replace(
            r"\{name\}", f"(?P<name>{'|'.join(CONDITION_TEXT)})").replace(r"\{q\}", r"(?P<q>\d\d)")
        if m := re.fullmatch(rx, column):
            g = m.groupdict()
            if "c" in g:
                g["c"] = f"{g['c']} ({UNITS[g['c']]})"
            if "name" in g:
                g.update(label=CONDITION_LABELS[g["name"]], text=CONDITION_TEXT[g["name"]])
            if "q" in g:
                g["q"] = str(int(g["q"]))
            return text.format(**g)
    return None
