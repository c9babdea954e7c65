"""Reassurance: can the coalition of the willing's reassurance force for Ukraine add up.

An agent-based model (Mesa) of each country's stated pledges and conditions, encoded from five articles
of late August / early September 2025, with a vectorised ensemble engine that runs the same rules.

Public API::

    from sim import load_scenario, compile_params, run_ensemble, run_mesa, outcomes
"""

from sim.baseline import load_baseline
from sim.ensemble import run_ensemble
from sim.model import run_mesa
from sim.params import compile_params
from sim.scenario import ScenarioError, load_scenario

__all__ = ["ScenarioError", "compile_params", "load_baseline", "load_scenario", "run_ensemble", "run_mesa"]
__version__ = "0.1.0"
