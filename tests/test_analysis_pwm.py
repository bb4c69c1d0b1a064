"""Accuracy of the PWM measurements on synthetic waveforms whose truth is known by construction.

The generator (cpsim.analysis.synthetic) draws linear edges centred on the ideal edge instants,
so the truth is: 50 % instants at t0 + (k + phase)/f, 10-90 % times = rise_s/fall_s, plateau
levels = the stretch's v_high/v_low.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpsim import analyze
from cpsim.analysis.synthetic import Stretch, pilot_waveform

DUTIES = [0.05, 0.10, 0.25, 0.50, 0.85, 0.96]


def _b2(duty, **kw):
    kw.setdefault("noise_rms_v", 0.05)
    kw.setdefault("phase", 0.37)
    kw.setdefault("t0_s", -1.234)
    return pilot_waveform(Stretch(kw.pop("duration_s", 0.02), 9.0, -12.0, duty), **kw)


@pytest.mark.parametrize("rate", [1e6, 10e6])
@pytest.mark.parametrize("duty", DUTIES)
def test_duty_frequency_levels_at_50mV_noise(duty, rate):
    m = analyze(_b2(duty, sample_rate_hz=rate, seed=int(duty * 100)))
    assert m.state == "B2"
    assert m.pwm and m.reason is None
    # the requirement is 0.2 %-points and 0.1 %; the interpolated edges do 50x better, and a
    # one-sample bias (1e-3 of the period at 1 MS/s) must fail this test
    assert abs(m.duty - duty) <= 2e-4
    np.testing.assert_allclose(m.frequency_hz, 1000.0, rtol=1e-5)
    np.testing.assert_allclose(m.period_s, 1e-3, rtol=1e-5)
    np.testing.assert_allclose(m.v_high, 9.0, atol=0.03)
    np.testing.assert_allclose(m.v_low, -12.0, atol=0.03)
    np.testing.assert_allclose(m.v_high_std, 0.05, rtol=0.25)


@pytest.mark.parametrize("duty", DUTIES)
def test_eight_bit_scope_with_200mV_noise(duty):
    w = _b2(duty, noise_rms_v=0.2, adc_bits=8, adc_range_v=(-16.0, 16.0), seed=11)
    m = analyze(w)
    assert m.state == "B2"
    np.testing.assert_allclose(m.v_high, 9.0, atol=0.15)
    np.testing.assert_allclose(m.v_low, -12.0, atol=0.15)
    assert abs(m.duty - duty) <= 0.002
    np.testing.assert_allclose(m.frequency_hz, 1000.0, rtol=1e-3)


def test_five_percent_is_a_50us_pulse():
    m = analyze(_b2(0.05, sample_rate_hz=1e6))
    np.testing.assert_allclose(m.duty * m.period_s, 50e-6, atol=2e-6)
    assert m.digital_comm and np.isnan(m.current_a)


@pytest.mark.parametrize("frequency_hz", [980.0, 995.0, 1000.0, 1020.0])
def test_frequency_off_nominal(frequency_hz):
    m = analyze(_b2(0.25, frequency_hz=frequency_hz, seed=2))
    np.testing.assert_allclose(m.frequency_hz, frequency_hz, rtol=1e-3)
    assert abs(m.duty - 0.25) <= 0.002


@pytest.mark.parametrize(("rate", "edge_s"),
                         [(1e6, 5e-6), (1e6, 10e-6), (10e6, 0.5e-6), (10e6, 2e-6), (100e6, 1e-6)])
def test_rise_and_fall_times(rate, edge_s):
    rise, fall = edge_s, 1.5 * edge_s
    w = _b2(0.25, sample_rate_hz=rate, rise_s=rise, fall_s=fall, duration_s=0.01 if rate < 1e8 else 0.004)
    m = analyze(w)
    # requirement 10 %; measured within 0.2 %, so a 5 % bias must fail here
    np.testing.assert_allclose(m.rise_time_s, rise, rtol=0.02)
    np.testing.assert_allclose(m.fall_time_s, fall, rtol=0.02)
    assert abs(m.duty - 0.25) <= 2e-4


def test_overshoot_and_ringing_do_not_move_levels_or_edges():
    # 2 MS/s: 6 samples per edge (at 3 samples an edge is not resolved to 10 %, EDGE_MIN_SAMPLES)
    w = _b2(0.25, rise_s=3e-6, fall_s=3e-6, overshoot=0.2, ring_hz=400e3, ring_tau_s=2e-6, seed=5,
            sample_rate_hz=2e6)
    m = analyze(w)
    assert m.state == "B2"
    np.testing.assert_allclose([m.v_high, m.v_low], [9.0, -12.0], atol=0.03)
    np.testing.assert_allclose([m.rise_time_s, m.fall_time_s], [3e-6, 3e-6], rtol=0.10)
    assert abs(m.duty - 0.25) <= 0.002
    np.testing.assert_allclose(m.overshoot, 0.2, atol=0.03)
    np.testing.assert_allclose(m.undershoot, 0.2, atol=0.03)


@pytest.mark.parametrize("phase", [0.0, 0.1, 0.25, 0.5, 0.9])
@pytest.mark.parametrize("duty", [0.05, 0.5, 0.96])
def test_only_two_periods(phase, duty):
    m = analyze(_b2(duty, duration_s=0.002, phase=phase, t0_s=7.0, seed=3))
    assert m.state == "B2"
    assert m.n_cycles >= 1
    assert abs(m.duty - duty) <= 0.002
    np.testing.assert_allclose(m.frequency_hz, 1000.0, rtol=1e-3)
    np.testing.assert_allclose(m.v_high, 9.0, atol=0.05)


def test_cycle_table_matches_the_ideal_edges():
    t0, phase, f, duty = 3.2109, 0.37, 1000.0, 0.3
    w = pilot_waveform(Stretch(0.0105, 9.0, -12.0, duty), t0_s=t0, phase=phase, frequency_hz=f)
    m = analyze(w)
    c = m.cycles
    # partial cycles at both ends are not cycles: rising instants inside the capture, and a full period after
    k = np.arange(-1, 12)
    rising = t0 + (k + phase) / f
    complete = rising[(rising > w.t[0]) & (rising + 1 / f < w.t[-1])]
    assert len(c) == complete.size == m.n_cycles
    np.testing.assert_allclose(c.t_start, complete, rtol=0, atol=1e-9)
    np.testing.assert_allclose(c.period_s, 1 / f, rtol=1e-6)
    np.testing.assert_allclose(c.duty, duty, atol=1e-6)
    np.testing.assert_allclose(c.v_high, 9.0, atol=1e-9)
    np.testing.assert_allclose(c.rise_time_s, 2e-6, rtol=0.02)
    assert list(c.state) == ["B2"] * len(c)


def test_time_axis_not_starting_at_zero_and_far_from_it():
    m0 = analyze(_b2(0.4, t0_s=0.0, seed=9))
    m1 = analyze(_b2(0.4, t0_s=86_400.0, seed=9))    # a day in: t has ~1e-11 s resolution left
    assert m1.state == "B2"
    assert abs(m1.duty - m0.duty) < 1e-4
    np.testing.assert_allclose(m1.frequency_hz, m0.frequency_hz, rtol=1e-5)
    assert m1.segments[0].t_start >= 86_400.0


@settings(max_examples=25, deadline=None)
@given(duty=st.floats(0.05, 0.96), phase=st.floats(0.0, 1.0), t0=st.floats(-100.0, 100.0),
       rate=st.sampled_from([1e6, 2e6, 5e6]), noise=st.floats(0.0, 0.1))
def test_duty_and_frequency_property(duty, phase, t0, rate, noise):
    w = pilot_waveform(Stretch(0.006, 6.0, -12.0, duty), sample_rate_hz=rate, phase=phase, t0_s=t0,
                       noise_rms_v=noise, seed=1)
    m = analyze(w)
    assert m.state == "C2"
    assert abs(m.duty - duty) <= 0.002
    np.testing.assert_allclose(m.frequency_hz, 1000.0, rtol=1e-3)


def test_glitch_pulses_shorter_than_the_settle_time():
    w = pilot_waveform(Stretch(0.02, 9.0, -12.0, 0.25), noise_rms_v=0.05)
    v = np.array(w.v)
    for i in (3000, 7000, 12345):          # 3-sample spikes to -12 V in the high plateaus / to +9 V in the low
        v[i:i + 3] = -12.0 if v[i] > 0 else 9.0
    m = analyze(type(w)(w.t, v))
    assert m.state == "B2"
    assert abs(m.duty - 0.25) <= 0.002
    np.testing.assert_allclose(m.v_high, 9.0, atol=0.03)
