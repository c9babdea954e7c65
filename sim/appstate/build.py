"""The page's scenario: built from the controls, described in plain words, saved and uploaded as TOML.

No Streamlit. The scenario the page runs is :func:`build_scenario`'s; its file is :func:`scenario_toml_bytes`
(``reassurance run`` loads it back unchanged), and an upload is checked by :func:`scenario_from_upload` as the
command line checks a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sim import concepts
from sim.appstate.controls import CountryControl, changes_from_state
from sim.appstate.labels import BACKSTOP_LABELS, FIELD_LABELS, plain_value
from sim.baseline import Baseline, load_baseline
from sim.scenario import MAX_FILE_BYTES, Scenario, ScenarioError, scenario_from_text


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
                comp = fld.replace("_troops", "")  # land_troops, air, sea: a component's pledge range
                text = f"{comp} {value[0]:,.0f}-{value[1]:,.0f} {concepts.SHORT_UNITS.get(comp, '')}".rstrip()
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
