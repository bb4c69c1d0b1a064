"""``cpsim report``: one self-contained HTML compliance report of captures and tolerance studies.

The report holds, for every capture: the verdict table (:mod:`cpsim.report.checks`: every
measured parameter with its limit, margin, verdict and source), the timeline of states, an
overview plot with the state stretches shaded, a zoom on one period with the measured levels
and the 10 %/90 % points, and the per-cycle duty and frequency. For every Monte Carlo results
file (:func:`cpsim.run_montecarlo`, Parquet or CSV): per-state level histograms against the
thresholds, the yield under each profile, statistics, margins and the worst cases.

Plots are embedded as base64 PNG; the file loads nothing from the network. matplotlib and
pandas are imported only when a report is built.

Examples
--------
>>> import os, tempfile
>>> import cpsim
>>> from cpsim.report import write_report
>>> wave = cpsim.simulate_cp("C", duty=0.25, periods=10)     # or a capture file's path
>>> mc = cpsim.run_montecarlo("C", 1000, seed=1)             # or a results file's path
>>> with tempfile.TemporaryDirectory() as tmp:
...     out = write_report(os.path.join(tmp, "report.html"), captures=[wave], results=[mc])
...     print(out.name, out.stat().st_size > 10_000)
report.html True
"""

from .html import render_report, save_html, write_report
from .model import CaptureReport, MonteCarloReport, capture_report, input_kind, montecarlo_report
from .text import format_margin, format_value

__all__ = ["CaptureReport", "MonteCarloReport", "capture_report", "montecarlo_report", "render_report",
           "write_report", "save_html", "input_kind", "format_value", "format_margin"]
