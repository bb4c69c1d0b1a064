"""Simulation: netlist composition, the ngspice boundary, and the closed-form plateau.

Only :mod:`cpsim.sim.ngspice` imports PySpice, and only when a simulation runs.
"""

from .closed_form import plateau_levels
from .cp import CpCircuit, simulate_cp, simulate_cp_batch

__all__ = ["CpCircuit", "plateau_levels", "simulate_cp", "simulate_cp_batch"]
