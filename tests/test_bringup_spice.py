"""Virtual bring-up, spice engine (real ngspice): the edge at 5 % duty, agreement with the fast engine."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from test_bringup import R_TH, V_TH, make_board, v_adc_by_hand

from cpsim.study.bringup import bringup

pytestmark = pytest.mark.usefixtures("ngspice")


def cp_after_rising_edge(t_s: float, *, cable_c_f: float = 3.1e-9) -> float:
    """CP voltage [V] ``t_s`` after the generator starts its 1 µs ramp from -12 V to +12 V, vehicle in B,
    OpenEVSE's divider on the line: the node equations integrated with scipy (an independent route).

    States: the CP voltage and the diode's junction voltage. The junction conducts Shockley's current
    and stores charge (transit time TT, the diffusion capacitance, plus CJO), as SPICE's level-1 diode
    does; the branch current runs through the wire, RS and r_detect.
    """
    from cpsim.sim.closed_form import diode_model

    d = diode_model()
    nvt = d.n * 1.380649e-23 * 300.15 / 1.602176634e-19
    tt, cjo = 3.48e-9, 0.7048e-12                       # models.lib: TT, CJO of the D1N4148
    r1, r_branch = 1000.0, 0.1 + d.rs_ohm + 2740.0

    def v_gen(t):
        return -12.0 + 24.0 * min(max(t / 1e-6, 0.0), 1.0)

    def rhs(t, y):
        v, x = y
        e = math.exp(min(x / nvt, 200.0))
        i_j = d.is_a * (e - 1.0)
        i_b = (v - x) / r_branch
        dv = ((v_gen(t) - v) / r1 + (V_TH - v) / R_TH - i_b) / cable_c_f
        dx = (i_b - i_j) / (tt * d.is_a * e / nvt + cjo)
        return [dv, dx]

    v0 = (-12.0 * R_TH + V_TH * r1) / (r1 + R_TH)    # settled low half, diode blocking
    sol = solve_ivp(rhs, (0.0, t_s), [v0, v0], method="Radau", rtol=1e-8, atol=1e-9, max_step=2e-8)
    return float(sol.y[0, -1])


def _board(delay_s: float):
    return make_board(states=["B2"], duty=0.05, cable_c_f=3.1e-9,
                      sampling={"mode": "triggered", "delay_after_rise_s": delay_s})


def test_early_sample_on_the_edge_misreads_state_b():
    v_cp = cp_after_rising_edge(2e-6)
    code = math.floor(v_adc_by_hand(v_cp) * 1024 / 5 + 0.5)
    assert code < 780                                   # the independent route: below B's window
    s = bringup(_board(2e-6), runs=4, engine="spice", seed=1)
    cols = s.columns["B2"]
    assert s.summary["states"]["B2"]["misread"]["count"] == 4
    assert np.all(cols["read_as"] != 1)                 # window index 1 is B
    # the spice sample agrees with the integrated edge within 2 LSB, where the ADC input climbs about
    # 150 LSB per µs (2 LSB are 13 ns of the edge)
    assert cols["sampled_lsb"] == pytest.approx(v_adc_by_hand(v_cp) * 1024 / 5, abs=2.0)


def test_sample_20us_after_the_edge_reads_state_b():
    v_cp = cp_after_rising_edge(20e-6)
    settled = cp_after_rising_edge(45e-6)
    assert abs(v_cp - settled) * 0.1522 * 1024 / 5 < 0.5     # settled within half an LSB
    s = bringup(_board(20e-6), runs=4, engine="spice", seed=1)
    assert s.summary["states"]["B2"]["misread"]["count"] == 0
    assert s.summary["states"]["B2"]["read_as"] == {"B": 4}
    assert s.columns["B2"]["sampled_lsb"] == pytest.approx(v_adc_by_hand(v_cp) * 1024 / 5, abs=1.0)
    # the fast engine cannot see the edge and says so
    fast = bringup(_board(2e-6), runs=4, engine="fast", seed=1).summary
    assert fast["states"]["B2"]["misread"]["count"] == 0
    assert any("may fall on the edge" in note for note in fast["notes"])


def test_fast_and_spice_agree_on_plateau_codes():
    board = make_board(cp_tolerances="default", tolerance=0.01, adc={"vref_tolerance": 0.02, "offset_lsb": 2},
                       states=["A2", "B2", "C2", "D2"], sampling={"mode": "triggered", "delay_after_rise_s": 120e-6})
    fast = bringup(board, runs=24, engine="fast", seed=5)
    spice = bringup(board, runs=24, engine="spice", seed=5)
    for state in ("A2", "B2", "C2", "D2"):
        f, s = fast.columns[state], spice.columns[state]
        assert not any(s["error"]) and np.array_equal(f["run"], s["run"])
        assert np.max(np.abs(f["plateau_lsb"] - s["plateau_lsb"])) < 1.0
        assert np.max(np.abs(f["sampled_lsb"] - s["sampled_lsb"])) < 1.0      # the triggered sample itself
        assert np.array_equal(f["fe_r_top_ohm"], s["fe_r_top_ohm"])         # the same boards


def test_spice_free_running_and_a_netlist_frontend(tmp_path):
    from cpsim.study.bringup import board_from_dict

    lib = tmp_path / "fe.lib"
    lib.write_text("* OpenEVSE's divider as a user's netlist\n.subckt myfe cp adc gnd\nRtop cp adc 200k\n"
                   "Rbot adc gnd 100k\nRb adc nb 56k\nVb nb gnd DC 5\n.ends\n")
    data = {
        "board": {"name": "netlist"}, "frontend": {"kind": "netlist", "netlist": "fe.lib"},
        "adc": {"bits": 10, "vref_v": 5.0},
        "sampling": {"mode": "free_running", "samples": 100, "rate_hz": 8850.0},
        "firmware": {"algorithm": "peak", "thresholds_counts": {"A": [875, 1023], "B": [780, 875]}},
        "pilot": {"states": ["B2"], "cp_tolerances": "none"},
    }
    result = bringup(board_from_dict(data, base_dir=tmp_path), runs=3, engine="spice", seed=2)
    s = result.summary["states"]["B2"]
    assert s["read_as"] == {"B": 3}
    nominal = bringup(make_board(states=["B2"]), runs=1, seed=1).columns["B2"]["plateau_lsb"][0]
    assert result.columns["B2"]["plateau_lsb"] == pytest.approx(nominal, abs=0.5)
