"""cpsim.analysis.levels: subsample, level histogram, threshold band, plateau statistics."""

from __future__ import annotations

import numpy as np
import pytest

from cpsim.analysis.levels import estimate_levels, interior_stats, subsample_index
from cpsim.analysis.synthetic import Stretch, pilot_waveform
from cpsim.errors import ParameterError


def test_subsample_small_input_uses_everything():
    assert subsample_index(1000, 1000) is None


@pytest.mark.parametrize("n", [1_000_001, 2_000_003, 10_000_000, 123_456_789])
def test_subsample_sorted_unique_in_range(n):
    idx = subsample_index(n, 100_000)
    assert idx.size == 100_000
    assert idx[0] >= 0 and idx[-1] < n
    assert np.all(np.diff(idx) > 0)
    assert np.all(idx[1::2] - idx[0::2] == 1)   # adjacent pairs


def test_subsample_does_not_alias_on_a_period_equal_to_its_stride():
    # a plain stride of 10 would see a 10-sample period at one phase only
    idx = subsample_index(10_000_000, 1_000_000)
    phases = np.bincount(idx % 10, minlength=10)
    assert np.all(phases > 0.05 * idx.size)


def test_levels_of_a_pwm_and_threshold_between():
    w = pilot_waveform(Stretch(0.02, 9.0, -12.0, 0.25), noise_rms_v=0.05, seed=3)
    est = estimate_levels(w.v)
    assert est.two_level
    np.testing.assert_allclose(est.levels_v, [-12.0, 9.0], atol=0.1)
    assert -12.0 + 3 < est.threshold_v - est.hysteresis_v
    assert est.threshold_v + est.hysteresis_v < 9.0 - 3


def test_threshold_sits_in_the_widest_gap_of_a_multi_level_capture():
    # A1 dominates, a short D2 burst at 90 % duty: Otsu's split is pulled above 3 V, the widest gap is not
    w = pilot_waveform([Stretch(0.08, 12.0), Stretch(0.01, 3.0, -12.0, 0.9)], noise_rms_v=0.05, seed=4)
    est = estimate_levels(w.v)
    np.testing.assert_allclose(est.levels_v, [-12.0, 3.0, 12.0], atol=0.1)
    assert -12.0 < est.threshold_v - est.hysteresis_v and est.threshold_v + est.hysteresis_v < 3.0


def test_noisy_single_level_is_one_level():
    v = np.random.default_rng(5).normal(12.0, 0.3, 200_000)
    est = estimate_levels(v)
    assert not est.two_level
    assert est.levels_v.size == 1 and abs(est.levels_v[0] - 12.0) < 0.1


def test_quantised_capture_is_two_levels_not_a_comb():
    w = pilot_waveform(Stretch(0.02, 6.0, -12.0, 0.3), noise_rms_v=0.2, adc_bits=8, seed=6)
    est = estimate_levels(w.v)
    assert est.levels_v.size == 2


def test_otsu_choice_and_unknown_choice():
    w = pilot_waveform(Stretch(0.02, 9.0, -12.0, 0.5), noise_rms_v=0.05)
    est = estimate_levels(w.v, threshold="otsu")
    assert abs(est.threshold_v - (-1.5)) < 1.0
    with pytest.raises(ParameterError, match="'widest_gap', 'otsu'"):
        estimate_levels(w.v, threshold="median")


def test_interior_stats_match_direct_computation():
    rng = np.random.default_rng(7)
    v = rng.normal(0, 1, 10_000)
    starts = np.array([10, 500, 2000, 9000])
    ends = np.array([100, 1700, 2003, 9990])
    st = interior_stats(v, starts, ends)
    for i, (s, e) in enumerate(zip(starts, ends)):
        np.testing.assert_allclose(st.mean[i], v[s:e].mean(), rtol=0, atol=1e-12)
        n = e - s
        thirds = [v[s:s + n // 3].mean(), v[s + n // 3:s + 2 * n // 3].mean(), v[s + 2 * n // 3:e].mean()]
        np.testing.assert_allclose(st.tilt[i], max(thirds) - min(thirds), rtol=0, atol=1e-12)
    assert list(st.count) == list(ends - starts)


def test_interior_stats_empty_interior_is_nan_without_warnings():
    v = np.arange(100.0)
    st = interior_stats(v, np.array([10, 50]), np.array([11, 50]))
    assert np.isnan(st.mean).all()
    assert np.isnan(st.tilt).all()
