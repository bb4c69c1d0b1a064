"""The sense network between the CP line and the ADC pin.

A divider with bias (CP -> ``r_top`` -> ADC node, ``r_bottom`` to ground, ``r_bias`` to
``v_bias``) is linear, so two closed forms describe it exactly:

* what the ADC sees: ``v_adc = (v_cp/r_top + v_bias/r_bias) / (1/r_top + 1/r_bottom + 1/r_bias)``;
* what the CP line sees (its load): a source ``v_th = v_bias * r_bottom / (r_bias + r_bottom)``
  behind ``r_th = r_top + r_bottom || r_bias`` (Thevenin). The fast engine folds that load into
  the generator (:func:`load_on_generator`) so that the closed-form plateau includes it.

A user's netlist front-end (a ``.subckt`` with pins ``cp adc gnd``) is simulated by the spice
engine only; it is checked so that nothing but circuit elements reach ngspice.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from ...errors import ParameterError

__all__ = ["divider_v_adc", "divider_thevenin", "load_on_generator", "divider_subckt", "read_netlist_frontend",
           "DIVIDER_SUBCKT"]

DIVIDER_SUBCKT = "cpsim_bringup_divider"


def divider_v_adc(v_cp_v, r_top_ohm, r_bottom_ohm, r_bias_ohm=math.inf, v_bias_v=0.0):
    """Voltage at the ADC pin [V] for a CP voltage ``v_cp_v`` [V] (vectorised; ideal ADC input).

    Examples
    --------
    OpenEVSE (PILOT-REFERENCE §2c: ``Vadc = 0.1522·Vcp + 2.717 V``):

    >>> round(float(divider_v_adc(0.0, 200e3, 100e3, 56e3, 5.0)), 3), round(float(divider_v_adc(1.0, 200e3,
    ...     100e3, 56e3, 5.0) - divider_v_adc(0.0, 200e3, 100e3, 56e3, 5.0)), 4)
    (2.717, 0.1522)
    """
    g_top = 1.0 / np.asarray(r_top_ohm, dtype=float)
    g_bias = 1.0 / np.asarray(r_bias_ohm, dtype=float)
    g_sum = g_top + 1.0 / np.asarray(r_bottom_ohm, dtype=float) + g_bias
    return (np.asarray(v_cp_v, dtype=float) * g_top + np.asarray(v_bias_v, dtype=float) * g_bias) / g_sum


def divider_thevenin(r_top_ohm, r_bottom_ohm, r_bias_ohm=math.inf, v_bias_v=0.0):
    """The divider as the CP line sees it: (``v_th`` [V], ``r_th`` [Ω]) (vectorised)."""
    r_bottom = np.asarray(r_bottom_ohm, dtype=float)
    r_bias = np.asarray(r_bias_ohm, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        finite = np.isfinite(r_bias)
        k = np.where(finite, r_bottom / (r_bias + r_bottom), 0.0)
        par = np.where(finite, r_bottom * r_bias / (r_bottom + r_bias), r_bottom)
    return np.asarray(v_bias_v, dtype=float) * k, np.asarray(r_top_ohm, dtype=float) + par


def load_on_generator(v_gen_v, r1_ohm, v_th_v, r_th_ohm):
    """The generator (``v_gen`` behind ``r1``) with the front-end's Thevenin load across its output,
    as one equivalent source: (``v_eq`` [V], ``r_eq`` [Ω]). Exact for the linear part of the circuit."""
    r1 = np.asarray(r1_ohm, dtype=float)
    r_th = np.asarray(r_th_ohm, dtype=float)
    v_eq = (np.asarray(v_gen_v, dtype=float) * r_th + np.asarray(v_th_v, dtype=float) * r1) / (r1 + r_th)
    return v_eq, r1 * r_th / (r1 + r_th)


def _num(x: float) -> str:
    return format(float(x), ".12g")


def divider_subckt() -> str:
    """The divider as a SPICE subcircuit ``cp adc gnd`` with its values as parameters."""
    return (f".subckt {DIVIDER_SUBCKT} cp adc gnd params: r_top=200k r_bottom=100k r_bias=56k v_bias=5\n"
            "Rtop cp adc {r_top}\nRbot adc gnd {r_bottom}\nRbias adc nbias {r_bias}\n"
            "Vbias nbias gnd DC {v_bias}\n.ends\n")


def divider_instance(name: str, cp: str, adc: str, values: dict[str, float]) -> str:
    """An instance line of :func:`divider_subckt` (only validated floats reach the text)."""
    for key, v in values.items():
        if not math.isfinite(v):
            raise ParameterError(f"divider {key} must be finite for the spice engine, got {v!r}")
    params = " ".join(f"{k}={_num(v)}" for k, v in values.items())
    return f"{name} {cp} {adc} 0 {DIVIDER_SUBCKT} params: {params}"


# Lines a front-end file may hold: comments, continuation, subcircuits, models and circuit elements.
_ELEMENT = re.compile(r"^[rcldvieqmjbgfhxk]\S*\s", re.IGNORECASE)
_ALLOWED_DOT = (".subckt", ".ends", ".model", ".param")


def read_netlist_frontend(path: Path, subckt: str | None, *, where: str) -> tuple[str, str]:
    """Read and check a user's front-end subcircuit file; returns (subcircuit name, file text).

    The file may contain ``.subckt``/``.ends``/``.model``/``.param`` cards and circuit elements;
    control blocks, includes and analyses are refused (the engine adds its own).
    """
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{where}: cannot read {path}: {exc}") from None
    pins: dict[str, list[str]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith(("*", "+", ";")):
            continue
        low = s.lower()
        if low.startswith("."):
            if not low.startswith(_ALLOWED_DOT):
                raise ParameterError(f"{where}: {path.name}:{n}: {s.split()[0]} is not allowed in a front-end "
                                     f"file (allowed: {', '.join(_ALLOWED_DOT)} and circuit elements)")
            if low.startswith(".subckt"):
                parts = s.split()
                if len(parts) < 2:
                    raise ParameterError(f"{where}: {path.name}:{n}: .subckt without a name")
                head = s.split(" params:")[0].split()
                pins[parts[1].lower()] = [p.lower() for p in head[2:] if "=" not in p]
        elif not _ELEMENT.match(s + " "):
            raise ParameterError(f"{where}: {path.name}:{n}: not a circuit element: {s[:40]!r}")
    if not pins:
        raise ParameterError(f"{where}: {path.name} defines no .subckt (expected one with pins cp adc gnd)")
    name = (subckt or (next(iter(pins)) if len(pins) == 1 else "")).lower()
    if name not in pins:
        raise ParameterError(f"{where}: {path.name}: name the subcircuit with frontend.subckt; "
                             f"defined: {', '.join(pins)}")
    if len(pins[name]) != 3:
        raise ParameterError(f"{where}: {path.name}: .subckt {name} has pins {' '.join(pins[name])}; "
                             "expected three: cp adc gnd")
    return name, text
