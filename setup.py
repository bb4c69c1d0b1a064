"""Build the optional C extensions (the rest of the project is in pyproject.toml).

``cpsim.io._fastrows`` is a strict fast path for numeric capture rows; without a C
compiler the build skips it (``optional=True``) and cpsim parses every row with
pyarrow, correct and about 3x slower (see README, "Speed").

``cpsim.analysis._fastedges`` runs the analyzer's edge finder and per-edge loops; without
it the numpy reference route gives the same numbers, slower on slowly sampled captures.
Its doubles must be rounded once per operation, as numpy's are: no fused multiply-add.
"""

import sys

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "cpsim.io._fastrows",
            sources=["cpsim/io/_fastrows.c"],
            optional=True,
        ),
        Extension(
            "cpsim.analysis._fastedges",
            sources=["cpsim/analysis/_fastedges.c"],
            extra_compile_args=[] if sys.platform == "win32" else ["-ffp-contract=off"],
            optional=True,
        ),
    ]
)
