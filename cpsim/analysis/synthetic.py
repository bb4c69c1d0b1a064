"""Ideal pilot waveforms with a known truth, for tests and benchmarks (not a circuit model).

A trapezoid PWM whose edges are linear ramps centred on the ideal edge instants, so the
50 % crossings are exactly at ``t0 + (k + phase) / f`` (rising) and ``+ duty / f`` (falling),
and the 10-90 % times are exactly ``rise_s`` and ``fall_s``. Optional decaying ringing after
each edge, Gaussian noise (seeded) and ADC quantisation. Use :func:`cpsim.simulate_cp` for a
physical waveform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from ..waveform import Waveform

__all__ = ["Stretch", "pilot_waveform", "quantize"]


@dataclass(frozen=True)
class Stretch:
    """A stretch of the synthetic capture: PWM between ``v_high`` and ``v_low`` at ``duty``, or a
    steady ``v_high`` when ``duty`` is None."""

    duration_s: float
    v_high: float
    v_low: float = -12.0
    duty: float | None = None


def pilot_waveform(stretches: Sequence[Stretch] | Stretch, *, sample_rate_hz: float = 1e6, t0_s: float = 0.0,
                   frequency_hz: float = 1000.0, phase: float = 0.0, rise_s: float = 2e-6,
                   fall_s: float = 2e-6, overshoot: float = 0.0, ring_hz: float = 500e3,
                   ring_tau_s: float = 2e-6, noise_rms_v: float = 0.0, adc_bits: int | None = None,
                   adc_range_v: tuple[float, float] = (-16.0, 16.0), seed: int = 0,
                   channel: str = "cp") -> Waveform:
    """Build a synthetic pilot capture.

    Parameters
    ----------
    stretches : Stretch or sequence of Stretch
        Consecutive stretches; their PWM shares one time grid (edges continue across stretches).
    sample_rate_hz, t0_s : float
        Uniform sampling from ``t0_s`` [s].
    frequency_hz, phase : float
        PWM frequency [Hz]; rising 50 % instants at ``t0_s + (k + phase) / frequency_hz``.
    rise_s, fall_s : float
        10-90 % edge times [s] (linear ramps of ``rise_s / 0.8``).
    overshoot : float
        Peak of the ringing after each edge, fraction of the swing.
    ring_hz, ring_tau_s : float
        Ringing frequency [Hz] and decay time constant [s].
    noise_rms_v : float
        Gaussian noise [V rms], from ``numpy.random.default_rng(seed)``.
    adc_bits, adc_range_v
        Quantise to ``2**adc_bits`` codes over ``adc_range_v`` [V] (clipping outside).
    """
    if isinstance(stretches, Stretch):
        stretches = [stretches]
    fs = float(sample_rate_hz)
    period = 1.0 / float(frequency_hz)
    tr, tf = rise_s / 0.8, fall_s / 0.8
    counts = [int(round(s.duration_s * fs)) for s in stretches]
    n = sum(counts)
    if n < 2:
        raise ParameterError("the stretches hold fewer than 2 samples")
    t = t0_s + np.arange(n, dtype=np.float64) / fs
    v = np.empty(n)
    i0 = 0
    for s, c in zip(stretches, counts):  # a few stretches, each vectorised
        sl = slice(i0, i0 + c)
        i0 += c
        if s.duty is None:
            v[sl] = s.v_high
            continue
        d = float(s.duty)
        if tr / 2 + tf / 2 >= min(d, 1 - d) * period:
            raise ParameterError(f"edges of {rise_s:g}/{fall_s:g} s do not fit duty {d:g}")
        tau = np.mod(t[sl] - t0_s - phase * period, period)  # time since the rising 50 % instant
        x = np.clip(tau / tr + 0.5, 0.0, 1.0)
        x -= np.clip((tau - d * period) / tf + 0.5, 0.0, 1.0)
        x += np.clip((tau - period) / tr + 0.5, 0.0, 1.0)
        swing = s.v_high - s.v_low
        seg = s.v_low + swing * x
        if overshoot:
            after_rise = tau - tr / 2
            after_fall = tau - d * period - tf / 2
            ring = np.where((after_rise >= 0) & (tau < d * period - tf / 2),
                            np.exp(-np.maximum(after_rise, 0) / ring_tau_s)
                            * np.cos(2 * np.pi * ring_hz * after_rise), 0.0)
            ring -= np.where((after_fall >= 0) & (tau < period - tr / 2),
                             np.exp(-np.maximum(after_fall, 0) / ring_tau_s)
                             * np.cos(2 * np.pi * ring_hz * after_fall), 0.0)
            seg += overshoot * swing * ring
        v[sl] = seg
    if noise_rms_v:
        v += np.random.default_rng(seed).normal(0.0, noise_rms_v, n)
    if adc_bits is not None:
        v = quantize(v, adc_bits, adc_range_v)
    meta = {"source": "cpsim.analysis.synthetic", "sample_rate_hz": fs, "frequency_hz": float(frequency_hz),
            "rise_s": rise_s, "fall_s": fall_s, "noise_rms_v": noise_rms_v, "seed": seed}
    return Waveform(t, v, channel, meta)


def quantize(v, bits: int, range_v: tuple[float, float]) -> np.ndarray:
    """What an ideal ``bits``-bit ADC over ``range_v`` [V] records: codes clipped to the range, in volts."""
    lo, hi = range_v
    lsb = (hi - lo) / 2 ** int(bits)
    return lo + lsb * np.clip(np.round((np.asarray(v, dtype=float) - lo) / lsb), 0, 2 ** int(bits) - 1)
