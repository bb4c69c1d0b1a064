"""``cpsim pp diagnose``: a proximity pilot's root cause from what a technician measures."""

from __future__ import annotations

from typing import Any

from .common import Parser, ohm_arg, print_json, spice_float


def add_parser(sub: Any, units_note: str) -> None:
    """Register ``cpsim pp`` on an argparse subparsers action."""
    ppc = sub.add_parser("pp", help="proximity pilot tools: diagnose a plug or cable",
                         description="Proximity-pilot tools.", epilog=units_note)
    pp_sub = ppc.add_subparsers(dest="pp_command", required=True, metavar="ACTION", parser_class=Parser)
    dg = pp_sub.add_parser(
        "diagnose", help="name the root cause from PP-PE resistances or the PP voltage",
        description="Diagnose a proximity pilot from what a technician measures. Type 1: PP-PE resistance of the "
                    "plug [Ω] (charger off, plug out) with the release button released and pressed, or V(PP) [V] at "
                    "the vehicle inlet (330 Ω to 5 V and 2.7 kΩ assumed). Type 2: the cable's coding resistance "
                    "Rc [Ω], or V(PP) [V] at the EVSE. Resistance tolerance: parts ±3 %, meter 1 % + 2 Ω; a "
                    "voltage is judged through the resistance it implies (voltmeter 0.5 % + 2 mV): near a limit "
                    "it is inconclusive.",
        epilog=units_note + " A resistance may be 'open' (or OL, inf).")
    dg.add_argument("--connector", choices=("type1", "type2"), default=None,
                    help="connector family; default: inferred from the readings (--rc-ohm is type2, "
                         "--released-ohm/--pressed-ohm type1; a lone --v-pp must fit only one)")
    dg.add_argument("--released-ohm", type=ohm_arg, help="type1: PP-PE in Ω, release button released")
    dg.add_argument("--pressed-ohm", type=ohm_arg, help="type1: PP-PE in Ω, release button pressed")
    dg.add_argument("--v-pp", type=spice_float, help="V(PP) in V: type1 at the vehicle inlet (button released), "
                                               "type2 at the EVSE")
    dg.add_argument("--v-pp-pressed", type=spice_float, help="type1: V(PP) in V with the button pressed")
    dg.add_argument("--rc-ohm", type=ohm_arg, help="type2: cable coding resistance PP-PE in Ω")
    dg.add_argument("--bands", choices=("iec2010", "everest"), default="iec2010",
                    help="type2 Rc decision bands (default iec2010)")
    dg.add_argument("--supply-v", type=spice_float, help="type2 with --v-pp: EVSE pull-up supply in V (5)")
    dg.add_argument("--pullup-ohm", type=spice_float, help="type2 with --v-pp: EVSE pull-up in Ω (1k)")
    dg.add_argument("--json", action="store_true",
                    help="print one JSON object: code, verdict, next_step, expected, measured, readings_ohm (Ω), "
                         "notes")
    dg.set_defaults(func=cmd_pp_diagnose)


def cmd_pp_diagnose(args) -> int:
    from ..diagnose.pp import diagnose_pp

    d = diagnose_pp(args.connector, released_ohm=args.released_ohm, pressed_ohm=args.pressed_ohm, v_pp=args.v_pp,
                    v_pp_pressed=args.v_pp_pressed, rc_ohm=args.rc_ohm, bands=args.bands, supply_v=args.supply_v,
                    pullup_ohm=args.pullup_ohm)
    if args.json:
        print_json(d.to_dict())
    else:
        print(f"{d.code}: {d.verdict}")
        print(f"  measured: {d.measured}")
        print(f"  expected: {d.expected}")
        print(f"  next step: {d.next_step}")
        if d.cable_rating_a is not None:
            print(f"  cable rating: {d.cable_rating_a:g} A ({d.bands} bands)" if d.cable_rating_a
                  else f"  cable rating: none ({d.bands} bands)")
        for note in d.notes:
            print(f"  note: {note}")
    return 0
