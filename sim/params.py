"""A scenario compiled against the baseline into the numeric arrays both engines run on.

:func:`compile_params` is the one place where data fields become numbers: a pledge share becomes troops,
capacity becomes what can be sustained under the scenario's rotation ratio, the US backstop schedule
becomes a level per month. Both the Mesa model and the ensemble engine take a :class:`Params`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import rules
from sim.baseline import BACKSTOP_LEVELS, Baseline, Sourced, load_baseline
from sim.scenario import Scenario, country_fields


@dataclass(frozen=True, eq=False)
class Params:
    """Numbers for one scenario. Per-country arrays are ``[countries]`` in baseline order.

    Units: troops (land), combat aircraft (air), mine-countermeasure vessels (sea); months; monthly
    probabilities. ``land_cap``/``sea_cap`` are what can be sustained (rules.sustainable_*); air has no
    capacity data, so air pledges are not capped. Pledge ranges are whole numbers.
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
    land_cap: np.ndarray
    sea_cap: np.ndarray
    p_participate: np.ndarray
    required_backstop: np.ndarray
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
    backstop_by_month: np.ndarray
    ceasefire_month: int
    un_framework: np.bool_
    border_secure: np.bool_
    russia_rejects: np.bool_
    incident_rate: float
    threshold_land: float
    threshold_air: float
    threshold_sea: float
    assess_start: int

    @property
    def n_countries(self) -> int:
        """Number of countries (agents) in the arrays."""
        return len(self.iso3)

    def constant_inputs(self, cols) -> dict:
        """The per-country parameters of :func:`sim.rules.run_constants` for countries ``cols``.

        ``cols`` is an index or an index array; the scenario's border lever is added.
        """
        return {
            "p_participate": self.p_participate[cols], "land_lo": self.land_lo[cols],
            "land_hi": self.land_hi[cols], "land_cap": self.land_cap[cols], "air_lo": self.air_lo[cols],
            "air_hi": self.air_hi[cols], "sea_lo": self.sea_lo[cols], "sea_hi": self.sea_hi[cols],
            "sea_cap": self.sea_cap[cols], "border_priority": self.border_priority[cols],
            "border_secure": self.border_secure,
        }

    def fall_inputs(self, cols) -> dict:
        """The per-country parameters of :func:`sim.rules.government_fall_month` for countries ``cols``."""
        return {"hazard": self.fall_hazard[cols], "p_withdraw": self.withdraw_if_fall[cols],
                "forced_month": self.forced_fall_month[cols]}

    @property
    def thresholds(self) -> dict[str, float]:
        """Threshold per component: troops, aircraft, vessels."""
        return {"land": self.threshold_land, "air": self.threshold_air, "sea": self.threshold_sea}


def backstop_schedule(scenario: Scenario) -> np.ndarray:
    """The US backstop level (index into BACKSTOP_LEVELS) for each month of the horizon."""
    lv = scenario.levers
    levels = np.full(lv.horizon_months, BACKSTOP_LEVELS.index(lv.us_backstop), dtype=np.int64)
    for change in lv.us_backstop_changes:
        levels[change.month:] = BACKSTOP_LEVELS.index(change.level)
    return levels


def default_threshold(component: str, air_mission: str, baseline: Baseline | None = None) -> Sourced:
    """The air or sea threshold the data gives when a scenario sets none, with its provenance.

    Air depends on the mission (air support on demand, or a no-fly zone); sea is the de-mining group.
    """
    baseline = baseline or load_baseline()
    if component == "air":
        return baseline.force[f"air_threshold_{air_mission}"]
    if component == "sea":
        return baseline.force["sea_threshold"]
    raise ValueError(f"only air and sea have data defaults, not {component!r} (land is set by the scenario)")


def compile_params(scenario: Scenario, baseline: Baseline | None = None) -> Params:
    """Turn a validated scenario into the arrays the engines run on."""
    baseline = baseline or load_baseline()
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

    force = baseline.force
    thr_air = scenario.thresholds.air
    if thr_air is None:
        thr_air = default_threshold("air", lv.air_mission, baseline).value
    thr_sea = scenario.thresholds.sea
    if thr_sea is None:
        thr_sea = default_threshold("sea", lv.air_mission, baseline).value
    ceasefire_month = lv.ceasefire_month if lv.ceasefire else int(rules.NEVER)
    return Params(
        iso3=baseline.iso3,
        names=tuple(c.name for c in baseline.countries),
        horizon=lv.horizon_months,
        land_lo=land_lo, land_hi=land_hi,
        air_lo=air[:, 0], air_hi=air[:, 1],
        sea_lo=sea[:, 0], sea_hi=sea[:, 1],
        land_cap=rules.sustainable_troops(active, force["deployable_share"].value, lv.rotation_ratio),
        sea_cap=rules.sustainable_vessels(vessels, lv.rotation_ratio),
        p_participate=col("p_participate"),
        required_backstop=np.array([BACKSTOP_LEVELS.index(f["required_backstop"].value) for f in fields],
                                   dtype=np.int64),
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
        backstop_by_month=backstop_schedule(scenario),
        ceasefire_month=int(ceasefire_month),
        un_framework=np.bool_(lv.un_framework),
        border_secure=np.bool_(lv.eastern_border_secure),
        russia_rejects=np.bool_(lv.russia_stance == "reject"),
        incident_rate=float(lv.incident_rate),
        threshold_land=float(scenario.thresholds.land),
        threshold_air=float(thr_air),
        threshold_sea=float(thr_sea),
        assess_start=int(rules.assessment_start(ceasefire_month, force["build_up_months"].value,
                                                lv.horizon_months)),
    )
