"""Plots of tolerance studies: per-state level histograms against the threshold windows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import standard as std
from ..units import format_percent as _pct
from ._figure import _state_color, new_figure, style


def _level_column(expected: str) -> str:
    return "v_low" if str(expected).startswith("F") else "v_high"


def montecarlo(df, *, axes=None, profile: str | std.LimitsProfile | None = None,
               compare: Sequence[str | std.LimitsProfile] = (), bins: int = 60, states: Sequence[str] | None = None):
    """Histograms of the judged level of every simulated state, against the threshold windows.

    Parameters
    ----------
    df : pandas.DataFrame
        Results of :func:`cpsim.run_montecarlo` (several states may be concatenated).
    axes : sequence of Axes, optional
        One per state; by default a row of subplots.
    profile : str or LimitsProfile, optional
        Thresholds the runs are judged by (default: the study's own, else IEC 61851). Runs read
        as another state are stacked in red.
    compare : sequence of profiles
        More windows drawn dashed (e.g. ``("j1772",)`` or a firmware's :func:`custom_profile`).
    states : sequence of str, optional
        Which ``expected_state`` values to plot (default all, in the order A…F).

    Returns
    -------
    list of matplotlib Axes
        Histogram bars of runs read correctly carry gid ``mc-ok``, misread ones ``mc-misread``;
        threshold lines ``threshold``.
    """
    from ..study.summary import threshold_yield

    prof = std.get_profile(profile if profile is not None else
                           (df.attrs.get("profile") if df.attrs.get("profile") in std.PROFILES else "iec61851"))
    others = [std.get_profile(p) for p in compare]
    ok = df["error"].isna()
    present = [str(s) for s in df.loc[ok, "expected_state"].unique()]
    wanted = [s for s in std.STATES if s in present] if states is None else [str(s) for s in states]
    if not wanted:
        raise ValueError("no valid runs to plot")
    with style():
        if axes is None:
            n = len(wanted)
            fig = new_figure(figsize=(max(4.3 * n, 6.0), 4.6), layout="constrained")
            axes = list(np.atleast_1d(fig.subplots(1, n, squeeze=False)[0]))
        axes = list(np.atleast_1d(axes))
        if len(axes) < len(wanted):
            raise ValueError(f"{len(wanted)} states need {len(wanted)} axes, got {len(axes)}")
        for ax, state in zip(axes, wanted):
            rows = df[(ok & (df["expected_state"] == state)).to_numpy()]
            col = _level_column(state)
            v = rows[col].to_numpy(float)
            judged = threshold_yield(rows, prof)
            wrong = judged["_wrong"]
            letter = state[:1]
            window = prof.f_window if letter == "F" else prof.high_windows.get(letter)
            finite = np.isfinite(v)
            lo, hi = (float(np.min(v[finite])), float(np.max(v[finite]))) if finite.any() else (0.0, 1.0)
            if hi - lo < 1e-9:
                lo, hi = lo - 0.05, hi + 0.05
            n_bins = int(min(bins, max(8, 2 * np.sqrt(finite.sum()))))  # few runs: few, wider bins
            edges = np.linspace(lo, hi, n_bins + 1)
            good = v[finite & ~wrong]
            bad = v[finite & wrong]
            _, _, p1 = ax.hist(good, bins=edges, color=_state_color(state), alpha=0.85,
                               label=f"read as {state} ({good.size:,})")
            for patch in p1:
                patch.set_gid("mc-ok")
            if bad.size:
                _, _, p2 = ax.hist(bad, bins=edges, color="#c0392b", alpha=0.9, label=f"misread ({bad.size:,})")
                for patch in p2:
                    patch.set_gid("mc-misread")
            if window is not None:
                for i, x in enumerate((window.lo, window.hi)):
                    line = ax.axvline(x, color="#c0392b", lw=1.6, label=(
                        f"{prof.name} {letter}: {window.lo:g}–{window.hi:g} V, yield {_pct(judged['yield'])}"
                        if i == 0 else None))
                    line.set_gid("threshold")
                ax.axvspan(window.lo, window.hi, color="#2ecc71", alpha=0.06, lw=0, zorder=0)
            for other, ls in zip(others, ("--", "-.", ":")):
                w = other.f_window if letter == "F" else other.high_windows.get(letter)
                if w is None:
                    continue
                y_other = threshold_yield(rows, other)["yield"]
                for i, x in enumerate((w.lo, w.hi)):
                    line = ax.axvline(x, color="#34495e", lw=1.2, ls=ls,
                                      label=(f"{other.name} {letter}: {w.lo:g}–{w.hi:g} V, yield {_pct(y_other)}"
                                             if i == 0 else None))
                    line.set_gid("threshold")
            engine = rows.attrs.get("engine") or df.attrs.get("engine") or ""
            ax.set_title(f"{state}: {len(rows):,} runs" + (f" ({engine})" if engine else ""), loc="left")
            ax.set_xlabel(f"{'V− (steady)' if col == 'v_low' else 'V+ (high level)'} [V]")
            ax.set_ylabel("runs")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=9, frameon=False)
            ax.yaxis.set_major_locator(_integer_ticks())
            ax.yaxis.set_major_formatter(_thousands())
            ax.set_ylim(0, ax.get_ylim()[1] * 1.1)
    return axes


def _integer_ticks():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _thousands():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: f"{x:,.0f}")




def tornado(study, *, state: str | None = None, level: str = "v_high", ax=None, top: int = 8):
    """What drives a level: the varied parameters by share of its variance, largest on top.

    Parameters
    ----------
    study : pandas.DataFrame or dict
        Results of :func:`cpsim.run_montecarlo`, or their :func:`cpsim.summarize` dict.
    state : str, optional
        Simulated state (``"C2"``); default the first in the study.
    level : {"v_high", "v_low"}
    ax : matplotlib Axes, optional
    top : int
        Parameters shown (the largest shares).

    Returns
    -------
    matplotlib Axes
        One bar per parameter (gid ``share``), its length the share in percent, to the right when
        raising the parameter raises the level, to the left when it lowers it. Method:
        :mod:`cpsim.study.sensitivity`.
    """
    from ..study.sensitivity import sensitivity, sensitivity_fit

    if isinstance(study, dict):
        ranking_all, fit_all = study.get("sensitivity") or {}, study.get("sensitivity_fit") or {}
    else:
        ranking_all, fit_all = sensitivity(study), sensitivity_fit(study)
    if not ranking_all:
        raise ValueError("no sensitivity: the study has no valid runs whose level varies")
    state = state or next(iter(ranking_all))
    ranking = (ranking_all.get(state) or {}).get(level)
    if not ranking:
        raise ValueError(f"no sensitivity of {state} {level} in this study (valid: "
                         f"{', '.join(f'{s} {lv}' for s, levels in ranking_all.items() for lv in levels)})")
    shown = ranking[:top][::-1]  # barh draws bottom-up: the largest on top
    with style():
        if ax is None:
            fig = new_figure(figsize=(6.4, 0.45 * len(shown) + 1.6), layout="constrained")
            ax = fig.subplots()
        widths = [100.0 * r["share"] * (r.get("direction") or 1) for r in shown]
        bars = ax.barh(range(len(shown)), widths, color=["#2e86c1" if w >= 0 else "#c0392b" for w in widths])
        for bar in bars:
            bar.set_gid("share")
        ax.set_yticks(range(len(shown)), [f"{r['parameter']} ({_share(r['share'])})" for r in shown])
        ax.axvline(0.0, color="#34495e", lw=1.0)
        lim = max(abs(w) for w in widths) * 1.1 or 1.0
        ax.set_xlim(-lim if min(widths) < 0 else -0.05 * lim, lim if max(widths) > 0 else 0.05 * lim)
        r2 = (fit_all.get(state) or {}).get(level)
        ax.set_title(f"What drives {state} {level}" + ("" if r2 is None else f" (linear fit R² {r2:.3f})"),
                     loc="left")
        ax.set_xlabel("← lowers it   share of variance [%]   raises it →")
    return ax


def _share(x: float) -> str:
    return f"{100 * x:.1f} %" if x >= 0.001 else f"{100 * x:.2g} %"
