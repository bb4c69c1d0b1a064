"""The self-contained HTML page: sections for captures, studies, sources and the summary."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from .. import standard as std
from .._version import __version__
from ..errors import ParameterError
from ..outputs import write_text
from ..units import format_percent as _pct
from ..units import format_si
from .checks import CheckRow, overall_verdict
from .figures import _capture_figures, _Figures, _states, _study_figures
from .model import CaptureReport, MonteCarloReport, capture_report, distinct_names, montecarlo_report
from .text import _badge, _e, _finite, _num, _param_text, format_margin, format_value

log = logging.getLogger(__name__)


_CSS = """
:root { --pass:#1e8449; --warn:#b9770e; --fail:#c0392b; --info:#2e86c1; --na:#7f8c8d; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #1c2833;
       background: #fbfcfc; font-size: 15px; line-height: 1.45; }
main { max-width: 1240px; margin: 0 auto; padding: 18px 20px 40px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 21px; margin: 34px 0 8px; padding-top: 10px; border-top: 2px solid #d5d8dc; }
h3 { font-size: 17px; margin: 20px 0 6px; }
.meta { color: #566573; font-size: 14px; margin: 2px 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 14px; background: #fff; }
th, td { border: 1px solid #d5d8dc; padding: 4px 7px; text-align: left; vertical-align: top; }
th { background: #eaeded; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.src { color: #515a5a; font-size: 12.5px; }
td.note { color: #515a5a; font-size: 13px; }
tr.v-fail td { background: #fdedec; }
tr.v-warn td { background: #fef5e7; }
.badge { display: inline-block; min-width: 42px; text-align: center; padding: 1px 7px; border-radius: 9px;
         color: #fff; font-weight: 700; font-size: 12.5px; }
.v-pass { background: var(--pass); } .v-warn { background: var(--warn); } .v-fail { background: var(--fail); }
.v-info { background: var(--info); } .v-na { background: var(--na); }
tr.v-pass, tr.v-warn, tr.v-fail, tr.v-info, tr.v-na { background: none; }
figure { margin: 10px 0 16px; }
figure img { width: 100%; height: auto; border: 1px solid #e5e8e8; background: #fff; }
figcaption { color: #566573; font-size: 13px; margin-top: 3px; }
ul.faults li { margin: 3px 0; }
.notes { color: #7e5109; }
.big { font-size: 17px; }
"""


def _check_table(rows: Sequence[CheckRow]) -> str:
    head = ("<tr><th>parameter</th><th>measured</th><th>limit</th><th>margin</th><th>verdict</th>"
            "<th>source of the limit</th><th>note</th></tr>")
    body = []
    for r in rows:
        body.append(
            f'<tr class="check v-{_e(r.verdict.replace("/", ""))}" data-parameter="{_e(r.parameter)}" '
            f'data-verdict="{_e(r.verdict)}">'
            f"<td>{_e(r.label)}</td><td class=\"{'txt' if isinstance(r.value, str) else 'num'}\">"
            f"{_e(format_value(r.value, r.unit, r.parameter))}</td>"
            f"<td>{_e(r.limit)}</td><td class=\"num\">{_e(format_margin(r.margin, r.unit, r.parameter))}</td>"
            f"<td>{_badge(r.verdict)}</td><td class=\"src\">{_e(r.source)}</td><td class=\"note\">{_e(r.note)}</td>"
            "</tr>")
    return f'<table class="verdicts">{head}{"".join(body)}</table>'


def _segment_table(cr: CaptureReport) -> str:
    m = cr.measurement
    head = ("<tr><th>#</th><th>state</th><th>start</th><th>end</th><th>duration</th><th>V+</th><th>V−</th>"
            "<th>duty</th><th>frequency</th><th>current</th><th>cycles</th><th>level window</th><th>verdict</th>"
            "<th>note</th></tr>")
    body = []
    for i, (s, c) in enumerate(zip(m.segments, cr.segment_checks), start=1):
        body.append(
            f'<tr class="segment v-{_e(c.verdict.replace("/", ""))}" data-verdict="{_e(c.verdict)}">'
            f"<td>{i}</td><td>{_e(s.state)}</td>"
            f'<td class="num">{s.t_start * 1e3:.3f} ms</td><td class="num">{s.t_end * 1e3:.3f} ms</td>'
            f'<td class="num">{(s.t_end - s.t_start) * 1e3:.3f} ms</td>'
            f'<td class="num">{_e(format_value(s.v_high, "V"))}</td>'
            f'<td class="num">{_e(format_value(s.v_low if s.n_cycles else float("nan"), "V"))}</td>'
            f'<td class="num">{_e(format_value(s.duty, "fraction"))}</td>'
            f'<td class="num">{_e(format_value(s.frequency_hz, "Hz"))}</td>'
            f'<td class="num">{_e(format_value(s.current_a, "A"))}</td><td class="num">{s.n_cycles}</td>'
            f"<td>{_e(c.limit)}</td><td>{_badge(c.verdict)}</td><td class=\"note\">{_e(c.note)}</td></tr>")
    return f'<table class="segments">{head}{"".join(body)}</table>'


def _capture_section(cr: CaptureReport, figs: _Figures, index: int) -> str:
    m, info = cr.measurement, cr.info
    parts = [f'<section class="capture" id="capture-{index}">',
             f"<h2>{index}. {_e(cr.name)} {_badge(cr.verdict)}</h2>"]
    rate = info.get("sample_rate_hz", float("nan"))
    parts.append(
        f'<p class="meta">{_e(info.get("path") or "in-memory waveform")} · format {_e(info.get("format") or "—")} · '
        f'channel {_e(info.get("channel"))} · {info.get("samples", 0):,} samples · {_e(format_si(rate, "S/s"))} · '
        f'{_e(format_si(info.get("duration_s", float("nan")), "s", 4))} · profile {_e(cr.profile.name)}'
        + (f' · expected state {_e(info["expected_state"])}' if info.get("expected_state") else "")
        + (" · vehicle connected" if info.get("vehicle_connected") else "") + "</p>")
    trace = [f"{k.removeprefix('instrument_').replace('_', ' ')} {v}" for k, v in info.items()
             if k.startswith("instrument_")]
    if info.get("sha256"):
        trace.insert(0, f"{info['file_size_bytes']:,} bytes, SHA-256 {info['sha256']}")
    if trace:
        parts.append(f'<p class="meta trace">Traceability: {_e(" · ".join(trace))}</p>')
    parts.append(f'<p class="big">Read as <b>{_e(m.state)}</b>'
                 + (f" ({_e(m.reason)})" if m.reason else "")
                 + (f", {m.duty * 100:.2f} % duty, {m.current_a:.1f} A offered" if _finite(m.current_a) else "")
                 + f"; timeline {_e(_states(m))}.</p>")
    if cr.faults:
        parts.append('<ul class="faults">' + "".join(
            f"<li>{_badge('fail')} <b>{_e(f.code)}</b>: {_e(f.message)}</li>" for f in cr.faults) + "</ul>")
    parts.append("<h3>Verdicts (summarised stretch: the longest)</h3>")
    parts.append(_check_table(cr.checks))
    parts.append("<h3>Timeline</h3>")
    parts.append(_segment_table(cr))
    if m.notes:
        parts.append('<p class="notes">' + "<br>".join(f"Note: {_e(n)}" for n in m.notes) + "</p>")
    parts.append("<h3>Plots</h3>")
    parts.append(_capture_figures(cr, figs))
    parts.append("</section>")
    return "\n".join(parts)


_STAT_UNITS = {"v_high": "V", "v_low": "V", "measured_duty": "fraction", "measured_frequency_hz": "Hz",
               "measured_rise_time_s": "s", "measured_fall_time_s": "s", "current_a": "A", "overshoot": "fraction",
               "undershoot": "fraction"}


def _tolerance_text(tols) -> str:
    """The varied tolerances as the user gave them (ranges in their units, %-points for duty)."""
    from ..study.variations import Tolerance

    parts = []
    for t in tols or ():
        if t.get("dist") == "fixed":
            continue
        try:
            parts.append(Tolerance(**t).describe())
        except (TypeError, ValueError):  # a file written by another version: say what it holds
            parts.append(f"{t.get('name')} {t.get('dist')} tol {t.get('tol')!r}"
                         + (" (relative)" if t.get("relative") else ""))
    return "; ".join(parts)


def _mc_failures(s: dict) -> str:
    f = s["failures"]
    if not f["count"]:
        return f'<p class="meta">All {s["runs"]:,} runs ran; none failed.</p>'
    items = "".join(f"<li>{m['count']:,} × <code>{_e(m['message'])}</code> (first: run {m['first_run']})</li>"
                    for m in f["messages"])
    more = f"<li>… {f['distinct'] - len(f['messages'])} more distinct messages</li>" \
        if f["distinct"] > len(f["messages"]) else ""
    return (f'<p class="big failures">{_badge("fail")} <b>{f["count"]:,} of {s["runs"]:,} runs failed</b> '
            f"({_pct(f['fraction'])}): they are not in the statistics, yields or margins below, which are over "
            f"the {s['valid_runs']:,} runs that ran.</p><ul class=\"faults\">{items}{more}</ul>")


def _mc_yield(mr: MonteCarloReport) -> str:
    s, profiles = mr.summary, [mr.profile, *mr.compare]
    head = ("<tr><th>state</th><th>runs (failed)</th>"
            + "".join(f"<th>yield {_e(p.name)} (of the runs that ran)</th>" for p in profiles) + "</tr>")
    body = []
    for entry in mr.per_state:
        cells = []
        for p in profiles:
            y = entry["yield"][p.name]
            mis = f" ({', '.join(f'{v} read as {k}' for k, v in y['as'].items())})" if y["misclassified"] else ""
            cells.append(f'<td class="num">{_e(_pct(y["yield"]) + mis)}</td>')
        body.append(f'<tr class="yield" data-state="{_e(entry["state"])}"><td>{_e(entry["state"])}</td>'
                    f'<td class="num">{entry["runs"]:,}'
                    + (f' ({entry["errors"]:,} failed)' if entry["errors"] else "") + f'</td>{"".join(cells)}</tr>')
    return ("<h3>Threshold yield</h3>" + f'<table class="yield">{head}{"".join(body)}</table>'
            + f'<p class="big misread">{_e(s["misclassified"]["rate_text"])} '
              f'({_e(mr.profile.name)}; one-sided Clopper–Pearson bound).</p>'
            + '<p class="meta">Profiles: ' + "; ".join(
                f"{_e(p.name)}: " + ", ".join(f"{k} {w.lo:g}…{w.hi:g} V" for k, w in p.high_windows.items())
                for p in profiles) + "</p>")


def _mc_statistics(s: dict) -> str:
    head = "<tr><th>state</th><th>quantity</th><th>min</th><th>max</th><th>mean</th><th>σ</th><th>count</th></tr>"
    body = []
    for state, stats in s["statistics"].items():
        for col, st in stats.items():
            unit = _STAT_UNITS.get(col, "")
            body.append(f"<tr><td>{_e(state)}</td><td>{_e(col)}</td>"
                        f'<td class="num">{_e(format_value(st["min"], unit))}</td>'
                        f'<td class="num">{_e(format_value(st["max"], unit))}</td>'
                        f'<td class="num">{_e(format_value(st["mean"], unit))}</td>'
                        f'<td class="num">{_e(format_margin(st["std"], unit).lstrip("+"))}</td>'
                        f'<td class="num">{st["count"]:,}</td></tr>')
    return "<h3>Statistics (runs that ran)</h3>" + f'<table class="stats">{head}{"".join(body)}</table>'


def _mc_margins(mr: MonteCarloReport) -> str:
    from ..study.summary import format_margin_v

    head = ("<tr><th>state</th><th>level</th><th>threshold</th><th>smallest margin</th><th>verdict</th><th>run</th>"
            "<th>source</th></tr>")
    body = []
    for th in mr.summary["thresholds"]:
        cls = "v-fail" if th["verdict"] == "fail" else ""
        body.append(f'<tr class="{cls}"><td>{_e(th["state"])}</td><td>{_e(th["level"])}</td>'
                    f'<td class="num">{th["edge"]} {th["threshold_v"]:g} V</td>'
                    f'<td class="num">{_e(format_margin_v(th["margin_shown_v"]))}</td>'
                    f'<td>{_badge(th["verdict"])}</td><td class="num">{_e(th["run"])}</td>'
                    f'<td class="src">{_e(th["source"])}</td></tr>')
    return (f"<h3>Smallest margins to the {_e(mr.profile.name)} thresholds</h3>"
            f'<table class="margins">{head}{"".join(body)}</table>'
            '<p class="meta">Limits are inclusive. Margins are judged as shown, rounded to 1 mV: a level a '
            "tolerance brings exactly onto a limit has a zero margin and passes. A level less than 0.5 mV beyond "
            "a state window shows −0.000 V and fails: the analyzer reads it as another state.</p>")


def _mc_timing(s: dict) -> str:
    rows = s.get("timing") or []
    if not rows:
        return ""
    head = ("<tr><th>state</th><th>quantity</th><th>limit</th><th>worst</th><th>run</th><th>outside</th>"
            "<th>verdict</th><th>source</th></tr>")
    body = []
    for t in rows:
        scale, unit = (1e6, "µs") if t["unit"] == "s" else (1.0, "Hz")
        lo, hi = t["limit_lo"], t["limit_hi"]
        limit = ("none published" if lo is None and hi is None else f"< {hi * scale:g} {unit}" if lo is None
                 else f"{lo * scale:g}…{hi * scale:g} {unit}")
        worst = "—" if t["worst"] is None else f"{t['worst'] * scale:.2f} {unit}"
        body.append(f'<tr class="timing v-{_e(t["verdict"].replace("/", ""))}"><td>{_e(t["state"])}</td>'
                    f'<td>{_e(t["quantity"])}</td><td>{_e(limit)}</td><td class="num">{_e(worst)}</td>'
                    f'<td class="num">{_e(t["worst_run"])}</td><td class="num">{t["outside"]:,} of {t["count"]:,}</td>'
                    f'<td>{_badge(t["verdict"])}</td><td class="src">{_e(t["source"])}</td></tr>')
    return ("<h3>Timing and frequency measured by the spice engine, against the limits</h3>"
            f'<table class="timing">{head}{"".join(body)}</table>')


def _mc_worst(s: dict) -> str:
    cases = s["worst_cases"]
    if not cases:
        return "<h3>Worst cases</h3><p>No valid runs.</p>"
    extra = [k for k in cases[0]
             if k not in ("run", "expected_state", "read_as", "v_high", "v_low", "margin_v", "margin_shown_v")]
    head = ("<tr><th>run</th><th>state</th><th>read as</th><th>V+</th><th>V−</th><th>margin</th>"
            "<th>varied parameters of the run</th></tr>")
    body = []
    for c in cases:
        params = ", ".join(_param_text(k, c.get(k)) for k in extra)
        body.append(f'<tr class="worst"><td class="num">{c["run"]}</td><td>{_e(c["expected_state"])}</td>'
                    f'<td>{_e(c["read_as"])}</td><td class="num">{_e(_num(c["v_high"], "+.3f"))} V</td>'
                    f'<td class="num">{_e(_num(c["v_low"], "+.3f"))} V</td>'
                    f'<td class="num">{_e(_num(c["margin_shown_v"], "+.3f"))} V</td>'
                    f'<td class="note">{_e(params)}</td></tr>')
    return f'<h3>Worst cases</h3><table class="worst">{head}{"".join(body)}</table>'


def _mc_section(mr: MonteCarloReport, figs: _Figures, index: int) -> str:
    s, df = mr.summary, mr.df
    parts = [f'<section class="montecarlo" id="montecarlo-{index}">',
             f"<h2>{index}. Tolerance study: {_e(mr.name)}</h2>", _mc_failures(s)]
    parts.append(f'<p class="meta">engine {_e(s.get("engine") or "—")} · {s["runs"]:,} runs · seed {_e(s["seed"])} · '
                 f'states {_e(", ".join(s["state"]))} · {s["errors"]:,} failed · '
                 f'judged by {_e(mr.profile.name)}</p>')
    tol_text = _tolerance_text(df.attrs.get("tolerances"))
    if tol_text:
        parts.append(f'<p class="meta">varied: {_e(tol_text)}</p>')
    parts += [_mc_yield(mr), _study_figures(mr, figs), _mc_statistics(s), _mc_margins(mr), _mc_timing(s),
              _mc_worst(s), "</section>"]
    return "\n".join(p for p in parts if p)


def _sources_section() -> str:
    rows = []
    for line in (std.__doc__ or "").splitlines():
        m = re.match(r"^([A-Z][A-Z0-9-]+|calc)\s{2,}(.+)$", line)
        if m:
            rows.append(f"<tr><td><b>{_e(m.group(1))}</b></td><td>{_e(m.group(2))}</td></tr>")
    return ('<section id="sources"><h2>Sources of the limits</h2><p class="meta">SAE J1772 and IEC 61851-1 are '
            "paywalled; every limit comes from public firmware, manuals and notes that quote or implement them "
            "(cpsim.standard, PILOT-REFERENCE). Source keys:</p>"
            f'<table class="sources"><tr><th>key</th><th>source</th></tr>{"".join(rows)}</table></section>')


def _summary_section(captures: Sequence[CaptureReport], studies: Sequence[MonteCarloReport]) -> str:
    parts = []
    if captures:
        head = ("<tr><th>#</th><th>capture</th><th>state</th><th>V+</th><th>V−</th><th>duty</th><th>frequency</th>"
                "<th>verdict</th><th>faults</th></tr>")
        body = []
        for i, cr in enumerate(captures, start=1):
            m = cr.measurement
            body.append(
                f'<tr class="summary v-{_e(cr.verdict.replace("/", ""))}" data-verdict="{_e(cr.verdict)}">'
                f'<td>{i}</td><td>{_e(cr.name)}</td><td>{_e(m.state)}</td>'
                f'<td class="num">{_e(format_value(m.v_high, "V"))}</td>'
                f'<td class="num">{_e(format_value(m.v_low, "V") if m.pwm else "—")}</td>'
                f'<td class="num">{_e(format_value(m.duty, "fraction"))}</td>'
                f'<td class="num">{_e(format_value(m.frequency_hz, "Hz"))}</td><td>{_badge(cr.verdict)}</td>'
                f'<td>{_e(", ".join(f.code for f in cr.faults) or "none")}</td></tr>')
        parts.append(f'<h2>Summary</h2><table class="summary">{head}{"".join(body)}</table>')
    if studies:
        rows = []
        for k, mr in enumerate(studies, start=len(captures) + 1):
            yields = "; ".join(
                f"{e['state']}: " + ", ".join(f"{name} {_pct(v['yield'])}" for name, v in e["yield"].items())
                for e in mr.per_state)
            rows.append(f"<tr><td>{k}</td><td>{_e(mr.name)}</td><td>{_e(mr.summary.get('engine') or '—')}</td>"
                        f'<td class="num">{mr.summary["runs"]:,}</td><td>{_e(yields)}</td></tr>')
        parts.append("<h3>Tolerance studies</h3><table class=\"studies\"><tr><th>#</th><th>results</th><th>engine</th>"
                     f"<th>runs</th><th>yield per state and profile</th></tr>{''.join(rows)}</table>")
    return "\n".join(parts)


def render_report(captures: Iterable = (), results: Iterable = (), *,
                  profile: str | std.LimitsProfile = "iec61851", compare: Sequence | None = None,
                  title: str | None = None, png_dir=None, vehicle_connected: bool | None = None,
                  command: str | None = None, fleets: Iterable = ()) -> tuple[str, list]:
    """Build the report; returns ``(html_text, png_paths_written)``.

    ``captures``: paths, Waveforms or :class:`CaptureReport`; ``results``: results frames,
    ``.parquet``/``.csv`` paths or :class:`MonteCarloReport`. ``png_dir``: also write every plot there.
    ``command``: the command line that made the report, recorded in it (the CLI passes its own).
    ``fleets``: tables of captures (paths, frames or :class:`~cpsim.report.fleet.FleetReport`), one
    fleet summary each.
    """
    from .fleet import FleetReport, fleet_report, fleet_section

    prof = std.get_profile(profile)
    crs = [c if isinstance(c, CaptureReport) else capture_report(c, profile=prof, vehicle_connected=vehicle_connected)
           for c in captures]
    names = distinct_names([c.name for c in crs], [str(c.info.get("path", "")) for c in crs])
    crs = [c if c.name == n else dataclasses.replace(c, name=n) for c, n in zip(crs, names)]
    mrs = [r if isinstance(r, MonteCarloReport) else montecarlo_report(r, profile=prof, compare=compare)
           for r in results]
    frs = [f if isinstance(f, FleetReport) else fleet_report(f) for f in fleets]
    if not crs and not mrs and not frs:
        raise ParameterError("nothing to report: give at least one capture or one results file")
    figs = _Figures(png_dir)
    title = title or "cpsim pilot compliance report"
    now = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    verdict = overall_verdict([r for c in crs for r in c.checks + c.segment_checks])
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">cpsim {_e(__version__)} · {_e(now)} · limits profile <b>{_e(prof.name)}</b>: '
        f"{_e(prof.description)} · frequency: warn outside {prof.frequency_warn.lo:g}–{prof.frequency_warn.hi:g} Hz, "
        f"fail outside {prof.frequency_fail.lo:g}–{prof.frequency_fail.hi:g} Hz</p>",
        f'<p class="meta">Verdicts: {_badge("pass")} inside the limit · {_badge("warn")} outside a recommendation or '
        f'a low-confidence limit · {_badge("fail")} outside the limit · {_badge("info")} measured, no published '
        f'limit · {_badge("inconclusive")} the capture cannot tell (see the reason) · {_badge("n/a")} does not '
        f'apply. Margins are positive inside the limit.'
        + (f" Overall capture verdict: {_badge(verdict)}" if crs else "") + "</p>",
        *([f'<p class="meta">Made by: <code>{_e(command)}</code></p>'] if command else []),
        _summary_section(crs, mrs),
    ]
    for i, cr in enumerate(crs, start=1):
        body.append(_capture_section(cr, figs, i))
    for k, mr in enumerate(mrs, start=len(crs) + 1):
        body.append(_mc_section(mr, figs, k))
    for k, fr in enumerate(frs, start=len(crs) + len(mrs) + 1):
        body.append(fleet_section(fr, k))
    body.append(_sources_section())
    doc = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           f"<meta name=\"generator\" content=\"cpsim {_e(__version__)}\"><title>{_e(title)}</title>"
           f"<style>{_CSS}</style></head><body><main>\n" + "\n".join(body) + "\n</main></body></html>\n")
    return doc, list(figs.written)


def write_report(path, captures: Iterable = (), results: Iterable = (), **options) -> Path:
    """Write the HTML report to ``path`` (see :func:`render_report` for the options)."""
    if str(path) == "":
        raise ParameterError("the output path is empty: give a file name (-o report.html)")
    path = Path(path)
    if path.parent and not path.parent.is_dir():
        raise ParameterError(f"{path.parent}: output directory does not exist")
    text, _ = render_report(captures, results, **options)
    return save_html(path, text)


def save_html(path, text: str) -> Path:
    """Write ``text`` to ``path`` (atomically for a regular file: a temporary file, then rename; in place for a
    FIFO or a device, :func:`cpsim.outputs.output_path`); OutputError if it cannot."""
    path = write_text(path, text)  # never replaces a FIFO, a device or a symlink (cpsim.outputs)
    log.info("wrote %s (%d bytes)", path, len(text.encode("utf-8")))
    return path


