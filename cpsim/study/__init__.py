"""Tolerance studies: variations, engines, Monte Carlo, worst-case corners, yield and summaries.

================  ==================================================================================
``variations``    :class:`Tolerance` and the default tolerance table (PILOT-REFERENCE §1), seeded draws;
                  ``Tolerance.to_frame`` / ``from_frame``: the table as a DataFrame, every field both ways
``syntax``        the command line's tolerance syntax with units (``cable_c=0:3100p``, ``r1=3%``)
``diode``         the diode's forward-voltage shift mapped onto ngspice's ``area``
``engines``       ``fast`` (closed-form plateaus, vectorised) and ``spice`` (ngspice + the analyzer)
``runner``        :func:`run_montecarlo`: chunks of variations on an engine, one row per run
``pool``          executors, worker processes, bounded in-flight work, retries, progress
``store``         rows streamed to Parquet parts as they arrive; resume
``stream``        :func:`~cpsim.study.stream.stream_montecarlo`: fast studies of any size in bounded memory
``online``        :class:`~cpsim.study.online.OnlineSummary`: ``summarize`` built chunk by chunk (mergeable)
``results``       results frames: columns, dtypes, :func:`read_results`, :func:`write_results`
``corners``       :func:`run_corners`: worst-case corners (exhaustive or vertex search)
``summary``       :func:`summarize`, :func:`threshold_yield`: failures first, statistics, yield, margins
                  (the margin rule), worst cases
``sensitivity``   what drives each level: the varied parameters by share of variance
``stats``         the misread rate's Clopper-Pearson upper bound
``timing``        the spice engine's measured edges, frequency and pulse width against the limits
================  ==================================================================================
"""

from __future__ import annotations

from .corners import run_corners
from .results import read_results, write_results
from .runner import montecarlo, run_montecarlo
from .summary import summarize, threshold_yield
from .variations import DEFAULT_TOLERANCES, Tolerance

__all__ = ["run_montecarlo", "montecarlo", "run_corners", "read_results", "write_results", "summarize",
           "threshold_yield", "Tolerance", "DEFAULT_TOLERANCES"]
