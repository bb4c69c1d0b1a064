"""The main job (`make demo`): simulate the CP states and report what an instrument would."""

from __future__ import annotations

import sys

import numpy as np


def _plateau(wave, duty: float, frequency_hz: float) -> tuple[float, float]:
    """Median of the settled middle of the last period's high and low halves [V]."""
    period = 1.0 / frequency_hz
    phase = (wave.t - wave.t[0]) % period
    last = wave.t >= wave.t[-1] - period
    high = last & (phase > 0.3 * duty * period) & (phase < 0.9 * duty * period)
    low = last & (phase > (duty + 0.3 * (1 - duty)) * period) & (phase < 0.95 * period)
    return float(np.median(wave.v[high])), float(np.median(wave.v[low]))


def main() -> int:
    from .sim import plateau_levels, simulate_cp

    duty, frequency = 0.25, 1000.0
    print("cpsim demo: CP states simulated with ngspice (1 kΩ, ±12 V, 1 kHz, 25 % duty, 1 nF cable)")
    print(f"{'state':<6}{'v_high [V]':>12}{'v_low [V]':>12}{'closed form [V]':>17}")
    for state in ("A", "B", "C", "D"):
        wave = simulate_cp(state, duty=duty, frequency_hz=frequency)
        v_high, v_low = _plateau(wave, duty, frequency)
        ref = float(plateau_levels(state)[0])
        print(f"{state + '2':<6}{v_high:>12.3f}{v_low:>12.3f}{ref:>17.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
