"""Proximity-pilot diagnosis: from what a technician measures to the root cause.

:func:`diagnose_pp` takes the PP-PE resistance of a plug or cable (an ohmmeter, charger
off) or the PP voltage, and returns a :class:`PPDiagnosis` with a stable ``code``.

Type 1 (SAE J1772), measured between the PP and PE pins of the plug, out of the inlet:

=============  =============  ===============  ==========================================
released       pressed        code             meaning
=============  =============  ===============  ==========================================
≈ 150 Ω        ≈ 480 Ω        ok               R6 = 150 Ω; S3 opens and adds R7 = 330 Ω
≈ 480 Ω        ≈ 480 Ω        s3_stuck_open    S3 never closes (or the latch never drops)
≈ 150 Ω        ≈ 150 Ω        s3_stuck_closed  the vehicle cannot see the button
≈ 150 Ω        open           r7_open          pressing reads as "plug pulled"
open           open           r6_open          PP-PE open: R6, the PP pin or its wire
≈ 0 Ω          any            pp_shorted       PP shorted to PE
anything else                 off_nominal      wrong, damaged or corroded part
----------------------------  ---------------  ------------------------------------------
=============  =============  ===============  ==========================================

Values: 150 Ω / 480 Ω (OE-KB, robertcrimmins, kortas87, NXP sigbrd; PILOT-REFERENCE §4).
With ``v_pp`` (the PP voltage at the vehicle inlet, its 330 Ω pull-up to 5 V and 2.7 kΩ
pull-down assumed, PLC/MS) the reading is judged by the vehicle's windows of RTH: latched
0.80-1.72 V, pressed 2.51-3.01 V, unplugged 4.20-4.65 V; below 0.5 V (RTH: "unknown") only
a near short pulls PP, so cpsim reads it as ``pp_shorted``.

Type 2 (IEC 62196), the cable's coding resistor Rc: the rating from the IEC 2010 bands
(PHX, TF) or EVerest's (EV-BU, values between bands read as the lower ampacity), see
:data:`cpsim.standard.RC_BANDS`; codes ``ok``, ``rc_off_nominal`` (inside a band but no
standard value), ``rc_out_of_band``, ``rc_open``, ``rc_shorted``.

Tolerance on a measured resistance: ``nominal·(1 ± 4 %) ± 2 Ω``. The reasoning:

* ±3 % for the part: SIE gives ±3 % for Rc and for the Annex A CP resistors. No public
  source gives the tolerance of the J1772 plug's R6/R7 (§4), so the same ±3 % is assumed.
* +1 % of reading and 2 Ω for the measurement: a handheld meter's resistance accuracy on
  a few hundred ohms is of the order of 1 % (an engineering allowance, not a standard's
  figure), and unzeroed test leads plus pin contacts add an ohm or two.
* Below 10 Ω nothing but a short can be measured (the smallest coding value is 100 Ω);
  100 kΩ and above (or ``inf``) is open, 200 times the largest plug value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .. import standard as std
from ..errors import ParameterError
from ..units import check_number

__all__ = ["PPDiagnosis", "diagnose_pp", "PART_TOL", "METER_TOL", "CONTACT_OHM", "SHORT_MAX_OHM",
           "OPEN_MIN_OHM", "resistance_window"]

PART_TOL = 0.03
"""Part tolerance (SIE: Rc ±3 %; assumed for J1772 R6/R7, for which no public figure exists)."""
METER_TOL = 0.01
"""Meter allowance, fraction of reading (engineering allowance for a handheld DMM)."""
CONTACT_OHM = 2.0
"""Test leads and pin contacts [Ω] (engineering allowance)."""
SHORT_MAX_OHM = 10.0
"""At or below this [Ω] a reading is a short: the smallest coding value is 100 Ω (Type 2 63 A)."""
OPEN_MIN_OHM = 100e3
"""At or above this [Ω] a reading is open: 200 × the largest plug value (480 Ω)."""

_TYPE1_NOMINAL = MappingProxyType({"latched": std.PP1_R6_OHM, "pressed": std.PP1_R6_OHM + std.PP1_R7_OHM})
# Vehicle inlet windows on V(PP) (RTH); below 0.5 V RTH says "unknown": only a near short gets there.
_PP1_SHORT_WINDOW = std.Window(0.0, 0.5, "RTH: 0-0.5 V unknown")


@dataclass(frozen=True)
class PPDiagnosis:
    """The verdict on a proximity pilot.

    Attributes
    ----------
    code : str
        Stable identifier: ``ok``, ``s3_stuck_open``, ``s3_stuck_closed``, ``r6_open``,
        ``r7_open``, ``open_circuit``, ``pp_shorted``, ``off_nominal`` (Type 1);
        ``ok``, ``rc_off_nominal``, ``rc_out_of_band``, ``rc_open``, ``rc_shorted`` (Type 2).
    verdict : str
        One line for the technician, including what was expected.
    expected, measured : str
        The expected values and the readings, in words with units.
    connector : "type1" or "type2"
    readings_ohm : mapping
        PP-PE resistance per reading [Ω] (``released``/``pressed`` or ``rc``), derived from the
        voltage when one was given; ``inf`` is open.
    cable_rating_a : float or None
        Type 2: the rating the EVSE derives with ``bands`` [A], 0 for no valid cable.
    bands : str or None
        Type 2 band family used.
    """

    code: str
    verdict: str
    expected: str
    measured: str
    connector: str
    readings_ohm: Mapping[str, float] = field(default_factory=dict)
    cable_rating_a: float | None = None
    bands: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "readings_ohm", MappingProxyType(dict(self.readings_ohm)))

    @property
    def ok(self) -> bool:
        return self.code == "ok"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict; open readings are ``None``."""
        d: dict[str, Any] = {
            "code": self.code, "verdict": self.verdict, "expected": self.expected, "measured": self.measured,
            "connector": self.connector,
            "readings_ohm": {k: (v if math.isfinite(v) else None) for k, v in self.readings_ohm.items()},
        }
        if self.connector == "type2":
            d["cable_rating_a"] = self.cable_rating_a
            d["bands"] = self.bands
        return d


def resistance_window(nominal_ohm: float) -> tuple[float, float]:
    """Accepted reading [Ω] for a part of ``nominal_ohm``: part ±3 %, meter 1 % of reading, leads 2 Ω."""
    tol = PART_TOL + METER_TOL
    return nominal_ohm * (1 - tol) - CONTACT_OHM, nominal_ohm * (1 + tol) + CONTACT_OHM


def _near(r: float, nominal: float) -> bool:
    lo, hi = resistance_window(nominal)
    return lo <= r <= hi


def _ohm_text(r: float) -> str:
    if math.isinf(r):
        return "open"
    if r >= 1e3:
        return f"{r / 1e3:.3g} kΩ"
    return f"{r:.3g} Ω" if r < 100 else f"{r:.0f} Ω"


def _implied(r: float) -> str:
    return "PP-PE open" if math.isinf(r) else f"PP-PE ≈ {_ohm_text(r)}"


def _resistance(name: str, value) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == math.inf:
        return math.inf
    return check_number(name, value, lo=0.0, unit="Ω")


def _voltage(name: str, value) -> float | None:
    if value is None:
        return None
    return check_number(name, value, lo=0.0, hi=30.0, unit="V")


# --------------------------------------------------------------------------------------------
# Type 1
# --------------------------------------------------------------------------------------------

def _class_ohm(r: float) -> str:
    if r <= SHORT_MAX_OHM:
        return "short"
    if r >= OPEN_MIN_OHM:
        return "open"
    if _near(r, _TYPE1_NOMINAL["latched"]):
        return "latched"
    if _near(r, _TYPE1_NOMINAL["pressed"]):
        return "pressed"
    return "other"


def _class_volt(v: float) -> str:
    if _PP1_SHORT_WINDOW.contains(v):
        return "short"
    for cls, window in (("latched", std.PP1_WINDOWS_V["latched"]), ("pressed", std.PP1_WINDOWS_V["pressed"]),
                        ("open", std.PP1_WINDOWS_V["unplugged"])):
        if window.contains(v):
            return cls
    return "other"


def _plug_from_v(v: float) -> float:
    """PP-PE resistance of the plug [Ω] implied by V(PP) at the inlet (330 Ω to 5 V, 2.7 kΩ to ground)."""
    supply, pullup, pulldown = std.PP1_SUPPLY_V, std.PP1_PULLUP_OHM, std.PP1_PULLDOWN_OHM
    if v >= supply:
        return math.inf
    r_par = pullup * v / (supply - v)
    r = 1.0 / (1.0 / r_par - 1.0 / pulldown) if 0 < r_par < pulldown else (0.0 if r_par <= 0 else math.inf)
    return math.inf if r >= OPEN_MIN_OHM else r


_T1_EXPECTED = "≈ 150 Ω released, ≈ 480 Ω pressed"

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


def _diagnose_type1(released: float | None, pressed: float | None, by_voltage: dict[str, float] | None):
    readings = {k: v for k, v in (("released", released), ("pressed", pressed)) if v is not None}
    if by_voltage is not None:
        classes = {k: _class_volt(v) for k, v in by_voltage.items()}
        parts = [f"V(PP) {v:.3f} V {k} ({_implied(readings[k])})" for k, v in by_voltage.items()]
        expected = (f"{_T1_EXPECTED}: V(PP) 0.80-1.72 V released, 2.51-3.01 V pressed (RTH windows; "
                    f"nominal 1.505 V / 2.763 V)")
    else:
        classes = {k: _class_ohm(v) for k, v in readings.items()}
        parts = [f"{_ohm_text(v)} {k}" for k, v in readings.items()]
        lo1, hi1 = resistance_window(_TYPE1_NOMINAL["latched"])
        lo2, hi2 = resistance_window(_TYPE1_NOMINAL["pressed"])
        expected = f"{_T1_EXPECTED} ({lo1:.0f}-{hi1:.0f} Ω and {lo2:.0f}-{hi2:.0f} Ω: parts ±3 %, meter 1 % + 2 Ω)"
    measured = ", ".join(parts)
    key = (classes.get("released"), classes.get("pressed"))
    if "short" in key:
        code, what = "pp_shorted", "PP is shorted to PE (≈ 0 Ω): a damaged plug, a pinched cable or debris in the pins"
    elif key in _T1_RULES:
        code, what = _T1_RULES[key]
    else:
        odd = [f"{k} {_ohm_text(readings[k])}" for k, c in classes.items() if c == "other"]
        if odd:
            what = (f"{' and '.join(odd)} matches neither 150 Ω nor 480 Ω: a damaged or wrong resistor or a "
                    f"corroded contact")
        else:
            what = f"the readings ({measured}) fit no working or single-fault plug: check which reading is which"
        code = "off_nominal"
    return code, f"{what}; expected {_T1_EXPECTED}", expected, measured, readings


# --------------------------------------------------------------------------------------------
# Type 2
# --------------------------------------------------------------------------------------------

def _diagnose_type2(rc: float, bands: std.RcBands):
    nominal_text = " / ".join(f"{r:g}" for r in std.PP2_RC_NOMINAL_OHM.values())
    amps_text = " / ".join(f"{a}" for a in std.PP2_RC_NOMINAL_OHM)
    expected = f"{nominal_text} Ω ±3 % for {amps_text} A (SIE)"
    rating = 0.0 if rc >= OPEN_MIN_OHM else float(bands.rating(rc))
    if rc <= SHORT_MAX_OHM:
        code = "rc_shorted"
        what = "PP is shorted to PE (≈ 0 Ω): the EVSE reads an error and offers no current"
    elif rc >= OPEN_MIN_OHM:
        code = "rc_open"
        what = ("PP-PE is open: the coding resistor or the PP core is broken; the EVSE reads no cable "
                "and offers no current (an open PP is not a 6 A cable)")
    elif rating == 0:
        code = "rc_out_of_band"
        what = (f"Rc {_ohm_text(rc)} is in no {bands.name} band ({_bands_text(bands)}): no valid cable, "
                f"the EVSE offers no current")
    else:
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
        if _near(rc, nominal):
            code = "ok"
            what = f"{amps} A cable: Rc {_ohm_text(rc)} is the {amps} A coding ({where})"
        else:
            code = "rc_off_nominal"
            what = (f"the EVSE reads a {amps} A cable ({where}), but Rc {_ohm_text(rc)} is no standard coding "
                    f"value: a wrong or damaged resistor; EVSEs with other bands may read it differently")
    return code, f"{what}; expected {expected}", expected, rating


def _bands_text(b: std.RcBands) -> str:
    spans = ", ".join(f"{a} A {lo:g}-{hi:g} Ω" for a, (lo, hi) in sorted(b.bands.items()))
    return f"{spans}; error below {b.error_below_ohm:g} Ω, none above {b.none_above_ohm:g} Ω"


# --------------------------------------------------------------------------------------------

def diagnose_pp(connector: str = "type1", *, released_ohm: float | str | None = None,
                pressed_ohm: float | str | None = None, v_pp: float | str | None = None,
                v_pp_pressed: float | str | None = None, rc_ohm: float | str | None = None, bands: str = "iec2010",
                supply_v: float | str | None = None, pullup_ohm: float | str | None = None) -> PPDiagnosis:
    """Diagnose a proximity pilot from what a technician can measure.

    Parameters
    ----------
    connector : {"type1", "type2"}
    released_ohm, pressed_ohm : float, optional
        Type 1: PP-PE resistance of the plug [Ω] with the release button released / pressed,
        charger off, plug out of the inlet. ``math.inf`` is an open reading.
    v_pp, v_pp_pressed : float, optional
        Instead of resistances, V(PP) [V]. Type 1: at the vehicle inlet, button released /
        pressed, with the inlet's 330 Ω pull-up to 5 V and 2.7 kΩ pull-down assumed. Type 2:
        at the EVSE (``v_pp`` only), read through ``pullup_ohm`` to ``supply_v``.
    rc_ohm : float, optional
        Type 2: the cable's PP-PE (coding) resistance [Ω].
    bands : {"iec2010", "everest"}
        Type 2 decision bands (PILOT-REFERENCE §5).
    supply_v, pullup_ohm : float, optional
        Type 2 with ``v_pp``: the EVSE's PP pull-up (default 1 kΩ to 5 V, as OpenEVSE).

    Returns
    -------
    PPDiagnosis

    Raises
    ------
    ParameterError
        Negative or non-numeric readings, nothing to diagnose, or readings that do not
        belong together (resistances and voltages, Type 1 readings for Type 2, ...).

    Examples
    --------
    >>> diagnose_pp(released_ohm=482, pressed_ohm=483).code
    's3_stuck_open'
    >>> d = diagnose_pp("type2", rc_ohm=690)
    >>> d.code, d.cable_rating_a
    ('ok', 20.0)
    """
    if connector not in ("type1", "type2"):
        raise ParameterError(f"connector must be 'type1' or 'type2', got {connector!r}")
    released = _resistance("released_ohm", released_ohm)
    pressed = _resistance("pressed_ohm", pressed_ohm)
    rc = _resistance("rc_ohm", rc_ohm)
    v_rel = _voltage("v_pp", v_pp)
    v_pre = _voltage("v_pp_pressed", v_pp_pressed)

    if connector == "type1":
        if rc is not None:
            raise ParameterError("rc_ohm is a Type 2 reading; for type1 give released_ohm/pressed_ohm or v_pp")
        if supply_v is not None or pullup_ohm is not None:
            raise ParameterError("type1 assumes the J1772 inlet network (330 Ω to 5 V, 2.7 kΩ); "
                                 "supply_v/pullup_ohm apply to type2 only")
        by_ohm = released is not None or pressed is not None
        by_volt = v_rel is not None or v_pre is not None
        if by_ohm and by_volt:
            raise ParameterError("give either resistances (released_ohm/pressed_ohm) or voltages "
                                 "(v_pp/v_pp_pressed), not both")
        if not (by_ohm or by_volt):
            raise ParameterError("nothing to diagnose: give released_ohm and/or pressed_ohm, or v_pp")
        by_voltage = None
        if by_volt:
            by_voltage = {k: v for k, v in (("released", v_rel), ("pressed", v_pre)) if v is not None}
            released = None if v_rel is None else _plug_from_v(v_rel)
            pressed = None if v_pre is None else _plug_from_v(v_pre)
        code, verdict, expected, measured, readings = _diagnose_type1(released, pressed, by_voltage)
        return PPDiagnosis(code, verdict, expected, measured, "type1", readings)

    if released is not None or pressed is not None or v_pre is not None:
        raise ParameterError("released_ohm/pressed_ohm/v_pp_pressed are Type 1 readings; for type2 give rc_ohm "
                             "or v_pp")
    if bands not in std.RC_BANDS:
        raise ParameterError(f"bands must be one of {', '.join(std.RC_BANDS)}, got {bands!r}")
    band = std.RC_BANDS[bands]
    if (rc is None) == (v_rel is None):
        raise ParameterError("type2 needs exactly one reading: rc_ohm or v_pp")
    if rc is not None:
        if supply_v is not None or pullup_ohm is not None:
            raise ParameterError("supply_v/pullup_ohm describe the circuit that reads v_pp; not used with rc_ohm")
        measured = f"Rc {_ohm_text(rc)}"
    else:
        assert v_rel is not None  # exactly one of rc_ohm and v_pp, checked above
        supply = check_number("supply_v", std.PP2_SUPPLY_CHOICES_V[0] if supply_v is None else supply_v,
                              lo=0.1, hi=30.0, unit="V")
        pullup = check_number("pullup_ohm", std.PP2_PULLUP_OHM if pullup_ohm is None else pullup_ohm,
                              lo=1e-3, hi=1e9, unit="Ω")
        if v_rel > supply:
            raise ParameterError(f"v_pp {v_rel:g} V is above the {supply:g} V pull-up supply: check supply_v")
        rc = math.inf if v_rel >= supply else pullup * v_rel / (supply - v_rel)
        rc = math.inf if rc >= OPEN_MIN_OHM else rc
        measured = f"V(PP) {v_rel:.3f} V through {_ohm_text(pullup)} to {supply:g} V ({_implied(rc)})"
    code, verdict, expected, rating = _diagnose_type2(rc, band)
    return PPDiagnosis(code, verdict, expected, measured, "type2", {"rc": rc}, rating, bands)
