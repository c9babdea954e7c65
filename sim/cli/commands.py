"""What each subcommand does once its arguments are parsed (``reassurance run|batch|validate|sources|timeline``).

Each function takes the parsed arguments, calls ``sim``'s API, prints, and returns the exit code; the errors
it raises are turned into messages and exit codes by :func:`sim.cli.main`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

import numpy as np

from sim import batch, dask_executor, export, report, timeline  # dask_executor: Dask only when used
from sim.baseline import DataError, load_baseline
from sim.ledger import check_as_of
from sim.runner import run_scenario
from sim.scenario import ScenarioError, load_scenario

COUNTRY_DETAIL_MAX_RUN_MONTHS = 3_600_000
"""Cap on runs x months for ``--country-detail`` (about 120 million table rows with 34 countries)."""


def run(args: argparse.Namespace) -> int:
    """``reassurance run``: one scenario, its verdict printed, its tables written with ``--out``."""
    started = export.now_iso()
    scenario = load_scenario(args.scenario)
    if scenario.sweep:
        n = len(scenario.sweep_points())
        print(f"{args.scenario}: declares a sweep ({n} points); run it with "
              f"`reassurance batch {args.scenario} --out results/NAME`", file=sys.stderr)
        return 2
    reps = scenario.replications if args.reps is None else args.reps
    problems = []
    if args.out:
        export.check_out_dir(args.out)  # before running, not after
    if args.xlsx and args.out:
        rows = {"per_run": 0 if args.no_runs else reps,
                "country_month": (reps * scenario.levers.horizon_months * len(load_baseline().countries)
                                  if args.country_detail else 0)}
        problems += [f"--xlsx: {name} would have {n:,} rows; an Excel sheet holds {batch.EXCEL_MAX_ROWS:,} "
                     f"(use --no-runs, fewer --reps, or CSV/Parquet only)"
                     for name, n in rows.items() if n > batch.EXCEL_MAX_ROWS]
    if args.country_detail and args.out and reps * scenario.levers.horizon_months > COUNTRY_DETAIL_MAX_RUN_MONTHS:
        problems.append(f"--country-detail: {reps:,} runs x {scenario.levers.horizon_months} months is too many "
                        f"rows; at most {COUNTRY_DETAIL_MAX_RUN_MONTHS:,} run-months")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    result = run_scenario(scenario, replications=args.reps, engine=args.engine,
                          collect_countries=bool(args.out and args.country_detail), months=not args.no_months,
                          keep_runs=not args.no_runs, keep_arrays=False)
    print("\n".join(report.verdict_lines(result)))
    if args.out:
        manifest = export.manifest("run", [export.scenario_record(scenario, args.scenario)], started=started,
                                   command=export.command_line(args.argv), seed=scenario.seed,
                                   replications=result.replications, engine=result.engine)
        folder = export.write_results(args.out, result.tables, manifest=manifest, xlsx=args.xlsx)
        print("\n" + export.written_line(folder, result.tables, xlsx=args.xlsx))
    return 0


def validate(args: argparse.Namespace) -> int:
    """``reassurance validate``: check scenario files (alone and as one batch) without running them."""
    bad = 0
    good: dict[str, list[Path]] = {}
    for f in args.files:
        try:
            s = load_scenario(f)
            runs_errors = batch.scenario_runs_errors(batch.Entry(str(f), s))
            if runs_errors:
                raise ScenarioError(runs_errors)
        except ScenarioError as e:
            bad += 1
            print(str(e), file=sys.stderr)
        else:
            points = len(s.sweep_points())
            good.setdefault(s.name, []).append((f, f"{f}: ok ('{s.name}', seed {s.seed}, {s.replications} "
                                                   f"replications, {points} sweep point{'s' if points != 1 else ''})"))
    # the files are checked as one batch too: batch refuses two files of the same name (or one file twice)
    for files in good.values():
        if len(files) > 1:
            try:
                batch.load_batch([f for f, _ in files])
            except ScenarioError as e:
                bad += 1
                print(str(e), file=sys.stderr)
                continue
        print("\n".join(line for _, line in files))
    return 2 if bad else 0


def batch_run(args: argparse.Namespace) -> int:
    """``reassurance batch``: every scenario x sweep point x replication, on an executor; tables to ``--out``."""
    started = export.now_iso()
    entries = batch.load_batch(args.files)
    export.check_out_dir(args.out)
    dask = args.executor == "dask"
    if args.scheduler is not None and not dask:
        raise batch.BatchError("--scheduler needs --executor dask")
    chunk_size = args.chunk_size or (dask_executor.dask_chunk_size(args.engine) if dask else None)
    plan = batch.plan_batch(entries, reps=args.reps, engine=args.engine, chunk_size=chunk_size,
                            max_runs=args.max_runs)
    months, per_run = not args.no_months, not args.no_runs
    if args.xlsx and (too_long := batch.excel_errors(plan, per_run=per_run, months=months)):
        raise batch.BatchError("--xlsx: " + "; ".join(too_long) + " (use --no-runs or fewer --reps)")
    if dask:
        executor = dask_executor.DaskExecutor.for_batch(args.scheduler, workers=args.workers, plan=plan)
        session = executor  # connects (or starts the local cluster) on entry, disconnects (closes it) on exit
    else:
        executor = batch.make_executor(args.workers, plan)
        session = contextlib.nullcontext()
    with batch.stop_on_sigterm(), session:  # SIGTERM stops the batch as cleanly as Ctrl-C
        checkpoints = batch.Checkpoints(batch.checkpoint_dir(args.out), engine=args.engine, months=months,
                                        per_run=per_run)
        if args.fresh:
            checkpoints.clear()
        if not args.quiet:
            where = f", Dask cluster at {executor.address}" if dask else ""
            print(f"Batch: {len(entries)} scenario file{'s' if len(entries) != 1 else ''}, {len(plan.points)} "
                  f"sweep point{'s' if len(plan.points) != 1 else ''}, {plan.runs:,} runs ({args.engine} engine, "
                  f"{executor.workers} worker{'s' if executor.workers != 1 else ''}{where})", file=sys.stderr)
            if dask and not executor.workers:
                print("No Dask workers yet: chunks wait for `dask worker` processes to join", file=sys.stderr)
        result = batch.run_batch(plan, executor=executor, months=months, per_run=per_run,
                                 checkpoints=checkpoints, progress=not args.quiet)
        if result.reused and not args.quiet:
            print(f"Reused {len(result.reused)} completed sweep point(s) from {checkpoints.folder}/",
                  file=sys.stderr)
        options = {"reps": args.reps, "engine": args.engine, "chunk_size": plan.chunk_size, "months": months,
                   "per_run": per_run, "formats": list(args.formats), "xlsx": args.xlsx, "max_runs": args.max_runs,
                   "executor": args.executor}
        if dask:
            options["scheduler"] = executor.scheduler or "local cluster"
        manifest = batch.batch_manifest(result, started=started, options=options,
                                        command=export.command_line(args.argv))
        folder = export.write_results(args.out, result.tables, manifest=manifest, formats=args.formats,
                                      xlsx=args.xlsx)
    checkpoints.clear()
    if not args.quiet:
        print("\n".join(_batch_lines(result)))
        print("\n" + export.written_line(folder, result.tables, formats=args.formats, xlsx=args.xlsx))
    return 0


def _batch_lines(result: batch.BatchResult, *, most: int = 60) -> list[str]:
    summ = result.tables["summary"]
    levers = list(result.plan.levers)
    lines = ["P(threshold held over the assessment window) [95% interval], per scenario and sweep point:"]
    groups = summ.groupby(["scenario", "point"], sort=False)
    rows = []
    for i, ((name, point), g) in enumerate(groups):
        if i == most:
            break
        swept = ", ".join(f"{lever_label(k)} = {plain_value(g.iloc[0][k])}" for k in levers
                          if _swept(result, name, k))
        parts = [f"{r.component} {r.p_met:6.1%} " + f"[{r.p_met_low95:.1%}-{r.p_met_high95:.1%}]".ljust(15)
                 for r in g.itertuples()]
        rows.append((f"{name}[{point}]" + (f" ({swept})" if swept else ""), "  ".join(parts)))
    width = max((len(label) for label, _ in rows), default=0)
    lines += [f"  {label:<{width}}  {parts}".rstrip() for label, parts in rows]
    if groups.ngroups > most:
        lines.append(f"  ... and {groups.ngroups - most} more sweep points (summary table)")
    return lines


def lever_label(key: str) -> str:
    """A swept lever's path in words: ``countries.FRA.land_troops`` -> ``FRA land_troops``."""
    kind, _, rest = key.partition(".")
    if kind == "countries":
        return rest.replace(".", " ", 1)
    if kind == "thresholds":
        return f"{rest} threshold"
    return rest


def plain_value(value: object) -> str:
    """A lever's value as a person writes it: whole numbers without ``.0``, lists as ``[a, b]``."""
    if isinstance(value, str) and value.startswith("["):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(plain_value(v) for v in value) + "]"
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return f"{int(value):,}"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    return str(value)


def _swept(result: batch.BatchResult, name: str, key: str) -> bool:
    return any(e.scenario.name == name and key in e.scenario.sweep for e in result.plan.entries)


def sources(args: argparse.Namespace) -> int:
    """``reassurance sources``: the countries, or one country's values with their sources and dated statements."""
    try:
        as_of = check_as_of(args.as_of, "--as-of") if args.as_of is not None else None
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    base = load_baseline(as_of, tuple(sorted(args.leave_out)))
    if not args.iso3:
        for c in base.countries:
            print(f"{c.iso3}  {c.name:<16} profile {c.profile:<16} claims {', '.join(c.claims) or '-'}")
        return 0
    try:
        c = base.country(args.iso3.upper())
    except KeyError:
        print(f"unknown country code {args.iso3!r}; expected one of {', '.join(base.iso3)}", file=sys.stderr)
        return 2
    print(f"{c.name} ({c.iso3}), profile '{c.profile}': values in force as of {base.as_of}"
          + (f", leaving out {', '.join(base.left_out)}" if base.left_out else ""))
    rows = timeline.country_statements(c.iso3, as_of, args.leave_out)
    ledger = rows["origin"].str.startswith("statements[")
    for title, part in (("The baseline (articles and reports up to 5 September 2025; date of the source):",
                         rows[~ledger]),
                        ("Dated statements since (sim/data/statements.toml), in date order:", rows[ledger])):
        print(f"\n{title}")
        for r in part.itertuples():
            marks = ", ".join(x for x in (r.status.upper() if r.status == "in force" else r.status, r.drawn,
                                          r.flag) if x)
            cite = f"{r.source} ({r.quality})" if r.source else ""
            print(f"  {r.date or '-':<10}  {r.field:<28} {r.value:<22} [{marks}] {cite}"
                  + (f': "{r.quote}"' if r.quote else "") + (f" [{r.origin}]" if not r.source else ""))
            for label, textv in (("assumption", r.assumption), ("note", r.note)):
                if textv:
                    print(f"{'':14}{label}: {textv}")
        if part.empty:
            print("  none")
    return 0


def timeline_run(args: argparse.Namespace) -> int:
    """``reassurance timeline``: one scenario as of every date a statement changed its inputs."""
    started = export.now_iso()
    scenario = load_scenario(args.scenario)
    if scenario.sweep:
        print(f"{args.scenario}: declares a sweep; the timeline runs one scenario (remove [sweep])", file=sys.stderr)
        return 2
    export.check_out_dir(args.out)
    tables = timeline.timeline_tables(scenario, replications=args.reps, engine=args.engine)
    print("\n".join(timeline.timeline_lines(tables)))
    manifest = export.manifest("timeline", [export.scenario_record(scenario, args.scenario)], started=started,
                               command=export.command_line(args.argv), seed=scenario.seed,
                               replications=args.reps or scenario.replications, engine=args.engine,
                               as_of_dates=list(dict.fromkeys(tables["timeline"]["as_of"])))
    folder = export.write_results(args.out, tables, manifest=manifest)
    print(f"\nTables written to {folder}/ ({', '.join(tables)}; manifest.json)")
    return 0
