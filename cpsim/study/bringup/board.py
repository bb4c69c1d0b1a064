"""Board files: one side's pilot-measurement chain as TOML, validated into frozen dataclasses.

A board file has six tables (see ``docs/bringup.md`` for the full schema)::

    [board]     name, side = "evse"
    [frontend]  kind = "divider": r_top_ohm, r_bottom_ohm, r_bias_ohm, v_bias_v, tolerance, v_bias_tolerance,
                bias_is_vref
                kind = "netlist": netlist = "file.lib" (a .subckt with pins cp adc gnd), subckt
    [adc]       bits, vref_v, vref_tolerance, offset_lsb, gain_error, noise_lsb_rms
    [sampling]  mode = "triggered": delay_after_rise_s, samples
                mode = "free_running": samples, rate_hz
    [firmware]  algorithm = "peak" | "mean" | "top_k_mean" | "module:function", k, thresholds_counts, debounce
    [pilot]     states, duty, frequency_hz, cable_c_f, cp_tolerances = "default" | "none", [pilot.tolerances]

Every mistake is one :class:`~cpsim.errors.ParameterError` naming the file and the key
(``openevse.toml: adc.vref_v must be a number > 0, got 'five'``).

Tolerances of the board are half-widths of uniform distributions: ``tolerance`` (every
front-end resistor, a fraction), ``v_bias_tolerance`` (fraction), ``vref_tolerance`` (fraction),
``gain_error`` (fraction), ``offset_lsb`` (LSB). ``noise_lsb_rms`` is Gaussian, per sample.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ...errors import ParameterError

__all__ = ["Divider", "NetlistFrontend", "Adc", "Sampling", "Firmware", "Pilot", "Board", "load_board",
           "board_from_dict", "example_boards", "BOARDS_DIR", "STATE_LETTERS"]

BOARDS_DIR = Path(__file__).resolve().parent / "boards"
STATE_LETTERS = ("A", "B", "C", "D", "E", "F")
_ALGORITHMS = ("peak", "mean", "top_k_mean")
_CUSTOM = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_TABLES = ("board", "frontend", "adc", "sampling", "firmware", "pilot")


class _Table:
    """Reads one TOML table, naming ``where`` and the key in every error; refuses unknown keys."""

    def __init__(self, where: str, name: str, data: Any, required: bool = True):
        self.where, self.name = where, name
        if data is None and not required:
            data = {}
        if not isinstance(data, Mapping):
            raise self.error(name, "must be a table", data, whole=True)
        self.data = dict(data)
        self.used: set[str] = set()

    def error(self, key: str, what: str, value: Any = None, *, whole: bool = False) -> ParameterError:
        got = "" if value is None else f", got {value!r}"
        name = key if whole else f"{self.name}.{key}"
        return ParameterError(f"{self.where}: {name} {what}{got}")

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = None, *, required: bool = False) -> Any:
        self.used.add(key)
        if key not in self.data:
            if required:
                raise ParameterError(f"{self.where}: {self.name}.{key} is missing (required)")
            return default
        return self.data[key]

    def number(self, key: str, default: float | None = None, *, lo: float | None = None, hi: float | None = None,
               lo_open: bool = False, hi_open: bool = False, required: bool = False) -> float:
        value = self.raw(key, default, required=required or default is None)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        x = float(value) if ok else math.nan
        low_bad = lo is not None and (x < lo or (lo_open and x == lo))
        high_bad = hi is not None and (x > hi or (hi_open and x == hi))
        if not ok or low_bad or high_bad:
            rng = " and ".join(p for p in (
                None if lo is None else f"{'>' if lo_open else '>='} {lo:g}",
                None if hi is None else f"{'<' if hi_open else '<='} {hi:g}") if p)
            raise self.error(key, f"must be a number{' ' + rng if rng else ''}", value)
        return x

    def integer(self, key: str, default: int | None = None, *, lo: int, hi: int) -> int:
        value = self.raw(key, default, required=default is None)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.error(key, f"must be an integer {lo} .. {hi}", value)
        return int(value)

    def text(self, key: str, default: str | None = None, *, choices: tuple[str, ...] | None = None) -> str:
        value = self.raw(key, default, required=default is None)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be a non-empty string", value)
        if choices is not None and value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}", value)
        return value

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            valid = ", ".join(sorted(self.used))
            raise ParameterError(f"{self.where}: unknown key {self.name}.{unknown[0]}; valid here: {valid}")


# --------------------------------------------------------------------------------------------
# The parts of a board

@dataclass(frozen=True)
class Divider:
    """CP -> ``r_top_ohm`` -> ADC node; ``r_bottom_ohm`` to ground; ``r_bias_ohm`` to ``v_bias_v``.

    ``r_bias_ohm`` = ``inf`` (or absent in the file) means no bias resistor. Tolerances are
    uniform half-widths as fractions. ``bias_is_vref``: the bias supply is the ADC's reference
    (one rail, as AVCC on an AVR), so it follows the reference's error instead of its own.
    """

    r_top_ohm: float
    r_bottom_ohm: float
    r_bias_ohm: float = math.inf
    v_bias_v: float = 0.0
    tolerance: float = 0.01
    v_bias_tolerance: float = 0.0
    bias_is_vref: bool = False
    kind: Literal["divider"] = "divider"


@dataclass(frozen=True)
class NetlistFrontend:
    """A user's subcircuit with pins ``cp adc gnd`` (simulated by the spice engine only)."""

    path: Path
    subckt: str
    text: str
    kind: Literal["netlist"] = "netlist"


@dataclass(frozen=True)
class Adc:
    """An ideal mid-tread converter (first transition at 0.5 LSB) with errors.

    ``code = clip(floor(v / lsb * (1 + gain) + offset + noise + 0.5), 0, 2**bits - 1)`` with
    ``lsb = vref * (1 + vref_error) / 2**bits``.
    """

    bits: int
    vref_v: float
    vref_tolerance: float = 0.0
    offset_lsb: float = 0.0
    gain_error: float = 0.0
    noise_lsb_rms: float = 0.0

    @property
    def top_code(self) -> int:
        return 2 ** self.bits - 1


@dataclass(frozen=True)
class Sampling:
    """Which instants a reading samples.

    ``triggered``: ``samples`` samples, one per PWM period, ``delay_after_rise_s`` after the start
    of the generator's rising edge. ``free_running``: ``samples`` samples at ``rate_hz``,
    asynchronous to the PWM (a random phase per reading).
    """

    mode: Literal["triggered", "free_running"]
    samples: int = 1
    delay_after_rise_s: float = 0.0
    rate_hz: float = 0.0


@dataclass(frozen=True)
class Firmware:
    """How samples become a state: an algorithm, windows in ADC counts, a debounce.

    ``thresholds_counts[S] = (lo, hi)`` reads state S when ``lo <= code < hi``; a ``hi`` equal
    to the ADC's top code (``2**bits - 1``) includes it. ``debounce``: consecutive equal
    readings before the firmware changes state.
    """

    algorithm: str
    thresholds_counts: Mapping[str, tuple[int, int]]
    debounce: int = 1
    k: int = 3


@dataclass(frozen=True)
class Pilot:
    """The CP circuit the board reads: states, nominal duty/frequency/cable, tolerances."""

    states: tuple[str, ...] = ("A2", "B2", "C2", "D2")
    duty: float = 0.25
    frequency_hz: float = 1000.0
    cable_c_f: float | None = None
    cp_tolerances: Literal["default", "none"] = "default"
    tolerances: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Board:
    """A validated board file."""

    name: str
    frontend: Divider | NetlistFrontend
    adc: Adc
    sampling: Sampling
    firmware: Firmware
    pilot: Pilot
    side: str = "evse"
    source: str = ""


# --------------------------------------------------------------------------------------------
# Reading

def load_board(path: str | os.PathLike[str]) -> Board:
    """Read and validate a board file (TOML).

    A bare name such as ``"openevse"`` is looked up among the example boards shipped with cpsim
    (:func:`example_boards`) when no such file exists.

    Examples
    --------
    >>> board = load_board("openevse")
    >>> board.adc.bits, board.firmware.thresholds_counts["B"]
    (10, (780, 875))
    """
    p = Path(path)
    if not p.is_file():
        shipped = BOARDS_DIR / f"{p.name}.toml"
        if p.suffix == "" and p.parent == Path(".") and shipped.is_file():
            p = shipped
        else:
            names = ", ".join(example_boards())
            raise ParameterError(f"{path}: no such board file (examples shipped with cpsim: {names})")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{p.name}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{p}: cannot read the board file: {exc}") from None
    return board_from_dict(data, where=p.name, base_dir=p.parent, source=str(p))


def example_boards() -> list[str]:
    """Names of the example boards shipped with cpsim."""
    return sorted(q.stem for q in BOARDS_DIR.glob("*.toml"))


def board_from_dict(data: Mapping[str, Any], *, where: str = "board", base_dir: str | Path = ".",
                    source: str = "") -> Board:
    """Validate a board given as nested mappings (the parsed TOML)."""
    if not isinstance(data, Mapping):
        raise ParameterError(f"{where}: a board is a table of tables, got {type(data).__name__}")
    unknown = sorted(set(data) - set(_TABLES))
    if unknown:
        raise ParameterError(f"{where}: unknown table [{unknown[0]}]; valid: {', '.join(_TABLES)}")
    head = _Table(where, "board", data.get("board"))
    name = head.text("name")
    side = head.text("side", "evse")
    if side != "evse":
        raise head.error("side", "must be \"evse\" (vehicle-side chains are not modelled yet)", side)
    head.raw("sources", [])
    head.done()
    adc = _adc(_Table(where, "adc", data.get("adc")))
    pilot = _pilot(_Table(where, "pilot", data.get("pilot"), required=False))
    return Board(name=name, side=side, frontend=_frontend(_Table(where, "frontend", data.get("frontend")),
                                                            Path(base_dir)),
                 adc=adc, sampling=_sampling(_Table(where, "sampling", data.get("sampling")), pilot),
                 firmware=_firmware(_Table(where, "firmware", data.get("firmware")), adc), pilot=pilot,
                 source=source)


def _frontend(t: _Table, base_dir: Path) -> Divider | NetlistFrontend:
    kind = t.text("kind", "netlist" if t.has("netlist") else "divider", choices=("divider", "netlist"))
    t.raw("sources")
    if kind == "netlist":
        from .frontend import read_netlist_frontend

        file_name = t.text("netlist")
        subckt = t.raw("subckt")
        if subckt is not None and not isinstance(subckt, str):
            raise t.error("subckt", "must be a string", subckt)
        t.done()
        name, text = read_netlist_frontend(base_dir / file_name, subckt, where=f"{t.where}: frontend.netlist")
        return NetlistFrontend(path=base_dir / file_name, subckt=name, text=text)
    r_top = t.number("r_top_ohm", lo=1e-3, hi=1e12)
    r_bottom = t.number("r_bottom_ohm", lo=1e-3, hi=1e12)
    has_bias = t.has("r_bias_ohm")
    r_bias = t.number("r_bias_ohm", lo=1e-3, hi=1e12) if has_bias else math.inf
    v_bias = t.number("v_bias_v", None if has_bias else 0.0, lo=-100.0, hi=100.0)
    tol = t.number("tolerance", 0.01, lo=0.0, hi=0.5)
    v_tol = t.number("v_bias_tolerance", 0.0, lo=0.0, hi=0.5)
    tracks = t.raw("bias_is_vref", False)
    if not isinstance(tracks, bool):
        raise t.error("bias_is_vref", "must be true or false", tracks)
    if tracks and v_tol:
        raise t.error("v_bias_tolerance", "must be 0 with bias_is_vref = true (the bias follows the ADC reference)",
                      v_tol)
    t.done()
    return Divider(r_top, r_bottom, r_bias, v_bias, tol, v_tol, tracks)


def _adc(t: _Table) -> Adc:
    adc = Adc(bits=t.integer("bits", lo=1, hi=24), vref_v=t.number("vref_v", lo=0.0, lo_open=True, hi=100.0),
              vref_tolerance=t.number("vref_tolerance", 0.0, lo=0.0, hi=0.5),
              offset_lsb=t.number("offset_lsb", 0.0, lo=0.0, hi=1e6),
              gain_error=t.number("gain_error", 0.0, lo=0.0, hi=0.5),
              noise_lsb_rms=t.number("noise_lsb_rms", 0.0, lo=0.0, hi=1e6))
    t.raw("sources")
    t.done()
    return adc


def _sampling(t: _Table, pilot: Pilot) -> Sampling:
    mode = t.text("mode", choices=("triggered", "free_running"))
    t.raw("sources")
    if mode == "triggered":
        period = 1.0 / pilot.frequency_hz
        delay = t.number("delay_after_rise_s", lo=0.0, hi=period, hi_open=True)
        samples = t.integer("samples", 1, lo=1, hi=100_000)
        t.done()
        return Sampling("triggered", samples, delay_after_rise_s=delay)
    samples = t.integer("samples", lo=1, hi=100_000)
    rate = t.number("rate_hz", lo=0.0, lo_open=True, hi=1e9)
    t.done()
    return Sampling("free_running", samples, rate_hz=rate)


def _thresholds(t: _Table, adc: Adc) -> dict[str, tuple[int, int]]:
    raw = t.raw("thresholds_counts", required=True)
    if not isinstance(raw, Mapping) or not raw:
        raise t.error("thresholds_counts", "must be a table of STATE = [lo, hi]", raw)
    windows: dict[str, tuple[int, int]] = {}
    for state, pair in raw.items():
        key = f"thresholds_counts.{state}"
        if state not in STATE_LETTERS:
            raise t.error(key, f"names no state; use one of {', '.join(STATE_LETTERS)}")
        ok = (isinstance(pair, list) and len(pair) == 2
              and all(isinstance(v, int) and not isinstance(v, bool) for v in pair))
        if not ok or not 0 <= pair[0] < pair[1] <= adc.top_code:
            raise t.error(key, f"must be [lo, hi] in counts with 0 <= lo < hi <= {adc.top_code}", pair)
        windows[state] = (int(pair[0]), int(pair[1]))
    spans = sorted((lo, hi, s) for s, (lo, hi) in windows.items())
    for (_, hi1, s1), (lo2, _, s2) in zip(spans, spans[1:]):
        if lo2 < hi1:
            raise t.error("thresholds_counts", f"windows of {s1} and {s2} overlap")
    return windows


def _firmware(t: _Table, adc: Adc) -> Firmware:
    algorithm = t.text("algorithm")
    if algorithm not in _ALGORITHMS and not _CUSTOM.match(algorithm):
        raise t.error("algorithm", f"must be one of {', '.join(_ALGORITHMS)} or \"module:function\"", algorithm)
    k = t.integer("k", 3, lo=1, hi=100_000)
    fw = Firmware(algorithm=algorithm, thresholds_counts=_thresholds(t, adc),
                  debounce=t.integer("debounce", 1, lo=1, hi=1000), k=k)
    t.raw("sources")
    t.done()
    return fw


def _pilot(t: _Table) -> Pilot:
    from ...sim.cp import parse_state

    raw_states = t.raw("states", ["A2", "B2", "C2", "D2"])
    if not isinstance(raw_states, list) or not raw_states or not all(isinstance(s, str) for s in raw_states):
        raise t.error("states", "must be a non-empty list of state names such as [\"B2\", \"C2\"]", raw_states)
    states = []
    for s in raw_states:
        try:
            letter, pwm = parse_state(s)
        except ParameterError as exc:
            raise t.error("states", str(exc)) from None
        name = letter + ("" if letter in "EF" else ("2" if pwm else "1"))
        if name in states:
            raise t.error("states", f"lists {name} twice")
        states.append(name)
    duty = t.number("duty", 0.25, lo=0.0, lo_open=True, hi=1.0, hi_open=True)
    freq = t.number("frequency_hz", 1000.0, lo=1.0, hi=1e6)
    cable = t.number("cable_c_f", lo=0.0, hi=1e-6) if t.has("cable_c_f") else None
    mode = t.text("cp_tolerances", "default", choices=("default", "none"))
    tols = t.raw("tolerances", {})
    if not isinstance(tols, Mapping) or not all(isinstance(v, str) for v in tols.values()):
        raise t.error("tolerances", "must be a table of NAME = \"SPEC\" (e.g. r1 = \"3%\", cable_c_f = \"0:3.1n\")",
                      tols)
    from ..syntax import parse_tolerance

    for name, spec in tols.items():
        try:
            parse_tolerance(f"{name}={spec}")
        except ParameterError as exc:
            raise t.error(f"tolerances.{name}", f"is not a tolerance: {exc}") from None
    t.raw("sources")
    t.done()
    return Pilot(tuple(states), duty, freq, cable, mode, dict(tols))  # type: ignore[arg-type]
