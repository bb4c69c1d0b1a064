"""sigrok session files (``.sr``, the "srzip" format PulseView and sigrok-cli save).

A ZIP archive holding ``version`` (``2``), ``metadata`` (INI) and the sample chunks:

* ``logic-1-<chunk>``: ``unitsize`` bytes per sample, little-endian; bit ``k`` is
  logic probe ``probe<k+1>`` (a missing ``probeN`` key is a disabled probe).
  Channels carry no number: ``channel=n`` is the n-th channel listed, analog first.
* ``analog-1-<index>-<chunk>``: float32 little-endian values of the channel named by
  ``analog<index>`` (indices count on after the logic probes).

Chunks are concatenated in chunk-number order. Time is ``k / samplerate`` from 0
(srzip stores no trigger position). Logic probes read as 0.0 / 1.0 with
``value_unit == "logic"``.

No maintained Python reader of srzip exists (the ``sigrok`` bindings need the
libsigrok C library; ``pysigrok``'s reader, last released 2023, reads logic chunks
only), and the format is a documented ZIP of INI text and raw arrays, so it is read
here with :mod:`zipfile`, :mod:`configparser` and numpy.
Reference: https://sigrok.org/wiki/File_format:Sigrok/v2
"""

from __future__ import annotations

import configparser
import re
import zipfile
from typing import Any

import numpy as np

from ..errors import CaptureFormatError
from ._binary import Capture, Samples, check_time_step, one_line, uniform_time
from ._layout import Channel, Head

_RATE = re.compile(r"^\s*([0-9.]+(?:[eE][-+]?\d+)?)\s*([kKMG]?)\s*Hz\s*$")
_PREFIX = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}
_LOGIC = re.compile(r"^logic-1-(\d+)$")
_ANALOG = re.compile(r"^analog-1-(\d+)-(\d+)$")
MAX_UNPACKED = 1 << 34  # 16 GiB: a session claiming more is damaged (or a zip bomb)


def sniff(head: Head) -> bool:
    """A ZIP whose first member is ``version`` or ``metadata`` (sigrok writes ``version`` first)."""
    raw = head.raw
    if raw[:4] != b"PK\x03\x04" or len(raw) < 30:
        return False
    name_len = int.from_bytes(raw[26:28], "little")
    return raw[30:30 + name_len] in (b"version", b"metadata")


def samplerate_hz(text: str) -> float:
    """``"12 MHz"`` → 12e6; a bare number is Hz."""
    m = _RATE.match(text)
    if m:
        return float(m.group(1)) * _PREFIX[m.group(2)]
    return float(text)


def _fail(path: str, message: str) -> CaptureFormatError:
    return CaptureFormatError(f"not a readable sigrok session: {message}", path=path)


def read(head: Head, fmt: str = "sigrok-sr") -> Capture:
    path = head.path
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _fail(path, f"the ZIP archive is damaged or cut short ({one_line(exc)})") from exc
    with zf:
        names = set(zf.namelist())
        try:
            version = zf.read("version").decode("ascii", "replace").strip() if "version" in names else ""
            meta_text = zf.read("metadata").decode("utf-8", "replace") if "metadata" in names else None
        except Exception as exc:
            raise _fail(path, f"cannot unpack its header ({one_line(exc)})") from exc
    if meta_text is None:
        raise _fail(path, "no 'metadata' member")
    if version != "2":
        raise _fail(path, f"session format version {version or '?'!r} (cpsim reads version 2, sigrok 0.3 and later)")
    ini = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        ini.read_string(meta_text)
    except configparser.Error as exc:
        raise _fail(path, f"its metadata is not INI ({one_line(exc)})") from exc
    if not ini.has_section("device 1"):
        raise _fail(path, "metadata has no [device 1] section")
    dev = ini["device 1"]
    try:
        rate = samplerate_hz(dev.get("samplerate", ""))
    except ValueError as exc:
        raise _fail(path, f"samplerate {dev.get('samplerate', '')!r} is not a frequency") from exc
    if not (np.isfinite(rate) and rate > 0):
        raise _fail(path, f"samplerate {dev.get('samplerate', '')!r} is not a positive frequency")

    def count(key: str) -> int:
        try:
            return int(dev.get(key, "0"))
        except ValueError as exc:
            raise _fail(path, f"{key} = {dev.get(key)!r} is not a number") from exc

    total_logic = count("total probes")
    unitsize = count("unitsize") if total_logic else 0
    if total_logic and not 1 <= unitsize <= 8:
        raise _fail(path, f"unitsize {unitsize} (expected 1 to 8 bytes per logic sample)")
    if total_logic > 8 * max(unitsize, 1):
        raise _fail(path, f"{total_logic} logic probes do not fit {unitsize}-byte samples")

    logic_chunks = sorted((int(m.group(1)), n) for n in names if (m := _LOGIC.match(n)))
    analog_chunks: dict[int, list[tuple[int, str]]] = {}
    for n in names:
        m = _ANALOG.match(n)
        if m:
            analog_chunks.setdefault(int(m.group(1)), []).append((int(m.group(2)), n))

    channels: list[Channel] = []
    sources: dict[str, tuple[str, Any]] = {}
    for key, value in dev.items():
        m = re.fullmatch(r"analog(\d+)", key)
        if m and value.strip():
            index = int(m.group(1))
            channels.append(Channel(value.strip(), 0, 1.0, "V", None, True, key))
            sources[value.strip()] = ("analog", index)
    for k in range(1, total_logic + 1):
        name = dev.get(f"probe{k}", "").strip()
        if name:
            channels.append(Channel(name, 0, 1.0, "logic", None, False, f"probe{k}"))
            sources[name] = ("logic", k - 1)
    if not channels:
        raise _fail(path, "metadata names no channel (probeN / analogN keys)")
    channels = [Channel(c.name, i, c.scale, c.unit, c.number, c.analog, c.label) for i, c in enumerate(channels)]
    header = {"version": version, **{f"{s}.{k}": v for s in ini.sections() for k, v in ini[s].items()}}
    metadata = {
        "instrument": {"software": ini.get("global", "sigrok version", fallback="")},
        "stated_sample_interval_s": 1.0 / rate, "sample_rate_hz": rate, "start_s": 0.0,
    }

    def load(ch: Channel) -> Samples:
        kind, index = sources[ch.name]
        with zipfile.ZipFile(path) as z:
            if kind == "analog":
                parts = analog_chunks.get(index, [])
                if not parts:
                    raise _fail(path, f"no analog-1-{index}-N chunks for channel {ch.name}")
                v = _concat(z, parts, np.dtype("<f4"), path)
                v = v.astype(np.float64)
            else:
                if not logic_chunks:
                    raise _fail(path, f"no logic-1-N chunks for channel {ch.name}")
                raw = _concat(z, logic_chunks, np.dtype(np.uint8), path)
                if raw.size % unitsize:
                    raise _fail(path, f"logic data is {raw.size} bytes, not a whole number of {unitsize}-byte samples")
                byte = raw.reshape(-1, unitsize)[:, index // 8]
                v = ((byte >> (index % 8)) & 1).astype(np.float64)
        dt = 1.0 / rate
        check_time_step(path, 0.0, dt, len(v))
        return Samples(uniform_time(0.0, dt, len(v)), v, {"value_unit": ch.unit})

    return Capture(fmt, path, channels, load, header, metadata)


def _concat(z: zipfile.ZipFile, parts: list[tuple[int, str]], dtype: np.dtype, path: str) -> np.ndarray:
    infos = [z.getinfo(name) for _, name in sorted(parts)]
    total = sum(i.file_size for i in infos)
    if total % dtype.itemsize:
        raise _fail(path, f"sample chunks hold {total} bytes, not a whole number of {dtype.itemsize}-byte values")
    if total > MAX_UNPACKED:
        raise _fail(path, f"the sample chunks claim {total} bytes unpacked")
    out = np.empty(total // dtype.itemsize, dtype=dtype)
    buf = out.view(np.uint8)
    pos = 0
    try:
        for info in infos:
            data = z.read(info)
            if pos + len(data) > buf.size:
                raise _fail(path, f"chunk {info.filename} is longer than its directory entry says")
            buf[pos:pos + len(data)] = np.frombuffer(data, dtype=np.uint8)
            pos += len(data)
    except CaptureFormatError:
        raise
    except Exception as exc:
        raise _fail(path, f"a sample chunk is damaged or cut short ({one_line(exc)})") from exc
    if pos != buf.size:
        raise _fail(path, f"sample chunks hold {pos} bytes, their directory says {buf.size}")
    return out
