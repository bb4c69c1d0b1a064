"""Streamed measurement (issue 16): the same numbers as the in-memory route, in bounded memory.

Two independent routes that must agree: :func:`cpsim.analysis.measure` of the whole capture, and
:func:`cpsim.analysis.stream.measure_stream` of it in pieces (chunk sizes chosen to cut edges and
plateaus), on synthetic sessions, on the project's instrument fixtures and the shared real files, with
the compiled loops on and off. The memory test runs ``cpsim analyze`` / ``cpsim report`` on a 60 M-sample
CSV in a subprocess and reads its peak RSS.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cpsim
from cpsim import CpsimError, ParameterError, Waveform
from cpsim.analysis import edges, measure
from cpsim.analysis.stream import StreamedCapture, estimated_samples, measure_stream, memory_budget_samples
from cpsim.analysis.synthetic import Stretch, pilot_waveform
from cpsim.diagnose.capture import should_stream

FIXTURES = Path(__file__).parent / "fixtures" / "captures"
SHARED = Path(os.environ.get("CPSIM_SHARED_FORMATS") or Path(__file__).resolve().parents[2] / "shared" / "formats")
BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def pieces(w: Waveform, size: int) -> list[Waveform]:
    """``w`` cut into consecutive pieces of ``size`` samples (a 1-sample tail joins the last piece)."""
    n, out, i = len(w), [], 0
    while i < n:
        j = n if n - (i + size) < 2 else i + size
        out.append(Waveform.from_arrays(w.t[i:j], w.v[i:j], channel=w.channel, metadata=w.metadata))
        i = j
    return out


def assert_same(a, b) -> None:
    """Every number of two measurements equal (NaN equal to NaN): scalars, segments, cycles, notes."""
    da, db = a.to_dict(), b.to_dict()
    assert da.keys() == db.keys()
    for k in da:
        x, y = da[k], db[k]
        if isinstance(x, float) and math.isnan(x):
            assert isinstance(y, float) and math.isnan(y), k
        else:
            assert x == y or json.dumps(x, sort_keys=True, default=str) == json.dumps(y, sort_keys=True, default=str), k
    assert len(a.segments) == len(b.segments)
    for s, r in zip(a.segments, b.segments):
        for f in s.__dataclass_fields__:
            u, w = getattr(s, f), getattr(r, f)
            assert u == w or (isinstance(u, float) and math.isnan(u) and math.isnan(w)), f
    for f in a.cycles.__dataclass_fields__:
        u, w = getattr(a.cycles, f), getattr(b.cycles, f)
        if u.dtype.kind == "f":
            np.testing.assert_array_equal(u, w, err_msg=f)
        else:
            assert np.array_equal(u, w), f
    assert a.notes == b.notes and a.input_issues == b.input_issues and a.faults == b.faults


def session(seed: int = 1, rate: float = 1e6, bits: int | None = 10, noise: float = 0.03) -> Waveform:
    """Plug-in and charge: A, B1, B2, C2 at two duties, a slow (wrong prescaler) PWM, E, F, back to B."""
    plan = [Stretch(0.012, 12.0), Stretch(0.015, 9.0), Stretch(0.04, 9.0, -12.0, 0.25),
            Stretch(0.05, 6.0, -12.0, 0.25), Stretch(0.03, 6.0, -12.0, 0.5), Stretch(0.012, 0.0),
            Stretch(0.011, -12.0, -12.0), Stretch(0.03, 9.0, -12.0, 0.1), Stretch(0.01, 9.0)]
    return pilot_waveform(plan, sample_rate_hz=rate, t0_s=3.25, phase=0.37, noise_rms_v=noise, adc_bits=bits,
                          seed=seed, overshoot=0.05)


def slow_pwm() -> Waveform:
    """A 20 Hz PWM (a timer prescaler off by 50): plateaus far longer than a steady stretch's minimum."""
    return pilot_waveform([Stretch(0.3, 9.0, -12.0, 0.3)], sample_rate_hz=50e3, frequency_hz=20.0, noise_rms_v=0.02,
                          seed=4)


CASES = {
    "session_1MSs": (session, [997, 4096, 27_370, 65_537, 1_000_000]),  # 27 370: inside the first rising edge
    "session_coarse_8bit": (lambda: session(2, rate=100e3, bits=8, noise=0.08), [16, 333, 10_000]),
    "session_clean": (lambda: session(3, bits=None, noise=0.0), [1000, 2500, 77_777]),
    "session_fast_edges_10MSs": (lambda: session(5, rate=10e6, bits=12), [50_000, 262_144]),
    "slow_pwm": (slow_pwm, [101, 5000]),
    "steady_B": (lambda: pilot_waveform([Stretch(0.02, 9.0)], noise_rms_v=0.05, adc_bits=8, seed=6), [1000, 7001]),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("max_level_points", [1_000_000, 5_000])
def test_stream_equals_memory(case, max_level_points):
    make, sizes = CASES[case]
    w = make()
    ref = measure(w, max_level_points=max_level_points)
    for size in sizes:
        got = measure_stream(pieces(w, size), chunk_rows=size, max_level_points=max_level_points)
        assert_same(ref, got)


def test_chunk_edges_fall_inside_edges_and_plateaus():
    """The chunk sizes above do cut edges (between band exit and entry) and plateaus: the test is not vacuous."""
    w = session()
    ref = measure(w)
    c = ref.cycles
    assert len(c) > 100
    cut_edge = cut_plateau = False
    for size in CASES["session_1MSs"][1]:
        cut = np.arange(size, len(w), size)
        if not cut.size:
            continue
        # an edge spans samples [lo, hi) (10 % to 90 %): a cut strictly inside it splits the edge
        lo = np.searchsorted(w.t, c.rise_start_s)
        hi = np.searchsorted(w.t, c.rise_start_s + c.rise_time_s)
        cut_edge |= bool(np.any(np.searchsorted(cut, lo, side="right") != np.searchsorted(cut, hi - 1, side="right")))
        mid = np.searchsorted(w.t, c.t_start + 0.6 * c.duty * c.period_s)  # inside the high plateaus
        near = np.abs(cut[np.minimum(np.searchsorted(cut, mid), cut.size - 1)] - mid) < 20
        cut_plateau |= bool(near.any())
    assert cut_edge and cut_plateau


def test_numpy_routes_agree_too(monkeypatch):
    w = session(7)
    monkeypatch.setattr(edges, "FAST_PATH", False)
    ref = measure(w, max_level_points=20_000)
    assert_same(ref, measure_stream(pieces(w, 3001), chunk_rows=3001, max_level_points=20_000))


def test_too_many_crossings_is_the_same_verdict():
    rng = np.random.default_rng(3)
    t = np.arange(200_000) * 1e-6
    v = np.where(rng.random(t.size) < 0.5, 9.0, -12.0)  # noise between two levels: crossings everywhere
    w = Waveform.from_arrays(t, v)
    ref = measure(w)
    assert ref.reason_code == "too_many_crossings"
    assert_same(ref, measure_stream(pieces(w, 4096), chunk_rows=4096))


def test_slow_edges_wider_than_the_shortcut_are_timed_alike():
    """Edges of 40 samples: every edge takes the windowed timing, padded by the widest edge."""
    w = pilot_waveform([Stretch(0.03, 6.0, -12.0, 0.4)], sample_rate_hz=10e6, rise_s=4e-6, fall_s=6e-6,
                       noise_rms_v=0.02, adc_bits=10, seed=9)
    ref = measure(w)
    assert np.isfinite(ref.rise_time_s) and ref.rise_time_s > 30 * 1e-7
    for size in (1009, 40_000):
        assert_same(ref, measure_stream(pieces(w, size), chunk_rows=size))


def test_edge_windows_are_padded_by_the_widest_edge_of_the_whole_capture():
    """Edges that cross the band in a sample and creep to 90 % later are timed only through the wide window
    the capture's slowest edges set (edges.edge_timing pads by the widest edge it is given): in pieces that
    hold no slow edge, a piece-local pad would lose them."""
    rate, n = 10e6, 400_000
    t = np.arange(n) / rate
    phase = (t * 1000.0) % 1.0
    high = phase < 0.3
    linear = np.clip(np.minimum(phase / 4e-3, (0.3 - phase) / 4e-3 + 1.0), 0.0, 1.0)  # 4 µs ramps
    v = np.where(t < 0.02, -12.0 + 18.0 * np.where(high, linear, np.clip((phase - 0.3) / -4e-3 + 1, 0, 1)), 0.0)
    # from 20 ms: a jump to +3 V, then an exponential (tau 5 µs) to +6 V; a clean fall
    since = (phase * 1e-3)
    creep = 6.0 - 3.0 * np.exp(-since / 5e-6)
    v = np.where(t >= 0.02, np.where(high, creep, -12.0), v)
    w = Waveform.from_arrays(t, v)
    ref = measure(w)
    late = ref.cycles.t_start > 0.021
    assert np.isfinite(ref.cycles.rise_time_s[late]).all() and late.sum() > 10
    for size in (50_000, 123_457):
        assert_same(ref, measure_stream(pieces(w, size), chunk_rows=size))


def _capture_files() -> list[Path]:
    files = sorted(p for p in FIXTURES.iterdir() if p.suffix.lower() in (".csv", ".txt") and p.name != "truth.json")
    if SHARED.is_dir():
        files += sorted(p for p in SHARED.iterdir() if p.suffix.lower() not in (".md",) and ".setup" not in p.name)
    return files


def _outcome(fn):
    try:
        return "ok", fn()
    except CpsimError as err:
        return "error", f"{type(err).__name__}: {err}"


@pytest.mark.parametrize("path", _capture_files(), ids=lambda p: p.name)
def test_instrument_files_read_in_pieces_agree(path):
    """Every layout (text and binary, uniform, index and column time axes): the same result or error."""
    ref = _outcome(lambda: cpsim.analyze(path, stream=False))
    got = _outcome(lambda: cpsim.analyze(path, stream=True))
    assert ref[0] == got[0], (ref, got)
    if ref[0] == "ok":
        assert_same(ref[1], got[1])
        small = _outcome(lambda: measure_stream(path, chunk_rows=16))
        assert small[0] == "ok", small
        assert_same(measure(path), small[1])
    else:
        assert ref[1] == got[1]


def test_metadata_is_what_read_capture_gives():
    path = FIXTURES / "rigol_ds1054z.csv"
    wave = cpsim.read_capture(path)
    with StreamedCapture.open(path, chunk_rows=64) as cap:
        assert cap.metadata == dict(wave.metadata)
        assert cap.n_samples == len(wave) and cap.t_start == wave.t[0] and cap.t_end == wave.t[-1]
        t, v = cap.read(0, cap.n_samples)
        np.testing.assert_array_equal(t, wave.t)
        np.testing.assert_array_equal(v, wave.v)
        part = cap.slice_time(wave.t[10], wave.t[50])
        ref = wave.slice_time(wave.t[10], wave.t[50])
        np.testing.assert_array_equal(part.t, ref.t)


def test_cli_stream_flag_prints_the_same(tmp_path, capsys):
    from cpsim.cli.main import main

    path = tmp_path / "session.csv"
    session(11).to_csv(path)
    outs = []
    for flag in ("--stream", "--no-stream"):
        main(["analyze", str(path), "--json", flag])
        outs.append(json.loads(capsys.readouterr().out))
    assert outs[0] == outs[1]
    assert outs[0]["state"] in ("B2", "C2")


def test_budget_switches_to_the_stream(tmp_path, monkeypatch):
    path = tmp_path / "session.csv"
    session(12).to_csv(path)
    n = estimated_samples(path)
    # session(): 212 ms at 1 MS/s; the estimate reads the first lines' length only
    assert n is not None and 0.8 * len(session(12)) < n < 1.25 * len(session(12))
    monkeypatch.setenv("CPSIM_MEMORY_BUDGET", str(18 * 1000))
    assert memory_budget_samples() == 1000 and should_stream(str(path))
    monkeypatch.setenv("CPSIM_MEMORY_BUDGET", str(18 * 10**9))
    assert not should_stream(str(path))
    assert not should_stream(session(1))  # a Waveform is in memory already
    monkeypatch.setenv("CPSIM_MEMORY_BUDGET", "lots")
    with pytest.raises(ParameterError, match="CPSIM_MEMORY_BUDGET"):
        should_stream(str(path))


def test_bad_arguments_are_parameter_errors(tmp_path):
    w = session(1)
    with pytest.raises(ParameterError, match="chunk_rows"):
        measure_stream(pieces(w, 1000), chunk_rows=4)
    with pytest.raises(ParameterError, match="fmt and channel"):
        measure_stream(pieces(w, 1000), fmt="generic")
    with pytest.raises(ParameterError, match="unknown option"):
        measure_stream(pieces(w, 1000), colour="red")
    with pytest.raises(ParameterError, match="not a file path"):
        cpsim.analyze(w, stream=True)
    with pytest.raises(ParameterError, match="at least 2 samples"):
        measure_stream([])


def test_report_streamed_has_the_same_verdicts_and_plot_points(tmp_path):
    from cpsim.plot.capture import _envelope, envelope_blocks
    from cpsim.report.model import capture_report

    path = tmp_path / "session.csv"
    session(13).to_csv(path)
    a = capture_report(path, stream=False)
    b = capture_report(path, stream=True)
    assert_same(a.measurement, b.measurement)
    assert [r.to_dict() for r in a.checks] == [r.to_dict() for r in b.checks]
    assert [r.to_dict() for r in a.segment_checks] == [r.to_dict() for r in b.segment_checks]
    assert a.verdict == b.verdict and b.info["samples"] == len(a.wave)
    assert {k: v for k, v in b.info.items() if k != "streamed"} == a.info and b.info["streamed"]
    t, v = _envelope(a.wave.t, a.wave.v, 20_000)
    keep = np.concatenate(([True], t[1:] > t[:-1]))
    np.testing.assert_array_equal(b.wave.t, t[keep])
    np.testing.assert_array_equal(b.wave.v, v[keep])
    # the zoom holds the period the plots show, at full resolution
    c = b.measurement.cycles
    k = int(np.argmin(np.abs(c.t_start - b.zoom.t[len(b.zoom) // 2])))
    assert b.zoom.t[0] < c.t_start[k] < c.t_start[k] + c.period_s[k] < b.zoom.t[-1]
    np.testing.assert_array_equal(b.zoom.v, a.wave.slice_time(b.zoom.t[0], b.zoom.t[-1]).v)

    rng = np.random.default_rng(0)
    for n in (5, 20_000, 20_001, 123_457, 3_000_001):
        tt = np.cumsum(rng.random(n) + 0.5)
        vv = rng.normal(size=n)
        ref = _envelope(tt, vv, 20_000)
        got = envelope_blocks(lambda lo, hi, tt=tt, vv=vv: (tt[lo:hi], vv[lo:hi]), n)
        np.testing.assert_array_equal(ref[0], got[0])
        np.testing.assert_array_equal(ref[1], got[1])


_CHILD = r"""
import resource, sys, time
from cpsim.cli.main import main
t0 = time.perf_counter()
code = main(sys.argv[1:])
hwm = [int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:")]
print("RESULT", time.perf_counter() - t0, hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_rss_mib(args: list[str]) -> tuple[float, str]:
    """Peak RSS [MiB] of ``cpsim ARGS`` in a fresh process, and what it printed.

    The child reports its own high-water mark (``VmHWM``, reset when the process image is replaced):
    ``getrusage``'s ``ru_maxrss`` (``RUSAGE_SELF`` or ``RUSAGE_CHILDREN``) keeps the RSS of the forked
    parent at ``exec``, so under pytest it reads the test process's size, not the command's.
    """
    r = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    return int(r.stdout.strip().splitlines()[-1].split()[-1]) / 1024, r.stdout


@pytest.mark.slow
def test_60M_sample_capture_in_bounded_memory(tmp_path):
    sys.path.insert(0, str(BENCH))
    try:
        from bench_stream_analyze import write_capture
    finally:
        sys.path.remove(str(BENCH))
    path = tmp_path / "long.csv"
    write_capture(path, 60_000_000)
    rss, out = _peak_rss_mib(["analyze", str(path), "--json"])
    assert rss <= 300, f"analyze peaked at {rss:.0f} MiB"
    body = json.loads(out[:out.rindex("RESULT")])
    assert body["state"] == "C2" and abs(body["duty"] - 0.25) < 1e-3 and body["n_samples"] == 60_000_000
    rss, out = _peak_rss_mib(["report", str(path), "-o", str(tmp_path / "r.html")])
    assert rss <= 400, f"report peaked at {rss:.0f} MiB"
    assert (tmp_path / "r.html").stat().st_size > 10_000
