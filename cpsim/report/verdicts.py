"""A verdict row and a verdict table: what every check in a report is made of.

:class:`CheckRow` is one measured parameter with its limit, margin, verdict and source;
:class:`CheckTable` a list of them with the overall verdict. The verdict scale, least to most
severe: :data:`VERDICTS`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from .. import standard as std
from ..units import as_float as _f

__all__ = ["VERDICTS", "JUDGED", "CheckRow", "CheckTable", "overall_verdict"]

VERDICTS = ("n/a", "info", "pass", "warn", "inconclusive", "fail")
"""Verdicts from least to most severe."""
JUDGED = ("pass", "warn", "fail")
"""Verdicts that judge a value against a limit (an unjudgeable capture turns them ``inconclusive``)."""

@dataclass(frozen=True)
class CheckRow:
    """One line of the verdict table.

    Attributes
    ----------
    parameter : str
        Stable key: ``state``, ``v_high``, ``v_low``, ``diode``, ``duty``, ``duty_width``,
        ``frequency_hz``, ``rise_time_s``, ``fall_time_s``, ``current_a``, ``ripple``,
        ``overshoot``, ``faults`` or ``fault:<code>``; ``segment`` for :func:`check_segments`.
    label : str
        What a reader sees in the first column.
    value : float, str or bool
        The measured value in SI units (``duty`` a fraction); NaN when not measured.
    unit : str
        ``V``, ``Hz``, ``s``, ``A``, ``fraction`` or ``""``.
    limit : str
        The limit in words, with units.
    lo, hi : float
        Numeric limit in the value's unit (NaN where open or not numeric).
    margin : float
        Distance to the nearest limit in the value's unit, positive inside (NaN when none).
    verdict : str
        One of :data:`VERDICTS`.
    source : str
        Where the limit comes from (source keys of :mod:`cpsim.standard`).
    note : str
        A remark (why it failed, what does not apply).
    """

    parameter: str
    label: str
    value: Any
    unit: str
    limit: str
    lo: float
    hi: float
    margin: float
    verdict: str
    source: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, got {self.verdict!r}")

    def to_dict(self) -> dict:
        """JSON-ready: NaN becomes ``None``."""
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, float) and not math.isfinite(v):
                out[k] = None
        return out


NAN = float("nan")


class CheckTable(list):
    """The verdict table: a list of :class:`CheckRow` with its overall :attr:`verdict`, a DataFrame form
    (:meth:`to_frame`) and an HTML view for notebooks."""

    @property
    def verdict(self) -> str:
        return overall_verdict(self)

    def to_frame(self):
        """One row per check (SI values, ``None`` where not measured)."""
        import pandas as pd

        return pd.DataFrame([r.to_dict() for r in self], columns=list(CheckRow.__dataclass_fields__))

    def __str__(self) -> str:
        lines = [f"verdict: {self.verdict}"]
        lines += [f"  {r.verdict:<12} {r.label}" + (f": {r.note}" if r.note else "") for r in self
                  if r.verdict in ("warn", "inconclusive", "fail")]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from ..display import html_table

        rows = [(r.label, r.value if not isinstance(r.value, float) else f"{r.value:.6g} {r.unit}".strip(),
                 r.limit, r.verdict, r.note) for r in self]
        return html_table(rows, header=("parameter", "value", "limit", "verdict", "note"),
                          caption=f"verdict: {self.verdict}")


def _fin(x) -> bool:
    return math.isfinite(_f(x))


def _row(parameter, label, value, unit, limit="", lo=NAN, hi=NAN, margin=NAN, verdict="info", source="",
         note="") -> CheckRow:
    return CheckRow(parameter, label, value, unit, limit, float(lo), float(hi), float(margin), verdict, source,
                    note)


def _window_text(w: std.Window, unit: str = "V") -> str:
    return f"{w.lo:g} … {w.hi:g} {unit}"


def overall_verdict(rows: Iterable[CheckRow]) -> str:
    """The most severe verdict of ``rows`` (``n/a`` for none)."""
    worst = 0
    for r in rows:
        worst = max(worst, VERDICTS.index(r.verdict))
    return VERDICTS[worst]
