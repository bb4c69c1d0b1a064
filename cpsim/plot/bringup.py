"""Plots of a virtual bring-up: the codes the firmware computes per state, against its thresholds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._figure import _state_color, new_figure, style

__all__ = ["code_histograms"]


def code_histograms(result, *, axes=None, states: Sequence[str] | None = None, recommended: bool = True,
                    pyplot: bool = True):
    """Histograms of the readings (ADC counts) of every simulated state, against the board's windows.

    Parameters
    ----------
    result : BringupResult
        A study of :func:`cpsim.bringup`.
    axes : sequence of Axes, optional
        One per state; by default one figure with a row of subplots.
    states : sequence of str, optional
        Which states to draw (default: all simulated).
    recommended : bool
        Also draw the recommended thresholds (dashed).
    pyplot : bool
        Make the figure with pyplot (shown in notebooks) or as a bare Agg figure (reports).

    Returns
    -------
    list of matplotlib Axes
        Bars of correct readings carry gid ``code-ok``, misread ones ``code-misread``; the board's
        thresholds ``threshold``, the recommended ones ``recommended``.
    """
    summary = result.summary
    wanted = list(states) if states is not None else list(result.columns)
    if not wanted:
        raise ValueError("no states to plot")
    windows = summary["thresholds_counts"]
    proposed = summary.get("recommended_thresholds_counts", {})
    with style():
        if axes is None:
            fig = new_figure(figsize=(max(3.6 * len(wanted), 6.0), 4.2), layout="constrained", pyplot=pyplot)
            axes = list(np.atleast_1d(fig.subplots(1, len(wanted), squeeze=False)[0]))
        axes = list(np.atleast_1d(axes))
        if len(axes) < len(wanted):
            raise ValueError(f"{len(wanted)} states need {len(wanted)} axes, got {len(axes)}")
        for ax, state in zip(axes, wanted):
            _one(ax, state, result.columns[state], summary, windows, proposed if recommended else {})
    return axes


def _one(ax, state: str, cols, summary: dict, windows: dict, proposed: dict) -> None:
    ok = np.asarray(cols["error"], dtype=object) == ""
    code = np.asarray(cols["code"], dtype=float)[ok]
    wrong = np.asarray(cols["misread"], dtype=bool)[ok]
    lo, hi = (float(code.min()), float(code.max())) if code.size else (0.0, 1.0)
    edges = np.arange(np.floor(lo) - 0.5, np.ceil(hi) + 1.5, max(1.0, np.ceil((hi - lo + 1) / 80)))
    _, _, bars = ax.hist(code[~wrong], bins=edges, color=_state_color(state), alpha=0.85,
                         label=f"read as {state[0]} ({int((~wrong).sum()):,})")
    for patch in bars:
        patch.set_gid("code-ok")
    if wrong.any():
        _, _, bars = ax.hist(code[wrong], bins=edges, color="#c0392b", alpha=0.9,
                             label=f"misread ({int(wrong.sum()):,})")
        for patch in bars:
            patch.set_gid("code-misread")
    span = max(hi - lo, 10.0)
    view = (lo - 0.6 * span, hi + 0.6 * span)
    for letter, (w_lo, w_hi) in windows.items():
        for edge in (w_lo, w_hi):
            if view[0] <= edge - 0.5 <= view[1]:
                line = ax.axvline(edge - 0.5, color="#34495e", lw=1.4)
                line.set_gid("threshold")
                ax.annotate(str(edge), (edge - 0.5, 1.0), xycoords=("data", "axes fraction"), fontsize=8,
                            ha="center", va="bottom", color="#34495e")
        mid = (max(w_lo, view[0]) + min(w_hi, view[1])) / 2
        if w_lo < view[1] and w_hi > view[0]:
            ax.text(mid, 0.93, letter, transform=ax.get_xaxis_transform(), ha="center", fontsize=10,
                    color=_state_color(letter))
    drawn = False
    for letter, (w_lo, _) in proposed.items():
        if view[0] <= w_lo - 0.5 <= view[1] and w_lo != windows.get(letter, [None])[0]:
            line = ax.axvline(w_lo - 0.5, color="#8e44ad", lw=1.2, ls="--",
                              label=None if drawn else "recommended threshold")
            line.set_gid("recommended")
            drawn = True
    st = summary["states"].get(state, {})
    m = st.get("misread", {})
    ax.set_xlim(*view)
    ax.set_title(f"{state}: {len(code):,} variations, misread {m.get('count', 0)}", loc="left", fontsize=11)
    ax.set_xlabel("reading [ADC counts]")
    ax.set_ylabel("variations")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize=8, frameon=False)
