"""The page's charts as Vega-Lite specifications: pure functions of outcome tables, no Streamlit.

Each function returns an Altair chart; :func:`spec` turns one into the dictionary the page draws
(without Altair's schema validation, which costs more than the model run on every slider move). Tests
check the specifications directly, without a browser.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

import altair as alt
import pandas as pd

from sim import appstate
from sim.appstate import COMPONENT_UNITS
from sim.concepts import UNITS

UNIT_LONG = UNITS
COLORS = {"pledged": "#b9c4d0", "expected": "#1f5aa6", "running": "#e07b00", "threshold": "#c0122c"}
BAR_STEP = 34
"""Pixels per country in the bar charts: a chart of one or two countries stays readable."""


def spec(chart: alt.TopLevelMixin | dict[str, Any]) -> dict[str, Any]:
    """The chart as a Vega-Lite dictionary (not validated: the charts here are fixed and tested)."""
    return chart if isinstance(chart, dict) else chart.to_dict(validate=False)


def _threshold_label(threshold: float, comp: str) -> str:
    return f"threshold {threshold:,.0f} {COMPONENT_UNITS[comp]}"


def contributions(pc: pd.DataFrame, comp: str, threshold: float, reps: int) -> dict[str, Any] | None:
    """Bars per country (pledged, expected), the running total down the list, and the threshold line.

    Redrawn on every slider move, so it is a cached Vega-Lite skeleton with named data filled in
    (building it with Altair each time cost more than running the model). None when nobody pledges.
    """
    df = appstate.contribution_frame(pc, comp)
    if df.empty:
        return None
    names = _SERIES
    country = df["country"].tolist()
    rank = range(len(country))
    out = copy.deepcopy(_contributions_skeleton(comp, reps))
    out["datasets"] = {  # plain records (a melt of the frame cost more than the rest of the chart)
        "bars": [{"country": c, "rank": r, "series": names[col], "value": v}
                 for col in ("pledged", "expected") for c, r, v in zip(country, rank, df[col].tolist(), strict=True)],
        "running": [{"country": c, "rank": r, "series": names["running"], "running_total": v}
                    for c, r, v in zip(country, rank, df["running_total"].tolist(), strict=True)],
        "threshold": [{"x": float(threshold), "label": _threshold_label(threshold, comp)}],
    }
    return out


_SERIES = {"pledged": "Pledged", "expected": "Expected in the force", "running": "Running total (expected)"}


@lru_cache(maxsize=16)
def _contributions_skeleton(comp: str, reps: int) -> dict[str, Any]:
    unit = UNIT_LONG[comp]
    names = _SERIES
    scale = alt.Scale(domain=list(names.values()), range=[COLORS["pledged"], COLORS["expected"], COLORS["running"]])
    color = alt.Color("series:N", scale=scale, legend=alt.Legend(title=None, orient="top", columns=2,
                                                                 labelLimit=260))
    y = alt.Y("country:N", sort=alt.EncodingSortField(field="rank", op="min", order="ascending"), title=None,
              axis=alt.Axis(labelLimit=200, labelOverlap=False))
    x = alt.X("value:Q", title=f"{unit.capitalize()} (mean over {reps:,} runs)", axis=alt.Axis(format=",.0f"),
              scale=alt.Scale(domainMin=0))
    bars = alt.Chart(alt.NamedData(name="bars")).mark_bar().encode(
        y=y, yOffset=alt.YOffset("series:N", sort=list(names.values())[:2]), x=x, color=color,
        tooltip=[alt.Tooltip("country:N", title="Country"), alt.Tooltip("series:N", title="What"),
                 alt.Tooltip("value:Q", title=unit, format=",.1f")])
    line = alt.Chart(alt.NamedData(name="running")).mark_line(point=True, strokeWidth=2).encode(
        y=y, x=alt.X("running_total:Q"), color=color, order=alt.Order("running_total:Q"),
        tooltip=[alt.Tooltip("country:N", title="Down to"),
                 alt.Tooltip("running_total:Q", title=f"running total ({unit})", format=",.0f")])
    rule = alt.Chart(alt.NamedData(name="threshold")).mark_rule(
        color=COLORS["threshold"], strokeDash=[6, 3], size=2).encode(x="x:Q")
    # The label sits above the plot (dy < 0), so it never covers a bar.
    text = alt.Chart(alt.NamedData(name="threshold")).mark_text(
        align="right", dx=-4, dy=-8, baseline="bottom", color=COLORS["threshold"], fontWeight="bold").encode(
        x="x:Q", y=alt.value(0), text="label:N")
    return spec(alt.layer(bars, line, rule, text).properties(
        height=alt.Step(BAR_STEP // 2), title=alt.TitleParams(
            f"{comp.capitalize()}: contributions by country against the threshold", offset=18,
            subtitle=["Pledged: after the capacity cut. Expected: mean in the force over the tested months.",
                      "Orange: expected contributions added up down the list."])))


def over_time(pm: pd.DataFrame, comp: str, threshold: float, assess_from: int, reps: int) -> alt.LayerChart:
    """Deployed strength each month: median, 50% and 90% bands, the threshold, and when testing starts."""
    d = appstate.strength_frame(pm, comp)
    unit = UNIT_LONG[comp]
    base = alt.Chart(d).encode(x=alt.X("month:Q", title="Month after the start of the scenario",
                                       axis=alt.Axis(tickMinStep=1, format="d")))
    band90 = base.mark_area(opacity=0.25, color=COLORS["expected"]).encode(
        y=alt.Y("q05:Q", title=f"{unit.capitalize()} deployed", axis=alt.Axis(format=",.0f")), y2="q95:Q")
    band50 = base.mark_area(opacity=0.45, color=COLORS["expected"]).encode(y="q25:Q", y2="q75:Q")
    median = base.mark_line(color=COLORS["expected"], strokeWidth=2.5).encode(
        y="q50:Q", tooltip=[alt.Tooltip("month:Q", title="Month"), alt.Tooltip("q05:Q", title="5%", format=",.0f"),
                            alt.Tooltip("q50:Q", title="median", format=",.0f"),
                            alt.Tooltip("q95:Q", title="95%", format=",.0f"),
                            alt.Tooltip("p_at_or_above_threshold:Q", title="share at threshold", format=".1%")])
    th = pd.DataFrame({"y": [threshold], "label": [_threshold_label(threshold, comp)]})
    rule = alt.Chart(th).mark_rule(color=COLORS["threshold"], strokeDash=[6, 3], size=2).encode(y="y:Q")
    rule_text = alt.Chart(th).mark_text(align="left", dx=4, dy=-7, color=COLORS["threshold"],
                                        fontWeight="bold").encode(y="y:Q", x=alt.value(2), text="label:N")
    start = pd.DataFrame({"month": [assess_from], "label": [f"tested from month {assess_from}"]})
    vrule = alt.Chart(start).mark_rule(color="#555", strokeDash=[2, 2]).encode(x="month:Q")
    vtext = alt.Chart(start).mark_text(align="left", dx=4, baseline="top", color="#555").encode(
        x="month:Q", y=alt.value(4), text="label:N")
    return alt.layer(band90, band50, median, rule, rule_text, vrule, vtext).properties(
        height=340, title=alt.TitleParams(
            f"{comp.capitalize()}: {unit} deployed over the months",
            subtitle=f"Line: median over {reps:,} runs; dark band: middle 50%; light band: 5–95%."))


def held_back(pc: pd.DataFrame, held: pd.DataFrame) -> alt.LayerChart | None:
    """Heat map: the share of runs in which each condition held each country back."""
    if held.empty:
        return None
    order = [n for n in pc["country"] if n in set(held["country"])]
    labels = [appstate.condition_label(n) for n in dict.fromkeys(held["condition"])]
    base = alt.Chart(held).encode(
        x=alt.X("label:N", sort=labels, title="Condition that held the country back",
                axis=alt.Axis(labelAngle=-35, labelLimit=160, labelOverlap=False)),
        y=alt.Y("country:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False, labelLimit=200)))
    heat = base.mark_rect().encode(
        color=alt.Color("share:Q", title="Share of runs", scale=alt.Scale(scheme="orangered", domain=[0, 1]),
                        legend=alt.Legend(format=".0%", orient="top")),
        tooltip=[alt.Tooltip("country:N", title="Country"), alt.Tooltip("label:N", title="Condition"),
                 alt.Tooltip("share:Q", title="Share of runs", format=".0%")])
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("share:Q", format=".0%"),
        color=alt.condition("datum.share > 0.6", alt.value("white"), alt.value("black")))
    return (heat + text).properties(height=alt.Step(24), title=alt.TitleParams(
        "What holds countries back", subtitle="Share of runs in which each condition held the country back "
                                              "(at least 1%)."))


def pivotal(table: pd.DataFrame, worth: str, component: str) -> alt.LayerChart | None:
    """Shapley value per contributing country (largest first), with a 95% interval when sampled.

    ``worth`` says what the values are in: ``p_met`` (a share of the probability, shown in percentage
    points) or ``strength`` (the lowest strength, in the component's units). One bar per country at a
    fixed step, so one, two or thirty countries all read well. None when no country adds anything
    (the page then says so in words).
    """
    d = table[table.player].sort_values("shapley", ascending=False, kind="stable")
    if d.empty or not (d.shapley.abs() > 1e-12).any():
        return None
    d = d.assign(low=d.shapley - 1.96 * d.shapley_se, high=d.shapley + 1.96 * d.shapley_se)
    if worth == "p_met":
        fmt, title = ".1%", "Share of the chance of meeting the threshold (Shapley value)"
    else:
        unit = COMPONENT_UNITS[component]
        fmt, title = ",.0f", f"{unit.capitalize()} of the lowest strength each country accounts for (Shapley value)"
    lo = min(0.0, float(d.low.min()))
    hi = max(float(d.high.max()), float(d.shapley.max()))
    y = alt.Y("country:N", sort=list(d.country), title=None, axis=alt.Axis(labelLimit=220, labelOverlap=False))
    x = alt.X("shapley:Q", title=title, scale=alt.Scale(domain=[lo, hi], nice=True),
              axis=alt.Axis(format=fmt, tickCount=5, labelFlush=True, titleLimit=520))
    bars = alt.Chart(d).mark_bar(color=COLORS["expected"], size=BAR_STEP - 12).encode(
        y=y, x=x, tooltip=[alt.Tooltip("country:N", title="Country"), alt.Tooltip("shapley:Q", title="Shapley",
                                                                                   format=fmt),
                           alt.Tooltip("shapley_se:Q", title="± standard error", format=fmt)])
    labels = alt.Chart(d).mark_text(align="left", dx=4, color="#222").encode(
        y=y, x="shapley:Q", text=alt.Text("shapley:Q", format=fmt))
    layers = [bars, labels]
    if (d.shapley_se > 0).any():
        layers.append(alt.Chart(d).mark_rule(color="#555").encode(y=y, x="low:Q", x2="high:Q"))
    return alt.layer(*layers).properties(height=alt.Step(BAR_STEP), title="Who makes or breaks the threshold")


def timeline(tl: pd.DataFrame) -> alt.LayerChart | None:
    """P(met) of each component as of each date on which a statement changed something.

    A step per change; a dotted rule marks each date, and hovering a point or a rule says whose statements
    changed what that day (the statements, with their sources, are in the table under the chart).
    """
    if tl.empty:
        return None
    d = tl.assign(date=pd.to_datetime(tl["as_of"]), publishers=tl["publishers"].fillna(""),
                  changes=tl["changes"].fillna(""))
    order = ["land", "air", "sea"]
    colors = alt.Scale(domain=order, range=[COLORS["expected"], "#8e44ad", "#16a085"])
    base = alt.Chart(d).encode(
        x=alt.X("date:T", title="Statements made up to", axis=alt.Axis(format="%d %b %Y", labelAngle=-30)),
        y=alt.Y("p_met:Q", title="P(met): chance the threshold holds", axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("component:N", title="Component", sort=order, scale=colors))
    tips = [alt.Tooltip("as_of:N", title="As of"), alt.Tooltip("component:N", title="Component"),
            alt.Tooltip("p_met:Q", title="P(met)", format=".1%"), alt.Tooltip("verdict:N", title="Verdict"),
            alt.Tooltip("ceiling:Q", title="Ceiling", format=",.0f"),
            alt.Tooltip("publishers:N", title="Statements by"), alt.Tooltip("changes:N", title="What changed")]
    steps = base.mark_line(interpolate="step-after", strokeWidth=2.5)
    points = base.mark_point(filled=True, size=60).encode(tooltip=tips)
    days = d[d.component == "land"]
    rules = alt.Chart(days).mark_rule(color="#999", strokeDash=[2, 3]).encode(x="date:T", tooltip=tips[:1] + tips[5:])
    return alt.layer(rules, steps, points).properties(height=320, title=alt.TitleParams(
        "How the answer moved as the statements changed",
        subtitle="A step per date on which a statement changed an input (dotted); hover for what changed."))
