"""CP fault diagnosis: a table of small rules from the analyzer's measurement to named faults.

:func:`detect_cp_faults` is a pure function from a measurement of a CP capture (simulated or
from a scope) to a tuple of :class:`Fault` (code + one-line explanation). It gathers the facts
every rule reads once (:class:`CpFacts`), then runs the rules of :data:`CP_RULES` in order. A
rule whose level explanation is complete (state F, state E) is *final*: later rules are not run,
because a collapsed or negative level explains everything they would flag.

Every number is sourced in :mod:`cpsim.standard` or PILOT-REFERENCE (``§``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .. import standard as std
from ..analysis.states import NOT_A_PILOT, diode_fault
from ..units import as_float as _num

__all__ = ["Fault", "FAULT_CODES", "CpFacts", "CpRule", "CP_RULES", "detect_cp_faults"]


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
    "frequency_out_of_range": "PWM frequency outside 980-1020 Hz: the EVSE's PWM timer is set wrong",
    "collapsed_pwm": "PWM collapsed towards 0 V with unlike halves: not a plain short; probe or generator",
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
_EDGE_CAUSE = "too much EVSE + cable capacitance (limit 3100 pF, PLNOTE) or a slow generator (≤ 2 µs)"


def _fmt_ohm(r: float) -> str:
    if not math.isfinite(r):
        return "open"
    return f"{r / 1e3:.2g} kΩ" if r >= 1e3 else f"{r:.2g} Ω" if r < 10 else f"{r:.0f} Ω"


def _window_text(w: std.Window) -> str:
    return f"{w.lo:g}…{w.hi:g} V"


@dataclass(frozen=True)
class CpFacts:
    """What the rules read, gathered once from a measurement (SI units; NaN = not measured).

    ``letter`` is the state window (A-D) that holds ``v_high``, or None; ``diode`` is the
    analyzer's diode-fault flag (or its rule, §2b, for a measurement from elsewhere).
    """

    profile: std.LimitsProfile
    v_high: float
    v_low: float
    state: str
    pwm: bool
    diode: bool
    letter: str | None
    rise_time_s: float
    fall_time_s: float
    edges_resolved: bool
    vehicle_connected: bool
    frequency_hz: float = math.nan
    judgeable: bool = True
    """False when the capture cannot support a diagnosis: an input issue (clipped, probe factor,
    inverted, AC-coupled) or a waveform that is not a pilot (too short, a sine, noise, ...)."""

    @classmethod
    def from_measurement(cls, measurement: Any, profile: str | std.LimitsProfile = "iec61851", *,
                         vehicle_connected: bool | None = None) -> CpFacts:
        p = std.get_profile(profile)
        v_high = _num(getattr(measurement, "v_high", math.nan))
        v_low = _num(getattr(measurement, "v_low", math.nan))
        pwm = getattr(measurement, "pwm", None)
        if pwm is None:  # a measurement without the flag: PWM if a frequency and a duty were measured
            freq = _num(getattr(measurement, "frequency_hz", math.nan))
            duty = _num(getattr(measurement, "duty", math.nan))
            pwm = math.isfinite(freq) and freq > 0 and math.isfinite(duty) and 0.0 < duty < 1.0
        pwm = bool(pwm)
        if hasattr(measurement, "diode_fault"):
            diode = bool(measurement.diode_fault)
        else:  # a measurement from elsewhere: the analyzer's own rule (§2b)
            diode = pwm and math.isfinite(v_low) and bool(diode_fault(v_high, v_low, p))
        windows = p.high_windows
        letter = next((s for s in "ABCD" if windows[s].contains(v_high)), None)
        judgeable = (not getattr(measurement, "input_issues", ())
                     and getattr(measurement, "reason_code", None) not in NOT_A_PILOT)
        return cls(profile=p, v_high=v_high, v_low=v_low, state=str(getattr(measurement, "state", "") or ""),
                   pwm=pwm, diode=diode, letter=letter,
                   rise_time_s=_num(getattr(measurement, "rise_time_s", math.nan)),
                   fall_time_s=_num(getattr(measurement, "fall_time_s", math.nan)),
                   edges_resolved=bool(getattr(measurement, "edges_resolved", True)),
                   vehicle_connected=bool(vehicle_connected),
                   frequency_hz=_num(getattr(measurement, "frequency_hz", math.nan)), judgeable=bool(judgeable))


# ------------------------------------------------------------------------------------------------
# The rules: each a predicate (does it apply?) and a check (which faults?), in table order.
# ------------------------------------------------------------------------------------------------

def _steady_negative(f: CpFacts) -> bool:
    """State F, the EVSE's own "not available": a steady level below the E window."""
    return not f.pwm and (f.state.startswith("F") or f.v_high < min(f.profile.high_windows["E"].lo, -1.0))


def _state_f(f: CpFacts) -> Iterator[Fault]:
    w = f.profile.f_window
    if not w.contains(f.v_high):
        kind = "weak generator" if f.v_high > w.hi else "generator over-voltage"
        yield Fault("v_low_out_of_range", f"steady negative level {f.v_high:.2f} V is outside the state F window "
                                          f"{_window_text(w)} ({w.source}): {kind}")


def _e_like(f: CpFacts) -> bool:
    """V+ below the lowest vehicle window (D) and below CB's 2 V diode-check limit: a short to PE."""
    return f.v_high < min(f.profile.high_windows["D"].lo, _E_MAX_HIGH_V)


def _state_e(f: CpFacts) -> Iterator[Fault]:
    if not f.pwm:
        yield Fault("state_e", f"CP steady at {round(f.v_high, 2) + 0.0:.2f} V (state E): CP shorted to "
                               f"PE, or the EVSE unpowered")
    elif math.isfinite(f.v_low) and f.v_low < _LOW_IS_GENERATOR_V:
        yield Fault("state_e_after_diode",
                    f"V+ = {f.v_high:.2f} V is one diode drop while V- = {f.v_low:.2f} V: CP is shorted to PE "
                    f"behind the vehicle diode (state E; EV-BU, YETI: only V+ ≈ 0 V identifies E)")
    elif not _symmetric(f):
        yield Fault("collapsed_pwm",
                    f"PWM collapsed to {f.v_high:+.2f}/{f.v_low:+.2f} V, but its halves are not alike as a short to "
                    f"PE makes them (|V+ + V-| = {abs(f.v_high + f.v_low):.2f} V): check the probe attenuation, "
                    "then the generator's negative rail and the CP wiring")
    else:
        # a short before the diode: A = 12 V·R/(R + 1 kΩ) (§8 values) gives R
        amplitude = (f.v_high - f.v_low) / 2 if math.isfinite(f.v_low) else f.v_high
        r_est = _R1 * amplitude / (_V_GEN - amplitude) if 0 < amplitude < _V_GEN else 0.0
        yield Fault("state_e_pwm",
                    f"PWM collapsed to {f.v_high:+.2f}/{f.v_low:+.2f} V: CP is shorted to PE through "
                    f"≈ {_fmt_ohm(r_est)} before the vehicle diode (cable, connector or EVSE) while the EVSE "
                    f"keeps its PWM running (state E with PWM present)")


SHORT_ASYMMETRY = 0.15
"""A short to PE before the diode collapses both halves alike (calc, §8: +0.87/-0.89 V through 80 Ω); halves
that differ by more than this fraction of the amplitude (plus 0.1 V) are not a short (cpsim choice: a x10
probe error on B2 gives +0.89/-1.20 V, 30 % apart)."""


def _symmetric(f: CpFacts) -> bool:
    if not math.isfinite(f.v_low):
        return True
    amplitude = (f.v_high - f.v_low) / 2
    return abs(f.v_high + f.v_low) <= SHORT_ASYMMETRY * amplitude + 0.1


def _frequency_off(f: CpFacts) -> bool:
    """A running PWM outside the profile's fail band (EV-BU: 980-1020 Hz)."""
    return f.pwm and math.isfinite(f.frequency_hz) and not f.profile.frequency_fail.contains(f.frequency_hz)


def _frequency(f: CpFacts) -> Iterator[Fault]:
    w = f.profile.frequency_fail
    yield Fault("frequency_out_of_range",
                f"PWM at {f.frequency_hz:.4g} Hz, outside {w.lo:g}…{w.hi:g} Hz ({w.source}): the EVSE's PWM timer "
                "(clock, prescaler or period register) is set wrong; vehicles may not read the duty")


def _diode(f: CpFacts) -> Iterator[Fault]:
    p = f.profile
    yield Fault("diode_fault",
                f"negative level {f.v_low:+.2f} V follows the positive {f.v_high:+.2f} V instead of staying at "
                f"-12 V: the vehicle's CP diode is shorted or missing (|V+ + V-| < {p.diode_fault_sum_v:g} V, "
                f"{p.diode_fault_source.split(':')[0]})")


def _low_level_off(f: CpFacts) -> bool:
    """V- of a running PWM outside the generator's -12 V ±0.6 V (EV-BU, PLNOTE); a diode fault explains it."""
    return f.pwm and math.isfinite(f.v_low) and not f.diode and not f.profile.low_window.contains(f.v_low)


def _generator_low(f: CpFacts) -> Iterator[Fault]:
    w = f.profile.low_window
    if f.v_low > w.hi:
        yield Fault("v_low_out_of_range",
                    f"negative level {f.v_low:.2f} V is outside {_window_text(w)} ({w.source}): weak generator, "
                    f"e.g. an op-amp output that does not swing to the -12 V rail")
    else:
        yield Fault("v_low_out_of_range",
                    f"negative level {f.v_low:.2f} V is below {_window_text(w)} ({w.source}): generator "
                    f"over-voltage")


def _in_no_window(f: CpFacts) -> bool:
    """V+ inside no window of A-D (with a shorted diode the level is explained already, unless above A)."""
    return f.letter is None and (f.v_high > f.profile.high_windows["A"].hi or not f.diode)


def _state_windows(f: CpFacts) -> Iterator[Fault]:
    p, windows, v_high = f.profile, f.profile.high_windows, f.v_high
    if v_high > windows["A"].hi:
        yield Fault("v_high_out_of_range",
                    f"CP high level {v_high:.2f} V is above the state A window {_window_text(windows['A'])} "
                    f"({windows['A'].source}): generator over-voltage")
        return
    above = min((s for s in "ABCD" if windows[s].lo > v_high), key=lambda s: windows[s].lo)
    below = max((s for s in "ABCDE" if windows[s].hi < v_high), key=lambda s: windows[s].hi)
    # the vehicle's resistance from V+ with the §8 values
    r_est = _R1 * (v_high - _VD) / (_V_GEN - v_high) if _VD < v_high < _V_GEN else math.nan
    yield Fault("level_between_windows",
                f"CP high level {v_high:.2f} V lies between the {below} window {_window_text(windows[below])} and "
                f"the {above} window {_window_text(windows[above])} ({p.name}): the vehicle presents "
                f"≈ {_fmt_ohm(r_est)} (nominal 2.74 kΩ in B, 882 Ω in C, 246 Ω in D): a vehicle resistor out of "
                f"tolerance, or R1 or the generator off nominal")


def _edges_judged(f: CpFacts) -> bool:
    """Edges at the vehicle, states B and C only (EV-BU: no published loaded limit for A and D).

    Unresolved edges (fewer than 2 samples) give upper bounds: too coarse to prove an edge slow.
    """
    return f.pwm and f.letter in std.VEHICLE_RISE_MAX_S and f.edges_resolved


def _edges(f: CpFacts) -> Iterator[Fault]:
    assert f.letter is not None  # guaranteed by _edges_judged
    rise_max = std.VEHICLE_RISE_MAX_S[f.letter]
    if math.isfinite(f.rise_time_s) and f.rise_time_s > rise_max:
        yield Fault("rise_too_slow", f"rise time {f.rise_time_s * 1e6:.1f} µs exceeds {rise_max * 1e6:g} µs in "
                                     f"state {f.letter} (10-90 %, EV-BU): {_EDGE_CAUSE}")
    if math.isfinite(f.fall_time_s) and f.fall_time_s > std.VEHICLE_FALL_MAX_S:
        yield Fault("fall_too_slow", f"fall time {f.fall_time_s * 1e6:.1f} µs exceeds "
                                     f"{std.VEHICLE_FALL_MAX_S * 1e6:g} µs (90-10 %, EV-BU): {_EDGE_CAUSE}")


def _vehicle_expected(f: CpFacts) -> bool:
    """The technician knows a vehicle is plugged in, yet the EVSE sees state A."""
    return f.vehicle_connected and f.letter == "A"


def _vehicle_not_seen(f: CpFacts) -> Iterator[Fault]:
    yield Fault("vehicle_not_seen",
                f"the EVSE sees state A ({f.v_high:.2f} V) with a vehicle plugged in: the CP wire is open, PE is "
                f"lost between vehicle and EVSE, or the vehicle's diode is open (EV-BU: lost PE reads as state A)")


@dataclass(frozen=True)
class CpRule:
    """One diagnosis rule: ``applies(facts)`` selects it, ``check(facts)`` yields its faults.

    A ``final`` rule that applies ends the diagnosis: its level explains everything after it.
    """

    name: str
    applies: Callable[[CpFacts], bool]
    check: Callable[[CpFacts], Iterator[Fault]]
    final: bool = False


CP_RULES: tuple[CpRule, ...] = (
    CpRule("frequency", _frequency_off, _frequency),
    CpRule("state_f", _steady_negative, _state_f, final=True),
    CpRule("state_e", _e_like, _state_e, final=True),
    CpRule("diode", lambda f: f.diode, _diode),
    CpRule("generator_low", _low_level_off, _generator_low),
    CpRule("state_windows", _in_no_window, _state_windows),
    CpRule("edges", _edges_judged, _edges),
    CpRule("vehicle_not_seen", _vehicle_expected, _vehicle_not_seen),
)
"""The rules of :func:`detect_cp_faults`, in the order they run."""


def detect_cp_faults(measurement: Any, profile: str | std.LimitsProfile = "iec61851", *,
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

    Notes
    -----
    A capture that cannot support a diagnosis gets none: one with input issues (clipped, probe
    factor, inverted, AC-coupled) or one whose state is ``invalid`` because it is not a pilot
    (too short, no complete cycle, a sine, noise). The rules (:data:`CP_RULES`), in order:

    * Frequency outside the profile's fail band (EV-BU 980-1020 Hz): ``frequency_out_of_range``
      (first: it holds whatever the levels say).
    * Steady negative level (state F): outside the profile's F window. Final.
    * E-like: V+ below the lowest vehicle window (D) and below 2 V (CB's diode-check limit).
      Without PWM: ``state_e``. With PWM and V- at the generator's -12 V, a short behind the
      diode (EV-BU, YETI); with V- collapsed alike, a short before it, whose resistance is
      estimated from the amplitude A = 12 V·R/(R + 1 kΩ) (§8 values); halves that are not alike
      are no short (a probe set wrong, or a generator fault). Final.
    * Diode fault: the analyzer's ``diode_fault`` (§2b: ``|V+ + V-|`` below the profile's
      ``diode_fault_sum_v`` while PWM runs, not while V- sits at -12 ±1.1 V, YETI, EV-SIM).
    * V- of a PWM outside the profile's low window (generator -12 V ±0.6 V, EV-BU, PLNOTE).
    * V+ inside no window of A-D: between two windows (the vehicle resistance is estimated
      from V+ with the §8 values) or above A.
    * Edges (10-90 %) at the vehicle, states B and C only (EV-BU): rise B < 10 µs,
      C < 7 µs; fall < 13 µs. No published loaded limit exists for A and D.
    * State A with ``vehicle_connected``: ``vehicle_not_seen``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> m = SimpleNamespace(v_high=8.79, v_low=-8.79, pwm=True, state="B2", diode_fault=True)
    >>> [f.code for f in detect_cp_faults(m)]
    ['diode_fault']
    """
    facts = CpFacts.from_measurement(measurement, profile, vehicle_connected=vehicle_connected)
    if not facts.judgeable or not math.isfinite(facts.v_high):
        return ()
    faults: list[Fault] = []
    for rule in CP_RULES:
        if rule.applies(facts):
            faults.extend(rule.check(facts))
            if rule.final:
                break
    return tuple(faults)
