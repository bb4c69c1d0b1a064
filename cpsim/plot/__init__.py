"""Plots of pilot captures and tolerance studies (matplotlib, imported only when a plot is drawn).

Every function draws into ``ax``/``axes`` when given (a notebook's own figure) or makes a figure
with :mod:`matplotlib.pyplot` (shown inline by Jupyter), and returns the axes. Units are in every
axis label; time is shown in µs, ms or s, whichever reads best.

====================  ============================================================================
:func:`waveform`      a capture (or a measurement's per-cycle levels) with the timeline's state
                      stretches shaded and, optionally, the profile's state windows
:func:`timeline`      the states over time as a coloured strip
:func:`overview`      :func:`waveform` above :func:`timeline` (the report's overview)
:func:`period_zoom`   one PWM period with the measured levels and the 10 %/90 % points
:func:`edge_zoom`     one rising or falling edge, its 10 %/90 % crossings and rise/fall time
:func:`cycles`        per-cycle duty and frequency over time, against the frequency limits
:func:`montecarlo`    per-state level histograms of a tolerance study against the thresholds
:func:`tornado`       what drives a study's level: the parameters by share of its variance
====================  ============================================================================

Examples
--------
>>> import cpsim
>>> from cpsim.analysis.synthetic import Stretch, pilot_waveform
>>> wave = pilot_waveform([Stretch(0.01, 9.0, -12.0, 0.25), Stretch(0.01, 6.0, -12.0, 0.25)])
>>> ax = cpsim.plot.waveform(wave)                      # a new pyplot figure (Agg without a display)
>>> ax.get_xlabel(), ax.get_ylabel()
('time [ms]', 'CP voltage [V]')
>>> import matplotlib.pyplot as plt
>>> plt.close(ax.figure)
"""

from ._figure import STATE_COLORS, figure_png, new_figure, style
from .capture import overview, timeline, waveform
from .detail import cycles, edge_zoom, period_zoom
from .studies import montecarlo, tornado

__all__ = ["waveform", "timeline", "overview", "period_zoom", "edge_zoom", "cycles", "montecarlo", "tornado",
           "STATE_COLORS", "style", "new_figure", "figure_png"]
