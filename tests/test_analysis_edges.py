"""cpsim.analysis.edges: Schmitt-trigger transitions and 10/50/90 % edge instants."""

from __future__ import annotations

import numpy as np
import pytest

from cpsim.analysis.edges import edge_peaks, edge_timing, find_transitions


def test_transitions_alternate_and_ignore_noise_inside_the_band():
    v = np.full(1000, -12.0)
    v[100:300] = 9.0
    v[600:800] = 9.0
    v[450] = 0.0      # a spike into the band, not through it
    v[700] = 2.0      # a dip into the band from the top
    tr = find_transitions(v, threshold_v=-1.5, hysteresis_v=5.0)
    assert list(tr.rising) == [True, False, True, False]
    assert list(tr.entry_index) == [100, 300, 600, 800]
    assert list(tr.exit_index) == [99, 299, 599, 799]


def test_capture_starting_inside_the_band_has_no_edge_at_its_start():
    v = np.concatenate((np.linspace(-1, 9, 5), np.full(50, 9.0), np.full(50, -12.0)))
    tr = find_transitions(v, threshold_v=-1.5, hysteresis_v=5.0)
    assert list(tr.rising) == [False]


def test_slow_edge_through_band_is_one_transition():
    ramp = np.linspace(-12, 9, 200)
    noisy = ramp + np.random.default_rng(1).normal(0, 0.4, ramp.size)
    v = np.concatenate((np.full(100, -12.0), noisy, np.full(100, 9.0)))
    tr = find_transitions(v, threshold_v=-1.5, hysteresis_v=5.25)
    assert len(tr) == 1 and tr.rising[0]


def test_too_many_crossings_gives_up():
    v = np.tile([-12.0, 9.0], 10_000)
    tr = find_transitions(v, threshold_v=-1.5, hysteresis_v=5.0)
    assert tr.too_many and len(tr) == 0


@pytest.mark.parametrize("rise_samples", [5, 10, 37, 200])
@pytest.mark.parametrize("t0", [0.0, 123.456])
def test_edge_timing_of_a_linear_ramp(rise_samples, t0):
    dt = 1e-6
    ramp = rise_samples / 0.8                     # 10-90 % of a linear ramp is 0.8 of it
    n = 4000
    t = t0 + np.arange(n) * dt
    mid = t0 + 1000.3 * dt                        # 50 % instant between samples
    x = np.clip((t - mid) / (ramp * dt) + 0.5, 0, 1)
    v = -12.0 + 21.0 * x
    tr = find_transitions(v, threshold_v=-1.5, hysteresis_v=5.25)
    timing = edge_timing(t, v, tr.exit_index, tr.entry_index, np.array([-12.0]), np.array([9.0]))
    np.testing.assert_allclose(timing.t_mid, [mid], rtol=0, atol=1e-3 * dt)
    # a ramp corner between samples biases the interpolation by < 1 % of a 5-sample edge
    np.testing.assert_allclose(timing.transition_s, [rise_samples * dt], rtol=0.02)


def test_falling_edge_timing_is_90_to_10():
    dt = 1e-6
    t = np.arange(3000) * dt
    mid = 1500.5 * dt
    v = 9.0 - 21.0 * np.clip((t - mid) / (12.5 * dt) + 0.5, 0, 1)   # 10 µs fall
    tr = find_transitions(v, threshold_v=-1.5, hysteresis_v=5.25)
    timing = edge_timing(t, v, tr.exit_index, tr.entry_index, np.array([9.0]), np.array([-12.0]))
    assert not tr.rising[0]
    np.testing.assert_allclose(timing.transition_s, [10e-6], rtol=1e-3)
    np.testing.assert_allclose(timing.t_mid, [mid], rtol=0, atol=1e-9)
    assert timing.t_first[0] < timing.t_last[0]


def test_edge_timing_ignores_ringing_after_the_edge():
    dt = 1e-7
    t = np.arange(5000) * dt
    mid = 2000 * dt
    x = np.clip((t - mid) / (25 * dt) + 0.5, 0, 1)
    after = np.maximum(t - (mid + 12.5 * dt), 0)
    ring = np.where(t > mid + 12.5 * dt, 0.25 * np.exp(-after / 1e-6) * np.cos(2 * np.pi * 2e6 * after), 0)
    v = -12.0 + 21.0 * (x + ring)
    tr = find_transitions(v, threshold_v=-1.5, hysteresis_v=5.25)
    assert len(tr) == 1
    timing = edge_timing(t, v, tr.exit_index, tr.entry_index, np.array([-12.0]), np.array([9.0]))
    np.testing.assert_allclose(timing.transition_s, [20 * dt], rtol=1e-3)


def test_edge_without_levels_is_nan():
    v = np.concatenate((np.full(50, -12.0), np.full(50, 9.0)))
    t = np.arange(100.0)
    tr = find_transitions(v, threshold_v=-1.5, hysteresis_v=5.0)
    timing = edge_timing(t, v, tr.exit_index, tr.entry_index, np.array([np.nan]), np.array([9.0]))
    assert np.isnan(timing.t_mid[0]) and np.isnan(timing.transition_s[0])


@pytest.mark.parametrize("tau_samples", [2.0, 5.0, 40.0])
@pytest.mark.parametrize("rising", [True, False])
def test_edge_timing_of_an_rc_edge(tau_samples, rising):
    # a first-order edge (cable capacitance): 10-90 % = tau * ln 9, 50 % at tau * ln 2
    dt = 1e-6
    t = np.arange(4000) * dt
    t_edge = 1000.4 * dt
    x = np.where(t > t_edge, 1 - np.exp(-np.maximum(t - t_edge, 0) / (tau_samples * dt)), 0.0)
    lo, hi = -12.0, 6.0
    v = lo + (hi - lo) * x if rising else hi - (hi - lo) * x
    before, after = (lo, hi) if rising else (hi, lo)
    tr = find_transitions(v, threshold_v=-3.0, hysteresis_v=4.5)
    timing = edge_timing(t, v, tr.exit_index, tr.entry_index, np.array([before]), np.array([after]))
    tau = tau_samples * dt
    np.testing.assert_allclose(timing.transition_s, [tau * np.log(9)], rtol=0.10)
    np.testing.assert_allclose(timing.t_mid, [t_edge + tau * np.log(2)], rtol=0, atol=0.1 * tau)


def test_edge_peaks_see_the_overshoot_and_stop_at_the_next_edge():
    v = np.full(400, -12.0)
    v[100:130] = 9.0
    v[101] = 11.0           # overshoot right after the rising edge
    v[131] = -14.0          # undershoot after the falling edge
    v[200:400] = 9.0
    v[140] = -20.0          # beyond the settle window: not the undershoot
    tr = find_transitions(v, threshold_v=-1.5, hysteresis_v=5.0)
    limit = np.append(tr.exit_index[1:], v.size - 1)
    peaks = edge_peaks(v, tr.exit_index, tr.entry_index, tr.rising, limit, settle_samples=5)
    np.testing.assert_allclose(peaks, [11.0, -14.0, 9.0])
    # a long window stops where the next edge starts: the rising edge's never reaches the falling one
    long = edge_peaks(v, tr.exit_index, tr.entry_index, tr.rising, limit, settle_samples=100)
    np.testing.assert_allclose(long, [11.0, -20.0, 9.0])


def test_short_monotonic_edges_are_timed_as_the_general_rules_time_them(monkeypatch):
    # two routes to the same IEEE 181 instants: the O(span) shortcut for short monotonic edges, and the
    # windowed search every edge can take; random steps, mid-edge samples, noise and exact ties
    from cpsim.analysis import edges as E

    rng = np.random.default_rng(11)
    n = 4000
    t = np.arange(n) * 1e-5
    v = np.where((np.arange(n) // 50) % 2 == 0, -12.0, 9.0)
    starts = np.flatnonzero(np.diff(v)) + 1
    for s in starts:  # 0-3 samples on a ramp, some exactly at 10/50/90 %
        k = rng.integers(0, 4)
        frac = np.sort(rng.choice([0.1, 0.5, 0.9, *rng.uniform(0.02, 0.98, 3)], size=k, replace=False))
        v[s:s + k] = v[s - 1] + (v[s + k] - v[s - 1]) * frac
    v = v + rng.normal(0.0, 0.02, n)
    tr = E.find_transitions(v, threshold_v=-1.5, hysteresis_v=5.0)
    before = np.where(tr.rising, -12.0, 9.0)
    after = -before - 3.0
    fast = E.edge_timing(t, v, tr.exit_index, tr.entry_index, before, after)
    monkeypatch.setattr(E, "_short_monotonic", lambda *a, **k: np.zeros(a[2].size, dtype=bool))
    general = E.edge_timing(t, v, tr.exit_index, tr.entry_index, before, after)
    assert len(tr) > 70 and np.isfinite(fast.t_mid).mean() > 0.9
    for a, b in zip((fast.t_first, fast.t_mid, fast.t_last), (general.t_first, general.t_mid, general.t_last)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)
