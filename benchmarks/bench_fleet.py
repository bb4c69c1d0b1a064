"""A folder of captures as one table (issue 16): ``analyze_many`` on a process pool against a sequential loop
of ``cpsim.analyze`` + ``check_measurement`` over the same files, medians of paired runs in this run.

Run:  .venv/bin/python benchmarks/bench_fleet.py            (about a minute on 2 cores)
      .venv/bin/python benchmarks/bench_fleet.py --quick
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path


def make_fleet(root: Path, n: int, seconds: float) -> list[Path]:
    from cpsim.analysis.synthetic import Stretch, pilot_waveform

    files = []
    for k in range(n):
        high = (9.0, 6.0, 3.0)[k % 3]
        path = root / f"unit{k:03d}.csv"
        pilot_waveform(Stretch(seconds, high, -12.0, 0.25), noise_rms_v=0.03, seed=k).to_csv(path)
        files.append(path)
    return files


def sequential(files) -> list[str]:
    from cpsim import analyze
    from cpsim.report.checks import check_measurement, overall_verdict

    out = []
    for f in files:
        m = analyze(f)
        out.append(overall_verdict(check_measurement(m, "iec61851", faults=m.faults)))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=48)
    ap.add_argument("--seconds", type=float, default=0.2, help="capture length [s] at 1 MS/s")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.files, args.seconds, args.rounds = 12, 0.05, 1
    from cpsim.report.many import analyze_many
    from cpsim.study.pool import default_workers

    with tempfile.TemporaryDirectory() as d:
        files = make_fleet(Path(d), args.files, args.seconds)
        sequential(files[:1])  # imports
        t_seq, t_par = [], []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            verdicts = sequential(files)
            t_seq.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            table = analyze_many(d)  # the pool's start-up is counted
            t_par.append(time.perf_counter() - t0)
            assert table["verdict"].tolist() == verdicts
    seq, par = statistics.median(t_seq), statistics.median(t_par)
    ratio = statistics.median(a / b for a, b in zip(t_seq, t_par))
    print(f"{args.files} captures of {args.seconds * 1e6:,.0f} samples, {default_workers()} workers, "
          f"medians of {args.rounds} paired runs")
    print(f"sequential loop (analyze + checks): {seq:.2f} s; analyze_many (process pool): {par:.2f} s; "
          f"{ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
