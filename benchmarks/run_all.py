"""Run every benchmark in turn (`make bench`). Each prints its own table and ratios.

Run on an otherwise idle machine: every figure is a ratio against a baseline measured in
the same run, but two processes competing for two cores still skew wall-clock ratios.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["bench_analyze.py", "bench_read.py", "bench_read_binary.py", "bench_montecarlo.py", "bench_streaming.py",
              "bench_fleet.py"]


def main() -> int:
    failed = 0
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / name)])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
