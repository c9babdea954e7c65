import os
from pathlib import Path

import pytest

from sim.params import compile_params
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SOURCES = Path(os.environ.get("REASSURANCE_SOURCES") or ROOT.parent / "shared" / "sources")
"""The five article texts (not shipped with the project: a fresh clone has no ../shared beside it)."""
SHIPPED = sorted(p.name for p in SCENARIOS.glob("*.toml"))


@pytest.fixture(scope="session")
def baseline_scenario():
    return load_scenario(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="session")
def baseline_params(baseline_scenario):
    return compile_params(baseline_scenario)


def scenario(name):
    return load_scenario(SCENARIOS / name)
