"""What every reader shares: the file head, the layout description, small text helpers.

A reader never parses sample rows itself. It reads the preamble from :class:`Head`
(the first 64 KiB, decoded) and returns a :class:`Layout`: where the numeric rows
start, which column holds what, and how to turn the numbers into seconds and volts.
:mod:`cpsim.io._csvcore` then parses the rows.
"""

from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import CaptureFormatError

__all__ = [
    "HEAD_BYTES", "Head", "read_head", "Channel", "TimeAxis", "Layout",
    "split_fields", "is_number", "parse_number", "time_unit_scale", "value_unit_scale",
    "parse_quantity", "channel_number", "is_blank", "first_data_line",
]

HEAD_BYTES = 64 * 1024
"""Sniffers and header parsers see at most this many bytes from the start of the file."""

_UTF8_BOM = b"\xef\xbb\xbf"
_EOL = re.compile(rb"\r\n|\n|\r")


@dataclass(frozen=True)
class Head:
    """The first bytes of a capture file, split into complete lines.

    ``lines[i]`` is line ``i + 1`` of the file (1-based numbering is used in every
    message), without its terminator; ``offsets[i]`` is the byte offset where it
    starts, ``offsets[i + 1]`` where the next one starts. Only complete lines are
    listed, so a preamble longer than :data:`HEAD_BYTES` is cut at a line boundary.
    """

    path: str
    size: int
    raw: bytes
    encoding: str
    lines: tuple[str, ...]
    offsets: tuple[int, ...]
    eol: bytes
    at_eof: bool
    binary: bool

    def line_offset(self, index: int) -> int:
        """Byte offset of the start of line ``index + 1`` (``index`` may equal ``len(lines)``)."""
        return self.offsets[index]

    def fail(self, message: str, *, line: int | None = None) -> CaptureFormatError:
        return CaptureFormatError(message, path=self.path, line=line)


def read_head(path: str) -> Head:
    """Open ``path`` and read its head. I/O problems become :class:`CaptureFormatError`."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            raw = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise CaptureFormatError(f"cannot read the file: {exc.strerror or exc}", path=path) from exc
    at_eof = len(raw) >= size
    bom = len(_UTF8_BOM) if raw.startswith(_UTF8_BOM) else 0
    body = raw[bom:]
    binary = _looks_binary(body)

    # A file using CR alone as line end still splits correctly; the data parser
    # (pyarrow) accepts \n, \r\n and \r too.
    eol = b"\n" if b"\n" in body else (b"\r" if b"\r" in body else b"\n")
    starts = [bom]
    for m in _EOL.finditer(body):
        if m.end() == len(body) and m.group() == b"\r" and not at_eof:
            break  # maybe the first half of a CRLF cut by the head limit
        starts.append(bom + m.end())
    if at_eof and starts[-1] < len(raw):
        starts.append(len(raw))  # last line without terminator
    chunks = [raw[a:b] for a, b in zip(starts[:-1], starts[1:])]
    stripped = [c.rstrip(b"\r\n") for c in chunks]
    encoding = "utf-8"
    try:
        lines = tuple(s.decode("utf-8") for s in stripped)
    except UnicodeDecodeError:
        # Digilent WaveForms writes its preamble in Latin-1 ("°"); any byte decodes.
        encoding = "latin-1"
        lines = tuple(s.decode("latin-1") for s in stripped)
    return Head(str(path), size, raw, encoding, lines, tuple(starts), eol, at_eof, binary)


def _looks_binary(body: bytes) -> bool:
    """Binary formats start with a magic number holding NULs, or are full of control bytes.

    A stray NUL further on in a text export is left to the row parser, which names its line.
    """
    if not body:
        return False
    if b"\x00" in body[:16]:
        return True
    sample = body[:4096]
    bad = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return bad > max(4, len(sample) // 100)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


@dataclass(frozen=True)
class Channel:
    """One value column of a capture."""

    name: str
    column: int
    scale: float = 1.0
    unit: str = "V"
    number: int | None = None
    analog: bool = True
    label: str = ""


@dataclass(frozen=True)
class TimeAxis:
    """How sample times come out of a row.

    ``column``: time is in ``column``, multiplied by ``scale`` to get seconds.
    ``index``: ``column`` holds a sample index; ``t = t0_s + index * dt_s``.
    ``uniform``: no time column; ``t = t0_s + k * dt_s`` for row ``k``.
    """

    kind: Literal["column", "index", "uniform"]
    column: int | None = None
    scale: float = 1.0
    t0_s: float = 0.0
    dt_s: float | None = None

    def __post_init__(self) -> None:
        if self.kind in ("index", "uniform"):
            if self.dt_s is None or not math.isfinite(self.dt_s) or self.dt_s <= 0:
                raise ValueError(f"sample interval must be a positive number, got {self.dt_s!r}")
            if not math.isfinite(self.t0_s):
                raise ValueError(f"start time must be finite, got {self.t0_s!r}")
        if self.kind in ("column", "index") and self.column is None:
            raise ValueError(f"a {self.kind} time axis needs its column")

    @property
    def step_s(self) -> float:
        """``dt_s`` of an ``index`` or ``uniform`` axis (checked on creation)."""
        if self.dt_s is None:
            raise ValueError(f"a {self.kind} time axis has no sample interval")
        return self.dt_s

    @property
    def col(self) -> int:
        """``column`` of a ``column`` or ``index`` axis (checked on creation)."""
        if self.column is None:
            raise ValueError(f"a {self.kind} time axis has no column")
        return self.column


@dataclass
class Layout:
    """Everything needed to parse the numeric rows of one file."""

    fmt: str
    data_line: int  # 1-based line number of the first numeric row
    data_offset: int
    ncols: int
    delimiter: str
    decimal: str
    time: TimeAxis
    channels: list[Channel]
    header: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)
    path: str = ""  # filled in by cpsim.io from the Head
    eol: bytes = b"\n"


def split_fields(line: str, delimiter: str = ",") -> list[str]:
    """Split one header line into stripped cells, honouring double quotes."""
    if '"' in line:
        try:
            cells = next(csv.reader([line], delimiter=delimiter))
        except (csv.Error, StopIteration):
            cells = line.split(delimiter)
    else:
        cells = line.split(delimiter)
    return [c.strip().strip('"').strip() for c in cells]


_NUMBER = {
    ".": re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"),
    ",": re.compile(r"[+-]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?"),
}


def is_number(text: str, decimal: str = ".") -> bool:
    """True for a plain decimal number as instruments write them (no NaN/inf, no thousands)."""
    return _NUMBER[decimal].fullmatch(text.strip()) is not None


def parse_number(text: str, decimal: str = ".") -> float:
    t = text.strip()
    if not is_number(t, decimal):
        raise ValueError(f"not a number: {text!r}")
    return float(t.replace(",", ".")) if decimal == "," else float(t)


_TIME_UNITS = {
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ns": 1e-9, "ps": 1e-12,
}
_VALUE_PREFIX = {"": 1.0, "m": 1e-3, "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "k": 1e3}


def time_unit_scale(unit: str) -> float | None:
    """Seconds per ``unit`` ("ms" -> 1e-3), or None when it is not a time unit."""
    return _TIME_UNITS.get(unit.strip().lower())


def value_unit_scale(unit: str) -> tuple[float, str]:
    """Split a value unit into (scale to the base unit, base unit): "mV" -> (1e-3, "V").

    Unknown units come back unscaled, as written, so a current probe's "A" stays "A".
    """
    u = unit.strip()
    low = u.lower()
    if low in ("v", "volt", "volts"):
        return 1.0, "V"
    if len(u) >= 2 and u[0] in _VALUE_PREFIX and u[1:].lower() in ("v", "volt", "volts"):
        return _VALUE_PREFIX[u[0]], "V"
    if low in ("mv", "uv", "kv"):
        return _VALUE_PREFIX[low[0]], "V"
    return 1.0, u


_QUANTITY = re.compile(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-zµμ]*)\s*$")
_SI_PREFIX = {"": 1.0, "p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9}


def parse_quantity(text: str, unit: str) -> float:
    """Parse "0.08uS", "-1.01s", "1.5873e+06Hz" given the base unit ("s", "Hz"), case-insensitive."""
    m = _QUANTITY.match(text)
    if not m:
        raise ValueError(f"not a quantity in {unit}: {text!r}")
    value, suffix = float(m.group(1)), m.group(2)
    if suffix.lower().endswith(unit.lower()):
        prefix = suffix[: len(suffix) - len(unit)]
    elif suffix == "":
        prefix = ""
    else:
        raise ValueError(f"unit of {text!r} is not {unit}")
    if prefix not in _SI_PREFIX:
        # "mS" (milli) and "MS" are ambiguous only in principle; scopes mean milli.
        if prefix.lower() in _SI_PREFIX:
            prefix = prefix.lower()
        else:
            raise ValueError(f"unknown prefix in {text!r}")
    if prefix == "M" and unit.lower() == "s":
        prefix = "m"  # "MS" for milliseconds on instruments that upper-case units
    return value * _SI_PREFIX[prefix]


_CH_NUMBER = re.compile(r"^(?:ch(?:annel)?|kanal|c)?\s*[_ ]?\s*(\d{1,2})$", re.IGNORECASE)
_CH_LETTER = re.compile(r"^(?:channel|kanal|ch)\s+([A-H])$", re.IGNORECASE)


def channel_number(name: str) -> int | None:
    """The instrument channel number in a name: "CH2" -> 2, "Channel 1" -> 1, "Channel B" -> 2."""
    s = name.strip()
    m = _CH_NUMBER.match(s)
    if m:
        return int(m.group(1))
    m = _CH_LETTER.match(s)
    if m:
        return ord(m.group(1).upper()) - ord("A") + 1
    return None


def is_blank(line: str) -> bool:
    return not line.strip()


def first_data_line(head: Head, start: int, delimiter: str, decimal: str = ".") -> int:
    """Index of the first non-blank line at or after ``start``; it must begin with a number."""
    i = start
    while i < len(head.lines) and is_blank(head.lines[i]):
        i += 1
    if i >= len(head.lines):
        if head.at_eof:
            raise head.fail("no data rows after the header", line=i + 1)
        raise head.fail(f"no data row within the first {HEAD_BYTES >> 10} KiB (preamble too long?)")
    return i


@dataclass(frozen=True)
class Table:
    """Where the numeric rows are and which columns to convert."""

    path: str
    start: int  # byte offset of the first data row
    first_line: int  # its 1-based line number
    ncols: int  # fields per row
    usecols: tuple[int, ...]  # columns to convert (0-based)
    delimiter: str = ","
    decimal: str = "."
    eol: bytes = b"\n"
    value_cols: tuple[int, ...] = ()  # a last row with all of these empty is dropped
    labels: tuple[str, ...] = ()  # column names for messages, indexed by column
    int_cols: tuple[int, ...] = ()  # sample-index columns: parsed as int64 (cheaper, and must be whole)
