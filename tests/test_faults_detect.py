"""detect_cp_faults: rules on measurements with known values, then simulate -> analyze -> detect.

The end-to-end half runs every CP fault of the registry in every state it applies to through
ngspice and the analyzer, and expects exactly the registry's codes; the nominal circuits give none.
"""

import math
from dataclasses import dataclass

import pytest

from cpsim import analyze
from cpsim.diagnose.cp import FAULT_CODES, Fault, detect_cp_faults
from cpsim.sim import simulate_cp
from cpsim.sim.scenarios import CP_FAULTS


@dataclass(frozen=True)
class M:
    """The PilotMeasurement fields the detector reads."""

    v_high: float
    v_low: float
    state: str = "B2"
    pwm: bool = True
    duty: float = 0.25
    frequency_hz: float = 1000.0
    rise_time_s: float = 2e-6
    fall_time_s: float = 2e-6
    diode_fault: bool = False


def codes(m, profile="iec61851", **kw):
    found = detect_cp_faults(m, profile, **kw)
    assert all(isinstance(f, Fault) and f.code in FAULT_CODES and f.message and "\n" not in f.message
               for f in found)
    return [f.code for f in found]


@pytest.mark.parametrize("m", [
    M(12.0, -12.0, "A2"), M(8.97, -12.0), M(5.99, -12.0, "C2"), M(2.95, -12.0, "D2"),
    M(12.0, 12.0, "A1", pwm=False), M(8.97, 8.97, "B1", pwm=False), M(-12.0, -12.0, "F", pwm=False),
    M(8.97, -12.0, rise_time_s=9.9e-6, fall_time_s=12.9e-6),
    M(math.nan, math.nan, "invalid", pwm=False),
])
def test_healthy_pilots_have_no_faults(m):
    assert codes(m) == []
    assert codes(m, "j1772") == []


def test_diode_fault_is_the_analyzers_rule():
    assert codes(M(8.79, -8.79, diode_fault=True)) == ["diode_fault"]
    # a measurement object without the flag: the same rule (|V+ + V-| < 1.1 V, V- not at -12 V)
    @dataclass(frozen=True)
    class Bare:
        v_high: float
        v_low: float
        frequency_hz: float = 1000.0
        duty: float = 0.25
    assert codes(Bare(5.62, -5.62)) == ["diode_fault"]
    assert codes(Bare(12.0, -12.0)) == []   # state A: symmetric, but no vehicle


def test_state_e_variants():
    assert codes(M(0.0013, 0.0013, "E", pwm=False)) == ["state_e"]
    assert codes(M(0.89, -0.89, "invalid")) == ["state_e_pwm"]
    assert codes(M(0.736, -12.0, "E")) == ["state_e_after_diode"]


def test_resistive_short_estimate():
    msg = detect_cp_faults(M(12 * 80 / 1080, -12 * 80 / 1080, "invalid"))[0].message
    assert "≈ 80 Ω" in msg


def test_weak_generator_and_overdrive():
    assert codes(M(8.97, -10.7)) == ["v_low_out_of_range"]
    assert codes(M(8.97, -13.0)) == ["v_low_out_of_range"]
    assert codes(M(-10.7, -10.7, "invalid", pwm=False)) == ["v_low_out_of_range"]
    assert codes(M(13.5, -12.0, "invalid")) == ["v_high_out_of_range"]


@pytest.mark.parametrize("state, rise, fall, expected", [
    ("B2", 10.1e-6, 1e-6, ["rise_too_slow"]),      # EV-BU: B rise < 10 µs
    ("C2", 7.1e-6, 1e-6, ["rise_too_slow"]),       # EV-BU: C rise < 7 µs
    ("C2", 6.9e-6, 13.1e-6, ["fall_too_slow"]),    # EV-BU: fall < 13 µs
    ("A2", 50e-6, 50e-6, []),                      # no published loaded limit in A or D
])
def test_edge_limits(state, rise, fall, expected):
    v_high = {"A": 12.0, "B": 8.97, "C": 5.99}[state[0]]
    assert codes(M(v_high, -12.0, state, rise_time_s=rise, fall_time_s=fall)) == expected


def test_level_between_windows_depends_on_the_profile():
    assert codes(M(7.47, -12.0, "invalid")) == ["level_between_windows"]
    # 6.8 V is C for IEC (5-7 V) but between C (5.48-6.49 V) and B (8.36-9.56 V) for J1772 (FU, RTH)
    assert codes(M(6.8, -12.0, "C2")) == []
    assert codes(M(6.8, -12.0, "invalid"), "j1772") == ["level_between_windows"]
    msg = detect_cp_faults(M(7.47, -12.0, "invalid"))[0].message
    assert "C window 5…7 V" in msg and "B window 8…10 V" in msg and "≈ 1.5 kΩ" in msg


def test_vehicle_not_seen_needs_the_technicians_word():
    assert codes(M(12.0, -12.0, "A2")) == []
    assert codes(M(12.0, -12.0, "A2"), vehicle_connected=True) == ["vehicle_not_seen"]
    assert codes(M(8.97, -12.0), vehicle_connected=True) == []


def test_unknown_profile():
    from cpsim import ParameterError

    with pytest.raises(ParameterError, match="valid"):
        detect_cp_faults(M(8.97, -12.0), "sae")


# --- end to end: ngspice -> analyzer -> detector ---------------------------------------------

CASES = [(name, state) for name, fault in CP_FAULTS.items() for state in fault.states]


@pytest.mark.parametrize("name, state", CASES)
def test_simulated_faults_are_recognised(ngspice, name, state):
    m = analyze(simulate_cp(state, fault=name, periods=10))
    connected = state != "A"
    found = codes(m, vehicle_connected=connected)
    expected = list(CP_FAULTS[name].expected_codes)
    if name == "weak_generator" and not connected:
        expected = ["v_low_out_of_range"]
    assert found == expected


@pytest.mark.parametrize("state", ["A", "B", "C", "D", "A1", "B1", "C1", "D1", "F"])
@pytest.mark.parametrize("profile", ["iec61851", "j1772"])
def test_nominal_simulations_have_no_faults(ngspice, state, profile):
    m = analyze(simulate_cp(state, periods=10), profile=profile)
    assert codes(m, profile, vehicle_connected=state[0] != "A") == []


def test_state_e_simulation(ngspice):
    m = analyze(simulate_cp("E", periods=10))
    assert codes(m) == ["state_e"]
