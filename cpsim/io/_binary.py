"""What the binary readers share: a parsed capture, and turning its channels into Waveforms.

A binary reader (one module per family: :mod:`cpsim.io.scope_binary` for the
oscilloscope files RigolWFM reads, :mod:`cpsim.io.sigrok` for sigrok sessions)
returns a :class:`Capture` from ``read(head)``: the channels the file holds and a
``load(channel)`` that returns that channel's samples. The header is parsed once;
only the channels asked for are converted to volts.

Binary files carry no line numbers, so their errors name the file and the reason
only. Every failure, whatever the parsing library raised, leaves here as one
:class:`~cpsim.CaptureFormatError` line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import CaptureFormatError, CpsimError, ParameterError
from ..waveform import Waveform
from ._layout import Channel

__all__ = ["Capture", "Samples", "one_line", "waveforms", "chunks", "uniform_time"]

SAVE_HINT = "re-save it from the instrument or export CSV"


@dataclass
class Samples:
    """One channel's samples: time [s], value [V or logic level], and what the file says about it."""

    t: np.ndarray
    v: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Capture:
    """A binary capture file whose header has been read.

    ``channels`` plays the role of :attr:`Layout.channels` for channel selection
    (``column`` is the channel's index in the file); ``load(channel)`` reads one.
    """

    fmt: str
    path: str
    channels: list[Channel]
    load: Callable[[Channel], Samples]
    header: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    close: Callable[[], None] = lambda: None
    """Release the files the parser keeps open (also done when the capture is garbage-collected)."""


def one_line(exc: BaseException, limit: int = 240) -> str:
    """A library's exception message as one short line (some span several, or are empty)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = text.rstrip(". ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def uniform_time(t0_s: float, dt_s: float, n: int, *, out: np.ndarray | None = None) -> np.ndarray:
    """``t0_s + k * dt_s`` for k = 0 … n-1, written into ``out`` when given (no second array).

    Filled in blocks so the index array stays small whatever ``n`` is.
    """
    t = np.empty(n, dtype=np.float64) if out is None else out
    block = 1 << 20
    for a in range(0, n, block):
        b = min(n, a + block)
        np.multiply(np.arange(a, b, dtype=np.float64), dt_s, out=t[a:b])
        t[a:b] += t0_s
    return t


def check_time_step(capture_path: str, t0_s: float, dt_s: float, n: int) -> None:
    if not (math.isfinite(dt_s) and dt_s > 0):
        raise CaptureFormatError(f"the file states a sample interval of {dt_s!r} s (expected a positive number)",
                                 path=capture_path)
    if not math.isfinite(t0_s):
        raise CaptureFormatError(f"the file states a start time of {t0_s!r} s", path=capture_path)
    if n < 2:
        raise CaptureFormatError(f"the channel holds {n} sample(s); a waveform needs at least 2", path=capture_path)
    if not math.isfinite(t0_s + dt_s * (n - 1)) or not (t0_s + dt_s * (n - 1) > t0_s):
        raise CaptureFormatError(f"time axis {t0_s!r} s + {n} x {dt_s!r} s does not fit a float", path=capture_path)


def _metadata(capture: Capture, ch: Channel, why: str, extra: dict) -> dict:
    md = dict(capture.metadata)
    md.update(extra)
    md.update(
        format=capture.fmt, source_path=capture.path, channel=ch.name, column_label=ch.label or ch.name,
        value_unit=extra.get("value_unit", ch.unit), analog=ch.analog,
        channels_in_file=[c.name for c in capture.channels], channel_selection=why, header=capture.header,
        time_axis="uniform",
    )
    return md


def _load(capture: Capture, ch: Channel) -> Samples:
    try:
        return capture.load(ch)
    except CpsimError:
        raise
    except MemoryError as exc:
        raise CaptureFormatError("not enough memory to read the file", path=capture.path) from exc
    except Exception as exc:  # whatever the parsing library raises on a damaged file
        raise CaptureFormatError(f"cannot read channel {ch.name}: {one_line(exc)}; {SAVE_HINT}",
                                 path=capture.path) from exc


def _waveform(capture: Capture, t: np.ndarray, v: np.ndarray, ch: Channel, md: dict) -> Waveform:
    try:
        return Waveform(t, v, ch.name, md)
    except ParameterError as exc:
        raise CaptureFormatError(f"{exc} (channel {ch.name})", path=capture.path) from exc


def waveforms(capture: Capture, channels: list[Channel], why: str) -> dict[str, Waveform]:
    """Read ``channels`` of ``capture`` as Waveforms, in the order given."""
    out: dict[str, Waveform] = {}
    try:
        for ch in channels:
            s = _load(capture, ch)
            md = _metadata(capture, ch, why, s.metadata)
            md["rows"] = int(len(s.v))
            out[ch.name] = _waveform(capture, s.t, s.v, ch, md)
    finally:
        capture.close()
    return out


def chunks(capture: Capture, ch: Channel, why: str, chunk_rows: int) -> Iterator[Waveform]:
    """One channel in consecutive pieces of ``chunk_rows`` samples (the last may be longer).

    The pieces are views of the arrays the library returned: no sample is copied, so
    memory is what one read of that channel takes.
    """
    try:
        s = _load(capture, ch)
    finally:
        capture.close()
    md = _metadata(capture, ch, why, s.metadata)
    n = len(s.v)
    md["rows"] = n
    whole = _waveform(capture, s.t, s.v, ch, md)  # checks every sample once
    start = 0
    while start < n:
        stop = start + chunk_rows
        if n - stop < 2:  # keep >= 2 samples for the last chunk
            stop = n
        yield Waveform(whole.t[start:stop], whole.v[start:stop], ch.name, md)
        start = stop
