"""Streamed capture analysis (issue 16, item 1): ``cpsim analyze`` / ``cpsim report`` of a long CSV in memory
against the same read in pieces (``--stream``). Time and peak RSS are medians of paired runs in this run, each
in a fresh subprocess (its own ``VmHWM``; ``ru_maxrss`` would include the forked parent's RSS).

Run:  .venv/bin/python benchmarks/bench_stream_analyze.py               (20 M and 60 M samples, 3 rounds)
      .venv/bin/python benchmarks/bench_stream_analyze.py --quick       (2 M samples, 1 round: a smoke test)
      .venv/bin/python benchmarks/bench_stream_analyze.py --report      (also ``cpsim report``)

The capture: a charging session at 1 MS/s (B1, B2 25 %, C2 25 %, C2 50 %, B2 50 %, B1) with 0.05 V rms
noise and 8-bit quantisation, written as a two-column CSV (about 15 bytes per row) by pyarrow in blocks.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

PLAN = [(0.05, 9.0, None), (0.2, 9.0, 0.25), (0.3, 6.0, 0.25), (0.2, 6.0, 0.5), (0.2, 9.0, 0.5), (0.05, 9.0, None)]
"""(fraction of the capture, high level [V], duty or None for a steady level)."""


def write_capture(path: str | Path, n_samples: int, *, rate_hz: float = 1e6, block: int = 4_000_000) -> None:
    """Write the benchmark session of ``n_samples`` samples to ``path`` (CSV, header ``time,cp``)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(1)
    bounds = np.cumsum([0.0] + [f for f, _, _ in PLAN]) * n_samples
    step = 32.0 / 256  # 8 bits over -16..16 V
    schema = pa.schema([("time", pa.float64()), ("cp", pa.float64())])
    with pacsv.CSVWriter(str(path), schema) as out:
        for i0 in range(0, n_samples, block):
            i = np.arange(i0, min(n_samples, i0 + block))
            t = 12.5 + i / rate_hz
            k = np.searchsorted(bounds, i, side="right") - 1
            high = np.array([h for _, h, _ in PLAN])[k]
            duty = np.array([np.nan if d is None else d for _, _, d in PLAN])[k]
            phase = (i / rate_hz * 1000.0 + 0.3) % 1.0
            v = np.where(np.isnan(duty) | (phase < duty), high, -12.0)
            v = np.round((v + rng.normal(0.0, 0.05, i.size)) / step) * step
            out.write_table(pa.table({"time": t, "cp": v}, schema=schema))


_CHILD = r"""
import json, resource, sys, time
from cpsim.cli.main import main
import io, contextlib
t0 = time.perf_counter()
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    main(sys.argv[1:])
dt = time.perf_counter() - t0
# the process's own high-water mark: ru_maxrss also keeps the forked parent's RSS at exec
hwm = [int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:")]
print(json.dumps({"s": dt, "rss_mib": (hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024}))
"""


def _child(args: list[str]) -> dict:
    r = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise RuntimeError(r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def paired(command: list[str], rounds: int) -> dict:
    """Alternating in-memory and streamed runs of ``command``; medians of time and peak RSS, and the ratio."""
    res: dict[str, list[dict]] = {"memory": [], "stream": []}
    ratios = []
    for _ in range(rounds):
        pair = {}
        for route, flag in (("memory", "--no-stream"), ("stream", "--stream")):
            pair[route] = _child([*command, flag])
            res[route].append(pair[route])
        ratios.append(pair["stream"]["s"] / pair["memory"]["s"])
    out = {route: {k: statistics.median(r[k] for r in rows) for k in ("s", "rss_mib")} for route, rows in res.items()}
    out["time_ratio"] = statistics.median(ratios)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--report", action="store_true", help="also time `cpsim report`")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    sizes = [2_000_000] if args.quick else [20_000_000, 60_000_000]
    rounds = 1 if args.quick else args.rounds
    print(f"{'command':<8} {'samples':>11} {'memory s':>9} {'MiB':>6} {'stream s':>9} {'MiB':>6} {'time ratio':>10}")
    with tempfile.TemporaryDirectory(prefix="cpsim-bench-") as tmp:
        for n in sizes:
            path = Path(tmp) / f"session_{n}.csv"
            write_capture(path, n)
            commands = {"analyze": ["analyze", str(path), "--json"]}
            if args.report:
                commands["report"] = ["report", str(path), "-o", str(Path(tmp) / "r.html")]
            for name, cmd in commands.items():
                r = paired(cmd, rounds)
                print(f"{name:<8} {n:>11,} {r['memory']['s']:>9.2f} {r['memory']['rss_mib']:>6.0f} "
                      f"{r['stream']['s']:>9.2f} {r['stream']['rss_mib']:>6.0f} {r['time_ratio']:>9.2f}x", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
