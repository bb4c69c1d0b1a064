"""The analyze() entry point: sources, options, result objects, purity."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import numpy as np
import pytest

import cpsim
from cpsim import ParameterError, PilotMeasurement, analyze, measure_pilot, standard
from cpsim.analysis.synthetic import Stretch, pilot_waveform

REQUIRED = {"state", "v_high", "v_low", "duty", "frequency_hz", "current_a", "digital_comm", "rise_time_s",
            "fall_time_s", "diode_fault", "segments"}


@pytest.fixture(scope="module")
def b2():
    return pilot_waveform(Stretch(0.02, 9.0, -12.0, 0.25), noise_rms_v=0.05, phase=0.3)


def test_to_dict_has_the_cli_keys_and_is_strict_json(b2):
    for m in (analyze(b2), analyze(pilot_waveform(Stretch(0.02, 12.0), noise_rms_v=0.05))):
        d = m.to_dict()
        assert REQUIRED <= set(d)
        text = json.dumps(d, allow_nan=False)          # no NaN anywhere: unknowns are null
        assert json.loads(text)["state"] == m.state
        for seg in d["segments"]:
            assert {"state", "t_start", "t_end", "duty", "current_a"} <= set(seg)
    d = analyze(pilot_waveform(Stretch(0.02, 12.0), noise_rms_v=0.05)).to_dict()
    assert d["duty"] is None and d["frequency_hz"] is None and d["rise_time_s"] is None and d["current_a"] is None
    d = analyze(b2).to_dict()
    assert 0 < d["duty"] < 1 and d["frequency_hz"] > 900   # SI, duty a fraction
    assert d["rise_time_s"] is None   # 2 µs edges at 1 MS/s: not resolved (EDGE_MIN_SAMPLES), null
    fine = pilot_waveform(Stretch(0.02, 9.0, -12.0, 0.25), noise_rms_v=0.05, sample_rate_hz=10e6)
    assert 0 < analyze(fine).to_dict()["rise_time_s"] < 1e-5


def test_to_dict_with_cycles(b2):
    d = analyze(b2).to_dict(cycles=True)
    json.dumps(d, allow_nan=False)
    assert len(d["cycles"]["duty"]) == len(analyze(b2).cycles)


def test_format_table(b2):
    text = analyze(b2).format_table()
    assert "B2" in text and "25.00 %" in text and "µs" in text and "15.0 A" in text
    many = pilot_waveform([Stretch(0.02, 12.0), Stretch(0.02, 9.0, -12.0, 0.25)], noise_rms_v=0.05)
    assert "A1" in analyze(many).format_table().splitlines()[-2]


def test_profile_by_name_or_object(b2):
    assert analyze(b2, profile="J1772").profile == "j1772"
    assert analyze(b2, profile=standard.IEC61851).profile == "iec61851"
    with pytest.raises(ParameterError, match="iec61851, j1772"):
        analyze(b2, profile="iec62196")


@pytest.mark.parametrize(("option", "value", "match"), [
    ("summary", "median", "'longest', 'first', 'last'"),
    ("threshold", "kmeans", "'widest_gap', 'otsu'"),
    ("dc_min_s", -1.0, "dc_min_s"),
    ("max_noise_v", float("nan"), "max_noise_v"),
    ("plateau_fractions", (0.9, 0.1), "plateau_fractions"),
])
def test_bad_options_raise_parameter_error(b2, option, value, match):
    with pytest.raises(ParameterError, match=match) as info:
        analyze(b2, **{option: value})
    assert isinstance(info.value, ValueError)


def test_unknown_option_lists_the_valid_ones(b2):
    with pytest.raises(ParameterError, match="unknown option dc_min.*valid: .*dc_min_s"):
        analyze(b2, dc_min=1.0)


def test_bad_sources():
    with pytest.raises(ParameterError, match="Waveform or a file path"):
        analyze(np.zeros(10))
    w = pilot_waveform(Stretch(0.002, 12.0))
    with pytest.raises(ParameterError, match="file path"):
        analyze(w, channel="CH1")


def test_path_source_goes_through_read_capture_with_fmt_and_channel(monkeypatch, b2, tmp_path):
    calls = []

    def read_capture(path, fmt=None, channel=None):
        calls.append((str(path), fmt, channel))
        return b2

    fake = types.ModuleType("cpsim.io")
    fake.read_capture = read_capture
    monkeypatch.setitem(sys.modules, "cpsim.io", fake)
    m = analyze(tmp_path / "cap.csv", fmt="rigol", channel="CH2")
    assert calls == [(str(tmp_path / "cap.csv"), "rigol", "CH2")]
    assert m.state == "B2"
    analyze(str(tmp_path / "x.bin"))
    assert calls[-1] == (str(tmp_path / "x.bin"), None, None)


def test_measure_pilot_on_raw_arrays_and_purity(b2):
    t, v = np.array(b2.t), np.array(b2.v)
    before = v.copy()
    m = measure_pilot(t.tolist(), v, channel="CH3")
    assert isinstance(m, PilotMeasurement) and m.channel == "CH3" and m.state == "B2"
    assert np.array_equal(v, before)
    m2 = measure_pilot(t, v, channel="CH3")
    assert m2.to_dict() == m.to_dict()


@pytest.mark.parametrize(("t", "v", "match"), [
    (np.arange(5.0), np.arange(4.0), "equal length"),
    (np.arange(1.0), np.arange(1.0), "at least 2"),
    (np.arange(5.0), np.array([0, 1, np.nan, 3, 4.0]), "finite"),
    (np.zeros(5), np.arange(5.0), "increase"),
])
def test_measure_pilot_rejects_bad_arrays(t, v, match):
    with pytest.raises(ParameterError, match=match):
        measure_pilot(t, v)


def test_uneven_time_axis_still_measures_and_says_so():
    w = pilot_waveform(Stretch(0.02, 9.0, -12.0, 0.25), noise_rms_v=0.05, sample_rate_hz=2e6)
    keep = np.ones(len(w), dtype=bool)
    keep[np.random.default_rng(2).choice(len(w), len(w) // 3, replace=False)] = False   # drop a third
    m = measure_pilot(w.t[keep], w.v[keep])
    assert m.state == "B2"
    assert abs(m.duty - 0.25) < 0.003
    assert any("not uniform" in n for n in m.notes)


def test_analysis_imports_numpy_only():
    code = ("import sys, cpsim.analysis, cpsim.analysis.synthetic; "
            "print(sorted(m for m in ('scipy', 'pandas', 'matplotlib', 'PySpice') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_top_level_names():
    assert cpsim.PilotMeasurement is PilotMeasurement


def test_top_level_analyze_is_the_function(b2):
    assert cpsim.analyze(b2).state == "B2"


def test_file_round_trip_through_read_capture(tmp_path):
    w = pilot_waveform(Stretch(0.01, 6.0, -12.0, 0.3), noise_rms_v=0.05, t0_s=2.5)
    path = tmp_path / "cp.csv"
    w.to_csv(path)
    m = cpsim.analyze(path)
    assert m.state == "C2" and abs(m.duty - 0.3) <= 0.002 and m.n_samples == len(w)
