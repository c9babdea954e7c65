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


# --- test tiers -------------------------------------------------------------------------------------------
# `bash scripts/test.sh` runs everything (CI too); `bash scripts/test.sh --fast` leaves out the tests marked
# `slow` or `browser` (pytest -m "not slow and not browser"). The tiers are declared here, in one place.

BROWSER_FILES = {"test_browser.py"}
"""Files whose tests drive a real browser."""

SLOW_FILES = {"test_dask.py": "starts Dask clusters"}
"""Files whose every test is slow, with why."""

SLOW_TESTS = {
    "test_an_edited_rule_is_recompiled_not_served_from_the_cache": "recompiles the ensemble loop",
    "test_who_decides_tab_shows_pivotal_countries_and_a_plan": "runs the pivotal and gap analyses in the app",
    "test_every_shipped_scenario_file_opens": "opens every scenario in the app",
    "test_prim_finds_the_backstop_as_the_driver": "a Sobol sample of the baseline",
    "test_parallel_evaluation_is_identical_to_serial": "starts worker processes",
    "test_regenerating_the_shipped_results_gives_the_same_tables": "every shipped scenario at full size",
    "test_a_killed_worker_leaves_the_previous_results_untouched": "starts and kills worker processes",
    "test_serial_and_parallel_batches_give_byte_identical_files": "starts worker processes",
    "test_analyse_command_writes_tables_with_a_manifest": "runs three analyses end to end",
    "test_mesa_equals_ensemble_on_generated_scenarios": "many generated scenarios through both engines",
    "test_engines_agree_statistically_with_their_own_randomness": "large samples from both engines",
    "test_who_decides_runs_only_on_demand_and_says_when_it_is_stale": "runs an analysis in the app",
    "test_no_run_rises_above_the_ceiling": "many generated scenarios through the engine",
    "test_a_killed_parent_takes_its_workers_with_it_and_the_next_run_removes_its_spool": "starts and kills a batch",
    "test_python_dash_m_and_sources": "starts Python twice",
}
"""Single slow tests, with why."""

FAST_SCENARIOS = {"baseline.toml"}
"""Tests run once per shipped scenario keep these in the fast tier; the other scenarios are slow."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a slow test, left out by `bash scripts/test.sh --fast`")
    config.addinivalue_line("markers", "browser: drives a real browser, left out by `bash scripts/test.sh --fast`")


def pytest_collection_modifyitems(config, items):
    for item in items:
        file = item.path.name
        if file in BROWSER_FILES:
            item.add_marker(pytest.mark.browser)
        reason = SLOW_FILES.get(file) or SLOW_TESTS.get(item.originalname)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("name") in SHIPPED and params["name"] not in FAST_SCENARIOS:
            reason = "one more shipped scenario"
        if reason:
            item.add_marker(pytest.mark.slow(reason=reason))
