"""Declared uncertainties: quantities that decide verdicts and that no source pins down.

Each is declared once here (its name, kind, the scenario field that pins it, a label and unit). Its
options with weights, or its range, live in ``sim/data/countries.toml`` ``[uncertainties]`` with their
provenance. Unless a scenario pins it, each is drawn once per run from its own uniform (the run streams
of :mod:`sim.draws`), identically in both engines, and written to the per-run table, so the summary can
say which of them decides a verdict (``drivers`` table, :mod:`sim.outcomes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from sim import rules
from sim.concepts import UNCERTAIN


@dataclass(frozen=True)
class Uncertainty:
    """One declared uncertainty.

    ``kind``: ``level`` (a US backstop level, options with weights), ``whole`` (a whole number drawn
    uniformly from a range) or ``real`` (a real number drawn uniformly from a range). ``pin``: the dotted
    scenario field that pins it (``"uncertain"`` or absent there: drawn).
    """

    name: str
    kind: Literal["level", "whole", "real"]
    pin: str
    label: str
    unit: str


UNCERTAINTIES: tuple[Uncertainty, ...] = (
    Uncertainty("us_backstop", "level", "levers.us_backstop",
                "the backstop the US in fact gives", "level"),
    Uncertainty("backstop_required_by_leads", "level", "levers.backstop_required_by_leads",
                "the US backstop the lead nations require for their troops", "level"),
    Uncertainty("backstop_required_by_others", "level", "levers.backstop_required_by_others",
                "the US backstop the other contributors require for their troops", "level"),
    Uncertainty("air_threshold", "whole", "thresholds.air",
                "the air threshold (aircraft a credible air mission needs)", "combat aircraft"),
    Uncertainty("sea_threshold", "whole", "thresholds.sea",
                "the sea threshold (vessels a credible de-mining group needs)", "mine-countermeasure vessels"),
    Uncertainty("army_share", "real", "levers.army_share",
                "land forces as a share of a country's active personnel", "share"),
)
"""Every declared uncertainty, in the order of the run streams and of the per-run table's columns."""

NAMES: tuple[str, ...] = tuple(u.name for u in UNCERTAINTIES)
LEVEL_UNCERTAINTIES: tuple[str, ...] = tuple(u.name for u in UNCERTAINTIES if u.kind == "level")


def declared(name: str) -> Uncertainty:
    """The declaration of one uncertainty (KeyError if none)."""
    for u in UNCERTAINTIES:
        if u.name == name:
            return u
    raise KeyError(name)


@dataclass(frozen=True, eq=False)
class Drawn:
    """One uncertainty compiled for a scenario: pinned to ``pinned``, or drawn from ``values``.

    ``level``: ``values`` are level indices and ``cum`` their cumulative weights; ``whole``/``real``:
    ``values`` is ``[lo, hi]``. ``pinned`` is the pinned value (a level index or a number), or None.
    """

    name: str
    kind: str
    values: np.ndarray
    cum: np.ndarray
    pinned: float | None

    def __eq__(self, other: object) -> bool:
        """Equal when pinned alike and drawn from the same values with the same weights."""
        return (isinstance(other, Drawn)
                and (self.name, self.kind, self.pinned) == (other.name, other.kind, other.pinned)
                and np.array_equal(self.values, other.values) and np.array_equal(self.cum, other.cum))

    __hash__ = None  # type: ignore[assignment]  # mutable arrays inside: not hashable

    @property
    def weights(self) -> np.ndarray:
        """Each option's weight (levels; sums to 1)."""
        return np.diff(np.concatenate([[0.0], self.cum]))

    @property
    def low(self) -> float:
        """The smallest value it can take in this scenario."""
        return float(self.pinned) if self.pinned is not None else float(np.min(self.values))

    @property
    def high(self) -> float:
        """The largest value it can take in this scenario."""
        return float(self.pinned) if self.pinned is not None else float(np.max(self.values))

    def draw(self, u: np.ndarray) -> np.ndarray:
        """Its value in each run, from the runs' uniforms ``u`` (``[n]``)."""
        if self.pinned is not None:
            return np.full(u.shape, float(self.pinned))
        if self.kind == "level":
            return self.values[rules.draw_option(self.cum, u)].astype(float)
        lo, hi = self.values
        if self.kind == "whole":
            return rules.draw_whole(lo, hi, u)
        return rules.draw_real(lo, hi, u)


def compile_drawn(name: str, data_value, pinned, levels: tuple[str, ...], air_mission: str) -> Drawn:
    """Compile one uncertainty from its data value (options or range) and the scenario's pin (or None)."""
    u = declared(name)
    if u.kind == "level":
        options = dict(data_value)
        values = np.array([levels.index(k) for k in options], dtype=float)
        weights = np.array(list(options.values()), dtype=float)
        cum = np.cumsum(weights) / weights.sum()
        cum[-1] = 1.0
        pin = None if pinned in (None, UNCERTAIN) else float(levels.index(pinned))
        return Drawn(name, u.kind, values, cum, pin)
    rng = data_value[air_mission] if isinstance(data_value, dict) else data_value
    pin = None if pinned in (None, UNCERTAIN) else float(pinned)
    return Drawn(name, u.kind, np.array(rng, dtype=float), np.ones(1), pin)
