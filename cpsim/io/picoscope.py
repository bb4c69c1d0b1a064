"""PicoScope 6/7 CSV and TXT exports.

Line 1 names the columns (``Time,Channel A,Channel B``; German ``Zeit``/``Kanal A``;
some exports label the time column ``Frequency``/``Frequenz`` although it holds
time), line 2 gives the units in parentheses (``(ms),(V),(mV)``; time in s, ms, µs/us,
ns), line 3 is blank, then the samples. The separator is a comma (CSV) or a tab
(TXT); a German-locale export may use a decimal comma with a tab or semicolon
separator. The time column is always identified by its unit row, not its name.
Over-range samples are written as ``∞`` and reported as a bad value with a hint.
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
    split_fields,
    time_unit_scale,
    value_unit_scale,
)

_UNIT = re.compile(r"^\((.*)\)$")


def _delimiter(head: Head) -> str | None:
    if len(head.lines) < 3:
        return None
    for d in ("\t", ";", ","):
        f0, f1 = split_fields(head.lines[0], d), split_fields(head.lines[1], d)
        if len(f0) >= 2 and len(f1) == len(f0) and all(_UNIT.match(c) for c in f1):
            if (m := _UNIT.match(f1[0])) is not None and time_unit_scale(m.group(1)) is not None:
                return d
    return None


def sniff(head: Head) -> bool:
    return _delimiter(head) is not None


def layout(head: Head) -> Layout:
    d = _delimiter(head)
    if d is None:
        raise head.fail("expected a column-name line and a '(unit)' line such as '(ms),(V)'", line=2)
    # _delimiter checked that every cell of line 2 is '(unit)' and that the first is a time unit
    names = split_fields(head.lines[0], d)
    units = [m.group(1) for c in split_fields(head.lines[1], d) if (m := _UNIT.match(c)) is not None]
    time_scale = time_unit_scale(units[0])
    assert time_scale is not None
    i = first_data_line(head, 2, d)
    row = head.lines[i].split(d)
    decimal = "," if d != "," and any("," in c for c in row) else "."
    channels = []
    for k, name in enumerate(names[1:], start=1):
        scale, unit = value_unit_scale(units[k])
        channels.append(Channel(name, k, scale, unit, channel_number(name), True, name))
    md = {"time_unit": units[0], "time_column_label": names[0]}
    return Layout("picoscope", i + 1, head.line_offset(i), len(row), d, decimal,
                  TimeAxis("column", column=0, scale=time_scale), channels,
                  list(head.lines[:i]), md)
