"""The results of runs as plain arrays: what both engines return and what outcome tables are built from."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

COMPONENT_INDEX = {"land": 0, "air": 1, "sea": 2}


@dataclass(frozen=True, eq=False)
class RunArrays:
    """Results of ``n`` runs of one scenario (months ``T``, countries ``C``).

    - ``run``: global run numbers ``[n]`` (run ``i`` uses the draws of run ``i``);
    - ``land``, ``air``, ``sea``: force totals per month ``[n, T]`` (troops, aircraft, vessels);
    - ``pledge``: each country's pledge after the capacity cap ``[n, C, 3]`` (land, air, sea);
    - ``over_capacity``: the pledge exceeded what the country can sustain ``[n, C]``;
    - ``takes_part``: the willingness draw said yes ``[n, C]``;
    - ``window_sum``: contributions summed over the assessment window ``[n, C, 3]`` (whole numbers);
    - ``months_deployed``: months in the force ``[n, C]``;
    - ``reasons``: bit flags (``sim.rules``) of every condition that held the country back, per component
      ``[n, C, 3]``;
    - ``withdrawn_month``: first month one of its components withdrew for good, -1 if none did ``[n, C]``;
    - ``uncertain``: each declared uncertainty's value in the run ``[n, U]`` (``sim.uncertainty.NAMES``);
    - ``thresholds``: each component's threshold in the run ``[n, 3]`` (air and sea may be drawn);
    - ``country_monthly``: optional ``[n, T, C, 3]`` contributions per month (None unless asked for).
    """

    run: np.ndarray
    land: np.ndarray
    air: np.ndarray
    sea: np.ndarray
    pledge: np.ndarray
    over_capacity: np.ndarray
    takes_part: np.ndarray
    window_sum: np.ndarray
    months_deployed: np.ndarray
    reasons: np.ndarray
    withdrawn_month: np.ndarray
    uncertain: np.ndarray
    thresholds: np.ndarray
    country_monthly: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of runs."""
        return self.run.shape[0]

    def series(self, component: str) -> np.ndarray:
        """The ``[n, T]`` totals of one component."""
        return getattr(self, component)

    @staticmethod
    def concat(parts: list[RunArrays]) -> RunArrays:
        """Join results of consecutive blocks of runs."""
        out = {}
        for f in fields(RunArrays):
            vals = [getattr(p, f.name) for p in parts]
            out[f.name] = None if any(v is None for v in vals) else np.concatenate(vals)
        return RunArrays(**out)
