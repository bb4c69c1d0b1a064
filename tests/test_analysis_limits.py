"""Captures at the edge of what can be measured: coarse sampling, absurd axes, far-off timestamps."""

import numpy as np
import pytest

from cpsim import ParameterError, Waveform, analyze
from cpsim.analysis.synthetic import Stretch, pilot_waveform
from cpsim.io import read_capture
from cpsim.report.checks import check_measurement


def test_unresolved_edges_are_not_reported_as_slow():
    # 2 µs edges sampled every 10 µs: the measured 10-90 % time is only an upper bound
    wave = pilot_waveform(Stretch(0.05, 9.0, duty=0.25), sample_rate_hz=100e3)
    m = analyze(wave)
    assert m.state == "B2"
    assert not m.edges_resolved
    assert np.isnan(m.rise_time_s) and np.isnan(m.fall_time_s)  # not measured: null, not a biased number
    assert np.median(m.cycles.rise_time_s) > 10e-6  # the bound exceeds the B limit ...
    assert not {f.code for f in m.faults} & {"rise_too_slow", "fall_too_slow"}  # ... but proves nothing
    rows = {r.parameter: r for r in check_measurement(m)}
    assert rows["rise_time_s"].verdict == "inconclusive" and "upper bound" in rows["rise_time_s"].note


def test_resolved_slow_edges_are_still_faults():
    wave = pilot_waveform(Stretch(0.05, 9.0, duty=0.25), sample_rate_hz=10e6, rise_s=15e-6, fall_s=20e-6)
    m = analyze(wave)
    assert m.edges_resolved
    assert {"rise_too_slow", "fall_too_slow"} <= {f.code for f in m.faults}


@pytest.mark.parametrize("t, v", [
    ([0.0, 1e-30, 2e-30], [1.0, 2.0, 1.0]),        # 1e27 samples per pilot period
    ([0.0, 1.0, 2.0], [-1e308, 1e308, -1e308]),    # span overflows
])
def test_absurd_captures_raise_parameter_error(t, v):
    with pytest.raises(ParameterError):
        analyze(Waveform.from_arrays(t, v))


def test_csv_round_trip_with_absolute_timestamps(tmp_path):
    # Saleae-style absolute time: t0 = 100 s at 10 MS/s needs more than 9 digits
    wave = pilot_waveform(Stretch(0.01, 6.0, duty=0.25), sample_rate_hz=10e6, t0_s=100.0)
    path = tmp_path / "abs.csv"
    wave.to_csv(path)
    back = read_capture(path)
    np.testing.assert_allclose(back.t, wave.t, rtol=0, atol=1e-12)
    assert analyze(back).state == "C2"


@pytest.mark.parametrize("tau_s, expected", [
    (1e-3, ["A1", "E"]),                 # fast power-off: both steady stretches survive
    (5e-3, ["A1", "invalid", "E"]),
    (20e-3, ["A1", "invalid"]),          # a slow decay is never read as B1, C1 or D1
])
def test_steady_level_followed_by_a_decay(tau_s, expected):
    t = np.arange(300_000) * 1e-6
    v = np.where(t < 0.1, 12.0, 12.0 * np.exp(-(t - 0.1) / tau_s))
    v = v + np.random.default_rng(0).normal(0.0, 0.02, t.size)
    m = analyze(Waveform.from_arrays(t, v))
    states = [s.state for s in m.segments]
    assert states == expected
    assert m.segments[0].t_end == pytest.approx(0.1, abs=4e-3)
