"""Exact settled CP plateau levels without a simulator.

With the PWM high and the cable capacitance charged, the CP circuit is a DC source
``v_high``, the series resistance ``r1 + r_wire``, the vehicle diode (Shockley law
with series resistance, ngspice's level-1 diode) and the vehicle load. The current
solves ``v_high = I*R + n*Vt*ln(1 + I/Is)`` with ``R`` the total series resistance,
which has the closed form ``I = (n*Vt/R) * W(R*Is/(n*Vt) * exp((v_high + Is*R)/(n*Vt))) - Is``.
``W(exp(z))`` is evaluated as Wright's omega ``omega(z)`` (``scipy.special.wrightomega``),
which does not overflow for the large exponents involved.

The diode parameters are read from ``cpsim/circuits/models.lib``, the same model
ngspice simulates, and the temperature law is ngspice's (``DIOtemp``):
``Is(T) = Is * area * exp((T/Tnom - 1) * EG/(N*Vt)) * (T/Tnom)**(XTI/N)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import ArrayLike

from ..errors import ParameterError
from ..units import parse_spice_number
from .netlist import CIRCUITS_DIR

__all__ = ["DiodeModel", "diode_model", "diode_plateau_v", "blocked_low_v", "plateau_levels"]

# ngspice's constants (src/include/ngspice/const.h)
_K_BOLTZMANN = 1.38064852e-23
_Q_CHARGE = 1.6021766208e-19
_C_TO_K = 273.15


@dataclass(frozen=True)
class DiodeModel:
    """The forward-conduction parameters of a SPICE level-1 diode model."""

    name: str
    is_a: float
    n: float
    rs_ohm: float = 0.0
    eg_ev: float = 1.11
    xti: float = 3.0
    tnom_c: float = 27.0

    def saturation_current_a(self, temp_c, area=1.0):
        """Saturation current at ``temp_c`` [°C] scaled by ``area`` [A]."""
        t = np.asarray(temp_c, dtype=float) + _C_TO_K
        tnom = self.tnom_c + _C_TO_K
        vt = _K_BOLTZMANN * t / _Q_CHARGE
        ratio = t / tnom
        return self.is_a * np.asarray(area, dtype=float) * np.exp(
            (ratio - 1.0) * self.eg_ev / (self.n * vt) + self.xti / self.n * np.log(ratio)
        )

    def forward_voltage_v(self, current_a, temp_c=27.0, area=1.0):
        """Forward drop at ``current_a`` [V] (for reports; the plateau uses the exact solution)."""
        vt = _K_BOLTZMANN * (np.asarray(temp_c, dtype=float) + _C_TO_K) / _Q_CHARGE
        i = np.asarray(current_a, dtype=float)
        return self.n * vt * np.log1p(i / self.saturation_current_a(temp_c, area)) + i * self.rs_ohm / area


@cache
def diode_model(name: str = "D1N4148") -> DiodeModel:
    """Read a diode ``.model`` card from ``cpsim/circuits/models.lib``."""
    text = (CIRCUITS_DIR / "models.lib").read_text(encoding="ascii")
    text = re.sub(r"\n\+", " ", text)
    m = re.search(rf"^\.model\s+{re.escape(name)}\s+D\s*\((.*?)\)", text, re.IGNORECASE | re.MULTILINE)
    if m is None:
        raise ParameterError(f"diode model {name!r} not found in models.lib")
    p = {k.lower(): parse_spice_number(v) for k, v in re.findall(r"(\w+)\s*=\s*([^\s)]+)", m.group(1))}
    return DiodeModel(name, p["is"], p.get("n", 1.0), p.get("rs", 0.0), p.get("eg", 1.11),
                      p.get("xti", 3.0), p.get("tnom", 27.0))


def diode_plateau_v(v_source_v, r1_ohm, r_load_ohm, *, r_wire_ohm=0.0, diode_area=1.0,
                    temp_c=27.0, diode: DiodeModel | None = None):
    """Settled CP voltage at the EVSE [V] for a source behind ``r1_ohm`` feeding diode + ``r_load_ohm``.

    Every argument broadcasts, so a million component sets are one call.
    """
    d = diode or diode_model()
    v = np.asarray(v_source_v, dtype=float)
    r1 = np.asarray(r1_ohm, dtype=float)
    area = np.asarray(diode_area, dtype=float)
    r_series = r1 + np.asarray(r_wire_ohm, dtype=float) + np.asarray(r_load_ohm, dtype=float) + d.rs_ohm / area
    i_s = d.saturation_current_a(temp_c, area)
    nvt = d.n * _K_BOLTZMANN * (np.asarray(temp_c, dtype=float) + _C_TO_K) / _Q_CHARGE
    from scipy.special import wrightomega

    z = np.log(r_series * i_s / nvt) + (v + i_s * r_series) / nvt
    current = nvt / r_series * np.real(wrightomega(z)) - i_s
    return v - r1 * current


def blocked_low_v(v_low_v, r1_ohm, *, diode_area=1.0, temp_c=27.0, diode: DiodeModel | None = None):
    """CP voltage at the EVSE [V] while the generator is at ``v_low_v`` and the vehicle diode blocks.

    The reverse-biased diode still passes its saturation current ``Is(T) * area`` (far below
    breakdown), which lifts the CP above the generator by ``r1 * Is``: a few µV at 27 °C, a few
    mV for a hot diode of large area.
    """
    d = diode or diode_model()
    return np.asarray(v_low_v, dtype=float) + np.asarray(r1_ohm, dtype=float) * d.saturation_current_a(
        temp_c, diode_area)


def plateau_levels(state: str, *, v_high_v: ArrayLike = 12.0, v_low_v: ArrayLike = -12.0, r1_ohm: ArrayLike = 1000.0,
                   r_wire_ohm: ArrayLike = 0.1, r_detect_ohm: ArrayLike = 2740.0, r_charge_ohm: ArrayLike = 1300.0,
                   r_vent_ohm: ArrayLike = 270.0, r_short_ohm: ArrayLike = 0.01, diode_area: ArrayLike = 1.0,
                   temp_c: ArrayLike = 27.0) -> tuple[np.ndarray, np.ndarray]:
    """Settled (v_high, v_low) at the EVSE CP point for a PWM in ``state`` (A-E), vectorised.

    ``v_low`` is the generator's low level lifted by the blocked diode's saturation current
    through R1 (:func:`blocked_low_v`). State E is a resistive short that acts on both halves.
    """
    letter = state[:1].upper()
    v_high = np.asarray(v_high_v, dtype=float)
    v_low = np.asarray(v_low_v, dtype=float)
    if letter == "A":
        return v_high + 0.0 * np.asarray(r1_ohm), v_low + 0.0 * np.asarray(r1_ohm)
    if letter == "E":
        r_behind = np.asarray(r_wire_ohm, dtype=float) + np.asarray(r_short_ohm, dtype=float)
        k = r_behind / (np.asarray(r1_ohm, dtype=float) + r_behind)
        return v_high * k, v_low * k
    loads = {
        "B": np.asarray(r_detect_ohm, dtype=float),
        "C": 1.0 / (1.0 / np.asarray(r_detect_ohm, dtype=float) + 1.0 / np.asarray(r_charge_ohm, dtype=float)),
        "D": 1.0 / (1.0 / np.asarray(r_detect_ohm, dtype=float) + 1.0 / np.asarray(r_vent_ohm, dtype=float)),
    }
    if letter not in loads:
        raise ParameterError(f"plateau_levels knows states A-E, got {state!r}")
    high = diode_plateau_v(v_high, r1_ohm, loads[letter], r_wire_ohm=r_wire_ohm,
                           diode_area=diode_area, temp_c=temp_c)
    low = blocked_low_v(v_low, r1_ohm, diode_area=diode_area, temp_c=temp_c)
    return high, low + 0.0 * high
