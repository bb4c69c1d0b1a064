"""Tolerance studies: variations, engines, Monte Carlo, worst-case corners, yield and summaries.

==============  ==================================================================================
``variations``  :class:`Tolerance` and the default tolerance table (PILOT-REFERENCE §1), seeded draws
``engines``     ``fast`` (closed-form plateaus, vectorised) and ``spice`` (ngspice + the analyzer)
``runner``      :func:`run_montecarlo`: chunks of variations on an engine, one row per run
``pool``        executors, worker processes, bounded in-flight work, retries, progress
``store``       rows streamed to Parquet parts as they arrive; resume
``results``     results frames: columns, dtypes, :func:`read_results`, :func:`write_results`
``corners``     :func:`run_corners`: worst-case corners (exhaustive or vertex search)
``summary``     :func:`summarize`, :func:`threshold_yield`: statistics, yield, margins, worst cases
==============  ==================================================================================
"""

from __future__ import annotations

from .corners import run_corners
from .results import read_results, write_results
from .runner import montecarlo, run_montecarlo
from .summary import summarize, threshold_yield
from .variations import DEFAULT_TOLERANCES, Tolerance

__all__ = ["run_montecarlo", "montecarlo", "run_corners", "read_results", "write_results", "summarize",
           "threshold_yield", "Tolerance", "DEFAULT_TOLERANCES"]
