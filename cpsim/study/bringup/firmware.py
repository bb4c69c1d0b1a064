"""The firmware: samples -> one reading (an algorithm) -> a state (windows in counts) -> debounce.

Algorithms take a matrix of codes, one row per reading and one column per sample in time order,
and return one value per reading:

====================  ========================================================================
``peak``              the largest sample (OpenEVSE ``ReadPilot``'s ``phigh``)
``mean``              the integer mean ``sum // n`` (C integer division)
``top_k_mean``        the integer mean of the ``k`` largest samples (esp32-evse ``pilot_measure``)
``module:function``   your own: ``function(codes) -> values``, ``codes`` an (n, samples) float64
                      array of integer codes; it must return n finite values. It is also called
                      with noise-free analogue values (floats) to find the margins. A module
                      next to the board file is found (its folder is on the path for the import).
====================  ========================================================================
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

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


def _import(name: str, base_dir: str | os.PathLike[str] | None):
    """Import ``module:function``, with ``base_dir`` (the board file's folder) on the path for this import only."""
    module_name, _, func_name = name.partition(":")
    folder = None if base_dir is None else os.fspath(Path(base_dir).resolve())
    added = folder if folder is not None and folder not in sys.path else None
    if added is not None:
        sys.path.insert(0, added)
    try:
        return getattr(importlib.import_module(module_name), func_name)
    except Exception as exc:  # an import runs the user's module: any failure is a board-file problem
        where = f" (looked also in the board file's folder {folder})" if folder else ""
        raise ParameterError(f"firmware.algorithm {name!r}: cannot import it{where}: "
                             f"{type(exc).__name__}: {exc}") from None
    finally:
        if added is not None and added in sys.path:
            sys.path.remove(added)


def algorithm(fw: Firmware, base_dir: str | os.PathLike[str] | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """The reading function of a firmware: (n, samples) codes -> (n,) values.

    A custom ``module:function`` is imported with ``base_dir`` (the board file's folder) put on
    ``sys.path`` for the import only; every failure of the function, or a result that is not ``n``
    finite numbers, is a :class:`~cpsim.errors.ParameterError` naming the algorithm.
    """
    if fw.algorithm in _BUILTIN:
        fn = _BUILTIN[fw.algorithm]
        return lambda codes: fn(codes, fw.k)
    func = _import(fw.algorithm, base_dir)
    if not callable(func):
        raise ParameterError(f"firmware.algorithm {fw.algorithm!r} is not a function")
    contract = "it must take an (n, samples) float64 numpy array of codes and return n finite numbers"

    def custom(codes: np.ndarray) -> np.ndarray:
        try:
            raw = func(codes)
        except Exception as exc:
            raise ParameterError(f"firmware algorithm {fw.algorithm!r} failed on the ADC codes: "
                                 f"{type(exc).__name__}: {exc}; {contract}") from None
        try:
            out = np.asarray(raw, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"firmware algorithm {fw.algorithm!r} returned {type(raw).__name__}, not numbers "
                                 f"({exc}); {contract}") from None
        if out.shape != (codes.shape[0],):
            raise ParameterError(f"firmware algorithm {fw.algorithm!r} returned shape {out.shape} for a "
                                 f"{codes.shape} array of codes; {contract} (shape ({codes.shape[0]},))")
        if not np.all(np.isfinite(out)):
            raise ParameterError(f"firmware algorithm {fw.algorithm!r} returned non-finite values (NaN or inf); "
                                 f"{contract}")
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
