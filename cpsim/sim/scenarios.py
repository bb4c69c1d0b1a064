"""Fault scenarios cpsim can simulate: plain data read by ``simulate_cp/simulate_pp(fault=NAME)``.

Each :class:`FaultScenario` names a netlist in ``cpsim/circuits`` (runnable as is by
``ngspice -b``, its ``.param`` defaults being the fault), the values the fault changes,
a one-line description and the code cpsim's diagnosis gives when it recognises the fault
(:mod:`cpsim.diagnose`). Every number is sourced in :mod:`cpsim.standard` or
PILOT-REFERENCE (``§``). This module imports only the standard library and cpsim's base.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import ParameterError

__all__ = [
    "CP_FAULTS", "PP_FAULTS", "FAULTS", "FaultScenario", "SHORT_OHM", "OPEN_OHM",
    "cp_fault", "pp_fault", "fault_names", "resolve_cp_changes", "cp_fault_netlist_params", "pp_plug_ohm",
]

# A broken part is a resistor: these are its two values (also the netlists' convention).
SHORT_OHM = 10e-3
OPEN_OHM = 1e12


@dataclass(frozen=True)
class FaultScenario:
    """One simulable fault.

    Attributes
    ----------
    name : str
        Registry key, used by ``simulate_cp/simulate_pp(fault=...)`` and ``--fault``.
    signal : "cp" or "pp"
    netlist : str
        Scenario file ``cpsim/circuits/<netlist>.cir``; its ``.param`` defaults are the fault.
    description : str
        One line: what is broken and what is observed.
    expected_codes : tuple of str
        What cpsim reports for it: :func:`detect_cp_faults` codes (CP, with
        ``vehicle_connected=True``) or the :func:`cpsim.diagnose_pp` code (PP).
    states : tuple of str
        CP: vehicle states (letters) the fault applies to; the first is the file's.
    connector : str or None
        PP: ``"type1"`` or ``"type2"``.
    changes : mapping
        CP: :class:`cpsim.sim.CpCircuit` field values the fault sets (a field you pass
        yourself with another value overrides it: the fault's severity).
    netlist_params : mapping
        ``.param`` values of the fault netlist that the fault fixes (a broken part).
    """

    name: str
    signal: str
    netlist: str
    description: str
    expected_codes: tuple[str, ...]
    states: tuple[str, ...] = ()
    connector: str | None = None
    changes: Mapping[str, float] = field(default_factory=dict)
    netlist_params: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes", MappingProxyType(dict(self.changes)))
        object.__setattr__(self, "netlist_params", MappingProxyType(dict(self.netlist_params)))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "signal": self.signal, "netlist": f"{self.netlist}.cir",
                "description": self.description, "expected_codes": list(self.expected_codes),
                "states": list(self.states), "connector": self.connector,
                "changes": dict(self.changes), "netlist_params": dict(self.netlist_params)}


_VEHICLE = ("B", "C", "D")


def _cp(name, netlist, states, description, codes, changes=None, params=None) -> FaultScenario:
    return FaultScenario(name, "cp", netlist, description, tuple(codes), tuple(states),
                         changes=changes or {}, netlist_params=params or {})


def _pp(name, connector, description, code, params) -> FaultScenario:
    return FaultScenario(name, "pp", f"pp_{connector}_fault_{name}", description, (code,),
                         connector=connector, netlist_params=params)


CP_FAULTS: Mapping[str, FaultScenario] = MappingProxyType({f.name: f for f in (
    _cp("diode_shorted", "cp_fault_diode_shorted", _VEHICLE,
        "vehicle CP diode shorted (or a tester without one): the negative half follows the positive, "
        "±8.79 V in B, ±5.62 V in C (§2b, §8)",
        ["diode_fault"], params={"r_diode": SHORT_OHM}),
    _cp("diode_open", "cp_fault_diode_open", _VEHICLE,
        "vehicle CP diode open or missing from the circuit: nothing loads the CP, the EVSE sees +12 V (state A)",
        ["vehicle_not_seen"], params={"r_diode": OPEN_OHM}),
    _cp("cp_pe_short", "cp_fault_pe_short", ("B", "A", "C", "D"),
        "CP shorted to PE on the cable side (state E): both halves collapse to about ±1 mV",
        ["state_e"]),
    _cp("cp_pe_short_resistive", "cp_fault_pe_short_resistive", ("B", "A", "C", "D"),
        "CP shorted to PE through 80 Ω: a ±0.89 V PWM, state E with the PWM still present",
        ["state_e_pwm"], changes={"short_r_ohm": 80.0}),
    _cp("cp_short_after_diode", "cp_fault_short_after_diode", _VEHICLE,
        "CP shorted to PE behind the vehicle diode: V+ is one diode drop (0.74 V), V- stays at -12 V "
        "(EV-BU: some EV simulators short after the diode)",
        ["state_e_after_diode"]),
    _cp("pe_lost", "cp_fault_pe_lost", _VEHICLE,
        "PE lost between vehicle and EVSE: the vehicle's load has no return, the EVSE sees state A "
        "(EV-BU: 'detected as an error or state A')",
        ["vehicle_not_seen"], params={"r_pe": OPEN_OHM}),
    _cp("cp_open", "cp_fault_cp_open", _VEHICLE,
        "CP conductor open between EVSE and vehicle: the EVSE sees state A, the vehicle 0 V",
        ["vehicle_not_seen"], params={"r_cp": OPEN_OHM}),
    _cp("cable_capacitance", "cp_fault_cable_capacitance", ("B", "C"),
        "EVSE + cable capacitance 10 nF, above the 3100 pF limit (PLNOTE): edges slower than "
        "EV-BU's limits at the vehicle (rise B < 10 µs, C < 7 µs; fall < 13 µs)",
        ["rise_too_slow", "fall_too_slow"], changes={"cable_c_f": 10e-9}),
    _cp("weak_generator", "cp_fault_weak_generator", ("B", "A", "C", "D"),
        "weak generator: the negative rail reaches only -10.7 V (an op-amp that does not swing rail to rail); "
        "limit -12 V ±0.6 V (EV-BU, PLNOTE)",
        ["v_low_out_of_range"], changes={"v_low_v": -10.7}),
    _cp("r_charge_drift", "cp_fault_r_charge_drift", ("C",),
        "vehicle state-C resistor drifted to 3.3 kΩ (EV-BU tests 909-1723 Ω): V+ = 7.47 V, between the "
        "C and B windows",
        ["level_between_windows"], changes={"r_charge_ohm": 3300.0}),
    _cp("r_detect_drift", "cp_fault_r_detect_drift", ("B",),
        "vehicle 2.74 kΩ resistor drifted to 6.8 kΩ (EV-BU tests 1870-4610 Ω): V+ = 10.54 V, between the "
        "B and A windows",
        ["level_between_windows"], changes={"r_detect_ohm": 6800.0}),
)})

PP_FAULTS: Mapping[str, FaultScenario] = MappingProxyType({f.name: f for f in (
    _pp("s3_stuck_open", "type1",
        "latch switch S3 stuck open: 480 Ω PP-PE whether the button is pressed or not; the vehicle reads "
        "'button pressed' (2.76 V) all the time", "s3_stuck_open", {"r_s3": OPEN_OHM}),
    _pp("s3_stuck_closed", "type1",
        "latch switch S3 stuck closed: 150 Ω PP-PE even with the button pressed; the vehicle cannot see the button",
        "s3_stuck_closed", {"r_s3": SHORT_OHM}),
    _pp("not_latched", "type1",
        "plug in but not latched: the latch holds S3 open as if the button were pressed (480 Ω), "
        "electrically the same as S3 stuck open", "s3_stuck_open", {"r_s3": OPEN_OHM}),
    _pp("r6_open", "type1", "R6 open: PP-PE open whatever S3 does, the vehicle reads 'no plug' (4.46 V)",
        "r6_open", {"r6": OPEN_OHM}),
    _pp("r7_open", "type1", "R7 open: 150 Ω latched, open while the button is pressed", "r7_open", {"r7": OPEN_OHM}),
    _pp("pp_shorted", "type1", "PP shorted to PE: V(PP) about 0 V, in no vehicle window", "pp_shorted",
        {"r_short": SHORT_OHM}),
    _pp("rc_out_of_band", "type2",
        "cable coding resistor 5.6 kΩ: above every band (IEC 2010 and EVerest), no valid cable",
        "rc_out_of_band", {"rc": 5600.0}),
    _pp("rc_open", "type2", "cable coding resistor or PP core open: V(PP) at the supply, read as no cable",
        "rc_open", {"rc": OPEN_OHM}),
    _pp("rc_shorted", "type2", "cable coding resistor shorted (PP to PE): V(PP) about 0 V, an error",
        "rc_shorted", {"rc": SHORT_OHM}),
)})

FAULTS: Mapping[str, FaultScenario] = MappingProxyType({**CP_FAULTS, **PP_FAULTS})


def fault_names(signal: str | None = None) -> list[str]:
    """Registry names, for ``signal`` ``"cp"``, ``"pp"`` or both (None)."""
    table = {"cp": CP_FAULTS, "pp": PP_FAULTS, None: FAULTS}[signal]
    return list(table)


def _lookup(name, table: Mapping[str, FaultScenario], signal: str) -> FaultScenario:
    if not isinstance(name, str) or name not in table:
        other = "pp" if signal == "cp" else "cp"
        hint = f" ({name!r} is a {other.upper()} fault)" if isinstance(name, str) and name in FAULTS else ""
        raise ParameterError(f"unknown {signal.upper()} fault {name!r}{hint}; valid: {', '.join(table)}")
    return table[name]


def cp_fault(name: str, state: str | None = None) -> FaultScenario:
    """The CP fault ``name``; with ``state`` (a letter), check that the fault applies to it."""
    fault = _lookup(name, CP_FAULTS, "cp")
    if state is not None and state[:1].upper() not in fault.states:
        raise ParameterError(
            f"fault {name!r} applies to vehicle states {', '.join(fault.states)}, not {state!r}"
        )
    return fault


def pp_fault(name: str, connector: str | None = None) -> FaultScenario:
    """The PP fault ``name``; with ``connector``, check that it belongs to that connector."""
    fault = _lookup(name, PP_FAULTS, "pp")
    if connector is not None and connector != fault.connector:
        raise ParameterError(f"fault {name!r} is a {fault.connector} fault, not {connector}")
    return fault


# --------------------------------------------------------------------------------------------
# Hooks for the simulators (the fault netlists' conventions live in one place)
# --------------------------------------------------------------------------------------------

def resolve_cp_changes(name: str, state: str, values: Mapping[str, float],
                       defaults: Mapping[str, float]) -> dict[str, float]:
    """The :class:`~cpsim.sim.CpCircuit` fields fault ``name`` sets, given the circuit's ``values``.

    A field still at its nominal default takes the fault's value; a field the caller changed
    keeps the caller's value (it sets the fault's severity, e.g. ``short_r_ohm=150``).
    """
    fault = cp_fault(name, state)
    return {k: v for k, v in fault.changes.items() if values[k] == defaults[k]}


def cp_fault_netlist_params(name: str, state: str, circuit_values: Mapping[str, float]) -> dict[str, float]:
    """``.param`` values for the fault netlist beyond the circuit fields: the vehicle's S2 and the broken part.

    ``circuit_values`` holds ``r_charge`` and ``r_vent`` [Ω] as the circuit maps them.
    """
    fault = cp_fault(name, state)
    letter = state[:1].upper()
    out = {
        "r_s2": SHORT_OHM if letter in "CD" else OPEN_OHM,
        "r_s2load": circuit_values["r_vent"] if letter == "D" else circuit_values["r_charge"],
    }
    if letter == "A":  # no vehicle: its resistors open
        out["r_detect"] = OPEN_OHM
    out.update(fault.netlist_params)
    return out


def pp_plug_ohm(params: Mapping[str, float]) -> float:
    """PP-PE resistance [Ω] of a fault netlist's plug (Type 1) or cable (Type 2) from its ``.param`` values."""
    if "rc" in params:
        r = params["rc"]
    else:
        r6, r7, s3, short = params["r6"], params["r7"], params["r_s3"], params.get("r_short", OPEN_OHM)
        r = r6 + r7 * s3 / (r7 + s3)
        r = r * short / (r + short)
    return math.inf if r >= OPEN_OHM / 10 else float(r)


