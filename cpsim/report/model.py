"""What a report holds: a capture's measurement and verdicts, a tolerance study's summary."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import standard as std
from ..errors import ParameterError
from ..outputs import table_columns
from .checks import CheckRow, check_measurement, check_segments, overall_verdict


@dataclass
class CaptureReport:
    """One analysed capture and its verdicts (``cpsim.report`` renders it)."""

    name: str
    wave: Any
    measurement: Any
    profile: std.LimitsProfile
    checks: list[CheckRow]
    segment_checks: list[CheckRow]
    faults: tuple
    info: dict = field(default_factory=dict)
    zoom: Any = None
    """Full-resolution samples around the period the plots zoom into, when ``wave`` is not the whole
    capture (a streamed capture's ``wave`` is its min/max envelope); ``None``: ``wave`` itself."""

    @property
    def verdict(self) -> str:
        return overall_verdict(self.checks + self.segment_checks)


@dataclass
class MonteCarloReport:
    """One tolerance study: its results frame and summary."""

    name: str
    df: Any
    profile: std.LimitsProfile
    compare: list[std.LimitsProfile]
    summary: dict
    per_state: list[dict]


def capture_report(source, *, profile: str | std.LimitsProfile = "iec61851", name: str | None = None,
                   fmt: str | None = None, channel: str | int | None = None, vehicle_connected: bool | None = None,
                   expected_state: str | None = None, expected_duty: float | None = None,
                   stream: bool | None = None) -> CaptureReport:
    """Read (if a path), analyse and judge one capture.

    Parameters
    ----------
    source : path or Waveform
    profile : str or LimitsProfile
    name : str, optional
        Heading in the report (default: the file name or the channel).
    fmt, channel
        Passed to :func:`cpsim.read_capture` for a path.
    vehicle_connected, expected_state, expected_duty
        Passed to :func:`cpsim.report.checks.check_measurement`.
    stream : bool, optional
        Read a file in pieces, in bounded memory (see :func:`cpsim.analyze`; default: above the memory
        budget). The overview then plots the capture's min/max envelope, the zooms one period's samples.
    """
    from ..diagnose import analyze
    from ..diagnose.capture import should_stream
    from ..waveform import Waveform

    prof = std.get_profile(profile)
    if isinstance(source, Waveform):
        wave = source
        default_name = os.path.basename(str(wave.metadata.get("source_path", ""))) or wave.channel
    elif isinstance(source, (str, os.PathLike)) and should_stream(source, stream, fmt=fmt):
        return _streamed_report(source, prof, name=name, fmt=fmt, channel=channel,
                                vehicle_connected=vehicle_connected, expected_state=expected_state,
                                expected_duty=expected_duty)
    elif isinstance(source, (str, os.PathLike)):
        from ..io import read_capture

        wave = read_capture(source, fmt=fmt, channel=channel)
        default_name = "<stdin>" if os.fspath(source) == "-" else os.path.basename(os.fspath(source))
    else:
        raise ParameterError(f"a capture must be a Waveform or a file path, got {type(source).__name__}")
    m = analyze(wave, profile=prof, vehicle_connected=vehicle_connected)
    faults = m.faults
    checks = check_measurement(m, prof, faults=faults, expected_state=expected_state, expected_duty=expected_duty)
    info = {
        "format": wave.metadata.get("format", wave.metadata.get("source", "")),
        "path": str(wave.metadata.get("source_path", "")),
        "channel": wave.channel,
        "samples": len(wave),
        "sample_rate_hz": wave.sample_rate_hz,
        "duration_s": wave.duration_s,
        "vehicle_connected": vehicle_connected,
        "expected_state": expected_state,
        **provenance(wave.metadata),
    }
    return CaptureReport(name or default_name, wave, m, prof, checks, check_segments(m, prof), tuple(faults), info)


def _streamed_report(source, prof, *, name, fmt, channel, vehicle_connected, expected_state,
                     expected_duty) -> CaptureReport:
    """:func:`capture_report` of a file read in pieces: the same measurement and verdicts; the plots get
    the capture's min/max envelope (the overview's own points) and the samples around one period."""
    from ..analysis.stream import StreamedCapture
    from ..diagnose import detect_cp_faults
    from ..plot.capture import envelope_blocks
    from ..waveform import Waveform

    with StreamedCapture.open(source, fmt=fmt, channel=channel) as cap:
        m = cap.measure(profile=prof)
        m = replace(m, faults=detect_cp_faults(m, prof, vehicle_connected=vehicle_connected))
        t, v = envelope_blocks(cap.read, cap.n_samples)
        keep = np.concatenate(([True], t[1:] > t[:-1]))  # a flat bin gives one sample twice
        wave = Waveform(t[keep], v[keep], cap.channel, cap.metadata)
        zoom = cap.slice_time(*_zoom_window(m, cap.t_start, cap.t_end))
    checks = check_measurement(m, prof, faults=m.faults, expected_state=expected_state, expected_duty=expected_duty)
    default_name = "<stdin>" if os.fspath(source) == "-" else os.path.basename(os.fspath(source))
    info = {
        "format": cap.metadata.get("format", cap.metadata.get("source", "")),
        "path": str(cap.metadata.get("source_path", "")),
        "channel": cap.channel,
        "samples": m.n_samples,
        "sample_rate_hz": m.sample_rate_hz,
        "duration_s": m.t_end - m.t_start,
        "vehicle_connected": vehicle_connected,
        "expected_state": expected_state,
        "streamed": True,
        **provenance(cap.metadata),
    }
    return CaptureReport(name or default_name, wave, m, prof, checks, check_segments(m, prof), tuple(m.faults),
                         info, zoom=zoom)


def _zoom_window(m, t_start: float, t_end: float) -> tuple[float, float]:
    """The times the period and edge zooms of :mod:`cpsim.plot.detail` show, with room to spare."""
    from ..plot.detail import _pick_cycle

    k = _pick_cycle(m, None)
    if k is None:
        return t_start, t_start + min(t_end - t_start, 2e-3)
    c = m.cycles
    period = float(c.period_s[k])
    edges = [float(x) for x in (c.rise_time_s[k], c.fall_time_s[k]) if np.isfinite(x)]
    spare = max([period, 20.0 / m.sample_rate_hz, 2e-6] + [4.0 * x for x in edges]) * 1.5
    return float(c.t_start[k]) - spare, float(c.t_start[k]) + period + spare


INSTRUMENT_FIELDS = ("model", "serial", "firmware", "date", "probe_factor", "coupling", "volts_per_div")
"""Instrument settings copied from a capture's metadata into the report (where the file states them)."""


def provenance(metadata: Any) -> dict[str, Any]:
    """What identifies a capture: file size and SHA-256, and the instrument fields the reader found.

    The hash is of the file as read (a piped capture was spooled to a temporary file, gone by now:
    no hash then). Instrument fields come from the reader's ``metadata`` (top level, or the nested
    ``instrument`` mapping the binary readers fill) and, for CSV preambles, from ``header`` lines
    such as Digilent's ``#Device Name: ...`` or ``Serial Number: ...``.
    """
    import hashlib

    out: dict[str, Any] = {}
    path = str(metadata.get("source_path", "") or "")
    if path and os.path.isfile(path):
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        out["file_size_bytes"] = os.path.getsize(path)
        out["sha256"] = h.hexdigest()
    instrument = dict(metadata.get("instrument", {}) or {})
    for key in INSTRUMENT_FIELDS:
        value = metadata.get(key, instrument.get(key))
        if value not in (None, ""):
            out[f"instrument_{key}"] = value
    for line in metadata.get("header", ()) or ():
        text = str(line).lstrip("#").strip()
        key, sep, value = text.partition(":")
        k = key.strip().lower()
        if not sep or not value.strip():
            continue
        for name, words in (("model", ("device name", "model", "device type")), ("serial", ("serial",)),
                            ("date", ("date time", "date", "time stamp", "timestamp"))):
            if f"instrument_{name}" not in out and any(k.startswith(w) for w in words):
                out[f"instrument_{name}"] = value.strip().strip(",")[:80]
    return out


def distinct_names(names: Sequence[str], paths: Sequence[str]) -> list[str]:
    """Names for the report's captures that tell apart files sharing a base name (``a/scope.csv`` and
    ``b/scope.csv`` become ``a/scope.csv`` and ``b/scope.csv``): enough trailing folders to differ."""
    out = list(names)
    for name in set(names):
        same = [i for i, n in enumerate(names) if n == name]
        if len(same) < 2:
            continue
        parts = [os.path.normpath(paths[i] or names[i]).split(os.sep) for i in same]
        depth = 2
        while depth <= max(len(p) for p in parts):
            labels = [os.sep.join(p[-depth:]) for p in parts]
            if len(set(labels)) == len(labels):
                break
            depth += 1
        for i, label in zip(same, [os.sep.join(p[-depth:]) for p in parts]):
            out[i] = label
    for name in set(out):  # still equal (the same file twice): number them
        same = [i for i, n in enumerate(out) if n == name]
        if len(same) > 1:
            for k, i in enumerate(same, start=1):
                out[i] = f"{name} #{k}"
    return out


def _as_frame(source):
    from ..study.results import read_results

    if isinstance(source, (str, os.PathLike)):
        return read_results(source), os.path.basename(os.fspath(source))
    if hasattr(source, "columns"):
        return source, str(source.attrs.get("name", "") or "Monte Carlo")
    raise ParameterError(f"results must be a DataFrame or a .parquet/.csv path, got {type(source).__name__}")


def montecarlo_report(source, *, profile: str | std.LimitsProfile | None = None,
                      compare: Sequence[str | std.LimitsProfile] | None = None, name: str | None = None,
                      worst: int = 5) -> MonteCarloReport:
    """Summarise one results frame (or file) of a tolerance study for the report.

    ``profile``: the thresholds the runs are judged by (default: the study's own, else
    IEC 61851). ``compare``: more profiles whose yields are listed (default: the other
    built-in one). Any results file renders, one whose runs all failed too: the summary then
    leads with the failures.
    """
    from ..study.summary import check_frame, summarize, threshold_yield

    df, default_name = _as_frame(source)
    df = check_frame(df)
    if profile is None:
        profile = df.attrs.get("profile") if df.attrs.get("profile") in std.PROFILES else "iec61851"
    prof = std.get_profile(profile)
    if compare is None:
        compare = [p for p in std.PROFILES if p != prof.name]
    others = [std.get_profile(p) for p in compare]
    summary = summarize(df, prof, worst=worst)
    if not summary.get("engine"):  # a CSV keeps no attrs: the spice engine adds the analyzer's columns
        summary["engine"] = "spice" if "measured_duty" in df.columns else "fast"
    per_state = []
    present = {str(x) for x in df["expected_state"].unique()}  # categorical: cheap on millions of rows
    for state in [s for s in std.STATES if s in present]:
        rows = df[(df["expected_state"] == state).to_numpy()]
        entry: dict[str, Any] = {"state": state, "runs": int(len(rows)), "errors": int((~rows["error"].isna()).sum()),
                                 "yield": {}}
        for p in [prof, *others]:
            y = threshold_yield(rows, p)
            entry["yield"][p.name] = {"yield": y["yield"], "misclassified": y["misclassified"]["count"],
                                      "as": y["misclassified"]["as"]}
        per_state.append(entry)
    return MonteCarloReport(name or default_name, df, prof, others, summary, per_state)


def input_kind(path) -> str:
    """``"results"`` for a tolerance study's results file, ``"fleet"`` for a table of captures
    (:func:`cpsim.report.many.analyze_many`), else ``"capture"``."""
    from .many import is_fleet_table

    p = Path(path)
    if is_fleet_table(p):
        return "fleet"
    if p.suffix.lower() in (".parquet", ".pq"):
        return "results"
    if p.suffix.lower() == ".csv" and p.is_file():
        cols = table_columns(p)
        if cols[:1] == ["run"] and "expected_state" in cols:
            return "results"
    return "capture"
