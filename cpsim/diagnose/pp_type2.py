"""Type 2 (IEC 62196) PP diagnosis: the cable's coding resistor Rc, from an ohmmeter or V(PP) at the EVSE.

The rating comes from the IEC 2010 bands (PHX, TF) or EVerest's (EV-BU, values between bands read as
the lower ampacity), see :data:`cpsim.standard.RC_BANDS`; ``ok`` needs Rc within the 1.5 kΩ / 680 /
220 / 100 Ω ±3 % coding values (SIE) plus the meter allowance. A voltage read through the EVSE's
pull-up is turned into the Rc it implies and judged by the same rules.
"""

from __future__ import annotations

import math

from .. import standard as std
from .pp_common import (
    OPEN_MIN_OHM,
    SHORT_MAX_OHM,
    PPDiagnosis,
    Span,
    check_below_supply,
    clip_open,
    implied,
    near,
    ohm_text,
    resistance_window,
    span_of,
)

__all__ = ["rc_from_v", "candidate_codes", "diagnose_type2"]


def rc_from_v(v: float, supply_v: float, pullup_ohm: float) -> float:
    """Rc [Ω] implied by V(PP) read through ``pullup_ohm`` to ``supply_v``; ``inf`` at or above the supply."""
    if v <= 0:
        return 0.0
    return math.inf if v >= supply_v else pullup_ohm * v / (supply_v - v)


def _labels(bands: std.RcBands) -> dict[float, str]:
    labels: dict[float, list[str]] = {}
    for amps, (lo, hi) in bands.bands.items():
        for b in (lo, hi):
            labels.setdefault(b, []).append(f"{amps} A {bands.name} band")
    labels.setdefault(bands.error_below_ohm, []).append(f"{bands.name} error limit")
    labels.setdefault(bands.none_above_ohm, []).append(f"{bands.name} no-cable limit")
    for nominal in std.PP2_RC_NOMINAL_OHM.values():
        for b in resistance_window(nominal):
            labels.setdefault(b, []).append(f"{nominal:g} Ω coding window")
    labels.setdefault(SHORT_MAX_OHM, []).append("short limit")
    labels.setdefault(OPEN_MIN_OHM, []).append("open limit")
    return {b: f"{ohm_text(b)} edge ({', '.join(names)})" for b, names in labels.items()}


def classify(rc: float, bands: std.RcBands) -> tuple[str, float]:
    """(code, rating [A]) for an Rc reading [Ω]."""
    if rc <= SHORT_MAX_OHM:
        return "rc_shorted", 0.0
    if rc >= OPEN_MIN_OHM:
        return "rc_open", 0.0
    rating = float(bands.rating(rc))
    if rating == 0:
        return "rc_out_of_band", 0.0
    return ("ok" if near(rc, std.PP2_RC_NOMINAL_OHM[int(rating)]) else "rc_off_nominal"), rating


def candidate_codes(span: Span, bands: std.RcBands) -> set[tuple[str, float]]:
    """Every (code, rating) a V(PP) reading may give, within the voltmeter allowance."""
    return {classify(r, bands) for r in span.probes(_labels(bands))}


def _bands_text(b: std.RcBands) -> str:
    spans = ", ".join(f"{a} A {lo:g}-{hi:g} Ω" for a, (lo, hi) in sorted(b.bands.items()))
    return f"{spans}; error below {b.error_below_ohm:g} Ω, none above {b.none_above_ohm:g} Ω"


_NEXT = {
    "rc_shorted": ("inspect the PP pin for debris or damage and the cable for a pinch or crushed section; replace the "
                   "cable if the short stays"),
    "rc_open": ("check the PP pin and the cable's PP core for an open circuit (and that the cable is plugged in at "
                "both ends); replace the cable if Rc still reads open"),
    "rc_out_of_band": ("the cable coding resistor is out of every band: replace the cable (a reading far above the "
                       "bands can also be a poor PP contact: clean the pins first)"),
}


def _verdict(code: str, rc: float, rating: float, bands: std.RcBands) -> tuple[str, str, str]:
    """(what is wrong, expected, next step)."""
    nominal_text = " / ".join(f"{r:g}" for r in std.PP2_RC_NOMINAL_OHM.values())
    amps_text = " / ".join(f"{a}" for a in std.PP2_RC_NOMINAL_OHM)
    expected = f"{nominal_text} Ω ±3 % for {amps_text} A (SIE)"
    if code == "rc_shorted":
        return "PP is shorted to PE (≈ 0 Ω): the EVSE reads an error and offers no current", expected, _NEXT[code]
    if code == "rc_open":
        return ("PP-PE is open: the coding resistor or the PP core is broken; the EVSE reads no cable and offers no "
                "current (an open PP is not a 6 A cable)", expected, _NEXT[code])
    if code == "rc_out_of_band":
        return (f"Rc {ohm_text(rc)} is in no {bands.name} band ({_bands_text(bands)}): no valid cable, the EVSE "
                f"offers no current", expected, _NEXT[code])
    amps = int(rating)
    nominal = std.PP2_RC_NOMINAL_OHM[amps]
    lo, hi = bands.bands[amps]
    outer_lo = min(b[0] for b in bands.bands.values())
    outer_hi = max(b[1] for b in bands.bands.values())
    if lo <= rc <= hi:
        where = f"{bands.name} band {lo:g}-{hi:g} Ω"
    elif outer_lo <= rc <= outer_hi:
        where = f"between two {bands.name} bands: the lower ampacity, EV-BU"
    else:
        where = (f"beyond the outer {bands.name} bands but inside {bands.error_below_ohm:g}-"
                 f"{bands.none_above_ohm:g} Ω: the nearest band, EV-BU")
    expected = f"{nominal:g} Ω ±3 % for {amps} A (SIE)"
    if code == "ok":
        return (f"{amps} A cable: Rc {ohm_text(rc)} is the {amps} A coding ({where})", expected,
                f"nothing on PP: the cable is coded for {amps} A; if charging still fails, look at the control pilot")
    return (f"the EVSE reads a {amps} A cable ({where}), but Rc {ohm_text(rc)} is no standard coding value: a wrong "
            f"or damaged resistor; EVSEs with other bands may read it differently", expected,
            f"replace the cable (or its coding resistor with {nominal:g} Ω ±3 %): another EVSE may rate it "
            f"differently")


def diagnose_type2(rc: float | None, v: float | None, bands: std.RcBands, supply_v: float,
                   pullup_ohm: float) -> PPDiagnosis:
    """Type 2 verdict from ``rc`` [Ω] or from ``v`` [V] read through ``pullup_ohm`` to ``supply_v``."""
    if v is None:
        assert rc is not None
        code, rating = classify(rc, bands)
        what, expected, next_step = _verdict(code, rc, rating, bands)
        return PPDiagnosis(code, f"{what}; expected {expected}", expected, f"Rc {ohm_text(rc)}", "type2",
                           {"rc": rc}, rating, bands.name, next_step)
    check_below_supply("v_pp", v, supply_v, f"the EVSE's PP pull-up ({ohm_text(pullup_ohm)} to {supply_v:g} V)")
    span = span_of(v, lambda x: rc_from_v(x, supply_v, pullup_ohm))
    rc = clip_open(span.r)
    measured = f"V(PP) {v:.3f} V through {ohm_text(pullup_ohm)} to {supply_v:g} V ({implied(rc)})"
    possible = sorted(candidate_codes(span, bands), key=lambda cr: (cr[1], cr[0]))
    if len(possible) > 1:
        reads = " or ".join(f"{c} ({r:g} A)" if r else c for c, r in possible)
        crossed = " and the ".join(span.crossed(_labels(bands)))
        _, expected, _ = _verdict("rc_open", rc, 0.0, bands)
        verdict = (f"V(PP) {v:.3f} V ± {span.u_v * 1e3:.0f} mV implies Rc {span.text()}, across the {crossed}: the "
                   f"cable reads as {reads}, the voltage cannot tell which; expected {expected}")
        return PPDiagnosis("inconclusive", verdict, expected, measured, "type2", {"rc": rc}, None, bands.name,
                           "measure Rc (PP-PE) on the cable with an ohmmeter: the voltage cannot tell which side "
                           "of the limit it is", candidates=tuple(dict.fromkeys(c for c, _ in possible)))
    code, rating = possible[0]
    what, expected, next_step = _verdict(code, span.r, rating, bands)
    return PPDiagnosis(code, f"{what}; expected {expected}", expected, measured, "type2", {"rc": rc}, rating,
                       bands.name, next_step)
