"""State levels: where the waveform dwells (histogram of a subsample) and plateau statistics.

Two jobs, both in the spirit of IEEE 181's state levels:

* :func:`estimate_levels` finds the levels the waveform dwells at from the histogram of an
  evenly spread subsample (at most ~1 M points, so it costs the same for 10 k or 1 G samples),
  and from them a mid threshold with a hysteresis band for the edge finder. It does not
  report the plateau values themselves; those come from the plateaus.
* :func:`interior_stats` measures given plateau interiors on the full-resolution samples
  in one pass: mean and the means of the three thirds (flatness).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ._util import choose, safe_div
from .edges import _compiled, _in_place

__all__ = ["LevelEstimate", "estimate_levels", "code_step", "subsample_index", "InteriorStats", "interior_stats"]

ThresholdMethod = Literal["widest_gap", "otsu"]

MAX_LEVEL_POINTS = 1_000_000
"""Subsample size for the level histogram (cpsim choice: ~10 ms of work, levels to a few mV)."""
_HYSTERESIS_OF_GAP = 0.25
"""Half-width of the hysteresis band as a fraction of the gap it sits in (cpsim choice: the band spans
25-75 % of the swing, far outside noise and ringing, well inside every plateau)."""
_PEAK_MIN_OF_MAX = 1e-3
"""A histogram peak counts as a level when at least this fraction of the highest one (cpsim choice: a
5 % pulse is 5e-2, the edges of a 13 µs fall at 1 kHz about 4e-4)."""
LEVEL_RESOLUTION_V = 0.1
"""Smoothing (Gaussian sigma) of the level histogram [V]: levels closer than ~3x this merge into one
(cpsim choice: adjacent CP levels are >= 2.4 V apart, PILOT-REFERENCE §8, and noise tails must not
form levels of their own)."""
_GOLDEN = 0.6180339887498949
MAX_STRAYS = 32
"""At most this many samples at each end of the value range (and never more than 0.5 % of the points)
are stray when they lie far beyond the rest: a few stale samples at the start of a capture, a glitch
(cpsim choice: 4 stale samples must not move the levels, a 5 % pulse holds 5 % of the points)."""


@dataclass(frozen=True)
class LevelEstimate:
    """Levels the waveform dwells at, and the threshold band an edge finder should use.

    Attributes
    ----------
    levels_v : ndarray
        Significant histogram peaks [V], ascending.
    threshold_v : float
        Middle of the chosen gap between two levels [V]; NaN when fewer than two levels.
    hysteresis_v : float
        Half-width of the band around ``threshold_v`` [V]; a transition must cross the whole band.
    sample_index : ndarray
        Sorted indices of the subsample used (``None`` means every sample).
    sample_v : ndarray
        The subsample values [V].
    """

    levels_v: np.ndarray
    threshold_v: float
    hysteresis_v: float
    sample_index: np.ndarray | None
    sample_v: np.ndarray

    @property
    def two_level(self) -> bool:
        """True when there are two separated levels to switch between."""
        return bool(np.isfinite(self.threshold_v))


def subsample_index(n: int, max_points: int) -> np.ndarray | None:
    """At most ``max_points`` sorted indices into ``range(n)``: pairs of adjacent samples, one pair per
    equal stretch of the data.

    Each pair is jittered inside its stretch by a golden-ratio sequence, so a periodic
    waveform is never sampled at one phase only (a plain stride can alias). Adjacent pairs
    tell settled samples from samples on an edge. ``None`` when ``n <= max_points`` (use
    everything).
    """
    if n <= max_points:
        return None
    m = max(1, int(max_points) // 2)
    fast = _compiled()
    if fast is not None and 2 <= n and (n - 1) // m < 2**42 and n - 1 < 2**62 // m:  # no int64 overflow
        out = np.empty(2 * m, dtype=np.int64)
        fast.subsample(int(n), m, int(_GOLDEN * 2**20), out)
        return out
    k = np.arange(m, dtype=np.int64)
    # integer arithmetic: pair k starts in [k (n-1) / m, (k + 1) (n-1) / m), offset by frac(k * golden)
    jitter = (k * int(_GOLDEN * 2**20)) & (2**20 - 1)
    first = (k * (n - 1)) // m + ((jitter * ((n - 1) // m - 1)) >> 20)
    out = np.empty(2 * m, dtype=np.int64)
    out[0::2] = first
    out[1::2] = first + 1
    return out


def estimate_levels(v: np.ndarray, *, max_points: int = MAX_LEVEL_POINTS,
                    threshold: ThresholdMethod = "widest_gap") -> LevelEstimate:
    """Find the levels of ``v`` and a threshold band between two of them.

    Parameters
    ----------
    v : ndarray
        Samples [V].
    max_points : int
        Size of the subsample the histogram is built from.
    threshold : {"widest_gap", "otsu"}
        ``"widest_gap"`` (default) puts the threshold in the widest gap between adjacent
        levels: for a pilot that is always the gap between the -12 V low and the lowest
        PWM high, whatever mix of states and DC stretches the capture holds. ``"otsu"``
        uses Otsu's between-class-variance threshold, the usual choice for generic
        two-level signals.

    Returns
    -------
    LevelEstimate
    """
    choose("threshold", threshold, _THRESHOLDS)
    idx = subsample_index(v.size, int(max_points))
    return levels_of_sample(idx, np.asarray(v if idx is None else v[idx], dtype=np.float64), threshold=threshold)


def levels_of_sample(idx: np.ndarray | None, x: np.ndarray, *,
                     threshold: ThresholdMethod = "widest_gap") -> LevelEstimate:
    """:func:`estimate_levels` from its subsample: ``idx`` from :func:`subsample_index` and ``x = v[idx]``
    (``None`` and ``v`` itself when every sample is used)."""
    method = choose("threshold", threshold, _THRESHOLDS)
    settled = _settled_runs(x) if idx is None else _settled(x)
    levels, counts, lo, w = _histogram_peaks(_without_strays(settled))
    thr, half = method(levels, counts, lo, w)
    return LevelEstimate(levels, thr, half, idx, x)


def _settled(x: np.ndarray) -> np.ndarray:
    """The points of ``x`` (adjacent pairs ``x[0::2], x[1::2]``) whose pair partner is close: where the
    waveform dwells, not where it is on an edge. Samples on the edges of a strictly periodic
    waveform repeat the same values every cycle and would otherwise form false levels."""
    k = x.size // 2
    a, b = x[0:2 * k:2], x[1:2 * k:2]
    if k < 8:
        return x
    step = max(1, k // 65536)
    d_few = np.abs(b[::step] - a[::step])  # = np.abs(b - a)[::step]
    delta = max(LEVEL_RESOLUTION_V, 4.0 * float(np.median(d_few)), 3.0 * code_step(x))
    fast = _compiled()
    if fast is not None and _in_place(x):
        out = np.empty(2 * k)
        count = fast.settled_pairs(x, delta, out)
        return x if count < 0.05 * k else out[:2 * count]
    ok = np.abs(b - a) < delta
    if np.count_nonzero(ok) < 0.05 * k:
        return x
    return np.concatenate((a[ok], b[ok]))


def _without_strays(x: np.ndarray) -> np.ndarray:
    """``x`` without the few points that lie far outside the range the rest of it spans.

    The histogram's bins and smoothing scale with the value range: four stale samples at 200 V
    would merge a 0-3.2 V square into one level. The range of the bulk is the ``k``-th smallest
    to the ``k``-th largest point (``k`` = :data:`MAX_STRAYS`, at most 0.5 % of the points);
    points more than 5 % of that range (and the level resolution) beyond it are dropped.
    """
    k = min(MAX_STRAYS, x.size // 200)
    if k == 0:
        return x
    lo, hi = _kth_smallest(x, k), _kth_smallest(x, k, largest=True)
    pad = 0.05 * (hi - lo) + LEVEL_RESOLUTION_V
    keep = (x >= lo - pad) & (x <= hi + pad)
    return x if bool(keep.all()) else x[keep]


def _kth_smallest(x: np.ndarray, k: int, *, largest: bool = False) -> float:
    """``np.partition(x, k)[k]`` (``largest``: ``np.partition(x, x.size - 1 - k)[x.size - 1 - k]``) of
    ``x`` without NaN, from the few points that can be it.

    The ``k``-th smallest of an evenly spread part of ``x`` (the bound) is no smaller than the
    ``k``-th smallest of ``x``: either more than ``k`` points lie below the bound, and the answer
    is the ``k``-th smallest of those few, or it is the bound itself. The same value, without
    reordering all of ``x`` (nor the many equal codes of a quantised capture at the bound).
    """
    part = x[:: max(1, x.size // 65536)]
    if part.size <= k or x.size < 65536:
        j = x.size - 1 - k if largest else k
        return float(np.partition(x, j)[j])
    if largest:
        bound = np.partition(part, part.size - 1 - k)[part.size - 1 - k]
        few = x[x > bound]
        return float(np.partition(few, few.size - 1 - k)[few.size - 1 - k]) if few.size > k else float(bound)
    bound = np.partition(part, k)[k]
    few = x[x < bound]
    return float(np.partition(few, k)[k]) if few.size > k else float(bound)


def _settled_runs(x: np.ndarray) -> np.ndarray:
    """:func:`_settled` for consecutive samples: the points close to a neighbour.

    Every overlapping pair counts, so a pulse only two samples long still shows its level
    (disjoint pairs could straddle its edges in every period of a strictly periodic capture).
    """
    if x.size < 16:
        return x
    d = np.abs(np.diff(x))
    delta = max(LEVEL_RESOLUTION_V, 4.0 * float(np.median(d[:: max(1, d.size // 65536)])), 3.0 * code_step(x))
    ok = d < delta
    if np.count_nonzero(ok) < 0.05 * d.size:
        return x
    keep = np.zeros(x.size, dtype=bool)
    keep[:-1] = ok
    keep[1:] |= ok
    return x[keep]


def code_step(x: np.ndarray) -> float:
    """The code step of quantised data (8-bit scope: full scale / 256), 0 for continuous data."""
    u = np.unique(x[:: max(1, x.size // 4096)])
    if u.size < 8:
        return 0.0
    q = float(np.median(np.diff(u)))
    return q if q < (u[-1] - u[0]) / 16 else 0.0


def _histogram_peaks(x: np.ndarray):
    lo, hi = float(x.min()), float(x.max())
    span = hi - lo
    if not span > 1e-9 * max(1.0, abs(lo), abs(hi)):
        return np.array([lo]), None, lo, 1.0
    q = code_step(x)
    # bins no finer than a quarter of the smoothing: the histogram costs O(M), never O(M * bins)
    w = max(span / 2048, LEVEL_RESOLUTION_V / 4)
    nb = int(span / w) + 1
    counts = _bin_counts(x, lo, 1.0 / w, nb)
    # Smooth enough to fill the comb of a quantised capture and to merge noise tails into their level.
    sigma = max(2.0, q / w, LEVEL_RESOLUTION_V / w, 0.005 * span / w)
    half = int(np.ceil(4 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    hs = np.convolve(np.pad(counts, half), kernel, mode="valid")
    padded = np.concatenate(([-1.0], hs, [-1.0]))
    cand = np.flatnonzero((padded[1:-1] > padded[:-2]) & (padded[1:-1] >= padded[2:]))
    cand = cand[hs[cand] >= max(_PEAK_MIN_OF_MAX * hs.max(), 3.0 * kernel.max())]
    peaks: list[int] = []
    for c in cand:  # a handful of candidates: merge neighbours without a clear valley between them
        if peaks and hs[peaks[-1]:c + 1].min() > 0.5 * min(hs[peaks[-1]], hs[c]):
            if hs[c] > hs[peaks[-1]]:
                peaks[-1] = int(c)
        else:
            peaks.append(int(c))
    levels = lo + (np.asarray(peaks, dtype=np.float64) + 0.5) * w
    return levels, counts, lo, w


def _bin_counts(x: np.ndarray, lo: float, inv_w: float, nb: int) -> np.ndarray:
    """``np.bincount(((x - lo) * inv_w).astype(np.intp), minlength=nb)`` as float64 (``x >= lo``), by one
    compiled loop when built."""
    fast = _compiled()
    if fast is not None and _in_place(x):
        counts = np.empty(nb + 2, dtype=np.int64)  # rounding may put the top value one bin past nb - 1
        top = fast.histogram(x, lo, inv_w, counts)
        if top >= 0 or x.size == 0:
            return counts[:max(nb, top + 1)].astype(np.float64)
    return np.bincount(((x - lo) * inv_w).astype(np.intp), minlength=nb).astype(np.float64)


def _widest_gap(levels, counts, lo, w):
    if levels.size < 2:
        return float("nan"), float("nan")
    gaps = np.diff(levels)
    g = int(np.argmax(gaps))
    return float(levels[g] + gaps[g] / 2), float(_HYSTERESIS_OF_GAP * gaps[g])


def _otsu(levels, counts, lo, w):
    if levels.size < 2 or counts is None:
        return float("nan"), float("nan")
    centres = lo + (np.arange(counts.size) + 0.5) * w
    w0 = np.cumsum(counts)
    m0 = np.cumsum(counts * centres)
    total, mtotal = w0[-1], m0[-1]
    w1 = total - w0
    between = safe_div((mtotal * w0 - total * m0) ** 2, w0 * w1)
    between = np.nan_to_num(between[:-1], nan=-1.0)
    best = np.flatnonzero(between >= between.max() * (1 - 1e-9))  # flat across an empty gap: its middle
    thr = float((centres[best[0]] + centres[best[-1]]) / 2 + w / 2)
    below, above = levels[levels < thr], levels[levels > thr]
    if below.size == 0 or above.size == 0:
        return float("nan"), float("nan")
    return thr, float(_HYSTERESIS_OF_GAP * min(thr - below[-1], above[0] - thr) * 2)


_THRESHOLDS = {"widest_gap": _widest_gap, "otsu": _otsu}


@dataclass(frozen=True)
class InteriorStats:
    """Full-resolution statistics of plateau interiors ``[start, end)`` (sample indices).

    Attributes
    ----------
    mean : ndarray
        Mean of each interior [V] (NaN for fewer than ``min_count`` samples).
    count : ndarray
        Samples in each interior.
    tilt : ndarray
        Largest minus smallest mean of the interior's three thirds [V]: near 0 for a
        settled plateau, large for a sine or a droop.
    """

    mean: np.ndarray
    count: np.ndarray
    tilt: np.ndarray


def interior_stats(v: np.ndarray, starts: np.ndarray, ends: np.ndarray, *, min_count: int = 3) -> InteriorStats:
    """Measure interiors ``[starts[i], ends[i])`` of ``v``; they must be ascending and disjoint.

    An interior of fewer than ``min_count`` samples has no mean (NaN); ``tilt`` always needs 3.
    One ``np.add.reduceat`` over the covered span, no temporaries the size of ``v`` (or, when
    :mod:`cpsim.analysis._fastedges` is built, one compiled loop over the interiors that adds the
    same numbers in the same order).
    """
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.maximum(np.asarray(ends, dtype=np.int64), starts)
    k = starts.size
    if k == 0:
        e = np.zeros(0)
        return InteriorStats(e, np.zeros(0, dtype=np.int64), e)
    count = ends - starts
    fast = _compiled_stats() if _in_place(v) and int(starts.min()) >= 0 else None
    if fast is not None:
        mean, tilt = np.empty(k), np.empty(k)
        fast.interior_stats(v, starts, ends, int(min_count), mean, tilt)
        return InteriorStats(mean, count, tilt)
    return _interior_stats_numpy(v, starts, ends, min_count)


def _interior_stats_numpy(v: np.ndarray, starts: np.ndarray, ends: np.ndarray, min_count: int) -> InteriorStats:
    """:func:`interior_stats` by the numpy reference route (``ends >= starts``, at least one interior)."""
    count = ends - starts
    sums, counts = _third_sums(v, starts, ends)
    # reduceat returns v[i] (not 0) for an empty stretch: mask those by their count (0 / 0 is then NaN)
    sums[counts == 0] = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        thirds = sums[:, :3] / counts[:, :3]
        mean = sums[:, :3].sum(axis=1) / count
    mean[count < max(1, min_count)] = np.nan
    t0, t1, t2 = thirds.T
    tilt = np.fmax(np.fmax(t0, t1), t2)
    tilt -= np.fmin(np.fmin(t0, t1), t2)
    tilt[count < 3] = np.nan
    return InteriorStats(mean, count, tilt)


def _third_sums(v: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sums (``(k, 4)``; column 3 is the stretch up to the next interior) and sample counts of the
    three thirds of each interior: one ``np.add.reduceat`` over the covered span."""
    k, n = starts.size, v.size
    count = ends - starts
    bounds = np.empty((k, 4), dtype=np.int64)
    bounds[:, 0] = starts
    bounds[:, 1] = starts + count // 3
    bounds[:, 2] = starts + (2 * count) // 3
    bounds[:, 3] = ends
    flat = bounds.ravel()
    counts = np.diff(flat, append=n).reshape(k, 4)
    return np.add.reduceat(v, np.minimum(flat, n - 1)).reshape(k, 4), counts


_STATS_EXACT: list[bool] = []


def _compiled_stats():
    """The compiled :func:`interior_stats` loop when built and switched on, and when it adds exactly as
    this numpy's ``reduceat`` and ``sum`` do (checked once per process on a probe; otherwise the numpy
    route runs)."""
    fast = _compiled()
    if fast is None:
        return None
    if not _STATS_EXACT:
        _STATS_EXACT.append(_probe_stats(fast))
    return fast if _STATS_EXACT[0] else None


def _probe_stats(fast) -> bool:
    """The compiled and the numpy route agree bit for bit on interiors of 0 to 300 samples and a few
    long ones (numpy's pairwise summation splits those), values spanning 18 decades."""
    rng = np.random.default_rng(181)
    v = rng.normal(size=6000) * 10.0 ** rng.integers(-9, 9, size=6000)
    length = np.concatenate((np.arange(0, 300), [511, 512, 1000, 1031, 1800])).astype(np.int64)
    starts = np.sort(rng.integers(0, 4000, size=length.size)).astype(np.int64)
    ends = starts + length
    # interiors that reach the last sample or beyond it (the reference route clips their bounds)
    starts = np.concatenate((starts, [5990, 5995, 5999, 5999])).astype(np.int64)
    ends = np.concatenate((ends, [6000, 6000, 6000, 6003])).astype(np.int64)
    mean, tilt = np.empty(starts.size), np.empty(starts.size)
    fast.interior_stats(v, starts, ends, 1, mean, tilt)
    ref = _interior_stats_numpy(v, starts, ends, 1)
    return bool(np.array_equal(ref.mean, mean, equal_nan=True) and np.array_equal(ref.tilt, tilt, equal_nan=True))
