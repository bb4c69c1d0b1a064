"""Bad input gives a CaptureFormatError naming the file, the line and what was expected."""

from __future__ import annotations

import resource
from pathlib import Path

import numpy as np
import pytest

import cpsim.io as cio
from cpsim import CaptureFormatError, CpsimError, ParameterError
from cpsim.io import _csvcore, registry

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "captures"
GOOD = "time_s,cp_v\n0,12\n1e-06,12\n2e-06,-12\n3e-06,-12\n"  # cpsim layout, lines 1..5


def write(tmp_path: Path, data: bytes | str, name: str = "capture.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def read_error(path: Path, **kw) -> CaptureFormatError:
    with pytest.raises(CaptureFormatError) as err:
        cio.read_channels(path, **kw) if "channel" not in kw else cio.read_capture(path, **kw)
    assert err.value.path == str(path)
    assert str(err.value).startswith(str(path))
    return err.value


@pytest.mark.parametrize(
    "data, line, words",
    [
        (GOOD.replace("1e-06,12", "1e-06,abc"), 3, ["cp value 'abc'", "not a finite number"]),
        (GOOD.replace("1e-06,12", "1e-06,nan"), 3, ["'nan'", "not a finite number"]),
        (GOOD.replace("1e-06,12", "1e-06,inf"), 3, ["'inf'"]),
        (GOOD.replace("1e-06,12", "1e-06,"), 3, ["empty cp value"]),
        (GOOD.replace("1e-06,12\n", "1e-06,12\n\n"), 4, ["blank line"]),
        (GOOD.replace("1e-06,12", "1e-06,12,5"), 3, ["3 fields, expected 2"]),
        (GOOD.replace("1e-06,12", "1e-06"), 3, ["1 fields, expected 2"]),
        (GOOD.replace("1e-06,12", "x1e-06,12"), 3, ["time value 'x1e-06'"]),
        (GOOD.replace("2e-06,", "1e-06,"), 4, ["time does not increase"]),
        (GOOD.replace("2e-06,", "0.5e-06,"), 4, ["time does not increase", "5e-07 s after 1e-06 s"]),
        (GOOD + "3e-06,1\n", 6, ["time does not increase"]),
        (GOOD + "4e-06,1.2e", 6, ["'1.2e'", "not a finite number"]),  # cut inside a number
        (GOOD + "4e-06,-", 6, ["'-'"]),
        (GOOD + "4e-06,1.2.3\n", 6, ["'1.2.3'"]),
        (GOOD.replace("1e-06,12", "1e-06,\"12\""), 3, ["'\"12\"'"]),
        (GOOD.replace("1e-06,12", "1e-06,12\x00"), 3, ["not a finite number"]),
        (GOOD.replace("1e-06,12", "1e-06,1\xe9"), 3, ["not a finite number"]),
        (GOOD.replace("1e-06,12", "1e-06,∞"), 3, ["over-range"]),
    ],
    ids=[
        "non-numeric", "nan", "inf", "empty-cell", "blank-row", "extra-field", "missing-field", "bad-time",
        "repeated-time", "time-goes-back", "time-goes-back-at-end", "cut-in-number", "cut-after-sign",
        "two-points", "quoted", "nul-byte", "latin1-byte", "picoscope-infinity",
    ],
)
def test_bad_row_names_line_and_problem(tmp_path, data, line, words):
    err = read_error(write(tmp_path, data))
    assert err.line == line, str(err)
    for w in words:
        assert w in str(err)


def test_wrapped_parser_error_keeps_its_cause(tmp_path):
    err = read_error(write(tmp_path, GOOD.replace("1e-06,12", "1e-06,abc")))
    assert err.__cause__ is not None  # pyarrow's own exception, chained with `from`


@pytest.mark.parametrize("tail", ["4e-06,", "4e-06", "4e-06,\n", "4e-06, \r\n\r\n"])
def test_last_row_without_values_is_dropped_and_noted(tmp_path, tail):
    w = cio.read_capture(write(tmp_path, GOOD + tail))
    assert len(w) == 4
    assert w.metadata["dropped_last_row"]["line"] == 6


def test_row_without_values_in_the_middle_is_an_error(tmp_path):
    err = read_error(write(tmp_path, GOOD.replace("1e-06,12", "1e-06,") + "4e-06,1\n"))
    assert err.line == 3 and "empty cp value" in str(err)


@pytest.mark.parametrize(
    "data, words, line",
    [
        (b"", ["empty"], None),
        (b"\n\n   \n", ["only blank lines"], None),
        (b"time_s,cp_v\n", ["no data rows after the header"], 2),
        (b"time,voltage\n", ["no data rows after the header"], 2),
        (b"X,CH1,Start,Increment,\r\nSequence,Volt,-1e-3,1e-6,\r\n", ["no data rows"], 3),
        (b"time_s,cp_v\n0,12\n", ["only 1 sample", "at least 2"], 2),
        (b"time_s,cp_v\n0,12\n1e-6,", ["only 1 sample"], 2),
    ],
    ids=["empty", "blank-lines", "cpsim-header-only", "generic-header-only", "rigol-header-only", "one-sample",
         "one-sample-plus-empty-row"],
)
def test_no_usable_samples(tmp_path, data, words, line):
    err = read_error(write(tmp_path, data))
    for w in words:
        assert w in str(err)
    assert err.line == line


def test_text_that_is_not_a_capture_lists_formats_tried(tmp_path):
    err = read_error(write(tmp_path, "Dear user,\nthis is a letter, not a capture.\n\nRegards\n"))
    assert "tried:" in str(err)
    for name, _ in cio.list_formats():
        assert name in str(err)


def test_binary_junk(tmp_path):
    junk = np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    assert "not a text file" in str(read_error(write(tmp_path, junk, "junk.bin")))


@pytest.mark.parametrize(
    "data, kind",
    [
        (b"AG10\x04\x00\x00\x00" + bytes(200), "Keysight/Agilent .bin"),
        (b"#9000001350WAVEDESC\x00\x00\x00\x00LECROY_2_3" + bytes(200), "LeCroy .trc"),
        (b":WFMPRE:NR_PT 10;:WFMPRE:BYT_NR 2;:CURVE #220" + bytes(40), "Tektronix .isf"),
        (b"lwf\x00" + bytes(300), "Hantek .lwf"),
        (b"PK\x03\x04\x14\x00" + bytes(100), "ZIP"),
        (b'<?xml version="1.0"?>\n<Database>\n</Database>\n', "XML"),
        ("time,cp\n0,1\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_known_non_csv_files_are_named(tmp_path, data, kind):
    err = read_error(write(tmp_path, data, "capture.dat"))
    assert kind in str(err) and "export CSV" in str(err)


def test_unknown_format_name_lists_valid_ones(tmp_path):
    err = read_error(write(tmp_path, GOOD), fmt="tektronix-xyz")
    assert "unknown format 'tektronix-xyz'" in str(err)
    assert "rigol-csv" in str(err) and "generic" in str(err)


@pytest.mark.parametrize("fmt", [name for name, _ in cio.list_formats() if name not in ("cpsim", "generic")])
def test_forcing_the_wrong_layout_is_a_capture_error(tmp_path, fmt):
    with pytest.raises(CaptureFormatError):
        cio.read_capture(write(tmp_path, GOOD), fmt=fmt)


def test_ambiguous_detection_names_the_candidates(tmp_path, monkeypatch):
    always = lambda head: True
    fake = [cio.Format("a-scope", "A", always, cio.generic.layout),
            cio.Format("b-scope", "B", always, cio.generic.layout)]
    monkeypatch.setattr(registry, "FORMATS", fake)
    err = read_error(write(tmp_path, GOOD))
    assert "ambiguous" in str(err) and "a-scope, b-scope" in str(err)


def test_a_crashing_sniffer_does_not_break_detection(tmp_path, monkeypatch):
    def boom(head):
        raise IndexError("sniffer bug")

    monkeypatch.setattr(registry, "FORMATS", [cio.Format("boom", "x", boom, cio.generic.layout), *cio.FORMATS])
    assert cio.read_capture(write(tmp_path, GOOD)).metadata["format"] == "cpsim"


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CaptureFormatError, match="cannot read the file"):
        cio.read_capture(tmp_path / "nope.csv")
    with pytest.raises(CaptureFormatError):
        cio.read_capture(tmp_path)


def test_path_of_wrong_type_is_a_parameter_error():
    with pytest.raises(ParameterError):
        cio.read_capture(12345)


@pytest.mark.parametrize(
    "data, line, words",
    [
        ("X,CH1,Start,Increment,\nSequence,Volt,-1e-3,abc,\n0,1,\n1,2,\n", None, ["Start and Increment"]),
        ("X,CH1,Start,Increment,\nSequence,Volt,-1e-3,-1e-6,\n0,1,\n1,2,\n", None, ["positive"]),
        ("Channel\t:,CH1\nTime interval\t:,fast\n\nindex,CH1_Voltage(mV)\n0,1\n1,2\n", None, ["Time interval"]),
        ("Record Length,2.5e+03,,0.0,1.0,\nHorizontal Units,Hz,,1.0,2.0,\n", None, ["not seconds"]),
        ("time (Hz),mag\n1,2\n2,3\n", 1, ["not time"]),
        ("CH1(V),t0 = -1s, tInc = 0s,\n1,,\n2,,\n", None, ["positive"]),
    ],
    ids=["rigol-bad-increment", "rigol-negative-increment", "owon-bad-interval", "tek-fft", "generic-freq-axis",
         "mso-zero-interval"],
)
def test_bad_preamble(tmp_path, data, line, words):
    err = read_error(write(tmp_path, data))
    for w in words:
        assert w in str(err), str(err)
    if line is not None:
        assert err.line == line


def test_unit_conversion_overflow_names_the_line(tmp_path):
    err = read_error(write(tmp_path, "time,v (kV)\n0,1\n1,1e306\n2,1\n"))
    assert err.line == 3 and "after conversion to s and V" in str(err)


def test_huge_single_line_is_refused_quickly_in_bounded_memory(tmp_path):
    path = tmp_path / "oneline.csv"
    with open(path, "wb") as fh:
        block = b"1," * (1 << 19)
        for _ in range(50):  # 50 MiB without a line end
            fh.write(block)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for fmt in (None, "generic"):
        err = read_error(path, fmt=fmt) if fmt else read_error(path)
        assert err.line == 1 and "longer than" in str(err)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 20 * 1024


def test_huge_line_inside_the_data_is_refused(tmp_path):
    path = tmp_path / "longrow.csv"
    with open(path, "wb") as fh:
        fh.write(GOOD.encode())
        fh.write(b"5e-06," + b"7" * (3 << 20) + b"\n6e-06,1\n")
    err = read_error(path)
    assert err.line == 6 and "longer than 1 MiB" in str(err)


def test_bad_row_in_a_later_block_on_threads_names_exact_line(tmp_path, monkeypatch):
    monkeypatch.setattr(_csvcore, "BLOCK_BYTES", 256)
    monkeypatch.setattr(_csvcore, "default_workers", lambda: 2)
    rows = ["time_s,cp_v"] + [f"{k * 1e-6:.9g},{12 if k % 100 < 50 else -12}" for k in range(5000)]
    rows[3210] = rows[3210].replace(",", ",oops", 1)
    err = read_error(write(tmp_path, "\n".join(rows) + "\n"))
    assert err.line == 3211 and "'oops" in str(err)


def test_non_increasing_time_across_blocks_names_exact_line(tmp_path, monkeypatch):
    monkeypatch.setattr(_csvcore, "BLOCK_BYTES", 256)
    rows = ["time_s,cp_v"] + [f"{k * 1e-6:.9g},1" for k in range(3000)]
    rows[2500] = rows[2499]
    err = read_error(write(tmp_path, "\n".join(rows) + "\n"))
    assert err.line == 2501 and "does not increase" in str(err)


def test_iter_chunks_reports_errors_too(tmp_path, monkeypatch):
    monkeypatch.setattr(_csvcore, "BLOCK_BYTES", 256)
    rows = ["time_s,cp_v"] + [f"{k * 1e-6:.9g},1" for k in range(3000)]
    rows[2800] = rows[2798]
    path = write(tmp_path, "\n".join(rows) + "\n")
    with pytest.raises(CaptureFormatError) as err:
        for _ in cio.iter_chunks(path, chunk_rows=100):
            pass
    assert err.value.line == 2801


def test_every_error_is_a_cpsim_error(tmp_path):
    # The CLI catches CpsimError only: the io errors must all be of that family.
    assert issubclass(CaptureFormatError, CpsimError)
    err = read_error(write(tmp_path, GOOD.replace("1e-06,12", "1e-06,abc")))
    assert isinstance(err, CpsimError)
