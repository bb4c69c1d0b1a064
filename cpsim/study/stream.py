"""Studies of any size in bounded memory: the fast engine's rows streamed to disk, the summary online.

:func:`stream_montecarlo` runs the same variations as :func:`cpsim.study.runner.run_montecarlo`
with ``engine="fast"``, but never holds more than one chunk (65 536 runs) of rows:

* each chunk is summarised at once (:class:`cpsim.study.online.OnlineSummary`): the summary
  returned equals :func:`cpsim.study.summary.summarize` of the whole results frame;
* with ``out=``, each chunk is one Parquet row group of a part file in ``<out>.parts/`` (a new
  part every ``flush_s`` seconds, written under a temporary name and renamed when complete, so a
  killed study keeps every finished part). At the end the parts are copied in run order into
  ``out`` (``.parquet``, or ``.csv`` through pyarrow's CSV writer), a row group at a time, and
  removed (by the rules of :func:`cpsim.outputs.output_path`: atomically, through a symbolic link).
  An older study's ``out`` stays until then: an interrupted fresh study never loses it, and its
  parts are marked so that a resumed study does not read the older rows. The file equals
  :func:`~cpsim.study.results.write_results` of the in-memory frame
  (:func:`~cpsim.study.results.read_results` gives the same frame back).
* ``resume=True`` reads the finished parts (and a finished ``.parquet`` ``out``) back through
  the summary, checks that they are this study's variations and runs only the missing chunks.
* Before any work, a study whose file would not fit on the disk is refused with the estimate.

Peak memory is a few chunks (≈ 100 MB) whatever ``runs`` is; the cost is linear in ``runs``.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import standard as std
from ..errors import OutputError, ParameterError
from ..outputs import output_path
from .engines import fast_block
from .online import OnlineSummary
from .pool import progress_bar
from .results import PARAMETER_COLUMNS, format_of
from .store import check_manifest, keeps_out, remove_parts, write_manifest
from .summary import StudySummary
from .variations import Tolerance, sample

__all__ = ["stream_montecarlo", "output_bytes_per_run"]

_log = logging.getLogger(__name__)

PARQUET_BYTES_PER_RUN = 170
"""Parquet bytes per fast-engine run (measured: ≈ 150; 17 float64 columns of random draws do not compress)."""
CSV_BYTES_PER_RUN = 420
"""CSV bytes per fast-engine run (measured: ≈ 380 with shortest round-trip floats)."""


_PARQUET = {"use_dictionary": ["expected_state", "state", "error"]}
"""Dictionary pages for the state columns only: random float draws gain nothing from one (4x slower)."""


def output_bytes_per_run(path: str | os.PathLike[str]) -> int:
    """Bytes a fast-engine run takes in a results file of this suffix (an upper estimate)."""
    return PARQUET_BYTES_PER_RUN if format_of(Path(path)) == "parquet" else CSV_BYTES_PER_RUN


def stream_montecarlo(state: str = "C", runs: int = 1000, tolerances: Sequence[Tolerance] | None = None, *,
                      seed: int | None = None, profile: str | std.LimitsProfile = "iec61851",
                      judge: str | std.LimitsProfile | None = None, nominal: Mapping[str, float] | None = None,
                      out: str | os.PathLike[str] | None = None, resume: bool = False,
                      progress: bool | Callable[[int, int], None] = False, chunk_size: int | None = None,
                      worst: int = 10, flush_s: float = 5.0) -> dict[str, Any]:
    """A fast-engine Monte Carlo of any size in bounded memory; returns its summary.

    Parameters
    ----------
    state, runs, tolerances, seed, profile, nominal, chunk_size
        As :func:`cpsim.study.runner.run_montecarlo` (``engine="fast"``): the same variations.
    judge : str, LimitsProfile or None
        The thresholds the summary judges by, as ``profile`` of
        :func:`~cpsim.study.summary.summarize` (None: the states the study recorded).
    out : path, optional
        Results file (``.parquet`` or ``.csv``); without it only the summary is kept.
    resume : bool
        Keep the finished rows of an interrupted study with the same settings and ``out``.
    progress : bool or callable
        True: a tqdm bar on stderr; a callable gets ``(finished_runs, runs)``.
    worst : int
        Worst cases in the summary.
    flush_s : float
        Seconds between part files (what a killed study can lose at most).

    Returns
    -------
    dict
        :func:`~cpsim.study.summary.summarize` of the study's rows, plus ``out`` (the path written
        or None) and ``rows_written``.

    Examples
    --------
    >>> s = stream_montecarlo("C", 200_000, seed=1, judge="j1772")
    >>> s["runs"], s["valid_runs"], s["misclassified"]["count"]
    (200000, 200000, 0)
    """
    from .runner import _settings

    if not isinstance(flush_s, (int, float)) or not flush_s > 0:
        raise ParameterError(f"flush_s must be a positive number of seconds, got {flush_s!r}")
    manifest, tols, prof, _ = _settings(state, runs, tolerances, seed=seed, engine="fast", profile=profile,
                                        nominal=nominal, executor=None, workers=None, chunk_size=chunk_size,
                                        spice=None)
    expected, runs, seed, nominal, chunk = (manifest[k] for k in ("state", "runs", "seed", "nominal", "chunk_size"))
    acc = OnlineSummary(judge, worst=worst, engine="fast", study_profile=prof.name)
    parts = None if out is None else _Parts(Path(out), manifest, runs, flush_s)
    done = np.zeros(runs, dtype=bool)
    if parts is not None:
        parts.check_space(runs)
        if resume:
            for cols in parts.stored(state, tols, seed, nominal, expected):
                done[cols["run"]] = True
                acc.add(cols)
        else:
            parts.clear()
    elif resume:
        raise ParameterError("resume needs out= (the results file of the interrupted run)")
    bar = progress_bar(progress, runs, int(done.sum()))
    code = np.int8(std.STATES.index(expected))
    try:
        if parts is not None:
            parts.start()
        for first in range(0, runs, chunk):
            todo = np.flatnonzero(~done[first:first + chunk]) + first
            if not todo.size:
                continue
            params = sample(state, todo, tols, seed, nominal=nominal)
            cols = _chunk(todo, seed, code, params, fast_block(state, params, prof))
            acc.add(cols)
            if parts is not None:
                parts.write(cols)
            bar.update(todo.size)
    except BaseException:
        if parts is not None:
            parts.close()  # every finished chunk stays on disk for resume=True
        raise
    finally:
        bar.close()
    summary = StudySummary(acc.result())
    summary["out"] = None if parts is None else str(parts.finish())
    summary["rows_written"] = 0 if parts is None else runs
    return summary


def _chunk(runs, seed, code, params, result) -> dict[str, Any]:
    cols: dict[str, Any] = {"run": runs.astype(np.int64), "seed": np.full(runs.size, seed, dtype=np.int64),
                            "expected_code": np.full(runs.size, code, dtype=np.int8),
                            "state_code": np.asarray(result["state"], dtype=np.int8),
                            "error": np.asarray(result["error"], dtype=object)}
    for name in PARAMETER_COLUMNS:
        cols[name] = np.asarray(params[name], dtype=float)
    cols["v_high"], cols["v_low"] = result["v_high"], result["v_low"]
    return cols


def _arrow_table(cols: Mapping[str, Any]):
    """A chunk as the results frame's Arrow table (the columns and order of ``normalise``)."""
    import pyarrow as pa

    states = pa.array(list(std.STATES), pa.string())

    def state(codes):
        codes = np.asarray(codes, dtype=np.int8)
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), states)

    error = cols["error"]
    if error.astype(bool).any():
        err = pa.array([e or None for e in error.tolist()], pa.large_string())
    else:
        err = pa.nulls(len(error), pa.large_string())
    data = {"run": pa.array(cols["run"]), "seed": pa.array(cols["seed"]),
            "expected_state": state(cols["expected_code"]), "state": state(cols["state_code"]), "error": err}
    data.update({name: pa.array(cols[name]) for name in PARAMETER_COLUMNS})
    data.update({name: pa.array(cols[name]) for name in ("v_high", "v_low")})
    return pa.table(data)


def _from_table(table) -> dict[str, Any]:
    """The chunk columns of a stored Arrow table (the inverse of :func:`_arrow_table`)."""
    def codes(name):
        col = table.column(name).combine_chunks()
        idx = np.asarray(col.indices.fill_null(-1), dtype=np.int16)
        names = col.dictionary.to_pylist()
        lut = np.array([std.STATES.index(s) for s in names] + [-1], dtype=np.int16)
        return lut[idx]

    cols: dict[str, Any] = {"run": np.asarray(table.column("run"), dtype=np.int64),
                            "seed": np.asarray(table.column("seed"), dtype=np.int64),
                            "expected_code": codes("expected_state"), "state_code": codes("state"),
                            "error": np.array(table.column("error").to_pylist(), dtype=object)}
    for name in (*PARAMETER_COLUMNS, "v_high", "v_low"):
        cols[name] = np.asarray(table.column(name), dtype=float)
    return cols


class _Parts:
    """Row groups of a streamed study in ``<out>.parts/``, gathered into ``out`` at the end."""

    def __init__(self, out: Path, manifest: dict, runs: int, flush_s: float):
        format_of(out)
        if not out.parent.is_dir():
            raise ParameterError(f"{out.parent}: output directory does not exist")
        self.out, self.manifest, self.runs, self.flush_s = out, manifest, runs, flush_s
        self.dir = out.with_name(out.name + ".parts")
        self.writer: Any = None
        self.tmp: Path | None = None
        self.opened = 0.0
        self.adopted: Path | None = None  # a finished .parquet ``out`` whose rows a resumed study keeps

    def check_space(self, runs: int) -> None:
        """Refuse a study whose parts and file would not fit on the disk (before any work)."""
        need = runs * (PARQUET_BYTES_PER_RUN + output_bytes_per_run(self.out))
        free = shutil.disk_usage(self.out.parent).free
        if need > free:
            raise ParameterError(
                f"{runs:,} runs would write about {_size(need)} to {self.out.parent} (the parts and the "
                f"{format_of(self.out)} file), but only {_size(free)} is free; run fewer, or write elsewhere")

    def clear(self) -> None:
        remove_parts(self.dir)  # only cpsim's own parts folder (OutputError otherwise)

    def stored(self, state, tols, seed, nominal, expected):
        """Chunks already written (resume), checked against the variations this study draws."""
        import pyarrow.parquet as pq

        from .runner import check_stored

        if self.dir.is_dir():
            check_manifest(self.dir, self.manifest)
            for path in sorted(self.dir.glob("*.parquet.tmp")):  # a part the killed study was writing
                path.unlink()
        if keeps_out(self.dir, self.out):
            if format_of(self.out) != "parquet" and not self.dir.is_dir():
                raise ParameterError(f"{self.out}: a finished .csv study cannot be extended; resume needs its "
                                     ".parts/ or a .parquet file")
            if format_of(self.out) == "parquet":
                self.adopted = self.out  # read in place; replaced only by the gathered file at the end
        for path in self._files():
            pf = pq.ParquetFile(path)
            for g in range(pf.num_row_groups):
                table = pf.read_row_group(g)
                cols = _from_table(table)
                keep = cols["run"] < self.runs
                if not keep.all():
                    cols = {k: v[keep] for k, v in cols.items()}
                if cols["run"].size:
                    states = {std.STATES[c] for c in np.unique(cols["expected_code"]) if c >= 0}
                    check_stored(cols["run"], set(np.unique(cols["seed"]).tolist()), states, cols, state, tols,
                                 seed, nominal, expected)
                yield cols

    def _files(self) -> list[Path]:
        parts = sorted(self.dir.glob("part-*.parquet")) if self.dir.is_dir() else []
        return parts + ([self.adopted] if self.adopted is not None else [])

    def start(self) -> None:
        # an older study's ``out`` stays until finish() replaces it; the parts say it is not theirs
        write_manifest(self.dir, self.manifest, self.out, fresh=self.adopted is None)

    def write(self, cols) -> None:
        import pyarrow.parquet as pq

        table = _arrow_table(cols)
        if self.writer is None:
            self.tmp = self.dir / f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:6]}.parquet.tmp"
            self.writer = pq.ParquetWriter(self.tmp, table.schema, **_PARQUET)
            self.opened = time.monotonic()
        try:
            self.writer.write_table(table, row_group_size=len(table))
        except OSError as exc:
            raise OutputError(self.tmp, exc) from exc
        if time.monotonic() - self.opened >= self.flush_s:
            self.close()

    def close(self) -> None:
        if self.writer is None:
            return
        self.writer.close()
        assert self.tmp is not None
        os.replace(self.tmp, self.tmp.with_suffix(""))  # complete: part-....parquet
        self.writer = self.tmp = None

    def finish(self) -> Path:
        """Copy every row group, in run order, into ``out`` (atomically); remove the parts."""
        import pyarrow.parquet as pq

        self.close()
        groups = []
        for path in self._files():
            pf = pq.ParquetFile(path)
            runs_at = pf.schema_arrow.get_field_index("run")
            for g in range(pf.num_row_groups):
                st = pf.metadata.row_group(g).column(runs_at).statistics
                groups.append((st.min, path, g))
        groups.sort(key=lambda x: x[0])
        with output_path(self.out) as target:  # atomically; through a symbolic link; a FIFO in place
            try:
                self._gather(groups, target)
            except OSError as exc:
                raise OutputError(self.out, exc) from exc
        shutil.rmtree(self.dir)
        return self.out

    def _gather(self, groups, tmp: Path) -> None:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        writer: Any = None
        files: dict[Path, Any] = {}
        csv = format_of(self.out) == "csv"
        schema = None
        try:
            for _, path, g in groups:
                pf = files.setdefault(path, pq.ParquetFile(path))
                table = pf.read_row_group(g)
                if schema is None or not table.schema.equals(schema):  # e.g. a file pandas wrote
                    table = _arrow_table(_from_table(table))
                    schema = table.schema
                if table.column("run").to_numpy().max() >= self.runs:  # a longer study resumed shorter
                    table = table.filter(pc.less(table.column("run"), self.runs))
                if csv:
                    table = _csv_ready(table)
                if writer is None:
                    writer = _csv_writer(tmp, table.schema) if csv else pq.ParquetWriter(tmp, table.schema, **_PARQUET)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()


def _csv_ready(table):
    """Dictionary (state) columns as text: the CSV that pandas' ``to_csv`` writes."""
    import pyarrow as pa

    for name in ("expected_state", "state"):
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, table.column(name).cast(pa.string()))
    return table


def _csv_writer(path: Path, schema):
    import pyarrow.csv as pacsv

    return pacsv.CSVWriter(str(path), schema, write_options=pacsv.WriteOptions(quoting_style="needed"))


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover
