"""``cpsim simulate cp|pp``: simulate a pilot circuit with ngspice."""

from __future__ import annotations

import math
import sys
from typing import Any

from ..outputs import refuse_foreign
from .common import Parser, add_force, capacitance_pf, count, percent, print_json, resistance, spice_float, status


def add_parser(sub: Any, units_note: str) -> None:
    """Register ``cpsim simulate`` on an argparse subparsers action."""
    from ..sim.scenarios import fault_names

    sim = sub.add_parser("simulate", help="simulate a CP or PP circuit with ngspice",
                         description="Simulate a pilot circuit with ngspice.", epilog=units_note)
    sim_sub = sim.add_subparsers(dest="signal", required=True, metavar="SIGNAL", parser_class=Parser)

    cp = sim_sub.add_parser(
        "cp", help="control pilot: write the CP waveform as CSV (time_s,cp_v)",
        description="Simulate the control pilot (EVSE generator, cable, vehicle) and write time [s] and "
                    "CP voltage [V] at the EVSE as CSV with header time_s,cp_v.",
        epilog=units_note)
    cp.add_argument("--state", default="C",
                    help="A-D (PWM), A1-D1 (steady +12 V), E (CP shorted to PE), F (EVSE at -12 V); default C")
    cp.add_argument("--duty", type=percent, default=25.0,
                    help="PWM duty cycle in percent, 1-99 (default 25 = 15 A); 25%% works too")
    cp.add_argument("--frequency", type=spice_float, default=1000.0, help="PWM frequency in Hz (default 1000)")
    cp.add_argument("--cable-pf", type=capacitance_pf, default=1000.0,
                    help="EVSE + cable capacitance in pF (default 1000; IEC limit 3100), or in farads with a SPICE "
                         "suffix (3.1n)")
    cp.add_argument("--periods", type=count, default=5, help="number of PWM periods (default 5)")
    cp.add_argument("--probe", choices=("evse", "vehicle"), default="evse",
                    help="where the CP is observed (default: the EVSE measuring point)")
    cp.add_argument("--r1-ohm", dest="r1_ohm", type=resistance, help="EVSE source resistance in Ω (1k)")
    cp.add_argument("--r-detect-ohm", dest="r_detect_ohm", type=resistance, help="vehicle 2.74 kΩ resistor in Ω")
    cp.add_argument("--r-charge-ohm", dest="r_charge_ohm", type=resistance, help="vehicle 1.3 kΩ resistor in Ω")
    cp.add_argument("--r-vent-ohm", dest="r_vent_ohm", type=resistance, help="vehicle 270 Ω resistor in Ω")
    cp.add_argument("--v-high", dest="v_high_v", type=spice_float, help="generator high level in V (12)")
    cp.add_argument("--v-low", dest="v_low_v", type=spice_float, help="generator low level in V (-12)")
    cp.add_argument("--rise-s", dest="rise_time_s", type=spice_float, help="generator 10-90 %% rise time in s (1u)")
    cp.add_argument("--fall-s", dest="fall_time_s", type=spice_float, help="generator fall time in s (1u)")
    cp.add_argument("--temp-c", dest="diode_temp_c", type=spice_float, help="vehicle diode temperature in °C (27)")
    cp.add_argument("--fault", metavar="NAME",
                    help="simulate a fault scenario in --state: " + ", ".join(fault_names("cp")))
    cp.add_argument("--out", "-o", help="output CSV path (default: stdout)")
    add_force(cp)
    cp.set_defaults(func=cmd_simulate_cp)

    pp = sim_sub.add_parser(
        "pp", help="proximity pilot: print V(PP)",
        description="Simulate the proximity pilot and print the PP voltage [V]. Type 1: at the vehicle inlet "
                    "(330 Ω pull-up to 5 V, 2.7 kΩ to ground). Type 2: at the EVSE (1 kΩ pull-up), with the "
                    "cable rating in A derived from Rc.",
        epilog=units_note)
    pp.add_argument("--connector", choices=("type1", "type2"),
                    help="connector family (default type1, or the --fault's)")
    pp.add_argument("--condition", help="type1: unplugged | latched | pressed (default latched); "
                                        "type2: plugged | unplugged (default plugged)")
    pp.add_argument("--rc-ohm", type=resistance, help="type2 cable coding resistor in Ω (default 680)")
    pp.add_argument("--supply-v", type=spice_float, help="pull-up supply in V (type1 5; type2 5 or 3.3)")
    pp.add_argument("--pullup-ohm", type=resistance, help="pull-up resistor in Ω (type1 330, type2 1k)")
    pp.add_argument("--bands", choices=("iec2010", "everest"),
                    help="type2 Rc decision bands (default iec2010)")
    pp.add_argument("--fault", metavar="NAME",
                    help="simulate a fault scenario with the plug in: " + ", ".join(fault_names("pp")))
    pp.add_argument("--json", action="store_true", help="print JSON (v_pp in V, cable_rating_a in A)")
    pp.set_defaults(func=cmd_simulate_pp)


def cmd_simulate_cp(args) -> int:
    from ..sim.cp import simulate_cp

    refuse_foreign(args.out, force=args.force)
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
        status(f"wrote {len(wave)} samples ({wave.duration_s * 1e3:g} ms, state {args.state}{fault}) to {args.out}")
    else:
        wave.to_csv(sys.stdout, value_column="cp_v")
    return 0


def cmd_simulate_pp(args) -> int:
    from ..sim.pp import simulate_pp

    connector = args.connector
    if connector is None:
        from ..sim.scenarios import pp_fault

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
