"""A readable verdict from a scenario's outcome tables (plain text, for the terminal and reports)."""

from __future__ import annotations

import pandas as pd

from sim import words
from sim.concepts import CONDITIONS_DECLARED
from sim.runner import ScenarioResult
from sim.uncertainty import declared


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _threshold(row) -> str:
    text = words.threshold_text(row.threshold_low, row.threshold_high, dash="-")
    return text if row.threshold_low == row.threshold_high else f"{text} (drawn)"


def _ceiling(row) -> str:
    text = f"ceiling {_n(row.ceiling)}"
    if row.sustainable == row.sustainable:  # not NaN: troops and vessels have capacity data
        text += f" (the contributors' forces could sustain {_n(row.sustainable)}, however much they pledged"
        if row.sustainable_nato == row.sustainable_nato:
            text += f"; {_n(row.sustainable_nato)} at NATO's 8% sustainable target"
        text += ")"
    if row.ceiling_reason:
        text += f": a threshold above it cannot be met in this scenario ({row.ceiling_reason})"
    return text


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
    if s.as_of or s.leave_out_sources:  # dated data (sim/data/statements.toml)
        left = f", leaving out statements resting on {', '.join(s.leave_out_sources)}" if s.leave_out_sources else ""
        lines[1:1] = [f"Data as of {s.as_of or 'the baseline (2025-09-05)'}{left}."]
    for row in summ.itertuples():
        if n == 1:
            state = "MET" if row.p_met == 1 else "NOT MET"
            lines.append(f"  {row.component.upper():4} threshold {_threshold(row)} {row.unit}: {state}; "
                         f"margin {row.median_margin:+,.0f}; lowest strength {_n(row.min_strength_q50)}; "
                         f"{_ceiling(row)}")
        else:
            state = f"{row.verdict.upper()} (holds in {row.runs_met:,} of {row.runs:,} runs)"
            lines.append(
                f"  {row.component.upper():4} threshold {_threshold(row)} {row.unit}: {state} - "
                f"P(met) = {row.p_met:.1%} [95% CI {row.p_met_low95:.1%}-{row.p_met_high95:.1%}]; "
                f"lowest strength median {_n(row.min_strength_q50)} "
                f"(5-95%: {_n(row.min_strength_q05)}-{_n(row.min_strength_q95)}); "
                f"median margin {row.median_margin:+,.0f}; {_ceiling(row)}")
    drivers = result.tables.get("drivers")
    if drivers is not None and not drivers.empty:
        lines += ["", "What decides it (declared uncertainties drawn per run; P(met) by value, first-order index):"]
        for comp, grp in drivers.groupby("component", sort=False):
            top_u = grp.sort_values("first_order_index", ascending=False, kind="stable")
            name = top_u.iloc[0].uncertainty
            if top_u.iloc[0].first_order_index < 0.01:
                lines.append(f"  {comp.upper():4} no declared uncertainty explains 1% of the variance")
                continue
            bands = grp[grp.uncertainty == name]
            parts = ", ".join(f"{words.band_label(b.band)} {b.p_met:.0%}" for b in bands.itertuples())
            lines.append(f"  {comp.upper():4} {declared(name).label} (first-order index "
                         f"{top_u.iloc[0].first_order_index:.2f}): P(met) {parts}")
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
    lines += ["", "Why countries' troops stayed out (share of runs in which each reason held its land pledge back):"]
    cols = [c.name for c in CONDITIONS_DECLARED if f"p_held_back_land_{c.name}" in pc]
    seen: list[str] = []
    rows = []
    for row in pc.itertuples():
        parts = [(c, getattr(row, f"p_held_back_land_{c}")) for c in cols
                 if getattr(row, f"p_held_back_land_{c}") >= 0.05]
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
    return [f"  {c.name:<18} {c.text}" for c in CONDITIONS_DECLARED]

