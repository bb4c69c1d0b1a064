"""The spice engine: the CP circuit *with* the front-end simulated by ngspice, sampled at the board's instants.

Each variation's CP scenario (:mod:`cpsim.sim.cp`) gets the front-end attached at the EVSE's CP
point (the divider as a subcircuit with the variation's values, or the user's netlist as is), and
several variations share one transient. The last simulated PWM period is taken as the periodic
steady state: a triggered sample is read ``delay_after_rise_s`` after the start of the generator's
rising edge (the instant the firmware's PWM timer commands it), a free-running sample at its phase
in the variation's own period. Edges, cable capacitance and short high times are in the answer.
ADC errors and noise are applied afterwards, exactly as in the fast engine.

The engine runs in the calling process (one ngspice per process); keep it to hundreds or a few
thousand variations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ...errors import CpsimError
from ...sim.cp import CpCircuit, parse_state, run_on_grid
from ...sim.netlist import compose, load_scenario
from ..engines import CIRCUIT_FIELDS
from ..variations import sample
from .adc import analogue_lsb, board_stream, draw_board
from .board import Board, Divider
from .chain import NOISE_KEY, STATE_KEYS, Chain, Columns
from .frontend import divider_instance, divider_subckt
from .readings import matrix, noise_free

__all__ = ["run_spice", "chain_netlist"]

_SPICE_KEY = 50  # noise streams of the spice engine: NOISE_KEY + 50 + state index


def chain_netlist(board: Board, circuits: list[CpCircuit],
                  bp: dict[str, np.ndarray]) -> tuple[Callable[[str], str], list[str], list[str]]:
    """One netlist of ``circuits`` (one state) with the board's front-end on each: (a function of the
    analysis card giving the netlist, adc nodes, cp nodes)."""
    scenario = load_scenario(circuits[0].scenario)
    n = len(circuits)
    sfx = [f"_{k}" if n > 1 else "" for k in range(n)]
    fe = board.frontend
    lines = [divider_subckt() if isinstance(fe, Divider) else fe.text]
    for k in range(n):
        cp, adc = f"cp_evse{sfx[k]}", f"adc{sfx[k]}"
        if isinstance(fe, Divider):
            r_bias = float(bp["fe_r_bias_ohm"][k])
            values = {"r_top": float(bp["fe_r_top_ohm"][k]), "r_bottom": float(bp["fe_r_bottom_ohm"][k]),
                      "r_bias": r_bias if math.isfinite(r_bias) else 1e15,
                      "v_bias": float(bp["fe_v_bias_v"][k])}
            lines.append(divider_instance(f"Xfe{sfx[k]}", cp, adc, values))
        else:
            lines.append(f"Xfe{sfx[k]} {cp} {adc} 0 {fe.subckt}")
    adc_nodes = [f"adc{s}" for s in sfx]
    cp_nodes = [f"cp_evse{s}" for s in sfx]
    head = "\n".join(lines) + f"\n.save {' '.join(adc_nodes + cp_nodes)}\n"
    params = [c.netlist_params() for c in circuits]

    def netlist(analysis: str) -> str:
        return compose(scenario, params, head + analysis)

    return netlist, adc_nodes, cp_nodes


def _simulate(board, circuits, bp, periods, step_s):
    from ...sim.ngspice import session

    stop = periods / min(c.frequency_hz for c in circuits)
    netlist, adc_nodes, cp_nodes = chain_netlist(board, circuits, bp)
    vec = run_on_grid(session(), netlist, stop, step_s, None)
    return stop, vec["time"], [vec[a] for a in adc_nodes], [vec[c] for c in cp_nodes]


def _instants(board: Board, c: CpCircuit, stop: float, rng, n_read: int) -> tuple[np.ndarray, float]:
    """(instants (n_read, samples) [s], plateau instant [s]) in the last full period of circuit ``c``."""
    period = 1.0 / c.frequency_hz
    t0 = (math.floor(stop * c.frequency_hz + 1e-9) - 1) * period
    s = board.sampling
    if s.mode == "triggered":
        t = np.full((n_read, s.samples), t0 + s.delay_after_rise_s)
    else:
        offsets = (np.arange(s.samples) * c.frequency_hz / s.rate_hz) % 1.0
        t = t0 + ((rng.random(n_read)[:, None] + offsets[None, :]) % 1.0) * period
    letter, pwm = parse_state(c.state)
    plateau = t0 + (0.5 * c.duty if pwm and letter != "F" else 0.5) * period
    return t, plateau


def _default_step(board: Board, circuits) -> float:
    """Output step [s]: 0.1 µs, a tenth of the fastest generator edge, and for a triggered sample a
    two-hundredth of its delay: ngspice's accuracy follows the step (its internal step is capped by it),
    and a sample a few µs after an edge sits where the CP climbs volts per µs."""
    step = min([1e-7] + [min(c.rise_time_s, c.fall_time_s) / 10.0 for c in circuits])
    if board.sampling.mode == "triggered" and board.sampling.delay_after_rise_s > 0:
        step = min(step, board.sampling.delay_after_rise_s / 200.0)
    return max(step, 1e-9)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def _chunk(chain: Chain, state: str, runs: np.ndarray, seed: int, tols, periods: int, step_s) -> dict:
    board, adc, fw = chain.board, chain.board.adc, chain.board.firmware
    params = sample(state, runs, tols, seed, nominal=chain.nominal)
    bp = draw_board(board, runs, seed)
    n = runs.size
    error = np.full(n, "", dtype=object)
    circuits: dict[int, CpCircuit] = {}
    for k in range(n):
        try:
            fields: dict[str, Any] = {f: float(params[f][k]) for f in CIRCUIT_FIELDS}
            circuits[k] = CpCircuit(state=state, **fields)
        except CpsimError as exc:
            error[k] = _error_text(exc)
    step = step_s or _default_step(board, circuits.values())
    waves: dict[int, tuple] = {}
    keys = list(circuits)

    def run(ks):
        sub = {name: v[ks] for name, v in bp.items()}
        stop, t, adcs, cps = _simulate(board, [circuits[k] for k in ks], sub, periods, step)
        waves.update({k: (stop, t, adcs[j], cps[j]) for j, k in enumerate(ks)})

    if keys:
        try:
            run(keys)
        except CpsimError:
            for k in keys:
                try:
                    run([k])
                except CpsimError as exc:
                    error[k] = _error_text(exc)
    rng = board_stream(seed, int(runs[0]), NOISE_KEY + _SPICE_KEY + STATE_KEYS[state])
    values = np.full((n, fw.debounce), np.nan)
    sampled = np.full(n, np.nan)
    extra = {name: np.full(n, np.nan) for name in ("plateau_lsb", "v_cp_v", "v_adc_v")}
    for k, (stop, t, v_adc, v_cp) in waves.items():
        inst, plateau_t = _instants(board, circuits[k], stop, rng, fw.debounce)
        errs = (bp["adc_vref_v"][k], bp["adc_gain_error"][k], bp["adc_offset_lsb"][k])
        x = analogue_lsb(np.interp(inst, t, v_adc), adc, *errs)
        values[k] = matrix(x, sigma=adc.noise_lsb_rms, top_code=adc.top_code, rng=rng, reader=chain.reader)
        sampled[k] = noise_free(x[:1], algorithm=fw.algorithm, k=fw.k, reader=chain.reader)[0]
        extra["v_adc_v"][k] = np.interp(plateau_t, t, v_adc)
        extra["plateau_lsb"][k] = analogue_lsb(extra["v_adc_v"][k], adc, *errs)
        extra["v_cp_v"][k] = np.interp(plateau_t, t, v_cp)
    out = chain.rows(state, values, sampled)
    bad = error != ""
    out["misread"] = out["misread"] & ~bad
    out.update(run=runs, error=error, n_high=np.full(n, -1, dtype=np.int64), **extra)
    out.update(params)
    out.update(bp)
    return out


def run_spice(chain: Chain, state: str, runs: int, seed: int, *, periods: int = 3, step_s: float | None = None,
              chunk: int = 16) -> dict[str, np.ndarray]:
    """Columns of ``runs`` variations of the board in ``state``, simulated by ngspice."""
    tols = chain.tolerances(state)
    cols = Columns(runs)
    for first in range(0, runs, chunk):
        cols.put(first, _chunk(chain, state, np.arange(first, min(runs, first + chunk)), seed, tols, periods, step_s))
    return cols.data
