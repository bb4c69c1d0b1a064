"""Where a study's rows go as they arrive: buffered, flushed to Parquet parts, gathered at the end.

With ``out=``, finished rows are written as they arrive: Parquet part files in
``<out>.parts/`` (flushed every ``flush_rows`` rows or ``flush_s`` seconds), gathered into
``out`` (``.parquet`` or ``.csv``) at the end. After Ctrl-C or a killed process every flushed
row is kept; a resumed study reads them back (:meth:`ResultStore.load_finished`), after checking
that the manifest of the stored parts matches its own settings.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import uuid
from pathlib import Path

from ..errors import ParameterError
from .results import UNFINISHED, format_of, normalise, read_results, write_results

__all__ = ["ResultStore"]

_log = logging.getLogger(__name__)


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
            if self.parts.exists():
                _log.info("removing the parts of an earlier run in %s", self.parts)
                shutil.rmtree(self.parts)
            return None
        frames = []
        if self.parts.is_dir():
            stored = self._read_manifest()
            diff = sorted(k for k in set(stored) | set(self.manifest)
                          if k != "runs" and stored.get(k) != self.manifest.get(k))
            if diff:
                raise ParameterError(
                    f"{self.parts}: written by a study with other settings ({', '.join(diff)} differ); "
                    "resume with the same options, or drop --resume to start afresh")
            frames += [pd.read_parquet(p) for p in sorted(self.parts.glob("part-*.parquet"))]
        if self.out.is_file():
            frames.append(read_results(self.out))
        if not frames:
            return None
        df = pd.concat(frames, ignore_index=True).drop_duplicates("run", keep="last")
        err = df["error"].astype("str")
        df = df[~err.str.startswith(UNFINISHED, na=False)]
        return normalise(df)

    def _read_manifest(self) -> dict:
        try:
            return json.loads((self.parts / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ParameterError(f"{self.parts}: unreadable manifest ({exc}); drop --resume to start afresh") \
                from None

    # -- streaming ----------------------------------------------------------------------------
    def start(self) -> None:
        if self.stream:
            assert self.out is not None  # streaming needs out= (see __init__)
            if not self.resume and self.out.exists():
                # a fresh study replaces an old file now, so a later resume cannot mix the two
                self.out.unlink()
            self.parts.mkdir(exist_ok=True)
            (self.parts / "manifest.json").write_text(json.dumps(self.manifest, indent=1), encoding="utf-8")

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
