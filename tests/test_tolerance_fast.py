"""Fast engine, corners and threshold yield: known answers from PILOT-REFERENCE §2a and by construction."""

import numpy as np
import pandas as pd
import pytest

from cpsim import ParameterError
from cpsim.sim.closed_form import blocked_low_v
from cpsim.standard import custom_profile
from cpsim.study.corners import run_corners
from cpsim.study.results import read_results
from cpsim.study.runner import run_montecarlo
from cpsim.study.summary import summarize
from cpsim.study.variations import Tolerance

# PILOT-REFERENCE §2a / §8 worst case (calc, ideal diode 0.55-0.85 V, section 1 tolerances)
SECTION_2A = {"B": (8.37, 9.59), "C": (5.47, 6.53), "D": (2.59, 3.28)}
VD_RANGE = [Tolerance.between("diode_vf_v", 0.55, 0.85)]


@pytest.mark.parametrize("state", ["B", "C", "D"])
@pytest.mark.parametrize("method", ["exhaustive", "vertex"])
def test_corners_reproduce_the_published_worst_case(state, method):
    c = run_corners(state, VD_RANGE, method=method).set_index(["objective", "extreme"])
    lo, hi = SECTION_2A[state]
    assert c.loc[("v_high", "min"), "value"] == pytest.approx(lo, abs=0.02)
    assert c.loc[("v_high", "max"), "value"] == pytest.approx(hi, abs=0.02)
    # V- is the generator's low level at its tolerance end, lifted by the blocked diode's R1 * Is
    for extreme, v_gen in (("min", -12.6), ("max", -11.4)):
        row = c.loc[("v_low", extreme)]
        assert row["v_low_v"] == pytest.approx(v_gen, abs=1e-12)
        lifted = blocked_low_v(v_gen, row["r1_ohm"], diode_area=row["diode_area"], temp_c=row["diode_temp_c"])
        assert row["value"] == pytest.approx(float(lifted), abs=1e-12)
        assert 0 < row["value"] - v_gen < 1e-3
    # the low corner is the weak source, high R1, low load, low diode drop (monotonicity)
    low = c.loc[("v_high", "min")]
    assert (low["v_high_v"], low["r1_ohm"], low["r_detect_ohm"]) == pytest.approx((11.4, 1030.0, 0.97 * 2740.0))


def test_vertex_search_agrees_with_exhaustive_on_many_parameters():
    tols = [Tolerance.between("diode_temp_c", -40.0, 85.0), Tolerance.rel("wire_r_ohm", 0.5)]
    ex = run_corners("C", tols, method="exhaustive").set_index(["objective", "extreme"])
    vx = run_corners("C", tols, method="vertex").set_index(["objective", "extreme"])
    assert ex.attrs["evaluations"] == 1 + 2 ** len(ex.attrs["varying"])
    assert vx.attrs["evaluations"] < ex.attrs["evaluations"]
    np.testing.assert_allclose(vx["value"].to_numpy(float), ex["value"].to_numpy(float), rtol=0, atol=1e-12)


@pytest.mark.parametrize("state", ["B", "C", "D"])
def test_corners_bracket_every_monte_carlo_sample(state):
    tols = [Tolerance.between("diode_temp_c", -40.0, 85.0)]
    c = run_corners(state, tols).set_index(["objective", "extreme"])
    df = run_montecarlo(state, 200_000, tols, seed=21)
    assert df["error"].isna().all()
    assert df["v_high"].min() >= c.loc[("v_high", "min"), "value"] - 1e-12
    assert df["v_high"].max() <= c.loc[("v_high", "max"), "value"] + 1e-12
    assert df["v_low"].min() >= c.loc[("v_low", "min"), "value"] - 1e-12
    assert df["v_low"].max() <= c.loc[("v_low", "max"), "value"] + 1e-12
    # and the samples come close to them (2e5 draws over 7 parameters)
    assert df["v_high"].min() - c.loc[("v_high", "min"), "value"] < 0.1


def test_results_frame_is_tidy_and_reproducible():
    df = run_montecarlo("C", 1000, seed=1)
    assert list(df.columns[:5]) == ["run", "seed", "expected_state", "state", "error"]
    assert df["run"].tolist() == list(range(1000))
    assert (df["seed"] == 1).all() and (df["expected_state"] == "C2").all()
    for name in ("v_high_v", "r1_ohm", "r_detect_ohm", "r_charge_ohm", "diode_area", "diode_dvf_v", "cable_c_f",
                 "duty", "frequency_hz", "v_high", "v_low"):
        assert df[name].dtype == np.float64, name
    again = run_montecarlo("C", 1000, seed=1)
    pd.testing.assert_frame_equal(df, again)
    assert df.attrs["seed"] == 1 and df.attrs["engine"] == "fast"
    seedless = run_montecarlo("C", 10)
    assert seedless.attrs["seed"] == seedless["seed"].iloc[0] >= 0


def test_iec_yield_is_complete_at_nominal_tolerances():
    for state in ("A", "B", "C", "D", "E", "F", "B1", "C1"):
        df = run_montecarlo(state, 100_000, seed=2)
        s = summarize(df, "iec61851")
        assert s["yield"] == 1.0 and s["misclassified"]["count"] == 0, state
        # the low-level window is the generator's own tolerance: a generator at its end, lifted by the
        # blocked diode's R1 * Is (µV), sits just outside it; nothing else may
        lift = float(np.nanmax(df["v_low"] - df["v_low_v"])) if df["v_low"].notna().any() else 0.0
        for t in s["thresholds"]:
            floor = -lift - 1e-12 if t["level"] == "v_low" else 0.0
            assert t["min_margin_v"] >= floor, (state, t)


def test_tight_custom_threshold_lists_the_misclassified_runs():
    df = run_montecarlo("C", 20_000, seed=3)
    tight = custom_profile({"C": (5.6, 6.4)})
    s = summarize(df, tight, worst=5)
    outside = (df["v_high"] < 5.6) | (df["v_high"] > 6.4)
    assert s["misclassified"]["count"] == int(outside.sum()) > 0
    assert s["misclassified"]["as"] == {"invalid": int(outside.sum())}
    assert set(s["misclassified"]["runs"]) <= set(df["run"][outside])
    assert len(s["misclassified"]["runs"]) == min(100, int(outside.sum()))
    assert s["yield"] == pytest.approx(1 - outside.mean())
    lo = next(t for t in s["thresholds"] if t["level"] == "v_high" and t["edge"] == "lo")
    assert lo["threshold_v"] == 5.6
    assert lo["min_margin_v"] == pytest.approx(df["v_high"].min() - 5.6)
    assert lo["run"] == int(df["run"][df["v_high"].idxmin()])
    assert [w["read_as"] for w in s["worst_cases"]] == ["invalid"] * 5
    # the run's own classification with that profile agrees with re-judging the levels
    again = run_montecarlo("C", 20_000, seed=3, profile=tight)
    assert int((again["state"] == "invalid").sum()) == s["misclassified"]["count"]
    assert summarize(again)["misclassified"]["count"] == s["misclassified"]["count"]


def test_j1772_windows_are_narrower_than_the_worst_case_of_state_d():
    # PILOT-REFERENCE §2a: D 2.59-3.28 V against J1772's 2.62-3.25 V
    s = summarize(run_montecarlo("D", 200_000, VD_RANGE, seed=4), "j1772")
    assert 0 < s["misclassified"]["count"] < 200_000 * 0.05
    assert s["yield_by_profile"]["iec61851"]["yield"] == 1.0
    assert s["yield_by_profile"]["j1772"]["misclassified"] == s["misclassified"]["count"]


def test_summary_statistics():
    df = run_montecarlo("B", 5000, seed=8)
    s = summarize(df)
    st = s["statistics"]["B2"]["v_high"]
    assert st["min"] == pytest.approx(df["v_high"].min()) and st["max"] == pytest.approx(df["v_high"].max())
    assert st["mean"] == pytest.approx(df["v_high"].mean()) and st["std"] == pytest.approx(df["v_high"].std())
    assert s["seed"] == 8 and s["runs"] == 5000 and s["errors"] == 0


def test_impossible_variations_are_recorded_not_fatal():
    # duty 0.98 ± 0.025 reaches 100 %, and above 99.9 % the 1 µs edges no longer fit (CpCircuit's rule):
    # those runs carry an error, the rest are measured
    df = run_montecarlo("C", 2000, [Tolerance("duty", 0.025)], nominal={"duty": 0.98}, seed=6)
    bad = df["duty"] >= 0.999
    assert (df["duty"] >= 1.0).any() and (bad & (df["duty"] < 1.0)).any() and (~bad).any()
    assert df["error"][bad].str.contains("duty").all()
    assert df["error"][~bad].isna().all() and df["v_high"][~bad].notna().all()
    assert df["state"][bad].isna().all()
    s = summarize(df)
    assert s["errors"] == int(bad.sum()) and s["valid_runs"] == int((~bad).sum())


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_results_files_round_trip(tmp_path, suffix):
    out = tmp_path / f"mc{suffix}"
    df = run_montecarlo("B", 3000, seed=5, out=out)
    back = read_results(out)
    pd.testing.assert_frame_equal(back, df, check_exact=False, rtol=1e-15, atol=0)
    assert not (tmp_path / f"mc{suffix}.parts").exists()


def test_resume_of_a_finished_fast_study_runs_nothing_new(tmp_path):
    out = tmp_path / "mc.parquet"
    df = run_montecarlo("C", 500, seed=5, out=out)
    calls = []
    again = run_montecarlo("C", 800, seed=5, out=out, resume=True, progress=lambda n, total: calls.append(n))
    assert calls == [800]  # the first 500 came from the file, one block ran the rest
    pd.testing.assert_frame_equal(again.iloc[:500], df)
    pd.testing.assert_frame_equal(again, run_montecarlo("C", 800, seed=5))
    with pytest.raises(ParameterError, match="seed"):
        run_montecarlo("C", 800, seed=6, out=out, resume=True)
    with pytest.raises(ParameterError, match="r1_ohm"):
        run_montecarlo("C", 800, [Tolerance.rel("r1_ohm", 0.01)], seed=5, out=out, resume=True)


@pytest.mark.parametrize("kwargs", [
    dict(engine="bogus"), dict(runs=0), dict(runs=2.5), dict(state="X"), dict(profile="nope"),
    dict(seed=-3), dict(out="results.txt"), dict(resume=True), dict(chunk_size=0), dict(workers=0),
    dict(nominal={"bogus": 1.0}), dict(executor="pool"),
])
def test_bad_arguments_are_parameter_errors(kwargs):
    args = dict(state="C", runs=10) | kwargs
    with pytest.raises(ParameterError):
        run_montecarlo(args.pop("state"), args.pop("runs"), **args)
