"""What is wrong with a data row, in words: the error path of the capture row parser.

The parser (:mod:`cpsim.io._csvcore`) only learns that a block failed; these functions
find the row and say what is wrong with it (field count, empty cell, not a number, too
large), so that every error names its line.
"""

from __future__ import annotations

import math
import re

from ._layout import Table, is_number

__all__ = ["MAX_LINE_BYTES", "RowProblem", "explain_row", "locate_problem", "line_of", "line_text"]

MAX_LINE_BYTES = 1 << 20
"""A line longer than this is not a capture row; reading stops with an error instead of buffering it."""


class RowProblem(Exception):
    """Raised in a worker: ``row`` is 0-based within the block (None if unknown)."""

    def __init__(self, row: int | None, message: str):
        super().__init__(message)
        self.row = row
        self.message = message


def locate_problem(table: Table, data: bytes, message: str) -> RowProblem:
    m = re.search(r"Row #(\d+)", message)
    if m:
        row = int(m.group(1)) - 1
        why = explain_row(table, line_of(data, row))
        if why:
            return RowProblem(row, why)
    for row, line in enumerate(data.splitlines()):
        why = explain_row(table, line)
        if why:
            return RowProblem(row, why)
    return RowProblem(int(m.group(1)) - 1 if m else None, f"unreadable data ({message[:200]})")

def explain_row(table: Table, raw: bytes | None) -> str | None:
    """What is wrong with one data line, in words; None when nothing is."""
    if raw is None:
        return None
    if len(raw) > MAX_LINE_BYTES:
        return f"line longer than {MAX_LINE_BYTES >> 20} MiB: not a capture row"
    text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
    shown = text if len(text) <= 60 else text[:57] + "..."
    if not text.strip():
        return "blank line inside the data (expected a row of numbers)"
    cells = text.split(table.delimiter)
    if len(cells) != table.ncols:
        return (
            f"row has {len(cells)} fields, expected {table.ncols} like line "
            f"{table.first_line}: {shown!r}"
        )
    for c in table.usecols:
        cell = cells[c].strip()
        label = table.labels[c] if c < len(table.labels) and table.labels[c] else f"column {c + 1}"
        if cell == "":
            return f"empty {label} value (expected a number): {shown!r}"
        cell_shown = cell if len(cell) <= 30 else cell[:27] + "..."
        if c in table.int_cols:
            if not re.fullmatch(r"[+-]?\d{1,18}", cell):
                return f"{label} value {cell_shown!r} is not a whole number"
            continue
        if not is_number(cell, table.decimal):
            hint = ""
            if "∞" in cell:
                hint = " (PicoScope writes ∞ for an over-range sample; capture with a larger range)"
            return f"{label} value {cell_shown!r} is not a finite number{hint}"
        if not math.isfinite(float(cell.replace(",", ".") if table.decimal == "," else cell)):
            return f"{label} value {cell_shown!r} is too large for a float"
    return None


def line_of(data: bytes, row: int) -> bytes | None:
    lines = data.splitlines()
    return lines[row] if 0 <= row < len(lines) else None


def line_text(path: str, start: int, first_line: int, line: int, eol: bytes = b"\n") -> bytes:
    """The bytes of 1-based ``line`` of the data region starting at ``start`` (error path only)."""
    with open(path, "rb") as fh:
        fh.seek(start)
        current, carry = first_line, b""
        while True:
            chunk = fh.read(4 << 20)
            if not chunk:
                return carry[:MAX_LINE_BYTES] if current == line else b""
            buf = carry + chunk
            pos = 0
            while current < line:
                i = buf.find(eol, pos)
                if i < 0:
                    break
                pos, current = i + 1, current + 1
            if current == line:
                end = buf.find(eol, pos)
                if end >= 0 or len(buf) - pos > MAX_LINE_BYTES:
                    return buf[pos : pos + MAX_LINE_BYTES] if end < 0 else buf[pos:end].rstrip(b"\r")
                carry = buf[pos:]
            else:
                carry = b""
