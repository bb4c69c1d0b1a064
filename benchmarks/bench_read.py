"""Capture-reader throughput and memory: cpsim.io against pandas.read_csv, side by side.

Writes three files with the same samples (a ±12 V, 1 kHz square at 10 MSa/s with
noise) into a temporary folder (or ``--dir``):

* ``generic.csv``   ``time,voltage`` header, then ``t,v`` rows
* ``rigol.csv``     Rigol ``X,CH1,Start,Increment,`` / ``Sequence,Volt,t0,dt,``, rows ``k,v,``
* ``tek_tbs.csv``   Tektronix TBS: settings in columns A-B, samples in D-E

and reads each one ``--repeat`` times with :func:`cpsim.io.read_capture`, interleaved
with ``pandas.read_csv(path, engine="c")`` on the generic file, and with cpsim's
pyarrow-only route (the compiled fast path ``cpsim.io._fastrows`` switched off: what
an install without a C compiler gets). Throughput is file
bytes / wall time; "best" is the fastest run (least disturbed by other processes),
"median" the typical one. Peak memory is measured in a fresh process per reader (its
peak resident set, VmHWM, which is what ``resource.getrusage(RUSAGE_SELF).ru_maxrss``
reports for a process that was not forked from a big parent) and divided by the size
of the float64 arrays the reader returns; "(peak-imports)" leaves out the interpreter
and library code.

    python benchmarks/bench_read.py                    # 5 M rows (~100 MB per file)
    python benchmarks/bench_read.py --rows 20000000    # the full-size case (~400 MB)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_files(folder: Path, rows: int) -> dict[str, Path]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    dt, t0 = 1e-7, -1e-3
    k = np.arange(rows)
    square = np.where((k // 5000) % 2 == 0, 12.0, -12.0)
    v = np.round(square + np.random.default_rng(0).normal(0.0, 0.05, rows), 6)
    t = np.round(t0 + k * dt, 10)
    options = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=1 << 16)
    paths = {name: folder / name for name in ("generic.csv", "rigol.csv", "tek_tbs.csv")}

    with open(paths["generic.csv"], "wb") as fh:
        fh.write(b"time,voltage\n")
        pacsv.write_csv(pa.table({"t": t, "v": v}), fh, write_options=options)

    with open(paths["rigol.csv"], "wb") as fh:
        fh.write(f"X,CH1,Start,Increment,\nSequence,Volt,{t0:.6e},{dt:.6e},\n".encode())
        blank = pa.nulls(rows, pa.string())
        pacsv.write_csv(pa.table({"x": k, "v": v, "e": blank}), fh, write_options=options)

    meta = [("Record Length", f"{rows:.6e}"), ("Sample Interval", f"{dt:.6e}"), ("Trigger Point", "0"),
            ("", ""), ("", ""), ("", ""), ("Source", "CH1"), ("Vertical Units", "V"), ("Vertical Scale", "5"),
            ("Vertical Offset", "0"), ("Horizontal Units", "s"), ("Horizontal Scale", "1e-3"), ("Pt Fmt", "Y"),
            ("Yzero", "0"), ("Probe Atten", "10"), ("Model Number", "TBS1072B"), ("Serial Number", "C000000"),
            ("Firmware Version", "FV:v4.06")]
    with open(paths["tek_tbs.csv"], "wb") as fh:
        head = len(meta)
        fh.write("".join(f"{a},{b},,{float(t[i])!r},{float(v[i])!r},\n" for i, (a, b) in enumerate(meta)).encode())
        blank = pa.nulls(rows - head, pa.string())
        table = pa.table({"a": blank, "b": blank, "c": blank, "t": t[head:], "v": v[head:], "f": blank})
        pacsv.write_csv(table, fh, write_options=options)
    return paths


def timed(fn, cpu: list[float] | None = None) -> float:
    """Wall time of fn(); its process CPU time (user + system, all threads) goes to ``cpu``."""
    before, start = os.times(), time.perf_counter()
    fn()
    wall, after = time.perf_counter() - start, os.times()
    if cpu is not None:
        cpu.append(after.user - before.user + after.system - before.system)
    return wall


_CHILD = r"""
import json, resource, sys
which, path = sys.argv[1], sys.argv[2]
if which == "pandas":
    import pandas as pd
    def run():
        df = pd.read_csv(path, engine="c")
        return [df[c].to_numpy() for c in df.columns]
else:
    import pyarrow.csv, cpsim.io
    def run():
        w = cpsim.io.read_capture(path)
        return [w.t, w.v]
def hwm_kib():
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
arrays = run()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"base_kib": base, "peak_kib": peak, "hwm_kib": hwm_kib(),
                  "array_bytes": sum(a.nbytes for a in arrays)}))
"""


def peak_memory(which: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, which, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--dir", type=Path, help="folder for the files (default: a temporary one, removed after)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-RSS subprocesses")
    ap.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="cpsim-bench-") as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if args.generate_only:
            make_files(folder, args.rows)
            return
        # Generation runs in a child and this process stays small until the memory
        # children have run: on Linux ru_maxrss is inherited across fork+exec, so a
        # child of a big parent would report the parent's peak.
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--generate-only", "--rows", str(args.rows), "--dir", str(folder)],
                       check=True)
        paths = {name: folder / name for name in ("generic.csv", "rigol.csv", "tek_tbs.csv")}
        print(f"wrote {args.rows:,} rows x 3 layouts in {time.perf_counter() - t:.1f} s to {folder}")
        memory = []
        if not args.no_memory:
            for which, name in [("cpsim", n) for n in paths] + [("pandas", "generic.csv")]:
                memory.append((which, name, peak_memory(which, paths[name])))
        timing(paths, args.rows, args.repeat)
        if memory:
            print(f"\n{'peak RSS (fresh process)':28s} {'arrays MiB':>10s} {'peak MiB':>9s} {'peak/arrays':>12s} "
                  f"{'(peak-imports)/arrays':>22s}")
            for which, name, m in memory:
                arrays, peak, base = m["array_bytes"], m["peak_kib"] * 1024, m["base_kib"] * 1024
                print(f"{which + ' ' + name:28s} {arrays / 2**20:10.0f} {peak / 2**20:9.0f} {peak / arrays:12.2f} "
                      f"{(peak - base) / arrays:22.2f}")
            print("(resource.getrusage ru_maxrss of a fresh process per reader; 'imports' = ru_maxrss after importing)")


def timing(paths: dict[str, Path], rows: int, repeat: int) -> None:
    import numpy as np
    import pandas as pd

    import cpsim.io as cio
    from cpsim.io import _csvcore
    from cpsim.io._csvcore import default_workers

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"pyarrow {__import__('pyarrow').__version__}, cpu {os.cpu_count()}, "
          f"cpsim parse threads {default_workers()}, "
          f"compiled fast path {'built' if _csvcore._fastrows is not None else 'MISSING (pyarrow only)'}")
    cio.read_capture(paths["generic.csv"])  # warm imports and the page cache
    pd.read_csv(paths["generic.csv"], engine="c")
    runs: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}

    def record(key, fn):
        runs.setdefault(key, []).append(timed(fn, cpu.setdefault(key, [])))

    for _ in range(repeat):
        for name, path in paths.items():
            record(f"cpsim {name}", lambda path=path: cio.read_capture(path))
            if name == "generic.csv":
                record("pandas generic.csv", lambda path=path: pd.read_csv(path, engine="c"))
                _csvcore.FAST_PATH = False
                try:
                    record("cpsim generic.csv pyarrow-only", lambda path=path: cio.read_capture(path))
                finally:
                    _csvcore.FAST_PATH = True

    w = cio.read_capture(paths["generic.csv"])
    assert len(w) == rows and w.metadata["format"] == "generic"
    for name in ("rigol.csv", "tek_tbs.csv"):
        other = cio.read_capture(paths[name])
        assert len(other) == rows and np.array_equal(other.v, w.v)

    print(f"\n{'reader':28s} {'MB':>7s} {'best MB/s':>10s} {'median MB/s':>12s} {'best Mrows/s':>13s} "
          f"{'CPU s (min)':>12s}")
    for key, times in runs.items():
        size = paths[key.split()[1]].stat().st_size
        best, med = min(times), statistics.median(times)
        print(f"{key:32s} {size / 1e6:7.0f} {size / best / 1e6:10.0f} {size / med / 1e6:12.0f} "
              f"{rows / best / 1e6:13.1f} {min(cpu[key]):12.2f}")
    cp, pdt = runs["cpsim generic.csv"], runs["pandas generic.csv"]
    paired = [p / c for p, c in zip(pdt, cp)]
    print(f"\ncpsim / pandas throughput on generic.csv: best {min(pdt) / min(cp):.2f}, "
          f"median {statistics.median(pdt) / statistics.median(cp):.2f}, "
          f"median of paired runs {statistics.median(paired):.2f} ({', '.join(f'{r:.2f}' for r in paired)})")
    arrow = runs["cpsim generic.csv pyarrow-only"]
    print(f"cpsim pyarrow-only / pandas (no compiled fast path): median of paired runs "
          f"{statistics.median(p / a for p, a in zip(pdt, arrow)):.2f}")
    cpu_ratio = min(cpu['pandas generic.csv']) / min(cpu['cpsim generic.csv'])
    print(f"CPU time pandas / cpsim (min over runs): {cpu_ratio:.2f}"
          f"   load average now: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")

if __name__ == "__main__":
    main()
