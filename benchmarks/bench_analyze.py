"""Throughput of ``cpsim.analyze`` on long CP captures, against one ``np.sum``.

Builds realistic captures (plug-in A1 -> B1, PWM B2, charging C2 with a duty change, back to
B2/B1; 2 µs edges, 50 mV rms noise, 8-bit quantisation over ±16 V) of 10 M and 50 M samples,
times ``analyze()`` (best of ``--repeat`` runs, one core) and prints samples/s and the ratio to
a single ``np.sum`` over the same array measured in the same run.

    .venv/bin/python benchmarks/bench_analyze.py            # 10 M and 50 M samples at 1 MS/s
    .venv/bin/python benchmarks/bench_analyze.py --sizes 10e6 --rate 10e6
"""

from __future__ import annotations

import argparse
import os
import time

# one core: the figure must not depend on a multi-threaded BLAS (numpy reductions are single-threaded anyway)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from cpsim import analyze  # noqa: E402
from cpsim.analysis.synthetic import Stretch, pilot_waveform  # noqa: E402


def capture(n_samples: int, rate_hz: float):
    """A plug-in and charging session squeezed into ``n_samples`` samples."""
    total = n_samples / rate_hz
    plan = [(0.05, Stretch(0, 12.0)), (0.05, Stretch(0, 9.0)), (0.2, Stretch(0, 9.0, -12.0, 0.25)),
            (0.3, Stretch(0, 6.0, -12.0, 0.25)), (0.2, Stretch(0, 6.0, -12.0, 0.5)),
            (0.15, Stretch(0, 9.0, -12.0, 0.5)), (0.05, Stretch(0, 9.0))]
    stretches = [Stretch(f * total, s.v_high, s.v_low, s.duty) for f, s in plan]
    return pilot_waveform(stretches, sample_rate_hz=rate_hz, t0_s=12.5, phase=0.3, noise_rms_v=0.05,
                          adc_bits=8, adc_range_v=(-16.0, 16.0), seed=1)


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=float, nargs="+", default=[10e6, 50e6], help="samples per capture")
    ap.add_argument("--rate", type=float, default=1e6, help="sample rate [S/s]")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"numpy {np.__version__}, sample rate {args.rate / 1e6:g} MS/s, best of {args.repeat}")
    print(f"{'samples':>12} {'analyze':>10} {'samples/s':>12} {'np.sum':>9} {'ratio':>7}  result")
    for size in args.sizes:
        w = capture(int(size), args.rate)
        t_sum = best_of(lambda w=w: np.sum(w.v), args.repeat)
        result = analyze(w)  # warm-up, and the result to show
        t_an = best_of(lambda w=w: analyze(w), args.repeat)
        states = " ".join(s.state for s in result.segments)
        print(f"{len(w):>12,d} {t_an * 1e3:>8.1f} ms {len(w) / t_an / 1e6:>8.0f} M/s {t_sum * 1e3:>6.1f} ms "
              f"{t_an / t_sum:>6.1f}x  {states}")
        del w, result


if __name__ == "__main__":
    main()
