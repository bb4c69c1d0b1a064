"""Binary oscilloscope waveform files, read through RigolWFM.

`RigolWFM <https://github.com/scottprahl/RigolWFM>`_ (BSD-3-Clause, Kaitai Struct
descriptions of each format) parses the files; this module recognises them from
their magic bytes, asks the library for the header once, converts only the channels
asked for, and turns the library's numbers into a cpsim capture. It parses no
binary layout itself.

==============  ==================================================  =====================================
format          files                                               recognised by
==============  ==================================================  =====================================
rigol-wfm       Rigol ``.wfm``: DS1000B/C/D/E/Z, DS2000, DS4000,    magic ``a5a5a401``, ``a1a50000``,
                DS6000, DHO800/1000                                 ``01ffffff``, ``a5a53800``,
                                                                    ``a5a50000``; DHO ``02000000`` + .wfm
rigol-bin       Rigol ``.bin``: MSO5000, MSO7000/8000, DHO          ``RG01`` / ``RG03``
keysight-bin    Keysight/Agilent InfiniiVision ``.bin``             ``AG01`` / ``AG03`` / ``AG10``
lecroy-trc      Teledyne LeCroy ``.trc``                            ``WAVEDESC`` block near the start
tektronix-isf   Tektronix ``.isf`` (ASCII preamble + ``:CURVE #``)  ``NR_PT`` … ``:CURV`` … ``#``
tektronix-wfm   Tektronix ``.wfm`` (WFM#001-003)                    byte-order word + ``:WFM#``
siglent-bin     Siglent ``.bin`` (old platform, V0.1-V6)            RigolWFM's structural check
rs-rtp          Rohde & Schwarz RTP: XML ``.bin`` + ``.Wfm.bin``    ``<Database … SaveItemType="Data">``
yokogawa-wfm    Yokogawa ASCII-header ``.wfm``                      ``NR_PT:`` ``XIN:`` ``YMU:`` …
==============  ==================================================  =====================================

The time axis is ``t0 + k * dt`` with the file's own sample interval: some of the
library's families spread the samples over ``linspace`` (a step ``n / (n - 1)``
too long), so only its first time and its ``seconds_per_point`` are used.

RigolWFM imports matplotlib.pyplot and requests, so it is imported here only when a
binary file is read, never by ``import cpsim``.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import io
import logging
import os
import re
import threading
import warnings
import weakref
from typing import Any

import numpy as np

from ..errors import CaptureFormatError
from ._binary import SAVE_HINT, Capture, Samples, check_time_step, one_line, uniform_time
from ._layout import Channel, Head

log = logging.getLogger(__name__)

# RigolWFM prints some notes to stdout/stderr; a library must not. Its calls are
# serialised so that redirecting the streams cannot swallow another thread's output
# for longer than one parse.
_LIBRARY_LOCK = threading.Lock()

DESCRIPTIONS = {
    "rigol-wfm": "Rigol .wfm (DS1000B/C/D/E/Z, DS2000, DS4000, DS6000, DHO800/1000), via RigolWFM",
    "rigol-bin": "Rigol .bin (MSO5000, MSO7000/8000, DHO: RG01/RG03), via RigolWFM",
    "keysight-bin": "Keysight/Agilent InfiniiVision .bin (AG01/AG03/AG10), via RigolWFM",
    "lecroy-trc": "Teledyne LeCroy .trc (WAVEDESC), via RigolWFM",
    "tektronix-isf": "Tektronix .isf (:WFMPRE preamble + :CURVE block), via RigolWFM",
    "tektronix-wfm": "Tektronix .wfm (WFM#001-003), via RigolWFM",
    "siglent-bin": "Siglent .bin waveform (old platform, V0.1-V6), via RigolWFM",
    "rs-rtp": "Rohde & Schwarz RTP XML .bin header + .Wfm.bin samples, via RigolWFM",
    "yokogawa-wfm": "Yokogawa ASCII-header .wfm, via RigolWFM",
}

_KIND = {
    "rigol-wfm": "a Rigol .wfm waveform", "rigol-bin": "a Rigol .bin waveform",
    "keysight-bin": "a Keysight/Agilent .bin waveform", "lecroy-trc": "a LeCroy .trc waveform",
    "tektronix-isf": "a Tektronix .isf waveform", "tektronix-wfm": "a Tektronix .wfm waveform",
    "siglent-bin": "a Siglent .bin waveform", "rs-rtp": "a Rohde & Schwarz RTP waveform",
    "yokogawa-wfm": "a Yokogawa .wfm waveform",
}

# -- sniffers: magic bytes and structure, from the file's first 64 KiB ----------------

_RIGOL_WFM_MAGIC = (b"\xa5\xa5\xa4\x01", b"\xa1\xa5\x00\x00", b"\x01\xff\xff\xff", b"\xa5\xa5\x38\x00",
                    b"\xa5\xa5\x00\x00")
_DHO_WFM_MAGIC = b"\x02\x00\x00\x00"


def _suffix(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def sniff_rigol_wfm(head: Head) -> bool:
    magic = head.raw[:4]
    # DHO's 02 00 00 00 is too common a start to trust without the extension
    return magic in _RIGOL_WFM_MAGIC or (magic == _DHO_WFM_MAGIC and _suffix(head.path) == ".wfm")


def sniff_rigol_bin(head: Head) -> bool:
    return head.raw[:4] in (b"RG01", b"RG03")


def sniff_keysight_bin(head: Head) -> bool:
    return head.raw[:4] in (b"AG01", b"AG03", b"AG10")


def sniff_lecroy_trc(head: Head) -> bool:
    return b"WAVEDESC" in head.raw[:64]


_ISF_CURVE = re.compile(rb":CURV(?:E)?\s+#\d")


def _isf_preamble(raw: bytes) -> bytes | None:
    m = _ISF_CURVE.search(raw)
    return raw[: m.start()] if m else None


def sniff_tektronix_isf(head: Head) -> bool:
    pre = _isf_preamble(head.raw)
    return pre is not None and pre.lstrip()[:1] in (b":", b"B", b"N", b"W") and b"NR_P" in pre


def sniff_tektronix_wfm(head: Head) -> bool:
    raw = head.raw
    return (len(raw) > 8 and raw[0] in (0x0F, 0xF0) and raw[1] in (0x0F, 0xF0) and raw[3:7] == b"WFM#") or \
        b"LLWFM" in raw[:8]


def sniff_rs_rtp(head: Head) -> bool:
    if _rs_header_bytes(head.raw):
        return True
    # the .Wfm.bin payload alone: read through its XML header beside it
    return head.path.lower().endswith(".wfm.bin") and _rs_companion(head.path) is not None


def _rs_header_bytes(raw: bytes) -> bool:
    return raw.lstrip()[:5] == b"<?xml" and b"<Database" in raw[:4096] and b'SaveItemType="Data"' in raw[:4096]


def _rs_companion(path: str) -> str | None:
    header = path[: -len(".wfm.bin")] + ".bin"
    try:
        with open(header, "rb") as fh:
            return header if _rs_header_bytes(fh.read(4096)) else None
    except OSError:
        return None


def sniff_yokogawa_wfm(head: Head) -> bool:
    return all(token in head.raw[:8192] for token in (b"NR_PT:", b"PT_O:", b"XIN:", b"YMU:", b"YOF:", b"BYT:"))


_MAGIC_SNIFFERS = (sniff_rigol_wfm, sniff_rigol_bin, sniff_keysight_bin, sniff_lecroy_trc, sniff_tektronix_isf,
                   sniff_tektronix_wfm, sniff_rs_rtp, sniff_yokogawa_wfm)


def sniff_siglent_bin(head: Head) -> bool:
    """Siglent files have no magic: RigolWFM recognises each revision from its layout and size.

    Tried only on binary files no other sniffer claims (it imports the library).
    """
    if not head.binary or any(s(head) for s in _MAGIC_SNIFFERS):
        return False
    try:
        with warnings.catch_warnings(record=True):
            import RigolWFM.siglent as siglent

            return bool(siglent.detect_revision_from_bytes(head.raw[:8192], head.size))
    except Exception:
        return False


# -- reading ------------------------------------------------------------------------------

def _library_model(fmt: str, head: Head, path: str) -> str:
    """RigolWFM's family code for ``Wfm.from_file(model=…)``: its own detection where a family has subtypes."""
    if fmt == "keysight-bin":
        return "Keysight"
    if fmt == "lecroy-trc":
        return "LeCroy"
    if fmt == "tektronix-isf":
        return "ISF"
    if fmt == "tektronix-wfm":
        return "Tek"
    if fmt == "rs-rtp":
        return "RohdeSchwarz"
    if fmt == "yokogawa-wfm":
        return "Yokogawa"
    import RigolWFM.wfm as rwfm

    if fmt == "siglent-bin":
        import RigolWFM.siglent as siglent

        return "SiglentOld" if siglent.detect_revision_from_bytes(head.raw[:8192], head.size) == "old" else "Siglent"
    if head.raw[:4] in (_DHO_WFM_MAGIC, b"RG03"):
        return "DHO"
    return rwfm.detect_model(path)  # Rigol: B, C, E, Z, 2, 4, 6, 5, 7, 8 from magic, size and model string


@contextlib.contextmanager
def _quiet_library(collect: bool = False):
    """Run a RigolWFM call without its prints or warnings reaching the user (they go to the log).

    ``collect``: its Kaitai parsers open the file and drop it inside reference cycles;
    collect them here so the unclosed-file warning lands in this log, not at some
    random later point in the user's program.
    """
    out = io.StringIO()
    with _LIBRARY_LOCK, warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        warnings.simplefilter("always")
        try:
            yield
        finally:
            if collect:
                gc.collect()
    for w in caught:
        log.debug("RigolWFM warning: %s", w.message)
    if out.getvalue().strip():
        log.debug("RigolWFM said: %s", " ".join(out.getvalue().split()))


def _scalar(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return None


def _header_fields(obj: Any) -> dict[str, Any]:
    """The library's parsed header as plain scalars (raw blocks, arrays and nested structures left out)."""
    fields: dict[str, Any] = {}
    for name in dir(obj):
        if name.startswith("_"):
            continue
        try:
            value = getattr(obj, name)
        except Exception:  # a lazily parsed field that does not exist in this file
            continue
        if callable(value):
            continue
        v = _scalar(value)
        if v is not None and not (isinstance(v, str) and len(v) > 200):
            fields[name] = v
    return fields


def _isf_checks(head: Head) -> dict[str, str]:
    """The .isf preamble's units and domain; the library would take a spectrum's Hz for seconds."""
    pre = (_isf_preamble(head.raw) or b"").decode("latin-1")
    fields = {}
    for key, long_key in (("XUNIT", "XUN"), ("YUNIT", "YUN"), ("DOMAIN", "DOMAIN"), ("XINCR", "XIN"),
                          ("WFMTYPE", "WFMTYPE")):
        m = re.search(rf"(?:^|[;:]){key}\s+\"?([^\";]*)\"?|(?:^|[;:]){long_key}\s+\"?([^\";]*)\"?", pre)
        if m:
            fields[key] = (m.group(1) or m.group(2) or "").strip()
    if fields.get("DOMAIN", "TIME").upper() != "TIME" or fields.get("XUNIT", "s").strip().lower() != "s":
        raise CaptureFormatError(
            f"a Tektronix .isf frequency-domain trace (DOMAIN {fields.get('DOMAIN', '?')}, horizontal unit "
            f"{fields.get('XUNIT', '?')!r}), not a waveform in time: save the time-domain channel",
            path=head.path,
        )
    if "XINCR" not in fields:
        raise CaptureFormatError(f"a Tektronix .isf waveform whose preamble states no sample interval (XINCR); "
                                 f"{SAVE_HINT}", path=head.path)
    return fields


def read(head: Head, fmt: str) -> Capture:
    """Parse the header of a binary scope file and list its channels (no samples converted yet)."""
    path = head.path
    source = path
    isf = _isf_checks(head) if fmt == "tektronix-isf" else {}
    if fmt == "rs-rtp" and not _rs_header_bytes(head.raw):
        source = _rs_companion(path) or path
    kind = _KIND[fmt]
    try:
        import RigolWFM
        import RigolWFM.channel
        import RigolWFM.wfm as rwfm
    except ImportError as exc:  # pragma: no cover - a dependency, but say what to do if it is missing
        raise CaptureFormatError(f"{kind} needs the RigolWFM package: pip install RigolWFM", path=path) from exc
    try:
        with _quiet_library(collect=True):
            model = _library_model(fmt, head, source)
            # selected="" parses the header and lists the enabled channels without converting any
            w = rwfm.Wfm.from_file(source, model=model, selected="")
    except CaptureFormatError:
        raise
    except MemoryError as exc:
        raise CaptureFormatError("not enough memory to read the file", path=path) from exc
    except Exception as exc:
        raise CaptureFormatError(f"cannot read it as {kind}: {_reason(exc)}; {SAVE_HINT}", path=path) from exc

    listed = [c for c in w.channels if getattr(c, "enabled", False)]
    if not listed:
        raise CaptureFormatError(f"{kind} with no enabled analog channel (logic-only captures are not read)",
                                 path=path)
    parsed = listed[0].waveform
    file_bytes = os.path.getsize(path)
    if fmt == "rs-rtp":  # the samples are in the .Wfm.bin beside the XML header
        file_bytes += _size(os.path.splitext(source)[0] + ".Wfm.bin") + (_size(source) if source != path else 0)
    header = _header_fields(getattr(parsed, "header", None))
    by_number = {int(c.channel_number): c for c in listed}
    channels = [Channel(f"CH{n}", i, 1.0, isf.get("YUNIT", "V") or "V", n, True, str(c.name))
                for i, (n, c) in enumerate(sorted(by_number.items()))]

    instrument = {
        "model": _known(w.header_name), "serial_number": _known(w.serial_number),
        "firmware": _known(w.firmware) or _known(header.get("firmware_version")),
        "parser": f"RigolWFM {getattr(RigolWFM, '__version__', '')} {w.parser_name}".strip(),
    }
    metadata: dict[str, Any] = {
        "instrument": {k: v for k, v in instrument.items() if v},
        "trigger": {k: _jsonable(v) for k, v in (w.trigger_info or {}).items()},
    }
    metadata.update(_dates(fmt, head))
    if source != path:
        metadata["header_file"] = source

    def load(ch: Channel) -> Samples:
        n = ch.number if ch.number is not None else int(ch.name[2:])
        lib_ch = by_number[n]
        with _quiet_library():
            full = RigolWFM.channel.Channel(parsed, n, w.parser_name, str(n))
        v, t_lib = full.volts, full.times
        if v is None or t_lib is None or len(v) != len(t_lib):
            raise CaptureFormatError(f"channel {ch.name} holds no samples the library could read; {SAVE_HINT}",
                                     path=path)
        n_pts = len(v)
        if n_pts > 8 * file_bytes + 16:  # no format stores a sample in less than one bit
            raise CaptureFormatError(f"the header claims {n_pts} samples in a {file_bytes}-byte file", path=path)
        dt = float(full.seconds_per_point)
        t0 = float(t_lib[0]) if n_pts else float("nan")
        check_time_step(path, t0, dt, n_pts)
        v = np.asarray(v, dtype=np.float64)
        t_out = t_lib if (isinstance(t_lib, np.ndarray) and t_lib.dtype == np.float64 and t_lib.flags.writeable
                          and t_lib.flags.c_contiguous and not np.shares_memory(t_lib, v)) else None
        t = uniform_time(t0, dt, n_pts, out=t_out)
        md = {
            "stated_sample_interval_s": dt, "sample_rate_hz": 1.0 / dt, "start_s": t0,
            "probe_factor": _num(getattr(full, "probe_value", None)),
            "coupling": _known(getattr(full, "coupling", None)),
            "volts_per_div": _num(getattr(full, "volt_per_division", None)),
            "volt_offset_v": _num(getattr(full, "volt_offset", None)),
            "time_per_div_s": _num(getattr(full, "time_scale", None)),
            "time_offset_s": _num(getattr(full, "time_offset", None)),
            "inverted": bool(getattr(full, "inverted", False)),
            "library_channel_name": str(getattr(lib_ch, "name", ch.label)),
        }
        return Samples(t, v, {k: val for k, val in md.items() if val is not None})

    capture = Capture(fmt, path, channels, load, header, metadata)
    # RigolWFM's Kaitai parsers open the file and leave it open (lazy fields read from it)
    files = _open_files(w)
    capture.close = weakref.finalize(capture, _close_all, files)
    return capture


def _open_files(root: Any, limit: int = 20000) -> list[io.IOBase]:
    """File objects reachable from the library's result (breadth-first, arrays and text skipped)."""
    found: list[io.IOBase] = []
    seen: set[int] = set()
    todo = [root]
    while todo and len(seen) < limit:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, (np.ndarray, bytes, bytearray, str, int, float, type)):
            continue
        seen.add(id(obj))
        if isinstance(obj, io.IOBase):
            if not obj.closed:
                found.append(obj)
            continue
        todo.extend(gc.get_referents(obj))
    return found


def _close_all(files: list[io.IOBase]) -> None:
    for f in files:
        with contextlib.suppress(Exception):
            f.close()


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _reason(exc: BaseException) -> str:
    text = one_line(exc)
    if isinstance(exc, EOFError) or "bytes available" in text or "requested" in text and "bytes" in text:
        return f"the file is cut short or damaged ({text})"
    return text


def _known(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if not text or text.lower() == "unknown" else text


def _num(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    s = _scalar(value)
    return s if s is not None else str(value)


def _dates(fmt: str, head: Head) -> dict[str, Any]:
    """Acquisition date and time where the format stores them and RigolWFM's summary drops them (Keysight).

    Read from the file's first bytes with the library's own Kaitai description of the
    first waveform header (it follows the 12-byte file header); a file without them,
    or any trouble reading them, gives nothing, never an error.
    """
    try:
        if fmt == "keysight-bin":
            from kaitaistruct import KaitaiStream
            from RigolWFM.agilent_agxx_bin import AgilentAgxxBin

            with _quiet_library():
                wh = AgilentAgxxBin.WaveformHeader(KaitaiStream(io.BytesIO(head.raw[12:])))
            stamp = f"{wh.date} {wh.time_str}".strip()
            return {"acquired": stamp} if stamp else {}
    except Exception as exc:
        log.debug("no acquisition date from %s: %r", head.path, exc)
    return {}
