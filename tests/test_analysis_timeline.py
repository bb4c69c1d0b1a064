"""The segment timeline of long captures: plug-in sequences, duty changes, glitches."""

from __future__ import annotations

import numpy as np
import pytest

from cpsim import analyze
from cpsim.analysis.synthetic import Stretch, pilot_waveform

P = 1e-3  # one nominal period [s]


def _session(noise=0.05, **kw):
    """Plug-in (A1 -> B1), PWM offer (B2 16 A), charging (C2), current change, stop, unplug."""
    plan = [Stretch(0.020, 12.0), Stretch(0.020, 9.0), Stretch(0.050, 9.0, -12.0, 0.25),
            Stretch(0.050, 6.0, -12.0, 0.25), Stretch(0.050, 6.0, -12.0, 0.5), Stretch(0.030, 9.0, -12.0, 0.5),
            Stretch(0.020, 9.0), Stretch(0.020, 12.0)]
    return pilot_waveform(plan, noise_rms_v=noise, **kw)


@pytest.mark.parametrize("t0", [0.0, 1234.5])
@pytest.mark.parametrize("adc_bits", [None, 8])
def test_plug_in_and_charging_sequence(t0, adc_bits):
    w = _session(noise=0.2 if adc_bits else 0.05, adc_bits=adc_bits, t0_s=t0)
    m = analyze(w)
    segs = m.segments
    assert [s.state for s in segs] == ["A1", "B1", "B2", "C2", "C2", "B2", "B1", "A1"]
    truth = t0 + np.array([0.02, 0.04, 0.09, 0.14, 0.19, 0.22, 0.24])
    starts = np.array([s.t_start for s in segs[1:]])
    np.testing.assert_allclose(starts, truth, rtol=0, atol=1.0 * P)   # a state change is located to a period
    # segments tile the capture
    assert segs[0].t_start == w.t[0] and segs[-1].t_end == w.t[-1]
    assert all(a.t_end == b.t_start for a, b in zip(segs, segs[1:]))
    np.testing.assert_allclose([s.duty for s in segs[2:6]], [0.25, 0.25, 0.5, 0.5], atol=0.002)
    np.testing.assert_allclose([s.current_a for s in segs[2:6]], [15.0, 15.0, 30.0, 30.0], atol=0.15)
    assert all(np.isnan(s.duty) and np.isnan(s.current_a) for s in segs[:2] + segs[6:])
    np.testing.assert_allclose([s.v_high for s in segs], [12, 9, 9, 6, 6, 9, 9, 12], atol=0.15)
    assert [s.n_cycles > 40 for s in segs[2:5]] == [True] * 3
    # the summary describes the longest segment
    longest = max(segs, key=lambda s: s.t_end - s.t_start)
    assert m.state == longest.state and m.duty == longest.duty


def test_summary_choices():
    w = _session()
    assert analyze(w, summary="first").state == "A1"
    assert analyze(w, summary="last").state == "A1"
    m = analyze(w, summary="longest")
    assert m.state in ("B2", "C2")


def test_pwm_stop_to_state_f():
    w = pilot_waveform([Stretch(0.03, 6.0, -12.0, 0.3), Stretch(0.03, -12.0)], noise_rms_v=0.05)
    segs = analyze(w).segments
    assert [s.state for s in segs] == ["C2", "F"]
    np.testing.assert_allclose(segs[1].t_start, 0.03 - 0.7 * P, atol=0.05 * P)  # the last falling edge


def test_bcb_wake_up_toggles_are_reported():
    # ISO 15118-3 wake-up: B -> C -> B pulses of 200-400 ms (EV-CH); squeezed here to 20 ms
    plan = [Stretch(0.03, 9.0, -12.0, 0.05), Stretch(0.02, 6.0, -12.0, 0.05), Stretch(0.03, 9.0, -12.0, 0.05)]
    m = analyze(pilot_waveform(plan, noise_rms_v=0.05))
    assert [s.state for s in m.segments] == ["B2", "C2", "B2"]
    assert all(s.digital_comm and np.isnan(s.current_a) for s in m.segments)


def test_one_odd_cycle_is_absorbed_unless_asked_otherwise():
    plan = [Stretch(0.02, 9.0, -12.0, 0.25), Stretch(0.001, 6.0, -12.0, 0.25), Stretch(0.02, 9.0, -12.0, 0.25)]
    w = pilot_waveform(plan, noise_rms_v=0.05)
    m = analyze(w)
    assert [s.state for s in m.segments] == ["B2"]
    assert m.n_cycles < len(m.cycles)            # the odd cycle is not part of the statistics
    np.testing.assert_allclose(m.v_high, 9.0, atol=0.03)
    kept = analyze(w, min_segment_s=0.0)
    assert [s.state for s in kept.segments] == ["B2", "C2", "B2"]


def test_duty_steps_split_segments_but_noise_does_not():
    plan = [Stretch(0.02, 9.0, -12.0, 0.25), Stretch(0.02, 9.0, -12.0, 0.2667)]   # 15 A -> 16 A
    m = analyze(pilot_waveform(plan, noise_rms_v=0.2, adc_bits=8))
    assert [s.state for s in m.segments] == ["B2", "B2"]
    np.testing.assert_allclose([s.current_a for s in m.segments], [15.0, 16.0], atol=0.1)
    same = analyze(pilot_waveform(Stretch(0.05, 9.0, -12.0, 0.25), noise_rms_v=0.2, adc_bits=8))
    assert len(same.segments) == 1


def test_diode_fault_appearing_starts_a_segment():
    plan = [Stretch(0.02, 9.0, -12.0, 0.25), Stretch(0.02, 8.79, -8.79, 0.25)]
    segs = analyze(pilot_waveform(plan, noise_rms_v=0.05)).segments
    assert [(s.state, s.diode_fault) for s in segs] == [("B2", False), ("B2", True)]


def test_segment_to_dict_is_json_ready():
    d = analyze(_session()).segments[0].to_dict()
    assert {"state", "t_start", "t_end", "duty", "current_a"} <= set(d)
    assert d["duty"] is None and d["current_a"] is None and isinstance(d["t_start"], float)
