"""Figure plumbing shared by every plot: the style, state colours, figures and PNG output."""

from __future__ import annotations

import contextlib
import os
import sys

STATE_COLORS = {
    "A": "#8C8C8C", "B": "#0072B2", "C": "#009E73", "D": "#E69F00", "E": "#CC79A7", "F": "#D55E00",
    "invalid": "#000000",
}
"""Colour of each state letter (Okabe-Ito palette: distinguishable with colour-vision deficiencies)."""

_STYLE = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 100,
}
TRACE_COLOR = "#1a1a1a"
LEVEL_COLOR = "#c0392b"
MARK_COLOR = "#8e44ad"


def _matplotlib():
    """Import matplotlib, choosing Agg when there is no display and no backend was asked for."""
    import matplotlib

    headless = sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or
                                                         os.environ.get("WAYLAND_DISPLAY"))
    if headless and "MPLBACKEND" not in os.environ and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    return matplotlib


@contextlib.contextmanager
def style():
    """Apply cpsim's plot style (legible fonts, light grid) inside a ``with`` block.

    Only the style's own keys are saved and restored: ``matplotlib.rc_context`` would also
    restore ``interactive``, which Jupyter's inline backend switches on when pyplot is first
    imported (possibly inside this block), and later figures would no longer be shown.
    """
    mpl = _matplotlib()
    saved = {k: mpl.rcParams[k] for k in _STYLE}
    mpl.rcParams.update(_STYLE)
    try:
        yield
    finally:
        mpl.rcParams.update(saved)


def new_figure(*, figsize=(10, 4), pyplot: bool = True, **kw):
    """A figure: from :mod:`matplotlib.pyplot` (shown in notebooks), or a bare Agg one (reports)."""
    _matplotlib()
    if pyplot:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=figsize, **kw)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, **kw)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig, path=None, *, dpi: int = 100) -> bytes:
    """Render ``fig`` as PNG bytes (and write them to ``path`` when given)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.12,
                metadata={"Software": "cpsim"})
    data = buf.getvalue()
    if path is not None:
        with open(path, "wb") as fh:
            fh.write(data)
    return data


def _axes(ax, figsize=(10, 4)):
    if ax is not None:
        return ax
    fig = new_figure(figsize=figsize)
    return fig.add_subplot(1, 1, 1)


def _time_unit(span_s: float) -> tuple[float, str]:
    """Scale factor and unit that make ``span_s`` read well."""
    span = abs(float(span_s))
    if span < 2e-3:
        return 1e6, "µs"
    if span < 2.0:
        return 1e3, "ms"
    return 1.0, "s"


def _state_color(state: str) -> str:
    s = str(state)
    return STATE_COLORS["invalid"] if s == "invalid" else STATE_COLORS.get(s[:1], STATE_COLORS["invalid"])

