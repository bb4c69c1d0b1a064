"""Mutated real-layout files: the only exception allowed out of the readers is CaptureFormatError.

Mutations: byte flips, truncations, insertions (bytes and hostile strings), line
duplications, deletions and swaps, applied to every fixture layout. Reads run both
in one block and in many small blocks on two threads, detected and forced format.
Whatever is returned must still be a valid capture (finite values, increasing time).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cpsim.io as cio
from cpsim import CaptureFormatError
from cpsim.io import _csvcore

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "captures"
TRUTH = json.loads((FIXTURES / "truth.json").read_text())
NAMES = sorted(TRUTH)
DATA = {name: (FIXTURES / name).read_bytes()[:6000] for name in NAMES}  # small: keeps examples fast

HOSTILE = [b"", b",", b"\n", b"\r\n", b"\r", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"nan", b"-inf", b"1e999",
           b"\"", b"\t", b";", b"1,2,3,4,5,6,7,8", b"\xe2\x88\x9e", b"CH1", b"x-axis,1", b"Time [s],a",
           b"#timebase=1(ps)", b"0" * 400, b" " * 70, b"9" * 330]


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(NAMES))
    data = bytearray(DATA[name])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "hostile", "dup_line", "drop_line", "swap_lines"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "hostile":
            data[i:i] = draw(st.sampled_from(HOSTILE))
        else:
            lines = bytes(data).split(b"\n")
            j = draw(st.integers(0, len(lines) - 1))
            if op == "dup_line":
                lines.insert(j, lines[j])
            elif op == "drop_line":
                del lines[j]
            else:
                k = draw(st.integers(0, len(lines) - 1))
                lines[j], lines[k] = lines[k], lines[j]
            data = bytearray(b"\n".join(lines))
    return name, bytes(data)


def check_result(channels) -> None:
    assert channels
    for w in channels.values():
        assert len(w) >= 2
        assert np.isfinite(w.t).all() and np.isfinite(w.v).all()
        assert (np.diff(w.t) > 0).all()
        assert w.metadata["format"] in {name for name, _ in cio.list_formats()}


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory(prefix="cpsim-fuzz-") as d:
        yield Path(d)


@settings(max_examples=250, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated(), small_blocks=st.booleans(), force=st.booleans())
def test_mutated_files_raise_only_capture_format_error(workdir, case, small_blocks, force):
    name, data = case
    path = workdir / "mutant.csv"
    path.write_bytes(data)
    fmt = TRUTH[name]["format"] if force else None
    with pytest.MonkeyPatch.context() as mp:
        if small_blocks:
            mp.setattr(_csvcore, "BLOCK_BYTES", 200)
            mp.setattr(_csvcore, "default_workers", lambda: 2)
        try:
            channels = cio.read_channels(path, fmt=fmt)
        except CaptureFormatError as err:
            assert str(err).startswith(str(path))
            return
    check_result(channels)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(case=mutated(), channel=st.one_of(st.none(), st.integers(-2, 6), st.sampled_from(["CH1", "ch2", "x", ""])))
def test_mutated_files_with_channel_requests(workdir, case, channel):
    name, data = case
    path = workdir / "mutant_channel.csv"
    path.write_bytes(data)
    try:
        w = cio.read_capture(path, channel=channel)
    except CaptureFormatError:
        return
    check_result({w.channel: w})


@settings(max_examples=40, deadline=None, derandomize=True)
@given(data=st.binary(min_size=0, max_size=3000))
def test_random_bytes(workdir, data):
    path = workdir / "random.bin"
    path.write_bytes(data)
    try:
        check_result(cio.read_channels(path))
    except CaptureFormatError:
        pass


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    rows=st.lists(
        st.tuples(st.floats(allow_nan=True, allow_infinity=True, width=64), st.floats(width=32)),
        min_size=0, max_size=40,
    ),
    header=st.sampled_from(["time_s,cp_v\n", "time,value\n", "", "Time [s],ADC\n", "x-axis,1\nsecond,Volt\n"]),
)
def test_arbitrary_numbers_in_real_headers(workdir, rows, header):
    path = workdir / "numbers.csv"
    path.write_text(header + "".join(f"{t!r},{v!r}\n" for t, v in rows))
    try:
        channels = cio.read_channels(path)
    except CaptureFormatError:
        return
    check_result(channels)
    t = np.array([r[0] for r in rows])
    assert np.isfinite(t).all() and (np.diff(t) > 0).all()  # accepted only when the file was valid
    (w,) = channels.values()
    np.testing.assert_array_equal(w.t, t)  # repr() round-trips exactly
    np.testing.assert_array_equal(w.v, [r[1] for r in rows])


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_mutated_files_read_the_same_with_and_without_the_fast_path(workdir, case, both_routes):
    # The compiled fast path (_fastrows.c) either takes a block exactly as pyarrow would
    # or hands it to pyarrow: a mutant gives the same arrays or the same error both ways.
    name, data = case
    path = workdir / "mutant_fast.csv"
    path.write_bytes(data)

    def read():
        return {k: (w.t.tobytes(), w.v.tobytes(), w.metadata) for k, w in cio.read_channels(path).items()}

    outcomes = both_routes(read)
    assert outcomes[0] == outcomes[1]
