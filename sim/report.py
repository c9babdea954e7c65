"""A readable verdict from a scenario's outcome tables (plain text, for the terminal and reports)."""

from __future__ import annotations

import pandas as pd

from sim import rules, words
from sim.runner import ScenarioResult

HELD_BACK_SHOWN = ("us_backstop", "un_framework", "border_priority", "willingness", "lead_nations", "momentum",
                   "parliament_mandate", "government_fell", "incident", "cascade", "capacity", "ceasefire")


def _n(x: float) -> str:
    return f"{x:,.0f}"


def verdict_lines(result: ScenarioResult, *, top: int = 12) -> list[str]:
    """The verdict: per component met or not, probability and interval, margin; who contributes; what binds."""
    s, p = result.scenario, result.params
    summ: pd.DataFrame = result.tables["summary"]
    pc: pd.DataFrame = result.tables["per_country"]
    n = result.replications
    lines = [
        f"Scenario '{s.name}': {n} run{'s' if n != 1 else ''} ({result.engine} engine), seed {s.seed}, "
        f"months 0-{p.horizon - 1}, thresholds tested from month {p.assess_start} on.",
        "",
    ]
    for row in summ.itertuples():
        if n == 1:
            state = "MET" if row.p_met == 1 else "NOT MET"
            lines.append(f"  {row.component.upper():4} threshold {_n(row.threshold)} {row.unit}: {state}; "
                         f"margin {row.median_margin:+,.0f}; lowest strength {_n(row.min_strength_q50)}")
        else:
            state = f"{row.verdict.upper()} (holds in {row.runs_met:,} of {row.runs:,} runs)"
            lines.append(
                f"  {row.component.upper():4} threshold {_n(row.threshold)} {row.unit}: {state} - "
                f"P(met) = {row.p_met:.1%} [95% CI {row.p_met_low95:.1%}-{row.p_met_high95:.1%}]; "
                f"lowest strength median {_n(row.min_strength_q50)} "
                f"(5-95%: {_n(row.min_strength_q05)}-{_n(row.min_strength_q95)}); "
                f"median margin {row.median_margin:+,.0f}")
    lines += ["", "Who contributes (expected over the tested months: troops / aircraft / vessels):"]
    contrib = pc[(pc.expected_land > 0) | (pc.expected_air > 0) | (pc.expected_sea > 0)]
    contrib = contrib.sort_values("expected_land", ascending=False)
    if contrib.empty:
        lines.append("  nobody deploys")
    for row in contrib.head(top).itertuples():
        lines.append(f"  {row.country:<16} {_n(row.expected_land):>8} troops  {row.expected_air:5.1f} aircraft  "
                     f"{row.expected_sea:4.1f} vessels  (in the force {row.share_of_months_deployed:.0%} of months)")
    if len(contrib) > top:
        lines.append(f"  ... and {len(contrib) - top} more")
    lines += ["", "Why countries stayed out (share of runs in which each reason held the country back):"]
    cols = [c for c in HELD_BACK_SHOWN if f"p_held_back_{c}" in pc]
    seen: list[str] = []
    rows = []
    for row in pc.itertuples():
        parts = [(c, getattr(row, f"p_held_back_{c}")) for c in cols if getattr(row, f"p_held_back_{c}") >= 0.05]
        if parts:
            rows.append((row.country, ", ".join(f"{words.condition_label(c)} {share:.0%}"
                                                for c, share in parts)))
            seen += [c for c, _ in parts if c not in seen]
    lines += [f"  {country:<16} {text}" for country, text in rows]
    if not rows:
        lines.append("  no reason held anyone back in 5% of runs or more")
    else:
        lines += ["  where:"] + [f"    {words.condition_label(c):<24} {words.CONDITION_TEXT[c]}" for c in seen]
    return lines


def condition_glossary() -> list[str]:
    """One line per condition name, as used in the tables, with what it means."""
    return [f"  {name:<18} {words.CONDITION_TEXT[name]}" for name in rules.CONDITIONS.values()]
