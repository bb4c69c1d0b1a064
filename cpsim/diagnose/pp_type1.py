"""Type 1 (SAE J1772) PP diagnosis: the plug's R6/R7/S3 from PP-PE resistances or V(PP) at the inlet.

Resistances are judged against 150 Ω / 480 Ω (OE-KB, robertcrimmins, kortas87, NXP sigbrd;
PILOT-REFERENCE §4) with :func:`~cpsim.diagnose.pp_common.resistance_window`. A voltage at the
vehicle inlet (330 Ω pull-up to 5 V, 2.7 kΩ pull-down: PLC, MS) is turned into the plug resistance
it implies and judged by the same rules (see :mod:`cpsim.diagnose.pp_common`).

Open: from :data:`PP1_OPEN_MIN_OHM` ≈ 4.84 kΩ up, the PP-PE resistance that puts the inlet at
4.20 V, the bottom of RTH's "unplugged" window: the vehicle sees no plug there (calc from RTH with
the PLC network). A V(PP) above the open level 4.455 V is open too: no plug resistance pulls PP
above it, and a note says the inlet network then differs from the assumed one.
"""

from __future__ import annotations

import itertools
import math
from types import MappingProxyType

from .. import standard as std
from .pp_common import (
    SHORT_MAX_OHM,
    PPDiagnosis,
    Span,
    check_below_supply,
    clip_open,
    implied,
    ohm_text,
    resistance_window,
    span_of,
)

__all__ = ["PP1_OPEN_MIN_OHM", "PP1_OPEN_V", "plug_from_v", "v_from_plug", "candidate_classes", "diagnose_type1"]

_NOMINAL = MappingProxyType({"latched": std.PP1_R6_OHM, "pressed": std.PP1_R6_OHM + std.PP1_R7_OHM})
_SUPPLY, _PULLUP, _PULLDOWN = std.PP1_SUPPLY_V, std.PP1_PULLUP_OHM, std.PP1_PULLDOWN_OHM
_INLET = "the J1772 inlet network (330 Ω to 5 V, 2.7 kΩ)"

PP1_OPEN_V = _SUPPLY * _PULLDOWN / (_PULLUP + _PULLDOWN)
"""V(PP) at the inlet with PP-PE open [V] (calc: 4.455 V; MS measures 4.46 V)."""


def v_from_plug(r_ohm: float) -> float:
    """V(PP) [V] at the inlet for a plug PP-PE resistance ``r_ohm`` [Ω] (``inf`` = open)."""
    r_par = _PULLDOWN if math.isinf(r_ohm) else _PULLDOWN * r_ohm / (_PULLDOWN + r_ohm)
    return _SUPPLY * r_par / (_PULLUP + r_par)


def plug_from_v(v: float) -> float:
    """Plug PP-PE resistance [Ω] implied by V(PP) at the inlet; ``inf`` at or above :data:`PP1_OPEN_V`."""
    if v <= 0:
        return 0.0
    if v >= PP1_OPEN_V:
        return math.inf
    r_par = _PULLUP * v / (_SUPPLY - v)
    return 1.0 / (1.0 / r_par - 1.0 / _PULLDOWN)


PP1_OPEN_MIN_OHM = plug_from_v(std.PP1_WINDOWS_V["unplugged"].lo)
"""Plug PP-PE [Ω] from which the vehicle reads "unplugged" (RTH 4.20 V, PLC network; calc ≈ 4.84 kΩ)."""

_LABELS = {SHORT_MAX_OHM: f"{SHORT_MAX_OHM:g} Ω short limit",
           **{b: f"{ohm_text(b)} edge of the {n:g} Ω window" for n in _NOMINAL.values() for b in resistance_window(n)},
           PP1_OPEN_MIN_OHM: f"{ohm_text(PP1_OPEN_MIN_OHM)} open limit (RTH unplugged from 4.20 V)"}


def class_ohm(r: float) -> str:
    if r <= SHORT_MAX_OHM:
        return "short"
    if r >= PP1_OPEN_MIN_OHM:
        return "open"
    for cls, nominal in _NOMINAL.items():
        lo, hi = resistance_window(nominal)
        if lo <= r <= hi:
            return cls
    return "other"


def _span(v: float) -> Span:
    return span_of(v, plug_from_v)


def candidate_classes(v: float) -> set[str]:
    """Every class a V(PP) reading at the inlet may be, within the voltmeter allowance."""
    return {class_ohm(r) for r in _span(v).probes(_LABELS)}


_T1_EXPECTED = "≈ 150 Ω released, ≈ 480 Ω pressed"
_OPEN_V_TEXT = ("PP open (no plug detected){where}: the plug is not inserted, or R6 (150 Ω), the PP pin or the "
                "cable's PP core is open")

# (released class, pressed class) -> (code, what is wrong); None = not measured.
_T1_RULES: dict[tuple[str | None, str | None], tuple[str, str]] = {
    ("latched", "pressed"): ("ok", "PP is healthy: R6 = 150 Ω, and the button opens S3 to add R7 = 330 Ω"),
    ("latched", None): ("ok", "latched reading is right; measure again with the button pressed to check S3 and R7"),
    (None, "pressed"): ("ok", "pressed reading is right; measure again released to check that S3 closes"),
    ("pressed", "pressed"): ("s3_stuck_open", "release button reads pressed all the time: the latch switch S3 is "
                                              "stuck open (or the latch does not drop home)"),
    ("pressed", None): ("s3_stuck_open", "reads pressed with the button released: the latch switch S3 is stuck "
                                         "open (or the latch does not drop home)"),
    ("latched", "latched"): ("s3_stuck_closed", "pressing the release button changes nothing: the latch switch S3 "
                                                "is stuck closed, the vehicle cannot see the button"),
    (None, "latched"): ("s3_stuck_closed", "reads latched with the button pressed: the latch switch S3 is stuck "
                                           "closed, the vehicle cannot see the button"),
    ("latched", "open"): ("r7_open", "the circuit opens when the button is pressed: R7 (330 Ω) is open"),
    ("open", "open"): ("r6_open", "PP-PE is open released and pressed: R6 (150 Ω) is open, or the PP pin or "
                                  "its wire is broken"),
    ("open", None): ("r6_open", "PP-PE is open with the button released: R6 (150 Ω) is open, or the PP pin or "
                                "its wire is broken"),
    (None, "open"): ("open_circuit", "PP-PE is open with the button pressed: R6 or R7 is open, or the PP pin "
                                     "or its wire is broken"),
}

_OPEN_STEP = ("check the PP pin and the cable's PP core for an open circuit; if they are intact, replace R6 "
              "(150 Ω) or the plug")
_NEXT: dict[str, str] = {
    "ok": "nothing on PP: the plug reads right; if the vehicle still will not charge, look at the control pilot",
    "s3_stuck_open": ("replace the S3 release microswitch (first check that the latch drops home freely), then "
                      "measure again: ≈ 150 Ω released"),
    "s3_stuck_closed": "replace the S3 release microswitch: pressing the button must open it (≈ 480 Ω pressed)",
    "r7_open": "replace R7 (330 Ω) in the plug handle, or the plug",
    "r6_open": _OPEN_STEP,
    "open_circuit": ("measure again with the button released: ≈ 150 Ω means R7 (330 Ω) is open; open means "
                     + _OPEN_STEP),
    "pp_shorted": ("inspect the PP and PE pins for debris or damage and the cable for a pinch or crushed section; "
                   "replace the plug or cable if the short stays"),
    "off_nominal": ("charger off, plug out: clean the PP and PE contacts and measure PP-PE again, released and "
                    "pressed; replace R6 (150 Ω) / R7 (330 Ω) or the plug if it stays off"),
    "inconclusive": ("measure PP-PE on the plug with an ohmmeter (charger off, plug out, released and pressed): "
                     "the voltage cannot tell which side of the limit it is"),
}


def _code(released: str | None, pressed: str | None) -> str:
    if "short" in (released, pressed):
        return "pp_shorted"
    return _T1_RULES.get((released, pressed), ("off_nominal", ""))[0]


def _what(code: str, classes: dict[str, str], readings: dict[str, float], by_voltage: bool) -> str:
    key = (classes.get("released"), classes.get("pressed"))
    if code == "pp_shorted":
        return "PP is shorted to PE (≈ 0 Ω): a damaged plug, a pinched cable or debris in the pins"
    if by_voltage and code in ("r6_open", "open_circuit"):
        where = {("open", "open"): " released and pressed", ("open", None): "",
                 (None, "open"): " with the button pressed"}[key]
        return _OPEN_V_TEXT.format(where=where)
    if code != "off_nominal":
        return _T1_RULES[key][1]
    odd = [f"{k} {ohm_text(readings[k])}" for k, c in classes.items() if c == "other"]
    if odd:
        return f"{' and '.join(odd)} matches neither 150 Ω nor 480 Ω: a damaged or wrong resistor or a corroded contact"
    return "the readings fit no working or single-fault plug: check which reading is which"


def _voltage_notes(volts: dict[str, float], code: str) -> list[str]:
    notes = []
    for k, v in volts.items():
        if v - _span(v).u_v > PP1_OPEN_V:
            notes.append(f"V(PP) {v:.3f} V {k} is above the {PP1_OPEN_V:.3f} V an open PP gives with {_INLET}: no "
                         f"plug resistance pulls PP that high, so the inlet differs (is the 2.7 kΩ pull-down R5 "
                         f"missing?) or the probe reads high")
        if code != "ok":
            seen = [(n, w) for n, w in std.PP1_WINDOWS_V.items() if w.contains(v)]
            vehicle = (f"as {seen[0][0]} ({seen[0][1].lo:.2f}-{seen[0][1].hi:.2f} V)" if seen else
                       "in none of them (latched 0.80-1.72 V, pressed 2.51-3.01 V, unplugged 4.20-4.65 V)")
            notes.append(f"a vehicle with RTH's windows reads V(PP) {v:.3f} V {k} {vehicle}")
    return notes


def diagnose_type1(readings_ohm: dict[str, float], volts: dict[str, float] | None) -> PPDiagnosis:
    """Type 1 verdict from ``{"released"/"pressed": Ω}`` or, with ``volts``, from V(PP) at the inlet [V]."""
    notes: list[str] = []
    if volts:
        for k, v in volts.items():
            check_below_supply("v_pp" if k == "released" else "v_pp_pressed", v, _SUPPLY, _INLET)
        spans = {k: _span(v) for k, v in volts.items()}
        readings = {k: clip_open(s.r) for k, s in spans.items()}
        possible = {k: sorted({class_ohm(r) for r in s.probes(_LABELS)}) for k, s in spans.items()}
        measured = ", ".join(f"V(PP) {v:.3f} V {k} ({implied(readings[k])})" for k, v in volts.items())
        expected = (f"{_T1_EXPECTED}: V(PP) {std.PP1_NOMINAL_V['latched']:.3f} V released, "
                    f"{std.PP1_NOMINAL_V['pressed']:.3f} V pressed at the inlet (330 Ω to 5 V, 2.7 kΩ assumed; "
                    f"voltmeter 0.5 % + 2 mV, plug parts ±3 %)")
    else:
        spans = {}
        readings = dict(readings_ohm)
        possible = {k: [class_ohm(r)] for k, r in readings.items()}
        measured = ", ".join(f"{ohm_text(v)} {k}" for k, v in readings.items())
        lo1, hi1 = resistance_window(_NOMINAL["latched"])
        lo2, hi2 = resistance_window(_NOMINAL["pressed"])
        expected = f"{_T1_EXPECTED} ({lo1:.0f}-{hi1:.0f} Ω and {lo2:.0f}-{hi2:.0f} Ω: parts ±3 %, meter 1 % + 2 Ω)"
    rel, pre = possible.get("released", [None]), possible.get("pressed", [None])
    codes = sorted({_code(a, b) for a, b in itertools.product(rel, pre)})
    if len(codes) > 1:
        edges = [f"V(PP) {s.v:.3f} V ± {s.u_v * 1e3:.0f} mV {k} implies PP-PE {s.text()}, across the "
                 f"{' and the '.join(s.crossed(_LABELS))}" for k, s in spans.items() if len(possible[k]) > 1]
        verdict = (f"{'; '.join(edges)}: the plug reads as {' or '.join(codes)}, the voltage cannot tell which; "
                   f"expected {_T1_EXPECTED}")
        notes += _voltage_notes(volts or {}, "inconclusive")
        return PPDiagnosis("inconclusive", verdict, expected, measured, "type1", readings,
                           next_step=_NEXT["inconclusive"], notes=tuple(notes), candidates=tuple(codes))
    code = codes[0]
    classes = {k: c[0] for k, c in possible.items()}
    what = _what(code, classes, readings, bool(volts))
    if code == "ok":
        next_step = {("latched", None): "measure again with the button pressed (≈ 480 Ω) to check S3 and R7",
                     (None, "pressed"): "measure again with the button released (≈ 150 Ω) to check that S3 closes",
                     }.get((classes.get("released"), classes.get("pressed")), _NEXT["ok"])
    elif volts and code in ("r6_open", "open_circuit"):
        next_step = "check that the plug is fully inserted and latched; then " + _NEXT[code]
    elif volts and code == "off_nominal":
        next_step = ("measure PP-PE on the plug with an ohmmeter (charger off, plug out): ≈ 150 Ω released and "
                     f"≈ 480 Ω pressed mean {_INLET} is off; otherwise clean the PP and PE contacts and replace "
                     "R6 (150 Ω) / R7 (330 Ω) or the plug")
    else:
        next_step = _NEXT[code]
    notes += _voltage_notes(volts or {}, code)
    return PPDiagnosis(code, f"{what}; expected {_T1_EXPECTED}", expected, measured, "type1", readings,
                       next_step=next_step, notes=tuple(notes))
