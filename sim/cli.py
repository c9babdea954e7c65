"""The command line: ``reassurance run|validate|sources`` (also ``python -m sim``).

A thin face: it parses arguments, calls ``sim``'s API and prints. Exit codes: 0 done, 2 bad input
(an invalid scenario file or option), 1 an unexpected failure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim import export, report
from sim.baseline import load_baseline
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    ap = argparse.ArgumentParser(prog="reassurance", description=(
        "Can the coalition of the willing's reassurance force for Ukraine add up? Run scenario files "
        "through the agent-based model and test force-size thresholds."))
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

    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("files", type=Path, nargs="+")

    src = sub.add_parser("sources", help="show a country's encoded stance and conditions with their sources")
    src.add_argument("iso3", nargs="?", help="country code (e.g. FRA); omit to list countries")
    return ap


def _cmd_run(args: argparse.Namespace) -> int:
    started = export.now_iso()
    scenario = load_scenario(args.scenario)
    result = run_scenario(scenario, replications=args.reps, engine=args.engine,
                          collect_countries=bool(args.out and args.country_detail))
    print("\n".join(report.verdict_lines(result)))
    if args.out:
        manifest = {
            "scenarios": [{"name": scenario.name, "file": str(args.scenario), "hash": scenario.content_hash(),
                           "resolved": scenario.to_toml_dict()}],
            "seed": scenario.seed, "replications": result.replications, "engine": result.engine,
            "started": started, "finished": export.now_iso(),
        }
        folder = export.write_results(args.out, result.tables, manifest=manifest, xlsx=args.xlsx)
        print(f"\nTables written to {folder}/ ({', '.join(sorted(result.tables))}; manifest.json)")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    bad = 0
    for f in args.files:
        try:
            s = load_scenario(f)
        except ScenarioError as e:
            bad += 1
            print(str(e), file=sys.stderr)
        else:
            points = len(s.sweep_points())
            print(f"{f}: ok ('{s.name}', seed {s.seed}, {s.replications} replications, {points} sweep point"
                  f"{'s' if points != 1 else ''})")
    return 2 if bad else 0


def _cmd_sources(args: argparse.Namespace) -> int:
    base = load_baseline()
    if not args.iso3:
        for c in base.countries:
            print(f"{c.iso3}  {c.name:<16} profile {c.profile:<16} claims {', '.join(c.claims) or '-'}")
        return 0
    try:
        c = base.country(args.iso3.upper())
    except KeyError:
        print(f"unknown country code {args.iso3!r}; expected one of {', '.join(base.iso3)}", file=sys.stderr)
        return 2
    print(f"{c.name} ({c.iso3}), profile '{c.profile}'")
    for name, s in [*c.fields.items(), ("active_personnel", c.active_personnel), ("mine_vessels", c.mine_vessels)]:
        print(f"  {name:<28} {s.value!s:<24} [{s.origin}] {s.label()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``reassurance`` command."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "validate":
            return _cmd_validate(args)
        return _cmd_sources(args)
    except ScenarioError as e:
        print(str(e), file=sys.stderr)
        return 2
    except export.OutputPathError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
