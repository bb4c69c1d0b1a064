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
  or 0.1, mirrored (an inverted channel), or both, they are one. A real fault stays unhealthy
  under these transforms: a resistive CP-PE short collapses both halves symmetrically, a weak
  generator leaves the low level off -12 V whichever way it is scaled.
* **AC coupling**: the instrument says so (``metadata["coupling"] == "AC"``), or a PWM whose
  mean over whole periods is about 0 V and whose swing is a pilot's, shifted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..standard import LimitsProfile
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
"""An AC-coupled PWM averages to within this fraction of its swing of 0 V over whole periods (cpsim choice:
a DC-coupled pilot's mean is at least 3.8 V from 0, e.g. B2 at 57 % duty: 8.9·0.57 - 12·0.43 ≈ 0)."""


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
            issues.append(InputIssue(code, f"{what}: read that way the levels are {hi:+.2f}/{lo:+.2f} V, a healthy "
                                           f"{_state_of(hi, lo, pwm, profile)} pilot; {hint}{also}"))
            return tuple(issues)
    if pwm and math.isfinite(duty):
        swing = v_high - v_low
        mean = duty * v_high + (1.0 - duty) * v_low
        if swing > 0 and abs(mean) <= AC_MEAN_FRACTION * swing:
            shifted = (v_high - v_low - 12.0, -12.0)
            if _healthy(*shifted, pwm, profile):
                issues.append(InputIssue(
                    "ac_coupled", f"the PWM averages {mean:+.2f} V over whole periods and its levels, moved so the "
                                  f"low one is -12 V, are a healthy {_state_of(*shifted, pwm, profile)} pilot: the "
                                  "channel looks AC-coupled; set DC coupling and capture again"))
    return tuple(issues)


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
