"""``cpsim montecarlo`` and ``cpsim corners``: tolerance studies from the command line.

Parse -> one library call (:mod:`cpsim.study`) -> print.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

from ..errors import ParameterError
from ..outputs import refuse_foreign
from .common import add_force, count, parse_threshold, print_json

__all__ = ["add_parser"]

_TOL_HELP = ("vary a component: NAME=SPEC[,normal]. SPEC: range with units (cable_c=0:3100p, rise=1us:2us, "
             "temp=-40:85), percent of the nominal (r1=3%%), half-width with a unit (r1=30ohm, v_high=0.6V, "
             "duty=2.5pp for percentage points) or bare (r1=0.03 is ±3 %% for resistors, capacitance and "
             "frequency; v_high=0.6 is ±0.6 V), or fixed / fixed@VALUE. A value without a unit prefix that "
             "is not physical (cable_c=0:3100: 3100 F) is refused. normal: ±tol = ±3σ. Names: CpCircuit "
             "fields or short "
             "forms (v_high v_low r1 r_detect r_charge r_vent temp cable_c duty frequency rise fall); the "
             "diode as its forward drop at the state's current (vf=0.55:0.85) or as a shift (diode=0.15). "
             "Repeatable; replaces that parameter's default (PILOT-REFERENCE §1)")


def _profile(args):
    from .. import standard as std

    profile = std.get_profile(args.profile)
    if args.threshold:
        windows = dict(parse_threshold(t) for t in args.threshold)
        profile = std.custom_profile(windows, base=profile.name, name=f"{profile.name}+thresholds")
    return profile


def _tolerances(args):
    from ..study.syntax import parse_tolerance

    return [parse_tolerance(t) for t in args.tolerance or ()]


def _nominal(args) -> dict:
    nominal = {}
    if args.duty is not None:
        if not 0.0 < args.duty < 100.0:
            raise ParameterError(f"--duty is in percent and must be between 0 and 100, got {args.duty:g}")
        nominal["duty"] = args.duty / 100.0
    if args.frequency is not None:
        nominal["frequency_hz"] = args.frequency
    return nominal


def _common(p) -> None:
    p.add_argument("--state", default="C", help="simulated state: A-D (PWM), A1-D1 (steady), E, F (default C)")
    p.add_argument("--engine", default="fast", help="fast (closed-form levels, millions/s) or spice "
                                                    "(ngspice + analyzer: levels, duty, edges); default fast")
    p.add_argument("--profile", default="iec61851", help="limits profile: iec61851 (default) or j1772")
    p.add_argument("--threshold", action="append", metavar="STATE=LO:HI",
                   help="your own high-level window for a state in V, e.g. B=7.8:10.3 (repeatable)")
    p.add_argument("--tolerance", action="append", metavar="NAME=SPEC", help=_TOL_HELP)
    p.add_argument("--duty", type=float, help="nominal PWM duty in percent (default 25)")
    p.add_argument("--frequency", type=float, help="nominal PWM frequency in Hz (default 1000)")
    p.add_argument("--workers", type=int, help="worker processes for --engine spice (default: the CPUs)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON (SI units, fractions)")
    p.add_argument("--allow-errors", action="store_true",
                   help="exit 0 even when runs (corners) failed; without it a study with failed runs exits 1")


def add_parser(sub: Any, units_note: str) -> None:
    """Add the ``montecarlo`` and ``corners`` subcommands to ``sub`` (an argparse subparsers action)."""
    mc = sub.add_parser(
        "montecarlo", help="Monte Carlo over component tolerances: level statistics and threshold yield",
        description="Draw --runs variations of the CP circuit from the tolerances (seeded), simulate each "
                    "(--engine fast: closed form; spice: ngspice + analyzer), and report per-state level "
                    "statistics, the yield against the limits profile's windows (or your --threshold), "
                    "misclassified runs, margins to each threshold and the worst cases.",
        epilog=units_note)
    _common(mc)
    mc.add_argument("--runs", type=count, default=1000,
                    help="number of variations, e.g. 1000000 or 1e7 (default 1000); the fast engine streams its "
                         "rows, so any count runs in bounded memory")
    mc.add_argument("--seed", type=int, help="random seed (default: drawn and reported)")
    mc.add_argument("--out", help="results file, one row per run: .parquet or .csv (rows stream to "
                                  "<out>.parts/ while running)")
    mc.add_argument("--resume", action="store_true", help="keep the finished runs in --out and run the rest")
    mc.add_argument("--force", action="store_true", help="replace an existing --out results file (without it, "
                                                          "an existing file is refused: --resume or --force)")
    progress = mc.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="a progress bar on stderr even when it is not a terminal")
    progress.add_argument("--no-progress", dest="progress", action="store_false",
                          help="no progress bar (the default when stderr is not a terminal: logs stay clean)")
    mc.add_argument("--worst", type=count, default=5, help="worst cases to list (default 5)")
    mc.set_defaults(func=_cmd_montecarlo)

    co = sub.add_parser(
        "corners", help="worst-case corners of the tolerances: extreme levels and how they are read",
        description="Put every varying tolerance at an end of its range and find the corners giving the "
                    "lowest and highest levels (all 2^N corners for few parameters, a vertex search for "
                    "many), then classify them with the limits profile.",
        epilog=units_note)
    _common(co)
    co.add_argument("--method", default="auto", help="auto (default), exhaustive or vertex")
    co.add_argument("--objective", action="append",
                    help="result column to minimise/maximise (default v_high and v_low; with --engine spice "
                         "also e.g. measured_rise_time_s). Repeatable")
    co.add_argument("--out", help="write the corner rows to .parquet or .csv")
    add_force(co)
    co.set_defaults(func=_cmd_corners)


def _pct(x) -> str:
    return "n/a" if x is None else f"{100.0 * x:.4f} %"


def _failure_lines(f: dict, runs: int, what: str = "runs") -> list[str]:
    """The summary's first lines when runs failed: the count, then the first distinct messages."""
    if not f["count"]:
        return []
    lines = [f"{f['count']:,} of {runs:,} {what} failed ({_pct(f['count'] / runs)}): not counted in the statistics, "
             "yield or margins below"]
    for m in f["messages"]:
        lines.append(f"  {m['count']:,} x {m['message']} (first: run {m['first_run']})")
    if f["distinct"] > len(f["messages"]):
        lines.append(f"  ... {f['distinct'] - len(f['messages'])} more distinct messages (see the results file)")
    return lines


def _errors_exit(count: int, what: str, args) -> int:
    if count and not args.allow_errors:
        import sys

        print(f"cpsim: {count:,} {what} failed; fix the cause or pass --allow-errors to accept them", file=sys.stderr)
        return 1
    return 0


def _yield_text(s: dict) -> str:
    if s["yield"] is None:
        return f"yield ({s['profile']}): n/a, no run ran"
    if not s["errors"]:
        return f"yield ({s['profile']}): {_pct(s['yield'])} of {s['valid_runs']:,} runs"
    return (f"yield ({s['profile']}): {_pct(s['yield'])} over the {s['valid_runs']:,} runs that ran "
            f"({s['errors']:,} failed: not counted); {_pct(s['yield_of_all_runs'])} of all {s['runs']:,} runs")


def _margin_lines(thresholds) -> list[str]:
    from ..study.summary import format_margin_v

    return [f"  margin of {th['state']} {th['level']} to {th['edge']} threshold {th['threshold_v']:g} V: "
            + ("n/a" if th["margin_shown_v"] is None else
               f"{format_margin_v(th['margin_shown_v'])} {th['verdict']}"
               + (f" (run {th['run']})" if th.get("run") is not None else ""))
            for th in thresholds]


def _show_progress(args) -> bool:
    """``--progress`` / ``--no-progress``; by default a bar only on a terminal (a log gets no ``\\r`` frames)."""
    return bool(sys.stderr.isatty()) if args.progress is None else bool(args.progress)


def _check_out(args) -> None:
    """An existing results file is kept unless the user says what to do with it."""
    if args.out and not args.resume and not args.force and os.path.isfile(args.out):
        raise ParameterError(f"{args.out} already holds results: add --resume to continue that study, --force to "
                             "replace it, or give another --out")


def _run_study(args, profile) -> tuple[dict, int]:
    """(summary, rows) of the study: the fast engine streams (bounded memory), spice gathers a frame."""
    _check_out(args)
    if args.engine == "fast":
        from ..study.stream import stream_montecarlo

        s = stream_montecarlo(args.state, args.runs, _tolerances(args), seed=args.seed, profile=profile,
                              judge=profile, nominal=_nominal(args), out=args.out, resume=args.resume,
                              progress=_show_progress(args), worst=args.worst)
        s.pop("rows_written")
        return s, s["runs"]
    from ..study.runner import run_montecarlo
    from ..study.summary import summarize

    df = run_montecarlo(args.state, args.runs, _tolerances(args), seed=args.seed, engine=args.engine,
                        profile=profile, nominal=_nominal(args), workers=args.workers, out=args.out,
                        resume=args.resume, progress=_show_progress(args))
    return summarize(df, profile, worst=args.worst), len(df)


def _cmd_montecarlo(args) -> int:
    if args.runs is None or args.runs < 1:
        raise ParameterError(f"--runs must be at least 1, got {args.runs}")
    profile = _profile(args)
    t0 = time.perf_counter()
    summary, rows = _run_study(args, profile)
    elapsed = time.perf_counter() - t0
    summary["elapsed_s"] = elapsed
    summary["out"] = args.out
    if args.json:
        print_json(summary)
        return _errors_exit(summary["errors"], "runs", args)
    s = summary
    for line in _failure_lines(s["failures"], s["runs"]):
        print(line)
    print(f"montecarlo {', '.join(s['state'])}: {s['runs']:,} runs, engine {args.engine}, seed {s['seed']}, "
          f"{elapsed:.2f} s ({s['runs'] / elapsed:,.0f} runs/s), {s['errors']:,} failed")
    units = {"v_high": "V", "v_low": "V", "measured_frequency_hz": "Hz", "measured_rise_time_s": "s",
             "measured_fall_time_s": "s", "current_a": "A"}
    for state, stats in s["statistics"].items():
        for col, st in stats.items():
            print(f"  {state} {col:<22} min {st['min']:.6g}  max {st['max']:.6g}  mean {st['mean']:.6g}  "
                  f"σ {st['std']:.3g} {units.get(col, '')}")
    mis = s["misclassified"]
    print(_yield_text(s) + f", misclassified {mis['count']}" + (f" as {mis['as']}" if mis["count"] else ""))
    print(f"  {mis['rate_text']}")
    print("yield by profile: " + ", ".join(f"{k} {_pct(v['yield'])} ({v['misclassified']} misread)"
                                           for k, v in s["yield_by_profile"].items()))
    for line in _margin_lines(s["thresholds"]):
        print(line)
    for state, levels in s["sensitivity"].items():
        for level, ranking in levels.items():
            top = [f"{r['parameter']} {100 * r['share']:.0f} %" for r in ranking[:4] if r["share"] >= 0.005]
            print(f"  sensitivity {state} {level}: {', '.join(top)}")
    for t in s["timing"]:
        print(f"  {t['state']} {t['quantity']}: worst {_num(t['worst'], '.6g')} (run {t['worst_run']}), "
              f"{t['outside']} outside, {t['verdict']}")
    if mis["count"]:
        print(f"misclassified runs (first {min(len(mis['runs']), 20)}): {mis['runs'][:20]}")
    if s["worst_cases"]:
        print("worst cases:")
        for case in s["worst_cases"]:
            print(f"  run {case['run']}: read as {case['read_as']}, v_high {_num(case['v_high'])} V, "
                  f"v_low {_num(case['v_low'])} V, margin {_num(case['margin_shown_v'], '+.3f')} V")
    if args.out:
        print(f"wrote {rows} rows to {args.out}")
    return _errors_exit(s["errors"], "runs", args)


def _num(x, fmt=".4f") -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, fmt)


def _cmd_corners(args) -> int:
    from ..study.corners import run_corners
    from ..study.results import write_results
    from ..study.summary import failures, threshold_yield

    profile = _profile(args)
    refuse_foreign(args.out, force=args.force)
    t0 = time.perf_counter()
    df = run_corners(args.state, _tolerances(args), engine=args.engine, profile=profile, nominal=_nominal(args),
                     method=args.method, objectives=args.objective, workers=args.workers)
    elapsed = time.perf_counter() - t0
    if args.out:
        write_results(df, args.out)
    judged = threshold_yield(df, profile)
    judged.pop("_margins"), judged.pop("_wrong")
    varying = df.attrs["varying"]
    shown = ["objective", "extreme", "value", "state", "v_high", "v_low", "error"]
    corners = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in row.items() if k in shown or k in varying}
               for row in df.to_dict("records")]
    for c in corners:
        c["state"] = None if c["state"] is None or c["state"] != c["state"] else str(c["state"])
    failed = failures(df)
    result = {"state": df.attrs["state"], "engine": df.attrs["engine"], "method": df.attrs["method"],
              "evaluations": df.attrs["evaluations"], "profile": profile.name, "varying": varying,
              "failures": failed, "corners": corners, "misclassified": judged["misclassified"],
              "thresholds": judged["thresholds"], "elapsed_s": elapsed}
    if args.json:
        print_json(result)
        return _errors_exit(failed["count"], "corners", args)
    for line in _failure_lines(failed, df.attrs["evaluations"], "corners"):
        print(line)
    print(f"corners of {result['state']} ({result['engine']}, {result['method']}, {result['evaluations']} "
          f"evaluations, {elapsed:.2f} s); varying: {', '.join(varying) or 'none'}")
    for c in corners:
        params = ", ".join(f"{k}={c[k]:.6g}" for k in varying if k in c and c[k] is not None)
        value = "" if c["value"] is None else f" = {c['value']:.6g}"
        read = f"FAILED: {c['error']}" if c.get("error") else f"read as {c['state']}"
        print(f"  {c['objective']:>8} {c['extreme']:<7}{value}: {read}"
              + (f"  [{params}]" if c["objective"] != "nominal" else ""))
    mis = judged["misclassified"]
    print(f"profile {profile.name}: {mis['count']} of {judged['valid_runs']} corners misread"
          + (f" as {mis['as']}" if mis["count"] else ""))
    for line in _margin_lines(judged["thresholds"]):
        print(line)
    if args.out:
        print(f"wrote {len(df)} corners to {args.out}")
    return _errors_exit(failed["count"], "corners", args)
