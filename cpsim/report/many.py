"""Many captures, one table: every capture of a production run analysed in parallel, one row each.

:func:`analyze_many` takes files and directories (searched recursively; hidden files skipped), reads
each capture in any layout ``cpsim formats`` lists, measures and judges it exactly as ``cpsim analyze``
does (:func:`cpsim.analyze`, :func:`cpsim.report.checks.check_measurement`, ``overall_verdict``) and
gives one row per capture. A file that cannot be read or measured is a row with its ``error`` and
the verdict ``error``: one bad file never stops the batch.

It lives in the report room because a row's verdict is the report's verdict
(:mod:`cpsim.report.checks`); the pool is the study's (:mod:`cpsim.study.pool`).

Columns (SI units, ``duty`` a fraction): ``file``, ``format``, ``channel``, ``samples``, ``state``,
``v_high``, ``v_low``, ``duty``, ``frequency_hz``, ``current_a``, ``verdict``, ``faults`` (codes,
comma-separated), ``reason_code``, ``notes`` (``"; "``-joined), ``v_high_margin_v`` (margin of the
high level to its state window, positive inside), ``worst_check`` (the label of the most severe
check), ``error``.
"""

from __future__ import annotations

import collections
import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import standard as std
from ..errors import OutputError, ParameterError
from ..outputs import table_columns

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["analyze_many", "FLEET_COLUMNS", "capture_files", "write_table", "read_table", "is_fleet_table"]

_log = logging.getLogger(__name__)

FLEET_COLUMNS = ("file", "format", "channel", "samples", "state", "v_high", "v_low", "duty", "frequency_hz",
                 "current_a", "verdict", "faults", "reason_code", "notes", "v_high_margin_v", "worst_check", "error")
"""The columns of a fleet table, in order."""
_FLOATS = ("v_high", "v_low", "duty", "frequency_hz", "current_a", "v_high_margin_v")
_SEVERITY = ("error", "fail", "inconclusive", "warn", "pass", "info", "n/a")
"""Verdicts from most to least severe (``error``: the file could not be analysed)."""


def capture_files(paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str], *,
                  exclude: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """Files named and files under directories named (recursively, sorted, hidden ones skipped).

    Under a directory, fleet tables (:func:`is_fleet_table`: e.g. the table of an earlier run written
    into the folder) and the files in ``exclude`` (e.g. this run's ``--out``) are skipped.
    A path that does not exist is kept: its row says so.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    skip = {os.path.realpath(e) for e in exclude}
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file()
                              and not any(part.startswith(".") for part in f.relative_to(p).parts)
                              and os.path.realpath(f) not in skip and not is_fleet_table(f)))
        else:
            out.append(p)
    return list(dict.fromkeys(out))


def _row(path: str, profile_spec: Any, fmt: str | None, channel: str | int | None,
         vehicle_connected: bool | None) -> dict[str, Any]:
    """Analyse one capture (runs in a worker process); never raises for a bad file."""
    row: dict[str, Any] = dict.fromkeys(FLEET_COLUMNS)
    row["file"] = path
    try:
        from ..diagnose import analyze
        from ..diagnose.capture import should_stream
        from ..io import read_capture
        from ..io.registry import detect_format
        from ..study.engines import profile_from_spec
        from .checks import check_measurement, overall_verdict
        from .verdicts import VERDICTS

        profile = profile_from_spec(profile_spec)
        if not os.path.exists(path):
            raise ParameterError("no such file")
        if should_stream(path, fmt=fmt):  # above the memory budget: read in pieces, same numbers
            m = analyze(path, profile=profile, fmt=fmt, channel=channel, vehicle_connected=vehicle_connected,
                        stream=True)
            row.update(format=fmt or detect_format(path), channel=m.channel, samples=m.n_samples)
        else:
            wave = read_capture(path, fmt=fmt, channel=channel)
            row.update(format=str(wave.metadata.get("format", "")), channel=wave.channel, samples=len(wave))
            m = analyze(wave, profile=profile, vehicle_connected=vehicle_connected)
        checks = list(check_measurement(m, profile, faults=m.faults))
        verdict = overall_verdict(checks)
        worst = max(checks, key=lambda r: VERDICTS.index(r.verdict), default=None)
        margin = next((r.margin for r in checks if r.parameter == "v_high"), np.nan)
        row.update(state=str(m.state), v_high=m.v_high, v_low=m.v_low, duty=m.duty, frequency_hz=m.frequency_hz,
                   current_a=m.current_a, verdict=verdict, faults=",".join(f.code for f in m.faults),
                   reason_code=m.reason_code, notes="; ".join(m.notes), v_high_margin_v=margin,
                   worst_check=None if worst is None or worst.verdict in ("pass", "info", "n/a") else worst.label)
    except Exception as exc:  # CpsimError, OSError, ValueError, MemoryError, or a defect in cpsim on this file:
        # a row with its error, never a stopped batch
        row.update(verdict="error", error=f"{type(exc).__name__}: {exc}".splitlines()[0][:500])
    return row


def analyze_many(paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str], executor: Executor | None = None,
                 *, profile: str | std.LimitsProfile = "iec61851", fmt: str | None = None,
                 channel: str | int | None = None, vehicle_connected: bool | None = None,
                 workers: int | None = None, progress: bool | Callable[[int, int], None] = False,
                 exclude: Iterable[str | os.PathLike[str]] = ()) -> pd.DataFrame:
    """Analyse every capture under ``paths`` in parallel: one row per capture (see the module docstring).

    Parameters
    ----------
    paths : path or iterable of paths
        Capture files and directories (searched recursively).
    executor : concurrent.futures.Executor, optional
        Where captures are analysed, e.g. a Dask ``Client(...).get_executor()``. Default: a local
        process pool of ``workers`` (one process per CPU), or this process for a single worker or
        less than :data:`SMALL_BATCH_BYTES` of files.
    profile : str or LimitsProfile
        Limits the captures are judged by.
    fmt, channel
        Passed to :func:`cpsim.read_capture` for every file.
    vehicle_connected : bool, optional
        As ``cpsim analyze --vehicle-connected``.
    workers : int, optional
        Size of the local pool.
    progress : bool or callable
        True: a tqdm bar on stderr; a callable gets ``(finished, total)``.
    exclude : iterable of paths
        Files not to analyse when found under a directory (e.g. the table being written there);
        earlier fleet tables are always skipped there (:func:`capture_files`).

    Returns
    -------
    pandas.DataFrame
        One row per capture, in the order of the files (:data:`FLEET_COLUMNS`).

    Examples
    --------
    >>> import os, tempfile
    >>> from cpsim.analysis.synthetic import Stretch, pilot_waveform
    >>> d = tempfile.mkdtemp()
    >>> pilot_waveform(Stretch(0.02, 6.0, -12.0, 0.25)).to_csv(os.path.join(d, "unit1.csv"))
    >>> _ = Path(d, "unit2.csv").write_text("not a capture")
    >>> t = analyze_many(d, workers=1)
    >>> t[["state", "verdict"]].fillna("-").values.tolist()
    [['C2', 'pass'], ['-', 'error']]
    """
    from ..study.engines import profile_to_spec
    from ..study.pool import check_workers, default_workers, new_pool, progress_bar

    if executor is not None and not isinstance(executor, Executor):
        raise ParameterError(f"executor must be a concurrent.futures.Executor, got {type(executor).__name__}")
    check_workers(workers)
    files = [str(f) for f in capture_files(paths, exclude=exclude)]
    if not files:
        raise ParameterError("no capture files found in the paths given")
    prof = std.get_profile(profile)
    args = (profile_to_spec(prof), fmt, channel, vehicle_connected)
    bar = progress_bar(progress, len(files), 0)
    workers = min(workers or default_workers(), len(files))
    rows: list[dict | None] = [None] * len(files)
    try:
        if executor is None and (workers == 1 or _total_bytes(files) < SMALL_BATCH_BYTES):
            for i, f in enumerate(files):
                rows[i] = _row(f, *args)
                bar.update(1)
        else:
            _parallel(files, args, rows, executor, workers, bar, new_pool)
    finally:
        bar.close()
    return _frame([r for r in rows if r is not None])


SMALL_BATCH_BYTES = 64 << 20
"""Below this many bytes of captures the default runs in this process: starting a pool of spawned
workers (≈ 1-2 s) costs more than analysing them (benchmarks/bench_fleet.py)."""


def _total_bytes(files: list[str]) -> int:
    total = 0
    for f in files:
        try:
            total += os.path.getsize(f)
        except OSError:
            pass
    return total


def _parallel(files, args, rows, executor, workers, bar, new_pool) -> None:
    """Bounded in-flight tasks; a worker lost on a file makes that file's row an error, the rest go on."""
    own = executor is None
    ex = new_pool(workers, 200) if own else executor
    pending = collections.deque(range(len(files)))
    inflight: dict = {}
    limit = max(8, 4 * workers)
    try:
        while pending or inflight:
            while pending and len(inflight) < limit:
                i = pending.popleft()
                inflight[ex.submit(_row, files[i], *args)] = i
            done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                i = inflight.pop(fut)
                try:
                    rows[i] = fut.result()
                except BrokenProcessPool as exc:
                    broken = True
                    rows[i] = _error_row(files[i], f"the worker analysing it died ({exc})")
                except Exception as exc:  # a cancelled or failed task of a foreign executor
                    rows[i] = _error_row(files[i], f"{type(exc).__name__}: {exc}")
                bar.update(1)
            if broken and own:
                _log.warning("a worker process died; starting a fresh pool")
                pending.extendleft(sorted(inflight.values(), reverse=True))
                inflight.clear()
                ex.shutdown(wait=False, cancel_futures=True)
                ex = new_pool(workers, 200)
    except BaseException:
        for fut in inflight:
            fut.cancel()
        raise
    finally:
        if own:
            ex.shutdown(wait=True, cancel_futures=True)


def _error_row(path: str, message: str) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(FLEET_COLUMNS)
    row.update(file=path, verdict="error", error=message.splitlines()[0][:500])
    return row


def _frame(rows: list[dict]):
    import pandas as pd

    df = pd.DataFrame(rows, columns=list(FLEET_COLUMNS))
    return _normalise(df)


def _normalise(df):
    for col in _FLOATS:
        df[col] = _numeric(df[col])
    df["samples"] = df["samples"].astype("Int64")
    for col in (c for c in FLEET_COLUMNS if c not in _FLOATS and c != "samples"):
        col_ = df[col].astype(object)
        df[col] = col_.where(col_.notna() & (col_ != ""), None).astype("str")  # "" and missing alike (a CSV)
    return df[list(FLEET_COLUMNS)]


def _numeric(col):
    import pandas as pd

    return pd.to_numeric(col, errors="coerce").astype("float64")


def is_fleet_table(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a table written by :func:`write_table` (its first columns are ``file, format``)."""
    p = Path(path)
    if p.suffix.lower() not in (".parquet", ".pq", ".csv") or not p.is_file():
        return False
    try:
        names = table_columns(p)
    except OSError:  # unreadable: not a fleet table
        return False
    return names[:3] == list(FLEET_COLUMNS[:3]) and "verdict" in names


def write_table(df, path: str | os.PathLike[str]) -> Path:
    """Write a fleet table to ``.parquet`` or ``.csv`` by the rules of :func:`cpsim.outputs.output_path`
    (atomically; through a symbolic link to its target; a FIFO or a device in place)."""
    import pyarrow as pa

    from ..outputs import output_path

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv"):
        raise ParameterError(f"{path}: the table is written as .parquet or .csv, not {suffix or 'no suffix'!r}")
    if not path.parent.is_dir():
        raise ParameterError(f"{path.parent}: output directory does not exist")
    table = pa.Table.from_pandas(df, preserve_index=False)
    with output_path(path) as target:
        try:
            if suffix == ".csv":
                import pyarrow.csv as pacsv

                pacsv.write_csv(table, str(target))
            else:
                import pyarrow.parquet as pq

                pq.write_table(table, str(target))
        except OSError as exc:
            raise OutputError(path, exc) from exc
    return path


def read_table(path: str | os.PathLike[str]):
    """Read a fleet table written by :func:`write_table`."""
    import pandas as pd

    from ..errors import CaptureFormatError

    p = Path(path)
    try:
        df = pd.read_parquet(p) if p.suffix.lower() in (".parquet", ".pq") else pd.read_csv(p, dtype={"file": str})
    except Exception as exc:
        raise CaptureFormatError(f"not a readable fleet table: {str(exc)[:200]}", path=str(p)) from exc
    missing = [c for c in ("file", "verdict") if c not in df]
    if missing:
        raise CaptureFormatError(f"not a fleet table: no column {', '.join(missing)}", path=str(p))
    for c in FLEET_COLUMNS:
        if c not in df:
            df[c] = None
    return _normalise(df)
