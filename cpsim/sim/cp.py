"""Simulate the control pilot with ngspice: EVSE generator, cable, vehicle."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .. import standard as std
from ..errors import ParameterError, SimulationError
from ..units import check_count, check_number
from ..waveform import Waveform
from .netlist import compose, load_scenario

log = logging.getLogger(__name__)

__all__ = ["CpCircuit", "simulate_cp", "simulate_cp_batch", "parse_state"]

Probe = Literal["evse", "vehicle"]
_PROBE_NODE = {"evse": "cp_evse", "vehicle": "cp_ev"}
_SCENARIO = {"A": "cp_a", "B": "cp_b", "C": "cp_c", "D": "cp_d", "E": "cp_e", "F": "cp_b"}

# CpCircuit field -> scenario .param name
_PARAM_OF = {
    "frequency_hz": "freq", "duty": "duty", "rise_time_s": "t_rise", "fall_time_s": "t_fall",
    "r1_ohm": "r1", "cable_c_f": "c_cable", "wire_r_ohm": "r_wire", "r_detect_ohm": "r_detect",
    "r_charge_ohm": "r_charge", "r_vent_ohm": "r_vent", "short_r_ohm": "r_short",
    "diode_area": "diode_area", "diode_temp_c": "temp_c",
}


def parse_state(state: str) -> tuple[str, bool]:
    """``"C"`` or ``"C2"`` -> (``"C"``, PWM on); ``"C1"`` -> (``"C"``, steady); ``"E"``/``"F"`` have no digit."""
    s = str(state).strip().upper()
    if s in ("E", "F"):
        return s, s == "E"
    if len(s) in (1, 2) and s[0] in "ABCD" and s[1:] in ("", "1", "2"):
        return s[0], s[1:] != "1"
    raise ParameterError(f"unknown CP state {state!r}; valid: A B C D (x1 steady, x2 PWM, e.g. C1, C2), E, F")


RANGES = {
    # field: (lo, hi, lo_open, unit): the physical range a CpCircuit value must lie in (cpsim's
    # sanity bounds, wide on purpose; the standard's tolerances are in cpsim.standard)
    "duty": (0.0, 1.0, True, ""),
    "frequency_hz": (1.0, 1e6, False, "Hz"),
    "v_high_v": (-30.0, 30.0, False, "V"),
    "v_low_v": (-30.0, 30.0, False, "V"),
    "rise_time_s": (0.0, 1e-3, True, "s"),
    "fall_time_s": (0.0, 1e-3, True, "s"),
    "r1_ohm": (10.0, 1e6, False, "Ω"),  # the EVSE's 1 kΩ source resistor: a milliohm (SPICE "1M") is no part
    "cable_c_f": (0.0, 1e-6, False, "F"),
    "wire_r_ohm": (1e-6, 1e6, False, "Ω"),
    "r_detect_ohm": (1e-3, 1e12, False, "Ω"),
    "r_charge_ohm": (1e-3, 1e12, False, "Ω"),
    "r_vent_ohm": (1e-3, 1e12, False, "Ω"),
    "short_r_ohm": (1e-6, 1e12, False, "Ω"),
    "diode_area": (1e-6, 1e6, True, ""),
    "diode_temp_c": (-60.0, 200.0, False, "°C"),
}


def edges_fit(duty, frequency_hz, rise_time_s, fall_time_s):
    """Half of each edge fits into both the high and the low time (vectorised)."""
    high = np.asarray(duty) / np.asarray(frequency_hz)
    short = np.minimum(high, 1.0 / np.asarray(frequency_hz) - high)
    return np.asarray(rise_time_s) / 2 + np.asarray(fall_time_s) / 2 < short


@dataclass(frozen=True)
class CpCircuit:
    """Every value of one CP circuit, in SI units, validated on creation.

    ``state`` is A-F with an optional 1 (steady +12 V, no PWM) or 2 (PWM, default).
    F is the EVSE driving a steady ``v_low_v`` into a vehicle in state B.
    Defaults are the nominal values of :mod:`cpsim.standard`.
    """

    state: str = "C"
    duty: float = 0.25
    frequency_hz: float = std.FREQUENCY_HZ
    v_high_v: float = std.GENERATOR_V_HIGH_V
    v_low_v: float = std.GENERATOR_V_LOW_V
    rise_time_s: float = std.GENERATOR_EDGE_DEFAULT_S
    fall_time_s: float = std.GENERATOR_EDGE_DEFAULT_S
    r1_ohm: float = std.R1_OHM
    cable_c_f: float = std.CABLE_C_DEFAULT_F
    wire_r_ohm: float = 0.1
    r_detect_ohm: float = std.R_DETECT_OHM
    r_charge_ohm: float = std.R_CHARGE_OHM
    r_vent_ohm: float = std.R_VENT_OHM
    short_r_ohm: float = 0.01
    diode_area: float = 1.0
    diode_temp_c: float = 27.0
    fault: str | None = None

    def __post_init__(self) -> None:
        letter, pwm = parse_state(self.state)
        object.__setattr__(self, "state", letter + ("" if letter in "EF" else ("2" if pwm else "1")))
        if self.fault is not None:
            # a fault scenario of cpsim.sim.scenarios: fields left at their defaults take the fault's values
            from .scenarios import resolve_cp_changes

            defaults: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(self)}
            values = {name: getattr(self, name) for name in defaults}
            for name, value in resolve_cp_changes(self.fault, letter, values, defaults).items():
                object.__setattr__(self, name, value)
        for name, (lo, hi, lo_open, unit) in RANGES.items():
            object.__setattr__(self, name, check_number(name, getattr(self, name), lo=lo, hi=hi, lo_open=lo_open,
                                                        unit=unit))
        if self.duty >= 1.0:
            raise ParameterError(f"duty must be < 1 for a PWM (use state {letter}1 for steady +12 V), "
                                 f"got {self.duty:g}")
        if not edges_fit(self.duty, self.frequency_hz, self.rise_time_s, self.fall_time_s):
            high = self.duty / self.frequency_hz
            raise ParameterError(
                f"edges of {self.rise_time_s:g} s / {self.fall_time_s:g} s do not fit a {self.duty:.1%} "
                f"duty at {self.frequency_hz:g} Hz (high time {high:g} s)"
            )

    @property
    def letter(self) -> str:
        return self.state[0]

    @property
    def pwm(self) -> bool:
        return self.state.endswith("2") or self.state == "E"

    @property
    def scenario(self) -> str:
        if self.fault is not None:
            from .scenarios import cp_fault

            return cp_fault(self.fault).netlist
        return _SCENARIO[self.letter]

    def netlist_params(self) -> dict[str, float]:
        """The scenario's ``.param`` values for this circuit."""
        if self.letter == "F":
            gen_lo = gen_hi = self.v_low_v
        elif self.pwm:
            gen_lo, gen_hi = self.v_low_v, self.v_high_v
        else:
            gen_lo = gen_hi = self.v_high_v
        values = {"gen_lo": gen_lo, "gen_hi": gen_hi}
        values.update({p: float(getattr(self, f)) for f, p in _PARAM_OF.items()})
        if self.fault is not None:
            from .scenarios import cp_fault_netlist_params

            values.update(cp_fault_netlist_params(self.fault, self.letter, values))
        known = load_scenario(self.scenario).defaults
        return {k: v for k, v in values.items() if k in known}

    def replace(self, **changes) -> CpCircuit:
        return dataclasses.replace(self, **changes)


def _circuit_from_kwargs(state: str, kwargs: dict) -> CpCircuit:
    names = {f.name for f in dataclasses.fields(CpCircuit)} - {"state"}
    unknown = sorted(set(kwargs) - names)
    if unknown:
        raise ParameterError(f"unknown CP parameter {', '.join(unknown)}; valid: {', '.join(sorted(names))}")
    return CpCircuit(state=state, **kwargs)


def _timebase(circuits: Sequence[CpCircuit], periods: int, sample_interval_s: float | None,
              stop_s: float | None = None):
    periods = check_count("periods", periods, lo=1, hi=100_000)
    f_min = min(c.frequency_hz for c in circuits)
    edge = min(min(c.rise_time_s, c.fall_time_s) for c in circuits)
    stop = periods / f_min if stop_s is None else check_number("stop_s", stop_s, lo=0.0, lo_open=True,
                                                                 hi=100_000 / f_min, unit="s")
    if sample_interval_s is None:
        # >= 10 samples on each edge (rise/fall are measured 10-90 %) and >= 5000 per period
        step = min(1.0 / max(c.frequency_hz for c in circuits) / 5000.0, edge / 10.0)
    else:
        step = check_number("sample_interval_s", sample_interval_s, lo=0.0, lo_open=True, hi=stop / 10, unit="s")
    n_points = stop / step
    if n_points > 50e6:
        raise ParameterError(f"{n_points:.3g} samples requested; keep periods / sample_interval_s below 50 M points")
    return stop, step


def _covers(t: np.ndarray | None, end: float, max_step: float) -> bool:
    """Whether ngspice's time points reach ``end`` [s] with no gap longer than ``max_step`` [s]."""
    return (t is not None and t.size >= 2 and t[-1] >= end * (1 - 1e-9)
            and float(np.max(np.diff(t))) <= max_step * (1 + 1e-6))


def run_on_grid(sess, netlist: Callable[[str], str], stop: float, step: float,
                 max_step: float | None) -> dict[str, np.ndarray]:
    """Run ``netlist(analysis)`` with ngspice's step up to ``max_step`` (Gear integration, which damps the
    trapezoidal rule's ringing on long steps; ``None``: the output step, trapezoidal) and put ngspice's
    vectors, at its own time points, on the uniform grid ``0, step, ... <= stop`` by linear interpolation,
    as a scope samples.

    cpsim does not use ngspice's ``.options interp``: in ngspice 39's shared library it stays on for every
    later run of the process, and with a TMAX it then truncates the output (a jump far beyond TMAX), so a
    circuit's samples would depend on what the process ran before. When something else in the process
    (e.g. the user's own PySpice run) has switched it on, the truncated output is detected and the
    circuit is run again the way ``interp`` works (no TMAX, the step capped at the output step).
    """
    grid = np.arange(int(np.floor(stop / step + 1e-9)) + 1) * step
    tran = f".tran {step:.12g} {stop:.12g} 0 {max_step or step:.12g}"
    vectors = sess.run(netlist(tran if max_step is None else f".options method=gear\n{tran}"))
    if not _covers(vectors.get("time"), grid[-1], max_step or step):
        log.warning("ngspice's 'interp' option is on in this process (set by an earlier run): simulating "
                    "with the step capped at the output step instead")
        vectors = sess.run(netlist(f".options interp\n.tran {step:.12g} {stop:.12g}"))
        if not _covers(vectors.get("time"), grid[-1], 2 * step):  # its last point may lie past the grid
            raise SimulationError(f"ngspice returned a time vector that does not cover 0 ... {stop:g} s",
                                  log=sess.log)
    return {name: grid if name == "time" else np.interp(grid, vectors["time"], v) for name, v in vectors.items()}


def simulate_cp_batch(circuits: Sequence[CpCircuit], *, periods: int = 5, sample_interval_s: float | None = None,
                      probe: Probe = "evse", stop_s: float | None = None,
                      max_step_s: float | None = None) -> list[Waveform]:
    """Simulate several CP circuits, grouping those of the same topology into one ngspice run.

    Returns one :class:`Waveform` per circuit, in order. All share one uniform time base.

    ``stop_s`` [s] replaces ``periods`` (e.g. 2.05 periods of the slowest circuit: two complete rising-edge
    cycles). ``max_step_s`` [s] lets ngspice choose its own step up to this bound (Gear integration, which
    damps the trapezoidal rule's ringing on long steps) and puts the result on the ``sample_interval_s``
    grid in numpy: far fewer solver steps on the flat plateaus. ``None`` (default): ngspice's internal
    step is capped at the output step.
    """
    from .ngspice import session

    if probe not in _PROBE_NODE:
        raise ParameterError(f"probe must be one of {', '.join(_PROBE_NODE)}, got {probe!r}")
    circuits = list(circuits)
    if not circuits:
        return []
    stop, step = _timebase(circuits, periods, sample_interval_s, stop_s)
    max_step = None if max_step_s is None else check_number("max_step_s", max_step_s, lo=step, hi=stop, unit="s")
    out: list[Waveform | None] = [None] * len(circuits)
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(circuits):
        groups.setdefault(c.scenario, []).append(i)
    sess = session()
    for scenario_name, idx in groups.items():
        scenario = load_scenario(scenario_name)
        nodes = [_PROBE_NODE[probe] + (f"_{j}" if len(idx) > 1 else "") for j in range(len(idx))]
        # only the probed nodes are kept by ngspice (a transient of 50 M points holds 400 MB a vector)
        params = [circuits[i].netlist_params() for i in idx]
        texts: list[str] = []

        def netlist(analysis: str, scenario=scenario, params=params, nodes=nodes, texts=texts) -> str:
            texts.append(compose(scenario, params, f".save {' '.join(nodes)}\n{analysis}"))
            return texts[-1]

        vectors = run_on_grid(sess, netlist, stop, step, max_step)
        t = vectors.get("time")
        for j, i in enumerate(idx):
            node = nodes[j]
            v = vectors.get(node)
            if t is None or v is None:
                raise SimulationError(f"ngspice returned no vector {node!r}", log=sess.log)
            meta = {"source": "ngspice", "probe": probe, "scenario": scenario_name,
                    "circuit": dataclasses.asdict(circuits[i]), "ngspice_version": sess.version}
            if len(idx) == 1:
                meta["netlist"] = texts[-1]
            out[i] = Waveform(t, v, "cp", meta)
    return out  # type: ignore[return-value]


def simulate_cp(state: str = "C", *, duty: float = 0.25, frequency_hz: float = std.FREQUENCY_HZ,
                cable_c_f: float = std.CABLE_C_DEFAULT_F, periods: int = 5,
                sample_interval_s: float | None = None, probe: Probe = "evse", fault: str | None = None,
                **components) -> Waveform:
    """Simulate the control pilot in ``state`` with ngspice and return the CP voltage.

    Parameters
    ----------
    state : str
        ``A``-``D`` (PWM, same as ``A2``-``D2``), ``A1``-``D1`` (steady +12 V), ``E`` (CP
        shorted to PE, PWM running) or ``F`` (EVSE drives -12 V).
    duty : float
        PWM duty cycle as a fraction (0.25 = 25 % = 15 A).
    frequency_hz : float
        PWM frequency [Hz].
    cable_c_f : float
        EVSE + cable capacitance [F] (limit 3100 pF).
    periods : int
        Number of PWM periods simulated.
    sample_interval_s : float, optional
        Output sample interval [s]; default resolves each edge with >= 10 samples.
    probe : {"evse", "vehicle"}
        Where the CP is observed: the EVSE's measuring point or the vehicle inlet.
    fault : str, optional
        A fault scenario of :data:`cpsim.sim.scenarios.CP_FAULTS` (e.g. ``"diode_shorted"``), simulated
        in ``state``. A component the fault changes that you also pass sets its severity.
    **components
        Any other :class:`CpCircuit` field: ``v_high_v``, ``v_low_v``, ``rise_time_s``,
        ``fall_time_s``, ``r1_ohm``, ``wire_r_ohm``, ``r_detect_ohm``, ``r_charge_ohm``,
        ``r_vent_ohm``, ``short_r_ohm``, ``diode_area``, ``diode_temp_c``.

    Returns
    -------
    Waveform
        Channel ``"cp"``, metadata with the circuit values and the netlist.

    Examples
    --------
    >>> w = simulate_cp("C", duty=0.25)                      # ngspice: 5 periods, 0.1 µs steps
    >>> len(w), round(float(w.v.max()), 1), round(float(w.v.min()), 1)
    (50001, 6.0, -12.0)
    """
    circuit = _circuit_from_kwargs(state, dict(duty=duty, frequency_hz=frequency_hz, cable_c_f=cable_c_f,
                                               fault=fault, **components))
    return simulate_cp_batch([circuit], periods=periods, sample_interval_s=sample_interval_s, probe=probe)[0]
