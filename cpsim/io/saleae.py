"""Saleae Logic 2 (and Logic 1.x) CSV exports.

Analog export: ``Time [s],<channel names>`` (the user's names, e.g. ``ADC``), one row
per sample, values in volts. Digital export: the same header, one row per
transition, values 0/1; those channels are marked ``analog=False`` and their values
are logic levels, not volts (``metadata["value_unit"] == "logic"``).
"""

from __future__ import annotations

from ._layout import Channel, Head, Layout, TimeAxis, channel_number, first_data_line, split_fields


def sniff(head: Head) -> bool:
    if not head.lines:
        return False
    f0 = split_fields(head.lines[0])
    return len(f0) >= 2 and f0[0].replace(" ", "").lower() == "time[s]"


def layout(head: Head) -> Layout:
    names = split_fields(head.lines[0])[1:]
    i = first_data_line(head, 1, ",")
    rows = [line.split(",") for line in head.lines[i : i + 200] if line.strip()]
    ncols = len(rows[0])
    channels = []
    for k, name in enumerate(names, start=1):
        cells = {r[k].strip() for r in rows if k < len(r)}
        digital = bool(cells) and cells <= {"0", "1"}
        channels.append(
            Channel(name, k, 1.0, "logic" if digital else "V", channel_number(name), not digital, name)
        )
    return Layout("saleae", i + 1, head.line_offset(i), ncols, ",", ".", TimeAxis("column", column=0),
                  channels, list(head.lines[:i]))
