"""Sampling schemes and readings: which level each sample sees, with noise, through the algorithm.

Two routes give a reading from analogue codes (LSB, before noise and rounding):

* :func:`two_level` (the fast engine): every sample sees one of two settled levels, ``x_high`` or
  ``x_low``, and ``n_high`` of the ``n`` samples see the high one. For ``peak`` and ``top_k_mean``
  only the largest samples matter, and the largest ``k`` of ``m`` independent Gaussians are drawn
  directly (Rényi's representation of uniform order statistics, then the normal quantile), so a
  reading of 250 samples costs as much as one of 3. Rounding and clipping are monotone, so rounding
  the selected samples equals selecting among rounded samples: the result is exact, not an
  approximation. ``mean`` and custom algorithms get the full (n, samples) matrix in time order.
* :func:`matrix` (the spice engine): the analogue code of every sample at its own instant.

Free-running sampling (:class:`FreeRunning`): sample ``j`` of a reading is at phase
``a + j * rate_period / pwm_period`` (mod 1) of the PWM period, with ``a`` uniform per reading
(the firmware's loop is not synchronised to the PWM). In the fast engine the phases use the
nominal PWM frequency (the frequency tolerance changes the plateau levels not at all and the
sample phases by at most ``samples * rate_period * Δf`` periods); the spice engine uses each
variation's own frequency. A sample at phase < duty sees the high level (edges are instants in
the fast engine).
"""

from __future__ import annotations

import numpy as np

from .adc import quantise

__all__ = ["two_level", "two_level_noise_free", "matrix", "noise_free", "FreeRunning", "top_noise"]

_U_MAX = 1.0 - 2.0 ** -53


def top_noise(rng: np.random.Generator, m: np.ndarray, k: int, n_rows: int) -> np.ndarray:
    """The ``k`` largest of ``m[i]`` standard normal draws, per row, descending; NaN beyond ``m[i]``."""
    from scipy.special import ndtri

    if k == 1:  # the largest of m: one uniform, U**(1/m) (the hot path of peak readings)
        m1 = np.asarray(m, dtype=np.int64)
        with np.errstate(divide="ignore"):
            u = rng.random(n_rows) ** (1.0 / m1)
        z = ndtri(np.clip(u, 1e-300, _U_MAX))
        return np.where(m1 >= 1, z, np.nan)[:, None]
    out = np.full((n_rows, k), np.nan)
    u = np.ones(n_rows)
    m = np.broadcast_to(np.asarray(m, dtype=np.int64), (n_rows,))
    for i in range(k):
        mi = m - i
        valid = mi >= 1
        if not valid.any():
            break
        u = u * rng.random(n_rows) ** (1.0 / np.maximum(mi, 1))
        z = ndtri(np.clip(u, 1e-300, _U_MAX))
        out[:, i] = np.where(valid, z, np.nan)
    return out


def _group(x: np.ndarray, m: np.ndarray, k: int, sigma: float, rng: np.random.Generator | None) -> np.ndarray:
    """Top-k sample values of a group of ``m`` samples at level ``x`` (NaN where m < k)."""
    n = x.size
    if sigma > 0.0 and rng is not None:
        return x[:, None] + sigma * top_noise(rng, m, k, n)
    idx = np.arange(k)[None, :]
    return np.where(idx < np.asarray(m)[:, None], x[:, None], np.nan)


_Z_MAX = 8.3    # the largest normal quantile top_noise can return: ndtri(1 - 2**-53) = 8.21
_Z_MIN = -37.6  # the smallest: ndtri(1e-300) = -37.0


def _select(x_high, x_low, n_high, n, k, sigma, rng) -> np.ndarray:
    """The top ``k`` sample values of each reading (descending), high and low groups merged.

    A group that cannot reach the top ``k`` is skipped: when the high level exceeds the low one by
    more than the widest spread of the drawn noise (``(_Z_MAX - _Z_MIN) * sigma``) and the high
    group has ``k`` samples, no low sample can be among the top ``k``: exact, not a shortcut.
    """
    n_high = np.broadcast_to(np.asarray(n_high, dtype=np.int64), x_high.shape)
    vals = np.full((x_high.size, k), -np.inf)
    has_high = n_high > 0
    if has_high.any():
        rows = np.flatnonzero(has_high)
        vals[rows] = _group(x_high[rows], n_high[rows], k, sigma, rng)
    need_low = (n_high < n) & ~((n_high >= k) & (x_high - x_low > (_Z_MAX - _Z_MIN) * sigma))
    if need_low.any():
        rows = np.flatnonzero(need_low)
        both = np.concatenate([vals[rows], _group(x_low[rows], n - n_high[rows], k, sigma, rng)], axis=1)
        both = np.where(np.isnan(both), -np.inf, both)
        vals[rows] = -np.sort(-both, axis=1)[:, :k]
    return np.where(np.isinf(vals), np.nan, vals)


def two_level(x_high, x_low, n_high, n: int, *, algorithm: str, k: int, sigma: float, top_code: int,
              rng: np.random.Generator, mask=None, reader=None) -> np.ndarray:
    """Readings (one per row) of ``n`` samples of which ``n_high`` see ``x_high`` [LSB].

    ``mask`` (rows, n) says which samples are high in time order; it is needed by ``mean`` and
    custom algorithms (``reader``: the firmware's function of a code matrix).
    """
    x_high = np.asarray(x_high, dtype=float)
    x_low = np.asarray(x_low, dtype=float)
    if algorithm in ("peak", "top_k_mean"):
        kk = 1 if algorithm == "peak" else min(k, n)
        vals = quantise(_select(x_high, x_low, n_high, n, kk, sigma, rng), top_code)
        return vals[:, 0] if kk == 1 else np.floor(vals.sum(axis=1) / kk)
    assert mask is not None and reader is not None
    x = np.where(mask, x_high[:, None], x_low[:, None])
    if sigma > 0.0:
        x = x + sigma * rng.standard_normal(x.shape)
    return reader(quantise(x, top_code))


def two_level_noise_free(x_high, x_low, n_high, n: int, *, algorithm: str, k: int, mask=None,
                         reader=None) -> np.ndarray:
    """What the algorithm reads without noise and rounding [LSB] (for margins)."""
    x_high = np.asarray(x_high, dtype=float)
    x_low = np.asarray(x_low, dtype=float)
    if algorithm in ("peak", "top_k_mean"):
        kk = 1 if algorithm == "peak" else min(k, n)
        return _select(x_high, x_low, n_high, n, kk, 0.0, None).mean(axis=1)
    if algorithm == "mean":
        nh = np.asarray(n_high, dtype=float)
        return (nh * x_high + (n - nh) * x_low) / n
    assert mask is not None and reader is not None
    return reader(np.where(mask, x_high[:, None], x_low[:, None]))


def matrix(x, *, sigma: float, top_code: int, rng: np.random.Generator, reader) -> np.ndarray:
    """Readings from the analogue code of every sample, (rows, samples) [LSB]."""
    x = np.asarray(x, dtype=float)
    if sigma > 0.0:
        x = x + sigma * rng.standard_normal(x.shape)
    return reader(quantise(x, top_code))


def noise_free(x, *, algorithm: str, k: int, reader) -> np.ndarray:
    """What the algorithm reads from noise-free, unrounded samples (rows, samples) [LSB]."""
    x = np.asarray(x, dtype=float)
    if algorithm == "peak":
        return x.max(axis=1)
    if algorithm == "mean":
        return x.mean(axis=1)
    if algorithm == "top_k_mean":
        kk = min(k, x.shape[1])
        return -np.partition(-x, kk - 1, axis=1)[:, :kk].mean(axis=1)
    return reader(x)


class FreeRunning:
    """Phases of free-running samples within the PWM period (fractions 0-1).

    :meth:`n_high` counts the samples of a reading inside the high phase exactly: a lookup table
    over a fine grid gives the count of sorted phases below each grid point, and as many
    correction steps as the most crowded grid cell holds finish the count.
    """

    _GRID = 1 << 15  # cells per period

    def __init__(self, samples: int, rate_hz: float, frequency_hz: float):
        self.samples = int(samples)
        self.step = float(frequency_hz) / float(rate_hz)  # sample spacing in PWM periods
        self.offsets = (np.arange(self.samples) * self.step) % 1.0  # time order
        s = np.sort(self.offsets)
        self._doubled = np.concatenate([s, s + 1.0, [np.inf]])
        edges = np.arange(2 * self._GRID + 1) / self._GRID
        self._below = np.searchsorted(self._doubled, edges, "left").astype(np.int64)  # count < cell start
        self._crowd = int(np.max(np.diff(self._below)))

    def start(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """A random start phase per reading."""
        return rng.random(n)

    def _count_below(self, x: np.ndarray) -> np.ndarray:
        cell = np.minimum((x * self._GRID).astype(np.int64), 2 * self._GRID)
        c = self._below[cell]
        c -= (c > 0) & (self._doubled[np.maximum(c - 1, 0)] >= x)  # a cell start rounded above x
        for _ in range(self._crowd):
            c += self._doubled[c] < x
        return c

    def n_high(self, start: np.ndarray, duty) -> np.ndarray:
        """How many samples of each reading fall in [0, duty) of the period (exact)."""
        lo = 1.0 - start
        hi = lo + np.asarray(duty, dtype=float)
        return self._count_below(hi) - self._count_below(lo)

    def mask(self, start: np.ndarray, duty) -> np.ndarray:
        """(readings, samples) True where a sample is in the high phase, in time order."""
        phase = (start[:, None] + self.offsets[None, :]) % 1.0
        return phase < np.asarray(duty, dtype=float).reshape(-1, 1)
