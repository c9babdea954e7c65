"""The browser app: move the coalition's pledges and conditions and see whether the force adds up.

Run with ``streamlit run app.py``. A thin face over the ``sim`` API: widget state becomes scenario
changes (:mod:`sim.appstate`, widgets in :mod:`app_controls`), the scenario runs with
:func:`sim.runner.run_scenario` (cached on the scenario's TOML text), the answer and verdict are drawn
first, and the detail under it (charts, who decides, the record, sources, downloads) is :mod:`app_results`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

import app_controls as ctl
import app_results as results
from app_results import download_bytes, run_tables  # noqa: F401 - the page's cached tables, reachable as app.*
from sim import appstate
from sim.baseline import Baseline, load_baseline
from sim.runner import run_scenario
from sim.scenario import ScenarioError, load_scenario, scenario_from_text

ROOT = Path(__file__).resolve().parent
SCENARIOS = ROOT / "scenarios"
DEFAULT_FILE = "baseline.toml"
# Seconds a run waits once the answer is drawn, before drawing the rest. The browser draws nothing
# while a run's elements keep arriving, so the answer waited for the whole page: 230-310 ms from key
# press to verdict with every country group open, 140-170 ms with the pause (benchmarks/bench_app.py);
# the rest of the page comes 40 ms later. A visit's first run also sends every kind of element for the
# first time and the browser fetches each kind's code: without its longer pause the answer showed
# 0.4-1.1 s after it arrived, with it 0.06-0.1 s. REASSURANCE_ANSWER_PAUSE=0 turns both off (tests).
ANSWER_PAUSE, FIRST_ANSWER_PAUSE = 0.04, 0.2
PAUSE = os.environ.get("REASSURANCE_ANSWER_PAUSE", "1") != "0"
SHOWN = "_answer_shown"  # session key: the answer was drawn once in this visit
PAGE_CSS = """<style>
h1 {font-size: 1.7rem !important; padding-bottom: .2rem !important}
div:has(> .st-key-verdict) {position: sticky; top: 3.75rem; z-index: 990}
.stMainBlockContainer {padding-top: 3.5rem} header.stAppHeader {background: #fff}
.st-key-verdict {background: var(--st-background-color, #fff); border-bottom: 1px solid #d0d7de;
  padding: .3rem 0 .4rem 0; gap: .35rem}
.vcards {display: flex; gap: .5rem} .vcard {flex: 1 1 0; min-width: 0; border: 1px solid #d0d7de;
  border-radius: .5rem; padding: .3rem .5rem; line-height: 1.25}
.vcard .t {font-size: .8rem; color: #555} .vcard .w {font-size: 1.15rem; font-weight: 700}
.vcard .p, .vcard .d {font-size: .78rem; color: #333}
.vcard.good .w {color: #1a7f37} .vcard.mixed .w {color: #9a6700} .vcard.bad .w {color: #c0122c}
[class*=st-key-open_] details:not([open]) {border-color: transparent}
[class*=st-key-open_] details:not([open]) summary {padding-top: .2rem; padding-bottom: .2rem}
[class*=st-key-open_]:has(details:not([open])) + div [data-testid=stCaptionContainer] {padding-left: 2.05rem;
  margin-top: -.8rem}
@media (min-width: 641px) {header.stAppHeader {height: 2.5rem; min-height: 2.5rem}
  div:has(> .st-key-verdict) {top: 2.5rem} .stMainBlockContainer {padding-top: 2.5rem}}
@media (max-width: 640px) {.vcard .d, .st-key-vtools [data-testid=stCaptionContainer] {display: none}
  .vcard .w {font-size: 1rem}
  .st-key-answer p {font-size: .9rem}}
</style>"""


# --- running (cached on the scenario's text, never on DataFrames) -------------------------------------------

@st.cache_data(max_entries=64, show_spinner=False)
def verdict_tables(scenario_toml: str, replications: int) -> dict[str, pd.DataFrame]:
    """The tables every slider move needs (summary, per_country, drivers) of a scenario given as TOML text.

    The same runs and the same numbers as :func:`run_tables`, without the per-run rows and monthly series
    that only the "Over time" tab and the downloads read (building them cost more than the runs).
    """
    return run_scenario(scenario_from_text(scenario_toml, "<app>", base_dir=SCENARIOS), replications=replications,
                        months=False, keep_runs=False, keep_arrays=False).tables


# --- results --------------------------------------------------------------------------------------------------------

def verdict_bar(slot: Any, tables: dict[str, pd.DataFrame], held: pd.DataFrame, backstop: str, changes: list[str],
                baseline: Baseline, scenario_hash: str) -> None:
    """The answer in one sentence and a card per component, in ``slot`` (kept in view by the page's style)."""
    with slot:
        with st.container(key="answer"):
            st.markdown(appstate.answer_sentence(tables["summary"], held, backstop))
        cards = "".join(f'<div class="vcard {c["tone"]}" data-component="{c["component"]}"><div class="t">'
                        f'{c["title"]}</div><div class="w">{c["word"]}</div><div class="p">{c["p"]}</div>'
                        f'<div class="d">{c["detail"]}</div></div>' for c in appstate.verdict_cards(tables["summary"]))
        st.html(f'<div class="vcards" data-scenario="{scenario_hash}">{cards}</div>')
        tools = st.container(horizontal=True, vertical_alignment="center", key="vtools")
        with tools.popover("What the words mean"):
            st.markdown("\n\n".join(f"**{k}**: {v}" for k, v in appstate.GLOSSARY.items()))
        with tools.popover(f"Sources: {len(appstate.article_list(baseline))} articles"):
            results.sources_list(baseline)
        tools.caption(("Your changes: " + "; ".join(changes[:8]) + (" …" if len(changes) > 8 else "") + ".")
                  if changes else "The loaded scenario, unchanged.")


# --- the page ------------------------------------------------------------------------------------------------------

def page_frame(problems: list[str]) -> tuple[Any, Any, Any, Any]:
    """The page's title, any loading problems, the verdict's and warnings' slots and the two columns."""
    st.html(PAGE_CSS)
    st.title("Can the reassurance force for Ukraine add up?")
    for problem in problems:
        st.error(problem)
    verdict_slot, warn_slot = st.container(key="verdict"), st.container()
    left, right = st.columns([5, 7], gap="large")
    return verdict_slot, warn_slot, left, right


def main() -> None:
    """Draw the page: the answer and verdict first, then conditions and countries, then the detail.

    The scenario is read and run before anything is drawn (every control's value is in the session
    already), so the title, the verdict and everything above it reach the browser together, as one
    update: drawn any earlier, the first few elements cost the browser a render of their own while the
    runs are under way, and the verdict waited for it. Then a short pause (:data:`ANSWER_PAUSE`) lets the
    browser draw the answer before the rest of the page arrives.
    """
    st.set_page_config(page_title="Reassurance force: does it add up?", page_icon=":material/shield:", layout="wide")
    baseline, notes, problems = load_baseline(), [], []
    base, source = ctl.scenario_source(problems)
    controls0 = appstate.country_controls(base, baseline=baseline)
    defaults = appstate.control_defaults(base, controls0, baseline)
    ctl.sync_base(base, defaults, notes)
    ctl.clamp_ceasefire_month(defaults)
    state = ctl.current_state(defaults)
    controls = appstate.country_controls(base, caps_from=appstate.lever_scenario(base, state, controls0, baseline),
                                         baseline=baseline)
    clamped = appstate.clamp_state(state, controls)
    notes += appstate.clamp_notes(state, clamped, controls)
    if base.replications > appstate.MAX_APP_REPLICATIONS:
        notes.append(f"{source} asks for {base.replications:,} runs; the page runs at most "
                     f"{appstate.MAX_APP_REPLICATIONS:,} (the command line runs them all)")
    if base.sweep:
        notes.append(f"{source} defines a sweep of {len(base.sweep_points())} points; the page runs one point, "
                     "without the sweep (the command line runs them all)")
    try:
        scenario, changes = appstate.build_scenario(base, clamped, controls, baseline)
    except ScenarioError as e:
        verdict_slot, _, left, _ = page_frame(problems)
        verdict_slot.error(f"These settings do not make a valid scenario:\n\n{ctl.errors_markdown(e)}")
        ctl.scenario_pickers()
        ctl.sidebar_settings(defaults, baseline)
        with left:
            ctl.conditions(base, defaults, controls0, baseline)
            ctl.country_panel(controls, base, baseline, {}, {}, {}, clamped)
        return
    tables = verdict_tables(scenario.to_toml(), scenario.replications)
    verdict_slot, warn_slot, left, right = page_frame(problems)
    held = appstate.held_back_frame(tables["per_country"], min_share=0.01)
    verdict_bar(verdict_slot, tables, held, scenario.levers.us_backstop, appstate.change_lines(changes, baseline),
                baseline, scenario.content_hash()[:12])
    for note in notes:
        warn_slot.warning(note[0].upper() + note[1:] + ".", icon=":material/warning:")
    if PAUSE:
        time.sleep(ANSWER_PAUSE if SHOWN in st.session_state else FIRST_ANSWER_PAUSE)
    st.session_state[SHOWN] = True
    ctl.scenario_pickers()
    ctl.sidebar_settings(defaults, baseline)
    st.sidebar.download_button("Download this scenario (TOML)", appstate.scenario_toml_bytes(scenario),
                               f"{scenario.name}.toml", "application/toml", key="dl_scenario", width="stretch",
                               on_click="ignore")
    st.sidebar.caption("The address bar holds these settings: copy it to share this page.")
    ctl.update_link(state, defaults, source)
    with left:
        ctl.conditions(base, defaults, controls0, baseline)
        ctl.country_panel(controls, base, baseline, appstate.country_lines(tables["per_country"], held),
                          appstate.expected_words(tables["per_country"]),
                          appstate.inert_reasons(scenario, controls, baseline), clamped)
    with right:
        results.results_tabs(scenario, tables, held, controls, baseline)
    results.precompute_baseline(load_scenario(SCENARIOS / DEFAULT_FILE))


if __name__ == "__main__":
    main()
