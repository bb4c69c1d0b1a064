"""Hantek DSO5000-series on-scope CSV.

``#timebase=40000000(ps),#voltbase=1000000(uV)`` (per division), a blank line, then
``time [s],value`` rows. The file does not state the value unit; the values are
millivolts (a 3.3 V logic signal reads ``3320.000`` with a 1 V/div ``voltbase``), so
they are scaled by 1e-3 and ``metadata["value_unit_assumed"]`` says so.
"""

from __future__ import annotations

import re

from ._layout import Channel, Head, Layout, TimeAxis, first_data_line

_SETTING = re.compile(r"#?\s*(\w+)\s*=\s*([-+0-9.eE]+)\s*\((\w+)\)")
_UNIT = {"ps": 1e-12, "ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "uv": 1e-6, "mv": 1e-3, "v": 1.0}


def sniff(head: Head) -> bool:
    return bool(head.lines) and head.lines[0].lstrip().lower().startswith("#timebase=")


def layout(head: Head) -> Layout:
    settings: dict[str, list[float]] = {}
    for key, value, unit in _SETTING.findall(head.lines[0]):
        settings.setdefault(key.lower(), []).append(float(value) * _UNIT.get(unit.lower(), float("nan")))
    i = first_data_line(head, 1, ",")
    ncols = len(head.lines[i].split(","))
    channels = [Channel(f"CH{k}", k, 1e-3, "V", k, True, f"column {k + 1}") for k in range(1, ncols)]
    md = {
        "value_unit_assumed": "mV",
        "timebase_s_per_div": settings.get("timebase", [None])[0],
        "voltbase_v_per_div": settings.get("voltbase", []),
    }
    return Layout("hantek", i + 1, head.line_offset(i), ncols, ",", ".", TimeAxis("column", column=0),
                  channels, list(head.lines[:i]), md)
