"""Issue 13, cases 5 and 7: the study report shows tolerances as the user gave them, hides internal
parameters, shows what drives each level (tornado chart), and judges the spice engine's timing."""

import re

import pytest

from cpsim.report import render_report
from cpsim.study.runner import run_montecarlo
from cpsim.study.summary import summarize


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture(scope="module")
def spice_c():
    return run_montecarlo("C", 16, seed=3, engine="spice", workers=2, chunk_size=8)


def test_the_report_describes_tolerances_as_given_and_hides_diode_area():
    html, _ = render_report(results=[run_montecarlo("C", 5000, seed=1)])
    text = _text(html)
    assert "cable_c_f uniform 0…3100 pF" in text
    assert "duty uniform ±2.5 %-points" in text
    assert "r1_ohm uniform ±3 %" in text
    assert "±1550 pF" not in text and "duty uniform ±2.500 %" not in text
    assert "diode_area" not in html


def test_the_report_has_a_tornado_chart_and_the_misread_bound(tmp_path):
    html, pngs = render_report(results=[run_montecarlo("C", 5000, seed=1)], png_dir=tmp_path)
    assert [p.name for p in pngs] == ["monte_carlo_levels.png"]  # one figure per study: levels, and what drives them
    assert "what drives each level" in html
    text = _text(html)
    assert "0 of 5,000 runs misread: rate &lt; 3 in 5,000 (95 % upper bound)" in text
    assert "v_high_v" in text[text.index("what drives each level"):]


def test_tornado_plot_bars_follow_the_ranking():
    import matplotlib

    matplotlib.use("Agg")
    import cpsim.plot

    df = run_montecarlo("C", 5000, seed=1)
    ax = cpsim.plot.tornado(df, state="C2", level="v_high")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    ranking = summarize(df)["sensitivity"]["C2"]["v_high"]
    assert labels[-1].startswith("v_high_v")  # the largest on top
    assert len(labels) == len(ranking)
    widths = sorted(abs(p.get_width()) for p in ax.patches if p.get_gid() == "share")
    assert widths[-1] == pytest.approx(100 * ranking[0]["share"])


def test_spice_timing_is_judged_against_the_limits(spice_c):
    s = summarize(spice_c)
    rows = {(t["state"], t["quantity"]): t for t in s["timing"]}
    rise = rows[("C2", "measured_rise_time_s")]
    assert rise["limit_hi"] == pytest.approx(7e-6) and rise["verdict"] in ("pass", "fail")
    assert rise["worst"] == pytest.approx(spice_c["measured_rise_time_s"].max())
    assert rise["outside"] == int((spice_c["measured_rise_time_s"] > 7e-6).sum())
    freq = rows[("C2", "measured_frequency_hz")]
    assert (freq["limit_lo"], freq["limit_hi"]) == (980.0, 1020.0)
    assert rows[("C2", "measured_fall_time_s")]["limit_hi"] == pytest.approx(13e-6)
    assert ("C2", "pulse_width_error_s") in rows
    html, _ = render_report(results=[spice_c])
    text = _text(html)
    assert "Timing and frequency" in text and "7 µs" in text and "980" in text
    assert summarize(run_montecarlo("C", 100, seed=1))["timing"] == []  # the fast engine measures no timing
