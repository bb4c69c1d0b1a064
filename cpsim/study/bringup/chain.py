"""What both engines share: the study's setup for one board and the last steps of the chain.

:class:`Chain` holds a board's resolved CP tolerances and nominal values, its firmware windows and
reading function; :meth:`Chain.rows` turns the readings of a chunk of variations into result
columns (codes, the debounced state, single-reading errors, margins' raw material).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..syntax import parse_tolerance
from ..variations import DEFAULT_TOLERANCES, Tolerance, resolve_tolerances
from . import firmware as fwm
from .board import Board

__all__ = ["Chain", "Columns", "NOISE_KEY", "STATE_KEYS"]

NOISE_KEY = 100
"""First stream key (:func:`~.adc.board_stream`) of the per-reading noise and phases; + :data:`STATE_KEYS`."""
STATE_KEYS = {"A1": 0, "A2": 1, "B1": 2, "B2": 3, "C1": 4, "C2": 5, "D1": 6, "D2": 7, "E": 8, "F": 9}


@dataclass
class Chain:
    """A board ready to be studied."""

    board: Board
    letters: list[str] = field(init=False)
    lo: np.ndarray = field(init=False)
    hi: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        fw = self.board.firmware
        self.letters, self.lo, self.hi = fwm.windows(fw, self.board.adc.top_code)
        source = Path(self.board.source) if self.board.source else None
        self.reader = fwm.algorithm(fw, base_dir=None if source is None else source.parent)

    # -- the CP circuit ----------------------------------------------------------------------
    @property
    def nominal(self) -> dict[str, float]:
        p = self.board.pilot
        return {"duty": p.duty, "frequency_hz": p.frequency_hz}

    def tolerances(self, state: str) -> tuple[Tolerance, ...]:
        """The CP circuit's tolerances for ``state``: the defaults (PILOT-REFERENCE §1) or none,
        with the board's overrides; ``pilot.cable_c_f`` fixes the cable unless a tolerance names it."""
        p = self.board.pilot
        overrides = [parse_tolerance(f"{k}={v}") for k, v in p.tolerances.items()]
        if p.cable_c_f is not None and not any(t.name == "cable_c_f" for t in overrides):
            overrides.append(Tolerance.fixed("cable_c_f", p.cable_c_f, source="board file pilot.cable_c_f"))
        base = DEFAULT_TOLERANCES if p.cp_tolerances == "default" else ()
        return resolve_tolerances(overrides, state=state, base=base)

    # -- the last metre -----------------------------------------------------------------------
    def rows(self, state: str, values: np.ndarray, sampled: np.ndarray) -> dict[str, np.ndarray]:
        """Columns of a chunk from its readings ``values`` (n, debounce) and noise-free ``sampled`` [LSB]."""
        letter = state[0]
        expected = self.letters.index(letter) if letter in self.letters else fwm.NONE - 10
        states = fwm.classify(values, self.letters, self.lo, self.hi)
        decided = fwm.debounce(states)
        return {
            "code": values[:, 0], "code_min": values.min(axis=1), "code_max": values.max(axis=1),
            "read_as": decided, "misread": (decided != fwm.HELD) & (decided != expected),
            "wrong_readings": (states != expected).sum(axis=1).astype(np.int64),
            "sampled_lsb": np.asarray(sampled, dtype=float),
        }


class Columns:
    """Result columns of one state, filled chunk by chunk into arrays allocated once.

    A column that holds one value throughout (a fixed tolerance) is kept as that value and handed
    out as a read-only broadcast view: no memory, no copying.
    """

    def __init__(self, runs: int):
        self.runs = runs
        self.arrays: dict[str, np.ndarray] = {}
        self.constant: dict[str, np.ndarray] = {}  # name -> 0-d array

    def _materialise(self, name: str, dtype, upto: int) -> None:
        self.arrays[name] = np.empty(self.runs, dtype=dtype)
        if name in self.constant:
            self.arrays[name][:upto] = self.constant.pop(name)

    def put(self, first: int, chunk: Mapping[str, np.ndarray]) -> None:
        for name, values in chunk.items():
            values = np.asarray(values)
            if name not in self.arrays:
                const = self.constant.get(name)
                uniform = values.dtype != object and values.size > 0 and bool(np.all(values == values[0]))
                if uniform and (first == 0 or (const is not None and values[0] == const)):
                    self.constant[name] = np.array(values[0])
                    continue
                self._materialise(name, values.dtype, first)
            self.arrays[name][first:first + values.size] = values

    @property
    def data(self) -> dict[str, np.ndarray]:
        out = dict(self.arrays)
        out.update({k: np.broadcast_to(v, (self.runs,)) for k, v in self.constant.items()})
        return out
