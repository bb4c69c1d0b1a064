"""Parse the numeric rows of a capture: fast, in bounded memory, with line-exact errors.

The data region of the file (everything after the preamble) is cut into blocks of
about :data:`BLOCK_BYTES` at line ends. Worker threads parse blocks (both parsers
release the GIL, so two workers use two cores): first with the compiled fast path
:mod:`cpsim.io._fastrows` (``_fastrows.c``), which takes a block only if every row is
plain numbers in its strict grammar and then gives the same bits as pyarrow, else with
``pyarrow.csv`` (single-threaded per block); a malformed row or an empty cell fails
the block with the row named. The calling thread copies each block's columns, in
file order, into one growing float64 array per column (grown by realloc, never
concatenated). Peak memory is therefore the
output arrays plus a few blocks in flight, whatever the file size. Non-finite values
("nan", "inf", "1e999") are left to the Waveform's finiteness check, whose error path
finds the line again (:func:`line_text`): one pass less on the fast path.

Every physical line of the data region is one row (blank lines are not skipped), so
row ``r`` is line ``first_line + r`` and every error names its line.

The last row of a file gets one allowance: when none of its value cells holds
anything (Keysight InfiniiVision writes ``+998.000E-06,,`` as its last row, the
Rigol DS1052E text export ends with ``,,``; a file cut before the first value of its
last row looks the same) it is dropped and reported in ``Parsed.dropped_line``. Any
other malformed row, including a last row cut inside a number (``1.2e``), is an
error naming the line. A cut that still leaves a valid number (``1.25`` -> ``1.2``)
cannot be detected by any reader.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..errors import CaptureFormatError
from ._layout import Table
from ._rowerrors import MAX_LINE_BYTES, RowProblem, explain_row, line_of, locate_problem

__all__ = ["Table", "Parsed", "read_table", "iter_table", "BLOCK_BYTES", "MAX_LINE_BYTES", "default_workers"]

BLOCK_BYTES = 2 << 20
"""Bytes per parse block (at most). Measured on 100-400 MB files: 1-4 MiB blocks parse with
the least CPU (they stay in cache) and keep memory in flight low; 8 MiB was 10 % slower."""

FAST_PATH = True
"""Use the compiled fast path (:mod:`cpsim.io._fastrows`) when it is built; tests and the
benchmark switch it off to compare with the pyarrow-only route."""

try:  # built by `pip install` from _fastrows.c; optional (setup.py), pyarrow covers everything
    from . import _fastrows  # type: ignore[attr-defined]  # the compiled extension has no stub
except ImportError:  # pragma: no cover - installs without a C compiler
    _fastrows = None

_PROBE = 64 << 10
_WHITESPACE = b" \t\r\n"


def default_workers() -> int:
    """Parse threads: the CPUs this process may use, at most 4 (more does not pay for CSV)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, min(4, n))


@dataclass
class Parsed:
    columns: dict[int, np.ndarray]
    nrows: int
    dropped_line: int | None


def read_table(table: Table, *, workers: int | None = None, block_bytes: int | None = None,
               check: Callable[[int, dict[int, np.ndarray]], None] | None = None) -> Parsed:
    """Parse all rows of ``table`` into one float64 array per used column.

    ``check(first_row, columns)`` sees every block in file order as soon as it is parsed (before the
    next is collected): a reader's checks raise there, so an error at row 100 M of 300 M is reported
    after 100 M rows, not after all of them.
    """
    with _Reader(table, workers, block_bytes) as reader:
        grow: _Grow | None = None
        for cols, nbytes in reader.blocks():
            if check is not None:
                check(reader.rows - len(next(iter(cols.values()))), cols)
            if grow is None:
                rows = len(next(iter(cols.values())))
                # The first block's bytes per row predicts the total; growing past the
                # guess costs a realloc (mremap for large arrays), not a copy.
                guess = int(rows * (reader.end - reader.table.start) / max(nbytes, 1) * 1.02) + 16
                grow = _Grow(cols, guess)
            else:
                grow.put(cols)
        assert grow is not None  # _Reader refuses an empty region
        return Parsed(grow.finish(), reader.rows, reader.dropped_line)


def iter_table(
    table: Table, *, workers: int | None = None, block_bytes: int | None = None
) -> Iterator[tuple[int, dict[int, np.ndarray]]]:
    """Yield ``(first_row, columns)`` per block, in file order. Arrays are read-only views."""
    with _Reader(table, workers, block_bytes) as reader:
        for cols, _ in reader.blocks():
            yield reader.rows - len(next(iter(cols.values()))), cols


class _Grow:
    """One growing output array per column; grows by realloc, never by concatenation."""

    def __init__(self, cols: dict[int, np.ndarray], capacity: int):
        n = len(next(iter(cols.values())))
        self.cap = max(capacity, n)
        self.n = 0
        self.out = {c: np.empty(self.cap, dtype=np.float64) for c in cols}
        self.put(cols)

    def put(self, cols: dict[int, np.ndarray]) -> None:
        m = len(next(iter(cols.values())))
        if self.n + m > self.cap:
            self.cap = int((self.n + m) * 1.25) + 16
            for arr in self.out.values():
                arr.resize(self.cap, refcheck=False)
        for c, arr in self.out.items():
            arr[self.n : self.n + m] = cols[c]
        self.n += m

    def finish(self) -> dict[int, np.ndarray]:
        if self.n != self.cap:
            for arr in self.out.values():
                arr.resize(self.n, refcheck=False)
        return self.out


class _Reader:
    def __init__(self, table: Table, workers: int | None, block_bytes: int | None):
        import pyarrow as pa
        import pyarrow.csv as pacsv

        self.pa, self.pacsv = pa, pacsv
        self.table = table
        self.workers = default_workers() if workers is None else max(1, int(workers))
        self.rows = 0
        self.dropped_line: int | None = None
        self._local = threading.local()
        self.names = [f"c{i}" for i in range(table.ncols)]
        self.parse_options = pacsv.ParseOptions(
            delimiter=table.delimiter, quote_char=False, double_quote=False, escape_char=False,
            newlines_in_values=False, ignore_empty_lines=False,
        )
        self.convert_options = pacsv.ConvertOptions(
            include_columns=[self.names[c] for c in table.usecols],
            column_types={self.names[c]: pa.int64() if c in table.int_cols else pa.float64() for c in table.usecols},
            decimal_point=table.decimal,
            # No null spellings: an empty cell is a conversion error naming its row, and
            # skipping the null-string matching saves ~7 % of the parse.
            null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False,
        )
        self.fast = _fast_parser(table)
        if self.fast is not None:
            self.fast_cols = tuple(sorted(table.usecols))
            self.kinds = bytes(
                (_KIND_INT if c in table.int_cols else _KIND_FLOAT) if c in table.usecols else _KIND_SKIP
                for c in range(table.ncols)
            )
            self.delim_byte, self.decimal_byte = ord(table.delimiter), ord(table.decimal)
            # Fewest bytes a row can take: one digit per used field, the delimiters, LF.
            self.min_row_bytes = len(self.fast_cols) + table.ncols
        try:
            self.fd = os.open(table.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            raise CaptureFormatError(f"cannot read the file: {exc.strerror or exc}", path=table.path) from exc
        try:
            self.size = os.fstat(self.fd).st_size
            self.end = self._find_end()
        except BaseException:
            os.close(self.fd)
            raise
        if block_bytes is None:
            # Blocks of up to BLOCK_BYTES (read at call time, so tests can shrink it), but
            # at least ~8 per worker so that a small file does not idle a core.
            region = self.end - table.start
            block_bytes = min(BLOCK_BYTES, max(1 << 20, region // (8 * self.workers)))
        self.block_bytes = max(int(block_bytes), 64)

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.fd)
        # Hand the per-block buffers pyarrow's allocator kept back to the OS (~15 % of
        # the result's size after a big file); harmless for other pyarrow users.
        try:
            self.pa.default_memory_pool().release_unused()
        except Exception:  # pragma: no cover - older pyarrow or an exotic pool
            pass

    # -- the data region ----------------------------------------------------------

    def _pread(self, n: int, offset: int) -> bytes:
        data = os.pread(self.fd, n, offset)
        if len(data) != n:
            raise CaptureFormatError("the file changed while it was being read", path=self.table.path)
        return data

    def _fail(self, message: str, line: int | None) -> CaptureFormatError:
        return CaptureFormatError(message, path=self.table.path, line=line)

    def _find_end(self) -> int:
        """End of the data region: trailing blank lines removed, a last row without values dropped."""
        start = self.table.start
        pos = self.size
        while pos > start:
            n = min(_PROBE, pos - start)
            chunk = self._pread(n, pos - n)
            kept = chunk.rstrip(_WHITESPACE)
            if kept:
                pos = pos - n + len(kept)
                break
            pos -= n
        if pos <= start:
            raise self._fail("no data rows after the header", self.table.first_line)
        if self.table.value_cols:
            last = self._last_line_start(pos)
            line = self._pread(pos - last, last)
            if self._no_values(line):
                self.dropped_line = -1  # line number known once the rows are counted
                lo = max(start, last - _PROBE)
                pos = lo + len(self._pread(last - lo, lo).rstrip(_WHITESPACE))
                if pos <= start:
                    raise self._fail("no data rows after the header", self.table.first_line)
        return pos

    def _last_line_start(self, end: int) -> int:
        lo = max(self.table.start, end - MAX_LINE_BYTES)
        tail = self._pread(end - lo, lo)
        i = max(tail.rfind(b"\n"), tail.rfind(b"\r"))
        if i >= 0:
            return lo + i + 1
        if lo > self.table.start:
            raise self._fail(
                f"line longer than {MAX_LINE_BYTES >> 20} MiB: not a capture row",
                self.table.first_line + self._count_lines(self.table.start, lo),
            )
        return lo

    def _no_values(self, line: bytes) -> bool:
        cells = line.decode("latin-1").rstrip("\r\n").split(self.table.delimiter)
        return all((cells[c].strip() if c < len(cells) else "") == "" for c in self.table.value_cols)

    def _count_lines(self, a: int, b: int) -> int:
        """Line ends in [a, b) (error path only)."""
        count = 0
        while a < b:
            n = min(4 << 20, b - a)
            count += self._pread(n, a).count(self.table.eol)
            a += n
        return count

    def _ranges(self) -> Iterator[tuple[int, int]]:
        a, end, eol = self.table.start, self.end, self.table.eol
        while a < end:
            target = a + self.block_bytes
            if target >= end:
                yield a, end
                return
            pos = target
            while True:
                n = min(_PROBE, end - pos)
                i = self._pread(n, pos).find(eol)
                if i >= 0:
                    b = pos + i + len(eol)  # after the whole line end (CR LF is two bytes)
                    break
                pos += n
                if pos >= end:
                    b = end
                    break
                if pos - target > MAX_LINE_BYTES:
                    raise self._fail(
                        f"line longer than {MAX_LINE_BYTES >> 20} MiB: not a capture row",
                        self.table.first_line + self._count_lines(self.table.start, target),
                    )
            yield a, b
            a = b

    # -- parsing ----------------------------------------------------------------------

    def blocks(self) -> Iterator[tuple[dict[int, np.ndarray], int]]:
        """Parsed blocks in file order; raises CaptureFormatError with the line of any bad row."""
        ranges = self._ranges()
        first = next(ranges)
        if first[1] >= self.end or self.workers == 1:
            yield self._collect_now(first)
            for ab in ranges:
                yield self._collect_now(ab)
            self._finish()
            return
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="cpsim-io")
        pending: deque[tuple[Future, int]] = deque()
        try:
            pending.append((pool.submit(self._parse, *first), first[1] - first[0]))
            for a, b in ranges:
                pending.append((pool.submit(self._parse, a, b), b - a))
                while len(pending) > self.workers:
                    yield self._collect(*pending.popleft())
            while pending:
                yield self._collect(*pending.popleft())
        finally:
            for fut, _ in pending:
                fut.cancel()
            pool.shutdown(wait=True)
        self._finish()

    def _finish(self) -> None:
        if self.dropped_line == -1:
            self.dropped_line = self.table.first_line + self.rows

    def _collect_now(self, ab: tuple[int, int]) -> tuple[dict[int, np.ndarray], int]:
        try:
            cols = self._parse(*ab)
        except RowProblem as problem:
            raise self._row_error(problem) from problem.__cause__
        self.rows += len(next(iter(cols.values())))
        return cols, ab[1] - ab[0]

    def _collect(self, fut: Future, nbytes: int) -> tuple[dict[int, np.ndarray], int]:
        try:
            cols = fut.result()
        except RowProblem as problem:
            raise self._row_error(problem) from problem.__cause__
        self.rows += len(next(iter(cols.values())))
        return cols, nbytes

    def _row_error(self, problem: RowProblem) -> CaptureFormatError:
        line = None if problem.row is None else self.table.first_line + self.rows + problem.row
        return self._fail(problem.message, line)

    def _read_block(self, a: int, b: int) -> memoryview:
        """The bytes [a, b) in this thread's reusable buffer (no fresh allocation per block)."""
        buf = getattr(self._local, "buf", None)
        if buf is None or len(buf) < b - a:
            buf = self._local.buf = bytearray(b - a)
        view = memoryview(buf)[: b - a]
        if os.preadv(self.fd, [view], a) != b - a:
            raise CaptureFormatError("the file changed while it was being read", path=self.table.path)
        return view

    def _parse(self, a: int, b: int) -> dict[int, np.ndarray]:
        data = self._read_block(a, b)
        if self.fast is not None:
            fast = self._parse_fast(data)
            if fast is not None:
                return fast
        pa, pacsv = self.pa, self.pacsv
        try:
            table = pacsv.read_csv(
                pa.BufferReader(pa.py_buffer(data)),
                read_options=pacsv.ReadOptions(
                    use_threads=False, block_size=max(len(data) + 1, 1 << 16), column_names=self.names
                ),
                parse_options=self.parse_options,
                convert_options=self.convert_options,
            )
        except Exception as exc:  # ArrowInvalid, ArrowMemoryError, ...: explain the row ourselves
            raise locate_problem(self.table, bytes(data), str(exc)) from exc
        cols: dict[int, np.ndarray] = {}
        for c in self.table.usecols:
            column = table.column(self.names[c])
            # With null_values=[] empty cells already failed the parse; this O(1) check only
            # guards against a pyarrow that still reports nulls.
            if column.null_count:
                row = column.is_null().to_pylist().index(True)
                why = explain_row(self.table, line_of(bytes(data), row))
                raise RowProblem(row, why or "value is not a finite number")
            cols[c] = _numpy_view(column)
        return cols

    def _parse_fast(self, data: memoryview) -> dict[int, np.ndarray] | None:
        """The strict C fast path (``_fastrows``); None sends the block to pyarrow.

        Fresh output arrays per block: the caller may still hold the previous block's.
        """
        capacity = len(data) // self.min_row_bytes + 1
        outs = tuple(np.empty(capacity, dtype=np.float64) for _ in self.fast_cols)
        rows = self.fast.parse_block(data, self.kinds, self.delim_byte, self.decimal_byte, outs, capacity)
        if rows is None:
            return None
        cols = {c: out[:rows] for c, out in zip(self.fast_cols, outs)}
        for arr in cols.values():
            arr.flags.writeable = False  # like pyarrow's buffers: iter_table hands out read-only views
        return cols

_KIND_SKIP, _KIND_FLOAT, _KIND_INT = 0, 1, 2


def _fast_parser(table: Table):
    """The compiled fast path if it was built and applies to ``table``, else None."""
    if not FAST_PATH or _fastrows is None:
        return None
    if len(table.delimiter) != 1 or len(table.decimal) != 1 or table.delimiter == table.decimal:
        return None
    if max(ord(table.delimiter), ord(table.decimal)) > 127 or table.ncols > 256 or table.eol not in (b"\n", b"\r\n"):
        return None
    return _fastrows


def _numpy_view(column) -> np.ndarray:
    """A pyarrow int64/float64 column without nulls as numpy, zero-copy.

    ``Array.to_numpy`` would import pandas (pyarrow's conversion shim): 50 MB and
    half a second on the first call, for nothing here.
    """
    dtype = np.int64 if str(column.type) == "int64" else np.float64
    parts = [
        np.frombuffer(chunk.buffers()[1], dtype=dtype, count=len(chunk), offset=chunk.offset * 8)
        for chunk in column.chunks
    ]
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)
