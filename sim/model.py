"""The Mesa model: one run of the coalition, agent by agent — the readable reference engine.

Each month (a step):

1. the US announces its backstop level (scenario schedule);
2. every country that pledged anything decides at once, from last month's force (synchronous update:
   agents read only last month's totals and their own state, so their order does not matter and they are
   not shuffled); each writes its contribution into the model's per-country arrays;
3. the month's totals are summed from those arrays (no scan over agent objects);
4. Russia may strike the troops on the ground; the country hit may withdraw (effective next month);
5. the DataCollector records the totals (and, if asked, each country's contribution).

All randomness is in ``draws`` (one run's :class:`sim.draws.Draws`), drawn up front from the scenario's
seed, so the ensemble engine given the same draws reproduces this run exactly.
"""

from __future__ import annotations

import mesa
import numpy as np
from mesa.agentset import AgentSet

from sim.agents import CountryAgent, Russia, USBackstop
from sim.arrays import RunArrays
from sim.draws import Draws, draw
from sim.params import Params


class ReassuranceModel(mesa.Model):
    """One run of the reassurance force.

    Args:
        params: the compiled scenario (:func:`sim.params.compile_params`).
        draws: this run's random inputs, with a leading axis of length 1 (``Draws.run(i)``).
        run: the global run number (recorded in results).
        collect_countries: also record each country's land/air/sea contribution every month.
    """

    def __init__(self, *, params: Params, draws: Draws, run: int, collect_countries: bool = False):
        if draws.n != 1:
            raise ValueError(f"the Mesa model runs one run at a time; got draws for {draws.n} runs")
        super().__init__(rng=run)
        self.params, self.draws, self.run = params, draws, run
        self.collect_countries = collect_countries
        self.month = 0
        self.backstop_level = params.backstop_by_month[0]
        n = params.n_countries
        self.land_now = np.zeros(n)  # this month's troops per country (running, written by agents)
        self.air_now = np.zeros(n)
        self.sea_now = np.zeros(n)
        self.land_total = self.land_total_prev = 0.0
        self.leads_present = self.leads_present_prev = np.False_
        self.us = USBackstop(self)
        self.countries = [CountryAgent(self, i) for i in range(n)]
        # Only countries that could ever contribute need to decide; the others stay at zero all run.
        self.deciders = AgentSet([a for a in self.countries if a.potential], random=self.random)
        self.russia = Russia(self)
        self.totals = np.zeros((params.horizon, 3))
        self.country_monthly = np.zeros((params.horizon, n, 3)) if collect_countries else None
        reporters = {
            "land": lambda m: m.totals[m.month, 0],
            "air": lambda m: m.totals[m.month, 1],
            "sea": lambda m: m.totals[m.month, 2],
            "backstop_level": "backstop_level",
            "incidents": lambda m: m.russia.incidents,
        }
        agenttype = {}
        if collect_countries:
            agenttype = {CountryAgent: {"iso3": "iso3", "land": "land", "air": "air", "sea": "sea",
                                        "deployed": lambda a: bool(a.deployed)}}
        self.datacollector = mesa.DataCollector(model_reporters=reporters, agenttype_reporters=agenttype)

    def record_country(self, agent: CountryAgent) -> None:
        """Running bookkeeping of a country's contribution this month (called by the agent)."""
        i = agent.index
        self.land_now[i], self.air_now[i], self.sea_now[i] = agent.land, agent.air, agent.sea
        if agent.deployed and agent.is_lead:
            self.leads_present = np.True_

    def step(self) -> None:
        """One month."""
        self.us.step()
        self.leads_present = np.False_
        self.deciders.do("step")
        self.land_total = float(self.land_now.sum())
        self.totals[self.month] = (self.land_total, self.air_now.sum(), self.sea_now.sum())
        if self.country_monthly is not None:
            self.country_monthly[self.month] = np.stack([self.land_now, self.air_now, self.sea_now], axis=1)
        self.russia.step()
        self.datacollector.collect(self)
        self.land_total_prev, self.leads_present_prev = self.land_total, self.leads_present
        self.month += 1
        if self.month >= self.params.horizon:
            self.running = False

    def results(self) -> RunArrays:
        """The run's results as arrays (the same layout the ensemble engine returns)."""
        cs = self.countries
        return RunArrays(
            run=np.array([self.run]),
            land=self.totals[None, :, 0].copy(),
            air=self.totals[None, :, 1].copy(),
            sea=self.totals[None, :, 2].copy(),
            pledge=np.array([[(a.land_pledge, a.air_pledge, a.sea_pledge) for a in cs]], dtype=float),
            over_capacity=np.array([[a.over_capacity for a in cs]], dtype=bool),
            takes_part=np.array([[a.takes_part for a in cs]], dtype=bool),
            window_sum=np.array([[a.window_sum for a in cs]]),
            months_deployed=np.array([[a.months_deployed for a in cs]], dtype=np.int64),
            reasons=np.array([[a.reasons for a in cs]], dtype=np.int64),
            withdrawn_month=np.array([[a.withdrawn_month for a in cs]], dtype=np.int64),
            country_monthly=None if self.country_monthly is None else self.country_monthly[None].copy(),
        )


def run_mesa(params: Params, seed: int, runs: range | list[int], *, collect_countries: bool = False) -> RunArrays:
    """Run the Mesa model for the given run numbers (each with its own draws from ``seed``)."""
    runs = list(runs)
    if not runs:
        raise ValueError("no runs asked for")
    lo, hi = min(runs), max(runs) + 1
    all_draws = draw(seed, params.n_countries, params.horizon, lo, hi)
    parts = []
    for r in runs:
        model = ReassuranceModel(params=params, draws=all_draws.run(r - lo), run=r,
                                 collect_countries=collect_countries)
        model.run_model()
        parts.append(model.results())
    return RunArrays.concat(parts)
