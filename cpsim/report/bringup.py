"""The virtual bring-up section of a report: an HTML fragment with the tables and the code histograms."""

from __future__ import annotations

import base64
from html import escape

__all__ = ["bringup_section"]


def _e(x) -> str:
    return escape(str(x), quote=True)


def _n(x, fmt: str = ".1f") -> str:
    return "n/a" if x is None else format(x, fmt)


def _pct(x) -> str:
    return "n/a" if x is None else f"{100.0 * x:.3g} %"


def _states_table(s: dict) -> str:
    rows = []
    for state, st in s["states"].items():
        if "code" not in st:
            rows.append(f"<tr><td>{_e(state)}</td><td colspan='6'>{_e('; '.join(st.get('notes', [])))}</td></tr>")
            continue
        c, m = st["code"], st["misread"]
        read = ", ".join(f"{_e(k)} {v:,}" for k, v in st["read_as"].items())
        margins = "<br>".join(
            f"{_e(g['edge'])} {g['threshold_counts']}: {g['margin_lsb']:+.1f} LSB"
            f" (driven by {_e(g['driven_by'] or 'n/a')})" for g in st["margins"])
        cls = " class='bad'" if m["count"] else ""
        rows.append(f"<tr{cls}><td>{_e(state)}</td><td>{c['min']:.0f} / {c['median']:.0f} / {c['max']:.0f}</td>"
                    f"<td>{read}</td><td>{m['count']:,} ({_pct(m['rate'])})</td><td>{_pct(m['upper_95'])}</td>"
                    f"<td>{margins}</td></tr>")
    return ("<table class='bringup'><thead><tr><th>state</th><th>code min / median / max</th><th>read as</th>"
            "<th>misread</th><th>95 % upper bound</th><th>margins</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _thresholds_table(s: dict) -> str:
    rows = "".join(
        f"<tr><td>{_e(b['upper'])} | {_e(b['lower'])}</td><td>{b['threshold_counts']}</td>"
        f"<td>{b['current_margin_lsb']:+.1f}</td><td>{b['margin_lsb']:+.1f}</td>"
        f"<td>{'yes' if b['separable'] else 'no: the code ranges overlap'}</td></tr>" for b in s["boundaries"])
    windows = ", ".join(f"{_e(k)} {v[0]}–{v[1]}" for k, v in s["recommended_thresholds_counts"].items())
    return (f"<p>Recommended thresholds (counts): {windows}; smallest margin between adjacent states "
            f"{_n(s['recommended_margin_lsb'])} LSB (now {_n(s['current_margin_lsb'])} LSB).</p>"
            "<table class='bringup'><thead><tr><th>boundary</th><th>recommended threshold</th>"
            "<th>margin now [LSB]</th><th>margin recommended [LSB]</th><th>separable</th></tr></thead><tbody>"
            + rows + "</tbody></table>")


def _figure(result) -> str:
    from ..plot._figure import figure_png
    from ..plot.bringup import code_histograms

    axes = code_histograms(result, pyplot=False)
    data = figure_png(axes[0].figure, dpi=100)
    b64 = base64.b64encode(data).decode("ascii")
    alt = f"{result.summary['board']}: readings per state against the thresholds"
    return (f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{b64}"><figcaption>{_e(alt)}'
            "</figcaption></figure>")


def bringup_section(result, *, figure: bool = True) -> str:
    """An HTML ``<section>`` for a :class:`~cpsim.study.bringup.api.BringupResult`: failures first (misreads,
    errors), then the per-state table, the thresholds, the worst variations and the code histograms."""
    s = result.summary
    head = (f"<h2>Virtual bring-up: {_e(s['board'])}</h2><p>Engine {_e(s['engine'])}, {s['runs']:,} variations "
            f"per state, seed {s['seed']}; sampling {_e(s['sampling'])}, algorithm {_e(s['algorithm'])}, "
            f"debounce {s['debounce']}, {s['adc_bits']}-bit ADC.</p>")
    verdict = (f"<p class='bad'>{s['misread_total']:,} variations misread their state.</p>" if s["misread_total"]
               else "<p class='ok'>No variation misread its state.</p>")
    if s["errors"]:
        verdict += f"<p class='bad'>{s['errors']:,} variations could not be evaluated.</p>"
    notes = "".join(f"<p class='note'>{_e(n)}</p>" for n in s["notes"])
    worst = "".join(f"<li>{_e(w['state'])} run {w['run']}: code {w['code']:.0f}, read as {_e(w['read_as'])}, "
                    f"margin {w['margin_lsb']:+.1f} LSB, CP {w['v_cp_v']:.3f} V</li>" for w in s["worst_variations"])
    body = (head + verdict + notes + _states_table(s) + _thresholds_table(s)
            + (f"<h3>Worst variations</h3><ul>{worst}</ul>" if worst else "")
            + (_figure(result) if figure else ""))
    return f"<section class='bringup'>{body}</section>"
