"""Owon HDS handheld oscilloscope CSV (HDS242 and relatives).

A tab-padded ``Key\\t\\t:,value`` preamble (``Channel :,CH1``, ``Time interval :,0.08uS``,
``Probe attenuation :,10X``), a blank line, then ``index,CH1_Voltage(mV)`` rows. There
is no time column: ``t = index * Time interval``. Values are in the unit of the column
header (mV). Some firmware writes the header as ``CH1_coltage(mV)``; only the channel
prefix and the unit in parentheses are used.
"""

from __future__ import annotations

import re

from ._layout import (
    Channel,
    Head,
    Layout,
    TimeAxis,
    channel_number,
    first_data_line,
    parse_quantity,
    split_fields,
    value_unit_scale,
)

_KEY = re.compile(r"^\s*([^:,]+?)\s*:\s*,(.*)$")
_COLUMN = re.compile(r"^(.+?)_\w*\((\w+)\)$")


def sniff(head: Head) -> bool:
    if not head.lines:
        return False
    m = _KEY.match(head.lines[0])
    return m is not None and m.group(1).strip().lower() == "channel" and _header_row(head) is not None


def _header_row(head: Head) -> int | None:
    for i, line in enumerate(head.lines[:40]):
        if line.lower().startswith("index,"):
            return i
    return None


def layout(head: Head) -> Layout:
    h = _header_row(head)
    if h is None:
        raise head.fail("no 'index,CH1_Voltage(mV)' column header found")
    fields: dict[str, str] = {}
    for line in head.lines[:h]:
        m = _KEY.match(line)
        if m:
            fields[re.sub(r"\s+", " ", m.group(1)).strip()] = m.group(2).strip()
    try:
        dt = parse_quantity(fields["Time interval"], "s")
    except (KeyError, ValueError) as exc:
        raise head.fail(f"the preamble must give 'Time interval' (e.g. 0.08uS): {exc}") from exc
    channels = []
    for k, col in enumerate(split_fields(head.lines[h])[1:], start=1):
        m = _COLUMN.match(col)
        name, unit_text = (m.group(1), m.group(2)) if m else (col, "V")
        scale, unit = value_unit_scale(unit_text)
        channels.append(Channel(name, k, scale, unit, channel_number(name), True, col))
    i = first_data_line(head, h + 1, ",")
    return Layout("owon", i + 1, head.line_offset(i), len(head.lines[i].split(",")), ",", ".",
                  TimeAxis("index", column=0, t0_s=0.0, dt_s=dt), channels, list(head.lines[:i]),
                  {"header_fields": fields, "stated_sample_interval_s": dt})
