"""cpsim.plot: real figures from synthetic captures whose answer is known by construction."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from cpsim import analyze, plot
from cpsim import standard as std
from cpsim.analysis.synthetic import Stretch, pilot_waveform
from cpsim.plot import detail as plot_detail

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

SESSION = [Stretch(0.012, 12.0), Stretch(0.012, 9.0), Stretch(0.015, 9.0, -12.0, 0.25),
           Stretch(0.020, 6.0, -12.0, 0.25), Stretch(0.010, 9.0, -12.0, 0.25)]
SESSION_STATES = ["A1", "B1", "B2", "C2", "B2"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="module")
def session():
    wave = pilot_waveform(SESSION, sample_rate_hz=2e6, rise_s=2e-6, fall_s=3e-6, noise_rms_v=0.02, seed=7)
    return wave, analyze(wave)


@pytest.fixture(scope="module")
def mc_frame():
    import pandas as pd

    from cpsim.study.runner import run_montecarlo

    frames = [run_montecarlo(s, 5000, seed=11) for s in ("B", "C")]
    df = pd.concat(frames, ignore_index=True)
    df.attrs.update(frames[0].attrs)
    return df


def _fig():
    return plot.new_figure(figsize=(8, 4), pyplot=False)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_import_cpsim_plot_and_report_load_no_matplotlib():
    code = textwrap.dedent("""
        import sys
        import cpsim, cpsim.plot, cpsim.report, cpsim.report.checks, cpsim.demo
        cpsim.plot.waveform  # attribute access only
        print(sorted(m for m in ("matplotlib", "pandas", "PySpice") if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_top_level_name():
    import cpsim

    assert cpsim.plot is plot


def test_session_is_what_it_was_built_as(session):
    _, m = session
    assert [s.state for s in m.segments] == SESSION_STATES


def test_waveform_shades_every_segment_and_labels_units(session):
    wave, m = session
    fig = _fig()
    ax = plot.waveform(wave, ax=fig.add_subplot(), measurement=m)
    spans = [p for p in ax.patches if p.get_gid() == "state-span"]
    assert len(spans) == len(m.segments) == 5
    colours = {tuple(np.round(p.get_facecolor()[:3], 3)) for p in spans}
    assert len(colours) == 3  # A, B, C
    windows = [line for line in ax.lines if line.get_gid() == "window-band"]
    assert len(windows) == 6  # A B C D E F
    assert ax.get_xlabel() == "time [ms]"
    assert ax.get_ylabel() == "CP voltage [V]"
    lo, hi = ax.get_xlim()
    assert lo == pytest.approx(0.0) and hi == pytest.approx(wave.t[-1] * 1e3)
    assert "A1 → B1 → B2 → C2 → B2" in ax.get_title(loc="left")


def test_waveform_analyses_when_not_given_and_accepts_options(session):
    wave, m = session
    ax = plot.waveform(wave, windows=False, shade=False, time_unit="s")
    assert ax.get_xlabel() == "time [s]"
    assert not [p for p in ax.patches if p.get_gid() == "state-span"]
    with pytest.raises(ValueError, match="time_unit"):
        plot.waveform(wave, measurement=m, time_unit="min")


def test_waveform_of_a_measurement_draws_per_cycle_levels(session):
    _, m = session
    ax = plot.waveform(m, ax=_fig().add_subplot())
    v_high = [line for line in ax.lines if line.get_label() == "V+ per cycle"]
    assert len(v_high) == 1
    y = v_high[0].get_ydata()
    assert set(np.round(y, 1)) <= {6.0, 9.0}


def test_waveform_rejects_other_objects():
    with pytest.raises(TypeError, match="Waveform or a PilotMeasurement"):
        plot.waveform(np.zeros(10))


def test_long_capture_drawn_as_envelope_keeps_extremes():
    wave = pilot_waveform(Stretch(0.05, 9.0, -12.0, 0.05), sample_rate_hz=4e6)  # 200 k samples, 50 µs pulses
    ax = plot.waveform(wave, ax=_fig().add_subplot(), max_points=4000)
    (trace,) = [line for line in ax.lines if line.get_gid() is None]
    y = np.asarray(trace.get_ydata())
    assert y.size <= 4002
    assert y.max() == pytest.approx(9.0) and y.min() == pytest.approx(-12.0)


def test_overview_timeline_bars_match_segments(session):
    wave, m = session
    fig = plot.new_figure(figsize=(12, 5), pyplot=False)
    ax_w, ax_t = fig.subplots(2, 1, sharex=True)
    plot.overview(wave, axes=(ax_w, ax_t), measurement=m)
    bars = [c for c in ax_t.collections if c.get_gid() == "timeline-bar"]
    assert len(bars) == len(m.segments)
    labels = [t.get_text() for t in ax_t.texts]
    assert "C2  15 A" in labels and "A1" in labels
    assert ax_t.get_xlabel() == "time [ms]"


def test_period_zoom_marks_the_10_50_90_points(session):
    wave, m = session
    ax = plot.period_zoom(wave, m, ax=_fig().add_subplot())
    points = [line for line in ax.lines if line.get_gid() == "edge-point"]
    assert len(points) == 6
    xs = np.array([p.get_xdata()[0] for p in points])  # µs from the rising 50 % point
    ys = np.array([p.get_ydata()[0] for p in points])
    k = plot_detail._pick_cycle(m, None)
    v_hi, v_lo = m.cycles.v_high[k], m.cycles.v_low[k]
    expected = v_lo + np.array([0.1, 0.5, 0.9, 0.9, 0.5, 0.1]) * (v_hi - v_lo)
    np.testing.assert_allclose(ys, expected, atol=1e-9)
    # the ramps are exactly 2 µs (rise) and 3 µs (fall) between 10 % and 90 % (synthetic truth)
    assert xs[2] - xs[0] == pytest.approx(2.0, abs=0.05)
    assert xs[3] - xs[5] == pytest.approx(-3.0, abs=0.05)
    assert xs[1] == pytest.approx(0.0, abs=0.05)
    assert xs[4] == pytest.approx(250.0, abs=0.1)  # 25 % of 1 ms
    assert ax.get_xlabel().endswith("[µs]") and ax.get_ylabel() == "CP voltage [V]"
    assert "1000.0 µs" in ax.get_title(loc="left")


def test_period_zoom_chooses_cycle_and_checks_range(session):
    wave, m = session
    ax = plot.period_zoom(wave, m, cycle=0, ax=_fig().add_subplot())
    assert "cycle 0" in ax.get_title(loc="left")
    with pytest.raises(IndexError):
        plot.period_zoom(wave, m, cycle=10_000)
    with pytest.raises(TypeError):
        plot.period_zoom(m)


def test_period_zoom_without_pwm():
    wave = pilot_waveform(Stretch(0.02, 12.0), sample_rate_hz=1e6)
    ax = plot.period_zoom(wave, ax=_fig().add_subplot())
    assert "no PWM" in ax.get_title(loc="left")


@pytest.mark.parametrize("edge, width_us", [("rise", 2.0), ("fall", 3.0)])
def test_edge_zoom(session, edge, width_us):
    wave, m = session
    ax = plot.edge_zoom(wave, m, edge=edge, ax=_fig().add_subplot())
    points = [line for line in ax.lines if line.get_gid() == "edge-point"]
    assert len(points) == 3
    xs = sorted(p.get_xdata()[0] for p in points)
    assert xs[-1] - xs[0] == pytest.approx(width_us, abs=0.05)
    assert f"{width_us:.2f} µs" in ax.get_title(loc="left")
    assert ax.get_xlabel() == "time from 50 % [µs]"
    with pytest.raises(ValueError):
        plot.edge_zoom(wave, m, edge="up")


def test_cycles_panels(session):
    _, m = session
    fig = plot.new_figure(figsize=(12, 3.4), pyplot=False)
    ax_d, ax_f = plot.cycles(m, axes=fig.subplots(1, 2))
    assert ax_d.get_ylabel() == "duty [%]" and ax_f.get_ylabel() == "frequency [Hz]"
    assert ax_d.get_xlabel() == "cycle start [ms]"
    duty = np.concatenate([line.get_ydata() for line in ax_d.lines])
    np.testing.assert_allclose(duty, 25.0, atol=0.1)
    assert len(duty) == len(m.cycles)
    assert [p for p in ax_f.patches if p.get_gid() == "frequency-warn"]
    lo, hi = ax_f.get_ylim()
    assert lo <= std.IEC61851.frequency_warn.lo and hi >= std.IEC61851.frequency_warn.hi


def test_cycles_out_of_window_frequency_shows_fail_limits():
    wave = pilot_waveform(Stretch(0.02, 9.0, -12.0, 0.25), frequency_hz=1030.0, sample_rate_hz=1e6)
    ax_d, ax_f = plot.cycles(analyze(wave))
    lo, hi = ax_f.get_ylim()
    assert hi > 1030.0 and lo < 995.0
    assert ax_f.get_legend() is not None


def test_montecarlo_histograms_and_thresholds(mc_frame):
    fig = plot.new_figure(figsize=(10, 4.6), pyplot=False, layout="constrained")
    axes = plot.montecarlo(mc_frame, axes=fig.subplots(1, 2), compare=("j1772",))
    assert len(axes) == 2
    for ax, state in zip(axes, ("B2", "C2")):
        ok = [p for p in ax.patches if p.get_gid() == "mc-ok"]
        assert sum(p.get_height() for p in ok) == 5000
        thresholds = [line for line in ax.lines if line.get_gid() == "threshold"]
        assert len(thresholds) == 4  # IEC lo/hi + J1772 lo/hi
        xs = sorted(line.get_xdata()[0] for line in thresholds)
        w = std.IEC61851.high_windows[state[0]]
        assert w.lo in xs and w.hi in xs
        assert ax.get_xlabel() == "V+ (high level) [V]" and ax.get_ylabel() == "runs"
        assert ax.get_title(loc="left").startswith(f"{state}: 5,000 runs")


def test_montecarlo_shows_misread_runs(mc_frame):
    tight = std.custom_profile({"C": (5.9, 6.1)}, name="tight")
    axes = plot.montecarlo(mc_frame, profile=tight, states=["C2"])
    bad = [p for p in axes[0].patches if p.get_gid() == "mc-misread"]
    good = [p for p in axes[0].patches if p.get_gid() == "mc-ok"]
    n_bad = sum(p.get_height() for p in bad)
    c = mc_frame[mc_frame["expected_state"] == "C2"]
    outside = int((~tight.high_windows["C"].contains(c["v_high"].to_numpy())).sum())
    assert n_bad == outside > 0
    assert n_bad + sum(p.get_height() for p in good) == 5000


def test_montecarlo_needs_runs(mc_frame):
    with pytest.raises(ValueError, match="no valid runs"):
        plot.montecarlo(mc_frame, states=[])


def test_figures_render_to_valid_png(session, tmp_path):
    wave, m = session
    fig = plot.new_figure(figsize=(12, 5), pyplot=False)
    plot.overview(wave, axes=fig.subplots(2, 1, sharex=True), measurement=m)
    path = tmp_path / "overview.png"
    data = plot.figure_png(fig, path)
    assert path.read_bytes() == data
    width, height = png_size(data)
    assert 1000 <= width <= 1300 and 400 <= height <= 600
    assert 15_000 < len(data) < 1_000_000


def test_pyplot_figure_when_no_axes_given(session):
    import matplotlib.pyplot as plt

    wave, m = session
    before = len(plt.get_fignums())
    plot.overview(wave, measurement=m)
    assert len(plt.get_fignums()) == before + 1
