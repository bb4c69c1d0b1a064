"""Real instrument exports from shared/formats (not part of the project; skipped when absent).

The expected sample interval of each file is the one stated in its own header or in
shared/formats/SOURCES.md (the source named in the table); value checks use what
SOURCES.md or the header says about the signal.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import cpsim.io as cio
from cpsim import CaptureFormatError

SHARED = Path(os.environ.get("CPSIM_SHARED_FORMATS") or Path(__file__).resolve().parents[2] / "shared" / "formats")

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} not present")

# file: (format, channels, dt_s, source of dt). dt None: irregular (event) timestamps.
EXPECTED = {
    "digilent__AnalogDiscovery2_Step.csv": ("digilent", ["Channel 1", "Channel 2"], 1 / 1.5873e6,
                                            "header: Sample rate 1.5873e+06Hz"),
    "hantek__DSO5000_WaveData50.csv": ("hantek", ["CH1"], 0.2e-6, "SOURCES.md: 0.2 µs/pt"),
    "keysight__MSO7034A_scope_3.csv": ("keysight", ["CH1", "CH2"], 2e-6, "SOURCES.md: 2 µs/pt"),
    "keysight__MSO7034A_scope_7_1_asciixy.csv": ("keysight", ["CH1"], 20e-6,
                                                 "first/last rows: -1 ms .. 0.98 ms in 100 points"),
    "keysight__unknown-model_scope_1.csv": ("keysight", ["CH1"], 10e-6, "SOURCES.md: 10 µs/pt"),
    "owon__HDS242_WAVE1.CSV": ("owon", ["CH1"], 0.08e-6, "header: Time interval 0.08uS"),
    "owon__HDS242_WAVE3.CSV": ("owon", ["CH1"], 0.40e-6, "header: Time interval 0.40uS"),
    "picoscope__Hysterese.csv": ("picoscope", ["Channel A", "Channel B"], 2.56e-6, "SOURCES.md: 2.56 µs/pt"),
    "picoscope__PicoScopeData.txt": ("picoscope", ["Kanal A", "Kanal B"], 2.62144e-3, "rows 1-2: 2.62144 (ms) apart"),
    "picoscope__Wellenform.csv": ("picoscope", ["Channel A"], 1.28e-6, "SOURCES.md: 1.28 µs/pt"),
    "rigol__DS1052E.csv": ("rigol-ds1052e", ["CH1", "CH2"], 2e-9, "SOURCES.md: 2 ns/pt"),
    "rigol__DS1054Z-A.csv": ("rigol-csv", ["CH1", "CH2", "CH3", "CH4"], 0.5e-9, "SOURCES.md: 0.5 ns/pt"),
    "rigol__DS1054Z-ch1SquareCH2Uart.csv": ("rigol-csv", ["CH1", "CH2"], 40e-9, "SOURCES.md: 40 ns/pt"),
    "rigol__DS1102D-A.csv": ("rigol-ds1000d", ["CH1", "CH2"], 10.01e-6, "SOURCES.md: 10.01 µs"),
    "rigol__DS1102E-B.csv": ("rigol-ds1000e", ["CH1"], 20e-9, "SOURCES.md: 20 ns/pt"),
    "rigol__DS1204B-F.csv": ("rigol-ds1000b", ["CH2", "CH4"], 4e-6, "SOURCES.md: 4 µs/pt"),
    "rigol__DS2072A-5.csv": ("rigol-csv", ["CH1", "CH2"], 10e-9, "SOURCES.md: 10 ns/pt"),
    "rigol__DS2072A-9.csv": ("rigol-csv", ["CH2"], 0.5e-6, "SOURCES.md: 0.5 µs/pt"),
    "rigol__DS4024-A.csv": ("rigol-csv", ["CH1", "CH2"], 2e-6, "SOURCES.md: 2 µs/pt"),
    "rigol__MSO5354_RigolDS3.csv": ("rigol-mso5000", ["CH1"], 5e-7, "header: tInc = 5e-07s"),
    "rigol__unknown-model_PowerElectronics_Lab4_NewFile1.csv": ("rigol-csv", ["CH1", "CH2"], 2e-9,
                                                                "SOURCES.md: 2 ns/pt"),
    "rohde-schwarz__rs_rtp_05.Wfm.csv": ("generic", ["CH1", "CH2"], 25e-12, "SOURCES.md: 25 ps/pt"),
    "saleae__logic2-analog_WP4-code_analog.csv": ("saleae", ["ADC", "FUENTE CORRIENTE"], 20e-3, "SOURCES.md: 20 ms/pt"),
    "saleae__logic2-digital_SENTToUSB_digital.csv": ("saleae", ["Channel 2"], None, "one row per transition"),
    "siglent__SDS1202X-E_SDS00001.csv": ("siglent", ["CH1"], 2e-6, "SOURCES.md: 2 µs/pt"),
    "tektronix__MDO4104C_RTC.csv": ("tektronix-mdo", ["CH1", "CH2"], 20e-9, "SOURCES.md: 20 ns/pt"),
    "tektronix__TBS1072B_F0000CH1.CSV": ("tektronix-tbs", ["CH1"], 4e-3, "SOURCES.md: 4 ms/pt"),
}



def shared_files() -> list[str]:
    if not SHARED.is_dir():
        return []
    return sorted(p.name for p in SHARED.iterdir() if p.is_file() and p.name != "SOURCES.md")


def is_capture(name: str) -> bool:
    """Listed above, or a CSV added to the folder later; setup texts, XML and binaries are not."""
    return name in EXPECTED or name.lower().endswith(".csv")


def is_binary(name: str) -> bool:
    """Binary captures (and the R&S XML header) are read or refused in test_io_binary.py."""
    return Path(name).suffix.lower() in {".wfm", ".bin", ".isf", ".trc", ".lwf", ".sr"}


def rising_period_s(w) -> float:
    """Median time between rising mid-level crossings."""
    mid = 0.5 * (w.v.max() + w.v.min())
    up = np.flatnonzero((w.v[:-1] < mid) & (w.v[1:] >= mid))
    return float(np.median(np.diff(w.t[up])))


@pytest.mark.parametrize("name", [n for n in shared_files() if is_capture(n)])
def test_every_csv_like_file_reads_with_the_stated_time_step(name):
    channels = cio.read_channels(SHARED / name)
    fmt, names, dt_s, _source = EXPECTED.get(name, (None, None, None, ""))
    for w in channels.values():
        assert len(w) >= 2 and np.isfinite(w.v).all() and (np.diff(w.t) > 0).all()
        assert np.abs(w.v).max() < 1000, "values must be volts, not mV or raw counts"
        assert w.metadata["source_path"] == str(SHARED / name)
        assert w.metadata["header"] is not None
    if fmt is None:
        return  # a file added after this table was written: generic sanity only
    assert [w.metadata["format"] for w in channels.values()] == [fmt] * len(names)
    assert list(channels) == names
    if dt_s is not None:
        for w in channels.values():
            assert np.median(np.diff(w.t)) == pytest.approx(dt_s, rel=2e-3)
            assert w.sample_interval_s == pytest.approx(dt_s, rel=2e-3)
        stated = next(iter(channels.values())).metadata.get("stated_sample_interval_s")
        if stated is not None:
            assert stated == pytest.approx(dt_s, rel=1e-3)


@pytest.mark.parametrize("name", [n for n in shared_files() if not is_capture(n) and not is_binary(n)])
def test_other_files_are_refused_with_a_capture_format_error(name):
    with pytest.raises(CaptureFormatError) as err:
        cio.read_capture(SHARED / name)
    assert name in str(err.value)


def test_table_covers_the_folder():
    missing = [n for n in EXPECTED if not (SHARED / n).is_file()]
    assert not missing, f"files named in EXPECTED but absent: {missing}"


# Known answers about the signals, from SOURCES.md and the files' own headers.

def test_ds1204b_is_a_bipolar_15v_1khz_square():
    for w in cio.read_channels(SHARED / "rigol__DS1204B-F.csv").values():
        assert w.v.max() == pytest.approx(15, abs=1.5) and w.v.min() == pytest.approx(-15, abs=1.5)
        assert rising_period_s(w) == pytest.approx(1e-3, rel=0.01)


def test_ds4024_ch1_is_a_0_to_3v_square_and_sequence_offset_is_applied():
    w = cio.read_capture(SHARED / "rigol__DS4024-A.csv", channel="CH1")
    assert np.percentile(w.v, 5) == pytest.approx(0, abs=0.3) and np.percentile(w.v, 95) == pytest.approx(3, abs=0.3)
    # Start = -1.4 ms and the sequence starts at 22: t0 = -1.4 ms + 22 * 2 µs.
    assert w.t[0] == pytest.approx(-1.4e-3 + 22 * 2e-6, abs=1e-12)


def test_siglent_is_a_1khz_1v6_square():
    w = cio.read_capture(SHARED / "siglent__SDS1202X-E_SDS00001.csv")
    assert w.v.max() == pytest.approx(1.6, abs=0.1) and w.v.min() == pytest.approx(-1.6, abs=0.15)
    assert rising_period_s(w) == pytest.approx(1e-3, rel=0.03)


def test_digilent_channel1_is_the_wavegen_square():
    w = cio.read_capture(SHARED / "digilent__AnalogDiscovery2_Step.csv")
    assert w.channel == "Channel 1"
    assert np.percentile(w.v, 95) == pytest.approx(0.43, abs=0.05)
    assert np.percentile(w.v, 5) == pytest.approx(-0.43, abs=0.05)


@pytest.mark.parametrize("name, vpp", [("owon__HDS242_WAVE1.CSV", 3.520), ("owon__HDS242_WAVE3.CSV", 1.300)])
def test_owon_millivolts_become_volts(name, vpp):
    # The header states the peak-to-peak of the whole record; the file here is truncated.
    w = cio.read_capture(SHARED / name)
    assert 0.5 * vpp <= np.ptp(w.v) <= vpp + 0.05


def test_mso5354_door_bus_levels():
    w = cio.read_capture(SHARED / "rigol__MSO5354_RigolDS3.csv")
    assert w.t[0] == pytest.approx(-1.01, abs=1e-12)
    assert 0 <= w.v.min() and w.v.max() <= 22.75 + 0.5


def test_keysight_empty_last_row_is_dropped():
    w = cio.read_capture(SHARED / "keysight__MSO7034A_scope_3.csv")
    assert w.metadata["dropped_last_row"]["line"] == 1002
    assert w.t[-1] == pytest.approx(996e-6, abs=1e-12)


def test_saleae_digital_export_is_logic_levels():
    w = cio.read_capture(SHARED / "saleae__logic2-digital_SENTToUSB_digital.csv")
    assert set(np.unique(w.v)) <= {0.0, 1.0}
    assert w.metadata["value_unit"] == "logic" and w.metadata["analog"] is False


def test_picoscope_german_txt_time_is_converted_from_ms():
    w = cio.read_capture(SHARED / "picoscope__PicoScopeData.txt", channel="Channel A")
    assert w.t[0] == pytest.approx(-52.95434967e-3, abs=1e-12)
