"""Component tolerances as data, and reproducible sampling of circuit variations.

A :class:`Tolerance` says how one :class:`~cpsim.sim.cp.CpCircuit` value may vary:
``uniform`` over ``nominal ± tol``, ``normal`` with **±tol = ±3σ** (σ = tol/3; about
0.27 % of the samples fall outside ±tol, so a normal Monte Carlo may go beyond the
worst-case corners), or ``fixed`` at the nominal value. Tolerances are absolute
(in the parameter's SI unit) unless ``relative=True`` (a fraction of the nominal).

:data:`DEFAULT_TOLERANCES` reflects PILOT-REFERENCE §1 (sources in each ``source``).

The vehicle diode is varied through its forward-voltage spread ``diode_dvf_v`` (ΔVf,
PLNOTE: 0.7 V ±0.15 V), mapped onto the ngspice instance parameter ``diode_area``.
Without series resistance ``Vf = n·Vt·ln(I/(Is·area))``, so ``area = exp(-ΔVf/(n·Vt))``.
ngspice scales the model's RS by ``1/area`` too (13 Ω at area 0.05, tens of mV at a
few mA), so :func:`diode_area_for_shift` solves the exact equation
``Vf(I_ref, area) = Vf(I_ref, 1) + ΔVf`` at the diode current of the nominal circuit
in the simulated state (:func:`operating_current_a`), at the model's TNOM (27 °C).
Temperature (``diode_temp_c``) acts on top of that, through ngspice's own law.

Sampling is reproducible and independent of the number of runs: run ``i`` of seed ``s``
draws parameter ``p`` from block ``i // BLOCK`` of the stream
``SeedSequence(s, spawn_key=(block, index of p))``. Extending a study from 10 000 to
100 000 runs keeps the first 10 000; tightening one tolerance leaves the other
parameters' draws unchanged (common random numbers).
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, cast

import numpy as np

from .. import standard as std
from ..errors import ParameterError
from ..sim.cp import RANGES, edges_fit
from ..units import parse_spice_number

__all__ = [
    "Tolerance", "PARAMETERS", "DEFAULT_TOLERANCES", "BLOCK", "resolve_tolerances", "sample",
    "diode_area_for_shift", "operating_current_a", "nominal_forward_voltage_v", "parse_tolerance",
    "new_seed", "relevant_parameters",
]

Distribution = Literal["uniform", "normal", "fixed"]
_DISTRIBUTIONS = ("uniform", "normal", "fixed")

BLOCK = 65536
"""Runs per random-number block (see the module docstring)."""


@dataclass(frozen=True)
class _Param:
    unit: str
    lo: float            # physical range a sample must stay in (cp.RANGES for CpCircuit fields)
    hi: float
    aliases: tuple[str, ...] = ()
    lo_open: bool = False


# Order matters: it fixes each parameter's random stream (spawn key). Append, never reorder.
def _field(name: str, aliases: tuple[str, ...]) -> _Param:
    lo, hi, lo_open, unit = RANGES[name]  # the same physical ranges CpCircuit enforces
    return _Param(unit, lo, hi, aliases, lo_open)


PARAMETERS: Mapping[str, _Param] = {
    "v_high_v": _field("v_high_v", ("v_high", "vhigh")),
    "v_low_v": _field("v_low_v", ("v_low", "vlow")),
    "r1_ohm": _field("r1_ohm", ("r1",)),
    "r_detect_ohm": _field("r_detect_ohm", ("r_detect", "rdetect")),
    "r_charge_ohm": _field("r_charge_ohm", ("r_charge", "rcharge")),
    "r_vent_ohm": _field("r_vent_ohm", ("r_vent", "rvent")),
    "diode_dvf_v": _Param("V", -1.0, 1.0, ("diode", "dvf", "diode_dvf")),  # mapped onto diode_area
    "diode_temp_c": _field("diode_temp_c", ("temp", "temp_c", "diode_temp")),
    "cable_c_f": _field("cable_c_f", ("cable_c", "cable", "c_cable")),
    "duty": _field("duty", ()),
    "frequency_hz": _field("frequency_hz", ("frequency", "freq")),
    "rise_time_s": _field("rise_time_s", ("rise", "rise_time")),
    "fall_time_s": _field("fall_time_s", ("fall", "fall_time")),
    "wire_r_ohm": _field("wire_r_ohm", ("wire_r", "r_wire")),
    "short_r_ohm": _field("short_r_ohm", ("short_r", "r_short")),
}
VF_NAME = "diode_vf_v"
"""Absolute diode forward voltage at the state's operating current [V]; a tolerance on it is
turned into one on ``diode_dvf_v`` once the state is known (:func:`resolve_tolerances`)."""
_ALIASES = {a: name for name, p in PARAMETERS.items() for a in (name, *p.aliases)}
_ALIASES.update(dict.fromkeys((VF_NAME, "vf", "vd", "diode_vf"), VF_NAME))


def _canonical(name: str) -> str:
    key = str(name).strip().lower()
    try:
        return _ALIASES[key]
    except KeyError:
        raise ParameterError(
            f"unknown tolerance parameter {name!r}; valid: {', '.join(PARAMETERS)}, {VF_NAME}"
        ) from None


@cache
def _circuit_defaults() -> dict[str, float]:
    from ..sim.cp import CpCircuit

    out = {f.name: float(cast(float, f.default)) for f in dataclasses.fields(CpCircuit)
           if f.name in PARAMETERS or f.name == "diode_area"}
    out["diode_dvf_v"] = 0.0
    return out


@dataclass(frozen=True)
class Tolerance:
    """How one circuit value varies.

    Parameters
    ----------
    name : str
        A :class:`~cpsim.sim.cp.CpCircuit` field (``r1_ohm``, ``cable_c_f``, ...),
        ``diode_dvf_v`` (shift of the diode's forward voltage [V], mapped onto ``diode_area``)
        or ``diode_vf_v`` (the forward voltage itself at the state's operating current, e.g.
        ``Tolerance.between("diode_vf_v", 0.55, 0.85)``; nominal: the model's).
    tol : float
        Half-width: absolute in the parameter's unit, or a fraction of the nominal when
        ``relative``. For ``normal``, tol = 3σ.
    dist : {"uniform", "normal", "fixed"}
    relative : bool
    nominal : float, optional
        Centre value; ``None`` takes the circuit's nominal (CpCircuit default or the
        ``nominal=`` override given to the study).
    source : str
        Where the figure comes from.

    Examples
    --------
    >>> Tolerance.rel("r1_ohm", 0.03).bounds(1000.0)
    (970.0, 1030.0)
    >>> Tolerance.between("cable_c_f", 0.0, 3.1e-9).bounds()
    (0.0, 3.1e-09)
    """

    name: str
    tol: float = 0.0
    dist: Distribution = "uniform"
    relative: bool = False
    nominal: float | None = None
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _canonical(self.name))
        if self.dist not in _DISTRIBUTIONS:
            raise ParameterError(f"dist must be one of {', '.join(_DISTRIBUTIONS)}, got {self.dist!r}")
        tol = float(self.tol)
        if not math.isfinite(tol) or tol < 0:
            raise ParameterError(f"tolerance of {self.name} must be a finite number >= 0, got {self.tol!r}")
        object.__setattr__(self, "tol", tol)
        if self.nominal is not None:
            nominal = float(self.nominal)
            if not math.isfinite(nominal):
                raise ParameterError(f"nominal of {self.name} must be finite, got {self.nominal!r}")
            object.__setattr__(self, "nominal", nominal)
        if self.dist == "fixed" or tol == 0.0:
            object.__setattr__(self, "dist", "fixed")
            object.__setattr__(self, "tol", 0.0)

    # -- named constructors -----------------------------------------------------------------
    @classmethod
    def rel(cls, name: str, fraction: float, dist: Distribution = "uniform", *, nominal: float | None = None,
            source: str = "") -> Tolerance:
        """``nominal × (1 ± fraction)``."""
        return cls(name, fraction, dist, True, nominal, source)

    @classmethod
    def between(cls, name: str, lo: float, hi: float, dist: Distribution = "uniform", *,
                source: str = "") -> Tolerance:
        """From ``lo`` to ``hi`` (for ``normal``: mean at the centre, ±3σ at the ends)."""
        lo, hi = float(lo), float(hi)
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
            raise ParameterError(f"{name}: range needs finite lo <= hi, got {lo:g}:{hi:g}")
        return cls(name, (hi - lo) / 2.0, dist, False, (lo + hi) / 2.0, source)

    @classmethod
    def fixed(cls, name: str, value: float | None = None, *, source: str = "") -> Tolerance:
        """Held at ``value`` (or the circuit's nominal)."""
        return cls(name, 0.0, "fixed", False, value, source)

    # -- use ----------------------------------------------------------------------------------
    def centre(self, nominal: float | None = None) -> float:
        if self.nominal is not None:
            return self.nominal
        if nominal is None:
            nominal = _circuit_defaults()[self.name]
        return float(nominal)

    def half_width(self, nominal: float | None = None) -> float:
        c = self.centre(nominal)
        return abs(c) * self.tol if self.relative else self.tol

    def bounds(self, nominal: float | None = None) -> tuple[float, float]:
        """The ±tol range (the corners) [parameter unit]."""
        c, h = self.centre(nominal), self.half_width(nominal)
        return (c - h, c + h)

    def draw(self, rng: np.random.Generator, n: int, nominal: float | None = None) -> np.ndarray:
        """``n`` samples from ``rng``."""
        c, h = self.centre(nominal), self.half_width(nominal)
        if self.dist == "fixed":
            return np.full(n, c)
        if self.dist == "uniform":
            return c + h * rng.uniform(-1.0, 1.0, n)
        return c + (h / 3.0) * rng.standard_normal(n)

    def describe(self) -> str:
        if self.dist == "fixed":
            return f"{self.name} fixed" + ("" if self.nominal is None else f" at {self.nominal:g}")
        width = f"±{self.tol:.3g}" + (" (fraction)" if self.relative else f" {PARAMETERS[self.name].unit}")
        return f"{self.name} {self.dist} {width}" + ("" if self.nominal is None else f" about {self.nominal:g}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


DEFAULT_TOLERANCES: tuple[Tolerance, ...] = (
    Tolerance("v_high_v", std.GENERATOR_V_TOL_V, source="EV-BU, PLNOTE: +12 V ±0.6 V"),
    Tolerance("v_low_v", std.GENERATOR_V_TOL_V, source="EV-BU, PLNOTE: -12 V ±0.6 V"),
    Tolerance.rel("r1_ohm", std.R1_TOL, source="EV-BU, PLNOTE: 1 kΩ ±3 %"),
    Tolerance.rel("r_detect_ohm", std.VEHICLE_R_TOL, source="SIE, PLNOTE: 2.74 kΩ ±3 %"),
    Tolerance.rel("r_charge_ohm", std.VEHICLE_R_TOL, source="SIE, PLNOTE: 1.3 kΩ ±3 %"),
    Tolerance.rel("r_vent_ohm", std.VEHICLE_R_TOL, source="SIE: 270 Ω ±3 %"),
    Tolerance("diode_dvf_v", std.DIODE_VF_TOL_V, source="PLNOTE: Vd 0.7 V ±0.15 V"),
    Tolerance.fixed("diode_temp_c", source="PLNOTE's ±0.15 V is taken to include temperature; "
                                           "widen with Tolerance.between('diode_temp_c', -40, 85)"),
    Tolerance.between("cable_c_f", 0.0, std.CABLE_C_MAX_F, source="PLNOTE: Cs + Cc <= 3100 pF"),
    Tolerance("duty", 0.025, source="PLNOTE: pulse width ±25 µs (±2.5 %-points at 1 kHz)"),
    Tolerance.rel("frequency_hz", 0.005, source="PLNOTE (IEC 2010) ±0.5 %; EV-BU allows ±2 %"),
    Tolerance.fixed("rise_time_s", source="generator edge 1 µs, inside PLNOTE's 2 µs"),
    Tolerance.fixed("fall_time_s", source="generator edge 1 µs, inside PLNOTE's 2 µs"),
    Tolerance.fixed("wire_r_ohm"),
    Tolerance.fixed("short_r_ohm"),
)
"""PILOT-REFERENCE §1 as tolerances: all uniform over the published limits."""


def resolve_tolerances(tolerances: Iterable[Tolerance] | Mapping[str, Tolerance] | None = None, *,
                       state: str | None = None,
                       base: Iterable[Tolerance] = DEFAULT_TOLERANCES) -> tuple[Tolerance, ...]:
    """``base`` with each of ``tolerances`` replacing the one of the same parameter.

    Parameters not named anywhere are fixed at their nominal. The result has one
    tolerance per parameter, in :data:`PARAMETERS` order. A ``diode_vf_v`` tolerance
    becomes the equivalent ``diode_dvf_v`` one for ``state``.
    """
    merged = {t.name: t for t in base}
    if tolerances is not None:
        items = tolerances.values() if isinstance(tolerances, Mapping) else tolerances
        for t in items:
            if not isinstance(t, Tolerance):
                raise ParameterError(f"tolerances must be Tolerance objects, got {type(t).__name__}")
            if t.name == VF_NAME:
                if state is None:
                    raise ParameterError(f"a {VF_NAME} tolerance needs the state (its operating current)")
                vf0 = nominal_forward_voltage_v(state)
                centre = vf0 if t.nominal is None else t.nominal
                half = abs(centre) * t.tol if t.relative else t.tol
                t = Tolerance("diode_dvf_v", half, t.dist, False, centre - vf0,
                              t.source or f"{VF_NAME} {centre:g} V ±{half:g} V at {operating_current_a(state):.3g} A")
            merged[t.name] = t
    return tuple(merged.get(name, Tolerance.fixed(name)) for name in PARAMETERS)


# --------------------------------------------------------------------------------------------
# The diode: forward-voltage shift -> ngspice area

def _nominal_current(letter: str) -> float:
    from ..sim.closed_form import plateau_levels

    d = _circuit_defaults()
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


# --------------------------------------------------------------------------------------------
# Sampling

def new_seed() -> int:
    """A fresh seed from the OS entropy pool (recorded with the results)."""
    return int(cast(int, np.random.SeedSequence().entropy)) % 2**63


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= operator.index(seed) < 2**63:
        raise ParameterError(f"seed must be an integer 0 <= seed < 2**63, got {seed!r}")
    return operator.index(seed)


def sample(state: str, runs: int | Sequence[int] | np.ndarray, tolerances: Sequence[Tolerance], seed: int,
           *, nominal: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
    """Parameter values of the given runs: one float64 array per parameter, plus ``diode_area``.

    ``runs`` is a count (runs 0 .. n-1) or the run indices to draw (any order).
    """
    seed = _check_seed(seed)
    tols = resolve_tolerances(tolerances, state=state, base=())
    nom = _nominals(nominal)
    idx = np.arange(int(cast(int, runs))) if np.isscalar(runs) else np.asarray(runs, dtype=np.int64)
    if idx.size and idx.min() < 0:
        raise ParameterError("run indices must be >= 0")
    out = {t.name: np.empty(idx.size) for t in tols}
    contiguous = idx.size > 0 and idx[-1] - idx[0] == idx.size - 1 and bool(np.all(np.diff(idx) == 1))
    pieces: list[tuple[int, Any, Any]]  # (block, where in the output, offset in the block)
    if contiguous:  # the usual case: slices, no search
        first, last = int(idx[0]), int(idx[-1])
        pieces = [(b, slice(max(first, b * BLOCK) - first, min(last + 1, (b + 1) * BLOCK) - first),
                   slice(max(first, b * BLOCK) - b * BLOCK, min(last + 1, (b + 1) * BLOCK) - b * BLOCK))
                  for b in range(first // BLOCK, last // BLOCK + 1)]
    else:
        blocks = idx // BLOCK
        pieces = []
        for b in np.unique(blocks):
            sel = np.flatnonzero(blocks == b)
            pieces.append((int(b), sel, idx[sel] - b * BLOCK))
    for block, where, offset in pieces:
        need = offset.stop if isinstance(offset, slice) else int(offset.max()) + 1
        for p, t in enumerate(tols):
            if t.dist == "fixed":
                out[t.name][where] = t.centre(nom[t.name])
                continue
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block, p)))
            out[t.name][where] = t.draw(rng, need, nom[t.name])[offset]
    out["diode_area"] = diode_area_for_shift(out["diode_dvf_v"], operating_current_a(state))
    return out


def _nominals(nominal: Mapping[str, float] | None) -> dict[str, float]:
    nom = dict(_circuit_defaults())
    for key, value in (nominal or {}).items():
        name = _canonical(key)
        try:
            nom[name] = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"nominal {key} must be a number, got {value!r}") from None
    return nom


def invalid_rows(params: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(bad mask, message per row or "") for samples outside a parameter's physical range."""
    n = len(next(iter(params.values())))
    bad = np.zeros(n, dtype=bool)
    message = np.full(n, "", dtype=object)
    for name, p in PARAMETERS.items():
        if name not in params:
            continue
        v = params[name]
        low = (v <= p.lo) if p.lo_open else (v < p.lo)
        out = low | (v > p.hi) | ~np.isfinite(v) | ((v >= 1.0) if name == "duty" else False)
        if out.any():
            message[out & ~bad] = f"ParameterError: sampled {name} outside its physical range"
            bad |= out
    if {"duty", "frequency_hz", "rise_time_s", "fall_time_s"} <= set(params):
        with np.errstate(all="ignore"):
            out = ~edges_fit(params["duty"], params["frequency_hz"], params["rise_time_s"],
                             params["fall_time_s"]) & ~bad
        if out.any():
            message[out] = "ParameterError: sampled edges do not fit into the sampled duty and frequency"
            bad |= out
    return bad, message


# --------------------------------------------------------------------------------------------
# Which parameters matter where

_PLATEAU = {
    "A": ("v_high_v",), "E": ("v_high_v", "r1_ohm", "wire_r_ohm", "short_r_ohm"),
    "B": ("v_high_v", "r1_ohm", "wire_r_ohm", "r_detect_ohm", "diode_dvf_v", "diode_temp_c"),
    "C": ("v_high_v", "r1_ohm", "wire_r_ohm", "r_detect_ohm", "r_charge_ohm", "diode_dvf_v", "diode_temp_c"),
    "D": ("v_high_v", "r1_ohm", "wire_r_ohm", "r_detect_ohm", "r_vent_ohm", "diode_dvf_v", "diode_temp_c"),
    "F": (),
}
_WAVE = ("cable_c_f", "duty", "frequency_hz", "rise_time_s", "fall_time_s")


def relevant_parameters(state: str, *, plateau_only: bool = False) -> tuple[str, ...]:
    """Parameters that change the CP waveform in ``state`` (only the settled levels if ``plateau_only``)."""
    letter = str(state).strip().upper()[:1]
    names = set(_PLATEAU[letter]) | {"v_low_v"}
    if not plateau_only:
        names |= set(_WAVE) | {"r1_ohm"}
        if letter == "F":
            names |= {"r_detect_ohm", "diode_dvf_v", "diode_temp_c"}
    return tuple(n for n in PARAMETERS if n in names)


# --------------------------------------------------------------------------------------------
# The CLI's tolerance syntax

def parse_tolerance(text: str) -> Tolerance:
    """Parse ``NAME=SPEC[,DIST]``.

    ``SPEC`` is a half-width (``r1=0.03``: a fraction for resistors, capacitance and
    frequency; an absolute value in the parameter's unit otherwise), a percentage
    (``r1=3%``), a range ``LO:HI`` (``cable_c_f=0:3.1n``, ``temp=-40:85``), or ``fixed`` /
    ``fixed@VALUE``. ``DIST`` is ``uniform`` (default) or ``normal`` (±tol = ±3σ).
    SPICE suffixes are accepted (``3.1n``, ``2.7k``).
    """
    name, sep, spec = str(text).partition("=")
    if not sep or not spec.strip():
        raise ParameterError(f"tolerance {text!r}: expected NAME=SPEC, e.g. r1=0.03, cable_c_f=0:3.1n, temp=fixed")
    name = _canonical(name)
    spec, _, dist = spec.strip().partition(",")
    dist_text = dist.strip().lower() or "uniform"
    if dist_text not in ("uniform", "normal"):
        raise ParameterError(f"tolerance {text!r}: distribution must be uniform or normal, got {dist_text!r}")
    dist = cast(Distribution, dist_text)
    spec = spec.strip().lower()
    try:
        if spec.startswith("fixed"):
            _, at, fixed_at = spec.partition("@")
            return Tolerance.fixed(name, parse_spice_number(fixed_at) if at else None)
        if ":" in spec:
            lo, _, hi = spec.partition(":")
            return Tolerance.between(name, parse_spice_number(lo), parse_spice_number(hi), dist)
        if spec.endswith("%"):
            return Tolerance.rel(name, parse_spice_number(spec[:-1]) / 100.0, dist)
        value = parse_spice_number(spec)
    except ParameterError as exc:
        raise ParameterError(f"tolerance {text!r}: {exc}") from None
    if name.endswith(("_ohm", "_f", "_hz")):
        return Tolerance.rel(name, value, dist)
    return Tolerance(name, value, dist)
