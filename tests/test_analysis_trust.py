"""Never a confident wrong verdict: captures that real benches produce, each with a known truth.

Every fixture is built here with its truth by construction (a synthetic pilot, then the bench's
mistake applied: a clip, a probe factor, an inversion, AC coupling, a short record, slow sampling,
stray samples). The rule under test: the state is the right one, or ``invalid`` with a reason and
the verdict ``inconclusive``; never a ``pass``, a wrong state or an invented circuit fault.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cpsim import Waveform, analyze
from cpsim.analysis.synthetic import Stretch, pilot_waveform, quantize
from cpsim.analysis.trust import clipped_extremes
from cpsim.report.checks import check_measurement, overall_verdict

SHARED = Path(__file__).resolve().parents[2] / "shared" / "formats"


def verdict(m, profile="iec61851") -> str:
    return overall_verdict(check_measurement(m, profile, faults=m.faults))


def faults(m) -> list[str]:
    return [f.code for f in m.faults]


def noisy_pwm(high, duty=0.25, *, seed=1, noise=0.08, rate=1e6, duration=0.02, **kw):
    return pilot_waveform(Stretch(duration, high, -12.0, duty), sample_rate_hz=rate, noise_rms_v=noise, seed=seed,
                          **kw)


def assert_cannot_tell(m, *codes):
    assert m.state == "invalid"
    assert faults(m) == []
    assert verdict(m) == "inconclusive"
    if codes:
        assert m.reason_code in codes


# --- wrong PWM frequency ------------------------------------------------------------------------

def test_a_100_hz_pwm_is_a_pwm_with_a_frequency_failure_not_state_f():
    m = analyze(pilot_waveform(Stretch(0.2, 6.0, -12.0, 0.25), frequency_hz=100.0, sample_rate_hz=200e3))
    assert m.state == "C2" and m.pwm
    np.testing.assert_allclose(m.frequency_hz, 100.0, rtol=1e-4)
    np.testing.assert_allclose(m.duty, 0.25, atol=1e-3)
    assert "frequency_out_of_range" in faults(m)
    assert verdict(m) == "fail"


@pytest.mark.parametrize("frequency_hz", [950.0, 1050.0])
def test_analyze_names_a_frequency_fault(frequency_hz):
    m = analyze(pilot_waveform(Stretch(0.02, 6.0, -12.0, 0.25), frequency_hz=frequency_hz))
    assert m.state == "C2"
    assert faults(m) == ["frequency_out_of_range"]


# --- too short ------------------------------------------------------------------------------------

@pytest.mark.parametrize("duration_s", [200e-6, 1.2e-3])
def test_less_than_a_period_or_two_cannot_tell_x1_from_x2(duration_s):
    m = analyze(pilot_waveform(Stretch(duration_s, 6.0, -12.0, 0.25), sample_rate_hz=10e6, phase=0.3))
    assert_cannot_tell(m, "too_short", "no_cycle")


def test_a_two_sample_file_is_not_a_steady_state(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("time_s,cp_v\n0,12\n1e-6,12\n", encoding="utf-8")
    assert_cannot_tell(analyze(path), "too_short")


def test_a_50_ns_real_export_is_not_a_short_to_pe():
    path = SHARED / "rohde-schwarz__rs_rtp_05.Wfm.csv"
    if not SHARED.is_dir():
        pytest.skip("../shared/formats not present")
    assert_cannot_tell(analyze(path))


# --- clipping -------------------------------------------------------------------------------------

def test_a_clipped_plus_12_v_pilot_is_not_read_as_b2():
    w = noisy_pwm(12.0, seed=3)
    clipped = Waveform.from_arrays(w.t, quantize(np.minimum(w.v, 9.8), 8, (-16.0, 16.0)))
    m = analyze(clipped)
    assert_cannot_tell(m, "clipped")
    assert np.isnan(m.v_high)  # a clipped level is not a measurement
    assert "widen the range" in m.reason


def test_a_b2_plateau_clipped_at_8_5_v_is_not_reported_as_a_level():
    w = noisy_pwm(9.0, noise=0.3, seed=4)
    m = analyze(Waveform.from_arrays(w.t, np.minimum(w.v, 8.5)))
    assert_cannot_tell(m, "clipped")
    assert np.isnan(m.v_high) and abs(m.v_low + 12.0) < 0.05   # the low level is still measured
    np.testing.assert_allclose([m.duty, m.frequency_hz], [0.25, 1000.0], rtol=2e-3)


def test_a_clipped_bottom_is_not_a_weak_generator():
    w = noisy_pwm(9.0, seed=5)
    m = analyze(Waveform.from_arrays(w.t, quantize(np.maximum(w.v, -10.6), 8, (-16.0, 16.0))))
    assert_cannot_tell(m, "clipped")
    assert "v_low_out_of_range" not in faults(m)


@pytest.mark.parametrize("high", [12.0, 9.0, 6.0, 3.0])
@pytest.mark.parametrize("noise", [0.0, 0.02, 0.1, 0.3])
@pytest.mark.parametrize("bits", [None, 8, 12])
def test_honest_captures_are_not_called_clipped(high, noise, bits):
    for duty in (None, 0.05, 0.5):
        w = pilot_waveform(Stretch(0.02, high, -12.0, duty), noise_rms_v=noise, adc_bits=bits,
                           adc_range_v=(-16.0, 16.0), seed=int(high * 10 + noise * 100))
        m = analyze(w)
        assert m.input_issues == () and m.state != "invalid", (duty, m.reason)


def test_a_settling_edge_is_not_a_clip():
    # an RC edge approaches its level from one side only, like a noise tail cut by a clip would
    t = np.arange(20_000) * 1e-6
    tau = 3e-6
    phase = np.mod(t, 1e-3)
    v = np.where(phase < 0.25e-3, 9.0 - 21.0 * np.exp(-phase / tau), -12.0 + 21.0 * np.exp(-(phase - 0.25e-3) / tau))
    assert clipped_extremes(np.round(v, 6)) == []


# --- probe factor, inversion, AC coupling ----------------------------------------------------------

@pytest.mark.parametrize(("factor", "code"), [(0.1, "probe_factor"), (10.0, "probe_factor"), (-1.0, "inverted")])
def test_mis_probed_pilots_hint_at_the_probe_and_name_no_fault(factor, code):
    w = noisy_pwm(8.9, seed=6, noise=0.02)
    m = analyze(Waveform.from_arrays(w.t, factor * w.v))
    assert_cannot_tell(m, code)
    assert "B2" in m.reason   # what the levels are once the probe is set right


def test_a_real_resistive_short_is_symmetric_and_stays_a_short():
    # both halves collapse alike through the short (calc, PILOT-REFERENCE §8: +0.87/-0.89 V via 80 Ω)
    w = pilot_waveform(Stretch(0.02, 0.865, -0.889, 0.25), noise_rms_v=0.005)
    m = analyze(w)
    assert m.state == "E" and faults(m) == ["state_e_pwm"] and m.input_issues == ()


def test_ac_coupling_is_recognised_from_the_levels():
    w = noisy_pwm(8.9, seed=7, noise=0.02)
    m = analyze(Waveform.from_arrays(w.t, w.v - w.v.mean()))
    assert_cannot_tell(m, "ac_coupled")


def test_ac_coupling_is_recognised_from_the_instrument_setting():
    w = noisy_pwm(8.9, seed=8, noise=0.02)
    m = analyze(Waveform(w.t, w.v, "CH1", {"coupling": "AC"}))
    assert_cannot_tell(m, "ac_coupled")


@pytest.mark.parametrize(("high", "duty"), [(9.0, 0.25), (9.0, 0.1), (6.0, 0.25), (6.0, 0.8), (3.0, 0.5),
                                            (12.0, 0.3)])
def test_ac_coupled_pilots_are_recognised_at_any_state_and_duty(high, duty):
    # coupling moves both levels by the pilot's true mean: the low one lands well off -12 V
    w = pilot_waveform(Stretch(0.02, high, -12.0, duty), noise_rms_v=0.02, seed=3)
    m = analyze(Waveform.from_arrays(w.t, w.v - w.v.mean()))
    assert_cannot_tell(m, "ac_coupled")
    assert "generator fault" in m.reason    # the DC reading is named too: the levels alone cannot exclude it


@pytest.mark.parametrize(("high", "low", "duty", "state"), [
    (9.0, -11.0, 0.53, "B2"), (9.5, -11.0, 0.537, "B2"), (6.5, -11.0, 0.629, "C2"),
    (9.0, -13.0, 13 / 22, "B2"), (6.0, -13.0, 13 / 19, "C2"),
])
def test_a_dc_pilot_that_averages_0_v_keeps_its_own_fault(high, low, duty, state):
    # a DC-coupled pilot averages 0 V at one duty per state; its generator fault must not be explained away
    # (each is also an AC-coupled healthy pilot's levels shifted by 1-1.5 V: too little to claim coupling)
    m = analyze(pilot_waveform(Stretch(0.02, high, low, duty)))
    assert abs(duty * high + (1 - duty) * low) < 0.05 * (high - low)
    assert m.input_issues == () and m.state == state
    assert faults(m) == ["v_low_out_of_range"] and verdict(m) == "fail"


def test_the_simulated_weak_generator_at_53_percent_is_not_called_ac_coupled(tmp_path):
    out = cpsim("simulate", "cp", "--state", "B", "--duty", "53.3", "--v-high", "12.3", "--v-low", "-11",
                "-o", tmp_path / "w.csv")
    assert out.returncode == 0, out.stderr
    d = json.loads(cpsim("analyze", tmp_path / "w.csv", "--json").stdout)
    assert d["input_issues"] == [] and d["state"] == "B2" and d["verdict"] == "fail"
    assert "v_low_out_of_range" in [f["code"] for f in d["faults"]]


@pytest.mark.parametrize("ohm", [106, 111, 116])
def test_a_short_that_reads_as_a_x10_probe_names_the_short_too(ohm):
    # ±12 V through 1 kΩ into R: ±12·R/(1000 + R), x10 a healthy A2 pilot; which one it is cannot be told
    v = 12.0 * ohm / (1000.0 + ohm)
    m = analyze(pilot_waveform(Stretch(0.02, v, -v, 0.25), noise_rms_v=0.005, seed=4))
    assert_cannot_tell(m, "probe_factor")
    assert "x10 probe" in m.reason and f"shorted to PE through ≈ {ohm} Ω" in m.reason


@pytest.mark.parametrize("v", [1.0, 1.4])
def test_shorts_outside_the_x10_window_stay_shorts(v):
    m = analyze(pilot_waveform(Stretch(0.02, v, -v, 0.25), noise_rms_v=0.005, seed=4))
    assert m.state == "E" and faults(m) == ["state_e_pwm"] and m.input_issues == ()


def test_an_asymmetric_x10_pilot_is_not_offered_as_a_short():
    w = noisy_pwm(8.9, seed=6, noise=0.02)
    m = analyze(Waveform.from_arrays(w.t, 0.1 * w.v))
    assert_cannot_tell(m, "probe_factor")
    assert "short" not in m.reason


@pytest.mark.parametrize("kind", ["sine", "noise", "logic"])
def test_not_a_pilot_gets_no_vehicle_or_generator_diagnosis(kind):
    t = np.arange(20_000) * 1e-6
    v = {"sine": 12 * np.sin(2 * np.pi * 1000 * t),
         "noise": np.random.default_rng(1).normal(0.0, 2.0, t.size),
         "logic": np.where((t * 999) % 1 < 0.5, 3.2, 0.0)}[kind]
    m = analyze(Waveform.from_arrays(t, v))
    assert_cannot_tell(m)


def test_stale_samples_do_not_move_the_levels_of_a_logic_square():
    t = np.arange(20_000) * 1e-6
    v = np.where((t * 999) % 1 < 0.5, 3.2, 0.0)
    for stale in (1.71, 30.0, -20.0, 200.0):
        x = v.copy()
        x[:4] = stale
        m = analyze(Waveform.from_arrays(t, x))
        np.testing.assert_allclose(m.frequency_hz, 999.0, rtol=1e-4)    # measured as a scope would
        np.testing.assert_allclose(m.duty, 0.5, atol=2e-3)
        assert_cannot_tell(m, "low_not_negative")


# --- slow sampling, edges ---------------------------------------------------------------------------

@pytest.mark.parametrize(("high", "state"), [(9.0, "B2"), (6.0, "C2")])
def test_20_ks_per_s_is_analysed_not_rejected(high, state):
    m = analyze(pilot_waveform(Stretch(0.1, high, -12.0, 0.25), sample_rate_hz=20e3, phase=0.37,
                               noise_rms_v=0.02))
    assert m.state == state
    np.testing.assert_allclose([m.v_high, m.v_low], [high, -12.0], atol=0.03)
    np.testing.assert_allclose([m.duty, m.frequency_hz], [0.25, 1000.0], rtol=2e-3)
    assert np.isnan(m.rise_time_s) and not m.edges_resolved
    assert verdict(m) == "inconclusive"   # the 10 µs rise limit cannot be proven from 50 µs samples


@pytest.mark.parametrize("phase", [0.1, 0.77])
def test_a_5_percent_pulse_at_50_ks_per_s_keeps_digital_comm(phase):
    m = analyze(pilot_waveform(Stretch(0.05, 9.0, -12.0, 0.05), sample_rate_hz=50e3, phase=phase))
    assert m.state == "B2" and m.digital_comm
    np.testing.assert_allclose(m.duty, 0.05, atol=2e-3)


@pytest.mark.parametrize("samples_per_edge", [2.0, 2.5, 3.0, 3.5])
def test_edges_of_two_or_three_samples_are_not_reported(samples_per_edge):
    edge = samples_per_edge * 1e-6
    m = analyze(pilot_waveform(Stretch(0.02, 9.0, -12.0, 0.25), rise_s=edge, fall_s=edge))
    assert np.isnan(m.rise_time_s) and np.isnan(m.fall_time_s)
    assert any("not measured" in n for n in m.notes)


@pytest.mark.parametrize("samples_per_edge", [4.5, 5.0, 8.0])
@pytest.mark.parametrize("shape", ["linear", "rc"])
def test_edges_of_four_samples_or_more_are_within_10_percent(samples_per_edge, shape):
    fs = 1e6
    for phase in np.linspace(0.0, 1.0, 5, endpoint=False):
        if shape == "linear":
            w = pilot_waveform(Stretch(0.01, 9.0, -12.0, 0.25), rise_s=samples_per_edge / fs,
                               fall_s=samples_per_edge / fs, phase=phase / 997)
        else:  # first-order edges: 10-90 % = tau ln 9
            tau = samples_per_edge / fs / np.log(9.0)
            t = np.arange(10_000) / fs + phase / fs
            tt = np.mod(t, 1e-3)
            v = np.where(tt < 0.25e-3, 9.0 - 21.0 * np.exp(-tt / tau), -12.0 + 21.0 * np.exp(-(tt - 0.25e-3) / tau))
            w = Waveform.from_arrays(t, v)
        m = analyze(w)
        np.testing.assert_allclose([m.rise_time_s, m.fall_time_s], samples_per_edge / fs, rtol=0.10)


# --- segment bookkeeping ----------------------------------------------------------------------------

def test_a_period_cut_short_before_state_e_does_not_move_the_frequency():
    w = pilot_waveform([Stretch(0.0105, 8.9, -12.0, 0.25), Stretch(0.01, 0.0, 0.0, None)], sample_rate_hz=1e6)
    m = analyze(w)
    assert [s.state for s in m.segments] == ["B2", "E"]
    np.testing.assert_allclose(m.segments[0].frequency_hz, 1000.0, rtol=1e-4)


def test_a_capture_starting_mid_edge_does_not_use_the_ramp_as_a_level():
    # the rising 50 % instant at t = 0: the first samples are the second half of a ramp
    w = pilot_waveform(Stretch(0.0021, 9.0, -12.0, 0.25), sample_rate_hz=10e6, rise_s=4e-6, fall_s=4e-6)
    m = analyze(w)
    np.testing.assert_allclose([m.rise_time_s, m.fall_time_s], 4e-6, rtol=0.02)
    np.testing.assert_allclose(m.cycles.rise_time_s, 4e-6, rtol=0.02)


@pytest.mark.parametrize(("noise", "hum", "rate"), [(0.3, 0.5, 100e3), (0.3, 0.3, 1e6), (0.4, 0.0, 100e3)])
def test_a_noisy_steady_level_is_one_segment(noise, hum, rate):
    t = np.arange(int(0.2 * rate)) / rate
    v = 9.0 + noise * np.random.default_rng(2).normal(size=t.size) + hum * np.sin(2 * np.pi * 50 * t)
    m = analyze(Waveform.from_arrays(t, quantize(v, 8, (-16.0, 16.0))))
    assert [s.state for s in m.segments] == ["B1"]
    assert verdict(m) == "warn"   # the ripple recommendation (EV-BU < 100 mV p-p) is not met


# --- windows and uncertainty -------------------------------------------------------------------------

@pytest.mark.parametrize("profile", ["iec61851", "j1772"])
def test_a_true_zero_volt_short_reads_e_in_every_profile(profile):
    t = np.arange(20_000) * 1e-6
    m = analyze(Waveform.from_arrays(t, np.random.default_rng(3).normal(0.0, 0.02, t.size)), profile=profile)
    assert m.state == "E" and faults(m) == ["state_e"]


def test_a_level_within_its_uncertainty_of_a_window_edge_is_inconclusive():
    # 8.0 V with noise, on the lower edge of the IEC B window (8 V): the edge is within the uncertainty
    w = pilot_waveform(Stretch(0.005, 8.0, -12.0, 0.25), noise_rms_v=0.3, seed=9)
    m = analyze(w)
    row = next(r for r in check_measurement(m, faults=m.faults) if r.parameter == "v_high")
    assert abs(m.v_high - 8.0) < m.v_high_uncertainty_v
    assert row.verdict == "inconclusive" and "uncertainty" in row.note


def test_healthy_captures_still_pass():
    for high, state in ((12.0, "A2"), (9.0, "B2"), (6.0, "C2"), (3.0, "D2")):
        m = analyze(pilot_waveform(Stretch(0.02, high, -12.0, 0.25), sample_rate_hz=10e6, noise_rms_v=0.01))
        assert m.state == state and verdict(m) == "pass", state


# --- the command line: one verdict, --threshold, --fail-on --------------------------------------------

def cpsim(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cpsim.cli", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    d = tmp_path_factory.mktemp("captures")
    pilot_waveform(Stretch(0.02, 6.0, -12.0, 0.25), sample_rate_hz=10e6).to_csv(d / "c2.csv")
    w = noisy_pwm(8.9, noise=0.02)
    Waveform.from_arrays(w.t, 0.1 * w.v).to_csv(d / "x01.csv")
    pilot_waveform(Stretch(0.2, 6.0, -12.0, 0.25), frequency_hz=100.0, sample_rate_hz=200e3).to_csv(d / "slow.csv")
    return d


def test_analyze_json_carries_the_verdict_rows(captures):
    out = cpsim("analyze", captures / "x01.csv", "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["verdict"] == "inconclusive" and d["state"] == "invalid"
    assert {"parameter", "value", "limit", "margin", "verdict", "source"} <= set(d["checks"][0])
    assert [i["code"] for i in d["input_issues"]] == ["probe_factor"] and d["faults"] == []


@pytest.mark.parametrize(("name", "fail_on", "code"), [
    ("c2.csv", "warn", 0), ("slow.csv", "fail", 1), ("slow.csv", None, 0),
    ("x01.csv", "fail", 0), ("x01.csv", "inconclusive", 1), ("x01.csv", "warn", 1),
])
def test_fail_on_sets_the_exit_status(captures, name, fail_on, code):
    args = ["analyze", captures / name] + (["--fail-on", fail_on] if fail_on else [])
    out = cpsim(*args)
    assert out.returncode == code, out.stdout + out.stderr
    assert "verdict:" in out.stdout


def test_threshold_moves_a_state_window_in_analyze_and_report(captures, tmp_path):
    out = cpsim("analyze", captures / "c2.csv", "--threshold", "C=6.05:7", "--json")
    d = json.loads(out.stdout)
    assert d["state"] == "invalid" and d["verdict"] == "fail"    # 6.0 V is below the firmware's C window
    assert "level_between_windows" in [f["code"] for f in d["faults"]]
    report = cpsim("report", captures / "c2.csv", "--threshold", "C=6.05:7", "-o", tmp_path / "r.html",
                   "--fail-on", "fail")
    assert report.returncode == 1 and "verdict fail" in report.stdout
    plain = cpsim("report", captures / "c2.csv", "-o", tmp_path / "p.html", "--fail-on", "fail")
    assert plain.returncode == 0 and "verdict pass" in plain.stdout
