"""Can the capture support a verdict? Checks of the input that no state window can make.

A clipped trace, a probe set to the wrong attenuation, an inverted or AC-coupled channel all
produce levels that look like *some* pilot state, so the state rules alone would answer with
confidence and be wrong. These checks look for the signature of each mistake and return an
:class:`InputIssue` with what to do; the measurement then reports ``invalid`` with that reason
(and :mod:`cpsim.diagnose` names no circuit fault), as a scope shows "?" on a measurement it
cannot make.

* **Clipping**: a pile-up at the capture's extreme value. Either the noise cloud of a plateau
  is cut off there (the most common value is the extreme one, with a spread of values on one
  side only), or a plateau is one exact value at the extreme while the other plateau shows
  noise. A level at a clipped extreme is not a measurement.
* **Probe factor ×10 / ×0.1, inversion**: the levels are not a healthy pilot, but scaled by 10
  or 0.1, mirrored (an inverted channel), or both, they are one. A resistive CP-PE short
  collapses both halves alike, to ±12·R/(1 kΩ + R); through about 105-117 Ω that is ±1.14 to
  ±1.26 V, which ×10 is a healthy A2 pilot, so the levels alone cannot tell a short from a ×10
  probe read as ×1: the issue then names both (with the short's resistance) and the verdict
  stays inconclusive. Shorts through other resistances, and a weak generator whose low level is
  off -12 V, stay unhealthy under these transforms.
* **AC coupling**: the instrument says so (``metadata["coupling"] == "AC"``), or a PWM whose
  mean over whole periods is about 0 V, whose low level lies well off the generator's -12 V
  (:data:`AC_LOW_OFF_V`) and whose swing is a pilot's, shifted. A mean of 0 V alone is no
  evidence: a DC-coupled pilot averages 0 V at one duty per state (about 57 % in B, 67 % in C),
  and one whose generator is a little off (a low level of -11 V, say) keeps its own finding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..standard import GENERATOR_V_HIGH_V, R1_OHM, LimitsProfile
from .states import diode_fault

__all__ = ["InputIssue", "ISSUE_CODES", "assess_input", "clipped_extremes", "level_uncertainty"]

ISSUE_CODES = {
    "clipped": "the trace is flat at the capture's extreme: the instrument's range clipped it",
    "probe_factor": "the levels are a pilot's scaled by 10 or 0.1: probe attenuation set wrong",
    "inverted": "the levels are a pilot's mirrored: the channel is inverted (or the probe reversed)",
    "ac_coupled": "the channel is AC-coupled: the pilot's DC levels are lost",
}
"""Every :class:`InputIssue` code, with its meaning."""

CLIP_MIN_POINTS = 10
"""Points at one extreme value before a pile-up can be a clip (cpsim choice: a stray repeat is not)."""
CLIP_PILE_FRACTION = 0.2
"""A clipped plateau holds at least this fraction of its points at the extreme (cpsim choice: honest noise
of one LSB or more puts a few % at its top code)."""
AC_MEAN_FRACTION = 0.05
"""An AC-coupled PWM averages to within this fraction of its swing of 0 V over whole periods (cpsim choice).
A DC-coupled pilot does too at one duty per state: 12/21 ≈ 57 % in B (9·0.57 - 12·0.43 ≈ 0), 67 % in C,
80 % in D, so this is evidence of AC coupling only with the low level off -12 V (:data:`AC_LOW_OFF_V`)."""
AC_LOW_OFF_V = 1.0
"""A PWM is read as AC-coupled from its levels only if its low level lies at least this far [V] outside the
generator's low window (-12 V ±0.6 V): coupling moves both levels by the pilot's true mean, which is several
volts at most duties (cpsim choice: a DC pilot with its low level at -11 V or -13 V, a generator a little
off, is reported as that, not as a coupling mistake; an AC-coupled pilot shifted by less than about 1.6 V
is read as DC-coupled)."""
SHORT_SYMMETRY = 0.1
"""A resistive CP-PE short holds both halves alike: ``|v_high + v_low|`` within this fraction of the swing
(cpsim choice: +0.87/-0.89 V through 80 Ω differ by 1.4 % of it, §8)."""


@dataclass(frozen=True)
class InputIssue:
    """Why the capture cannot support a verdict: a stable ``code`` (:data:`ISSUE_CODES`), a message
    that says what to do, and which level (``"high"``, ``"low"`` or ``None`` for both) it spoils."""

    code: str
    message: str
    level: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "level": self.level}


def clipped_extremes(x: np.ndarray) -> list[tuple[str, float]]:
    """``[("high" | "low", value)]`` for each extreme of the samples ``x`` [V] that looks clipped."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 2 * CLIP_MIN_POINTS:
        return []
    lo, hi = float(x.min()), float(x.max())
    span = hi - lo
    if not span > 0:
        return []
    width = max(0.5, 0.05 * span)
    found = []
    for side, ext, other in (("high", hi, lo), ("low", lo, hi)):
        at = x == ext
        n_at = int(np.count_nonzero(at))
        if n_at < CLIP_MIN_POINTS:
            continue
        near = (x >= ext - width) if side == "high" else (x <= ext + width)
        # a noise tail inside the plateau: values off the extreme with the extreme on both sides of them
        # (an edge settling onto the level approaches it from one side only); judged on the few points
        # near the extreme, not on every point
        off_mask = near & ~at
        tail = _bracketed_points(np.flatnonzero(at), off_mask)
        n_off = int(np.count_nonzero(off_mask))
        # the commonest value is the extreme, with a noise tail of several values on one side only
        values, counts = np.unique(x[tail], return_counts=True)
        cut_cloud = (n_at >= CLIP_PILE_FRACTION * (n_at + n_off) and values.size >= 3
                     and n_at > int(counts.max()))
        flat = tail.size == 0 and n_off <= 0.05 * n_at and _noisy_plateau(x, other, width, side)
        if cut_cloud or flat:
            found.append((side, ext))
    return found


def _bracketed(mask: np.ndarray, reach: int = 8) -> np.ndarray:
    """Points with a ``mask`` point among the ``reach`` points before them and among those after them
    (over every point: the reference :func:`_bracketed_points` is tested against)."""
    cs = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
    i = np.arange(mask.size)
    before = cs[i] - cs[np.maximum(i - reach, 0)]
    after = cs[np.minimum(i + 1 + reach, mask.size)] - cs[i + 1]
    return (before > 0) & (after > 0)


def _bracketed_points(marks: np.ndarray, mask: np.ndarray, reach: int = 8) -> np.ndarray:
    """Sorted indices of the ``mask`` points with a mark (sorted indices ``marks``) among the ``reach``
    points before them and among those after them: ``np.flatnonzero(mask & _bracketed(marked, reach))``.

    Only points up to ``reach`` after a mark can qualify, so a few marks are judged on their
    neighbourhoods and not on every point of ``mask``.
    """
    if marks.size * reach < mask.size // 8:
        near = np.unique((marks[:, None] + np.arange(1, reach + 1)).ravel())
        near = near[near < mask.size]
        points = near[mask[near]]
    else:
        points = np.flatnonzero(mask)
    return points[_bracketed_at(marks, points, reach)]


def _bracketed_at(marks: np.ndarray, points: np.ndarray, reach: int = 8) -> np.ndarray:
    """``_bracketed(mask, reach)[points]`` from the sorted indices ``marks`` of the ``mask`` points: for
    each of the sorted ``points``, a mark among the ``reach`` indices before it and among those after it."""
    if marks.size == 0 or points.size == 0:
        return np.zeros(points.size, dtype=bool)
    j = np.searchsorted(marks, points)  # marks[j - 1] < point <= marks[j]
    prev = marks[np.maximum(j - 1, 0)]
    nxt = marks[np.minimum(j, marks.size - 1)]
    # a point that is itself a mark has the mark at j; the next one after it is at j + 1
    nxt = np.where(nxt == points, marks[np.minimum(j + 1, marks.size - 1)], nxt)
    before = (j > 0) & (points - prev <= reach)
    after = (nxt > points) & (nxt - points <= reach)
    return before & after


def _noisy_plateau(x: np.ndarray, ext: float, width: float, clipped_side: str) -> bool:
    """The plateau at the other extreme shows noise: many of its points differ from its commonest value
    while lying inside it (with that value on both sides)."""
    near = (x <= ext + width) if clipped_side == "high" else (x >= ext - width)
    if np.count_nonzero(near) < CLIP_MIN_POINTS:
        return False
    values, counts = np.unique(x[near], return_counts=True)
    mode = x == values[np.argmax(counts)]
    off = np.flatnonzero(near & ~mode)
    inside = np.count_nonzero(_bracketed_at(np.flatnonzero(mode), off))
    return bool(values.size >= 3 and inside >= 0.2 * np.count_nonzero(near))


def _healthy(v_high: float, v_low: float, pwm: bool, profile: LimitsProfile) -> bool:
    """Levels a working pilot shows: a state window (and the generator's low level for a PWM)."""
    if not (math.isfinite(v_high) and math.isfinite(v_low)):
        return False
    windows = profile.high_windows
    if pwm:
        return (any(windows[s].contains(v_high) for s in "ABCD") and profile.low_window.contains(v_low)
                and not bool(diode_fault(v_high, v_low, profile)))
    return any(windows[s].contains(v_high) for s in "ABCD") or profile.f_window.contains(v_high)


_TRANSFORMS = (
    (10.0, "probe_factor", "values are 10x too small (a x10 probe read as x1?)"),
    (0.1, "probe_factor", "values are 10x too large (a x1 probe read as x10?)"),
    (-1.0, "inverted", "values are mirrored (the channel's invert setting, or the probe reversed)"),
    (-10.0, "inverted", "values are mirrored and 10x too small"),
    (-0.1, "inverted", "values are mirrored and 10x too large"),
)


def _transform(v_high: float, v_low: float, k: float) -> tuple[float, float]:
    return (k * v_high, k * v_low) if k > 0 else (k * v_low, k * v_high)


def _state_of(v_high: float, v_low: float, pwm: bool, profile: LimitsProfile) -> str:
    letter = next((s for s in "ABCD" if profile.high_windows[s].contains(v_high)), "F")
    return letter + ("2" if pwm else "1") if letter != "F" else "F"


def assess_input(x: np.ndarray, *, v_high: float, v_low: float, duty: float, pwm: bool, state_valid: bool,
                 profile: LimitsProfile, metadata: Mapping[str, Any] | None = None,
                 levels_are_plateaus: bool = True) -> tuple[InputIssue, ...]:
    """Input issues of a capture whose samples (or a subsample of them) are ``x`` [V].

    ``v_high``, ``v_low``, ``duty`` and ``pwm`` describe the summarised stretch; ``state_valid``
    says whether the state rules accepted it; ``levels_are_plateaus`` whether its levels are
    settled plateaus at all (not a sine's or a noise record's), the premise of the scale,
    mirror and AC-coupling checks.
    """
    issues: list[InputIssue] = []
    md = metadata or {}
    for side, value in clipped_extremes(x):
        used = v_high if side == "high" else v_low
        if math.isfinite(used) and abs(used - value) > max(0.5, 0.05 * abs(value)):
            continue  # an extreme the summarised stretch does not use (a brief spike clipped)
        issues.append(InputIssue("clipped", f"the trace is flat at {value:+.2f} V, its {side}est value: the "
                                            f"instrument's vertical range clipped the {side} level; widen the "
                                            "range (V/div or offset) and capture again", side))
    if str(md.get("coupling", "")).upper() == "AC":
        issues.append(InputIssue("ac_coupled", "the channel was AC-coupled (instrument setting): the pilot's DC "
                                               "levels are lost; set DC coupling and capture again"))
    if issues or not levels_are_plateaus or not (math.isfinite(v_high) and math.isfinite(v_low)):
        return tuple(issues)
    if _healthy(v_high, v_low, pwm, profile) or (state_valid and not pwm):
        return ()
    for k, code, what in _TRANSFORMS:
        hi, lo = _transform(v_high, v_low, k)
        if _healthy(hi, lo, pwm, profile):
            hint = ("set the probe attenuation in the instrument to the probe's (x1/x10)" if code == "probe_factor"
                    else "turn the channel's invert setting off (or check the probe's polarity)")
            also = ""
            if code == "inverted" and state_valid:
                also = f"; if it is not inverted, the pilot's low level {v_low:+.2f} V is off -12 V"
            short = _short_ohm(v_high, v_low, pwm) if k == 10.0 else None
            if short is not None:   # a short through ~105-117 Ω reads the same: name both
                what = (f"values are 10x too small (a x10 probe read as x1?) or CP is shorted to PE through "
                        f"≈ {short:.0f} Ω (both halves held alike)")
                also = f"; if the probe is set right, look for the CP-PE short (≈ {short:.0f} Ω)"
            issues.append(InputIssue(code, f"{what}: read that way the levels are {hi:+.2f}/{lo:+.2f} V, a healthy "
                                           f"{_state_of(hi, lo, pwm, profile)} pilot; {hint}{also}"))
            return tuple(issues)
    ac = _ac_coupled_issue(v_high, v_low, duty, pwm, profile)
    return tuple(issues) + ((ac,) if ac else ())


def _short_ohm(v_high: float, v_low: float, pwm: bool) -> float | None:
    """The resistance [Ω] of a CP-PE short that would give these levels (the ±12 V generator through its 1 kΩ
    into R: V = 12·R/(1000 + R), so R = 1000·V/(12 - V)), or ``None`` if they are not a short's (a short holds
    a PWM's halves alike, at ±V)."""
    v = (v_high - v_low) / 2.0 if pwm else v_high
    if pwm and abs(v_high + v_low) > SHORT_SYMMETRY * (v_high - v_low):
        return None
    if not 0.0 < v < GENERATOR_V_HIGH_V:
        return None
    return R1_OHM * v / (GENERATOR_V_HIGH_V - v)


def _ac_coupled_issue(v_high: float, v_low: float, duty: float, pwm: bool,
                      profile: LimitsProfile) -> InputIssue | None:
    """An AC-coupled channel read from the levels: a PWM averaging about 0 V whose low level is well off -12 V
    (:data:`AC_LOW_OFF_V`) and whose levels, moved so the low one is -12 V, are a healthy pilot."""
    if not (pwm and math.isfinite(duty)):
        return None
    swing = v_high - v_low
    mean = duty * v_high + (1.0 - duty) * v_low
    low = profile.low_window
    off = max(low.lo - v_low, v_low - low.hi)   # how far outside the generator's low window
    if not (swing > 0 and abs(mean) <= AC_MEAN_FRACTION * swing and off >= AC_LOW_OFF_V):
        return None
    shifted = (v_high - v_low - 12.0, -12.0)
    if not _healthy(*shifted, pwm, profile):
        return None
    return InputIssue(
        "ac_coupled", f"the PWM averages {mean:+.2f} V over whole periods, its low level {v_low:+.2f} V is "
                      f"{abs(v_low + 12.0):.2f} V from the generator's -12 V, and its levels, moved so the low one is "
                      f"-12 V, are a healthy {_state_of(*shifted, pwm, profile)} pilot: the channel looks "
                      "AC-coupled; set DC coupling and capture again (if it was DC-coupled, the pilot's low level "
                      f"{v_low:+.2f} V is off -12 V: a generator fault)")

def level_uncertainty(values: np.ndarray, quantum: float) -> float:
    """95 % half-width [V] of the median of per-cycle (or per-block) ``values``, plus half a code step.

    The median of ``n`` values scattered with ``sigma`` has a standard error of about
    ``1.2533 sigma / sqrt(n)``; a quantised capture cannot place a level closer than half a code.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan")
    spread = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
    return 1.96 * 1.2533 * spread / math.sqrt(v.size) + 0.5 * max(0.0, quantum)
