"""The main job (``make demo``): from nothing to a compliance report.

1. Simulate with ngspice the CP of the four charging states (A1 steady, B2, C2, D2 at 25 % =
   15 A) and two faults (vehicle diode shorted in B, 10 nF of cable capacitance in C), plus a
   plug-in session A1 → B1 → B2 → C2 → B2 stitched from the simulated stretches.
2. Write each as a scope capture (Rigol DS1000Z CSV layout, 12-bit quantised, seeded noise)
   in ``out/``, read it back and analyse it (:func:`cpsim.analyze`), judge every
   parameter (:mod:`cpsim.report.checks`) and recognise faults (:mod:`cpsim.diagnose`).
3. Run a Monte Carlo over the component tolerances of PILOT-REFERENCE §1: the fast engine
   with many runs per state, the spice engine with a few; judge the yield against IEC 61851,
   SAE J1772 and SmartEVSE's thresholds (PILOT-REFERENCE §2c).
4. Write ``out/report.html`` (self-contained) and every plot as PNG in ``out/plots/``, and print
   a summary.

``python -m cpsim.demo --help`` lists the options (output directory, run counts, seed).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from . import standard as std
from .units import format_percent as _pct

DUTY = 0.25
"""Duty of every PWM capture: 15 A (0.6 A/%, PILOT-REFERENCE §3)."""
SAMPLE_INTERVAL_S = 0.25e-6
"""Simulation output step: 4 MS/s, about 9 samples on a 2.3 µs loaded edge."""
PERIODS = 20
NOISE_RMS_V = 0.010
"""Scope noise added to every capture [V rms] (seeded)."""
ADC_BITS, ADC_RANGE_V = 12, (-16.0, 16.0)
"""A 12-bit scope on ±16 V: 7.8 mV steps."""

SMARTEVSE = std.custom_profile(
    {"A": (10.26, 13.0), "B": (7.79, 10.26), "C": (5.21, 7.79), "D": (2.13, 5.21), "E": (-0.95, 2.13)},
    name="smartevse")
"""SmartEVSE v3's state thresholds converted to CP volts (SE, PILOT-REFERENCE §2c, calc)."""

# (file stem, simulated state, fault, expected state, vehicle plugged in)
CAPTURES = (
    ("cp_A1", "A1", None, "A1", False),
    ("cp_B2", "B2", None, "B2", True),
    ("cp_C2", "C2", None, "C2", True),
    ("cp_D2", "D2", None, "D2", True),
    ("cp_B2_diode_shorted", "B2", "diode_shorted", "B2", True),
    ("cp_C2_cable_capacitance", "C2", "cable_capacitance", "C2", True),
)
SESSION = (("A1", 10), ("B1", 10), ("B2", 15), ("C2", 20), ("B2", 10))
"""The plug-in session: (state, milliseconds)."""


def write_rigol_csv(path, wave) -> None:
    """Write ``wave`` in the Rigol DS1000Z on-scope CSV layout (``X,CH1,Start,Increment,``).

    The time axis is ``Start + X * Increment``: the waveform must be uniformly sampled.
    """
    dt = wave.sample_interval_s
    n = len(wave)
    header = f"X,CH1,Start,Increment,\nSequence,Volt,{wave.t[0]:.6e},{dt:.6e}"
    data = np.column_stack([np.arange(n), wave.v])
    np.savetxt(path, data, delimiter=",", header=header, comments="", fmt=["%d", "%.4f"])


def scope_view(wave, rng: np.random.Generator, *, decimate: int = 1):
    """What a scope records of a simulated waveform: noise, 12-bit steps, optional decimation."""
    from .analysis.synthetic import quantize
    from .waveform import Waveform

    v = quantize(wave.v[::decimate] + rng.normal(0.0, NOISE_RMS_V, wave.v[::decimate].size), ADC_BITS, ADC_RANGE_V)
    t = wave.t[0] + np.arange(v.size) * (wave.sample_interval_s * decimate)
    return Waveform.from_arrays(t, v, channel="CH1", metadata={"source": "cpsim.demo"})


def _stitch(pieces):
    """Concatenate whole periods of simulated waveforms on one time axis."""
    from .waveform import Waveform

    per_period = int(round(1.0 / std.FREQUENCY_HZ / SAMPLE_INTERVAL_S))
    vs = []
    for wave, ms in pieces:
        n = int(ms) * per_period
        start = per_period if len(wave) > n + per_period else 0  # skip the first period: settled levels
        vs.append(wave.v[start:start + n])
    v = np.concatenate(vs)
    return Waveform.from_uniform(v, sample_interval_s=SAMPLE_INTERVAL_S, channel="cp")


def simulate_all(out: Path, seed: int) -> list[tuple[Path, str | None, bool]]:
    """Simulate and write the captures; returns ``(path, expected state, vehicle plugged in)``."""
    from .sim import CpCircuit, simulate_cp_batch

    circuits = [CpCircuit(state, duty=DUTY, fault=fault) for _, state, fault, _, _ in CAPTURES]
    extra = {"B1": CpCircuit("B1", duty=DUTY)}
    waves = simulate_cp_batch(circuits + list(extra.values()), periods=PERIODS, sample_interval_s=SAMPLE_INTERVAL_S)
    by_state = {}
    rng = np.random.default_rng(seed)
    written: list[tuple[Path, str | None, bool]] = []
    for (stem, state, fault, expected, plugged), wave in zip(CAPTURES, waves):
        if fault is None:
            by_state[state] = wave
        path = out / f"{stem}.csv"
        write_rigol_csv(path, scope_view(wave, rng))
        written.append((path, expected, plugged))
    by_state["B1"] = waves[-1]
    session = _stitch([(by_state[state], ms) for state, ms in SESSION])
    path = out / "cp_session.csv"
    write_rigol_csv(path, scope_view(session, rng, decimate=2))
    written.insert(0, (path, None, True))
    return written


def run_tolerance(out: Path, runs: int, spice_runs: int, seed: int, workers: int | None):
    """Fast Monte Carlo of B2, C2, D2 (``runs`` each) and spice of C2 (``spice_runs``)."""
    import pandas as pd

    from .study.results import write_results
    from .study.runner import run_montecarlo

    frames = [run_montecarlo(state, runs, seed=seed, engine="fast", nominal={"duty": DUTY}) for state in "BCD"]
    fast = pd.concat(frames, ignore_index=True)
    fast.attrs.update(frames[0].attrs)
    fast.attrs["state"] = "B2, C2, D2"
    fast.attrs["runs"] = len(fast)
    write_results(fast, out / "mc_fast.parquet")
    spice = run_montecarlo("C", spice_runs, seed=seed, engine="spice", nominal={"duty": DUTY}, workers=workers,
                           chunk_size=max(1, -(-spice_runs // 4)))
    write_results(spice, out / "mc_spice.parquet")
    return fast, spice


def _fmt(x, spec: str, scale: float = 1.0) -> str:
    return "—" if x is None or not np.isfinite(x) else format(x * scale, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cpsim.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="output directory (default out/)")
    parser.add_argument("--runs", type=int, default=200_000, help="fast-engine Monte Carlo runs per state (200000)")
    parser.add_argument("--spice-runs", type=int, default=24, help="spice-engine Monte Carlo runs (24)")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the noise and the Monte Carlo (2024)")
    parser.add_argument("--workers", type=int, help="worker processes for the spice runs (default: the CPUs)")
    parser.add_argument("--readme-figure", metavar="PNG", help="also copy the session overview plot there "
                                                               "(docs/cp_overview.png)")
    args = parser.parse_args(argv)

    from .report import capture_report, montecarlo_report, render_report, save_html

    t0 = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    profile = std.get_profile("iec61851")

    rate = f"{1 / SAMPLE_INTERVAL_S / 1e6:g} MS/s"
    print(f"cpsim demo: simulating 7 CP circuits with ngspice ({PERIODS} ms each, {rate})")
    captures = simulate_all(out, args.seed)
    t_sim = time.perf_counter() - t0

    reports = []
    for path, expected, plugged in captures:
        reports.append(capture_report(path, profile=profile, expected_state=expected,
                                      expected_duty=DUTY if expected is None or expected.endswith("2") else None,
                                      vehicle_connected=plugged))
    t_an = time.perf_counter() - t0 - t_sim

    print(f"Monte Carlo: fast engine {args.runs:,} runs × B2, C2, D2; spice engine {args.spice_runs} runs of C2")
    fast, spice = run_tolerance(out, args.runs, args.spice_runs, args.seed, args.workers)
    t_mc = time.perf_counter() - t0 - t_sim - t_an

    compare: list[str | std.LimitsProfile] = ["j1772", SMARTEVSE]
    studies = [montecarlo_report(fast, profile=profile, compare=compare, name="mc_fast.parquet"),
               montecarlo_report(spice, profile=profile, compare=compare, name="mc_spice.parquet")]
    plots = out / "plots"
    html_text, pngs = render_report(reports, studies, profile=profile, png_dir=plots,
                                    title="cpsim demo: simulated pilot captures and tolerance study")
    report_path = save_html(out / "report.html", html_text)
    if args.readme_figure:
        Path(args.readme_figure).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(plots / "cp_session_csv_overview.png", args.readme_figure)
    t_rep = time.perf_counter() - t0 - t_sim - t_an - t_mc

    # -- summary --------------------------------------------------------------------------------
    print()
    print(f"{'capture':<28} {'state':<6} {'V+ [V]':>8} {'V− [V]':>8} {'duty [%]':>8} {'f [Hz]':>8} "
          f"{'rise [µs]':>9} {'fall [µs]':>9}  {'verdict':<7}  faults")
    for cr in reports:
        m = cr.measurement
        v_low = m.v_low if m.pwm else float("nan")
        faults = ", ".join(f.code for f in cr.faults) or "—"
        print(f"{cr.name:<28} {m.state:<6} {_fmt(m.v_high, '+.3f'):>8} {_fmt(v_low, '+.3f'):>8} "
              f"{_fmt(m.duty, '.2f', 100):>8} {_fmt(m.frequency_hz, '.2f'):>8} "
              f"{_fmt(m.rise_time_s, '.2f', 1e6):>9} {_fmt(m.fall_time_s, '.2f', 1e6):>9}  {cr.verdict:<7}  {faults}")
    print()
    names = [profile.name] + [std.get_profile(p).name for p in compare]
    print(f"{'tolerance study':<28} {'state':<6} {'runs':>9}  " + "  ".join(f"{'yield ' + n:>16}" for n in names))
    for mr in studies:
        for entry in mr.per_state:
            cells = "  ".join(f"{_pct(entry['yield'][n]['yield']):>16}" for n in names)
            name = f"{mr.name} ({mr.summary['engine']})"
            print(f"{name:<28} {entry['state']:<6} {entry['runs']:>9,}  {cells}")
    elapsed = time.perf_counter() - t0
    print()
    print("files:")
    print(f"  {report_path}  ({report_path.stat().st_size / 2**20:.1f} MiB, self-contained: open it in a browser)")
    print(f"  {out}/cp_*.csv  ({len(captures)} captures, Rigol DS1000Z CSV layout: "
          f"try `cpsim analyze {captures[0][0]}`)")
    print(f"  {out}/mc_fast.parquet, {out}/mc_spice.parquet  (one row per run: parameters, levels, state)")
    print(f"  {plots}/  ({len(pngs)} PNG plots)")
    if args.readme_figure:
        print(f"  {args.readme_figure}  (README figure)")
    print(f"done in {elapsed:.1f} s (simulate {t_sim:.1f} s, analyse {t_an:.1f} s, Monte Carlo {t_mc:.1f} s, "
          f"report {t_rep:.1f} s)")
    return 0




if __name__ == "__main__":
    sys.exit(main())
