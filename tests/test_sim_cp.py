"""CP simulations against the closed-form plateau and RC theory (two independent routes)."""

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import plateau_medians

from cpsim import ParameterError, Waveform
from cpsim.sim import CpCircuit, plateau_levels, simulate_cp, simulate_cp_batch
from cpsim.sim.netlist import compose, load_scenario

DUTY, FREQ = 0.25, 1000.0


@pytest.mark.parametrize("state", ["A", "B", "C", "D"])
def test_pwm_plateaus_match_closed_form(ngspice, state):
    wave = simulate_cp(state, duty=DUTY)
    assert isinstance(wave, Waveform) and wave.channel == "cp"
    v_high, v_low = plateau_medians(wave, DUTY, FREQ)
    ref_high, ref_low = plateau_levels(state)
    assert v_high == pytest.approx(float(ref_high), abs=1e-3)
    # the blocked diode's saturation current lifts V- by R1 * Is: 4.35 µV at 27 °C
    assert v_low == pytest.approx(float(ref_low), abs=1e-6)
    assert float(ref_low) == pytest.approx(-12.0, abs=1e-5)


def test_nominal_levels_are_the_published_ones(ngspice):
    # PILOT-REFERENCE §8: B 8.98, C 5.99, D 2.93 V with an ideal 0.7 V diode; the 1N4148 model differs by tens of mV
    expected = {"A": 12.0, "B": 8.98, "C": 5.99, "D": 2.93}
    for state, v in expected.items():
        v_high, _ = plateau_medians(simulate_cp(state, duty=DUTY), DUTY, FREQ)
        assert v_high == pytest.approx(v, abs=0.03), state


def test_steady_states_and_f_and_e(ngspice):
    for state in ("A1", "B1", "C1"):
        wave = simulate_cp(state, periods=2)
        settled = wave.v[wave.t > 0.5e-3]
        assert np.ptp(settled) < 1e-6, state
        assert settled.mean() == pytest.approx(float(plateau_levels(state)[0]), abs=1e-3)
    f = simulate_cp("F", periods=2).v
    assert np.all(np.abs(f + 12.0) < 1e-3)
    e = simulate_cp("E", periods=2)
    # a 10 mΩ short behind 0.1 Ω of wire: ±12 V * 0.11 / 1000.11 on both halves
    assert np.abs(e.v).max() == pytest.approx(12.0 * 0.11 / 1000.11, rel=0.02)


@pytest.mark.parametrize("duty", [0.05, 0.1, 0.5, 0.9, 0.96])
def test_duty_and_frequency_of_generated_pwm(ngspice, duty):
    wave = simulate_cp("A", duty=duty, frequency_hz=FREQ, periods=3)
    above = wave.v > 0.0
    idx = np.flatnonzero(np.diff(above.astype(np.int8)))
    # linear interpolation of the 0 V crossings
    tc = wave.t[idx] - wave.v[idx] * (wave.t[idx + 1] - wave.t[idx]) / (wave.v[idx + 1] - wave.v[idx])
    rising = tc[above[idx + 1]]
    falling = tc[~above[idx + 1]]
    period = np.diff(rising).mean()
    assert 1.0 / period == pytest.approx(FREQ, rel=1e-4)
    high = falling[falling > rising[0]][: len(rising) - 1] - rising[: len(rising) - 1]
    assert high.mean() / period == pytest.approx(duty, abs=2e-4)


def test_cable_capacitance_gives_rc_rise_time(ngspice):
    # state A: only R1 and C; a 10 ns generator edge is instant against tau = 3.1 µs,
    # so 10-90 % takes ln(9) * R1 * C.
    c = 3.1e-9
    wave = simulate_cp("A", duty=0.5, cable_c_f=c, rise_time_s=10e-9, fall_time_s=10e-9, periods=1,
                       sample_interval_s=10e-9)
    v = wave.v
    lo, hi = -12 + 0.1 * 24, -12 + 0.9 * 24
    t10 = np.interp(lo, v[: len(v) // 3], wave.t[: len(v) // 3])
    t90 = np.interp(hi, v[: len(v) // 3], wave.t[: len(v) // 3])
    assert t90 - t10 == pytest.approx(math.log(9) * 1000.0 * c, rel=0.02)


def test_component_overrides_follow_closed_form(ngspice):
    cases = [
        dict(state="B", r_detect_ohm=2658.0, r1_ohm=1030.0),
        dict(state="C", r_charge_ohm=1339.0, v_high_v=11.4),
        dict(state="D", r_vent_ohm=262.0, diode_temp_c=85.0),
        dict(state="C", diode_area=0.1, diode_temp_c=-20.0),
    ]
    for case in cases:
        state = case.pop("state")
        wave = simulate_cp(state, duty=DUTY, **case)
        v_high, _ = plateau_medians(wave, DUTY, FREQ)
        ref, _ = plateau_levels(state, temp_c=case.pop("diode_temp_c", 27.0), **case)
        assert v_high == pytest.approx(float(ref), abs=1e-3), (state, case)


def test_hot_diode_lowers_the_evse_plateau(ngspice):
    # A hot diode drops ~2 mV/K less, so more current flows and R1 drops more: over 105 K
    # about 0.2 V less diode drop, of which R1 / (R1 + 882 Ω) ≈ 0.53 shows at the EVSE.
    cold, _ = plateau_medians(simulate_cp("C", diode_temp_c=-20.0), DUTY, FREQ)
    hot, _ = plateau_medians(simulate_cp("C", diode_temp_c=85.0), DUTY, FREQ)
    assert 0.05 < cold - hot < 0.2


def test_vehicle_probe_sits_behind_the_wire(ngspice):
    evse, _ = plateau_medians(simulate_cp("D", wire_r_ohm=1.0), DUTY, FREQ)
    inlet, _ = plateau_medians(simulate_cp("D", wire_r_ohm=1.0, probe="vehicle"), DUTY, FREQ)
    current = (12.0 - evse) / 1000.0
    assert evse - inlet == pytest.approx(current * 1.0, rel=0.01)


def test_batch_equals_single_runs(ngspice):
    circuits = [CpCircuit("C", r_charge_ohm=r) for r in (1261.0, 1300.0, 1339.0)] + [CpCircuit("B")]
    batch = simulate_cp_batch(circuits, periods=3)
    for circuit, wave in zip(circuits, batch):
        single = simulate_cp_batch([circuit], periods=3)[0]
        # plateaus agree exactly; on the edges the copies share ngspice's adaptive time
        # step, so interpolated edge samples may differ by a few tens of mV
        for a, b in zip(plateau_medians(wave, 0.25, FREQ), plateau_medians(single, 0.25, FREQ)):
            assert a == pytest.approx(b, abs=1e-4)
        np.testing.assert_allclose(wave.v, single.v, atol=0.05)
        assert wave.metadata["circuit"]["r_charge_ohm"] == circuit.r_charge_ohm


def test_injection_never_reaches_a_netlist(tmp_path):
    marker = tmp_path / "pwned"
    evil = f"1k\n.control\nshell touch {marker}\n.endc"
    with pytest.raises(ParameterError):
        simulate_cp("C", r1_ohm=evil)
    with pytest.raises(ParameterError):
        compose(load_scenario("cp_c"), [{"r1": evil}], ".op")
    with pytest.raises(ParameterError):
        load_scenario("../../etc/passwd")
    assert not marker.exists()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(duty=0.0), "duty"),
        (dict(duty=1.0), "duty"),
        (dict(duty=math.nan), "duty"),
        (dict(cable_c_f=-1e-9), "cable_c_f"),
        (dict(frequency_hz=0.0), "frequency_hz"),
        (dict(r1_ohm=0.0), "r1_ohm"),
        (dict(periods=0), "periods"),
        (dict(duty=0.01, rise_time_s=20e-6), "edges"),
        (dict(r_detect=2740.0), "unknown CP parameter"),
        (dict(sample_interval_s=1e-12, periods=100), "samples"),
    ],
)
def test_impossible_parameters_raise_parameter_error(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        simulate_cp("C", **kwargs)


def test_unknown_state():
    with pytest.raises(ParameterError, match="unknown CP state"):
        simulate_cp("G")


def test_circuit_files_ship_inside_the_package():
    import cpsim

    root = Path(cpsim.__file__).parent / "circuits"
    assert {"cp_a.cir", "cp_c.cir", "pp_type1.cir", "pp_type2.cir", "models.lib"} <= {p.name for p in root.iterdir()}


def test_adaptive_step_agrees_with_the_uniform_step(ngspice):
    """Two routes to the same waveform: ngspice's own step (Gear, bounded by max_step_s, put on the grid
    in numpy) and the step capped at the output interval. What ran before in the process does not matter
    (ngspice 39's ``interp`` option would stay on and truncate later runs: it is not used)."""
    from cpsim.analysis import measure_pilot

    circuits = [CpCircuit(s, r_charge_ohm=1300.0, cable_c_f=c) for s, c in (("B", 300e-12), ("C", 1500e-12))]
    circuits.append(CpCircuit("D", duty=0.10))
    first = simulate_cp_batch(circuits, stop_s=2.05e-3, max_step_s=5e-6)
    uniform = simulate_cp_batch(circuits, stop_s=2.05e-3)
    adaptive = simulate_cp_batch(circuits, stop_s=2.05e-3, max_step_s=5e-6)
    for a, b in zip(first, adaptive):
        np.testing.assert_array_equal(a.v, b.v)
    for u, a in zip(uniform, adaptive):
        np.testing.assert_array_equal(u.t, a.t)
        mu, ma = measure_pilot(u.t, u.v), measure_pilot(a.t, a.v)
        assert ma.state == mu.state
        assert ma.v_high == pytest.approx(mu.v_high, abs=1e-6)
        assert ma.v_low == pytest.approx(mu.v_low, abs=1e-6)
        assert ma.duty == pytest.approx(mu.duty, abs=1e-4)
        assert ma.rise_time_s == pytest.approx(mu.rise_time_s, rel=0.05)
        assert ma.fall_time_s == pytest.approx(mu.fall_time_s, rel=0.05)


def test_max_step_must_lie_between_output_step_and_stop(ngspice):
    with pytest.raises(ParameterError, match="max_step_s"):
        simulate_cp_batch([CpCircuit("B")], stop_s=2e-3, max_step_s=1.0)


_INTERP_ON = """
import json, logging, sys
import numpy as np
from cpsim.analysis import measure_pilot
from cpsim.sim import CpCircuit, simulate_cp_batch
from cpsim.sim.netlist import compose, load_scenario
from cpsim.sim.ngspice import session

logging.basicConfig(stream=sys.stderr)
stop = float(sys.argv[1])
circuit = CpCircuit("C")
clean = simulate_cp_batch([circuit], stop_s=stop, max_step_s=5e-6)[0]
session().run(compose(load_scenario(circuit.scenario), [circuit.netlist_params()],
                      ".save cp_evse\\n.options interp\\n.tran 1e-07 0.00205"))
after = simulate_cp_batch([circuit], stop_s=stop, max_step_s=5e-6)[0]
a, b = measure_pilot(clean.t, clean.v), measure_pilot(after.t, after.v)
print(json.dumps({"same_t": bool(np.array_equal(clean.t, after.t)), "states": [a.state, b.state],
                  "dv": abs(a.v_high - b.v_high), "dduty": abs(a.duty - b.duty)}))
"""


@pytest.mark.parametrize("stop_s", [2.05e-3, 2.04431e-3])  # a multiple of the output step, and not
def test_a_process_where_someone_switched_interp_on_still_gets_whole_waveforms(ngspice, stop_s):
    """ngspice 39 keeps ``.options interp`` on after any run that sets it (e.g. the user's own PySpice
    run); with a TMAX it would then truncate cpsim's output. cpsim notices and runs the interp way.
    In a child process: the switch cannot be undone and would change later tests' samples."""
    import json
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", _INTERP_ON, str(stop_s)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "interp" in r.stderr
    out = json.loads(r.stdout)
    assert out["same_t"] and out["states"] == ["C2", "C2"]
    assert out["dv"] <= 1e-6 and out["dduty"] <= 1e-4
