"""Two engines, one contract: parameter arrays in, one result column per measurement out.

* :func:`fast_block` - the exact closed-form plateau (:func:`~cpsim.sim.closed_form.plateau_levels`),
  vectorised; settled levels and states only. Millions of variations per second.
* :func:`spice_chunk` - every variation simulated by ngspice (several circuits per transient
  through :func:`~cpsim.sim.cp.simulate_cp_batch`) and measured by :func:`cpsim.analysis.measure`:
  levels, duty, frequency, edges, state. Runs in worker processes (one ngspice each).

Both classify states with the analyzer's own rules (:mod:`cpsim.analysis.states`), so a
state from ``fast`` and one from ``spice`` mean the same thing.

Column names: sampled parameters keep their :class:`~cpsim.sim.cp.CpCircuit` names,
measurements their :class:`~cpsim.analysis.PilotMeasurement` names; a measurement whose
name is also a parameter (``duty``, ``frequency_hz``) is prefixed ``measured_``.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import standard as std
from ..errors import CpsimError, ParameterError
from ..standard import LimitsProfile, Window
from .variations import PARAMETERS, invalid_rows

_SIM_LOCK = threading.Lock()
"""One ngspice per process: chunks run by threads of one process (a threaded Dask worker) take turns."""

__all__ = ["SpiceOptions", "fast_block", "spice_chunk", "classify", "profile_to_spec", "profile_from_spec",
           "measured_name", "CIRCUIT_FIELDS"]

CIRCUIT_FIELDS = tuple(n for n in PARAMETERS if n != "diode_dvf_v") + ("diode_area",)
"""Sampled values that are CpCircuit fields (``diode_dvf_v`` is mapped onto ``diode_area``)."""


def measured_name(name: str) -> str:
    """Result column of a PilotMeasurement field (``duty`` -> ``measured_duty``)."""
    return f"measured_{name}" if name in PARAMETERS or name == "diode_area" else name


# --------------------------------------------------------------------------------------------
# Profiles cross process boundaries as plain data (LimitsProfile holds a mappingproxy).

def profile_to_spec(profile: LimitsProfile) -> dict:
    spec = {}
    for f in dataclasses.fields(profile):
        value = getattr(profile, f.name)
        if isinstance(value, Window):
            value = (value.lo, value.hi, value.source)
        elif f.name == "high_windows":
            value = {k: (w.lo, w.hi, w.source) for k, w in value.items()}
        spec[f.name] = value
    return spec


def profile_from_spec(spec: dict | str | LimitsProfile) -> LimitsProfile:
    if not isinstance(spec, dict):
        return std.get_profile(spec)
    kw = dict(spec)
    for name, value in spec.items():
        if name == "high_windows":
            kw[name] = {k: Window(*w) for k, w in value.items()}
        elif isinstance(value, (tuple, list)) and len(value) == 3:
            kw[name] = Window(*value)
    return LimitsProfile(**kw)


# --------------------------------------------------------------------------------------------
# State classification, shared with the analyzer

def classify(state: str, v_high, v_low, profile: LimitsProfile) -> np.ndarray:
    """State codes (indices into :data:`cpsim.standard.STATES`) the analyzer's rules give these
    settled levels, for a circuit simulated in ``state``.

    PWM states (x2) are judged on (v_high, v_low), steady states (x1) and E on v_high, F on v_low.
    """
    from ..analysis.states import classify_dc, classify_pwm
    from ..sim.cp import parse_state

    letter, pwm = parse_state(state)
    v_high = np.asarray(v_high, dtype=float)
    v_low = np.asarray(v_low, dtype=float)
    if letter == "F":
        codes, _ = classify_dc(v_low, profile)
    elif letter == "E":
        # a short to PE collapses both halves to ~0 V: the analyzer reads one steady level, E
        codes, _ = classify_dc(v_high, profile)
    elif pwm:
        codes, _ = classify_pwm(v_high, v_low, profile)
    else:
        codes, _ = classify_dc(v_high, profile)
    return np.asarray(codes, dtype=np.int8)


def expected_state(state: str) -> str:
    """The state name a correct reading gives for a circuit simulated in ``state``."""
    from ..sim.cp import CpCircuit

    return CpCircuit(state=state).state


# --------------------------------------------------------------------------------------------
# fast

def fast_block(state: str, params: Mapping[str, np.ndarray], profile: LimitsProfile) -> dict[str, np.ndarray]:
    """Settled levels and states of many variations from the closed form.

    Returns columns ``v_high``, ``v_low`` [V], ``state`` (codes into :data:`cpsim.standard.STATES`,
    -1 for an invalid sample) and ``error`` ("" when fine).
    x1 states have no low level (NaN), F no high level.
    """
    from ..sim.closed_form import blocked_low_v, plateau_levels
    from ..sim.cp import parse_state

    letter, pwm = parse_state(state)
    bad, error = invalid_rows(params)
    with np.errstate(all="ignore"):
        if letter == "F":
            # the EVSE drives v_low into a vehicle whose diode blocks it
            v_low = np.array(blocked_low_v(params["v_low_v"], params["r1_ohm"], diode_area=params["diode_area"],
                                           temp_c=params["diode_temp_c"]), dtype=float)
            v_high = np.full(v_low.shape, np.nan)
        else:
            v_high, v_low = plateau_levels(
                letter, v_high_v=params["v_high_v"], v_low_v=params["v_low_v"], r1_ohm=params["r1_ohm"],
                r_wire_ohm=params["wire_r_ohm"], r_detect_ohm=params["r_detect_ohm"],
                r_charge_ohm=params["r_charge_ohm"], r_vent_ohm=params["r_vent_ohm"],
                r_short_ohm=params["short_r_ohm"], diode_area=params["diode_area"], temp_c=params["diode_temp_c"])
            v_high = np.array(v_high, dtype=float)
            v_low = np.array(v_low, dtype=float) if pwm else np.full(v_high.shape, np.nan)
    v_high[bad] = np.nan
    v_low[bad] = np.nan
    states = classify(state, v_high, v_low, profile)
    states[bad] = -1
    return {"v_high": v_high, "v_low": v_low, "state": states, "error": error}


# --------------------------------------------------------------------------------------------
# spice

@dataclass(frozen=True)
class SpiceOptions:
    """How each variation is simulated.

    Attributes
    ----------
    periods : float
        PWM periods of the slowest circuit per transient. The pulse starts with a rising edge from the
        settled low level, so 2 periods hold the two complete rising-edge cycles the analyzer needs; the
        extra 0.05 (50 µs at 1 kHz) lets the last rising edge (< 13 µs loaded, EV-BU) settle past the
        analyzer's 10 µs plateau guard (``standard.PLATEAU_SETTLE_MIN_S``).
    sample_interval_s : float or None
        Output step [s]; ``None``: the shortest 10-90 % generator edge
        (0.8 × the ramp) divided by ``samples_per_edge``.
    samples_per_edge : int
        Samples on the fastest generator edge when ``sample_interval_s`` is None (8: a state-D edge
        at the EVSE follows only ~60 % of the generator's ramp, and the analyzer measures a 10-90 %
        time only over >= 4 samples, ``cpsim.analysis.measurement.EDGE_MIN_SAMPLES``).
    probe : str
        ``"evse"`` or ``"vehicle"``.
    max_step_s : float or None
        Longest ngspice time step [s]: ngspice chooses its own step (Gear integration) and the result is
        put on the output grid in numpy, so the flat plateaus cost few solver steps. ``None``: every
        output step is a solver step (about 8 times the cost).
    circuits_per_run : int
        Circuits per ngspice transient (a chunk runs in several). With ngspice choosing its step, every
        circuit's edges shorten the shared step, so a few circuits per run are cheapest (8: 3.7 ms per
        variation against 4.5 ms at 32 and 7.4 ms at 128, benchmarks/bench_montecarlo.py).
    """

    periods: float = 2.05
    sample_interval_s: float | None = None
    samples_per_edge: int = 8
    probe: str = "evse"
    max_step_s: float | None = 5e-6
    circuits_per_run: int = 8

    def __post_init__(self) -> None:
        if not 1 <= float(self.periods) <= 1000:
            raise ParameterError(f"periods must be 1-1000, got {self.periods!r}")
        if not 1 <= int(self.circuits_per_run) <= 10_000:
            raise ParameterError(f"circuits_per_run must be 1-10000, got {self.circuits_per_run!r}")
        if self.max_step_s is not None and not (0 < self.max_step_s <= 1e-3):
            raise ParameterError(f"max_step_s must be in (0, 1 ms] or None, got {self.max_step_s!r}")
        if self.samples_per_edge < 2:
            raise ParameterError(f"samples_per_edge must be >= 2, got {self.samples_per_edge!r}")
        if self.sample_interval_s is not None and not (0 < self.sample_interval_s < 1e-3):
            raise ParameterError(f"sample_interval_s must be in (0, 1 ms), got {self.sample_interval_s!r}")

    def step_for(self, min_edge_s: float) -> float:
        """The output step [s] for a study whose fastest generator ramp is ``min_edge_s``."""
        if self.sample_interval_s is not None:
            return float(self.sample_interval_s)
        return 0.8 * float(min_edge_s) / self.samples_per_edge


MEASUREMENT_FIELDS = ("state", "reason", "v_high", "v_low", "duty", "frequency_hz", "period_s", "rise_time_s",
                      "fall_time_s", "current_a", "digital_comm", "diode_fault", "pwm", "n_cycles", "v_high_std",
                      "v_low_std", "overshoot", "undershoot")
"""PilotMeasurement fields kept in the results (the scalar measurements; not provenance)."""
_NON_FLOAT = {"reason": "str", "digital_comm": "boolean", "diode_fault": "boolean", "pwm": "boolean",
              "n_cycles": "Int64"}
MEASUREMENT_DTYPES = {measured_name(n): _NON_FLOAT.get(n, "float64") for n in MEASUREMENT_FIELDS if n != "state"}
"""Result column -> pandas dtype (nullable where a failed run leaves a gap)."""


def _measurement_row(m) -> dict:
    row = {}
    for name in MEASUREMENT_FIELDS:
        value = getattr(m, name, None)
        row[measured_name(name)] = value.item() if isinstance(value, np.generic) else value
    return row


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


_SESSION_ERROR: list[BaseException] = []
"""The ngspice start-up failure of this process, if any: PySpice cannot retry it in the same process
(a second try fails with ``CDefError: duplicate declaration``), so it is raised again as it was."""


def ngspice_ready() -> None:
    """Start this process's ngspice session; NgspiceNotFoundError (with the install hint) if it cannot."""
    from ..errors import NgspiceNotFoundError
    from ..sim.ngspice import session

    with _SIM_LOCK:  # threads of one process (a threaded Dask worker) share one session
        if _SESSION_ERROR:
            raise _SESSION_ERROR[0]
        try:
            session()
        except NgspiceNotFoundError as exc:
            _SESSION_ERROR.append(exc)
            raise


def spice_chunk(state: str, runs, params: Mapping[str, np.ndarray], options: SpiceOptions,
                profile_spec) -> dict[str, list]:
    """Simulate and measure one chunk of variations (runs in a worker process).

    The valid circuits of the chunk share ngspice transients of ``options.circuits_per_run`` circuits.
    If a run fails, each of its circuits is simulated alone so that only the failing variation carries the error.
    Returns column lists: ``run``, ``error``, and every scalar PilotMeasurement field. A missing
    ngspice is no failure of a variation: NgspiceNotFoundError stops the study.
    """
    from ..analysis import measure
    from ..sim.cp import CpCircuit, simulate_cp_batch

    ngspice_ready()
    profile = profile_from_spec(profile_spec)
    runs = [int(r) for r in runs]
    rows: list[dict] = [{"run": r, "error": ""} for r in runs]
    circuits: dict[int, CpCircuit] = {}
    for k in range(len(runs)):
        try:
            values: dict[str, Any] = {f: float(params[f][k]) for f in CIRCUIT_FIELDS}
            circuits[k] = CpCircuit(state=state, **values)
        except CpsimError as exc:
            rows[k]["error"] = _error_text(exc)
    step = options.step_for(min((min(c.rise_time_s, c.fall_time_s) for c in circuits.values()), default=1.0))

    def simulate(keys):
        chosen = [circuits[k] for k in keys]
        stop_s = float(options.periods) / min(c.frequency_hz for c in chosen)
        max_step_s = None if options.max_step_s is None else max(options.max_step_s, step)
        with _SIM_LOCK:
            return simulate_cp_batch(chosen, sample_interval_s=step, probe=options.probe, stop_s=stop_s,
                                     max_step_s=max_step_s)

    all_keys = list(circuits)
    waves: dict[int, object] = {}
    per_run = max(1, int(options.circuits_per_run))
    for start in range(0, len(all_keys), per_run):
        keys = all_keys[start:start + per_run]
        try:
            waves.update(zip(keys, simulate(keys)))
        except Exception:
            for k in keys:
                try:
                    waves[k] = simulate([k])[0]
                except Exception as exc:
                    rows[k]["error"] = _error_text(exc)
    from ..analysis.measurement import DC_MIN_S

    for k, wave in waves.items():
        try:
            # a plateau of a slow PWM must not pass for a steady level: scale the bound to the period
            dc_min_s = max(DC_MIN_S, 5.0 / circuits[k].frequency_hz)
            rows[k].update(_measurement_row(measure(wave, profile=profile, dc_min_s=dc_min_s)))
        except Exception as exc:
            rows[k]["error"] = _error_text(exc)
    names: list[str] = []
    for row in rows:
        names.extend(n for n in row if n not in names)
    return {n: [row.get(n) for row in rows] for n in names}


def min_edge_s(tolerances, nominal: Mapping[str, float] | None = None) -> float:
    """The fastest generator ramp of these tolerances' ±tol range [s] (a normal sample beyond 3σ is
    resolved with slightly fewer samples per edge)."""
    lows = [t.bounds((nominal or {}).get(t.name))[0] for t in tolerances if t.name in ("rise_time_s", "fall_time_s")]
    edge = min(lows) if lows else std.GENERATOR_EDGE_DEFAULT_S
    if not (edge > 0 and math.isfinite(edge)):
        raise ParameterError("the rise/fall time tolerances reach 0 s; give them a positive lower bound")
    return edge
