"""The verdict table of a compliance report: one row per measured parameter, as plain data.

:func:`check_measurement` judges a :class:`~cpsim.analysis.PilotMeasurement` against a limits
profile and returns a list of :class:`CheckRow`: the measured value (SI units, ``duty`` a
fraction), the limit, the margin to it (positive inside, in the value's unit), a verdict and the
source of the limit. :func:`check_segments` does the same for every stretch of the timeline.
Both are pure functions of the measurement: no plotting, no I/O (``cpsim.report`` renders them).

Verdicts, worst last: ``n/a`` (does not apply to this capture), ``info`` (measured, no published
limit), ``pass``, ``warn`` (outside a recommendation or a low-confidence limit), ``inconclusive``
(the capture cannot tell: a level within its measurement uncertainty of a window edge, edges too
fast for the sample rate to prove them within the limit, or a capture that cannot support a
verdict at all: clipped, probe factor, inverted, AC-coupled, too short, not a pilot), ``fail``.
A capture that cannot support a verdict makes every judged row ``inconclusive``: a ``pass`` or
``fail`` built on it would be a guess.

Which limit applies where (PILOT-REFERENCE sections in ``§``):

==================  ==========================================================================
state               a state of the profile; ``invalid`` fails (and so does a mismatch with
                    ``expected_state`` when given)
CP high level       the profile's window of the state's letter (§2a); F: the F window
negative level      PWM in A-D: the generator's -12 V ±0.6 V (EV-BU, PLNOTE), unless the diode
                    is faulty
diode               ``|V+ + V-|`` >= 1.1 V while PWM runs, unless V- sits at -12 ±1.1 V (YETI,
                    EV-SIM, §2b)
duty                inside a band that means something: 3-7 % digital, 8-97 % current (§3b);
                    with ``expected_duty``, the pulse width within ±25 µs (PLNOTE, low
                    confidence: a warning)
frequency           warn outside 995-1005 Hz (PLNOTE), fail outside 980-1020 Hz (EV-BU) (§1)
rise / fall time    loaded, states B and C (EV-BU): rise B < 10 µs, C < 7 µs, fall < 13 µs;
                    no published loaded limit for A and D (the 2 µs is the generator alone)
ripple              < 0.1 V p-p recommended (EV-BU), estimated as 6 σ of the plateau noise
faults              every :func:`cpsim.diagnose.cp.detect_cp_faults` code fails
==================  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import standard as std
from ..units import as_float as _f
from .verdicts import JUDGED, NAN, VERDICTS, CheckRow, CheckTable, _fin, _row, _window_text, overall_verdict

__all__ = ["CheckRow", "CheckTable", "VERDICTS", "check_measurement", "check_segments", "overall_verdict", "judgeable",
           "DUTY_BANDS", "DUTY_WIDTH_TOL_S"]

DUTY_BANDS = (
    std.Window(0.03, 0.07, "§3b: 3-7 % digital communication (NXP, PLNOTE, OE-KB)"),
    std.Window(0.08, 0.97, "§3b: 8-97 % current (NXP, PLNOTE, EV-SIM); 7-8 % and > 97 % allow no charging"),
)
"""Duty bands (fractions) that carry a meaning; a PWM outside them signals nothing valid."""

DUTY_WIDTH_TOL_S = 25e-6
"""Pulse-width accuracy [s] (PLNOTE only, low confidence: judged as a warning)."""

RIPPLE_SIGMAS = 6.0
"""Peak-to-peak estimate of Gaussian noise, in standard deviations (cpsim choice: ±3 σ)."""


def _letter(state: str) -> str | None:
    s = str(state or "")
    return s[0] if s and s != "invalid" and s[0] in "ABCDEF" else None


def _level_window(state: str, profile: std.LimitsProfile) -> std.Window | None:
    letter = _letter(state)
    if letter is None:
        return None
    return profile.f_window if letter == "F" else profile.high_windows.get(letter)


def _nearest_window(level: float, profile: std.LimitsProfile) -> tuple[str, std.Window]:
    candidates = dict(profile.high_windows)
    candidates["F"] = profile.f_window
    return max(candidates.items(), key=lambda kv: float(kv[1].margin(level)))


def _level_row(parameter: str, label: str, level: float, state: str, profile: std.LimitsProfile,
               uncertainty: float = NAN) -> CheckRow:
    window = _level_window(state, profile)
    if not _fin(level):
        return _row(parameter, label, NAN, "V", verdict="n/a", note="not measured")
    if window is None:  # invalid: judge against the nearest window
        letter, window = _nearest_window(level, profile)
        m = float(window.margin(level))
        verdict, note = _judge_margin(m, uncertainty, "the level lies in no state window of the profile")
        return _row(parameter, label, level, "V", f"in a state window; nearest: {letter} {_window_text(window)}",
                    window.lo, window.hi, m, verdict, window.source, note)
    m = float(window.margin(level))
    verdict, note = _judge_margin(m, uncertainty, "")
    return _row(parameter, label, level, "V", f"state {_letter(state)}: {_window_text(window)}", window.lo,
                window.hi, m, verdict, window.source, note)


def _judge_margin(margin: float, uncertainty: float, fail_note: str) -> tuple[str, str]:
    """Pass inside, fail outside; inconclusive when the window edge lies within the level's uncertainty."""
    if _fin(uncertainty) and abs(margin) < uncertainty:
        return "inconclusive", (f"the window edge is {abs(margin):.3g} V away, within the level's "
                                f"uncertainty of ±{uncertainty:.3g} V: capture longer or with less noise")
    return ("pass", "") if margin >= 0 else ("fail", fail_note)


def judgeable(m: Any) -> tuple[bool, str]:
    """Whether a measurement can support a verdict, and why not."""
    from ..analysis.states import NOT_A_PILOT

    issues = tuple(getattr(m, "input_issues", ()) or ())
    if issues:
        return False, issues[0].message
    if getattr(m, "reason_code", None) in NOT_A_PILOT:
        return False, str(getattr(m, "reason", "") or "not a pilot")
    return True, ""


def check_measurement(m, profile: str | std.LimitsProfile = "iec61851", *, faults: Sequence | None = None,
                      expected_state: str | None = None, expected_duty: float | None = None,
                      vehicle_connected: bool | None = None) -> CheckTable:
    """The verdict table of one capture.

    Parameters
    ----------
    m : PilotMeasurement
        The analyzer's result (:func:`cpsim.analyze`).
    profile : str or LimitsProfile
        Windows and limits to judge against.
    faults : sequence of Fault, optional
        Recognised faults; by default :func:`cpsim.diagnose.cp.detect_cp_faults` is asked.
    expected_state : str, optional
        The state the capture should show (``"C2"`` or just ``"C"``); a different one fails.
    expected_duty : float, optional
        The duty (fraction) the EVSE was set to; adds the pulse-width accuracy row.
    vehicle_connected : bool, optional
        Passed to the fault detector (a vehicle seen as state A is then a fault).

    Returns
    -------
    list of CheckRow
        Always the rows ``state, v_high, v_low, diode, duty, frequency_hz, rise_time_s,
        fall_time_s, current_a, ripple, overshoot`` (``n/a`` where they do not apply), then
        ``duty_width`` when ``expected_duty`` is given, then ``faults`` or one
        ``fault:<code>`` row per fault (value ``"detected"``, the explanation in ``note``).

    Examples
    --------
    >>> import numpy as np
    >>> from cpsim import Waveform
    >>> from cpsim import analyze
    >>> t = np.arange(20_000) * 1e-6
    >>> m = analyze(Waveform.from_arrays(t, np.where((t * 1000) % 1 < 0.25, 9.0, -12.0)))
    >>> rows = check_measurement(m)
    >>> [(r.parameter, r.verdict) for r in rows][:3]
    [('state', 'pass'), ('v_high', 'pass'), ('v_low', 'pass')]
    """
    p = std.get_profile(profile)
    state = str(m.state)
    letter = _letter(state)
    pwm = bool(getattr(m, "pwm", False))
    rows: list[CheckRow] = []

    ok, why = judgeable(m)
    # --- state -------------------------------------------------------------------------------
    if state == "invalid":
        rows.append(_row("state", "state", state, "", f"a state of profile {p.name}",
                         verdict="fail" if ok else "inconclusive", source=p.description, note=str(m.reason or "")))
    elif expected_state is not None and not _same_state(state, expected_state):
        rows.append(_row("state", "state", state, "", f"expected {expected_state}", verdict="fail",
                         source="user: expected state", note=f"read as {state}, expected {expected_state}"))
    else:
        rows.append(_row("state", "state", state, "", f"a state of profile {p.name}"
                         + (f" (expected {expected_state})" if expected_state else ""), verdict="pass",
                         source=p.description))

    # --- levels ------------------------------------------------------------------------------
    u_high = _f(getattr(m, "v_high_uncertainty_v", NAN))
    if pwm:
        rows.append(_level_row("v_high", "CP high level V+", _f(m.v_high), state, p, u_high))
    else:
        rows.append(_level_row("v_high", "CP level (steady, no PWM)", _f(m.v_high), state, p, u_high))
    rows.append(_low_row(m, p, state, pwm))
    rows.append(_diode_row(m, p, pwm))

    # --- PWM timing --------------------------------------------------------------------------
    rows.append(_duty_row(m, pwm))
    rows.append(_frequency_row(m, p, pwm))
    rows.extend(_edge_rows(m, letter, pwm))

    # --- current, ripple, overshoot ---------------------------------------------------------
    rows.append(_current_row(m, state, pwm))
    rows.append(_ripple_row(m))
    over = _f(getattr(m, "overshoot", NAN))
    rows.append(_row("overshoot", "overshoot after the rising edge", over, "fraction", "no published limit",
                     verdict="info" if _fin(over) else "n/a", source="",
                     note="" if _fin(over) else "no PWM edges"))

    if expected_duty is not None:
        rows.append(_duty_width_row(m, float(expected_duty), pwm))

    # --- faults ------------------------------------------------------------------------------
    if faults is None:
        from ..diagnose.cp import detect_cp_faults

        faults = detect_cp_faults(m, p, vehicle_connected=vehicle_connected)
    if not faults:
        rows.append(_row("faults", "recognised faults", "none", "", "no fault signature", verdict="pass",
                         source="cpsim.diagnose.cp.detect_cp_faults (rules cite §1, §2b, §8)"))
    for fault in faults:
        rows.append(_row(f"fault:{fault.code}", f"fault: {fault.code}", "detected", "", "no fault signature",
                         verdict="fail", source="cpsim.diagnose.cp.detect_cp_faults (rules cite §1, §2b, §8)",
                         note=fault.message))
    if not ok:  # nothing measured on this capture can be judged: say so on every judged row
        rows = [r if r.verdict not in JUDGED or r.parameter == "state" else
                CheckRow(r.parameter, r.label, r.value, r.unit, r.limit, r.lo, r.hi, r.margin, "inconclusive",
                         r.source, why) for r in rows]
    return CheckTable(rows)


def _same_state(state: str, expected: str) -> bool:
    e = str(expected).strip().upper()
    return state.upper() == e or (len(e) == 1 and state[:1].upper() == e)


def _low_row(m, p: std.LimitsProfile, state: str, pwm: bool) -> CheckRow:
    label = "CP negative level V−"
    v_low = _f(m.v_low)
    letter = _letter(state)
    if not pwm:
        return _row("v_low", label, NAN, "V", verdict="n/a",
                    note="steady level, no PWM: judged in the level row" if letter else "no PWM measured")
    if not _fin(v_low):
        return _row("v_low", label, NAN, "V", verdict="n/a", note="not measured")
    if letter == "E":
        return _row("v_low", label, v_low, "V", "none in state E (CP at PE)", verdict="info",
                    source=p.high_windows["E"].source)
    w = p.low_window
    margin = float(w.margin(v_low))
    note = ""
    if bool(getattr(m, "diode_fault", False)):
        note = "follows the high level: diode fault"
    return _row("v_low", label, v_low, "V", f"generator {_window_text(w)}", w.lo, w.hi, margin,
                "pass" if margin >= 0 else "fail", w.source, note)


def _diode_row(m, p: std.LimitsProfile, pwm: bool) -> CheckRow:
    label = "vehicle diode (negative half blocked)"
    v_high, v_low = _f(m.v_high), _f(m.v_low)
    limit = (f"|V+ + V−| ≥ {p.diode_fault_sum_v:g} V while PWM runs, unless V− is within "
             f"{_window_text(std.DIODE_OK_LOW_WINDOW)}")
    if not pwm or not (_fin(v_high) and _fin(v_low)) or v_high <= std.DIODE_CHECK_MIN_HIGH_V:
        return _row("diode", label, NAN, "V", limit, verdict="n/a", source=p.diode_fault_source,
                    note=f"applies to PWM with V+ > {std.DIODE_CHECK_MIN_HIGH_V:g} V (CB)")
    s = abs(v_high + v_low)
    margin = max(s - p.diode_fault_sum_v, float(std.DIODE_OK_LOW_WINDOW.margin(v_low)))
    fault = bool(getattr(m, "diode_fault", margin < 0))
    return _row("diode", label, s, "V", limit, p.diode_fault_sum_v, NAN, margin, "fail" if fault else "pass",
                p.diode_fault_source, "value is |V+ + V−|" + (": the diode is shorted or missing" if fault else ""))


def _duty_row(m, pwm: bool) -> CheckRow:
    duty = _f(m.duty)
    limit = "3 … 7 % (digital) or 8 … 97 % (current)"
    source = "§3b: NXP, PLNOTE, OE-KB, EV-SIM"
    if not pwm or not _fin(duty):
        return _row("duty", "duty cycle", NAN, "fraction", limit, verdict="n/a", source=source, note="no PWM")
    margins = [float(b.margin(duty)) for b in DUTY_BANDS]
    k = max(range(len(DUTY_BANDS)), key=lambda i: margins[i])
    band = DUTY_BANDS[k]
    ok = margins[k] >= 0
    note = "" if ok else "outside every band: no current and no digital communication may be read from it"
    return _row("duty", "duty cycle", duty, "fraction", limit, band.lo, band.hi, margins[k],
                "pass" if ok else "fail", source, note)


def _duty_width_row(m, expected: float, pwm: bool) -> CheckRow:
    label = f"pulse width vs the set {expected * 100:g} %"
    limit = f"±{DUTY_WIDTH_TOL_S * 1e6:g} µs"
    source = "PLNOTE (low confidence; no second source, PILOT-REFERENCE §1)"
    duty, period = _f(m.duty), _f(m.period_s)
    if not pwm or not (_fin(duty) and _fin(period)):
        return _row("duty_width", label, NAN, "s", limit, verdict="n/a", source=source, note="no PWM")
    err = (duty - expected) * period
    margin = DUTY_WIDTH_TOL_S - abs(err)
    return _row("duty_width", label, err, "s", limit, -DUTY_WIDTH_TOL_S, DUTY_WIDTH_TOL_S, margin,
                "pass" if margin >= 0 else "warn", source,
                "" if margin >= 0 else "a warning only: the ±25 µs figure has a single low-confidence source")


def _frequency_row(m, p: std.LimitsProfile, pwm: bool) -> CheckRow:
    f = _f(m.frequency_hz)
    warn, fail = p.frequency_warn, p.frequency_fail
    limit = f"{_window_text(warn, 'Hz')} (else warn); {_window_text(fail, 'Hz')} (else fail)"
    source = f"warn: {warn.source}; fail: {fail.source}"
    if not pwm or not _fin(f):
        return _row("frequency_hz", "PWM frequency", NAN, "Hz", limit, verdict="n/a", source=source, note="no PWM")
    if warn.contains(f):
        return _row("frequency_hz", "PWM frequency", f, "Hz", limit, warn.lo, warn.hi, float(warn.margin(f)),
                    "pass", source)
    margin = float(fail.margin(f))
    if margin >= 0:
        return _row("frequency_hz", "PWM frequency", f, "Hz", limit, fail.lo, fail.hi, margin, "warn", source,
                    f"outside {_window_text(warn, 'Hz')}: the sources disagree on the tolerance (§1)")
    return _row("frequency_hz", "PWM frequency", f, "Hz", limit, fail.lo, fail.hi, margin, "fail", source)


def _edge_rows(m, letter: str | None, pwm: bool) -> list[CheckRow]:
    source = "EV-BU (10-90 %, with a vehicle attached): rise B < 10 µs, C < 7 µs; fall < 13 µs"
    out = []
    for name, label in (("rise_time_s", "rise time 10-90 %"), ("fall_time_s", "fall time 90-10 %")):
        value = _f(getattr(m, name, NAN))
        if name == "rise_time_s":
            limit_s = std.VEHICLE_RISE_MAX_S.get(letter or "", NAN)
        else:
            limit_s = std.VEHICLE_FALL_MAX_S if letter in std.VEHICLE_RISE_MAX_S else NAN
        if pwm and not _fin(value) and not bool(getattr(m, "edges_resolved", True)):
            out.append(_unresolved_edge_row(m, name, label, letter, limit_s, source))
        elif not pwm or not _fin(value):
            out.append(_row(name, label, NAN, "s", verdict="n/a", source=source, note="no PWM edges"))
        elif not _fin(limit_s):
            out.append(_row(name, label, value, "s", f"none published for state {letter}", verdict="info",
                            source=source, note=f"the {std.GENERATOR_EDGE_MAX_S * 1e6:g} µs limit (PLNOTE) is "
                                            "the generator's alone, without cable or vehicle"))
        else:
            margin = limit_s - value
            out.append(_row(name, label, value, "s", f"< {limit_s * 1e6:g} µs (state {letter})", NAN, limit_s,
                            margin, "pass" if margin >= 0 else "fail", source))
    return out


def _unresolved_edge_row(m, name: str, label: str, letter: str | None, limit_s: float, source: str) -> CheckRow:
    """An edge faster than the sample rate resolves: its bound proves a limit, or cannot tell."""
    from ..analysis._util import finite_median
    from ..units import format_si

    per_cycle = getattr(m.cycles, name, None)
    bound = _f(finite_median(per_cycle)) if per_cycle is not None and len(per_cycle) else NAN
    what = f"not resolved at {format_si(m.sample_rate_hz, 'S/s')}: at most about {format_si(bound, 's')}"
    if not _fin(limit_s):
        return _row(name, label, NAN, "s", f"none published for state {letter}", verdict="info", source=source,
                    note=what)
    limit = f"< {limit_s * 1e6:g} µs (state {letter})"
    if _fin(bound) and bound < limit_s:
        return _row(name, label, NAN, "s", limit, NAN, limit_s, limit_s - bound, "pass", source,
                    what + ", inside the limit")
    return _row(name, label, NAN, "s", limit, NAN, limit_s, NAN, "inconclusive", source,
                what + ": an upper bound that cannot prove the limit; sample faster to judge it")


def _current_row(m, state: str, pwm: bool) -> CheckRow:
    source = "§3b duty → current: 0.6 A/% (10-85 %), (D − 64) × 2.5 A (85-96 %), 6 A (8-10 %), 80 A (96-97 %)"
    current = _f(m.current_a)
    if bool(getattr(m, "digital_comm", False)):
        return _row("current_a", "current offered", "digital communication", "", "6 … 80 A", verdict="info",
                    source=source, note="3-7 % duty: the current is negotiated by ISO 15118 / DIN 70121")
    if not pwm or state[:1] not in "ABCD" or not state.endswith("2"):
        return _row("current_a", "current offered", NAN, "A", "6 … 80 A", verdict="n/a", source=source,
                    note="no current offered (no PWM)")
    if not _fin(current):
        return _row("current_a", "current offered", NAN, "A", "6 … 80 A", 6.0, 80.0, NAN, "fail", source,
                    "the duty offers no current")
    return _row("current_a", "current offered", current, "A", "6 … 80 A", 6.0, 80.0,
                min(current - 6.0, 80.0 - current), "info", source, "follows from the duty")


def _ripple_row(m) -> CheckRow:
    source = "EV-BU: < 100 mV p-p on a steady level (recommendation)"
    sigma = max(_f(getattr(m, "v_high_std", NAN)), _f(getattr(m, "v_low_std", NAN)))
    limit = f"< {std.RIPPLE_MAX_VPP * 1e3:g} mV p-p"
    if not _fin(sigma):
        return _row("ripple", "ripple / noise (p-p ≈ 6 σ)", NAN, "V", limit, verdict="n/a", source=source,
                    note="not measured")
    pp = RIPPLE_SIGMAS * sigma
    margin = std.RIPPLE_MAX_VPP - pp
    return _row("ripple", "ripple / noise (p-p ≈ 6 σ)", pp, "V", limit, NAN, std.RIPPLE_MAX_VPP, margin,
                "pass" if margin >= 0 else "warn", source,
                "includes the instrument's own noise" + ("" if margin >= 0 else "; a recommendation, not a limit"))


def check_segments(m, profile: str | std.LimitsProfile = "iec61851") -> list[CheckRow]:
    """One row per stretch of the timeline: its level against its state's window.

    ``value`` is the stretch's high level (steady level, or V− for F) [V]; ``label`` holds
    its time span and state; an ``invalid`` stretch or a diode fault fails.
    """
    p = std.get_profile(profile)
    rows = []
    for i, s in enumerate(m.segments, start=1):
        span = f"{s.t_start * 1e3:.3f} … {s.t_end * 1e3:.3f} ms"
        label = f"{i}: {s.state} ({span})"
        level = _f(s.v_low if s.state == "F" else s.v_high)
        row = _level_row("segment", label, level, s.state, p)
        note = row.note
        verdict = row.verdict
        if s.state == "invalid":
            code = getattr(s, "reason_code", None)
            verdict = "fail" if code in (None, "no_window") else "inconclusive"
            note = str(s.reason or "invalid")
        elif bool(s.diode_fault):
            verdict, note = "fail", "diode fault"
        rows.append(CheckRow(row.parameter, label, row.value, row.unit, row.limit, row.lo, row.hi, row.margin,
                             verdict, row.source, note))
    return rows
