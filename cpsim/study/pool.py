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
import functools
import logging
import os
from concurrent.futures import FIRST_COMPLETED, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import context as mp_context
from typing import Any

from ..errors import NgspiceNotFoundError, ParameterError
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


@functools.cache
def _no_main_popen():
    """popen_spawn_posix's Popen whose launch omits the parent's ``__main__`` from the preparation data."""
    import types
    from multiprocessing import spawn

    try:
        from multiprocessing import popen_spawn_posix
    except ImportError:  # pragma: no cover - Windows
        return None
    launch = popen_spawn_posix.Popen._launch
    if "spawn" not in launch.__code__.co_names or not callable(getattr(spawn, "get_preparation_data", None)):
        return None  # pragma: no cover - a Python whose spawn start differs

    class _Spawn(types.SimpleNamespace):
        def __getattr__(self, name):
            return getattr(spawn, name)

    def preparation_data(name):
        data = spawn.get_preparation_data(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    # the standard launch, reading `spawn` from a namespace whose preparation data leaves main out
    globals_ = dict(vars(popen_spawn_posix), spawn=_Spawn(get_preparation_data=preparation_data))

    class _Popen(popen_spawn_posix.Popen):
        _launch = types.FunctionType(launch.__code__, globals_, launch.__name__, launch.__defaults__,
                                     launch.__closure__)

    return _Popen


class _NoMainProcess(mp_context.SpawnProcess):
    """A spawned worker that does not run the parent's ``__main__`` again.

    ``spawn`` normally re-imports the user's script in every worker (as ``__mp_main__``), so a plain
    script without ``if __name__ == "__main__":`` starts its study again in each worker and they
    fail. cpsim's workers only run cpsim's own functions, so the main module is left out of what a
    worker prepares (``init_main_from_path`` / ``init_main_from_name``).
    """

    @staticmethod
    def _Popen(process_obj):
        popen = _no_main_popen()
        assert popen is not None  # new_pool only uses this class when it exists
        return popen(process_obj)


class _NoMainContext(mp_context.SpawnContext):
    Process = _NoMainProcess


_MAIN_NOTE = ("the parent's __main__ is a script that spawned workers would run again; "
              "running the spice engine in this process instead")


def main_is_safe() -> bool:
    """True when a plain ``spawn`` worker would not run the user's script again (no file, or guarded -m)."""
    import sys

    main = sys.modules.get("__main__")
    return getattr(main, "__file__", None) is None or getattr(getattr(main, "__spec__", None), "name", None) is not None


def new_pool(workers: int, recycle_after: int):
    """A local process pool of ``workers`` (spawned, each recycled after ``recycle_after`` tasks)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: a fresh interpreter per worker (no inherited ngspice state, no fork of a threaded parent),
    # without re-importing the user's script
    ctx: Any = _NoMainContext() if _no_main_popen() is not None else None
    if ctx is None:  # pragma: no cover - only where the no-main start is unavailable
        if not main_is_safe():
            _log.warning(_MAIN_NOTE)
            return _InProcess()
        ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                               max_tasks_per_child=recycle_after)


class _InProcess:
    """A minimal executor running each task in this process (the fallback of :func:`new_pool`)."""

    def submit(self, fn, *args, **kwargs):
        from concurrent.futures import Future

        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            fut.set_exception(exc)
        return fut

    def shutdown(self, wait=True, cancel_futures=False):
        pass


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
                except NgspiceNotFoundError:
                    raise  # not a failing variation: no run can be simulated (the error has the install hint)
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
