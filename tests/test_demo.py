"""``make demo``: the main job runs from nothing, as ``python -m cpsim.demo``, and writes what it says."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest

from cpsim.demo import CAPTURES, SESSION, scope_view, write_rigol_csv


def test_rigol_writer_round_trips(tmp_path):
    from cpsim import Waveform, read_capture

    wave = Waveform.from_uniform(np.tile([12.0, 12.0, -12.0, -12.0], 50), sample_interval_s=1e-6, t0_s=-1e-4)
    path = tmp_path / "rigol.csv"
    write_rigol_csv(path, wave)
    back = read_capture(path)
    assert back.metadata["format"] == "rigol-csv" and back.channel == "CH1"
    np.testing.assert_allclose(back.t, wave.t, rtol=0, atol=1e-12)
    np.testing.assert_allclose(back.v, wave.v)


def test_scope_view_is_seeded_and_quantised():
    from cpsim import Waveform

    wave = Waveform.from_uniform(np.full(1000, 9.0), sample_interval_s=1e-6)
    a = scope_view(wave, np.random.default_rng(1))
    b = scope_view(wave, np.random.default_rng(1))
    np.testing.assert_array_equal(a.v, b.v)
    lsb = 32.0 / 2**12
    np.testing.assert_allclose(((a.v + 16.0) / lsb) % 1.0, 0.0, atol=1e-9)
    assert 0.005 < a.v.std() < 0.015
    assert len(scope_view(wave, np.random.default_rng(1), decimate=2)) == 500


class _Sections(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections, self.images, self.urls = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("class"))
        if tag == "img":
            self.images.append(a["src"])
        for name in ("src", "href"):
            if name in a:
                self.urls.append(a[name])


@pytest.mark.slow
def test_demo_main_job(tmp_path):
    """Exactly what ``make demo`` runs, in a fresh interpreter, warnings as errors."""
    figure = tmp_path / "docs" / "cp_overview.png"
    proc = subprocess.run([sys.executable, "-W", "error", "-m", "cpsim.demo", "--out", "out",
                           "--readme-figure", str(figure)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    out_dir = tmp_path / "out"

    # the summary: one line per capture with the right reading, verdict and faults
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("cp_")}
    assert set(lines) == {f"{stem}.csv" for stem, *_ in CAPTURES} | {"cp_session.csv"}
    for stem, _state, fault, expected, _ in CAPTURES:
        cols = lines[f"{stem}.csv"].split()
        assert cols[1] == expected
        assert ("fail" in cols) == (fault is not None), lines[f"{stem}.csv"]
    assert "diode_fault" in lines["cp_B2_diode_shorted.csv"]
    assert "rise_too_slow" in lines["cp_C2_cable_capacitance.csv"]
    assert re.search(r"mc_fast\.parquet \(fast\)\s+B2\s+200,000\s+100\.000 %", out)
    assert re.search(r"mc_spice\.parquet \(spice\)\s+C2\s+24\s", out)
    assert re.search(r"done in \d+\.\d s", out)
    assert "out/report.html" in out

    # the files it names
    from cpsim import read_capture
    from cpsim.study.results import read_results

    session = read_capture(out_dir / "cp_session.csv")
    assert session.metadata["format"] == "rigol-csv"
    assert session.duration_s == pytest.approx(sum(ms for _, ms in SESSION) * 1e-3, rel=1e-3)
    fast = read_results(out_dir / "mc_fast.parquet")
    assert len(fast) == 600_000 and set(fast["seed"]) == {2024}
    spice = read_results(out_dir / "mc_spice.parquet")
    assert len(spice) == 24 and spice["error"].isna().all()
    pngs = sorted((out_dir / "plots").glob("*.png"))
    assert len(pngs) == 3 * 6 + 1 + 2  # 6 PWM captures x 3, A1 overview, 2 studies
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000
    assert figure.read_bytes() == (out_dir / "plots" / "cp_session_csv_overview.png").read_bytes()

    doc = _Sections()
    doc.feed((out_dir / "report.html").read_text(encoding="utf-8"))
    assert doc.sections.count("capture") == 7 and doc.sections.count("montecarlo") == 2
    assert len(doc.images) == len(pngs)
    assert all(u.startswith("data:image/png;base64,") for u in doc.urls)
    overview_png = (out_dir / "plots" / "cp_session_csv_overview.png").read_bytes()
    assert base64.b64decode(doc.images[0].split(",", 1)[1]) == overview_png
