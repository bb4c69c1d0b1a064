"""Instrument-grade measurement of a control-pilot waveform (the engine behind ``cpsim.analyze``).

Pipeline (each step a pure, vectorised function of the samples):

1. :func:`~cpsim.analysis.levels.estimate_levels`: histogram of a <= 1 M point subsample ->
   the levels present -> a threshold band in the widest gap between them.
2. :func:`~cpsim.analysis.edges.find_transitions`: two boolean passes -> every completed edge.
3. :func:`~cpsim.analysis.pwm.plateau_layout`: plateaus between edges, their settled interiors
   measured at full resolution in one ``reduceat`` pass.
4. :func:`~cpsim.analysis.pwm.edge_measurements`: 10/50/90 % instants of each edge relative to
   its own two plateaus; :func:`~cpsim.analysis.pwm.measure_cycles`: per-cycle period, duty,
   levels, rise/fall, overshoot and state.
5. :func:`~cpsim.analysis.timeline.build_timeline`: steady stretches cut into blocks and
   classified, cycles and blocks merged into segments.
6. The longest segment (or the first/last) is summarised as the :class:`PilotMeasurement`
   (:mod:`cpsim.analysis.result`), with the uncertainty of its levels.
7. :func:`~cpsim.analysis.trust.assess_input`: a clipped, mis-probed, inverted or AC-coupled
   capture cannot support a state: it is reported ``invalid`` with what to do.
"""

from __future__ import annotations

import inspect
import math
import os
from dataclasses import replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from .. import standard as std
from ..errors import ParameterError
from ..units import format_si
from ..waveform import Waveform
from ._util import choose, expand_ranges, finite_median
from .edges import Transitions, find_transitions, sorted_search, value_span
from .levels import MAX_LEVEL_POINTS, ThresholdMethod, code_step, levels_of_sample, subsample_index
from .pwm import PLATEAU_FRACTIONS, CycleTable, edge_measurements, measure_cycles, plateau_layout
from .result import PilotMeasurement
from .states import REASON_CODES, Reason, reason_text
from .steady import dc_units
from .timeline import CYCLE, Segment, Segments, Units, build_timeline, cycle_units, partial_units, plateau_times
from .trust import assess_input, level_uncertainty

__all__ = ["measure", "measure_pilot", "PilotMeasurement"]

SummaryChoice = Literal["longest", "first", "last"]

DC_MIN_S = 5e-3
"""A plateau longer than this is a steady (x1/E/F) stretch, not half a PWM period (cpsim choice: five
nominal periods of ``standard.FREQUENCY_HZ``; the longest PWM plateau, at 97 % duty, lasts 0.97 ms)."""
MIN_SEGMENT_S = 3e-3
"""Runs shorter than this are absorbed by their neighbours (cpsim choice: three nominal periods, far
below the ~200 ms C pulses EV-BU says must still be reported)."""
DUTY_CHANGE_TOL = 0.005
"""A duty step larger than this (fraction) starts a new segment (cpsim choice: 0.5 %-points, a third of
the 1 A = 1.67 %-point step of the 0.6 A/% rule; widened to 3 samples per period on slow captures)."""
LEVEL_REASONS = frozenset({"no_window", "low_not_negative"})
"""Invalid states whose levels are still measured plateaus (a square with levels in no pilot window)."""
EDGE_MIN_SAMPLES = 4
"""A 10-90 % time is reported only when the edge spans at least this many sample intervals (measured on
linear and RC edges at every phase: 4 samples are within 2 % and 8.3 %, 2-3 samples read 16-28 % high;
tests/test_analysis_trust.py); below it the time is not measured (NaN) and a note gives the bound."""
STEADY_MIN_PERIODS = 1.5
"""A capture with no edge must hold its level this many nominal periods before it is a steady state
(cpsim choice: a 1 kHz PWM shows an edge at least every 0.97 ms, its longest phase at 97 % duty; a
shorter capture cannot tell x1 from x2)."""
MAX_NOISE_V = 0.4
"""A steady stretch noisier than this [V rms] has no steady level (cpsim choice: twice the noise of an
8-bit scope on a 32 V range; EV-BU recommends < 0.1 V p-p ripple for the generator itself)."""
MAX_TILT_V = 0.5
"""A plateau or steady stretch whose level changes by more than this [V] is not settled (cpsim choice:
half of the ±1 V IEC window width, CB)."""
MAX_EDGE_FRACTION = 0.05
"""Edges whose band crossing takes more than this fraction of the period are not pilot edges (cpsim
choice: loaded CP edges are < 13 µs, EV-BU, i.e. < 1.3 % of 1 ms; a sine's takes 17 %)."""


def measure(source, *, profile: str | std.LimitsProfile = "iec61851", fmt: str | None = None,
            channel: str | int | None = None, **options) -> PilotMeasurement:
    """Measure a control-pilot waveform like a pilot test instrument (no fault diagnosis).

    :func:`cpsim.analyze` is this plus the fault diagnosis (:mod:`cpsim.diagnose`).

    Parameters
    ----------
    source : Waveform or path
        A :class:`~cpsim.Waveform` (simulated or read), or a capture file read with
        :func:`cpsim.read_capture`.
    profile : str or LimitsProfile
        ``"iec61851"`` (default), ``"j1772"``, or a profile of your own thresholds
        (:func:`cpsim.standard.custom_profile`).
    fmt, channel
        Passed to :func:`cpsim.read_capture` when ``source`` is a path.
    **options
        Keyword options of :func:`measure_pilot` (``summary``, ``dc_min_s``, ...).

    Returns
    -------
    PilotMeasurement
        With ``faults`` empty.

    Examples
    --------
    >>> import numpy as np
    >>> from cpsim import Waveform
    >>> from cpsim.analysis import measure
    >>> t = np.arange(20_000) * 1e-6                        # 20 ms at 1 MS/s
    >>> v = np.where((t * 1000) % 1 < 0.25, 9.0, -12.0)     # state B, 25 % duty
    >>> m = measure(Waveform.from_arrays(t, v))
    >>> m.state, round(m.duty, 3), round(m.current_a, 1)
    ('B2', 0.25, 15.0)
    """
    if isinstance(source, Waveform):
        if fmt is not None or channel is not None:
            raise ParameterError("fmt and channel apply only when source is a file path")
        wave = source
    elif isinstance(source, (str, os.PathLike)):
        from ..io import read_capture

        wave = read_capture(source, fmt=fmt, channel=channel)
    else:
        raise ParameterError(f"source must be a Waveform or a file path, got {type(source).__name__}")
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise ParameterError(f"unknown option {', '.join(unknown)}; valid: {', '.join(sorted(_OPTIONS))}")
    return _measure(wave.t, wave.v, profile=profile, channel=wave.channel, checked=True, metadata=wave.metadata,
                    **options)


def measure_pilot(t: ArrayLike, v: ArrayLike, *, profile: str | std.LimitsProfile = "iec61851", channel: str = "cp",
                  summary: SummaryChoice = "longest", threshold: ThresholdMethod = "widest_gap",
                  dc_min_s: float = DC_MIN_S, min_segment_s: float = MIN_SEGMENT_S,
                  duty_change_tol: float = DUTY_CHANGE_TOL, max_noise_v: float = MAX_NOISE_V,
                  max_tilt_v: float = MAX_TILT_V, max_edge_fraction: float = MAX_EDGE_FRACTION,
                  plateau_fractions: tuple[float, float] = PLATEAU_FRACTIONS,
                  max_level_points: int = MAX_LEVEL_POINTS) -> PilotMeasurement:
    """Measure the pilot waveform ``v(t)``: the pure function behind :func:`measure`.

    Parameters
    ----------
    t, v : array_like
        Sample times [s] (increasing, need not start at 0 or be perfectly uniform) and values [V].
        Only the ends of ``t`` and the finiteness of ``v`` are checked here; a :class:`Waveform`
        is validated in full when it is made.
    profile : str or LimitsProfile
        Limits profile that classifies the states.
    channel : str
        Channel name to report.
    summary : {"longest", "first", "last"}
        Which segment the scalar fields describe.
    threshold : {"widest_gap", "otsu"}
        How the edge threshold is placed between the levels (see ``estimate_levels``).
    dc_min_s : float
        A plateau longer than this [s] is a steady stretch.
    min_segment_s : float
        Shorter runs are absorbed by their neighbours [s]; 0 keeps every run.
    duty_change_tol : float
        Duty step (fraction) that starts a new segment.
    max_noise_v, max_tilt_v : float
        Steadiness limits [V rms], [V] (see the module constants).
    max_edge_fraction : float
        Slowest edge, as a fraction of the period, still taken as a pilot edge.
    plateau_fractions : (float, float)
        Settled interior of a plateau as fractions of its length.
    max_level_points : int
        Subsample size for the level histogram.

    Returns
    -------
    PilotMeasurement
    """
    return _measure(t, v, profile=profile, channel=channel, checked=False, summary=summary, threshold=threshold,
                    dc_min_s=dc_min_s, min_segment_s=min_segment_s, duty_change_tol=duty_change_tol,
                    max_noise_v=max_noise_v, max_tilt_v=max_tilt_v, max_edge_fraction=max_edge_fraction,
                    plateau_fractions=plateau_fractions, max_level_points=max_level_points)


_OPTIONS = frozenset(inspect.signature(measure_pilot).parameters) - {"t", "v", "profile", "channel"}


def _positive(name: str, x, *, zero_ok: bool = False) -> float:
    try:
        f = float(x)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, got {x!r}") from None
    if not math.isfinite(f) or f < 0 or (f == 0 and not zero_ok):
        kind = "non-negative" if zero_ok else "positive"
        raise ParameterError(f"{name} must be a {kind} finite number, got {x!r}")
    return f


def _as_arrays(t, v, checked: bool) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    if t.ndim != 1 or v.ndim != 1 or t.size != v.size:
        raise ParameterError(f"t and v must be 1-D of equal length, got shapes {t.shape} and {v.shape}")
    if v.size < 2:
        raise ParameterError(f"a waveform needs at least 2 samples, got {v.size}")
    if not checked:
        if not (np.isfinite(np.add.reduce(v)) and np.isfinite(t[0]) and np.isfinite(t[-1])):
            raise ParameterError("t and v must be finite")
        if not t[-1] > t[0]:
            raise ParameterError("time must increase")
    return t, v


_SUMMARY = {
    "longest": lambda segs: int(np.argmax([s.duration_s for s in segs])),
    "first": lambda segs: 0,
    "last": lambda segs: len(segs) - 1,
}


def _measure(t, v, *, profile, channel, checked, summary="longest", threshold="widest_gap", dc_min_s=DC_MIN_S,
             min_segment_s=MIN_SEGMENT_S, duty_change_tol=DUTY_CHANGE_TOL, max_noise_v=MAX_NOISE_V,
             max_tilt_v=MAX_TILT_V, max_edge_fraction=MAX_EDGE_FRACTION, plateau_fractions=PLATEAU_FRACTIONS,
             max_level_points=MAX_LEVEL_POINTS, metadata=None) -> PilotMeasurement:
    prof, pick, opts, (a, b), max_points = _options(profile, summary, dc_min_s, min_segment_s, duty_change_tol,
                                                    max_noise_v, max_tilt_v, max_edge_fraction, plateau_fractions,
                                                    max_level_points)
    t, v = _as_arrays(t, v, checked)
    n = v.size
    dt = float(t[-1] - t[0]) / (n - 1)
    nominal = 1.0 / std.FREQUENCY_HZ
    if not nominal / dt < 1e12:
        raise ParameterError(f"sample interval {dt:.3g} s is not a physical capture (more than 1e12 samples "
                             "per pilot period)")
    # one pass over the samples: their span, and the subsample the levels are estimated from
    sample_index = subsample_index(n, max_points)
    span, sample_v = value_span(v, sample_index)
    if not np.isfinite(span):
        raise ParameterError("values span more than the float range: not a voltage capture")
    base = dict(profile=prof.name, channel=str(channel), t_start=float(t[0]), t_end=float(t[-1]),
                sample_rate_hz=1.0 / dt, n_samples=int(n))

    levels = levels_of_sample(sample_index, sample_v, threshold=threshold)
    notes = _time_axis_notes(t, levels.sample_index, dt)
    transitions = Transitions.empty()
    if levels.two_level:
        transitions = find_transitions(v, threshold_v=levels.threshold_v, hysteresis_v=levels.hysteresis_v)
        if transitions.too_many:
            return _unusable(Reason.TOO_MANY_CROSSINGS, prof, opts, notes, base, t)

    plateaus = plateau_layout(t, v, transitions, dc_min_s=opts["dc_min_s"], nominal_period_s=nominal,
                              settle_s=std.PLATEAU_SETTLE_MIN_S, fractions=(a, b))
    timing, t_mid, sharp, band_s, peak = edge_measurements(
        t, v, transitions, plateaus, max_edge_fraction=opts["max_edge_fraction"], nominal_period_s=nominal,
        settle_s=std.PLATEAU_SETTLE_MIN_S)
    return _finish(t, dt, a, transitions, plateaus, timing, t_mid, sharp, band_s, peak, levels, prof, opts, pick,
                   notes, base, metadata)


def _options(profile, summary, dc_min_s, min_segment_s, duty_change_tol, max_noise_v, max_tilt_v,
             max_edge_fraction, plateau_fractions, max_level_points):
    """The validated options of :func:`measure_pilot`: ``(profile, pick, opts, fractions, max_points)``."""
    prof = std.get_profile(profile)
    pick = choose("summary", summary, _SUMMARY)
    opts = dict(dc_min_s=_positive("dc_min_s", dc_min_s),
                min_segment_s=_positive("min_segment_s", min_segment_s, zero_ok=True),
                duty_change_tol=_positive("duty_change_tol", duty_change_tol, zero_ok=True),
                max_noise_v=_positive("max_noise_v", max_noise_v),
                max_tilt_v=_positive("max_tilt_v", max_tilt_v),
                max_edge_fraction=_positive("max_edge_fraction", max_edge_fraction))
    # a steady claim needs the level held longer than any half period of a PWM could last
    opts["steady_min_s"] = min(opts["dc_min_s"], STEADY_MIN_PERIODS / std.FREQUENCY_HZ)
    try:
        a, b = (float(x) for x in plateau_fractions)
    except (TypeError, ValueError):
        raise ParameterError(f"plateau_fractions must be two numbers, got {plateau_fractions!r}") from None
    if not 0.0 <= a < b <= 1.0:
        raise ParameterError(f"plateau_fractions must satisfy 0 <= start < end <= 1, got {plateau_fractions!r}")
    max_points = int(_positive("max_level_points", max_level_points))
    return prof, pick, opts, (a, b), max_points


def _finish(t, dt: float, a: float, transitions, plateaus, timing, t_mid, sharp, band_s, peak, levels, prof, opts,
            pick, notes: list[str], base: dict, metadata) -> PilotMeasurement:
    """Cycles, units, timeline and summary from the edges and plateaus (shared with the streamed route,
    :mod:`cpsim.analysis.stream`, which passes a ``t`` that holds only the samples read here)."""
    nominal = 1.0 / std.FREQUENCY_HZ
    cycles, index = measure_cycles(transitions, plateaus, timing, t_mid, sharp, band_s, peak, prof,
                                   max_tilt_v=opts["max_tilt_v"], min_plateau_s=std.PLATEAU_SETTLE_MIN_S)
    period_typ = finite_median(cycles.period_s) if len(cycles) else nominal
    duty_tol = max(opts["duty_change_tol"], 3.0 * dt / period_typ)

    p_start, p_end = plateau_times(t, t_mid)
    covered = np.zeros(len(plateaus), dtype=bool)
    covered[index.high_plateau] = True
    covered[index.low_plateau] = True
    margin = max(int(np.ceil(std.PLATEAU_SETTLE_MIN_S / dt)), int(round(a * nominal / dt)))
    units = Units.concat([
        cycle_units(cycles, index, t_mid),
        partial_units(plateaus, covered, p_start, p_end),
        dc_units(t, levels.sample_index, levels.sample_v, plateaus, p_start, p_end, prof,
                 margin_samples=margin, max_noise_v=opts["max_noise_v"], steady_min_s=opts["steady_min_s"]),
    ])
    timeline = build_timeline(units, cycles, prof, duty_tol=duty_tol, min_segment_s=opts["min_segment_s"],
                              max_tilt_v=opts["max_tilt_v"], dc_min_s=opts["dc_min_s"], options=opts)
    k = pick(timeline.segments)
    m = _summarise(timeline, k, t, cycles, index, plateaus, levels, notes, base, dt)
    return _with_input_checks(m, levels, prof, metadata)


def _summarise(timeline, k: int, t, cycles, index, plateaus, levels, notes: list[str], base: dict,
               dt: float) -> PilotMeasurement:
    """The measurement of segment ``k`` of the timeline (levels, edges, uncertainty, notes)."""
    segments = timeline.segments
    seg = segments[k]
    in_seg = timeline.member & (timeline.units.kind == CYCLE) & (timeline.segment_of_unit == k)
    ci = timeline.units.cycle[in_seg]
    pwm = ci.size > 0
    step = code_step(levels.sample_v)
    if pwm:
        mean = plateaus.stats.mean
        hi_rows = plateaus.interior_start[index.high_plateau[ci]]
        lo_rows = plateaus.interior_start[index.low_plateau[ci]]
        v_high_std = _spread(levels.sample_index, levels.sample_v, plateaus.starts, plateaus.ends, mean, hi_rows)
        v_low_std = _spread(levels.sample_index, levels.sample_v, plateaus.starts, plateaus.ends, mean, lo_rows)
        u_high = level_uncertainty(cycles.v_high[ci], step)
        u_low = level_uncertainty(cycles.v_low[ci], step)
        rise, fall = finite_median(cycles.rise_time_s[ci]), finite_median(cycles.fall_time_s[ci])
        over, under = finite_median(cycles.overshoot[ci]), finite_median(cycles.undershoot[ci])
        edges_resolved = not (np.isfinite(rise) and min(rise, fall) < EDGE_MIN_SAMPLES * dt)
        if not edges_resolved:
            notes.append(_unresolved_note(rise, fall, dt))
            rise = fall = float("nan")
    else:
        v_high_std = v_low_std = float(timeline.v_high_std[k])
        u = timeline.units
        blocks = timeline.member & (u.kind != CYCLE) & (timeline.segment_of_unit == k) & (u.level_n > 0)
        u_high = u_low = level_uncertainty(u.level_sum[blocks] / u.level_n[blocks], step)
        rise = fall = over = under = float("nan")
        edges_resolved = True
    period = 1.0 / seg.frequency_hz if np.isfinite(seg.frequency_hz) else float("nan")
    return PilotMeasurement(
        state=seg.state, reason=seg.reason, v_high=seg.v_high, v_low=seg.v_low, duty=seg.duty,
        frequency_hz=seg.frequency_hz, period_s=period, rise_time_s=rise, fall_time_s=fall,
        current_a=seg.current_a, digital_comm=seg.digital_comm, diode_fault=seg.diode_fault, pwm=pwm,
        edges_resolved=bool(edges_resolved), reason_code=seg.reason_code,
        v_high_uncertainty_v=u_high, v_low_uncertainty_v=u_low,
        n_cycles=seg.n_cycles, v_high_std=v_high_std, v_low_std=v_low_std, overshoot=over, undershoot=under,
        segments=segments, cycles=cycles, notes=tuple(notes), **base,
    )


def _unresolved_note(rise: float, fall: float, dt: float) -> str:
    bound = max(rise, fall) if np.isfinite(fall) else rise
    fastest = min(rise, fall) if np.isfinite(fall) else rise
    coarse = " and duty is resolved to about a sample" if fastest < 2 * dt else ""
    return (f"edges span fewer than {EDGE_MIN_SAMPLES} samples ({format_si(dt, 's')} apart): rise/fall times "
            f"are not measured (at most about {format_si(bound, 's')}){coarse}; sample at "
            f"{format_si(EDGE_MIN_SAMPLES / fastest, 'S/s')} or faster to measure them")


def _with_input_checks(m: PilotMeasurement, levels, prof, metadata) -> PilotMeasurement:
    """``m`` judged by :func:`~cpsim.analysis.trust.assess_input`: with an issue the capture cannot support
    a state; every segment becomes ``invalid`` with the first issue as its reason."""
    # the levels are plateau levels of a pilot-like square (valid, or off every window); not a sine's
    # turning points or a mix of half periods, which no rescaling makes meaningful
    plateau_levels = m.state != "invalid" or m.reason_code in LEVEL_REASONS
    issues = assess_input(levels.sample_v, v_high=m.v_high, v_low=m.v_low, duty=m.duty, pwm=m.pwm,
                          state_valid=m.state != "invalid", profile=prof, metadata=metadata,
                          levels_are_plateaus=plateau_levels)
    if not issues:
        return m
    first = issues[0]
    nan = float("nan")
    segments = Segments(replace(s, state="invalid", reason=first.message, reason_code=first.code, current_a=nan,
                                digital_comm=False) for s in m.segments)
    clipped = {i.level for i in issues if i.code == "clipped"}
    v_high, u_high = (nan, nan) if "high" in clipped else (m.v_high, m.v_high_uncertainty_v)
    v_low, u_low = (nan, nan) if "low" in clipped else (m.v_low, m.v_low_uncertainty_v)
    if not m.pwm:
        v_high = v_low = nan if clipped else m.v_high
    return replace(m, state="invalid", reason=first.message, reason_code=first.code, input_issues=issues,
                   current_a=nan, digital_comm=False, segments=segments, v_high=v_high, v_low=v_low,
                   v_high_uncertainty_v=u_high, v_low_uncertainty_v=u_low,
                   notes=m.notes + tuple(i.message for i in issues[1:]))


def _spread(sample_index, sample_v, starts, ends, mean, rows) -> float:
    """RMS deviation of the subsample points inside interiors ``rows`` from their interior means."""
    if starts.size == 0 or rows.size == 0:
        return float("nan")
    lo, hi = starts[rows], ends[rows]
    if sample_index is not None:
        lo, hi = sorted_search(sample_index, lo), sorted_search(sample_index, hi)
    pos, group = expand_ranges(lo, hi)
    dev = sample_v[pos] - mean[rows][group]
    dev = dev[np.isfinite(dev)]
    return float(np.sqrt(np.mean(dev * dev))) if dev.size >= 2 else float("nan")


def _time_axis_notes(t, sample_index, dt) -> list[str]:
    idx = np.arange(t.size) if sample_index is None else sample_index
    idx = idx[:: max(1, idx.size // 65536)]
    err = np.abs(t[idx] - (t[0] + idx * dt))
    if float(err.max()) > 0.5 * dt:
        return ["time axis is not uniform: plateau windows are placed by sample count, times are exact"]
    return []


def _unusable(reason: int, prof, opts, notes, base, t) -> PilotMeasurement:
    text = reason_text(reason, value=float("nan"), profile=prof, options=opts)
    code = REASON_CODES[reason]
    seg = Segment("invalid", float(t[0]), float(t[-1]), float("nan"), float("nan"), False, float("nan"),
                  float("nan"), float("nan"), False, 0, text, code)
    nan = float("nan")
    return PilotMeasurement("invalid", text, nan, nan, nan, nan, nan, nan, nan, nan, False, False, False, 0,
                            nan, nan, nan, nan, Segments((seg,)), CycleTable.empty(), notes=tuple(notes),
                            reason_code=code, **base)

