"""Throughput of ``cpsim.analyze`` on long CP captures, against one ``np.sum``.

Builds realistic captures (plug-in A1 -> B1, PWM B2, charging C2 with a duty change, back to
B2/B1; 2 µs edges, 50 mV rms noise, 8-bit quantisation over ±16 V) at each sample rate, times
``analyze()`` and one ``np.sum`` over the same array in alternation (``--repeat`` pairs, one
core) and prints the medians: samples/s and the ratio to ``np.sum``. At 10 MS/s the per-sample
passes dominate; at 100 kS/s (long sessions logged slowly: 100 samples per PWM period) the
per-cycle work does.

    .venv/bin/python benchmarks/bench_analyze.py            # 20 M samples at 10 MS/s and at 100 kS/s
    .venv/bin/python benchmarks/bench_analyze.py --sizes 50e6 --rates 1e6
    .venv/bin/python benchmarks/bench_analyze.py --reference  # also the numpy route (no compiled loops)

The compiled loops (cpsim/analysis/_fastedges.c) give the same numbers as the numpy reference
route; ``--reference`` times that route too, in the same alternation, and adds its column.
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
from cpsim.analysis import edges  # noqa: E402
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


TARGETS = {10e6: 150e6, 100e3: 100e6}
"""Issue 12's floor [samples/s] at these sample rates."""


def paired(w, repeat: int, reference: bool = False) -> tuple[float, float, float]:
    """Median times of ``analyze(w)``, ``np.sum(w.v)`` and (``reference``) ``analyze(w)`` by the numpy
    route, run in alternation so load hits them alike (NaN for a route not timed)."""
    t_an, t_sum, t_ref = [], [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        np.sum(w.v)
        t_sum.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        analyze(w)
        t_an.append(time.perf_counter() - t0)
        if reference:
            edges.FAST_PATH = False
            try:
                t0 = time.perf_counter()
                analyze(w)
                t_ref.append(time.perf_counter() - t0)
            finally:
                edges.FAST_PATH = True
    return float(np.median(t_an)), float(np.median(t_sum)), float(np.median(t_ref)) if t_ref else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=float, nargs="+", default=[20e6], help="samples per capture")
    ap.add_argument("--rates", type=float, nargs="+", default=[10e6, 100e3], help="sample rates [S/s]")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--reference", action="store_true", help="also time the numpy route (compiled loops off)")
    args = ap.parse_args()
    compiled = "compiled loops " + ("on" if edges._fastedges is not None else "NOT BUILT (numpy route)")
    print(f"numpy {np.__version__}, {compiled}, medians of {args.repeat} paired runs (analyze, np.sum), one core")
    print(f"{'rate':>9} {'samples':>12} {'analyze':>10} {'samples/s':>12} {'np.sum':>9} {'ratio':>7} "
          f"{'target':>10}  result" + ("   | numpy route, speed-up" if args.reference else ""))
    for rate in args.rates:
        for size in args.sizes:
            w = capture(int(size), rate)
            result = analyze(w)  # warm-up, and the result to show
            t_an, t_sum, t_ref = paired(w, args.repeat, args.reference)
            states = " ".join(s.state for s in result.segments)
            target = TARGETS.get(rate)
            mark = "" if target is None else f"{target / 1e6:>5.0f} M/s " + ("ok" if len(w) / t_an >= target
                                                                               else "MISSED")
            ref = f"   | {t_ref * 1e3:>6.1f} ms, {t_ref / t_an:>4.1f}x" if args.reference else ""
            print(f"{rate / 1e3:>7g}k {len(w):>12,d} {t_an * 1e3:>8.1f} ms {len(w) / t_an / 1e6:>8.0f} M/s "
                  f"{t_sum * 1e3:>6.1f} ms {t_an / t_sum:>6.1f}x {mark:>10}  {states}{ref}")
            del w, result


if __name__ == "__main__":
    main()
