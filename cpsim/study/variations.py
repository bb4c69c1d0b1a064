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
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from .. import standard as std
from ..errors import ParameterError
from ..sim.cp import RANGES, edges_fit
from .diode import diode_area_for_shift, nominal_forward_voltage_v, operating_current_a

__all__ = [
    "Tolerance", "PARAMETERS", "DEFAULT_TOLERANCES", "BLOCK", "resolve_tolerances", "sample",
    "diode_area_for_shift", "operating_current_a", "nominal_forward_voltage_v", "new_seed", "relevant_parameters",
    "INTERNAL_PARAMETERS", "format_quantity",
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
        if self.name in PARAMETERS:
            self._check_domain()

    def _check_domain(self) -> None:
        """The ±tol range (for ``normal`` ±3σ) must stay in the parameter's physical range."""
        p = PARAMETERS[self.name]
        lo, hi = self.bounds()
        top = min(p.hi, 1.0) if self.name == "duty" else p.hi
        below = lo <= p.lo if p.lo_open else lo < p.lo
        if not (below or hi > top or (self.name == "duty" and hi >= 1.0)):
            return
        if self.dist == "fixed":
            what = f"fixed at {format_quantity(self.name, lo)}"
        else:
            what = f"{self.dist} over {format_range(self.name, lo, hi)}"
            if self.nominal is None:
                what += f" (the nominal {format_quantity(self.name, (lo + hi) / 2)} ± the tolerance)"
        fix = "" if self.dist == "fixed" else \
            f"; give the range itself (Tolerance.between({self.name!r}, lo, hi), or '{self.name}=LO:HI')"
        raise ParameterError(f"tolerance of {self.name}: {what} leaves its physical range "
                             f"{format_range(self.name, p.lo, top)}{fix}")

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
        """The tolerance as a user gives it: ``cable_c_f uniform 0…3100 pF``, ``r1_ohm uniform ±3 %``,
        ``duty uniform ±2.5 %-points``, ``v_high_v uniform ±0.6 V`` (normal: ``(±3σ)`` appended)."""
        if self.dist == "fixed":
            at = "" if self.nominal is None else f" at {format_quantity(self.name, self.nominal)}"
            return f"{self.name} fixed{at}"
        if self.relative:
            width = f"±{100 * self.tol:g} %" + ("" if self.nominal is None else
                                                f" of {format_quantity(self.name, self.nominal)}")
        elif self.nominal is not None:
            width = format_range(self.name, *self.bounds())
        elif self.name == "duty":
            width = f"±{100 * self.tol:g} %-points"
        else:
            width = "±" + format_quantity(self.name, self.tol)
        return f"{self.name} {self.dist} {width}" + (" (±3σ)" if self.dist == "normal" else "")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def to_frame(tolerances: Iterable[Tolerance]) -> pd.DataFrame:
        """A table of tolerances, one row each, every field a column (``nominal`` NaN when None).

        Edit it (in pandas, or as a CSV file) and turn it back with :meth:`from_frame`.

        Examples
        --------
        >>> table = Tolerance.to_frame(DEFAULT_TOLERANCES)
        >>> Tolerance.from_frame(table) == DEFAULT_TOLERANCES
        True
        """
        import pandas as pd

        columns = [f.name for f in dataclasses.fields(Tolerance)]
        rows = [t.to_dict() for t in tolerances]
        frame = pd.DataFrame(rows, columns=columns)
        frame["nominal"] = frame["nominal"].astype(float)
        return frame

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> tuple[Tolerance, ...]:
        """Tolerances from a table written by :meth:`to_frame` (or read back from its CSV).

        Every field but ``source`` must be a column: a table without ``nominal`` would move a range
        given as ``lo…hi`` onto the circuit's nominal (ParameterError names the missing column).
        """
        need = [f.name for f in dataclasses.fields(cls) if f.name != "source"]
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise ParameterError(f"tolerance table lacks column(s) {', '.join(missing)}; "
                                 "build it with Tolerance.to_frame()")
        out = []
        for i, row in enumerate(frame.to_dict("records")):
            nominal, source, relative = row["nominal"], row.get("source", ""), row["relative"]
            if isinstance(relative, str):
                relative = relative.strip().lower() in ("true", "1", "yes")
            try:
                dist = cast(Distribution, str(row["dist"]).strip().lower())
                out.append(cls(str(row["name"]), float(row["tol"]), dist, bool(relative),
                               None if nominal is None or _isnan(nominal) else float(nominal),
                               "" if source is None or _isnan(source) else str(source)))
            except (TypeError, ValueError) as exc:
                raise ParameterError(f"tolerance table row {i} ({row.get('name')}): {exc}") from None
        return tuple(out)


def _isnan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


INTERNAL_PARAMETERS = frozenset({"diode_area"})
"""Result columns that are cpsim's internal mapping of a user's parameter (``diode_area`` carries
``diode_dvf_v`` into ngspice): never shown among the parameters a user varies."""

# How a parameter's values are shown: (scale, unit) - capacitance in pF, times in µs, duty in %
_SHOWN = {"F": (1e12, "pF"), "s": (1e6, "µs"), "": (100.0, "%")}


def _shown(name: str, *values: float) -> tuple[float, str]:
    """(scale, unit) to show ``values`` of ``name``: pF, µs, % unless that makes them absurd (3100 F)."""
    unit = PARAMETERS[name].unit if name in PARAMETERS else ""
    scale, shown = _SHOWN.get(unit, (1.0, unit))
    if unit in ("F", "s") and any(abs(v * scale) >= 1e5 for v in values):
        return 1.0, unit
    return scale, shown


def format_quantity(name: str, value: float) -> str:
    """``value`` of parameter ``name`` with the unit a user types: ``3.1e-09 -> "3100 pF"``."""
    scale, unit = _shown(name, value)
    return f"{value * scale:g} {unit}".rstrip()


def format_range(name: str, lo: float, hi: float) -> str:
    """``"0…3100 pF"``: a range of parameter ``name`` in the unit a user types."""
    scale, unit = _shown(name, lo, hi)
    return f"{lo * scale:g}…{hi * scale:g} {unit}".rstrip()


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
