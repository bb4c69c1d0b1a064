"""CP fault scenarios: the netlists run by hand, and simulate_cp(fault=...) gives the known answers.

Known answers: resistive dividers (a shorted diode, a short to PE), the closed-form diode plateau
(cpsim.sim.closed_form) and PILOT-REFERENCE §2b/§8 (±8.79 V in B, ±5.62 V in C with a shorted diode).
"""

import math
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import plateau_medians

from cpsim import ParameterError
from cpsim.diagnose.cp import FAULT_CODES
from cpsim.sim import CpCircuit, plateau_levels, simulate_cp, simulate_cp_batch
from cpsim.sim.closed_form import diode_plateau_v
from cpsim.sim.netlist import CIRCUITS_DIR, load_scenario
from cpsim.sim.scenarios import CP_FAULTS, cp_fault

R1, R_WIRE, SHORT = 1000.0, 0.1, 0.01


def _divider(r_load):
    """Plateau at the EVSE CP point for a resistive load behind the 0.1 Ω wire [V]."""
    return 12.0 * (R_WIRE + r_load) / (R1 + R_WIRE + r_load)


def _par(*rs):
    return 1.0 / sum(1.0 / r for r in rs)


def _levels(wave, duty=0.25, f=1000.0):
    return plateau_medians(wave, duty, f)


# --- the registry ------------------------------------------------------------------------------

def test_registry_is_consistent():
    for name, fault in CP_FAULTS.items():
        assert fault.name == name and fault.signal == "cp"
        assert (CIRCUITS_DIR / f"{fault.netlist}.cir").is_file()
        assert fault.states and set(fault.states) <= set("ABCD")
        assert set(fault.expected_codes) <= set(FAULT_CODES), name
        assert fault.description
        defaults = load_scenario(fault.netlist).defaults
        assert set(fault.netlist_params) <= set(defaults)
        fields = set(CpCircuit.__dataclass_fields__)
        assert set(fault.changes) <= fields


def test_fault_files_hold_the_fault_as_their_defaults():
    """The first state and the changes of each fault are the file's own .param defaults."""
    for name, fault in CP_FAULTS.items():
        circuit = CpCircuit(state=fault.states[0], fault=name)
        params = circuit.netlist_params()
        defaults = load_scenario(fault.netlist).defaults
        for key, value in params.items():
            assert value == pytest.approx(defaults[key], rel=1e-12), (name, key)


# --- by hand: ngspice -b on the shipped files ---------------------------------------------------

def _ngspice_batch(name):
    exe = shutil.which("ngspice")
    assert exe, "the ngspice command is missing"
    out = subprocess.run([exe, "-b", f"{name}.cir"], cwd=CIRCUITS_DIR, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "error" not in out.stdout.lower(), out.stdout
    hi = float(re.search(r"v_plateau\s*=\s*(\S+)", out.stdout).group(1))
    lo = float(re.search(r"v_negative\s*=\s*(\S+)", out.stdout).group(1))
    return hi, lo


B_DIODE = diode_plateau_v(12.0, R1, 2740.0, r_wire_ohm=R_WIRE)


@pytest.mark.parametrize("name, high, low", [
    ("cp_fault_diode_shorted", _divider(SHORT + 2740.0), -_divider(SHORT + 2740.0)),
    ("cp_fault_diode_open", 12.0, -12.0),
    ("cp_fault_pe_short", _divider(SHORT), -_divider(SHORT)),
    ("cp_fault_pe_short_resistive", 0.880, -_divider(80.0)),
    ("cp_fault_short_after_diode", diode_plateau_v(12.0, R1, _par(SHORT, 2740.0), r_wire_ohm=R_WIRE), -12.0),
    ("cp_fault_pe_lost", 12.0, -12.0),
    ("cp_fault_cp_open", 12.0, -12.0),
    ("cp_fault_cable_capacitance", B_DIODE, -12.0),
    ("cp_fault_weak_generator", B_DIODE, -10.7),
    ("cp_fault_r_charge_drift", diode_plateau_v(12.0, R1, _par(2740.0, 3300.0), r_wire_ohm=R_WIRE), -12.0),
    ("cp_fault_r_detect_drift", diode_plateau_v(12.0, R1, 6800.0, r_wire_ohm=R_WIRE), -12.0),
])
def test_fault_files_run_by_hand(name, high, low):
    hi, lo = _ngspice_batch(name)
    assert hi == pytest.approx(float(high), abs=2e-3)
    assert lo == pytest.approx(float(low), abs=2e-3)


# --- through the API --------------------------------------------------------------------------

@pytest.mark.parametrize("state, published", [("B", 8.79), ("C", 5.62)])
def test_diode_shorted_negative_half_follows_positive(ngspice, state, published):
    hi, lo = _levels(simulate_cp(state, fault="diode_shorted"))
    load = 2740.0 if state == "B" else _par(2740.0, 1300.0)
    assert hi == pytest.approx(_divider(SHORT + load), abs=1e-3)
    assert lo == pytest.approx(-hi, abs=1e-3)
    assert hi == pytest.approx(published, abs=0.01)  # PILOT-REFERENCE §2b, §8


@pytest.mark.parametrize("fault", ["diode_open", "pe_lost", "cp_open"])
@pytest.mark.parametrize("state", ["B", "C"])
def test_evse_sees_state_a(ngspice, fault, state):
    hi, lo = _levels(simulate_cp(state, fault=fault))
    assert hi == pytest.approx(12.0, abs=1e-3)
    assert lo == pytest.approx(-12.0, abs=1e-3)


def test_cp_open_leaves_the_vehicle_at_zero(ngspice):
    hi, lo = _levels(simulate_cp("B", fault="cp_open", probe="vehicle"))
    assert abs(hi) < 1e-3 and abs(lo) < 1e-3


def test_hard_short_to_pe(ngspice):
    hi, lo = _levels(simulate_cp("C", fault="cp_pe_short"))
    assert hi == pytest.approx(_divider(SHORT), abs=1e-5)
    assert lo == pytest.approx(-_divider(SHORT), abs=1e-5)


def test_resistive_short_is_a_divider(ngspice):
    hi, lo = _levels(simulate_cp("A", fault="cp_pe_short_resistive"))
    assert hi == pytest.approx(_divider(80.0), abs=1e-4)  # 0.8899 V
    assert lo == pytest.approx(-_divider(80.0), abs=1e-4)
    # a vehicle in B barely changes it: its diode takes a few µA at 0.9 V
    hi_b, lo_b = _levels(simulate_cp("B", fault="cp_pe_short_resistive"))
    assert hi_b == pytest.approx(_divider(80.0), abs=0.02) and hi_b < _divider(80.0)
    assert lo_b == pytest.approx(-_divider(80.0), abs=1e-4)


def test_fault_severity_is_a_component(ngspice):
    hi, _ = _levels(simulate_cp("A", fault="cp_pe_short_resistive", short_r_ohm=150.0))
    assert hi == pytest.approx(_divider(150.0), abs=1e-4)
    assert simulate_cp("A", fault="cp_pe_short_resistive", short_r_ohm=150.0).metadata["circuit"]["short_r_ohm"] == 150


def test_short_after_diode(ngspice):
    hi, lo = _levels(simulate_cp("C", fault="cp_short_after_diode"))
    assert hi == pytest.approx(float(diode_plateau_v(12.0, R1, _par(SHORT, 2740.0, 1300.0), r_wire_ohm=R_WIRE)),
                               abs=1e-3)
    assert 0.55 < hi < 0.85  # one diode drop, Vd 0.7 ± 0.15 V (PLNOTE)
    assert lo == pytest.approx(-12.0, abs=1e-3)


@pytest.mark.parametrize("state", ["A", "B", "C", "D"])
def test_weak_generator(ngspice, state):
    hi, lo = _levels(simulate_cp(state, fault="weak_generator"))
    assert lo == pytest.approx(-10.7, abs=1e-3)
    assert hi == pytest.approx(float(plateau_levels(state)[0]), abs=2e-3)


@pytest.mark.parametrize("fault, state, kwargs", [("r_charge_drift", "C", dict(r_charge_ohm=3300.0)),
                                                   ("r_detect_drift", "B", dict(r_detect_ohm=6800.0))])
def test_resistor_drift(ngspice, fault, state, kwargs):
    hi, _ = _levels(simulate_cp(state, fault=fault))
    assert hi == pytest.approx(float(plateau_levels(state, **kwargs)[0]), abs=2e-3)
    windows = [(8.0, 10.0), (11.0, 13.0)] if state == "B" else [(5.0, 7.0), (8.0, 10.0)]
    assert windows[0][1] < hi < windows[1][0]  # between two IEC windows (CB)


def _crossing(t, v, level, rising):
    """First time ``v`` crosses ``level`` in the given direction, linearly interpolated [s]."""
    above = v >= level
    idx = np.flatnonzero(above[1:] != above[:-1])
    idx = idx[(v[idx + 1] > v[idx]) == rising][0]
    return t[idx] + (level - v[idx]) * (t[idx + 1] - t[idx]) / (v[idx + 1] - v[idx])


def test_cable_capacitance_slows_the_edges(ngspice):
    c = 10e-9
    wave = simulate_cp("B", fault="cable_capacitance", periods=3)
    assert wave.metadata["circuit"]["cable_c_f"] == c
    hi, lo = _levels(wave)
    lo10, hi90 = lo + 0.1 * (hi - lo), lo + 0.9 * (hi - lo)
    t, v = wave.t, wave.v
    start = t >= 1e-3  # second period: settled
    t, v = t[start], v[start]
    rise = _crossing(t, v, hi90, True) - _crossing(t, v, lo10, True)
    # Piecewise RC (the generator's 1 µs ramp aside): diode off, -> +12 V through R1 until the
    # diode conducts at about 0.6 V; then -> the B plateau through R1 || 2.74 kΩ.
    vd = 0.6
    tau1, tau2 = R1 * c, _par(R1, 2740.0) * c
    expected = tau1 * math.log((12 - lo10) / (12 - vd)) + tau2 * math.log((hi - vd) / (hi - hi90))
    assert rise == pytest.approx(expected, rel=0.05)
    assert rise > 10e-6  # EV-BU: state B rise < 10 µs
    fall = _crossing(t, v, lo10, False) - _crossing(t, v, hi90, False)
    # Between the two time constants: R1 || load while the diode conducts, R1 alone after it.
    assert 2.197 * tau2 < fall < 2.197 * tau1 + 1e-6
    assert fall > 13e-6  # EV-BU: fall < 13 µs


def test_batch_mixes_faults_and_nominal(ngspice):
    circuits = [CpCircuit("B"), CpCircuit("B", fault="diode_shorted"), CpCircuit("C", fault="diode_shorted"),
                CpCircuit("C", fault="weak_generator")]
    waves = simulate_cp_batch(circuits)
    singles = [simulate_cp(c.state, fault=c.fault) for c in circuits]
    for w, s in zip(waves, singles):
        np.testing.assert_allclose(w.v, s.v, atol=1e-6)
    assert waves[0].metadata["scenario"] == "cp_b"


def test_nominal_circuits_are_untouched(ngspice):
    wave = simulate_cp("B")
    assert wave.metadata["scenario"] == "cp_b" and wave.metadata["circuit"]["fault"] is None
    assert "faults.lib" not in wave.metadata["netlist"]
    hi, lo = _levels(wave)
    assert hi == pytest.approx(float(plateau_levels("B")[0]), abs=2e-3)


@pytest.mark.parametrize("kwargs, match", [
    (dict(state="B", fault="no_such_fault"), "valid: diode_shorted"),
    (dict(state="B", fault="s3_stuck_open"), "PP fault"),
    (dict(state="A", fault="diode_shorted"), "applies to vehicle states"),
    (dict(state="E", fault="weak_generator"), "applies to vehicle states"),
    (dict(state="F", fault="cp_pe_short"), "applies to vehicle states"),
    (dict(state="B", fault=3), "unknown CP fault"),
])
def test_bad_fault_arguments(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        simulate_cp(**kwargs)


def test_cp_fault_lookup():
    assert cp_fault("diode_shorted", "C").netlist == "cp_fault_diode_shorted"
    with pytest.raises(ParameterError):
        cp_fault("diode_shorted", "A")


# --- CLI ---------------------------------------------------------------------------------------

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "cpsim.cli", *args], capture_output=True, text=True, timeout=300)


def test_cli_simulate_cp_fault(tmp_path):
    out = tmp_path / "diode.csv"
    r = _cli("simulate", "cp", "--state", "B", "--fault", "diode_shorted", "--out", str(out))
    assert r.returncode == 0, r.stderr
    data = np.loadtxt(out, delimiter=",", skiprows=1)
    t, v = data[:, 0], data[:, 1]
    phase = t % 1e-3
    assert np.median(v[(phase > 100e-6) & (phase < 220e-6)]) == pytest.approx(8.79, abs=0.01)
    assert np.median(v[(phase > 500e-6) & (phase < 900e-6)]) == pytest.approx(-8.79, abs=0.01)


@pytest.mark.parametrize("args, needle", [
    (["simulate", "cp", "--fault", "wobbly"], "valid: diode_shorted"),
    (["simulate", "cp", "--state", "A", "--fault", "diode_open"], "applies to vehicle states"),
])
def test_cli_fault_errors_are_one_line(args, needle):
    r = _cli(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.stderr


def test_cli_help_lists_faults():
    r = _cli("simulate", "cp", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    for name in CP_FAULTS:
        assert name in text
