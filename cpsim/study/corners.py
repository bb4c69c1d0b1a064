"""Worst-case corners: the extreme levels a set of tolerances can produce.

Every varying tolerance is put at one end of its ±tol range (for ``normal``: ±3σ).

* ``exhaustive``: all 2^N corners of the N parameters that act in the state.
* ``vertex``: for many parameters. The settled CP level is monotonic in every component
  (a higher source, load resistance or diode drop raises it; a higher R1 or temperature lowers
  it), so the extreme corner follows from the sign of each parameter's effect. The search
  measures each parameter alone at both ends (1 + 2N evaluations), builds the corner from the
  signs, then walks the hypercube: it tries flipping every parameter of the current corner and
  moves to the best improving neighbour until none improves (N evaluations per step). For a
  monotonic objective the first corner is already optimal and one step confirms it; the walk
  guards against a parameter whose effect changes sign inside its range.

``engine="fast"`` evaluates the closed form (settled levels only); ``engine="spice"`` simulates
the corners with ngspice and measures them with the analyzer, so edge times and duty can be
objectives too (``objectives=("measured_rise_time_s",)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from .. import standard as std
from ..errors import ParameterError
from .engines import MEASUREMENT_DTYPES, SpiceOptions, expected_state, fast_block, min_edge_s
from .pool import check_workers, default_workers, new_pool
from .variations import (
    PARAMETERS,
    Tolerance,
    _nominals,
    diode_area_for_shift,
    operating_current_a,
    relevant_parameters,
    resolve_tolerances,
)

__all__ = ["run_corners"]

Method = Literal["auto", "exhaustive", "vertex"]
_MAX_EXHAUSTIVE = {"fast": 16, "spice": 8}


class _Evaluator:
    """Evaluate parameter points with one engine; counts the evaluations."""

    def __init__(self, state, engine, profile, options, executor, workers):
        self.state, self.engine, self.profile = state, engine, profile
        self.options, self.executor, self.workers = options, executor, workers
        self.count = 0
        self.failed: list = []  # every evaluation that could not be simulated (a frame row each)

    def __call__(self, points: dict[str, np.ndarray]):
        """``points``: parameter -> values (same length); returns a results frame in that order."""
        import pandas as pd

        from .runner import _frame, _run_spice

        n = len(points["v_high_v"])
        params = dict(points)
        params["diode_area"] = diode_area_for_shift(params["diode_dvf_v"], operating_current_a(self.state))
        runs = np.arange(self.count, self.count + n)
        ctx = {"seed": -1, "expected": expected_state(self.state)}
        if self.engine == "fast":
            frame = _frame(ctx, runs, params, fast_block(self.state, params, self.profile))
        else:
            sink = _Sink()
            ctx.update(state=self.state, profile=self.profile, store=sink, bar=sink, executor=self.executor,
                       workers=self.workers, recycle_after=50, retries=2, options=self.options, max_inflight=None)
            chunks = np.array_split(runs, -(-n // 32))
            _run_spice(chunks, ctx, lambda r: {k: v[r - runs[0]] for k, v in params.items()})
            frame = pd.concat(sink.frames, ignore_index=True).sort_values("run").reset_index(drop=True)
        self.count += n
        bad = frame["error"].notna().to_numpy()
        if bad.any():
            self.failed.append(frame[bad])
        return frame


class _Sink:
    """Collects result frames (the store) and ignores progress (the bar)."""

    def __init__(self):
        self.frames = []

    def add(self, frame):
        self.frames.append(frame)

    def update(self, n):
        pass


def _check_objectives(objectives, engine: str) -> None:
    known = {"v_high", "v_low"} | (set(MEASUREMENT_DTYPES) if engine == "spice" else set())
    numeric = {o for o in known if MEASUREMENT_DTYPES.get(o, "float64") == "float64"}
    for o in objectives or ():
        if o not in numeric:
            raise ParameterError(f"objective {o!r} is not a result column of the {engine} engine; "
                                 f"e.g. v_high, v_low, measured_rise_time_s (spice)")


def _objective_values(frame, objective: str) -> np.ndarray:
    """The objective of every row; NaN where a run failed (a frame none of whose runs was measured has
    no measurement columns)."""
    if objective not in frame:
        return np.full(len(frame), np.nan)
    return frame[objective].to_numpy(float)


def run_corners(state: str = "C", tolerances: Sequence[Tolerance] | None = None, *,
                engine: Literal["fast", "spice"] = "fast", profile: str | std.LimitsProfile = "iec61851",
                nominal: Mapping[str, float] | None = None, method: Method = "auto",
                objectives: Sequence[str] | None = None, spice: SpiceOptions | None = None,
                executor: Executor | None = None, workers: int | None = None) -> pd.DataFrame:
    """Worst-case corners of ``tolerances`` in ``state``.

    Parameters
    ----------
    state, tolerances, profile, nominal, spice, executor, workers
        As for :func:`~cpsim.study.runner.run_montecarlo`.
    engine : {"fast", "spice"}
    method : {"auto", "exhaustive", "vertex"}
        ``auto``: exhaustive up to 16 varying parameters (fast) or 8 (spice), else vertex.
    objectives : sequence of str, optional
        Result columns to minimise and maximise; default the settled levels that exist in
        the state (``v_high``, ``v_low``).

    Returns
    -------
    pandas.DataFrame
        One row per (objective, extreme) plus a ``nominal`` row: ``objective``, ``extreme``
        (``min``/``max``/``nominal``), ``value``, then the columns of a Monte Carlo results
        frame (parameters at the corner, measurements, ``state``). ``attrs``: method,
        evaluations, the varying parameters.

    Examples
    --------
    >>> c = run_corners("B")
    >>> round(float(c.set_index(["objective", "extreme"]).loc[("v_high", "min"), "value"]), 2)
    8.36
    """
    import pandas as pd

    check_workers(workers)
    if engine not in _MAX_EXHAUSTIVE:
        raise ParameterError(f"engine must be one of {', '.join(map(repr, _MAX_EXHAUSTIVE))}, got {engine!r}")
    methods = ("auto", "exhaustive", "vertex")
    if method not in methods:
        raise ParameterError(f"method must be one of {', '.join(map(repr, methods))}, got {method!r}")
    expected = expected_state(state)
    prof = std.get_profile(profile)
    _check_objectives(objectives, engine)
    tols = resolve_tolerances(tolerances, state=expected)
    nom = _nominals(nominal)
    relevant = set(relevant_parameters(expected, plateau_only=(engine == "fast")))
    varying = [t for t in tols if t.dist != "fixed" and t.name in relevant]
    n = len(varying)
    if method == "auto":
        method = "exhaustive" if n <= _MAX_EXHAUSTIVE[engine] else "vertex"
    if method == "exhaustive" and n > 20:
        raise ParameterError(f"{n} varying parameters make 2^{n} corners; use method='vertex'")
    options = None
    if engine == "spice":
        options = spice or SpiceOptions()
        options = replace(options, sample_interval_s=options.step_for(min_edge_s(tols, nominal)))
    # the spice engine's own pool serves the whole search: a walk evaluates in several rounds
    own = new_pool(workers or default_workers(), 50) if engine == "spice" and executor is None else None
    try:
        evaluate = _Evaluator(state, engine, prof, options, own or executor, workers or default_workers())
        rows, nominal_frame, method = _search(evaluate, varying, tols, nom, method, objectives)
    finally:
        if own is not None:
            own.shutdown(wait=True, cancel_futures=True)
    nominal_rows = [("nominal", "nominal", np.nan, nominal_frame.iloc[[0]])]
    out = []
    for o, extreme, value, row in nominal_rows + rows:
        r = row.copy()
        r.insert(0, "value", value)
        r.insert(0, "extreme", extreme)
        r.insert(0, "objective", o)
        out.append(r)
    failed = _failed_rows(evaluate.failed, [t.name for t in varying], nominal_frame)
    if failed is not None:
        failed.insert(0, "value", np.nan)
        failed.insert(0, "extreme", "failed")
        failed.insert(0, "objective", "failed")
        out.append(failed)
    df = pd.concat(out, ignore_index=True).drop(columns=["seed"])
    df.attrs.update({"method": method, "evaluations": evaluate.count, "engine": engine, "state": expected,
                     "profile": prof.name, "varying": [t.name for t in varying],
                     "failed": int(df["error"].notna().sum())})
    return df


def _failed_rows(frames, names, nominal_frame):
    """Every distinct corner that could not be simulated (the nominal point has its own row)."""
    import pandas as pd

    if not frames:
        return None
    df = pd.concat(frames, ignore_index=True)
    df = df.drop_duplicates(subset=names or None, keep="first") if names else df.iloc[:0]
    if names:
        nominal = nominal_frame.iloc[0]
        is_nominal = np.all([np.isclose(df[n].to_numpy(float), float(nominal[n]), rtol=0, atol=0) for n in names],
                            axis=0)
        df = df[~is_nominal]
    return df.reset_index(drop=True) if len(df) else None


def _search(evaluate, varying, tols, nom, method, objectives):
    n = len(varying)
    centre = {t.name: t.centre(nom[t.name]) for t in tols}
    ends = np.array([t.bounds(nom[t.name]) for t in varying]).reshape(-1, 2)

    def points(signs: np.ndarray) -> dict[str, np.ndarray]:
        """signs: (m, n) in {-1, 0, +1} -> parameter arrays (0 = the centre)."""
        signs = np.atleast_2d(signs)
        out = {name: np.full(signs.shape[0], centre[name]) for name in PARAMETERS}
        for j, t in enumerate(varying):
            out[t.name] = np.where(signs[:, j] > 0, ends[j, 1], np.where(signs[:, j] < 0, ends[j, 0], centre[t.name]))
        return out

    nominal_frame = evaluate(points(np.zeros((1, n))))
    if objectives is None:
        objectives = [o for o in ("v_high", "v_low") if np.isfinite(_objective_values(nominal_frame, o)).all()]
    objectives = list(objectives)
    for o in objectives:
        _objective_values(nominal_frame, o)
    rows = []
    if method == "exhaustive":
        signs = 1 - 2 * ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1) if n else np.zeros((1, 0))
        frame = evaluate(points(signs))
        for o in objectives:
            v = _objective_values(frame, o)
            for extreme, k in (("min", _nanarg(v, np.nanargmin)), ("max", _nanarg(v, np.nanargmax))):
                if k is not None:
                    rows.append((o, extreme, float(v[k]), frame.iloc[[k]]))
    else:
        probe = np.zeros((2 * n, n))
        probe[np.arange(n), np.arange(n)] = -1
        probe[n + np.arange(n), np.arange(n)] = 1
        frame = evaluate(points(probe)) if n else nominal_frame
        for o in objectives:
            v = _objective_values(frame, o)
            d_lo, d_hi = v[:n], v[n:]
            for extreme, better in (("min", np.less), ("max", np.greater)):
                start = np.where(better(d_hi, d_lo), 1, -1).astype(float)
                signs, value, row = _walk(start, o, better, points, evaluate)
                rows.append((o, extreme, value, row))
    return rows, nominal_frame, method


def _nanarg(v, fn):
    return int(fn(v)) if np.isfinite(v).any() else None


def _walk(signs, objective, better, points, evaluate, max_steps: int | None = None):
    """Greedy single-flip ascent over hypercube vertices from ``signs``."""
    n = signs.size
    frame = evaluate(points(signs[None, :]))
    value = float(_objective_values(frame, objective)[0])
    row = frame.iloc[[0]]
    for _ in range(max_steps or n):
        if n == 0:
            break
        flips = np.repeat(signs[None, :], n, axis=0)
        flips[np.arange(n), np.arange(n)] *= -1
        f = evaluate(points(flips))
        v = _objective_values(f, objective)
        k = _nanarg(np.where(better(v, value), v, np.nan), np.nanargmax if better is np.greater else np.nanargmin)
        if k is None or not better(v[k], value + (1e-12 if better is np.greater else -1e-12)):
            break
        signs, value, row = flips[k], float(v[k]), f.iloc[[k]]
    return signs, value, row
