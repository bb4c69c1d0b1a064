"""Pilot faults: the scenarios cpsim can simulate, and the CP fault detector.

Two halves, kept apart on purpose:

* **The registry** (:data:`CP_FAULTS`, :data:`PP_FAULTS`): plain data. Each
  :class:`FaultScenario` names a netlist in ``cpsim/circuits`` (runnable as is by
  ``ngspice -b``, its ``.param`` defaults being the fault), the values the fault
  changes, a one-line description and the code cpsim gives when it recognises
  the fault. ``simulate_cp(..., fault=NAME)`` and ``simulate_pp(..., fault=NAME)``
  read it.
* **The detector** :func:`detect_cp_faults`: a pure function from the analyzer's
  measurement of a CP capture to a tuple of :class:`Fault` (code + one-line
  explanation). It works on any capture, simulated or from a scope.

Every number is sourced in :mod:`cpsim.standard` or PILOT-REFERENCE (``§``).
This module imports only numpy and :mod:`cpsim.standard`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from . import standard as std
from .errors import ParameterError
from .units import as_float as _num

__all__ = [
    "CP_FAULTS", "PP_FAULTS", "FAULTS", "FAULT_CODES", "Fault", "FaultScenario",
    "cp_fault", "pp_fault", "fault_names", "detect_cp_faults",
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
# Hooks for cpsim.sim (kept here so the fault netlists' conventions live in one place)
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


# --------------------------------------------------------------------------------------------
# CP fault detection from a measurement
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fault:
    """A recognised fault: a stable ``code`` and a one-line ``message`` saying what it is."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


FAULT_CODES = MappingProxyType({
    "diode_fault": "vehicle diode shorted or missing: the negative half follows the positive",
    "state_e": "CP at 0 V without PWM: CP shorted to PE, or the EVSE unpowered",
    "state_e_pwm": "CP shorted to PE while the EVSE keeps its PWM running (both halves collapsed)",
    "state_e_after_diode": "CP shorted to PE behind the vehicle diode (V+ one diode drop, V- at -12 V)",
    "v_low_out_of_range": "negative level outside -12 V ±0.6 V: weak (or over-driven) generator",
    "v_high_out_of_range": "positive level above the state A window: generator over-voltage",
    "rise_too_slow": "rising edge slower than the limit at the vehicle (EV-BU)",
    "fall_too_slow": "falling edge slower than the limit at the vehicle (EV-BU)",
    "level_between_windows": "CP high level between two state windows: a resistor out of tolerance",
    "vehicle_not_seen": "EVSE sees state A with a vehicle plugged in: CP open, PE lost or diode open",
})
"""Every code :func:`detect_cp_faults` can return, with its meaning."""

# For estimates only (§8): generator ±12 V behind R1 = 1 kΩ, diode drop 0.7 V.
_V_GEN = std.GENERATOR_V_HIGH_V
_R1 = std.R1_OHM
_VD = std.DIODE_VF_V
# A negative level below this [V] is the generator's own -12 V: the vehicle diode blocks (calc:
# a shorted diode in state B gives at most -8.79 V, §8; a weak generator still reaches -9 V or so).
_LOW_IS_GENERATOR_V = -9.5
# Below this V+ [V] only a short to PE explains the level: no vehicle load reaches it (the CB diode-check
# threshold, standard.DIODE_CHECK_MIN_HIGH_V; a shorted diode in D still gives ±2.37 V, §8 calc).
_E_MAX_HIGH_V = std.DIODE_CHECK_MIN_HIGH_V


def _fmt_ohm(r: float) -> str:
    if not math.isfinite(r):
        return "open"
    return f"{r / 1e3:.2g} kΩ" if r >= 1e3 else f"{r:.2g} Ω" if r < 10 else f"{r:.0f} Ω"


def _window_text(w: std.Window) -> str:
    return f"{w.lo:g}…{w.hi:g} V"


def detect_cp_faults(measurement, profile: "str | std.LimitsProfile" = "iec61851", *,
                     vehicle_connected: bool | None = None) -> tuple[Fault, ...]:
    """Recognise CP faults in a measured capture and explain each in one line.

    Parameters
    ----------
    measurement : PilotMeasurement
        The analyzer's result (:func:`cpsim.analyze`); read by attribute: ``v_high``,
        ``v_low`` [V], ``duty``, ``frequency_hz``, ``rise_time_s``, ``fall_time_s`` [s],
        ``state``, ``diode_fault``. Missing or NaN values skip the checks that need them.
    profile : str or LimitsProfile
        State windows and level limits (``"iec61851"`` or ``"j1772"``).
    vehicle_connected : bool, optional
        What the technician knows: with ``True``, a capture in state A is the fault
        ``vehicle_not_seen`` (CP open, PE lost or diode open all look like no vehicle).

    Returns
    -------
    tuple of Fault
        Empty for a healthy pilot. Codes are the keys of :data:`FAULT_CODES`.

    Rules
    -----
    * Steady negative level (state F): outside the profile's F window.
    * E-like: V+ below the lowest vehicle window (D) and below 2 V (CB's diode-check limit). Without PWM: ``state_e``. With PWM
      and V- at the generator's -12 V, a short behind the diode (EV-BU, YETI); with V-
      collapsed too, a short before it, whose resistance is estimated from the amplitude
      A = 12 V·R/(R + 1 kΩ) (§8 values).
    * Diode fault: the analyzer's ``diode_fault`` (§2b: ``|V+ + V-|`` below the profile's
      ``diode_fault_sum_v`` while PWM runs, not while V- sits at -12 ±1.1 V, YETI, EV-SIM).
    * V- of a PWM outside the profile's low window (generator -12 V ±0.6 V, EV-BU, PLNOTE).
    * Edges (10-90 %) at the vehicle, states B and C only (EV-BU): rise B < 10 µs,
      C < 7 µs; fall < 13 µs. No published loaded limit exists for A and D.
    * V+ inside no window of A-D: between two windows (the vehicle resistance is estimated
      from V+ with the §8 values) or above A.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> m = SimpleNamespace(v_high=8.79, v_low=-8.79, pwm=True, state="B2", diode_fault=True)
    >>> [f.code for f in detect_cp_faults(m)]
    ['diode_fault']
    """
    p = std.get_profile(profile)
    v_high = _num(getattr(measurement, "v_high", math.nan))
    v_low = _num(getattr(measurement, "v_low", math.nan))
    state = str(getattr(measurement, "state", "") or "")
    pwm = getattr(measurement, "pwm", None)
    if pwm is None:  # a measurement without the flag: PWM if a frequency and a duty were measured
        freq = _num(getattr(measurement, "frequency_hz", math.nan))
        duty = _num(getattr(measurement, "duty", math.nan))
        pwm = math.isfinite(freq) and freq > 0 and math.isfinite(duty) and 0.0 < duty < 1.0
    pwm = bool(pwm)
    faults: list[Fault] = []
    if not math.isfinite(v_high):
        return ()
    windows = p.high_windows

    # --- steady negative level: state F (the EVSE's own "not available") -----------------------
    if not pwm and (state.startswith("F") or v_high < min(windows["E"].lo, -1.0)):
        w = p.f_window
        if not w.contains(v_high):
            faults.append(Fault(
                "v_low_out_of_range",
                f"steady negative level {v_high:.2f} V is outside the state F window {_window_text(w)} "
                f"({w.source}): {'weak generator' if v_high > w.hi else 'generator over-voltage'}"))
        return tuple(faults)

    # --- state E: CP shorted to PE -----------------------------------------------------------
    if v_high < min(windows["D"].lo, _E_MAX_HIGH_V):
        if not pwm:
            faults.append(Fault("state_e", f"CP steady at {round(v_high, 2) + 0.0:.2f} V (state E): CP shorted to "
                                           f"PE, or the EVSE unpowered"))
        elif math.isfinite(v_low) and v_low < _LOW_IS_GENERATOR_V:
            faults.append(Fault(
                "state_e_after_diode",
                f"V+ = {v_high:.2f} V is one diode drop while V- = {v_low:.2f} V: CP is shorted to PE behind the "
                f"vehicle diode (state E; EV-BU, YETI: only V+ ≈ 0 V identifies E)"))
        else:
            amplitude = (v_high - v_low) / 2 if math.isfinite(v_low) else v_high
            r_est = _R1 * amplitude / (_V_GEN - amplitude) if 0 < amplitude < _V_GEN else 0.0
            faults.append(Fault(
                "state_e_pwm",
                f"PWM collapsed to {v_high:+.2f}/{v_low:+.2f} V: CP is shorted to PE through ≈ {_fmt_ohm(r_est)} "
                f"before the vehicle diode (cable, connector or EVSE) while the EVSE keeps its PWM running "
                f"(state E with PWM present)"))
        return tuple(faults)

    # --- diode -------------------------------------------------------------------------------
    if hasattr(measurement, "diode_fault"):
        diode = bool(measurement.diode_fault)
    else:  # a measurement from elsewhere: the analyzer's own rule (§2b)
        from .analysis.states import diode_fault

        diode = pwm and math.isfinite(v_low) and bool(diode_fault(v_high, v_low, p))
    if diode:
        faults.append(Fault(
            "diode_fault",
            f"negative level {v_low:+.2f} V follows the positive {v_high:+.2f} V instead of staying at -12 V: "
            f"the vehicle's CP diode is shorted or missing (|V+ + V-| < {p.diode_fault_sum_v:g} V, "
            f"{p.diode_fault_source.split(':')[0]})"))

    # --- generator negative level ------------------------------------------------------------
    w = p.low_window
    if pwm and math.isfinite(v_low) and not diode and not w.contains(v_low):
        if v_low > w.hi:
            faults.append(Fault(
                "v_low_out_of_range",
                f"negative level {v_low:.2f} V is outside {_window_text(w)} ({w.source}): weak generator, "
                f"e.g. an op-amp output that does not swing to the -12 V rail"))
        else:
            faults.append(Fault(
                "v_low_out_of_range",
                f"negative level {v_low:.2f} V is below {_window_text(w)} ({w.source}): generator over-voltage"))

    # --- state windows -----------------------------------------------------------------------
    letter = next((s for s in "ABCD" if windows[s].contains(v_high)), None)
    if letter is None and v_high > windows["A"].hi:
        faults.append(Fault(
            "v_high_out_of_range",
            f"CP high level {v_high:.2f} V is above the state A window {_window_text(windows['A'])} "
            f"({windows['A'].source}): generator over-voltage"))
    elif letter is None and not diode:  # with a shorted diode the level is explained already
        above = min((s for s in "ABCD" if windows[s].lo > v_high), key=lambda s: windows[s].lo)
        below = max((s for s in "ABCDE" if windows[s].hi < v_high), key=lambda s: windows[s].hi)
        r_est = _R1 * (v_high - _VD) / (_V_GEN - v_high) if _VD < v_high < _V_GEN else math.nan
        faults.append(Fault(
            "level_between_windows",
            f"CP high level {v_high:.2f} V lies between the {below} window {_window_text(windows[below])} and the "
            f"{above} window {_window_text(windows[above])} ({p.name}): the vehicle presents ≈ {_fmt_ohm(r_est)} "
            f"(nominal 2.74 kΩ in B, 882 Ω in C, 246 Ω in D): a vehicle resistor out of tolerance, or R1 "
            f"or the generator off nominal"))

    # --- edges at the vehicle, B and C only (EV-BU) ------------------------------------------
    # unresolved edges (fewer than 2 samples) give upper bounds: too coarse to prove an edge slow
    if pwm and letter in std.VEHICLE_RISE_MAX_S and getattr(measurement, "edges_resolved", True):
        rise = _num(getattr(measurement, "rise_time_s", math.nan))
        fall = _num(getattr(measurement, "fall_time_s", math.nan))
        cause = "too much EVSE + cable capacitance (limit 3100 pF, PLNOTE) or a slow generator (≤ 2 µs)"
        rise_max = std.VEHICLE_RISE_MAX_S[letter]
        if math.isfinite(rise) and rise > rise_max:
            faults.append(Fault(
                "rise_too_slow",
                f"rise time {rise * 1e6:.1f} µs exceeds {rise_max * 1e6:g} µs in state {letter} (10-90 %, EV-BU): "
                f"{cause}"))
        if math.isfinite(fall) and fall > std.VEHICLE_FALL_MAX_S:
            faults.append(Fault(
                "fall_too_slow",
                f"fall time {fall * 1e6:.1f} µs exceeds {std.VEHICLE_FALL_MAX_S * 1e6:g} µs (90-10 %, EV-BU): "
                f"{cause}"))

    # --- nothing seen although a vehicle is plugged in ---------------------------------------
    if vehicle_connected and letter == "A":
        faults.append(Fault(
            "vehicle_not_seen",
            f"the EVSE sees state A ({v_high:.2f} V) with a vehicle plugged in: the CP wire is open, PE is lost "
            f"between vehicle and EVSE, or the vehicle's diode is open (EV-BU: lost PE reads as state A)"))
    return tuple(faults)
