import numpy as np
import pytest

from cpsim import ParameterError, Waveform


def test_validates_shape_order_and_finiteness():
    with pytest.raises(ParameterError, match="differ in length"):
        Waveform.from_arrays([0, 1, 2], [1, 2])
    with pytest.raises(ParameterError, match="at least 2"):
        Waveform.from_arrays([0], [1])
    with pytest.raises(ParameterError, match="strictly increasing"):
        Waveform.from_arrays([0, 1, 1], [1, 2, 3])
    with pytest.raises(ParameterError, match="non-finite"):
        Waveform.from_arrays([0, 1, 2], [1, np.nan, 3])
    with pytest.raises(ParameterError, match="1-D"):
        Waveform.from_arrays(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ParameterError, match="numeric"):
        Waveform.from_arrays(["a", "b"], [1, 2])


def test_arrays_are_read_only_and_not_copied_needlessly():
    t = np.arange(5, dtype=float)
    w = Waveform.from_arrays(t, t * 2)
    assert np.shares_memory(w.t, t)
    assert t.flags.writeable  # the caller's array keeps its flags
    with pytest.raises(ValueError):
        w.v[0] = 1.0


def test_uniform_and_properties():
    w = Waveform.from_uniform(np.zeros(1001), sample_interval_s=1e-6, t0_s=-0.5e-3)
    assert w.duration_s == pytest.approx(1e-3)
    assert w.sample_rate_hz == pytest.approx(1e6)
    assert w.t[0] == -0.5e-3
    part = w.slice_time(0.0, 0.1e-3)
    assert part.t[0] >= 0.0 and part.t[-1] <= 0.1e-3 and len(part) == 101


def test_csv_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    w = Waveform.from_uniform(rng.normal(size=100), sample_interval_s=2e-7, t0_s=1e-3)
    path = tmp_path / "w.csv"
    w.to_csv(path)
    assert path.read_text().splitlines()[0] == "time_s,cp_v"
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    np.testing.assert_allclose(data[:, 0], w.t, rtol=1e-8)
    np.testing.assert_allclose(data[:, 1], w.v, rtol=1e-8, atol=1e-12)
