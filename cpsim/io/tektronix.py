"""Tektronix oscilloscope CSV exports.

``tektronix-tbs``: TDS/TBS 1000 and 2000 series (on-scope "Save CSV"). Every row has
the settings in columns A–B (``Record Length``, ``Sample Interval``, ``Source``,
``Vertical Units``, …, only on the first ~18 rows) and the sample in columns D–E
(time [s], value). A few exports repeat that 6-column group per channel side by side.

``tektronix-mdo``: MDO/MSO/DPO 3000/4000 and the MSO 4/5/6 series: a ``Key,Value``
preamble (``Model``, ``Sample Interval``, ``Vertical Units``, …), then a
``TIME,CH1,CH2`` header and one row per sample.
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

_TEK_KEYS = {
    "model", "firmware version", "waveform type", "point format", "horizontal units", "horizontal scale",
    "horizontal delay", "sample interval", "record length", "gating", "probe attenuation", "vertical units",
    "vertical offset", "vertical scale", "vertical position", "label", "analog channels", "digital channels",
}


def _check_time_unit(head: Head, unit: str | None, line: int | None) -> None:
    if unit is not None and unit.strip().lower() not in ("s", "second", "seconds", ""):
        raise head.fail(
            f"horizontal unit is {unit!r}, not seconds (a frequency-domain/FFT export is not a waveform)",
            line=line,
        )


# -- TBS / TDS 1000-2000 ---------------------------------------------------------------

def sniff_tbs(head: Head) -> bool:
    if not head.lines:
        return False
    f0 = split_fields(head.lines[0])
    return len(f0) >= 5 and f0[0] == "Record Length" and is_number(f0[1]) and is_number(f0[3]) and is_number(f0[4])


def layout_tbs(head: Head) -> Layout:
    f0 = split_fields(head.lines[0])
    groups = [j for j, cell in enumerate(f0) if cell == "Record Length"]
    ncols = len(head.lines[0].split(","))
    channels: list[Channel] = []
    settings: list[dict[str, str]] = []
    meta_rows = 0
    for g, j in enumerate(groups):
        info: dict[str, str] = {}
        for i, line in enumerate(head.lines[:64]):
            f = split_fields(line)
            if len(f) > j + 1 and f[j]:
                info[f[j]] = f[j + 1]
                meta_rows = max(meta_rows, i + 1)
        settings.append(info)
        _check_time_unit(head, info.get("Horizontal Units"), None)
        name = info.get("Source") or f"CH{g + 1}"
        scale, unit = value_unit_scale(info.get("Vertical Units", "V"))
        channels.append(Channel(name, j + 4, scale, unit, channel_number(name), True, name))
    if len(groups) > 1:
        starts = {split_fields(head.lines[0])[j + 3] for j in groups}
        lengths = {s.get("Record Length") for s in settings}
        if len(starts) != 1 or len(lengths) != 1:
            raise head.fail("channel groups with different time axes in one file are not supported", line=1)
    md: dict = {"header_fields": settings[0] if len(settings) == 1 else settings}
    try:
        md["stated_sample_interval_s"] = float(settings[0]["Sample Interval"])
    except (KeyError, ValueError):
        pass
    return Layout("tektronix-tbs", 1, head.line_offset(0), ncols, ",", ".",
                  TimeAxis("column", column=groups[0] + 3), channels, list(head.lines[:meta_rows]), md)


# -- MDO / MSO / DPO -----------------------------------------------------------------

def _time_header(head: Head) -> int | None:
    for i, line in enumerate(head.lines[:200]):
        f = split_fields(line)
        if len(f) >= 2 and f[0] == "TIME":
            return i
    return None


def sniff_mdo(head: Head) -> bool:
    if not head.lines:
        return False
    f0 = split_fields(head.lines[0])
    if not f0 or f0[0].lower() not in _TEK_KEYS or (len(f0) > 1 and f0[1].startswith("Analog:")):
        return False
    if sniff_tbs(head):
        return False
    return _time_header(head) is not None


def layout_mdo(head: Head) -> Layout:
    h = _time_header(head)
    if h is None:
        raise head.fail("no 'TIME,CH1,…' column header found")
    fields: dict[str, list[str]] = {}
    for line in head.lines[:h]:
        f = split_fields(line)
        if f and f[0]:
            fields[f[0]] = f[1:]
    horizontal = fields.get("Horizontal Units") or []
    _check_time_unit(head, horizontal[0] if horizontal else None, None)
    names = split_fields(head.lines[h])[1:]
    units = fields.get("Vertical Units", [])
    channels = []
    for k, name in enumerate(names):
        if not name:
            continue
        scale, unit = value_unit_scale(units[k] if k < len(units) and units[k] else "V")
        digital = name.upper().startswith("D") and name[1:].isdigit()
        channels.append(Channel(name, k + 1, scale, unit, channel_number(name), not digital, name))
    i = first_data_line(head, h + 1, ",")
    ncols = len(head.lines[i].split(","))
    md: dict = {"header_fields": {k: v[0] if len(v) == 1 else v for k, v in fields.items()}}
    try:
        md["stated_sample_interval_s"] = float(fields["Sample Interval"][0])
    except (KeyError, IndexError, ValueError):
        pass
    return Layout("tektronix-mdo", i + 1, head.line_offset(i), ncols, ",", ".", TimeAxis("column", column=0),
                  channels, list(head.lines[:i]), md)
