"""Build the one optional C extension (the rest of the project is in pyproject.toml).

``cpsim.io._fastrows`` is a strict fast path for numeric capture rows; without a C
compiler the build skips it (``optional=True``) and cpsim parses every row with
pyarrow, correct and about 3x slower (see README, "Speed").
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "cpsim.io._fastrows",
            sources=["cpsim/io/_fastrows.c"],
            optional=True,
        )
    ]
)
