"""What drives each level of a tolerance study: a ranking of the varied parameters by share of variance.

Method: for every simulated state and level (``v_high``, ``v_low``), an ordinary least-squares fit
of the standardised level on the standardised varied parameters (the valid runs only). With
independently drawn parameters the squared standardised coefficients β² split the variance the
fit explains among the parameters; each parameter's **share** is β² / Σβ² (the shares sum to 1).
The fit's R² says how much of the level's variance that linear picture explains: the settled
levels of the pilot are smooth, nearly linear functions of the components over their tolerances
(R² > 0.99 with the default tolerances). A parameter with a small share can still matter at a
corner; the ranking says what moves the level most across the study, as a tornado chart does.

Each entry also says the ``direction`` of the effect: +1 when raising the parameter raises the
level, -1 when it lowers it. Shares below :data:`MIN_SHARE` (fit noise of a parameter that does not
act on the level, e.g. the cable capacitance on the settled plateau) are left out.

Only the parameters a user varies are ranked: ``diode_area`` (cpsim's mapping of ``diode_dvf_v``
onto ngspice) and parameters held fixed are left out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .variations import INTERNAL_PARAMETERS, PARAMETERS

__all__ = ["METHOD", "LEVELS", "sensitivity", "sensitivity_fit"]

METHOD = ("share of variance: squared standardised regression coefficients of a linear least-squares fit of "
          "the level on the varied parameters, normalised to sum to 1 (R² of the fit in sensitivity_fit)")
LEVELS = ("v_high", "v_low")
MIN_SHARE = 1e-6
"""Shares below one part per million are left out: fit noise of a parameter that does not act."""
_MIN_RUNS = 10


def _user_parameters(df) -> list[str]:
    return [c for c in PARAMETERS if c in df.columns and c not in INTERNAL_PARAMETERS]


def _rank(x: np.ndarray, y: np.ndarray, names: list[str]) -> tuple[list[dict[str, Any]], float] | None:
    """(ranking, R²) of the standardised fit of y on the columns of x, or None when y does not vary."""
    if y.size < max(_MIN_RUNS, len(names) + 2) or not np.ptp(y) > 0:
        return None
    keep = np.ptp(x, axis=0) > 0  # a fixed parameter (its std may be a rounding error, not 0) is no input
    sx, sy = x.std(axis=0), y.std()
    if not keep.any():
        return None
    z = (x[:, keep] - x[:, keep].mean(axis=0)) / sx[keep]
    zy = (y - y.mean()) / sy
    beta, *_ = np.linalg.lstsq(z, zy, rcond=None)
    resid = zy - z @ beta
    r2 = float(1.0 - resid @ resid / (zy @ zy))
    power = beta ** 2
    total = float(power.sum())
    kept = [n for n, k in zip(names, keep) if k]
    shares = power / total if total > 0 else np.zeros_like(power)
    order = [i for i in np.argsort(-shares, kind="stable") if shares[i] >= MIN_SHARE]
    return [{"parameter": kept[i], "share": float(shares[i]), "direction": int(np.sign(beta[i]))}
            for i in order], r2


def _analyse(df) -> tuple[dict, dict]:
    ranking: dict[str, dict[str, list]] = {}
    fit: dict[str, dict[str, float]] = {}
    if "error" not in df or "expected_state" not in df:
        return ranking, fit
    ok = df["error"].isna().to_numpy()
    names = _user_parameters(df)
    if not names or not ok.any():
        return ranking, fit
    x_all = df[names].to_numpy(float)
    states = df["expected_state"].astype(str).to_numpy()
    for state in dict.fromkeys(states[ok]):
        sel = ok & (states == state)
        for level in LEVELS:
            if level not in df:
                continue
            y = df[level].to_numpy(float)[sel]
            x = x_all[sel]
            finite = np.isfinite(y) & np.isfinite(x).all(axis=1)
            result = _rank(x[finite], y[finite], names)
            if result is None:
                continue
            ranking.setdefault(str(state), {})[level] = result[0]
            fit.setdefault(str(state), {})[level] = result[1]
    return ranking, fit


def sensitivity(df) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``{state: {level: [{"parameter", "share", "direction"}, ...]}}``, largest share first (see the module docstring).

    Examples
    --------
    >>> from cpsim.study.runner import run_montecarlo
    >>> sensitivity(run_montecarlo("C", 2000, seed=1))["C2"]["v_high"][0]["parameter"]
    'v_high_v'
    """
    return _analyse(df)[0]


def sensitivity_fit(df) -> dict[str, dict[str, float]]:
    """R² of each state's and level's linear fit: how much of the variance the ranking accounts for."""
    return _analyse(df)[1]
