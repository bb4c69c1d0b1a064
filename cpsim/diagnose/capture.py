"""``cpsim.analyze``: read a capture, measure it, and diagnose its faults.

The whole capture pipeline in one call: :func:`cpsim.read_capture` (when given a path)
-> :func:`cpsim.analysis.measure` -> :func:`cpsim.detect_cp_faults`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import standard as std
from ..analysis.measurement import measure
from ..analysis.result import PilotMeasurement
from .cp import detect_cp_faults

__all__ = ["analyze", "should_stream"]


def analyze(source: Any, *, profile: str | std.LimitsProfile = "iec61851", fmt: str | None = None,
            channel: str | int | None = None, vehicle_connected: bool | None = None, stream: bool | None = None,
            **options: Any) -> PilotMeasurement:
    """Measure a control-pilot waveform like a pilot test instrument, and name its faults.

    Parameters
    ----------
    source : Waveform or path
        A :class:`~cpsim.Waveform` (simulated or read), or a capture file read with
        :func:`cpsim.read_capture`.
    profile : str or LimitsProfile
        ``"iec61851"`` (default), ``"j1772"``, or a profile of your own thresholds
        (:func:`cpsim.standard.custom_profile`).
    fmt, channel
        Passed to :func:`cpsim.read_capture` when ``source`` is a path.
    vehicle_connected : bool, optional
        What the user knows: ``True`` turns a state-A capture into the fault ``vehicle_not_seen``.
    stream : bool, optional
        Read a file in pieces, in bounded memory (:func:`cpsim.analysis.stream.measure_stream`: the
        same numbers). Default: when the file holds more samples than the memory budget
        (:func:`~cpsim.analysis.stream.memory_budget_samples`, ``CPSIM_MEMORY_BUDGET`` bytes).
    **options
        Keyword options of :func:`cpsim.measure_pilot` (``summary``, ``dc_min_s``, ...).

    Returns
    -------
    PilotMeasurement
        With ``faults`` filled by :func:`cpsim.detect_cp_faults`.

    Examples
    --------
    >>> import numpy as np
    >>> import cpsim
    >>> t = np.arange(20_000) * 1e-6                        # 20 ms at 1 MS/s
    >>> v = np.where((t * 1000) % 1 < 0.25, 9.0, -12.0)     # state B, 25 % duty
    >>> m = cpsim.analyze(cpsim.Waveform.from_arrays(t, v))
    >>> m.state, round(m.duty, 3), round(m.current_a, 1), m.faults
    ('B2', 0.25, 15.0, ())
    """
    if should_stream(source, stream, fmt=fmt):
        from ..analysis.stream import measure_stream

        m = measure_stream(source, profile=profile, fmt=fmt, channel=channel, **options)
    else:
        m = measure(source, profile=profile, fmt=fmt, channel=channel, **options)
    return replace(m, faults=detect_cp_faults(m, profile, vehicle_connected=vehicle_connected))


def should_stream(source: Any, stream: bool | None = None, *, fmt: str | None = None) -> bool:
    """Whether :func:`analyze` reads ``source`` in pieces: ``stream`` when given (a Waveform is in memory
    already: never), else whether the file holds more samples than the memory budget."""
    import os

    if not isinstance(source, (str, os.PathLike)):
        if stream:
            from ..errors import ParameterError

            raise ParameterError("stream=True reads a file in pieces; this source is not a file path")
        return False
    if stream is not None:
        return bool(stream)
    from ..analysis.stream import estimated_samples, memory_budget_samples

    n = estimated_samples(source, fmt=fmt)
    return n is not None and n > memory_budget_samples()
