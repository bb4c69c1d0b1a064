"""CP state classification by a limits profile, vectorised over cycles and DC stretches.

States are carried as small integer codes (indices into :data:`cpsim.standard.STATES`) so a
whole capture is classified with a handful of array operations. Rules:

* The high level picks the letter from the profile's windows, first match in the order
  A, B, C, D, E (``LimitsProfile.high_windows``).
* PWM running -> x2 (A2 ... D2); E stays ``E`` (E with PWM: CP shorted after the diode, YETI
  in PILOT-REFERENCE §2b, classified by its high level alone).
* Steady DC -> x1 (A1 ... D1), ``E``, or ``F`` when the level is inside the profile's F window.
* A level in no window, or a waveform that is not a pilot, -> ``invalid`` with a reason code.
* Diode fault (§2b): ``|v_high + v_low| < profile.diode_fault_sum_v`` while PWM runs, unless the
  low level is within -12 ± 1.1 V (YETI, EV-SIM), and only for ``v_high > 2 V`` (CB).
"""

from __future__ import annotations

import numpy as np

from .. import standard as std
from ..standard import LimitsProfile

__all__ = ["CODE", "INVALID", "Reason", "REASON_CODES", "NOT_A_PILOT", "classify_pwm", "classify_dc", "diode_fault",
           "state_names", "is_x2", "reason_text"]

CODE = {name: i for i, name in enumerate(std.STATES)}
INVALID = CODE["invalid"]
_LETTERS = ("A", "B", "C", "D", "E")
_PWM_CODE = {"A": CODE["A2"], "B": CODE["B2"], "C": CODE["C2"], "D": CODE["D2"], "E": CODE["E"]}
_DC_CODE = {"A": CODE["A1"], "B": CODE["B1"], "C": CODE["C1"], "D": CODE["D1"], "E": CODE["E"]}
_X2 = np.array([name in ("A2", "B2", "C2", "D2") for name in std.STATES])
_CYCLIC = np.array([name in ("A2", "B2", "C2", "D2", "E") for name in std.STATES])


class Reason:
    """Why a cycle or DC stretch is ``invalid`` (integer codes, 0 = valid), most basic first."""

    NONE = 0
    TOO_MANY_CROSSINGS = 1
    FEW_SAMPLES = 2
    SLOW_EDGES = 3
    NOT_FLAT = 4
    LOW_NOT_NEGATIVE = 5
    NO_WINDOW = 6
    NOISY = 7
    DRIFT = 8
    ISOLATED_PULSE = 9
    BRIEF = 10
    NO_CYCLE = 11
    TOO_SHORT = 12


REASON_CODES = {
    Reason.TOO_MANY_CROSSINGS: "too_many_crossings", Reason.FEW_SAMPLES: "few_samples",
    Reason.SLOW_EDGES: "slow_edges", Reason.NOT_FLAT: "not_flat", Reason.LOW_NOT_NEGATIVE: "low_not_negative",
    Reason.NO_WINDOW: "no_window", Reason.NOISY: "noisy", Reason.DRIFT: "drift",
    Reason.ISOLATED_PULSE: "isolated_pulse", Reason.BRIEF: "brief", Reason.NO_CYCLE: "no_cycle",
    Reason.TOO_SHORT: "too_short",
}
"""Stable names of the reason codes (``PilotMeasurement.reason_code``)."""
NOT_A_PILOT = frozenset(REASON_CODES[r] for r in REASON_CODES if r != Reason.NO_WINDOW)
"""Reason codes that say the capture shows no pilot the rules can judge (every one but a level in no
window, which is a pilot with a fault)."""


def state_names(codes) -> np.ndarray:
    """Codes -> state strings."""
    return np.asarray(std.STATES, dtype=object)[np.asarray(codes)]


def is_x2(codes) -> np.ndarray:
    """True for A2-D2: a PWM offering current."""
    return _X2[np.asarray(codes)]


def _letters(level: np.ndarray, profile: LimitsProfile, table: dict) -> np.ndarray:
    code = np.full(level.shape, INVALID, dtype=np.int8)
    for letter in _LETTERS:
        window = profile.high_windows.get(letter)
        if window is not None:
            code = np.where((code == INVALID) & window.contains(level), table[letter], code).astype(np.int8)
    return code


def classify_pwm(v_high: np.ndarray, v_low: np.ndarray, profile: LimitsProfile) -> tuple[np.ndarray, np.ndarray]:
    """State codes and reason codes of PWM cycles from their plateau levels [V]."""
    v_high = np.asarray(v_high, dtype=float)
    v_low = np.asarray(v_low, dtype=float)
    code = _letters(v_high, profile, _PWM_CODE)
    reason = np.where(code == INVALID, Reason.NO_WINDOW, Reason.NONE).astype(np.int8)
    # NaN counts as bad; a PWM collapsed into the E window (CP shorted to PE) has no negative half by nature
    low_bad = ~(v_low <= std.PWM_LOW_MAX_V) & (code != CODE["E"])
    code = np.where(low_bad, INVALID, code).astype(np.int8)
    reason = np.where(low_bad, Reason.LOW_NOT_NEGATIVE, reason).astype(np.int8)
    return code, reason


def classify_dc(level: np.ndarray, profile: LimitsProfile) -> tuple[np.ndarray, np.ndarray]:
    """State codes and reason codes of steady DC levels [V]: x1, E or F."""
    level = np.asarray(level, dtype=float)
    code = _letters(level, profile, _DC_CODE)
    code = np.where((code == INVALID) & profile.f_window.contains(level), CODE["F"], code).astype(np.int8)
    reason = np.where(code == INVALID, Reason.NO_WINDOW, Reason.NONE).astype(np.int8)
    return code, reason


def diode_fault(v_high, v_low, profile: LimitsProfile) -> np.ndarray:
    """True where the negative half follows the positive one (PILOT-REFERENCE §2b)."""
    v_high = np.asarray(v_high, dtype=float)
    v_low = np.asarray(v_low, dtype=float)
    mirrored = np.abs(v_high + v_low) < profile.diode_fault_sum_v
    return mirrored & ~std.DIODE_OK_LOW_WINDOW.contains(v_low) & (v_high > std.DIODE_CHECK_MIN_HIGH_V)


def reason_text(reason: int, *, value: float, profile: LimitsProfile, options: dict) -> str:
    """One sentence saying why a stretch is ``invalid``; ``value`` is the reason's key figure."""
    windows = ", ".join(f"{k} {w.lo:g}…{w.hi:g} V" for k, w in profile.high_windows.items())
    windows += f", F {profile.f_window.lo:g}…{profile.f_window.hi:g} V"
    texts = {
        Reason.TOO_MANY_CROSSINGS: "the signal crosses its mid level far too often for a pilot "
                                   "(noise, or a much faster signal than the sample rate resolves)",
        Reason.FEW_SAMPLES: f"plateaus hold too few samples ({value:.0f} between the edges) to measure "
                            "their level; sample faster",
        Reason.SLOW_EDGES: f"edges take {value:.0%} of the period (more than "
                           f"{options['max_edge_fraction']:.0%}): not a pilot PWM (sine or triangle?)",
        Reason.NOT_FLAT: f"plateaus are not flat (levels change by {value:.2f} V within a plateau, "
                         f"more than {options['max_tilt_v']:g} V)",
        Reason.LOW_NOT_NEGATIVE: f"PWM low level {value:+.2f} V is not below {std.PWM_LOW_MAX_V:g} V: "
                                 "the negative half is missing",
        Reason.NO_WINDOW: f"level {value:+.2f} V lies in no state window of profile "
                          f"'{profile.name}' ({windows})",
        Reason.NOISY: f"no steady level: noise {value:.2f} V rms exceeds {options['max_noise_v']:g} V",
        Reason.DRIFT: f"level drifts by {value:.2f} V (more than {options['max_tilt_v']:g} V): not steady",
        Reason.ISOLATED_PULSE: "isolated pulse(s), not a running PWM",
        Reason.BRIEF: f"levels held only {value * 1e3:.3g} ms (less than {options['dc_min_s'] * 1e3:g} ms) "
                      "between changing levels: not steady",
        Reason.NO_CYCLE: "edges but not one complete PWM cycle: cannot tell a steady level from part of a "
                         "PWM period; capture at least two periods",
        Reason.TOO_SHORT: f"the capture holds one level for only {value * 1e3:.3g} ms, less than "
                          f"{options['steady_min_s'] * 1e3:g} ms (1.5 pilot periods): cannot tell a steady "
                          "level (x1) from part of a PWM period (x2); capture longer",
    }
    return texts.get(int(reason), "not a pilot waveform")
