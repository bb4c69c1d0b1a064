"""cpsim: signal-level simulation and analysis of EV charging pilot signals (CP and PP).

``import cpsim`` loads only numpy. PySpice, pandas and matplotlib are imported by
the functions that need them.
"""

from __future__ import annotations

import importlib

from ._version import __version__
from .errors import (
    AnalysisError,
    CaptureFormatError,
    CpsimError,
    NgspiceNotFoundError,
    OutputError,
    ParameterError,
    SimulationError,
)
from .waveform import Waveform

# name -> module that defines it; resolved on first access (PEP 562).
_LAZY = {
    "simulate_cp": "cpsim.sim.cp",
    "simulate_pp": "cpsim.sim.pp",
    "PPResult": "cpsim.sim.pp",
    "plateau_levels": "cpsim.sim.closed_form",
    "read_capture": "cpsim.io",
    "read_channels": "cpsim.io",
    "measure_pilot": "cpsim.analysis.measurement",
    "PilotMeasurement": "cpsim.analysis.result",
    "analyze": "cpsim.diagnose.capture",
    "analyze_many": "cpsim.report.many",
    "detect_cp_faults": "cpsim.diagnose.cp",
    "diagnose_pp": "cpsim.diagnose.pp",
    "montecarlo": "cpsim.study.runner",
    "run_montecarlo": "cpsim.study.runner",
    "run_corners": "cpsim.study.corners",
    "Tolerance": "cpsim.study.variations",
    "summarize": "cpsim.study.summary",
    "bringup": "cpsim.study.bringup.api",
    "standard": "cpsim.standard",
    "plot": "cpsim.plot",
}

__all__ = [
    "AnalysisError", "CaptureFormatError", "CpsimError", "NgspiceNotFoundError", "OutputError",
    "ParameterError", "SimulationError", "Waveform", "__version__", *_LAZY,
]


# names in _LAZY that are submodules themselves rather than objects inside one
_SUBMODULES = {"standard", "plot"}


def __getattr__(name: str):
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'cpsim' has no attribute {name!r}")
    module = importlib.import_module(target)
    value = module if name in _SUBMODULES else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
