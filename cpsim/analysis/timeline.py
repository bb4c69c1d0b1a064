"""The timeline of a long capture: classify small units, then merge runs (all vectorised).

Units tile the capture in time:

* a **cycle**: one complete PWM period, classified from its plateau levels;
* a **DC block**: a few dozen subsample points of a steady stretch (:mod:`cpsim.analysis.steady`),
  classified from their mean, ``invalid`` when their spread exceeds ``max_noise_v``; a block
  whose spread comes from one clean level step (plug-in, unplug) is split at the step, so
  steps are located to one subsample interval;
* a **partial** plateau: a PWM half period at an end of a PWM burst, which inherits the
  state of the cycle next to it; one with no cycle next to it (a lone pulse, or a short
  capture with a single step) is ``invalid``: it cannot tell a steady level from part of a period.

Runs of equal units (same state, same diode verdict, duty within ``duty_tol`` of the previous
cycle) form stretches. A steady run is not steady when its level drifts by more than
``max_tilt_v`` between its thirds (a slow sine passing through a window; hum averages out),
when its noise pooled over its blocks exceeds ``max_noise_v``, or when it lasts less than
``dc_min_s`` between other steady blocks (the turning points of a triangle). A run shorter than
``min_segment_s`` (one odd cycle while the vehicle switches) is absorbed by the run before it
(by the one after it at the start), and equal neighbours are merged again: the
result is the list of :class:`Segment`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .. import standard as std
from ._util import group_median, group_sum_count, next_true, previous_true, run_starts, safe_div
from .states import INVALID, REASON_CODES, Reason, is_x2, reason_text, state_names

__all__ = ["Segment", "Segments", "Units", "Timeline", "cycle_units", "partial_units", "build_timeline"]

CYCLE, DC, PARTIAL = 0, 1, 2
INHERIT = -1


@dataclass(frozen=True)
class Segment:
    """One stable stretch of the capture.

    Attributes
    ----------
    state : str
        One of :data:`cpsim.standard.STATES`.
    t_start, t_end : float
        Start and end [s], on the capture's own time axis.
    duty : float
        Mean duty of its cycles (fraction), NaN for a steady stretch.
    current_a : float
        Current the duty offers [A] (A2-D2 only; NaN otherwise and in the digital band).
    digital_comm : bool
        Duty in the 3-7 % band: high-level communication requested.
    frequency_hz : float
        PWM frequency [Hz], NaN for a steady stretch.
    v_high, v_low : float
        Median plateau levels [V]; both equal the level of a steady stretch.
    diode_fault : bool
    n_cycles : int
        Complete cycles measured in the stretch.
    reason : str or None
        Why the stretch is ``invalid``.
    reason_code : str or None
        The reason's stable name (:data:`cpsim.analysis.states.REASON_CODES`).
    """

    state: str
    t_start: float
    t_end: float
    duty: float
    current_a: float
    digital_comm: bool
    frequency_hz: float
    v_high: float
    v_low: float
    diode_fault: bool
    n_cycles: int
    reason: str | None = None
    reason_code: str | None = None

    @property
    def duration_s(self) -> float:
        return self.t_end - self.t_start

    def to_dict(self) -> dict:
        """JSON-ready: SI floats, ``None`` for unknown values."""
        return {k: _json_value(x) for k, x in asdict(self).items()}


def _json_value(x):
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if np.isfinite(x) else None
    return x


class Segments(tuple):
    """The timeline: a tuple of :class:`Segment`, with :meth:`to_frame` for notebooks."""

    def to_frame(self):
        """The segments as a ``pandas.DataFrame``, one row per segment (SI units)."""
        import pandas as pd

        return pd.DataFrame([asdict(s) for s in self], columns=list(Segment.__dataclass_fields__))

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()


@dataclass(frozen=True)
class Units:
    """Classified pieces of the capture (arrays of equal length)."""

    kind: np.ndarray
    t_start: np.ndarray
    t_end: np.ndarray
    code: np.ndarray
    reason: np.ndarray
    reason_value: np.ndarray
    duty: np.ndarray
    diode: np.ndarray
    cycle: np.ndarray
    level_sum: np.ndarray
    level_sq: np.ndarray
    level_n: np.ndarray
    fallback: np.ndarray
    fallback_reason: np.ndarray

    def __len__(self) -> int:
        return int(self.kind.size)

    @classmethod
    def make(cls, kind, t_start, t_end, code, reason=None, reason_value=None, duty=None, diode=None,
             cycle=None, level_sum=None, level_sq=None, level_n=None, fallback=None,
             fallback_reason=None) -> Units:
        n = np.asarray(t_start).size

        def arr(x, fill, dtype):
            return np.full(n, fill, dtype=dtype) if x is None else np.asarray(x, dtype=dtype).reshape(n)

        return cls(arr(kind, 0, np.int8), arr(t_start, 0, float), arr(t_end, 0, float), arr(code, 0, np.int8),
                   arr(reason, 0, np.int8), arr(reason_value, np.nan, float), arr(duty, np.nan, float),
                   arr(diode, False, bool), arr(cycle, -1, np.int64), arr(level_sum, 0, float),
                   arr(level_sq, 0, float), arr(level_n, 0, float), arr(fallback, INVALID, np.int8),
                   arr(fallback_reason, Reason.ISOLATED_PULSE, np.int8))

    @classmethod
    def concat(cls, parts: list[Units]) -> Units:
        fields = cls.__dataclass_fields__
        joined = {f: np.concatenate([getattr(p, f) for p in parts]) for f in fields}
        order = np.argsort(joined["t_start"], kind="stable")
        return cls(**{f: a[order] for f, a in joined.items()})

    def replace(self, **arrays) -> Units:
        d = {f: getattr(self, f) for f in self.__dataclass_fields__}
        d.update(arrays)
        return Units(**d)


def cycle_units(cycles, index, t_mid: np.ndarray) -> Units:
    """One unit per complete cycle."""
    k = len(cycles)
    return Units.make(np.full(k, CYCLE), t_mid[index.anchor], t_mid[index.anchor + 2], index.codes,
                      cycles.reason, index.reason_value, cycles.duty, cycles.diode_fault, np.arange(k))


def plateau_times(t: np.ndarray, t_mid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end [s] of every plateau: the edges' mesial instants and the capture ends."""
    return np.concatenate(([t[0]], t_mid)), np.concatenate((t_mid, [t[-1]]))


def partial_units(plateaus, covered: np.ndarray, t_start: np.ndarray, t_end: np.ndarray) -> Units:
    """Short plateaus that belong to no complete cycle; their state is inherited later (or, with no
    cycle next to them, taken from their own level as a steady one)."""
    p = np.flatnonzero(~plateaus.steady & ~covered)
    level = np.where(np.isfinite(plateaus.level_start[p]), plateaus.level_start[p], plateaus.level_end[p])
    ok = np.isfinite(level)
    # with no cycle next to it, a short plateau is a lone pulse or part of a period: no state at all
    fallback_reason = np.where(ok, Reason.NO_CYCLE, Reason.ISOLATED_PULSE)
    return Units.make(np.full(p.size, PARTIAL), t_start[p], t_end[p], np.full(p.size, INHERIT),
                      reason_value=level, level_sum=np.where(ok, level, 0.0),
                      level_sq=np.where(ok, level * level, 0.0), level_n=ok.astype(float),
                      fallback=np.full(p.size, INVALID), fallback_reason=fallback_reason)


@dataclass(frozen=True)
class Timeline:
    """Segments plus the bookkeeping the summary needs."""

    segments: tuple[Segment, ...]
    units: Units
    segment_of_unit: np.ndarray
    member: np.ndarray
    codes: np.ndarray
    v_high_std: np.ndarray
    n_cycles: np.ndarray


def _inherit(units: Units) -> Units:
    kind = units.kind
    n = kind.size
    is_cycle, is_dc, partial = kind == CYCLE, kind == DC, kind == PARTIAL
    if not partial.any():
        return units
    prev_c, prev_d = previous_true(is_cycle), previous_true(is_dc)
    next_c, next_d = next_true(is_cycle), next_true(is_dc)
    use_prev = partial & (prev_c >= 0) & (prev_c > prev_d)
    use_next = partial & ~use_prev & (next_c < n) & (next_c < next_d)
    src = np.where(use_prev, prev_c, np.where(use_next, next_c, -1))
    has = src >= 0
    s = np.where(has, src, 0)
    orphan = partial & ~has  # no cycle next to it: a steady level of its own
    code = np.where(partial, np.where(has, units.code[s], units.fallback), units.code).astype(np.int8)
    reason = np.where(partial, np.where(has, units.reason[s], units.fallback_reason), units.reason)
    return units.replace(kind=np.where(orphan, DC, kind).astype(np.int8), code=code, reason=reason.astype(np.int8),
                         duty=np.where(partial & has, units.duty[s], units.duty),
                         diode=np.where(partial & has, units.diode[s], units.diode))


def _runs(code, diode, duty, tol) -> np.ndarray:
    """Run id of each element: a new run where state or diode changes or the duty steps."""
    n = code.size
    brk = np.zeros(n, dtype=bool)
    if n:
        brk[0] = True
        brk[1:] = (code[1:] != code[:-1]) | (diode[1:] != diode[:-1]) | (np.abs(np.diff(duty)) > tol)
    return np.cumsum(brk) - 1


def _mean_by(values, groups, n):
    s, c = group_sum_count(values, groups, n)
    return safe_div(s, c)


WHOLE_PERIOD_TOL = 0.1
"""A cycle whose period is off the segment's median by more than this fraction is not a whole period
(cpsim choice: 5x the 2 % frequency tolerance, EV-BU; a period cut short by a stopping PWM is off by
far more)."""
HELD_FRACTION = 0.8
"""A steady run whose levels spread over more than ``max_tilt_v`` still counts as held when at least
this fraction of its blocks lie within ``max_tilt_v / 2`` of its median (cpsim choice): a level held
for a while and then left (an EVSE powering off) keeps its held part, a level that wanders all the
time (a slow sine, a slow decay through a window) is not steady."""


def _unsteady(units: Units, *, max_tilt_v: float, duty_tol: float, dc_min_s: float,
              max_noise_v: float = np.inf) -> Units:
    """Mark steady runs that are not steady: block levels wandering more than ``max_tilt_v`` (a slow
    sine passing through a window), or a level held for less than ``dc_min_s`` between other
    steady-stretch blocks (the turning points of a triangle)."""
    run = _runs(units.code, units.diode, units.duty, duty_tol)
    dc = (units.kind == DC) & (units.code != INVALID)
    if not dc.any():
        return units
    n_runs = int(run[-1]) + 1
    level = safe_div(units.level_sum, units.level_n)
    use = dc & np.isfinite(level)
    # A held level (possibly ending in a slow change, e.g. an EVSE powering off) keeps most of
    # its blocks near the run's median: only the blocks that left it are unsteady. A level that
    # wanders (a slow sine through a window) spreads its blocks: the whole run is unsteady.
    median = _median_by(level[use], run[use], n_runs)
    offset = np.where(use, np.abs(level - median[run]), 0.0)
    near = np.bincount(run[use], weights=(offset[use] <= max_tilt_v / 2), minlength=n_runs)
    held = near >= HELD_FRACTION * np.bincount(run[use], minlength=n_runs)
    drift = _thirds_drift(level, run, use, n_runs)
    starts = run_starts(run)
    ends = np.append(starts[1:], run.size)
    duration = units.t_end[ends - 1] - units.t_start[starts]
    all_dc = np.bincount(run, weights=(units.kind == DC), minlength=n_runs) == np.diff(np.append(starts, run.size))
    inner = np.zeros(n_runs, dtype=bool)
    inner[1:-1] = all_dc[:-2] & all_dc[2:]
    brief = inner & (duration < dc_min_s)
    bad_drift = dc & (drift[run] > max_tilt_v) & (~held[run] | (offset > max_tilt_v))
    bad_brief = dc & brief[run] & ~bad_drift
    # noise of the run pooled over its blocks (within each block: hum or a drift between blocks is not noise)
    within = np.where(use, units.level_sq - units.level_sum * safe_div(units.level_sum, units.level_n), 0.0)
    pooled = np.sqrt(np.maximum(safe_div(np.bincount(run, weights=within, minlength=n_runs),
                                         np.bincount(run, weights=np.where(use, units.level_n, 0.0),
                                                     minlength=n_runs)), 0.0))
    bad_noise = dc & (pooled[run] > max_noise_v) & ~bad_drift & ~bad_brief
    if not (bad_drift.any() or bad_brief.any() or bad_noise.any()):
        return units
    bad = bad_drift | bad_brief | bad_noise
    value = np.where(bad_drift, drift[run], np.where(bad_brief, duration[run],
                                                     np.where(bad_noise, pooled[run], units.reason_value)))
    reason = np.where(bad_drift, Reason.DRIFT, np.where(bad_brief, Reason.BRIEF,
                                                        np.where(bad_noise, Reason.NOISY, units.reason)))
    return units.replace(code=np.where(bad, INVALID, units.code).astype(np.int8), reason=reason.astype(np.int8),
                        reason_value=value)


def _thirds_drift(level: np.ndarray, run: np.ndarray, use: np.ndarray, n_runs: int) -> np.ndarray:
    """How far each run's level moves [V]: the largest difference between the mean levels of its
    first, middle and last thirds (of its blocks, in time order).

    Ripple (mains hum, noise) averages out within a third; a drift or a slow sine moves the thirds
    apart. A run of fewer than three blocks compares the blocks themselves.
    """
    r, x = run[use], level[use]
    count = np.bincount(r, minlength=n_runs)
    if r.size == 0:
        return np.zeros(n_runs)
    first = np.concatenate(([0], np.cumsum(count)[:-1]))
    rank = np.arange(r.size) - first[r]
    third = np.minimum(3 * rank // np.maximum(count[r], 1), 2)
    s, c = group_sum_count(x, r * 3 + third, 3 * n_runs)
    means = safe_div(s, c).reshape(n_runs, 3)
    hi, lo = np.nanmax(np.where(c.reshape(n_runs, 3) > 0, means, -np.inf), axis=1), \
        np.nanmin(np.where(c.reshape(n_runs, 3) > 0, means, np.inf), axis=1)
    return np.where(np.isfinite(hi) & np.isfinite(lo), hi - lo, 0.0)


def _median_by(values: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Median of ``values`` in each of ``n`` groups (NaN for an empty group), vectorised."""
    out = np.full(n, np.nan)
    if values.size == 0:
        return out
    order = np.lexsort((values, groups))
    g, v = groups[order], values[order]
    count = np.bincount(g, minlength=n)
    first = np.concatenate(([0], np.cumsum(count)[:-1]))
    has = count > 0
    lo_i = first[has] + (count[has] - 1) // 2
    hi_i = first[has] + count[has] // 2
    out[has] = 0.5 * (v[lo_i] + v[hi_i])
    return out


def _segment_ids(units: Units, *, duty_tol: float, min_segment_s: float):
    """Segment id of each unit after absorbing short runs into their neighbours, with the
    segments' state codes and diode verdicts (those of the run that absorbed the others)."""
    run = _runs(units.code, units.diode, units.duty, duty_tol)
    n_runs = int(run[-1]) + 1
    starts = run_starts(run)
    ends = np.append(starts[1:], run.size)
    code, diode = units.code[starts], units.diode[starts]
    duty = _mean_by(units.duty, run, n_runs)
    duration = units.t_end[ends - 1] - units.t_start[starts]
    long = duration >= min_segment_s
    if long.any() and not long.all():
        prev_long, next_long = previous_true(long), next_true(long)
        host = np.where(long, np.arange(n_runs), np.where(prev_long >= 0, prev_long, next_long))
        code, diode, duty = code[host], diode[host], duty[host]
    merged = _runs(code, diode, duty, duty_tol)
    first = run_starts(merged)
    return merged[run], code[first], diode[first]


def build_timeline(units: Units, cycles, profile, *, duty_tol: float, min_segment_s: float,
                   max_tilt_v: float, dc_min_s: float, options: dict) -> Timeline:
    """Merge classified units into segments and summarise each one."""
    units = _unsteady(_inherit(units), max_tilt_v=max_tilt_v, duty_tol=duty_tol, dc_min_s=dc_min_s,
                      max_noise_v=options.get("max_noise_v", np.inf))
    seg, seg_code, seg_diode = _segment_ids(units, duty_tol=duty_tol, min_segment_s=min_segment_s)
    n_seg = int(seg[-1]) + 1
    starts = run_starts(seg)
    ends = np.append(starts[1:], seg.size)
    member = (units.code == seg_code[seg]) & (units.diode == seg_diode[seg])

    # cycles: duty (median, then the mean of those within tolerance), levels, frequency
    cyc = member & (units.kind == CYCLE)
    ci, cg = units.cycle[cyc], seg[cyc]
    duty_med = group_median(cycles.duty[ci], cg, n_seg)
    near = np.abs(cycles.duty[ci] - duty_med[cg]) <= duty_tol
    duty = _mean_by(np.where(near, cycles.duty[ci], np.nan), cg, n_seg)
    v_high = group_median(cycles.v_high[ci], cg, n_seg)
    v_low = group_median(cycles.v_low[ci], cg, n_seg)
    n_cycles = np.bincount(cg, minlength=n_seg)
    # frequency from whole periods only: a period cut short where the PWM stops (a short to PE, an
    # unplug) is not one; the mean of the whole ones is the first-to-last-edge span over their count
    period_med = group_median(cycles.period_s[ci], cg, n_seg)
    whole = np.abs(cycles.period_s[ci] - period_med[cg]) <= WHOLE_PERIOD_TOL * period_med[cg]
    period = np.where(n_cycles > 0, _mean_by(np.where(whole, cycles.period_s[ci], np.nan), cg, n_seg), np.nan)

    # steady stretches: pooled mean and spread of their subsample points
    dcm = member & (units.kind == DC)
    s = np.bincount(seg[dcm], weights=units.level_sum[dcm], minlength=n_seg)
    sq = np.bincount(seg[dcm], weights=units.level_sq[dcm], minlength=n_seg)
    cnt = np.bincount(seg[dcm], weights=units.level_n[dcm], minlength=n_seg)
    level = safe_div(s, cnt)
    level_std = np.sqrt(np.maximum(safe_div(sq, cnt) - level * level, 0.0))
    pwm = n_cycles > 0
    v_high = np.where(pwm, v_high, level)
    v_low = np.where(pwm, v_low, level)
    v_high_std = np.where(pwm, np.nan, level_std)

    offers = is_x2(seg_code)
    current, digital = std.current_from_duty(np.where(offers, duty, np.nan))
    digital = digital & offers

    # why invalid: the commonest reason among the segment's units, with its median key figure
    n_reasons = 16
    inv = (units.code == INVALID) & (units.reason > 0)
    votes = np.bincount(seg[inv] * n_reasons + units.reason[inv], minlength=n_seg * n_reasons)
    top_reason = np.argmax(votes.reshape(n_seg, n_reasons), axis=1)
    pick = inv & (units.reason == top_reason[seg])
    top_value = group_median(units.reason_value[pick], seg[pick], n_seg)

    names = state_names(seg_code)
    segments = []
    for i in range(n_seg):  # one object per segment (a handful in a real capture)
        reason = code = None
        if seg_code[i] == INVALID:
            reason = reason_text(int(top_reason[i]), value=float(top_value[i]), profile=profile, options=options)
            code = REASON_CODES.get(int(top_reason[i]), "not_a_pilot")
        segments.append(Segment(
            state=str(names[i]), t_start=float(units.t_start[starts[i]]), t_end=float(units.t_end[ends[i] - 1]),
            duty=float(duty[i]), current_a=float(current[i]), digital_comm=bool(digital[i]),
            frequency_hz=float(safe_div(1.0, period[i])), v_high=float(v_high[i]), v_low=float(v_low[i]),
            diode_fault=bool(seg_diode[i]), n_cycles=int(n_cycles[i]), reason=reason, reason_code=code,
        ))
    return Timeline(Segments(segments), units, seg, member, seg_code, v_high_std, n_cycles)
