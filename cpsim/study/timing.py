"""The spice engine's measured timing and frequency, judged against the limits (a study's view).

For every simulated PWM state of a study run with ``engine="spice"``:

=========================  =====================================================================
``measured_rise_time_s``   10-90 % with the vehicle attached: B < 10 µs, C < 7 µs (EV-BU); other
                           states have no published limit (``info``)
``measured_fall_time_s``   90-10 %: < 13 µs in B and C (EV-BU)
``measured_frequency_hz``  fail outside the profile's 980-1020 Hz, warn outside 995-1005 Hz
``pulse_width_error_s``    the measured high time against the set duty: ±25 µs (PLNOTE, low
                           confidence: judged as a warning, as the capture report does)
=========================  =====================================================================

Each row gives the worst run, how many runs are outside, and a verdict under the same rule as the
level margins (:data:`RESOLUTION`: limits inclusive, margins rounded to the resolution they are
shown with; a limit reached exactly passes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import standard as std

__all__ = ["PULSE_WIDTH_TOL_S", "RESOLUTION", "timing_checks"]

PULSE_WIDTH_TOL_S = 25e-6
"""Pulse-width accuracy [s] (PLNOTE; the figure cpsim.report.checks judges captures by)."""
RESOLUTION = {"s": 1e-8, "Hz": 1e-2}
"""Resolution margins are rounded to and shown with: 0.01 µs, 0.01 Hz."""
_EDGE_SOURCE = "EV-BU (10-90 %, with a vehicle attached): rise B < 10 µs, C < 7 µs; fall < 13 µs"


def _nominal_duty(df) -> float:
    """The duty the study set: its nominal (attrs), else the middle of the sampled duties (a CSV keeps no attrs)."""
    nominal = (df.attrs.get("nominal") or {}).get("duty")
    for t in df.attrs.get("tolerances") or ():
        if t.get("name") == "duty" and t.get("nominal") is not None:
            nominal = t["nominal"]
    if nominal is None and df.attrs.get("tolerances"):
        from .variations import Tolerance

        nominal = Tolerance.fixed("duty").centre()
    if nominal is None:
        duty = df["duty"].to_numpy(float)
        duty = duty[np.isfinite(duty)]
        nominal = float((duty.min() + duty.max()) / 2) if duty.size else 0.25
    return float(nominal)


def _row(state, quantity, unit, values, runs, lo, hi, source, *, fail=True, warn=None) -> dict[str, Any]:
    finite = np.isfinite(values)
    v, r = values[finite], runs[finite]
    out: dict[str, Any] = {"state": state, "quantity": quantity, "unit": unit, "limit_lo": lo, "limit_hi": hi,
                           "count": int(v.size), "worst": None, "worst_run": None, "margin": None,
                           "margin_shown": None, "outside": 0, "verdict": "n/a", "source": source}
    if not v.size:
        return out
    if lo is None and hi is None:
        k = int(np.argmax(np.abs(v)))
        out.update(worst=float(v[k]), worst_run=int(r[k]), verdict="info")
        return out
    margins = np.minimum(v - (-np.inf if lo is None else lo), (np.inf if hi is None else hi) - v)
    k = int(np.argmin(margins))
    res = RESOLUTION[unit]
    shown = float(np.round(margins[k] / res) * res) + 0.0
    outside = int((np.round(margins / res) < 0).sum())
    verdict = "pass" if shown >= 0 else ("fail" if fail else "warn")
    if verdict == "pass" and warn is not None:
        w = np.minimum(v - warn[0], warn[1] - v)
        if (np.round(w / res) < 0).any():
            verdict = "warn"
            out["outside_warn"] = int((np.round(w / res) < 0).sum())
    out.update(worst=float(v[k]), worst_run=int(r[k]), margin=float(margins[k]), margin_shown=shown,
               outside=outside, verdict=verdict)
    return out


def timing_checks(df, profile: std.LimitsProfile) -> list[dict[str, Any]]:
    """Rows judging the spice engine's measured edges, frequency and pulse width (empty for ``fast``)."""
    if "measured_rise_time_s" not in df or "error" not in df:
        return []
    ok = df["error"].isna().to_numpy()
    states = df["expected_state"].astype(str).to_numpy()
    runs = df["run"].to_numpy()
    out = []
    duty_set = _nominal_duty(df)
    for state in [s for s in std.STATES if s in set(states[ok]) and (s.endswith("2") or s == "E")]:
        sel = ok & (states == state)
        letter = state[0]
        rise_max = std.VEHICLE_RISE_MAX_S.get(letter)
        fall_max = std.VEHICLE_FALL_MAX_S if rise_max is not None else None

        def col(name, sel=sel):
            return df[name].to_numpy(float)[sel] if name in df else np.full(int(sel.sum()), np.nan)

        out.append(_row(state, "measured_rise_time_s", "s", col("measured_rise_time_s"), runs[sel], None, rise_max,
                        _EDGE_SOURCE))
        out.append(_row(state, "measured_fall_time_s", "s", col("measured_fall_time_s"), runs[sel], None, fall_max,
                        _EDGE_SOURCE))
        fail, warn = profile.frequency_fail, profile.frequency_warn
        out.append(_row(state, "measured_frequency_hz", "Hz", col("measured_frequency_hz"), runs[sel], fail.lo,
                        fail.hi, f"{fail.source}; warn outside {warn.lo:g}-{warn.hi:g} Hz ({warn.source})",
                        warn=(warn.lo, warn.hi)))
        width = (col("measured_duty") - duty_set) / col("measured_frequency_hz")
        out.append(_row(state, "pulse_width_error_s", "s", width, runs[sel], -PULSE_WIDTH_TOL_S, PULSE_WIDTH_TOL_S,
                        f"PLNOTE: pulse width ±25 µs of the set duty {100 * duty_set:g} % (low confidence: a "
                        "warning)", fail=False))
    return out
