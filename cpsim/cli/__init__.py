"""The ``cpsim`` command line: one module per command group, wired by :mod:`cpsim.cli.main`.

==============  ==================================================================
``simulate``    ``cpsim simulate cp|pp``
``pp``          ``cpsim pp diagnose``
``analyze``     ``cpsim analyze``
``formats``     ``cpsim formats``
``study``       ``cpsim montecarlo``, ``cpsim corners``
``report``      ``cpsim report``
``common``      the parser class, argument types and JSON output they share
==============  ==================================================================
"""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
