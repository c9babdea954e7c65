"""The command line: ``reassurance run|batch|analyse|validate|sources|timeline`` (also ``python -m sim``).

A thin face: it parses arguments, calls ``sim``'s API and prints. Exit codes: 0 done, 2 bad input
(an invalid scenario file or option, or an output folder that cannot be written; nothing is run or written),
1 a failure (a batch whose worker died or whose chunk failed, or the results could not be written),
130 interrupted by Ctrl-C, 143 stopped by SIGTERM (no results folder written).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from sim import analysis, batch, dask_executor, export, report, timeline  # dask_executor: Dask only when used
from sim.baseline import DataError, load_baseline
from sim.ledger import check_as_of
from sim.runner import ENGINES, run_scenario
from sim.scenario import MAX_REPLICATIONS, ScenarioError, load_scenario


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= v <= MAX_REPLICATIONS:
        raise argparse.ArgumentTypeError(f"expected 1..{MAX_REPLICATIONS}, got {v}")
    return v


def _count(text: str) -> int:
    try:
        v = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {v}")
    return v


def _qualities(text: str) -> tuple[str, ...]:
    from sim.baseline import SOURCE_QUALITIES

    out = tuple(q.strip() for q in text.split(",") if q.strip())
    bad = [q for q in out if q not in SOURCE_QUALITIES]
    if bad:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(SOURCE_QUALITIES)}; "
                                         f"got {text!r}")
    return out


def _formats(text: str) -> tuple[str, ...]:
    out = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in out if f not in export.FORMATS]
    if not out or bad:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(export.FORMATS)}; "
                                         f"got {text!r}")
    return tuple(dict.fromkeys(out))


def _version() -> str:
    try:
        return metadata.version("reassurance")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    ap = argparse.ArgumentParser(prog="reassurance", description=(
        "Can the coalition of the willing's reassurance force for Ukraine add up? Run scenario files "
        "through the agent-based model and test force-size thresholds."))
    ap.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = ap.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one scenario and print the verdict")
    run.add_argument("scenario", type=Path, help="scenario TOML file (e.g. scenarios/baseline.toml)")
    run.add_argument("--reps", type=_positive_int, help="replications (default: the scenario's own)")
    run.add_argument("--engine", choices=ENGINES, default="ensemble",
                     help="ensemble (fast, default) or mesa (agent by agent, same results)")
    run.add_argument("--out", type=Path, help="write the outcome tables (CSV, Parquet) and a manifest here")
    run.add_argument("--xlsx", action="store_true", help="with --out: also write tables.xlsx")
    run.add_argument("--country-detail", action="store_true",
                     help="with --out: also write country_month (run x month x country; large)")
    run.add_argument("--no-runs", action="store_true",
                     help="drop the per-run table (memory and files stay small for millions of runs)")
    run.add_argument("--no-months", action="store_true", help="drop the per-month table")

    bat = sub.add_parser(
        "batch", help="run many scenario files (every sweep point, many replications) and write their tables",
        description="Run every scenario x sweep point x replication, in parallel, and write the outcome tables "
                    "(concatenated over scenarios and sweep points) with a manifest into --out. Same inputs "
                    "give byte-identical tables whatever the number of workers. See scenarios/README.md.")
    bat.add_argument("files", type=Path, nargs="+", help="scenario TOML files (e.g. scenarios/*.toml)")
    bat.add_argument("--out", type=Path, required=True,
                     help="results folder to write (replaced whole once the batch is complete)")
    bat.add_argument("--reps", type=_positive_int, help="replications per sweep point, for every scenario "
                     "(default: each scenario's own `replications`)")
    bat.add_argument("--workers", type=_count, default=None,
                     help=f"worker processes (default: all cores, {os.cpu_count()}, but fewer for a small batch, "
                          "where starting processes costs more than it saves); 1 runs in this process")
    bat.add_argument("--engine", choices=ENGINES, default="ensemble",
                     help="ensemble (fast, default) or mesa (agent by agent, same results)")
    bat.add_argument("--chunk-size", type=_count, default=None,
                     help=f"runs per unit of work (default {batch.DEFAULT_CHUNK}, {batch.DEFAULT_CHUNK_MESA} with "
                          f"--engine mesa, {dask_executor.DEFAULT_CHUNK_DASK} with --executor dask; results do not "
                          "depend on it)")
    bat.add_argument("--executor", choices=("local", "dask"), default="local",
                     help="where chunks are computed: local (this machine: --workers processes, default) or dask "
                          "(a Dask cluster; needs pip install '.[cluster]'; see docs/cluster.md)")
    bat.add_argument("--scheduler", metavar="ADDRESS", default=None,
                     help="with --executor dask: the Dask scheduler, e.g. tcp://HOST:8786 (default: "
                          "$REASSURANCE_DASK_SCHEDULER, else Dask's `scheduler-address` setting, else a local "
                          "cluster of --workers processes started for the batch); `local` forces a local cluster")
    bat.add_argument("--xlsx", action="store_true", help="also write tables.xlsx (one sheet per table)")
    bat.add_argument("--formats", type=_formats, default=export.FORMATS,
                     help="table formats, comma-separated (default: csv,parquet)")
    bat.add_argument("--no-months", action="store_true", help="leave out the per_month table")
    bat.add_argument("--no-runs", action="store_true", help="leave out the per_run table (one row per run)")
    bat.add_argument("--max-runs", type=_count, default=batch.DEFAULT_MAX_RUNS,
                     help=f"refuse a batch of more runs than this (default {batch.DEFAULT_MAX_RUNS:,})")
    bat.add_argument("--fresh", action="store_true",
                     help="ignore the checkpoints of an interrupted run of this batch and redo every point")
    bat.add_argument("--quiet", action="store_true", help="no progress bar and no summary")

    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("files", type=Path, nargs="+")

    src = sub.add_parser("sources", help="show a country's encoded stance and conditions with their sources, "
                                         "and its dated statements")
    src.add_argument("iso3", nargs="?", help="country code (e.g. FRA); omit to list countries")
    src.add_argument("--as-of", metavar="YYYY-MM-DD", default=None,
                     help="the values in force on this date (default: the baseline's, 2025-09-05)")
    src.add_argument("--leave-out", metavar="QUALITIES", type=_qualities, default=(),
                     help="skip statements resting on these source qualities, e.g. aggregator,state_media")

    tl = sub.add_parser("timeline", help="run a scenario as of every date on which a statement changed its "
                                         "inputs, and write the timeline table",
                        description="Run the scenario as of the baseline's date and every later date on which a "
                                    "dated statement (sim/data/statements.toml) changed an input, with the same "
                                    "seed; write the tables timeline and timeline_changes with a manifest.")
    tl.add_argument("scenario", type=Path, help="scenario TOML file (its own as_of is replaced by each date)")
    tl.add_argument("--out", type=Path, required=True, help="results folder to write")
    tl.add_argument("--reps", type=_positive_int, help="replications per date (default: the scenario's own)")
    tl.add_argument("--engine", choices=ENGINES, default="ensemble", help="ensemble (default) or mesa")
    analysis.add_cli(sub)
    return ap


COUNTRY_DETAIL_MAX_RUN_MONTHS = 3_600_000
"""Cap on runs x months for ``--country-detail`` (about 120 million table rows with 34 countries)."""


def _cmd_run(args: argparse.Namespace) -> int:
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


def _cmd_validate(args: argparse.Namespace) -> int:
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


def _cmd_batch(args: argparse.Namespace) -> int:
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


def _cmd_sources(args: argparse.Namespace) -> int:
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


def _cmd_timeline(args: argparse.Namespace) -> int:
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


SOURCE_UNITS = {"air": "aircraft", "sea": "vessels", "active_personnel": "troops", "mine_vessels": "vessels"}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``reassurance`` command."""
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "batch":
            return _cmd_batch(args)
        if args.command == "analyse":
            return analysis.run_cli(args)
        if args.command == "validate":
            return _cmd_validate(args)
        if args.command == "timeline":
            return _cmd_timeline(args)
        return _cmd_sources(args)
    except ScenarioError as e:
        print(str(e), file=sys.stderr)
        return 2
    except (export.OutputPathError, batch.BatchError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except export.OutputWriteError as e:
        print(f"error: {e.strerror}", file=sys.stderr)
        return 1
    except batch.BatchInterruptedError as e:
        print(e.report(), file=sys.stderr)
        return e.exit_code
    except batch.StopRequestedError:
        print("stopped (SIGTERM); no results folder was written", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C); no results folder was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`reassurance sources GBR | head`): not an error to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
