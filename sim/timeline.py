"""The timeline: how the answer moved as the statements changed, with every change's source attached.

:func:`changes` lists what the ledger (:mod:`sim.ledger`) changed in the inputs the model runs on, date by
date; :func:`as_of_choices` the dates worth resolving (the baseline's, then each date on which something
changed); :func:`timeline_tables` runs a scenario as of each of those dates with the same seed (so the
difference between two dates is the statements', not the dice's) and gives the tables ``timeline`` (one row
per date and component) and ``timeline_changes`` (one row per changed value). :func:`country_statements`
lists what a country said, in date order, and which statement is in force at a date. The CLI and the app
call these; they hold no logic of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.baseline import COUNTRY_FIELDS, LEDGER_START, Baseline, load_baseline
from sim.ledger import WEAK_QUALITIES, Statement, load_statements, resolved_values, statements_until
from sim.scenario import RANGE_FIELDS, Scenario
from sim.uncertainty import LEVEL_UNCERTAINTIES

"""Country fields whose ``[low, high]`` value is drawn uniformly per run."""


@dataclass(frozen=True)
class Change:
    """One value the ledger changed: on ``date``, ``statement`` set ``path`` from ``before`` to ``after``."""

    date: str
    statement: Statement
    path: str
    before: Any
    after: Any


def _key(exclude_qualities: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(exclude_qualities)))


def changes(exclude_qualities: Iterable[str] = ()) -> list[Change]:
    """Every change of a resolved input, in date order; statements that only restate a value are not here."""
    exclude = _key(exclude_qualities)
    prev = resolved_values(load_baseline(None, exclude))
    out: list[Change] = []
    stated = statements_until("9999-12-31", exclude)
    for day in sorted({s.date for s in stated}):
        now = resolved_values(load_baseline(day, exclude))
        changed = {k for k in now.keys() | prev.keys() if now.get(k) != prev.get(k)}
        for st in (s for s in stated if s.date == day):
            out += [Change(day, st, path, prev.get(path), now.get(path)) for path in st.sets if path in changed]
        prev = now
    return out


def change_dates(exclude_qualities: Iterable[str] = ()) -> list[str]:
    """The dates on which the ledger changed a resolved input (after the baseline's date)."""
    return sorted({c.date for c in changes(exclude_qualities)})


def as_of_choices(exclude_qualities: Iterable[str] = ()) -> list[str]:
    """The dates an "as of" control offers: the baseline's date, then every date on which something changed."""
    return [LEDGER_START, *change_dates(exclude_qualities)]


def as_of_labels(exclude_qualities: Iterable[str] = ()) -> dict[str, str]:
    """Each date of :func:`as_of_choices` with a short label for a date control: who changed what, and where."""
    sources = load_baseline().sources
    out = {LEDGER_START: "the baseline (the articles, up to 5 September 2025)"}
    for c in changes(exclude_qualities):
        st = c.statement
        part = f"{st.about} ({sources.get(st.source, {}).get('publisher', st.source)})" + (" [weak]" if st.weak else "")
        if part not in out.get(c.date, ""):
            out[c.date] = f"{out[c.date]}; {part}" if c.date in out else part
    return out


def text(value: Any) -> str:
    """A value as short readable text (a range as ``low-high``, options as ``name weight``)."""
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k} {text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "-".join(f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v) for v in value)
    return str(value)


def _flag(quality: str) -> str:
    return f"weak source ({quality})" if quality in WEAK_QUALITIES else ""


def _source_cols(st: Statement, sources: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    src = sources.get(st.source, {})
    return {"source": st.source, "publisher": src.get("publisher", ""), "title": src.get("title", ""),
            "url": src.get("url", ""), "quality": st.quality, "flagged": st.weak}


def changes_table(exclude_qualities: Iterable[str] = ()) -> pd.DataFrame:
    """One row per changed value: date, whom, the statement and its source (flagged if weak), before, after."""
    sources = load_baseline().sources
    rows = [{"as_of": c.date, "about": c.statement.about, "statement": c.statement.origin,
             **_source_cols(c.statement, sources), "path": c.path, "before": text(c.before),
             "after": text(c.after), "quote": c.statement.quote, "assumption": c.statement.assumption or ""}
            for c in changes(exclude_qualities)]
    cols = ["as_of", "about", "statement", "source", "publisher", "title", "url", "quality", "flagged", "path",
            "before", "after", "quote", "assumption"]
    return pd.DataFrame(rows, columns=cols)


def _day_summary(day_changes: list[Change], sources: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    stmts = list({c.statement.origin: c.statement for c in day_changes}.values())
    by_path = {c.path: c for c in day_changes}  # two statements of a day may set the same value
    return {
        "changes": "; ".join(f"{c.path.removeprefix('countries.')}: {text(c.before)} -> {text(c.after)}"
                             for c in by_path.values()),
        "statements": "; ".join(s.source for s in stmts),
        "publishers": "; ".join(sources.get(s.source, {}).get("publisher", "") for s in stmts),
        "urls": "; ".join(sources.get(s.source, {}).get("url", "") for s in stmts),
        "flagged": "; ".join(f"{s.source}: {_flag(s.quality)}" for s in stmts if s.weak),
    }


def timeline_tables(scenario: Scenario, *, replications: int | None = None,
                    engine: str = "ensemble") -> dict[str, pd.DataFrame]:
    """Run ``scenario`` as of every date in :func:`as_of_choices` (its own ``as_of`` is replaced by each).

    Every date runs with the scenario's seed and ``replications`` (default: its own). Tables:
    ``timeline`` (one row per date and component: P(met) with its 95% interval, the verdict, the ceiling,
    and what changed that day with its sources, weak ones flagged) and ``timeline_changes``
    (:func:`changes_table`). A scenario with a sweep is refused (ValueError): run each point on its own.
    """
    from sim.runner import run_scenario  # the runner imports the engines; only when the timeline is run

    if scenario.sweep:
        raise ValueError(f"scenario '{scenario.name}' declares a sweep; the timeline runs one scenario")
    exclude = _key(scenario.leave_out_sources)
    sources = load_baseline().sources
    all_changes = changes(exclude)
    rows = []
    previous: dict[str, float] = {}
    for day in as_of_choices(exclude):
        run = run_scenario(scenario.with_changes({"as_of": day}), replications=replications, engine=engine,
                           months=False, keep_runs=False, keep_arrays=False)
        what = _day_summary([c for c in all_changes if c.date == day], sources)
        for r in run.tables["summary"].itertuples():
            rows.append({
                "scenario": scenario.name, "as_of": day, "component": r.component, "unit": r.unit,
                "threshold_low": r.threshold_low, "threshold_high": r.threshold_high, "runs": r.runs,
                "p_met": r.p_met, "p_met_low95": r.p_met_low95, "p_met_high95": r.p_met_high95,
                "p_met_change": r.p_met - previous[r.component] if r.component in previous else 0.0,
                "verdict": r.verdict, "ceiling": r.ceiling, "ceiling_reason": r.ceiling_reason, **what,
            })
            previous[r.component] = r.p_met
    return {"timeline": pd.DataFrame(rows), "timeline_changes": changes_table(exclude)}


def timeline_lines(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """The timeline in words: per date, each component's P(met) [interval], verdict and ceiling; what changed."""
    tl = tables["timeline"]
    lines = ["As of       component  P(met) [95% interval]      verdict          ceiling"]
    for day, grp in tl.groupby("as_of", sort=False):
        first = grp.iloc[0]
        for i, r in enumerate(grp.itertuples()):
            lines.append(f"{day if i == 0 else '':<12}{r.component:<10} {r.p_met:6.1%} [{r.p_met_low95:5.1%}-"
                         f"{r.p_met_high95:5.1%}]  {r.verdict:<16} {r.ceiling:,.0f}")
        if first.changes:
            lines.append(f"{'':12}changed: {first.changes}")
            lines.append(f"{'':12}sources: {first.statements}")
        if first.flagged:
            lines.append(f"{'':12}flagged: {first.flagged}")
    return lines


def _drawn(path: str, value: Any) -> str:
    name = path.rsplit(".", 1)[-1]
    if path.startswith("uncertainties.") or (isinstance(value, str) and value in LEVEL_UNCERTAINTIES):
        return "declared uncertainty (drawn per run)"
    if name in RANGE_FIELDS and isinstance(value, list) and value[0] != value[1]:
        return "range (drawn per run)"
    return ""


def _origin(base: Baseline, path: str) -> str | None:
    try:
        return base.resolve(path).origin
    except KeyError:
        return None


def _concerns(st: Statement, iso3: str) -> list[str]:
    """The paths of a statement a country's listing shows: its own fields, or all if it is about the country."""
    own = [p for p in st.sets if p.startswith(f"countries.{iso3}.")]
    return list(st.sets) if st.about == iso3 else own


def country_statements(iso3: str, as_of: str | None = None,
                       exclude_qualities: Iterable[str] = ()) -> pd.DataFrame:
    """What the data say of a country, in date order, and which value is in force ``as_of``.

    First the baseline's values (dated by their source; reference data and assumptions undated), then every
    ledger statement about the country or setting one of its fields. ``status``: ``in force`` (the value
    the model uses as of the date), ``superseded``, ``after as-of`` or ``left out`` (a quality the scenario
    leaves out). ``drawn`` says whether the value is a range or a declared uncertainty drawn per run;
    ``flag`` marks a statement resting only on an aggregator or state media.
    """
    exclude = _key(exclude_qualities)
    base = load_baseline()
    now: Baseline = load_baseline(as_of, exclude)
    country = base.country(iso3)
    active = country.active_personnel.value
    troops_given = "land_troops" in now.country(iso3).fields

    def shown(name: str, value: Any) -> str:
        """Land ranges in troops (a share says how many of the country's forces that is)."""
        if name == "land_share":
            lo, hi = value
            text_ = f"{lo * active:,.0f}-{hi * active:,.0f} troops ({lo:g}-{hi:g} of {active:,} active)"
            return text_ + (" - not used: land_troops gives the pledge" if troops_given else "")
        if name == "land_troops":
            return f"{value[0]:,.0f}-{value[1]:,.0f} troops"
        return text(value)

    rows = []
    for name, s in [*country.fields.items(), ("active_personnel", country.active_personnel),
                    ("mine_vessels", country.mine_vessels)]:
        src = base.sources.get(s.source or "", {})
        path = f"countries.{iso3}.{name}"
        current = now.country(iso3).fields.get(name)
        in_force = name not in COUNTRY_FIELDS or (current is not None and current.origin == s.origin)
        rows.append({"date": src.get("date", "") if s.source else "", "field": name, "value": shown(name, s.value),
                     "drawn": _drawn(path, s.value), "status": "in force" if in_force else "superseded",
                     "origin": s.origin, "source": s.source or "", "quality": src.get("quality", src.get("kind", "")),
                     "flag": _flag(src.get("quality", "")), "quote": s.quote or "",
                     "assumption": s.assumption or "", "note": s.note or ""})
    for st in load_statements():
        src = base.sources.get(st.source, {})
        for path in _concerns(st, iso3):
            if st.quality in exclude:
                status = "left out"
            elif st.date > now.as_of:
                status = "after as-of"
            else:
                status = "in force" if _origin(now, path) == st.origin else "superseded"
            field = path.removeprefix(f"countries.{iso3}.")
            rows.append({"date": st.date, "field": field, "value": shown(field, st.sets[path]),
                         "drawn": _drawn(path, st.sets[path]), "status": status,
                         "origin": st.origin, "source": st.source, "quality": src.get("quality", ""),
                         "flag": _flag(st.quality), "quote": st.quote, "assumption": st.assumption or "",
                         "note": st.note or ""})
    return pd.DataFrame(rows)


def statements_table(exclude_qualities: Iterable[str] = ()) -> pd.DataFrame:
    """Every ledger statement (one row per value it sets) with its source, flag, and whether it changed it."""
    exclude = _key(exclude_qualities)
    sources = load_baseline().sources
    changed = {(c.statement.origin, c.path) for c in changes(exclude)}
    rows = [{"date": st.date, "about": st.about, "statement": st.origin, **_source_cols(st, sources), "path": path,
             "value": text(value), "changed": (st.origin, path) in changed, "left_out": st.quality in exclude,
             "quote": st.quote, "assumption": st.assumption or "", "note": st.note or ""}
            for st in load_statements() for path, value in st.sets.items()]
    return pd.DataFrame(rows)
