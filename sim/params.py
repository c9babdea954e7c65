"""A scenario compiled against the baseline into the numeric arrays both engines run on.

:func:`compile_params` is the one place where data fields become numbers: a pledge share becomes troops,
capacity becomes what can be sustained under the scenario's rotation ratio, the US backstop schedule
becomes a level per month, each declared uncertainty becomes pinned or drawn (:mod:`sim.uncertainty`).
Both the Mesa model and the ensemble engine take a :class:`Params`.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, replace
from functools import cached_property
from typing import NamedTuple

import numpy as np

from sim import rules
from sim.baseline import BACKSTOP_LEVELS, COMPONENTS, Baseline, load_baseline
from sim.concepts import COUNTRY_FIELDS
from sim.draws import Draws
from sim.scenario import Scenario, country_fields, scenario_baseline
from sim.uncertainty import NAMES, UNCERTAINTIES, Drawn, compile_drawn


@dataclass(frozen=True, eq=False)
class Params:
    """Numbers for one scenario. Per-country arrays are ``[countries]`` in baseline order.

    Units: troops (land), combat aircraft (air), mine-countermeasure vessels (sea); months; monthly
    probabilities. Land capacity is what a country's land forces can sustain under the rotation ratio
    (``rules.sustainable_troops``); its army share is a declared uncertainty, so it is computed per run
    (:meth:`per_run`). ``sea_cap`` is what a navy can sustain; air has no capacity data, so air pledges are
    not capped. Pledge ranges are whole numbers. ``required_backstop`` is a fixed level (index into
    ``BACKSTOP_LEVELS``) where ``required_group`` is -1, else the index (in ``drawn``) of the declared
    uncertainty that gives it per run. ``backstop_scheduled`` is the level scheduled for each month, or -1
    for the run's own (pinned or drawn) ``us_backstop``. ``binds`` is one bit mask per component of the
    conditions that bind it (declared with each condition, :mod:`sim.concepts`). ``countries`` holds every
    declared country field the engines may read (:data:`ENGINE_FIELDS`), one record per country, by the
    field's declared name: a new field declared in :mod:`sim.concepts` reaches both engines' monthly step
    through it (``step.Country.fields``) with no change here.
    """

    iso3: tuple[str, ...]
    names: tuple[str, ...]
    horizon: int
    land_lo: np.ndarray
    land_hi: np.ndarray
    air_lo: np.ndarray
    air_hi: np.ndarray
    sea_lo: np.ndarray
    sea_hi: np.ndarray
    active: np.ndarray
    sea_cap: np.ndarray
    deployable_share: float
    sustainable_share: float
    rotation_ratio: float
    p_participate: np.ndarray
    p_troops: np.ndarray
    required_backstop: np.ndarray
    required_group: np.ndarray
    requires_un: np.ndarray
    mandate_delay: np.ndarray
    follows_leads: np.ndarray
    momentum_threshold: np.ndarray
    border_priority: np.ndarray
    is_lead: np.ndarray
    fall_hazard: np.ndarray
    withdraw_if_fall: np.ndarray
    forced_fall_month: np.ndarray
    casualty_withdraw: np.ndarray
    backstop_scheduled: np.ndarray
    binds: np.ndarray
    countries: np.ndarray
    drawn: tuple[Drawn, ...]
    ceasefire_month: int
    un_framework: np.bool_
    border_secure: np.bool_
    russia_rejects: np.bool_
    incident_rate: float
    threshold_land: float
    assess_start: int

    @property
    def n_countries(self) -> int:
        """Number of countries (agents) in the arrays."""
        return len(self.iso3)

    def uncertainty(self, name: str) -> Drawn:
        """One compiled declared uncertainty."""
        return self.drawn[NAMES.index(name)]

    def land_cap_at(self, army_share) -> np.ndarray:
        """Each country's sustainable land troops at an army share (a number, or ``[runs, 1]``)."""
        return rules.sustainable_troops(rules.land_forces(self.active, army_share), self.deployable_share,
                                        self.rotation_ratio)

    @property
    def land_cap_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Each country's sustainable land troops at the lowest and highest army share of the scenario."""
        share = self.uncertainty("army_share")
        return self.land_cap_at(share.low), self.land_cap_at(share.high)

    def threshold_range(self, component: str) -> tuple[float, float]:
        """The lowest and highest threshold of a component in this scenario (equal when pinned)."""
        if component == "land":
            return self.threshold_land, self.threshold_land
        d = self.uncertainty(f"{component}_threshold")
        return d.low, d.high

    def required_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Each country's lowest and highest required backstop level in this scenario."""
        lo, hi = self.required_backstop.copy(), self.required_backstop.copy()
        for j, g in enumerate(self.required_group):
            if g >= 0:
                lo[j], hi[j] = int(self.drawn[g].low), int(self.drawn[g].high)
        return lo, hi

    def offered_range(self) -> tuple[np.ndarray, np.ndarray]:
        """The lowest and highest US backstop level of each month in this scenario (``[horizon]`` each)."""
        d = self.uncertainty("us_backstop")
        s = self.backstop_scheduled
        return (np.where(s >= 0, s, int(d.low)), np.where(s >= 0, s, int(d.high)))

    def per_run(self, d: Draws) -> PerRun:
        """The run-level quantities of the runs whose draws are ``d`` (numpy; both engines call this)."""
        u = d.uncertain
        values = np.stack([x.draw(u[:, i]) for i, x in enumerate(self.drawn)], axis=1)
        groups = values[:, np.maximum(self.required_group, 0)].astype(np.int64)
        required = np.where(self.required_group >= 0, groups, self.required_backstop[None, :])
        land_cap = self.land_cap_at(values[:, NAMES.index("army_share"), None])
        thresholds = np.stack([np.full(d.n, self.threshold_land), values[:, NAMES.index("air_threshold")],
                               values[:, NAMES.index("sea_threshold")]], axis=1)
        return PerRun(values=values, offered=values[:, NAMES.index("us_backstop")].astype(np.int64),
                      required=required, land_cap=land_cap, thresholds=thresholds)

    def constant_inputs(self, cols) -> dict:
        """The per-country parameters of :func:`sim.rules.run_constants` for countries ``cols``.

        Not the run's ``land_cap``, which :meth:`per_run` gives; the scenario's border lever is added.
        """
        return {
            "p_participate": self.p_participate[cols], "p_troops": self.p_troops[cols],
            "land_lo": self.land_lo[cols], "land_hi": self.land_hi[cols], "air_lo": self.air_lo[cols],
            "air_hi": self.air_hi[cols], "sea_lo": self.sea_lo[cols], "sea_hi": self.sea_hi[cols],
            "sea_cap": self.sea_cap[cols], "border_priority": self.border_priority[cols],
            "border_secure": self.border_secure,
        }

    def fall_inputs(self, cols) -> dict:
        """The per-country parameters of :func:`sim.rules.government_fall_month` for countries ``cols``."""
        return {"hazard": self.fall_hazard[cols], "p_withdraw": self.withdraw_if_fall[cols],
                "forced_month": self.forced_fall_month[cols]}

    def binds_condition(self, bit: int, component: int) -> bool:
        """Whether a condition (its bit) binds a component (0 land, 1 air, 2 sea)."""
        return bool(self.binds[component] & bit)

    @cached_property
    def component_conditions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What the dynamic conditions ask of each country's components, ``[countries, 3]`` each.

        ``follows`` (follows the lead nations), ``momentum`` (others' land troops it needs) and ``delay``
        (months of a parliament's mandate) where that condition binds the component (``binds``); where it
        does not, the condition is met: false, 0 and 0.
        """
        def binding(bit: int) -> np.ndarray:
            return (self.binds & bit) != 0

        return (self.follows_leads[:, None] & binding(rules.LEADS),
                self.momentum_threshold[:, None] * binding(rules.MOMENTUM),
                self.mandate_delay[:, None] * binding(rules.MANDATE))

    @cached_property
    def country_rows(self) -> tuple[CountryRow, ...]:
        """Each country's :attr:`countries` record as plain Python values, for the Mesa agents.

        (Read by the same names as a record in compiled code; numpy's scalars would make every operation
        of an agent's step many times slower.)
        """
        return tuple(CountryRow(*row) for row in self.countries.tolist())

    @cached_property
    def compiled(self) -> Compiled:
        """The scenario's numbers as the ensemble's compiled loop reads them (one structure)."""
        follows, momentum, delay = self.component_conditions
        return Compiled(
            **{name: getattr(self, name) for name in _AS_IS}, follows=follows, momentum=momentum, delay=delay,
            binds=self.binds.astype(np.int64),
            schedule=rules.schedule_events(self.horizon, self.ceasefire_month, self.backstop_scheduled,
                                           self.assess_start),
            border_secure=bool(self.border_secure), ceasefire_month=int(self.ceasefire_month),
            un_framework=bool(self.un_framework), incident_rate=float(self.incident_rate),
            russia_rejects=bool(self.russia_rejects),
            assess_start=int(self.assess_start))


_AS_IS = ("p_participate", "p_troops", "land_lo", "land_hi", "air_lo", "air_hi", "sea_lo", "sea_hi", "sea_cap",
          "border_priority", "requires_un", "is_lead", "casualty_withdraw", "backstop_scheduled", "countries")
"""The fields of :class:`Params` the compiled loop reads as they are (per country, or per month)."""

Compiled = NamedTuple("Compiled", [(name, np.ndarray) for name in _AS_IS] + [
    ("follows", np.ndarray), ("momentum", np.ndarray), ("delay", np.ndarray), ("binds", np.ndarray),
    ("schedule", np.ndarray), ("border_secure", bool), ("ceasefire_month", int), ("un_framework", bool),
    ("incident_rate", float), ("russia_rejects", bool), ("assess_start", int)])
Compiled.__doc__ = """A scenario's numbers for the ensemble's compiled loop, which numba takes as one argument.

A namedtuple of arrays and scalars (:attr:`Params.compiled`): the fields of :class:`Params` named in
``_AS_IS`` (among them ``countries``, every declared country field by name); ``[countries, 3]``
``follows``, ``momentum``, ``delay`` (:attr:`Params.component_conditions`);
``binds`` (``[3]``, int64) and ``schedule`` (``rules.schedule_events``, ``[horizon]``); and the scenario's
scalars as plain Python values.
"""


_ENGINE_KINDS = {"flag": np.bool_, "whole": np.int64, "real": np.float64, "country": np.int64}
"""The kinds of country field the engines read as numbers, and their type (a ``country`` is its index)."""

_ENGINE_DECLARED = tuple(q for q in COUNTRY_FIELDS if q.in_data and q.kind in _ENGINE_KINDS)

ENGINE_FIELDS: tuple[str, ...] = tuple(q.name for q in _ENGINE_DECLARED)
"""The declared country fields in :attr:`Params.countries`: every one the data gives that is a number, a flag
or a country (declared in :mod:`sim.concepts`; a profile that leaves one out takes its ``data_default``)."""

COUNTRY_RECORD = np.dtype([(q.name, _ENGINE_KINDS[q.kind]) for q in _ENGINE_DECLARED], align=True)
"""The record of one country in :attr:`Params.countries`."""

CountryRow = namedtuple("CountryRow", ENGINE_FIELDS)
CountryRow.__doc__ = "One country's :attr:`Params.countries` record as Python values (:attr:`Params.country_rows`)."


def country_records(fields: list[dict], iso3: tuple[str, ...]) -> np.ndarray:
    """The declared country fields the engines read (:data:`ENGINE_FIELDS`), one record per country.

    ``fields``: each country's fields (``scenario.country_fields``); a ``country`` field becomes that
    country's index in ``iso3`` (-1 for none).
    """
    out = np.zeros(len(fields), dtype=COUNTRY_RECORD)
    for q in _ENGINE_DECLARED:
        values = [f[q.name].value for f in fields]
        out[q.name] = [iso3.index(v) if v else -1 for v in values] if q.kind == "country" else values
    return out


class PerRun(NamedTuple):
    """Run-level quantities, ``[runs, ...]``.

    Every declared uncertainty's value (``values``, in
    :data:`sim.uncertainty.NAMES` order), the US backstop offered (a level), each country's required
    level, each country's sustainable land troops, and each component's threshold (``[runs, 3]``).
    """

    values: np.ndarray
    offered: np.ndarray
    required: np.ndarray
    land_cap: np.ndarray
    thresholds: np.ndarray


def default_threshold(component: str, air_mission: str, baseline: Baseline | None = None):
    """The declared range of the air or sea threshold a scenario that pins none draws from.

    A Sourced (with its provenance) whose value is ``[low, high]``.
    """
    baseline = baseline or load_baseline()
    if component not in ("air", "sea"):
        raise ValueError(f"only air and sea have drawn thresholds, not {component!r} (land is set by the scenario)")
    s = baseline.uncertainties[f"{component}_threshold"]
    value = s.value[air_mission] if isinstance(s.value, dict) else s.value
    return replace(s, value=list(value))


def backstop_schedule(scenario: Scenario) -> np.ndarray:
    """The scheduled US backstop level for each month of the horizon.

    -1 until the first scheduled change (the run's own level, pinned or drawn), then the level each change
    sets.
    """
    lv = scenario.levers
    levels = np.full(lv.horizon_months, -1, dtype=np.int64)
    for change in lv.us_backstop_changes:
        levels[change.month:] = BACKSTOP_LEVELS.index(change.level)
    return levels


def _binds(baseline: Baseline) -> np.ndarray:
    """One bit mask per component of the conditions that bind it (their declarations, via the baseline)."""
    masks = np.zeros(3, dtype=np.int16)
    for bit, name in rules.CONDITIONS.items():
        for comp in baseline.conditions[name].value:
            masks[COMPONENTS.index(comp)] |= bit
    return masks


def compile_params(scenario: Scenario, baseline: Baseline | None = None) -> Params:
    """Turn a validated scenario into the arrays the engines run on (its data as of its ``as_of``)."""
    baseline = scenario_baseline(scenario, baseline)
    fields = country_fields(scenario, baseline)
    lv = scenario.levers
    active = np.array([c.active_personnel.value for c in baseline.countries], dtype=float)
    vessels = np.array([c.mine_vessels.value for c in baseline.countries], dtype=float)

    def col(name: str, dtype=float) -> np.ndarray:
        return np.array([f[name].value for f in fields], dtype=dtype)

    # The land range: the scenario's land_troops where given, else the share of active personnel.
    land = np.array([f["land_troops"].value if "land_troops" in f else
                     [f["land_share"].value[0] * a, f["land_share"].value[1] * a] for f, a in zip(fields, active,
                                                                                              strict=True)],
                    dtype=float)
    land_lo, land_hi = np.round(land[:, 0]), np.round(land[:, 1])  # whole troops
    air = np.array([f["air"].value for f in fields], dtype=float)
    sea = np.array([f["sea"].value for f in fields], dtype=float)
    forced = np.array([f["government_falls_month"].value if "government_falls_month" in f else -1 for f in fields],
                      dtype=np.int64)
    pins = {"us_backstop": lv.us_backstop, "backstop_required_by_leads": lv.backstop_required_by_leads,
            "backstop_required_by_others": lv.backstop_required_by_others, "air_threshold": scenario.thresholds.air,
            "sea_threshold": scenario.thresholds.sea, "army_share": lv.army_share}
    drawn = tuple(compile_drawn(u.name, baseline.uncertainties[u.name].value, pins[u.name], BACKSTOP_LEVELS,
                                lv.air_mission) for u in UNCERTAINTIES)
    required = [f["required_backstop"].value for f in fields]

    force = baseline.force
    ceasefire_month = lv.ceasefire_month if lv.ceasefire else int(rules.NEVER)
    return Params(
        iso3=baseline.iso3,
        names=tuple(c.name for c in baseline.countries),
        horizon=lv.horizon_months,
        land_lo=land_lo, land_hi=land_hi,
        air_lo=air[:, 0], air_hi=air[:, 1],
        sea_lo=sea[:, 0], sea_hi=sea[:, 1],
        active=active,
        sea_cap=rules.sustainable_vessels(vessels, lv.rotation_ratio),
        deployable_share=float(force["deployable_share"].value),
        sustainable_share=float(force["sustainable_share"].value),
        rotation_ratio=float(lv.rotation_ratio),
        p_participate=col("p_participate"),
        p_troops=col("p_troops"),
        required_backstop=np.array([BACKSTOP_LEVELS.index(r) if r in BACKSTOP_LEVELS else -1 for r in required],
                                   dtype=np.int64),
        required_group=np.array([NAMES.index(r) if r in NAMES else -1 for r in required], dtype=np.int64),
        requires_un=col("requires_un_framework", bool),
        mandate_delay=col("mandate_delay_months", np.int64),
        follows_leads=col("follows_leads", bool),
        momentum_threshold=col("momentum_threshold"),
        border_priority=col("border_priority", bool),
        is_lead=col("is_lead", bool),
        fall_hazard=col("government_fall_hazard"),
        withdraw_if_fall=col("withdraw_if_government_falls"),
        forced_fall_month=forced,
        casualty_withdraw=col("casualty_withdraw_prob"),
        backstop_scheduled=backstop_schedule(scenario),
        binds=_binds(baseline),
        countries=country_records(fields, baseline.iso3),
        drawn=drawn,
        ceasefire_month=int(ceasefire_month),
        un_framework=np.bool_(lv.un_framework),
        border_secure=np.bool_(lv.eastern_border_secure),
        russia_rejects=np.bool_(lv.russia_stance == "reject"),
        incident_rate=float(lv.incident_rate),
        threshold_land=float(scenario.thresholds.land),
        assess_start=int(rules.assessment_start(ceasefire_month, force["build_up_months"].value,
                                                lv.horizon_months)),
    )
