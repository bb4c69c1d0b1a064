"""``cpsim analyze``: measure a CP capture, name its faults and judge it against the limits."""

from __future__ import annotations

from typing import Any

from .common import add_fail_on, channel_arg, print_json, profile_arg, verdict_exit


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
    an.add_argument("file", help="capture file")
    an.add_argument("--profile", default="iec61851", help="limits profile: iec61851 (default) or j1772")
    an.add_argument("--threshold", action="append", metavar="STATE=LO:HI",
                    help="your firmware's window for a state's high level in V, e.g. C=5.5:6.9 (repeatable): "
                         "states are read with it")
    an.add_argument("--format", help="force the file layout (see `cpsim formats`)")
    an.add_argument("--channel", help="channel name or 1-based number (default: the first)")
    an.add_argument("--vehicle-connected", action="store_true",
                    help="a vehicle is plugged in: report state A as a fault (CP open, PE lost or diode open)")
    add_fail_on(an)
    an.add_argument("--json", action="store_true",
                    help="print one JSON object, SI units, duty as a fraction, with 'checks' and 'verdict'")
    an.set_defaults(func=cmd_analyze)


def cmd_analyze(args: Any) -> int:
    from ..diagnose import analyze
    from ..report.checks import check_measurement, judgeable, overall_verdict

    profile = profile_arg(args.profile, args.threshold)
    m = analyze(args.file, profile=profile, fmt=args.format, channel=channel_arg(args.channel),
                vehicle_connected=True if args.vehicle_connected else None)
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
