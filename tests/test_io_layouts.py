"""Every supported layout reads to a known truth; channel selection, metadata, round trips.

The fixtures in tests/fixtures/captures were written by make_fixtures.py from a
known signal (a ±12 V, 1 kHz square with a 0.04 V ripple, known t0 and dt); the
expected arrays below are computed from those parameters, not from cpsim.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cpsim.io as cio
from cpsim import CaptureFormatError, ParameterError, Waveform
from cpsim.io import _csvcore, registry

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "captures"
TRUTH = json.loads((FIXTURES / "truth.json").read_text())


def expected_square(n: int, dt_s: float) -> np.ndarray:
    k = np.arange(n)
    period = round(1e-3 / dt_s)
    return np.where((k % period) < period // 2, 12.0, -12.0) + 0.04 * ((k % 3) - 1)


@pytest.fixture(params=sorted(TRUTH), ids=str)
def fixture_case(request):
    return FIXTURES / request.param, TRUTH[request.param]


def test_fixture_reads_to_known_truth(fixture_case):
    path, truth = fixture_case
    channels = cio.read_channels(path)
    assert list(channels) == list(truth["channels"])
    n = truth["n"]
    t_expected = truth["t0_s"] + truth["dt_s"] * np.arange(n)
    shape = expected_square(n, truth.get("shape_dt_s", truth["dt_s"]))
    for name, sign in truth["channels"].items():
        w = channels[name]
        assert w.metadata["format"] == truth["format"]
        assert len(w) == n
        np.testing.assert_allclose(w.t, t_expected, rtol=0, atol=truth.get("time_atol", 1e-6 * truth["dt_s"]))
        np.testing.assert_allclose(w.v, sign * shape, rtol=0, atol=truth.get("value_atol", 1e-9))


def test_detect_and_forced_format_agree(fixture_case):
    path, truth = fixture_case
    assert cio.detect_format(path) == truth["format"]
    forced = cio.read_capture(path, fmt=truth["format"])
    detected = cio.read_capture(path)
    np.testing.assert_array_equal(forced.t, detected.t)
    np.testing.assert_array_equal(forced.v, detected.v)


def test_at_most_one_instrument_sniffer_claims_each_fixture(fixture_case):
    path, truth = fixture_case
    head = registry.open_head(path)
    claims = [f.name for f in cio.FORMATS if not f.fallback and f.sniff(head)]
    assert claims == ([] if truth["format"] == "generic" else [truth["format"]])


@pytest.mark.parametrize("name", ["keysight_infiniivision.csv", "rigol_ds1052e.csv"])
def test_empty_last_row_is_dropped_and_recorded(name):
    w = cio.read_capture(FIXTURES / name)
    assert w.metadata["dropped_last_row"]["line"] == TRUTH[name]["dropped_last_line"]
    assert len(w) == TRUTH[name]["n"]


def test_metadata_keeps_preamble_and_provenance():
    path = FIXTURES / "tek_tbs1000.csv"
    w = cio.read_capture(path)
    md = w.metadata
    assert md["source_path"] == str(path)
    assert md["channel"] == "CH1" and md["channels_in_file"] == ["CH1"]
    assert md["header"][0].startswith("Record Length,5.000000e+02")
    assert md["header_fields"]["Model Number"] == "TBS1072B"
    assert md["stated_sample_interval_s"] == pytest.approx(2e-5, rel=1e-12)
    assert "first analog channel" in md["channel_selection"]


@pytest.mark.parametrize(
    "name, stated",
    [
        ("rigol_ds1054z.csv", 1e-5), ("rigol_mso5000.csv", 5e-6), ("owon_hds.csv", 4e-6),
        ("siglent_sds.csv", 2e-6), ("tek_mdo4000.csv", 2e-6), ("digilent_waveforms.csv", 1 / 1.5873e6),
        ("rigol_ds1052e.csv", 1e-5),
    ],
)
def test_stated_sample_interval_from_header(name, stated):
    assert cio.read_capture(FIXTURES / name).metadata["stated_sample_interval_s"] == pytest.approx(stated, rel=1e-9)


def test_hantek_values_are_scaled_from_millivolts_and_say_so():
    w = cio.read_capture(FIXTURES / "hantek_dso5000.csv")
    assert w.metadata["value_unit_assumed"] == "mV"
    assert np.max(np.abs(w.v)) == pytest.approx(12.04, abs=1e-9)


@pytest.mark.parametrize(
    "name, request_, expected",
    [
        ("rigol_ds1054z.csv", None, "CH1"),
        ("rigol_ds1054z.csv", "ch2", "CH2"),
        ("rigol_ds1054z.csv", "CH 2", "CH2"),
        ("rigol_ds1054z.csv", 2, "CH2"),
        ("rigol_ds1054z.csv", "2", "CH2"),
        ("rigol_ds1204b.csv", None, "CH2"),
        ("rigol_ds1204b.csv", 4, "CH4"),  # instrument number, not position
        ("keysight_infiniivision.csv", 2, "CH2"),
        ("keysight_infiniivision.csv", "1", "CH1"),
        ("picoscope.csv", "channel b", "Channel B"),
        ("picoscope.csv", "B", "Channel B"),
        ("picoscope.csv", 2, "Channel B"),
        ("picoscope_de.txt", "Channel A", "Kanal A"),
        ("saleae_analog.csv", "cp pilot", "CP pilot"),
        ("saleae_analog.csv", 2, "PP"),  # no channel numbers: n-th value column
        ("generic_header_units.csv", "PP", "pp"),
        ("digilent_waveforms.csv", "CH2", "Channel 2"),
        ("tek_mdo4000.csv", "Ch2", "CH2"),
    ],
)
def test_channel_selection(name, request_, expected):
    w = cio.read_capture(FIXTURES / name, channel=request_)
    assert w.channel == expected
    sign = TRUTH[name]["channels"][expected]
    assert np.sign(w.v[0]) == sign


@pytest.mark.parametrize("request_, shown", [(1, "no channel 1"), ("CH3", "no channel 'CH3'"), (9, "no channel 9")])
def test_missing_channel_lists_present_ones(request_, shown):
    with pytest.raises(CaptureFormatError) as err:
        cio.read_capture(FIXTURES / "rigol_ds1204b.csv", channel=request_)
    assert shown in str(err.value)
    assert "CH2, CH4" in str(err.value)
    assert "rigol_ds1204b.csv" in str(err.value)


@pytest.mark.parametrize("bad", [1.5, True, ["CH1"]])
def test_channel_of_wrong_type_is_a_parameter_error(bad):
    with pytest.raises(ParameterError):
        cio.read_capture(FIXTURES / "rigol_ds1054z.csv", channel=bad)


def test_only_requested_column_is_needed(monkeypatch):
    # Reading one channel converts only the time column and that channel.
    seen = []
    real = _csvcore.read_table

    def spy(table, **kw):
        seen.append(table.usecols)
        return real(table, **kw)

    monkeypatch.setattr(cio, "read_table", spy)
    cio.read_capture(FIXTURES / "rigol_ds1054z.csv", channel="CH2")
    assert seen == [(0, 2)]


def test_round_trip_through_cpsim_csv(tmp_path):
    t = np.sort(np.random.default_rng(7).uniform(-1e-3, 1e-3, 500))
    v = expected_square(500, 1e-5)
    original = Waveform.from_arrays(t, v, channel="cp")
    path = tmp_path / "cp.csv"
    original.to_csv(path)
    back = cio.read_capture(path)
    assert back.channel == "cp" and back.metadata["format"] == "cpsim"
    np.testing.assert_allclose(back.t, t, rtol=1e-8, atol=0)  # to_csv writes %.9g
    np.testing.assert_allclose(back.v, v, rtol=1e-8, atol=0)


def test_round_trip_uniform_with_custom_channel(tmp_path):
    original = Waveform.from_uniform(expected_square(2000, 1e-6), sample_interval_s=1e-6, t0_s=-5e-4, channel="evse")
    original.to_csv(tmp_path / "evse.csv")
    back = cio.read_capture(tmp_path / "evse.csv")
    assert back.channel == "evse"
    np.testing.assert_allclose(back.t, original.t, rtol=1e-8, atol=1e-15)
    assert back.sample_interval_s == pytest.approx(1e-6, rel=1e-9)


@pytest.mark.parametrize("variant", ["crlf", "cr", "bom", "no_final_eol", "trailing_blank_lines"])
def test_line_end_and_bom_variants_read_the_same(tmp_path, variant):
    base = (FIXTURES / "rigol_ds1102d.csv").read_bytes()  # LF
    data = {
        "crlf": base.replace(b"\n", b"\r\n"),
        "cr": base.replace(b"\n", b"\r"),
        "bom": b"\xef\xbb\xbf" + base,
        "no_final_eol": base.rstrip(b"\n"),
        "trailing_blank_lines": base + b"\n\n  \n",
    }[variant]
    path = tmp_path / f"{variant}.csv"
    path.write_bytes(data)
    a, b = cio.read_channels(FIXTURES / "rigol_ds1102d.csv"), cio.read_channels(path)
    for name in a:
        np.testing.assert_array_equal(a[name].t, b[name].t)
        np.testing.assert_array_equal(a[name].v, b[name].v)


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Parse in 300-byte blocks on 2 threads: exercises ordering and cross-block line numbers."""
    monkeypatch.setattr(_csvcore, "BLOCK_BYTES", 300)
    monkeypatch.setattr(_csvcore, "default_workers", lambda: 2)


def test_many_blocks_on_threads_give_identical_arrays(fixture_case, tiny_blocks):
    path, truth = fixture_case
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_csvcore, "BLOCK_BYTES", 1 << 30)
        whole = cio.read_channels(path)
    blocked = cio.read_channels(path)
    for name in whole:
        np.testing.assert_array_equal(whole[name].t, blocked[name].t)
        np.testing.assert_array_equal(whole[name].v, blocked[name].v)


def test_iter_chunks_concatenates_to_read_capture(tiny_blocks):
    path = FIXTURES / "keysight_infiniivision.csv"
    whole = cio.read_capture(path, channel=2)
    chunks = list(cio.iter_chunks(path, channel=2, chunk_rows=128))
    assert all(len(c) == 128 for c in chunks[:-1]) and 2 <= len(chunks[-1]) < 128 + 2
    np.testing.assert_array_equal(np.concatenate([c.t for c in chunks]), whole.t)
    np.testing.assert_array_equal(np.concatenate([c.v for c in chunks]), whole.v)
    assert {c.channel for c in chunks} == {"CH2"}


def test_iter_chunks_uniform_time_axis(tiny_blocks):
    path = FIXTURES / "rigol_mso5000.csv"
    whole = cio.read_capture(path)
    t = np.concatenate([c.t for c in cio.iter_chunks(path, chunk_rows=50)])
    np.testing.assert_array_equal(t, whole.t)


def test_iter_chunks_rejects_bad_chunk_rows():
    with pytest.raises(ParameterError):
        next(cio.iter_chunks(FIXTURES / "rigol_mso5000.csv", chunk_rows=1))


def test_list_formats_matches_registry():
    names = [name for name, _ in cio.list_formats()]
    assert names == [f.name for f in cio.FORMATS]
    assert len(set(names)) == len(names)
    assert all(desc for _, desc in cio.list_formats())
    assert {t["format"] for t in TRUTH.values()} <= set(names)
    assert [f.name for f in cio.FORMATS if f.fallback] == ["generic"]


def test_facade_read_capture_uses_the_readers():
    w = cio.read_capture(FIXTURES / "owon_hds.csv")
    assert w.metadata["format"] == "owon"


def test_importing_cpsim_io_loads_neither_pandas_nor_pyarrow():
    code = "import sys, cpsim, cpsim.io; print(sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_reading_a_capture_does_not_import_pandas():
    # pyarrow's Array.to_numpy would pull pandas in (50 MB, ~0.5 s); the reader avoids it.
    code = (
        "import sys, cpsim.io; cpsim.io.read_channels(sys.argv[1]); "
        "print('pandas' in sys.modules, 'pyarrow' in sys.modules)"
    )
    path = str(FIXTURES / "rigol_ds1054z.csv")
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
