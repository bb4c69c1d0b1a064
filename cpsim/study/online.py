"""A study's summary built as its rows stream past: mergeable accumulators, bounded memory.

:class:`OnlineSummary` takes a results stream a chunk at a time (:meth:`~OnlineSummary.add`, or
:meth:`~OnlineSummary.add_frame` for a pandas results frame) and gives the same dict as
:func:`cpsim.study.summary.summarize` of the whole frame (:meth:`~OnlineSummary.result`), holding
only counts, extremes and moments whatever the number of runs:

===================  ==============================================================================
failures             count, distinct messages with their count and first run
statistics           per state and column: count, min, max, and mean / σ through pairwise-merged
                     moments (Chan et al.), equal to numpy's to rounding (≈ 1e-15 relative)
yield, misreads      counts per profile; the misread runs kept are the 100 lowest, as the frame lists
thresholds           the smallest margin per edge and its run (ties: the lowest run, as ``nanargmin``)
worst_cases          the ``worst`` smallest (key, run) pairs, merged chunk by chunk
sensitivity          per state and level: mean vector and co-moment matrix of (parameters, level);
                     the standardised least-squares fit is solved from them (normal equations; the
                     parameters are drawn independently, so the system is well conditioned)
===================  ==============================================================================

Chunks may arrive in any order (every tie is broken by the run number), so a study run on a pool
or resumed from its stored parts gives the same summary as one run in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import standard as std
from ..errors import ParameterError
from .summary import MAX_MESSAGES, STAT_COLUMNS, _f, _name, _threshold, _window_of, shown_margin, yield_fields

__all__ = ["OnlineSummary"]

_REPORTED = ("iec61851", "j1772")
_MISREAD_RUNS = 100


class _Moments:
    """Count, mean and co-moment matrix of row vectors, merged pairwise (Chan, Golub, LeVeque 1979)."""

    def __init__(self, width: int):
        self.n = 0
        self.mean = np.zeros(width)
        self.comoment = np.zeros((width, width))
        self.lo = np.full(width, np.inf)
        self.hi = np.full(width, -np.inf)

    def add(self, x: np.ndarray) -> None:
        m = x.shape[0]
        if not m:
            return
        mean = x.mean(axis=0)
        d = x - mean
        comoment = d.T @ d
        delta = mean - self.mean
        n = self.n + m
        self.comoment += comoment + np.outer(delta, delta) * (self.n * m / n)
        self.mean += delta * (m / n)
        self.n = n
        self.lo = np.minimum(self.lo, x.min(axis=0))
        self.hi = np.maximum(self.hi, x.max(axis=0))

    def select(self, idx: list[int]) -> _Moments:
        """The moments of some of the columns."""
        out = _Moments(len(idx))
        out.n, out.mean, out.comoment = self.n, self.mean[idx], self.comoment[np.ix_(idx, idx)]
        out.lo, out.hi = self.lo[idx], self.hi[idx]
        return out

    def merge(self, other: _Moments) -> _Moments:
        """The moments of both row sets."""
        out = _Moments(self.mean.size)
        n = self.n + other.n
        delta = other.mean - self.mean
        out.n, out.mean = n, self.mean + delta * (other.n / n)
        out.comoment = self.comoment + other.comoment + np.outer(delta, delta) * (self.n * other.n / n)
        out.lo, out.hi = np.minimum(self.lo, other.lo), np.maximum(self.hi, other.hi)
        return out


def _scalar_stats(v: np.ndarray) -> tuple[int, float, float, float, float]:
    return v.size, float(v.min()), float(v.max()), float(v.mean()), float(((v - v.mean()) ** 2).sum())


class OnlineSummary:
    """:func:`~cpsim.study.summary.summarize` of a results stream, built a chunk at a time.

    Parameters
    ----------
    profile : str, LimitsProfile or None
        As :func:`~cpsim.study.summary.summarize`: ``None`` judges the recorded states.
    worst : int
        Worst cases to keep.
    engine : str, optional
        The study's engine (``summarize`` reads it from ``df.attrs``).
    study_profile : str, optional
        The profile the study ran with (``df.attrs["profile"]``): margins are measured against it
        when ``profile`` is None and it is a built-in one.

    Examples
    --------
    >>> from cpsim.study.runner import run_montecarlo
    >>> from cpsim.study.summary import summarize
    >>> df = run_montecarlo("C", 3000, seed=2)
    >>> acc = OnlineSummary("j1772", engine="fast")
    >>> for part in (df.iloc[:1000], df.iloc[1000:]):
    ...     acc.add_frame(part)
    >>> acc.result()["misclassified"] == summarize(df, "j1772")["misclassified"]
    True
    """

    def __init__(self, profile: str | std.LimitsProfile | None = None, *, worst: int = 10,
                 engine: str | None = None, study_profile: str | None = None):
        self.judged = std.get_profile(profile) if profile is not None else None
        self.margin_profile = self.judged or std.get_profile(
            study_profile if study_profile is not None and study_profile in std.PROFILES else "iec61851")
        self.profiles = {name: std.get_profile(name) for name in _REPORTED}
        self.worst = max(0, int(worst))
        self.engine = engine
        self.rows = 0
        self.seeds: dict[int, int] = {}
        self.expected_seen = np.zeros(len(std.STATES), dtype=bool)
        self.messages: dict[str, list[int]] = {}
        self.errors = self.unfinished = 0
        self.valid = 0
        self.wrong = dict.fromkeys((None, *_REPORTED), 0)
        self.as_counts = np.zeros(len(std.STATES) + 1, dtype=np.int64)
        self.wrong_runs = np.empty(0, dtype=np.int64)
        self.edges: dict[tuple[int, str, str], tuple[float, int] | None] = {}
        self.stats: dict[int, dict[str, tuple[int, float, float, float, float]]] = {}
        self.cases: dict[str, np.ndarray] | None = None
        self.param_lo: dict[str, float] = {}
        self.param_hi: dict[str, float] = {}
        self.first_ok: dict[int, int] = {}
        self.moments: dict[tuple[int, str | None], _Moments] = {}
        self.names: list[str] | None = None
        self.levels: list[str] = []
        self.columns: set[str] = set()

    # -- input --------------------------------------------------------------------------------
    def add_frame(self, df) -> None:
        """Add a results frame (or a piece of one): :func:`~cpsim.study.summary.summarize`'s input."""
        from .summary import _codes, check_frame

        df = check_frame(df)
        if self.engine is None:
            self.engine = df.attrs.get("engine")
        error = df["error"].astype(object).to_numpy()
        cols: dict[str, Any] = {c: df[c].to_numpy(float) for c in df.columns
                                if c not in ("run", "seed", "expected_state", "state", "error")
                                and df[c].dtype.kind in "fiu"}
        cols.update(run=df["run"].to_numpy(np.int64), expected_code=_codes(df["expected_state"]),
                    state_code=_codes(df["state"]), error=np.where(df["error"].isna().to_numpy(), None, error))
        if "seed" in df:
            cols["seed"] = df["seed"].to_numpy(np.int64)
        self.add(cols)

    def add(self, cols: Mapping[str, Any]) -> None:
        """Add one chunk: ``run``, ``seed``, ``expected_code`` and ``state_code`` (codes into
        :data:`cpsim.standard.STATES`, -1 none), ``error`` (object array, None or "" when fine) and
        the numeric columns by their results-frame names."""
        if "measured_rise_time_s" in cols:
            raise ParameterError("the online summary covers the fast engine's columns; summarise a spice study "
                                 "with cpsim.study.summary.summarize")
        runs = np.asarray(cols["run"], dtype=np.int64)
        n = runs.size
        if not n:
            return
        expected = np.asarray(cols["expected_code"], dtype=np.int16)
        error = np.asarray(cols["error"], dtype=object)
        bad = error.astype(bool)  # None and "" are fine
        ok = ~bad
        self.rows += n
        self.columns |= {c for c in cols if c not in ("run", "seed", "expected_code", "state_code", "error")}
        if "seed" in cols:
            seed = np.asarray(cols["seed"], dtype=np.int64)
            for s in np.unique(seed):
                first = int(runs[seed == s].min())
                self.seeds[int(s)] = min(first, self.seeds.get(int(s), first))
        self.expected_seen[np.unique(expected[expected >= 0])] = True
        self._failures(runs, error, bad)
        v_high, v_low = self._level(cols, "v_high", n), self._level(cols, "v_low", n)
        read_as = self._read_as(self.judged, expected, cols, v_high, v_low)
        wrong = ok & (read_as != expected)
        self.valid += int(ok.sum())
        self.wrong[None] += int(wrong.sum())
        self.as_counts += np.bincount(read_as[wrong] + 1, minlength=len(std.STATES) + 1)
        self.wrong_runs = np.sort(np.concatenate([self.wrong_runs, runs[wrong]]))[:_MISREAD_RUNS]
        for name, prof in self.profiles.items():
            self.wrong[name] += int((ok & (self._read_as(prof, expected, cols, v_high, v_low) != expected)).sum())
        margins = self._thresholds(runs, expected, ok, v_high, v_low)
        self._statistics(cols, expected, ok)
        self._params(cols)
        self._worst(cols, runs, expected, read_as, ok, wrong, margins, v_high, v_low)
        self._sensitivity(cols, runs, expected, ok)

    @staticmethod
    def _level(cols, name, n) -> np.ndarray:
        return np.asarray(cols[name], dtype=float) if name in cols else np.full(n, np.nan)

    @staticmethod
    def _read_as(profile, expected, cols, v_high, v_low) -> np.ndarray:
        from .engines import classify

        if profile is None:
            return np.asarray(cols["state_code"], dtype=np.int16)
        out = np.full(expected.size, -1, dtype=np.int16)
        for code in np.unique(expected[expected >= 0]):
            sel = expected == code
            out[sel] = classify(std.STATES[code], v_high[sel], v_low[sel], profile)
        return out

    def _failures(self, runs, error, bad) -> None:
        if not bad.any():
            return
        self.errors += int(bad.sum())
        for msg, run in zip(error[bad].tolist(), runs[bad].tolist()):
            entry = self.messages.get(msg)
            if entry is None:
                self.messages[msg] = [1, run]
            else:
                entry[0] += 1
                entry[1] = min(entry[1], run)
            if msg.startswith("unfinished:"):
                self.unfinished += 1

    def _thresholds(self, runs, expected, ok, v_high, v_low) -> np.ndarray:
        margins = np.full(runs.size, np.nan)
        prof = self.margin_profile
        for code in np.unique(expected[expected >= 0]):
            sel = ok & (expected == code)
            exp = std.STATES[code]
            _, window, column = _window_of(exp, prof)
            if window is None or not sel.any():
                continue
            levels = {"v_high": v_high, "v_low": v_low}
            v = levels[column][sel]
            margins[sel] = window.margin(v)
            pairs = [(column, window, v)]
            if exp[:1] in "ABCD" and not exp.endswith("1"):
                pairs.append(("v_low", prof.low_window, v_low[sel]))
            for col, w, x in pairs:
                for edge, m in (("lo", x - w.lo), ("hi", w.hi - x)):
                    self._edge((int(code), col, edge), m, runs[sel])
        return margins

    def _edge(self, key, m, runs) -> None:
        best = self.edges.get(key)
        finite = np.isfinite(m)
        if finite.any():
            mm, rr = m[finite], runs[finite]
            low = mm.min()
            cand = (float(low), int(rr[mm == low].min()))
            if best is None or cand < best:
                best = cand
        self.edges[key] = best

    def _statistics(self, cols, expected, ok) -> None:
        for code in np.unique(expected[ok & (expected >= 0)]):
            sel = ok & (expected == code)
            per = self.stats.setdefault(int(code), {})
            for col in STAT_COLUMNS:
                if col not in cols:
                    continue
                v = np.asarray(cols[col], dtype=float)[sel]
                v = v[np.isfinite(v)]
                if not v.size:
                    continue
                new = _scalar_stats(v)
                old = per.get(col)
                if old is None:
                    per[col] = new
                    continue
                na, _, _, ma, m2a = old
                nb, _, _, mb, m2b = new
                nn = na + nb
                delta = mb - ma
                per[col] = (nn, min(old[1], new[1]), max(old[2], new[2]), ma + delta * nb / nn,
                            m2a + m2b + delta * delta * na * nb / nn)

    def _params(self, cols) -> None:
        from .results import PARAMETER_COLUMNS

        for c in PARAMETER_COLUMNS:
            if c in cols:
                v = np.asarray(cols[c], dtype=float)
                lo, hi = np.fmin.reduce(v), np.fmax.reduce(v)
                self.param_lo[c] = float(np.fmin(self.param_lo.get(c, np.nan), lo))
                self.param_hi[c] = float(np.fmax(self.param_hi.get(c, np.nan), hi))

    def _worst(self, cols, runs, expected, read_as, ok, wrong, margins, v_high, v_low) -> None:
        from .results import PARAMETER_COLUMNS

        if not self.worst:
            return
        key = np.where(wrong, -np.inf, np.where(np.isnan(margins), np.inf, margins))
        idx = np.flatnonzero(ok)
        if not idx.size:
            return
        idx = idx[np.lexsort((runs[idx], key[idx]))[: self.worst]]
        new = {"key": key[idx], "run": runs[idx], "expected": expected[idx], "read_as": read_as[idx],
               "v_high": v_high[idx], "v_low": v_low[idx], "margin": margins[idx]}
        new.update({c: np.asarray(cols[c], dtype=float)[idx] for c in PARAMETER_COLUMNS if c in cols})
        if self.cases is not None:
            new = {k: np.concatenate([self.cases[k], v]) for k, v in new.items() if k in self.cases}
        order = np.lexsort((new["run"], new["key"]))[: self.worst]
        self.cases = {k: v[order] for k, v in new.items()}

    def _sensitivity(self, cols, runs, expected, ok) -> None:
        from .sensitivity import LEVELS, _user_parameters

        if self.names is None:
            self.names = _user_parameters(_Columns(cols))
        if not self.names or not ok.any():
            return
        p = len(self.names)
        n = runs.size
        levels = [lv for lv in LEVELS if lv in cols]
        full = np.empty((n, p + len(levels)))
        for j, c in enumerate([*self.names, *levels]):
            full[:, j] = cols[c]
        finite = np.isfinite(full)
        fx = finite[:, :p].all(axis=1)
        for code in np.unique(expected[ok & (expected >= 0)]):
            sel = ok & (expected == code) & fx
            first = int(runs[ok & (expected == code)].min())
            self.first_ok[int(code)] = min(first, self.first_ok.get(int(code), first))
            both = sel & finite[:, p:].all(axis=1)
            # the common case (every level finite) is one pass over the rows for all levels
            self.moments.setdefault((int(code), None), _Moments(p + len(levels))).add(full[both])
            for j, level in enumerate(levels):
                only = sel & finite[:, p + j] & ~both
                if only.any():
                    self.moments.setdefault((int(code), level), _Moments(p + 1)).add(full[only][:, [*range(p), p + j]])
        self.levels = levels

    def _level_moments(self, code: int, level: str) -> _Moments | None:
        p = len(self.names or [])
        both = self.moments.get((code, None))
        only = self.moments.get((code, level))
        out = None if both is None or not both.n else both.select([*range(p), p + self.levels.index(level)])
        if only is not None:
            out = only if out is None else out.merge(only)
        return out

    # -- output -------------------------------------------------------------------------------
    def result(self) -> dict:
        """The summary: the same keys and values as :func:`~cpsim.study.summary.summarize`."""
        from .sensitivity import METHOD

        valid, n_wrong = self.valid, self.wrong[None]
        as_counts = {str(_name(c - 1)): int(k) for c, k in enumerate(self.as_counts) if k}
        seeds = [s for s, _ in sorted(self.seeds.items(), key=lambda kv: kv[1])]
        ranking, fit = self._ranking()
        return {
            "runs": self.rows,
            "failures": self._failures_dict(),
            "seed": seeds[0] if len(seeds) == 1 else seeds,
            "engine": self.engine,
            "state": [std.STATES[c] for c in np.flatnonzero(self.expected_seen)],
            "errors": self.errors,
            "unfinished": self.unfinished,
            "statistics": self._statistics_dict(),
            **yield_fields(self.margin_profile.name, valid, n_wrong, self.rows, as_counts, self.wrong_runs),
            "thresholds": self._thresholds_list(),
            "worst_cases": self._cases_list(),
            "yield_by_profile": {name: {"yield": (valid - self.wrong[name]) / valid if valid else None,
                                        "misclassified": self.wrong[name]} for name in _REPORTED},
            "sensitivity": ranking,
            "sensitivity_fit": fit,
            "sensitivity_method": METHOD,
            "timing": [],
        }

    def _failures_dict(self) -> dict[str, Any]:
        items = sorted(self.messages.items(), key=lambda kv: kv[1][1])
        return {"count": self.errors, "fraction": self.errors / self.rows if self.rows else None,
                "distinct": len(items),
                "messages": [{"message": str(m), "count": c, "first_run": r} for m, (c, r) in items[:MAX_MESSAGES]]}

    def _statistics_dict(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for code in sorted(self.stats):
            per = {}
            for col in STAT_COLUMNS:
                if col in self.stats[code]:
                    n, lo, hi, mean, m2 = self.stats[code][col]
                    per[col] = {"min": _f(lo), "max": _f(hi), "mean": _f(mean),
                                "std": _f(np.sqrt(m2 / (n - 1))) if n > 1 else 0.0, "count": int(n)}
            out[std.STATES[code]] = per
        return out

    def _thresholds_list(self) -> list[dict[str, Any]]:
        out = []
        for (code, column, edge), best in self.edges.items():
            exp = std.STATES[code]
            _, window, level_col = _window_of(exp, self.margin_profile)
            w = window if column == level_col else self.margin_profile.low_window
            threshold = w.lo if edge == "lo" else w.hi
            m, k = (np.array([np.nan]), None) if best is None else (np.array([best[0]]), 0)
            entry = _threshold(exp, column, edge, threshold, m, k, [None if best is None else best[1]], w.source,
                               state_window=column == level_col)
            out.append((code, column != level_col, edge != "lo", entry))
        return [e for *_, e in sorted(out, key=lambda t: t[:3])]

    def _cases_list(self) -> list[dict]:
        from .variations import INTERNAL_PARAMETERS

        if self.cases is None:
            return []
        k = min(self.worst, self.valid)
        varying = [c for c in self.param_lo if c not in INTERNAL_PARAMETERS
                   and not self.param_lo[c] == self.param_hi[c]]
        c = self.cases
        cases = []
        for i in range(min(k, c["run"].size)):
            shown, _ = shown_margin(_f(c["margin"][i]), state_window=True)
            case = {"run": int(c["run"][i]), "expected_state": std.STATES[int(c["expected"][i])],
                    "read_as": _name(c["read_as"][i]), "v_high": _f(c["v_high"][i]), "v_low": _f(c["v_low"][i]),
                    "margin_v": _f(c["margin"][i]), "margin_shown_v": shown}
            case.update({p: _f(c[p][i]) for p in varying})
            cases.append(case)
        return cases

    def _ranking(self) -> tuple[dict, dict]:
        from .sensitivity import _MIN_RUNS, MIN_SHARE

        ranking: dict[str, dict[str, list]] = {}
        fit: dict[str, dict[str, float]] = {}
        names = self.names or []
        for code in sorted(self.first_ok, key=self.first_ok.__getitem__):
            for level in ("v_high", "v_low"):
                mom = self._level_moments(code, level)
                if mom is None or mom.n < max(_MIN_RUNS, len(names) + 2) or not mom.hi[-1] - mom.lo[-1] > 0:
                    continue
                keep = (mom.hi[:-1] - mom.lo[:-1]) > 0
                if not keep.any():
                    continue
                var = np.diag(mom.comoment) / mom.n
                sx, sy = np.sqrt(var[:-1][keep]), np.sqrt(var[-1])
                gram = mom.comoment[:-1, :-1][np.ix_(keep, keep)] / np.outer(sx, sx)
                rhs = mom.comoment[:-1, -1][keep] / (sx * sy)
                beta = np.linalg.lstsq(gram, rhs, rcond=None)[0]
                total_ss = mom.comoment[-1, -1] / sy ** 2
                resid = total_ss - 2 * beta @ rhs + beta @ gram @ beta
                power = beta ** 2
                total = float(power.sum())
                kept = [nm for nm, kk in zip(names, keep) if kk]
                shares = power / total if total > 0 else np.zeros_like(power)
                order = [i for i in np.argsort(-shares, kind="stable") if shares[i] >= MIN_SHARE]
                state = std.STATES[code]
                ranking.setdefault(state, {})[level] = [
                    {"parameter": kept[i], "share": float(shares[i]), "direction": int(np.sign(beta[i]))}
                    for i in order]
                fit.setdefault(state, {})[level] = float(1.0 - resid / total_ss)
        return ranking, fit


class _Columns:
    """Just enough of a frame for :func:`cpsim.study.sensitivity._user_parameters` (``.columns``)."""

    def __init__(self, cols: Mapping[str, Any]):
        self.columns = list(cols)
