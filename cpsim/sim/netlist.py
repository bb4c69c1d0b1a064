"""Compose runnable netlists from the text files in ``cpsim/circuits``.

A scenario file (``cp_c.cir``, ``pp_type1.cir``, ...) is a complete netlist that
plain ``ngspice -b`` runs: ``.include`` lines, ``.param`` defaults, subcircuit
instances whose parameters are ``{name}`` references, an analysis card and
``.meas`` lines for the hand run. Python composes it for a run by

* inlining the ``.include`` files (no file-system paths reach ngspice),
* replacing every ``{name}`` with a validated float (``.param`` lines are dropped),
* renaming nodes and instances with a suffix for each copy, so that many variants
  of one circuit share a single transient run (batching), and
* replacing the analysis card; ``.meas`` lines are dropped.

Only numbers produced here from floats ever reach the netlist text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..errors import ParameterError
from ..units import parse_spice_number

__all__ = ["CIRCUITS_DIR", "Scenario", "load_scenario", "compose", "scenario_names"]

CIRCUITS_DIR = Path(__file__).resolve().parent.parent / "circuits"

_PARAM_REF = re.compile(r"\{([a-z_][a-z0-9_]*)\}", re.IGNORECASE)
_SUBCKT = re.compile(r"^\.subckt\s+(\S+)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file."""

    name: str
    title: str
    includes: tuple[str, ...]
    defaults: Mapping[str, float]
    instances: tuple[str, ...]
    options: tuple[str, ...]

    def check_params(self, params: Mapping[str, float]) -> dict[str, float]:
        """Defaults overlaid with ``params``; unknown names and non-finite values are refused."""
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise ParameterError(
                f"scenario {self.name!r} has no parameter {', '.join(unknown)}; "
                f"valid: {', '.join(sorted(self.defaults))}"
            )
        merged = dict(self.defaults)
        for key, value in params.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ParameterError(f"parameter {key} must be a finite number, got {value!r}")
            merged[key] = float(value)
        return merged


def scenario_names() -> list[str]:
    """Names of the scenario files shipped in ``cpsim/circuits`` (without ``.cir``)."""
    return sorted(p.stem for p in CIRCUITS_DIR.glob("*.cir"))


@cache
def load_scenario(name: str) -> Scenario:
    """Parse ``cpsim/circuits/<name>.cir``."""
    path = CIRCUITS_DIR / f"{name}.cir"
    if not re.fullmatch(r"[a-z0-9_]+", name) or not path.is_file():
        raise ParameterError(f"unknown circuit {name!r}; available: {', '.join(scenario_names())}")
    lines = _logical_lines(path.read_text(encoding="ascii"))
    title = lines[0].lstrip("* ").strip() if lines and lines[0].startswith("*") else name
    includes, instances, options = [], [], []
    defaults: dict[str, float] = {}
    for line in lines:
        low = line.lower()
        if not line.strip() or line.startswith("*") or low.startswith((".end", ".meas", ".tran", ".op", ".print")):
            continue
        if low.startswith(".include"):
            includes.append(line.split(None, 1)[1].strip().strip('"'))
        elif low.startswith(".param"):
            for key, value in re.findall(r"([a-z_][a-z0-9_]*)\s*=\s*(\S+)", line[6:], re.IGNORECASE):
                defaults[key.lower()] = parse_spice_number(value)
        elif low.startswith(".options"):
            options.append(line)
        elif low[0] in "xrcdvl":
            instances.append(line)
        else:
            raise ParameterError(f"{path.name}: unsupported line for composition: {line!r}")
    for inst in instances:
        for ref in _PARAM_REF.findall(inst):
            if ref.lower() not in defaults:
                raise ParameterError(f"{path.name}: {{{ref}}} has no .param default")
    return Scenario(name, title, tuple(includes), defaults, tuple(instances), tuple(options))


@cache
def _library(file_name: str) -> tuple[str, frozenset[str]]:
    text = (CIRCUITS_DIR / file_name).read_text(encoding="ascii")
    return text, frozenset(s.lower() for s in _SUBCKT.findall(text))


def _logical_lines(text: str) -> list[str]:
    """Join SPICE ``+`` continuation lines."""
    out: list[str] = []
    for raw in text.splitlines():
        if raw.startswith("+") and out:
            out[-1] += " " + raw[1:].strip()
        else:
            out.append(raw.rstrip())
    return out


def _num(x: float) -> str:
    return format(float(x), ".12g")


def _instance_line(line: str, values: Mapping[str, float], suffix: str, subckts: frozenset[str]) -> str:
    head, sep, tail = line.partition(" params:")
    tokens = head.split()
    name, rest = tokens[0], tokens[1:]
    if name[0] in "xX":
        # nodes run up to the subcircuit name
        k = next((i for i, tok in enumerate(rest) if tok.lower() in subckts), None)
        if k is None:
            raise ParameterError(f"instance {name} uses no known subcircuit")
        nodes, model = rest[:k], rest[k:]
    else:
        nodes, model = rest[:2], rest[2:]
    nodes = [n if n == "0" else f"{n}{suffix}" for n in nodes]
    text = " ".join([f"{name}{suffix}", *nodes, *model]) + (sep + tail if sep else "")
    return _PARAM_REF.sub(lambda m: _num(values[m.group(1).lower()]), text)


def compose(scenario: Scenario, variants: Sequence[Mapping[str, float]], analysis: str,
            *, omit: Sequence[str] = ()) -> str:
    """A runnable netlist holding one copy of ``scenario`` per entry of ``variants``.

    Copy ``k`` has its nodes suffixed ``_k`` when there is more than one copy.
    ``analysis`` is the analysis card (e.g. ``.tran 100n 5m 0 1u`` or ``.op``), built
    by the caller from floats. ``omit`` lists instance names left out (e.g. a plug).
    """
    if not variants:
        raise ParameterError("compose needs at least one variant")
    parts = [f"* cpsim: {scenario.title}"]
    subckts: frozenset[str] = frozenset()
    for inc in scenario.includes:
        text, names = _library(inc)
        parts.append(f"* --- {inc}\n{text}")
        subckts = subckts | names
    omit_l = {o.lower() for o in omit}
    for k, params in enumerate(variants):
        values = scenario.check_params(params)
        suffix = f"_{k}" if len(variants) > 1 else ""
        parts.extend(
            _instance_line(inst, values, suffix, subckts)
            for inst in scenario.instances if inst.split()[0].lower() not in omit_l
        )
    parts.extend(scenario.options)
    parts.append(analysis)
    parts.append(".end")
    return "\n".join(parts) + "\n"
