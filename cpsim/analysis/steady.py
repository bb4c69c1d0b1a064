"""Steady stretches cut into blocks of subsample points, each classified as x1, E, F or invalid.

A block whose spread comes from one clean level step (plug-in, unplug) is split at the step, so
steps are located to one subsample interval (:func:`dc_units`); noise near the limit is judged
on the whole steady run later (:mod:`cpsim.analysis.timeline`), so it cannot cut a level in pieces.
"""

from __future__ import annotations

import numpy as np

from ._util import expand_ranges, safe_div
from .states import INVALID, Reason, classify_dc
from .timeline import DC, Units

__all__ = ["DC_BLOCK_POINTS", "dc_units", "noisy_blocks"]

DC_BLOCK_POINTS = 32
"""Subsample points per DC block (cpsim choice: noise estimated to ±13 %, steps located to one block)."""


def dc_units(t: np.ndarray, sample_index: np.ndarray | None, sample_v: np.ndarray, plateaus,
             t_start: np.ndarray, t_end: np.ndarray, profile, *, margin_samples: int,
             max_noise_v: float, steady_min_s: float = 0.0) -> Units:
    """Blocks of subsample points inside the steady plateaus, classified as x1, E, F or invalid.

    A capture with no edge is one steady plateau however short; held for less than
    ``steady_min_s`` it cannot tell a steady level from part of a PWM period (``TOO_SHORT``).
    """
    n_plateaus = len(plateaus)
    steady = np.flatnonzero(plateaus.steady)
    lo = plateaus.first[steady] + np.where(steady > 0, margin_samples, 0)
    hi = plateaus.last[steady] - np.where(steady < n_plateaus - 1, margin_samples, 0)
    if sample_index is None:
        a, b = lo, np.maximum(hi + 1, lo)
    else:  # search the few plateau bounds in the sorted subsample, not the reverse
        a, b = np.searchsorted(sample_index, lo, "left"), np.searchsorted(sample_index, hi, "right")
    pos, group = expand_ranges(a, b)
    idx = pos if sample_index is None else sample_index[pos]
    x, pid = sample_v[pos], steady[group]
    parts = []
    if idx.size:
        new_p = np.concatenate(([True], pid[1:] != pid[:-1]))
        p_start = np.flatnonzero(new_p)
        p_count = np.diff(np.append(p_start, idx.size))
        rank = np.arange(idx.size) - np.repeat(p_start, p_count)
        n_blocks = np.maximum(1, p_count // DC_BLOCK_POINTS)
        block = np.minimum(rank // DC_BLOCK_POINTS, np.repeat(n_blocks - 1, p_count))
        b_start = np.flatnonzero(new_p | np.concatenate(([False], block[1:] != block[:-1])))
        count = np.diff(np.append(b_start, idx.size)).astype(float)
        s = np.add.reduceat(x, b_start)
        sq = np.add.reduceat(x * x, b_start)
        mean = s / count
        var = np.maximum(sq / count - mean * mean, 0.0) * safe_div(count, count - 1)
        std_v = np.sqrt(np.where(count > 1, var, np.nan))
        b_pid = pid[b_start]
        t_first = t[idx[b_start]]
        t_last = t[idx[np.append(b_start[1:], idx.size) - 1]]
        first_of_p = np.concatenate(([True], b_pid[1:] != b_pid[:-1]))
        last_of_p = np.concatenate((b_pid[1:] != b_pid[:-1], [True]))
        mid = 0.5 * (t_last[:-1] + t_first[1:])
        ts = np.where(first_of_p, t_start[b_pid], np.concatenate(([0.0], mid)))
        te = np.where(last_of_p, t_end[b_pid], np.concatenate((mid, [0.0])))
        b_end = np.append(b_start[1:], idx.size)
        cand = np.flatnonzero(noisy_blocks(count, std_v, max_noise_v))
        split = _split_steps(x, b_start[cand], b_end[cand], max_noise_v)
        if split is not None:
            ok, cut, left, right = split   # blocks that hold one clean level step: two units each
            blk = cand[ok]
            t_cut = 0.5 * (t[idx[cut - 1]] + t[idx[cut]])
            keep_b = np.ones(b_start.size, dtype=bool)
            keep_b[blk] = False
            ts = np.concatenate((ts[keep_b], ts[blk], t_cut))
            te = np.concatenate((te[keep_b], t_cut, te[blk]))
            s = np.concatenate((s[keep_b], left[0], right[0]))
            sq = np.concatenate((sq[keep_b], left[1], right[1]))
            count = np.concatenate((count[keep_b], left[2], right[2]))
            mean = s / count
            var = np.maximum(sq / count - mean * mean, 0.0) * safe_div(count, count - 1)
            std_v = np.sqrt(np.where(count > 1, var, np.nan))
        code, reason = classify_dc(mean, profile)
        value = mean.copy()
        noisy = noisy_blocks(count, std_v, max_noise_v)
        code = np.where(noisy, INVALID, code)
        reason = np.where(noisy, Reason.NOISY, reason)
        value = np.where(noisy, std_v, value)
        parts.append(Units.make(np.full(ts.size, DC), ts, te, code, reason, value,
                                level_sum=s, level_sq=sq, level_n=count))
    # a steady plateau that no subsample point fell in: one unit from its full-resolution interior
    seen = np.zeros(n_plateaus, dtype=bool)
    seen[pid] = True
    lone = np.flatnonzero(plateaus.steady & ~seen)
    if lone.size:
        level = np.where(np.isfinite(plateaus.level_start[lone]), plateaus.level_start[lone],
                         plateaus.level_end[lone])
        code, reason = classify_dc(level, profile)
        parts.append(Units.make(np.full(lone.size, DC), t_start[lone], t_end[lone], code, reason, level,
                                level_sum=np.nan_to_num(level), level_sq=np.nan_to_num(level) ** 2,
                                level_n=np.isfinite(level).astype(float)))
    if not parts:
        return Units.make(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    units = Units.concat(parts)
    if n_plateaus == 1 and plateaus.duration_s[0] < steady_min_s:
        short = np.full(len(units), True)
        units = units.replace(code=np.where(short, INVALID, units.code).astype(np.int8),
                              reason=np.full(len(units), Reason.TOO_SHORT, dtype=np.int8),
                              reason_value=np.full(len(units), float(plateaus.duration_s[0])))
    return units


def noisy_blocks(count: np.ndarray, std_v: np.ndarray, max_noise_v: float) -> np.ndarray:
    """Blocks whose spread says they hold no single steady level.

    A block's standard deviation scatters by about ``1/sqrt(2 (n - 1))`` of itself; only a spread
    beyond ``max_noise_v`` by three times that is a block's own verdict (a step, a burst). Noise near
    the limit is judged on the whole steady run instead (pooled), so it cannot cut a level in pieces.
    """
    limit = max_noise_v * (1.0 + 3.0 / np.sqrt(2.0 * np.maximum(count - 1, 1)))
    return (count >= 8) & (std_v > limit)


def _split_steps(x: np.ndarray, starts: np.ndarray, ends: np.ndarray, max_noise_v: float):
    """Best single split of each block ``x[starts[i]:ends[i]]`` into two constant levels.

    Returns ``(mask of the blocks split, first point of the right part, (sum, sumsq, n) left,
    (...) right)`` for the blocks where both parts are steady (spread <= ``max_noise_v``), or None. Vectorised over
    blocks with cumulative sums: the split maximising ``nl*nr/n * (mean_l - mean_r)**2`` is the
    least-squares two-level fit.
    """
    if starts.size == 0:
        return None
    pos, grp = expand_ranges(starts, ends)
    xs = x[pos]
    n = (ends - starts).astype(float)
    cs, cq = np.cumsum(xs), np.cumsum(xs * xs)
    first = np.concatenate(([0], np.cumsum(ends - starts)[:-1]))   # each block's first element in pos
    base_s = np.where(first > 0, cs[first - 1], 0.0)
    base_q = np.where(first > 0, cq[first - 1], 0.0)
    nl = (np.arange(pos.size) - first[grp] + 1).astype(float)
    ls, lq = cs - base_s[grp], cq - base_q[grp]
    total_s = ls[np.append(first[1:], pos.size) - 1]
    total_q = lq[np.append(first[1:], pos.size) - 1]
    nr = n[grp] - nl
    rs, rq = total_s[grp] - ls, total_q[grp] - lq
    score = np.where(nr > 0, nl * nr / n[grp] * (safe_div(ls, nl) - safe_div(rs, nr)) ** 2, -1.0)
    top = np.maximum.reduceat(score, first)
    hits = np.flatnonzero(score >= top[grp])          # each block's best split (ties: the first)
    best = hits[np.concatenate(([True], grp[hits][1:] != grp[hits][:-1]))]
    bl, br = nl[best], nr[best]
    left = (ls[best], lq[best], bl)
    right = (rs[best], rq[best], br)

    def spread(part):
        s_, q_, c_ = part
        m = s_ / c_
        return np.sqrt(np.maximum(q_ / c_ - m * m, 0.0))

    ok = (br > 0) & (spread(left) <= max_noise_v) & (spread(right) <= max_noise_v)
    if not ok.any():
        return None
    cut = pos[best[ok]] + 1
    return (ok, cut, tuple(a[ok] for a in left), tuple(a[ok] for a in right))
