"""All randomness of a run, drawn up front as arrays from the scenario's seed.

Runs are numbered 0, 1, 2, ... Run ``i``'s draws depend only on ``(seed, i, countries, months)``: runs
are grouped in fixed blocks of :data:`DRAW_BLOCK`, and block ``b`` is drawn from its own generator
``SeedSequence(seed, spawn_key=(b,))`` as one ``[DRAW_BLOCK, width]`` matrix of uniforms whose columns
are the named streams below. So the ensemble engine (whole blocks) and the Mesa model (one run at a
time) see identical numbers for run ``i``, whatever block size either uses to compute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.uncertainty import NAMES as RUN_STREAMS

DRAW_BLOCK = 1024
"""Runs per generator block: part of the random layout, so changing it changes every result."""

COUNTRY_STREAMS = ("participate", "troops", "land", "air", "sea", "fall", "fall_forced")
MONTH_STREAMS = ("incident", "target", "casualty")
# RUN_STREAMS: one uniform per run for each declared uncertainty (sim.uncertainty.UNCERTAINTIES).


@dataclass(frozen=True, eq=False)
class Draws:
    """Uniform draws in [0, 1) for ``n`` runs, stored as one ``[n, width]`` matrix ``u``.

    Streams (views into ``u``), ``[n, countries]``:

    - ``participate``: does the country take part (willingness);
    - ``troops``: does it send land troops (its troops decision);
    - ``land``, ``air``, ``sea``: where in its pledge range the country lands;
    - ``fall``: month of a withdrawal-causing fall of government (inverse CDF);
    - ``fall_forced``: does a forced fall of government (scenario) lead to withdrawal;

    and ``[n, months]``:

    - ``incident``: does Russia strike the force this month;
    - ``target``: whose troops are hit;
    - ``casualty``: does the country hit withdraw;

    and ``uncertain``, ``[n, uncertainties]``: one uniform per declared uncertainty (drawn unless pinned).
    """

    u: np.ndarray
    n_countries: int
    horizon: int

    def __post_init__(self) -> None:
        if self.u.shape[1] != width(self.n_countries, self.horizon):
            raise ValueError("draw matrix width does not match countries and horizon")

    @property
    def n(self) -> int:
        """Number of runs."""
        return self.u.shape[0]

    def _stream(self, name: str) -> np.ndarray:
        C, T = self.n_countries, self.horizon
        if name in COUNTRY_STREAMS:
            j = COUNTRY_STREAMS.index(name) * C
            return self.u[:, j:j + C]
        if name == "uncertain":
            j = len(COUNTRY_STREAMS) * C + len(MONTH_STREAMS) * T
            return self.u[:, j:j + len(RUN_STREAMS)]
        j = len(COUNTRY_STREAMS) * C + MONTH_STREAMS.index(name) * T
        return self.u[:, j:j + T]

    participate = property(lambda self: self._stream("participate"))
    troops = property(lambda self: self._stream("troops"))
    land = property(lambda self: self._stream("land"))
    air = property(lambda self: self._stream("air"))
    sea = property(lambda self: self._stream("sea"))
    fall = property(lambda self: self._stream("fall"))
    fall_forced = property(lambda self: self._stream("fall_forced"))
    incident = property(lambda self: self._stream("incident"))
    target = property(lambda self: self._stream("target"))
    casualty = property(lambda self: self._stream("casualty"))
    uncertain = property(lambda self: self._stream("uncertain"))

    def rows(self, start: int, stop: int) -> Draws:
        """The draws of runs ``start..stop-1`` of this set (a view)."""
        return Draws(self.u[start:stop], self.n_countries, self.horizon)

    def run(self, i: int) -> Draws:
        """The draws of one run, with the leading axis kept (length 1)."""
        return self.rows(i, i + 1)

    def constant_inputs(self, rows, cols) -> dict:
        """The uniforms of :func:`sim.rules.run_constants` for runs ``rows`` and countries ``cols``."""
        return {"u_participate": self.participate[rows, cols], "u_troops": self.troops[rows, cols],
                "u_land": self.land[rows, cols],
                "u_air": self.air[rows, cols], "u_sea": self.sea[rows, cols]}

    def fall_inputs(self, rows, cols) -> dict:
        """The uniforms of :func:`sim.rules.government_fall_month` for runs ``rows`` and countries ``cols``."""
        return {"u": self.fall[rows, cols], "u_forced": self.fall_forced[rows, cols]}


def width(n_countries: int, horizon: int) -> int:
    """Uniforms per run."""
    return len(COUNTRY_STREAMS) * n_countries + len(MONTH_STREAMS) * horizon + len(RUN_STREAMS)


def draw(seed: int, n_countries: int, horizon: int, start: int, stop: int) -> Draws:
    """The draws of runs ``start..stop-1`` for a scenario with this seed, country count and horizon."""
    if not 0 <= start < stop:
        raise ValueError(f"run range {start}..{stop} is empty or negative")
    w = width(n_countries, horizon)
    first, last = start // DRAW_BLOCK, (stop - 1) // DRAW_BLOCK
    out = np.empty((stop - start, w))
    for b in range(first, last + 1):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(b,))))
        lo, hi = max(start, b * DRAW_BLOCK), min(stop, (b + 1) * DRAW_BLOCK)
        if hi - lo == DRAW_BLOCK:  # the whole block: drawn in place (same numbers, no copy)
            rng.random(out=out[lo - start:hi - start])
        else:
            out[lo - start:hi - start] = rng.random((DRAW_BLOCK, w))[lo - b * DRAW_BLOCK:hi - b * DRAW_BLOCK]
    return Draws(out, n_countries, horizon)
