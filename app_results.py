"""The page's detail under the verdict: charts, who decides, the record, sources and downloads (Streamlit).

Only the picked view is drawn. The tables come from :func:`run_tables` (cached on the scenario's TOML text);
"Who decides" runs on demand in a thread of its own and keeps its result per scenario
(:func:`analysis_store`); the words come from :mod:`sim.appstate` and the charts from :mod:`sim.charts`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

import app_controls as ctl
from sim import appstate
from sim.appstate import COMPONENT_UNITS, CountryControl
from sim.baseline import Baseline
from sim.runner import run_scenario
from sim.scenario import Scenario, scenario_from_text

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
LAST_ANALYSIS = "_last_analysis"
RECORD_SEEN = "record_seen"  # session key: the record tab was asked for once (it then stays drawn)
RECORD_REPLICATIONS = 1000  # runs per date in the record tab (`reassurance timeline` runs more)
ANALYSIS_REPS, GAP_TARGET = 200, 0.9


# --- running (cached on the scenario's text, never on DataFrames) -------------------------------------------

@st.cache_data(max_entries=16, show_spinner=False)
def run_tables(scenario_toml: str, replications: int) -> dict[str, pd.DataFrame]:
    """All outcome tables of a scenario given as TOML text, over ``replications`` runs (ensemble engine)."""
    return run_scenario(scenario_from_text(scenario_toml, "<app>", base_dir=SCENARIOS), replications=replications,
                        keep_arrays=False).tables


@st.cache_data(max_entries=32, show_spinner=False)
def download_bytes(scenario_toml: str, replications: int, table: str, fmt: str) -> bytes:
    """One table (or ``"all"`` as XLSX) as file bytes, built once per scenario and kept."""
    tables = run_tables(scenario_toml, replications)
    from sim import export

    return export.xlsx_bytes(tables) if table == "all" else export.table_bytes(tables[table], fmt)


@st.cache_resource
def analysis_store() -> dict[tuple, dict[str, Any]]:
    """Analyses of every session, running or done: (scenario text, component, worth) -> job.

    A job is ``{"pct", "text", "result", "error"}``; it runs in a thread of its own, so moving a slider
    (which reruns the page) never cancels it, and its result is kept for whoever asks for that scenario.
    """
    return {}


def run_analysis(key: tuple[str, str, str]) -> None:
    """Who decides (Shapley values, winning coalitions) and the cheapest plan to reach the target."""
    job, (toml, comp, worth) = analysis_store()[key], key
    try:
        from sim import analysis

        s = scenario_from_text(toml, "<app>", base_dir=SCENARIOS)
        job.update(pct=5, text="Working out each country's share (step 1 of 2) …")
        res = analysis.pivotal_countries(s, component=comp, worth=worth, reps=ANALYSIS_REPS, samples=100)
        job.update(pct=40, text="Searching for the cheapest way to reach the target (step 2 of 2) …")
        gap = analysis.gap_plan(s, component=comp, target=GAP_TARGET, reps=ANALYSIS_REPS, max_evaluations=1500)
        job["result"] = {"table": res.table, "coalitions": res.coalitions, "plan": gap.plan, "gap": gap.summary}
    except Exception as e:  # noqa: BLE001 - shown on the page in words, the page keeps working
        job["error"] = f"{type(e).__name__}: {e}"


def start_analysis(key: tuple[str, str, str]) -> None:
    """Start the analysis of ``key`` in the background unless it is running or done."""
    store = analysis_store()
    if key in store and store[key]["error"] is None:
        return
    store[key] = {"pct": 0, "text": "Starting …", "result": None, "error": None}
    threading.Thread(target=run_analysis, args=(key,), daemon=True).start()


def precompute_baseline(base: Scenario) -> None:
    """Work out the baseline's analysis once per server, in the background, so it is ready when asked for."""
    if os.environ.get("REASSURANCE_PRECOMPUTE", "1") != "0":
        start_analysis((base.to_toml(), "land", "p_met"))


def sources_list(baseline: Baseline) -> None:
    """The articles the model is built from: publisher, title (linked) and date."""
    st.markdown("\n".join(f"- {a['publisher']}, [“{a['title']}”]({a['link']}), {a['date']}"
                          + ("" if a["direct"] == "True" else " (a web search for the title)")
                          for a in appstate.article_list(baseline)))


def _chart(make: str, *args: Any, note: str = "") -> None:
    """Draw ``sim.charts.<make>(*args)``, or ``note`` when there is nothing to draw."""
    from sim import charts

    chart = getattr(charts, make)(*args)
    if chart is not None:
        st.vega_lite_chart(charts.spec(chart), width="stretch")
    elif note:
        st.info(note)


VIEWS = ("Contributions", "Over time", "Held back", "Who decides", "The record", "Sources", "Downloads")
"""The detail's views, one shown at a time (the session key ``results_tab`` holds which)."""


def results_tabs(scenario: Scenario, tables: dict[str, pd.DataFrame], held: pd.DataFrame,
                 controls: list[CountryControl], baseline: Baseline) -> None:
    """Charts, who decides, sources and downloads: one view at a time, picked in a row of buttons.

    Only the picked view is drawn. A row of buttons, not ``st.tabs``: the browser's tab panel looked
    through the whole view for something to focus on every change inside it, about 30 ms of every move.
    """
    summ, pc, reps = tables["summary"], tables["per_country"], scenario.replications
    view = ctl.widget(st.segmented_control, "results_tab", VIEWS[0], "Show", VIEWS, required=True,
                      label_visibility="collapsed", width="stretch", wrap=True)
    if view in ("Contributions", "Over time"):
        comp = ctl.widget(st.radio, "chart_component", "land", "Component", list(COMPONENT_UNITS), horizontal=True,
                          format_func=lambda v: f"{v.capitalize()} ({COMPONENT_UNITS[v]})")
        row = summ[summ.component == comp].iloc[0]
        if view == "Contributions":
            _chart("contributions", pc, comp, float(row.threshold_low), reps, note="No country pledges any.")
        else:
            per_month = run_tables(scenario.to_toml(), reps)["per_month"]  # the full run, kept
            _chart("over_time", per_month, comp, float(row.threshold_low), int(row.assess_from_month), reps)
    elif view == "Held back":
        _chart("held_back", pc, held, note="No condition held any country back.")
        st.caption("  \n".join(f"**{appstate.condition_label(k)}**: {v}"
                               for k, v in appstate.condition_descriptions().items()))
    elif view == "Who decides":
        decides_tab(scenario)
    elif view == "The record":
        record_tab(scenario)
    elif view == "Sources":
        sources_tab(scenario, controls, baseline)
    elif view == "Downloads":
        downloads_tab(scenario)


def decides_tab(scenario: Scenario) -> None:
    """Who makes or breaks the threshold and the cheapest plan: run on demand, kept per scenario."""
    c1, c2 = st.columns(2)
    comp = c1.radio("Component", list(COMPONENT_UNITS), key="decides_component", horizontal=True)
    worth = c2.radio("Measure", ["p_met", "strength"], key="decides_worth", horizontal=True,
                     format_func=lambda w: "chance of meeting it" if w == "p_met" else "lowest strength")
    key = (scenario.to_toml(), comp, worth)
    if st.button("Run the analysis", key="decides_run", type="primary",
                 help="Seconds to a minute: thousands of coalitions are simulated. It keeps running while you "
                      "move sliders, and its result is kept for these settings."):
        start_analysis(key)
    job = analysis_store().get(key)
    running = job is not None and job["result"] is None and job["error"] is None
    st.fragment(analysis_view, run_every=1.0 if running else None)(key, running)


def analysis_view(key: tuple[str, str, str], polling: bool) -> None:
    """The analysis of ``key``: its progress, its result, or the last result labelled stale."""
    job = analysis_store().get(key)
    if job is not None and job["result"] is None and job["error"] is None:
        st.progress(job["pct"], text=job["text"])
    elif polling:
        st.rerun()  # finished: draw the page again, without polling
    if job is not None and job["error"] is not None:
        st.error(f"The analysis failed: {job['error']}. Press Run to try again.")
    if job is not None and job["result"] is not None:
        st.session_state[LAST_ANALYSIS] = key
        res = job["result"]
    elif (last := analysis_store().get(st.session_state.get(LAST_ANALYSIS))) and last["result"] is not None:
        res = last["result"]
        st.warning("Stale: this result is for earlier settings. Press Run to work it out for the current ones.",
                   icon=":material/history:")
    else:
        if job is None:
            st.info("Press Run to work out which countries decide the outcome and the cheapest way to reach "
                    f"{GAP_TARGET:.0%}. Nothing runs until you ask.")
        return
    worth_shown = res["table"]["worth"].iloc[0]
    st.markdown(appstate.pivotal_words(res["table"], res["coalitions"], worth_shown))
    _chart("pivotal", res["table"], worth_shown, res["table"]["component"].iloc[0])
    st.markdown(f"**Closing the gap to {GAP_TARGET:.0%}**  \n{appstate.gap_words(res['gap'])}")
    st.markdown("\n".join(f"{r.step}. {r.change}" for r in res["plan"].itertuples()))


@st.cache_data(max_entries=16, show_spinner=False)
def timeline_tables(scenario_toml: str, replications: int) -> dict[str, pd.DataFrame]:
    """The scenario as of every date on which a statement changed something (sim.timeline), cached."""
    from sim import timeline

    return timeline.timeline_tables(scenario_from_text(scenario_toml, "<app>", base_dir=SCENARIOS),
                                    replications=replications)


def record_tab(scenario: Scenario) -> None:
    """The record since the articles: P(met) as of each date a statement changed something, and the statements."""
    reps = min(scenario.replications, RECORD_REPLICATIONS)
    if scenario.sweep:
        st.info("The record runs one scenario: remove the sweep to see it.")
        return
    if not st.button("Show how the answer moved", key="record_run", type="primary",
                     help=f"Runs this scenario ({reps:,} runs) as of every date on which a statement changed an "
                          "input; a few seconds, kept for these settings.") and not st.session_state.get(RECORD_SEEN):
        st.info("The answer as of each date since the articles, with the statements that moved it. Press the "
                "button: nothing runs until you ask. The date control under Conditions sets the date of the "
                "page's own answer.")
        return
    st.session_state[RECORD_SEEN] = True
    with st.spinner("Running the scenario as of each date..."):
        tables = timeline_tables(scenario.to_toml(), reps)
    _chart("timeline", tables["timeline"])
    changes = tables["timeline_changes"]
    st.markdown(f"**Every statement that changed an input** ({len(changes):,} values; a weak source, an aggregator "
                "or state media alone, is flagged)")
    st.dataframe(changes[["as_of", "about", "path", "before", "after", "publisher", "url", "quality", "flagged",
                          "quote", "assumption"]], hide_index=True, width="stretch",
                 column_config={"as_of": "Date", "about": "Who", "path": "Sets", "before": "Before",
                                "after": "After", "publisher": "Publisher",
                                "url": st.column_config.LinkColumn("Source", display_text="open"),
                                "quality": "Kind", "flagged": "Weak source",
                                "quote": st.column_config.TextColumn("Quote", width="large"),
                                "assumption": st.column_config.TextColumn("Reading", width="large")})


def sources_tab(scenario: Scenario, controls: list[CountryControl], baseline: Baseline) -> None:
    """The articles, then every value of a country with where it comes from."""
    st.markdown("**The five articles the model is built from**")
    sources_list(baseline)
    names = {c.iso3: c.name for c in controls}
    iso = st.selectbox("A country's values and their sources", list(names), key="sources_country",
                       format_func=lambda i: names[i])
    prov = appstate.provenance_rows(scenario, iso, baseline)
    st.dataframe(prov[["label", "in_words", "kind", "source", "quote", "why"]], hide_index=True, width="stretch",
                 column_config={"label": "What", "in_words": "Value", "kind": "Kind", "source": "Source",
                                "quote": st.column_config.TextColumn("Quote", width="large"),
                                "why": st.column_config.TextColumn("Assumption or note", width="large")})


def downloads_tab(scenario: Scenario) -> None:
    """The scenario as TOML, every table as CSV and all as XLSX (bytes built once per scenario, kept)."""
    toml, reps = scenario.to_toml(), scenario.replications
    tables = run_tables(toml, reps)
    st.download_button("Scenario (TOML)", appstate.scenario_toml_bytes(scenario), f"{scenario.name}.toml",
                       "application/toml", key="dl_scenario_tab", on_click="ignore",
                       help="The page's settings as a scenario file: `reassurance run` runs it unchanged.")
    st.download_button("All tables (XLSX)", download_bytes(toml, reps, "all", "xlsx"), f"{scenario.name}-tables.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx",
                       on_click="ignore")
    for name, df in tables.items():
        st.download_button(f"{name}.csv", download_bytes(toml, reps, name, "csv"), f"{scenario.name}-{name}.csv",
                           "text/csv", key=f"dl_{name}", on_click="ignore",
                           help=f"The {name} table ({len(df):,} rows); docs/outputs.md describes every column.")
    which = st.selectbox("Preview a table", list(tables), key="table_preview")
    st.dataframe(tables[which], hide_index=True, width="stretch", height=320)
