"""Widget state <-> scenario changes for the browser app: pure functions, no Streamlit.

The app (``app.py``) keeps one value per control under a stable key (``land_FRA``, ``us_backstop``...).
This module says what every control starts at for a scenario (:func:`control_defaults`), turns the
controls a person moved into the dotted-path changes :meth:`Scenario.with_changes` takes
(:func:`changes_from_state`), and shapes outcome tables for display. It holds no model logic: every
number shown comes from :mod:`sim.params` (pledge ranges, what a country can sustain) or from the
outcome tables of :func:`sim.runner.run_scenario`.

Units of the controls: land in troops, air in combat aircraft, sea in mine-countermeasure vessels (each a
``(min, max)`` pledge range of whole numbers), participation and incident rate in percent, the rest in
the scenario's own units (months, a rotation ratio).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim import concepts, rules, words
from sim.baseline import BACKSTOP_LEVELS, LEDGER_START, Baseline, Sourced, load_baseline
from sim.outcomes import CANNOT, VERDICT_BANDS
from sim.params import compile_params, default_threshold
from sim.scenario import MAX_FILE_BYTES, Scenario, ScenarioError, country_fields, scenario_from_text
from sim.uncertainty import LEVEL_UNCERTAINTIES, UNCERTAIN, declared

COMPONENT_UNITS: dict[str, str] = {"land": "troops", "air": "aircraft", "sea": "vessels"}
"""Short unit of each component, for labels and axes."""

BACKSTOP_LABELS: dict[str, str] = {
    UNCERTAIN: "Uncertain (drawn)",
    **{level: words.LEVEL_LABELS[level][:1].upper() + words.LEVEL_LABELS[level][1:] for level in BACKSTOP_LEVELS},
    **{name: declared(name).label[:1].upper() + declared(name).label[1:] + " (drawn per run)"
       for name in LEVEL_UNCERTAINTIES},
}
"""Readable names of the US backstop levels, lowest to highest (:data:`sim.baseline.BACKSTOP_LEVELS`), and of
"uncertain": drawn per run from the declared options (sim/data [uncertainties])."""

STANCE_LABELS: dict[str, str] = {
    "willing": "willing", "conditional": "conditional", "considering": "considering", "ruled_out": "ruled out",
    "not_stated": "not stated", "none": "none", "materiel": "materiel only", "backstop": "US backstop",
    "host": "host",
}

GROUPS: tuple[str, ...] = (
    "Lead nations", "Willing", "Conditional", "Considering", "No troops offered", "Outside the coalition",
    "Not counted in the force",
)
"""Stance groups the country list is sorted into, in display order."""

NOT_IN_FORCE_ROLES = {name: role.why for name, role in concepts.NOT_COUNTED.items()}  # declared in sim.concepts
"""Roles that contribute nothing to the count, with why; these countries get no sliders."""

CONDITION_LABELS = words.CONDITION_LABELS  # declared once, in sim.words (the command line uses them too)

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


def _pct(x: float) -> str:
    return f"{x:.0%}" if x * 100 == round(x * 100) else f"{x:.1%}"


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
        out.append(f"government may fall ({_pct(fields['government_fall_hazard'].value)} a month; then leaves "
                   f"with {_pct(fields['withdraw_if_government_falls'].value)})")
    if fields["casualty_withdraw_prob"].value > 0:
        out.append(f"leaves after an attack on its troops with {_pct(fields['casualty_withdraw_prob'].value)}")
    return tuple(out)


def country_controls(base: Scenario, *, caps_from: Scenario | None = None,
                     baseline: Baseline | None = None) -> list[CountryControl]:
    """One control row per country, in baseline order.

    Defaults are ``base``'s pledge ranges (land from :func:`sim.params.compile_params`: the share of
    active personnel, or the scenario's ``land_troops``); what a country can sustain comes from
    ``caps_from`` (the scenario with the levers as currently set: the rotation ratio changes it), or
    from ``base``.
    """
    baseline = baseline or load_baseline()
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


def scenario_name(base: Scenario, changes: Mapping[str, Any], typed: str = "") -> str:
    """The name of the page's scenario: what the person typed, else ``base``'s (``-modified`` if changed)."""
    typed = typed.strip()
    if typed:
        return typed
    return f"{base.name}-modified"[:80] if changes else base.name


def _onoff(yes: str, no: str):
    return lambda v: yes if v else no


PATH_WORDS: dict[str, tuple[str, Any]] = {
    "as_of": ("Data as of", lambda v: f"statements made up to {v}"),
    "levers.us_backstop": ("US backstop", lambda v: BACKSTOP_LABELS.get(v, str(v)).lower()),
    "levers.ceasefire": ("Ceasefire", _onoff("yes", "none")),
    "levers.ceasefire_month": ("Ceasefire from month", lambda v: f"{v}"),
    "levers.un_framework": ("UN framework", _onoff("exists", "none")),
    "levers.eastern_border_secure": ("Eastern border", _onoff("secure", "not secure")),
    "levers.russia_stance": ("Russia", concepts.lever("russia_stance").in_words),
    "levers.rotation_ratio": ("Rotation ratio", lambda v: f"{float(v):.1f} : 1"),
    "levers.horizon_months": ("Horizon", lambda v: f"{v} months"),
    "levers.air_mission": ("Air mission", concepts.lever("air_mission").in_words),
    "levers.incident_rate": ("Chance of a strike on the force", lambda v: f"{float(v):.1%} a month"),
    "replications": ("Runs", lambda v: f"{int(v):,}"),
    "seed": ("Seed", lambda v: f"{v}"),
    "thresholds.land": ("Land threshold", lambda v: f"{float(v):,.0f} troops"),
    "thresholds.air": ("Air threshold", lambda v: "the data's figure" if v is None else f"{float(v):,.0f} aircraft"),
    "thresholds.sea": ("Sea threshold", lambda v: "the data's figure" if v is None else f"{float(v):,.0f} vessels"),
}
"""Plain words for each scenario-wide change the page can make: dotted path -> (label, value in words)."""


def change_lines(changes: Mapping[str, Any], baseline: Baseline | None = None) -> list[str]:
    """Each change in plain words (``France: land 0-0 troops``, ``US backstop: air cover``)."""
    baseline = baseline or load_baseline()
    names = {c.iso3: c.name for c in baseline.countries}
    lines = []
    for path, value in changes.items():
        parts = path.split(".")
        if parts[0] == "countries" and len(parts) == 3:
            if value is None:
                continue
            iso, fld = parts[1], parts[2]
            if fld == "p_participate":
                text = f"takes part with probability {value:.0%}"
            elif isinstance(value, list):
                unit = {"land_troops": "troops", "air": "aircraft", "sea": "vessels"}.get(fld, "")
                text = f"{fld.replace('_troops', '')} {value[0]:,.0f}-{value[1]:,.0f} {unit}".rstrip()
            else:
                text = f"{FIELD_LABELS.get(fld, fld)}: {plain_value(fld, value)}"
            lines.append(f"{names.get(iso, iso)}: {text}")
        elif path in PATH_WORDS:
            label, words = PATH_WORDS[path]
            lines.append(f"{label}: {words(value)}")
        else:
            lines.append(f"{path.rsplit('.', 1)[-1].replace('_', ' ').capitalize()}: {plain_value('', value)}")
    return lines


def describe(base: Scenario, changes: Mapping[str, Any], baseline: Baseline | None = None) -> str:
    """The saved scenario's description: the changes made in the app first, then ``base``'s own description.

    ``base``'s text describes the file before the changes (it may say "no air cover" when the page now
    gives air cover), so it follows the list under a heading that says so. Within the 4000-character limit.
    """
    if not changes:
        return base.description
    head = f"Changed in the app from '{base.name}':\n"
    tail = f"\n\nThe description of '{base.name}', before these changes:\n{base.description.strip()}"
    lines = change_lines(changes, baseline)
    text = head + "\n".join(f"- {x}" for x in lines)
    while len(text) > 4000 and lines:
        lines = lines[:-1]
        text = head + "\n".join(f"- {x}" for x in lines) + "\n- ... (more changes)"
    return (text + tail)[:4000]


def build_scenario(base: Scenario, state: Mapping[str, Any], controls: Sequence[CountryControl],
                   baseline: Baseline | None = None) -> tuple[Scenario, dict[str, Any]]:
    """The validated scenario the controls describe, and the changes to ``base`` it was built from.

    Raises :class:`ScenarioError` (every problem at once) when the controls make an invalid scenario.
    """
    changes = changes_from_state(state, base, controls, baseline)
    name = scenario_name(base, changes, str(state.get("scenario_name", "") or ""))
    # Errors then name the page's settings (and the file they started from) as where the problem is.
    where = f"the page's settings (from {Path(base.source_file).name if base.source_file else base.name})"
    changes_with_text = {**changes, "description": describe(base, changes, baseline), "source_file": where}
    return base.with_changes(changes_with_text, name=name), changes


def lever_scenario(base: Scenario, state: Mapping[str, Any], controls: Sequence[CountryControl],
                   baseline: Baseline | None = None) -> Scenario:
    """``base`` with only the global controls applied (for what countries can sustain); ``base`` if invalid."""
    changes = {k: v for k, v in changes_from_state(state, base, controls, baseline).items()
               if not k.startswith("countries.")}
    try:
        return base.with_changes(changes)
    except ScenarioError:
        return base


# --- scenario files in and out -----------------------------------------------------------------------------

def scenario_toml_bytes(scenario: Scenario) -> bytes:
    """The scenario as a TOML file (UTF-8) that ``reassurance run`` loads back to an equal scenario."""
    header = (f"# Scenario '{scenario.name}', saved from the reassurance app.\n"
              "# Run it with: reassurance run <this file>\n")
    return (header + scenario.to_toml()).encode("utf-8")


def scenario_from_upload(filename: str, data: bytes, base_dir: Path) -> Scenario:
    """Validate an uploaded scenario exactly as the command line validates a file.

    Same size limit and UTF-8 check as :func:`sim.scenario.load_scenario`, then
    :func:`sim.scenario.scenario_from_text`; ``extends`` is looked up in ``base_dir``. Raises
    :class:`ScenarioError` naming ``filename``.
    """
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError([(filename, "", f"file is {len(data)} bytes; at most {MAX_FILE_BYTES} expected")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError([(filename, "", "not UTF-8 text; a TOML scenario file was expected")]) from None
    return scenario_from_text(text, filename, base_dir=base_dir)


# --- outcome tables shaped for display -------------------------------------------------------------------

def condition_descriptions() -> dict[str, str]:
    """Condition name -> what it means (:data:`sim.words.CONDITION_TEXT`)."""
    return dict(words.CONDITION_TEXT)


def condition_label(name: str) -> str:
    """Short display name of a condition (:func:`sim.words.condition_label`)."""
    return words.condition_label(name)


def contribution_frame(per_country: pd.DataFrame, component: str) -> pd.DataFrame:
    """Countries that pledge or give anything of ``component``, largest expected contribution first.

    Columns: ``country``, ``iso3``, ``pledged`` (mean pledge after the capacity cut), ``expected`` (mean
    contribution over the tested months), ``running_total`` (sum of ``expected`` down the list).
    """
    df = pd.DataFrame({
        "country": per_country["country"], "iso3": per_country["iso3"],
        "pledged": per_country[f"pledge_{component}_mean"], "expected": per_country[f"expected_{component}"],
    })
    df = df[(df.pledged > 0) | (df.expected > 0)]
    df = df.sort_values(["expected", "pledged"], ascending=False, kind="stable").reset_index(drop=True)
    df["running_total"] = df["expected"].cumsum()
    return df


def held_back_frame(per_country: pd.DataFrame, min_share: float = 0.01) -> pd.DataFrame:
    """Which condition held which country back, and in what share of runs (at least ``min_share``).

    A long table: ``country``, ``iso3``, ``condition``, ``label``, ``share``; conditions in
    :data:`sim.rules.CONDITIONS` order.
    """
    names = [n for n in rules.CONDITIONS.values() if f"p_held_back_land_{n}" in per_country]
    wide = per_country[["country", "iso3", *(f"p_held_back_land_{n}" for n in names)]]
    long = wide.melt(id_vars=["country", "iso3"], var_name="condition", value_name="share")
    long["condition"] = long["condition"].str.removeprefix("p_held_back_land_")
    long = long[long["share"] >= min_share].reset_index(drop=True)
    long.insert(3, "label", long["condition"].map(condition_label))
    long["share"] = long["share"].astype(float)
    return long[["country", "iso3", "condition", "label", "share"]]


def binding_summary(held: pd.DataFrame, min_share: float = 0.5) -> list[tuple[str, list[tuple[str, float]]]]:
    """Conditions that held countries back in at least ``min_share`` of runs, with whom.

    ``held`` is a :func:`held_back_frame`. Returns ``[(condition, [(country, share), ...]), ...]``, the
    condition holding back most countries first, each list by share, largest first.
    """
    df = held[held["share"] >= min_share]
    out = []
    for name in dict.fromkeys(df["condition"]):
        sub = df[df["condition"] == name].sort_values("share", ascending=False, kind="stable")
        out.append((name, list(zip(sub["country"], sub["share"].astype(float), strict=True))))
    return sorted(out, key=lambda x: -len(x[1]))


def strength_frame(per_month: pd.DataFrame, component: str) -> pd.DataFrame:
    """One component's monthly strength quantiles (``month``, ``q05`` ... ``q95``, ``mean``)."""
    return per_month[per_month["component"] == component].reset_index(drop=True)


def provenance_rows(scenario: Scenario, iso3: str, baseline: Baseline | None = None) -> pd.DataFrame:
    """A country's fields after ``scenario``'s overrides, each with where it comes from.

    Columns: ``field``, ``label`` and ``in_words`` (the field and its value in plain words), ``value``,
    ``raw`` (the value itself), ``kind`` (article, reference, assumption or scenario), ``source``
    (id, publisher, title, date), ``quote``, ``why`` (assumption or note), ``origin`` (path in the data).
    """
    baseline = baseline or load_baseline()
    idx = baseline.iso3.index(iso3)
    c = baseline.countries[idx]
    fields = dict(country_fields(scenario, baseline)[idx])
    fields["active_personnel"] = c.active_personnel
    fields["mine_vessels"] = c.mine_vessels
    rows = []
    for name, s in fields.items():
        src = baseline.sources.get(s.source or "", {})
        if s.origin.startswith("scenario:"):
            kind = "scenario"
        elif s.source:
            kind = src.get("kind", "source")
        else:
            kind = "assumption"
        cite = ""
        if s.source:
            cite = f"{s.source}: {src.get('publisher', '')}, “{src.get('title', '')}” ({src.get('date', '')})"
        value = s.value
        if isinstance(value, list | tuple):
            value = "–".join(f"{v:,}" if isinstance(v, int) else str(v) for v in value)
        rows.append({"field": name, "label": FIELD_LABELS.get(name, name.replace("_", " ").capitalize()),
                     "value": str(value), "in_words": plain_value(name, s.value),
                     "kind": kind, "source": cite, "quote": s.quote or "",
                     "why": s.assumption or s.note or "", "origin": s.origin})
    return pd.DataFrame(rows)


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


# --- plain words for the page: verdict, answer, reasons, sources ---------------------------------------------

def verdict_words(row) -> str:
    """The verdict of one threshold in words: the summary's own.

    By :data:`sim.outcomes.VERDICT_BANDS`, and "cannot be met" above the ceiling: the page, the command line
    and the tables say the same.
    """
    return str(row.verdict)


def threshold_text(row) -> str:
    """A summary row's threshold for a reader: one number, or the range it is drawn from."""
    return words.threshold_text(row.threshold_low, row.threshold_high)


VERDICT_TONE = {**dict(zip((word for _, word in VERDICT_BANDS), ("good", "mixed", "bad"), strict=True)), CANNOT: "bad"}
"""Colour class of each verdict word (the page maps these to colours)."""


def _pct_text(p: float) -> str:
    """A probability for prose: whole percent, with "<1%" / ">99%" near the ends."""
    if 0 < p < 0.005:
        return "under 1%"
    if 0.995 <= p < 1:
        return "over 99%"
    return f"{p:.0%}"


def _names(names: Sequence[str], most: int = 3) -> str:
    names = list(names)
    if len(names) > most:
        return f"{len(names)} countries"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def obstacle_words(binding: Sequence[tuple[str, Sequence[tuple[str, float]]]], backstop: str) -> str | None:
    """The condition holding back most countries, as a clause ("12 countries want more from the US ...").

    ``binding`` is :func:`binding_summary`; ``backstop`` the US backstop level at the start. None if nothing binds.
    """
    if not binding:
        return None
    name, who = binding[0]
    names = [n for n, _ in who]
    many = len(names) > 1
    if name == "us_backstop" and backstop == UNCERTAIN:
        return (f"{_names(names)} may want more from the US for {'their' if many else 'its'} troops than it gives "
                "(what the US gives is uncertain)")
    if name == "us_backstop":
        return (f"{_names(names)} want{'' if many else 's'} more from the US for {'their' if many else 'its'} "
                f"troops than {BACKSTOP_LABELS.get(backstop, backstop).lower()}")
    if name == "un_framework":
        return f"{_names(names)} need{'' if many else 's'} a UN framework and there is none"
    if name == "ceasefire":
        return "there is no ceasefire, and the force deploys only after one"
    if name == "border_priority":
        return f"{_names(names)} keep{'' if many else 's'} troops home while the eastern border is not secure"
    if name == "willingness":
        return f"{_names(names)} often decide{'' if many else 's'} not to take part"
    return f"“{condition_label(name).lower()}” holds back {_names(names)}"


def answer_sentence(summary: pd.DataFrame, held: pd.DataFrame, backstop: str) -> str:
    """One sentence that answers the page's question for the current scenario, in plain words.

    The land verdict with its probability and what it would take (the typical shortfall or margin),
    the air and sea verdicts, and the condition that holds back most countries.
    """
    rows = {r.component: r for r in summary.itertuples()}
    land = rows["land"]
    word = verdict_words(land)
    margin = float(land.median_margin)
    how = (f"a typical run falls about {-margin:,.0f} troops short" if margin < 0
           else f"a typical run clears it by about {margin:,.0f} troops")
    head = (f"A land force of {threshold_text(land)} troops is **{word}**: it holds in "
            f"{_pct_text(land.p_met)} of {land.runs:,} runs and {how}")
    if word == CANNOT:
        head += f" (no run could reach more than {land.ceiling:,.0f}: {land.ceiling_reason})"
    others = [f"{c} {verdict_words(r)}"
              for c, r in (("air", rows.get("air")), ("sea", rows.get("sea"))) if r is not None]
    text = head + ("; " + " and ".join(others) if others else "")
    why = obstacle_words(binding_summary(held, min_share=0.5), backstop)
    return text + (f" — mainly because {why}." if why else ".")


def verdict_cards(summary: pd.DataFrame) -> list[dict[str, str]]:
    """One card per component: ``title``, ``word``, ``tone``, ``p`` (P(met) with interval), ``detail``."""
    cards = []
    for r in summary.itertuples():
        unit = COMPONENT_UNITS[r.component]
        word = verdict_words(r)
        cards.append({
            "component": r.component,
            "title": f"{r.component.capitalize()} ≥ {threshold_text(r)} {unit}",
            "word": word.capitalize(), "tone": VERDICT_TONE[word],
            "p": f"P(met) {r.p_met:.0%} · {r.p_met_low95:.0%}–{r.p_met_high95:.0%}",
            "detail": (f"Lowest strength, median: {r.min_strength_q50:,.0f} {unit} "
                       f"({float(r.median_margin):+,.0f}) · most any run could reach: {r.ceiling:,.0f}"),
        })
    return cards


GLOSSARY: dict[str, str] = {
    "P(met)": "The share of the model's runs in which the force stays at or above the threshold in every tested "
              "month. Each run draws who takes part, governments falling and attacks at random. The range after "
              "it (\u201c18–21%\u201d) is its 95% interval: the uncertainty from the number of runs.",
    "Likely met / uncertain / unlikely": f"Likely met: P(met) at least {VERDICT_BANDS[0][0]:.0%}. Unlikely: under "
                                         f"{VERDICT_BANDS[1][0]:.0%}. Uncertain: in between. Cannot be met: the "
                                         "threshold is above the ceiling, the most any run could reach.",
    "Lowest strength": "The fewest troops (aircraft, vessels) on the ground in any tested month of a run; the "
                       "number in brackets is its median minus the threshold.",
    "Shapley value": "A fair share of the credit for meeting the threshold: a country's average addition to the "
                     "result over every order in which the countries could join.",
    "US backstop": "What the United States gives the force, lowest to highest: none, intelligence, command & "
                   "control, air cover, US command; 'uncertain' draws it per run, as no source pins it down. A "
                   "country sends troops only if it gets what it requires (also drawn per run); its aircraft and "
                   "ships do not wait for it.",
}
"""The few terms the page keeps, each in one or two plain sentences."""


FIELD_LABELS: dict[str, str] = {**concepts.FIELD_LABELS, "active_personnel": "Active military personnel",
                                "mine_vessels": "Mine-countermeasure vessels it has"}
"""Plain names of a country's data fields (the page never shows the field names themselves)."""

_PROB_FIELDS = {"p_participate", "government_fall_hazard", "withdraw_if_government_falls", "casualty_withdraw_prob"}


def plain_value(field: str, value: Any) -> str:
    """A data value in words: yes/no for flags, percent for chances, levels and stances by name."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "not set"
    if field == "required_backstop":
        return BACKSTOP_LABELS.get(value, str(value)).lower()
    if field in _PROB_FIELDS:
        return _pct(float(value))
    if field == "land_share" and isinstance(value, list | tuple):
        return "–".join(_pct(float(v)) for v in value)
    if isinstance(value, list | tuple):
        return "–".join(f"{v:,}" if isinstance(v, int) else str(v) for v in value)
    if isinstance(value, int | float):
        return f"{value:,}" if float(value).is_integer() or isinstance(value, int) else f"{value:,.3g}"
    text = str(value)
    return STANCE_LABELS.get(text, text.replace("_", " "))


SOURCE_LINKS: dict[str, str] = {
    "A003": "https://www.german-foreign-policy.com/en/news/detail/10104",
    "A004": "https://responsiblestatecraft.org/ukraine-security-guarantees",
}
"""Web addresses of the articles whose address is known; the others are linked to a search for their title."""


def article_list(baseline: Baseline | None = None) -> list[dict[str, str]]:
    """The articles the baseline cites, oldest first: ``id``, ``publisher``, ``title``, ``date``, ``link``."""
    baseline = baseline or load_baseline()
    out = []
    for sid, src in baseline.sources.items():
        if src.get("kind") != "article":
            continue
        query = f"\"{src.get('title', '')}\" {src.get('publisher', '')}"
        link = SOURCE_LINKS.get(sid) or "https://duckduckgo.com/?q=" + urllib.parse.quote_plus(query)
        out.append({"id": sid, "publisher": str(src.get("publisher", "")), "title": str(src.get("title", "")),
                    "date": str(src.get("date", "")), "link": link, "direct": str(sid in SOURCE_LINKS)})
    return sorted(out, key=lambda a: (a["date"], a["id"]))


def source_lines(prov: pd.DataFrame) -> list[str]:
    """A country's provenance rows (:func:`provenance_rows`) as plain lines: label, value, where from, quote."""
    lines = []
    for row in prov.itertuples():
        where = {"assumption": "an assumption", "scenario": "set by the scenario"}.get(row.kind, row.source)
        quote = f" — “{row.quote}”" if row.quote else ""
        why = f" — {row.why}" if row.why else ""
        lines.append(f"**{row.label}**: {row.in_words} · {where}{quote}{why}")
    return lines


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


def country_lines(per_country: pd.DataFrame, held: pd.DataFrame, min_share: float = 0.05) -> dict[str, str]:
    """Each country's result in one line to show under its sliders: iso3 -> text."""
    held = held[held["share"] >= min_share].sort_values("share", ascending=False, kind="stable")
    why = {iso: ", ".join(f"{lab} ({s:.0%} of runs)" for lab, s in zip(g["label"], g["share"], strict=True))
           for iso, g in held.groupby("iso3", sort=False)}
    out = {}
    for row in per_country[["iso3", "country", "expected_land", "expected_air", "expected_sea",
                            "share_of_months_deployed"]].itertuples(index=False):
        text = (f"{row.country} in the force, expected: {row.expected_land:,.0f} troops · "
                f"{row.expected_air:,.1f} aircraft · {row.expected_sea:,.1f} vessels · "
                f"deployed {row.share_of_months_deployed:.0%} of tested months")
        if row.iso3 in why:
            text += f"  \nHeld back: {why[row.iso3]}"
        out[row.iso3] = text
    return out


# --- the page's settings in its address ----------------------------------------------------------------------

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
    """
    from sim import timeline

    return timeline.as_of_choices()


def as_of_words() -> dict[str, str]:
    """Each date of the "as of" control in a few words: the date, and whose statements changed something."""
    from sim import timeline

    out = {}
    for day, label in timeline.as_of_labels().items():
        if day == LEDGER_START:
            out[day] = f"{day} · the articles (baseline)"
            continue
        who = list(dict.fromkeys(part.split(" (")[0].strip() for part in label.split(";")))
        shown = ", ".join(who[:4]) + (f" +{len(who) - 4}" if len(who) > 4 else "")
        out[day] = f"{day} · {shown}"
    return out


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


def pivotal_words(table: pd.DataFrame, coalitions: pd.DataFrame, worth: str) -> str:
    """The pivotal-country analysis (:func:`sim.analysis.pivotal_countries`) in two or three plain sentences."""
    players = table[table.player].sort_values("shapley", ascending=False, kind="stable")
    if players.empty:
        return "No country can add anything to this component in this scenario."
    comp = str(table["component"].iloc[0])
    unit = COMPONENT_UNITS[comp]
    n = len(players)
    head = f"{n} {'country can' if n == 1 else 'countries can'} add {unit} here."
    if not (players.shapley.abs() > 1e-12).any():
        if worth == "p_met":
            return (head + " Even all of them together never meet the threshold in these runs, so no country "
                    "changes the chance of meeting it. Switch the measure to “lowest strength” to see who carries "
                    "the force.")
        return head + " None of them adds to the lowest strength in these runs."
    fmt = (lambda v: f"{v:.0%} of the chance") if worth == "p_met" else (lambda v: f"{v:,.0f} {unit}")
    top = "; ".join(f"{r.country} {fmt(r.shapley)}" for r in players.head(3).itertuples())
    text = f"{head} The largest shares (Shapley values): {top}."
    if worth == "p_met" and len(coalitions):
        best = coalitions.iloc[0]
        text += (f" The smallest group that meets the threshold in most runs: {best['countries']} "
                 f"({best['p_met']:.0%} of runs).")
    return text


def gap_words(summary: pd.DataFrame) -> str:
    """The gap-closing plan's one-row summary (:func:`sim.analysis.gap_plan`) as a plain sentence."""
    r = summary.iloc[0]
    unit = COMPONENT_UNITS[str(r["component"])]
    what = f"a {r['component']} force of {r['threshold']:,.0f} {unit}"
    if not r["found"]:
        return (f"No set of up to {int(r['max_changes'])} of the allowed changes lifts the chance of {what} to "
                f"{r['target']:.0%} (it is {_pct_text(float(r['p_met_before']))} now).")
    n = int(r["changes"])
    if n == 0:
        return f"Nothing needs to change: the chance of {what} is already {_pct_text(float(r['p_met_before']))}."
    asked = int(r["countries_asked"])
    return (f"{'One change' if n == 1 else f'{n} changes'} would lift the chance of {what} from "
            f"{_pct_text(float(r['p_met_before']))} to {_pct_text(float(r['p_met_after']))} (the target is "
            f"{r['target']:.0%}), adding {float(r['troops_added']):,.0f} troops and asking "
            f"{asked} {'country' if asked == 1 else 'countries'}"
            + ("; no cheaper set reaches it:" if r["proven_cheapest"] else ":"))
