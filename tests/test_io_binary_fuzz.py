"""Mutated binary captures: the only exception allowed out of the readers is CaptureFormatError.

Mutations of real instrument files (shared/formats, when present) and of a sigrok
session built here: byte flips, truncations, inserted and overwritten bytes, with the
header bytes (where the magic, sizes and scales live) hit most. Whatever is returned
must still be a valid capture (finite values, increasing time).
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cpsim.io as cio
from cpsim import CaptureFormatError

SHARED = Path(os.environ.get("CPSIM_SHARED_FORMATS") or Path(__file__).resolve().parents[2] / "shared" / "formats")
BINARY = [".wfm", ".bin", ".isf", ".trc", ".lwf", ".sr"]


def session_bytes() -> bytes:
    k = np.arange(4000)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:  # stored: flips land in the samples too
        z.writestr("version", "2")
        z.writestr("metadata", "[global]\nsigrok version=0.5.2\n\n[device 1]\ncapturefile=logic-1\n"
                               "total probes=2\nsamplerate=1 MHz\ntotal analog=1\nprobe1=D0\nprobe2=D1\n"
                               "analog3=A0\nunitsize=1\n")
        z.writestr("logic-1-1", (((k // 500) % 2) | (((k // 250) % 2) << 1)).astype(np.uint8).tobytes())
        z.writestr("analog-1-3-1", np.where((k // 500) % 2, 12.0, -12.0).astype("<f4").tobytes())
    return buf.getvalue()


SOURCES: dict[str, bytes] = {"session.sr": session_bytes()}
if SHARED.is_dir():
    for p in sorted(SHARED.iterdir()):
        if p.suffix.lower() in BINARY and p.stat().st_size <= 300_000:
            SOURCES[p.name] = p.read_bytes()
NAMES = sorted(SOURCES)
RS_PAYLOAD = "rohde-schwarz__rs_rtp_05.Wfm.bin"


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(NAMES))
    data = bytearray(SOURCES[name])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "flip_head", "truncate", "insert", "overwrite_head", "zero_head"]))
        if not data:
            break
        head = min(len(data), 1024)
        if op == "flip":
            data[draw(st.integers(0, len(data) - 1))] ^= 1 << draw(st.integers(0, 7))
        elif op == "flip_head":
            data[draw(st.integers(0, head - 1))] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[draw(st.integers(0, len(data) - 1)):]
        elif op == "insert":
            i = draw(st.integers(0, len(data) - 1))
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "overwrite_head":  # sizes and scales: 0xff.. makes huge counts, 0x80.. negative ones
            i = draw(st.integers(0, head - 1))
            chunk = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x80", b"\xff\xff\xff\x7f",
                                          b"\x00\x00\xc0\x7f", b"\x00\x00\x80\x7f"]))
            data[i:i + len(chunk)] = chunk
        else:
            i = draw(st.integers(0, head - 1))
            data[i:i + 8] = bytes(8)
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
    with tempfile.TemporaryDirectory(prefix="cpsim-binfuzz-") as d:
        if RS_PAYLOAD in SOURCES:  # the R&S XML header reads its samples from this companion
            shutil.copyfile(SHARED / RS_PAYLOAD, Path(d) / RS_PAYLOAD)
        yield Path(d)


def read_or_refuse(path: Path, **kwargs) -> None:
    try:
        channels = cio.read_channels(path, **kwargs)
    except CaptureFormatError as err:
        assert str(err).startswith(str(path)) and "\n" not in str(err)
        return
    check_result(channels)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated(), force=st.booleans())
def test_mutated_binary_files_raise_only_capture_format_error(workdir, case, force):
    name, data = case
    path = workdir / ("mutant-" + name)
    if name == "rohde-schwarz__rs_rtp_05.bin":
        path = workdir / name  # beside its payload
    path.write_bytes(data)
    fmt = None
    if force:
        try:
            fmt = cio.detect_format(SHARED / name) if name != "session.sr" else "sigrok-sr"
        except CaptureFormatError:
            fmt = None
    read_or_refuse(path, fmt=fmt)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated(), channel=st.one_of(st.none(), st.integers(-1, 6), st.sampled_from(["CH2", "A0", "d1", ""])))
def test_mutated_binary_files_with_channel_requests(workdir, case, channel):
    name, data = case
    path = workdir / ("mutant_channel-" + name)
    path.write_bytes(data)
    try:
        w = cio.read_capture(path, channel=channel)
    except CaptureFormatError:
        return
    check_result({w.channel: w})


@pytest.mark.parametrize("name", NAMES)
def test_every_truncation_point_class(workdir, name):
    # cuts inside the magic, the header, the first samples and the last byte
    data = SOURCES[name]
    for keep in sorted({1, 3, 4, 12, 64, 200, 512, len(data) // 2, len(data) - 1}):
        if 0 < keep < len(data):
            path = workdir / f"cut{keep}-{name}"
            path.write_bytes(data[:keep])
            read_or_refuse(path)
