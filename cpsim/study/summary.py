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
* ``failures`` first of all: how many runs failed and their first distinct messages. Every
  statistic, yield and margin is over the runs that ran (``yield_over``); ``yield_of_all_runs``
  counts a failed run as a failure.
* ``misclassified`` carries the misread ``rate`` and its one-sided 95 % Clopper-Pearson upper
  bound ``rate_upper_95`` (:mod:`cpsim.study.stats`): zero misreads in N runs means a rate below
  about 3/N, not zero.
* ``sensitivity``: per state and level, the varied parameters by share of variance
  (:mod:`cpsim.study.sensitivity`); ``timing``: the spice engine's measured edges, frequency and
  pulse width against their limits (:mod:`cpsim.study.timing`).

The margin rule (the same in the CLI text, ``--json`` and the HTML report): limits are
inclusive, and a margin is judged as it is shown, rounded to :data:`MARGIN_RESOLUTION_V` (1 mV,
below the 8 mV step of a 12-bit scope on ±16 V). A level that a tolerance brings exactly onto a
limit (the generator's -12 V ± 0.6 V ends on the -11.4 V limit; the blocked diode's leakage lifts
it by µV) has a zero margin and passes: ``margin_shown_v`` 0.0, ``verdict`` "pass". The state
windows are the analyzer's: a level beyond one by less than half a millivolt is read as another
state, so its margin shows as -0.000 V and fails, in agreement with the misread count.

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
from .stats import misread_bound, misread_text

__all__ = ["summarize", "threshold_yield", "failures", "check_frame", "shown_margin", "format_margin_v", "STAT_COLUMNS",
           "MARGIN_RESOLUTION_V"]

MARGIN_RESOLUTION_V = 1e-3
"""Margins are judged and shown rounded to 1 mV (see the module docstring)."""
MAX_MESSAGES = 5
"""Distinct failure messages listed in the summary."""

STAT_COLUMNS = ("v_high", "v_low", "measured_duty", "measured_frequency_hz", "measured_rise_time_s",
                "measured_fall_time_s", "current_a", "overshoot", "undershoot")
"""Measurement columns summarised per state (those present in the frame)."""

_PROFILES_REPORTED = ("iec61851", "j1772")


def _f(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def check_frame(df):
    """``df`` if it is a results frame; the level columns are added (NaN) when no run measured them."""
    missing = {"run", "expected_state", "state", "error"} - set(df.columns)
    if missing:
        raise ParameterError(f"not a cpsim results frame: missing column(s) {', '.join(sorted(missing))}")
    absent = [c for c in ("v_high", "v_low") if c not in df.columns]
    if absent:  # every run failed (a results file of an older cpsim): nothing was measured
        attrs = dict(df.attrs)
        df = df.assign(**dict.fromkeys(absent, np.nan))
        df.attrs.update(attrs)
    return df


_check_frame = check_frame


def shown_margin(margin: float | None, *, state_window: bool = False) -> tuple[float | None, str]:
    """(margin as shown, verdict) under the margin rule (module docstring); (None, "n/a") without a margin."""
    if margin is None or not math.isfinite(margin):
        return None, "n/a"
    shown = round(margin / MARGIN_RESOLUTION_V) * MARGIN_RESOLUTION_V + 0.0
    if state_window and margin < 0 and shown == 0:
        return -0.0, "fail"  # the analyzer reads this level as another state
    return shown, ("pass" if shown >= 0 else "fail")


def format_margin_v(shown: float | None) -> str:
    """``"+0.528 V"``, ``"0.000 V"``, ``"-0.000 V"`` (less than 0.5 mV beyond a state window)."""
    if shown is None:
        return "n/a"
    if shown == 0:
        return ("-" if math.copysign(1.0, shown) < 0 else "") + "0.000 V"
    return f"{shown:+.3f} V"


def failures(df) -> dict[str, Any]:
    """How many runs failed and their first :data:`MAX_MESSAGES` distinct messages (in run order)."""
    bad = df["error"].notna().to_numpy()
    n = int(len(df))
    out: dict[str, Any] = {"count": int(bad.sum()), "fraction": float(bad.sum()) / n if n else None,
                           "distinct": 0, "messages": []}
    if bad.any():
        err = df.loc[bad, ["run", "error"]].astype({"error": object})
        groups = err.groupby("error", sort=False)["run"].agg(["count", "min"]).sort_values("min", kind="stable")
        out["distinct"] = int(len(groups))
        out["messages"] = [{"message": str(m), "count": int(row["count"]), "first_run": int(row["min"])}
                           for m, row in groups.head(MAX_MESSAGES).iterrows()]
    return out


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


def _threshold(state, level, edge, threshold, m, k, runs, source, *, state_window) -> dict[str, Any]:
    raw = None if k is None else _f(m[k])
    shown, verdict = shown_margin(raw, state_window=state_window)
    return {"state": state, "level": level, "edge": edge, "threshold_v": threshold, "min_margin_v": raw,
            "margin_shown_v": shown, "verdict": verdict, "run": None if k is None else int(runs[k]),
            "source": source}


def yield_fields(profile_name: str, valid: int, n_wrong: int, rows: int, as_counts: dict[str, int],
                 wrong_runs: np.ndarray) -> dict[str, Any]:
    """The yield and misread entries of a summary, from counts (shared by :func:`summarize` and the
    streamed study's online summary, so both say the same)."""
    return {
        "profile": profile_name,
        "valid_runs": valid,
        "yield": (valid - n_wrong) / valid if valid else None,
        "yield_over": "valid runs",
        "yield_of_all_runs": (valid - n_wrong) / rows if rows else None,
        "misclassified": {
            "count": n_wrong,
            "fraction": n_wrong / valid if valid else None,
            "rate": n_wrong / valid if valid else None,
            "rate_upper_95": _f(misread_bound(n_wrong, valid)) if valid else None,
            "rate_text": misread_text(n_wrong, valid),
            "as": dict(sorted(as_counts.items())),
            "runs": [int(r) for r in wrong_runs],
        },
    }


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
    df = _check_frame(df)
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
    n_wrong = int(wrong.sum())
    out: dict[str, Any] = {
        **yield_fields(margin_profile.name, valid, n_wrong, len(df), as_counts, df["run"].to_numpy()[wrong][:100]),
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
            out["thresholds"].append(_threshold(exp, column, edge, threshold, m, k, df["run"].to_numpy()[sel],
                                                window.source, state_window=True))
        if exp[:1] in "ABCD" and not exp.endswith("1"):
            low = df["v_low"].to_numpy(float)[sel]
            w = margin_profile.low_window
            for edge, threshold, m in (("lo", w.lo, low - w.lo), ("hi", w.hi, w.hi - low)):
                k = int(np.nanargmin(m)) if np.isfinite(m).any() else None
                out["thresholds"].append(_threshold(exp, "v_low", edge, threshold, m, k, df["run"].to_numpy()[sel],
                                                    w.source, state_window=False))
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
    from .sensitivity import METHOD, _analyse
    from .timing import timing_checks

    df = _check_frame(df)
    y = threshold_yield(df, profile)
    margins, wrong = y.pop("_margins"), y.pop("_wrong")
    ok = df["error"].isna().to_numpy()
    seeds = df["seed"].unique().tolist() if "seed" in df else []
    by_profile = {}
    for name in _PROFILES_REPORTED:
        r = threshold_yield(df, name)
        by_profile[name] = {"yield": r["yield"], "misclassified": r["misclassified"]["count"]}
    ranking, fit = _analyse(df)
    out: dict[str, Any] = {
        "runs": int(len(df)),
        "failures": failures(df),
        "seed": seeds[0] if len(seeds) == 1 else seeds,
        "engine": df.attrs.get("engine"),
        "state": [std.STATES[c] for c in np.flatnonzero(np.bincount(_codes(df["expected_state"]) + 1)[1:])],
        "errors": int((~ok).sum()),
        "unfinished": int(df["error"].astype(str).str.startswith("unfinished:", na=False).sum()),
        "statistics": _statistics(df, ok),
        **y,
        "worst_cases": _worst_cases(df, ok, margins, wrong, worst, profile),
        "yield_by_profile": by_profile,
        "sensitivity": ranking,
        "sensitivity_fit": fit,
        "sensitivity_method": METHOD,
        "timing": timing_checks(df, std.get_profile(y["profile"]) if profile is None else std.get_profile(profile)),
    }
    return StudySummary(out)


class StudySummary(dict):
    """A study's summary: the JSON-ready dict :func:`summarize` documents, shown as a small table in a
    notebook and as a few lines by ``print``."""

    def _lines(self) -> list[tuple[str, str]]:
        rows = [("runs", f"{self.get('runs', 0):,} (seed {self.get('seed')}, engine {self.get('engine')})"),
                ("failed runs", str(self.get("errors", 0))),
                ("yield", "n/a" if self.get("yield") is None else f"{100 * self['yield']:.4f} %"),
                ("profile", str(self.get("profile", "")))]
        mis = self.get("misclassified") or {}
        if mis:
            bound = mis.get("rate_upper_95")
            rows.append(("misread", f"{mis.get('count', 0)}" + ("" if bound is None else
                                                                 f" (95 % bound {100 * bound:.3g} %)")))
        for state, levels in (self.get("sensitivity") or {}).items():
            for level, ranking in levels.items():
                top = ", ".join(f"{e['parameter']} {100 * e['share']:.0f} %" for e in ranking[:3])
                rows.append((f"{state} {level} driven by", top))
        return rows

    def __str__(self) -> str:
        return "\n".join(f"{k}: {v}" for k, v in self._lines())

    def _repr_html_(self) -> str:
        from ..display import html_table

        return html_table(self._lines(), caption="tolerance study")


def _statistics(df, ok) -> dict[str, dict]:
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
    return stats


def _worst_cases(df, ok, margins, wrong, worst, profile) -> list[dict]:
    """Misclassified runs first, then by margin (most negative first); failed runs never."""
    from .variations import INTERNAL_PARAMETERS

    order_key = np.where(wrong, -np.inf, np.where(np.isnan(margins), np.inf, margins))
    order_key = np.where(ok, order_key, np.nan)
    k = max(0, min(int(worst), int(ok.sum())))
    order = np.argsort(order_key, kind="stable")[:k]  # NaN (failed runs) sort last
    varying = [c for c in _parameter_columns(df) if c not in INTERNAL_PARAMETERS and df[c].min() != df[c].max()]
    read_as = _read_as(df, std.get_profile(profile) if profile is not None else None)
    cases = []
    for i in order:
        row = df.iloc[i]
        shown, verdict = shown_margin(_f(margins[i]), state_window=True)
        case = {"run": int(row["run"]), "expected_state": str(row["expected_state"]), "read_as": _name(read_as[i]),
                "v_high": _f(row["v_high"]), "v_low": _f(row["v_low"]), "margin_v": _f(margins[i]),
                "margin_shown_v": shown}
        case.update({c: _f(row[c]) for c in varying})
        cases.append(case)
    return cases


def _parameter_columns(df) -> list[str]:
    from .results import PARAMETER_COLUMNS

    return [c for c in PARAMETER_COLUMNS if c in df]
