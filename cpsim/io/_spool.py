"""Captures that arrive through a pipe: ``-`` (standard input), ``/dev/stdin``, a FIFO, a socket.

A character or block device (``/dev/zero``, a disk) is refused with :class:`~cpsim.ParameterError`:
copying it may never end.

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
    """Whether ``path`` is a pipe to copy: ``-``, ``/dev/stdin``, ``/dev/fd/N``, a FIFO or a socket.

    A character or block device (``/dev/zero``, a disk, a serial port) is refused: it may never end.
    """
    if path == STDIN:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False  # the reader reports a missing file in its own words
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return False
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return True
    if stat.S_ISCHR(mode) and _names_stdin(path):
        return True  # /dev/stdin on a terminal: what the user types, ended by Ctrl-D
    raise ParameterError(f"{path} is a device, not a capture file; save the capture to a file first "
                         "(or pipe it: ... | cpsim analyze -)")


def _names_stdin(path: str) -> bool:
    """``/dev/stdin``, ``/dev/fd/0`` or ``/proc/self/fd/0`` (standard input by name)."""
    return os.path.normpath(path) in ("/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")


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
    try:  # removed however the read ends: an error, Ctrl-C (KeyboardInterrupt), a closed generator
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
