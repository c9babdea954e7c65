"""The ``reassurance analyse`` command: :func:`add_parser` registers it, :func:`run` runs it.

Exit codes as the rest of the command line: 0 done, 2 bad input (invalid scenario or option; nothing is
written), 130 interrupted (nothing written).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from sim import export
from sim.analysis import ANALYSES
from sim.analysis.changes import KINDS
from sim.analysis.summary import plain_summary
from sim.cli import types as t
from sim.params import compile_params
from sim.scenario import ScenarioError, load_scenario


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``analyse`` subcommand on an argparse ``subparsers`` object; returns its parser."""
    ap = subparsers.add_parser(
        "analyse", help="who makes or breaks a threshold, the cheapest way to reach it, and which levers matter",
        description="Analyse one scenario and threshold: pivotal countries (Shapley, Banzhaf, minimal winning "
                    "coalitions), the cheapest set of allowed changes that reaches a target probability, Sobol "
                    "indices of the uncertain inputs (SALib) and PRIM boxes of where the force succeeds (EMA "
                    "Workbench). Tables (CSV, Parquet) and a manifest go to --out. See docs/analysis.md.")
    ap.add_argument("scenario", type=Path, help="scenario TOML file (e.g. scenarios/baseline.toml)")
    ap.add_argument("--threshold", type=t.threshold, default=("land", None), metavar="COMPONENT[=VALUE]",
                    help="component to test (land, air, sea), optionally with a new threshold (land=40000); "
                         "default land at the scenario's threshold")
    ap.add_argument("--what", type=t.choices(ANALYSES), default=ANALYSES,
                    help="analyses to run, comma-separated (default: pivotal,gap,sobol,prim)")
    ap.add_argument("--reps", type=t.replications,
                    help="replications per evaluation, for every analysis (default: pivotal 500, gap screening "
                         "400, sobol/prim 200)")
    ap.add_argument("--out", type=Path, help="write the tables (CSV, Parquet) and a manifest into this folder")
    ap.add_argument("--xlsx", action="store_true", help="with --out: also write tables.xlsx")
    ap.add_argument("--quiet", action="store_true", help="print nothing but errors")
    g = ap.add_argument_group("pivotal countries")
    g.add_argument("--worth", choices=("p_met", "strength"), default="p_met",
                   help="a coalition's worth: P(threshold met) (default) or its expected lowest strength")
    g.add_argument("--exact-max", type=t.whole(0, 20), default=12,
                   help="exact Shapley/Banzhaf up to this many players (2^n coalitions), sampled above (default 12)")
    g.add_argument("--samples", type=t.whole(2, 100_000), default=200,
                   help="permutations (and random coalitions) when sampled (default 200)")
    g.add_argument("--sample-seed", type=t.whole(0, 2**63 - 1), default=6, help="seed of the sampled permutations")
    g.add_argument("--win-prob", type=t.probability, default=0.5,
                   help="a coalition wins if its P(met) is at least this (default 0.5)")
    g.add_argument("--mwc-max-evaluations", type=t.whole(1, 10_000_000), default=2000,
                   help="most coalitions simulated in the search for minimal winning coalitions (default 2000)")
    g = ap.add_argument_group("closing the gap")
    g.add_argument("--target", type=t.probability, default=0.9, help="target P(threshold met) (default 0.9)")
    g.add_argument("--max-changes", type=t.whole(0, 20), default=5, help="largest set of changes tried (default 5)")
    g.add_argument("--max-evaluations", type=t.whole(1, 10_000_000), default=3000,
                   help="most sets of changes screened (default 3000)")
    g.add_argument("--confirm-reps", type=t.replications,
                   help="runs to confirm a plan (default: the scenario's replications, at least 2000)")
    g.add_argument("--weights", type=t.weights, help="cost weights, e.g. troops=0.0001,countries=1,political=1 "
                   "(the default: 10,000 troops weigh as one country asked or one political step)")
    g.add_argument("--order", type=t.order,
                   help="lexicographic cost instead of weights, e.g. political,countries,troops")
    g.add_argument("--changes", type=t.choices(KINDS), default=KINDS,
                   help="kinds of change allowed (default pledge,willingness,condition,backstop)")
    g.add_argument("--include-unpledged", action="store_true",
                   help="also ask coalition members that pledged nothing to this component")
    g = ap.add_argument_group("which levers matter (Sobol, PRIM)")
    g.add_argument("--sobol-n", type=t.whole(2, 1 << 16), default=512,
                   help="base sample size N, a power of two: N x (k + 2) points (default 512)")
    g.add_argument("--sobol-seed", type=t.whole(0, 2**32 - 1), default=2025, help="seed of the Sobol' scrambling")
    g.add_argument("--workers", type=t.whole(1, 512), default=os.cpu_count() or 1,
                   help="processes for the sample's points (results do not depend on it; default: all CPUs)")
    g.add_argument("--prim-threshold", type=t.probability, default=0.5,
                   help="a point is a success if its P(met) is at least this (default 0.5)")
    g.add_argument("--prim-min-density", type=t.probability, default=0.8,
                   help="keep the box of largest coverage with at least this density (default 0.8)")
    g.add_argument("--prim-max-boxes", type=t.whole(1, 10), default=2, help="most PRIM boxes (default 2)")
    return ap


def run(args: argparse.Namespace) -> int:
    """Run ``reassurance analyse`` with parsed arguments; returns the exit code."""
    from sim import analysis
    from sim.export import check_out_dir

    started = export.now_iso()
    say = (lambda _line: None) if args.quiet else (lambda line: print(line, file=sys.stderr))
    try:
        scenario = load_scenario(args.scenario)
        comp, value = args.threshold
        if value is not None:
            scenario = scenario.with_changes({f"thresholds.{comp}": value})
        if scenario.sweep:
            print(f"{args.scenario}: declares a sweep; analyse one point (a scenario without [sweep])",
                  file=sys.stderr)
            return 2
        if args.sobol_n & (args.sobol_n - 1):
            raise ValueError(f"--sobol-n must be a power of two, got {args.sobol_n}")
        if args.out is not None:
            check_out_dir(args.out)
        cost = analysis.Cost(order=args.order) if args.order else (
            analysis.Cost(weights={**analysis.gap.DEFAULT_WEIGHTS, **args.weights}) if args.weights
            else analysis.Cost())
    except ScenarioError as e:
        print(str(e), file=sys.stderr)
        return 2
    except (export.OutputPathError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        res = analysis.analyse(
            scenario, what=args.what, component=comp, reps=args.reps,
            pivotal_options={"worth": args.worth, "exact_max": args.exact_max, "samples": args.samples,
                             "sample_seed": args.sample_seed, "win_prob": args.win_prob,
                             "mwc_max_evaluations": args.mwc_max_evaluations},
            gap_options={"target": args.target, "max_changes": args.max_changes,
                         "max_evaluations": args.max_evaluations, "confirm_reps": args.confirm_reps, "cost": cost,
                         "kinds": args.changes, "include_unpledged": args.include_unpledged},
            sobol_options={"n": args.sobol_n, "seed": args.sobol_seed, "workers": args.workers},
            prim_options={"threshold": args.prim_threshold, "min_density": args.prim_min_density,
                          "max_boxes": args.prim_max_boxes},
            progress=say)
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C); nothing was written", file=sys.stderr)
        return 130
    if not args.quiet:
        lo, hi = compile_params(scenario).threshold_range(comp)
        shown = f"{lo:,.0f}" if lo == hi else f"{lo:,.0f}-{hi:,.0f} (drawn per run)"
        print(f"Scenario '{scenario.name}' ({args.scenario}), seed {scenario.seed}, {comp} threshold {shown}:")
        print("\n".join(["", *plain_summary(res), "", "The analyses in detail (tables: docs/analysis.md):",
                         *res.lines]))
    if args.out is not None:
        manifest = export.manifest(
            "analysis", [export.scenario_record(scenario, args.scenario)], started=started,
            command=export.command_line(getattr(args, "argv", None)), seed=scenario.seed,
            seeding=("every evaluation uses runs 0..reps-1 of the scenario's seed (common random numbers: the "
                     "same draws for every coalition, set of changes and sample point); see sim/draws.py"),
            replications=_replications(res.settings), component=comp, analyses=list(args.what),
            methods=res.settings, seconds={k: round(v, 3) for k, v in res.seconds.items()},
            analysis_packages=analysis.sensitivity.library_versions(), tables=list(res.tables))
        folder = export.write_results(args.out, res.tables, manifest=manifest, xlsx=args.xlsx)
        if not args.quiet:
            print("\n" + export.written_line(folder, res.tables, xlsx=args.xlsx))
    return 0


def _replications(settings: dict[str, Any]) -> dict[str, int]:
    """The runs behind each analysis's evaluations, as the manifest records them."""
    out = {}
    if "pivotal" in settings:
        out["pivotal_per_coalition"] = settings["pivotal"]["reps"]
    if "gap" in settings:
        out["gap_screen_per_set"] = settings["gap"]["reps"]
        out["gap_confirm"] = settings["gap"]["confirm_reps"]
    if "sample" in settings:
        out["sensitivity_per_point"] = settings["sample"]["reps"]
    return out
