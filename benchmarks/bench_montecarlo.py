"""Monte Carlo throughput: cpsim's spice engine against a naive PySpice loop, and the fast engine.

Run:  .venv/bin/python benchmarks/bench_montecarlo.py            (about 1-2 minutes on 2 cores)
      .venv/bin/python benchmarks/bench_montecarlo.py --quick    (smaller counts, a smoke test)

Both spice routes simulate the same variations (seeded, state C, default tolerances) with the
same circuit and output step, and measure each waveform with the same analyzer
(``cpsim.analysis.measure``); the ratios are measured in one run, so the machine's load
affects both sides alike.

* naive: one PySpice ``Circuit`` + ``simulator().transient()`` per variation, in a plain loop
  in this process (the PULSE source gets a DC value equal to its initial value, which avoids
  the ``Note:`` that PySpice 1.5 + ngspice 39 would take for a failure), ``interp`` on the
  engine's output step (every output step a solver step) over the engine's stop time;
* cpsim spice: ``run_montecarlo(engine="spice")``: ``chunk`` circuits per ngspice transient,
  2.05 periods, ngspice's own step up to ``SpiceOptions.max_step_s`` resampled onto the same
  output step, on a process pool of all CPUs (started once for the whole study);
* cpsim fast: ``run_montecarlo(engine="fast")`` (closed form, one core), in memory.

The two spice routes alternate in rounds; each round gives a wall-clock ratio and a CPU-second ratio
(the engine's CPU: this process plus its pool workers, finished ones through ``RUSAGE_CHILDREN`` and
running ones through psutil when it is installed; the naive loop's: this process). The medians of
the paired rounds are printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time

import numpy as np


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished children (the engine's pool workers)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _engine_cpu_s() -> float:
    """CPU seconds of this process, its finished children and (with psutil) its running children."""
    total = _cpu_s()
    try:
        import psutil
    except ImportError:  # running pool workers are then counted only once they exit (at pool shutdown)
        return total
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:  # exited between listing and asking: counted by RUSAGE_CHILDREN once reaped
            continue
        total += times.user + times.system
    return total


def _pyspice_circuit(p: dict):
    from PySpice.Spice.Netlist import Circuit

    from cpsim.sim.netlist import CIRCUITS_DIR

    c = Circuit("cp_c")
    c.include(str(CIRCUITS_DIR / "models.lib"))
    width = p["duty"] / p["frequency_hz"] - (p["rise_time_s"] + p["fall_time_s"]) / 2  # as evse.lib
    c.PulseVoltageSource("gen", "gen", c.gnd, initial_value=p["v_low_v"], pulsed_value=p["v_high_v"],
                         pulse_width=width, period=1.0 / p["frequency_hz"], delay_time=0,
                         rise_time=p["rise_time_s"], fall_time=p["fall_time_s"], dc_offset=p["v_low_v"])
    c.R(1, "gen", "cp_evse", p["r1_ohm"])
    c.C("c", "cp_evse", c.gnd, p["cable_c_f"])
    c.R("w", "cp_evse", "cp_ev", p["wire_r_ohm"])
    c.Diode(1, "cp_ev", "n1", model="D1N4148", area=p["diode_area"], temperature=p["diode_temp_c"])
    c.R("det", "n1", c.gnd, p["r_detect_ohm"])
    c.R("chg", "n1", c.gnd, p["r_charge_ohm"])
    return c


def naive_pyspice(params: dict, n: int, step: float, stop: float):
    """One PySpice transient per variation; returns (seconds, v_high per variation)."""
    from cpsim.analysis import measure
    from cpsim.waveform import Waveform

    logging.getLogger("PySpice").setLevel(logging.ERROR)  # "Unsupported Ngspice version 39"
    v_high = np.full(n, np.nan)
    t0 = time.perf_counter()
    for k in range(n):
        p = {name: float(v[k]) for name, v in params.items()}
        sim = _pyspice_circuit(p).simulator(temperature=27, nominal_temperature=27)
        sim.options("interp")
        analysis = sim.transient(step_time=step, end_time=stop)
        wave = Waveform.from_arrays(np.array(analysis.time), np.array(analysis["cp_evse"]))
        v_high[k] = measure(wave).v_high
    return time.perf_counter() - t0, v_high


def batch_sweep(sizes, runs_each: int, seed: int, step: float):
    """Per-variation cost of one ngspice transient holding `size` circuits, in this process."""
    from cpsim import standard as std
    from cpsim.study.engines import SpiceOptions, profile_to_spec, spice_chunk
    from cpsim.study.variations import resolve_tolerances, sample

    tols = resolve_tolerances(state="C")
    spec = profile_to_spec(std.IEC61851)
    spice_chunk("C", [0], sample("C", [0], tols, seed), SpiceOptions(sample_interval_s=step), spec)  # warm up
    out = {}
    for size in sizes:
        opts = SpiceOptions(sample_interval_s=step, circuits_per_run=size)
        batches = max(1, runs_each // size)
        t0 = time.perf_counter()
        for b in range(batches):
            runs = np.arange(b * size, (b + 1) * size)
            result = spice_chunk("C", runs, sample("C", runs, tols, seed), opts, spec)
            assert not any(result["error"]), result["error"]
        out[size] = (time.perf_counter() - t0) / (batches * size)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--naive-runs", type=int, default=90)
    ap.add_argument("--spice-runs", type=int, default=1200)
    ap.add_argument("--fast-runs", type=int, default=2_000_000)
    ap.add_argument("--chunk", type=int, default=32)
    ap.add_argument("--sweep", default="1,8,16,32,64,128", help="batch sizes to time in one process ('' = none)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5, help="alternate the two spice routes this many times")
    ap.add_argument("--quick", action="store_true", help="small counts (smoke test)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.naive_runs, args.spice_runs, args.fast_runs, args.sweep, args.rounds = 8, 64, 200_000, "8,32", 1

    from cpsim.study.engines import SpiceOptions, min_edge_s
    from cpsim.study.pool import default_workers
    from cpsim.study.runner import run_montecarlo
    from cpsim.study.variations import resolve_tolerances, sample

    tols = resolve_tolerances(state="C")
    opts = SpiceOptions()
    step = opts.step_for(min_edge_s(tols))
    workers = default_workers()
    results = {"workers": workers, "step_s": step, "periods": opts.periods, "chunk": args.chunk,
               "rounds": args.rounds}

    # The two spice routes alternate in rounds, so a machine shared with other jobs loads both alike.
    # The engine's process pool (what run_montecarlo starts for a study) is started once, its start-up
    # and shutdown counted in the engine's time; its workers' CPU time is known once they have exited.
    from cpsim.study.pool import new_pool

    t_spice = t_naive = cpu_naive = 0.0
    n_spice = n_naive = 0
    diff = 0.0
    wall_ratios, cpu_ratios = [], []
    c_start = _cpu_s()
    t0 = time.perf_counter()
    pool = new_pool(workers, 50)
    t_spice += time.perf_counter() - t0
    for r in range(args.rounds):
        seed = args.seed + r
        runs = args.spice_runs // args.rounds
        c0, t0 = _engine_cpu_s(), time.perf_counter()
        df = run_montecarlo("C", runs, seed=seed, engine="spice", chunk_size=args.chunk, executor=pool)
        t_round = time.perf_counter() - t0
        cpu_round = _engine_cpu_s() - c0
        t_spice += t_round
        n_spice += runs
        assert df["error"].isna().all(), df["error"].dropna().head()
        # naive loop on the same first variations, the same stop as the engine's (its periods of the
        # lowest frequency among them) and the engine's output step
        n = args.naive_runs // args.rounds
        params = sample("C", n, tols, seed)
        stop = opts.periods / params["frequency_hz"].min()
        c0 = _cpu_s()
        t, v_naive = naive_pyspice(params, n, step, stop)
        cpu_n = _cpu_s() - c0
        t_naive += t
        cpu_naive += cpu_n
        n_naive += n
        wall_ratios.append((runs / t_round) / (n / t))
        cpu_ratios.append((runs / cpu_round) / (n / cpu_n))
        diff = max(diff, float(np.max(np.abs(v_naive - df["v_high"].to_numpy()[:n]))))
    t0 = time.perf_counter()
    pool.shutdown(wait=True)
    t_spice += time.perf_counter() - t0
    cpu_spice = _cpu_s() - c_start - cpu_naive
    results["spice_engine_per_s"] = n_spice / t_spice
    results["naive_pyspice_per_s"] = n_naive / t_naive
    results["speedup"] = results["spice_engine_per_s"] / results["naive_pyspice_per_s"]
    # per CPU-second: what the engine's work per variation buys, whatever else the machine is doing
    results["cpu_efficiency_ratio"] = (n_spice / cpu_spice) / (n_naive / cpu_naive)
    results["median_wall_ratio"] = float(np.median(wall_ratios))
    results["median_cpu_ratio"] = float(np.median(cpu_ratios))
    results["naive_cpu_ms_per_variation"] = cpu_naive / n_naive * 1e3
    results["spice_cpu_ms_per_variation"] = cpu_spice / n_spice * 1e3
    results["max_abs_v_high_diff_v"] = diff

    if args.sweep:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        sizes = [int(s) for s in args.sweep.split(",")]
        # in a process of its own: PySpice's ngspice wrapper (the naive loop) and cpsim's cannot share one
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
            sweep = ex.submit(batch_sweep, sizes, max(sizes) * 2, args.seed, step).result()
        results["batch_ms_per_variation"] = {k: v * 1e3 for k, v in sweep.items()}

    # fast engine, one core, in memory: best of three (the least disturbed by other jobs)
    run_montecarlo("C", 1000, seed=args.seed)  # imports, caches
    t_fast = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        fast = run_montecarlo("C", args.fast_runs, seed=args.seed)
        t_fast = min(t_fast, time.perf_counter() - t0)
        assert fast["error"].isna().all()
        del fast
    results["fast_engine_per_s"] = args.fast_runs / t_fast

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    seeds = f"{args.seed}..{args.seed + args.rounds - 1}"
    print(f"cpsim Monte Carlo benchmark (state C, default tolerances, seeds {seeds}; "
          f"{os.cpu_count()} CPUs, {workers} workers; {opts.periods:g} periods at "
          f"{step * 1e9:.0f} ns; "
          f"spice routes alternated in {args.rounds} rounds, fast best of 3)")
    print(f"{'route':<46}{'variations':>12}{'seconds':>10}{'variations/s':>16}")
    rows = [("naive PySpice loop (1 transient per variation)", n_naive, t_naive),
            (f"cpsim spice engine ({opts.circuits_per_run}/transient, {workers} procs)", n_spice, t_spice),
            ("cpsim fast engine (closed form, 1 core)", args.fast_runs, t_fast)]
    for name, n, t in rows:
        print(f"{name:<46}{n:>12,}{t:>10.2f}{n / t:>16,.0f}")
    print(f"spice engine / naive loop, median of {args.rounds} paired rounds: {results['median_wall_ratio']:.1f}x per "
          f"wall second, {results['median_cpu_ratio']:.1f}x per CPU-second")
    print(f"  totals: {results['speedup']:.1f}x wall (pool start-up included), {results['cpu_efficiency_ratio']:.1f}x "
          f"per CPU-second ({results['spice_cpu_ms_per_variation']:.1f} vs {results['naive_cpu_ms_per_variation']:.1f} "
          f"CPU-ms per variation); same variations agree within "
          f"{results['max_abs_v_high_diff_v'] * 1e6:.2g} µV on v_high")
    if "batch_ms_per_variation" in results:
        print("one process, ms per variation by circuits per transient: " + ", ".join(
            f"{k}: {v:.1f}" for k, v in results["batch_ms_per_variation"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
