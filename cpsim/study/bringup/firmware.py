"""The firmware: samples -> one reading (an algorithm) -> a state (windows in counts) -> debounce.

Algorithms take a matrix of codes, one row per reading and one column per sample in time order,
and return one value per reading:

====================  ========================================================================
``peak``              the largest sample (OpenEVSE ``ReadPilot``'s ``phigh``)
``mean``              the integer mean ``sum // n`` (C integer division)
``top_k_mean``        the integer mean of the ``k`` largest samples (esp32-evse ``pilot_measure``)
``module:function``   your own: ``function(codes) -> values``, ``codes`` an (n, samples) float64
                      array of integer codes; it must return n finite values. It is also called
                      with noise-free analogue values (floats) to find the margins.
====================  ========================================================================
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

import numpy as np

from ...errors import ParameterError
from .board import Firmware

__all__ = ["algorithm", "classify", "debounce", "HELD", "NONE", "windows"]

NONE = -1
"""State index of a reading that falls in no window."""
HELD = -2
"""Debounced result when the readings disagree: the firmware keeps its previous state."""


def _peak(codes: np.ndarray, k: int) -> np.ndarray:
    return codes.max(axis=1)


def _mean(codes: np.ndarray, k: int) -> np.ndarray:
    return np.floor(codes.sum(axis=1) / codes.shape[1])


def _top_k_mean(codes: np.ndarray, k: int) -> np.ndarray:
    k = min(k, codes.shape[1])
    top = -np.partition(-codes, k - 1, axis=1)[:, :k]
    return np.floor(top.sum(axis=1) / k)


_BUILTIN: Mapping[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "peak": _peak, "mean": _mean, "top_k_mean": _top_k_mean,
}


def algorithm(fw: Firmware) -> Callable[[np.ndarray], np.ndarray]:
    """The reading function of a firmware: (n, samples) codes -> (n,) values."""
    if fw.algorithm in _BUILTIN:
        fn = _BUILTIN[fw.algorithm]
        return lambda codes: fn(codes, fw.k)
    module_name, _, func_name = fw.algorithm.partition(":")
    try:
        func = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise ParameterError(f"firmware.algorithm {fw.algorithm!r}: cannot import it ({exc})") from None
    if not callable(func):
        raise ParameterError(f"firmware.algorithm {fw.algorithm!r} is not a function")

    def custom(codes: np.ndarray) -> np.ndarray:
        out = np.asarray(func(codes), dtype=float)
        if out.shape != (codes.shape[0],) or not np.all(np.isfinite(out)):
            raise ParameterError(f"firmware.algorithm {fw.algorithm!r} must return {codes.shape[0]} finite "
                                 f"values for a ({codes.shape[0]}, {codes.shape[1]}) array, got shape {out.shape}")
        return out

    return custom


def windows(fw: Firmware, top_code: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(state letters, lo, exclusive hi) of the firmware's windows; a hi at the top code includes it."""
    letters = list(fw.thresholds_counts)
    lo = np.array([fw.thresholds_counts[s][0] for s in letters], dtype=float)
    hi = np.array([fw.thresholds_counts[s][1] for s in letters], dtype=float)
    hi = np.where(hi >= top_code, hi + 1.0, hi)
    return letters, lo, hi


def classify(values, letters: list[str], lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Index into ``letters`` of the window each reading falls in, :data:`NONE` for none (vectorised)."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, NONE, dtype=np.int8)
    for i in range(len(letters)):
        out[(v >= lo[i]) & (v < hi[i])] = i
    return out


def debounce(states: np.ndarray) -> np.ndarray:
    """Debounced state per row of ``states`` (n, debounce): the common value, or :data:`HELD`."""
    first = states[:, 0]
    same = np.all(states == first[:, None], axis=1)
    return np.where(same, first, HELD).astype(np.int8)
