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
open           open           r6_open          PP-PE open (≥ 4.84 kΩ): R6, the PP pin or its wire
≈ 0 Ω          any            pp_shorted       PP shorted to PE
anything else                 off_nominal      wrong, damaged or corroded part
----------------------------  ---------------  ------------------------------------------
=============  =============  ===============  ==========================================

Values: 150 Ω / 480 Ω (OE-KB, robertcrimmins, kortas87, NXP sigbrd; PILOT-REFERENCE §4).
With ``v_pp`` (the PP voltage at the vehicle inlet, its 330 Ω pull-up to 5 V and 2.7 kΩ
pull-down assumed, PLC/MS) the reading is turned into the plug resistance it implies and judged
by the same rules, so a voltage and its resistance get the same code; within the voltmeter's
allowance (0.5 % + 2 mV) of a limit the answer is ``inconclusive`` with the ``candidates``
(:mod:`cpsim.diagnose.pp_common`). Open (``r6_open``) is PP-PE from ≈ 4.84 kΩ up, where the
vehicle reads "unplugged" (RTH from 4.20 V), and any V(PP) at or above the 4.455 V open level.
The vehicle's own RTH windows (latched 0.80-1.72 V, pressed 2.51-3.01 V) are wider than the
plug's tolerance: a note says what the vehicle makes of the voltage.

Type 2 (IEC 62196), the cable's coding resistor Rc: the rating from the IEC 2010 bands
(PHX, TF) or EVerest's (EV-BU, values between bands read as the lower ampacity), see
:data:`cpsim.standard.RC_BANDS`; codes ``ok``, ``rc_off_nominal`` (inside a band but no
standard value), ``rc_out_of_band``, ``rc_open``, ``rc_shorted``.

Connector: ``connector=None`` infers it. Released/pressed readings exist on Type 1 only, Rc and the
EVSE's pull-up (``supply_v``, ``pullup_ohm``) on Type 2 only. A lone ``v_pp`` must fit a nominal
condition (healthy or open) of exactly one reading circuit (Type 1 inlet, or Type 2 1 kΩ to 5 V),
else it is refused with "give --connector type1|type2". Every verdict carries a ``next_step``.

Tolerance on a measured resistance: ``nominal·(1 ± 4 %) ± 2 Ω``. The reasoning:

* ±3 % for the part: SIE gives ±3 % for Rc and for the Annex A CP resistors. No public
  source gives the tolerance of the J1772 plug's R6/R7 (§4), so the same ±3 % is assumed.
* +1 % of reading and 2 Ω for the measurement: a handheld meter's resistance accuracy on
  a few hundred ohms is of the order of 1 % (an engineering allowance, not a standard's
  figure), and unzeroed test leads plus pin contacts add an ohm or two.
* Below 10 Ω nothing but a short can be measured (the smallest coding value is 100 Ω);
  for Type 2, 100 kΩ and above (or ``inf``) is open, 200 times the largest plug value.
"""

from __future__ import annotations

from typing import Any

from .. import standard as std
from ..errors import ParameterError
from ..units import check_number
from .pp_common import (
    CONTACT_OHM,
    METER_TOL,
    OPEN_MIN_OHM,
    PART_TOL,
    SHORT_MAX_OHM,
    VOLT_METER_ABS_V,
    VOLT_METER_TOL,
    PPDiagnosis,
    as_resistance,
    as_voltage,
    resistance_window,
    span_of,
    volt_uncertainty,
)
from .pp_type1 import PP1_OPEN_MIN_OHM, candidate_classes, diagnose_type1
from .pp_type2 import candidate_codes, diagnose_type2, rc_from_v

__all__ = ["PPDiagnosis", "diagnose_pp", "PART_TOL", "METER_TOL", "CONTACT_OHM", "SHORT_MAX_OHM",
           "OPEN_MIN_OHM", "PP1_OPEN_MIN_OHM", "VOLT_METER_TOL", "VOLT_METER_ABS_V", "resistance_window"]

_GIVE_CONNECTOR = "give --connector type1|type2 (connector= in the API)"


def _infer_from_voltage(v: float, bands: std.RcBands) -> tuple[str, str]:
    """The connector whose reading circuit has a nominal condition (healthy or open) at ``v``, and why."""
    below = v - volt_uncertainty(v)  # a reading above a circuit's supply fits none of its conditions
    t1 = candidate_classes(v) & {"latched", "pressed", "open"} if below <= std.PP1_SUPPLY_V else set()
    supply, pullup = std.PP2_SUPPLY_CHOICES_V[0], std.PP2_PULLUP_OHM
    t2: set[str] = set()
    if below <= supply:
        span = span_of(v, lambda x: rc_from_v(x, supply, pullup))
        t2 = {c for c, _ in candidate_codes(span, bands) if c in ("ok", "rc_open")}
    t1_text = f"the J1772 inlet's {' / '.join(sorted(t1))} level"
    t2_text = "a Type 2 EVSE's (1 kΩ to 5 V) " + ("open level" if t2 == {"rc_open"} else "coding levels")
    if t1 and not t2:
        return "type1", f"connector type1 inferred: V(PP) {v:.3f} V fits {t1_text} and no Type 2 condition"
    if t2 and not t1:
        return "type2", f"connector type2 inferred: V(PP) {v:.3f} V fits {t2_text} and no Type 1 condition"
    if t1 and t2:
        why = f"it fits both {t1_text} and {t2_text}"
    else:
        why = ("it fits no nominal level of either reading circuit (Type 1 inlet 1.505 / 2.763 / 4.455 V; Type 2, "
               "1 kΩ to 5 V, 0.455 / 0.902 / 2.024 / 3.000 / 5 V)")
    raise ParameterError(f"v_pp {v:g} V alone does not tell the connector: {why}; {_GIVE_CONNECTOR}")


def _infer(given: dict[str, Any]) -> str | None:
    """The connector the readings imply (``None``: only ``v_pp``, or nothing, was given)."""
    t1 = [k for k in ("released_ohm", "pressed_ohm", "v_pp_pressed") if given[k] is not None]
    t2 = [k for k in ("rc_ohm", "supply_v", "pullup_ohm") if given[k] is not None]
    if t1 and t2:
        raise ParameterError(f"{'/'.join(t1)} are Type 1 readings but {'/'.join(t2)} belong to Type 2 (rc_ohm is "
                             f"the Type 2 reading, supply_v/pullup_ohm apply to type2 only): give one connector's "
                             f"readings")
    return "type1" if t1 else "type2" if t2 else None


def diagnose_pp(connector: str | None = None, *, released_ohm: float | str | None = None,
                pressed_ohm: float | str | None = None, v_pp: float | str | None = None,
                v_pp_pressed: float | str | None = None, rc_ohm: float | str | None = None, bands: str = "iec2010",
                supply_v: float | str | None = None, pullup_ohm: float | str | None = None) -> PPDiagnosis:
    """Diagnose a proximity pilot from what a technician can measure.

    Parameters
    ----------
    connector : {"type1", "type2"} or None
        ``None`` (default) infers it from the readings: released/pressed readings are Type 1,
        ``rc_ohm``/``supply_v``/``pullup_ohm`` Type 2, a lone ``v_pp`` must fit a nominal level of
        exactly one reading circuit (else :class:`ParameterError` "give --connector type1|type2").
    released_ohm, pressed_ohm : float, optional
        Type 1: PP-PE resistance of the plug [Ω] with the release button released / pressed,
        charger off, plug out of the inlet. ``math.inf`` is an open reading.
    v_pp, v_pp_pressed : float, optional
        Instead of resistances, V(PP) [V]. Type 1: at the vehicle inlet, button released /
        pressed, with the inlet's 330 Ω pull-up to 5 V and 2.7 kΩ pull-down assumed. Type 2:
        at the EVSE (``v_pp`` only), read through ``pullup_ohm`` to ``supply_v``. Judged through
        the resistance it implies, within a voltmeter allowance of 0.5 % + 2 mV.
    rc_ohm : float, optional
        Type 2: the cable's PP-PE (coding) resistance [Ω].
    bands : {"iec2010", "everest"}
        Type 2 decision bands (PILOT-REFERENCE §5).
    supply_v, pullup_ohm : float, optional
        Type 2 with ``v_pp``: the EVSE's PP pull-up (default 1 kΩ to 5 V, as OpenEVSE).

    Returns
    -------
    PPDiagnosis
        With ``code``, ``verdict`` and ``next_step``; ``inconclusive`` (with ``candidates``) when a
        voltage is within its uncertainty of a limit.

    Raises
    ------
    ParameterError
        Negative or non-numeric readings, nothing to diagnose, readings that do not belong
        together (resistances and voltages, Type 1 readings for Type 2, ...), a voltage above the
        reading circuit's supply, or a lone voltage that fits both connectors or neither.

    Examples
    --------
    >>> diagnose_pp(released_ohm=482, pressed_ohm=483).code
    's3_stuck_open'
    >>> d = diagnose_pp(rc_ohm=690)
    >>> d.connector, d.code, d.cable_rating_a
    ('type2', 'ok', 20.0)
    >>> diagnose_pp("type1", v_pp=1.0).code == diagnose_pp(released_ohm=85).code == "off_nominal"
    True
    """
    if connector not in (None, "type1", "type2"):
        raise ParameterError(f"connector must be 'type1' or 'type2', got {connector!r}")
    given = dict(released_ohm=released_ohm, pressed_ohm=pressed_ohm, v_pp_pressed=v_pp_pressed, rc_ohm=rc_ohm,
                 supply_v=supply_v, pullup_ohm=pullup_ohm)
    released = as_resistance("released_ohm", released_ohm)
    pressed = as_resistance("pressed_ohm", pressed_ohm)
    rc = as_resistance("rc_ohm", rc_ohm)
    v_rel = as_voltage("v_pp", v_pp)
    v_pre = as_voltage("v_pp_pressed", v_pp_pressed)
    if bands not in std.RC_BANDS:
        raise ParameterError(f"bands must be one of {', '.join(std.RC_BANDS)}, got {bands!r}")
    band = std.RC_BANDS[bands]
    notes: tuple[str, ...] = ()
    if connector is None:
        connector = _infer(given)
    if connector is None:
        if v_rel is None:
            raise ParameterError("nothing to diagnose: give released_ohm and/or pressed_ohm, or v_pp")
        connector, why = _infer_from_voltage(v_rel, band)
        notes = (why,)

    if connector == "type1":
        d = _type1(released, pressed, v_rel, v_pre, rc, supply_v, pullup_ohm)
    else:
        d = _type2(released, pressed, v_rel, v_pre, rc, band, supply_v, pullup_ohm)
    return d if not notes else PPDiagnosis(**{**d.__dict__, "notes": notes + d.notes})


def _type1(released: float | None, pressed: float | None, v_rel: float | None, v_pre: float | None,
           rc: float | None, supply_v: Any, pullup_ohm: Any) -> PPDiagnosis:
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
    if by_volt:
        volts = {k: v for k, v in (("released", v_rel), ("pressed", v_pre)) if v is not None}
        return diagnose_type1({}, volts)
    readings = {k: v for k, v in (("released", released), ("pressed", pressed)) if v is not None}
    return diagnose_type1(readings, None)


def _type2(released: float | None, pressed: float | None, v_rel: float | None, v_pre: float | None,
           rc: float | None, band: std.RcBands, supply_v: Any, pullup_ohm: Any) -> PPDiagnosis:
    if released is not None or pressed is not None or v_pre is not None:
        raise ParameterError("released_ohm/pressed_ohm/v_pp_pressed are Type 1 readings; for type2 give rc_ohm "
                             "or v_pp")
    if (rc is None) == (v_rel is None):
        raise ParameterError("type2 needs exactly one reading: rc_ohm or v_pp")
    if rc is not None:
        if supply_v is not None or pullup_ohm is not None:
            raise ParameterError("supply_v/pullup_ohm describe the circuit that reads v_pp; not used with rc_ohm")
        return diagnose_type2(rc, None, band, 0.0, 0.0)
    supply = check_number("supply_v", std.PP2_SUPPLY_CHOICES_V[0] if supply_v is None else supply_v,
                          lo=0.1, hi=30.0, unit="V")
    pullup = check_number("pullup_ohm", std.PP2_PULLUP_OHM if pullup_ohm is None else pullup_ohm,
                          lo=1e-3, hi=1e9, unit="Ω")
    return diagnose_type2(None, v_rel, band, supply, pullup)
