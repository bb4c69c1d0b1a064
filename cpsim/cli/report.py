"""``cpsim report``: one HTML compliance report of captures and tolerance-study results."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import Any

from .. import standard as std
from ..errors import ParameterError
from ..outputs import refuse_foreign, refuse_input
from ..report.html import write_report
from ..report.model import capture_report, distinct_names, input_kind, montecarlo_report
from ..report.verdicts import VERDICTS
from ..units import format_percent as _pct
from .common import add_fail_on, add_force, channel_arg, profile_arg, status, verdict_exit


def add_parser(sub: Any, units_note: str) -> None:
    """Register ``cpsim report`` on an argparse subparsers action."""
    rp = sub.add_parser(
        "report", help="write a self-contained HTML compliance report of captures and Monte Carlo results",
        description="Analyse each capture (any layout `cpsim formats` lists) and judge every measured parameter "
                    "against the limits profile: level, negative level, diode, duty, frequency (warn outside "
                    "995-1005 Hz, fail outside 980-1020 Hz), rise/fall, current, ripple, faults, each with its "
                    "margin and the source of the limit. Monte Carlo results files (.parquet, or .csv from "
                    "`cpsim montecarlo --out`) add level histograms against the thresholds, yields and worst "
                    "cases. Plots are embedded: the HTML file needs no network.",
        epilog=units_note)
    rp.add_argument("inputs", nargs="+", metavar="INPUT",
                    help="capture files (- for one on standard input), Monte Carlo results files, capture tables")
    rp.add_argument("-o", "--out", default="report.html", help="output HTML file (default report.html)")
    rp.add_argument("--profile", default="iec61851", help="limits profile: iec61851 (default) or j1772")
    rp.add_argument("--compare", action="append", metavar="PROFILE",
                    help="more profiles whose Monte Carlo yields are listed (default: the other built-in one)")
    rp.add_argument("--threshold", action="append", metavar="STATE=LO:HI",
                    help="a firmware's high-level window in V, e.g. B=7.79:10.26 (repeatable): captures are "
                         "judged with it, and its Monte Carlo yield is listed as profile 'thresholds'")
    rp.add_argument("--format", help="force the capture layout (see `cpsim formats`)")
    rp.add_argument("--channel", help="capture channel name or 1-based number (default: the first)")
    rp.add_argument("--vehicle-connected", action="store_true",
                    help="a vehicle is plugged in: a capture read as state A is a fault")
    rp.add_argument("--png-dir", help="also write every plot as a PNG into this directory")
    rp.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                    help="read captures in pieces, in bounded memory (same numbers; the overview plots the min/max "
                         "envelope); default: above the memory budget (CPSIM_MEMORY_BUDGET bytes)")
    rp.add_argument("--title", help="report title")
    add_force(rp)
    add_fail_on(rp)
    rp.set_defaults(func=cmd_report)


def cmd_report(args: Any) -> int:
    prof = std.get_profile(args.profile)
    compare = list(args.compare) if args.compare else [p for p in std.PROFILES if p != prof.name]
    for name in compare:  # checked up front: a study may be the last input, or absent
        std.get_profile(name)
    if args.inputs.count("-") > 1:
        raise ParameterError("'-' (standard input) can be given once; save the second capture to a file")
    capture_profile = prof
    if args.threshold:  # the user's windows judge the captures and add a yield column to the studies
        capture_profile = profile_arg(prof.name, args.threshold)
        compare.append(profile_arg(prof.name, args.threshold, label="thresholds"))
    channel = channel_arg(args.channel)
    refuse_input(args.out, args.inputs)
    refuse_foreign(args.out, force=args.force)
    captures, results, fleets = [], [], []
    for path in args.inputs:
        if path != "-" and not os.path.exists(path):
            raise ParameterError(f"{path}: no such file")
        kind = "capture" if path == "-" else input_kind(path)  # '-': a capture on standard input
        if kind == "fleet":  # a table of captures from `cpsim analyze DIR --out`
            from ..report.fleet import fleet_report

            fleets.append(fleet_report(path))
        elif kind == "results":
            results.append(montecarlo_report(path, profile=prof, compare=compare))
        else:
            captures.append(capture_report(path, profile=capture_profile, fmt=args.format, channel=channel,
                                           vehicle_connected=True if args.vehicle_connected else None,
                                           stream=getattr(args, "stream", None)))
    out = write_report(args.out, captures, results, profile=prof, title=args.title, png_dir=args.png_dir,
                       command=" ".join(["cpsim", *map(shlex.quote, sys.argv[1:])]), fleets=fleets)
    names = distinct_names([cr.name for cr in captures], [str(cr.info.get("path", "")) for cr in captures])
    for name, cr in zip(names, captures):
        faults = ", ".join(f.code for f in cr.faults) or "no faults"
        print(f"{name}: {cr.measurement.state}, verdict {cr.verdict} ({faults})")
    for mr in results:
        yields = "; ".join(f"{e['state']} {_pct(e['yield'][prof.name]['yield'])}" for e in mr.per_state)
        print(f"{mr.name}: {mr.summary['runs']:,} runs, yield ({prof.name}) {yields}")
    for fr in fleets:
        counts = ", ".join(f"{n:,} {v}" for v, n in fr.summary["verdicts"].items())
        print(f"{fr.name}: {fr.summary['captures']:,} captures: {counts}")
    status(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    verdicts = [cr.verdict for cr in captures]
    for fr in fleets:  # a unit that could not be analysed cannot be judged: inconclusive, as in `analyze`
        verdicts += ["inconclusive" if v not in VERDICTS else v for v in fr.summary["verdicts"]]
    return verdict_exit(verdicts, args.fail_on)
