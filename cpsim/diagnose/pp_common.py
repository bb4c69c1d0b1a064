"""What the Type 1 and Type 2 PP diagnoses share: the verdict object, the tolerances, and the
voltage route (a V(PP) reading judged through the resistance it implies, with its uncertainty).

A voltage is never judged in its own windows: it is turned into the PP-PE resistance it implies
through the reading circuit, and that resistance is judged by the same rules as an ohmmeter
reading, so both routes give the same code. The voltmeter's allowance (:data:`VOLT_METER_TOL`
of reading + :data:`VOLT_METER_ABS_V`) maps to a resistance interval; when that interval crosses a
limit the codes on either side are both possible and the answer is ``inconclusive``, naming them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import ParameterError
from ..units import OPEN_CIRCUIT_OHM, check_number, format_si

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
VOLT_METER_TOL = 0.005
"""Voltmeter allowance on V(PP), fraction of reading: a handheld DMM's DC accuracy is of the order of
0.5 % of reading (an engineering allowance like :data:`METER_TOL`, not a standard's figure)."""
VOLT_METER_ABS_V = 0.002
"""Voltmeter allowance on V(PP) [V]: 2 digits of 1 mV on a 6 V range (engineering allowance)."""


@dataclass(frozen=True)
class PPDiagnosis:
    """The verdict on a proximity pilot.

    Attributes
    ----------
    code : str
        Stable identifier: ``ok``, ``s3_stuck_open``, ``s3_stuck_closed``, ``r6_open``,
        ``r7_open``, ``open_circuit``, ``pp_shorted``, ``off_nominal`` (Type 1);
        ``ok``, ``rc_off_nominal``, ``rc_out_of_band``, ``rc_open``, ``rc_shorted`` (Type 2);
        ``inconclusive`` when a voltage lies within its uncertainty of a limit (see ``candidates``).
    verdict : str
        One line for the technician, including what was expected.
    expected, measured : str
        The expected values and the readings, in words with units.
    connector : "type1" or "type2"
    readings_ohm : mapping
        PP-PE resistance per reading [Ω] (``released``/``pressed`` or ``rc``), derived from the
        voltage when one was given; ``inf`` is open.
    cable_rating_a : float or None
        Type 2: the rating the EVSE derives with ``bands`` [A], 0 for no valid cable (``None``
        when inconclusive).
    bands : str or None
        Type 2 band family used.
    next_step : str
        What to do next, one line.
    notes : tuple of str
        How the answer was reached where it is not obvious (connector inferred, a voltage above
        the open level, what the vehicle's own windows make of the voltage).
    candidates : tuple of str
        With ``inconclusive``: the codes the reading is compatible with.
    """

    code: str
    verdict: str
    expected: str
    measured: str
    connector: str
    readings_ohm: Mapping[str, float] = field(default_factory=dict)
    cable_rating_a: float | None = None
    bands: str | None = None
    next_step: str = ""
    notes: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "readings_ohm", MappingProxyType(dict(self.readings_ohm)))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "candidates", tuple(self.candidates))

    @property
    def ok(self) -> bool:
        return self.code == "ok"

    def __str__(self) -> str:
        return f"{self.code}: {self.verdict}" + (f" (next: {self.next_step})" if self.next_step else "")

    def _repr_html_(self) -> str:
        from ..display import html_table

        rows = [("code", self.code), ("verdict", self.verdict), ("measured", self.measured),
                ("expected", self.expected), ("next step", self.next_step)]
        if self.cable_rating_a is not None:
            rows.append(("cable rating", f"{self.cable_rating_a:g} A ({self.bands} bands)"))
        rows += [("note", n) for n in self.notes]
        return html_table(rows, caption=f"PP diagnosis ({self.connector})")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict; open readings are ``None``."""
        d: dict[str, Any] = {
            "code": self.code, "verdict": self.verdict, "next_step": self.next_step, "expected": self.expected,
            "measured": self.measured, "connector": self.connector,
            "readings_ohm": {k: (v if math.isfinite(v) else None) for k, v in self.readings_ohm.items()},
        }
        if self.connector == "type2":
            d["cable_rating_a"] = self.cable_rating_a
            d["bands"] = self.bands
        if self.candidates:
            d["candidates"] = list(self.candidates)
        d["notes"] = list(self.notes)
        return d


def resistance_window(nominal_ohm: float) -> tuple[float, float]:
    """Accepted reading [Ω] for a part of ``nominal_ohm``: part ±3 %, meter 1 % of reading, leads 2 Ω."""
    tol = PART_TOL + METER_TOL
    return nominal_ohm * (1 - tol) - CONTACT_OHM, nominal_ohm * (1 + tol) + CONTACT_OHM


def near(r: float, nominal: float) -> bool:
    lo, hi = resistance_window(nominal)
    return lo <= r <= hi


def ohm_text(r: float) -> str:
    """A resistance for people: ``open`` from 1 TΩ up (:func:`cpsim.units.format_si`), else 3 digits."""
    if r >= OPEN_CIRCUIT_OHM:
        return "open"
    if 100 <= r < 1e3:
        return f"{r:.0f} Ω"
    return format_si(r, "Ω")


def implied(r: float) -> str:
    return "PP-PE open" if math.isinf(r) else f"PP-PE ≈ {ohm_text(r)}"


def as_resistance(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == math.inf:
        return math.inf
    return check_number(name, value, lo=0.0, unit="Ω")


def as_voltage(name: str, value: Any) -> float | None:
    if value is None:
        return None
    return check_number(name, value, lo=0.0, hi=30.0, unit="V")


def volt_uncertainty(v: float) -> float:
    """Voltmeter allowance on a V(PP) reading [V]: 0.5 % of reading + 2 mV."""
    return VOLT_METER_TOL * abs(v) + VOLT_METER_ABS_V


def check_below_supply(name: str, v: float, supply_v: float, circuit: str) -> None:
    """A reading above the reading circuit's supply (beyond the voltmeter allowance) is a probe error."""
    if v - volt_uncertainty(v) > supply_v:
        raise ParameterError(f"{name} {v:g} V is above the {supply_v:g} V supply of {circuit}: check the probe, "
                             f"its ground reference and the supply")


@dataclass(frozen=True)
class Span:
    """A voltage reading as resistances [Ω]: nominal, and the interval its uncertainty allows."""

    v: float
    u_v: float
    r: float
    r_lo: float
    r_hi: float

    def probes(self, boundaries: Iterable[float]) -> list[float]:
        """Resistances that visit every piece of a piecewise-constant rule over [r_lo, r_hi]."""
        pts = [self.r_lo, self.r, self.r_hi]
        for b in boundaries:
            if self.r_lo <= b <= self.r_hi:
                pts += [x for x in (b * (1 - 1e-9), b, b * (1 + 1e-9)) if self.r_lo <= x <= self.r_hi]
        return pts

    def crossed(self, labels: Mapping[float, str]) -> list[str]:
        """The labelled limits strictly inside the interval."""
        return [text for b, text in sorted(labels.items()) if self.r_lo < b < self.r_hi]

    def text(self) -> str:
        if not math.isfinite(self.r_hi):
            return f"≥ {ohm_text(self.r_lo)}"
        lo, hi = ohm_text(self.r_lo).split(" "), ohm_text(self.r_hi).split(" ")
        return f"{lo[0]}-{hi[0]} {hi[1]}" if lo[1] == hi[1] else f"{' '.join(lo)}-{' '.join(hi)}"


def span_of(v: float, r_of_v: Callable[[float], float]) -> Span:
    """Map ``v`` ± the voltmeter allowance through the monotone rising ``r_of_v``."""
    u = volt_uncertainty(v)
    return Span(v, u, r_of_v(v), r_of_v(max(v - u, 0.0)), r_of_v(v + u))


def clip_open(r: float) -> float:
    """A resistance implied by a voltage, shown as open (``inf``) from :data:`OPEN_MIN_OHM`."""
    return math.inf if r >= OPEN_MIN_OHM else r
