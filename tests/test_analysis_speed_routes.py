"""Two routes to the same numbers: the analyzer's compiled loops (cpsim/analysis/_fastedges.c) and
the numpy reference route they replace (``edges.FAST_PATH = False``), compared bit for bit.

End to end on synthetic captures (noise, 8-bit quantisation, ringing, coarse and fine sampling,
steady stretches, state changes, slow PWM, clipping, noise that is no pilot), and function by
function on random input, including the corners (empty interiors, interiors past the end, NaN,
ties at the 10/50/90 % levels, edges at the ends of the capture).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cpsim.analysis import edges as E
from cpsim.analysis import levels as L
from cpsim.analysis import pwm as P
from cpsim.analysis import trust as T
from cpsim.analysis._util import safe_div
from cpsim.analysis.measurement import measure, measure_pilot
from cpsim.analysis.synthetic import Stretch, pilot_waveform
from cpsim.waveform import Waveform


def test_the_extension_is_built():
    # make test installs cpsim with `pip install -e`, which compiles it; if this fails, look for a
    # compiler error in that install (setup.py marks the extension optional)
    from cpsim.analysis import _fastedges

    assert E._fastedges is _fastedges
    # the compiled interior sums add as this numpy's reduceat does; if a numpy release changes its pairwise
    # summation, the probe switches that loop off (same numbers, slower) and this says so
    assert L._compiled_stats() is _fastedges, "numpy's reduceat no longer adds as _fastedges.c's pairwise_sum"


def both(monkeypatch, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with the compiled loops, then with the numpy reference route."""
    out = []
    for on in (True, False):
        monkeypatch.setattr(E, "FAST_PATH", on)
        out.append(fn(*args, **kwargs))
    monkeypatch.setattr(E, "FAST_PATH", True)
    return out


def same(a, b, path="") -> None:
    """Equal bit for bit (NaN equal to NaN; -0.0 equal to 0.0), recursing into dataclasses and tuples."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), path
        for f in dataclasses.fields(a):
            same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.shape == b.shape, path
        if a.dtype.kind == "f":
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), path
        else:
            assert np.array_equal(a, b), path
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), path
    else:
        assert a == b, path


# ---- end to end ----------------------------------------------------------------------------------

SESSION = [Stretch(0.004, 12.0), Stretch(0.006, 9.0), Stretch(0.02, 9.0, -12.0, 0.25), Stretch(0.03, 6.0, -12.0, 0.25),
           Stretch(0.02, 6.0, -12.0, 0.5), Stretch(0.015, 9.0, -12.0, 0.05), Stretch(0.008, 0.0), Stretch(0.01, -12.0),
           Stretch(0.006, 9.0)]

CAPTURES = {
    # coarse: 20 samples per period, plateaus of a few samples, edges within one sample
    "20kS/s session, noise, 8 bit": dict(stretches=SESSION * 4, sample_rate_hz=20e3, noise_rms_v=0.05, adc_bits=8),
    "50kS/s 5 % pulses": dict(stretches=[Stretch(0.2, 9.0, -12.0, 0.05)], sample_rate_hz=50e3, noise_rms_v=0.03),
    "100kS/s session, noise, 8 bit": dict(stretches=SESSION * 3, sample_rate_hz=100e3, noise_rms_v=0.05, adc_bits=8,
                                          phase=0.3),
    "1MS/s ringing, quantised": dict(stretches=SESSION, sample_rate_hz=1e6, overshoot=0.15, ring_hz=200e3,
                                     noise_rms_v=0.02, adc_bits=10),
    "10MS/s slow edges, noise": dict(stretches=SESSION[:6], sample_rate_hz=10e6, rise_s=8e-6, fall_s=12e-6,
                                     noise_rms_v=0.1, adc_bits=8),
    "clean 2MS/s, exact levels": dict(stretches=SESSION, sample_rate_hz=2e6),
    # a wrong timer prescaler: a regular train of 5 ms plateaus
    "100 Hz PWM": dict(stretches=[Stretch(0.2, 9.0, -12.0, 0.5)], sample_rate_hz=100e3, frequency_hz=100.0,
                       noise_rms_v=0.05),
    # the scope range tops at 9.8 V: a clipped +12 V, then a B2 PWM
    "clipped": dict(stretches=[Stretch(0.02, 12.0), Stretch(0.05, 9.0, -12.0, 0.3)], sample_rate_hz=500e3,
                    noise_rms_v=0.1, adc_bits=8, adc_range_v=(-16.0, 9.8)),
}


def _capture(spec: dict) -> Waveform:
    spec = dict(spec)
    return pilot_waveform(spec.pop("stretches"), t0_s=3.25, seed=7, **spec)


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_whole_captures_measure_the_same_on_both_routes(monkeypatch, name):
    w = _capture(CAPTURES[name])
    fast, ref = both(monkeypatch, measure, w)
    same(fast, ref)
    assert len(fast.cycles) > 0 or name == "clipped"


@pytest.mark.parametrize("max_points", [2_000, 50_000])
def test_subsampled_level_estimate_is_the_same_on_both_routes(monkeypatch, max_points):
    # a small level subsample on a longer capture: the one-pass span and subsample gather
    w = _capture(CAPTURES["100kS/s session, noise, 8 bit"])
    fast, ref = both(monkeypatch, measure_pilot, w.t, w.v, max_level_points=max_points)
    same(fast, ref)


def test_jittered_time_axis_and_odd_starts_are_the_same_on_both_routes(monkeypatch):
    # a non-uniform time axis (times are read at the edges), a capture that starts mid-edge and ends
    # a few samples after one, and a short one
    w = _capture(CAPTURES["100kS/s session, noise, 8 bit"])
    rng = np.random.default_rng(3)
    t = w.t + rng.uniform(-2e-6, 2e-6, w.t.size)
    t.sort()
    # a capture that starts on a rising edge's last low sample and holds less than two periods after
    # it: its cycles run from falling to falling edge
    tr = E.find_transitions(w.v[:5000], threshold_v=-1.5, hysteresis_v=3.0)
    r = int(tr.exit_index[tr.rising][5])
    for sl in (slice(None), slice(37, -3), slice(1001, 1001 + 400), slice(5, 5 + 150), slice(r, r + 170)):
        fast, ref = both(monkeypatch, measure_pilot, t[sl], w.v[sl])
        same(fast, ref)


def test_strided_and_float32_captures_measure_as_contiguous_float64_ones(monkeypatch):
    # columns of a table (strided views) are measured in place by the numpy route, never copied for the
    # compiled loops; the numbers are those of the contiguous capture
    w = _capture(CAPTURES["100kS/s session, noise, 8 bit"])
    table = np.stack((w.t, w.v), axis=1)
    fast, ref = both(monkeypatch, measure_pilot, table[:, 0], table[:, 1])
    same(fast, ref)
    same(fast, measure_pilot(w.t, w.v))
    v32 = w.v.astype(np.float32)
    fast, ref = both(monkeypatch, measure_pilot, w.t, v32)
    same(fast, ref)


def test_noise_with_too_many_crossings_is_the_same_on_both_routes(monkeypatch):
    rng = np.random.default_rng(5)
    t = np.arange(200_000) * 1e-6
    for v in (rng.normal(0.0, 1.0, t.size), np.sin(2 * np.pi * 1000 * t) + rng.normal(0, 0.5, t.size)):
        fast, ref = both(monkeypatch, measure_pilot, t, v)
        same(fast, ref)


# ---- function by function ------------------------------------------------------------------------

def _walk(rng, n: int) -> np.ndarray:
    """Levels that jump between -12, 0 and 9 V with noise, ramps and isolated spikes."""
    levels = rng.choice([-12.0, 0.0, 9.0], size=n // 20 + 1)
    v = np.repeat(levels, 20)[:n] + rng.normal(0.0, 0.3, n)
    spikes = rng.integers(0, n, size=n // 100)
    v[spikes] = rng.uniform(-15, 15, spikes.size)
    return v


def test_transitions_are_the_same_on_both_routes(monkeypatch):
    rng = np.random.default_rng(1)
    for trial in range(300):
        n = int(rng.integers(2, 3000))
        v = _walk(rng, n)
        if trial % 7 == 0:
            v[rng.integers(0, n, size=3)] = np.nan  # a NaN is in no band
        thr, hyst = float(rng.uniform(-8, 5)), float(rng.uniform(0.0, 6.0))
        frac = float(rng.choice([0.25, 0.01, 0.001]))
        fast, ref = both(monkeypatch, E.find_transitions, v, threshold_v=thr, hysteresis_v=hyst,
                         max_crossing_fraction=frac)
        same(fast, ref)
    # too many crossings: counted as the numpy route counts them (the high band first)
    v = np.tile([-5.0, 5.0], 5000)
    for lo_first in (False, True):
        x = v if not lo_first else np.where(v > 0, 0.0, v)
        fast, ref = both(monkeypatch, E.find_transitions, x, threshold_v=0.0, hysteresis_v=1.0)
        same(fast, ref)
        assert fast.too_many


def _sample_and_span(v, max_points):
    index = L.subsample_index(v.size, max_points)
    return index, *E.value_span(v, index)


def test_span_and_subsample_are_the_same_on_both_routes(monkeypatch):
    rng = np.random.default_rng(2)
    for n, mp in [(2, 1), (7, 3), (1001, 1000), (123_457, 5_000), (20_000, 20_000)]:
        v = rng.normal(size=n)
        fast, ref = both(monkeypatch, _sample_and_span, v, mp)
        same(fast, ref)
    for n, mp in [(10**12, 1_000_000), (987_654_321, 999), (3, 2), (1, 0), (5, 0), (3, -5)]:
        fast, ref = both(monkeypatch, L.subsample_index, n, mp)
        same(fast, ref)
    for bad in (np.nan, np.inf, -np.inf):
        v = rng.normal(size=1000)
        v[517] = bad
        (fast, _), (ref, _) = both(monkeypatch, E.value_span, v)
        assert np.isnan(fast) == np.isnan(ref) and (np.isnan(fast) or fast == ref)
    huge = np.array([-1e308, 1e308, 0.0] * 100)
    (fast, _), (ref, _) = both(monkeypatch, E.value_span, huge)
    assert fast == ref == np.inf


def _interior_stats_before(v, starts, ends, *, min_count=3):
    """interior_stats as it was before the compiled route (the reference kept verbatim)."""
    n = v.size
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.maximum(np.asarray(ends, dtype=np.int64), starts)
    k = starts.size
    length = ends - starts
    bounds = np.empty((k, 4), dtype=np.int64)
    bounds[:, 0] = starts
    bounds[:, 1] = starts + length // 3
    bounds[:, 2] = starts + (2 * length) // 3
    bounds[:, 3] = ends
    flat = bounds.ravel()
    counts = np.diff(np.append(flat, n)).reshape(k, 4)
    sums = np.add.reduceat(v, np.minimum(flat, n - 1)).reshape(k, 4)
    sums[counts == 0] = 0.0
    thirds = safe_div(sums[:, :3], counts[:, :3])
    count = counts[:, :3].sum(axis=1)
    mean = np.where(count >= max(1, min_count), safe_div(sums[:, :3].sum(axis=1), count), np.nan)
    tilt = np.fmax(np.fmax(thirds[:, 0], thirds[:, 1]), thirds[:, 2]) - np.fmin(
        np.fmin(thirds[:, 0], thirds[:, 1]), thirds[:, 2])
    tilt = np.where(count >= 3, tilt, np.nan)
    return L.InteriorStats(mean, count, tilt)


def test_interior_stats_are_the_same_on_both_routes_and_as_before(monkeypatch):
    rng = np.random.default_rng(4)
    n = 40_000
    v = rng.normal(size=n) * 10.0 ** rng.integers(-3, 3, size=n) + 5.0
    for trial in range(40):
        k = int(rng.integers(1, 300))
        length = rng.choice([0, 1, 2, 3, 5, 8, 9, 24, 25, 26, 50, 129, 130, 131, 400, 9000], size=k)
        starts = np.sort(rng.integers(0, n - 10, size=k))
        ends = starts + length
        if trial % 5 == 0:  # interiors that reach the last sample or pass it
            starts[-1], ends[-1] = n - 3, n + 4
        min_count = int(rng.choice([1, 3]))
        fast, ref = both(monkeypatch, L.interior_stats, v, starts, ends, min_count=min_count)
        same(fast, ref)
        same(ref, _interior_stats_before(v, starts, ends, min_count=min_count))


def _random_edges(rng, n_edges: int, samples_per_edge: int):
    """A square wave whose edges take 0-5 samples on a ramp (some exactly at the 10/50/90 % levels,
    some overshooting or not monotonic), with noise."""
    n = n_edges * samples_per_edge
    v = np.where((np.arange(n) // samples_per_edge) % 2 == 0, -12.0, 9.0)
    for s in np.flatnonzero(np.diff(v)) + 1:
        k = int(rng.integers(0, 6))
        frac = np.sort(rng.choice([0.1, 0.5, 0.9, *rng.uniform(-0.1, 1.2, 4)], size=k, replace=False))
        v[s:s + k] = v[s - 1] + (v[min(s + k, n - 1)] - v[s - 1]) * frac
    return v + rng.normal(0.0, rng.choice([0.0, 0.02, 0.5]), n)


def _timing_and_peaks_both_ways(t, v, exit_index, entry_index, before, after, rising, limit, settle):
    """edge_timing and edge_peaks, and the two at once."""
    return (E.edge_timing(t, v, exit_index, entry_index, before, after),
            E.edge_peaks(v, exit_index, entry_index, rising, limit, settle),
            E.timing_and_peaks(t, v, exit_index, entry_index, before, after, rising, limit, settle))


def test_edge_timing_and_peaks_are_the_same_on_both_routes(monkeypatch):
    rng = np.random.default_rng(6)
    for trial in range(60):
        v = _random_edges(rng, int(rng.integers(3, 200)), int(rng.integers(6, 60)))
        t = np.cumsum(rng.uniform(0.9e-5, 1.1e-5, v.size))
        tr = E.find_transitions(v, threshold_v=-1.5, hysteresis_v=float(rng.uniform(1.0, 8.0)))
        if len(tr) == 0:
            continue
        before = np.where(tr.rising, -12.0, 9.0) + rng.normal(0, 0.1, len(tr))
        after = np.where(tr.rising, 9.0, -12.0) + rng.normal(0, 0.1, len(tr))
        if trial % 9 == 0:
            before[0] = np.nan  # an edge with no reference level
        limit = np.append(tr.exit_index[1:], v.size - 1)
        settle = int(rng.integers(0, 12))
        args = (t, v, tr.exit_index, tr.entry_index, before, after)
        fast, ref = both(monkeypatch, _timing_and_peaks_both_ways, *args, tr.rising, limit, settle)
        same(fast, ref)
        same(fast[2], (fast[0], fast[1]))


def test_plateau_layout_is_the_same_on_both_routes(monkeypatch):
    rng = np.random.default_rng(8)
    for _ in range(40):
        v = _random_edges(rng, int(rng.integers(2, 150)), int(rng.integers(3, 400)))
        t = np.arange(v.size) * float(rng.choice([1e-6, 1e-5, 5e-5]))
        tr = E.find_transitions(v, threshold_v=-1.5, hysteresis_v=3.0)
        kw = dict(dc_min_s=float(rng.choice([5e-3, 2e-4])), nominal_period_s=1e-3,
                  settle_s=float(rng.choice([0.0, 1e-5, 1e-4])), fractions=(0.35, 0.9))
        fast, ref = both(monkeypatch, P.plateau_layout, t, v, tr, **kw)
        same(fast, ref)


def _cycles(t, v, tr, from_falling: bool, spoil: bool):
    """plateau_layout, edge_measurements and measure_cycles of one capture (optionally with its first
    edge unusable, so the cycles run from falling edges, and with untimed edges and flat plateaus)."""
    from cpsim import standard

    plateaus = P.plateau_layout(t, v, tr, dc_min_s=5e-3, nominal_period_s=1e-3, settle_s=1e-5)
    timing, t_mid, sharp, band_s, peak = P.edge_measurements(t, v, tr, plateaus, max_edge_fraction=0.05,
                                                             nominal_period_s=1e-3, settle_s=1e-5)
    if spoil:
        timing.t_first[1::7] = np.nan
        peak[::5] = np.nan
        plateaus.stats.mean[::9] = 0.0  # some cycles with no swing: no overshoot
        plateaus.stats.mean[1::9] = 0.0
    min_plateau = float(plateaus.duration_s[0]) + 1e-9 if from_falling else 0.0
    return P.measure_cycles(tr, plateaus, timing, t_mid, sharp, band_s, peak, standard.get_profile("iec61851"),
                            max_tilt_v=0.5, min_plateau_s=min_plateau)


def test_cycle_columns_are_the_same_on_both_routes(monkeypatch):
    rng = np.random.default_rng(13)
    for trial in range(40):
        # five stretches (four edges, the first rising and unusable): the cycles run from falling edges
        n_edges, per_edge = (5 if trial % 2 == 0 else int(rng.integers(2, 120))), int(rng.integers(20, 200))
        v = _random_edges(rng, n_edges, per_edge)[per_edge - 3:]  # a short first plateau
        t = np.arange(v.size) * 1e-5
        tr = E.find_transitions(v, threshold_v=-1.5, hysteresis_v=3.0)
        fast, ref = both(monkeypatch, _cycles, t, v, tr, trial % 2 == 0, trial % 3 == 0)
        same(fast, ref)


def _in_periodic_train_before(t, transitions):
    """pwm._in_periodic_train as it was before (the reference kept verbatim)."""
    e = len(transitions)
    out = np.zeros(e + 1, dtype=bool)
    rise_i = np.flatnonzero(transitions.rising)
    if rise_i.size < 3:
        return out
    r = t[transitions.entry_index[rise_i]]
    period = np.diff(r)
    agree = np.abs(np.diff(period)) <= P.PERIOD_AGREEMENT * period[:-1]
    regular = (period <= P.MAX_PWM_PERIOD_S) & (np.append(agree, False) | np.insert(agree, 0, False))
    k = np.searchsorted(rise_i, np.arange(e), side="right") - 1
    inside = (k >= 0) & (k < period.size)
    in_regular = np.zeros(e, dtype=bool)
    in_regular[inside] = regular[k[inside]]
    ends_regular = np.zeros(e, dtype=bool)
    at_rise = transitions.rising & (k >= 1) & (k - 1 < period.size)
    ends_regular[at_rise] = regular[k[at_rise] - 1]
    member = in_regular | ends_regular
    out[1:e] = member[:-1] & member[1:]
    return out


def test_periodic_train_is_found_as_before():
    rng = np.random.default_rng(9)
    for _ in range(200):
        n_edges = int(rng.integers(0, 40))
        gaps = rng.choice([100, 100, 100, 103, 300, 20_000], size=n_edges) * rng.choice([1, 50])
        entry = np.cumsum(gaps).astype(np.int64) + 5
        rising = np.arange(n_edges) % 2 == int(rng.integers(0, 2))
        tr = E.Transitions(rising, entry - 1, entry)
        t = np.arange(int(entry[-1]) + 10 if n_edges else 10) * 1e-5
        same(P._in_periodic_train(t[entry], tr), _in_periodic_train_before(t, tr))


def test_the_clip_checks_judge_as_before():
    rng = np.random.default_rng(10)
    for _ in range(3000):
        n = int(rng.integers(1, 500))
        marked = rng.random(n) < float(rng.choice([0.005, 0.05, 0.3]))
        mask = (rng.random(n) < rng.random()) & ~marked
        same(T._bracketed_points(np.flatnonzero(marked), mask), np.flatnonzero(mask & T._bracketed(marked)))
    for trial in range(200):
        x = np.round(rng.normal(size=int(rng.integers(200, 200_000))) * 20) / 20
        x[rng.integers(0, x.size, size=5)] = rng.uniform(-1e3, 1e3, 5)
        if trial % 3 == 0:  # a clipped capture: many points at one extreme, and at the other
            x[: x.size // 3] = x.min()
            x[-x.size // 4:] = x.max()
        k = int(rng.integers(0, 33))
        part = np.partition(x, (k, x.size - 1 - k))
        assert L._kth_smallest(x, k) == part[k]
        assert L._kth_smallest(x, k, largest=True) == part[x.size - 1 - k]


def _histogram_and_settled(x, lo, w, nb):
    return L._bin_counts(x, lo, 1.0 / w, nb), L._settled(x)


def test_level_histogram_and_settled_points_are_the_same_on_both_routes(monkeypatch):
    rng = np.random.default_rng(12)
    for trial in range(200):
        n = int(rng.integers(16, 20_000))
        x = np.repeat(rng.choice([-12.0, 6.0, 9.0], size=n // 10 + 1), 10)[:n] + rng.normal(0, 0.05, n)
        if trial % 2:
            x = np.round(x * 8) / 8  # quantised: ties, and the top value on a bin edge
        lo, w = float(x.min()), float(rng.choice([0.025, 0.1, (x.max() - x.min()) / 2048]))
        nb = int((x.max() - lo) / w) + 1
        fast, ref = both(monkeypatch, _histogram_and_settled, x, lo, w, nb)
        same(fast, ref)
        same(fast[0], np.bincount(((x - lo) * (1.0 / w)).astype(np.intp), minlength=nb).astype(np.float64))


def test_sorted_search_is_searchsorted(monkeypatch):
    rng = np.random.default_rng(11)
    for trial in range(500):
        a = np.sort(rng.integers(0, 200, size=int(rng.integers(0, 80))))
        q = rng.integers(-5, 210, size=int(rng.integers(0, 50)))
        if trial % 3:
            q = np.sort(q)
        fast, ref = both(monkeypatch, E.sorted_search, a, q)
        same(fast, ref)
        same(fast, np.searchsorted(a, q))


def test_bad_arrays_are_refused_not_read():
    from cpsim.analysis import _fastedges as F

    v = np.zeros(10)
    with pytest.raises(ValueError):
        F.span(v.astype(np.float32))
    with pytest.raises(ValueError):
        F.span(v, np.array([3, 2], dtype=np.int64), np.empty(2))  # not sorted
    with pytest.raises(ValueError):
        F.span(v, np.array([3, 10], dtype=np.int64), np.empty(2))  # past the end
    mean, tilt = np.empty(1), np.empty(1)
    with pytest.raises(ValueError):
        F.interior_stats(v, np.array([-1], dtype=np.int64), np.array([2], dtype=np.int64), 1, mean, tilt)
    out = [np.empty(1) for _ in range(3)]
    with pytest.raises(ValueError):
        F.short_monotonic(v, v, np.array([8], dtype=np.int64), np.array([11], dtype=np.int64), np.zeros(1),
                          np.ones(1), *out, np.zeros(1, dtype=bool), 4)
    with pytest.raises(ValueError):
        F.edge_peaks(v, np.array([10], dtype=np.int64), np.array([11], dtype=np.int64), np.ones(1, dtype=bool),
                     np.array([11], dtype=np.int64), 1, 3, np.empty(1))
    ro = np.empty(4, dtype=np.int64)
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        F.transitions(v, -1.0, 1.0, ro, np.empty(4, dtype=np.int64), np.empty(4, dtype=bool), 4)
