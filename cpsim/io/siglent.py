"""Siglent SDS on-scope CSV (SDS1000X-E, SDS2000X and relatives).

A ``Key,Value`` preamble (``Record Length,Analog:140000``, ``Sample Interval,CH1:2e-06``,
``Vertical Units,CH1:V,,,``, …, ``Source,CH1``), a ``Second,Volt`` header, then rows
`` 0.00000200000,1.18000`` (time in seconds with a leading blank, whatever the
``Horizontal Units`` display setting says).
"""

from __future__ import annotations

from ._layout import (
    Channel,
    Head,
    Layout,
    TimeAxis,
    channel_number,
    first_data_line,
    is_number,
    split_fields,
    value_unit_scale,
)


def _header_row(head: Head) -> int | None:
    for i, line in enumerate(head.lines[:60]):
        f = split_fields(line)
        if f and f[0].lower() == "second":
            return i
    return None


def sniff(head: Head) -> bool:
    if not head.lines:
        return False
    f0 = split_fields(head.lines[0])
    return (
        len(f0) >= 2 and f0[0] == "Record Length" and not is_number(f0[1])
        and _header_row(head) is not None
    )


def _per_channel(value: str) -> dict[str, str]:
    """``"CH1:V"`` -> {"CH1": "V"}; a bare value maps to ""."""
    name, sep, rest = value.partition(":")
    return {name.strip(): rest.strip()} if sep else {"": value.strip()}


def layout(head: Head) -> Layout:
    h = _header_row(head)
    if h is None:
        raise head.fail("no 'Second,Volt' column header found")
    fields: dict[str, list[str]] = {}
    for line in head.lines[:h]:
        f = split_fields(line)
        if f and f[0]:
            fields[f[0]] = [c for c in f[1:] if c]
    cols = split_fields(head.lines[h])
    sources = fields.get("Source") or [f"CH{k}" for k in range(1, len(cols))]
    units: dict[str, str] = {}
    for cell in fields.get("Vertical Units", []):
        units.update(_per_channel(cell))
    channels = []
    for k, name in enumerate(sources, start=1):
        unit_text = units.get(name) or (cols[k] if k < len(cols) else "V")
        scale, unit = value_unit_scale(unit_text)
        channels.append(Channel(name, k, scale, unit, channel_number(name), True, name))
    i = first_data_line(head, h + 1, ",")
    ncols = len(head.lines[i].split(","))
    md: dict = {"header_fields": {k: v[0] if len(v) == 1 else v for k, v in fields.items()}}
    for cell in fields.get("Sample Interval", []):
        try:
            md["stated_sample_interval_s"] = float(cell.partition(":")[2] or cell)
            break
        except ValueError:
            pass
    return Layout("siglent", i + 1, head.line_offset(i), ncols, ",", ".", TimeAxis("column", column=0),
                  channels, list(head.lines[:i]), md)
