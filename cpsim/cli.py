"""Command-line interface: parse, call one library function, print.

Every user mistake is a :class:`cpsim.CpsimError`: printed as one line on stderr,
exit status 2. ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys

from .errors import CpsimError, ParameterError

UNITS_NOTE = (
    "Units: SI throughout (s, V, A, Ω, F, Hz) except where an option's name says otherwise "
    "(--duty and --cable-pf take percent and picofarads). Resistances accept SPICE suffixes (2.7k, 1meg)."
)


def _json_default(obj):
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _clean(obj):
    """NaN/inf -> None, recursively, so the JSON is standard."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def print_json(obj) -> None:
    print(json.dumps(_clean(obj), indent=2, default=_json_default, allow_nan=False, ensure_ascii=False))


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line (what, where, how to get help), exit 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (0.0 < value < 100.0):
        raise argparse.ArgumentTypeError(f"duty is in percent and must be between 0 and 100, got {text}")
    return value


def _spice_float(text: str) -> float:
    from .units import parse_spice_number

    try:
        return parse_spice_number(text)
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# ---------------------------------------------------------------------------------------------
# simulate

def _cmd_simulate_cp(args) -> int:
    from .sim.cp import simulate_cp

    components = {}
    for name in ("r1_ohm", "r_detect_ohm", "r_charge_ohm", "r_vent_ohm", "v_high_v", "v_low_v",
                 "rise_time_s", "fall_time_s", "diode_temp_c"):
        value = getattr(args, name)
        if value is not None:
            components[name] = value
    wave = simulate_cp(args.state, duty=args.duty / 100.0, frequency_hz=args.frequency,
                       cable_c_f=args.cable_pf * 1e-12, periods=args.periods, probe=args.probe, fault=args.fault,
                       **components)
    if args.out:
        wave.to_csv(args.out, value_column="cp_v")
        fault = f", fault {args.fault}" if args.fault else ""
        print(f"wrote {len(wave)} samples ({wave.duration_s * 1e3:g} ms, state {args.state}{fault}) to {args.out}")
    else:
        wave.to_csv(sys.stdout, value_column="cp_v")
    return 0


def _cmd_simulate_pp(args) -> int:
    from .sim.pp import simulate_pp

    connector = args.connector
    if connector is None:
        from .faults import pp_fault

        connector = pp_fault(args.fault).connector if args.fault else "type1"
    result = simulate_pp(connector, condition=args.condition, rc_ohm=args.rc_ohm, supply_v=args.supply_v,
                         pullup_ohm=args.pullup_ohm, bands=args.bands, fault=args.fault)
    if args.json:
        print_json(result.to_dict())
    else:
        line = f"{result.connector} {result.condition}: V(PP) = {result.v_pp:.3f} V"
        if result.fault:
            line = f"{result.connector} {result.condition}, fault {result.fault}: V(PP) = {result.v_pp:.3f} V"
        if math.isfinite(result.r_pp_pe_ohm):
            line += f" (PP-PE {result.r_pp_pe_ohm:.0f} Ω)"
        if result.cable_rating_a is not None:
            line += f", cable rating {result.cable_rating_a:g} A ({result.bands} bands)" if result.cable_rating_a \
                else f", no valid cable ({result.bands} bands)"
        print(line)
    return 0


def _ohm_arg(text: str) -> float:
    """A resistance [Ω] with SPICE suffixes, or open: ``open``, ``OL`` (a meter's overload), ``inf``."""
    if text.strip().lower() in ("open", "ol", "inf", "infinity"):
        return math.inf
    return _spice_float(text)


def _cmd_pp_diagnose(args) -> int:
    from .pp import diagnose_pp

    d = diagnose_pp(args.connector, released_ohm=args.released_ohm, pressed_ohm=args.pressed_ohm, v_pp=args.v_pp,
                    v_pp_pressed=args.v_pp_pressed, rc_ohm=args.rc_ohm, bands=args.bands, supply_v=args.supply_v,
                    pullup_ohm=args.pullup_ohm)
    if args.json:
        print_json(d.to_dict())
    else:
        print(f"{d.code}: {d.verdict}")
        print(f"  measured: {d.measured}")
        print(f"  expected: {d.expected}")
        if d.cable_rating_a is not None:
            print(f"  cable rating: {d.cable_rating_a:g} A ({d.bands} bands)" if d.cable_rating_a
                  else f"  cable rating: none ({d.bands} bands)")
    return 0


# ---------------------------------------------------------------------------------------------
# analyze / formats

def _cmd_analyze(args) -> int:
    from .analysis import analyze

    m = analyze(args.file, profile=args.profile, fmt=args.format, channel=channel_arg(args.channel),
                vehicle_connected=True if args.vehicle_connected else None)
    if args.json:
        print_json(m.to_dict())
    else:
        print(m.format_table())
    return 0


def channel_arg(text):
    """``--channel``: a 1-based number or a name."""
    if text is None:
        return None
    return int(text) if text.isdigit() else text


def _cmd_formats(args) -> int:
    from .io import list_formats

    rows = list_formats()
    width = max(len(name) for name, _ in rows)
    for name, description in rows:
        print(f"{name:<{width}}  {description}")
    return 0


# ---------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    from .faults import fault_names

    parser = _Parser(
        prog="cpsim",
        description="Simulate and analyze EV charging pilot signals (SAE J1772 / IEC 61851-1 CP and PP).",
        epilog=UNITS_NOTE,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    sim = sub.add_parser("simulate", help="simulate a CP or PP circuit with ngspice",
                         description="Simulate a pilot circuit with ngspice.", epilog=UNITS_NOTE)
    sim_sub = sim.add_subparsers(dest="signal", required=True, metavar="SIGNAL", parser_class=_Parser)

    cp = sim_sub.add_parser(
        "cp", help="control pilot: write the CP waveform as CSV (time_s,cp_v)",
        description="Simulate the control pilot (EVSE generator, cable, vehicle) and write time [s] and "
                    "CP voltage [V] at the EVSE as CSV with header time_s,cp_v.",
        epilog=UNITS_NOTE)
    cp.add_argument("--state", default="C",
                    help="A-D (PWM), A1-D1 (steady +12 V), E (CP shorted to PE), F (EVSE at -12 V); default C")
    cp.add_argument("--duty", type=_percent, default=25.0, help="PWM duty cycle in percent (default 25 = 15 A)")
    cp.add_argument("--frequency", type=float, default=1000.0, help="PWM frequency in Hz (default 1000)")
    cp.add_argument("--cable-pf", type=float, default=1000.0,
                    help="EVSE + cable capacitance in pF (default 1000; IEC limit 3100)")
    cp.add_argument("--periods", type=int, default=5, help="number of PWM periods (default 5)")
    cp.add_argument("--probe", choices=("evse", "vehicle"), default="evse",
                    help="where the CP is observed (default: the EVSE measuring point)")
    cp.add_argument("--r1-ohm", dest="r1_ohm", type=_spice_float, help="EVSE source resistance in Ω (1k)")
    cp.add_argument("--r-detect-ohm", dest="r_detect_ohm", type=_spice_float, help="vehicle 2.74 kΩ resistor in Ω")
    cp.add_argument("--r-charge-ohm", dest="r_charge_ohm", type=_spice_float, help="vehicle 1.3 kΩ resistor in Ω")
    cp.add_argument("--r-vent-ohm", dest="r_vent_ohm", type=_spice_float, help="vehicle 270 Ω resistor in Ω")
    cp.add_argument("--v-high", dest="v_high_v", type=float, help="generator high level in V (12)")
    cp.add_argument("--v-low", dest="v_low_v", type=float, help="generator low level in V (-12)")
    cp.add_argument("--rise-s", dest="rise_time_s", type=_spice_float, help="generator 10-90 %% rise time in s (1u)")
    cp.add_argument("--fall-s", dest="fall_time_s", type=_spice_float, help="generator fall time in s (1u)")
    cp.add_argument("--temp-c", dest="diode_temp_c", type=float, help="vehicle diode temperature in °C (27)")
    cp.add_argument("--fault", metavar="NAME",
                    help="simulate a fault scenario in --state: " + ", ".join(fault_names("cp")))
    cp.add_argument("--out", "-o", help="output CSV path (default: stdout)")
    cp.set_defaults(func=_cmd_simulate_cp)

    pp = sim_sub.add_parser(
        "pp", help="proximity pilot: print V(PP)",
        description="Simulate the proximity pilot and print the PP voltage [V]. Type 1: at the vehicle inlet "
                    "(330 Ω pull-up to 5 V, 2.7 kΩ to ground). Type 2: at the EVSE (1 kΩ pull-up), with the "
                    "cable rating in A derived from Rc.",
        epilog=UNITS_NOTE)
    pp.add_argument("--connector", choices=("type1", "type2"),
                    help="connector family (default type1, or the --fault's)")
    pp.add_argument("--condition", help="type1: unplugged | latched | pressed (default latched); "
                                        "type2: plugged | unplugged (default plugged)")
    pp.add_argument("--rc-ohm", type=_spice_float, help="type2 cable coding resistor in Ω (default 680)")
    pp.add_argument("--supply-v", type=float, help="pull-up supply in V (type1 5; type2 5 or 3.3)")
    pp.add_argument("--pullup-ohm", type=_spice_float, help="pull-up resistor in Ω (type1 330, type2 1k)")
    pp.add_argument("--bands", choices=("iec2010", "everest"),
                    help="type2 Rc decision bands (default iec2010)")
    pp.add_argument("--fault", metavar="NAME",
                    help="simulate a fault scenario with the plug in: " + ", ".join(fault_names("pp")))
    pp.add_argument("--json", action="store_true", help="print JSON (v_pp in V, cable_rating_a in A)")
    pp.set_defaults(func=_cmd_simulate_pp)

    ppc = sub.add_parser("pp", help="proximity pilot tools: diagnose a plug or cable",
                         description="Proximity-pilot tools.", epilog=UNITS_NOTE)
    pp_sub = ppc.add_subparsers(dest="pp_command", required=True, metavar="ACTION", parser_class=_Parser)
    dg = pp_sub.add_parser(
        "diagnose", help="name the root cause from PP-PE resistances or the PP voltage",
        description="Diagnose a proximity pilot from what a technician measures. Type 1: PP-PE resistance of the "
                    "plug [Ω] (charger off, plug out) with the release button released and pressed, or V(PP) [V] at "
                    "the vehicle inlet (330 Ω to 5 V and 2.7 kΩ assumed). Type 2: the cable's coding resistance "
                    "Rc [Ω], or V(PP) [V] at the EVSE. Resistance tolerance: parts ±3 %, meter 1 %% + 2 Ω.",
        epilog=UNITS_NOTE + " A resistance may be 'open' (or OL, inf).")
    dg.add_argument("--connector", choices=("type1", "type2"), default="type1", help="connector family (type1)")
    dg.add_argument("--released-ohm", type=_ohm_arg, help="type1: PP-PE in Ω, release button released")
    dg.add_argument("--pressed-ohm", type=_ohm_arg, help="type1: PP-PE in Ω, release button pressed")
    dg.add_argument("--v-pp", type=float, help="V(PP) in V: type1 at the vehicle inlet (button released), "
                                               "type2 at the EVSE")
    dg.add_argument("--v-pp-pressed", type=float, help="type1: V(PP) in V with the button pressed")
    dg.add_argument("--rc-ohm", type=_ohm_arg, help="type2: cable coding resistance PP-PE in Ω")
    dg.add_argument("--bands", choices=("iec2010", "everest"), default="iec2010",
                    help="type2 Rc decision bands (default iec2010)")
    dg.add_argument("--supply-v", type=float, help="type2 with --v-pp: EVSE pull-up supply in V (5)")
    dg.add_argument("--pullup-ohm", type=_spice_float, help="type2 with --v-pp: EVSE pull-up in Ω (1k)")
    dg.add_argument("--json", action="store_true",
                    help="print one JSON object: code, verdict, expected, measured, readings_ohm (Ω)")
    dg.set_defaults(func=_cmd_pp_diagnose)

    an = sub.add_parser(
        "analyze", help="measure a CP capture: levels, duty, frequency, edges, state, current",
        description="Measure a CP waveform file (scope CSV or cpsim CSV): v_high/v_low [V], duty, frequency [Hz], "
                    "rise/fall times [s], state, allowed current [A], diode fault, segments.",
        epilog=UNITS_NOTE)
    an.add_argument("file", help="capture file")
    an.add_argument("--profile", default="iec61851", help="limits profile: iec61851 (default) or j1772")
    an.add_argument("--format", help="force the file layout (see `cpsim formats`)")
    an.add_argument("--channel", help="channel name or 1-based number (default: the first)")
    an.add_argument("--vehicle-connected", action="store_true",
                    help="a vehicle is plugged in: report state A as a fault (CP open, PE lost or diode open)")
    an.add_argument("--json", action="store_true", help="print one JSON object, SI units, duty as a fraction")
    an.set_defaults(func=_cmd_analyze)

    fm = sub.add_parser("formats", help="list the capture layouts cpsim reads",
                        description="List the capture file layouts cpsim can read. Every reader converts "
                                    "to SI units: time in s, values in V.", epilog=UNITS_NOTE)
    fm.set_defaults(func=_cmd_formats)

    from .cli_tolerance import add_parsers as _add_tolerance_parsers  # montecarlo, corners

    _add_tolerance_parsers(sub, UNITS_NOTE)

    from .report import add_parser as _add_report_parser  # report (matplotlib only when it runs)

    _add_report_parser(sub, UNITS_NOTE)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except CpsimError as exc:
        if args.debug:
            raise
        print(f"cpsim: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # output piped into `head` and the like: stop quietly, as other Unix tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        # a path the user gave that cannot be read or written (the library raises CpsimError
        # where it can; this is the net under third-party writers such as matplotlib's savefig)
        if args.debug:
            raise
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"cpsim: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cpsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
