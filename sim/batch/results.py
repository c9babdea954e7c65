"""A batch's results: every sweep point's tables assembled in batch order, and what its manifest records.

:func:`assemble` concatenates the points' tables (scenario files in the order given, sweep points in order)
with ``point`` and one column per swept lever, and adds the ``points`` table. Every table the points
produced is assembled: which tables exist is decided where they are built (:meth:`TableBuilder.tables`,
which leaves out ``per_run`` and ``per_month`` when they are not asked for), never by a list here, so a new
table reaches the results folder without being named again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim import export
from sim.batch.plan import SEEDING, BatchPlan, lever_value

POINTS_TABLE = "points"
"""The table of the batch itself: one row per scenario x sweep point (the other tables are the points')."""

EXCEL_MAX_ROWS = 1_048_575
"""Rows of data an Excel sheet holds (1,048,576 rows less the header)."""

Tables = dict[str, pd.DataFrame]


@dataclass(frozen=True, eq=False)
class BatchResult:
    """The batch's tables (concatenated over scenarios and sweep points) and what the manifest records."""

    plan: BatchPlan
    tables: Tables
    point_tables: dict[tuple[int, int], Tables] = field(repr=False)
    reused: tuple[str, ...]
    workers: int


def table_names(plan: BatchPlan, done: dict[tuple[int, int], Tables]) -> list[str]:
    """The tables every point produced, in the order they were built; a point missing one is an error."""
    names: list[str] = []
    for pt in plan.points:
        names += [n for n in done[(pt.index, pt.point)] if n not in names]
    for pt in plan.points:
        missing = [n for n in names if n not in done[(pt.index, pt.point)]]
        if missing:
            raise ValueError(f"sweep point {pt.label} has no {', '.join(missing)} table, which other points have")
    if POINTS_TABLE in names:
        raise ValueError(f"a sweep point produced a table named {POINTS_TABLE!r}, the batch's own table")
    return names


def assemble(plan: BatchPlan, done: dict[tuple[int, int], Tables]) -> Tables:
    """Concatenate the points' tables in batch order, with ``point`` and one column per swept lever.

    Also builds ``points``: one row per scenario x sweep point with its resolved levers and scenario hash.
    """
    rows = []
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in table_names(plan, done)}
    for pt in plan.points:
        levers = {k: lever_value(pt.scenario, pt.params, k) for k in plan.levers}
        rows.append({"scenario": pt.name, "point": pt.point, **levers, "seed": pt.scenario.seed, "runs": pt.reps,
                     "scenario_hash": pt.scenario.content_hash(), "file": pt.file,
                     "changes": json.dumps(pt.changes, sort_keys=True)})
        for name, df in done[(pt.index, pt.point)].items():
            df = df.copy()
            df.insert(1, "point", pt.point)
            for j, (k, v) in enumerate(levers.items()):
                df.insert(2 + j, k, v)
            parts[name].append(df)
    return {POINTS_TABLE: pd.DataFrame(rows), **{name: pd.concat(dfs, ignore_index=True)
                                                 for name, dfs in parts.items()}}


def batch_manifest(result: BatchResult, *, started: str, command: str | None = None,
                   options: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the manifest records about a batch (:func:`sim.export.manifest`; ``write_results`` adds files)."""
    plan = result.plan
    scenarios = []
    for i, e in enumerate(plan.entries):
        pts = [pt for pt in plan.points if pt.index == i]
        scenarios.append(export.scenario_record(
            e.scenario, e.file, replications=pts[0].reps,
            sweep_points=[{"point": pt.point, "changes": pt.changes, "hash": pt.scenario.content_hash()}
                          for pt in pts]))
    return export.manifest(
        "batch", scenarios, started=started, command=command, options=options or {},
        seeds={e.scenario.name: e.scenario.seed for e in plan.entries}, seeding=SEEDING,
        replications_override=plan.reps_override, engine=plan.engine, chunk_size=plan.chunk_size,
        workers=result.workers, points=len(plan.points), runs=plan.runs, swept_levers=list(plan.levers),
        tables=list(result.tables), reused_points=list(result.reused))


def excel_errors(plan: BatchPlan, *, per_run: bool, months: bool) -> list[str]:
    """Tables too long for an Excel sheet (checked before running, when XLSX is asked for)."""
    rows = {"per_run": plan.runs if per_run else 0,
            "per_month": sum(3 * pt.params.horizon for pt in plan.points) if months else 0,
            "per_country": sum(pt.params.n_countries for pt in plan.points)}
    return [f"{name} would have {n:,} rows; an Excel sheet holds {EXCEL_MAX_ROWS:,}"
            for name, n in rows.items() if n > EXCEL_MAX_ROWS]
