"""Binary capture files: real instrument files from shared/formats, twins, round trips, sigrok sessions.

The expected sample interval of each real file is the one SOURCES.md or its CSV twin
states (named in the table). The sigrok tests that build their own session need no
shared folder; the others skip when the folder is absent, as test_io_shared_formats does,
and fail (not skip) when it is present and a file cannot be read.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import cpsim
import cpsim.io as cio
from cpsim import CaptureFormatError

SHARED = Path(os.environ.get("CPSIM_SHARED_FORMATS") or Path(__file__).resolve().parents[2] / "shared" / "formats")
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} not present")

BINARY_SUFFIXES = {".wfm", ".bin", ".isf", ".trc", ".lwf", ".sr"}

# file: (format, channels, dt_s, n per channel, source of dt)
EXPECTED = {
    "keysight__MSO7034A_scope_27.bin": ("keysight-bin", ["CH1", "CH2"], 20e-6, 100, "the CSV scope_7_1: 20 µs/pt"),
    "keysight__agilent_1.bin": ("keysight-bin", ["CH1"], 0.5e-6, 2000, "agilent_1.txt: 2 MSa/s"),
    "lecroy__lecroy_4.trc": ("lecroy-trc", ["CH2"], 1e-9, 502, "WAVEDESC HORIZ_INTERVAL 1 ns"),
    "rigol__DHO824-ch1.bin": ("rigol-bin", ["CH1"], 0.4e-6, 10000, "same acquisition as DHO824-ch1.wfm"),
    "rigol__DHO824-ch1.wfm": ("rigol-wfm", ["CH1"], 0.4e-6, 10000, "same acquisition as DHO824-ch1.bin"),
    "rigol__DS1000E-A.wfm": ("rigol-wfm", ["CH1", "CH2"], 10e-6, 8192, "header: 100 kSa/s"),
    "rigol__DS1054Z-A.wfm": ("rigol-wfm", ["CH1", "CH2", "CH3", "CH4"], 4e-9, 278, "header: 250 MSa/s"),
    "rigol__DS1054Z-ch1SquareCH2Uart.wfm": ("rigol-wfm", ["CH1", "CH2"], 40e-9, 60256, "CSV twin: 40 ns/pt"),
    "rigol__DS1102D-A.wfm": ("rigol-wfm", ["CH1", "CH2"], 10e-6, 1024, "setup: 100 kSa/s"),
    "rigol__DS1102E-B.wfm": ("rigol-wfm", ["CH1"], 10e-9, 16384, "header: 100 MSa/s"),
    "rigol__DS1204B-F.wfm": ("rigol-wfm", ["CH2", "CH4"], 4e-6, 8192, "SOURCES.md: 4 µs/pt (250 kSa/s)"),
    "rigol__DS2072A-5.wfm": ("rigol-wfm", ["CH1", "CH2"], 1e-9, 14000, "header: 1 GSa/s"),
    "rigol__DS2072A-9.wfm": ("rigol-wfm", ["CH2"], 0.5e-6, 14000, "SOURCES.md: 0.5 µs/pt"),
    "rigol__DS4022-A.wfm": ("rigol-wfm", ["CH1", "CH2", "CH3", "CH4"], 2e-9, 7000, "header: 500 MSa/s"),
    "rohde-schwarz__rs_rtp_05.bin": ("rs-rtp", ["CH1", "CH2"], 25e-12, 4000, "SOURCES.md: 25 ps/pt"),
    "rohde-schwarz__rs_rtp_05.Wfm.bin": ("rs-rtp", ["CH1", "CH2"], 25e-12, 4000, "read through its XML header"),
    "sigrok__LHT00SU1_100khz_clock_2logic_1analog.sr": (
        "sigrok-sr", ["A0", "D0", "D1", "D2", "D3", "D4", "D5", "D6", "D7"], 1 / 12e6, 100000, "SOURCES.md: 12 MHz"),
    "tektronix__MDO4104C_tek0000CH1.isf": ("tektronix-isf", ["CH1"], 20e-9, 100000, "SOURCES.md: 20 ns/pt"),
}

# file: words the one-line refusal must hold
REFUSED = {
    "rigol__MSO5074-A.bin": ["Rigol .bin", "malformed MSO5074 concatenated"],
    "tektronix__MDO4104C_tek0002NRM.isf": ["frequency-domain", "Hz"],
    "hantek__DSO2C10_scope_wave_26_5.lwf": ["Hantek .lwf", "no maintained reader", "export CSV"],
}


def binary_files() -> list[str]:
    if not SHARED.is_dir():
        return []
    return sorted(p.name for p in SHARED.iterdir() if p.is_file() and p.suffix.lower() in BINARY_SUFFIXES)


def rising_times(w, level: float | None = None) -> np.ndarray:
    mid = 0.5 * (w.v.max() + w.v.min()) if level is None else level
    up = np.flatnonzero((w.v[:-1] < mid) & (w.v[1:] >= mid))
    return w.t[up]


def assert_capture(w) -> None:
    assert len(w) >= 2 and np.isfinite(w.v).all() and (np.diff(w.t) > 0).all()


@needs_shared
@pytest.mark.parametrize("name", binary_files())
def test_every_binary_file_is_read_with_its_time_step_or_refused_with_a_reason(name):
    path = SHARED / name
    if name in REFUSED:
        with pytest.raises(CaptureFormatError) as err:
            cio.read_channels(path)
        message = str(err.value)
        assert message.startswith(str(path)) and "\n" not in message
        for word in REFUSED[name]:
            assert word in message
        return
    channels = cio.read_channels(path)  # a file not in the tables must still read
    for w in channels.values():
        assert_capture(w)
        assert w.metadata["source_path"] == str(path)
    if name not in EXPECTED:
        return
    fmt, names, dt_s, n, _source = EXPECTED[name]
    assert list(channels) == names
    assert cio.detect_format(path) == fmt
    for w in channels.values():
        assert w.metadata["format"] == fmt
        assert len(w) == n
        assert w.metadata["stated_sample_interval_s"] == pytest.approx(dt_s, rel=1e-6)
        np.testing.assert_allclose(np.diff(w.t), dt_s, rtol=1e-6)
        assert w.sample_interval_s == pytest.approx(dt_s, rel=1e-9)


@needs_shared
def test_tables_name_only_files_in_the_folder():
    missing = [n for n in [*EXPECTED, *REFUSED] if not (SHARED / n).is_file()]
    assert not missing, f"files named in the tables but absent: {missing}"


# -- twins: the same acquisition saved as binary and as CSV ---------------------------------

TWINS = [
    # binary, CSV, channels, atol [V] (the CSV's printed precision; 0 = identical)
    ("rigol__DS1204B-F.wfm", "rigol__DS1204B-F.csv", ["CH2", "CH4"], 1e-12),
    ("rigol__DS2072A-9.wfm", "rigol__DS2072A-9.csv", ["CH2"], 0.0),
    ("tektronix__MDO4104C_tek0000CH1.isf", "tektronix__MDO4104C_RTC.csv", ["CH1"], 1e-6),
    ("rohde-schwarz__rs_rtp_05.bin", "rohde-schwarz__rs_rtp_05.Wfm.csv", ["CH1", "CH2"], 1e-8),
]


@needs_shared
@pytest.mark.parametrize("binary, csv, names, atol", TWINS)
def test_binary_twin_gives_the_csv_samples(binary, csv, names, atol):
    b = cio.read_channels(SHARED / binary)
    c = cio.read_channels(SHARED / csv)  # truncated: compare its rows with the first ones of the binary
    for name in names:
        wb, wc = b[name], c[name]
        n = len(wc)
        assert n >= 1000
        np.testing.assert_allclose(wb.v[:n], wc.v, rtol=0, atol=atol)
        dt = wb.metadata["stated_sample_interval_s"]
        np.testing.assert_allclose(wb.t[:n], wc.t, rtol=0, atol=1e-6 * dt)


@needs_shared
def test_dho_wfm_and_bin_of_one_acquisition_agree():
    a = cio.read_capture(SHARED / "rigol__DHO824-ch1.wfm")
    b = cio.read_capture(SHARED / "rigol__DHO824-ch1.bin")
    np.testing.assert_allclose(a.t, b.t, rtol=1e-7)  # the .bin stores its time step as float32
    np.testing.assert_allclose(a.v, b.v, rtol=0, atol=1e-5)  # 12-bit counts vs the .bin's float32 volts


# -- write -> read: RigolWFM writes CSV, cpsim's CSV route reads it back ---------------------

@needs_shared
@pytest.mark.parametrize("name", ["rigol__DS1204B-F.wfm", "rigol__DS1054Z-A.wfm", "keysight__agilent_1.bin",
                                  "tektronix__MDO4104C_tek0000CH1.isf", "lecroy__lecroy_4.trc"])
def test_library_written_csv_reads_back_to_the_same_samples(tmp_path, name):
    import RigolWFM.wfm as rwfm

    written = tmp_path / "roundtrip.csv"
    written.write_text(rwfm.Wfm.from_file(str(SHARED / name)).sigrokcsv())
    back = cio.read_channels(written)
    direct = cio.read_channels(SHARED / name)
    assert list(back) == list(direct)
    for ch, w in direct.items():
        np.testing.assert_array_equal(back[ch].v, w.v)  # 17 significant digits: exact
        # RigolWFM writes its own time axis; for DS1000B it spreads n samples over
        # linspace (one step n/(n-1) long), which is why cpsim rebuilds t0 + k*dt
        dt = w.metadata["stated_sample_interval_s"]
        np.testing.assert_allclose(back[ch].t, w.t, rtol=0, atol=1.001 * dt)
        assert back[ch].t[0] == pytest.approx(w.t[0], abs=1e-9 * dt)


# -- known answers --------------------------------------------------------------------------

@needs_shared
def test_ds1204b_wfm_measures_1khz_50_percent_through_the_analyzer():
    m = cpsim.analyze(SHARED / "rigol__DS1204B-F.wfm")
    assert m.frequency_hz == pytest.approx(1000.0, rel=1e-3)
    assert m.duty == pytest.approx(0.50, abs=0.005)
    assert m.v_high == pytest.approx(15, abs=1.5) and m.v_low == pytest.approx(-15, abs=1.5)


@needs_shared
def test_ds1204b_metadata_comes_from_the_file():
    w = cio.read_capture(SHARED / "rigol__DS1204B-F.wfm", channel=4)
    md = w.metadata
    assert w.channel == "CH4" and md["channel_selection"] == "requested channel 4"
    assert md["probe_factor"] == 10 and md["coupling"] == "AC"
    assert md["volts_per_div"] == 20 and md["sample_rate_hz"] == pytest.approx(250e3)
    assert md["header"]["scopetype"] == "DS1204B"
    assert md["instrument"]["model"] == "DS1000B" and md["instrument"]["parser"].startswith("RigolWFM")
    assert md["trigger"]["source"] == "CH1"
    assert md["time_axis"] == "uniform" and md["rows"] == 8192


@needs_shared
def test_metadata_of_other_families():
    z = cio.read_capture(SHARED / "rigol__DS1054Z-A.wfm").metadata
    assert z["instrument"]["firmware"] == "00.04.04.SP4" and z["probe_factor"] == 10 and z["coupling"] == "DC"
    k = cio.read_capture(SHARED / "keysight__MSO7034A_scope_27.bin").metadata
    assert k["instrument"]["model"] == "MSO7034A" and k["instrument"]["serial_number"] == "MY12345678"
    assert "acquired" not in k  # both Keysight files here have blank date and time fields
    d = cio.read_capture(SHARED / "rigol__DS2072A-9.wfm").metadata
    assert d["instrument"]["firmware"] == "00.03.06.00.00" and d["trigger"]["source"] == "CH2"


@needs_shared
def test_channel_selection_by_name_and_number_as_for_csv():
    path = SHARED / "rigol__DS4022-A.wfm"
    for request in (3, "CH3", "ch 3", "3", "Channel 3"):
        assert cio.read_capture(path, channel=request).channel == "CH3"
    assert cio.read_capture(path).channel == "CH1"
    with pytest.raises(CaptureFormatError, match="no channel 'CH7' in this file; channels present: CH1, CH2"):
        cio.read_capture(path, channel="CH7")
    with pytest.raises(CaptureFormatError, match="no channel 1 in this file; channels present: CH2"):
        cio.read_capture(SHARED / "rigol__DS2072A-9.wfm", channel=1)


@needs_shared
def test_iter_chunks_of_a_binary_file_are_the_whole_read_in_pieces():
    path = SHARED / "tektronix__MDO4104C_tek0000CH1.isf"
    whole = cio.read_capture(path)
    pieces = list(cio.iter_chunks(path, chunk_rows=30000))
    assert [len(p) for p in pieces] == [30000, 30000, 30000, 10000]
    assert [len(p) for p in cio.iter_chunks(path, chunk_rows=50000 - 1)] == [49999, 49999, 2]
    assert [len(p) for p in cio.iter_chunks(path, chunk_rows=33333)] == [33333, 33333, 33334]  # no 1-sample tail
    np.testing.assert_array_equal(np.concatenate([p.t for p in pieces]), whole.t)
    np.testing.assert_array_equal(np.concatenate([p.v for p in pieces]), whole.v)


@needs_shared
def test_sigrok_session_carries_one_clock_on_a0_d0_d1():
    path = SHARED / "sigrok__LHT00SU1_100khz_clock_2logic_1analog.sr"
    w = cio.read_capture(path)
    assert w.channel == "A0" and w.metadata["value_unit"] == "V"
    assert w.v.min() == pytest.approx(-2.734375) and w.v.max() == pytest.approx(1.953125)
    periods = {}
    for name in ("A0", "D0", "D1"):
        ch = cio.read_capture(path, channel=name)
        periods[name] = np.median(np.diff(rising_times(ch))) * ch.metadata["sample_rate_hz"]
    # The same clock on all three, 12 000 samples per period. At the 12 MHz the metadata
    # states that is 1 kHz, not the 100 kHz of the file's name: cpsim reports what the
    # file says and does not guess which of the two is wrong.
    assert periods == pytest.approx({"A0": 12000, "D0": 12000, "D1": 12000}, rel=0.001)
    d0 = cio.read_capture(path, channel="D0")
    assert d0.metadata["analog"] is False and set(np.unique(d0.v)) == {0.0, 1.0}


# -- refusals -------------------------------------------------------------------------------

@needs_shared
@pytest.mark.parametrize("name", [n for n in EXPECTED if not n.endswith(".sr")])
@pytest.mark.parametrize("keep", [0.0, 0.5, 0.97])
def test_truncated_binary_files_give_one_clean_line(tmp_path, name, keep):
    data = (SHARED / name).read_bytes()
    path = tmp_path / name  # same name: the R&S payload keeps its header beside it
    if name == "rohde-schwarz__rs_rtp_05.bin":
        (tmp_path / "rohde-schwarz__rs_rtp_05.Wfm.bin").write_bytes(
            (SHARED / "rohde-schwarz__rs_rtp_05.Wfm.bin").read_bytes()[: int(keep * 64008)])
    path.write_bytes(data[: max(1, int(keep * len(data)))] if keep else data[:16])
    try:
        channels = cio.read_channels(path)
    except CaptureFormatError as err:
        assert str(err).startswith(str(path)) and "\n" not in str(err)
        return
    for w in channels.values():  # a cut that leaves a whole channel readable is fine
        assert_capture(w)


def test_cli_refusal_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "cut.wfm"
    path.write_bytes(b"\xa5\xa5\x38\x00DS2072A" + bytes(300))
    out = subprocess.run([sys.executable, "-m", "cpsim.cli", "analyze", str(path)], capture_output=True, text=True)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "Rigol .wfm" in lines[0] and "Traceback" not in out.stderr


def test_hantek_lwf_names_why_it_is_not_read(tmp_path):
    path = tmp_path / "scope.lwf"
    path.write_bytes(b"lwf\x00" + bytes(400))
    with pytest.raises(CaptureFormatError, match="Hantek .lwf"):
        cio.read_capture(path)


# -- sigrok sessions built here: the answer is known by construction -----------------------

def write_session(path: Path, *, rate="1 MHz", unitsize=1, probes=("D0", "D1"), logic=None, analog=None,
                  chunks=1, version="2", extra="") -> None:
    """A srzip v2 session: logic samples (ints), analog {index: (name, float32 values)}, split in chunks."""
    lines = ["[global]", "sigrok version=0.5.2", "", "[device 1]", "capturefile=logic-1",
             f"total probes={len(probes)}", f"samplerate={rate}", f"total analog={len(analog or {})}"]
    lines += [f"probe{k + 1}={name}" for k, name in enumerate(probes) if name]
    lines += [f"analog{index}={name}" for index, (name, _) in (analog or {}).items()]
    lines += [f"unitsize={unitsize}", extra]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("version", version)
        z.writestr("metadata", "\n".join(lines) + "\n")
        if logic is not None:
            width = unitsize if unitsize in (1, 2, 4, 8) else 1
            raw = np.asarray(logic, dtype=f"<u{width}").tobytes()
            for k, part in enumerate(np.array_split(np.frombuffer(raw, np.uint8).reshape(-1, width), chunks)):
                z.writestr(f"logic-1-{k + 1}", part.tobytes())
        for index, (_name, values) in (analog or {}).items():
            for k, part in enumerate(np.array_split(np.asarray(values, dtype="<f4"), chunks)):
                z.writestr(f"analog-1-{index}-{k + 1}", part.tobytes())


def test_sigrok_session_round_trip_with_known_samples(tmp_path):
    n = 10_000
    k = np.arange(n)
    cp = np.where((k // 1000) % 2 == 0, 12.0, -12.0).astype(np.float32)  # 1 kHz at 2 MSa/s... below
    pp = np.linspace(-1, 1, n, dtype=np.float32)
    bits = ((k // 500) % 2) | (((k // 250) % 2) << 9)  # D0: 1 kHz square, D9 (second byte): 2 kHz
    path = tmp_path / "pilot.sr"
    probes = ["D0", "", "D2", "D3", "D4", "D5", "D6", "D7", "D8", "D9"]  # probe2 disabled
    write_session(path, rate="2 MHz", unitsize=2, probes=probes, logic=bits,
                  analog={11: ("CP", cp), 12: ("PP", pp)}, chunks=3)
    assert cio.detect_format(path) == "sigrok-sr"
    channels = cio.read_channels(path)
    assert list(channels) == ["CP", "PP", "D0", "D2", "D3", "D4", "D5", "D6", "D7", "D8", "D9"]
    w = channels["CP"]
    np.testing.assert_array_equal(w.v, cp.astype(np.float64))
    np.testing.assert_array_equal(w.t, k * 0.5e-6)
    np.testing.assert_array_equal(channels["PP"].v, pp.astype(np.float64))
    np.testing.assert_array_equal(channels["D0"].v, (k // 500) % 2)
    np.testing.assert_array_equal(channels["D9"].v, (k // 250) % 2)
    assert not channels["D3"].v.any()
    assert cio.read_capture(path).channel == "CP"  # first analog channel
    assert cio.read_capture(path, channel=2).channel == "PP"  # no numbers: the n-th channel
    assert cio.read_capture(path, channel="d9").channel == "D9"
    pieces = list(cio.iter_chunks(path, channel="CP", chunk_rows=4000))
    assert [len(p) for p in pieces] == [4000, 6000] or [len(p) for p in pieces] == [4000, 4000, 2000]
    np.testing.assert_array_equal(np.concatenate([p.v for p in pieces]), w.v)
    m = cpsim.analyze(path)
    assert m.frequency_hz == pytest.approx(1000.0, rel=1e-6) and m.duty == pytest.approx(0.5, abs=1e-3)


@pytest.mark.parametrize("text, hz", [("12 MHz", 12e6), ("500 kHz", 5e5), ("1 GHz", 1e9), ("100 Hz", 100.0),
                                      ("250000", 250000.0), ("1.5 MHz", 1.5e6)])
def test_sigrok_samplerate_units(text, hz):
    from cpsim.io.sigrok import samplerate_hz

    assert samplerate_hz(text) == hz


@pytest.mark.parametrize("change, words", [
    (dict(version="1"), "version '1'"),
    (dict(rate="fast"), "samplerate 'fast'"),
    (dict(unitsize=0), "unitsize 0"),
    (dict(probes=()), "names no channel"),
])
def test_damaged_sigrok_sessions_are_refused(tmp_path, change, words):
    path = tmp_path / "bad.sr"
    kwargs = dict(logic=np.zeros(100, dtype=np.uint8))
    kwargs.update(change)
    write_session(path, **kwargs)
    with pytest.raises(CaptureFormatError, match="sigrok session") as err:
        cio.read_channels(path)
    assert words in str(err.value)


def test_sigrok_chunk_of_wrong_size_is_refused(tmp_path):
    path = tmp_path / "odd.sr"
    write_session(path, probes=(), analog={1: ("A0", np.zeros(10, np.float32))})
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("analog-1-1-2", b"\x00\x00\x80")  # 3 bytes: not a float32
    with pytest.raises(CaptureFormatError, match="not a whole number of 4-byte values"):
        cio.read_capture(path)


# -- a deep-memory file built from a real one (the benchmark's generator) ------------------

def deep_ds1000z(template: Path, out: Path, points: int) -> None:
    """A one-channel DS1000Z .wfm of ``points`` samples: the template's header with CH1 only
    enabled and ``memory_depth`` patched, then its CH1 bytes repeated (see benchmarks/bench_read_binary.py)."""
    data = template.read_bytes()
    start = 3213  # the samples follow the horizontal block (its offset 2317 + its 896 bytes, in the header)
    head = bytearray(data[:start])
    head[88] = (head[88] & 0xF0) | 0x01  # channel-enable bits: CH1 only (stride 1)
    struct.pack_into("<I", head, 116, points)  # memory_depth
    ch1 = np.frombuffer(data[start:], np.uint8)[1::2]  # two channels interleaved: CH1 is the odd bytes
    out.write_bytes(bytes(head) + np.resize(ch1, points).tobytes())


@needs_shared
def test_deep_ds1000z_file_reads_every_sample(tmp_path):
    path = tmp_path / "deep.wfm"
    deep_ds1000z(SHARED / "rigol__DS1054Z-ch1SquareCH2Uart.wfm", path, 3_000_000)
    w = cio.read_capture(path)
    assert len(w) == 3_000_000 and w.metadata["format"] == "rigol-wfm"
    assert w.sample_interval_s == pytest.approx(40e-9, rel=1e-6)
    template = cio.read_capture(SHARED / "rigol__DS1054Z-ch1SquareCH2Uart.wfm")
    # same ADC codes; RigolWFM biases single- and two-channel SP3 captures differently
    assert np.ptp(w.v[:60256]) == pytest.approx(np.ptp(template.v), abs=1e-9)
    pieces = cio.iter_chunks(path, chunk_rows=1_000_000)
    assert sum(len(p) for p in pieces) == 3_000_000
