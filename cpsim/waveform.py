"""The one waveform object every part of cpsim exchanges."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from .errors import ParameterError

__all__ = ["Waveform"]


@dataclass(frozen=True, eq=False)
class Waveform:
    """A sampled voltage: time in seconds, value in volts.

    Simulated waveforms and scope captures are the same object, so every
    measurement works on both. Validated once on creation: 1-D, equal length,
    at least two samples, finite values, strictly increasing time.

    Parameters
    ----------
    t : array_like
        Sample times [s], strictly increasing. Need not start at 0.
    v : array_like
        Sample values [V].
    channel : str
        Channel name (``"cp"``, ``"CH1"``, ...).
    metadata : mapping
        Free-form provenance: instrument header, simulation parameters, source file.

    Examples
    --------
    >>> import numpy as np
    >>> w = Waveform.from_arrays(np.arange(4) * 1e-6, [12.0, 12.0, -12.0, -12.0], channel="cp")
    >>> w.sample_interval_s
    1e-06
    """

    t: np.ndarray
    v: np.ndarray
    channel: str = "cp"
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = _as_float_vector(self.t, "t")
        v = _as_float_vector(self.v, "v")
        if t.shape != v.shape:
            raise ParameterError(f"t and v differ in length ({t.size} vs {v.size} samples)")
        if t.size < 2:
            raise ParameterError(f"a waveform needs at least 2 samples, got {t.size}")
        if not np.isfinite(t).all():
            raise ParameterError(f"t has a non-finite value at sample {_first_bad(t)}")
        if not np.isfinite(v).all():
            raise ParameterError(f"v has a non-finite value at sample {_first_bad(v)}")
        increasing = t[1:] > t[:-1]
        if not increasing.all():
            bad = int(np.flatnonzero(~increasing)[0])
            raise ParameterError(
                f"time must be strictly increasing: t[{bad + 1}]={t[bad + 1]!r} <= t[{bad}]={t[bad]!r}"
            )
        t.flags.writeable = False
        v.flags.writeable = False
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "v", v)
        object.__setattr__(self, "channel", str(self.channel))
        object.__setattr__(self, "metadata", dict(self.metadata))

    @classmethod
    def from_arrays(cls, t, v, *, channel: str = "cp", metadata: Mapping[str, Any] | None = None) -> Waveform:
        """Build a waveform from time [s] and value [V] arrays."""
        return cls(t, v, channel, dict(metadata or {}))

    @classmethod
    def from_uniform(
        cls, v, *, sample_interval_s: float, t0_s: float = 0.0, channel: str = "cp",
        metadata: Mapping[str, Any] | None = None,
    ) -> Waveform:
        """Build a waveform from equally spaced samples: ``t = t0_s + k * sample_interval_s``."""
        dt = float(sample_interval_s)
        if not np.isfinite(dt) or dt <= 0:
            raise ParameterError(f"sample_interval_s must be a positive finite number, got {sample_interval_s!r}")
        v = np.asarray(v, dtype=np.float64)
        t = float(t0_s) + dt * np.arange(v.size, dtype=np.float64)
        return cls(t, v, channel, dict(metadata or {}))

    def __len__(self) -> int:
        return int(self.t.size)

    @property
    def duration_s(self) -> float:
        """Time from the first to the last sample [s]."""
        return float(self.t[-1] - self.t[0])

    @property
    def sample_interval_s(self) -> float:
        """Mean sample interval [s]."""
        return float((self.t[-1] - self.t[0]) / (self.t.size - 1))

    @property
    def sample_rate_hz(self) -> float:
        """Mean sample rate [Hz]."""
        return 1.0 / self.sample_interval_s

    def slice_time(self, t_start_s: float, t_end_s: float) -> Waveform:
        """The samples with ``t_start_s <= t <= t_end_s`` as a new waveform."""
        lo = np.searchsorted(self.t, t_start_s, side="left")
        hi = np.searchsorted(self.t, t_end_s, side="right")
        return Waveform(self.t[lo:hi], self.v[lo:hi], self.channel, self.metadata)

    def to_csv(self, path: str | os.PathLike[str] | TextIO, *, value_column: str | None = None) -> None:
        """Write cpsim's own CSV layout: header ``time_s,<channel>_v``, one sample per row.

        ``path`` is a file name (written by the rules of :func:`cpsim.outputs.output_path`: atomically,
        never replacing a FIFO, a device or a symlink) or an open text stream.
        """
        from .errors import OutputError

        name = value_column or f"{self.channel}_v"
        data = np.column_stack([self.t, self.v])

        def save(target) -> None:
            # time needs all 17 digits when t0 is far from 0 (absolute timestamps); values 9
            np.savetxt(target, data, delimiter=",", header=f"time_s,{name}", comments="", fmt=("%.17g", "%.9g"))

        try:
            if isinstance(path, (str, os.PathLike)):
                from .outputs import output_path

                with output_path(path) as target:  # never replaces a FIFO, a device or a symlink
                    save(target)
            else:
                save(path)
        except OSError as exc:
            raise OutputError(path, exc) from exc

    def __repr__(self) -> str:
        return (
            f"Waveform(channel={self.channel!r}, n={self.t.size}, "
            f"t=[{self.t[0]:.6g} .. {self.t[-1]:.6g}] s, dt≈{self.sample_interval_s:.4g} s)"
        )


def _as_float_vector(x, name: str) -> np.ndarray:
    # A read-only view, not a copy: a 50 M-sample capture must not be duplicated.
    try:
        arr = np.asarray(x, dtype=np.float64).view()
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} must be numeric: {exc}") from exc
    if arr.ndim != 1:
        raise ParameterError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


def _first_bad(x: np.ndarray) -> int:
    return int(np.flatnonzero(~np.isfinite(x))[0])
