"""The Mesa model: one run of the coalition, agent by agent — the readable reference engine.

Each month (a step):

1. the US agent announces this month's backstop level;
2. every country that pledged anything decides at once, on each component it pledged, from last month's
   force and the US agent's level (:func:`sim.step.country_month`; synchronous update: agents read only
   last month's totals and their own state, so their order does not matter and they are not shuffled);
   each writes its contribution into the model's per-country arrays, and the month's totals are summed
   from those (no scan over agent objects);
3. Russia may strike the troops on the ground (:func:`sim.step.strike`); the country hit may withdraw
   (effective next month; :func:`sim.step.struck`);
4. every country books its month (:func:`sim.step.carry`), and Mesa's DataCollector records the totals
   (and, if asked, each country's contribution): the run's results are read from it.

Fast-forward: what does not depend on other countries (ceasefire, US backstop schedule, UN framework,
willingness, falls of government) is fixed for the run, as are the run's declared uncertainties
(``Params.per_run``: the backstop offered and required, thresholds, army share). A month in which no such
condition changes, Russia cannot strike, and nobody joined, left or was counting down a mandate the month
before would repeat last month's decisions exactly; in such a month the countries are not asked again
(steps 2 and 3; ``fast_forward=False`` asks them anyway: the results are identical).

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
from sim.step import Month


class ReassuranceModel(mesa.Model):
    """One run of the reassurance force.

    Args:
        params: the compiled scenario (:func:`sim.params.compile_params`).
        draws: this run's random inputs, with a leading axis of length 1 (``Draws.run(i)``).
        run: the global run number (recorded in results).
        collect_countries: also record each country's land/air/sea contribution every month.
        fast_forward: skip the countries' decisions in months where nothing can change.
    """

    def __init__(self, *, params: Params, draws: Draws, run: int, collect_countries: bool = False,
                 fast_forward: bool = True):
        if draws.n != 1:
            raise ValueError(f"the Mesa model runs one run at a time; got draws for {draws.n} runs")
        super().__init__(rng=run)
        p = self.params = params
        self.draws, self.run, self.fast_forward = draws, run, fast_forward
        C = p.n_countries
        self.month = 0
        # Fixed for the run, for every country at once: the run's declared uncertainties, pledges, fall months.
        run = self.run_values = p.per_run(draws)
        self.us = USBackstop(self, int(run.offered[0]))
        fall = rules.government_fall_month(**p.fall_inputs(slice(None)), **draws.fall_inputs(0, slice(None)))
        k = rules.run_constants(**p.constant_inputs(slice(None)), land_cap=run.land_cap[0],
                                **draws.constant_inputs(0, slice(None)))
        pledged = k.pot_land | k.pot_air | k.pot_sea
        self.events = rules.month_events(p.compiled.schedule, fall, pledged, draws.incident[0], p.incident_rate,
                                         p.russia_rejects).tolist()
        self.countries = [CountryAgent(self, i, k, int(fall[i]), int(run.required[0, i])) for i in range(C)]
        # Only countries that pledged anything need to decide; the others stay at zero all run.
        self.deciders = AgentSet([a for a in self.countries if a.potential], random=self.random)
        self.russia = Russia(self)
        # This month's contributions, written by the agents (no scan over agent objects), and the force.
        self.land_now, self.air_now, self.sea_now = np.zeros(C), np.zeros(C), np.zeros(C)
        self.land_total = self.air_total = self.sea_total = 0.0
        self.leads_present = False
        self.changed = True
        self.computed_months = 0  # months whose decisions were computed (the others fast-forwarded)
        self.now: Month | None = None
        agenttype = {}
        if collect_countries:
            agenttype = {CountryAgent: {"index": "index", "iso3": "iso3", "land": "land", "air": "air", "sea": "sea",
                                        "deployed": "in_force"}}
        self.datacollector = mesa.DataCollector(
            model_reporters={"land": "land_total", "air": "air_total", "sea": "sea_total",
                             "backstop_level": lambda m: m.us.level, "incidents": lambda m: m.russia.incidents},
            agenttype_reporters=agenttype)

    def record_country(self, agent: CountryAgent, changed: bool, leads: bool) -> None:
        """A country's month (called by the agent): its contribution, and whether the next month must be computed."""
        i = agent.index
        self.land_now[i], self.air_now[i], self.sea_now[i] = agent.land, agent.air, agent.sea
        self.changed |= changed
        self.leads_present |= leads

    def step(self) -> None:
        """One month."""
        t, p = self.month, self.params
        self.us.step()
        if self.changed or self.events[t] or not self.fast_forward:
            self.now = Month(t, self.us.level, p.ceasefire_month, bool(p.un_framework), t >= p.assess_start,
                             self.leads_present, self.land_total, self.land_now.tolist())
            self.changed = self.leads_present = False
            self.computed_months += 1
            self.deciders.do("step")
            self.land_total = float(self.land_now.sum())
            self.air_total, self.sea_total = float(self.air_now.sum()), float(self.sea_now.sum())
            self.russia.step()
        self.deciders.do("book")
        self.datacollector.collect(self)
        self.month += 1
        if self.month >= p.horizon:
            self.running = False

    def results(self) -> RunArrays:
        """The run's results as arrays (the same layout the ensemble engine returns).

        The monthly totals (and each country's monthly contributions, if collected) are read from the
        DataCollector; the rest is each country's state at the end of the run.
        """
        cs = self.countries
        dc = self.datacollector
        totals = {c: np.array([dc.model_vars[c]], dtype=float) for c in ("land", "air", "sea")}
        monthly = None
        if dc.agenttype_reporters:
            rows = dc.get_agenttype_vars_dataframe(CountryAgent)[["index", "land", "air", "sea"]].to_numpy()
            T, C = len(dc.model_vars["land"]), len(cs)
            monthly = np.zeros((1, T, C, 3))
            monthly[0, np.repeat(np.arange(T), C), rows[:, 0].astype(np.int64)] = rows[:, 1:]
        return RunArrays(
            run=np.array([self.run]),
            **totals,
            pledge=np.array([[a.pledges for a in cs]], dtype=float),
            over_capacity=np.array([[a.over_capacity for a in cs]], dtype=bool),
            takes_part=np.array([[a.takes_part for a in cs]], dtype=bool),
            window_sum=np.array([[a.window_sum for a in cs]], dtype=float),
            months_deployed=np.array([[a.months_deployed for a in cs]], dtype=np.int64),
            reasons=np.array([[a.state.reasons for a in cs]], dtype=np.int64),
            withdrawn_month=np.array([[a.state.withdrawn_month for a in cs]], dtype=np.int64),
            uncertain=self.run_values.values.copy(),
            thresholds=self.run_values.thresholds.copy(),
            country_monthly=monthly,
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
        model = ReassuranceModel(params=params, draws=all_draws.run(r - lo), run=r,
                                 collect_countries=collect_countries, fast_forward=fast_forward)
        model.run_model()
        parts.append(model.results())
    return RunArrays.concat(parts)
