"""The command line: ``reassurance run|batch|analyse|validate|sources|timeline`` (also ``python -m sim``).

A thin face: it parses arguments (here, with the argument types of :mod:`sim.cli.types`), calls ``sim``'s
API and prints (:mod:`sim.cli.commands`, and :mod:`sim.cli.analyse` for ``analyse``). Exit codes: 0 done,
2 bad input (an invalid scenario file or option, or an output folder that cannot be written; nothing is run
or written),
1 a failure (a batch whose worker died or whose chunk failed, or the results could not be written),
130 interrupted by Ctrl-C, 143 stopped by SIGTERM (no results folder written).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from importlib import metadata
from pathlib import Path

from sim import batch, dask_executor, export  # dask_executor: Dask only when used
from sim.cli import analyse, commands
from sim.cli import types as t
from sim.runner import ENGINES
from sim.scenario import ScenarioError


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
    run.add_argument("--reps", type=t.replications, help="replications (default: the scenario's own)")
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
    bat.add_argument("--reps", type=t.replications, help="replications per sweep point, for every scenario "
                     "(default: each scenario's own `replications`)")
    bat.add_argument("--workers", type=t.count, default=None,
                     help=f"worker processes (default: all cores, {os.cpu_count()}, but fewer for a small batch, "
                          "where starting processes costs more than it saves); 1 runs in this process")
    bat.add_argument("--engine", choices=ENGINES, default="ensemble",
                     help="ensemble (fast, default) or mesa (agent by agent, same results)")
    bat.add_argument("--chunk-size", type=t.count, default=None,
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
    bat.add_argument("--formats", type=t.formats, default=export.FORMATS,
                     help="table formats, comma-separated (default: csv,parquet)")
    bat.add_argument("--no-months", action="store_true", help="leave out the per_month table")
    bat.add_argument("--no-runs", action="store_true", help="leave out the per_run table (one row per run)")
    bat.add_argument("--max-runs", type=t.count, default=batch.DEFAULT_MAX_RUNS,
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
    src.add_argument("--leave-out", metavar="QUALITIES", type=t.qualities, default=(),
                     help="skip statements resting on these source qualities, e.g. aggregator,state_media")

    tl = sub.add_parser("timeline", help="run a scenario as of every date on which a statement changed its "
                                         "inputs, and write the timeline table",
                        description="Run the scenario as of the baseline's date and every later date on which a "
                                    "dated statement (sim/data/statements.toml) changed an input, with the same "
                                    "seed; write the tables timeline and timeline_changes with a manifest.")
    tl.add_argument("scenario", type=Path, help="scenario TOML file (its own as_of is replaced by each date)")
    tl.add_argument("--out", type=Path, required=True, help="results folder to write")
    tl.add_argument("--reps", type=t.replications, help="replications per date (default: the scenario's own)")
    tl.add_argument("--engine", choices=ENGINES, default="ensemble", help="ensemble (default) or mesa")
    analyse.add_parser(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``reassurance`` command."""
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        command = {"run": commands.run, "batch": commands.batch_run, "analyse": analyse.run,
                   "validate": commands.validate, "timeline": commands.timeline_run, "sources": commands.sources}
        return command[args.command](args)
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
