"""The command line's tolerance syntax: ``NAME=SPEC[,DIST]`` with units, refusing the ambiguous.

``SPEC`` is

* a range ``LO:HI`` (``cable_c=0:3100p``, ``cable_c=0:3.1nF``, ``temp=-40:85``, ``rise=1us:2us``);
* a half-width: with a unit it is absolute (``r1=30ohm``, ``v_high=0.6V``), a bare number is a
  fraction of the nominal for resistors, capacitance and frequency (``r1=0.03``) and absolute in the
  parameter's unit otherwise (``v_high=0.6``, ``duty=0.025``);
* a percentage of the nominal (``r1=3%``); for ``duty``, itself a percentage, percentage points
  are written ``pp`` (``duty=2.5pp``) and ``duty=2.5%`` is refused as ambiguous;
* ``fixed`` or ``fixed@VALUE``.

Numbers take SPICE suffixes (``3.1n``, ``2.7k``) followed by the parameter's unit if you like
(``3100pF``, ``1us``, ``2.7kohm``). A trailing unit is read as the unit, never as a SPICE suffix:
``3100F`` is 3100 farad (refused as outside the physical range), not 3.1 femtofarad. A value
without a suffix that leaves the parameter's physical range gets a suggestion
(``cable_c=0:3100``: did you mean 0:3100p?).
"""

from __future__ import annotations

import re
from typing import cast

from ..errors import ParameterError
from ..units import parse_spice_number
from .variations import PARAMETERS, Distribution, Tolerance, _canonical

__all__ = ["parse_tolerance"]

# how each unit may be typed after a number (lower case), longest first
_UNIT_SPELLINGS = {"F": ("farad", "f"), "Ω": ("ohms", "ohm", "Ω"), "V": ("v",), "Hz": ("hz",),
                   "s": ("sec", "s"), "°C": ("°c", "degc", "c")}
# the SI prefix a bare number most likely lacks, per unit (capacitance in pF, times in µs)
_LIKELY_PREFIX = {"F": "p", "s": "u"}
_PREFIXED = re.compile(r"(?:\d|\.)(?:meg|mil|[tgkmuµnpf])$", re.IGNORECASE)


def _split(text: str, name: str) -> tuple[str, bool]:
    """(the number with its SPICE prefix, whether a unit was written after it)."""
    token = text.strip()
    unit = PARAMETERS[name].unit if name in PARAMETERS else "V"
    for spelling in _UNIT_SPELLINGS.get(unit, ()):
        if token.lower().endswith(spelling.lower()) and len(token) > len(spelling):
            return token[: -len(spelling)].strip(), True
    return token, False


def _value(text: str, name: str) -> tuple[float, bool]:
    """(value in SI, whether a unit or a SPICE prefix was written)."""
    token, unit = _split(text, name)
    return parse_spice_number(token), unit or bool(_PREFIXED.search(token))


def _suggest(name: str, texts: list[str]) -> str:
    prefix = _LIKELY_PREFIX.get(PARAMETERS[name].unit if name in PARAMETERS else "")
    if prefix is None:
        return ""
    fixed = [t.strip() if parse_spice_number(t.strip()) == 0 else f"{t.strip()}{prefix}" for t in texts]
    return f"; did you mean {':'.join(fixed)}?"


def parse_tolerance(text: str) -> Tolerance:
    """Parse ``NAME=SPEC[,DIST]`` (see the module docstring); ParameterError says what is wrong.

    Examples
    --------
    >>> parse_tolerance("cable_c=0:3100p").describe()
    'cable_c_f uniform 0…3100 pF'
    >>> parse_tolerance("r1=3%").bounds()
    (970.0, 1030.0)
    """
    name, sep, spec = str(text).partition("=")
    if not sep or not spec.strip():
        raise ParameterError(f"tolerance {text!r}: expected NAME=SPEC, e.g. r1=3%, cable_c=0:3100p, temp=fixed")
    name = _canonical(name)
    spec, _, dist = spec.strip().partition(",")
    dist_text = dist.strip().lower() or "uniform"
    if dist_text not in ("uniform", "normal"):
        raise ParameterError(f"tolerance {text!r}: distribution must be uniform or normal, got {dist_text!r}")
    dist_ = cast(Distribution, dist_text)
    spec = spec.strip()
    low = spec.lower()
    bare: list[str] = []  # numbers typed without unit or prefix, for the suggestion
    try:
        if low.startswith("fixed"):
            _, at, fixed_at = spec.partition("@")
            return Tolerance.fixed(name, _value(fixed_at, name)[0] if at else None)
        if ":" in spec:
            texts = spec.split(":", 1)
            (lo, _), (hi, _) = (_value(t, name) for t in texts)
            numbers = [_split(t, name)[0] for t in texts]
            bare = [] if any(_PREFIXED.search(t) for t in numbers) else numbers
            return Tolerance.between(name, lo, hi, dist_)
        if low.endswith("%"):
            if name == "duty":
                raise ParameterError(
                    f"{spec} is ambiguous for duty, itself a percentage: write duty={spec[:-1]}pp for "
                    f"±{spec[:-1]} percentage points, or a fraction (duty={parse_spice_number(spec[:-1]) / 100:g})")
            return Tolerance.rel(name, parse_spice_number(spec[:-1]) / 100.0, dist_)
        if low.endswith("pp"):
            if name != "duty":
                raise ParameterError("percentage points (pp) are for duty only")
            return Tolerance(name, parse_spice_number(spec[:-2]) / 100.0, dist_)
        value, explicit = _value(spec, name)
        if not explicit and name.endswith(("_ohm", "_f", "_hz")):
            return Tolerance.rel(name, value, dist_)
        number = _split(spec, name)[0]
        bare = [] if _PREFIXED.search(number) else [number]
        return Tolerance(name, value, dist_)
    except ParameterError as exc:
        hint = _suggest(name, bare) if bare and "physical range" in str(exc) else ""
        raise ParameterError(f"tolerance {text!r}: {exc}{hint}") from None
