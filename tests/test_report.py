"""The verdict table (pure data) and the HTML report (parsed), the CLI, and a headless-Chromium render."""

from __future__ import annotations

import base64
import math
import os
import shutil
import subprocess
from html.parser import HTMLParser
from types import SimpleNamespace

import numpy as np
import pytest

from cpsim import analyze
from cpsim import standard as std
from cpsim.analysis.synthetic import Stretch, pilot_waveform
from cpsim.diagnose.cp import Fault
from cpsim.report.checks import VERDICTS, CheckRow, check_measurement, check_segments, overall_verdict

ALWAYS = ["state", "v_high", "v_low", "diode", "duty", "frequency_hz", "rise_time_s", "fall_time_s", "current_a",
          "ripple", "overshoot"]


def measure(*stretches, **kw):
    kw.setdefault("sample_rate_hz", 2e6)
    return analyze(pilot_waveform(list(stretches), **kw))


def rows_by(rows):
    return {r.parameter: r for r in rows}


@pytest.fixture(scope="module")
def b2():
    return measure(Stretch(0.02, 9.0, -12.0, 0.25))


# --------------------------------------------------------------------------------------------
# verdict logic

def test_healthy_b2_every_parameter_passes_with_a_source(b2):
    rows = check_measurement(b2)
    assert [r.parameter for r in rows] == ALWAYS + ["faults"]
    by = rows_by(rows)
    assert {r.verdict for r in rows} <= {"pass", "info"}
    assert overall_verdict(rows) == "pass"
    for r in rows:
        if r.verdict == "pass":
            assert r.source, r.parameter
    assert by["v_high"].margin == pytest.approx(1.0)  # 9 V in 8 ... 10 V
    assert by["v_high"].source == std.IEC61851.high_windows["B"].source
    assert by["v_low"].margin == pytest.approx(0.6)   # -12 V in -12.6 ... -11.4 V
    assert by["duty"].value == pytest.approx(0.25, abs=1e-4)
    assert by["duty"].margin == pytest.approx(0.17, abs=1e-4)  # to the 8 % band edge
    assert by["frequency_hz"].margin == pytest.approx(5.0, abs=0.01)
    assert by["rise_time_s"].value == pytest.approx(2e-6, rel=0.02)
    assert by["rise_time_s"].margin == pytest.approx(8e-6, rel=0.01)  # B: < 10 µs
    assert by["fall_time_s"].margin == pytest.approx(11e-6, rel=0.01)  # < 13 µs
    assert by["current_a"].value == pytest.approx(15.0, abs=0.01)
    assert by["diode"].margin == pytest.approx(abs(9 - 12) - 1.1)


@pytest.mark.parametrize("freq, verdict, margin", [
    (1003.0, "pass", 2.0),       # inside 995 ... 1005 Hz
    (1010.0, "warn", 10.0),      # outside the warning window, inside 980 ... 1020 Hz
    (1030.0, "fail", -10.0),     # outside 980 ... 1020 Hz
    (985.0, "warn", 5.0),
])
def test_frequency_warn_and_fail_windows(freq, verdict, margin):
    m = measure(Stretch(0.02, 6.0, -12.0, 0.25), frequency_hz=freq)
    row = rows_by(check_measurement(m))["frequency_hz"]
    assert row.verdict == verdict
    assert row.margin == pytest.approx(margin, abs=0.01)
    assert "PLNOTE" in row.source and "EV-BU" in row.source


def test_slow_edges_fail_the_loaded_limits():
    m = measure(Stretch(0.02, 6.0, -12.0, 0.25), rise_s=9e-6, fall_s=15e-6)
    by = rows_by(check_measurement(m))
    assert by["rise_time_s"].verdict == "fail"            # C: < 7 µs
    assert by["rise_time_s"].margin == pytest.approx(-2e-6, rel=0.02)
    assert by["fall_time_s"].verdict == "fail"            # < 13 µs
    assert by["fall_time_s"].margin == pytest.approx(-2e-6, rel=0.05)
    assert "fault:rise_too_slow" in by and "fault:fall_too_slow" in by
    assert by["fault:rise_too_slow"].verdict == "fail" and "µs" in by["fault:rise_too_slow"].note


def test_edges_in_states_a_and_d_have_no_published_limit():
    m = measure(Stretch(0.02, 3.0, -12.0, 0.25), rise_s=9e-6, fall_s=15e-6)
    by = rows_by(check_measurement(m))
    assert by["rise_time_s"].verdict == by["fall_time_s"].verdict == "info"
    assert not math.isfinite(by["rise_time_s"].margin)


def test_shorted_diode():
    m = measure(Stretch(0.02, 8.8, -8.8, 0.25))
    by = rows_by(check_measurement(m))
    assert by["diode"].verdict == "fail" and by["diode"].margin < 0
    assert by["v_low"].verdict == "fail" and "diode" in by["v_low"].note
    assert "fault:diode_fault" in by
    assert overall_verdict(by.values()) == "fail"


def test_level_between_windows_is_invalid_with_negative_margin():
    m = measure(Stretch(0.02, 7.5, -12.0, 0.25))
    by = rows_by(check_measurement(m))
    assert m.state == "invalid"
    assert by["state"].verdict == "fail"
    assert by["v_high"].verdict == "fail"
    assert by["v_high"].margin == pytest.approx(-0.5, abs=0.01)  # 7.5 V: 0.5 V from C (5-7) and B (8-10)


def test_expected_state_and_duty():
    m = measure(Stretch(0.02, 6.0, -12.0, 0.25))
    by = rows_by(check_measurement(m, expected_state="B"))
    assert by["state"].verdict == "fail" and "expected B" in by["state"].note
    assert rows_by(check_measurement(m, expected_state="C"))["state"].verdict == "pass"
    assert rows_by(check_measurement(m, expected_state="C2"))["state"].verdict == "pass"
    width = rows_by(check_measurement(m, expected_duty=0.28))["duty_width"]
    assert width.value == pytest.approx(-30e-6, abs=0.5e-6)  # 250 µs instead of 280 µs
    assert width.verdict == "warn"  # ±25 µs has one low-confidence source
    assert rows_by(check_measurement(m, expected_duty=0.25))["duty_width"].verdict == "pass"


def test_duty_outside_every_band_fails():
    m = measure(Stretch(0.02, 9.0, -12.0, 0.075))   # 7.5 %: between digital (3-7) and current (8-97)
    by = rows_by(check_measurement(m))
    assert by["duty"].verdict == "fail"
    assert by["duty"].margin == pytest.approx(-0.005, abs=2e-4)
    assert by["current_a"].verdict == "fail"


def test_digital_communication_duty():
    m = measure(Stretch(0.02, 9.0, -12.0, 0.05))
    by = rows_by(check_measurement(m))
    assert by["duty"].verdict == "pass"
    assert by["current_a"].value == "digital communication"


def test_noise_warns_on_ripple_recommendation():
    m = measure(Stretch(0.02, 9.0, -12.0, 0.25), noise_rms_v=0.03, seed=3)
    row = rows_by(check_measurement(m))["ripple"]
    assert row.value == pytest.approx(6 * 0.03, rel=0.1)
    assert row.verdict == "warn"


def test_steady_states_judge_the_level_and_skip_pwm_rows():
    f = measure(Stretch(0.02, -12.0))
    by = rows_by(check_measurement(f))
    assert f.state == "F"
    assert by["v_high"].label.startswith("CP level (steady")
    assert by["v_high"].lo == std.IEC61851.f_window.lo and by["v_high"].verdict == "pass"
    for name in ("v_low", "diode", "duty", "frequency_hz", "rise_time_s", "fall_time_s", "current_a"):
        assert by[name].verdict == "n/a", name
    e = rows_by(check_measurement(measure(Stretch(0.02, 0.0))))
    assert e["v_high"].verdict == "pass" and e["fault:state_e"].verdict == "fail"


def test_j1772_profile_is_narrower():
    wave = pilot_waveform(Stretch(0.02, 9.7, -12.0, 0.25), sample_rate_hz=2e6)
    m = analyze(wave)
    assert rows_by(check_measurement(m, "iec61851"))["v_high"].verdict == "pass"
    j = rows_by(check_measurement(m, "j1772"))  # B window 8.36 ... 9.56 V
    assert j["v_high"].verdict == "fail" and j["v_high"].margin == pytest.approx(-0.14, abs=0.01)
    mj = analyze(wave, profile="j1772")
    assert mj.state == "invalid" and rows_by(check_measurement(mj, "j1772"))["state"].verdict == "fail"


def test_given_faults_are_used_as_is(b2):
    rows = check_measurement(b2, faults=[Fault("x_code", "explained")])
    assert rows[-1].parameter == "fault:x_code" and rows[-1].note == "explained"


def test_vehicle_connected_makes_state_a_a_fault():
    m = measure(Stretch(0.02, 12.0))
    assert "faults" in rows_by(check_measurement(m))
    assert "fault:vehicle_not_seen" in rows_by(check_measurement(m, vehicle_connected=True))


def test_check_segments_one_row_per_stretch():
    m = measure(Stretch(0.012, 12.0), Stretch(0.015, 9.0, -12.0, 0.25), Stretch(0.015, 6.0, -12.0, 0.25),
                Stretch(0.015, 6.0, -6.0, 0.25))
    rows = check_segments(m)
    assert [r.label.split(" ")[1] for r in rows] == [s.state for s in m.segments] == ["A1", "B2", "C2", "C2"]
    assert [r.verdict for r in rows] == ["pass", "pass", "pass", "fail"]
    assert rows[-1].note == "diode fault"
    assert rows[1].margin == pytest.approx(1.0, abs=0.01)


def test_rows_on_a_duck_typed_measurement():
    m = SimpleNamespace(state="C2", pwm=True, v_high=6.2, v_low=-12.0, duty=0.5, period_s=1e-3, frequency_hz=1000.0,
                        rise_time_s=3e-6, fall_time_s=4e-6, current_a=30.0, digital_comm=False, diode_fault=False,
                        v_high_std=0.001, v_low_std=0.001, overshoot=0.0, reason=None, segments=())
    rows = check_measurement(m, faults=())
    assert overall_verdict(rows) == "pass"


def test_checkrow_contract():
    row = CheckRow("x", "x", float("nan"), "V", "", float("nan"), 1.0, float("nan"), "pass", "src")
    d = row.to_dict()
    assert d["value"] is None and d["hi"] == 1.0 and d["margin"] is None
    with pytest.raises(ValueError, match="verdict"):
        CheckRow("x", "x", 1.0, "V", "", 0.0, 1.0, 0.0, "ok", "")
    assert overall_verdict([]) == "n/a"
    assert VERDICTS.index("warn") < VERDICTS.index("fail")


# --------------------------------------------------------------------------------------------
# HTML report

class _Doc(HTMLParser):
    """Collects what the tests look at: verdict rows, cells, every src/href, images, tags."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[tuple[str, str, str]] = []
        self.images: list[str] = []
        self.rows: list[dict] = []
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        for name in ("src", "href", "action", "data"):
            if name in a:
                self.urls.append((tag, name, a[name] or ""))
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "tr":
            self._row = {"attrs": a, "cells": []}
        if tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row["cells"].append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(text: str) -> _Doc:
    doc = _Doc()
    doc.feed(text)
    return doc


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    from cpsim.study.runner import run_montecarlo

    d = tmp_path_factory.mktemp("report")
    good = pilot_waveform([Stretch(0.012, 12.0), Stretch(0.015, 9.0, -12.0, 0.25), Stretch(0.02, 6.0, -12.0, 0.25)],
                          sample_rate_hz=2e6, noise_rms_v=0.01, seed=5)
    good.to_csv(d / "session.csv")
    slow = pilot_waveform(Stretch(0.02, 6.0, -12.0, 0.25), sample_rate_hz=2e6, rise_s=9e-6, fall_s=15e-6)
    slow.to_csv(d / "slow.csv")
    run_montecarlo("C", 4000, seed=21, out=d / "mc.parquet")
    run_montecarlo("B", 500, seed=22, out=d / "mc.csv")
    return d


@pytest.fixture(scope="module")
def report_html(inputs):
    from cpsim.report import write_report

    out = inputs / "report.html"
    write_report(out, captures=[inputs / "session.csv", inputs / "slow.csv"], results=[inputs / "mc.parquet"],
                 png_dir=inputs / "png", compare=["j1772", std.custom_profile({"C": (5.21, 7.79)}, name="fw")])
    return out


def test_report_is_self_contained(report_html):
    text = report_html.read_text(encoding="utf-8")
    doc = parse(text)
    assert "script" not in doc.tags and "link" not in doc.tags and "iframe" not in doc.tags
    assert doc.urls, "expected embedded images"
    for tag, name, url in doc.urls:
        # only inline data (base64 may spell "http" by chance, so the payload is not searched)
        assert url.startswith("data:image/png;base64,"), (tag, name, url[:80])
        assert "http" not in url.split(",", 1)[0]
    assert "url(" not in text  # no CSS fetches either


def test_report_images_are_real_pngs(report_html, inputs):
    doc = parse(report_html.read_text(encoding="utf-8"))
    # session: overview, period, cycles; slow: the same three; Monte Carlo: one histogram figure
    assert len(doc.images) == 7
    for src in doc.images:
        data = base64.b64decode(src.split(",", 1)[1])
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(data[16:20], "big")
        height = int.from_bytes(data[20:24], "big")
        assert width >= 600 and 250 <= height <= 800
        assert len(data) > 10_000
    pngs = sorted(p.name for p in (inputs / "png").iterdir())
    assert pngs == sorted(["session_csv_overview.png", "session_csv_period.png", "session_csv_cycles.png",
                           "slow_csv_overview.png", "slow_csv_period.png", "slow_csv_cycles.png",
                           "mc_parquet_levels.png"])


def test_report_verdict_rows_have_limits_and_sources(report_html):
    doc = parse(report_html.read_text(encoding="utf-8"))
    checks = [r for r in doc.rows if "data-parameter" in r["attrs"]]
    assert len(checks) >= 2 * len(ALWAYS)
    params = [r["attrs"]["data-parameter"] for r in checks]
    for name in ALWAYS:
        assert params.count(name) == 2, name
    for r in checks:
        label, measured, limit, margin, verdict, source, note = r["cells"]
        assert verdict == r["attrs"]["data-verdict"]
        if verdict in ("pass", "warn", "fail"):
            assert source, r
    slow = [r for r in checks if r["attrs"]["data-parameter"] == "rise_time_s"][1]
    assert slow["attrs"]["data-verdict"] == "fail"
    assert slow["cells"][1] == "9.00 µs" and slow["cells"][2] == "< 7 µs (state C)"
    assert slow["cells"][3] == "-2.00 µs" and "EV-BU" in slow["cells"][5]
    freq = [r for r in checks if r["attrs"]["data-parameter"] == "frequency_hz"][0]
    assert "995 … 1005 Hz" in freq["cells"][2] and "980 … 1020 Hz" in freq["cells"][2]


def test_report_summary_timeline_and_montecarlo(report_html):
    doc = parse(report_html.read_text(encoding="utf-8"))
    summary = [r for r in doc.rows if r["attrs"].get("class", "").startswith("summary")]
    assert [r["cells"][1] for r in summary] == ["session.csv", "slow.csv"]
    assert [r["attrs"]["data-verdict"] for r in summary] == ["pass", "fail"]
    assert "rise_too_slow" in summary[1]["cells"][-1]
    segments = [r for r in doc.rows if r["attrs"].get("class", "").startswith("segment")]
    assert [r["cells"][1] for r in segments] == ["A1", "B2", "C2", "C2"]
    yields = [r for r in doc.rows if r["attrs"].get("class") == "yield"]
    assert len(yields) == 1 and yields[0]["attrs"]["data-state"] == "C2"
    assert yields[0]["cells"][1] == "4,000"
    assert len(yields[0]["cells"]) == 2 + 3  # iec61851, j1772, fw
    worst = [r for r in doc.rows if r["attrs"].get("class") == "worst"]
    assert len(worst) == 5
    text = report_html.read_text(encoding="utf-8")
    assert "Sources of the limits" in text and "EV-BU" in text and "PLNOTE" in text


def test_report_accepts_waveforms_frames_and_needs_something(inputs):
    from cpsim.io import read_capture
    from cpsim.report import render_report
    from cpsim.study.results import read_results

    wave = read_capture(inputs / "slow.csv")
    html_text, written = render_report([wave], [read_results(inputs / "mc.csv")], profile="j1772")
    assert written == []
    assert "limits profile <b>j1772</b>" in html_text
    from cpsim import ParameterError

    with pytest.raises(ParameterError, match="nothing to report"):
        render_report([], [])


def test_input_kind(inputs):
    from cpsim.report import input_kind

    assert input_kind(inputs / "mc.parquet") == "results"
    assert input_kind(inputs / "mc.csv") == "results"
    assert input_kind(inputs / "session.csv") == "capture"


def test_cli_report(inputs, tmp_path, capsys):
    from cpsim.cli import main

    out = tmp_path / "r.html"
    rc = main(["report", str(inputs / "session.csv"), str(inputs / "mc.csv"), "-o", str(out),
               "--threshold", "B=7.79:10.26", "--png-dir", str(tmp_path / "png")])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "session.csv: C2, verdict pass" in printed
    assert "mc.csv: 500 runs" in printed and f"wrote {out}" in printed
    doc = parse(out.read_text(encoding="utf-8"))
    yields = [r for r in doc.rows if r["attrs"].get("class") == "yield"]
    assert yields[0]["attrs"]["data-state"] == "B2" and len(yields[0]["cells"]) == 5  # + j1772, thresholds
    assert len(list((tmp_path / "png").glob("*.png"))) == 4


def test_cli_report_errors(tmp_path, capsys):
    from cpsim.cli import main

    assert main(["report", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "r.html")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("hello\n")
    assert main(["report", str(bad), "-o", str(tmp_path / "r.html")]) == 2


# --------------------------------------------------------------------------------------------
# headless Chromium: the page renders, nothing sticks out to the right

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
def test_report_renders_in_headless_chromium(report_html, tmp_path):
    from PIL import Image

    # `make test` installs Chromium (scripts/install-system-deps.sh); without it this check fails
    assert CHROMIUM, "Chromium is not installed: run `make test`, or apt-get install chromium"

    shot = tmp_path / "report.png"
    profile = tmp_path / "chromium-profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
           f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1280,4000",
           report_html.resolve().as_uri()]
    env = dict(os.environ, HOME=str(tmp_path))
    subprocess.run(cmd, check=True, capture_output=True, timeout=120, env=env)
    with Image.open(shot) as im:
        assert im.size == (1280, 4000)
        rgb = np.asarray(im.convert("RGB"), dtype=int)
    assert rgb.std() > 20  # not a blank page
    # main is 1240 px wide centred with 20 px padding: the right margin stays page background unless
    # a table or a figure is wider than the page
    margin = rgb[:, 1250:1278, :]
    background = np.array([0xfb, 0xfc, 0xfc])
    assert np.abs(margin - background).max() <= 3
    # the first figure is on the page and is not blank
    assert (np.abs(rgb[:, 40:1240, :] - 255).sum(axis=2) < 10).mean() > 0.05
