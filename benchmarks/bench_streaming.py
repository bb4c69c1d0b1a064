"""Streaming studies (issue 16): the streamed fast engine against today's in-memory study, and pyarrow's CSV
writer against pandas' ``to_csv``. Every ratio is a median of paired runs measured in this run.

Run:  .venv/bin/python benchmarks/bench_streaming.py            (about 3-5 minutes on 2 cores)
      .venv/bin/python benchmarks/bench_streaming.py --quick    (smaller counts, a smoke test)

* in-memory: ``run_montecarlo(engine="fast", out=...)`` then ``summarize`` (what ``cpsim montecarlo``
  did before): every row in one DataFrame, written at the end;
* streamed: ``stream_montecarlo(out=...)``: chunks summarised online, written as Parquet row groups,
  gathered into the file at the end.
Each route runs in a fresh subprocess, so its peak RSS (``resource.getrusage``, ``ru_maxrss``) is its own.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time
route, runs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t0 = time.perf_counter()
if route == "memory":
    from cpsim.study.runner import run_montecarlo
    from cpsim.study.summary import summarize
    df = run_montecarlo("C", runs, seed=1, out=out)
    s = summarize(df, "iec61851", worst=5)
else:
    from cpsim.study.stream import stream_montecarlo
    s = stream_montecarlo("C", runs, seed=1, out=out, judge="iec61851", worst=5)
dt = time.perf_counter() - t0
print(json.dumps({"s": dt, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "yield": s["yield"], "misread": s["misclassified"]["count"]}))
"""


def _child(route: str, runs: int, out: Path) -> dict:
    r = subprocess.run([sys.executable, "-c", _CHILD, route, str(runs), str(out)], capture_output=True, text=True,
                       check=True)
    out.unlink(missing_ok=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def study(runs: int, rounds: int, tmp: Path, *, memory: bool = True) -> dict:
    """Paired runs of both routes (alternating), medians."""
    res: dict[str, list] = {"memory": [], "stream": []}
    for _ in range(rounds):
        for route in (("memory", "stream") if memory else ("stream",)):
            res[route].append(_child(route, runs, tmp / f"{route}.parquet"))
    out = {}
    for route, rows in res.items():
        if rows:
            out[route] = {"s": statistics.median(r["s"] for r in rows),
                          "rss_mib": statistics.median(r["rss_mib"] for r in rows), "misread": rows[0]["misread"]}
    return out


def csv_writers(rows: int, rounds: int, tmp: Path) -> dict:
    """Seconds to write the same results frame as CSV: pandas ``to_csv`` vs pyarrow's CSV writer."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from cpsim.study.runner import run_montecarlo

    df = run_montecarlo("C", rows, seed=1)
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.set_column(2, "expected_state", table.column(2).cast(pa.string()))
    table = table.set_column(3, "state", table.column(3).cast(pa.string()))
    t_pd, t_pa = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        df.to_csv(tmp / "pd.csv", index=False)
        t_pd.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        pacsv.write_csv(table, tmp / "pa.csv")
        t_pa.append(time.perf_counter() - t0)
    return {"rows": rows, "pandas_s": statistics.median(t_pd), "pyarrow_s": statistics.median(t_pa),
            "ratio": statistics.median(a / b for a, b in zip(t_pd, t_pa))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1_000_000, help="runs of the paired study (both routes)")
    ap.add_argument("--big", type=int, default=10_000_000, help="runs of the streamed-only large study")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--csv-rows", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.big, args.rounds, args.csv_rows = 200_000, 1_000_000, 1, 200_000
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        one = study(args.runs, args.rounds, tmp)
        big = study(args.big, 1, tmp, memory=False)["stream"]
        csv = csv_writers(args.csv_rows, args.rounds, tmp)
    result = {"runs": args.runs, "paired": one, "big_runs": args.big, "big_stream": big,
              "scaling": big["s"] / one["stream"]["s"], "csv": csv}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    m, s = one["memory"], one["stream"]
    print(f"fast Monte Carlo to Parquet, state C, medians of {args.rounds} paired runs (each in its own process)")
    print(f"{'route':<38}{'runs':>12}{'seconds':>10}{'peak RSS':>12}")
    print(f"{'in memory + summarize (before)':<38}{args.runs:>12,}{m['s']:>10.2f}{m['rss_mib']:>9.0f} MiB")
    print(f"{'streamed, online summary':<38}{args.runs:>12,}{s['s']:>10.2f}{s['rss_mib']:>9.0f} MiB")
    print(f"{'streamed, online summary':<38}{args.big:>12,}{big['s']:>10.2f}{big['rss_mib']:>9.0f} MiB")
    print(f"streamed / in memory at {args.runs:,} runs: {s['s'] / m['s']:.2f}x time, "
          f"{s['rss_mib'] / m['rss_mib']:.2f}x peak RSS; {args.big:,} runs cost {result['scaling']:.1f}x "
          f"{args.runs:,} runs")
    print(f"CSV of {csv['rows']:,} rows: pandas to_csv {csv['pandas_s']:.2f} s, pyarrow {csv['pyarrow_s']:.2f} s "
          f"({csv['ratio']:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
