"""Captures that arrive through a pipe: ``-`` (standard input), ``/dev/stdin``, a FIFO.

The readers need a regular file (its size, a second look at its head, block reads at offsets);
a stream is copied to a temporary file first, in 1 MiB pieces, and the file is removed when the
read is done. ``metadata["source_path"]`` names what the user gave (``<stdin>`` for ``-``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator

from ..errors import CaptureFormatError, ParameterError

__all__ = ["STDIN", "spooled", "display_name"]

STDIN = "-"


def display_name(path: str | os.PathLike[str]) -> str:
    """How a capture's origin is shown: ``<stdin>`` for ``-``, else the path."""
    return "<stdin>" if os.fspath(path) == STDIN else os.fspath(path)


def _is_stream(path: str) -> bool:
    if path == STDIN:
        return True
    try:
        return not stat.S_ISREG(os.stat(path).st_mode) and not stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False  # the reader reports a missing file in its own words


@contextlib.contextmanager
def spooled(path: str | os.PathLike[str]) -> Iterator[str]:
    """``path`` itself for a regular file; for ``-`` or a pipe, a temporary copy of what it holds."""
    try:
        p = os.fspath(path)
    except TypeError as exc:
        raise ParameterError(f"path must be a str or os.PathLike, got {type(path).__name__}") from exc
    if not _is_stream(p):
        yield p
        return
    suffix = os.path.splitext(p)[1] if p != STDIN else ""
    fd, tmp = tempfile.mkstemp(prefix="cpsim-stdin-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            if p == STDIN:
                shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
            else:
                with open(p, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        if os.path.getsize(tmp) == 0:
            raise CaptureFormatError("nothing arrived on the pipe (expected a capture; e.g. "
                                     "cpsim simulate cp | cpsim analyze -)", path=display_name(p))
        yield tmp
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
