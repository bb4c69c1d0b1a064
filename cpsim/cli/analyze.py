"""``cpsim analyze``: measure a CP capture, name its faults and judge it against the limits."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_fail_on, add_force, channel_arg, print_json, profile_arg, verdict_exit


def add_parser(sub: Any, units_note: str) -> None:
    """Register ``cpsim analyze`` on an argparse subparsers action."""
    an = sub.add_parser(
        "analyze", help="measure a CP capture: levels, duty, frequency, edges, state, current, verdict",
        description="Measure a CP waveform file (scope CSV or binary, or cpsim CSV): v_high/v_low [V], duty, "
                    "frequency [Hz], rise/fall times [s], state, allowed current [A], diode fault, segments, "
                    "faults, and the verdict of every parameter against the limits profile (pass, warn, "
                    "inconclusive, fail). 'inconclusive' means the capture cannot tell (clipped, wrong probe "
                    "factor, inverted, AC-coupled, too short, not a pilot, or too coarse to judge a limit).",
        epilog=units_note)
    an.add_argument("file", nargs="+", metavar="FILE_OR_DIR",
                    help="capture file; several files or directories (searched recursively) make one table, one "
                         "row per capture, analysed in parallel")
    an.add_argument("--profile", default="iec61851", help="limits profile: iec61851 (default) or j1772")
    an.add_argument("--threshold", action="append", metavar="STATE=LO:HI",
                    help="your firmware's window for a state's high level in V, e.g. C=5.5:6.9 (repeatable): "
                         "states are read with it")
    an.add_argument("--format", help="force the file layout (see `cpsim formats`)")
    an.add_argument("--channel", help="channel name or 1-based number (default: the first)")
    an.add_argument("--vehicle-connected", action="store_true",
                    help="a vehicle is plugged in: report state A as a fault (CP open, PE lost or diode open)")
    an.add_argument("--out", metavar="TABLE", help="write the table of captures to .parquet or .csv (one row per "
                                                   "capture: file, format, state, levels, duty, frequency, "
                                                   "current, verdict, faults, notes, error)")
    an.add_argument("--workers", type=int, help="worker processes for many captures (default: the CPUs)")
    an.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                    help="read the capture in pieces, in bounded memory (same numbers); default: when it holds more "
                         "samples than the memory budget (CPSIM_MEMORY_BUDGET bytes, default about 20 M samples)")
    add_force(an)
    add_fail_on(an)
    an.add_argument("--json", action="store_true",
                    help="print one JSON object, SI units, duty as a fraction, with 'checks' and 'verdict'")
    an.set_defaults(func=cmd_analyze)


def cmd_analyze(args: Any) -> int:
    import os

    if args.workers is not None:  # checked on the one-file path too, where it is not used
        from ..study.pool import check_workers

        check_workers(args.workers)
    if len(args.file) > 1 or args.out or os.path.isdir(args.file[0]):
        return cmd_analyze_many(args)
    args.file = args.file[0]
    return _cmd_analyze_one(args)


def _cmd_analyze_one(args: Any) -> int:
    from ..diagnose import analyze
    from ..report.checks import check_measurement, judgeable, overall_verdict

    profile = profile_arg(args.profile, args.threshold)
    m = analyze(args.file, profile=profile, fmt=args.format, channel=channel_arg(args.channel),
                vehicle_connected=True if args.vehicle_connected else None, stream=getattr(args, "stream", None))
    rows = check_measurement(m, profile, faults=m.faults)
    verdict = overall_verdict(rows)
    if args.json:
        out = m.to_dict()
        out["checks"] = [r.to_dict() for r in rows]
        out["verdict"] = verdict
        print_json(out)
    else:
        print(m.format_table())
        ok, why = judgeable(m)
        print(f"\nverdict: {verdict}" + ("" if ok else f": {why}"))
        for r in rows:
            if r.verdict in ("warn", "inconclusive", "fail") and (ok or r.note != why):
                print(f"  {r.verdict:<12} {r.label}" + (f": {r.note}" if r.note else ""))
    return verdict_exit([verdict], args.fail_on)


def cmd_analyze_many(args: Any) -> int:
    """Many captures (files and directories) -> one table, one row per capture (``cpsim.analyze_many``)."""
    import sys

    from ..report.many import analyze_many, write_table

    profile = profile_arg(args.profile, args.threshold)
    if args.out:
        from pathlib import Path

        from ..outputs import refuse_foreign, refuse_input
        from ..report.many import capture_files

        refuse_input(args.out, capture_files(args.file))  # the files a folder holds too (not earlier tables)
        refuse_foreign(args.out, force=args.force)

        if Path(args.out).suffix.lower() not in (".parquet", ".pq", ".csv"):
            from ..errors import ParameterError

            raise ParameterError(f"{args.out}: the table is written as .parquet or .csv")
    table = analyze_many(args.file, profile=profile, fmt=args.format, channel=channel_arg(args.channel),
                         vehicle_connected=True if args.vehicle_connected else None, workers=args.workers,
                         progress=sys.stderr.isatty() and not args.json, exclude=[args.out] if args.out else ())
    if args.out:
        write_table(table, args.out)
    verdicts = table["verdict"].astype(str).tolist()
    if args.json:
        print_json({"captures": [{k: (None if v != v else v) for k, v in row.items()}
                                 for row in table.astype(object).to_dict("records")], "out": args.out})
    else:
        for row in table.to_dict("records"):
            duty = float(row["duty"])
            what = row["error"] if row["verdict"] == "error" else (
                f"{row['state']}, v_high {float(row['v_high']):.3f} V"
                + (f", duty {100 * duty:.1f} %" if duty == duty else ""))
            print(f"{row['file']}: {row['verdict']}: {what}")
        counts = {v: verdicts.count(v) for v in dict.fromkeys(verdicts)}
        print(f"{len(table)} captures: " + ", ".join(f"{n} {v}" for v, n in counts.items())
              + (f"; wrote {args.out}" if args.out else ""))
    # a capture that could not be analysed cannot be judged: as inconclusive for --fail-on
    return verdict_exit(["inconclusive" if v == "error" else v for v in verdicts], args.fail_on)
