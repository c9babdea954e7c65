"""Reassurance: can the coalition of the willing's reassurance force for Ukraine add up.

An agent-based model (Mesa) of each country's stated pledges and conditions, encoded from five articles
of late August / early September 2025, with a vectorised ensemble engine that runs the same rules.

Public API::

    from sim import load_scenario, compile_params, run_ensemble, run_mesa, outcomes

Mesa is imported only when the Mesa engine is used (``run_mesa``), so worker processes of the ensemble
engine start quickly.
"""

from sim.baseline import load_baseline
from sim.ensemble import run_ensemble
from sim.params import compile_params
from sim.scenario import ScenarioError, load_scenario

__all__ = ["ScenarioError", "compile_params", "load_baseline", "load_scenario", "run_ensemble", "run_mesa"]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "run_mesa":
        from sim.model import run_mesa

        return run_mesa
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
