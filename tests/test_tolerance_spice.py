"""The spice engine: ngspice + analyzer in worker processes, against the closed form; streaming and resume."""

import multiprocessing
import os
import signal

import numpy as np
import pandas as pd
import pytest

from cpsim.study.runner import run_montecarlo
from cpsim.study.variations import Tolerance

SEED = 17
RUNS = 64  # the interrupted / resumed / distributed studies
CHUNK = 8  # 8 chunks: a worker killed after the first still has work in flight


@pytest.fixture(scope="module")
def reference():
    """An uninterrupted spice study on the local process pool."""
    return run_montecarlo("C", RUNS, seed=SEED, engine="spice", chunk_size=CHUNK, workers=2)


def _same(a, b):
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True)


def test_fast_agrees_with_spice_on_the_plateau():
    # 200 random variations of every default tolerance plus diode temperature
    tols = [Tolerance.between("diode_temp_c", -40.0, 85.0)]
    for state, runs in (("B", 70), ("C", 70), ("D", 60)):
        spice = run_montecarlo(state, runs, tols, seed=1, engine="spice")
        fast = run_montecarlo(state, runs, tols, seed=1, engine="fast")
        assert spice["error"].isna().all(), spice["error"].dropna().tolist()[:3]
        np.testing.assert_array_equal(spice["r1_ohm"], fast["r1_ohm"])
        # the requirement is 5 mV; the two routes agree far better, and a test this tight catches
        # an error in the temperature law or the diode's reverse current
        np.testing.assert_allclose(spice["v_high"], fast["v_high"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(spice["v_low"], fast["v_low"], rtol=0, atol=1e-4)
        assert (spice["state"] == fast["state"]).all()
        assert (spice["state"] == f"{state}2").all()
        # what only the simulation measures: duty and frequency follow the generator, edges exist
        np.testing.assert_allclose(spice["measured_duty"], spice["duty"], atol=2e-3)
        np.testing.assert_allclose(spice["measured_frequency_hz"], spice["frequency_hz"], rtol=1e-3)
        assert spice["measured_rise_time_s"].between(0.5e-6, 10e-6).all()
        assert spice["measured_fall_time_s"].between(0.5e-6, 13e-6).all()


def test_failing_variations_are_recorded_and_the_batch_goes_on():
    df = run_montecarlo("B", 24, [Tolerance("duty", 0.025)], nominal={"duty": 0.98}, seed=6, engine="spice",
                        chunk_size=8)
    bad = df["duty"] >= 0.999  # CpCircuit refuses these: 100 % or edges that do not fit
    assert bad.any() and (~bad).any()
    assert df["error"][bad].str.startswith("ParameterError").all()
    assert df["error"][~bad].isna().all()
    # the rest are measured (a 99.6 % pulse is no valid PWM for the analyzer, so not all read as B2)
    assert df["state"][~bad].notna().all() and df["v_high"][~bad].notna().all()
    assert (df["state"][df["duty"] < 0.95] == "B2").all()


def test_interrupted_study_resumes_to_the_uninterrupted_result(tmp_path, reference):
    out = tmp_path / "mc.parquet"
    seen = []

    def stop_after_two_chunks(done, total):
        seen.append(done)
        if done >= 2 * CHUNK:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_montecarlo("C", RUNS, seed=SEED, engine="spice", chunk_size=CHUNK, out=out, flush_rows=1,
                       progress=stop_after_two_chunks)
    parts = tmp_path / "mc.parquet.parts"
    kept = pd.concat([pd.read_parquet(p) for p in parts.glob("part-*.parquet")])
    assert len(kept) >= 2 * CHUNK and not out.exists()
    resumed_progress = []
    df = run_montecarlo("C", RUNS, seed=SEED, engine="spice", chunk_size=CHUNK, out=out, resume=True,
                        progress=lambda done, total: resumed_progress.append(done))
    assert resumed_progress[0] == len(kept) + CHUNK  # started from the kept rows
    _same(df, reference)
    _same(pd.read_parquet(out), reference)
    assert not parts.exists()


def worker_killer():
    """A progress callback that SIGKILLs one worker process at the first report, and the PIDs it killed."""
    killed = []

    def kill_a_worker(done, total):
        if not killed:
            victim = multiprocessing.active_children()[0]
            os.kill(victim.pid, signal.SIGKILL)
            killed.append(victim.pid)

    return kill_a_worker, killed


def test_killed_worker_rows_are_rerun_by_resume(tmp_path, reference):
    out = tmp_path / "mc.csv"
    kill_a_worker, killed = worker_killer()

    # retries=0: chunks lost with the worker are kept as "unfinished" rows, not retried
    df = run_montecarlo("C", RUNS, seed=SEED, engine="spice", chunk_size=CHUNK, out=out, retries=0,
                        progress=kill_a_worker)
    assert killed
    unfinished = df["error"].str.startswith("unfinished: BrokenProcessPool", na=False)
    assert unfinished.any() and len(df) == RUNS
    done = df[~unfinished]
    _same(done, reference[reference["run"].isin(done["run"])])
    again = run_montecarlo("C", RUNS, seed=SEED, engine="spice", chunk_size=CHUNK, out=out, resume=True)
    pd.testing.assert_frame_equal(again, reference, check_exact=False, rtol=1e-15, atol=0)


def test_a_killed_worker_is_replaced_and_its_chunks_retried(reference):
    kill_a_worker, killed = worker_killer()

    df = run_montecarlo("C", RUNS, seed=SEED, engine="spice", chunk_size=CHUNK, progress=kill_a_worker)
    assert killed
    _same(df, reference)


@pytest.mark.parametrize("processes", [True, False], ids=["processes", "threads"])
def test_dask_distributed_executor(reference, processes):
    import distributed  # the [dask] extra, installed by `make test` (.[test]): missing is a failure
    # threads: both chunks' ngspice runs share this process's one ngspice, taking turns
    with distributed.LocalCluster(n_workers=1 if not processes else 2, threads_per_worker=1 if processes else 2,
                                  processes=processes, dashboard_address=None, silence_logs=40) as cluster, \
            distributed.Client(cluster) as client:
        executor = client.get_executor()
        df = run_montecarlo("C", RUNS, seed=SEED, engine="spice", chunk_size=CHUNK, executor=executor)
        fast = run_montecarlo("C", 200_000, seed=SEED, executor=executor, chunk_size=50_000)
    _same(df, reference)
    pd.testing.assert_frame_equal(fast, run_montecarlo("C", 200_000, seed=SEED))


def test_state_e_and_slow_pwm_are_read_as_simulated():
    from cpsim.study.summary import summarize

    e = run_montecarlo("E", 4, seed=1, engine="spice", workers=1)
    assert summarize(e, "iec61851")["yield"] == 1.0 and (e["state"] == "E").all()
    slow = run_montecarlo("C", 3, seed=1, engine="spice", workers=1, nominal={"frequency_hz": 100.0})
    assert (slow["state"] == "C2").all()
    np.testing.assert_allclose(slow["measured_frequency_hz"], slow["frequency_hz"], rtol=1e-3)


@pytest.mark.parametrize("workers", [0, -3, 2.5, True])
def test_bad_worker_counts_are_refused(workers):
    from cpsim import ParameterError
    from cpsim.study.corners import run_corners

    with pytest.raises(ParameterError, match="workers"):
        run_corners("C", engine="spice", workers=workers)
    with pytest.raises(ParameterError, match="workers"):
        run_montecarlo("C", 2, engine="spice", workers=workers)
