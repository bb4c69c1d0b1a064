"""Virtual bring-up: the EVSE's pilot-measurement chain (front-end, ADC, sampling, firmware) in the tolerance study.

==============  ==================================================================================
``board``       board files (TOML): schema, validation, the example boards in ``boards/``
``frontend``    the sense divider in closed form; the front-end as a SPICE subcircuit
``adc``         the ADC (reference, gain, offset, noise, rounding); the board's per-variation draws
``readings``    sampling schemes (triggered, free-running) and readings through an algorithm
``firmware``    algorithms (peak, mean, top-k mean, your own), windows in counts, debounce
``chain``       what both engines share
``fast``        closed-form settled plateaus, vectorised (millions of variations per second)
``spice``       ngspice with the front-end attached, sampled at the board's instants
``stats``       misreads with Clopper-Pearson bounds, margins and their drivers, recommended thresholds
``api``         :func:`bringup`
==============  ==================================================================================
"""

from __future__ import annotations

from .api import BringupResult, bringup
from .board import Board, board_from_dict, example_boards, load_board

__all__ = ["bringup", "BringupResult", "Board", "load_board", "board_from_dict", "example_boards"]
