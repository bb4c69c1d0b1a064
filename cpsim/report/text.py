"""How the report writes numbers, margins, verdicts and parameters."""

from __future__ import annotations

import html
import math
import re


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


# unit -> (scale, suffix, decimals) for a reader; margins of fractions are in %-points
_DISPLAY = {"V": (1.0, "V", 3), "Hz": (1.0, "Hz", 2), "s": (1e6, "µs", 2), "fraction": (100.0, "%", 2),
            "A": (1.0, "A", 1)}
_RIPPLE = (1e3, "mV", 1)


def _display(x, unit: str, parameter: str, *, margin: bool) -> str:
    spec = _RIPPLE if parameter == "ripple" else _DISPLAY.get(unit)
    sign = "+" if margin or (unit == "V" and parameter != "ripple") else ""
    if spec is None:
        return f"{x:{sign}g}" + ("" if margin or not unit else f" {unit}")
    scale, suffix, decimals = spec
    if margin and unit == "fraction":
        suffix = "%-pt"
    return f"{x * scale:{sign}.{decimals}f} {suffix}"


def format_value(value, unit: str, parameter: str = "") -> str:
    """A measured value for a reader: µs for times, percent for fractions, mV for ripple."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _display(value, unit, parameter, margin=False) if _finite(value) else "—"


def format_margin(margin, unit: str, parameter: str = "") -> str:
    """A margin with its sign (positive inside the limit)."""
    return _display(margin, unit, parameter, margin=True) if _finite(margin) else ""


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", str(text)).strip("_").lower() or "capture"


def _badge(verdict: str) -> str:
    return f'<span class="badge v-{_e(verdict.replace("/", ""))}">{_e(verdict)}</span>'


def _param_text(name: str, value) -> str:
    """``r1_ohm 1027.7 Ω``: a sampled parameter with a readable unit."""
    if value is None or not _finite(float(value)):
        return f"{name} —"
    v = float(value)
    if name.endswith("_ohm"):
        return f"{name} {v:.5g} Ω"
    if name.endswith("_f"):
        return f"{name} {v * 1e12:.4g} pF"
    if name.endswith("_s"):
        return f"{name} {v * 1e6:.4g} µs"
    if name.endswith("_hz"):
        return f"{name} {v:.6g} Hz"
    if name.endswith("_c"):
        return f"{name} {v:.3g} °C"
    if name.endswith("_v"):
        return f"{name} {v:+.4g} V"
    if name == "duty":
        return f"duty {v * 100:.3f} %"
    return f"{name} {v:.4g}"


def _num(x, fmt: str) -> str:
    return "—" if x is None or not _finite(float(x)) else format(float(x), fmt)


