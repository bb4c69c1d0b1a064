"""``cpsim.bringup``: run a board's measurement chain over its tolerances and summarise what the firmware reads."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from ..._version import __version__
from ...errors import ParameterError
from ..variations import _check_seed, new_seed
from .board import Board, load_board
from .chain import Chain
from .fast import edge_note, run_fast
from .spice import run_spice
from .stats import read_as_names, recommend, summarize_state, worst_variations

__all__ = ["bringup", "BringupResult"]

Engine = Literal["fast", "spice"]
_ENGINES = ("fast", "spice")


@dataclass(frozen=True)
class BringupResult:
    """A bring-up study: the board, one column dict per simulated state, and the summary.

    Attributes
    ----------
    board : Board
    columns : dict
        State -> column name -> array, one row per variation (see :meth:`frame`).
    summary : dict
        JSON-ready: ``states.<S>.code.{min,median,max}``, ``states.<S>.read_as``,
        ``states.<S>.misread.{count,rate,upper_95}``, ``states.<S>.margins``,
        ``worst_variations``, ``recommended_thresholds_counts``, ``recommended_margin_lsb``.
    """

    board: Board
    columns: dict[str, dict[str, np.ndarray]] = field(repr=False)
    summary: dict[str, Any] = field(repr=False)

    def frame(self) -> pd.DataFrame:
        """One row per (variation, state): ``run``, ``seed``, ``expected_state``, ``read_as``, ``error``,
        the codes, ``sampled_lsb``, ``plateau_lsb``, the CP circuit's and the board's parameters."""
        import pandas as pd

        frames = []
        for state, cols in self.columns.items():
            data = {"run": np.asarray(cols["run"], dtype=np.int64),
                    "seed": np.full(len(cols["run"]), self.summary["seed"], dtype=np.int64),
                    "expected_state": state}
            data.update({k: v for k, v in cols.items() if k != "run"})
            frames.append(pd.DataFrame(data))
        df = pd.concat(frames, ignore_index=True)
        df["error"] = df["error"].where(df["error"] != "", None).astype("str")
        df["read_as"] = pd.Series(read_as_names(self.board, df["read_as"].to_numpy()), dtype="str")
        return df


def _board(board: Board | str | os.PathLike[str]) -> Board:
    if isinstance(board, Board):
        return board
    if isinstance(board, (str, os.PathLike)):
        return load_board(board)
    raise ParameterError(f"board must be a Board or the path of a board file, got {type(board).__name__}")


def bringup(board: Board | str | os.PathLike[str], *, runs: int = 10_000, engine: Engine = "fast",
            seed: int | None = None, states: list[str] | tuple[str, ...] | None = None,
            out: str | os.PathLike[str] | None = None, worst: int = 5, spice_periods: int = 3,
            spice_step_s: float | None = None) -> BringupResult:
    """Simulate a board's pilot-measurement chain over its tolerances: codes, states read, misreads, margins.

    Parameters
    ----------
    board : Board or path
        A :class:`~cpsim.study.bringup.board.Board` or a board file (TOML); a bare name such as
        ``"openevse"`` selects an example board shipped with cpsim.
    runs : int
        Variations per state (CP circuit × front-end × ADC).
    engine : {"fast", "spice"}
        ``fast``: settled plateaus in closed form (millions per second); ``spice``: ngspice with the
        front-end attached, sampled at the board's instants (edges and cable capacitance included).
    seed : int, optional
        Seed of every random stream; drawn and recorded when not given.
    states : sequence of str, optional
        States to simulate (default: the board's ``pilot.states``).
    out : path, optional
        Write the rows (:meth:`BringupResult.frame`) to ``.parquet`` or ``.csv``.
    worst : int
        How many worst variations to list.
    spice_periods : int
        PWM periods per transient (the last one is sampled).
    spice_step_s : float, optional
        Output step of the transient [s] (default: 0.1 µs, a tenth of the generator's edge, or for a
        triggered sample a two-hundredth of its delay, whichever is smallest).

    Returns
    -------
    BringupResult

    Examples
    --------
    >>> result = bringup("openevse", runs=20_000, seed=1)
    >>> result.summary["states"]["B2"]["misread"]["count"]
    0
    >>> result.summary["recommended_thresholds_counts"]["B"][0] > 780
    True
    """
    board = _board(board)
    if engine not in _ENGINES:
        raise ParameterError(f"engine must be one of {', '.join(_ENGINES)}, got {engine!r}")
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or not 1 <= runs <= 10**9:
        raise ParameterError(f"runs must be an integer 1 .. 1e9, got {runs!r}")
    if isinstance(worst, bool) or not isinstance(worst, int) or worst < 0:
        raise ParameterError(f"worst must be an integer >= 0, got {worst!r}")
    seed = new_seed() if seed is None else _check_seed(seed)
    if states is not None:
        from dataclasses import replace

        from ...sim.cp import CpCircuit

        if isinstance(states, str) or not states:
            raise ParameterError(f"states must be a non-empty list of state names, got {states!r}")
        names = tuple(CpCircuit(state=s).state for s in states)
        board = replace(board, pilot=replace(board.pilot, states=names))
    if out is not None:
        from ..results import format_of

        format_of(Path(out))
    chain = Chain(board)
    t0 = time.perf_counter()
    columns = {}
    for state in board.pilot.states:
        if engine == "fast":
            columns[state] = run_fast(chain, state, int(runs), seed)
        else:
            columns[state] = run_spice(chain, state, int(runs), seed, periods=spice_periods, step_s=spice_step_s)
    elapsed = time.perf_counter() - t0
    summary = _summary(board, columns, engine=engine, runs=int(runs), seed=seed, elapsed=elapsed, worst=worst)
    result = BringupResult(board, columns, summary)
    if out is not None:
        from ..results import write_results

        write_results(result.frame(), Path(out))
        summary["out"] = str(out)
    return result


def _summary(board: Board, columns, *, engine: str, runs: int, seed: int, elapsed: float, worst: int) -> dict:
    notes = []
    if engine == "fast":
        notes.append("fast engine: settled plateaus only (edges, cable charging and sample timing within an "
                     "edge are not modelled); free-running sample phases use the nominal PWM frequency")
        note = edge_note(board)
        if note:
            notes.append(note)
    total = runs * len(columns)
    summary: dict[str, Any] = {
        "cpsim": __version__, "board": board.name, "source": board.source, "engine": engine, "runs": runs,
        "seed": seed, "elapsed_s": elapsed, "variations_per_s": total / elapsed if elapsed > 0 else None,
        "sampling": board.sampling.mode, "algorithm": board.firmware.algorithm,
        "debounce": board.firmware.debounce, "adc_bits": board.adc.bits,
        "thresholds_counts": {s: list(w) for s, w in board.firmware.thresholds_counts.items()},
        "errors": int(sum(int(np.sum(np.asarray(c["error"], dtype=object) != "")) for c in columns.values())),
        "notes": notes,
        "states": {state: summarize_state(board, state, cols) for state, cols in columns.items()},
    }
    summary["worst_variations"] = worst_variations(board, columns, worst)
    advice = recommend(board, columns)
    notes.extend(advice.pop("recommendation_notes"))
    summary.update(advice)
    summary["misread_total"] = int(sum(s.get("misread", {}).get("count", 0) for s in summary["states"].values()))
    return summary
