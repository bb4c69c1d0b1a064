"""``cpsim analyze``: measure a CP capture and name its faults."""

from __future__ import annotations

from typing import Any

from .common import channel_arg, print_json


def add_parser(sub: Any, units_note: str) -> None:
    """Register ``cpsim analyze`` on an argparse subparsers action."""
    an = sub.add_parser(
        "analyze", help="measure a CP capture: levels, duty, frequency, edges, state, current",
        description="Measure a CP waveform file (scope CSV or cpsim CSV): v_high/v_low [V], duty, frequency [Hz], "
                    "rise/fall times [s], state, allowed current [A], diode fault, segments.",
        epilog=units_note)
    an.add_argument("file", help="capture file")
    an.add_argument("--profile", default="iec61851", help="limits profile: iec61851 (default) or j1772")
    an.add_argument("--format", help="force the file layout (see `cpsim formats`)")
    an.add_argument("--channel", help="channel name or 1-based number (default: the first)")
    an.add_argument("--vehicle-connected", action="store_true",
                    help="a vehicle is plugged in: report state A as a fault (CP open, PE lost or diode open)")
    an.add_argument("--json", action="store_true", help="print one JSON object, SI units, duty as a fraction")
    an.set_defaults(func=cmd_analyze)


def cmd_analyze(args) -> int:
    from ..diagnose import analyze

    m = analyze(args.file, profile=args.profile, fmt=args.format, channel=channel_arg(args.channel),
                vehicle_connected=True if args.vehicle_connected else None)
    if args.json:
        print_json(m.to_dict())
    else:
        print(m.format_table())
    return 0
