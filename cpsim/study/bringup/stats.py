"""What a firmware engineer asks of a bring-up study: misreads with a bound, margins and their drivers,
the worst variations, and thresholds that would do better.

* ``misread``: variations whose ``debounce`` consecutive readings agree on a wrong state (or on no
  state), with the one-sided 95 % Clopper-Pearson upper bound of the rate (:func:`upper_95`);
  ``single_reading_misread``: the same for single readings (what a debounce has to absorb).
* ``margins``: per threshold of the state's window, the smallest distance [LSB] of the noise-free
  reading (``sampled_lsb``) to the decision point ``threshold - 0.5``; negative means the
  threshold is crossed before any noise. ``observed_margin_counts``: the same for the readings
  themselves (noise included; a peak or top-k reading sits above its noise-free value), counted in
  codes: how many more codes the extreme reading could move before it reads another state.
  ``driven_by``: the parameter whose deviation pushes the worst variation towards that threshold
  the most, from a linear fit of ``sampled_lsb`` on the varied parameters (an attribution, not a
  proof: non-linear effects land in the residual).
* ``recommended_thresholds_counts``: the board's windows with every boundary between adjacent
  states moved to the middle of the gap between the codes seen (noise included), which maximises
  the smallest margin between adjacent states; ``recommended_margin_lsb`` is that margin.
  Adjacent means neighbours among the board's windows ordered by code, and both states simulated:
  a boundary next to a state that was not simulated is left where it is (a note says so), and the
  margins cover only the boundaries re-derived.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..variations import PARAMETERS
from .adc import BOARD_PARAMETERS
from .board import Board

__all__ = ["read_as_names", "upper_95", "summarize_state", "recommend", "worst_variations", "FIT_COLUMNS"]

FIT_COLUMNS = (*PARAMETERS, *BOARD_PARAMETERS)
"""Columns a margin may be attributed to."""
_FIT_ROWS = 200_000


def read_as_names(board: Board, codes) -> np.ndarray:
    """Debounced state codes as text: a window's letter, ``"held"`` (readings disagree) or ``"none"``."""
    from .firmware import HELD, NONE

    letters = list(board.firmware.thresholds_counts)
    table = np.array([*letters, "held", "none"], dtype=object)
    c = np.asarray(codes, dtype=np.int64)
    return table[np.where(c == HELD, len(letters), np.where(c == NONE, len(letters) + 1, c))]


def upper_95(count: int, n: int) -> float | None:
    """One-sided 95 % Clopper-Pearson upper bound of a rate seen ``count`` times in ``n`` trials.

    Examples
    --------
    >>> round(upper_95(0, 1000), 5)           # the "rule of three": about 3/n
    0.00299
    """
    if n <= 0:
        return None
    if count >= n:
        return 1.0
    from scipy.special import betaincinv

    return float(betaincinv(count + 1, n - count, 0.95))


def _rate(count: int, n: int) -> dict:
    return {"count": int(count), "trials": int(n), "rate": (count / n) if n else None, "upper_95": upper_95(count, n)}


def _fit(cols: Mapping[str, np.ndarray], ok: np.ndarray):
    """Linear fit of ``sampled_lsb`` on the varied parameters: (names, coefficients per σ, means, σ)."""
    rows = np.flatnonzero(ok & np.isfinite(cols["sampled_lsb"]))[:_FIT_ROWS]
    names, z = [], []
    for name in FIT_COLUMNS:
        if name not in cols:
            continue
        v = np.asarray(cols[name], dtype=float)[rows]
        sd = float(np.std(v)) if v.size else 0.0
        if np.all(np.isfinite(v)) and sd > 1e-12 * max(1.0, abs(float(np.mean(v)))):
            names.append(name)
            z.append((v - v.mean()) / sd)
    if not names or rows.size < len(names) + 2:
        return None
    a = np.column_stack([np.ones(rows.size), *z])
    coef, *_ = np.linalg.lstsq(a, cols["sampled_lsb"][rows], rcond=None)
    means = {n: float(np.mean(np.asarray(cols[n], dtype=float)[rows])) for n in names}
    sds = {n: float(np.std(np.asarray(cols[n], dtype=float)[rows])) for n in names}
    return names, coef[1:], means, sds


def _driver(fit, cols, row: int, sign: float) -> tuple[str | None, dict]:
    """The parameter pushing row ``row`` most in direction ``sign`` (-1: down, +1: up), with the top three."""
    if fit is None:
        return None, {}
    names, coef, means, sds = fit
    contrib = {n: float(c * (float(cols[n][row]) - means[n]) / sds[n]) for n, c in zip(names, coef)}
    ranked = sorted(contrib, key=lambda n: sign * contrib[n], reverse=True)
    top = {n: round(contrib[n], 3) for n in ranked[:3]}
    return (ranked[0] if sign * contrib[ranked[0]] > 0 else None), top


def _margins(cols, ok, window, top_code: int, fit) -> list[dict]:
    lo, hi = window
    x = np.where(ok, cols["sampled_lsb"], np.nan)
    out = []
    edges = [("lower", lo, x - (lo - 0.5), -1.0)]
    if hi < top_code:
        edges.append(("upper", hi, (hi - 0.5) - x, +1.0))
    for edge, threshold, margin, sign in edges:
        if not np.any(np.isfinite(margin)):
            continue
        row = int(np.nanargmin(margin))
        driver, parts = _driver(fit, cols, row, sign)
        codes = cols["code_min"][ok] if edge == "lower" else cols["code_max"][ok]
        observed = (float(codes.min()) - threshold) if edge == "lower" else (threshold - 1 - float(codes.max()))
        out.append({"edge": edge, "threshold_counts": int(threshold), "margin_lsb": float(margin[row]),
                    "run": int(cols["run"][row]), "driven_by": driver, "contributions_lsb": parts,
                    "observed_margin_counts": observed})
    return out


def summarize_state(board: Board, state: str, cols: Mapping[str, np.ndarray]) -> dict:
    """The summary of one simulated state (see the module docstring)."""
    ok = np.asarray(cols["error"], dtype=object) == ""
    n = int(ok.sum())
    summary: dict = {"expected": state[0], "runs": int(len(ok)), "errors": int(len(ok) - n)}
    if n == 0:
        first = next((e for e in cols["error"] if e), "")
        summary["notes"] = [f"no variation could be evaluated: {first}"]
        return summary
    code = np.asarray(cols["code"])[ok]
    summary["code"] = {"min": float(np.min(cols["code_min"][ok])), "median": float(np.median(code)),
                       "max": float(np.max(cols["code_max"][ok]))}
    summary["sampled_lsb"] = {k: float(f(cols["sampled_lsb"][ok])) for k, f in
                              (("min", np.nanmin), ("median", np.nanmedian), ("max", np.nanmax))}
    summary["v_cp_v"] = {k: float(f(cols["v_cp_v"][ok])) for k, f in (("min", np.nanmin), ("max", np.nanmax))}
    codes, counts = np.unique(np.asarray(cols["read_as"])[ok], return_counts=True)
    summary["read_as"] = {str(a): int(c) for a, c in zip(read_as_names(board, codes), counts)}
    summary["misread"] = _rate(int(np.sum(cols["misread"][ok])), n)
    debounce = board.firmware.debounce
    summary["single_reading_misread"] = _rate(int(np.sum(cols["wrong_readings"][ok])), n * debounce)
    fit = _fit(cols, ok)
    window = board.firmware.thresholds_counts.get(state[0])
    summary["margins"] = [] if window is None else _margins(cols, ok, window, board.adc.top_code, fit)
    if fit is not None:
        names_f, coef, _, sds = fit
        spans = {nm: float(abs(c) * (np.max(cols[nm][ok]) - np.min(cols[nm][ok])) / sds[nm])
                 for nm, c in zip(names_f, coef)}
        summary["sensitivity_lsb"] = {k: round(v, 4) for k, v in sorted(spans.items(), key=lambda kv: -kv[1])}
    return summary


def worst_variations(board: Board, results: Mapping[str, Mapping[str, np.ndarray]], count: int) -> list[dict]:
    """The ``count`` variations closest to (or beyond) a threshold of their state, misreads first."""
    rows = []
    for state, cols in results.items():
        window = board.firmware.thresholds_counts.get(state[0])
        ok = np.asarray(cols["error"], dtype=object) == ""
        if window is None or not ok.any():
            continue
        lo, hi = window
        x = cols["sampled_lsb"]
        margin = x - (lo - 0.5)
        if hi < board.adc.top_code:
            margin = np.minimum(margin, (hi - 0.5) - x)
        key = np.where(ok, margin - 1e9 * cols["misread"], np.inf)
        for i in np.argsort(key, kind="stable")[:count]:
            if not ok[i]:
                continue
            rows.append({"state": state, "run": int(cols["run"][i]), "margin_lsb": float(margin[i]),
                         "code": float(cols["code"][i]),
                         "read_as": str(read_as_names(board, cols["read_as"][i:i + 1])[0]),
                         "misread": bool(cols["misread"][i]), "v_cp_v": float(cols["v_cp_v"][i]),
                         "parameters": {p: float(cols[p][i]) for p in FIT_COLUMNS if p in cols}})
    rows.sort(key=lambda r: (not r["misread"], r["margin_lsb"]))
    return rows[:count]


def recommend(board: Board, results: Mapping[str, Mapping[str, np.ndarray]]) -> dict:
    """Recommended windows, the boundaries with their margins, and the board's own smallest margin."""
    spans: dict[str, list[float]] = {}
    for state, cols in results.items():
        ok = np.asarray(cols["error"], dtype=object) == ""
        letter = state[0]
        if not ok.any() or letter not in board.firmware.thresholds_counts:
            continue
        lo_c, hi_c = float(np.min(cols["code_min"][ok])), float(np.max(cols["code_max"][ok]))
        median = float(np.median(cols["code"][ok]))
        old = spans.get(letter)
        spans[letter] = [lo_c, hi_c, median] if old is None else [min(old[0], lo_c), max(old[1], hi_c), old[2]]
    fw = board.firmware.thresholds_counts
    order = sorted(fw, key=lambda s: -fw[s][0])  # the board's windows, highest codes first
    windows = {s: list(w) for s, w in fw.items()}
    boundaries: list[dict] = []
    notes: list[str] = []
    for upper, lower in zip(order, order[1:]):
        missing = [s for s in (upper, lower) if s not in spans]
        if missing:
            notes.append(f"the {upper}/{lower} boundary ({fw[upper][0]} counts) was not re-derived: state "
                         f"{' and '.join(missing)} was not simulated (simulate both to recommend it)")
            continue
        u_min, l_max = spans[upper][0], spans[lower][1]
        t = int(math.floor((u_min + l_max) / 2.0)) + 1
        if not windows[lower][0] < t < windows[upper][1]:
            notes.append(f"the {upper}/{lower} boundary ({fw[upper][0]} counts) was not re-derived: the codes "
                         f"read in {upper} ({u_min:.0f}..) and {lower} (..{l_max:.0f}) would move it outside "
                         f"the neighbouring windows")
            continue
        margin: float = min(u_min - (t - 0.5), (t - 0.5) - l_max)
        now: float = min(u_min - (fw[upper][0] - 0.5), (fw[lower][1] - 0.5) - l_max)
        windows[upper][0], windows[lower][1] = t, t
        boundaries.append({"upper": upper, "lower": lower, "threshold_counts": t, "margin_lsb": margin,
                           "current_margin_lsb": now, "separable": margin > 0})
    return {
        "recommended_thresholds_counts": {s: [int(a), int(b)] for s, (a, b) in windows.items()},
        "recommended_margin_lsb": min((float(b["margin_lsb"]) for b in boundaries), default=None),
        "current_margin_lsb": min((float(b["current_margin_lsb"]) for b in boundaries), default=None),
        "boundaries": boundaries,
        "recommendation_notes": notes,
    }
