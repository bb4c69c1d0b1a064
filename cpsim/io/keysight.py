"""Keysight/Agilent InfiniiVision CSV exports ("CSV data file" and "ASCII XY").

Two header lines, ``x-axis,1,2`` and ``second,Volt,Volt``, then ``time,value,value``
rows in engineering notation (``-998.000E-06``). The "CSV data file" export ends with a
row that has a time but no values (``+998.000E-06,,``); the shared reader drops it.
Channel ``1`` is named ``CH1``; other sources (``Math``, ``F1``, ``D0``) keep their name.
"""

from __future__ import annotations

from ._layout import Channel, Head, Layout, TimeAxis, channel_number, first_data_line, split_fields, value_unit_scale


def sniff(head: Head) -> bool:
    if len(head.lines) < 2:
        return False
    f0, f1 = split_fields(head.lines[0]), split_fields(head.lines[1])
    return len(f0) >= 2 and f0[0].lower() == "x-axis" and bool(f1) and f1[0].lower() == "second"


def layout(head: Head) -> Layout:
    f0, f1 = split_fields(head.lines[0]), split_fields(head.lines[1])
    channels = []
    for k, source in enumerate(f0[1:], start=1):
        if not source:
            continue
        number = int(source) if source.isdigit() else channel_number(source)
        name = f"CH{source}" if source.isdigit() else source
        scale, unit = value_unit_scale(f1[k] if k < len(f1) and f1[k] else "V")
        digital = source.upper().startswith("D") and source[1:].isdigit()
        channels.append(Channel(name, k, scale, unit, number, not digital, source))
    if not channels:
        raise head.fail("no channel columns after 'x-axis'", line=1)
    i = first_data_line(head, 2, ",")
    ncols = len(head.lines[i].split(","))
    return Layout("keysight", i + 1, head.line_offset(i), ncols, ",", ".", TimeAxis("column", column=0),
                  channels, list(head.lines[:i]))
