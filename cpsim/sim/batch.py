"""Monte Carlo and its plumbing: chunks, executors, worker processes, streaming results, resume.

:func:`run_montecarlo` draws the variations (:mod:`cpsim.sim.variations`), hands them in
chunks to an engine (:mod:`cpsim.sim.engines`) and gathers one row per variation.

* ``executor=None`` runs ``spice`` on a local process pool sized to the machine, recycling
  each worker after ``recycle_after`` chunks (PySpice/ngspice memory grows over thousands of
  runs); ``fast`` runs in the calling process. Any :class:`concurrent.futures.Executor` works,
  e.g. a Dask cluster's ``Client(...).get_executor()``. With a thread-based executor the
  ngspice runs of one process are serialised by the session lock (one ngspice per process).
* A failing variation (impossible parameters, ngspice failure, unmeasurable waveform) gets
  its message in ``error`` and the batch goes on. A chunk lost with its worker is retried on a
  fresh pool; if it cannot be finished its rows carry ``error = "unfinished: ..."`` and a
  later ``resume=True`` runs them again.
* With ``out=``, finished rows are written as they arrive: Parquet part files in
  ``<out>.parts/`` (flushed every ``flush_rows`` rows or ``flush_s`` seconds), gathered into
  ``out`` (``.parquet`` or ``.csv``) at the end. After Ctrl-C or a killed process every
  flushed row is kept; ``resume=True`` re-draws the same variations from the seed, checks that
  the stored ones match, and runs only the missing ones.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import shutil
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import Callable, Literal, Mapping, Sequence

import numpy as np

from .. import __version__
from .. import standard as std
from ..errors import CaptureFormatError, OutputError, ParameterError
from .engines import (CIRCUIT_FIELDS, MEASUREMENT_DTYPES, SpiceOptions, expected_state, fast_block, min_edge_s, profile_from_spec,
                      profile_to_spec, spice_chunk)
from .variations import (BLOCK, PARAMETERS, Tolerance, _canonical, _check_seed, new_seed, resolve_tolerances,
                         sample)

__all__ = ["run_montecarlo", "montecarlo", "default_workers", "PARAMETER_COLUMNS", "read_results", "write_results"]

_log = logging.getLogger(__name__)

Engine = Literal["fast", "spice"]
PARAMETER_COLUMNS = tuple(PARAMETERS) + ("diode_area",)
"""Sampled-parameter columns of a results frame (CpCircuit names, plus ``diode_dvf_v``)."""
_LEAD_COLUMNS = ("run", "seed", "expected_state", "state", "error")
_UNFINISHED = "unfinished: "


def check_workers(workers) -> None:
    """``workers`` is None (the default) or a process count 1 .. 1024; else ParameterError."""
    if workers is not None and not (isinstance(workers, int) and not isinstance(workers, bool)
                                    and 1 <= workers <= 1024):
        raise ParameterError(f"workers must be an integer 1 .. 1024, got {workers!r}")


def default_workers() -> int:
    """Worker processes for the local pool: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------------------------
# Result files

def write_results(df, path: "str | Path") -> Path:
    """Write a results frame to ``.parquet`` or ``.csv`` (atomically: a temporary file, then rename)."""
    path = Path(path)
    fmt = _format_of(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        if fmt == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(path, exc) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_results(path: "str | Path"):
    """Read a results file written by :func:`run_montecarlo` (``.parquet`` or ``.csv``)."""
    import pandas as pd

    path = Path(path)
    fmt = _format_of(path)
    if not path.is_file():
        raise ParameterError(f"{path}: no such results file")
    try:
        df = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
    except Exception as exc:  # pyarrow/pandas parse errors of a damaged or foreign file
        raise CaptureFormatError(f"not a readable {fmt} results file: {str(exc)[:200]}", path=str(path)) from exc
    return _normalise(df)


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".csv":
        return "csv"
    raise ParameterError(f"{path}: results are written as .parquet or .csv, not {suffix or 'no suffix'!r}")


def _state_dtype():
    import pandas as pd

    return pd.CategoricalDtype(std.STATES)


def _strings(values):
    """A pandas ``str`` array; all-empty input (the usual ``error`` column) costs nothing."""
    import pandas as pd

    values = np.asarray(values, dtype=object)
    if not any(values):
        import pyarrow as pa

        return pd.array(pa.nulls(values.size, pa.large_string()), dtype="str")
    return pd.array([v or None for v in values], dtype="str")


def _normalise(df):
    """Column order and dtypes every results frame has, whatever wrote it."""
    for col in ("state", "expected_state"):
        if col in df and df[col].dtype != _state_dtype():
            df[col] = df[col].astype("str").astype(_state_dtype())
    if "error" in df and df["error"].dtype != "str":
        df["error"] = df["error"].astype("str")
    for col in ("run", "seed"):
        if col in df and df[col].dtype != np.int64:
            df[col] = df[col].astype("int64")
    for col, dtype in MEASUREMENT_DTYPES.items():
        if col in df and df[col].dtype != dtype:
            df[col] = df[col].astype(object).where(df[col].notna(), None).astype(dtype)
    lead = [c for c in _LEAD_COLUMNS if c in df]
    params = [c for c in PARAMETER_COLUMNS if c in df]
    rest = sorted(c for c in df if c not in lead and c not in params)
    if list(df.columns) != lead + params + rest:
        df = df[lead + params + rest]
    if "run" in df and not df["run"].is_monotonic_increasing:
        df = df.sort_values("run", kind="stable")
    return df.reset_index(drop=True)


class _Store:
    """Rows as they arrive: buffered, flushed to Parquet parts, gathered at the end."""

    def __init__(self, out, manifest: dict, *, resume: bool, stream: bool, flush_rows: int, flush_s: float):
        self.out = None if out is None else Path(out)
        self.manifest = manifest
        self.stream = stream and self.out is not None
        self.flush_rows, self.flush_s = flush_rows, flush_s
        self.frames: list = []          # every row of this call (and of the resumed ones)
        self.buffer: list = []
        self.buffered = 0
        self.last_flush = time.monotonic()
        self.resume = resume
        if self.out is not None:
            _format_of(self.out)
            if not self.out.parent.is_dir():
                raise ParameterError(f"{self.out.parent}: output directory does not exist")
            self.parts = self.out.with_name(self.out.name + ".parts")

    # -- resume -------------------------------------------------------------------------------
    def load_finished(self):
        """Rows already on disk (resume) as a frame, or None."""
        import pandas as pd

        if self.out is None:
            if self.resume:
                raise ParameterError("resume needs out= (the results file of the interrupted run)")
            return None
        if not self.resume:
            if self.parts.exists():
                _log.info("removing the parts of an earlier run in %s", self.parts)
                shutil.rmtree(self.parts)
            return None
        frames = []
        if self.parts.is_dir():
            stored = self._read_manifest()
            diff = sorted(k for k in set(stored) | set(self.manifest)
                          if k != "runs" and stored.get(k) != self.manifest.get(k))
            if diff:
                raise ParameterError(
                    f"{self.parts}: written by a study with other settings ({', '.join(diff)} differ); "
                    "resume with the same options, or drop --resume to start afresh")
            frames += [pd.read_parquet(p) for p in sorted(self.parts.glob("part-*.parquet"))]
        if self.out.is_file():
            frames.append(read_results(self.out))
        if not frames:
            return None
        df = pd.concat(frames, ignore_index=True).drop_duplicates("run", keep="last")
        err = df["error"].astype("str")
        df = df[~err.str.startswith(_UNFINISHED, na=False)]
        return _normalise(df)

    def _read_manifest(self) -> dict:
        try:
            return json.loads((self.parts / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ParameterError(f"{self.parts}: unreadable manifest ({exc}); drop --resume to start afresh") \
                from None

    # -- streaming ----------------------------------------------------------------------------
    def start(self) -> None:
        if self.stream:
            if not self.resume and self.out.exists():
                # a fresh study replaces an old file now, so a later resume cannot mix the two
                self.out.unlink()
            self.parts.mkdir(exist_ok=True)
            (self.parts / "manifest.json").write_text(json.dumps(self.manifest, indent=1), encoding="utf-8")

    def add(self, frame) -> None:
        self.frames.append(frame)
        if not self.stream:
            return
        self.buffer.append(frame)
        self.buffered += len(frame)
        if self.buffered >= self.flush_rows or time.monotonic() - self.last_flush >= self.flush_s:
            self.flush()

    def flush(self) -> None:
        if not (self.stream and self.buffer):
            return
        import pandas as pd

        part = pd.concat(self.buffer, ignore_index=True)
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:6]}.parquet"
        write_results(_normalise(part), self.parts / name)
        self.buffer, self.buffered, self.last_flush = [], 0, time.monotonic()

    def finish(self, previous):
        import pandas as pd

        frames = ([previous] if previous is not None else []) + self.frames
        df = _normalise(pd.concat(frames, ignore_index=True)) if frames else None
        if self.out is not None and df is not None:
            write_results(df, self.out)
            if self.parts.exists():
                shutil.rmtree(self.parts)
        return df


# --------------------------------------------------------------------------------------------
# Tasks (module level: they cross process boundaries)

def _fast_task(state, runs, tolerances, seed, nominal, profile_spec):
    params = sample(state, runs, tolerances, seed, nominal=nominal)
    return params, fast_block(state, params, profile_from_spec(profile_spec))


def _worker_init() -> None:
    import signal

    # Ctrl-C goes to the whole process group; the parent alone decides what to keep.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("PySpice").setLevel(logging.ERROR)


def _new_pool(workers: int, recycle_after: int):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: a fresh interpreter per worker (no inherited ngspice state, no fork of a threaded parent)
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init, max_tasks_per_child=recycle_after)


# --------------------------------------------------------------------------------------------

def run_montecarlo(state: str = "C", runs: int = 1000, tolerances: "Sequence[Tolerance] | None" = None, *,
                   seed: int | None = None, engine: Engine = "fast", profile="iec61851",
                   nominal: Mapping[str, float] | None = None, executor: Executor | None = None,
                   workers: int | None = None, out=None, resume: bool = False,
                   progress: "bool | Callable[[int, int], None]" = False, chunk_size: int | None = None,
                   spice: SpiceOptions | None = None, recycle_after: int = 50, retries: int = 2,
                   flush_rows: int = 2000, flush_s: float = 5.0, max_inflight: int | None = None):
    """Monte Carlo of a CP circuit in ``state`` over component tolerances.

    Parameters
    ----------
    state : str
        Simulated (= expected) state: ``A``-``D`` (PWM), ``A1``-``D1``, ``E``, ``F``.
    runs : int
        Number of variations (runs ``0 .. runs-1``).
    tolerances : sequence of Tolerance, optional
        Replace the matching entries of :data:`~cpsim.sim.variations.DEFAULT_TOLERANCES`
        (PILOT-REFERENCE §1); unnamed parameters keep the default.
    seed : int, optional
        Seed of the random streams; drawn from the OS and recorded when not given.
    engine : {"fast", "spice"}
        ``fast``: closed-form settled levels and states; ``spice``: ngspice + the analyzer.
    profile : str or LimitsProfile
        Limits the states are classified with (``iec61851``, ``j1772``, ``custom_profile(...)``).
    nominal : mapping, optional
        Nominal values replacing CpCircuit defaults, e.g. ``{"duty": 0.1}``.
    executor : concurrent.futures.Executor, optional
        Where chunks run. Default: a local process pool (spice) or this process (fast).
    workers : int, optional
        Size of the local pool (default: the CPUs available).
    out : path, optional
        Results file (``.parquet`` or ``.csv``); rows stream to ``<out>.parts/`` meanwhile.
    resume : bool
        Keep the rows already in ``out``/``<out>.parts`` and run only the missing ones.
    progress : bool or callable
        True: a tqdm bar on stderr; a callable gets ``(finished_runs, runs)``.
    chunk_size : int, optional
        Variations per task (spice default 32, one ngspice transient each; fast default 65536).
        Chunk boundaries are fixed run ranges, so a resumed study simulates the same batches.
    spice : SpiceOptions, optional
        Periods and sample interval of each transient.
    recycle_after : int
        Chunks a local worker runs before it is replaced (bounds memory).
    retries : int
        How often a chunk lost with a crashed worker is tried again.
    flush_rows, flush_s : int, float
        Write a part file after this many rows or seconds.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``run``, ``seed``, ``expected_state``, ``state``, ``error``, the
        sampled parameters (CpCircuit names, ``diode_dvf_v``), and the measurements
        (PilotMeasurement names; ``measured_duty``, ``measured_frequency_hz``). ``attrs`` holds
        the study settings.

    Examples
    --------
    >>> df = run_montecarlo("C", 10_000, seed=1)          # doctest: +SKIP
    >>> summarize(df, "j1772")["yield"]                    # doctest: +SKIP
    """
    from .cp import CpCircuit

    runner = {"fast": _run_fast, "spice": _run_spice}
    if engine not in runner:
        raise ParameterError(f"engine must be one of {', '.join(map(repr, runner))}, got {engine!r}")
    expected = expected_state(state)
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or not 1 <= runs <= 10**9:
        raise ParameterError(f"runs must be an integer 1 .. 1e9, got {runs!r}")
    runs = int(runs)
    seed = new_seed() if seed is None else _check_seed(seed)
    prof = std.get_profile(profile)
    tols = resolve_tolerances(tolerances, state=expected)
    nominal = {_canonical(k): float(v) for k, v in (nominal or {}).items()}
    CpCircuit(state=expected, **{k: v for k, v in nominal.items() if k in CIRCUIT_FIELDS})  # validates
    if executor is not None and not isinstance(executor, Executor):
        raise ParameterError(f"executor must be a concurrent.futures.Executor, got {type(executor).__name__}")
    check_workers(workers)
    chunk = (32 if engine == "spice" else BLOCK) if chunk_size is None else chunk_size
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or not 1 <= chunk <= 10**7:
        raise ParameterError(f"chunk_size must be 1 .. 1e7, got {chunk_size!r}")
    options = None
    if engine == "spice":
        options = spice or SpiceOptions()
        options = replace(options, sample_interval_s=options.step_for(min_edge_s(tols, nominal)))
    manifest = {
        "cpsim": __version__, "state": expected, "runs": runs, "seed": seed, "engine": engine,
        "tolerances": [t.to_dict() for t in tols], "nominal": nominal, "profile": _jsonable(profile_to_spec(prof)),
        "chunk_size": chunk, "spice": None if options is None else _jsonable(options.__dict__),
    }
    store = _Store(out, manifest, resume=resume, stream=(engine == "spice"), flush_rows=flush_rows,
                   flush_s=flush_s)
    previous = store.load_finished()
    done = np.zeros(runs, dtype=bool)
    if previous is not None:
        previous = previous[previous["run"] < runs]
        _check_previous(previous, state, tols, seed, nominal, expected)
        done[previous["run"].to_numpy()] = True
    todo = np.flatnonzero(~done)
    chunks = np.split(todo, np.flatnonzero(np.diff(todo // chunk)) + 1) if todo.size else []
    bar = _progress(progress, runs, int(done.sum()))
    store.start()
    ctx = dict(state=state, expected=expected, tols=tols, seed=seed, nominal=nominal, profile=prof, store=store,
               bar=bar, executor=executor, workers=workers or default_workers(), recycle_after=recycle_after,
               retries=retries, options=options, max_inflight=max_inflight)
    try:
        runner[engine](chunks, ctx)
    except BaseException:
        store.flush()
        raise
    finally:
        bar.close()
    df = store.finish(previous)
    if df is None:  # pragma: no cover - runs >= 1 always yields rows
        raise ParameterError("no runs")
    df.attrs.update({k: v for k, v in manifest.items() if k != "profile"})
    df.attrs["profile"] = prof.name
    return df


montecarlo = run_montecarlo
"""Short name of :func:`run_montecarlo` (``cpsim.montecarlo``)."""


def _jsonable(obj):
    return json.loads(json.dumps(obj))


def _check_previous(previous, state, tols, seed, nominal, expected) -> None:
    """The stored rows must be the variations this study draws: same seed, state and values."""
    if previous.empty:
        return
    seeds = set(previous["seed"].unique().tolist())
    states = set(previous["expected_state"].unique().tolist())
    if seeds != {seed} or states != {expected}:
        raise ParameterError(f"stored results are of seed {sorted(seeds)} / state {sorted(states)}, not seed "
                             f"{seed} / state {expected}; resume with the same options or drop --resume")
    fresh = sample(state, previous["run"].to_numpy(), tols, seed, nominal=nominal)
    for name in PARAMETERS:
        if name in previous and not np.allclose(previous[name].to_numpy(float), fresh[name], rtol=1e-12,
                                                atol=0.0, equal_nan=True):
            raise ParameterError(f"stored results differ in {name} from the variations these tolerances draw; "
                                 "resume with the same tolerances or drop --resume")


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


class _CallbackBar:
    def __init__(self, fn, total, initial):
        self.fn, self.total, self.n = fn, total, initial

    def update(self, n):
        self.n += n
        self.fn(self.n, self.total)

    def close(self):
        pass


def _progress(progress, total: int, initial: int):
    if progress is True:
        import sys

        from tqdm import tqdm

        return tqdm(total=total, initial=initial, unit="run", unit_scale=total >= 100_000, file=sys.stderr,
                    dynamic_ncols=True, desc="montecarlo")
    if callable(progress):
        return _CallbackBar(progress, total, initial)
    return _NoBar()


def _frame(ctx, runs: np.ndarray, params: Mapping[str, np.ndarray], results: Mapping[str, Sequence]):
    import pandas as pd

    n = runs.size
    cols = {"run": runs.astype(np.int64), "seed": np.full(n, ctx["seed"], dtype=np.int64),
            "expected_state": pd.Categorical.from_codes(np.full(n, std.STATES.index(ctx["expected"]), np.int8),
                                                        dtype=_state_dtype())}
    state = results.get("state")
    if state is None:
        cols["state"] = pd.Categorical.from_codes(np.full(n, -1, np.int8), dtype=_state_dtype())
    elif isinstance(state, np.ndarray) and state.dtype.kind == "i":
        cols["state"] = pd.Categorical.from_codes(state, dtype=_state_dtype())
    else:
        cols["state"] = pd.Categorical(state, dtype=_state_dtype())
    cols["error"] = _strings(results.get("error", [""] * n))
    for name in PARAMETER_COLUMNS:
        cols[name] = np.asarray(params[name], dtype=float)
    for name in sorted(set(results) - {"run", "state", "error"}):
        cols[name] = results[name]
    return pd.DataFrame(cols)


def _run_fast(chunks, ctx) -> None:
    state, tols, seed, nominal = ctx["state"], ctx["tols"], ctx["seed"], ctx["nominal"]
    if ctx["executor"] is None:
        for runs in chunks:
            params = sample(state, runs, tols, seed, nominal=nominal)
            ctx["store"].add(_frame(ctx, runs, params, fast_block(state, params, ctx["profile"])))
            ctx["bar"].update(runs.size)
        return
    spec = profile_to_spec(ctx["profile"])
    _drive(chunks, ctx, lambda ex, runs: ex.submit(_fast_task, state, runs, tols, seed, nominal, spec),
           lambda runs, result: _frame(ctx, runs, *result), own=False)


def _run_spice(chunks, ctx, params_for=None) -> None:
    """Simulate ``chunks`` of runs; ``params_for(runs)`` gives their parameters (default: drawn)."""
    if not chunks:
        return
    if params_for is None:
        all_runs = np.concatenate(chunks)
        params = sample(ctx["state"], all_runs, ctx["tols"], ctx["seed"], nominal=ctx["nominal"])
        where = np.full(int(all_runs.max()) + 1, -1, dtype=np.int64)
        where[all_runs] = np.arange(all_runs.size)

        def params_for(runs):
            return {k: v[where[runs]] for k, v in params.items()}

    spec = profile_to_spec(ctx["profile"])

    def submit(ex, runs):
        return ex.submit(spice_chunk, ctx["state"], runs, params_for(runs), ctx["options"], spec)

    _drive(chunks, ctx, submit, lambda runs, result: _frame(ctx, runs, params_for(runs), result),
           own=ctx["executor"] is None)


def _drive(chunks, ctx, submit, to_frame, *, own: bool) -> None:
    """Keep a bounded number of chunks in flight, record each as it completes."""
    store, bar = ctx["store"], ctx["bar"]
    executor = _new_pool(ctx["workers"], ctx["recycle_after"]) if own else ctx["executor"]
    limit = ctx["max_inflight"] or max(8, 3 * ctx["workers"])
    pending = collections.deque(range(len(chunks)))
    attempts = collections.Counter()
    inflight: dict = {}

    def record_unfinished(i, exc):
        runs = chunks[i]
        reason = f"{_UNFINISHED}{type(exc).__name__}: {exc}".splitlines()[0][:500]
        _log.warning("runs %d-%d not finished (%s); resume=True runs them again", runs[0], runs[-1], reason)
        store.add(to_frame(runs, {"error": [reason] * runs.size}))
        bar.update(runs.size)

    try:
        while pending or inflight:
            while pending and len(inflight) < limit:
                i = pending.popleft()
                inflight[submit(executor, chunks[i])] = i
            finished, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            broken = False
            for fut in finished:
                i = inflight.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool as exc:
                    broken = True
                    attempts[i] += 1
                    if own and attempts[i] <= ctx["retries"]:
                        pending.appendleft(i)
                    else:
                        record_unfinished(i, exc)
                except Exception as exc:  # a lost worker, a cancelled or failed task: never stop the batch
                    record_unfinished(i, exc)
                else:
                    store.add(to_frame(chunks[i], result))
                    bar.update(chunks[i].size)
            if broken and own:
                _log.warning("a worker process died; starting a fresh pool")
                for fut, i in inflight.items():
                    attempts[i] += 1
                    pending.appendleft(i)
                inflight.clear()
                executor.shutdown(wait=False, cancel_futures=True)
                executor = _new_pool(ctx["workers"], ctx["recycle_after"])
    except BaseException:
        for fut in inflight:
            fut.cancel()
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
            own = False
        raise
    finally:
        if own:
            executor.shutdown(wait=True)
