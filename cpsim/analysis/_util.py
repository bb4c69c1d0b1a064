"""Small vectorised helpers shared by the analysis modules: option dispatch and grouped statistics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import numpy as np

from ..errors import ParameterError

T = TypeVar("T")


def choose(name: str, value: str, table: Mapping[str, T]) -> T:
    """Look a string option up in its dispatch table; an unknown value lists the valid ones."""
    try:
        return table[value]
    except (KeyError, TypeError):
        raise ParameterError(f"{name} must be one of {', '.join(map(repr, table))}, got {value!r}") from None


def finite_median(x) -> float:
    """Median of the finite values, NaN when there are none (and no 'empty slice' warning)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def group_median(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``values`` per group id (0 .. n_groups-1), ignoring NaN; NaN for empty groups."""
    values = np.asarray(values, dtype=float)
    groups = np.asarray(groups)
    ok = np.isfinite(values)
    v, g = values[ok], groups[ok]
    out = np.full(n_groups, np.nan)
    if v.size == 0:
        return out
    counts = np.bincount(g, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    has = np.flatnonzero(counts)
    if has.size <= 64 and np.all(g[1:] >= g[:-1]):
        # groups already contiguous (time-ordered segments): a median per slice, no global sort
        for i in has:  # a handful of segments
            out[i] = np.median(v[starts[i]:starts[i] + counts[i]])
        return out
    order = np.lexsort((v, g))
    v = v[order]
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    out[has] = 0.5 * (v[lo] + v[hi])
    return out


def group_sum_count(values: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum and count of the finite ``values`` per group id."""
    values = np.asarray(values, dtype=float)
    ok = np.isfinite(values)
    s = np.bincount(np.asarray(groups)[ok], weights=values[ok], minlength=n_groups)
    c = np.bincount(np.asarray(groups)[ok], minlength=n_groups)
    return s, c


def safe_div(num, den) -> np.ndarray:
    """``num / den`` with NaN where ``den`` is 0 or not finite, without floating-point warnings."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    ok = np.isfinite(den) & (den != 0)
    np.divide(num, den, out=out, where=ok)
    return out


def run_starts(*keys: np.ndarray) -> np.ndarray:
    """Indices where any of the equally long ``keys`` changes (always includes 0)."""
    n = len(keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    brk = np.zeros(n, dtype=bool)
    brk[0] = True
    for k in keys:
        brk[1:] |= k[1:] != k[:-1]
    return np.flatnonzero(brk)


def previous_true(mask: np.ndarray) -> np.ndarray:
    """For each position, the index of the last ``True`` at or before it (-1 if none)."""
    idx = np.where(mask, np.arange(mask.size), -1)
    return np.maximum.accumulate(idx) if idx.size else idx


def next_true(mask: np.ndarray) -> np.ndarray:
    """For each position, the index of the first ``True`` at or after it (``mask.size`` if none)."""
    n = mask.size
    idx = np.where(mask, np.arange(n), n)
    return np.minimum.accumulate(idx[::-1])[::-1] if n else idx


def expand_ranges(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(starts[i], ends[i])`` and the range number ``i`` of each element."""
    starts = np.asarray(starts, dtype=np.int64)
    length = np.maximum(np.asarray(ends, dtype=np.int64) - starts, 0)
    total = int(length.sum())
    group = np.repeat(np.arange(starts.size), length)
    offset = np.repeat(starts - (np.cumsum(length) - length), length)
    return np.arange(total, dtype=np.int64) + offset, group
