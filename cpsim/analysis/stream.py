"""Captures of any length in bounded memory: :func:`~cpsim.analysis.measure` streamed.

The in-memory measurement depends on the whole capture only through the level subsample (which
needs the sample count) and through windows that are local to each edge and plateau. So the
capture is read once, in chunks, into a *spool* (its times and values as raw float64 files in a
temporary directory, written as they arrive), and then read back a range at a time:

1. the level subsample (:func:`~cpsim.analysis.levels.subsample_index` needs the count, known once
   the file is read), and from it the levels and the threshold band;
2. the transitions, chunk by chunk with a carry from the last sample inside a band (the Schmitt
   trigger's state), the band crossings counted across chunk boundaries, and on the way the times of
   the edges and of the subsample;
3. the plateau geometry from the edges alone (O(edges)), then the interiors' statistics in
   batches of ranges;
4. each edge's peak and short-monotonic timing in batches, then the other edges timed with the
   window the in-memory route gives them (it depends on the widest such edge in the capture);
5. cycles, timeline and summary by the in-memory code itself (``measurement._finish``), given
   the times it reads (the ends, the subsample) through ``_KnownTimes``.

Every step calls the in-memory building blocks on chunk-sized arrays, so the numbers are the same
(tests/test_analysis_stream.py compares both routes). Memory holds a chunk, the subsample
(<= 1 M points), and O(edges) arrays; the spool takes 16 bytes per sample of temporary disk (in
``TMPDIR``), written by a thread while the parser reads the next block.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .. import standard as std
from ..errors import ParameterError
from ..waveform import Waveform
from . import measurement as _m
from ._streamcore import _blocks, _measure_spool, _Spool
from .result import PilotMeasurement

__all__ = ["measure_stream", "StreamedCapture", "estimated_samples", "memory_budget_samples", "STREAM_CHUNK",
           "MEMORY_BUDGET_SAMPLES"]

STREAM_CHUNK = 1 << 20
"""Samples read back from the spool at a time (8 MiB per array; cpsim choice)."""
MEMORY_BUDGET_SAMPLES = 20_000_000
"""A capture estimated above this many samples is streamed (cpsim choice: about 360 MiB in memory at the
in-memory route's ~18 bytes per sample). ``CPSIM_MEMORY_BUDGET`` [bytes] overrides it."""
_BYTES_PER_SAMPLE = 18


def memory_budget_samples() -> int:
    """Samples analysed in memory at most: ``CPSIM_MEMORY_BUDGET`` [bytes] / 18, else
    :data:`MEMORY_BUDGET_SAMPLES`."""
    raw = os.environ.get("CPSIM_MEMORY_BUDGET")
    if not raw:
        return MEMORY_BUDGET_SAMPLES
    try:
        budget = float(raw)
    except ValueError:
        raise ParameterError(f"CPSIM_MEMORY_BUDGET must be a number of bytes, got {raw!r}") from None
    if not budget > 0:
        raise ParameterError(f"CPSIM_MEMORY_BUDGET must be positive, got {raw!r}")
    return max(2, int(budget // _BYTES_PER_SAMPLE))

class _Pieces:
    """A capture file's ``(t, v)`` pieces as parsed (text layouts: the parser's own blocks with
    :func:`cpsim.read_capture`'s block checks, no copies; binary layouts: :func:`cpsim.io.iter_chunks`),
    and its metadata, complete once the pieces are consumed."""

    def __init__(self, path: str, fmt: str | None, channel: str | int | None, chunk_rows: int) -> None:
        self.path, self.fmt, self.channel, self.chunk_rows = path, fmt, channel, chunk_rows
        self.name = "cp"
        self.metadata: dict = {}

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        from .. import io as cio
        from ..io import _binary
        from ..io._csvcore import _Reader
        from ..io._spool import spooled
        from ..io.registry import layout_of

        with spooled(self.path) as local:
            layout = layout_of(local, self.fmt)
            chosen, why = cio._select(layout, self.channel)
            if isinstance(layout, _binary.Capture):
                layout.close()  # iter_chunks opens it again
                for w in cio.iter_chunks(local, fmt=self.fmt, channel=self.channel, chunk_rows=self.chunk_rows):
                    self.name, self.metadata = w.channel, dict(w.metadata)
                    yield w.t, w.v
                return
            self.name, self.metadata = chosen.name, cio._metadata(layout, chosen, why)
            check = cio._block_check(layout, [chosen])
            with cio._translated(layout.path), _Reader(cio._table(layout, [chosen]), None, None) as reader:
                for cols, _ in reader.blocks():
                    row0 = reader.rows - len(next(iter(cols.values())))
                    check(row0, cols)
                    v = cols[chosen.column]
                    if chosen.scale != 1.0:
                        with np.errstate(over="ignore", invalid="ignore"):
                            v = v * chosen.scale
                    yield cio._time(layout, cols, row0, copy=False), v
            self.metadata["rows"] = reader.rows
            if reader.dropped_line is not None:
                self.metadata["dropped_last_row"] = {
                    "line": reader.dropped_line,
                    "reason": "last row has no values (written by the instrument, or the file was cut there)"}
        if os.fspath(self.path) != local:
            self.metadata["source_path"] = cio._spool.display_name(self.path)


def _spool_pieces(pieces: Iterable[tuple[np.ndarray, np.ndarray]], directory: str) -> _Spool:
    """Write the pieces to a spool; the writes run in a thread, overlapped with reading the next piece
    (numpy's ``tofile`` releases the GIL), at most two pieces queued."""
    spool = _Spool(directory)
    pending: queue.Queue = queue.Queue(maxsize=2)
    failed: list[BaseException] = []

    def writer() -> None:
        while (item := pending.get()) is not None:
            if not failed:
                try:
                    spool.append(*item)
                except BaseException as exc:
                    failed.append(exc)

    thread = threading.Thread(target=writer, name="cpsim-spool", daemon=True)
    thread.start()
    try:
        for t, v in pieces:
            if failed:
                break
            if len(v):
                pending.put((t, v))
    finally:
        pending.put(None)
        thread.join()
        spool.done()
    if failed:
        raise failed[0]
    return spool


def _waveform_pieces(chunks: Iterable[Waveform], meta: dict) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for w in chunks:
        if not meta:
            meta.update(channel=w.channel, metadata=w.metadata)
        yield w.t, w.v


class StreamedCapture:
    """A capture spooled to temporary files: measured, and read back a piece at a time, in bounded memory.

    Use as a context manager (the spool is removed on exit)::

        with StreamedCapture.open("long.csv") as cap:
            m = cap.measure()
            w = cap.slice_time(m.t_start, m.t_start + 2e-3)   # a Waveform of those samples

    Attributes
    ----------
    n_samples : int
    t_start, t_end : float
        First and last sample time [s].
    channel : str
    metadata : dict
        As :func:`cpsim.read_capture` gives it.
    """

    def __init__(self, spool: _Spool, directory: tempfile.TemporaryDirectory, channel: str, metadata: Any,
                 chunk_rows: int) -> None:
        self._spool, self._dir, self.chunk_rows = spool, directory, int(chunk_rows)
        self.channel, self.metadata = str(channel), metadata if metadata is not None else {}
        self.n_samples, self.t_start, self.t_end = spool.n, spool.t_first, spool.t_last

    @classmethod
    def open(cls, source: str | os.PathLike[str] | Iterable[Waveform], *, fmt: str | None = None,
             channel: str | int | None = None, chunk_rows: int = STREAM_CHUNK) -> StreamedCapture:
        """Read ``source`` (a capture file, or consecutive :class:`~cpsim.Waveform` pieces) into a spool."""
        if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) or chunk_rows < 16:
            raise ParameterError(f"chunk_rows must be an integer >= 16, got {chunk_rows!r}")
        is_path = isinstance(source, (str, os.PathLike))
        if not is_path and (fmt is not None or channel is not None):
            raise ParameterError("fmt and channel apply only when source is a file path")
        tmp = tempfile.TemporaryDirectory(prefix="cpsim-stream-")
        metadata: Any
        try:
            if is_path:
                pieces = _Pieces(os.fspath(source), fmt, channel, int(chunk_rows))  # type: ignore[arg-type]
                spool = _spool_pieces(pieces, tmp.name)
                name, metadata = pieces.name, pieces.metadata
            else:
                meta: dict = {}
                spool = _spool_pieces(_waveform_pieces(source, meta), tmp.name)  # type: ignore[arg-type]
                name, metadata = meta.get("channel", "cp"), meta.get("metadata")
        except BaseException:
            tmp.cleanup()
            raise
        return cls(spool, tmp, name, metadata, int(chunk_rows))

    def __enter__(self) -> StreamedCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the spool."""
        self._spool.close_readers()
        self._dir.cleanup()

    def measure(self, *, profile: str | std.LimitsProfile = "iec61851", **options: Any) -> PilotMeasurement:
        """:func:`~cpsim.analysis.measure` of the whole capture (options as there)."""
        unknown = sorted(set(options) - _m._OPTIONS)
        if unknown:
            raise ParameterError(f"unknown option {', '.join(unknown)}; valid: {', '.join(sorted(_m._OPTIONS))}")
        try:
            return _measure_spool(self._spool, self.chunk_rows, channel=self.channel, metadata=self.metadata,
                                  profile=profile, **options)
        finally:
            self._spool.close_readers()  # and their buffers

    def read(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Times [s] and values [V] of samples ``[lo, hi)``."""
        return self._spool.read("t", lo, hi), self._spool.read("v", lo, hi)

    def index_of(self, t_s: float, side: str = "left") -> int:
        """``np.searchsorted(t, t_s, side)`` over the whole time axis (a binary search of the spool: a few
        pages read)."""
        if self._spool.n == 0:
            return 0
        t = np.memmap(self._spool.paths["t"], dtype=np.float64, mode="r", shape=(self._spool.n,))
        try:
            return int(np.searchsorted(t, t_s, side=side))  # type: ignore[call-overload]
        finally:
            del t

    def slice_time(self, t_start_s: float, t_end_s: float) -> Waveform:
        """The samples with ``t_start_s <= t <= t_end_s`` as a :class:`~cpsim.Waveform` (as
        :meth:`Waveform.slice_time <cpsim.Waveform.slice_time>` of the whole capture)."""
        lo, hi = self.index_of(t_start_s, "left"), self.index_of(t_end_s, "right")
        t, v = self.read(lo, hi)
        return Waveform(t, v, self.channel, self.metadata)

    def blocks(self, size: int | None = None) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """``(first_index, t, v)`` of consecutive pieces of ``size`` samples."""
        for lo, hi in _blocks(self._spool.n, int(size or self.chunk_rows)):
            t, v = self.read(lo, hi)
            yield lo, t, v


def measure_stream(source: str | os.PathLike[str] | Iterable[Waveform], *,
                   profile: str | std.LimitsProfile = "iec61851", fmt: str | None = None,
                   channel: str | int | None = None, chunk_rows: int = STREAM_CHUNK,
                   **options: Any) -> PilotMeasurement:
    """:func:`~cpsim.analysis.measure` of a capture of any length, in bounded memory.

    Parameters
    ----------
    source : path or iterable of Waveform
        A capture file (read a block at a time with :func:`cpsim.read_capture`'s checks), or
        consecutive pieces of one capture (each a :class:`~cpsim.Waveform`, together in time order).
    profile, fmt, channel, **options
        As for :func:`~cpsim.analysis.measure`.
    chunk_rows : int
        Samples handled at a time (memory scales with it, not with the capture).

    Returns
    -------
    PilotMeasurement
        The same numbers as :func:`~cpsim.analysis.measure` of the whole capture.

    Examples
    --------
    >>> import numpy as np
    >>> from cpsim import Waveform
    >>> t = np.arange(20_000) * 1e-6
    >>> v = np.where((t * 1000) % 1 < 0.25, 9.0, -12.0)
    >>> pieces = [Waveform.from_arrays(t[i:i + 3000], v[i:i + 3000]) for i in range(0, 20_000, 3000)]
    >>> m = measure_stream(pieces, chunk_rows=3000)
    >>> m.state, round(m.duty, 3)
    ('B2', 0.25)
    """
    unknown = sorted(set(options) - _m._OPTIONS)
    if unknown:
        raise ParameterError(f"unknown option {', '.join(unknown)}; valid: {', '.join(sorted(_m._OPTIONS))}")
    with StreamedCapture.open(source, fmt=fmt, channel=channel, chunk_rows=chunk_rows) as cap:
        return cap.measure(profile=profile, **options)


def estimated_samples(path: str | os.PathLike[str], *, fmt: str | None = None) -> int | None:
    """About how many samples a capture file holds (from its size and the length of its first data
    lines; binary files: a sample per 2 bytes, an upper bound). ``None`` for a pipe or an unreadable file
    (the reader reports those in its own words)."""
    import stat

    p = os.fspath(path)
    try:
        st = os.stat(p)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    try:
        from ..io import _binary
        from ..io.registry import layout_of

        layout = layout_of(p, fmt)
    except Exception:
        return None
    if isinstance(layout, _binary.Capture):
        layout.close()
        return st.st_size // 2
    with open(p, "rb") as f:
        f.seek(layout.data_offset)
        head = f.read(1 << 16)
    lines = head.count(b"\n")
    if lines < 2:
        return max(1, lines)
    per_row = len(head[:head.rindex(b"\n") + 1]) / lines
    return int((st.st_size - layout.data_offset) / per_row)

