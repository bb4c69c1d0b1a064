"""Two independent routes: cpsim's ngspice simulation, analysed, against the closed-form plateau."""

from __future__ import annotations

import numpy as np
import pytest

from cpsim import analyze
from cpsim.sim.closed_form import plateau_levels
from cpsim.sim.cp import simulate_cp


@pytest.mark.parametrize("state", ["A2", "B2", "C2", "D2"])
def test_simulated_pwm_states(state, ngspice):
    w = simulate_cp(state, duty=0.25, frequency_hz=1000.0, cable_c_f=1e-9, periods=5)
    m = analyze(w)
    v_high, v_low = (float(x) for x in plateau_levels(state[0]))
    assert m.state == state
    assert abs(m.duty - 0.25) <= 0.002
    np.testing.assert_allclose(m.frequency_hz, 1000.0, rtol=1e-3)
    np.testing.assert_allclose(m.v_high, v_high, atol=0.05)
    np.testing.assert_allclose(m.v_low, v_low, atol=0.05)
    assert not m.diode_fault
    assert 0 < m.rise_time_s < 10e-6 and 0 < m.fall_time_s < 13e-6   # EV-BU's loaded-edge limits


@pytest.mark.parametrize("state", ["A1", "B1", "C1", "E", "F"])
def test_simulated_steady_states(state, ngspice):
    m = analyze(simulate_cp(state, duty=0.25, periods=5))
    assert m.state == state
    assert not m.pwm
