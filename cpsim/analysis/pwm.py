"""Plateaus between edges and per-cycle PWM measurements.

The stretch between two consecutive edges is a *plateau*. A short one is half a PWM period;
one longer than ``dc_min_s`` (or one touching an end of the capture) is a steady stretch.
Each plateau gets a settled *interior* where its level is measured: the part from
``fractions[0]`` to ``fractions[1]`` of its length (default 35-90 %, and never the first
10 µs after an edge, EV-BU). A steady stretch gets two interiors one nominal period long, one
just after the edge that starts it and one just before the edge that ends it, so every edge
is referred to the levels right next to it.

A *cycle* runs from one rising edge to the next (from falling to falling when the capture
holds no complete rising-anchored cycle, e.g. two periods starting on a rising edge). It is
measured edge to edge and only then summarised, like sigrok's PWM decoder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._util import safe_div
from .edges import EdgeTiming, Transitions, _compiled, _in_place, timing_and_peaks
from .levels import InteriorStats, interior_stats
from .states import INVALID, Reason, classify_pwm, diode_fault, state_names

__all__ = ["Plateaus", "plateau_layout", "CycleTable", "CycleIndex", "edge_measurements", "measure_cycles"]

PLATEAU_FRACTIONS = (0.35, 0.9)
"""Settled part of a plateau, as fractions of its length (cpsim choice: skips edge, overshoot and
ringing; still 27 µs of a 5 % pulse at 1 kHz)."""


@dataclass(frozen=True)
class Plateaus:
    """The plateaus around ``E`` edges (``E + 1`` of them) and their settled interiors.

    Attributes
    ----------
    first, last : ndarray of int64
        First and last sample of each plateau (inclusive), between the edges' band crossings.
    steady : ndarray of bool
        Longer than ``dc_min_s``, or a capture end: not half a PWM period.
    single : ndarray of bool
        A short plateau between two edges (half a PWM period), measured by one interior.
    level_start, level_end : ndarray
        Settled level [V] right after the edge that starts the plateau / right before the
        edge that ends it (the same value for a short plateau; NaN where there is no such edge).
    interior_start, interior_end : ndarray of int64
        Which interior (row of ``stats``) gives ``level_start`` / ``level_end`` (-1: none).
    starts, ends : ndarray of int64
        The interiors ``[start, end)`` in sample indices, ascending.
    stats : InteriorStats
        Full-resolution statistics of every interior.
    duration_s : ndarray
        Plateau length between band crossings [s].
    """

    first: np.ndarray
    last: np.ndarray
    steady: np.ndarray
    single: np.ndarray
    level_start: np.ndarray
    level_end: np.ndarray
    interior_start: np.ndarray
    interior_end: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    stats: InteriorStats
    duration_s: np.ndarray
    # (t, t[entry_index], t[exit_index]) as read by plateau_layout, so edge_measurements given the same
    # ``t`` does not read the scattered edge times again
    _edge_times: tuple | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.first.size)


def plateau_layout(t: np.ndarray, v: np.ndarray, transitions: Transitions, *, dc_min_s: float,
                   nominal_period_s: float, settle_s: float,
                   fractions: tuple[float, float] = PLATEAU_FRACTIONS) -> Plateaus:
    """Cut the capture into plateaus at the transitions and measure their interiors."""
    n = v.size
    dt = (t[-1] - t[0]) / (n - 1)
    first = np.concatenate(([0], transitions.entry_index)).astype(np.int64)
    last = np.concatenate((transitions.exit_index, [n - 1])).astype(np.int64)
    p = first.size
    # the edges' times, read once (the reads are scattered over the capture)
    t_entry, t_exit = _edge_times(t, transitions)
    duration = np.concatenate((t_exit, t[-1:])) - np.concatenate((t[:1], t_entry))
    head = np.zeros(p, dtype=bool)
    head[0] = True
    tail = np.zeros(p, dtype=bool)
    tail[-1] = True
    # a long plateau inside a regular train of edges is half a slow PWM period (a wrong timer
    # prescaler), not a steady stretch; with no edge at all the capture is one steady plateau
    periodic = _in_periodic_train(t_entry, transitions)
    steady = ((duration > dc_min_s) & ~periodic) | (head & tail)
    single = ~steady & ~head & ~tail
    need_start = ~head & ~single
    need_end = ~tail & ~single
    nominal = max(3, int(round(nominal_period_s / dt)))
    settle = int(np.ceil(settle_s / dt))
    a, b = fractions
    geometry = (first, last, single, need_start, need_end, settle, nominal, float(a), float(b))
    fast = _compiled()
    if fast is None:
        starts, ends, interior_start, interior_end = _interiors(*geometry)
    else:
        n_rows = int(np.count_nonzero(need_start | single)) + int(np.count_nonzero(need_end))
        starts, ends = np.empty(n_rows, dtype=np.int64), np.empty(n_rows, dtype=np.int64)
        interior_start, interior_end = np.empty(p, dtype=np.int64), np.empty(p, dtype=np.int64)
        fast.plateau_interiors(*geometry, starts, ends, interior_start, interior_end)
    stats = interior_stats(v, starts, ends, min_count=1)  # a coarse plateau may hold one settled sample
    mean = np.append(stats.mean, np.nan)  # index -1 -> NaN
    level_start = mean[interior_start]
    level_end = mean[interior_end]
    return Plateaus(first, last, steady, single, level_start, level_end, interior_start, interior_end,
                    starts, ends, stats, duration, (t, t_entry, t_exit))


def _edge_times(t: np.ndarray, transitions: Transitions) -> tuple[np.ndarray, np.ndarray]:
    """``(t[entry_index], t[exit_index])``; compiled, one visit per edge for both."""
    fast = _compiled()
    e = len(transitions)
    if fast is None or not _in_place(t) or e == 0:
        return t[transitions.entry_index], t[transitions.exit_index]
    t_entry, t_exit = np.empty(e), np.empty(e)
    fast.edge_times(t, np.ascontiguousarray(transitions.entry_index, dtype=np.int64),
                    np.ascontiguousarray(transitions.exit_index, dtype=np.int64), t_entry, t_exit)
    return t_entry, t_exit


def _interiors(first, last, single, need_start, need_end, settle: int, nominal: int, a: float, b: float):
    """``(starts, ends, interior_start, interior_end)`` of the plateaus (numpy reference route of the
    compiled ``plateau_interiors``): see :class:`Plateaus`."""
    p = first.size
    length = last - first + 1
    lm = np.minimum(np.where(need_start & need_end, length // 2, length), nominal)

    # one interior per short plateau, up to two (after its start, before its end) per long one
    ls = np.where(single, length, lm)
    s_start = first + np.maximum(np.ceil(a * ls).astype(np.int64), settle)
    e_start = first + np.floor(b * ls).astype(np.int64)
    # a plateau of a few samples (slow sampling: 20 kS/s gives 5 samples in a 25 % high phase) keeps
    # every sample but the two next to its edges, or all of them when fewer than 3 remain; the
    # cycles' median then outvotes a sample that caught an edge
    coarse = single & (e_start - s_start < 3)
    trim = (length >= 3).astype(np.int64)
    s_start = np.where(coarse, first + trim, s_start)
    e_start = np.where(coarse, last + 1 - trim, e_start)
    base = last + 1 - lm
    s_end = base + np.ceil(a * lm).astype(np.int64)
    e_end = base + np.floor(b * lm).astype(np.int64)
    has_start = need_start | single
    # interiors in time order: each plateau's start interior (if any), then its end interior (if any)
    per = has_start.astype(np.int64) + need_end
    row0 = np.cumsum(per) - per
    row_s, row_e = row0[has_start], (row0 + has_start)[need_end]
    n_rows = int(per.sum())
    lo_b, hi_b, starts, ends = (np.empty(n_rows, dtype=np.int64) for _ in range(4))
    for out, at_start, at_end in ((lo_b, first, first), (hi_b, last + 1, last + 1), (starts, s_start, s_end),
                                  (ends, e_start, e_end)):
        out[row_s] = at_start[has_start]
        out[row_e] = at_end[need_end]
    # clamped inside their plateau, so interiors stay ascending even for a pulse shorter than the settle time
    np.clip(starts, lo_b, hi_b, out=starts)
    np.clip(ends, starts, hi_b, out=ends)
    interior_start = np.full(p, -1, dtype=np.int64)
    interior_end = np.full(p, -1, dtype=np.int64)
    interior_start[has_start] = row_s
    interior_end[need_end] = row_e
    interior_end[single] = interior_start[single]
    return starts, ends, interior_start, interior_end


MIN_PLATEAU_SAMPLES = 2
"""A plateau caught by fewer samples than this has no level to measure: its one sample may sit on an
edge (cpsim choice: a 5 % pulse at 20 kS/s is one sample; at 50 kS/s, two or three)."""
MAX_PWM_PERIOD_S = 0.1
"""Longest period [s] recognised as a PWM from a regular train of edges (cpsim choice: 10 Hz, a
timer prescaler off by 100; slower regular switching is a sequence of steady states)."""
PERIOD_AGREEMENT = 0.05
"""Consecutive periods that agree within this fraction form a regular train (cpsim choice: far
wider than oscillator tolerance, far narrower than a change of state)."""


def _in_periodic_train(t_entry: np.ndarray, transitions: Transitions) -> np.ndarray:
    """Per plateau (``len(transitions) + 1``): both its edges lie in a regular train of PWM periods
    (``t_entry``: the time [s] of each edge's band entry).

    A period runs from one rising edge to the next; it is regular when it is at most
    :data:`MAX_PWM_PERIOD_S` and agrees with the period before or after it within
    :data:`PERIOD_AGREEMENT`. An edge belongs to the periods it starts, ends or lies inside.
    """
    e = len(transitions)
    out = np.zeros(e + 1, dtype=bool)
    rise_i = np.flatnonzero(transitions.rising)
    if rise_i.size < 3:
        return out
    r = t_entry[rise_i]
    period = np.diff(r)
    agree = np.abs(np.diff(period)) <= PERIOD_AGREEMENT * period[:-1]
    regular = (period <= MAX_PWM_PERIOD_S) & (np.append(agree, False) | np.insert(agree, 0, False))
    # the period each edge lies in (a rising edge starts period k and ends period k - 1): the rising
    # edges up to and including it, less one; padded, so k = -1 and k = len(period) read False
    c = np.cumsum(transitions.rising, dtype=np.int64)  # k + 1
    padded = np.concatenate(([False], regular, [False]))
    member = padded[c]  # in a regular period
    member |= transitions.rising & padded[c - 1]  # ends one (c - 1 >= 0 at a rising edge)
    out[1:e] = member[:-1] & member[1:]  # plateau j lies between edge j - 1 and edge j
    return out


@dataclass(frozen=True)
class CycleTable:
    """Per-cycle measurements, one row per complete PWM cycle (arrays of equal length).

    Attributes
    ----------
    t_start : ndarray
        Mesial (50 %) instant of the edge that starts the cycle [s].
    period_s, duty : ndarray
        Edge-to-edge period [s] and high time / period (fraction).
    v_high, v_low : ndarray
        Settled plateau levels [V] (mean of the plateau's settled interior).
    rise_time_s, fall_time_s : ndarray
        10-90 % of this cycle's own swing [s] (NaN where an edge could not be timed).
    overshoot, undershoot : ndarray
        Peak beyond the new level after the rising / falling edge, as a fraction of the swing.
    tilt_v : ndarray
        Flatness of the two plateaus: the larger change between interior thirds [V].
    state : ndarray of str
        Per-cycle state (``invalid`` where the cycle is not a pilot cycle).
    reason : ndarray of int8
        :class:`~cpsim.analysis.states.Reason` code (0 for a valid cycle).
    diode_fault : ndarray of bool
    rise_start_s, fall_start_s : ndarray
        Where each edge leaves its old level [s]: the rising edge's 10 % instant and the falling
        edge's 90 % instant (IEEE 181, as timed by :func:`~cpsim.analysis.edges.edge_timing`); the
        edge ends ``rise_time_s`` / ``fall_time_s`` later.
    """

    t_start: np.ndarray
    period_s: np.ndarray
    duty: np.ndarray
    v_high: np.ndarray
    v_low: np.ndarray
    rise_time_s: np.ndarray
    fall_time_s: np.ndarray
    overshoot: np.ndarray
    undershoot: np.ndarray
    tilt_v: np.ndarray
    state: np.ndarray
    reason: np.ndarray
    diode_fault: np.ndarray
    rise_start_s: np.ndarray
    fall_start_s: np.ndarray

    def __len__(self) -> int:
        return int(self.t_start.size)

    @property
    def frequency_hz(self) -> np.ndarray:
        return 1.0 / self.period_s

    def to_frame(self):
        """The cycles as a ``pandas.DataFrame``, one row per cycle (SI units, ``duty`` a fraction)."""
        import pandas as pd

        cols = {name: getattr(self, name) for name in self.__dataclass_fields__}
        cols["frequency_hz"] = self.frequency_hz
        return pd.DataFrame(cols)

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()

    @classmethod
    def empty(cls) -> CycleTable:
        f = np.zeros(0)
        return cls(f, f, f, f, f, f, f, f, f, f, np.zeros(0, dtype=object), np.zeros(0, dtype=np.int8),
                   np.zeros(0, dtype=bool), f, f)


@dataclass(frozen=True)
class CycleIndex:
    """Where each cycle sits: anchor edge, its high/low plateaus, its rising/falling edges."""

    anchor: np.ndarray
    high_plateau: np.ndarray
    low_plateau: np.ndarray
    rise_edge: np.ndarray
    fall_edge: np.ndarray
    codes: np.ndarray
    reason_value: np.ndarray


def edge_measurements(t: np.ndarray, v: np.ndarray, transitions: Transitions, plateaus: Plateaus, *,
                      max_edge_fraction: float, nominal_period_s: float, settle_s: float):
    """Time every sharp edge and find its peak.

    Returns ``(EdgeTiming, t_mid, sharp, band_s, peak)``: ``t_mid`` falls back to the middle of
    the band crossing where an edge could not be timed; ``sharp`` edges cross the band within
    ``max_edge_fraction`` of the plateaus around them; ``band_s`` is that crossing time [s];
    ``peak`` the extreme after the edge [V] (overshoot).
    """
    e = len(transitions)
    known = plateaus._edge_times
    if known is not None and known[0] is t and known[1].size == e:
        t_entry, t_exit = known[1], known[2]
    else:
        t_exit, t_entry = t[transitions.exit_index], t[transitions.entry_index]
    band_s = t_entry - t_exit
    d = plateaus.duration_s
    ref = np.minimum(d[:-1], nominal_period_s) + np.minimum(d[1:], nominal_period_s)
    # judged in samples too: a crossing seen over k sample intervals took more than (k - 2) of them
    # (one sample may sit anywhere inside the band), so coarse sampling alone never makes an edge slow
    dt = (t[-1] - t[0]) / (t.size - 1)
    sharp = band_s - 2 * dt <= max_edge_fraction * ref
    before, after = _edge_references(plateaus)
    limit = np.append(transitions.exit_index[1:], v.size - 1)
    settle = int(np.ceil(settle_s / dt))
    ex, en, rising = transitions.exit_index, transitions.entry_index, transitions.rising
    if sharp.all():  # the usual case: every edge is timed, no selection to copy
        timing, peak = timing_and_peaks(t, v, ex, en, before, after, rising, limit, settle)
    else:
        sel = np.flatnonzero(sharp)
        timing_sel, peak_sel = timing_and_peaks(t, v, ex[sel], en[sel], before[sel], after[sel], rising[sel],
                                                limit[sel], settle)
        full = [np.full(e, np.nan) for _ in range(3)]
        for f, part in zip(full, (timing_sel.t_first, timing_sel.t_mid, timing_sel.t_last)):
            f[sel] = part
        timing = EdgeTiming(*full)
        peak = np.full(e, np.nan)
        peak[sel] = peak_sel
    coarse = 0.5 * (t_exit + t_entry)
    t_mid = np.where(np.isfinite(timing.t_mid), timing.t_mid, coarse)
    return timing, t_mid, sharp, band_s, peak


def _edge_references(plateaus: Plateaus) -> tuple[np.ndarray, np.ndarray]:
    """Settled levels before and after each edge [V].

    The plateaus at the two ends of the capture are cut short by the capture: one that starts
    mid-edge holds a piece of the ramp, not a level. Unless it is a steady stretch, the edge
    next to it is referred to the nearest full plateau of the same polarity (two plateaus
    away) instead.
    """
    before, after = plateaus.level_end[:-1].copy(), plateaus.level_start[1:].copy()
    p = len(plateaus)
    if p >= 4 and not plateaus.steady[0] and plateaus.single[2]:
        before[0] = plateaus.level_start[2]
    if p >= 4 and not plateaus.steady[-1] and plateaus.single[-3]:
        after[-1] = plateaus.level_end[-3]
    return before, after


def _cycle_columns(anchor, from_rising: bool, plateaus: Plateaus, timing: EdgeTiming, t_mid, sharp, band_s, peak):
    """The per-cycle columns of :func:`measure_cycles` (numpy reference route of the compiled
    ``cycle_columns``): times, levels, edges, flatness, and the key figures of the sanity checks."""
    a1, a2 = anchor + 1, anchor + 2
    if from_rising:
        hi_p, lo_p, r_e, f_e = a1, a2, anchor, a1
    else:
        hi_p, lo_p, r_e, f_e = a2, a1, a1, anchor
    t0 = t_mid[anchor]
    t2 = t_mid[a2]
    period = t2 - t0
    high_time = t_mid[a1] - t0 if from_rising else t2 - t_mid[a1]  # falling minus rising edge
    duty = high_time / np.where(period > 0, period, np.nan)
    st = plateaus.stats
    hi_row = plateaus.interior_start[hi_p]
    lo_row = plateaus.interior_start[lo_p]
    v_high = st.mean[hi_row]
    v_low = st.mean[lo_row]
    swing = v_high - v_low
    rise_start, fall_start = timing.t_first[r_e], timing.t_first[f_e]
    rise_time = timing.t_last[r_e] - rise_start  # = timing.transition_s[r_e]
    fall_time = timing.t_last[f_e] - fall_start
    overshoot = safe_div(peak[r_e] - v_high, swing)
    undershoot = safe_div(v_low - peak[f_e], swing)
    tilt = np.fmax(st.tilt[hi_row], st.tilt[lo_row])
    held = plateaus.last - plateaus.first + 1  # samples between the band crossings
    slow = ~(sharp[r_e] & sharp[f_e])
    slow_value = np.fmax(band_s[r_e], band_s[f_e]) / period
    fewest = np.minimum(held[hi_p], held[lo_p])
    return (t0, period, duty, v_high, v_low, rise_time, fall_time, overshoot, undershoot, tilt, rise_start,
            fall_start, slow_value, fewest, slow)


def _cycle_columns_compiled(anchor, from_rising: bool, plateaus: Plateaus, timing: EdgeTiming, t_mid, sharp,
                            band_s, peak):
    """:func:`_cycle_columns` in one compiled loop over the cycles."""
    k = anchor.size
    outs = tuple(np.empty(k) for _ in range(13)) + (np.empty(k, dtype=np.int64), np.empty(k, dtype=bool))
    ins = tuple(np.ascontiguousarray(a) for a in (t_mid, plateaus.interior_start, plateaus.stats.mean,
                                                  plateaus.stats.tilt, timing.t_first, timing.t_last, peak, band_s,
                                                  sharp, plateaus.first, plateaus.last))
    _compiled().cycle_columns(np.ascontiguousarray(anchor, dtype=np.int64), bool(from_rising), ins, outs)
    return outs


def measure_cycles(transitions: Transitions, plateaus: Plateaus, timing: EdgeTiming, t_mid: np.ndarray,
                   sharp: np.ndarray, band_s: np.ndarray, peak: np.ndarray, profile, *, max_tilt_v: float,
                   min_plateau_s: float = 0.0) -> tuple[CycleTable, CycleIndex]:
    """Complete cycles from the edges, measured and classified.

    An edge next to an end plateau shorter than ``min_plateau_s`` bounds no cycle: a capture
    that starts or ends within a few samples of a step (or a few stale samples before the
    signal) shows a piece of a plateau, not where the pilot's edge was.
    """
    e = len(transitions)
    rising = transitions.rising
    single = plateaus.single
    usable = np.ones(e, dtype=bool)
    if e and plateaus.duration_s[0] < min_plateau_s:
        usable[0] = False
    if e and plateaus.duration_s[-1] < min_plateau_s:
        usable[-1] = False

    def anchors(want_rising: bool) -> np.ndarray:
        if e < 3:
            return np.zeros(0, dtype=np.int64)
        j = np.arange(e - 2)
        ok = (rising[:-2] == want_rising) & single[1:e - 1] & single[2:e] & usable[:-2] & usable[2:]
        return j[ok]

    anchor = anchors(True)
    from_rising = True
    if anchor.size == 0:
        anchor = anchors(False)
        from_rising = False
    a1, a2 = anchor + 1, anchor + 2
    if from_rising:
        hi_p, lo_p, r_e, f_e = a1, a2, anchor, a1
    else:
        hi_p, lo_p, r_e, f_e = a2, a1, a1, anchor
    fast = _compiled()
    columns = _cycle_columns_compiled if fast is not None else _cycle_columns
    (t0, period, duty, v_high, v_low, rise_time, fall_time, overshoot, undershoot, tilt, rise_start, fall_start,
     slow_value, fewest, slow) = columns(anchor, from_rising, plateaus, timing, t_mid, sharp, band_s, peak)

    codes, reason = classify_pwm(v_high, v_low, profile)
    value = np.where(reason == Reason.LOW_NOT_NEGATIVE, v_low, v_high)
    checks = (  # later rules override earlier ones: the most basic reason wins
        (tilt > max_tilt_v, Reason.NOT_FLAT, tilt),
        (slow, Reason.SLOW_EDGES, slow_value),
        (fewest < MIN_PLATEAU_SAMPLES, Reason.FEW_SAMPLES, fewest),
    )
    codes, reason = codes.astype(np.int8), reason.astype(np.int8)
    for bad, why, val in checks:
        if bad.any():
            codes = np.where(bad, INVALID, codes).astype(np.int8)
            reason = np.where(bad, why, reason).astype(np.int8)
            value = np.where(bad, val.astype(float), value)
    diode = diode_fault(v_high, v_low, profile) & (codes != INVALID)
    table = CycleTable(t0, period, duty, v_high, v_low, rise_time, fall_time, overshoot, undershoot, tilt,
                       state_names(codes), reason, diode, rise_start, fall_start)
    index = CycleIndex(anchor, hi_p, lo_p, r_e, f_e, codes, value)
    return table, index
