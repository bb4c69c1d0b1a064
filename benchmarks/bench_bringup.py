"""Virtual bring-up throughput: the fast engine of ``cpsim bringup`` against the Monte Carlo fast engine.

Run:  .venv/bin/python benchmarks/bench_bringup.py            (about a minute on 2 cores)
      .venv/bin/python benchmarks/bench_bringup.py --quick    (smaller counts, a smoke test)

Both routes evaluate the same variations of the CP circuit (same seed, state, tolerances and
nominal duty as the board's), in chunks of 65 536, in this process:

* baseline: ``cpsim.study.variations.sample`` + ``cpsim.study.engines.fast_block`` (the closed-form
  plateau and the analyzer's state rules: what ``cpsim montecarlo --engine fast`` does per chunk);
* bring-up: ``cpsim.study.bringup.fast.run_fast``: the same draws plus the board's front-end and
  ADC draws, the plateau with the front-end's load, the divider, the ADC, ``debounce`` readings of
  the board's sampling scheme and algorithm with noise, the windows and the debounce.

The two alternate in rounds (paired runs), so a machine shared with other jobs loads both alike;
the figures are medians over the rounds, and the ratio is the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np


def baseline(chain, state: str, runs: int, seed: int, chunk: int = 65536) -> float:
    from cpsim import standard as std
    from cpsim.study.engines import fast_block
    from cpsim.study.variations import sample

    tols = chain.tolerances(state)
    profile = std.get_profile("iec61851")
    t0 = time.perf_counter()
    for first in range(0, runs, chunk):
        params = sample(state, np.arange(first, min(runs, first + chunk)), tols, seed, nominal=chain.nominal)
        fast_block(state, params, profile)
    return time.perf_counter() - t0


def bringup_fast(chain, state: str, runs: int, seed: int) -> float:
    from cpsim.study.bringup.fast import run_fast

    t0 = time.perf_counter()
    run_fast(chain, state, runs, seed)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1_000_000, help="variations per timed run (default 1e6)")
    ap.add_argument("--rounds", type=int, default=5, help="paired rounds (default 5)")
    ap.add_argument("--state", default="B2")
    ap.add_argument("--boards", default="openevse,esp32_evse")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="200 000 variations, 2 rounds")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.rounds = 200_000, 2

    from cpsim.study.bringup import load_board
    from cpsim.study.bringup.chain import Chain

    results = {}
    for name in args.boards.split(","):
        chain = Chain(load_board(name))
        baseline(chain, args.state, 2000, args.seed)       # imports, caches
        bringup_fast(chain, args.state, 2000, args.seed)
        base_t, ours_t, ratios = [], [], []
        for r in range(args.rounds):
            seed = args.seed + r
            if r % 2:
                t_o = bringup_fast(chain, args.state, args.runs, seed)
                t_b = baseline(chain, args.state, args.runs, seed)
            else:
                t_b = baseline(chain, args.state, args.runs, seed)
                t_o = bringup_fast(chain, args.state, args.runs, seed)
            base_t.append(t_b)
            ours_t.append(t_o)
            ratios.append(t_b / t_o)
        b = chain.board
        results[name] = {
            "sampling": f"{b.sampling.mode}, {b.sampling.samples} samples", "algorithm": b.firmware.algorithm,
            "debounce": b.firmware.debounce,
            "bringup_per_s": args.runs / statistics.median(ours_t),
            "baseline_per_s": args.runs / statistics.median(base_t),
            "ratio_median": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"cpsim bringup fast engine vs the Monte Carlo fast engine (state {args.state}, {args.runs:,} variations "
          f"per run, {args.rounds} paired rounds, medians; one core)")
    print(f"{'board':<12}{'sampling / algorithm':<52}{'bring-up/s':>14}{'baseline/s':>14}{'ratio':>8}")
    for name, r in results.items():
        what = f"{r['sampling']}, {r['algorithm']}, debounce {r['debounce']}"
        print(f"{name:<12}{what:<52}{r['bringup_per_s']:>14,.0f}{r['baseline_per_s']:>14,.0f}"
              f"{r['ratio_median']:>8.2f}")
    print("ratio: bring-up throughput / baseline throughput (median of per-round ratios; "
          + ", ".join(f"{n} {r['ratio_min']:.2f}-{r['ratio_max']:.2f}" for n, r in results.items()) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
