"""The browser app: move the coalition's pledges and conditions and see whether the force adds up.

Run with ``streamlit run app.py``. A thin face over the ``sim`` API: widget state becomes scenario
changes (:mod:`sim.appstate`), the scenario runs with :func:`sim.runner.run_scenario` (cached on the
scenario's TOML text), and the outcome tables are drawn. No model logic lives here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from sim import analysis, appstate, export
from sim.appstate import COMPONENT_UNITS, CountryControl, RangeControl
from sim.baseline import BACKSTOP_LEVELS, Baseline, load_baseline
from sim.runner import run_scenario
from sim.scenario import Scenario, ScenarioError, load_scenario, scenario_from_text

ROOT = Path(__file__).resolve().parent
SCENARIOS = ROOT / "scenarios"
DEFAULT_FILE = "baseline.toml"

KEPT = "_kept"  # widget key -> last value, so hidden (filtered-out) sliders keep theirs
IDENT = "_ident"  # widget key -> (min, max, step) it was last drawn with
BASE_HASH = "_base_hash"  # content hash of the scenario the controls were initialised from
UPLOAD_GEN = "_upload_gen"  # bumped to clear the file uploader
COUNTRY_PREFIXES = ("land_", "air_", "sea_", "part_")
UNIT_LONG = {"land": "troops", "air": "combat aircraft", "sea": "mine-countermeasure vessels"}
SHOW_OPTIONS = ("Land", "Air", "Sea", "Participation")
COLORS = {"pledged": "#b9c4d0", "expected": "#1f5aa6", "running": "#e07b00", "threshold": "#c0122c"}


# --- running (cached on the scenario, never on DataFrames) -------------------------------------------------

@st.cache_data(max_entries=64, show_spinner=False)
def run_tables(scenario_toml: str, replications: int) -> dict[str, pd.DataFrame]:
    """Outcome tables of a scenario given as TOML text, over ``replications`` runs (ensemble engine)."""
    scenario = scenario_from_text(scenario_toml, "<app>", base_dir=SCENARIOS)
    return run_scenario(scenario, replications=replications).tables


# --- session state helpers --------------------------------------------------------------------------------

def _is_control_key(key: str) -> bool:
    return key in appstate.GLOBAL_KEYS or key.startswith(COUNTRY_PREFIXES)


def _clear_controls() -> None:
    """Forget every control's value (they return to the loaded scenario's values)."""
    for key in [k for k in st.session_state if isinstance(k, str) and _is_control_key(k)]:
        del st.session_state[key]
    st.session_state[KEPT] = {}
    st.session_state[IDENT] = {}


def _reset_to_baseline() -> None:
    _clear_controls()
    st.session_state["scenario_file"] = DEFAULT_FILE
    st.session_state[UPLOAD_GEN] = st.session_state.get(UPLOAD_GEN, 0) + 1


def _prepare(key: str, default: Any, *, ident: Any = None, clamp: Callable[[Any], Any] | None = None) -> dict:
    """Give a widget its value before it is drawn: its own, the kept one, or the default.

    The value is written only when needed (first draw, a widget back from hiding, new bounds, or a
    clamp), so a rerun never overwrites what the person is doing with the slider. Returns the keyword
    arguments for a slider: ``value`` when nothing was written (it saves Streamlit a look through the
    whole session state to learn whether the slider is a range), none otherwise.
    """
    kept = st.session_state.setdefault(KEPT, {})
    idents = st.session_state.setdefault(IDENT, {})
    write = key not in st.session_state or idents.get(key) != ident
    value = st.session_state[key] if key in st.session_state else kept.get(key, default)
    if clamp is not None:
        new = clamp(value)
        if new != value:
            value, write = new, True
    if write:
        st.session_state[key] = value
    idents[key] = ident
    return {} if write else {"value": value}


def _keep(key: str, value: Any) -> Any:
    st.session_state.setdefault(KEPT, {})[key] = value
    return value


def _state(defaults: dict[str, Any]) -> dict[str, Any]:
    """Every control's current value: drawn widgets, then kept values of hidden ones, then defaults."""
    kept = st.session_state.get(KEPT, {})
    return {k: st.session_state[k] if k in st.session_state else kept.get(k, v) for k, v in defaults.items()}


def _clamp_range(hi_max: int) -> Callable[[Any], tuple[int, int]]:
    def clamp(v: Any) -> tuple[int, int]:
        lo, hi = (int(x) for x in v)
        return (min(max(lo, 0), hi_max), min(max(hi, 0), hi_max))
    return clamp


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def _errors_markdown(err: ScenarioError) -> str:
    return "\n".join(f"- **{f}** · `{fld}`: {msg}" if fld else f"- **{f}**: {msg}" for f, fld, msg in err.errors)


# --- the scenario the page starts from --------------------------------------------------------------------

def scenario_source() -> tuple[Scenario, str, ScenarioError | None]:
    """The loaded scenario (file or upload), a label saying where it came from, and any upload error."""
    sb = st.sidebar
    sb.header("Scenario")
    files = sorted(p.name for p in SCENARIOS.glob("*.toml"))
    if st.session_state.get("scenario_file") not in files:
        st.session_state["scenario_file"] = DEFAULT_FILE if DEFAULT_FILE in files else files[0]
    choice = sb.selectbox("Start from a scenario file", files, key="scenario_file",
                          help="The files in scenarios/, validated exactly as `reassurance run` does.")
    gen = st.session_state.setdefault(UPLOAD_GEN, 0)
    upload = sb.file_uploader("…or upload a scenario (TOML)", type=["toml"], key=f"upload_{gen}",
                              help="Checked like the command line checks a file; `extends` is looked up in "
                                   "scenarios/. A bad file shows its errors and the page keeps going.")
    upload_error = None
    if upload is not None:
        try:
            scen = appstate.scenario_from_upload(upload.name, upload.getvalue(), SCENARIOS)
            sb.success(f"Using the uploaded file {upload.name}.")
            return scen, f"uploaded file {upload.name}", None
        except ScenarioError as e:
            upload_error = e
            sb.error(f"{upload.name} is not a valid scenario; still using {choice}.")
    try:
        return load_scenario(SCENARIOS / choice), f"scenarios/{choice}", upload_error
    except ScenarioError as e:
        st.error(f"scenarios/{choice} is not a valid scenario:\n\n{_errors_markdown(e)}")
        return load_scenario(SCENARIOS / DEFAULT_FILE), f"scenarios/{DEFAULT_FILE}", upload_error


def sync_base(base: Scenario) -> None:
    """When the loaded scenario changes, every control starts again from its values."""
    h = base.content_hash()
    if st.session_state.get(BASE_HASH) != h:
        _clear_controls()
        st.session_state[BASE_HASH] = h


# --- global controls ---------------------------------------------------------------------------------------

def global_controls(base: Scenario, defaults: dict[str, Any], controls: list[CountryControl],
                    baseline: Baseline) -> None:
    """The sidebar: conditions (levers), thresholds, runs."""
    sb = st.sidebar
    sb.button("Reset controls", on_click=_clear_controls, width="stretch", key="reset_controls",
              help="Every slider and condition back to the loaded scenario's values.")
    sb.button("Reset to baseline", on_click=_reset_to_baseline, width="stretch", key="reset_baseline",
              help="Load scenarios/baseline.toml and reset every control.")

    sb.header("Conditions")
    _prepare("us_backstop", defaults["us_backstop"])
    _keep("us_backstop", sb.select_slider(
        "US backstop", options=["uncertain", *BACKSTOP_LEVELS], key="us_backstop",
        format_func=lambda v: appstate.BACKSTOP_LABELS.get(v, v),
        help="What the United States gives, lowest to highest; 'uncertain' draws it per run (A004: offered "
             "intelligence and command and control, but nothing promised; A002: air cover asked for). A "
             "country sends troops only if this reaches what it requires (also drawn per run)."))
    if base.levers.us_backstop_changes:
        steps = "; ".join(f"from month {c.month}: {appstate.BACKSTOP_LABELS.get(c.level, c.level)}"
                          for c in base.levers.us_backstop_changes)
        sb.caption(f"This is the level at the start; the loaded scenario then changes it ({steps}).")
    offered = baseline.backstop.get("offered")
    if offered is not None:
        sb.caption(f"Offered per the articles: {appstate.BACKSTOP_LABELS.get(offered.value, offered.value)} "
                   f"({offered.label()})")
    needs = [(lvl, names) for lvl, names in appstate.backstop_requirements(controls, base, baseline).items()
             if names and lvl != "none"]
    if needs:
        sb.caption("Who requires what: " + "; ".join(
            f"{appstate.BACKSTOP_LABELS.get(lvl, lvl).lower()}: "
            + (", ".join(names) if len(names) <= 4 else f"{len(names)} countries") for lvl, names in needs) + ".")
    _prepare("horizon_months", defaults["horizon_months"])
    horizon = _keep("horizon_months", sb.slider(
        "Horizon (months)", min_value=1, max_value=max(120, defaults["horizon_months"]), key="horizon_months",
        help="How long the force must hold; the threshold is tested from the end of the build-up to here."))
    _prepare("ceasefire", defaults["ceasefire"])
    ceasefire = _keep("ceasefire", sb.toggle("Ceasefire", key="ceasefire",
                                             help="The force deploys only after a ceasefire (A003)."))
    month_max = max(1, horizon - 1, defaults["ceasefire_month"] if not ceasefire else 0)
    _prepare("ceasefire_month", defaults["ceasefire_month"], ident=month_max,
             clamp=lambda v: min(int(v), month_max))
    _keep("ceasefire_month", sb.slider("Ceasefire from month", min_value=0, max_value=month_max,
                                       key="ceasefire_month", disabled=not ceasefire))
    _prepare("un_framework", defaults["un_framework"])
    _keep("un_framework", sb.toggle("UN framework exists", key="un_framework",
                                    help="Italy (A002) and Ireland (assumption) deploy only within one."))
    _prepare("eastern_border_secure", defaults["eastern_border_secure"])
    _keep("eastern_border_secure", sb.toggle(
        "Eastern border secure", key="eastern_border_secure",
        help="Poland keeps its troops home while its eastern border is not secure (A002)."))
    _prepare("russia_stance", defaults["russia_stance"])
    stance = _keep("russia_stance", sb.radio(
        "Russia", options=["reject", "tolerate"], key="russia_stance", horizontal=True,
        format_func=lambda v: {"reject": "rejects the force", "tolerate": "tolerates it"}[v],
        help="A004: any deployment is 'fundamentally unacceptable' to Russia."))
    _prepare("incident_rate_pct", defaults["incident_rate_pct"])
    _keep("incident_rate_pct", sb.slider(
        "Chance of a strike on the force (% a month)", min_value=0.0, max_value=100.0, step=0.5,
        key="incident_rate_pct", format="%.1f%%", disabled=stance != "reject",
        help="Only while Russia rejects the force. The hit country may withdraw."))
    _prepare("rotation_ratio", defaults["rotation_ratio"])
    _keep("rotation_ratio", sb.slider(
        "Rotation ratio", min_value=1.0, max_value=10.0, step=0.5, key="rotation_ratio", format="%.1f : 1",
        help="Troops needed at home per soldier deployed (rule of thirds: 3). Sets what each country can "
             "sustain, and so each land slider's end."))
    _prepare("air_mission", defaults["air_mission"])
    _keep("air_mission", sb.radio(
        "Air mission", options=["air_support", "no_fly_zone"], key="air_mission", horizontal=True,
        format_func=lambda v: {"air_support": "air support", "no_fly_zone": "no-fly zone"}[v],
        help="A001: 'whether pilots will have to impose a no-fly zone or only ... provide air support'."))

    sb.header("Thresholds")
    presets = appstate.land_presets(baseline)
    _prepare("threshold_land_choice", defaults["threshold_land_choice"])
    choice = _keep("threshold_land_choice", sb.radio(
        "Land threshold (troops)", options=[*presets, appstate.CUSTOM], key="threshold_land_choice",
        horizontal=True, format_func=lambda v: "custom" if v == appstate.CUSTOM else f"{v:,}"))
    src = baseline.force.get("land_threshold_presets")
    if src is not None:
        sb.caption(f"Presets from the articles: {src.label()}")
    if choice == appstate.CUSTOM:
        _prepare("threshold_land_custom", defaults["threshold_land_custom"])
        _keep("threshold_land_custom", sb.number_input("Custom land threshold (troops)", min_value=1,
                                                       max_value=2_000_000, step=1000, key="threshold_land_custom"))
    mission = st.session_state.get("air_mission", defaults["air_mission"])
    for comp, limit, unit in (("air", 10_000, "aircraft"), ("sea", 1_000, "vessels")):
        data = appstate.default_threshold(comp, mission, baseline)
        _prepare(f"threshold_{comp}_set", defaults[f"threshold_{comp}_set"])
        own = _keep(f"threshold_{comp}_set", sb.toggle(
            f"Own {comp} threshold", key=f"threshold_{comp}_set",
            help=f"Off: the data's figure, {data.value} {unit} ({data.label()})"))
        if own:
            _prepare(f"threshold_{comp}", defaults[f"threshold_{comp}"])
            _keep(f"threshold_{comp}", sb.number_input(f"{comp.capitalize()} threshold ({unit})", min_value=1,
                                                       max_value=limit, step=1, key=f"threshold_{comp}"))
        else:
            sb.caption(f"{comp.capitalize()}: {data.value} {unit} from the data (an assumption, no article "
                       f"gives a figure)" if data.assumption else f"{comp.capitalize()}: {data.value} {unit}")

    sb.header("Runs")
    _prepare("replications", min(defaults["replications"], appstate.MAX_APP_REPLICATIONS))
    _keep("replications", sb.number_input(
        "Replications", min_value=1, max_value=appstate.MAX_APP_REPLICATIONS, step=100, key="replications",
        help=f"Runs of the model; P(met) and its interval are over these (at most "
             f"{appstate.MAX_APP_REPLICATIONS:,} here; use `reassurance run` or `batch` for more)."))
    _prepare("seed", defaults["seed"])
    _keep("seed", sb.number_input("Seed", min_value=0, max_value=max(2**53 - 1, defaults["seed"]), step=1,
                                  key="seed", help="Same scenario and seed give identical tables."))
    _prepare("scenario_name", defaults["scenario_name"])
    _keep("scenario_name", sb.text_input("Name for the saved scenario", key="scenario_name",
                                         placeholder="(automatic)", max_chars=80))


# --- country controls ---------------------------------------------------------------------------------------

def _stance_line(c: CountryControl) -> str:
    return " · ".join(f"{comp} **{appstate.STANCE_LABELS.get(s, s)}**" for comp, s in c.stances.items())


def _range_slider(r: RangeControl, label: str) -> None:
    ident = (r.max_value, r.step)
    kw = _prepare(r.key, r.default, ident=ident, clamp=_clamp_range(r.max_value))
    cap = (f"; it can sustain {_fmt(r.sustainable)} {r.unit} (pledges above are cut to that)"
           if r.sustainable is not None else "; no capacity data for aircraft, so no cap")
    help_text = (f"Pledge range, min and max ({r.unit}). Loaded scenario: "
                 f"{_fmt(r.default[0])}–{_fmt(r.default[1])}{cap}.")
    _keep(r.key, st.slider(label, min_value=0, max_value=r.max_value, step=r.step, key=r.key, help=help_text, **kw))


def _sources_markdown(prov: pd.DataFrame) -> str:
    lines = []
    for row in prov.itertuples():
        where = f"{row.source}" if row.source else ""
        quote = f" — “{row.quote}”" if row.quote else ""
        why = f" — *{row.why}*" if row.why else ""
        label = "assumption" if row.kind == "assumption" else ("set by the scenario" if row.kind == "scenario"
                                                                else where)
        lines.append(f"- **{row.field}** = `{row.value}` · {label}{quote}{why}")
    return "\n".join(lines)


def country_block(c: CountryControl, shown: set[str], base: Scenario, baseline: Baseline,
                  result: str | None) -> None:
    """One country: name, stances, conditions, its sliders, a line for its results, and its sources."""
    with st.container(border=True):
        head, pop = st.columns([3, 1], vertical_alignment="center")
        head.markdown(f"**{c.name}** · {c.group.lower()}  \n{_stance_line(c)}")
        popover = pop.popover("Sources", help=f"Where each of {c.name}'s values comes from", key=f"src_{c.iso3}",
                              on_change="rerun")
        if popover.open:  # drawn only when opened: 34 source lists on every rerun would slow the page
            with popover:
                st.markdown(f"**{c.name}: every value and where it comes from** (as loaded; your slider changes "
                            "are listed in the Sources tab)")
                st.markdown(_sources_markdown(appstate.provenance_rows(base, c.iso3, baseline)))
        if c.conditions:
            st.caption("Conditions: " + "; ".join(c.conditions) + ".")
        if not c.in_force:
            st.caption(f"Not counted in the force: {c.not_in_force_reason}.")
            return
        if "Land" in shown:
            if c.land.editable:
                _range_slider(c.land, f"Land (troops) · sustainable {_fmt(c.land.sustainable or 0)}")
            else:
                st.caption("Land: no troops it could sustain.")
        cols = st.columns(3)
        if "Air" in shown:
            with cols[0]:
                _range_slider(c.air, "Air (aircraft)")
        if "Sea" in shown:
            with cols[1]:
                if c.sea.editable:
                    _range_slider(c.sea, f"Sea (vessels) · sustainable {c.sea.sustainable}")
                else:
                    st.caption("Sea: no mine-countermeasure vessels it could sustain.")
        if "Participation" in shown:
            with cols[2]:
                kw = _prepare(c.participate_key, c.participate_default)
                _keep(c.participate_key, st.slider(
                    "Takes part (%)", min_value=0, max_value=100, step=1, key=c.participate_key,
                    help="Chance that the country takes part at all in a run (its willingness). 0 = pulls out.",
                    **kw))
        if result:
            st.caption(result)


# Groups open when the page starts: the few countries the articles name as ready, or weighing it.
# (A comment, not a docstring: Streamlit's "magic" would print a bare string on the page.)
OPEN_GROUPS = ("Lead nations", "Willing", "Considering")


def country_panel(controls: list[CountryControl], scenario_for_sources: Scenario, baseline: Baseline,
                  results: dict[str, str]) -> None:
    """The countries by stance group, each with its sliders and results (``results``: iso3 -> line).

    A group's countries are drawn only while its section is open, and a search shows the matching
    countries whatever their group: fewer widgets on the page keep a slider's verdict quick. Hidden
    sliders keep their values.
    """
    st.subheader("Countries")
    text = st.text_input("Search", key="filter_text", placeholder="country or code, e.g. Germany")
    shown = set(st.pills("Show sliders for", SHOW_OPTIONS, selection_mode="multi", default=list(SHOW_OPTIONS),
                         key="filter_show") or ())
    needle = text.strip().lower()
    groups = [g for g in appstate.GROUPS if any(c.group == g for c in controls)]
    with st.container(height=900, border=False):
        if needle:
            members = [c for c in controls if needle in c.name.lower() or needle == c.iso3.lower()]
            if not members:
                st.info(f"No country matches “{text.strip()}”.")
            for c in members:
                country_block(c, shown, scenario_for_sources, baseline, results.get(c.iso3))
            return
        for g in groups:
            members = [c for c in controls if c.group == g]
            section = st.expander(f"**{g}** ({len(members)})", expanded=g in OPEN_GROUPS,
                                  key=f"group_{g.lower().replace(' ', '_')}", on_change="rerun")
            if section.open:
                with section:
                    for c in members:
                        country_block(c, shown, scenario_for_sources, baseline, results.get(c.iso3))


# --- results -------------------------------------------------------------------------------------------------

def _threshold_text(row) -> str:
    if row.threshold_low == row.threshold_high:
        return _fmt(row.threshold_low)
    return f"{_fmt(row.threshold_low)}–{_fmt(row.threshold_high)}"


def verdict(tables: dict[str, pd.DataFrame], held: pd.DataFrame, changes: dict[str, Any], timing: tuple[float, float],
            reps: int, baseline: Baseline) -> None:
    """Met / not met per component, the margin, P(met) with its interval, and what binds."""
    summ = tables["summary"]
    cols = st.columns(len(summ))
    for col, row in zip(cols, summ.itertuples(), strict=True):
        margin = float(row.median_margin)
        unit = COMPONENT_UNITS[row.component]
        col.metric(
            f"{row.component.capitalize()} ≥ {_threshold_text(row)} {unit}",
            row.verdict.capitalize(), delta=f"{margin:+,.0f} {unit}",
            delta_color="normal", border=True,
            help=f"A run meets the threshold when the {UNIT_LONG[row.component]} stay at or above it in every "
                 f"month from month {row.assess_from_month} to {row.horizon_months - 1}. 'Likely met' when at "
                 "least 90% of runs do, 'unlikely' under 10%, 'uncertain' between; 'cannot be met' above the "
                 f"ceiling ({row.ceiling:,.0f}), the most any run could reach. The margin is the median of the "
                 "lowest strength over those months minus the threshold.")
        col.markdown(f"P(met) **{row.p_met:.1%}** (95% CI {row.p_met_low95:.1%}–{row.p_met_high95:.1%}) "
                     f"in {row.runs:,} runs")
        col.caption(f"Median margin {margin:+,.0f} {unit}. Lowest strength: median {_fmt(row.min_strength_q50)} "
                    f"{unit} "
                    f"(5–95%: {_fmt(row.min_strength_q05)}–{_fmt(row.min_strength_q95)})")
    binding = appstate.binding_summary(held, min_share=0.5)
    desc = appstate.condition_descriptions()
    if binding:
        lines = []
        for name, who in binding[:5]:
            names = ", ".join(f"{n}" + (f" ({s:.0%})" if s < 0.995 else "") for n, s in who[:8])
            more = f" and {len(who) - 8} more" if len(who) > 8 else ""
            lines.append(f"- **{appstate.condition_label(name)}** ({desc.get(name, name)}): {names}{more}")
        st.markdown("**What binds** (held the country back in at least half the runs):\n" + "\n".join(lines))
    else:
        st.markdown("**What binds:** no condition held any country back in half the runs or more.")
    changed = appstate.change_lines(changes, baseline)
    note = (f"{reps:,} runs; model {timing[1] * 1000:,.0f} ms, verdict ready {timing[0] * 1000:,.0f} ms after the "
            "page started.")
    if changed:
        note += " Your changes: " + "; ".join(changed[:12]) + (" …" if len(changed) > 12 else "") + "."
    st.caption(note)


def country_results(pc: pd.DataFrame, held: pd.DataFrame) -> dict[str, str]:
    """Each country's results as one line to show next to its sliders: iso3 -> text."""
    held = held[held["share"] >= 0.05]
    out = {}
    for row in pc.itertuples():
        reasons = held[held.iso3 == row.iso3].sort_values("share", ascending=False)
        why = ", ".join(f"{r.label} {r.share:.0%}" for r in reasons.itertuples())
        out[row.iso3] = (f"**{row.country} in the force** (expected): {_fmt(row.expected_land)} troops · "
                         f"{row.expected_air:.1f} aircraft · {row.expected_sea:.1f} vessels · deployed "
                         f"{row.share_of_months_deployed:.0%} of months" + (f"  \n**Held back:** {why}" if why else ""))
    return out


def chart_contributions(pc: pd.DataFrame, comp: str, threshold: float, reps: int) -> alt.Chart | None:
    """Bars per country (pledged, expected), the running total down the list, and the threshold line."""
    df = appstate.contribution_frame(pc, comp)
    if df.empty:
        return None
    unit = UNIT_LONG[comp]
    names = {"pledged": "Pledged", "expected": "Expected in the force", "running": "Running total (expected)"}
    long = df.melt(id_vars=["country"], value_vars=["pledged", "expected"], var_name="series", value_name="value")
    long["series"] = long["series"].map(names)
    order = df["country"].tolist()
    scale = alt.Scale(domain=list(names.values()), range=[COLORS["pledged"], COLORS["expected"], COLORS["running"]])
    color = alt.Color("series:N", scale=scale, legend=alt.Legend(title=None, orient="top"))
    y = alt.Y("country:N", sort=order, title="Country", axis=alt.Axis(labelLimit=160, labelOverlap=False))
    x_title = f"{unit.capitalize()} (mean over {reps:,} runs)"
    bars = alt.Chart(long).mark_bar().encode(
        y=y, yOffset=alt.YOffset("series:N", sort=list(names.values())[:2]),
        x=alt.X("value:Q", title=x_title), color=color,
        tooltip=[alt.Tooltip("country:N", title="Country"), alt.Tooltip("series:N", title="What"),
                 alt.Tooltip("value:Q", title=unit, format=",.1f")])
    line = alt.Chart(df.assign(series=names["running"])).mark_line(point=True, strokeWidth=2).encode(
        y=y, x=alt.X("running_total:Q"), color=color, order=alt.Order("running_total:Q"),
        tooltip=[alt.Tooltip("country:N", title="Down to"),
                 alt.Tooltip("running_total:Q", title=f"running total ({unit})", format=",.0f")])
    th = pd.DataFrame({"x": [threshold], "label": [f"threshold {threshold:,.0f} {COMPONENT_UNITS[comp]}"]})
    rule = alt.Chart(th).mark_rule(color=COLORS["threshold"], strokeDash=[6, 3], size=2).encode(x="x:Q")
    text = alt.Chart(th).mark_text(align="right", dx=-4, baseline="top", color=COLORS["threshold"],
                                   fontWeight="bold").encode(x="x:Q", y=alt.value(2), text="label:N")
    return alt.layer(bars, line, rule, text).properties(
        height=max(180, 26 * len(df)), title=alt.TitleParams(
            f"{comp.capitalize()}: contributions by country against the threshold",
            subtitle=["Pledged: after the capacity cut. Expected: mean in the force over the tested months.",
                      "Orange: expected contributions added up down the list. The threshold applies to the whole "
                      "force."]))


def chart_over_time(pm: pd.DataFrame, comp: str, threshold: float, assess_from: int, reps: int) -> alt.Chart:
    """Deployed strength each month: median, 50% and 90% bands, the threshold, and when testing starts."""
    d = appstate.strength_frame(pm, comp)
    unit = UNIT_LONG[comp]
    base = alt.Chart(d).encode(x=alt.X("month:Q", title="Month after the start of the scenario",
                                       axis=alt.Axis(tickMinStep=1)))
    band90 = base.mark_area(opacity=0.25, color=COLORS["expected"]).encode(
        y=alt.Y("q05:Q", title=f"{unit.capitalize()} deployed"), y2="q95:Q")
    band50 = base.mark_area(opacity=0.45, color=COLORS["expected"]).encode(y="q25:Q", y2="q75:Q")
    median = base.mark_line(color=COLORS["expected"], strokeWidth=2.5).encode(
        y="q50:Q", tooltip=[alt.Tooltip("month:Q", title="Month"), alt.Tooltip("q05:Q", title="5%", format=",.0f"),
                            alt.Tooltip("q50:Q", title="median", format=",.0f"),
                            alt.Tooltip("q95:Q", title="95%", format=",.0f"),
                            alt.Tooltip("p_at_or_above_threshold:Q", title="share at threshold", format=".1%")])
    th = pd.DataFrame({"y": [threshold], "label": [f"threshold {threshold:,.0f} {COMPONENT_UNITS[comp]}"]})
    rule = alt.Chart(th).mark_rule(color=COLORS["threshold"], strokeDash=[6, 3], size=2).encode(y="y:Q")
    rule_text = alt.Chart(th).mark_text(align="left", dx=4, dy=-7, color=COLORS["threshold"],
                                        fontWeight="bold").encode(y="y:Q", x=alt.value(2), text="label:N")
    start = pd.DataFrame({"month": [assess_from], "label": [f"tested from month {assess_from}"]})
    vrule = alt.Chart(start).mark_rule(color="#555", strokeDash=[2, 2]).encode(x="month:Q")
    vtext = alt.Chart(start).mark_text(align="left", dx=4, baseline="top", color="#555").encode(
        x="month:Q", y=alt.value(4), text="label:N")
    return alt.layer(band90, band50, median, rule, rule_text, vrule, vtext).properties(
        height=380, title=alt.TitleParams(
            f"{comp.capitalize()}: {unit} deployed over the months",
            subtitle=f"Line: median over {reps:,} runs; dark band: middle 50%; light band: 5–95%."))


def chart_country(pc: pd.DataFrame, iso3: str) -> alt.HConcatChart:
    """One country's pledged and expected contribution, component by component (each in its own units)."""
    row = pc[pc.iso3 == iso3].iloc[0]
    charts = []
    for comp in COMPONENT_UNITS:
        d = pd.DataFrame({"what": ["Pledged", "Expected"],
                          "value": [row[f"pledge_{comp}_mean"], row[f"expected_{comp}"]]})
        charts.append(alt.Chart(d).mark_bar(size=38).encode(
            x=alt.X("what:N", title=None, sort=["Pledged", "Expected"], axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=UNIT_LONG[comp].capitalize(), scale=alt.Scale(domainMin=0, nice=True)),
            color=alt.Color("what:N", scale=alt.Scale(domain=["Pledged", "Expected"],
                                                      range=[COLORS["pledged"], COLORS["expected"]]), legend=None),
            tooltip=[alt.Tooltip("what:N", title="What"), alt.Tooltip("value:Q", title=UNIT_LONG[comp], format=",.1f")],
        ).properties(width=150, height=260, title=f"{comp.capitalize()} ({COMPONENT_UNITS[comp]})"))
    return alt.hconcat(*charts).properties(title=alt.TitleParams(
        f"{row['country']}: contribution by component",
        subtitle="Pledged = mean pledge after the capacity cut; expected = mean in the force over the tested months."))


def chart_held_back(pc: pd.DataFrame, held: pd.DataFrame) -> alt.Chart | None:
    """Heat map: the share of runs in which each condition held each country back."""
    df = held
    if df.empty:
        return None
    order = [n for n in pc["country"] if n in set(df["country"])]
    labels = [appstate.condition_label(n) for n in dict.fromkeys(df["condition"])]
    base = alt.Chart(df).encode(
        x=alt.X("label:N", sort=labels, title="Condition that held the country back",
                axis=alt.Axis(labelAngle=-35, labelLimit=160, labelOverlap=False)),
        y=alt.Y("country:N", sort=order, title="Country", axis=alt.Axis(labelOverlap=False, labelLimit=160)))
    heat = base.mark_rect().encode(
        color=alt.Color("share:Q", title="Share of runs", scale=alt.Scale(scheme="orangered", domain=[0, 1]),
                        legend=alt.Legend(format=".0%")),
        tooltip=[alt.Tooltip("country:N", title="Country"), alt.Tooltip("label:N", title="Condition"),
                 alt.Tooltip("share:Q", title="Share of runs", format=".0%")])
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("share:Q", format=".0%"),
        color=alt.condition("datum.share > 0.6", alt.value("white"), alt.value("black")))
    return (heat + text).properties(height=max(220, 24 * len(order)), title=alt.TitleParams(
        "What holds countries back", subtitle="Share of runs in which each condition held the country back "
                                              "(at least 1%)."))


def _component_choice(summ: pd.DataFrame) -> tuple[str, Any]:
    # One key for the charts of both tabs: only the open tab is drawn, so the choice carries over.
    _prepare("chart_component", "land")
    comp = _keep("chart_component", st.radio(
        "Component", list(COMPONENT_UNITS), key="chart_component", horizontal=True,
        format_func=lambda v: f"{v.capitalize()} ({COMPONENT_UNITS[v]})"))
    return comp, summ[summ.component == comp].iloc[0]


TABS = ("Force vs threshold", "Over time", "By country", "What holds them back", "Who decides", "Sources",
        "Tables & downloads")


def results_tabs(scenario: Scenario, tables: dict[str, pd.DataFrame], held: pd.DataFrame, reps: int,
                 controls: list[CountryControl], baseline: Baseline) -> None:
    """Charts, conditions, sources, tables and downloads (only the open tab is drawn)."""
    summ, pc, pm = tables["summary"], tables["per_country"], tables["per_month"]
    t_force, t_time, t_country, t_held, t_decides, t_sources, t_tables = st.tabs(
        TABS, key="results_tab", on_change="rerun")
    if t_force.open:
        with t_force:
            comp, srow = _component_choice(summ)
            ch = chart_contributions(pc, comp, float(srow.threshold_low), reps)
            if ch is None:
                st.info(f"No country pledges any {UNIT_LONG[comp]} in this scenario.")
            else:
                st.altair_chart(ch, width="stretch")
    if t_time.open:
        with t_time:
            comp, srow = _component_choice(summ)
            st.altair_chart(chart_over_time(pm, comp, float(srow.threshold_low), int(srow.assess_from_month), reps),
                            width="stretch")
    if t_country.open:
        with t_country:
            options = [c.iso3 for c in controls if c.in_force]
            names = {c.iso3: c.name for c in controls}
            iso = st.selectbox("Country", options, key="chart_country", format_func=lambda i: names[i])
            st.altair_chart(chart_country(pc, iso), width="content")
    if t_held.open:
        with t_held:
            ch = chart_held_back(pc, held)
            if ch is None:
                st.info("No condition held any country back.")
            else:
                st.altair_chart(ch, width="stretch")
            desc = appstate.condition_descriptions()
            st.caption("  \n".join(f"**{appstate.condition_label(k)}**: {v}" for k, v in desc.items()))
    if t_decides.open:
        with t_decides:
            decides_tab(scenario)
    if t_sources.open:
        with t_sources:
            sources_tab(scenario, controls, baseline)
    if t_tables.open:
        with t_tables:
            downloads(scenario, tables)


@st.cache_data(max_entries=16, show_spinner="Working out who decides ...")
def pivotal_result(scenario_toml: str, component: str, worth: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Shapley/Banzhaf per country, minimal winning coalitions and the verdict (cached on the scenario)."""
    s = scenario_from_text(scenario_toml, "<app>", base_dir=SCENARIOS)
    res = analysis.pivotal_countries(s, component=component, worth=worth, reps=200, samples=100)
    return res.table, res.coalitions, res.verdict


@st.cache_data(max_entries=16, show_spinner="Searching for the cheapest plan ...")
def gap_result(scenario_toml: str, component: str, target: float) -> tuple[pd.DataFrame, str]:
    """The cheapest set of allowed changes that reaches the target, and its verdict."""
    s = scenario_from_text(scenario_toml, "<app>", base_dir=SCENARIOS)
    res = analysis.gap_plan(s, component=component, target=target, reps=200, max_evaluations=1500)
    return res.plan, res.verdict


def chart_pivotal(table: pd.DataFrame) -> alt.Chart:
    """Shapley value per contributing country, with a 95% sampling interval when sampled."""
    d = table[table.player].assign(low=lambda x: x.shapley - 1.96 * x.shapley_se,
                                   high=lambda x: x.shapley + 1.96 * x.shapley_se)
    y = alt.Y("country:N", sort=list(d.country), title="Country", axis=alt.Axis(labelLimit=160))
    bars = alt.Chart(d).mark_bar(color=COLORS["expected"]).encode(
        y=y, x=alt.X("shapley:Q", title="Shapley value (share of the worth of all together)"),
        tooltip=[alt.Tooltip("country:N", title="Country"), alt.Tooltip("shapley:Q", format=".3f"),
                 alt.Tooltip("shapley_se:Q", title="± std. error", format=".3f"),
                 alt.Tooltip("banzhaf:Q", title="Banzhaf", format=".3f")])
    err = alt.Chart(d).mark_rule(color="#555").encode(y=y, x="low:Q", x2="high:Q")
    return alt.layer(bars, err).properties(title="Who makes or breaks the threshold (Shapley value)",
                                           height=max(120, 26 * len(d)))


def decides_tab(scenario: Scenario) -> None:
    """Who makes or breaks the threshold, and the cheapest plan to reach a target."""
    c1, c2 = st.columns(2)
    comp = c1.radio("Component", list(COMPONENT_UNITS), key="decides_component", horizontal=True)
    worth = c2.radio("Worth of a coalition", ["p_met", "strength"], key="decides_worth", horizontal=True,
                     format_func=lambda w: "P(threshold met)" if w == "p_met" else "lowest strength")
    toml = scenario.to_toml()
    table, coalitions, text = pivotal_result(toml, comp, worth)
    st.markdown(text)
    if table.player.any():
        st.altair_chart(chart_pivotal(table), width="stretch")
    if len(coalitions):
        st.dataframe(coalitions[["size", "countries", "p_met"]], hide_index=True)
    st.markdown("**Closing the gap**")
    target = st.slider("Target P(threshold met)", 0.5, 0.99, 0.9, 0.01, key="gap_target")
    plan, gap_text = gap_result(toml, comp, target)
    st.markdown(gap_text)
    st.markdown("\n".join(f"{r.step}. {r.change}" for r in plan.itertuples()))


def sources_tab(scenario: Scenario, controls: list[CountryControl], baseline: Baseline) -> None:
    """Every value of a country with its provenance; the force-level facts; the list of sources."""
    names = {c.iso3: c.name for c in controls}
    iso = st.selectbox("Country", list(names), key="sources_country", format_func=lambda i: names[i])
    prov = appstate.provenance_rows(scenario, iso, baseline)
    st.dataframe(prov, hide_index=True, width="stretch", column_config={
        "quote": st.column_config.TextColumn("quote", width="large"),
        "why": st.column_config.TextColumn("assumption / note", width="large")})
    with st.expander("Force-level facts (thresholds, presets, build-up) and their sources"):
        recs = [{**r, "value": str(r["value"])} for r in baseline.provenance_records()
                if r["scope"] in ("force", "backstop_levels")]
        st.dataframe(pd.DataFrame(recs), hide_index=True, width="stretch")
    with st.expander("Sources cited"):
        st.dataframe(pd.DataFrame([{"id": k, **v} for k, v in baseline.sources.items()]), hide_index=True,
                     width="stretch")


def downloads(scenario: Scenario, tables: dict[str, pd.DataFrame]) -> None:
    """The scenario as TOML, every table as CSV and all as XLSX; a preview of one table."""
    st.markdown("**Downloads**")
    c1, c2 = st.columns(2)
    c1.download_button("Scenario (TOML)", data=appstate.scenario_toml_bytes(scenario),
                       file_name=f"{scenario.name}.toml", mime="application/toml", key="dl_scenario_tab",
                       width="stretch",
                       help="The page's settings as a scenario file: `reassurance run` runs it unchanged.")
    # Tables are serialised only when clicked (a callable), so a slider move never waits for them.
    c2.download_button("All tables (XLSX)", data=lambda: export.xlsx_bytes(tables),
                       file_name=f"{scenario.name}-tables.xlsx", key="dl_xlsx", width="stretch",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    cols = st.columns(len(tables))
    for col, (name, df) in zip(cols, tables.items(), strict=True):
        col.download_button(f"{name}.csv", data=lambda df=df: export.table_bytes(df, "csv"),
                            file_name=f"{scenario.name}-{name}.csv", mime="text/csv", key=f"dl_{name}",
                            width="stretch", help=f"The {name} table ({len(df):,} rows) as CSV")
    which = st.selectbox("Preview a table", list(tables), key="table_preview")
    st.dataframe(tables[which], hide_index=True, width="stretch", height=320)
    if (ROOT / "docs" / "outputs.md").is_file():
        st.caption("Every column is described in docs/outputs.md.")


# --- the page ------------------------------------------------------------------------------------------------

def main() -> None:
    """Draw the page."""
    started = time.perf_counter()
    st.set_page_config(page_title="Reassurance force: does it add up?", page_icon="🛡️", layout="wide")
    baseline = load_baseline()
    base, base_label, upload_error = scenario_source()
    sync_base(base)

    st.title("Can the reassurance force for Ukraine add up?")
    st.caption("The coalition of the willing as five articles of late August / early September 2025 describe it. "
               "Move a country's pledge or a condition: the verdict is recomputed over every run. "
               f"Starting from {base_label} ('{base.name}').")
    if upload_error is not None:
        st.error(f"The uploaded scenario was not loaded:\n\n{_errors_markdown(upload_error)}")
    if base.sweep:
        st.info(f"{base_label} defines a sweep of {len(base.sweep_points())} points; the page runs it without the "
                "sweep. Run the file with the command line for the whole sweep.")

    controls0 = appstate.country_controls(base, baseline=baseline)
    defaults = appstate.control_defaults(base, controls0, baseline)
    global_controls(base, defaults, controls0, baseline)
    levers_only = appstate.lever_scenario(base, _state(defaults), controls0, baseline)
    controls = appstate.country_controls(base, caps_from=levers_only, baseline=baseline)

    # The verdict is computed and drawn before the country sliders: their values are already in the session
    # state, and the page streams, so the verdict shows without waiting for the long list to be drawn.
    left, right = st.columns([5, 7], gap="large")
    try:
        scenario, changes = appstate.build_scenario(base, appstate.clamp_state(_state(defaults), controls),
                                                    controls, baseline)
    except ScenarioError as e:
        right.error(f"These settings do not make a valid scenario:\n\n{_errors_markdown(e)}")
        with left:
            country_panel(controls, base, baseline, {})
        return

    t0 = time.perf_counter()
    tables = run_tables(scenario.to_toml(), scenario.replications)
    elapsed = time.perf_counter() - t0
    held = appstate.held_back_frame(tables["per_country"], min_share=0.01)
    with right:
        verdict(tables, held, changes, (time.perf_counter() - started, elapsed), scenario.replications, baseline)
    st.sidebar.download_button("Download this scenario (TOML)", data=appstate.scenario_toml_bytes(scenario),
                               file_name=f"{scenario.name}.toml", mime="application/toml", key="dl_scenario",
                               width="stretch")
    with left:
        country_panel(controls, base, baseline, country_results(tables["per_country"], held))
    with right:
        results_tabs(scenario, tables, held, scenario.replications, controls, baseline)

main()
