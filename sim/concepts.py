"""Every lever, threshold, country field, condition, level and role of the model, declared once.

A declaration says what a thing is — its type, bounds, unit, a short label, what it stands for in plain
words, and for a condition its bit and which components (land, air, sea) it binds, with the provenance of
that reading. Everything else is derived from here: the scenario schema (:mod:`sim.fields`,
:mod:`sim.scenario`), the data checks (:mod:`sim.baseline`), the condition bits of :mod:`sim.rules` and
the compiled masks, the tables' ``held_back_*`` columns, the words of the command line and the page
(:mod:`sim.words`), the widgets' bounds, and the tables of ``scenarios/README.md``
(``python scripts/doc_tables.py`` writes them; a test checks they are current).

This module imports nothing from the model, so :mod:`sim.rules` can read its bits. Adding a condition
is its :class:`Condition` here, its rule in :mod:`sim.rules`, and its test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

COMPONENTS: tuple[str, ...] = ("land", "air", "sea")
"""The components of the force, in the order of every ``[..., 3]`` axis."""

UNITS: dict[str, str] = {"land": "troops", "air": "combat aircraft", "sea": "mine-countermeasure vessels"}
"""The unit each component is counted in."""

SHORT_UNITS: dict[str, str] = {"land": "troops", "air": "aircraft", "sea": "vessels"}
"""The same units, short: for labels, axes and sentences that already say which component."""

MAX_HORIZON_MONTHS = 600
"""The longest horizon a scenario may simulate (months); every month field is bounded by it."""

UNCERTAIN = "uncertain"
"""The value of a pinning field that leaves the quantity drawn per run (the default)."""


# --- US backstop levels ------------------------------------------------------------------------------

LEVELS: dict[str, str] = {
    "none": "none", "intelligence": "intelligence", "command_and_control": "command & control",
    "air_cover": "air cover", "us_command": "US command",
}
"""US backstop levels, lowest to highest, with their words. A country's requirement is met when the
offered level is at least it. ``sim/data/countries.toml`` ``[backstop_levels].order`` cites the same
order from its source and is checked against this one."""

BACKSTOP_LEVELS: tuple[str, ...] = tuple(LEVELS)


# --- roles ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Role:
    """A country's role. ``counted``: its pledges count in the force.

    Otherwise ``why`` says why not (for the page) and ``instead`` which levers stand for it (for a scenario
    that tries to change it).
    """

    name: str
    counted: bool = True
    why: str = ""
    instead: str = ""


ROLES_DECLARED: tuple[Role, ...] = (
    Role("contributor"), Role("observer"), Role("outside"),
    Role("backstop", False, "its support is the US-backstop lever, not a contribution",
         "the US acts through levers.us_backstop and levers.us_backstop_changes"),
    Role("host", False, "Ukraine's own army is the core guarantee, not part of the force's count",
         "Ukraine's own army is the core guarantee, outside the force's count"),
    Role("adversary", False, "Russia's stance and strikes are levers (Russia's stance, incident rate)",
         "Russia acts through levers.russia_stance and levers.incident_rate"),
)
ROLES: tuple[str, ...] = tuple(r.name for r in ROLES_DECLARED)
NOT_COUNTED: dict[str, Role] = {r.name: r for r in ROLES_DECLARED if not r.counted}
"""Roles whose countries count nothing in the force and take no per-country overrides."""

STANCES: tuple[str, ...] = (
    "willing", "conditional", "considering", "ruled_out", "not_stated", "none", "materiel", "backstop", "host",
)
"""A country's stance on a component, as reported (descriptive: behaviour comes from the numeric fields)."""


# --- levers, thresholds and country fields ------------------------------------------------------------

Kind = Literal["flag", "whole", "real", "choice", "text", "country", "range_whole", "range_real", "level",
               "maybe_level", "required_level", "schedule"]


@dataclass(frozen=True)
class Quantity:
    """One lever, threshold or country field.

    ``kind``: ``flag`` (true/false), ``whole`` or ``real`` (a number in ``[low, high]``; ``low_open``:
    ``> low``), ``choice`` (one of ``choices``), ``text``, ``country`` (a country code of the data, or ``""``
    for none; compiled to its index, -1 for none), ``range_whole`` / ``range_real`` (``[min, max]``,
    each in the bounds, min <= max), ``level`` (a backstop level), ``maybe_level`` (a level or
    ``"uncertain"``), ``required_level`` (a level or a declared uncertainty that draws it), ``schedule``
    (the backstop's changes). ``default``: :data:`REQUIRED`, or the value a scenario gets when it leaves
    the field out (None: not set). ``label``: a few words for a person; ``text``: what it stands for.
    Country fields only: ``in_data`` (the baseline gives it), ``in_scenario`` (a scenario may override it),
    ``optional`` (a profile need not give it), ``checked_late`` (a choice the schema takes as text and the
    file check compares with ``choices``, so the message lists them). ``step``, ``choice_words``: for
    widgets (a slider's step; each choice in words). ``data_default``: the value of a country field a
    profile of the data leaves out, with the ``assumption`` that justifies it (its provenance), so a new
    field need not be written into every profile.
    """

    name: str
    kind: Kind
    label: str
    text: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None
    in_data: bool = True
    in_scenario: bool = True
    optional: bool = False
    checked_late: bool = False
    step: float | None = None
    choice_words: tuple[str, ...] = ()
    data_default: Any = None
    assumption: str = ""

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """``(low, high)``: what a widget for it may offer."""
        return self.low, self.high

    def in_words(self, value: Any) -> str:
        """A choice in words (``choice_words``, in the order of ``choices``); anything else as it is."""
        words = dict(zip(self.choices, self.choice_words, strict=False))
        return words.get(value, str(value))


REQUIRED = ...
"""The default of a field a scenario must give (once ``extends`` is resolved)."""

_M = MAX_HORIZON_MONTHS
_TROOPS = 2_000_000

LEVERS: tuple[Quantity, ...] = (
    Quantity("us_backstop", "maybe_level", "US backstop",
             "the US support the run gets; `uncertain` draws it per run from the declared options "
             "(`sim/data/countries.toml` `[uncertainties]`), a level pins it. A004 reports the offer \"intelligence "
             "and command and control assistance\" but that Trump \"has avoided promising any form of direct U.S. "
             "intervention\"; the Europeans ask for air cover (A002)", "level", default=REQUIRED),
    Quantity("backstop_required_by_leads", "maybe_level", "US backstop the lead nations require",
             "the level the lead nations (and Estonia, Lithuania) require for their troops: drawn per run from "
             "the declared options (A004: US support \"to enable, oversee and protect European troops\"), or "
             "pinned", "level", default=UNCERTAIN),
    Quantity("backstop_required_by_others", "maybe_level", "US backstop the others require",
             "the level the other contributors require for their troops: drawn per run from the declared "
             "options (A000 \"without US support, they are going nowhere\"; A002 \"above all … air cover\"), or "
             "pinned", "level", default=UNCERTAIN),
    Quantity("army_share", "real", "Army share",
             "land forces as a share of every country's active personnel (GFP counts all services; NATO's 40% "
             "deployable applies to land forces); sets each country's sustainable land troops with "
             "`rotation_ratio`", "share", 0.0, 1.0, low_open=True),
    Quantity("us_backstop_changes", "schedule", "US backstop changes",
             "the backstop changes from month `M` on (e.g. withdrawn in month 12); months increasing, each "
             "before `horizon_months`", default=()),
    Quantity("ceasefire", "flag", "Ceasefire", "a ceasefire takes effect; the force deploys only after one (A003)",
             default=REQUIRED),
    Quantity("ceasefire_month", "whole", "Ceasefire from month",
             "when the ceasefire takes effect (month 0 is the coalition's own premise); before `horizon_months` "
             "if `ceasefire`", "month", 0, _M, default=REQUIRED),
    Quantity("un_framework", "flag", "UN framework",
             "the force operates in a UN framework (Italy's condition, A002); needs `russia_stance = "
             "\"tolerate\"`: a Security Council mandate needs Russia's vote, and Lavrov wants the permanent "
             "members among the guarantors (A002); `true` with `reject` is refused", default=REQUIRED),
    Quantity("eastern_border_secure", "flag", "Eastern border secure",
             "Poland's border no longer keeps its troops home (A002)", default=REQUIRED),
    Quantity("russia_stance", "choice", "Russia",
             "Russia rejects the force (A003, A004) and may strike it, or tolerates it",
             choices=("reject", "tolerate"), choice_words=("rejects the force", "tolerates it"), default=REQUIRED),
    Quantity("incident_rate", "real", "Chance of a strike on the force",
             "chance a month that Russia strikes the force's troops while rejecting it", "probability per month",
             0.0, 1.0, default=REQUIRED),
    Quantity("rotation_ratio", "real", "Rotation ratio",
             "units needed per unit deployed (rule of thirds: 3): caps what each country can sustain (land: army "
             "share x active personnel x 40% / ratio; sea: mine-warfare vessels / ratio)", "ratio", 1.0, 10.0,
             default=REQUIRED, step=0.5),
    Quantity("horizon_months", "whole", "Horizon", "months simulated", "months", 1, _M, default=REQUIRED),
    Quantity("air_mission", "choice", "Air mission",
             "the air component's task (A001); picks the range the air threshold is drawn from",
             choices=("air_support", "no_fly_zone"), choice_words=("air support", "no-fly zone"), default=REQUIRED),
)
"""The global levers (``[levers]``), in the order a scenario is written back."""

THRESHOLDS: tuple[Quantity, ...] = (
    Quantity("land", "real", "Land threshold", "troops the force must hold over the assessment window: A000 "
             "30,000 \"to be credible\"; A002 \"30-40 thousand at least\"; A004 \"between 10,000 and 100,000\"",
             "troops", 0, _TROOPS, low_open=True, default=REQUIRED),
    Quantity("air", "real", "Air threshold",
             "aircraft the air mission needs; not set: drawn per run from the data's range for the `air_mission` "
             "(a declared uncertainty); a value pins it", "combat aircraft", 0, 10_000, low_open=True),
    Quantity("sea", "real", "Sea threshold",
             "vessels a de-mining group needs; not set: drawn per run from the data's range (a declared "
             "uncertainty); a value pins it", "mine-countermeasure vessels", 0, 1_000, low_open=True),
)
"""What a credible force must hold over the assessment window (``[thresholds]``), one per component."""


def _flag(name: str, label: str, text: str, **kw: Any) -> Quantity:
    return Quantity(name, "flag", label, text, **kw)


def _prob(name: str, label: str, text: str, unit: str = "probability", **kw: Any) -> Quantity:
    return Quantity(name, "real", label, text, unit, 0.0, 1.0, **kw)


def _stance(comp: str, what: str) -> Quantity:
    return Quantity(f"{comp}_stance", "choice", f"Stance on {what}", f"its stance on {what}, as reported "
                    "(descriptive: behaviour comes from the numeric fields)", choices=STANCES, checked_late=True)


COUNTRY_FIELDS: tuple[Quantity, ...] = (
    Quantity("role", "choice", "Role", "its part: a contributor, or a country the force does not count",
             choices=ROLES, in_scenario=False),
    _flag("is_lead", "Lead nation", "a lead nation (the others follow the lead nations onto the ground)"),
    _flag("coalition_member", "Member of the coalition", "a member of the coalition of the willing (descriptive)"),
    *(_stance(comp, SHORT_UNITS[comp]) for comp in COMPONENTS),
    Quantity("land_share", "range_real", "Troops offered (share of its active army)",
             "pledge range as a share of its active personnel", "share", 0.0, 1.0),
    Quantity("land_troops", "range_real", "Troops offered",
             "pledge range in troops (replaces `land_share`)", "troops", 0, _TROOPS, optional=True),
    Quantity("air", "range_whole", "Combat aircraft offered", "air pledge range", "aircraft", 0, 1000),
    Quantity("sea", "range_whole", "Mine-countermeasure vessels offered", "sea pledge range", "vessels", 0, 100),
    Quantity("training", "text", "Training", "its training offer (descriptive)", in_scenario=False),
    Quantity("materiel", "text", "Materiel", "its materiel offer (descriptive)", in_scenario=False),
    _prob("p_participate", "Chance it takes part",
          "chance the country takes part at all, with any component (one draw per run)"),
    _prob("p_troops", "Chance it sends troops",
          "chance that, taking part, it sends land troops (one draw per run; its aircraft and ships do not "
          "depend on it)"),
    Quantity("required_backstop", "required_level", "US backstop it requires",
             "the lowest US backstop under which it sends troops; naming a declared uncertainty "
             "(`backstop_required_by_leads` / `backstop_required_by_others`) makes it that group's per-run draw"),
    _flag("requires_un_framework", "Needs a UN framework", "deploys only in a UN framework"),
    Quantity("mandate_delay_months", "whole", "Months to get parliament's mandate",
             "months a parliament's mandate delays deployment, counted from when it is ready", "months", 0, _M),
    _flag("follows_leads", "Deploys only beside the lead nations",
          "deploys only while a lead nation (France, the UK) is deployed"),
    Quantity("momentum_threshold", "real", "Joins once others have deployed",
             "deploys only once the others have at least this many troops deployed", "troops", 0, _TROOPS),
    _flag("border_priority", "Keeps troops home while the eastern border is not secure",
          "keeps land troops home unless `eastern_border_secure`"),
    _prob("government_fall_hazard", "Chance its government falls, each month",
          "chance a month that its government falls", "probability per month"),
    _prob("withdraw_if_government_falls", "Chance it leaves if its government falls",
          "chance a fall of government ends its deployment"),
    _prob("casualty_withdraw_prob", "Chance it leaves after an attack on its troops",
          "chance it withdraws after an attack on its own troops"),
    Quantity("government_falls_month", "whole", "Government falls in month",
             "a forced fall of government in this month (before `horizon_months`)", "month", 0, _M,
             in_data=False),
)
"""A country's fields: the baseline's (``sim/data/countries.toml``) and a scenario's overrides
(``[countries.XXX]``), in the order of the data's profiles."""

DATA_FIELDS: tuple[Quantity, ...] = tuple(q for q in COUNTRY_FIELDS if q.in_data)
OVERRIDE_FIELDS: tuple[Quantity, ...] = tuple(q for q in COUNTRY_FIELDS if q.in_scenario)
RANGE_FIELDS: tuple[str, ...] = tuple(q.name for q in COUNTRY_FIELDS if q.kind.startswith("range"))
"""Country fields that are [min, max] ranges, drawn uniformly per run."""

FIELD_LABELS: dict[str, str] = {q.name: q.label for q in COUNTRY_FIELDS}
"""Plain names of a country's fields (the page never shows the field names themselves)."""


def lever(name: str) -> Quantity:
    """The declaration of a lever or threshold by its dotted path (``levers.rotation_ratio``) or lever name."""
    head, _, rest = name.rpartition(".")
    pool = THRESHOLDS if head == "thresholds" else LEVERS
    for q in pool:
        if q.name == rest:
            return q
    raise KeyError(name)


# --- conditions ----------------------------------------------------------------------------------------

HOLDS_BACK_ONLY = "holds back only"
WAITS_ON_LEADS = "waits on the lead nations"
WAITS_ON_TROOPS = "waits on the others' troops"


@dataclass(frozen=True)
class Condition:
    """Why a country that has something to offer is not (or no longer) deployed.

    ``bit``: its flag in the ``[runs, countries]`` reason arrays (int16: bits 0-14). ``label``: a few
    words; ``text``: a sentence. ``binds``: the components it holds back, with the provenance of that
    reading (``source`` and ``quote``, and/or ``assumption``; ``note``), checked like the data's.
    ``bounds``: how the ceilings and the analyses' bounds (:mod:`sim.ceiling`) treat it when the rules'
    static functions do not compute it: :data:`HOLDS_BACK_ONLY` (an upper bound may leave it out),
    :data:`WAITS_ON_LEADS` or :data:`WAITS_ON_TROOPS` (it can hold a component back until other countries'
    land troops are on the ground, so the pivotal analysis counts every land contributor as a player of
    that component). ``""``: the rules compute it (:func:`sim.ceiling.check_conditions` refuses a condition
    that is in neither place).
    """

    name: str
    bit: int
    label: str
    text: str
    binds: tuple[str, ...]
    source: str | None = None
    quote: str | None = None
    assumption: str | None = None
    note: str | None = None
    bounds: str = ""

    @property
    def waits_on_land(self) -> bool:
        """It can hold a component back until other countries' land troops are on the ground."""
        return self.bounds in (WAITS_ON_LEADS, WAITS_ON_TROOPS)


CONDITIONS_DECLARED: tuple[Condition, ...] = (
    Condition("ceasefire", 1 << 0, "No ceasefire yet", "no ceasefire in force yet", COMPONENTS,
              "A001", "to stabilise Ukraine in the post-conflict period, providing assets of various kinds for the "
              "three main components of this operation", note="The whole force is for after a ceasefire."),
    Condition("us_backstop", 1 << 1, "US backstop too low", "the US backstop is below what the country requires",
              ("land",), "A004", "any deployment could only take place with US support to enable, oversee and "
              "protect European troops", note="Also A000 on 'boots on the ground': 'without US support, they are "
              "going nowhere'. About troops."),
    Condition("un_framework", 1 << 2, "No UN framework", "the country requires a UN framework and there is none",
              ("land",), "A001", "reiterated \"Italy's unwillingness to send soldiers to Ukraine\"",
              note="A002: Italy ruled out 'the option' of sending troops unless in a UN framework. About soldiers."),
    Condition("border_priority", 1 << 3, "Border priority",
              "land troops stay home while the eastern border is not secure", ("land",), "A002",
              "has no intention to weaken its eastern border with Belarus and the Russian exclave of Kaliningrad",
              note="Keeps land troops home; says nothing of aircraft or ships."),
    Condition("willingness", 1 << 4, "Not willing (draw)", "the country's willingness draw said it does not take part",
              COMPONENTS, "A001", "26 countries have pledged",
              note="Taking part at all, 'by land, by sea, or by air'."),
    Condition("government_fell", 1 << 5, "Government fell", "its government fell and it withdrew", COMPONENTS,
              assumption="A government that falls and withdraws takes its whole contribution home."),
    Condition("lead_nations", 1 << 6, "Lead nations absent", "it follows the lead nations and none was deployed",
              ("land",), "A000", "the only ones willing to send the proverbial \"boots on the ground\" are Macron "
              "and Starmer", note="The others follow the lead nations onto the ground.", bounds=WAITS_ON_LEADS),
    Condition("momentum", 1 << 7, "Too few others deployed",
              "the others had fewer troops deployed than its momentum threshold", ("land",),
              assumption="Waiting for the others' troops on the ground (a force that exists) is about sending "
              "troops.", bounds=WAITS_ON_TROOPS),
    Condition("parliament_mandate", 1 << 8, "Awaiting mandate", "waiting for a parliament's mandate", COMPONENTS,
              "A003", "examine whether \"decisions requiring a mandate\" from the Bundestag might have to be taken",
              note="A parliamentary mandate covers any armed deployment.", bounds=HOLDS_BACK_ONLY),
    Condition("incident", 1 << 9, "Left after an attack", "it withdrew after an attack on its troops", ("land",),
              assumption="Russia's strikes are modelled on troops on the ground (A003: two Danish deminers killed); "
              "the country hit takes its troops home.", bounds=HOLDS_BACK_ONLY),
    Condition("cascade", 1 << 10, "Left as force shrank", "it withdrew because the force shrank or the leads left",
              COMPONENTS, assumption="A component that leaves the force leaves for good; each component is "
              "followed on its own.", bounds=HOLDS_BACK_ONLY),
    Condition("capacity", 1 << 11, "Pledge over capacity", "its pledge exceeded what it can sustain and was cut",
              ("land", "sea"), assumption="Capacity data exist for troops and mine-warfare vessels, not for combat "
              "aircraft."),
    Condition("troops_decision", 1 << 12, "No troops (draw)",
              "it takes part, but its troops decision (a draw) said no land troops", ("land",), "A002",
              "Even the United Kingdom is reportedly reconsidering the deployment of troops",
              note="A decision on troops, not on aircraft or ships (also A004: Turkey 'weighing whether to send "
              "troops')."),
)
"""Every condition, in bit order (the order of the tables' ``held_back_*`` columns)."""

CONDITIONS: dict[int, str] = {c.bit: c.name for c in CONDITIONS_DECLARED}
"""Bit -> short name used in tables."""

BIT: dict[str, int] = {c.name: c.bit for c in CONDITIONS_DECLARED}
"""Short name -> bit."""


def condition(name: str) -> Condition:
    """The declaration of a condition by its short name (KeyError if none)."""
    for c in CONDITIONS_DECLARED:
        if c.name == name:
            return c
    raise KeyError(name)


def binds_masks() -> tuple[int, int, int]:
    """One bit mask per component of the conditions that bind it."""
    return tuple(sum(c.bit for c in CONDITIONS_DECLARED if comp in c.binds) for comp in COMPONENTS)


WAITS_ON_LAND: int = sum(c.bit for c in CONDITIONS_DECLARED if c.waits_on_land)

DEPENDENT_CONDITIONS: dict[int, str] = {c.bit: c.bounds for c in CONDITIONS_DECLARED if c.bounds}
"""Bit -> how the bounds treat each condition the rules' static functions do not compute (``bounds``)."""
"""The bits of the conditions that can hold a component back until others' land troops are deployed."""


def _check_declarations() -> None:
    """Bits are distinct single bits that fit int16; names are distinct; binds name components."""
    bits = [c.bit for c in CONDITIONS_DECLARED]
    if len(set(bits)) != len(bits) or any(b <= 0 or b & (b - 1) or b >= 1 << 15 for b in bits):
        raise ValueError(f"condition bits must be distinct single bits below 1 << 15: {bits}")
    if bits != sorted(bits):
        raise ValueError("conditions are declared in bit order (the tables' column order)")
    for c in CONDITIONS_DECLARED:
        if not c.binds or set(c.binds) - set(COMPONENTS) or not (c.source or c.assumption):
            raise ValueError(f"condition {c.name}: binds must name components {COMPONENTS}, with a source or "
                             "an assumption")
    for q in COUNTRY_FIELDS:
        if q.data_default is not None and not q.assumption:
            raise ValueError(f"country field {q.name}: a data_default needs the assumption that justifies it")
    for group in (LEVERS, THRESHOLDS, COUNTRY_FIELDS, CONDITIONS_DECLARED):
        names = [q.name for q in group]
        if len(set(names)) != len(names):
            raise ValueError(f"a name is declared twice: {names}")


_check_declarations()
