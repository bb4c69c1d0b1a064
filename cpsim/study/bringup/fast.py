"""The fast engine: settled plateaus through the chain in closed form, vectorised.

Per chunk of variations: the CP circuit's values (:func:`cpsim.study.variations.sample`), the
board's (:func:`~.adc.draw_board`); the front-end's load folded into the generator
(:func:`~.frontend.load_on_generator`) so that the exact closed-form plateau
(:func:`cpsim.sim.closed_form.plateau_levels`) includes it; the divider's closed form to the ADC
pin; the ADC; the sampling scheme and the firmware (:mod:`.readings`).

**Settled plateaus only.** Every sample sees the settled high or low level: edges, cable charging
and the time a sample needs after an edge are not modelled. A triggered sample at
``delay_after_rise_s`` counts as high when the delay is shorter than the variation's high time.
:func:`edge_note` says when that assumption is doubtful; ``--engine spice`` answers it.
"""

from __future__ import annotations

import math

import numpy as np

from ...sim.closed_form import blocked_low_v, plateau_levels
from ...sim.cp import parse_state
from ..variations import BLOCK, invalid_rows, sample
from .adc import analogue_lsb, board_stream, draw_board
from .board import Board, Divider
from .chain import NOISE_KEY, STATE_KEYS, Chain, Columns
from .frontend import divider_thevenin, divider_v_adc, load_on_generator
from .readings import FreeRunning, two_level, two_level_noise_free

__all__ = ["run_fast", "levels", "edge_note"]

def levels(board: Board, state: str, params, bp) -> tuple[np.ndarray, np.ndarray]:
    """Settled CP (high, low) levels at the EVSE [V] with the front-end's load (vectorised)."""
    fe = board.frontend
    if not isinstance(fe, Divider):
        from ...errors import ParameterError

        raise ParameterError("the fast engine needs a divider front-end (frontend.kind = \"divider\"); "
                             "a netlist front-end runs with --engine spice")
    letter, pwm = parse_state(state)
    v_th, r_th = divider_thevenin(bp["fe_r_top_ohm"], bp["fe_r_bottom_ohm"], bp["fe_r_bias_ohm"], bp["fe_v_bias_v"])
    v_hi, r_eq = load_on_generator(params["v_high_v"], params["r1_ohm"], v_th, r_th)
    v_lo, _ = load_on_generator(params["v_low_v"], params["r1_ohm"], v_th, r_th)
    with np.errstate(all="ignore"):
        if letter == "F":
            low = np.asarray(blocked_low_v(v_lo, r_eq, diode_area=params["diode_area"],
                                           temp_c=params["diode_temp_c"]), dtype=float)
            return np.full(low.shape, np.nan), low
        high, low = plateau_levels(letter, v_high_v=v_hi, v_low_v=v_lo, r1_ohm=r_eq, r_wire_ohm=params["wire_r_ohm"],
                                   r_detect_ohm=params["r_detect_ohm"], r_charge_ohm=params["r_charge_ohm"],
                                   r_vent_ohm=params["r_vent_ohm"], r_short_ohm=params["short_r_ohm"],
                                   diode_area=params["diode_area"], temp_c=params["diode_temp_c"])
    high = np.asarray(high, dtype=float)
    return high, (np.asarray(low, dtype=float) if pwm else np.full(high.shape, np.nan))


def _to_lsb(board: Board, v_cp, bp) -> tuple[np.ndarray, np.ndarray]:
    v_adc = divider_v_adc(v_cp, bp["fe_r_top_ohm"], bp["fe_r_bottom_ohm"], bp["fe_r_bias_ohm"], bp["fe_v_bias_v"])
    return v_adc, analogue_lsb(v_adc, board.adc, bp["adc_vref_v"], bp["adc_gain_error"], bp["adc_offset_lsb"])


def _n_high(chain: Chain, state: str, params, rng, free: FreeRunning | None, n: int):
    """(n_high, mask or None) of one reading per variation."""
    letter, pwm = parse_state(state)
    samples = chain.board.sampling.samples
    mask = None
    if letter == "F":
        n_high = np.zeros(n, dtype=np.int64)
    elif not pwm:
        n_high = np.full(n, samples, dtype=np.int64)
    elif free is None:
        high_s = params["duty"] / params["frequency_hz"]
        n_high = np.where(chain.board.sampling.delay_after_rise_s < high_s, samples, 0).astype(np.int64)
    else:
        start = free.start(rng, n)
        n_high = free.n_high(start, params["duty"])
        if chain.board.firmware.algorithm not in ("peak", "top_k_mean"):
            mask = free.mask(start, params["duty"])
    if mask is None and chain.board.firmware.algorithm not in ("peak", "top_k_mean"):
        mask = np.arange(samples)[None, :] < n_high[:, None]
    return n_high, mask


def _chunk(chain: Chain, state: str, runs: np.ndarray, seed: int, tols, free) -> dict[str, np.ndarray]:
    board = chain.board
    params = sample(state, runs, tols, seed, nominal=chain.nominal)
    bp = draw_board(board, runs, seed)
    bad, error = invalid_rows(params)
    v_high, v_low = levels(board, state, params, bp)
    v_adc_h, x_h = _to_lsb(board, v_high, bp)
    _, x_l = _to_lsb(board, v_low, bp)
    letter = state[0]
    x_h = np.where(np.isnan(x_h), x_l, x_h)  # F: only the low level exists
    x_l = np.where(np.isnan(x_l), x_h, x_l)  # x1: only the high level
    fw, adc, n = board.firmware, board.adc, runs.size
    rng = board_stream(seed, int(runs[0]), NOISE_KEY + STATE_KEYS[state])  # keyed by the chunk's first run
    values = np.empty((n, fw.debounce))
    sampled = np.empty(n)
    n_first = np.zeros(n, dtype=np.int64)
    for r in range(fw.debounce):
        n_high, mask = _n_high(chain, state, params, rng, free, n)
        values[:, r] = two_level(x_h, x_l, n_high, board.sampling.samples, algorithm=fw.algorithm, k=fw.k,
                                 sigma=adc.noise_lsb_rms, top_code=adc.top_code, rng=rng, mask=mask,
                                 reader=chain.reader)
        if r == 0:
            n_first = n_high
            sampled = two_level_noise_free(x_h, x_l, n_high, board.sampling.samples, algorithm=fw.algorithm,
                                           k=fw.k, mask=mask, reader=chain.reader)
    out = chain.rows(state, values, sampled)
    out["misread"] = out["misread"] & ~bad
    plateau = x_l if letter == "F" else x_h
    out.update(run=runs, plateau_lsb=np.where(bad, np.nan, plateau), n_high=n_first, error=error,
               v_cp_v=np.where(bad, np.nan, v_low if letter == "F" else v_high),
               v_adc_v=np.where(bad, np.nan, v_adc_h if letter != "F" else _to_lsb(board, v_low, bp)[0]))
    out.update(params)
    out.update(bp)
    return out


def run_fast(chain: Chain, state: str, runs: int, seed: int, *, chunk: int = BLOCK) -> dict[str, np.ndarray]:
    """Columns of ``runs`` variations of the board in ``state`` (one row per variation)."""
    board = chain.board
    tols = chain.tolerances(state)
    free = None
    if board.sampling.mode == "free_running":
        free = FreeRunning(board.sampling.samples, board.sampling.rate_hz, board.pilot.frequency_hz)
    cols = Columns(runs)
    for first in range(0, runs, chunk):
        cols.put(first, _chunk(chain, state, np.arange(first, min(runs, first + chunk)), seed, tols, free))
    return cols.data


def edge_note(board: Board) -> str | None:
    """A warning when a triggered sample may fall on the rounded rising edge (the fast engine
    cannot see it): the delay is shorter than the time the CP needs to settle within 1 LSB.

    The estimate is the worst case of a first-order edge: the time constant R1·C with R1 at
    1030 Ω and the largest cable capacitance, for a swing of 24 V.
    """
    s = board.sampling
    if s.mode != "triggered" or not isinstance(board.frontend, Divider):
        return None
    fe = board.frontend
    cable = board.pilot.cable_c_f if board.pilot.cable_c_f is not None else 3.1e-9
    tau = 1030.0 * cable
    gain = float(divider_v_adc(1.0, fe.r_top_ohm, fe.r_bottom_ohm, fe.r_bias_ohm, fe.v_bias_v)
                 - divider_v_adc(0.0, fe.r_top_ohm, fe.r_bottom_ohm, fe.r_bias_ohm, fe.v_bias_v))
    lsb_cp_v = board.adc.vref_v / 2 ** board.adc.bits / gain
    settle = tau * math.log(max(24.0 / lsb_cp_v, 1.0)) + 2e-6
    if s.delay_after_rise_s >= settle:
        return None
    return (f"the triggered sample {s.delay_after_rise_s * 1e6:.3g} µs after the rising edge may fall on the edge "
            f"(a {cable * 1e9:.3g} nF cable settles within 1 LSB after about {settle * 1e6:.3g} µs); the fast "
            "engine assumes settled plateaus: check with --engine spice")
