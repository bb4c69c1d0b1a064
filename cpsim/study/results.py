"""Results frames of tolerance studies: one row per run, their columns, dtypes and files.

A results frame (:func:`cpsim.run_montecarlo`, :func:`cpsim.run_corners`) holds ``run``,
``seed``, ``expected_state``, ``state``, ``error``, the sampled parameters and the
measurements. :func:`write_results` and :func:`read_results` move it to and from
``.parquet`` or ``.csv``; every frame, whatever wrote it, gets the same column order and dtypes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import standard as std
from ..errors import CaptureFormatError, OutputError, ParameterError
from .engines import MEASUREMENT_DTYPES
from .variations import PARAMETERS

__all__ = ["PARAMETER_COLUMNS", "read_results", "write_results"]

PARAMETER_COLUMNS = tuple(PARAMETERS) + ("diode_area",)
"""Sampled-parameter columns of a results frame (CpCircuit names, plus ``diode_dvf_v``)."""
_LEAD_COLUMNS = ("run", "seed", "expected_state", "state", "error")
UNFINISHED = "unfinished: "
"""Prefix of the ``error`` of runs lost with their worker; ``resume=True`` runs them again."""


def write_results(df, path: str | Path) -> Path:
    """Write a results frame to ``.parquet`` or ``.csv`` by the rules of :func:`cpsim.outputs.output_path`
    (atomically; through a symbolic link to its target; a FIFO or a device in place)."""
    from ..outputs import output_path

    path = Path(path)
    fmt = format_of(path)
    with output_path(path) as target:
        try:
            if fmt == "parquet":
                df.to_parquet(target, index=False)
            else:
                df.to_csv(target, index=False)
        except OSError as exc:
            raise OutputError(path, exc) from exc
    return path


def read_results(path: str | Path):
    """Read a results file written by :func:`run_montecarlo` (``.parquet`` or ``.csv``)."""
    import pandas as pd

    path = Path(path)
    fmt = format_of(path)
    if not path.is_file():
        raise ParameterError(f"{path}: no such results file")
    try:
        df = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
    except Exception as exc:  # pyarrow/pandas parse errors of a damaged or foreign file
        raise CaptureFormatError(f"not a readable {fmt} results file: {str(exc)[:200]}", path=str(path)) from exc
    return normalise(df)


def format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".csv":
        return "csv"
    raise ParameterError(f"{path}: results are written as .parquet or .csv, not {suffix or 'no suffix'!r}")


def state_dtype():
    import pandas as pd

    return pd.CategoricalDtype(std.STATES)


def strings(values):
    """A pandas ``str`` array; all-empty input (the usual ``error`` column) costs nothing."""
    import pandas as pd

    values = np.asarray(values, dtype=object)
    if not any(values):
        import pyarrow as pa

        return pd.array(pa.nulls(values.size, pa.large_string()), dtype="str")
    return pd.array([v or None for v in values], dtype="str")


def normalise(df):
    """Column order and dtypes every results frame has, whatever wrote it."""
    for col in ("state", "expected_state"):
        if col in df and df[col].dtype != state_dtype():
            df[col] = df[col].astype("str").astype(state_dtype())
    if "error" in df and df["error"].dtype != "str":
        df["error"] = df["error"].astype("str")
    for col in ("run", "seed"):
        if col in df and df[col].dtype != np.int64:
            df[col] = df[col].astype("int64")
    for col, dtype in MEASUREMENT_DTYPES.items():
        if col in df and df[col].dtype != dtype:
            df[col] = df[col].astype(object).where(df[col].notna(), None).astype(dtype)
    for col in (*PARAMETER_COLUMNS, "v_high", "v_low"):
        if col in df and df[col].dtype != np.float64 and df[col].dtype.kind in "iuf":  # a CSV writes 25.0 as 25
            df[col] = df[col].astype(np.float64)
    lead = [c for c in _LEAD_COLUMNS if c in df]
    params = [c for c in PARAMETER_COLUMNS if c in df]
    rest = sorted(c for c in df if c not in lead and c not in params)
    if list(df.columns) != lead + params + rest:
        df = df[lead + params + rest]
    if "run" in df and not df["run"].is_monotonic_increasing:
        df = df.sort_values("run", kind="stable")
    return df.reset_index(drop=True)
