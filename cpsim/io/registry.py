"""The one explicit registry of capture layouts, and the detection that picks one for a file.

Each :class:`Format` names an instrument layout, a ``sniff`` that recognises it from the file's
first 64 KiB, and a ``read`` that parses its preamble (a :class:`~cpsim.io._layout.Layout` for
CSV, a :class:`~cpsim.io._binary.Capture` for binary files). Binary formats are tried first
(magic bytes), then the CSV layouts, then the generic fallback.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import NamedTuple

from ..errors import CaptureFormatError, ParameterError
from . import (
    _binary,
    digilent,
    generic,
    hantek,
    keysight,
    owon,
    picoscope,
    rigol,
    saleae,
    scope_binary,
    siglent,
    sigrok,
    tektronix,
)
from ._layout import Head, Layout, read_head

__all__ = ["FORMATS", "Format", "list_formats", "detect_format", "open_head", "layout_of"]

log = logging.getLogger(__name__)


class Format(NamedTuple):
    """One supported layout.

    ``sniff(head) -> bool`` recognises it from the file's first 64 KiB; ``read(head)``
    parses the preamble into a :class:`~cpsim.io._layout.Layout` (the rows are read by
    the shared core), or for a ``binary`` format the header into a
    :class:`~cpsim.io._binary.Capture`. A ``fallback`` format is tried only when no
    other one matches.
    """

    name: str
    description: str
    sniff: Callable[[Head], bool]
    read: Callable[[Head], Layout] | Callable[[Head], _binary.Capture]
    fallback: bool = False
    binary: bool = False


def _scope(name: str, sniff: Callable[[Head], bool]) -> Format:
    return Format(name, scope_binary.DESCRIPTIONS[name], sniff, lambda head: scope_binary.read(head, name),
                  binary=True)


FORMATS: list[Format] = [
    Format("rigol-csv", "Rigol DS1000Z/DS2000/DS4000/MSO on-scope CSV: X,CH1,…,Start,Increment",
           rigol.sniff_csv, rigol.layout_csv),
    Format("rigol-ds1000e", "Rigol DS1000E/CA CSV: X,CH1, / Second,Volt,", rigol.sniff_ds1000e, rigol.layout_ds1000e),
    Format("rigol-ds1000b", "Rigol DS1000B CSV: ,CH2,CH4 / Second,Volt,Volt", rigol.sniff_ds1000b,
           rigol.layout_ds1000b),
    Format("rigol-ds1000d", "Rigol DS1000D CSV: X,CH 1 (V),CH 2 (V)", rigol.sniff_ds1000d, rigol.layout_ds1000d),
    Format("rigol-mso5000", "Rigol MSO5000/DHO CSV: CH1(V),t0 = …s, tInc = …s (no time column)",
           rigol.sniff_mso5000, rigol.layout_mso5000),
    Format("rigol-ds1052e", 'Rigol DS1052E text with quoted preamble: "Number of Data points =",…',
           rigol.sniff_ds1052e, rigol.layout_ds1052e),
    Format("tektronix-tbs", "Tektronix TDS/TBS 1000/2000 CSV: settings in columns A-B, samples in D-E",
           tektronix.sniff_tbs, tektronix.layout_tbs),
    Format("tektronix-mdo", "Tektronix MDO/MSO/DPO CSV: Key,Value preamble then TIME,CH1,…",
           tektronix.sniff_mdo, tektronix.layout_mdo),
    Format("keysight", "Keysight/Agilent InfiniiVision CSV and ASCII XY: x-axis,1,2 / second,Volt,Volt",
           keysight.sniff, keysight.layout),
    Format("siglent", "Siglent SDS CSV: Record Length,Analog:N … Second,Volt", siglent.sniff, siglent.layout),
    Format("picoscope", "PicoScope CSV/TXT: Time,Channel A / (ms),(V) / blank line; comma or tab, decimal comma",
           picoscope.sniff, picoscope.layout),
    Format("saleae", "Saleae Logic 2 analog/digital CSV: Time [s],<channel names>", saleae.sniff, saleae.layout),
    Format("digilent", "Digilent WaveForms oscilloscope CSV: #-preamble, Time (s),Channel 1 (V)",
           digilent.sniff, digilent.layout),
    Format("hantek", "Hantek DSO5000 CSV: #timebase=…(ps),#voltbase=…(uV); values in mV", hantek.sniff, hantek.layout),
    Format("owon", "Owon HDS CSV: Key :,value preamble, index,CH1_Voltage(mV); t = index x Time interval",
           owon.sniff, owon.layout),
    Format("cpsim", "cpsim's own CSV (Waveform.to_csv): time_s,<channel>_v", generic.sniff_cpsim, generic.layout_cpsim),
    _scope("rigol-wfm", scope_binary.sniff_rigol_wfm),
    _scope("rigol-bin", scope_binary.sniff_rigol_bin),
    _scope("keysight-bin", scope_binary.sniff_keysight_bin),
    _scope("lecroy-trc", scope_binary.sniff_lecroy_trc),
    _scope("tektronix-isf", scope_binary.sniff_tektronix_isf),
    _scope("tektronix-wfm", scope_binary.sniff_tektronix_wfm),
    _scope("siglent-bin", scope_binary.sniff_siglent_bin),
    _scope("rs-rtp", scope_binary.sniff_rs_rtp),
    _scope("yokogawa-wfm", scope_binary.sniff_yokogawa_wfm),
    Format("sigrok-sr", "sigrok session .sr (srzip v2): metadata INI + analog float32 / logic chunks",
           sigrok.sniff, sigrok.read, binary=True),
    Format("generic", "time,value[,value…] with or without one header line; comma, semicolon or tab",
           generic.sniff, generic.layout, fallback=True),
]

_BY_NAME = {f.name: f for f in FORMATS}


def list_formats() -> list[tuple[str, str]]:
    """``(name, description)`` of every supported layout, in registry order."""
    return [(f.name, f.description) for f in FORMATS]


def detect_format(path) -> str:
    """Name of the layout of ``path`` (see :data:`FORMATS`)."""
    head = open_head(path)
    return _detect(head).name


# -- detection ------------------------------------------------------------------------

_BINARY_KINDS = [
    (lambda raw: raw[:4] in (b"AG10", b"AG01"), "a Keysight/Agilent .bin waveform"),
    (lambda raw: raw[:2] == b"#9" and b"WAVEDESC" in raw[:64], "a LeCroy .trc waveform"),
    (lambda raw: raw.startswith((b":WFMP", b":CURV")), "a Tektronix .isf waveform"),
    (lambda raw: raw[:4] == b"lwf\x00", "a Hantek .lwf waveform (no maintained reader exists and the format's "
                                         "voltage scaling is undocumented)"),
    (lambda raw: raw[:4] == b"PK\x03\x04", "a ZIP archive that is not a sigrok session (a zipped export?)"),
    (lambda raw: raw[:2] in (b"\xff\xfe", b"\xfe\xff"), "UTF-16 text (save it as UTF-8 or ASCII)"),
    (lambda raw: raw.lstrip()[:5] == b"<?xml", "an XML file (instrument settings, not samples)"),
]


def _kind_hint(head: Head) -> str:
    for test, kind in _BINARY_KINDS:
        if test(head.raw):
            return f"; it looks like {kind}, which cpsim does not read: export CSV from the instrument"
    return ""


def open_head(path) -> Head:
    try:
        p = os.fspath(path)
    except TypeError as exc:
        raise ParameterError(f"path must be a str or os.PathLike, got {type(path).__name__}") from exc
    head = read_head(p)
    if head.size == 0:
        raise CaptureFormatError("the file is empty (expected a header and rows of samples)", path=p)
    return head


def _check_text(head: Head) -> None:
    """A file no binary format claimed must be text to be a CSV capture."""
    p = head.path
    if head.binary or head.raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise CaptureFormatError("not a text file" + (_kind_hint(head) or "; expected a CSV capture"), path=p)
    if not head.lines:
        raise CaptureFormatError(
            f"line 1 is longer than {len(head.raw) >> 10} KiB: not a text capture", path=p, line=1
        )
    if not any(line.strip() for line in head.lines) and head.at_eof:
        raise CaptureFormatError("the file holds only blank lines (expected a header and rows of samples)", path=p)


def _safe_sniff(fmt: Format, head: Head) -> bool:
    try:
        return bool(fmt.sniff(head))
    except Exception as exc:  # a sniffer must never break detection
        log.debug("sniffer %s failed on %s: %r", fmt.name, head.path, exc)
        return False


def _detect(head: Head) -> Format:
    # Magic bytes first: a binary file never reaches the CSV sniffers.
    matches = [f for f in FORMATS if f.binary and _safe_sniff(f, head)]
    if not matches:
        _check_text(head)
        matches = [f for f in FORMATS if not f.binary and not f.fallback and _safe_sniff(f, head)]
    if not matches:
        matches = [f for f in FORMATS if f.fallback and _safe_sniff(f, head)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        tried = ", ".join(f.name for f in FORMATS)
        raise CaptureFormatError(
            f"not a capture layout cpsim knows (tried: {tried}){_kind_hint(head)}", path=head.path
        )
    names = ", ".join(f.name for f in matches)
    raise CaptureFormatError(f"ambiguous layout: matches {names}; pass fmt= to choose one", path=head.path)


def layout_of(path, fmt: str | None) -> Layout | _binary.Capture:
    head = open_head(path)
    if fmt is None:
        chosen = _detect(head)
    else:
        forced = _BY_NAME.get(str(fmt).strip().lower())
        if forced is None:
            valid = ", ".join(_BY_NAME)
            raise CaptureFormatError(f"unknown format {fmt!r}; valid names: {valid}", path=head.path)
        chosen = forced
        # Forcing a layout settles ambiguity; it does not make a foreign file readable
        # (a lenient header parser would silently drop or misplace rows).
        if not chosen.binary:
            _check_text(head)
        if not _safe_sniff(chosen, head):
            raise CaptureFormatError(
                f"not a {chosen.name} file: expected {chosen.description}{_kind_hint(head)}", path=head.path
            )
    try:
        layout = chosen.read(head)
    except CaptureFormatError:
        raise
    except Exception as exc:
        raise CaptureFormatError(f"not a valid {chosen.name} file: {exc}", path=head.path) from exc
    if not layout.channels:
        raise CaptureFormatError(f"no channel columns found ({chosen.name} layout)", path=head.path)
    if isinstance(layout, _binary.Capture):
        return layout
    layout.path, layout.eol = head.path, head.eol
    return layout
