"""Rigol oscilloscope CSV exports (six layouts across the model families).

=============  =========================================================  =========================
format         signature                                                  time axis
=============  =========================================================  =========================
rigol-csv      ``X,CH1,…,Start,Increment`` / ``Sequence,Volt,…,t0,dt``    ``Start + X * Increment``
               (DS1000Z, DS2000, DS4000, MSO1000Z/2000; only enabled
               channels; X need not start at 0)
rigol-ds1000e  ``X,CH1,`` / ``Second,Volt,`` (DS1000E/CA)                 time column [s]
rigol-ds1000b  ``,CH2,CH4`` / ``Second,Volt,Volt``, rows end in ``", "``  time column [s]
rigol-ds1000d  ``X,CH 1 (V),CH 2 (V)`` (one header line)                  time column [s]
rigol-mso5000  ``CH1(V),t0 = -1.01s, tInc = 5e-07s,`` values only         ``t0 + k * tInc``
               (MSO5000, DHO)
rigol-ds1052e  16 quoted ``"Key =",value`` lines, ``"Time (s)",…``        time column [s]
=============  =========================================================  =========================
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
    is_number,
    parse_number,
    parse_quantity,
    split_fields,
    value_unit_scale,
)

_DIGITAL = re.compile(r"^(D\d{1,2}|LA.*|D\d+-D\d+)$", re.IGNORECASE)


def _fields(head: Head, i: int) -> list[str]:
    return split_fields(head.lines[i]) if i < len(head.lines) else []


def _channel(name: str, column: int, unit_text: str = "V") -> Channel:
    clean = re.sub(r"\s*\(.*\)\s*$", "", name).strip()
    number = channel_number(clean)
    canonical = f"CH{number}" if number is not None and clean.upper().replace(" ", "").startswith("CH") else clean
    scale, unit = value_unit_scale(unit_text or "V")
    digital = bool(_DIGITAL.match(clean))
    return Channel(canonical, column, scale, unit, number, not digital, name)


def _row_width(head: Head, index: int) -> int:
    return len(head.lines[index].split(","))


# -- rigol-csv: X,CH1,...,Start,Increment ---------------------------------------------

def sniff_csv(head: Head) -> bool:
    f0, f1 = _fields(head, 0), _fields(head, 1)
    return bool(f0) and f0[0] == "X" and "Start" in f0 and "Increment" in f0 and bool(f1) and f1[0] == "Sequence"


def layout_csv(head: Head) -> Layout:
    f0, f1 = _fields(head, 0), _fields(head, 1)
    i_start, i_inc = f0.index("Start"), f0.index("Increment")
    try:
        t0, dt = parse_number(f1[i_start]), parse_number(f1[i_inc])
    except (IndexError, ValueError) as exc:
        raise head.fail(f"line 2 must give Start and Increment as numbers: {exc}", line=2) from exc
    names = f0[1:i_start]
    if not names:
        raise head.fail("no channel columns between X and Start", line=1)
    units = f1[1:i_start]
    channels = [_channel(n, k + 1, units[k] if k < len(units) else "V") for k, n in enumerate(names)]
    i = first_data_line(head, 2, ",")
    ncols = _row_width(head, i)
    if ncols < 1 + len(names):
        raise head.fail(f"data row has {ncols} fields, the header names {len(names)} channels", line=i + 1)
    return Layout(
        "rigol-csv", i + 1, head.line_offset(i), ncols, ",", ".",
        TimeAxis("index", column=0, t0_s=t0, dt_s=dt), channels, list(head.lines[:i]),
        {"stated_sample_interval_s": dt, "start_s": t0},
    )


# -- two header lines with an explicit time column (DS1000E, DS1000B) ----------------

def sniff_ds1000e(head: Head) -> bool:
    f0, f1 = _fields(head, 0), _fields(head, 1)
    return (
        len(f0) >= 2 and f0[0] == "X" and "Start" not in f0 and any(c.upper().startswith("CH") for c in f0[1:])
        and bool(f1) and f1[0].lower() == "second"
    )


def sniff_ds1000b(head: Head) -> bool:
    f0, f1 = _fields(head, 0), _fields(head, 1)
    return (
        len(f0) >= 2 and f0[0] == "" and all(c.upper().startswith("CH") for c in f0[1:] if c)
        and any(f0[1:]) and bool(f1) and f1[0].lower() == "second"
    )


def _two_line(head: Head, fmt: str) -> Layout:
    f0, f1 = _fields(head, 0), _fields(head, 1)
    channels = [
        _channel(n, k, f1[k] if k < len(f1) else "V") for k, n in enumerate(f0) if k > 0 and n
    ]
    i = first_data_line(head, 2, ",")
    ncols = _row_width(head, i)
    if ncols <= max(c.column for c in channels):
        raise head.fail(f"data row has {ncols} fields, the header names {len(channels)} channels", line=i + 1)
    return Layout(fmt, i + 1, head.line_offset(i), ncols, ",", ".", TimeAxis("column", column=0),
                  channels, list(head.lines[:i]))


def layout_ds1000e(head: Head) -> Layout:
    return _two_line(head, "rigol-ds1000e")


def layout_ds1000b(head: Head) -> Layout:
    return _two_line(head, "rigol-ds1000b")


# -- DS1000D: X,CH 1 (V),CH 2 (V) -------------------------------------------------

_D_CHANNEL = re.compile(r"^CH\s*\d+\s*\((\w+)\)$", re.IGNORECASE)


def sniff_ds1000d(head: Head) -> bool:
    f0, f1 = _fields(head, 0), _fields(head, 1)
    return (
        len(f0) >= 2 and f0[0] == "X" and all(_D_CHANNEL.match(c) for c in f0[1:])
        and bool(f1) and is_number(f1[0])
    )


def _d_unit(head: Head, name: str) -> str:
    m = _D_CHANNEL.match(name)
    if m is None:
        raise head.fail(f"column {name!r} is not of the form 'CH 1 (V)'", line=1)
    return m.group(1)


def layout_ds1000d(head: Head) -> Layout:
    f0 = _fields(head, 0)
    channels = [_channel(n, k + 1, _d_unit(head, n)) for k, n in enumerate(f0[1:])]
    i = first_data_line(head, 1, ",")
    ncols = _row_width(head, i)
    return Layout("rigol-ds1000d", i + 1, head.line_offset(i), ncols, ",", ".", TimeAxis("column", column=0),
                  channels, list(head.lines[:i]))


# -- MSO5000 / DHO: CH1(V),t0 = -1.01s, tInc = 5e-07s, -------------------------------

_MSO_CHANNEL = re.compile(r"^(.+?)\((\w*)\)$")


def sniff_mso5000(head: Head) -> bool:
    f0 = _fields(head, 0)
    return (
        bool(f0) and bool(_MSO_CHANNEL.match(f0[0]))
        and any(c.replace(" ", "").startswith("t0=") for c in f0)
        and any(c.replace(" ", "").startswith("tInc=") for c in f0)
    )


def layout_mso5000(head: Head) -> Layout:
    f0 = _fields(head, 0)
    t0 = dt = None
    channels = []
    for k, cell in enumerate(f0):
        key, _, value = cell.replace(" ", "").partition("=")
        if key == "t0":
            t0 = parse_quantity(value, "s")
        elif key == "tInc":
            dt = parse_quantity(value, "s")
        elif cell:
            m = _MSO_CHANNEL.match(cell)
            if not m:
                raise head.fail(f"unexpected header cell {cell!r}", line=1)
            channels.append(_channel(m.group(1), k, m.group(2) or "V"))
    if t0 is None or dt is None or not channels:
        raise head.fail("header must name channels and give t0 and tInc", line=1)
    i = first_data_line(head, 1, ",")
    ncols = _row_width(head, i)
    return Layout(
        "rigol-mso5000", i + 1, head.line_offset(i), ncols, ",", ".",
        TimeAxis("uniform", t0_s=t0, dt_s=dt), channels, list(head.lines[:i]),
        {"stated_sample_interval_s": dt, "start_s": t0},
    )


# -- DS1052E text with quoted preamble -----------------------------------------------

def sniff_ds1052e(head: Head) -> bool:
    f0 = _fields(head, 0)
    return bool(f0) and f0[0].replace(" ", "").lower().startswith("numberofdatapoints")


def layout_ds1052e(head: Head) -> Layout:
    fields: dict[str, list[str]] = {}
    names: list[str] = []
    header_row = None
    for i, line in enumerate(head.lines):
        f = split_fields(line)
        if f and f[0].lower().startswith("time") and "=" not in f[0]:
            header_row = i
            break
        if f and f[0] == "Channel Data":
            names = [c for c in f[1:] if c]
        elif f and f[0]:
            fields[f[0].rstrip("= ").strip()] = [c for c in f[1:] if c != ""]
    if header_row is None:
        raise head.fail('no "Time (s)" column header found in the preamble')
    cols = split_fields(head.lines[header_row])
    if not names:
        names = [f"CH{k}" for k in range(1, len(cols))]
    channels = []
    for k, name in enumerate(names, start=1):
        unit = "V"
        if k < len(cols):
            m = re.search(r"\((\w+)\)", cols[k])
            unit = m.group(1) if m else "V"
        channels.append(_channel(name, k, unit))
    i = first_data_line(head, header_row + 1, ",")
    ncols = _row_width(head, i)
    md: dict = {"header_fields": fields}
    try:
        md["stated_sample_interval_s"] = 1.0 / float(fields["Sampling Frequency (Hz)"][0])
    except (KeyError, IndexError, ValueError, ZeroDivisionError):
        pass
    return Layout("rigol-ds1052e", i + 1, head.line_offset(i), ncols, ",", ".", TimeAxis("column", column=0),
                  channels, list(head.lines[:i]), md)
