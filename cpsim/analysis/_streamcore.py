"""The passes of :mod:`cpsim.analysis.stream` over a spooled capture (see there for the design).

Each pass reads the spool a range at a time and calls the in-memory building blocks
(:mod:`~cpsim.analysis.edges`, :mod:`~cpsim.analysis.levels`, :mod:`~cpsim.analysis.pwm`) on it, so
every number is the one :func:`~cpsim.analysis.measure` gives for the whole capture.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import standard as std
from ..errors import OutputError, ParameterError
from . import edges as _edges
from . import measurement as _m
from . import pwm as _pwm
from .edges import MAX_CROSSING_FRACTION, EdgeTiming, Transitions, find_transitions
from .levels import interior_stats, levels_of_sample, subsample_index
from .result import PilotMeasurement
from .states import Reason

__all__: list[str] = []


class _Spool:
    """A capture's times and values as raw float64 files, written once and read back by range."""

    def __init__(self, directory: str) -> None:
        self.paths = {k: os.path.join(directory, f"{k}.f64") for k in ("t", "v")}
        self._files = {k: open(p, "wb") for k, p in self.paths.items()}
        self.n = 0
        self.v_min, self.v_max = np.inf, -np.inf
        self.t_first = self.t_last = float("nan")
        self._scratch: dict[str, np.ndarray] = {}
        self._readers: dict[str, Any] = {}

    def append(self, t: np.ndarray, v: np.ndarray) -> None:
        if self.n == 0:
            self.t_first = float(t[0])
        self.t_last = float(t[-1])
        self.v_min, self.v_max = min(self.v_min, float(v.min())), max(self.v_max, float(v.max()))
        for name, x in (("t", t), ("v", v)):
            try:
                np.ascontiguousarray(x, dtype=np.float64).tofile(self._files[name])
            except OSError as exc:  # a full disk: numpy says "N requested and M written"
                raise OutputError(f"{self.paths[name]} (the spool of a streamed capture: 16 bytes per sample, in "
                                  "TMPDIR; free space there or point TMPDIR elsewhere)", exc) from exc
        self.n += int(v.size)

    def done(self) -> None:
        for f in self._files.values():
            f.close()

    def read(self, which: str, lo: int, hi: int) -> np.ndarray:
        """Samples ``[lo, hi)`` of ``"t"`` or ``"v"`` (a new array)."""
        lo, hi = max(0, int(lo)), min(self.n, int(hi))
        return np.fromfile(self.paths[which], dtype=np.float64, count=max(0, hi - lo), offset=8 * lo)

    def scratch(self, which: str, lo: int, hi: int) -> np.ndarray:
        """:meth:`read` into a buffer kept for ``which``: valid until the next call for the same ``which``
        (the passes read a piece, use it, read the next; no fresh pages to fault in each time)."""
        lo, hi = max(0, int(lo)), min(self.n, int(hi))
        count = max(0, hi - lo)
        buf = self._scratch.get(which)
        if buf is None or buf.size < count:
            buf = self._scratch[which] = np.empty(max(count, 1))
        f = self._readers.get(which)
        if f is None:
            f = self._readers[which] = open(self.paths[which], "rb", buffering=0)
        f.seek(8 * lo)
        view = memoryview(buf.view(np.uint8))[:8 * count]  # type: ignore[arg-type]
        got = 0
        while got < view.nbytes:
            step = f.readinto(view[got:])
            if not step:
                raise OSError(f"{self.paths[which]}: the spool ended early")
            got += step
        return buf[:count]

    def close_readers(self) -> None:
        for f in self._readers.values():
            f.close()
        self._readers.clear()
        self._scratch.clear()

    def gather(self, which: str, index: np.ndarray, block: int) -> np.ndarray:
        """``x[index]`` of a sorted ``index``, reading only the blocks it falls in."""
        out = np.empty(index.size)
        for lo, hi in _blocks(self.n, block):
            a, b = np.searchsorted(index, [lo, hi])
            if b > a:
                first, last = int(index[a]), int(index[b - 1])
                out[a:b] = self.scratch(which, first, last + 1)[index[a:b] - first]
        return out


def _blocks(n: int, block: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, n, block):
        yield lo, min(n, lo + block)


class _KnownTimes:
    """The time axis at the samples the streamed route read (sorted ``index``): indexable like the full
    array there, and only there (the in-memory code reads ``t`` at the ends and at the subsample)."""

    def __init__(self, index: np.ndarray, values: np.ndarray, n: int) -> None:
        self.index, self.values, self.size = index, values, int(n)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key: Any) -> Any:
        idx = np.asarray(key, dtype=np.int64)
        idx = np.where(idx < 0, idx + self.size, idx)
        pos = np.minimum(np.searchsorted(self.index, idx), self.index.size - 1)
        if not np.array_equal(self.index[pos], idx):
            raise AssertionError("the streamed route read a sample time it did not keep")  # a defect, not input
        out = self.values[pos]
        return out[()] if out.ndim == 0 else out


def _measure_spool(spool: _Spool, block: int, *, channel: str, metadata: Any, profile="iec61851",
                   summary="longest", threshold="widest_gap", dc_min_s=_m.DC_MIN_S,
                   min_segment_s=_m.MIN_SEGMENT_S, duty_change_tol=_m.DUTY_CHANGE_TOL, max_noise_v=_m.MAX_NOISE_V,
                   max_tilt_v=_m.MAX_TILT_V, max_edge_fraction=_m.MAX_EDGE_FRACTION,
                   plateau_fractions=_pwm.PLATEAU_FRACTIONS, max_level_points=_m.MAX_LEVEL_POINTS) -> PilotMeasurement:
    prof, pick, opts, (a, b), max_points = _m._options(profile, summary, dc_min_s, min_segment_s, duty_change_tol,
                                                       max_noise_v, max_tilt_v, max_edge_fraction, plateau_fractions,
                                                       max_level_points)
    n = spool.n
    if n < 2:
        raise ParameterError(f"a waveform needs at least 2 samples, got {n}")
    dt = float(spool.t_last - spool.t_first) / (n - 1)
    nominal = 1.0 / std.FREQUENCY_HZ
    if not nominal / dt < 1e12:
        raise ParameterError(f"sample interval {dt:.3g} s is not a physical capture (more than 1e12 samples "
                             "per pilot period)")
    if not np.isfinite(spool.v_max - spool.v_min):
        raise ParameterError("values span more than the float range: not a voltage capture")
    sample_index = subsample_index(n, max_points)
    known = np.arange(n, dtype=np.int64) if sample_index is None else _sorted_unique(
        np.concatenate(([0], sample_index, [n - 1])))
    sample_v = spool.gather("v", known if sample_index is None else sample_index, block)
    base = dict(profile=prof.name, channel=str(channel), t_start=spool.t_first, t_end=spool.t_last,
                sample_rate_hz=1.0 / dt, n_samples=int(n))
    levels = levels_of_sample(sample_index, sample_v, threshold=threshold)
    transitions = Transitions.empty()
    t_entry = t_exit = np.zeros(0)
    if levels.two_level:
        transitions, t_known, t_entry, t_exit = _transitions(spool, levels.threshold_v, levels.hysteresis_v, block,
                                                             known)
    if transitions.too_many or not levels.two_level:  # the pass stopped early, or there was none
        t_known = spool.gather("t", known, block)
    t = _KnownTimes(known, t_known, n)
    notes = _m._time_axis_notes(t, levels.sample_index, dt)
    if transitions.too_many:
        return _m._unusable(Reason.TOO_MANY_CROSSINGS, prof, opts, notes, base, t)
    plateaus = _plateaus(spool, transitions, t_entry, t_exit, dt, block, dc_min_s=opts["dc_min_s"],
                         fractions=(a, b))
    timing, t_mid, sharp, band_s, peak = _edge_measurements(spool, transitions, plateaus, dt, block,
                                                            max_edge_fraction=opts["max_edge_fraction"])
    return _m._finish(t, dt, a, transitions, plateaus, timing, t_mid, sharp, band_s, peak, levels, prof, opts, pick,
                      notes, base, metadata)


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """The distinct values of an ascending ``x``."""
    return x[np.concatenate(([True], x[1:] != x[:-1]))] if x.size else x


def _last_in_band(v: np.ndarray, lo_v: float, hi_v: float) -> int:
    """Index of the last sample of ``v`` outside the threshold band (inside a level's band), or -1."""
    end, width = v.size, 4096
    while end > 0:
        start = max(0, end - width)
        w = v[start:end]
        hit = np.flatnonzero((w > hi_v) | (w < lo_v))
        if hit.size:
            return start + int(hit[-1])
        end, width = start, width * 4
    return -1


def _flags(a: float, b: float, lo_v: float, hi_v: float) -> int:
    """Band crossings between two consecutive samples ``a``, ``b`` (0, 1 or 2)."""
    return int((a > hi_v) != (b > hi_v)) + int((a < lo_v) != (b < lo_v))


def _transitions(spool: _Spool, threshold_v: float, hysteresis_v: float, block: int, known: np.ndarray):
    """:func:`~cpsim.analysis.edges.find_transitions` of the spooled capture, a piece at a time, and the
    times at ``known`` (sorted) and at every edge's band exit and entry, read on the way.

    Each piece is prefixed with the last sample inside a band before it (the trigger's state; the edge
    leaving that band has it as its exit sample), so the edges are those of the whole capture. The band
    crossings are counted across piece boundaries, so the too-many limit is the whole capture's.

    Returns ``(transitions, t_known, t_entry, t_exit)``.
    """
    lo_v, hi_v = threshold_v - hysteresis_v, threshold_v + hysteresis_v
    n = spool.n
    limit = max(1000, int(MAX_CROSSING_FRACTION * n))
    total = 0
    held: tuple[int, float, float] | None = None  # (index, value, time) of the last sample inside a band
    previous: float | None = None
    parts: list[tuple[np.ndarray, ...]] = []
    t_known = np.empty(known.size)
    for lo, hi in _blocks(n, block):
        v, t = spool.scratch("v", lo, hi), spool.scratch("t", lo, hi)
        ka, kb = np.searchsorted(known, [lo, hi])
        t_known[ka:kb] = t[known[ka:kb] - lo]
        buf = v if held is None else np.concatenate(([held[1]], v))
        tr = find_transitions(buf, threshold_v=threshold_v, hysteresis_v=hysteresis_v, max_crossing_fraction=1.0)
        # crossings of the capture: from the sample before the piece, not from the held one
        total += tr.n_crossings + (0 if previous is None else _flags(previous, float(v[0]), lo_v, hi_v))
        if held is not None:
            total -= _flags(held[1], float(v[0]), lo_v, hi_v)
        if total > 2 * limit:  # one of the two flags' counts is over the limit
            return Transitions.empty(total, True), t_known, None, None
        shift = lo if held is None else lo - 1  # with a held sample, local k >= 1 is sample lo + k - 1
        entry = tr.entry_index + shift
        exit_ = tr.exit_index + shift
        t_entry = t[entry - lo]
        t_exit = t[np.maximum(exit_ - lo, 0)]
        if held is not None and tr.exit_index.size:
            at_held = tr.exit_index == 0
            exit_[at_held] = held[0]
            t_exit[at_held] = held[2]
        parts.append((tr.rising, entry, exit_, t_entry, t_exit))
        previous = float(v[-1])
        last = _last_in_band(v, lo_v, hi_v)
        if last >= 0:
            held = (lo + last, float(v[last]), float(t[last]))
    if total > limit and _too_many(spool, lo_v, hi_v, limit, block):
        return Transitions.empty(total, True), t_known, None, None
    rising, entry, exit_, t_entry, t_exit = (np.concatenate([p[k] for p in parts]) for k in range(5))
    return (Transitions(rising.astype(bool), exit_.astype(np.int64), entry.astype(np.int64), total, False), t_known,
            t_entry, t_exit)


def _too_many(spool: _Spool, lo_v: float, hi_v: float, limit: int, block: int) -> bool:
    """The in-memory rule exactly: either band's own crossings over ``limit`` (a second pass, run only when
    the two together are over it)."""
    n_hi = n_lo = 0
    previous = np.zeros(0)
    for lo, hi in _blocks(spool.n, block):
        v = spool.read("v", lo, hi)
        joined = np.concatenate((previous, v))
        up, down = joined > hi_v, joined < lo_v
        n_hi += int(np.count_nonzero(up[1:] != up[:-1]))
        n_lo += int(np.count_nonzero(down[1:] != down[:-1]))
        previous = v[-1:]
    return n_hi > limit or n_lo > limit


def _groups(lo_need: np.ndarray, hi_need: np.ndarray, block: int) -> Iterator[tuple[int, int, int, int]]:
    """Runs ``[i, j)`` of items (``lo_need`` ascending) whose sample ranges ``[lo_need, hi_need)`` fit in
    about ``block`` samples (one item at least), with the range ``[lo, hi)`` the run needs."""
    i, k = 0, lo_need.size
    while i < k:
        j = max(i + 1, int(np.searchsorted(lo_need, lo_need[i] + block, side="left")))
        yield i, j, int(lo_need[i]), int(np.max(hi_need[i:j]))
        i = j


def _interior_stats(spool: _Spool, starts: np.ndarray, ends: np.ndarray, block: int):
    """:func:`~cpsim.analysis.levels.interior_stats` (``min_count=1``) of the spooled capture, in batches;
    each interior is added alone, so the numbers are those of the whole array."""
    from .levels import InteriorStats

    ends = np.maximum(ends, starts)
    parts = []
    # one sample past each batch: the reference route clips a bound at the array's last sample
    for i, j, lo, hi in _groups(starts, ends + 1, block):
        lo = min(lo, spool.n - 1)  # an empty interior may sit past the last sample: never an empty buffer
        buf = spool.scratch("v", lo, hi)
        parts.append(interior_stats(buf, starts[i:j] - lo, ends[i:j] - lo, min_count=1))
    if not parts:
        return interior_stats(np.zeros(1), starts, ends, min_count=1)
    return InteriorStats(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("mean", "count", "tilt")))


def _plateaus(spool: _Spool, transitions: Transitions, t_entry: np.ndarray, t_exit: np.ndarray, dt: float,
              block: int, *, dc_min_s: float, fractions: tuple[float, float]) -> _pwm.Plateaus:
    """:func:`~cpsim.analysis.pwm.plateau_layout` of the spooled capture: the geometry from the edges alone,
    the interiors' statistics in batches."""
    n = spool.n
    entry, exit_ = transitions.entry_index, transitions.exit_index
    first = np.concatenate(([0], entry)).astype(np.int64)
    last = np.concatenate((exit_, [n - 1])).astype(np.int64)
    p = first.size
    duration = np.concatenate((t_exit, [spool.t_last])) - np.concatenate(([spool.t_first], t_entry))
    head = np.zeros(p, dtype=bool)
    head[0] = True
    tail = np.zeros(p, dtype=bool)
    tail[-1] = True
    periodic = _pwm._in_periodic_train(t_entry, transitions)
    steady = ((duration > dc_min_s) & ~periodic) | (head & tail)
    single = ~steady & ~head & ~tail
    need_start = ~head & ~single
    need_end = ~tail & ~single
    nominal = max(3, int(round((1.0 / std.FREQUENCY_HZ) / dt)))
    settle = int(np.ceil(std.PLATEAU_SETTLE_MIN_S / dt))
    a, b = fractions
    geometry = (first, last, single, need_start, need_end, settle, nominal, float(a), float(b))
    fast = _edges._compiled()
    if fast is None:
        starts, ends, interior_start, interior_end = _pwm._interiors(*geometry)
    else:
        n_rows = int(np.count_nonzero(need_start | single)) + int(np.count_nonzero(need_end))
        starts, ends = np.empty(n_rows, dtype=np.int64), np.empty(n_rows, dtype=np.int64)
        interior_start, interior_end = np.empty(p, dtype=np.int64), np.empty(p, dtype=np.int64)
        fast.plateau_interiors(*geometry, starts, ends, interior_start, interior_end)
    stats = _interior_stats(spool, starts, ends, block)
    mean = np.append(stats.mean, np.nan)
    return _pwm.Plateaus(first, last, steady, single, mean[interior_start], mean[interior_end], interior_start,
                         interior_end, starts, ends, stats, duration, (None, t_entry, t_exit))


def _edge_measurements(spool: _Spool, transitions: Transitions, plateaus: _pwm.Plateaus, dt: float, block: int, *,
                       max_edge_fraction: float):
    """:func:`~cpsim.analysis.pwm.edge_measurements` of the spooled capture.

    Peaks and the short monotonic edges are measured in batches (each edge alone). The other edges are
    timed in windows whose width the in-memory route sets from the widest of them in the whole capture,
    so they are timed after the first pass, with that width.
    """
    n, e = spool.n, len(transitions)
    _, t_entry, t_exit = plateaus._edge_times  # type: ignore[misc]
    nominal = 1.0 / std.FREQUENCY_HZ
    band_s = t_entry - t_exit
    d = plateaus.duration_s
    ref = np.minimum(d[:-1], nominal) + np.minimum(d[1:], nominal)
    sharp = band_s - 2 * dt <= max_edge_fraction * ref
    before, after = _pwm._edge_references(plateaus)
    ex, en, rising = transitions.exit_index, transitions.entry_index, transitions.rising
    limit = np.append(ex[1:], n - 1)
    settle = int(np.ceil(std.PLATEAU_SETTLE_MIN_S / dt))
    out = [np.full(e, np.nan) for _ in range(3)]
    peak = np.full(e, np.nan)
    sel = np.flatnonzero(sharp)
    if sel.size == 0:
        return _edge_result(out, peak, t_exit, t_entry, sharp, band_s)
    # the edges not timed by the monotonic shortcut get windows padded by their widest; guessed as the
    # widest sharp edge (it usually is one of them), checked after the pass and redone if not
    guess = int(np.max(en[sel] - ex[sel]))
    pad = guess + guess // 2 + 3
    width = guess + 2 * pad
    cols = np.arange(width)
    slow: list[np.ndarray] = []
    lo_need = np.maximum(ex[sel] - pad, 0)
    # the peak window, the monotonic run and the timing window, and a guard sample
    hi_need = np.minimum(np.maximum(np.maximum(en[sel] + settle, ex[sel] + 5), ex[sel] - pad + width) + 2, n)
    for i, j, lo, hi in _groups(lo_need, hi_need, block):
        g = sel[i:j]
        tb, vb = spool.scratch("t", lo, hi), spool.scratch("v", lo, hi)
        part = [np.full(g.size, np.nan) for _ in range(3)]
        quick = _edges._short_monotonic(tb, vb, ex[g] - lo, en[g] - lo, before[g], after[g], part)
        peak[g] = _edges.edge_peaks(vb, ex[g] - lo, en[g] - lo, rising[g], limit[g] - lo, settle)
        for o, r in zip(out, part):
            o[g[quick]] = r[quick]
        rest = g[~quick]
        if rest.size:
            res = _edges._timing_chunk(tb, vb, ex[rest] - lo, before[rest], after[rest], pad, width, cols)
            for o, r in zip(out, res):
                o[rest] = r
            slow.append(rest)
    rest = np.concatenate(slow) if slow else np.zeros(0, dtype=np.int64)
    if rest.size and int(np.max(en[rest] - ex[rest])) != guess:
        _time_slow_edges(spool, rest, ex, en, before, after, out, block)
    return _edge_result(out, peak, t_exit, t_entry, sharp, band_s)


def _edge_result(out, peak, t_exit, t_entry, sharp, band_s):
    timing = EdgeTiming(*out)
    coarse = 0.5 * (t_exit + t_entry)
    t_mid = np.where(np.isfinite(timing.t_mid), timing.t_mid, coarse)
    return timing, t_mid, sharp, band_s, peak


def _time_slow_edges(spool: _Spool, rest: np.ndarray, ex, en, before, after, out, block: int) -> None:
    """The window timing of :func:`~cpsim.analysis.edges.edge_timing` for the edges ``rest``, with the pad
    it gives them all: from the widest of them (each window row is computed alone)."""
    n = spool.n
    span = int(np.max(en[rest] - ex[rest]))
    pad = span + span // 2 + 3
    width = span + 2 * pad
    cols = np.arange(width)
    step = max(1, _edges._WINDOW_CHUNK // width)
    lo_need = np.maximum(ex[rest] - pad, 0)
    hi_need = np.minimum(ex[rest] - pad + width + 2, n)
    for i, j, lo, hi in _groups(lo_need, hi_need, max(block, width)):
        if hi >= n - width - 2:  # near the end the reference window is clipped against the last sample
            hi = n
        tb, vb = spool.scratch("t", lo, hi), spool.scratch("v", lo, hi)
        for c0 in range(i, j, step):
            g = rest[c0:min(j, c0 + step)]
            res = _edges._timing_chunk(tb, vb, ex[g] - lo, before[g], after[g], pad, width, cols)
            for o, r in zip(out, res):
                o[g] = r
