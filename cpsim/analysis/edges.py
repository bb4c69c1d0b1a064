"""Edges: a two-threshold (Schmitt) transition finder and per-edge 10/50/90 % timing.

:func:`find_transitions` makes two comparisons over the full array (``v > hi``, ``v < lo``)
and keeps only the indices where either flips, so its cost is two boolean passes whatever
the signal. A transition counts only once the waveform has crossed the whole band, which
makes it immune to noise and ringing narrower than the band.

:func:`edge_timing` then looks at a small window of samples around each transition and
interpolates the instants where the edge crosses 10, 50 and 90 % of *its own* swing
(the two plateaus next to it), as IEEE 181 defines rise/fall time and the mesial instant.
Time is read only at the samples bracketing those crossings.

Both run as numpy (the reference route) or, when it is built, through the compiled loops of
:mod:`cpsim.analysis._fastedges` (``_fastedges.c``), which give the same numbers bit for bit in
one pass over the samples and O(1) work per edge; :data:`FAST_PATH` switches them off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Transitions", "find_transitions", "EdgeTiming", "edge_timing", "edge_peaks", "timing_and_peaks"]

MAX_CROSSING_FRACTION = 0.25
"""More band crossings than this fraction of the samples means there is no pilot to find (noise or a
waveform far too fast for its sample rate); the finder gives up (cpsim choice)."""
_WINDOW_CHUNK = 4_000_000
"""Window elements handled at a time by :func:`edge_timing` (bounds memory; cpsim choice)."""

FAST_PATH = True
"""Use the compiled loops (:mod:`cpsim.analysis._fastedges`) when they are built; tests and the
benchmark switch them off to compare with the numpy reference route."""

try:  # built by `pip install` from _fastedges.c; optional (setup.py), numpy covers everything
    from . import _fastedges  # type: ignore[attr-defined]  # the compiled extension has no stub
except ImportError:  # pragma: no cover - installs without a C compiler
    _fastedges = None


def _compiled():
    """The compiled loops when they are built and switched on, else None."""
    return _fastedges if FAST_PATH else None


def _in_place(*arrays: np.ndarray) -> bool:
    """All 1-D C-contiguous float64: the compiled loops read them where they are. A strided or other
    capture takes the numpy route instead of being copied behind the caller's back (same numbers)."""
    return all(a.dtype == np.float64 and a.ndim == 1 and a.flags.c_contiguous for a in arrays)


def _f64(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


def _i64(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.int64)


def sorted_search(a: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.searchsorted(a, q)`` of a sorted ``a`` (as numpy requires); one merge instead of a binary
    search per query when ``q`` is sorted too, both are int64 and the compiled loops are built."""
    fast = _compiled()
    if fast is not None and a.dtype == np.int64 and q.dtype == np.int64 and a.ndim == q.ndim == 1:
        out = np.empty(q.size, dtype=np.int64)
        if fast.search_sorted(np.ascontiguousarray(a), np.ascontiguousarray(q), out):
            return out
    return np.searchsorted(a, q)


def value_span(v: np.ndarray, index: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """``v.max() - v.min()`` [V] (NaN when ``v`` holds a NaN) and ``v[index]`` (``v`` itself for
    ``None``), in one pass over ``v`` when compiled."""
    fast = _compiled()
    if fast is None or not _in_place(v) or v.size == 0:
        return float(v.max()) - float(v.min()), (v if index is None else v[index])
    if index is None:
        lo, hi, nan = fast.span(v)
        sample = v
    else:
        index = _i64(index)
        sample = np.empty(index.size)
        lo, hi, nan = fast.span(v, index, sample)
    return (float("nan") if nan else hi - lo), sample


@dataclass(frozen=True)
class Transitions:
    """Completed transitions across a threshold band, in time order (rising and falling alternate).

    Attributes
    ----------
    rising : ndarray of bool
        True for low -> high.
    exit_index : ndarray of int64
        Last sample still in the band the edge leaves.
    entry_index : ndarray of int64
        First sample in the band the edge reaches.
    n_crossings : int
        Threshold crossings seen (noise included); ``too_many`` when above the limit.
    """

    rising: np.ndarray
    exit_index: np.ndarray
    entry_index: np.ndarray
    n_crossings: int = 0
    too_many: bool = False

    def __len__(self) -> int:
        return int(self.rising.size)

    @classmethod
    def empty(cls, n_crossings: int = 0, too_many: bool = False) -> Transitions:
        z = np.zeros(0, dtype=np.int64)
        return cls(np.zeros(0, dtype=bool), z, z, n_crossings, too_many)


def _crossings(flag: np.ndarray, limit: int):
    change = np.not_equal(flag[1:], flag[:-1])
    n = int(np.count_nonzero(change))
    if n > limit:
        return None, n
    i = np.flatnonzero(change)
    into = flag[i + 1]
    return (i[into] + 1, i[~into]), n  # (first sample inside, last sample inside)


def find_transitions(v: np.ndarray, *, threshold_v: float, hysteresis_v: float,
                     max_crossing_fraction: float = MAX_CROSSING_FRACTION) -> Transitions:
    """Transitions of ``v`` across ``threshold_v ± hysteresis_v``.

    A rising edge leaves ``v < threshold - hysteresis`` and reaches ``v > threshold + hysteresis``;
    a falling edge the reverse. A capture that starts inside the band gets its first state
    from the first band it reaches, which is not reported as an edge.
    """
    lo_v, hi_v = threshold_v - hysteresis_v, threshold_v + hysteresis_v
    limit = max(1000, int(max_crossing_fraction * v.size))
    fast = _compiled()
    if fast is not None and _in_place(v) and v.size:
        return _transitions_compiled(fast, v, float(lo_v), float(hi_v), limit)
    hi, n_hi = _crossings(v > hi_v, limit)
    if hi is None:
        return Transitions.empty(n_hi, True)
    lo, n_lo = _crossings(v < lo_v, limit)
    if lo is None:
        return Transitions.empty(n_hi + n_lo, True)
    (hi_entry, hi_exit), (lo_entry, lo_exit) = hi, lo
    events = np.concatenate((hi_entry, lo_entry))
    state = np.concatenate((np.ones(hi_entry.size, np.int8), -np.ones(lo_entry.size, np.int8)))
    order = np.argsort(events, kind="stable")  # two sorted runs: a linear merge
    events, state = events[order], state[order]
    s0 = 1 if v[0] > hi_v else (-1 if v[0] < lo_v else 0)
    previous = np.concatenate(([s0], state[:-1])).astype(np.int8)
    keep = np.flatnonzero(state != previous)
    if s0 == 0 and keep.size:
        keep = keep[1:]  # entering the first band from the middle is not an edge
    entry = events[keep]
    rising = state[keep] > 0
    exit_ = np.empty_like(entry)
    exit_[rising] = lo_exit[np.searchsorted(lo_exit, entry[rising]) - 1]
    exit_[~rising] = hi_exit[np.searchsorted(hi_exit, entry[~rising]) - 1]
    return Transitions(rising, exit_, entry, n_hi + n_lo, False)


def _transitions_compiled(fast, v: np.ndarray, lo_v: float, hi_v: float, limit: int) -> Transitions:
    """:func:`find_transitions` in one compiled pass (same edges, counts and limits as the numpy route)."""
    # each kept edge enters a band, and each band entry is one of its flag's changes: <= limit + 1 edges
    # while neither count exceeds the limit (the pages past the edges found are never touched)
    capacity = limit + 2
    entry, exit_ = np.empty(capacity, dtype=np.int64), np.empty(capacity, dtype=np.int64)
    rising = np.empty(capacity, dtype=bool)
    n_hi, n_lo, kept = fast.transitions(v, lo_v, hi_v, entry, exit_, rising, capacity)
    if n_hi > limit:
        return Transitions.empty(n_hi, True)
    if n_lo > limit:
        return Transitions.empty(n_hi + n_lo, True)
    if kept > capacity:  # pragma: no cover - excluded by the bound above
        raise AssertionError("transition capacity exceeded")
    return Transitions(rising[:kept].copy(), exit_[:kept].copy(), entry[:kept].copy(), n_hi + n_lo, False)


@dataclass(frozen=True)
class EdgeTiming:
    """Reference-level instants of each edge [s] (NaN where an edge could not be timed).

    ``t_first`` is where the edge leaves its old level (10 % of the swing for a rising edge,
    90 % for a falling one), ``t_mid`` the 50 % (mesial) instant and ``t_last`` where it
    reaches the new level. ``transition_s = t_last - t_first`` is the 10-90 % rise time or
    the 90-10 % fall time.
    """

    t_first: np.ndarray
    t_mid: np.ndarray
    t_last: np.ndarray

    @property
    def transition_s(self) -> np.ndarray:
        return self.t_last - self.t_first


def edge_timing(t: np.ndarray, v: np.ndarray, exit_index: np.ndarray, entry_index: np.ndarray,
                level_before: np.ndarray, level_after: np.ndarray) -> EdgeTiming:
    """Interpolated 10/50/90 % instants of each edge between its two plateau levels.

    Parameters
    ----------
    t, v : ndarray
        Time [s] and samples [V].
    exit_index, entry_index : ndarray
        The edges' band crossings (see :class:`Transitions`).
    level_before, level_after : ndarray
        Settled levels [V] of the plateaus before and after each edge.

    Notes
    -----
    For each edge a window of ``1.5 * max(entry - exit) + 3`` samples on either side of its band
    crossing is examined (vectorised, in chunks). The 90 % instant is the first crossing of
    the 90 % level after the edge left its band, the 10 % instant the last crossing of the
    10 % level before that, and the 50 % instant the last crossing of 50 % between them:
    the IEEE 181 rules, which ignore ringing after the edge.
    """
    k = exit_index.size
    nan = np.full(k, np.nan)
    out = [nan.copy(), nan.copy(), nan.copy()]
    if k == 0:
        return EdgeTiming(*out)
    # a short monotonic edge (most edges at coarse sample rates) is timed in O(span); the rest below
    quick = _short_monotonic(t, v, exit_index, entry_index, level_before, level_after, out)
    rest = np.flatnonzero(~quick)
    if rest.size == 0:
        return EdgeTiming(*out)
    if rest.size < k:
        slow = edge_timing(t, v, exit_index[rest], entry_index[rest], level_before[rest], level_after[rest])
        for o, r in zip(out, (slow.t_first, slow.t_mid, slow.t_last)):
            o[rest] = r
        return EdgeTiming(*out)
    span = int(np.max(entry_index - exit_index))
    # the band covers >= 1/3 of every swing, so 10 % and 90 % lie within ~1.3 spans beyond it (RC tails
    # included: 75 -> 90 % of an exponential takes 0.83 of its 25 -> 75 %)
    pad = span + span // 2 + 3
    width = span + 2 * pad
    cols = np.arange(width)
    step = max(1, _WINDOW_CHUNK // width)
    for c0 in range(0, k, step):  # a few chunks, each vectorised over many edges
        sl = slice(c0, min(k, c0 + step))
        res = _timing_chunk(t, v, exit_index[sl], level_before[sl], level_after[sl], pad, width, cols)
        for o, r in zip(out, res):
            o[sl] = r
    return EdgeTiming(*out)


def timing_and_peaks(t: np.ndarray, v: np.ndarray, exit_index: np.ndarray, entry_index: np.ndarray,
                     level_before: np.ndarray, level_after: np.ndarray, rising: np.ndarray, limit_index: np.ndarray,
                     settle_samples: int) -> tuple[EdgeTiming, np.ndarray]:
    """``(edge_timing(...), edge_peaks(...))`` of the same edges: the same numbers, and when compiled one
    visit per edge for both (the samples around an edge are read from memory once)."""
    fast = _compiled()
    k = exit_index.size
    if not (fast is not None and k and _in_place(t, v) and t.size == v.size
            and int(np.min(exit_index)) >= 0 and int(np.max(entry_index)) <= v.size - 1):
        return (edge_timing(t, v, exit_index, entry_index, level_before, level_after),
                edge_peaks(v, exit_index, entry_index, rising, limit_index, settle_samples))
    exit_index, entry_index = _i64(exit_index), _i64(entry_index)
    width = int(np.max(entry_index - exit_index)) + max(1, int(settle_samples)) + 1
    out = [np.full(k, np.nan) for _ in range(3)]
    quick = np.zeros(k, dtype=bool)
    peak = np.empty(k)
    fast.edge_pass(t, v, exit_index, entry_index, _f64(level_before),
                   _f64(level_after), *out, quick, 4, np.ascontiguousarray(rising, dtype=bool), _i64(limit_index),
                   int(settle_samples), width, peak)
    rest = np.flatnonzero(~quick)
    if rest.size:  # as edge_timing: the edges the shortcut does not time take the general rules
        slow = edge_timing(t, v, exit_index[rest], entry_index[rest], level_before[rest], level_after[rest])
        for o, r in zip(out, (slow.t_first, slow.t_mid, slow.t_last)):
            o[rest] = r
    return EdgeTiming(*out), peak


def _short_monotonic(t, v, exit_index, entry_index, level_before, level_after, out, max_span: int = 4) -> np.ndarray:
    """Fill ``out`` for the edges crossed in at most ``max_span`` monotonic sample steps from beyond 10 % to
    beyond 90 % of their swing (the usual edge at coarse sample rates); return their mask.

    On a monotonic run every level is crossed once, so the IEEE 181 rules of :func:`_timing_chunk`
    reduce to counting the run's samples below each level: the same instants, in O(span) per edge.
    """
    fast = _compiled()
    k = exit_index.size
    if (fast is not None and k and _in_place(t, v) and t.size == v.size
            and int(np.min(exit_index)) >= 0 and int(np.max(entry_index)) <= v.size - 1):
        # the compiled loop writes the quick edges' instants straight into ``out`` (others untouched)
        direct = all(o.dtype == np.float64 and o.flags.c_contiguous and o.flags.writeable for o in out)
        dest = out if direct else [np.full(k, np.nan) for _ in range(3)]
        quick = np.zeros(k, dtype=bool)
        fast.short_monotonic(t, v, _i64(exit_index), _i64(entry_index),
                             _f64(level_before), _f64(level_after), *dest, quick, int(max_span))
        if not direct:
            for o, r in zip(out, dest):
                o[quick] = r[quick]
        return quick
    return _short_monotonic_numpy(t, v, exit_index, entry_index, level_before, level_after, out, max_span)


def _short_monotonic_numpy(t, v, exit_index, entry_index, level_before, level_after, out,
                           max_span: int = 4) -> np.ndarray:
    """The numpy reference route of :func:`_short_monotonic`."""
    span = entry_index - exit_index
    cand = np.flatnonzero((span >= 1) & (span <= max_span))
    quick = np.zeros(exit_index.size, dtype=bool)
    if cand.size == 0:
        return quick
    sign = np.where(level_after[cand] >= level_before[cand], 1.0, -1.0)
    l0, l1 = level_before[cand] * sign, level_after[cand] * sign
    swing = l1 - l0
    cols = np.arange(max_span + 1)
    idx = np.minimum(exit_index[cand][:, None] + cols, v.size - 1)
    x = v[idx] * sign[:, None]
    inside = cols[None, :] <= span[cand][:, None]
    with np.errstate(invalid="ignore"):
        mono = np.all((np.diff(x, axis=1) >= 0) | ~inside[:, 1:], axis=1)
        x = np.where(inside, x, np.inf)      # past the entry sample: above every level
        last = x[np.arange(cand.size), span[cand]]
        ok = mono & (swing > 0) & (x[:, 0] <= l0 + 0.1 * swing) & (last >= l0 + 0.9 * swing)
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return quick
    xr, lo, sw, e0 = x[rows], l0[rows], swing[rows], exit_index[cand[rows]]
    for o, f, at_or_above in zip(out, (0.1, 0.5, 0.9), (False, False, True)):
        level = lo + f * sw
        below = np.sum(xr < level[:, None], axis=1) if at_or_above else np.sum(xr <= level[:, None], axis=1)
        j = e0 + below - 1                    # the step [j, j + 1] that crosses the level
        a, b = v[j] * sign[rows], v[j + 1] * sign[rows]
        frac = np.clip((level - a) / (b - a), 0.0, 1.0)
        o[cand[rows]] = t[j] + frac * (t[j + 1] - t[j])
    quick[cand[rows]] = True
    return quick


def _timing_chunk(t, v, exit_index, level_before, level_after, pad, width, cols):
    n = v.size
    start = np.clip(exit_index - pad, 0, max(0, n - width))
    sign = np.where(level_after >= level_before, 1.0, -1.0)
    x = v[np.minimum(start[:, None] + cols, n - 1)]
    x *= sign[:, None]  # every edge made rising
    l0, l1 = level_before * sign, level_after * sign
    swing = l1 - l0
    good = np.isfinite(swing) & (swing > 0)
    p10, p50, p90 = (l0 + f * swing for f in (0.1, 0.5, 0.9))
    col_exit = (exit_index - start)[:, None]
    flat = x.ravel()
    row0 = np.arange(x.shape[0]) * width

    m = (x >= p90[:, None]) & (cols >= col_exit)
    good &= m.any(axis=1)
    k90 = np.argmax(m, axis=1)
    m = (x <= p10[:, None]) & (cols < k90[:, None])
    good &= m.any(axis=1)
    k10 = width - 1 - np.argmax(m[:, ::-1], axis=1)
    m = (x <= p50[:, None]) & (cols >= k10[:, None]) & (cols < k90[:, None])
    k50 = width - 1 - np.argmax(m[:, ::-1], axis=1)
    del m

    def instant(k_left, level):
        k_left = np.clip(k_left, 0, width - 2)
        x0, x1 = flat[row0 + k_left], flat[row0 + k_left + 1]
        ok = good & (x1 > x0)
        frac = np.zeros_like(x0)
        np.divide(level - x0, x1 - x0, out=frac, where=ok)
        i0 = np.minimum(start + k_left, n - 2)
        t0 = t[i0]
        return np.where(ok, t0 + np.clip(frac, 0.0, 1.0) * (t[i0 + 1] - t0), np.nan)

    return instant(k10, p10), instant(k50, p50), instant(k90 - 1, p90)


def edge_peaks(v: np.ndarray, exit_index: np.ndarray, entry_index: np.ndarray, rising: np.ndarray,
               limit_index: np.ndarray, settle_samples: int) -> np.ndarray:
    """Extreme of each edge and the ringing after it [V]: the maximum after a rising edge, the
    minimum after a falling one, from the edge's band exit to ``settle_samples`` past its band
    entry (and never beyond ``limit_index``, where the next edge starts).

    Overshoot dies out within the settle time (EV-BU never samples the first 10 µs of a plateau),
    so a short window per edge replaces two reductions over the whole capture.
    """
    k = exit_index.size
    out = np.full(k, np.nan)
    if k == 0:
        return out
    n = v.size
    width = int(np.max(entry_index - exit_index)) + max(1, int(settle_samples)) + 1
    fast = _compiled()
    if (fast is not None and _in_place(v) and int(np.min(exit_index)) >= 0
            and int(np.max(exit_index)) <= n - 1):
        fast.edge_peaks(v, _i64(exit_index), _i64(entry_index),
                        np.ascontiguousarray(rising, dtype=bool), _i64(limit_index), int(settle_samples), width, out)
        return out
    cols = np.arange(width)
    step = max(1, _WINDOW_CHUNK // width)
    for c0 in range(0, k, step):  # a few chunks, each vectorised over many edges
        sl = slice(c0, min(k, c0 + step))
        start = exit_index[sl]
        stop = np.minimum(np.minimum(entry_index[sl] + settle_samples, limit_index[sl]), n - 1)
        x = v[np.minimum(start[:, None] + cols, n - 1)]
        inside = cols <= (stop - start)[:, None]
        up = rising[sl]
        peak_hi = np.where(inside, x, -np.inf).max(axis=1)
        peak_lo = np.where(inside, x, np.inf).min(axis=1)
        out[sl] = np.where(up, peak_hi, peak_lo)
    return out
