"""What a tolerance study means for a reader of the pilot: statistics, threshold yield, margins.

:func:`summarize` turns a results frame of :func:`cpsim.study.runner.run_montecarlo` (or
:func:`cpsim.study.corners.run_corners`) into a plain dict (JSON-ready):

* ``statistics``: per simulated state, min / max / mean / σ of the levels (and, for the
  spice engine, of duty, frequency and edges);
* ``yield``: the fraction of the valid runs read as the state that was simulated;
  ``misclassified``: how many were not, as what, and which runs;
* ``thresholds``: the margin of the levels to each edge of the expected state's window
  (:meth:`cpsim.standard.Window.margin`, positive inside) and of the low level to the
  profile's low window; ``worst_cases``: the runs closest to (or beyond) a threshold.

Which state a run is read as: with ``profile=None`` the ``state`` recorded by the engine (the
analyzer's reading for ``spice``, its rules applied to the closed-form levels for ``fast``).
With a profile, the settled levels are classified again by the analyzer's rules
(:func:`cpsim.study.engines.classify`), so one study can be judged against any thresholds,
e.g. ``custom_profile({"C": (5.5, 6.5)})``, without simulating again.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from .. import standard as std
from ..errors import ParameterError

__all__ = ["summarize", "threshold_yield", "STAT_COLUMNS"]

STAT_COLUMNS = ("v_high", "v_low", "measured_duty", "measured_frequency_hz", "measured_rise_time_s",
                "measured_fall_time_s", "current_a", "overshoot", "undershoot")
"""Measurement columns summarised per state (those present in the frame)."""

_PROFILES_REPORTED = ("iec61851", "j1772")


def _f(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _check_frame(df) -> None:
    missing = {"run", "expected_state", "state", "error", "v_high", "v_low"} - set(df.columns)
    if missing:
        raise ParameterError(f"not a cpsim results frame: missing column(s) {', '.join(sorted(missing))}")


def _codes(column) -> np.ndarray:
    """State names -> codes into :data:`cpsim.standard.STATES` (-1 for missing)."""
    import pandas as pd

    return pd.Categorical(column, categories=std.STATES).codes.astype(np.int16)


def _read_as(df, profile) -> np.ndarray:
    """State code every row is read as (-1 for rows with an error)."""
    from .engines import classify

    if profile is None:
        return _codes(df["state"])
    out = np.full(len(df), -1, dtype=np.int16)
    expected = _codes(df["expected_state"])
    v_high, v_low = df["v_high"].to_numpy(float), df["v_low"].to_numpy(float)
    for code in np.flatnonzero(np.bincount(expected[expected >= 0], minlength=len(std.STATES))):
        sel = expected == code
        out[sel] = classify(std.STATES[code], v_high[sel], v_low[sel], profile)
    return out


def _name(code) -> str | None:
    return None if code < 0 else std.STATES[int(code)]


def _window_of(expected: str, profile: std.LimitsProfile):
    letter = expected[:1]
    if letter == "F":
        return "F", profile.f_window, "v_low"
    window = profile.high_windows.get(letter)
    return (letter, window, "v_high") if window is not None else (letter, None, "v_high")


def threshold_yield(df, profile=None) -> dict:
    """Yield, misclassification counts and margins of a results frame against ``profile``.

    Parameters
    ----------
    df : pandas.DataFrame
        Results of a tolerance study.
    profile : str, LimitsProfile or None
        ``None``: judge the recorded states (and margins against the study's own profile
        when it is a built-in one, else IEC 61851). Otherwise classify the levels again.
    """
    _check_frame(df)
    judged = std.get_profile(profile) if profile is not None else None
    margin_profile = judged or std.get_profile(df.attrs.get("profile", "iec61851")
                                               if df.attrs.get("profile") in std.PROFILES else "iec61851")
    ok = df["error"].isna().to_numpy()
    read_as = _read_as(df, judged)
    expected = _codes(df["expected_state"])
    wrong = ok & (read_as != expected)
    valid = int(ok.sum())
    counts = np.bincount(read_as[wrong] + 1, minlength=len(std.STATES) + 1)
    as_counts = {str(_name(c - 1)): int(n) for c, n in enumerate(counts) if n}
    out: dict[str, Any] = {
        "profile": margin_profile.name,
        "valid_runs": valid,
        "yield": (valid - int(wrong.sum())) / valid if valid else None,
        "misclassified": {
            "count": int(wrong.sum()),
            "fraction": int(wrong.sum()) / valid if valid else None,
            "as": dict(sorted(as_counts.items())),
            "runs": df["run"].to_numpy()[wrong][:100].tolist(),
        },
        "thresholds": [],
    }
    margins = np.full(len(df), np.nan)
    for code in np.flatnonzero(np.bincount(expected[expected >= 0], minlength=len(std.STATES))):
        exp = std.STATES[code]
        sel = ok & (expected == code)
        letter, window, column = _window_of(exp, margin_profile)
        if window is None or not sel.any():
            continue
        v = df[column].to_numpy(float)[sel]
        margins[sel] = window.margin(v)
        for edge, threshold, m in (("lo", window.lo, v - window.lo), ("hi", window.hi, window.hi - v)):
            k = int(np.nanargmin(m)) if np.isfinite(m).any() else None
            out["thresholds"].append({
                "state": exp, "level": column, "edge": edge, "threshold_v": threshold,
                "min_margin_v": None if k is None else _f(m[k]),
                "run": None if k is None else int(df["run"].to_numpy()[sel][k]), "source": window.source,
            })
        if exp[:1] in "ABCD" and not exp.endswith("1"):
            low = df["v_low"].to_numpy(float)[sel]
            w = margin_profile.low_window
            for edge, threshold, m in (("lo", w.lo, low - w.lo), ("hi", w.hi, w.hi - low)):
                k = int(np.nanargmin(m)) if np.isfinite(m).any() else None
                out["thresholds"].append({
                    "state": exp, "level": "v_low", "edge": edge, "threshold_v": threshold,
                    "min_margin_v": None if k is None else _f(m[k]),
                    "run": None if k is None else int(df["run"].to_numpy()[sel][k]), "source": w.source,
                })
    out["_margins"] = margins
    out["_wrong"] = wrong
    return out


def summarize(df: pd.DataFrame, profile: str | std.LimitsProfile | None = None, *, worst: int = 10) -> dict:
    """Statistics, threshold yield, margins and worst cases of a tolerance study (JSON-ready dict).

    Parameters
    ----------
    df : pandas.DataFrame
        Results of :func:`~cpsim.study.runner.run_montecarlo` or :func:`~cpsim.study.corners.run_corners`.
    profile : str, LimitsProfile or None
        Thresholds to judge against (see the module docstring); ``None`` uses the recorded states.
    worst : int
        How many worst cases to list: misclassified runs first, then the smallest margins.

    Returns
    -------
    dict
        ``runs``, ``seed``, ``engine``, ``profile``, ``errors``, ``statistics`` (per state),
        ``yield``, ``misclassified``, ``thresholds``, ``worst_cases``, ``yield_by_profile``.
    """
    _check_frame(df)
    y = threshold_yield(df, profile)
    margins, wrong = y.pop("_margins"), y.pop("_wrong")
    ok = df["error"].isna().to_numpy()
    seeds = df["seed"].unique().tolist() if "seed" in df else []
    stats: dict[str, dict] = {}
    for exp, idx in df[ok].groupby("expected_state", observed=True).indices.items():
        rows = df[ok].iloc[idx]
        per = {}
        for col in STAT_COLUMNS:
            if col in rows:
                v = rows[col].to_numpy(float)
                v = v[np.isfinite(v)]
                if v.size:
                    per[col] = {"min": _f(v.min()), "max": _f(v.max()), "mean": _f(v.mean()),
                                "std": _f(v.std(ddof=1)) if v.size > 1 else 0.0, "count": int(v.size)}
        stats[str(exp)] = per
    # worst cases: misclassified first, then by margin (most negative first)
    order_key = np.where(wrong, -np.inf, np.where(np.isnan(margins), np.inf, margins))
    k = max(0, min(int(worst), order_key.size))
    order = np.argpartition(order_key, k - 1)[:k] if 0 < k < order_key.size else np.arange(k)
    order = order[np.lexsort((order, order_key[order]))]  # by key, then by run order
    kept = [i for i in order if ok[i]]
    varying = [c for c in _parameter_columns(df) if df[c].min() != df[c].max()]
    read_as = _read_as(df, std.get_profile(profile) if profile is not None else None)
    worst_cases = []
    for i in kept:
        row = df.iloc[i]
        case = {"run": int(row["run"]), "expected_state": str(row["expected_state"]), "read_as": _name(read_as[i]),
                "v_high": _f(row["v_high"]), "v_low": _f(row["v_low"]), "margin_v": _f(margins[i])}
        case.update({c: _f(row[c]) for c in varying})
        worst_cases.append(case)
    by_profile = {}
    for name in _PROFILES_REPORTED:
        r = threshold_yield(df, name)
        by_profile[name] = {"yield": r["yield"], "misclassified": r["misclassified"]["count"]}
    out: dict[str, Any] = {
        "runs": int(len(df)),
        "seed": seeds[0] if len(seeds) == 1 else seeds,
        "engine": df.attrs.get("engine"),
        "state": [std.STATES[c] for c in np.flatnonzero(np.bincount(_codes(df["expected_state"]) + 1)[1:])],
        "errors": int((~ok).sum()),
        "unfinished": int(df["error"].astype(str).str.startswith("unfinished:", na=False).sum()),
        "statistics": stats,
        **y,
        "worst_cases": worst_cases,
        "yield_by_profile": by_profile,
    }
    return out


def _parameter_columns(df) -> list[str]:
    from .results import PARAMETER_COLUMNS

    return [c for c in PARAMETER_COLUMNS if c in df]
