"""The Mesa model: one run of the coalition, agent by agent — the readable reference engine.

Each month (a step):

1. every country that pledged anything decides at once, on each component it pledged, from last month's
   force and this month's US backstop level (the US agent's; synchronous update:
   agents read only last month's totals and their own state, so their order does not matter and they are
   not shuffled); each writes its contribution into the model's per-country arrays;
2. the month's totals are summed from those arrays (no scan over agent objects);
3. Russia may strike the troops on the ground; the country hit may withdraw (effective next month);
4. running bookkeeping (months in the force, sums over the assessment window) and, if asked, the
   DataCollector.

Fast-forward: what does not depend on other countries (ceasefire, US backstop schedule, UN framework,
willingness, falls of government) is fixed for the run, so it is computed once, for every month, at the
start, as are the run's declared uncertainties (``Params.per_run``: the backstop offered and required,
thresholds, army share). A month in which no such condition changes, Russia cannot strike, and nobody
joined, left or was counting down a mandate the month before would repeat last month's decisions
exactly; in such a month the countries are not asked again (``fast_forward=False`` asks them anyway:
the results are identical).

All randomness is in ``draws`` (one run's :class:`sim.draws.Draws`), drawn up front from the scenario's
seed, so the ensemble engine given the same draws reproduces this run exactly.
"""

from __future__ import annotations

import mesa
import numpy as np
from mesa.agentset import AgentSet

from sim import rules
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
        collect: record the monthly totals with a Mesa DataCollector.
        collect_countries: also record each country's land/air/sea contribution every month.
        fast_forward: skip the countries' decisions in months where nothing can change.
    """

    def __init__(self, *, params: Params, draws: Draws, run: int, collect: bool = True,
                 collect_countries: bool = False, fast_forward: bool = True):
        if draws.n != 1:
            raise ValueError(f"the Mesa model runs one run at a time; got draws for {draws.n} runs")
        super().__init__(rng=run)
        p = self.params = params
        self.draws, self.run, self.fast_forward = draws, run, fast_forward
        T, C = p.horizon, p.n_countries
        self.month = 0
        # Fixed for the run, for every country at once: the run's declared uncertainties, pledges, fall
        # months, and the static conditions of every month under the US agent's backstop.
        run = self.run_values = p.per_run(draws)
        self.us = USBackstop(self, int(run.offered[0]))
        fall = rules.government_fall_month(**p.fall_inputs(slice(None)), **draws.fall_inputs(0, slice(None)))
        k = rules.run_constants(**p.constant_inputs(slice(None)), land_cap=run.land_cap[0],
                                **draws.constant_inputs(0, slice(None)))
        months = np.arange(T)
        static = rules.static_conditions(months[:, None], p.ceasefire_month, self.us.level(months)[:, None],
                                         run.required[0], p.un_framework, p.requires_un, k.takes_part,
                                         k.sends_troops, fall)
        schedule = rules.schedule_events(T, p.ceasefire_month, p.backstop_scheduled, p.assess_start)
        pledged = k.pot_land | k.pot_air | k.pot_sea
        self.events = rules.month_events(schedule, fall, pledged, draws.incident[0], p.incident_rate,
                                         p.russia_rejects).tolist()
        static_lists = static.T.tolist()
        self.countries = [CountryAgent(self, i, k, static_lists[i]) for i in range(C)]
        # Only countries that pledged anything need to decide; the others stay at zero all run.
        self.deciders = AgentSet([a for a in self.countries if a.potential], random=self.random)
        self.russia = Russia(self)
        # Running bookkeeping, written by the agents (no scan over agent objects).
        self.land_now, self.air_now, self.sea_now = np.zeros(C), np.zeros(C), np.zeros(C)
        self.deployed_now = np.zeros(C, dtype=bool)
        self.months_deployed = np.zeros(C, dtype=np.int64)
        self.window_sum = np.zeros((C, 3))
        self.land_total = self.air_total = self.sea_total = 0.0
        self.land_total_prev = 0.0
        self.leads_present = self.leads_present_prev = False
        self.changed = True
        self.totals = np.zeros((T, 3))
        self.country_monthly = np.zeros((T, C, 3)) if collect_countries else None
        self.datacollector = None
        if collect or collect_countries:
            agenttype = {}
            if collect_countries:
                agenttype = {CountryAgent: {"iso3": "iso3", "land": "land", "air": "air", "sea": "sea",
                                            "deployed": "deployed"}}
            self.datacollector = mesa.DataCollector(
                model_reporters={"land": "land_total", "air": "air_total", "sea": "sea_total",
                                 "backstop_level": lambda m: int(m.us.level(min(m.month, m.params.horizon - 1))),
                                 "incidents": lambda m: m.russia.incidents},
                agenttype_reporters=agenttype)

    def record_country(self, agent: CountryAgent) -> None:
        """Running bookkeeping of a country's contribution this month (called by the agent)."""
        i = agent.index
        self.land_now[i], self.air_now[i], self.sea_now[i] = agent.land, agent.air, agent.sea
        self.deployed_now[i] = agent.deployed[0] or agent.deployed[1] or agent.deployed[2]
        if agent.deployed[0] and agent.is_lead:
            self.leads_present = True

    def step(self) -> None:
        """One month."""
        t = self.month
        if self.changed or self.events[t] or not self.fast_forward:
            self.changed = False
            self.leads_present = False
            self.deciders.do("step")
            self.land_total = float(self.land_now.sum())
            self.air_total, self.sea_total = float(self.air_now.sum()), float(self.sea_now.sum())
            self.russia.step()
        self.totals[t] = (self.land_total, self.air_total, self.sea_total)
        self.months_deployed += self.deployed_now
        if t >= self.params.assess_start:
            self.window_sum[:, 0] += self.land_now
            self.window_sum[:, 1] += self.air_now
            self.window_sum[:, 2] += self.sea_now
        if self.country_monthly is not None:
            self.country_monthly[t] = np.stack([self.land_now, self.air_now, self.sea_now], axis=1)
        if self.datacollector is not None:
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
            pledge=np.array([[a.pledges for a in cs]], dtype=float),
            over_capacity=np.array([[a.over_capacity for a in cs]], dtype=bool),
            takes_part=np.array([[a.takes_part for a in cs]], dtype=bool),
            window_sum=self.window_sum[None].copy(),
            months_deployed=self.months_deployed[None].copy(),
            reasons=np.array([[a.reasons for a in cs]], dtype=np.int64),
            withdrawn_month=np.array([[a.withdrawn_month for a in cs]], dtype=np.int64),
            uncertain=self.run_values.values.copy(),
            thresholds=self.run_values.thresholds.copy(),
            country_monthly=None if self.country_monthly is None else self.country_monthly[None].copy(),
        )


def run_mesa(params: Params, seed: int, runs: range | list[int], *, collect_countries: bool = False,
             fast_forward: bool = True) -> RunArrays:
    """Run the Mesa model for the given run numbers (each with its own draws from ``seed``)."""
    runs = list(runs)
    if not runs:
        raise ValueError("no runs asked for")
    lo, hi = min(runs), max(runs) + 1
    all_draws = draw(seed, params.n_countries, params.horizon, lo, hi)
    parts = []
    for r in runs:
        model = ReassuranceModel(params=params, draws=all_draws.run(r - lo), run=r, collect=collect_countries,
                                 collect_countries=collect_countries, fast_forward=fast_forward)
        model.run_model()
        parts.append(model.results())
    return RunArrays.concat(parts)
