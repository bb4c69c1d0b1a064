"""Measurement of pilot waveforms: pure, vectorised numpy functions of ``(t, v)``.

``cpsim.analyze(source)`` is the entry point (this measurement plus the fault diagnosis of
:mod:`cpsim.diagnose`); :func:`measure` measures a file or :class:`~cpsim.Waveform`, and
:func:`measure_pilot` the same on raw arrays.
The building blocks are public for custom pipelines:

================  ===============================================================
``levels``        level histogram of a subsample, threshold band, plateau statistics
``edges``         Schmitt-trigger transitions, per-edge 10/50/90 % instants
``pwm``           plateaus between edges, per-cycle measurements (:class:`CycleTable`)
``states``        state classification by a limits profile, diode-fault rule
``timeline``      units -> runs -> :class:`Segment` timeline
``measurement``   :func:`measure`, :func:`measure_pilot`, :class:`PilotMeasurement`
``synthetic``     ideal trapezoid pilot waveforms with known truth (tests, benchmarks)
================  ===============================================================
"""

from __future__ import annotations

from .measurement import PilotMeasurement, measure, measure_pilot
from .pwm import CycleTable
from .timeline import Segment

__all__ = ["measure", "measure_pilot", "PilotMeasurement", "CycleTable", "Segment"]
