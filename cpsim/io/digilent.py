"""Digilent WaveForms (Analog Discovery) "Oscilloscope Acquisition" CSV.

``#Key: value`` comment lines (Latin-1: ``#Phase: 0 °``), a blank line, the header
``Time (s),Channel 1 (V),Channel 2 (V)``, then the samples.
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
    time_unit_scale,
    value_unit_scale,
)

_NAMED = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")


def sniff(head: Head) -> bool:
    return bool(head.lines) and head.lines[0].startswith("#Digilent WaveForms")


def layout(head: Head) -> Layout:
    fields: dict[str, str] = {}
    h = 0
    while h < len(head.lines) and (head.lines[h].startswith("#") or not head.lines[h].strip()):
        key, sep, value = head.lines[h][1:].partition(":")
        if sep:
            fields[key.strip()] = value.strip()
        h += 1
    if h >= len(head.lines):
        raise head.fail("no column header after the '#' preamble")
    cols = split_fields(head.lines[h])
    m = _NAMED.match(cols[0])
    time_scale = time_unit_scale(m.group(2)) if m else 1.0
    if time_scale is None:
        raise head.fail(f"first column {cols[0]!r} is not time", line=h + 1)
    channels = []
    for k, col in enumerate(cols[1:], start=1):
        m = _NAMED.match(col)
        name, unit_text = (m.group(1), m.group(2)) if m else (col, "V")
        scale, unit = value_unit_scale(unit_text)
        channels.append(Channel(name, k, scale, unit, channel_number(name), True, col))
    i = first_data_line(head, h + 1, ",")
    md: dict = {"header_fields": fields}
    try:
        md["stated_sample_interval_s"] = 1.0 / parse_quantity(fields["Sample rate"], "Hz")
    except (KeyError, ValueError, ZeroDivisionError):
        pass
    return Layout("digilent", i + 1, head.line_offset(i), len(head.lines[i].split(",")), ",", ".",
                  TimeAxis("column", column=0, scale=time_scale), channels, list(head.lines[:i]), md)
