"""Read oscilloscope and logic-analyser captures (CSV and binary) into :class:`~cpsim.Waveform` objects.

One module per instrument family describes its layout (a ``sniff`` function that
recognises the file from its first 64 KiB and a ``read`` function that parses the
preamble into a :class:`~cpsim.io._layout.Layout`); the rows of every layout are
parsed by one shared numeric core (:mod:`cpsim.io._csvcore`, pyarrow on two
threads). Binary files (``binary=True`` formats) are recognised from their magic
bytes and structure and read by :mod:`cpsim.io.scope_binary` (through RigolWFM)
or :mod:`cpsim.io.sigrok`, which return a :class:`~cpsim.io._binary.Capture`.
:data:`FORMATS` (:mod:`cpsim.io.registry`) is the one explicit registry.

Readers convert to SI (s, V), keep the raw preamble in ``metadata["header"]`` and
never filter or resample. Every problem with a file is a
:class:`~cpsim.CaptureFormatError` naming the file, and the line where it can.

Examples
--------
>>> import numpy as np, tempfile, os
>>> from cpsim import Waveform
>>> path = os.path.join(tempfile.mkdtemp(), "cp.csv")
>>> Waveform.from_uniform([12.0, 12.0, -12.0, -12.0], sample_interval_s=1e-6).to_csv(path)
>>> w = read_capture(path)
>>> w.channel, w.metadata["format"], len(w)
('cp', 'cpsim', 4)
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

import numpy as np

from ..errors import CaptureFormatError, CpsimError, ParameterError
from ..waveform import Waveform
from . import _binary
from ._csvcore import MAX_LINE_BYTES, Table, iter_table, read_table
from ._layout import Channel, Layout
from ._rowerrors import line_text
from ._spool import display_name, spooled
from .registry import FORMATS, Format, detect_format, layout_of, list_formats

__all__ = ["FORMATS", "Format", "read_capture", "read_channels", "iter_chunks", "list_formats", "detect_format"]

log = logging.getLogger(__name__)


def read_capture(path: str | os.PathLike[str], *, fmt: str | None = None, channel: str | int | None = None) -> Waveform:
    """Read one channel of a capture file.

    Parameters
    ----------
    path : str or os.PathLike
        The capture file; ``"-"`` reads standard input (a pipe or FIFO is read the same way).
    fmt : str, optional
        Force a layout by name (see :func:`list_formats`); by default it is detected.
    channel : str or int, optional
        A channel name, case-insensitive, spaces ignored (``"CH2"``, ``"ch 2"``,
        ``"Channel A"``, ``"cp"``), or an instrument channel number (``2`` is ``CH2``
        / ``Channel 2`` / Keysight ``2`` / PicoScope ``Channel B``). In files whose
        channels carry no number (Saleae names, generic headers), ``n`` is the n-th
        value column. Default: the first analog channel; ``metadata["channel_selection"]``
        records which one was taken and why.

    Returns
    -------
    Waveform
        Time [s], value [V] (logic level for a digital channel), ``metadata`` with
        ``format``, ``source_path``, ``channel``, ``channels_in_file``, ``header`` (the
        raw preamble lines) and, where the file states it, ``stated_sample_interval_s``.

    Raises
    ------
    CaptureFormatError
        Unknown or ambiguous layout, malformed content (naming the line), or a channel
        that is not in the file (listing those present).
    """
    with spooled(path) as local:
        layout = layout_of(local, fmt)
        chosen, why = _select(layout, channel)
        if isinstance(layout, _binary.Capture):
            wave = _binary.waveforms(layout, [chosen], why)[chosen.name]
        else:
            wave = _load(layout, [chosen], why)[chosen.name]
    return _named(wave, path, local)


def read_channels(path: str | os.PathLike[str], *, fmt: str | None = None) -> dict[str, Waveform]:
    """Read every channel of a capture file: ``{channel name: Waveform}`` in file order."""
    with spooled(path) as local:
        layout = layout_of(local, fmt)
        if isinstance(layout, _binary.Capture):
            waves = _binary.waveforms(layout, list(layout.channels), "all channels read")
        else:
            waves = _load(layout, list(layout.channels), "all channels read")
    return {name: _named(w, path, local) for name, w in waves.items()}


def _named(wave: Waveform, path: str | os.PathLike[str], local: str) -> Waveform:
    """``wave`` with ``source_path`` naming what the user gave, not a spooled copy of a pipe."""
    if os.fspath(path) != local:
        cast(dict, wave.metadata)["source_path"] = display_name(path)  # the reader's own fresh dict
    return wave


def iter_chunks(
    path, *, fmt: str | None = None, channel: str | int | None = None, chunk_rows: int = 1_000_000
) -> Iterator[Waveform]:
    """Read one channel in consecutive pieces of ``chunk_rows`` samples (the last may be longer).

    Memory stays bounded by a few chunks whatever the file size. The same checks as
    :func:`read_capture` apply, across chunk boundaries too.
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) or chunk_rows < 2:
        raise ParameterError(f"chunk_rows must be an integer >= 2, got {chunk_rows!r}")
    with spooled(path) as local:
        yield from _iter_chunks(local, fmt=fmt, channel=channel, chunk_rows=int(chunk_rows))


def _iter_chunks(path: str, *, fmt: str | None, channel: str | int | None, chunk_rows: int) -> Iterator[Waveform]:
    layout = layout_of(path, fmt)
    chosen, why = _select(layout, channel)
    if isinstance(layout, _binary.Capture):
        yield from _binary.chunks(layout, chosen, why, int(chunk_rows))
        return
    table = _table(layout, [chosen])
    md = _metadata(layout, chosen, why)
    pending_t: list[np.ndarray] = []
    pending_v: list[np.ndarray] = []
    held = emitted = 0
    last_t: float | None = None
    with _translated(layout.path):
        for row0, cols in iter_table(table):
            t = _time(layout, cols, row0, copy=True)
            v = np.array(cols[chosen.column], dtype=np.float64)
            if chosen.scale != 1.0:
                with np.errstate(over="ignore", invalid="ignore"):
                    v *= chosen.scale
            _check_increasing(layout, t, row0, last_t)
            last_t = float(t[-1])
            pending_t.append(t)
            pending_v.append(v)
            held += len(t)
            while held >= chunk_rows + 2:  # keep >= 2 samples back for the last chunk
                tt, vv = np.concatenate(pending_t), np.concatenate(pending_v)
                yield _waveform(layout, tt[:chunk_rows], vv[:chunk_rows], chosen, md, emitted)
                pending_t, pending_v, held = [tt[chunk_rows:]], [vv[chunk_rows:]], len(tt) - chunk_rows
                emitted += chunk_rows
    if held:
        yield _waveform(layout, np.concatenate(pending_t), np.concatenate(pending_v), chosen, md, emitted)


# -- channel selection ------------------------------------------------------------------

def _norm(name: str) -> str:
    s = re.sub(r"[\s_\-]+", "", str(name).lower())
    return s.replace("channel", "ch").replace("kanal", "ch")


def _select(layout: Layout | _binary.Capture, channel) -> tuple[Channel, str]:
    chans = layout.channels
    present = ", ".join(c.name for c in chans)
    if channel is None:
        analog = [c for c in chans if c.analog]
        if analog:
            return analog[0], f"default: first analog channel ({analog[0].name}) of [{present}]"
        return chans[0], f"default: no analog channel, took the first one ({chans[0].name}) of [{present}]"
    if isinstance(channel, bool) or not isinstance(channel, (str, int, np.integer)):
        raise ParameterError(f"channel must be a name or a 1-based number, got {channel!r}")
    if isinstance(channel, (int, np.integer)):
        n = int(channel)
        if any(c.number is not None for c in chans):
            hits = [c for c in chans if c.number == n]
        else:
            hits = [chans[n - 1]] if 1 <= n <= len(chans) else []
        if hits:
            return hits[0], f"requested channel {n}"
        raise CaptureFormatError(f"no channel {n} in this file; channels present: {present}", path=layout.path)
    want = _norm(channel)
    hits = [c for c in chans if want in (_norm(c.name), _norm(c.label))] if want else []
    if not hits and want.isdigit():
        return _select(layout, int(want))
    if not hits and len(want) == 1 and want.isalpha():
        hits = [c for c in chans if _norm(c.name) == "ch" + want]
    if not hits and want.startswith("ch") and want[2:].isdigit():
        hits = [c for c in chans if c.number == int(want[2:]) and (_norm(c.name).startswith("ch") or c.name.isdigit())]
    if hits:
        return hits[0], f"requested channel {channel!r}"
    raise CaptureFormatError(f"no channel {channel!r} in this file; channels present: {present}",
                             path=layout.path)


# -- loading -----------------------------------------------------------------------------

def _table(layout: Layout, channels: list[Channel]) -> Table:
    usecols = {c.column for c in channels}
    if layout.time.kind in ("column", "index"):
        usecols.add(layout.time.col)
    labels = [""] * layout.ncols
    if layout.time.column is not None and layout.time.column < layout.ncols:
        labels[layout.time.column] = "time" if layout.time.kind == "column" else "index"
    for c in layout.channels:
        if c.column >= layout.ncols:
            raise CaptureFormatError(
                f"channel {c.name} is column {c.column + 1} but data rows have {layout.ncols} fields",
                path=layout.path, line=layout.data_line,
            )
        labels[c.column] = c.name
    return Table(
        path=layout.path, start=layout.data_offset, first_line=layout.data_line, ncols=layout.ncols,
        usecols=tuple(sorted(usecols)), delimiter=layout.delimiter, decimal=layout.decimal,
        eol=layout.eol, value_cols=tuple(c.column for c in layout.channels),
        labels=tuple(labels), int_cols=(layout.time.col,) if layout.time.kind == "index" else (),
    )


@contextmanager
def _translated(path: str):
    """Anything the numeric core raises that is not a CpsimError becomes a CaptureFormatError."""
    try:
        yield
    except CpsimError:
        raise
    except MemoryError as exc:
        raise CaptureFormatError("not enough memory to read the file", path=path) from exc
    except Exception as exc:
        raise CaptureFormatError(f"cannot read the samples: {exc}", path=path) from exc


def _time(layout: Layout, cols: dict[int, np.ndarray], row0: int, *, copy: bool) -> np.ndarray:
    ax = layout.time
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported by Waveform's check
        if ax.kind == "uniform":
            n = len(next(iter(cols.values())))
            return ax.t0_s + ax.step_s * np.arange(row0, row0 + n, dtype=np.float64)
        t = cols[ax.col]
        if copy or not t.flags.writeable or t.dtype != np.float64:
            t = np.array(t, dtype=np.float64)
        if ax.kind == "index":
            t *= ax.step_s
            t += ax.t0_s
        elif ax.scale != 1.0:
            t *= ax.scale
    return t


def _check_increasing(layout: Layout, t: np.ndarray, row0: int, before: float | None) -> None:
    if before is not None and t.size and not t[0] > before:
        raise CaptureFormatError(
            f"time does not increase: {float(t[0]):.9g} s after {before:.9g} s on the line before",
            path=layout.path, line=layout.data_line + row0,
        )
    if t.size > 1:
        bad = np.less_equal(t[1:], t[:-1])
        if bad.any():
            i = int(bad.argmax())
            raise CaptureFormatError(
                f"time does not increase: {float(t[i + 1]):.9g} s after {float(t[i]):.9g} s on the line before",
                path=layout.path, line=layout.data_line + row0 + i + 1,
            )


def _metadata(layout: Layout, ch: Channel, why: str) -> dict:
    md = dict(layout.metadata)
    md.update(
        format=layout.fmt, source_path=layout.path, channel=ch.name, column_label=ch.label or ch.name,
        value_unit=ch.unit, analog=ch.analog, channels_in_file=[c.name for c in layout.channels],
        channel_selection=why, header=list(layout.header), data_first_line=layout.data_line,
        time_axis=layout.time.kind,
    )
    return md


def _waveform(layout: Layout, t: np.ndarray, v: np.ndarray, ch: Channel, md: dict, row0: int = 0) -> Waveform:
    try:
        return Waveform(t, v, ch.name, md)
    except ParameterError as exc:
        raise _sample_error(layout, t, v, ch, row0, exc) from exc


def _sample_error(layout: Layout, t, v, ch: Channel, row0: int, exc: Exception) -> CaptureFormatError:
    """Turn Waveform's complaint into one naming the line (error path: may re-read the file)."""
    if len(t) < 2:
        return CaptureFormatError(f"only {len(t)} sample; a waveform needs at least 2", path=layout.path,
                                  line=layout.data_line)
    bad = ~(np.isfinite(t) & np.isfinite(v))
    if not bad.any():
        try:
            _check_increasing(layout, t, row0, None)
        except CaptureFormatError as err:
            return err
        return CaptureFormatError(f"{exc} (channel {ch.name})", path=layout.path)
    row = int(bad.argmax())
    line = layout.data_line + row0 + row
    try:
        raw = line_text(layout.path, layout.data_offset, layout.data_line, line, layout.eol)
    except OSError:
        raw = b""
    if len(raw) >= MAX_LINE_BYTES:
        return CaptureFormatError(f"line longer than {MAX_LINE_BYTES >> 20} MiB: not a capture row",
                                  path=layout.path, line=line)
    cells = raw.decode("utf-8", errors="replace").split(layout.delimiter)
    col, label = (ch.column, ch.name) if not np.isfinite(v[row]) else (layout.time.column, "time")
    cell = cells[col].strip() if col is not None and col < len(cells) else ""
    try:
        value = float(cell.replace(",", ".") if layout.decimal == "," else cell)
    except ValueError:
        value = float("nan")
    if np.isfinite(value):
        message = f"{label} value {cell!r} does not fit a float after conversion to s and V"
    else:
        message = f"{label} value {cell[:30]!r} is not a finite number"
    return CaptureFormatError(message, path=layout.path, line=line)


def _block_check(layout: Layout, channels: list[Channel]):
    """A check of each parsed block (time increasing, finite samples): fail at the block, naming the line.

    The fast test runs on the raw cells (a positive scale and an offset keep the order); only a
    block that fails it is converted to find the exact line and message.
    """
    ax = layout.time
    last: list = []  # (raw time, row) of the previous block's last row

    def check(row0: int, cols: dict[int, np.ndarray]) -> None:
        if ax.kind == "index" or (ax.kind == "column" and ax.scale > 0):
            raw = cols[ax.col]
            fine = bool(np.all(raw[1:] > raw[:-1])) and (not last or raw[0] > last[0][0])
            fine = fine and (ax.kind == "index" or bool(np.isfinite(raw[[0, -1]]).all()))
            if not fine:
                t = _time(layout, cols, row0, copy=True)
                before = None
                if last:
                    before = float(_time(layout, {ax.col: np.array([last[0][0]])}, last[0][1], copy=True)[0])
                if not np.isfinite(t).all():
                    raise _sample_error(layout, t, np.zeros_like(t), channels[0], row0, ValueError("time"))
                _check_increasing(layout, t, row0, before)
            last[:] = [(raw[-1], row0 + len(raw) - 1)]
        for ch in channels:
            v = cols[ch.column]
            with np.errstate(over="ignore", invalid="ignore"):
                scaled = v * ch.scale if ch.scale != 1.0 else v
                if not np.isfinite(scaled).all():
                    raise _sample_error(layout, _time(layout, cols, row0, copy=True), scaled, ch, row0,
                                        ValueError("value"))

    return check


def _load(layout: Layout, channels: list[Channel], why: str) -> dict[str, Waveform]:
    table = _table(layout, channels)
    with _translated(layout.path):
        parsed = read_table(table, check=_block_check(layout, channels))
        t = _time(layout, parsed.columns, 0, copy=False)
    out: dict[str, Waveform] = {}
    for ch in channels:
        v = parsed.columns[ch.column]  # owned by us: scale in place, no copy
        if ch.scale != 1.0:
            with np.errstate(over="ignore", invalid="ignore"):
                v *= ch.scale
        md = _metadata(layout, ch, why)
        md["rows"] = parsed.nrows
        if parsed.dropped_line is not None:
            md["dropped_last_row"] = {
                "line": parsed.dropped_line,
                "reason": "last row has no values (written by the instrument, or the file was cut there)",
            }
        out[ch.name] = _waveform(layout, t, v, ch, md)
    return out

