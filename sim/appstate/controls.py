"""The page's controls: what each shows for a scenario, and the scenario changes the moved ones make.

The page keeps one value per control under a stable key (``land_FRA``, ``us_backstop``...).
:func:`country_controls` builds each country's sliders (defaults and ends from :mod:`sim.params`),
:func:`control_defaults` says what every control starts at, :func:`changes_from_state` turns the controls a
person moved into the dotted-path changes :meth:`Scenario.with_changes` takes, and :func:`inert_reasons`
says which sliders cannot change anything now, and why. No Streamlit, no model logic.

Units: land in troops, air in combat aircraft, sea in mine-countermeasure vessels (each a ``(min, max)``
pledge range of whole numbers), participation and incident rate in percent, the rest in the scenario's own
units (months, a rotation ratio).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim import concepts, rules
from sim.appstate.labels import BACKSTOP_LABELS, COMPONENT_UNITS, pct
from sim.baseline import BACKSTOP_LEVELS, LEDGER_START, Baseline, Sourced, load_baseline
from sim.params import compile_params, default_threshold
from sim.scenario import Scenario, ScenarioError, country_fields
from sim.uncertainty import UNCERTAIN

GROUPS: tuple[str, ...] = (
    "Lead nations", "Willing", "Conditional", "Considering", "No troops offered", "Outside the coalition",
    "Not counted in the force",
)
"""Stance groups the country list is sorted into, in display order."""

NOT_IN_FORCE_ROLES = {name: role.why for name, role in concepts.NOT_COUNTED.items()}  # declared in sim.concepts
"""Roles that contribute nothing to the count, with why; these countries get no sliders."""

AIR_SLIDER_MAX = 48
"""Largest air pledge a slider offers (no capacity data exists for aircraft: the no-fly-zone figure)."""

CUSTOM = "custom"
"""The land-threshold choice that uses the custom number."""

DEFAULT_LAND_PRESETS: tuple[int, ...] = (10_000, 30_000, 40_000, 100_000)

MAX_APP_REPLICATIONS = 20_000
"""Most runs the page offers (larger batches belong to the command line)."""

# Controls that map one-to-one onto a lever: widget key -> dotted scenario path.
LEVER_KEYS: dict[str, str] = {
    "as_of": "as_of",
    "us_backstop": "levers.us_backstop",
    "ceasefire": "levers.ceasefire",
    "ceasefire_month": "levers.ceasefire_month",
    "un_framework": "levers.un_framework",
    "eastern_border_secure": "levers.eastern_border_secure",
    "russia_stance": "levers.russia_stance",
    "rotation_ratio": "levers.rotation_ratio",
    "horizon_months": "levers.horizon_months",
    "air_mission": "levers.air_mission",
    "replications": "replications",
    "seed": "seed",
}

GLOBAL_KEYS: tuple[str, ...] = (
    *LEVER_KEYS, "incident_rate_pct", "threshold_land_choice", "threshold_land_custom", "threshold_air_set",
    "threshold_air", "threshold_sea_set", "threshold_sea", "scenario_name",
)
"""Every widget key of the global controls (reset with the country controls)."""


@dataclass(frozen=True)
class RangeControl:
    """One component slider of a country: a ``(min, max)`` pledge range of whole units.

    ``default`` is the scenario's pledge range (land: rounded to whole troops); ``max_value`` is what the
    country can sustain (``sustainable``), raised to the default's top if the pledge is above it; 0 means
    there is nothing to offer and no slider. ``sustainable`` is None where no capacity data exists (air).
    """

    key: str
    component: str
    default: tuple[int, int]
    max_value: int
    step: int
    sustainable: int | None

    @property
    def unit(self) -> str:
        """Unit of the slider's values."""
        return COMPONENT_UNITS[self.component]

    @property
    def editable(self) -> bool:
        """Whether a slider is shown (there is a range to choose from)."""
        return self.max_value > 0


@dataclass(frozen=True)
class CountryControl:
    """A country's row in the app: who it is, its stances and conditions, and its sliders."""

    iso3: str
    name: str
    group: str
    role: str
    stances: Mapping[str, str]
    conditions: tuple[str, ...]
    land: RangeControl
    air: RangeControl
    sea: RangeControl
    participate_key: str
    participate_default: int
    not_in_force_reason: str | None = None

    @property
    def in_force(self) -> bool:
        """Whether the country can be counted in the force (and so gets sliders)."""
        return self.not_in_force_reason is None

    def ranges(self) -> tuple[RangeControl, RangeControl, RangeControl]:
        """Land, air and sea controls."""
        return (self.land, self.air, self.sea)


# --- building the controls ------------------------------------------------------------------------------

def land_step(max_value: int) -> int:
    """Slider step for a land range: finer for small armies (troops)."""
    if max_value <= 2_000:
        return 10
    if max_value <= 10_000:
        return 50
    return 100


def stance_group(fields: Mapping[str, Sourced]) -> str:
    """The group of :data:`GROUPS` a country is listed under, from its role, lead status and land stance."""
    role = fields["role"].value
    if role in NOT_IN_FORCE_ROLES:
        return "Not counted in the force"
    if fields["is_lead"].value:
        return "Lead nations"
    if role != "contributor":
        return "Outside the coalition"
    stance = fields["land_stance"].value
    return {"willing": "Willing", "conditional": "Conditional", "considering": "Considering"}.get(
        stance, "No troops offered")


def condition_texts(fields: Mapping[str, Sourced]) -> tuple[str, ...]:
    """A country's conditions as short phrases (what the data says it needs), without judging whether they hold."""
    out = []
    req = fields["required_backstop"].value
    if req in BACKSTOP_LEVELS and req != "none":
        out.append(f"needs US backstop ≥ {BACKSTOP_LABELS.get(req, req).lower()} for its troops")
    elif req not in BACKSTOP_LEVELS:
        out.append("needs a US backstop for its troops (level uncertain, drawn per run)")
    if fields["requires_un_framework"].value:
        out.append("needs a UN framework")
    if fields["border_priority"].value:
        out.append("keeps troops home unless the eastern border is secure")
    if fields["follows_leads"].value:
        out.append("deploys only beside the lead nations")
    if fields["momentum_threshold"].value > 0:
        out.append(f"joins once others have {fields['momentum_threshold'].value:,.0f} troops deployed")
    if fields["mandate_delay_months"].value > 0:
        n = fields["mandate_delay_months"].value
        out.append(f"parliament's mandate takes {n} month{'s' if n != 1 else ''}")
    if fields["government_fall_hazard"].value > 0:
        out.append(f"government may fall ({pct(fields['government_fall_hazard'].value)} a month; then leaves "
                   f"with {pct(fields['withdraw_if_government_falls'].value)})")
    if fields["casualty_withdraw_prob"].value > 0:
        out.append(f"leaves after an attack on its troops with {pct(fields['casualty_withdraw_prob'].value)}")
    return tuple(out)


_CONTROLS: dict[tuple[str, str | None], tuple[Baseline, list[CountryControl]]] = {}
_CONTROLS_KEPT = 32  # the rows of this many scenario pairs are kept (a page builds two per move)
_CONTROLS_LOCK = threading.Lock()  # each browser session runs the page in a thread of its own


def country_controls(base: Scenario, *, caps_from: Scenario | None = None,
                     baseline: Baseline | None = None) -> list[CountryControl]:
    """One control row per country, in baseline order.

    Defaults are ``base``'s pledge ranges (land from :func:`sim.params.compile_params`: the share of
    active personnel, or the scenario's ``land_troops``); what a country can sustain comes from
    ``caps_from`` (the scenario with the levers as currently set: the rotation ratio changes it), or
    from ``base``. Kept per pair of scenarios (by content) and baseline: the page asks for the same rows
    on every move, and building them cost more than half of what it did before running the scenario.
    """
    baseline = baseline or load_baseline()
    key = (base.content_hash(), caps_from.content_hash() if caps_from is not None else None)
    kept = _CONTROLS.get(key)
    if kept is not None and kept[0] is baseline:
        return list(kept[1])
    out = _country_controls(base, caps_from, baseline)
    with _CONTROLS_LOCK:
        if len(_CONTROLS) >= _CONTROLS_KEPT:
            _CONTROLS.pop(next(iter(_CONTROLS)))
        _CONTROLS[key] = (baseline, out)
    return list(out)


def _country_controls(base: Scenario, caps_from: Scenario | None, baseline: Baseline) -> list[CountryControl]:
    p = compile_params(base, baseline)
    caps = compile_params(caps_from, baseline) if caps_from is not None else p
    out = []
    for i, (c, f) in enumerate(zip(baseline.countries, country_fields(base, baseline), strict=True)):
        land_default = (int(round(p.land_lo[i])), int(round(p.land_hi[i])))
        land_cap = int(caps.land_cap_range[1][i])
        land_max = max(land_cap, land_default[1])
        air_default = (int(p.air_lo[i]), int(p.air_hi[i]))
        sea_default = (int(p.sea_lo[i]), int(p.sea_hi[i]))
        sea_cap = int(caps.sea_cap[i])
        role = f["role"].value
        out.append(CountryControl(
            iso3=c.iso3, name=c.name, group=stance_group(f), role=role,
            stances={k: f[f"{k}_stance"].value for k in COMPONENT_UNITS},
            conditions=condition_texts(f),
            land=RangeControl(f"land_{c.iso3}", "land", land_default, land_max, land_step(land_max), land_cap),
            air=RangeControl(f"air_{c.iso3}", "air", air_default, max(AIR_SLIDER_MAX, air_default[1]), 1, None),
            sea=RangeControl(f"sea_{c.iso3}", "sea", sea_default, max(sea_cap, sea_default[1]), 1, sea_cap),
            participate_key=f"part_{c.iso3}",
            participate_default=int(round(f["p_participate"].value * 100)),
            not_in_force_reason=NOT_IN_FORCE_ROLES.get(role),
        ))
    return out


def land_presets(baseline: Baseline | None = None) -> tuple[int, ...]:
    """The land thresholds the articles give (troops), from the data (``force.land_threshold_presets``)."""
    baseline = baseline or load_baseline()
    s = baseline.force.get("land_threshold_presets")
    return tuple(int(v) for v in s.value) if s is not None else DEFAULT_LAND_PRESETS


def control_defaults(base: Scenario, controls: Sequence[CountryControl],
                     baseline: Baseline | None = None) -> dict[str, Any]:
    """What every control shows for ``base`` untouched: widget key -> value."""
    lv, th = base.levers, base.thresholds
    d: dict[str, Any] = {
        "as_of": base.as_of or LEDGER_START,
        "us_backstop": lv.us_backstop, "ceasefire": lv.ceasefire, "ceasefire_month": lv.ceasefire_month,
        "un_framework": lv.un_framework, "eastern_border_secure": lv.eastern_border_secure,
        "russia_stance": lv.russia_stance, "rotation_ratio": float(lv.rotation_ratio),
        "horizon_months": lv.horizon_months, "air_mission": lv.air_mission,
        "replications": min(base.replications, MAX_APP_REPLICATIONS), "seed": base.seed,
        "incident_rate_pct": round(lv.incident_rate * 100, 6),
        "scenario_name": "",
    }
    presets = land_presets(baseline)
    land = int(th.land) if float(th.land).is_integer() else th.land
    d["threshold_land_choice"] = land if land in presets else CUSTOM
    d["threshold_land_custom"] = land
    for comp in ("air", "sea"):
        value = getattr(th, comp)
        d[f"threshold_{comp}_set"] = value is not None
        if value is None:
            lo, hi = default_threshold(comp, lv.air_mission, baseline).value
            value = round((lo + hi) / 2)  # the slider's start if the user pins it; unpinned, it is drawn
        d[f"threshold_{comp}"] = int(value) if float(value).is_integer() else float(value)
    for c in controls:
        for r in c.ranges():
            d[r.key] = r.default
        d[c.participate_key] = c.participate_default
    return d


def lock_line(c: CountryControl, inert: Mapping[str, str]) -> str | None:
    """Why a country's sliders change nothing now, in words; None when they all count.

    ``inert`` is the country's entry of :func:`inert_reasons`: all four sliders locked for one reason, or
    its troops only (a condition about troops: its aircraft and ships still count).
    """
    if len(inert) == 4 and len(set(inert.values())) == 1:
        return f"These sliders change nothing now: {c.name} {inert['land']}."
    if "land" in inert:
        return f"Its troops change nothing now: {c.name} {inert['land']}."
    return None


def pledge_words(c: CountryControl, state: Mapping[str, Any]) -> str:
    """A country's sliders as they now stand, in one line ("Offers 500–10,000 troops · 0–12 aircraft ...").

    ``state`` holds the controls' current values (a control missing from it is at its default); a
    component with nothing to offer is left out. Says so when the person moved one of them.
    """
    parts, moved = [], False
    for r in c.ranges():
        value = _pair(state.get(r.key, r.default))
        moved |= value != r.default
        if r.editable:
            lo, hi = value
            parts.append(f"{hi:,} {r.unit}" if lo == hi else f"{lo:,}–{hi:,} {r.unit}")
    part = int(state.get(c.participate_key, c.participate_default))
    moved |= part != c.participate_default
    return ("Offers " + " · ".join(parts) + f" · takes part {part}%" + (" · **changed**" if moved else ""))


# --- state -> scenario ------------------------------------------------------------------------------------

def _pair(v: Any) -> tuple[int, int]:
    lo, hi = v
    return int(round(lo)), int(round(hi))


def threshold_land_value(state: Mapping[str, Any], defaults: Mapping[str, Any]) -> float:
    """The land threshold (troops) the threshold controls select."""
    choice = state.get("threshold_land_choice", defaults["threshold_land_choice"])
    if choice == CUSTOM:
        return state.get("threshold_land_custom", defaults["threshold_land_custom"])
    return choice


def changes_from_state(state: Mapping[str, Any], base: Scenario, controls: Sequence[CountryControl],
                       baseline: Baseline | None = None) -> dict[str, Any]:
    """Dotted-path changes to ``base`` for the controls that differ from their defaults.

    A control left at its default sends nothing, so an untouched page runs ``base`` itself. A moved land
    slider sends ``countries.ISO.land_troops = [min, max]`` (troops); air and sea sliders send
    ``countries.ISO.air`` / ``.sea``; the participation slider sends ``p_participate`` (a probability).
    """
    defaults = control_defaults(base, controls, baseline)

    def get(key: str) -> Any:
        return state.get(key, defaults[key])

    changes: dict[str, Any] = {}
    for key, path in LEVER_KEYS.items():
        if get(key) != defaults[key]:
            changes[path] = get(key)
    if base.replications > MAX_APP_REPLICATIONS:  # the page never runs more than it can hold in memory
        changes["replications"] = min(int(get("replications")), MAX_APP_REPLICATIONS)
    if get("incident_rate_pct") != defaults["incident_rate_pct"]:
        changes["levers.incident_rate"] = get("incident_rate_pct") / 100
    land = threshold_land_value(state, defaults)
    if land != base.thresholds.land:
        changes["thresholds.land"] = land
    for comp in ("air", "sea"):
        current = getattr(base.thresholds, comp)
        wanted = get(f"threshold_{comp}") if get(f"threshold_{comp}_set") else None
        if wanted != current:
            changes[f"thresholds.{comp}"] = wanted
    for c in controls:
        if not c.in_force:
            continue
        ov = base.countries.get(c.iso3)
        for r in c.ranges():
            value = _pair(get(r.key))
            if value == r.default:
                continue
            if r.component == "land":
                changes[f"countries.{c.iso3}.land_troops"] = list(value)
                if ov is not None and ov.land_share is not None:
                    changes[f"countries.{c.iso3}.land_share"] = None  # land_troops replaces it
            else:
                changes[f"countries.{c.iso3}.{r.component}"] = list(value)
        part = int(get(c.participate_key))
        if part != c.participate_default:
            changes[f"countries.{c.iso3}.p_participate"] = part / 100
    return changes


def clamp_state(state: Mapping[str, Any], controls: Sequence[CountryControl]) -> dict[str, Any]:
    """``state`` with every pledge range inside its slider's bounds (``0..max_value``), as the sliders show it.

    A slider's end moves with the rotation ratio; a range beyond the new end is pulled back to it.
    """
    out = dict(state)
    for c in controls:
        for r in c.ranges():
            if r.key in out:
                lo, hi = _pair(out[r.key])
                out[r.key] = (min(max(lo, 0), r.max_value), min(max(hi, 0), r.max_value))
    return out


def clamp_notes(before: Mapping[str, Any], after: Mapping[str, Any],
                controls: Sequence[CountryControl]) -> list[str]:
    """What :func:`clamp_state` pulled back, in words (shown as a warning: nothing is adjusted silently)."""
    notes = []
    for c in controls:
        for r in c.ranges():
            if r.key in before and _pair(before[r.key]) != _pair(after[r.key]):
                lo, hi = _pair(after[r.key])
                notes.append(f"{c.name}'s {r.component} pledge was pulled back to {lo:,}–{hi:,} {r.unit}, the most "
                             "its slider offers with the current rotation ratio")
    return notes


def lever_scenario(base: Scenario, state: Mapping[str, Any], controls: Sequence[CountryControl],
                   baseline: Baseline | None = None) -> Scenario:
    """``base`` with only the global controls applied (for what countries can sustain); ``base`` if invalid."""
    changes = {k: v for k, v in changes_from_state(state, base, controls, baseline).items()
               if not k.startswith("countries.")}
    try:
        return base.with_changes(changes)
    except ScenarioError:
        return base


def backstop_options_text(scenario: Scenario, as_of: str, baseline: Baseline | None = None) -> str:
    """What the US may give as of ``as_of`` when left uncertain, in words with weights ("intelligence 30%, ...")."""
    dated = scenario if as_of == (scenario.as_of or LEDGER_START) else scenario.with_changes({"as_of": as_of})
    return ", ".join(f"{BACKSTOP_LABELS[k].lower()} {w:.0%}" for k, w in backstop_options(dated, baseline).items())


def backstop_options(scenario: Scenario, baseline: Baseline | None = None) -> dict[str, float]:
    """What the US may give when the backstop is left uncertain, with each level's weight.

    As of the scenario's date: later statements reweigh it.
    """
    d = compile_params(scenario, baseline).uncertainty("us_backstop")
    if d.pinned is not None:
        d = compile_params(scenario.with_changes({"levers.us_backstop": UNCERTAIN}), baseline).uncertainty(
            "us_backstop")
    return {BACKSTOP_LEVELS[int(v)]: float(w) for v, w in zip(d.values, d.weights, strict=True)}


def backstop_requirements(controls: Sequence[CountryControl], scenario: Scenario,
                          baseline: Baseline | None = None) -> dict[str, list[str]]:
    """Backstop level -> names of the countries (counted in the force) that require exactly that level."""
    baseline = baseline or load_baseline()
    out: dict[str, list[str]] = {lvl: [] for lvl in BACKSTOP_LEVELS}
    for c, f in zip(controls, country_fields(scenario, baseline), strict=True):
        if c.in_force and f["p_participate"].value > 0:
            out.setdefault(f["required_backstop"].value, []).append(c.name)
    return out


def inert_reasons(scenario: Scenario, controls: Sequence[CountryControl],
                  baseline: Baseline | None = None) -> dict[str, dict[str, str]]:
    """Sliders that cannot change anything in ``scenario``, with why: iso3 -> {control: reason}.

    ``control`` is ``land``, ``air``, ``sea`` or ``part`` (the takes-part slider). A condition the page sets
    that fails even at its most favourable (no ceasefire, a US backstop below the least a country can
    require, no UN framework, a border that is not secure) locks the sliders of the components it binds
    (sim/concepts.py: the backstop binds troops, not aircraft or ships); a country that never takes
    part gets its three pledge sliders, and one whose every component is locked, its takes-part slider.
    """
    baseline = baseline or load_baseline()
    p = compile_params(scenario, baseline)
    offered = int(p.offered_range()[1][p.assess_start:].max())
    need = p.required_range()[0]
    comps = ("land", "air", "sea")
    out: dict[str, dict[str, str]] = {}
    for i, c in enumerate(controls):
        if not c.in_force:
            continue
        if p.ceasefire_month >= rules.NEVER or p.ceasefire_month >= p.horizon:
            out[c.iso3] = dict.fromkeys((*comps, "part"), "nothing deploys without a ceasefire (turn one on under "
                                                         "Conditions)")
            continue
        failing = []  # (condition bit, why)
        if need[i] > offered:
            failing.append((rules.BACKSTOP, f"needs the US to give {BACKSTOP_LABELS[BACKSTOP_LEVELS[need[i]]].lower()} "
                                            f"at least (it gives {BACKSTOP_LABELS[BACKSTOP_LEVELS[offered]].lower()} "
                                            "at most; raise the US backstop)"))
        if p.requires_un[i] and not p.un_framework:
            failing.append((rules.UN_FRAMEWORK, "needs a UN framework (turn it on under Conditions)"))
        if p.border_priority[i] and not p.border_secure:
            failing.append((rules.BORDER, "keeps its troops home while the eastern border is not secure"))
        if p.p_troops[i] <= 0:
            failing.append((rules.TROOPS, "sends no troops (its chance of sending troops is 0%)"))
        if p.p_participate[i] <= 0:
            failing.append((rules.WILLINGNESS, "never takes part (its chance of taking part is 0%)"))
        reasons: dict[str, str] = {}
        for bit, why in failing:
            for k, comp in enumerate(comps):
                if p.binds_condition(bit, k) or (bit == rules.BORDER and k == 0):
                    reasons.setdefault(comp, why)
        if all(comp in reasons for comp in comps) and p.p_participate[i] > 0:
            reasons["part"] = reasons["land"]
        if reasons:
            out[c.iso3] = reasons
    return out
