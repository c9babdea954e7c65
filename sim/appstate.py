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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim import rules, words
from sim.baseline import BACKSTOP_LEVELS, Baseline, Sourced, load_baseline
from sim.params import compile_params, default_threshold
from sim.scenario import MAX_FILE_BYTES, Scenario, ScenarioError, country_fields, scenario_from_text

COMPONENT_UNITS: dict[str, str] = {"land": "troops", "air": "aircraft", "sea": "vessels"}
"""Short unit of each component, for labels and axes."""

BACKSTOP_LABELS: dict[str, str] = {
    "uncertain": "Uncertain (drawn)",
    "none": "None",
    "intelligence": "Intelligence",
    "command_and_control": "Command & control",
    "air_cover": "Air cover",
    "us_command": "US command",
    "backstop_required_by_leads": "What the lead nations require (uncertain: command & control or air cover)",
    "backstop_required_by_others": "What the other contributors require (uncertain: command & control or air cover)",
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

NOT_IN_FORCE_ROLES = {"backstop": "its support is the US-backstop lever, not a contribution",
                      "host": "Ukraine's own army is the core guarantee, not part of the force's count",
                      "adversary": "Russia's stance and strikes are levers (Russia's stance, incident rate)"}
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


def scenario_name(base: Scenario, changes: Mapping[str, Any], typed: str = "") -> str:
    """The name of the page's scenario: what the person typed, else ``base``'s (``-modified`` if changed)."""
    typed = typed.strip()
    if typed:
        return typed
    return f"{base.name}-modified"[:80] if changes else base.name


def change_lines(changes: Mapping[str, Any], baseline: Baseline | None = None) -> list[str]:
    """Each change as a readable line (``France: land troops 0-0``)."""
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
                text = f"{fld} = {value}"
            lines.append(f"{names.get(iso, iso)}: {text}")
        else:
            lines.append(f"{path} = {'data default' if value is None else value}")
    return lines


def describe(base: Scenario, changes: Mapping[str, Any], baseline: Baseline | None = None) -> str:
    """``base``'s description, followed by the list of changes made in the app (within the 4000-character limit)."""
    if not changes:
        return base.description
    head = f"{base.description.rstrip()}\n\nChanged in the app from '{base.name}':\n"
    lines = change_lines(changes, baseline)
    text = head + "\n".join(f"- {x}" for x in lines)
    while len(text) > 4000 and lines:
        lines = lines[:-1]
        text = head + "\n".join(f"- {x}" for x in lines) + "\n- ... (more changes)"
    return text[:4000]


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

    Columns: ``field``, ``value``, ``kind`` (article, reference, assumption or scenario), ``source``
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
        rows.append({"field": name, "value": str(value), "kind": kind, "source": cite, "quote": s.quote or "",
                     "why": s.assumption or s.note or "", "origin": s.origin})
    return pd.DataFrame(rows)


def backstop_requirements(controls: Sequence[CountryControl], scenario: Scenario,
                          baseline: Baseline | None = None) -> dict[str, list[str]]:
    """Backstop level -> names of the countries (counted in the force) that require exactly that level."""
    baseline = baseline or load_baseline()
    out: dict[str, list[str]] = {lvl: [] for lvl in BACKSTOP_LEVELS}
    for c, f in zip(controls, country_fields(scenario, baseline), strict=True):
        if c.in_force and f["p_participate"].value > 0:
            out.setdefault(f["required_backstop"].value, []).append(c.name)
    return out
