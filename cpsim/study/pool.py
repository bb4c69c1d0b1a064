"""Running chunks of a study on an executor: worker processes, bounded in-flight work, retries, progress.

* ``executor=None`` runs ``spice`` on a local process pool sized to the machine, recycling
  each worker after ``recycle_after`` chunks (PySpice/ngspice memory grows over thousands of
  runs). Any :class:`concurrent.futures.Executor` works, e.g. a Dask cluster's
  ``Client(...).get_executor()``. With a thread-based executor the ngspice runs of one
  process are serialised by the session lock (one ngspice per process).
* A chunk lost with its worker is retried on a fresh pool; if it cannot be finished its rows
  carry ``error = "unfinished: ..."`` and a later ``resume=True`` runs them again.
"""

from __future__ import annotations

import collections
import logging
import os
from concurrent.futures import FIRST_COMPLETED, wait
from concurrent.futures.process import BrokenProcessPool

from ..errors import ParameterError
from .results import UNFINISHED

__all__ = ["check_workers", "default_workers", "new_pool", "drive", "progress_bar"]

_log = logging.getLogger(__name__)


def check_workers(workers) -> None:
    """``workers`` is None (the default) or a process count 1 .. 1024; else ParameterError."""
    if workers is not None and not (isinstance(workers, int) and not isinstance(workers, bool)
                                    and 1 <= workers <= 1024):
        raise ParameterError(f"workers must be an integer 1 .. 1024, got {workers!r}")


def default_workers() -> int:
    """Worker processes for the local pool: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _worker_init() -> None:
    import signal

    # Ctrl-C goes to the whole process group; the parent alone decides what to keep.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("PySpice").setLevel(logging.ERROR)


def new_pool(workers: int, recycle_after: int):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: a fresh interpreter per worker (no inherited ngspice state, no fork of a threaded parent)
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init, max_tasks_per_child=recycle_after)


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


class _CallbackBar:
    def __init__(self, fn, total, initial):
        self.fn, self.total, self.n = fn, total, initial

    def update(self, n):
        self.n += n
        self.fn(self.n, self.total)

    def close(self):
        pass


def progress_bar(progress, total: int, initial: int):
    if progress is True:
        import sys

        from tqdm import tqdm

        return tqdm(total=total, initial=initial, unit="run", unit_scale=total >= 100_000, file=sys.stderr,
                    dynamic_ncols=True, desc="montecarlo")
    if callable(progress):
        return _CallbackBar(progress, total, initial)
    return _NoBar()


def drive(chunks, ctx, submit, to_frame, *, own: bool) -> None:
    """Keep a bounded number of chunks in flight, record each as it completes."""
    store, bar = ctx["store"], ctx["bar"]
    executor = new_pool(ctx["workers"], ctx["recycle_after"]) if own else ctx["executor"]
    limit = ctx["max_inflight"] or max(8, 3 * ctx["workers"])
    pending = collections.deque(range(len(chunks)))
    attempts: collections.Counter[int] = collections.Counter()
    inflight: dict = {}

    def record_unfinished(i, exc):
        runs = chunks[i]
        reason = f"{UNFINISHED}{type(exc).__name__}: {exc}".splitlines()[0][:500]
        _log.warning("runs %d-%d not finished (%s); resume=True runs them again", runs[0], runs[-1], reason)
        store.add(to_frame(runs, {"error": [reason] * runs.size}))
        bar.update(runs.size)

    try:
        while pending or inflight:
            while pending and len(inflight) < limit:
                i = pending.popleft()
                inflight[submit(executor, chunks[i])] = i
            finished, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            broken = False
            for fut in finished:
                i = inflight.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool as exc:
                    broken = True
                    attempts[i] += 1
                    if own and attempts[i] <= ctx["retries"]:
                        pending.appendleft(i)
                    else:
                        record_unfinished(i, exc)
                except Exception as exc:  # a lost worker, a cancelled or failed task: never stop the batch
                    record_unfinished(i, exc)
                else:
                    store.add(to_frame(chunks[i], result))
                    bar.update(chunks[i].size)
            if broken and own:
                _log.warning("a worker process died; starting a fresh pool")
                for i in inflight.values():
                    attempts[i] += 1
                    pending.appendleft(i)
                inflight.clear()
                executor.shutdown(wait=False, cancel_futures=True)
                executor = new_pool(ctx["workers"], ctx["recycle_after"])
    except BaseException:
        for fut in inflight:
            fut.cancel()
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
            own = False
        raise
    finally:
        if own:
            executor.shutdown(wait=True)
