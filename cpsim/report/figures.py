"""The report's plots, rendered once each and embedded as base64 PNG."""

from __future__ import annotations

import base64
from pathlib import Path

from .model import CaptureReport, MonteCarloReport
from .text import _e, _slug


class _Figures:
    """Renders figures to PNG once: embedded as data URIs, optionally written to ``png_dir``."""

    def __init__(self, png_dir):
        self.png_dir = None if png_dir is None else Path(png_dir)
        if self.png_dir is not None:
            self.png_dir.mkdir(parents=True, exist_ok=True)
        self.written: list[Path] = []

    def img(self, fig, filename: str, alt: str) -> str:
        from .. import plot

        path = None if self.png_dir is None else self.png_dir / filename
        data = plot.figure_png(fig, path, dpi=110)
        if path is not None:
            self.written.append(path)
        fig.clear()
        b64 = base64.b64encode(data).decode("ascii")
        width = int.from_bytes(data[16:20], "big")  # PNG IHDR: never upscale a figure
        return (f'<figure><img alt="{_e(alt)}" style="max-width:{width}px" src="data:image/png;base64,{b64}">'
                f'<figcaption>{_e(alt)}</figcaption></figure>')


def _capture_figures(cr: CaptureReport, figs: _Figures) -> str:
    from .. import plot

    m, wave, slug = cr.measurement, cr.wave, _slug(cr.name)
    out = []
    with plot.style():
        fig = plot.new_figure(figsize=(12, 5), pyplot=False)
        axes = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [5, 0.9], "hspace": 0.08})
        plot.overview(wave, axes=axes, profile=cr.profile, measurement=m, title=f"{cr.name}: {_states(m)}")
        out.append(figs.img(fig, f"{slug}_overview.png",
                            f"Overview of {cr.name}: the whole capture, state stretches shaded, the "
                            f"profile's windows at the right, the timeline of states below."))
        if not len(m.cycles):
            out.append('<p class="meta">No PWM cycle in this capture: no period zoom and no per-cycle plot.</p>')
        else:
            fig = plot.new_figure(figsize=(12, 4.2), pyplot=False)
            gs = fig.add_gridspec(1, 4, wspace=0.45)
            ax0 = fig.add_subplot(gs[0, :2])
            ax1 = fig.add_subplot(gs[0, 2])
            ax2 = fig.add_subplot(gs[0, 3])
            zoom = wave if cr.zoom is None else cr.zoom  # a streamed capture: one period's samples
            plot.period_zoom(zoom, m, ax=ax0, profile=cr.profile)
            plot.edge_zoom(zoom, m, ax=ax1, edge="rise", profile=cr.profile)
            plot.edge_zoom(zoom, m, ax=ax2, edge="fall", profile=cr.profile)
            out.append(figs.img(fig, f"{slug}_period.png",
                                "One period: measured V+ and V− (dashed), the 10 %/90 % levels (dotted) and the "
                                "edge crossings (dots); right, the rising and falling edges."))
            fig = plot.new_figure(figsize=(12, 3.4), pyplot=False)
            plot.cycles(m, axes=fig.subplots(1, 2, gridspec_kw={"wspace": 0.22}), profile=cr.profile)
            out.append(figs.img(fig, f"{slug}_cycles.png",
                                "Per-cycle duty and frequency over time; green: 995–1005 Hz, dashed: the "
                                "980/1020 Hz failure limits."))
    return "\n".join(out)


def _states(m) -> str:
    names: list[str] = []
    for s in m.segments:
        if not names or names[-1] != s.state:
            names.append(s.state)
    return " → ".join(names) or str(m.state)




def _study_figures(mr: MonteCarloReport, figs: _Figures) -> str:
    """One figure per study: the level histograms of each state and, below each, what drives that level
    (a tornado chart of the parameters' shares of its variance)."""
    from .. import plot

    s, df, slug = mr.summary, mr.df, _slug(mr.name)
    if not s["valid_runs"]:
        return '<p class="meta">No run of this study ran: no histogram and no sensitivity to show.</p>'
    states = [e["state"] for e in mr.per_state if e["runs"] > e["errors"]]
    ranking = s.get("sensitivity") or {}
    drawn = {st: ("v_low" if st.startswith("F") else "v_high") for st in states}
    drawn = {st: lv for st, lv in drawn.items() if (ranking.get(st) or {}).get(lv)}
    n = max(1, len(states))
    with plot.style():
        fig = plot.new_figure(figsize=(max(4.3 * n, 7.0), 6.6 if drawn else 4.8), pyplot=False, layout="constrained")
        top, bottom = fig.subfigures(2, 1, height_ratios=[4.4, 2.6]) if drawn else (fig, None)
        axes = top.subplots(1, n, squeeze=False)[0]
        plot.montecarlo(df, axes=list(axes), profile=mr.profile, compare=mr.compare, states=states)
        if bottom is not None:
            for ax, state in zip(bottom.subplots(1, n, squeeze=False)[0], states):
                if state in drawn:
                    plot.tornado(s, state=state, level=drawn[state], ax=ax, top=6)
                else:
                    ax.set_axis_off()
        caption = (f"Level histograms of {mr.name} per simulated state; red lines: the {mr.profile.name} window, "
                   f"dashed: the other profiles' windows; misread runs in red.")
        if drawn:
            caption += (" Below: what drives each level, the varied parameters by share of its variance (right: "
                        f"raising the parameter raises the level; {s.get('sensitivity_method', '')}).")
        return figs.img(fig, f"{slug}_levels.png", caption)
