"""Shared fixtures. There is deliberately no skip for a missing ngspice: CI must fail."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def ngspice():
    """The process's ngspice session; raises NgspiceNotFoundError (a failure) if it cannot load."""
    from cpsim.sim.ngspice import session

    return session()


def plateau_medians(wave, duty: float, frequency_hz: float, *, last_periods: int = 2):
    """Reference plateau extraction for tests: medians of the middle of each half period."""
    period = 1.0 / frequency_hz
    phase = (wave.t - wave.t[0]) % period
    tail = wave.t >= wave.t[-1] - last_periods * period
    high = tail & (phase > 0.4 * duty * period) & (phase < 0.9 * duty * period)
    low = tail & (phase > (duty + 0.4 * (1 - duty)) * period) & (phase < 0.97 * period)
    return float(np.median(wave.v[high])), float(np.median(wave.v[low]))


@pytest.fixture(scope="session")
def both_routes():
    """``run(fn)``: call ``fn()`` with the compiled row parser on, then off (pyarrow only).

    Returns ``[(kind, value), (kind, value)]`` with kind ``"ok"`` (``fn``'s result) or
    ``"error"`` (the CaptureFormatError's message): the two routes must agree.
    """
    from cpsim import CaptureFormatError
    from cpsim.io import _csvcore

    def run(fn):
        outcomes = []
        for on in (True, False):
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(_csvcore, "FAST_PATH", on)
                try:
                    outcomes.append(("ok", fn()))
                except CaptureFormatError as err:
                    outcomes.append(("error", str(err)))
        return outcomes

    return run
