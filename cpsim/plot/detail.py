"""Close-ups of a capture: one PWM period, one edge, and the per-cycle duty and frequency."""

from __future__ import annotations

import numpy as np

from .. import standard as std
from ._figure import LEVEL_COLOR, MARK_COLOR, TRACE_COLOR, _axes, _state_color, new_figure, style
from .capture import _is_measurement, _split, _unit


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
                profile: str | std.LimitsProfile = "iec61851", margin: float = 0.15):
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
              profile: str | std.LimitsProfile = "iec61851", width: float = 4.0):
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


def cycles(measurement, *, axes=None, profile: str | std.LimitsProfile = "iec61851",
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

