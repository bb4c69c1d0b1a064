"""The vehicle diode in a study: a forward-voltage shift ``diode_dvf_v`` mapped onto ngspice's ``area``.

Without series resistance ``Vf = n·Vt·ln(I/(Is·area))``, so ``area = exp(-ΔVf/(n·Vt))``.
ngspice scales the model's RS by ``1/area`` too (13 Ω at area 0.05, tens of mV at a few mA), so
:func:`diode_area_for_shift` solves the exact equation ``Vf(I_ref, area) = Vf(I_ref, 1) + ΔVf`` at
the diode current of the nominal circuit in the simulated state (:func:`operating_current_a`), at
the model's TNOM (27 °C).
"""

from __future__ import annotations

import dataclasses
import math
from functools import cache
from typing import cast

import numpy as np

__all__ = ["diode_area_for_shift", "operating_current_a", "nominal_forward_voltage_v"]


@cache
def _defaults() -> dict[str, float]:
    from ..sim.cp import CpCircuit

    return {f.name: float(cast(float, f.default)) for f in dataclasses.fields(CpCircuit)
            if isinstance(f.default, (int, float))}


def _nominal_current(letter: str) -> float:
    from ..sim.closed_form import plateau_levels

    d = _defaults()
    high, _ = plateau_levels(letter, v_high_v=d["v_high_v"], r1_ohm=d["r1_ohm"], r_wire_ohm=d["wire_r_ohm"],
                             r_detect_ohm=d["r_detect_ohm"], r_charge_ohm=d["r_charge_ohm"],
                             r_vent_ohm=d["r_vent_ohm"], temp_c=d["diode_temp_c"])
    return float((d["v_high_v"] - high) / d["r1_ohm"])


@cache
def operating_current_a(state: str) -> float:
    """Diode current of the nominal circuit in ``state`` [A]; the reference current of ``diode_dvf_v``.

    States without diode current (A, E, F) use state B's.
    """
    letter = str(state).strip().upper()[:1]
    return _nominal_current(letter if letter in "BCD" and letter else "B")


def nominal_forward_voltage_v(state: str) -> float:
    """The diode model's forward voltage at :func:`operating_current_a` at 27 °C, area 1 [V]."""
    from ..sim.closed_form import diode_model

    d = diode_model()
    return float(d.forward_voltage_v(operating_current_a(state), d.tnom_c, 1.0))


def diode_area_for_shift(dvf_v, current_a: float, *, iterations: int = 60) -> np.ndarray:
    """ngspice ``area`` that moves the diode's forward voltage at ``current_a`` by ``dvf_v`` [V].

    Solves ``n·Vt·ln(1 + I/(Is·a)) + I·RS/a = Vf(I, 1) + ΔVf`` for ``a`` at the model's TNOM,
    by Newton's method on ``u = -ln a``; vectorised. Without RS this is ``exp(-ΔVf/(n·Vt))``.
    """
    from ..sim.closed_form import _C_TO_K, _K_BOLTZMANN, _Q_CHARGE, diode_model

    d = diode_model()
    dvf = np.asarray(dvf_v, dtype=float)
    nvt = d.n * _K_BOLTZMANN * (d.tnom_c + _C_TO_K) / _Q_CHARGE
    k = current_a / d.is_a
    irs = current_a * d.rs_ohm
    target = nvt * math.log1p(k) + irs + dvf
    # Start from the RS-free solution: f(u0) >= 0 there and f is convex increasing in u,
    # so Newton descends monotonically onto the root.
    u = np.log(np.expm1(np.minimum(target, 60.0 * nvt) / nvt) / k)
    # Each element stops on its own once converged, so its value never depends on the others
    # in the batch (a resumed study reproduces the original bit for bit).
    for _ in range(iterations):
        eu = np.exp(u)
        f = nvt * np.log1p(k * eu) + irs * eu - target
        step = f / (nvt * k * eu / (1.0 + k * eu) + irs * eu)
        active = np.abs(step) >= 1e-14 * np.maximum(1.0, np.abs(u))
        if not active.any():
            break
        u = np.where(active, u - step, u)
    return np.exp(-u)
