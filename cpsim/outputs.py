"""Writing an output file without destroying what the user pointed at.

Every file cpsim writes goes through :func:`output_path`:

* a new path, or an existing regular file: written to a temporary file beside it and renamed
  over it when complete (atomic: an interrupted write leaves the old file, never half a file);
* a symbolic link: the same for the file it points to; the link itself stays a link;
* a FIFO, a character device (``/dev/null``, a serial port), or anything else that is not a
  regular file: written in place, never replaced by a regular file;
* a directory, an empty name, or a path whose folder does not exist: :class:`~cpsim.OutputError`
  or :class:`~cpsim.ParameterError` before anything is written.

:func:`refuse_input` stops a command whose output is one of its own inputs before it reads anything.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import OutputError, ParameterError

__all__ = ["output_path", "refuse_foreign", "refuse_input", "table_columns", "write_text", "written_by_cpsim"]


@contextlib.contextmanager
def output_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """The path to write to so that the result lands at ``path`` (see the module's rules).

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out.txt"
    >>> with output_path(target) as p:
    ...     _ = p.write_text("hello")
    >>> target.read_text()
    'hello'
    """
    if str(path) == "":
        raise ParameterError("the output path is empty: give a file name")
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(target, exc) from exc
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(target, IsADirectoryError(21, "is a directory; give a file name"))
    if mode is not None and not stat.S_ISREG(mode):
        yield target  # a FIFO, a device: write in place
        return
    if not target.parent.is_dir():
        raise OutputError(target, FileNotFoundError(2, f"the folder {target.parent} does not exist"))
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        if tmp.exists():
            os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(target, exc) from exc
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` by the rules of :func:`output_path`; return the path written."""
    with output_path(path) as p:
        try:
            p.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise OutputError(Path(path), exc) from exc
    return Path(path)


def refuse_input(out: str | os.PathLike[str] | None, inputs: Iterable[str | os.PathLike[str]]) -> None:
    """:class:`~cpsim.OutputError` if ``out`` is the same file as one of ``inputs`` (through links too).

    ``None`` and ``-`` (standard output / input) are never the same file; paths that do not exist
    yet cannot be an input.

    Examples
    --------
    >>> import tempfile
    >>> capture = Path(tempfile.mkdtemp()) / "capture.csv"
    >>> _ = capture.write_text("time,cp\\n")
    >>> refuse_input(capture.with_name("table.csv"), [capture])  # another file: fine
    >>> refuse_input(capture, [capture])
    Traceback (most recent call last):
    ...
    cpsim.errors.OutputError: ...capture.csv: cannot write: it is one of the inputs; choose another output path
    """
    if out is None or os.fspath(out) in ("-", ""):
        return
    for inp in inputs:
        if inp is None or os.fspath(inp) in ("-", ""):
            continue
        try:
            same = os.path.samefile(out, inp)
        except (OSError, ValueError):
            continue  # one of them does not exist (yet): not the same file
        if same:
            raise OutputError(out, OSError(errno.EINVAL, "it is one of the inputs; choose another output path"))


def table_columns(path: str | os.PathLike[str]) -> list[str]:
    """A table's column names: the CSV header line (pyarrow's writer quotes it), or the Parquet schema
    (``[]`` when it is not one). Raises :class:`OSError` when the file cannot be read."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        except Exception:  # not a Parquet file, or pyarrow missing: not recognised
            return []
    with open(path, "rb") as fh:
        first = fh.readline(8192).decode("utf-8", "replace").lstrip("\ufeff").strip()
    return [c.strip().strip('"') for c in first.split(",")]


def written_by_cpsim(path: str | os.PathLike[str]) -> bool:
    """Whether the file at ``path`` looks like one cpsim writes: an HTML report (its ``generator`` tag),
    a capture in cpsim's CSV layout (``time_s,<channel>_v``), a study's rows (``run`` and
    ``expected_state`` columns: Monte Carlo, corners, bring-up) or a table of captures (``file`` and
    ``verdict``)."""
    p = Path(path)
    if p.suffix.lower() in (".html", ".htm"):
        with open(p, "rb") as fh:
            return b'<meta name="generator" content="cpsim' in fh.read(4096)
    cols = table_columns(p)
    return ((len(cols) == 2 and cols[0] == "time_s" and cols[1].endswith("_v"))
            or {"run", "expected_state"} <= set(cols) or {"file", "verdict"} <= set(cols))


def refuse_foreign(out: str | os.PathLike[str] | None, *, force: bool = False) -> None:
    """:class:`~cpsim.OutputError` if ``out`` is an existing, non-empty regular file that cpsim did not
    write (:func:`written_by_cpsim`), unless ``force``: an output never destroys what it did not create.

    Examples
    --------
    >>> import tempfile
    >>> notes = Path(tempfile.mkdtemp()) / "notes.csv"
    >>> _ = notes.write_text("my,own,notes\\n")
    >>> refuse_foreign(notes, force=True)  # the user said so
    >>> refuse_foreign(notes)
    Traceback (most recent call last):
    ...
    cpsim.errors.OutputError: ...notes.csv: cannot write: it exists and cpsim did not write it; add --force ...
    """
    if force or out is None or os.fspath(out) in ("-", ""):
        return
    p = Path(out)
    try:
        st = p.stat()
    except OSError:
        return  # does not exist (yet)
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
        return  # a FIFO or device is written in place; an empty file holds nothing to lose
    try:
        ours = written_by_cpsim(p)
    except OSError:
        ours = False
    if not ours:
        raise OutputError(out, OSError(errno.EEXIST, "it exists and cpsim did not write it; add --force to "
                                                     "replace it, or choose another path"))
