"""Where a study's rows go as they arrive: buffered, flushed to Parquet parts, gathered at the end.

With ``out=``, finished rows are written as they arrive: Parquet part files in
``<out>.parts/`` (flushed every ``flush_rows`` rows or ``flush_s`` seconds), gathered into
``out`` (``.parquet`` or ``.csv``) at the end. After Ctrl-C or a killed process every flushed
row is kept; a resumed study reads them back (:meth:`ResultStore.load_finished`), after checking
that the manifest of the stored parts matches its own settings.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import time
import uuid
from pathlib import Path

from ..errors import OutputError, ParameterError
from .results import UNFINISHED, format_of, normalise, read_results, write_results

__all__ = ["ResultStore", "check_manifest", "remove_parts", "write_manifest", "keeps_out"]

_log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
"""The settings of the study that wrote a ``<out>.parts/`` folder (what makes the folder cpsim's)."""
STALE_OUT = "out-is-older"
"""A marker in ``<out>.parts/``: the file ``out`` is an older study's, replaced only when this one
finishes; a resumed study must not read its rows."""


def remove_parts(parts: Path) -> None:
    """Remove the ``<out>.parts/`` folder of an earlier run, only if it is cpsim's (a manifest, or empty)."""
    if not os.path.lexists(parts):
        return
    ours = not parts.is_symlink() and parts.is_dir() and ((parts / MANIFEST).is_file() or not any(parts.iterdir()))
    if not ours:
        raise OutputError(parts, OSError(errno.EEXIST, "exists and is not the parts folder of a cpsim study; "
                                                       "move it away or choose another output path"))
    _log.info("removing the parts of an earlier run in %s", parts)
    shutil.rmtree(parts)


def check_manifest(parts: Path, manifest: dict) -> None:
    """ParameterError unless the parts in ``parts`` were written by a study with these settings (``runs`` aside)."""
    try:
        stored = json.loads((parts / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ParameterError(f"{parts}: unreadable manifest ({exc}); drop --resume to start afresh") from None
    if not isinstance(stored, dict):
        raise ParameterError(f"{parts}: unreadable manifest (not a JSON object); drop --resume to start afresh")
    diff = sorted(k for k in set(stored) | set(manifest) if k != "runs" and stored.get(k) != manifest.get(k))
    if diff:
        raise ParameterError(f"{parts}: written by a study with other settings ({', '.join(diff)} differ); "
                             "resume with the same options, or drop --resume to start afresh")


def write_manifest(parts: Path, manifest: dict, out: Path, fresh: bool) -> None:
    """Create ``parts`` with its manifest; ``fresh``: an existing ``out`` is an older study's (see :data:`STALE_OUT`).

    The older file itself stays until the new study finishes (an interrupted run keeps it).
    """
    parts.mkdir(exist_ok=True)
    (parts / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    if fresh and os.path.lexists(out):
        (parts / STALE_OUT).write_text("the results file beside this folder is an older study's\n", encoding="utf-8")


def keeps_out(parts: Path, out: Path) -> bool:
    """Whether a resumed study may read the rows of ``out`` (a file, not marked as an older study's)."""
    return out.is_file() and not (parts / STALE_OUT).exists()


class ResultStore:
    """Rows as they arrive: buffered, flushed to Parquet parts, gathered at the end."""

    def __init__(self, out, manifest: dict, *, resume: bool, stream: bool, flush_rows: int, flush_s: float):
        self.out = None if out is None else Path(out)
        self.manifest = manifest
        self.stream = stream and self.out is not None
        self.flush_rows, self.flush_s = flush_rows, flush_s
        self.frames: list = []          # every row of this call (and of the resumed ones)
        self.buffer: list = []
        self.buffered = 0
        self.last_flush = time.monotonic()
        self.resume = resume
        if self.out is not None:
            format_of(self.out)
            if not self.out.parent.is_dir():
                raise ParameterError(f"{self.out.parent}: output directory does not exist")
            self.parts = self.out.with_name(self.out.name + ".parts")

    # -- resume -------------------------------------------------------------------------------
    def load_finished(self):
        """Rows already on disk (resume) as a frame, or None."""
        import pandas as pd

        if self.out is None:
            if self.resume:
                raise ParameterError("resume needs out= (the results file of the interrupted run)")
            return None
        if not self.resume:
            remove_parts(self.parts)
            return None
        frames = []
        if self.parts.is_dir():
            check_manifest(self.parts, self.manifest)
            frames += [pd.read_parquet(p) for p in sorted(self.parts.glob("part-*.parquet"))]
        if keeps_out(self.parts, self.out):
            frames.append(read_results(self.out))
        if not frames:
            return None
        df = pd.concat(frames, ignore_index=True).drop_duplicates("run", keep="last")
        err = df["error"].astype("str")
        df = df[~err.str.startswith(UNFINISHED, na=False)]
        return normalise(df)

    # -- streaming ----------------------------------------------------------------------------
    def start(self) -> None:
        if self.stream:
            assert self.out is not None  # streaming needs out= (see __init__)
            # a fresh study replaces an old file only when it finishes (write_results, atomically);
            # until then the parts say the old file is not theirs, so a later resume cannot mix the two
            write_manifest(self.parts, self.manifest, self.out, fresh=not self.resume)

    def add(self, frame) -> None:
        self.frames.append(frame)
        if not self.stream:
            return
        self.buffer.append(frame)
        self.buffered += len(frame)
        if self.buffered >= self.flush_rows or time.monotonic() - self.last_flush >= self.flush_s:
            self.flush()

    def flush(self) -> None:
        if not (self.stream and self.buffer):
            return
        import pandas as pd

        part = pd.concat(self.buffer, ignore_index=True)
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:6]}.parquet"
        write_results(normalise(part), self.parts / name)
        self.buffer, self.buffered, self.last_flush = [], 0, time.monotonic()

    def finish(self, previous):
        import pandas as pd

        frames = ([previous] if previous is not None else []) + self.frames
        df = normalise(pd.concat(frames, ignore_index=True)) if frames else None
        if self.out is not None and df is not None:
            write_results(df, self.out)
            if self.parts.exists():
                shutil.rmtree(self.parts)
        return df
