"""Deep-memory binary read against the same samples as CSV, both through cpsim.io.read_capture.

Builds a one-channel Rigol DS1000Z ``.wfm`` of ``--points`` samples (default 24 M, a
DS1054Z's deepest single-channel memory) from a real file, and writes the same samples
as the CSV that scope saves (``X,CH1,Start,Increment`` / ``Sequence,Volt,t0,dt`` /
``k,v,`` rows, read by cpsim's ``rigol-csv`` layout).

How the .wfm is made (RigolWFM cannot write .wfm): the 3213-byte header of the real
two-channel capture ``rigol__DS1054Z-ch1SquareCH2Uart.wfm`` (shared/formats, firmware
00.04.04.SP3) is kept with two fields patched, the channel-enable bits at byte 88 (CH1
only, so samples are not interleaved) and ``memory_depth`` at byte 116 (u32 LE = points);
its CH1 ADC bytes (the odd bytes of the interleaved data block) are then repeated to
``points`` bytes. RigolWFM reads the result like any DS1000Z file; a test
(tests/test_io_binary.py::test_deep_ds1000z_file_reads_every_sample) checks it.

Timing: ``--repeat`` paired runs, binary then CSV, in one process after a warm-up;
the figure is the median over pairs of (CSV time / binary time), so > 1 means the binary
file reads faster. Peak memory: a fresh process per reader, ``ru_maxrss`` before and
after the read, divided by the bytes of the two float64 arrays returned.

    python benchmarks/bench_read_binary.py                      # 24 M points
    python benchmarks/bench_read_binary.py --points 2000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(os.environ.get("CPSIM_SHARED_FORMATS") or ROOT.parent / "shared" / "formats") / \
    "rigol__DS1054Z-ch1SquareCH2Uart.wfm"
DATA_START = 3213  # horizontal block offset 2317 + its 896 bytes: where the samples begin


def make_wfm(template: Path, out: Path, points: int) -> None:
    import numpy as np

    data = template.read_bytes()
    head = bytearray(data[:DATA_START])
    if head[:4] != b"\x01\xff\xff\xff" or head[88] & 0x0F != 0x03:
        raise SystemExit(f"{template} is not the two-channel DS1000Z template this benchmark expects")
    head[88] = (head[88] & 0xF0) | 0x01  # CH1 only
    struct.pack_into("<I", head, 116, points)  # memory_depth
    ch1 = np.frombuffer(data[DATA_START:], np.uint8)[1::2]
    with open(out, "wb") as fh:
        fh.write(bytes(head))
        fh.write(np.resize(ch1, points).tobytes())


def make_csv(wfm: Path, out: Path) -> None:
    """The samples cpsim reads from the .wfm, written as the scope's CSV (exact: shortest round-trip digits)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    import cpsim.io as cio

    w = cio.read_capture(wfm)
    dt, t0 = w.metadata["stated_sample_interval_s"], float(w.t[0])
    n = len(w)
    options = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=1 << 16)
    with open(out, "wb") as fh:
        fh.write(f"X,CH1,Start,Increment,\nSequence,Volt,{t0!r},{dt!r},\n".encode())
        pacsv.write_csv(pa.table({"x": np.arange(n), "v": np.asarray(w.v), "e": pa.nulls(n, pa.string())}), fh,
                        write_options=options)


_CHILD = r"""
import json, resource, sys
import cpsim.io
path = sys.argv[1]
cpsim.io.list_formats()
if path.endswith(".wfm"):
    import RigolWFM.wfm  # the library's own import (matplotlib, requests) is not the read
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
w = cpsim.io.read_capture(path)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"base_kib": base, "peak_kib": peak, "array_bytes": w.t.nbytes + w.v.nbytes}))
"""


def peak_memory(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def timing(wfm: Path, csv: Path, repeat: int) -> None:
    import numpy as np

    import cpsim.io as cio

    def timed(path: Path) -> float:
        start = time.perf_counter()
        cio.read_capture(path)
        return time.perf_counter() - start

    b, c = cio.read_capture(wfm), cio.read_capture(csv)  # warm imports and the page cache; same samples?
    assert len(b) == len(c) and np.array_equal(b.v, c.v) and np.array_equal(b.t, c.t)
    n = len(b)
    del b, c
    tb, tc = [], []
    for _ in range(repeat):
        tb.append(timed(wfm))
        tc.append(timed(csv))
    paired = [c / b for b, c in zip(tb, tc)]
    import RigolWFM

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, RigolWFM {RigolWFM.__version__}, "
          f"cpu {os.cpu_count()}, {n:,} samples")
    print(f"\n{'reader':34s} {'MB':>7s} {'best s':>8s} {'median s':>9s} {'median Msamples/s':>18s}")
    for label, path, times in (("cpsim .wfm (rigol-wfm, RigolWFM)", wfm, tb), ("cpsim .csv (rigol-csv)", csv, tc)):
        med = statistics.median(times)
        print(f"{label:34s} {path.stat().st_size / 1e6:7.0f} {min(times):8.3f} {med:9.3f} {n / med / 1e6:18.1f}")
    print(f"\nCSV time / binary time: median of {repeat} paired runs {statistics.median(paired):.2f} "
          f"({', '.join(f'{r:.2f}' for r in paired)}); ratio of medians "
          f"{statistics.median(tc) / statistics.median(tb):.2f}; > 1: the binary file reads faster")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=24_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--template", type=Path, default=TEMPLATE)
    ap.add_argument("--dir", type=Path, help="folder for the files (default: a temporary one, removed after)")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-RSS subprocesses")
    ap.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not args.template.is_file():
        raise SystemExit(f"template {args.template} not found (set CPSIM_SHARED_FORMATS or pass --template)")
    with tempfile.TemporaryDirectory(prefix="cpsim-bench-bin-") as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        wfm, csv = folder / "deep.wfm", folder / "deep.csv"
        if args.generate_only:
            make_wfm(args.template, wfm, args.points)
            make_csv(wfm, csv)
            return
        # generated in a child, so this process stays small for the memory children (ru_maxrss is inherited)
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--generate-only", "--points", str(args.points),
                        "--template", str(args.template), "--dir", str(folder)], check=True)
        print(f"wrote {args.points:,} samples as .wfm ({wfm.stat().st_size / 1e6:.0f} MB) and .csv "
              f"({csv.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - start:.1f} s to {folder}")
        memory = [] if args.no_memory else [(p.suffix, peak_memory(p)) for p in (wfm, csv)]
        timing(wfm, csv, args.repeat)
        if memory:
            print(f"\n{'peak RSS (fresh process)':26s} {'arrays MiB':>10s} {'peak MiB':>9s} "
                  f"{'(peak-imports)/arrays':>22s}")
            for suffix, m in memory:
                arrays, peak, base = m["array_bytes"], m["peak_kib"] * 1024, m["base_kib"] * 1024
                print(f"{'cpsim ' + suffix:26s} {arrays / 2**20:10.0f} {peak / 2**20:9.0f} "
                      f"{(peak - base) / arrays:22.2f}")


if __name__ == "__main__":
    main()
