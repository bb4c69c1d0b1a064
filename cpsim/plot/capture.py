"""Whole-capture plots: the waveform with its state stretches, the state timeline, both together."""

from __future__ import annotations

import os

import numpy as np

from .. import standard as std
from ._figure import STATE_COLORS, TRACE_COLOR, _axes, _state_color, _time_unit, new_figure, style


def _is_measurement(obj) -> bool:
    return hasattr(obj, "segments") and hasattr(obj, "cycles") and hasattr(obj, "state")


def _split(data, measurement, profile):
    """(wave or None, measurement) from what the caller passed."""
    from ..waveform import Waveform

    if _is_measurement(data):
        return None, data
    if isinstance(data, Waveform):
        if measurement is None:
            from ..analysis import measure

            measurement = measure(data, profile=profile)
        return data, measurement
    raise TypeError(f"expected a Waveform or a PilotMeasurement, got {type(data).__name__}")


def _envelope(t: np.ndarray, v: np.ndarray, max_points: int, *,
              per: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Min/max decimation: every bin keeps its extremes, so edges and spikes stay visible (``per``:
    samples per bin, when the caller chose them; ``t.size`` is then ``per * max_points // 2``)."""
    n = t.size
    bins = max(1, int(max_points) // 2)
    if per is None:
        if n <= max_points or n < 2 * bins:
            return t, v
        per = n // bins
    m = per * bins
    tb = t[:m].reshape(bins, per)
    vb = v[:m].reshape(bins, per)
    # a few million samples at a time: argmin/argmax of a whole read-only capture would copy it
    step = max(1, (1 << 21) // per)
    i_min = np.empty(bins, dtype=np.intp)
    i_max = np.empty(bins, dtype=np.intp)
    for b0 in range(0, bins, step):
        block = vb[b0:b0 + step]
        i_min[b0:b0 + step] = block.argmin(axis=1)
        i_max[b0:b0 + step] = block.argmax(axis=1)
    first = np.minimum(i_min, i_max)
    second = np.maximum(i_min, i_max)
    rows = np.arange(bins)
    tt = np.column_stack([tb[rows, first], tb[rows, second]]).ravel()
    vv = np.column_stack([vb[rows, first], vb[rows, second]]).ravel()
    if m < n:
        tt = np.concatenate([tt, t[m:]])
        vv = np.concatenate([vv, v[m:]])
    return tt, vv


def envelope_blocks(read, n: int, max_points: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """``_envelope`` of a capture read a piece at a time: ``read(lo, hi)`` gives the times and values
    of samples ``[lo, hi)`` of ``n``. The same points, with whole bins read a few million samples at a time
    (a capture of any length in bounded memory)."""
    bins = max(1, int(max_points) // 2)
    if n <= max_points or n < 2 * bins:
        return read(0, n)
    per = n // bins
    m = per * bins
    step = max(1, (1 << 21) // per)
    tt, vv = [], []
    for b0 in range(0, bins, step):
        b1 = min(bins, b0 + step)
        t, v = read(b0 * per, b1 * per)
        et, ev = _envelope(t, v, 2 * (b1 - b0), per=per)
        tt.append(et)
        vv.append(ev)
    if m < n:
        t, v = read(m, n)
        tt.append(t)
        vv.append(v)
    return np.concatenate(tt), np.concatenate(vv)


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


def waveform(data, *, ax=None, profile: str | std.LimitsProfile = "iec61851", measurement=None,
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
    names: list[str] = []
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


def overview(data, *, axes=None, profile: str | std.LimitsProfile = "iec61851", measurement=None,
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

