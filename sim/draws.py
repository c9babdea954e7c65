"""All randomness of a run, drawn up front as arrays from the scenario's seed.

Runs are numbered 0, 1, 2, ... Run ``i``'s draws depend only on ``(seed, i, countries, months)``: runs
are grouped in fixed blocks of :data:`DRAW_BLOCK`, and block ``b`` is drawn from its own generator
``SeedSequence(seed, spawn_key=(b,))``. So the ensemble engine (whole blocks) and the Mesa model (one
run at a time) see identical numbers for run ``i``, whatever block size either uses to compute.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

DRAW_BLOCK = 1024
"""Runs per generator block: part of the random layout, so changing it changes every result."""


@dataclass(frozen=True, eq=False)
class Draws:
    """Uniform draws in [0, 1) for ``n`` runs. Shapes: ``[n, countries]`` or ``[n, months]``.

    - ``participate``: does the country take part (willingness);
    - ``land``, ``air``, ``sea``: where in its pledge range the country lands;
    - ``fall``: month of a withdrawal-causing fall of government (inverse CDF);
    - ``fall_forced``: does a forced fall of government (scenario) lead to withdrawal;
    - ``incident``: does Russia strike the force this month;
    - ``target``: whose troops are hit;
    - ``casualty``: does the country hit withdraw.
    """

    participate: np.ndarray
    land: np.ndarray
    air: np.ndarray
    sea: np.ndarray
    fall: np.ndarray
    fall_forced: np.ndarray
    incident: np.ndarray
    target: np.ndarray
    casualty: np.ndarray

    @property
    def n(self) -> int:
        """Number of runs."""
        return self.participate.shape[0]

    def rows(self, start: int, stop: int) -> Draws:
        """The draws of runs ``start..stop-1`` of this set (views)."""
        return Draws(**{f.name: getattr(self, f.name)[start:stop] for f in fields(self)})

    def constant_inputs(self, rows, cols) -> dict:
        """The uniforms of :func:`sim.rules.run_constants` for runs ``rows`` and countries ``cols``."""
        return {"u_participate": self.participate[rows, cols], "u_land": self.land[rows, cols],
                "u_air": self.air[rows, cols], "u_sea": self.sea[rows, cols], "u_fall": self.fall[rows, cols],
                "u_fall_forced": self.fall_forced[rows, cols]}

    def run(self, i: int) -> Draws:
        """The draws of one run, with the leading axis kept (length 1)."""
        return self.rows(i, i + 1)


_COUNTRY_STREAMS = ("participate", "land", "air", "sea", "fall", "fall_forced")
_MONTH_STREAMS = ("incident", "target", "casualty")


def _block(seed: int, block: int, n_countries: int, horizon: int) -> Draws:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
    out = {name: rng.random((DRAW_BLOCK, n_countries)) for name in _COUNTRY_STREAMS}
    out.update({name: rng.random((DRAW_BLOCK, horizon)) for name in _MONTH_STREAMS})
    return Draws(**out)


def draw(seed: int, n_countries: int, horizon: int, start: int, stop: int) -> Draws:
    """The draws of runs ``start..stop-1`` for a scenario with this seed, country count and horizon."""
    if not 0 <= start <= stop:
        raise ValueError(f"run range {start}..{stop} is empty or negative")
    first, last = start // DRAW_BLOCK, (stop - 1) // DRAW_BLOCK if stop > start else start // DRAW_BLOCK
    blocks = [_block(seed, b, n_countries, horizon) for b in range(first, last + 1)]
    if len(blocks) == 1:
        whole = blocks[0]
    else:
        whole = Draws(**{f.name: np.concatenate([getattr(b, f.name) for b in blocks]) for f in fields(Draws)})
    offset = first * DRAW_BLOCK
    return whole.rows(start - offset, stop - offset)
