"""The cpsim exception tree.

Every error a user can cause (a bad file, an impossible parameter, a failing
simulation) is a :class:`CpsimError`. The CLI catches exactly this class, prints
one line and exits with status 2.
"""

from __future__ import annotations

__all__ = [
    "CpsimError",
    "ParameterError",
    "CaptureFormatError",
    "SimulationError",
    "NgspiceNotFoundError",
    "AnalysisError",
    "OutputError",
]


class CpsimError(Exception):
    """Base class of every error cpsim raises on purpose."""


class ParameterError(CpsimError, ValueError):
    """A parameter is not a finite number in its physical range, or is unknown."""


class CaptureFormatError(CpsimError):
    """A capture file cannot be read: unknown layout, malformed content, bad channel.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    path : str, optional
        The file.
    line : int, optional
        1-based line number where the problem was found.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = None if path is None else str(path)
        self.line = line
        where = ""
        if self.path is not None:
            where = self.path if line is None else f"{self.path}:{line}"
            where += ": "
        super().__init__(where + message)


class SimulationError(CpsimError):
    """ngspice could not simulate a circuit. ``log`` holds ngspice's own messages."""

    def __init__(self, message: str, *, log: str = ""):
        self.log = log
        text = message
        if log.strip():
            tail = " | ".join(line.strip() for line in log.strip().splitlines()[-3:])
            text = f"{message} (ngspice: {tail})"
        super().__init__(text)


class NgspiceNotFoundError(SimulationError):
    """The ngspice shared library could not be loaded."""


class AnalysisError(CpsimError):
    """A waveform cannot be analysed at all (for example, fewer than two samples)."""


class OutputError(CpsimError):
    """An output file (CSV, Parquet, HTML, PNG) cannot be written: missing folder, no permission, disk full."""

    def __init__(self, path, exc: OSError):
        self.path = str(path)
        super().__init__(f"{self.path}: cannot write: {exc.strerror or exc}")
