"""The page's controls: the scenario it starts from, the conditions, thresholds and country sliders.

Streamlit widgets only; every value becomes a scenario change in :mod:`sim.appstate`. A widget keeps
its value while hidden (a closed country group, a filter) in the session's ``KEPT`` map, and the page's
address carries every control that differs from the loaded scenario (:func:`update_link`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from sim import appstate
from sim.appstate import CountryControl, RangeControl
from sim.baseline import BACKSTOP_LEVELS, Baseline
from sim.concepts import lever
from sim.params import default_threshold
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.uncertainty import UNCERTAIN

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
DEFAULT_FILE = "baseline.toml"
KEPT, IDENT, BASE_HASH, UPLOAD_GEN, LINK_READ = "_kept", "_ident", "_base_hash", "_upload_gen", "_link_read"
COUNTRY_PREFIXES = ("land_", "air_", "sea_", "part_")

# --- session state --------------------------------------------------------------------------------


def _clear_controls() -> None:
    """Forget every control's value (they return to the loaded scenario's values)."""
    for key in [k for k in st.session_state if isinstance(k, str)
                and (k in appstate.GLOBAL_KEYS or k.startswith(COUNTRY_PREFIXES))]:
        del st.session_state[key]
    st.session_state[KEPT], st.session_state[IDENT] = {}, {}


def _reset_to_baseline() -> None:
    _clear_controls()
    st.session_state["scenario_file"] = DEFAULT_FILE
    st.session_state[UPLOAD_GEN] = st.session_state.get(UPLOAD_GEN, 0) + 1


def _prepare(key: str, default: Any, *, ident: Any = None, clamp: Callable[[Any], Any] | None = None) -> dict:
    """Give a widget its value before it is drawn: its own, the kept one, or the default.

    Written only when needed (first draw, back from hiding, new bounds, a clamp), so a rerun never
    overwrites what the person is doing. Returns ``{"value": v}`` when nothing was written (it saves
    Streamlit a look through the whole session state), else ``{}``.
    """
    kept, idents = st.session_state.setdefault(KEPT, {}), st.session_state.setdefault(IDENT, {})
    write = key not in st.session_state or idents.get(key) != ident
    value = st.session_state[key] if key in st.session_state else kept.get(key, default)
    if clamp is not None and (new := clamp(value)) != value:
        value, write = new, True
    if write:
        st.session_state[key] = value
    idents[key] = ident
    return {} if write else {"value": value}


def keep(key: str, value: Any) -> Any:
    """Remember a control's value for when it is hidden; returns it."""
    st.session_state.setdefault(KEPT, {})[key] = value
    return value


def widget(widget: Callable, key: str, default: Any, *args: Any, **kw: Any) -> Any:
    """Draw a keyed widget that keeps its value while hidden; returns its value."""
    _prepare(key, default)
    return keep(key, widget(*args, key=key, **kw))


def current_state(defaults: dict[str, Any]) -> dict[str, Any]:
    """Every control's current value: drawn widgets, then kept values of hidden ones, then defaults."""
    kept = st.session_state.get(KEPT, {})
    return {k: st.session_state[k] if k in st.session_state else kept.get(k, v) for k, v in defaults.items()}


def errors_markdown(err: ScenarioError) -> str:
    """A scenario's errors as a list: file, field, what was expected."""
    return "\n".join(f"- **{f}** · {fld}: {msg}" if fld else f"- **{f}**: {msg}" for f, fld, msg in err.errors)


# --- where the page starts: file, upload, link --------------------------------------------------------------

def _scenario_files() -> list[str]:
    return sorted(p.name for p in SCENARIOS.glob("*.toml"))


def scenario_source(problems: list[str]) -> tuple[Scenario, str]:
    """The loaded scenario (file or upload) and where it came from, read before anything is drawn.

    The file and upload controls are drawn later (:func:`scenario_pickers`); their values are in the
    session already. A file or upload that does not load adds its errors, in words, to ``problems``.
    """
    files = _scenario_files()
    link_file = st.query_params.get("file") if LINK_READ not in st.session_state else None
    if link_file is not None:
        st.session_state["scenario_file"] = link_file
    if st.session_state.get("scenario_file") not in files:
        st.session_state["scenario_file"] = DEFAULT_FILE if DEFAULT_FILE in files else files[0]
    choice = st.session_state["scenario_file"]
    upload = st.session_state.get(f"upload_{st.session_state.setdefault(UPLOAD_GEN, 0)}")
    if upload is not None:
        try:
            return appstate.scenario_from_upload(upload.name, upload.getvalue(), SCENARIOS), f"uploaded {upload.name}"
        except ScenarioError as e:
            problems.append(f"The uploaded scenario {upload.name} was not loaded:\n\n{errors_markdown(e)}")
    try:
        return load_scenario(SCENARIOS / choice), choice
    except ScenarioError as e:
        problems.append(f"{choice} is not a valid scenario:\n\n{errors_markdown(e)}")
        return load_scenario(SCENARIOS / DEFAULT_FILE), DEFAULT_FILE


def scenario_pickers() -> None:
    """The sidebar's scenario file and upload controls (read by :func:`scenario_source`)."""
    sb = st.sidebar
    sb.selectbox("Start from a scenario file", _scenario_files(), key="scenario_file",
                 help="The scenario files that come with the model, checked as the command line checks them.")
    sb.file_uploader("…or upload a scenario (TOML)", type=["toml"], key=f"upload_{st.session_state[UPLOAD_GEN]}",
                     help="A bad file shows its errors and the page keeps going. A shared link cannot "
                          "carry an uploaded file: share the file itself.")


def sync_base(base: Scenario, defaults: dict[str, Any], notes: list[str]) -> None:
    """A new loaded scenario resets every control; the first run of a visit reads the link's settings."""
    h = base.content_hash()
    if st.session_state.get(BASE_HASH) != h:
        _clear_controls()
        st.session_state[BASE_HASH] = h
    if LINK_READ not in st.session_state:
        st.session_state[LINK_READ] = True
        values, bad = appstate.query_to_state(dict(st.query_params), defaults)
        notes.extend(bad)
        for key, value in values.items():
            st.session_state[key] = st.session_state.setdefault(KEPT, {})[key] = value


def update_link(state: dict[str, Any], defaults: dict[str, Any], source: str) -> None:
    """Keep the page's address equal to its settings, so a copied link opens the same page."""
    q = appstate.state_to_query(state, defaults)
    if source != DEFAULT_FILE and not source.startswith("uploaded"):
        q = {"file": source, **q}
    if dict(st.query_params) != q:
        st.query_params.from_dict(q)


# --- controls ---------------------------------------------------------------------------------------------------

def clamp_ceasefire_month(defaults: dict[str, Any]) -> int:
    """Keep the ceasefire month inside its slider (it ends before the horizon); returns the slider's end.

    Called before the page reads its state (the verdict is worked out before the controls are drawn) and
    again when the slider is drawn.
    """
    now = current_state({k: defaults[k] for k in ("ceasefire", "horizon_months")})
    ceasefire, horizon = now["ceasefire"], now["horizon_months"]
    month_max = max(1, int(horizon) - 1, defaults["ceasefire_month"] if not ceasefire else 0)
    _prepare("ceasefire_month", defaults["ceasefire_month"], ident=month_max, clamp=lambda v: min(int(v), month_max))
    return month_max


def conditions(base: Scenario, defaults: dict[str, Any], controls: list[CountryControl], baseline: Baseline) -> None:
    """The conditions the articles make the force depend on (in the page, not the sidebar: phones see them)."""
    st.subheader("Conditions")
    dates = appstate.as_of_words()
    widget(st.select_slider, "as_of", defaults["as_of"], "Data as of", list(dates), format_func=lambda d: dates[d],
           help="The statements in force on that date: the five articles up to 5 September 2025, then every later "
                "statement on record (sim/data/statements.toml). The tab 'The record' shows each date's "
                "statements with their sources.")
    lv = appstate.BACKSTOP_LABELS
    widget(st.radio, "us_backstop", defaults["us_backstop"], "What the US gives (US backstop)",
           [UNCERTAIN, *BACKSTOP_LEVELS], horizontal=True, format_func=lambda v: lv[v],
           help=appstate.GLOSSARY["US backstop"])
    offered = baseline.backstop.get("offered")
    needs = [f"{', '.join(n) if len(n) <= 4 else f'{len(n)} countries'}: {lv[lvl][:1].lower()}{lv[lvl][1:]}"
             for lvl, n in appstate.backstop_requirements(controls, base, baseline).items() if n and lvl != "none"]
    day = st.session_state.get("as_of", defaults["as_of"])
    options = appstate.backstop_options_text(base, day, baseline)
    st.caption((f"Offered in the articles: {lv[offered.value].lower()}, but nothing promised: 'uncertain' draws "
                f"it per run ({options}, as of {day}). " if offered else "")
               + ("What each requires for its troops — " + "; ".join(needs) + "." if needs else "")
               + ("  \nThe loaded scenario then changes it: " + "; ".join(
                   f"from month {c.month}, {lv[c.level].lower()}" for c in base.levers.us_backstop_changes) + "."
                   if base.levers.us_backstop_changes else ""))
    ceasefire = widget(st.toggle, "ceasefire", defaults["ceasefire"], "Ceasefire",
                   help="The force deploys only after a ceasefire (A003).")
    widget(st.slider, "horizon_months", defaults["horizon_months"], "Horizon (months the force must hold)",
                 min_value=1, max_value=max(120, defaults["horizon_months"]))
    month_max = clamp_ceasefire_month(defaults)
    keep("ceasefire_month", st.slider("Ceasefire from month", 0, month_max, key="ceasefire_month",
                                       disabled=not ceasefire, help=None if ceasefire else "Turn the ceasefire on."))
    widget(st.toggle, "un_framework", defaults["un_framework"], "A UN framework exists",
       help="Italy (A002) and Ireland (an assumption) deploy only within one.")
    widget(st.toggle, "eastern_border_secure", defaults["eastern_border_secure"], "Poland's eastern border is secure",
       help="Poland keeps its troops home while its eastern border is not secure (A002).")
    stance = widget(st.radio, "russia_stance", defaults["russia_stance"], "Russia", lever("russia_stance").choices,
                horizontal=True, format_func=lever("russia_stance").in_words,
                help="A004: any deployment is 'fundamentally unacceptable' to Russia.")
    widget(st.slider, "incident_rate_pct", defaults["incident_rate_pct"], "Chance of a strike on the force (% a month)",
       min_value=0.0, max_value=100.0, step=0.5, format="%.1f%%", disabled=stance != "reject",
       help="A struck country may withdraw." if stance == "reject" else "Only while Russia rejects the force.")
    widget(st.slider, "rotation_ratio", defaults["rotation_ratio"],
           "Rotation ratio (troops at home per soldier deployed)", min_value=lever("levers.rotation_ratio").low,
           max_value=lever("levers.rotation_ratio").high, step=lever("levers.rotation_ratio").step,
           format="%.1f : 1",
           help="Rule of thirds: 3. Sets what each country can sustain, and so each troop slider's end.")
    widget(st.radio, "air_mission", defaults["air_mission"], "Air mission", lever("air_mission").choices,
       horizontal=True, format_func=lever("air_mission").in_words,
       help="A001: 'whether pilots will have to impose a no-fly zone or only ... provide air support'.")


def sidebar_settings(defaults: dict[str, Any], baseline: Baseline) -> None:
    """Thresholds, runs, seed and the scenario's name (what an analyst changes, rarely a journalist)."""
    sb = st.sidebar
    c1, c2 = sb.columns(2)
    c1.button("Reset controls", on_click=_clear_controls, key="reset_controls", width="stretch",
              help="Every slider and condition back to the loaded scenario's values.")
    c2.button("Baseline", on_click=_reset_to_baseline, key="reset_baseline", width="stretch",
              help="Load the baseline scenario and reset every control.")
    sb.subheader("Thresholds")
    choice = widget(sb.radio, "threshold_land_choice", defaults["threshold_land_choice"], "Land threshold (troops)",
                [*appstate.land_presets(baseline), appstate.CUSTOM], horizontal=True,
                format_func=lambda v: "custom" if v == appstate.CUSTOM else f"{v:,}",
                help="The figures the articles give: 10,000 to 100,000 (A004), 30,000 (A000), 30-40,000 (A002).")
    if choice == appstate.CUSTOM:
        widget(sb.number_input, "threshold_land_custom", defaults["threshold_land_custom"],
               "Custom land threshold (troops)", min_value=1, max_value=int(lever("thresholds.land").high), step=1000)
    mission = st.session_state.get("air_mission", defaults["air_mission"])
    for comp, unit in (("air", "aircraft"), ("sea", "vessels")):
        limit = int(lever(f"thresholds.{comp}").high)
        data = default_threshold(comp, mission, baseline)
        note = "an assumption: no article gives a figure" if data.assumption else data.label()
        drawn = f"{data.value[0]:,}-{data.value[1]:,}"
        if widget(sb.toggle, f"threshold_{comp}_set", defaults[f"threshold_{comp}_set"], f"Own {comp} threshold",
              help=f"Off: drawn per run from the data's {drawn} {unit} ({note})."):
            widget(sb.number_input, f"threshold_{comp}", defaults[f"threshold_{comp}"],
               f"{comp.capitalize()} threshold ({unit})", min_value=1, max_value=limit, step=1)
    sb.subheader("Runs")
    widget(sb.number_input, "replications", min(defaults["replications"], appstate.MAX_APP_REPLICATIONS), "Runs",
       min_value=1, max_value=appstate.MAX_APP_REPLICATIONS, step=100,
       help=f"At most {appstate.MAX_APP_REPLICATIONS:,} here; the command line runs more.")
    widget(sb.number_input, "seed", defaults["seed"], "Seed", min_value=0, max_value=max(2**53 - 1, defaults["seed"]),
       step=1, help="Same scenario and seed give identical results.")
    widget(sb.text_input, "scenario_name", defaults["scenario_name"], "Name for the saved scenario",
       placeholder="(automatic)", max_chars=80)


def _range_slider(r: RangeControl, label: str, why: str | None) -> None:
    kw = _prepare(r.key, r.default, ident=(r.max_value, r.step),
                  clamp=lambda v: tuple(min(max(int(x), 0), r.max_value) for x in v))
    cap = (f"It can sustain {r.sustainable:,} {r.unit}; pledges above are cut to that." if r.sustainable is not None
           else "No capacity data for aircraft, so no cap.")
    keep(r.key, st.slider(label, min_value=0, max_value=r.max_value, step=r.step, key=r.key, format="%,d",
                           disabled=why is not None, help=f"Changes nothing now: {why}." if why else
                           f"Pledge range, lowest to highest ({r.unit}). {cap}", **kw))


def country_block(c: CountryControl, base: Scenario, baseline: Baseline, result: str | None,
                  inert: dict[str, str]) -> None:
    """An open country: its sources, conditions, one slider per row, its result (drawn inside its row)."""
    lines = []
    if c.conditions:
        lines.append(":gray[Conditions: " + "; ".join(c.conditions) + ".]")
    if not c.in_force:
        lines.append(f":gray[Not counted in the force: {c.not_in_force_reason}.]")
    elif lock := appstate.lock_line(c, inert):
        lines.append(f":orange[:material/lock: {lock}]")
    popover = st.popover("Sources", key=f"src_{c.iso3}", on_change="rerun", type="tertiary",
                         help=f"Where each of {c.name}'s values comes from")
    if popover.open:  # drawn only when opened
        with popover:
            st.markdown(f"**{c.name}: every value and where it comes from** (as loaded)")
            st.markdown("\n".join(f"- {x}" for x in appstate.source_lines(
                appstate.provenance_rows(base, c.iso3, baseline))))
    if lines:
        st.markdown("  \n".join(lines))
    if not c.in_force:
        return
    land_cap = f" · can sustain {c.land.sustainable:,}" if c.land.sustainable else ""
    if c.land.editable:
        _range_slider(c.land, f"Land troops offered{land_cap}", inert.get("land"))
    if c.sea.editable:
        _range_slider(c.sea, f"Mine-countermeasure vessels · can sustain {c.sea.sustainable}", inert.get("sea"))
    _range_slider(c.air, "Combat aircraft offered", inert.get("air"))
    kw = _prepare(c.participate_key, c.participate_default)
    why = inert.get("part")
    keep(c.participate_key, st.slider("Chance it takes part (%)", 0, 100, step=1, key=c.participate_key,
                                       disabled=why is not None, **kw,
                                       help=f"Changes nothing now: {why}." if why else "0 = it stays out."))
    if result:
        st.caption(result)


def country_row(c: CountryControl, base: Scenario, baseline: Baseline, result: tuple[str | None, str | None],
                inert: dict[str, str], state: dict[str, Any], *, start_open: bool) -> None:
    """One country as a row that opens: closed, a line of what it offers, its result and any lock, in words.

    Its sliders (and sources) are drawn only while it is open: a page with every group open then sends a
    few dozen elements on each move, not 34 countries' 124 sliders. Whether it is open is kept like a
    slider's value (:func:`keep`), so closing its group or filtering does not forget it. The row's label
    never changes with the sliders (a new label would be a new element, and the open slider would lose
    the keyboard). ``result`` is its line of :func:`sim.appstate.country_lines` (open) and of
    :func:`sim.appstate.expected_words` (closed).
    """
    key = f"open_{c.iso3}"
    _prepare(key, start_open)
    stance = appstate.STANCE_LABELS.get(c.stances["land"], c.stances["land"])
    row = st.expander(f"**{c.name}** · troops {stance}" if c.in_force else f"**{c.name}** · not counted",
                      key=key, on_change="rerun")
    if keep(key, bool(row.open)):
        with row:
            country_block(c, base, baseline, result[0], inert)
        return
    if not c.in_force:
        st.caption(f"Not counted in the force: {c.not_in_force_reason}.")
        return
    lock = appstate.lock_line(c, inert)
    st.caption(appstate.pledge_words(c, state) + (f" · {result[1]}" if result[1] else "")
               + (f"  \n:orange[:material/lock: {lock}]" if lock else ""))


OPEN_GROUPS = ("Lead nations", "Willing", "Considering")
"""Groups open when the page starts; their countries start open too (the others' start as one-line rows)."""


def country_panel(controls: list[CountryControl], base: Scenario, baseline: Baseline, lines: dict[str, str],
                  expected: dict[str, str], inert: dict[str, dict[str, str]], state: dict[str, Any]) -> None:
    """The countries by stance group, each a row that opens (:func:`country_row`); a filter box finds one.

    A group's rows are drawn only while it is open; a found country starts open when at most three match.
    Hidden sliders keep their values. ``lines`` and ``expected`` are each country's result in words
    (:func:`sim.appstate.country_lines`, :func:`sim.appstate.expected_words`).
    """
    def row(c: CountryControl, start_open: bool) -> None:
        country_row(c, base, baseline, (lines.get(c.iso3), expected.get(c.iso3)), inert.get(c.iso3, {}), state,
                    start_open=start_open)

    st.subheader("Countries")
    text = st.text_input("Find a country", key="filter_text", placeholder="e.g. Germany")
    needle = text.strip().lower()
    if needle:
        members = [c for c in controls if needle in c.name.lower() or needle == c.iso3.lower()]
        if not members:
            st.info(f"No country matches “{text.strip()}”.")
        for c in members:
            row(c, len(members) <= 3)
        return
    for g in [g for g in appstate.GROUPS if any(c.group == g for c in controls)]:
        members = [c for c in controls if c.group == g]
        section = st.expander(f"**{g}** ({len(members)})", expanded=g in OPEN_GROUPS,
                              key=f"group_{g.lower().replace(' ', '_')}", on_change="rerun")
        if section.open:
            with section:
                for c in members:
                    row(c, g in OPEN_GROUPS)
