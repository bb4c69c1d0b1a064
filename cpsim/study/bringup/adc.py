"""The ADC: volts at its pin -> analogue code (LSB, before rounding) -> integer code.

``x = v / lsb * (1 + gain_error) + offset`` with ``lsb = vref * (1 + vref_error) / 2**bits``;
noise is added to ``x`` per sample, then :func:`quantise` rounds with the first transition at
0.5 LSB (an ideal mid-tread converter, as the AVR and ESP32 datasheets draw it) and clips to
``0 .. 2**bits - 1``.

The board's errors are drawn once per variation (the same board reads every state), uniform over
``±vref_tolerance``, ``±gain_error`` and ``±offset_lsb``; :func:`draw_board` also draws the
front-end's resistors and bias. Draws are reproducible per run index, like the CP circuit's
(:mod:`cpsim.study.variations`): run ``i`` uses block ``i // BLOCK`` of streams keyed by the seed.
"""

from __future__ import annotations

import math

import numpy as np

from ..variations import BLOCK
from .board import Adc, Board, Divider

__all__ = ["analogue_lsb", "quantise", "draw_board", "BOARD_PARAMETERS", "board_stream"]

BOARD_PARAMETERS = ("fe_r_top_ohm", "fe_r_bottom_ohm", "fe_r_bias_ohm", "fe_v_bias_v", "adc_vref_v",
                    "adc_gain_error", "adc_offset_lsb")
"""Per-variation columns of the board (front-end ``fe_*``, ADC ``adc_*``); order fixes each one's stream."""

_STREAM_BASE = 1 << 20  # spawn keys of the board's streams: far from the CP circuit's (parameter indices)


def board_stream(seed: int, block: int, key: int) -> np.random.Generator:
    """The random stream ``key`` of run block ``block`` (keys 0-99: board parameters; 100+: noise)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block, _STREAM_BASE + key)))


def analogue_lsb(v_adc_v, adc: Adc, vref_v, gain_error, offset_lsb):
    """ADC pin voltage [V] -> code before noise and rounding [LSB] (vectorised)."""
    scale = (2.0 ** adc.bits) / np.asarray(vref_v, dtype=float)
    return np.asarray(v_adc_v, dtype=float) * scale * (1.0 + np.asarray(gain_error)) + np.asarray(offset_lsb)


def quantise(x_lsb, top_code: int) -> np.ndarray:
    """Analogue code [LSB] -> integer code (as float64), first transition at 0.5 LSB, clipped."""
    return np.clip(np.floor(np.asarray(x_lsb, dtype=float) + 0.5), 0.0, float(top_code))


def _uniform(seed: int, runs: np.ndarray, key: int, centre: float, half: float) -> np.ndarray:
    if half == 0.0 or runs.size == 0:
        return np.full(runs.size, float(centre))
    first, last = int(runs[0]), int(runs[-1])
    if last - first == runs.size - 1 and first // BLOCK == last // BLOCK:  # the usual chunk: one block, in order
        b = first // BLOCK
        draws = board_stream(seed, b, key).uniform(-1.0, 1.0, last - b * BLOCK + 1)[first - b * BLOCK:]
        return centre + half * draws
    out = np.empty(runs.size)
    blocks = runs // BLOCK
    for b in np.unique(blocks):
        sel = np.flatnonzero(blocks == b)
        offset = runs[sel] - b * BLOCK
        draws = board_stream(seed, int(b), key).uniform(-1.0, 1.0, int(offset.max()) + 1)
        out[sel] = centre + half * draws[offset]
    return out


def draw_board(board: Board, runs: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Front-end and ADC values of the given runs (one float64 array per :data:`BOARD_PARAMETERS`)."""
    runs = np.asarray(runs, dtype=np.int64)
    fe = board.frontend
    adc = board.adc
    out: dict[str, np.ndarray] = {}
    vref = _uniform(seed, runs, 4, adc.vref_v, adc.vref_v * adc.vref_tolerance)
    if isinstance(fe, Divider):
        tol = fe.tolerance
        out["fe_r_top_ohm"] = _uniform(seed, runs, 0, fe.r_top_ohm, fe.r_top_ohm * tol)
        out["fe_r_bottom_ohm"] = _uniform(seed, runs, 1, fe.r_bottom_ohm, fe.r_bottom_ohm * tol)
        bias = fe.r_bias_ohm
        out["fe_r_bias_ohm"] = (_uniform(seed, runs, 2, bias, bias * tol) if math.isfinite(bias)
                                else np.full(runs.size, math.inf))
        out["fe_v_bias_v"] = (fe.v_bias_v * vref / adc.vref_v if fe.bias_is_vref else
                              _uniform(seed, runs, 3, fe.v_bias_v, abs(fe.v_bias_v) * fe.v_bias_tolerance))
    out["adc_vref_v"] = vref
    out["adc_gain_error"] = _uniform(seed, runs, 5, 0.0, adc.gain_error)
    out["adc_offset_lsb"] = _uniform(seed, runs, 6, 0.0, adc.offset_lsb)
    return out
