"""A fleet summary of a table of captures (:func:`cpsim.report.many.analyze_many`): verdict counts,
distributions of the levels, duty and frequency, and the worst units.

The worst units are ordered by verdict (``error`` — the file could not be analysed — then
``fail``, ``inconclusive``, ``warn``, ``pass``) and, within a verdict, by the margin of the high
level to its state window (smallest first).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .many import _SEVERITY, read_table

__all__ = ["FleetReport", "fleet_summary", "fleet_report", "fleet_section"]

DISTRIBUTED = ("v_high", "v_low", "duty", "frequency_hz", "current_a")
"""Columns whose distribution the summary gives (over the captures that measured them)."""


def _f(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _distribution(v: np.ndarray) -> dict[str, Any]:
    v = v[np.isfinite(v)]
    if not v.size:
        return {"count": 0}
    q = np.quantile(v, [0.05, 0.5, 0.95])
    return {"count": int(v.size), "min": _f(v.min()), "p05": _f(q[0]), "median": _f(q[1]), "p95": _f(q[2]),
            "max": _f(v.max()), "mean": _f(v.mean()), "std": _f(v.std(ddof=1)) if v.size > 1 else 0.0}


def fleet_summary(df, *, worst: int = 10) -> dict[str, Any]:
    """Verdict counts, states, distributions (overall and per state) and the worst units of a fleet table.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"file": ["a", "b", "c"], "state": ["C2", "C2", None], "verdict": ["pass", "fail", "error"],
    ...                   "v_high": [6.0, 6.9, float("nan")], "error": [None, None, "CaptureFormatError: x"]})
    >>> s = fleet_summary(t)
    >>> s["verdicts"], [u["file"] for u in s["worst"]]
    ({'error': 1, 'fail': 1, 'pass': 1}, ['c', 'b', 'a'])
    """
    verdict = df["verdict"].astype(str).to_numpy()
    counts = {v: int((verdict == v).sum()) for v in _SEVERITY if (verdict == v).any()}
    states: Any = df["state"].dropna().astype(str) if "state" in df else []
    out: dict[str, Any] = {
        "captures": int(len(df)),
        "errors": int((verdict == "error").sum()),
        "verdicts": counts,
        "states": {str(k): int(n) for k, n in states.value_counts().sort_index().items()} if len(states) else {},
        "distributions": {c: _distribution(df[c].to_numpy(float)) for c in DISTRIBUTED if c in df},
        "by_state": {},
    }
    for state in out["states"]:
        sel = (df["state"].astype(str) == state).to_numpy()
        out["by_state"][state] = {c: _distribution(df[c].to_numpy(float)[sel]) for c in ("v_high", "v_low", "duty")
                                  if c in df}
    rank = np.array([_SEVERITY.index(v) if v in _SEVERITY else len(_SEVERITY) for v in verdict])
    margin = df["v_high_margin_v"].to_numpy(float) if "v_high_margin_v" in df else np.full(len(df), np.nan)
    order = np.lexsort((np.where(np.isnan(margin), np.inf, margin), rank))[: max(0, int(worst))]
    cols = [c for c in ("file", "verdict", "state", "v_high", "v_low", "duty", "frequency_hz", "faults",
                        "worst_check", "v_high_margin_v", "error") if c in df]
    out["worst"] = [{c: _plain(df[c].iloc[i]) for c in cols} for i in order]
    return out


def _plain(x):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    if isinstance(x, (np.floating, float)):
        return _f(x)
    if isinstance(x, (np.integer, int)):
        return int(x)
    try:
        import pandas as pd

        if pd.isna(x):
            return None
    except (TypeError, ValueError):
        pass
    return str(x)


@dataclass
class FleetReport:
    """A fleet table and its summary (``cpsim report`` renders it)."""

    name: str
    df: Any
    summary: dict


def fleet_report(source, *, name: str | None = None, worst: int = 10) -> FleetReport:
    """Read a fleet table (path) or take a frame, and summarise it."""
    if isinstance(source, (str, os.PathLike)):
        df, default = read_table(source), os.path.basename(os.fspath(source))
    else:
        df, default = source, "captures"
    return FleetReport(name or default, df, fleet_summary(df, worst=worst))


def fleet_section(fr: FleetReport, index: int) -> str:
    """The HTML section of one fleet table."""
    from ..units import format_si
    from .text import _badge, _e

    s = fr.summary
    counts = " ".join(f"{_badge(v)} {n:,}" for v, n in s["verdicts"].items())
    states = ", ".join(f"{k}: {n:,}" for k, n in s["states"].items()) or "none"
    units = {"v_high": "V", "v_low": "V", "frequency_hz": "Hz", "current_a": "A", "duty": ""}

    def num(x, col):
        if x is None:
            return "—"
        return f"{100 * x:.2f} %" if col == "duty" else format_si(x, units[col])

    rows = "".join(
        f"<tr><td>{_e(c)}</td><td class=\"num\">{d['count']:,}</td>"
        + "".join(f'<td class="num">{_e(num(d.get(k), c))}</td>' for k in ("min", "p05", "median", "p95", "max"))
        + "</tr>" for c, d in s["distributions"].items())
    worst = "".join(
        f"<tr><td>{_e(u.get('file'))}</td><td>{_badge(u['verdict']) if u['verdict'] != 'error' else 'error'}</td>"
        f"<td>{_e(u.get('state') or '—')}</td><td class=\"num\">{_e(num(u.get('v_high'), 'v_high'))}</td>"
        f"<td class=\"num\">{_e(num(u.get('duty'), 'duty'))}</td>"
        f"<td>{_e(u.get('error') or u.get('worst_check') or u.get('faults') or '')}</td></tr>" for u in s["worst"])
    return (f'<section id="fleet-{index}"><h2>{index}. Fleet: {_e(fr.name)}</h2>'
            f'<p class="big">{s["captures"]:,} captures: {counts}</p><p class="meta">states: {_e(states)}</p>'
            "<h3>Distributions</h3><table><tr><th>quantity</th><th>captures</th><th>min</th><th>5 %</th>"
            f"<th>median</th><th>95 %</th><th>max</th></tr>{rows}</table>"
            "<h3>Worst units</h3><table><tr><th>file</th><th>verdict</th><th>state</th><th>V+</th><th>duty</th>"
            f"<th>why</th></tr>{worst}</table></section>")
