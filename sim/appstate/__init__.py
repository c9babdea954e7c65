"""The browser page's state and words: pure functions, no Streamlit (``app.py`` draws what these return).

Rooms:

- :mod:`sim.appstate.labels`: names and values in plain words (units, backstop levels, data fields, glossary);
- :mod:`sim.appstate.controls`: every control's default for a scenario, the changes the moved ones make, and
  which sliders cannot change anything now (with why);
- :mod:`sim.appstate.build`: the page's scenario built from the controls, its description in words, its file,
  and uploads checked as the command line checks files;
- :mod:`sim.appstate.link`: the settings in the page's address and back;
- :mod:`sim.appstate.results`: outcome tables shaped for display, the answer sentence and the verdict cards;
- :mod:`sim.appstate.sources`: the articles and each value's source.

The names below are those the page, the charts and the tests use; each is declared once, in its room.
"""

from sim.appstate.build import (
    PATH_WORDS,
    build_scenario,
    change_lines,
    describe,
    scenario_from_upload,
    scenario_name,
    scenario_toml_bytes,
)
from sim.appstate.controls import (
    AIR_SLIDER_MAX,
    CUSTOM,
    DEFAULT_LAND_PRESETS,
    GLOBAL_KEYS,
    GROUPS,
    LEVER_KEYS,
    MAX_APP_REPLICATIONS,
    NOT_IN_FORCE_ROLES,
    CountryControl,
    RangeControl,
    backstop_options,
    backstop_options_text,
    backstop_requirements,
    changes_from_state,
    clamp_notes,
    clamp_state,
    condition_texts,
    control_defaults,
    country_controls,
    inert_reasons,
    land_presets,
    land_step,
    lever_scenario,
    lock_line,
    pledge_words,
    stance_group,
    threshold_land_value,
)
from sim.appstate.labels import (
    BACKSTOP_LABELS,
    COMPONENT_UNITS,
    CONDITION_LABELS,
    FIELD_LABELS,
    GLOSSARY,
    STANCE_LABELS,
    condition_descriptions,
    condition_label,
    plain_value,
)
from sim.appstate.link import as_of_dates, as_of_words, query_to_state, state_to_query
from sim.appstate.results import (
    VERDICT_TONE,
    answer_sentence,
    binding_summary,
    contribution_frame,
    country_lines,
    expected_words,
    gap_words,
    held_back_frame,
    obstacle_words,
    pivotal_words,
    strength_frame,
    threshold_text,
    verdict_cards,
    verdict_words,
)
from sim.appstate.sources import SOURCE_LINKS, article_list, provenance_rows, source_lines

__all__ = [
    "AIR_SLIDER_MAX", "BACKSTOP_LABELS", "COMPONENT_UNITS", "CONDITION_LABELS", "CUSTOM", "CountryControl",
    "DEFAULT_LAND_PRESETS", "FIELD_LABELS", "GLOBAL_KEYS", "GLOSSARY", "GROUPS", "LEVER_KEYS", "MAX_APP_REPLICATIONS",
    "NOT_IN_FORCE_ROLES", "PATH_WORDS", "RangeControl", "SOURCE_LINKS", "STANCE_LABELS", "VERDICT_TONE",
    "answer_sentence", "article_list", "as_of_dates", "as_of_words", "backstop_options", "backstop_options_text",
    "backstop_requirements", "binding_summary", "build_scenario", "change_lines", "changes_from_state", "clamp_notes",
    "clamp_state", "condition_descriptions", "condition_label", "condition_texts", "contribution_frame",
    "control_defaults", "country_controls", "country_lines", "describe", "expected_words", "gap_words",
    "held_back_frame", "inert_reasons", "land_presets", "land_step", "lever_scenario", "lock_line", "obstacle_words",
    "pivotal_words", "plain_value", "pledge_words", "provenance_rows", "query_to_state", "scenario_from_upload",
    "scenario_name", "scenario_toml_bytes", "source_lines", "stance_group", "state_to_query", "strength_frame",
    "threshold_land_value", "threshold_text", "verdict_cards", "verdict_words",
]
