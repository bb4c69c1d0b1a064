"""SPICE engineering suffixes, parsed and written by one pair of functions.

SPICE rules (ngspice manual §2.3.1): suffixes are case-insensitive, ``m`` is milli
and ``meg`` is mega, letters after a recognised suffix are ignored (``10uF`` is
1e-5). cpsim accepts only that grammar: anything else is a :class:`ParameterError`,
so no user text ever reaches a netlist.
"""

from __future__ import annotations

import math
import numbers
import re

import numpy as np

from .errors import ParameterError

__all__ = ["parse_spice_number", "format_spice_number", "check_number", "format_percent", "as_float"]

_SUFFIXES = {
    "t": 1e12, "g": 1e9, "meg": 1e6, "k": 1e3, "mil": 25.4e-6,
    "m": 1e-3, "u": 1e-6, "µ": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15,
}
_NUMBER = re.compile(
    r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(meg|mil|[tgkmuµnpf])?([a-zA-ZΩ]*)\s*$",
    re.IGNORECASE,
)
_WRITE = [(1e12, "t"), (1e9, "g"), (1e6, "meg"), (1e3, "k"), (1.0, ""),
          (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")]


def parse_spice_number(text: str | float | int) -> float:
    """Parse ``"2.74k"``, ``"1meg"``, ``"300p"``, ``"1e-6"`` or a number into a float.

    Raises
    ------
    ParameterError
        If the text is not a single SPICE number (for example ``"1k\\n.control"``).
    """
    if isinstance(text, (bool, np.bool_)):
        raise ParameterError(f"not a number: {text!r}")
    if isinstance(text, numbers.Real):          # int, float and every real numpy scalar
        return float(text)
    if isinstance(text, np.ndarray) and text.ndim == 0 and text.dtype.kind in "iuf":
        return float(text)
    if not isinstance(text, str):
        raise ParameterError(f"not a number: {text!r}")
    m = _NUMBER.match(text)
    if m is None or "\n" in text or "\r" in text:
        raise ParameterError(f"not a SPICE number: {text!r} (expected e.g. 2.74k, 1meg, 300p, 1e-6)")
    value = float(m.group(1)) * _SUFFIXES.get((m.group(2) or "").lower(), 1.0)
    if not math.isfinite(value):
        raise ParameterError(f"not a finite number: {text!r}")
    return value


def format_spice_number(value: float, digits: int = 6) -> str:
    """Write a float with the largest SPICE suffix that keeps the mantissa >= 1 (``2740.0 -> "2.74k"``)."""
    value = float(value)
    if not math.isfinite(value):
        raise ParameterError(f"cannot write a non-finite value into a netlist: {value!r}")
    if value == 0:
        return "0"
    mag = abs(value)
    for scale, suffix in _WRITE:
        if mag >= scale * (1 - 1e-12):
            return f"{value / scale:.{digits}g}{suffix}"
    return f"{value:.{digits}e}"


def check_number(name: str, value, *, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False, unit: str = "") -> float:
    """Return ``value`` as a finite float inside ``[lo, hi]`` or raise :class:`ParameterError` naming it."""
    try:
        x = parse_spice_number(value)
    except ParameterError as exc:
        raise ParameterError(f"{name}: {exc}") from exc
    if not math.isfinite(x):
        raise ParameterError(f"{name} must be finite, got {value!r}")
    u = f" {unit}" if unit else ""
    if lo is not None and (x < lo or (lo_open and x == lo)):
        op = ">" if lo_open else ">="
        raise ParameterError(f"{name} must be {op} {lo:g}{u}, got {x:g}{u}")
    if hi is not None and x > hi:
        raise ParameterError(f"{name} must be <= {hi:g}{u}, got {x:g}{u}")
    return x


def check_count(name: str, value: object, *, lo: int = 1, hi: int | None = None) -> int:
    """``value`` as a whole number in ``[lo, hi]``, or :class:`ParameterError` naming it.

    Any real number that is whole counts (``3``, ``numpy.int64(3)``, ``1e3``, ``"1k"``, ``"1e6"``); ``1.5``
    is refused, never truncated.
    """
    try:
        x = parse_spice_number(value)  # type: ignore[arg-type]
    except ParameterError as exc:
        raise ParameterError(f"{name}: {exc}") from exc
    if not (math.isfinite(x) and x == math.floor(x)):
        raise ParameterError(f"{name} must be a whole number, got {value!r}")
    n = int(x)
    if n < lo or (hi is not None and n > hi):
        span = f"{lo} .. {hi:,}" if hi is not None else f">= {lo}"
        raise ParameterError(f"{name} must be {span}, got {n:,}")
    return n


def format_percent(fraction: float | None) -> str:
    """A fraction as text for people: ``0.99996 -> "99.996 %"``; None -> ``"n/a"``."""
    return "n/a" if fraction is None else f"{100.0 * fraction:.3f} %"


def as_float(x) -> float:
    """``x`` as a float, or NaN when it is not a number (for fields a caller may not have measured)."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


OPEN_CIRCUIT_OHM = 1e12
"""A resistance this large is shown as "open" (the netlists' open part, cpsim.sim.scenarios.OPEN_OHM)."""
_SI_PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"))


def format_si(value: float | None, unit: str, digits: int = 3) -> str:
    """``value`` [SI] with an SI prefix and ``digits`` significant digits: ``format_si(5e-8, "s")`` is
    ``"50 ns"``, ``format_si(2e9, "S/s")`` ``"2 GS/s"``; an infinite resistance is ``"open"``, an
    unknown value ``"—"``.

    Examples
    --------
    >>> format_si(2.5e-6, "s"), format_si(20e3, "S/s"), format_si(float("inf"), "Ω"), format_si(-0.0, "V")
    ('2.5 µs', '20 kS/s', 'open', '0 V')
    """
    x = as_float(value)
    if math.isnan(x):
        return "—"
    if unit == "Ω" and x >= OPEN_CIRCUIT_OHM:
        return "open"
    if math.isinf(x):
        return f"{'-' if x < 0 else ''}∞ {unit}".rstrip()
    if x == 0:
        return f"0 {unit}".rstrip()
    scale, prefix = next(((s, p) for s, p in _SI_PREFIXES if abs(x) >= s * 0.9995), _SI_PREFIXES[-1])
    text = f"{x / scale:.{digits}g}"
    return f"{text} {prefix}{unit}".rstrip()

