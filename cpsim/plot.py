"""Plots of pilot captures and tolerance studies (matplotlib, imported only when a plot is drawn).

Every function draws into ``ax``/``axes`` when given (a notebook's own figure) or makes a figure
with :mod:`matplotlib.pyplot` (shown inline by Jupyter), and returns the axes. Units are in every
axis label; time is shown in µs, ms or s, whichever reads best.

==================  ============================================================================
:func:`waveform`    a capture (or a measurement's per-cycle levels) with the timeline's state
                    stretches shaded and, optionally, the profile's state windows
:func:`timeline`    the states over time as a coloured strip
:func:`overview`    :func:`waveform` above :func:`timeline` (the report's overview)
:func:`period_zoom` one PWM period with the measured levels and the 10 %/90 % points
:func:`edge_zoom`   one rising or falling edge, its 10 %/90 % crossings and rise/fall time
:func:`cycles`      per-cycle duty and frequency over time, against the frequency limits
:func:`montecarlo`  per-state level histograms of a tolerance study against the thresholds
==================  ============================================================================

Examples
--------
>>> import cpsim
>>> from cpsim.analysis.synthetic import Stretch, pilot_waveform
>>> wave = pilot_waveform([Stretch(0.01, 9.0, -12.0, 0.25), Stretch(0.01, 6.0, -12.0, 0.25)])
>>> ax = cpsim.plot.waveform(wave)                      # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Sequence

import numpy as np

from . import standard as std
from .units import format_percent as _pct

__all__ = ["waveform", "timeline", "overview", "period_zoom", "edge_zoom", "cycles", "montecarlo",
           "STATE_COLORS", "style", "new_figure", "figure_png"]

STATE_COLORS = {
    "A": "#8C8C8C", "B": "#0072B2", "C": "#009E73", "D": "#E69F00", "E": "#CC79A7", "F": "#D55E00",
    "invalid": "#000000",
}
"""Colour of each state letter (Okabe-Ito palette: distinguishable with colour-vision deficiencies)."""

_STYLE = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 100,
}
TRACE_COLOR = "#1a1a1a"
LEVEL_COLOR = "#c0392b"
MARK_COLOR = "#8e44ad"


# --------------------------------------------------------------------------------------------
# matplotlib plumbing

def _matplotlib():
    """Import matplotlib, choosing Agg when there is no display and no backend was asked for."""
    import matplotlib

    headless = sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or
                                                         os.environ.get("WAYLAND_DISPLAY"))
    if headless and "MPLBACKEND" not in os.environ and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    return matplotlib


@contextlib.contextmanager
def style():
    """Apply cpsim's plot style (legible fonts, light grid) inside a ``with`` block.

    Only the style's own keys are saved and restored: ``matplotlib.rc_context`` would also
    restore ``interactive``, which Jupyter's inline backend switches on when pyplot is first
    imported (possibly inside this block), and later figures would no longer be shown.
    """
    mpl = _matplotlib()
    saved = {k: mpl.rcParams[k] for k in _STYLE}
    mpl.rcParams.update(_STYLE)
    try:
        yield
    finally:
        mpl.rcParams.update(saved)


def new_figure(*, figsize=(10, 4), pyplot: bool = True, **kw):
    """A figure: from :mod:`matplotlib.pyplot` (shown in notebooks), or a bare Agg one (reports)."""
    _matplotlib()
    if pyplot:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=figsize, **kw)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, **kw)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig, path=None, *, dpi: int = 100) -> bytes:
    """Render ``fig`` as PNG bytes (and write them to ``path`` when given)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.12,
                metadata={"Software": "cpsim"})
    data = buf.getvalue()
    if path is not None:
        with open(path, "wb") as fh:
            fh.write(data)
    return data


def _axes(ax, figsize=(10, 4)):
    if ax is not None:
        return ax
    fig = new_figure(figsize=figsize)
    return fig.add_subplot(1, 1, 1)


def _time_unit(span_s: float) -> tuple[float, str]:
    """Scale factor and unit that make ``span_s`` read well."""
    span = abs(float(span_s))
    if span < 2e-3:
        return 1e6, "µs"
    if span < 2.0:
        return 1e3, "ms"
    return 1.0, "s"


def _state_color(state: str) -> str:
    s = str(state)
    return STATE_COLORS["invalid"] if s == "invalid" else STATE_COLORS.get(s[:1], STATE_COLORS["invalid"])


def _is_measurement(obj) -> bool:
    return hasattr(obj, "segments") and hasattr(obj, "cycles") and hasattr(obj, "state")


def _split(data, measurement, profile):
    """(wave or None, measurement) from what the caller passed."""
    from .waveform import Waveform

    if _is_measurement(data):
        return None, data
    if isinstance(data, Waveform):
        if measurement is None:
            from .analysis import analyze

            measurement = analyze(data, profile=profile)
        return data, measurement
    raise TypeError(f"expected a Waveform or a PilotMeasurement, got {type(data).__name__}")


def _envelope(t: np.ndarray, v: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Min/max decimation: every bin keeps its extremes, so edges and spikes stay visible."""
    n = t.size
    bins = max(1, int(max_points) // 2)
    if n <= max_points or n < 2 * bins:
        return t, v
    per = n // bins
    m = per * bins
    tb = t[:m].reshape(bins, per)
    vb = v[:m].reshape(bins, per)
    i_min = vb.argmin(axis=1)
    i_max = vb.argmax(axis=1)
    first = np.minimum(i_min, i_max)
    second = np.maximum(i_min, i_max)
    rows = np.arange(bins)
    tt = np.column_stack([tb[rows, first], tb[rows, second]]).ravel()
    vv = np.column_stack([vb[rows, first], vb[rows, second]]).ravel()
    if m < n:
        tt = np.concatenate([tt, t[m:]])
        vv = np.concatenate([vv, v[m:]])
    return tt, vv


# --------------------------------------------------------------------------------------------
# whole capture

def _shade_segments(ax, segments, scale: float, *, label: bool = True) -> list:
    patches = []
    seen = set()
    for s in segments:
        color = _state_color(s.state)
        name = s.state if (label and s.state not in seen) else None
        seen.add(s.state)
        patch = ax.axvspan(s.t_start * scale, s.t_end * scale, color=color, alpha=0.13, lw=0, zorder=0,
                           label=name)
        patch.set_gid("state-span")
        patches.append(patch)
    return patches


def _window_bands(ax, profile: std.LimitsProfile) -> list:
    """The profile's state windows as coloured bars just right of the plot (a ruler, not a fill)."""
    bars = []
    windows = dict(profile.high_windows)
    windows["F"] = profile.f_window
    trans = ax.get_yaxis_transform()
    for letter, w in windows.items():
        (bar,) = ax.plot([1.008, 1.008], [w.lo, w.hi], transform=trans, color=STATE_COLORS[letter], lw=5,
                         solid_capstyle="butt", clip_on=False)
        bar.set_gid("window-band")
        bars.append(bar)
        ax.text(1.018, (w.lo + w.hi) / 2, letter, transform=trans, va="center", ha="left", fontsize=9,
                color=STATE_COLORS[letter], fontweight="bold", clip_on=False)
    return bars


def waveform(data, *, ax=None, profile: "str | std.LimitsProfile" = "iec61851", measurement=None,
             shade: bool = True, windows: bool = True, legend: bool = True, title: str | None = None,
             max_points: int = 20_000, time_unit: str | None = None):
    """Plot a capture with its state stretches shaded.

    Parameters
    ----------
    data : Waveform or PilotMeasurement
        A capture (simulated or read); or a measurement, drawn as its per-cycle high and low
        levels (a measurement holds no samples).
    ax : matplotlib Axes, optional
    profile : str or LimitsProfile
        Limits profile: analyses a Waveform when no ``measurement`` is given, draws the windows.
    measurement : PilotMeasurement, optional
        The analysis of ``data`` (saves analysing it again).
    shade : bool
        Shade every stretch of the timeline in its state's colour (patches with gid ``state-span``).
    windows : bool
        Mark the profile's state windows of the CP level as coloured bars at the right edge (gid
        ``window-band``), with their letters.
    max_points : int
        Longer captures are drawn as a min/max envelope of this many points.
    time_unit : {"s", "ms", "µs"}, optional
        Default: chosen from the duration.

    Returns
    -------
    matplotlib Axes
    """
    prof = std.get_profile(profile)
    wave, m = _split(data, measurement, prof)
    with style():
        ax = _axes(ax, (10, 4))
        if wave is not None:
            t0, span = float(wave.t[0]), wave.duration_s
        else:
            t0, span = float(m.t_start), float(m.t_end - m.t_start)
        scale, unit = _unit(time_unit, span)
        if windows:
            _window_bands(ax, prof)
        if shade:
            _shade_segments(ax, m.segments, scale)
        if wave is not None:
            t, v = _envelope(wave.t, wave.v, max_points)
            ax.plot(t * scale, v, color=TRACE_COLOR, lw=0.7, label=None, zorder=2)
            ax.set_xlim(wave.t[0] * scale, wave.t[-1] * scale)
        else:
            c = m.cycles
            if len(c):
                ax.step(c.t_start * scale, c.v_high, where="post", color=TRACE_COLOR, lw=1.2, label="V+ per cycle")
                ax.step(c.t_start * scale, c.v_low, where="post", color="#7f8c8d", lw=1.2, label="V− per cycle")
            for s in m.segments:
                if not np.isfinite(s.duty) and np.isfinite(s.v_high):
                    ax.hlines(s.v_high, s.t_start * scale, s.t_end * scale, color=TRACE_COLOR, lw=1.2)
            ax.set_xlim(t0 * scale, (t0 + span) * scale)
        ax.set_ylim(-14.5, 14.5)
        ax.set_yticks(np.arange(-12, 13, 3))
        ax.set_xlabel(f"time [{unit}]")
        ax.set_ylabel("CP voltage [V]")
        ax.set_title(title if title is not None else f"{_channel(wave, m)}: {_states_text(m)}", loc="left")
        if legend and shade and m.segments:
            ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=min(8, len({s.state for s in m.segments})),
                      frameon=False, fontsize=9, handlelength=1.2, borderaxespad=0.2)
    return ax


def _unit(time_unit, span):
    units = {"s": 1.0, "ms": 1e3, "µs": 1e6, "us": 1e6}
    if time_unit is None:
        return _time_unit(span)
    if time_unit not in units:
        raise ValueError(f"time_unit must be one of s, ms, µs; got {time_unit!r}")
    return units[time_unit], "µs" if time_unit == "us" else time_unit


def _channel(wave, m) -> str:
    if wave is not None:
        name = wave.metadata.get("source_path") or wave.channel
        return os.path.basename(str(name))
    return str(getattr(m, "channel", "") or "capture")


def _states_text(m) -> str:
    names = []
    for s in m.segments:
        if not names or names[-1] != s.state:
            names.append(s.state)
    text = " → ".join(names[:8]) + (" → …" if len(names) > 8 else "")
    return text or str(m.state)


def timeline(measurement, *, ax=None, time_unit: str | None = None, t_range: tuple[float, float] | None = None):
    """The states over time: one coloured bar per stretch, labelled where it is wide enough.

    Returns the Axes (bars are patches with gid ``timeline-bar``).
    """
    m = measurement
    with style():
        ax = _axes(ax, (10, 1.2))
        lo, hi = t_range if t_range is not None else (float(m.t_start), float(m.t_end))
        scale, unit = _unit(time_unit, hi - lo)
        width_total = (hi - lo) * scale
        for s in m.segments:
            x0, w = s.t_start * scale, (s.t_end - s.t_start) * scale
            bars = ax.broken_barh([(x0, w)], (0, 1), facecolors=_state_color(s.state), edgecolor="white", lw=1)
            bars.set_gid("timeline-bar")
            if w > 0.06 * width_total:
                label = s.state
                if np.isfinite(s.current_a):
                    label += f"  {s.current_a:.0f} A"
                ax.text(x0 + w / 2, 0.5, label, ha="center", va="center", color="white", fontsize=10,
                        fontweight="bold")
        ax.set_xlim(lo * scale, hi * scale)
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.grid(False)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(f"time [{unit}]")
        ax.set_ylabel("state", rotation=0, ha="right", va="center")
    return ax


def overview(data, *, axes=None, profile: "str | std.LimitsProfile" = "iec61851", measurement=None,
             title: str | None = None, max_points: int = 20_000):
    """:func:`waveform` with the state :func:`timeline` under it, sharing the time axis.

    Returns the two Axes ``(ax_wave, ax_timeline)``.
    """
    prof = std.get_profile(profile)
    wave, m = _split(data, measurement, prof)
    with style():
        if axes is None:
            fig = new_figure(figsize=(12, 5))
            ax_w, ax_t = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [5, 0.9], "hspace": 0.08})
        else:
            ax_w, ax_t = axes
        t0 = float(wave.t[0]) if wave is not None else float(m.t_start)
        t1 = float(wave.t[-1]) if wave is not None else float(m.t_end)
        scale, unit = _time_unit(t1 - t0)
        waveform(wave if wave is not None else m, ax=ax_w, profile=prof, measurement=m, title=title,
                 max_points=max_points, time_unit=unit, legend=False)
        ax_w.set_xlabel("")
        ax_w.tick_params(labelbottom=False)
        timeline(m, ax=ax_t, time_unit=unit, t_range=(t0, t1))
    return ax_w, ax_t


# --------------------------------------------------------------------------------------------
# one period, one edge

def _pick_cycle(m, cycle: int | None) -> int | None:
    c = m.cycles
    if not len(c):
        return None
    if cycle is not None:
        k = int(cycle)
        if not -len(c) <= k < len(c):
            raise IndexError(f"cycle {cycle} out of range: the capture has {len(c)} cycles")
        return k % len(c)
    seg = max(m.segments, key=lambda s: (s.n_cycles, s.duration_s)) if m.segments else None
    ok = np.isfinite(c.period_s) & np.isfinite(c.v_high) & np.isfinite(c.v_low)
    if seg is not None:
        inside = ok & (c.t_start >= seg.t_start) & (c.t_start + c.period_s <= seg.t_end + 1e-12)
        if inside.any():
            ok = inside
    idx = np.flatnonzero(ok)
    if not idx.size:
        return None
    return int(idx[idx.size // 2])


def _edge_points(m, k: int, which: str) -> dict:
    """10/50/90 % levels and instants of the rising or falling edge of cycle ``k``, as the analyzer
    timed them (the markers show exactly what was measured)."""
    c = m.cycles
    v_hi, v_lo = float(c.v_high[k]), float(c.v_low[k])
    swing = v_hi - v_lo
    lv = {p: v_lo + p * swing for p in (0.1, 0.5, 0.9)}
    t_rise50 = float(c.t_start[k])
    t_fall50 = t_rise50 + float(c.duty[k] * c.period_s[k])
    if which == "rise":
        first, length, t50 = float(c.rise_start_s[k]), float(c.rise_time_s[k]), t_rise50
        times = {0.1: first, 0.5: t50, 0.9: first + length}
    else:
        first, length, t50 = float(c.fall_start_s[k]), float(c.fall_time_s[k]), t_fall50
        times = {0.9: first, 0.5: t50, 0.1: first + length}
    return {"levels": lv, "times": times, "t50": t50, "v_high": v_hi, "v_low": v_lo}


def period_zoom(wave, measurement=None, *, ax=None, cycle: int | None = None,
                profile: "str | std.LimitsProfile" = "iec61851", margin: float = 0.15):
    """One PWM period at full resolution: measured V+ and V−, the 10 %/50 %/90 % levels and where
    the edges cross them.

    Parameters
    ----------
    wave : Waveform
    measurement : PilotMeasurement, optional
        The analysis of ``wave`` (analysed here when not given).
    cycle : int, optional
        Index into ``measurement.cycles``; default the middle cycle of the longest PWM stretch.
    margin : float
        Extra time shown before and after the period, as a fraction of it.

    Returns
    -------
    matplotlib Axes
        Crossing markers carry gid ``edge-point`` (6 for a complete period: 10/50/90 % of both edges).
    """
    prof = std.get_profile(profile)
    wave, m = _split(wave, measurement, prof)
    if wave is None:
        raise TypeError("period_zoom needs the Waveform (a measurement holds no samples)")
    with style():
        ax = _axes(ax, (8, 4))
        k = _pick_cycle(m, cycle)
        if k is None:
            span = min(wave.duration_s, 2e-3)
            w = wave.slice_time(wave.t[0], wave.t[0] + span)
            ax.plot((w.t - w.t[0]) * 1e6, w.v, color=TRACE_COLOR, lw=1.0)
            if np.isfinite(m.v_high):
                ax.axhline(m.v_high, color=LEVEL_COLOR, ls="--", lw=1.2, label=f"level {m.v_high:+.3f} V")
                ax.legend(loc="best")
            ax.set_title(f"no PWM cycle: first {span * 1e3:.3g} ms ({m.state})", loc="left")
            ax.set_xlabel("time [µs]")
            ax.set_ylabel("CP voltage [V]")
            ax.set_ylim(-14.5, 14.5)
            return ax
        c = m.cycles
        period = float(c.period_s[k])
        t_rise = float(c.t_start[k])
        lo_t, hi_t = t_rise - margin * period, t_rise + (1 + margin) * period
        w = wave.slice_time(lo_t, hi_t)
        ax.plot((w.t - t_rise) * 1e6, w.v, color=TRACE_COLOR, lw=1.0, zorder=3, label="capture")
        rise = _edge_points(m, k, "rise")
        fall = _edge_points(m, k, "fall")
        ax.axhline(rise["v_high"], color=LEVEL_COLOR, ls="--", lw=1.2, label=f"V+ = {rise['v_high']:+.3f} V")
        ax.axhline(rise["v_low"], color="#2c3e50", ls="--", lw=1.2, label=f"V− = {rise['v_low']:+.3f} V")
        for p, ls in ((0.1, ":"), (0.9, ":")):
            ax.axhline(rise["levels"][p], color=MARK_COLOR, ls=ls, lw=1.0)
        trans = ax.get_yaxis_transform()
        for p in (0.1, 0.9):
            ax.text(0.995, rise["levels"][p] + 0.25, f"{p:.0%}", transform=trans, color=MARK_COLOR, fontsize=9,
                    va="bottom", ha="right")
        for pts in (rise, fall):
            for p, tp in pts["times"].items():
                if np.isfinite(tp):
                    (mk,) = ax.plot((tp - t_rise) * 1e6, pts["levels"][p], "o", ms=5, color=MARK_COLOR, zorder=4)
                    mk.set_gid("edge-point")
        t_fall = fall["t50"]
        ax.annotate("", xy=((t_fall - t_rise) * 1e6, 0.0), xytext=(0.0, 0.0),
                    arrowprops=dict(arrowstyle="<->", color="#34495e", lw=1.0))
        label = f"high {(t_fall - t_rise) * 1e6:.1f} µs = {c.duty[k] * 100:.2f} %"
        if c.duty[k] <= 0.6:  # room on the low plateau, right of the falling edge
            ax.text((t_fall - t_rise) * 1e6 + 0.02 * period * 1e6, 0.0, label, ha="left", va="center", fontsize=9,
                    color="#34495e")
        else:
            ax.text((t_fall - t_rise) * 1e6 / 2, 0.6, label, ha="center", va="bottom", fontsize=9, color="#34495e")
        ax.set_xlim((lo_t - t_rise) * 1e6, (hi_t - t_rise) * 1e6)
        ax.set_ylim(-14.5, 14.5)
        ax.set_yticks(np.arange(-12, 13, 3))
        ax.set_xlabel("time from the rising edge's 50 % point [µs]")
        ax.set_ylabel("CP voltage [V]")
        ax.set_title(f"one period (cycle {k}, {c.state[k]}): {period * 1e6:.1f} µs, {1 / period:.2f} Hz",
                     loc="left")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)
    return ax


def edge_zoom(wave, measurement=None, *, edge: str = "rise", ax=None, cycle: int | None = None,
              profile: "str | std.LimitsProfile" = "iec61851", width: float = 4.0):
    """A rising (``edge="rise"``) or falling (``"fall"``) edge with its 10 %/90 % crossings.

    ``width`` sets the time shown, in multiples of the measured 10-90 % time on each side of the
    50 % point. Returns the Axes; crossing markers carry gid ``edge-point``.
    """
    if edge not in ("rise", "fall"):
        raise ValueError(f"edge must be 'rise' or 'fall', got {edge!r}")
    prof = std.get_profile(profile)
    wave, m = _split(wave, measurement, prof)
    if wave is None:
        raise TypeError("edge_zoom needs the Waveform (a measurement holds no samples)")
    with style():
        ax = _axes(ax, (4, 4))
        k = _pick_cycle(m, cycle)
        if k is None:
            ax.text(0.5, 0.5, "no PWM edges", transform=ax.transAxes, ha="center", va="center")
            ax.set_xlabel("time [µs]")
            ax.set_ylabel("CP voltage [V]")
            return ax
        pts = _edge_points(m, k, edge)
        t10, t90 = pts["times"][0.1], pts["times"][0.9]
        dur = abs(t90 - t10) if np.isfinite(t10) and np.isfinite(t90) else 2e-6
        half = max(width * dur, 20 * wave.sample_interval_s, 2e-6)
        t50 = pts["times"][0.5] if np.isfinite(pts["times"][0.5]) else pts["t50"]
        w = wave.slice_time(t50 - half, t50 + half)
        ax.plot((w.t - t50) * 1e6, w.v, color=TRACE_COLOR, lw=1.2, marker="." if len(w) < 80 else None, ms=3)
        for p in (0.1, 0.9):
            ax.axhline(pts["levels"][p], color=MARK_COLOR, ls=":", lw=1.0)
        ax.axhline(pts["v_high"], color=LEVEL_COLOR, ls="--", lw=1.0)
        ax.axhline(pts["v_low"], color="#2c3e50", ls="--", lw=1.0)
        for p, tp in pts["times"].items():
            if np.isfinite(tp):
                (mk,) = ax.plot((tp - t50) * 1e6, pts["levels"][p], "o", ms=6, color=MARK_COLOR, zorder=4)
                mk.set_gid("edge-point")
        if np.isfinite(t10) and np.isfinite(t90):
            y = -13.6
            for tp in (t10, t90):
                ax.axvline((tp - t50) * 1e6, color=MARK_COLOR, ls=":", lw=1.0)
            ax.annotate("", xy=((t90 - t50) * 1e6, y), xytext=((t10 - t50) * 1e6, y),
                        arrowprops=dict(arrowstyle="<->", color=MARK_COLOR, lw=1.0, shrinkA=0, shrinkB=0))
        measured = m.cycles.rise_time_s[k] if edge == "rise" else m.cycles.fall_time_s[k]
        name = "rise 10–90 %" if edge == "rise" else "fall 90–10 %"
        text = f"{name}: {measured * 1e6:.2f} µs" if np.isfinite(measured) else f"{name}: not measured"
        ax.set_title(text, loc="left")
        ax.set_xlim(-half * 1e6, half * 1e6)
        ax.set_ylim(-14.5, 14.5)
        ax.set_yticks(np.arange(-12, 13, 6))
        ax.set_xlabel("time from 50 % [µs]")
        ax.set_ylabel("CP voltage [V]")
    return ax


# --------------------------------------------------------------------------------------------
# per-cycle

def cycles(measurement, *, axes=None, profile: "str | std.LimitsProfile" = "iec61851",
           time_unit: str | None = None):
    """Per-cycle duty [%] and frequency [Hz] over time, coloured by each cycle's state.

    The frequency panel shows the profile's warning window (995-1005 Hz, shaded) and failure
    limits (980-1020 Hz, dashed) when they are near the data. Returns ``(ax_duty, ax_frequency)``.
    """
    prof = std.get_profile(profile)
    m = measurement if _is_measurement(measurement) else _split(measurement, None, prof)[1]
    c = m.cycles
    with style():
        if axes is None:
            fig = new_figure(figsize=(12, 3.4))
            ax_d, ax_f = fig.subplots(1, 2, gridspec_kw={"wspace": 0.25})
        else:
            ax_d, ax_f = axes
        scale, unit = _unit(time_unit, float(m.t_end - m.t_start))
        for ax in (ax_d, ax_f):
            ax.set_xlabel(f"cycle start [{unit}]")
        ax_d.set_ylabel("duty [%]")
        ax_f.set_ylabel("frequency [Hz]")
        ax_d.set_title("duty per cycle", loc="left")
        ax_f.set_title("frequency per cycle", loc="left")
        ok = np.isfinite(c.period_s) & (c.period_s > 0) if len(c) else np.zeros(0, bool)
        if not ok.any():
            for ax in (ax_d, ax_f):
                ax.text(0.5, 0.5, "no PWM cycles", transform=ax.transAxes, ha="center", va="center")
            return ax_d, ax_f
        t = c.t_start[ok] * scale
        duty = c.duty[ok] * 100.0
        freq = 1.0 / c.period_s[ok]
        states = np.asarray(c.state[ok]).astype(str)
        for s in sorted(set(states)):
            sel = states == s
            ax_d.plot(t[sel], duty[sel], "o", ms=3.5, color=_state_color(s), label=s)
            ax_f.plot(t[sel], freq[sel], "o", ms=3.5, color=_state_color(s), label=s)
        d_mid, d_span = float(np.median(duty)), float(np.ptp(duty))
        pad = max(1.0, d_span)
        ax_d.set_ylim(min(duty.min(), d_mid - pad) - 0.2 * pad, max(duty.max(), d_mid + pad) + 0.2 * pad)
        warn, fail = prof.frequency_warn, prof.frequency_fail
        lo = min(freq.min(), warn.lo) - 2.0
        hi = max(freq.max(), warn.hi) + 2.0
        band = ax_f.axhspan(warn.lo, warn.hi, color="#2ecc71", alpha=0.12, lw=0, zorder=0,
                            label=f"pass {warn.lo:g}–{warn.hi:g} Hz")
        band.set_gid("frequency-warn")
        if freq.min() < warn.lo:
            lo = min(lo, fail.lo - 2.0)
        if freq.max() > warn.hi:
            hi = max(hi, fail.hi + 2.0)
        for i, limit in enumerate((fail.lo, fail.hi)):
            ax_f.axhline(limit, color="#c0392b", ls="--", lw=1.0,
                         label=f"fail < {fail.lo:g} or > {fail.hi:g} Hz" if i == 0 else None)
        ax_f.set_ylim(lo, hi)
        for ax in (ax_d, ax_f):
            ax.set_xlim(m.t_start * scale, m.t_end * scale)
        ax_f.ticklabel_format(axis="y", useOffset=False)
        if len(set(states)) > 1:
            ax_d.legend(loc="best", title="state", title_fontsize=9)
        ax_f.legend(loc="best")
    return ax_d, ax_f


# --------------------------------------------------------------------------------------------
# tolerance studies

def _level_column(expected: str) -> str:
    return "v_low" if str(expected).startswith("F") else "v_high"


def montecarlo(df, *, axes=None, profile: "str | std.LimitsProfile | None" = None,
               compare: Sequence["str | std.LimitsProfile"] = (), bins: int = 60, states: Sequence[str] | None = None):
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
    from .tolerance import threshold_yield

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


