"""What a pilot measurement reports: :class:`PilotMeasurement`, its JSON form and its text table."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..units import format_si
from .pwm import CycleTable
from .timeline import Segment

__all__ = ["PilotMeasurement"]


@dataclass(frozen=True)
class PilotMeasurement:
    """What a pilot test instrument reports about one capture. SI units; NaN = not measured.

    The scalar fields summarise one segment of the timeline (by default the longest, see
    ``summary`` in :func:`measure_pilot`); ``segments`` holds the whole timeline and ``cycles``
    every complete PWM cycle.

    Attributes
    ----------
    state : str
        One of :data:`cpsim.standard.STATES`.
    reason : str or None
        Why the state is ``invalid``.
    v_high, v_low : float
        Settled plateau levels [V]: median over the cycles of each plateau's settled-interior
        mean. For a steady stretch both are its level.
    duty : float
        High time / period (fraction), mean of the cycles within ``duty_change_tol`` of their median.
    frequency_hz, period_s : float
        From the first to the last edge of the segment divided by the whole number of periods.
    rise_time_s, fall_time_s : float
        Median 10-90 % (90-10 %) transition time, each edge measured against its own swing.
    current_a : float
        Current the duty offers (``standard.current_from_duty``) in A2-D2; NaN otherwise.
    digital_comm : bool
        Duty in the 3-7 % band (high-level communication).
    diode_fault : bool
        Negative half follows the positive one while PWM runs (PILOT-REFERENCE §2b).
    pwm : bool
        The summarised segment is a running PWM.
    n_cycles : int
        Complete cycles in the summarised segment (``len(cycles)`` counts the whole capture).
    v_high_std, v_low_std : float
        Noise on the settled levels [V rms].
    overshoot, undershoot : float
        Median peak beyond the new level after rising / falling edges, fraction of the swing.
    segments : tuple of Segment
        The timeline: stable stretches with state, start/end, duty, current.
    cycles : CycleTable
        Per-cycle start, period, duty, levels, rise/fall, state.
    profile, channel : str
        Limits profile name; the waveform's channel.
    t_start, t_end : float
        First and last sample time [s].
    sample_rate_hz : float
    n_samples : int
    notes : tuple of str
        Measurement-quality remarks (edges below the time resolution, uneven sampling).
    """

    state: str
    reason: str | None
    v_high: float
    v_low: float
    duty: float
    frequency_hz: float
    period_s: float
    rise_time_s: float
    fall_time_s: float
    current_a: float
    digital_comm: bool
    diode_fault: bool
    pwm: bool
    n_cycles: int
    v_high_std: float
    v_low_std: float
    overshoot: float
    undershoot: float
    segments: tuple[Segment, ...]
    cycles: CycleTable = field(repr=False)
    profile: str = ""
    channel: str = ""
    t_start: float = float("nan")
    t_end: float = float("nan")
    sample_rate_hz: float = float("nan")
    n_samples: int = 0
    notes: tuple[str, ...] = ()
    edges_resolved: bool = True
    """False when the edges span fewer than ``EDGE_MIN_SAMPLES`` samples: rise/fall are then not measured
    (NaN), and a note gives the bound."""
    reason_code: str | None = None
    """Stable name of why the state is ``invalid`` (``REASON_CODES`` of :mod:`cpsim.analysis.states`, or an
    input issue's code); None for a valid state."""
    input_issues: tuple = ()
    """What makes the capture unfit for a verdict (:class:`cpsim.analysis.trust.InputIssue`: clipped,
    probe factor, inverted, AC-coupled); the state is then ``invalid`` and no circuit fault is named."""
    v_high_uncertainty_v: float = float("nan")
    v_low_uncertainty_v: float = float("nan")
    """95 % half-widths of ``v_high`` / ``v_low`` [V]: scatter of the cycles (or steady blocks) around the
    median, plus half the capture's code step. The state windows are applied to the measured level; a
    window edge within this distance of it makes the verdict on that level inconclusive."""
    faults: tuple = ()
    """Recognised faults (:class:`cpsim.diagnose.Fault`: ``code``, ``message``), filled by
    :func:`cpsim.analyze` through :func:`cpsim.detect_cp_faults`; empty from :func:`measure`."""

    _SCALARS = ("state", "v_high", "v_low", "duty", "frequency_hz", "current_a", "digital_comm",
                "rise_time_s", "fall_time_s", "diode_fault", "reason", "period_s", "pwm", "n_cycles",
                "v_high_std", "v_low_std", "overshoot", "undershoot", "profile", "channel", "t_start",
                "t_end", "sample_rate_hz", "n_samples", "edges_resolved", "reason_code", "v_high_uncertainty_v",
                "v_low_uncertainty_v")

    def to_dict(self, *, cycles: bool = False) -> dict:
        """JSON-ready dict: SI values, ``duty`` a fraction, ``None`` for unknown values.

        Always holds ``state, v_high, v_low, duty, frequency_hz, current_a, digital_comm,
        rise_time_s, fall_time_s, diode_fault, segments`` (a list of dicts with ``state,
        t_start, t_end, duty, current_a`` and more), plus the other scalar fields and
        ``notes``. ``cycles=True`` adds the per-cycle columns as lists.
        """
        from .timeline import _json_value

        out = {name: _json_value(getattr(self, name)) for name in self._SCALARS}
        out["segments"] = [s.to_dict() for s in self.segments]
        out["notes"] = list(self.notes)
        out["input_issues"] = [i.to_dict() for i in self.input_issues]
        out["faults"] = [f.to_dict() for f in self.faults]
        if cycles:
            c = self.cycles
            out["cycles"] = {
                name: [_json_value(x) for x in getattr(c, name).tolist()]
                for name in ("t_start", "period_s", "duty", "v_high", "v_low", "rise_time_s", "fall_time_s",
                             "overshoot", "undershoot", "state", "diode_fault")
            }
        return out

    def __repr__(self) -> str:
        faults = ", ".join(f.code for f in self.faults) or "none"
        return (f"PilotMeasurement(state={self.state!r}, v_high={_v(self.v_high)}, v_low={_v(self.v_low)}, "
                f"duty={_pct(self.duty)}, frequency={format_si(self.frequency_hz, 'Hz', 6)}, "
                f"{len(self.segments)} segment(s), {len(self.cycles)} cycle(s), faults: {faults})")

    def __str__(self) -> str:
        return self.format_table()

    def _repr_html_(self) -> str:
        rows = [("state", self.state + (f" ({self.reason})" if self.reason else "")),
                ("v_high", _v(self.v_high, self.v_high_uncertainty_v)),
                ("v_low", _v(self.v_low, self.v_low_uncertainty_v)),
                ("duty", _pct(self.duty)), ("frequency", format_si(self.frequency_hz, "Hz", 6)),
                ("current", format_si(self.current_a, "A")), ("rise / fall", f"{format_si(self.rise_time_s, 's')} / "
                                                                       f"{format_si(self.fall_time_s, 's')}"),
                ("cycles", f"{self.n_cycles} (of {len(self.cycles)})"), ("segments", len(self.segments)),
                ("capture", f"{self.n_samples:,} samples at {format_si(self.sample_rate_hz, 'S/s')}, "
                            f"{format_si(self.t_end - self.t_start, 's')}")]
        rows += [("fault", f"{f.code}: {f.message}") for f in self.faults]
        rows += [("input issue", f"{i.code}: {i.message}") for i in self.input_issues]
        rows += [("note", n) for n in self.notes]
        from ..display import html_table

        return html_table(rows, caption=f"PilotMeasurement ({self.profile}, channel {self.channel})")

    def format_table(self) -> str:
        """A short human-readable report (percent and µs allowed here)."""
        def v(x, unit="V", fmt="{:+.3f}"):
            return "—" if not np.isfinite(x) else f"{fmt.format(x)} {unit}"

        def us(x):
            return "—" if not np.isfinite(x) else f"{x * 1e6:.2f} µs"

        def yes(b):
            return "yes" if b else "no"

        def sigma(x):
            return "" if not np.isfinite(x) else f"  (σ {x:.3f} V)"

        rows = [
            ("state", self.state + (f"  ({self.reason})" if self.reason else "")),
            ("v_high", v(self.v_high) + sigma(self.v_high_std)),
            ("v_low", v(self.v_low) + sigma(self.v_low_std)),
            ("duty", "—" if not np.isfinite(self.duty) else f"{self.duty * 100:.2f} %"),
            ("frequency", v(self.frequency_hz, "Hz", "{:.2f}")),
            ("current", v(self.current_a, "A", "{:.1f}")),
            ("digital comm", yes(self.digital_comm)),
            ("rise time", us(self.rise_time_s)),
            ("fall time", us(self.fall_time_s)),
            ("overshoot", "—" if not np.isfinite(self.overshoot) else f"{self.overshoot * 100:.1f} %"),
            ("diode fault", yes(self.diode_fault)),
            ("cycles", f"{self.n_cycles} (of {len(self.cycles)} in the capture)"),
            ("profile", self.profile),
            ("capture", f"{self.n_samples} samples, {format_si(self.sample_rate_hz, 'S/s')}, "
                        f"{format_si(self.t_end - self.t_start, 's', 4)}, channel {self.channel}"),
        ]
        width = max(len(k) for k, _ in rows)
        lines = [f"{k:<{width}}  {val}" for k, val in rows]
        if len(self.segments) > 1:
            lines.append("")
            lines.append(f"{'t_start':>12} {'t_end':>12}  {'state':<7} {'duty':>8} {'current':>8}")
            for s in self.segments:
                duty = "—" if not np.isfinite(s.duty) else f"{s.duty * 100:.2f} %"
                cur = "—" if not np.isfinite(s.current_a) else f"{s.current_a:.1f} A"
                span = f"{s.t_start * 1e3:>9.3f} ms {s.t_end * 1e3:>9.3f} ms"
                lines.append(f"{span}  {s.state:<7} {duty:>8} {cur:>8}")
        for fault in self.faults:
            lines.append(f"FAULT {fault.code}: {fault.message}")
        for note in self.notes:
            lines.append(f"note: {note}")
        return "\n".join(lines)


def _v(x: float, u: float = float("nan")) -> str:
    if not np.isfinite(x):
        return "—"
    return f"{x:+.3f} V" + (f" ± {u:.3f} V" if np.isfinite(u) else "")


def _pct(x: float) -> str:
    return "—" if not np.isfinite(x) else f"{x * 100:.2f} %"

