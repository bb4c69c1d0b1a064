"""cpsim's own CSV, and generic ``time,value[,value…]`` files.

``cpsim``: what :meth:`cpsim.Waveform.to_csv` writes, header ``time_s,<channel>_v``.

``generic`` (tried only when no instrument layout matches): optional comment lines
(``#``, ``%``, ``//``), at most one header line, then rows of numbers separated by
commas, semicolons or tabs (a decimal comma is accepted with the latter two). The
first column is time in seconds unless the header gives its unit (``time (ms)``,
``t [us]``, ``time_ms``). Without a header the value columns are named ``CH1``,
``CH2``, … (R&S RTP ``.Wfm.csv`` data files are of this kind).
"""

from __future__ import annotations

import re

from ._layout import (
    Channel,
    Head,
    Layout,
    TimeAxis,
    channel_number,
    is_number,
    split_fields,
    time_unit_scale,
    value_unit_scale,
)

_CPSIM = re.compile(r"^time_s(,[^,]+_v)+$")
_UNIT_SUFFIX = re.compile(r"^(.*?)\s*(?:\(([^()]*)\)|\[([^\[\]]*)\])\s*$")
_COMMENT = ("#", "%", "//")
_DELIMITERS = (",", ";", "\t")


def sniff_cpsim(head: Head) -> bool:
    return bool(head.lines) and bool(_CPSIM.match(head.lines[0].strip()))


def layout_cpsim(head: Head) -> Layout:
    names = head.lines[0].strip().split(",")[1:]
    channels = [Channel(n[:-2], k, 1.0, "V", channel_number(n[:-2]), True, n) for k, n in enumerate(names, start=1)]
    if len(head.lines) < 2 or not head.lines[1].strip():
        raise head.fail("no data rows after the header", line=2)
    return Layout("cpsim", 2, head.line_offset(1), len(head.lines[1].split(",")), ",", ".",
                  TimeAxis("column", column=0), channels, [head.lines[0]])


def _numeric_row(line: str, d: str) -> tuple[int, str] | None:
    cells = line.split(d)
    if len(cells) < 2:
        return None
    for decimal in (".", ","):
        if decimal == "," and d == ",":
            continue
        if all(is_number(c, decimal) for c in cells if c.strip()) and is_number(cells[0], decimal) \
                and is_number(cells[1], decimal):
            return len(cells), decimal
    return None


def _scan(head: Head):
    """(delimiter, decimal, header index or None, first data index, ncols) or None."""
    i = 0
    while i < len(head.lines) and (not head.lines[i].strip() or head.lines[i].lstrip().startswith(_COMMENT)):
        i += 1
    for d in _DELIMITERS:
        for header in (None, i):
            first = i if header is None else i + 1
            if header is not None and (len(head.lines[header].split(d)) < 2 or _numeric_row(head.lines[header], d)):
                continue
            rows = list(head.lines[first : first + 20])
            if head.at_eof and first + len(rows) == len(head.lines) and len(rows) > 1:
                rows = rows[:-1]  # the file's last row may legitimately lack values
            shapes = [_numeric_row(r, d) for r in rows if r.strip()]
            shape = shapes[0] if shapes else None
            if shape is not None and all(s == shape for s in shapes):
                return d, shape[1], header, first, shape[0]
            if header is not None and not shapes and head.at_eof and not any(x.strip() for x in head.lines[first:]):
                return d, ".", header, first, len(head.lines[header].split(d))  # header only
    return None


def sniff(head: Head) -> bool:
    return _scan(head) is not None


def _split_unit(label: str) -> tuple[str, str | None]:
    m = _UNIT_SUFFIX.match(label)
    if m:
        return m.group(1), (m.group(2) if m.group(2) is not None else m.group(3)).strip()
    name, sep, suffix = label.rpartition("_")
    if sep and name and (time_unit_scale(suffix) is not None or value_unit_scale(suffix)[1] == "V"):
        return name, suffix
    return label, None


def layout(head: Head) -> Layout:
    found = _scan(head)
    if found is None:
        raise head.fail("expected rows of numbers (time, value, …), with at most one header line")
    d, decimal, header, first, ncols = found
    time_scale = 1.0
    channels = []
    if header is None:
        for k in range(1, ncols):
            channels.append(Channel(f"CH{k}", k, 1.0, "V", k, True, ""))
    else:
        labels = split_fields(head.lines[header], d)
        _, time_unit = _split_unit(labels[0]) if labels else ("", None)
        if time_unit is not None:
            scale = time_unit_scale(time_unit)
            if scale is None:
                raise head.fail(f"first column {labels[0]!r} is not time in s/ms/us/ns", line=header + 1)
            time_scale = scale
        for k in range(1, ncols):
            label = labels[k] if k < len(labels) else ""
            if not label:
                continue
            name, unit_text = _split_unit(label)
            scale, unit = value_unit_scale(unit_text or "V")
            channels.append(Channel(name or label, k, scale, unit, channel_number(name or label), True, label))
    if not channels:
        raise head.fail("no value column", line=(header + 1) if header is not None else first + 1)
    return Layout("generic", first + 1, head.line_offset(first), ncols, d, decimal,
                  TimeAxis("column", column=0, scale=time_scale), channels, list(head.lines[:first]))
