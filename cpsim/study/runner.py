"""Monte Carlo: draw the variations, run them in chunks on an engine, gather one row per run.

:func:`run_montecarlo` draws the variations (:mod:`cpsim.study.variations`), hands them in
chunks to an engine (:mod:`cpsim.study.engines`) and gathers one row per variation.

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

import json
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from .. import standard as std
from .._version import __version__
from ..errors import ParameterError
from .engines import (
    CIRCUIT_FIELDS,
    SpiceOptions,
    expected_state,
    fast_block,
    min_edge_s,
    profile_from_spec,
    profile_to_spec,
    spice_chunk,
)
from .pool import check_workers, default_workers, drive, progress_bar
from .results import PARAMETER_COLUMNS, state_dtype, strings
from .store import ResultStore
from .variations import BLOCK, PARAMETERS, Tolerance, _canonical, _check_seed, new_seed, resolve_tolerances, sample

__all__ = ["run_montecarlo", "montecarlo"]

Engine = Literal["fast", "spice"]


def _fast_task(state, runs, tolerances, seed, nominal, profile_spec):
    params = sample(state, runs, tolerances, seed, nominal=nominal)
    return params, fast_block(state, params, profile_from_spec(profile_spec))


def run_montecarlo(state: str = "C", runs: int = 1000, tolerances: Sequence[Tolerance] | None = None, *,
                   seed: int | None = None, engine: Engine = "fast", profile: str | std.LimitsProfile = "iec61851",
                   nominal: Mapping[str, float] | None = None, executor: Executor | None = None,
                   workers: int | None = None, out: str | os.PathLike[str] | None = None, resume: bool = False,
                   progress: bool | Callable[[int, int], None] = False, chunk_size: int | None = None,
                   spice: SpiceOptions | None = None, recycle_after: int = 50, retries: int = 2,
                   flush_rows: int = 2000, flush_s: float = 5.0, max_inflight: int | None = None) -> pd.DataFrame:
    """Monte Carlo of a CP circuit in ``state`` over component tolerances.

    Parameters
    ----------
    state : str
        Simulated (= expected) state: ``A``-``D`` (PWM), ``A1``-``D1``, ``E``, ``F``.
    runs : int
        Number of variations (runs ``0 .. runs-1``).
    tolerances : sequence of Tolerance, optional
        Replace the matching entries of :data:`~cpsim.study.variations.DEFAULT_TOLERANCES`
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
    >>> from cpsim.study.summary import summarize
    >>> df = run_montecarlo("C", 10_000, seed=1)          # the fast engine: well under a second
    >>> len(df), summarize(df, "j1772")["yield"]
    (10000, 1.0)
    """
    runner = {"fast": _run_fast, "spice": _run_spice}
    if engine not in runner:
        raise ParameterError(f"engine must be one of {', '.join(map(repr, runner))}, got {engine!r}")
    manifest, tols, prof, options = _settings(state, runs, tolerances, seed=seed, engine=engine, profile=profile,
                                              nominal=nominal, executor=executor, workers=workers,
                                              chunk_size=chunk_size, spice=spice)
    expected, runs, seed, nominal, chunk = (manifest[k] for k in ("state", "runs", "seed", "nominal", "chunk_size"))
    check_memory(runs, engine)
    store = ResultStore(out, manifest, resume=resume, stream=(engine == "spice"), flush_rows=flush_rows,
                        flush_s=flush_s)
    previous = store.load_finished()
    done = np.zeros(runs, dtype=bool)
    if previous is not None:
        previous = previous[previous["run"] < runs]
        _check_previous(previous, state, tols, seed, nominal, expected)
        done[previous["run"].to_numpy()] = True
    todo = np.flatnonzero(~done)
    chunks = np.split(todo, np.flatnonzero(np.diff(todo // chunk)) + 1) if todo.size else []
    bar = progress_bar(progress, runs, int(done.sum()))
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

def _settings(state, runs, tolerances, *, seed, engine, profile, nominal, executor, workers, chunk_size, spice):
    """Validate a study's arguments; return its manifest (what a resumed study must match) and the
    resolved tolerances, profile and spice options."""
    from ..sim.cp import CpCircuit

    expected = expected_state(state)
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or not 1 <= runs <= 10**9:
        raise ParameterError(f"runs must be an integer 1 .. 1e9, got {runs!r}")
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
        "cpsim": __version__, "state": expected, "runs": int(runs), "seed": seed, "engine": engine,
        "tolerances": [t.to_dict() for t in tols], "nominal": nominal, "profile": _jsonable(profile_to_spec(prof)),
        "chunk_size": int(chunk), "spice": None if options is None else _jsonable(options.__dict__),
    }
    return manifest, tols, prof, options



FRAME_BYTES_PER_RUN = {"fast": 400, "spice": 1200}
"""Peak bytes per run of a results frame held in memory (measured ≈ 340 for fast: the frame, its chunks
and the final concatenation)."""


def available_memory() -> int | None:
    """Bytes this machine can still give (``MemAvailable``), None where it cannot tell."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def check_memory(runs: int, engine: str) -> None:
    """Refuse, before any work, a study whose results frame would not fit in memory."""
    need = runs * FRAME_BYTES_PER_RUN.get(engine, 1200)
    free = available_memory()
    if free is not None and need > free:
        raise ParameterError(
            f"{runs:,} runs need about {need / 1e9:,.1f} GB of memory for their results frame, but "
            f"{free / 1e9:,.1f} GB is available; stream the study instead (cpsim.study.stream.stream_montecarlo, "
            "or `cpsim montecarlo --engine fast`, whose memory stays bounded), or run fewer")


def _jsonable(obj):
    return json.loads(json.dumps(obj))


def _check_previous(previous, state, tols, seed, nominal, expected) -> None:
    """The stored rows must be the variations this study draws: same seed, state and values."""
    if previous.empty:
        return
    check_stored(previous["run"].to_numpy(), set(previous["seed"].unique().tolist()),
                 set(previous["expected_state"].unique().tolist()),
                 {n: previous[n].to_numpy(float) for n in PARAMETERS if n in previous},
                 state, tols, seed, nominal, expected)


def check_stored(runs: np.ndarray, seeds: set, states: set, values: Mapping[str, np.ndarray], state, tols, seed,
                 nominal, expected) -> None:
    """Stored runs (their seeds, expected states and sampled ``values``) must be this study's draws."""
    if seeds != {seed} or states != {expected}:
        raise ParameterError(f"stored results are of seed {sorted(seeds)} / state {sorted(states)}, not seed "
                             f"{seed} / state {expected}; resume with the same options or drop --resume")
    fresh = sample(state, runs, tols, seed, nominal=nominal)
    for name in PARAMETERS:
        if name in values and not np.allclose(values[name], fresh[name], rtol=1e-12, atol=0.0, equal_nan=True):
            raise ParameterError(f"stored results differ in {name} from the variations these tolerances draw; "
                                 "resume with the same tolerances or drop --resume")


def _frame(ctx, runs: np.ndarray, params: Mapping[str, np.ndarray], results: Mapping[str, Any]):
    import pandas as pd

    n = runs.size
    cols = {"run": runs.astype(np.int64), "seed": np.full(n, ctx["seed"], dtype=np.int64),
            "expected_state": pd.Categorical.from_codes(np.full(n, std.STATES.index(ctx["expected"]), np.int8),
                                                        dtype=state_dtype())}
    state = results.get("state")
    if state is None:
        cols["state"] = pd.Categorical.from_codes(np.full(n, -1, np.int8), dtype=state_dtype())
    elif isinstance(state, np.ndarray) and state.dtype.kind == "i":
        cols["state"] = pd.Categorical.from_codes(state, dtype=state_dtype())
    else:
        cols["state"] = pd.Categorical(state, dtype=state_dtype())
    cols["error"] = strings(results.get("error", [""] * n))
    for name in PARAMETER_COLUMNS:
        cols[name] = np.asarray(params[name], dtype=float)
    for name in sorted(set(results) - {"run", "state", "error"}):
        cols[name] = results[name]
    for name in ("v_high", "v_low"):  # a chunk no run of which was measured still has the level columns
        cols.setdefault(name, np.full(n, np.nan))
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
    drive(chunks, ctx, lambda ex, runs: ex.submit(_fast_task, state, runs, tols, seed, nominal, spec),
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

    drive(chunks, ctx, submit, lambda runs, result: _frame(ctx, runs, params_for(runs), result),
           own=ctx["executor"] is None)
