"""What every ``cpsim`` command shares: the parser class, argument types, JSON output."""

from __future__ import annotations

import argparse
import json
import math
import re
from typing import Any

from ..errors import ParameterError

UNITS_NOTE = (
    "Units: SI throughout (s, V, A, Ω, F, Hz) except where an option's name says otherwise "
    "(--duty and --cable-pf take percent and picofarads). Resistances accept SPICE suffixes (2.7k, 1meg)."
)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _clean(obj: Any) -> Any:
    """NaN/inf -> None, recursively, so the JSON is standard."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def print_json(obj: Any) -> None:
    print(json.dumps(_clean(obj), indent=2, default=_json_default, allow_nan=False, ensure_ascii=False))


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line (what, where, how to get help), exit 2."""

    def error(self, message: str):  # argparse declares NoReturn: exit() never returns
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def percent(text: str) -> float:
    """``--duty``: a percentage strictly between 0 and 100 (``25`` or ``25%``).

    A bare value below 1 looks like a fraction (the API's 0.25 for 25 %) and is refused with the
    likely meaning; write ``0.5%`` to mean half a percent.
    """
    raw = str(text).strip()
    explicit = raw.endswith("%")
    try:
        value = float(raw[:-1] if explicit else raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r} (percent, e.g. 25 or 25%)") from None
    if not (0.0 < value < 100.0):
        raise argparse.ArgumentTypeError(f"is in percent and must be between 0 and 100, got {text}")
    if value < 1.0 and not explicit:
        raise argparse.ArgumentTypeError(f"is in percent: {text} would be {value:g} %; did you mean "
                                         f"{value * 100:g} (%)? (write {text}% if you mean {value:g} %)")
    return value


def spice_float(text: str) -> float:
    """A number with SPICE suffixes (``2.7k``, ``1meg``, ``3.1n``)."""
    from ..units import parse_spice_number

    try:
        return parse_spice_number(text)
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def ohm_arg(text: str) -> float:
    """A resistance [Ω] with SPICE suffixes, or open: ``open``, ``OL`` (a meter's overload), ``inf``."""
    if text.strip().lower() in ("open", "ol", "inf", "infinity"):
        return math.inf
    return resistance(text)


def resistance(text: str) -> float:
    """A resistance [Ω] with SPICE suffixes; ``1M`` (SPICE's milli, the classic slip) is refused."""
    raw = str(text).strip()
    value = spice_float(raw)
    if raw.endswith("M"):
        raise argparse.ArgumentTypeError(f"{text!r} is {value:g} Ω in SPICE notation (M is milli, as m); write "
                                         f"{raw[:-1]}meg for {raw[:-1]} MΩ, or {value:g} for milliohms")
    return value


def count(text: str) -> int:
    """A whole number >= 0, with SPICE suffixes, scientific notation or digit groups (``1e6``, ``10k``,
    ``1_000_000``); 1.5 and -1 are refused."""
    value = spice_float(str(text).replace("_", ""))
    if not (math.isfinite(value) and value == math.floor(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a whole number such as 1000 or 1e6, got {text!r}")
    return int(value)


def capacitance_pf(text: str) -> float:
    """``--cable-pf``: picofarads as a plain number (``3100``), or farads with a SPICE suffix (``3.1n``)."""
    raw = str(text).strip()
    if raw and raw[-1].isalpha():
        return spice_float(raw) * 1e12
    return spice_float(raw)


def channel_arg(text: str | None) -> str | int | None:
    """``--channel``: a 1-based number or a name."""
    if text is None:
        return None
    return int(text) if text.isdigit() else text


def parse_threshold(text: str) -> tuple[str, tuple[float, float]]:
    """``"B=7.8:10.3"`` -> ``("B", (7.8, 10.3))`` [V]."""
    from ..units import parse_spice_number

    state, sep, rng = str(text).partition("=")
    state = state.strip().upper()
    lo, colon, hi = rng.partition(":")
    if not sep or not colon or state not in ("A", "B", "C", "D", "E"):
        raise ParameterError(f"threshold {text!r}: expected STATE=LO:HI in volts with STATE one of A B C D E, "
                             "e.g. B=7.8:10.3")
    try:
        return state, (parse_spice_number(lo), parse_spice_number(hi))
    except ParameterError as exc:
        raise ParameterError(f"threshold {text!r}: {exc}") from None


def profile_arg(name: str, thresholds: list[str] | None, *, label: str | None = None) -> Any:
    """``--profile`` with the user's ``--threshold STATE=LO:HI`` windows laid over it (a LimitsProfile)."""
    from .. import standard as std

    profile = std.get_profile(name)
    if not thresholds:
        return profile
    windows = dict(parse_threshold(t) for t in thresholds)
    try:
        return std.custom_profile(windows, base=profile.name, name=label or f"{profile.name}+thresholds")
    except ParameterError as exc:
        raise ParameterError(f"--threshold {' '.join(thresholds)}: {exc}") from None


FAIL_ON = ("warn", "inconclusive", "fail")
"""``--fail-on`` levels: exit 1 when a capture's verdict is this severe or worse (pass < warn <
inconclusive < fail)."""


def add_force(parser: Any) -> None:
    """``--force``: an output may replace a file cpsim did not write (:func:`cpsim.outputs.refuse_foreign`)."""
    parser.add_argument("--force", action="store_true",
                        help="replace an existing output file that cpsim did not write (one it wrote is replaced "
                             "without asking)")


def add_fail_on(parser: Any) -> None:
    parser.add_argument("--fail-on", choices=FAIL_ON, metavar="LEVEL",
                        help="exit 1 when a capture's verdict is LEVEL or worse: warn, inconclusive or fail "
                             "(pass < warn < inconclusive < fail); default: exit 0 whatever the verdict")


def verdict_exit(verdicts: list[str], fail_on: str | None) -> int:
    """0, or 1 when any verdict is at or past ``fail_on``."""
    from ..report.checks import VERDICTS

    if fail_on is None:
        return 0
    level = VERDICTS.index(fail_on)
    return 1 if any(VERDICTS.index(v) >= level for v in verdicts) else 0


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``): a capture's channel name or header
    cannot move the cursor, recolour or retitle the user's terminal. Newlines and tabs stay."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


class _SafeStream:
    """A text stream that writes :func:`printable` text (JSON and CSV never hold control characters)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(printable(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def terminal_safe(stream: Any) -> Any:
    """Wrap ``stream`` (stdout or stderr) so that nothing printed through it is a control sequence."""
    return stream if isinstance(stream, _SafeStream) else _SafeStream(stream)


_STATUS = {"quiet": False}


def set_quiet(quiet: bool) -> None:
    """``--quiet``: status lines ("wrote ...") are not printed; results and errors still are."""
    _STATUS["quiet"] = bool(quiet)


def status(message: str) -> None:
    """A status line for the user (what was written where), unless ``--quiet``."""
    if not _STATUS["quiet"]:
        print(message)

