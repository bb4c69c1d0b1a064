"""`cpsim montecarlo` and `cpsim corners`: JSON summaries, result files, progress bar, one-line errors."""

import json
import subprocess
import sys

import pandas as pd
import pytest


def cpsim(*args):
    return subprocess.run([sys.executable, "-m", "cpsim.cli", *args], capture_output=True, text=True, timeout=300)


def test_tolerance_modules_stay_light():
    code = ("import sys, cpsim\n"
            "cpsim.Tolerance, cpsim.montecarlo, cpsim.run_corners, cpsim.summarize\n"
            "import cpsim.cli, cpsim.sim.batch, cpsim.sim.engines, cpsim.sim.corners, cpsim.tolerance\n"
            "print(','.join(m for m in ('pandas', 'pyarrow', 'tqdm', 'dask', 'distributed', 'PySpice')"
            " if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_montecarlo_json_summary_and_results_file(tmp_path):
    out = tmp_path / "mc.parquet"
    r = cpsim("montecarlo", "--state", "C", "--runs", "5000", "--seed", "1", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    for key in ("statistics", "yield", "misclassified", "seed", "runs"):
        assert key in s, key
    assert s["seed"] == 1 and s["runs"] == 5000 and s["yield"] == 1.0
    assert s["misclassified"]["count"] == 0
    assert 5.4 < s["statistics"]["C2"]["v_high"]["min"] < s["statistics"]["C2"]["v_high"]["max"] < 6.6
    assert set(s["yield_by_profile"]) == {"iec61851", "j1772"}
    df = pd.read_parquet(out)
    assert len(df) == 5000 and df["v_high"].min() == pytest.approx(s["statistics"]["C2"]["v_high"]["min"])
    assert "100%" in r.stderr  # the tqdm bar


def test_montecarlo_tight_threshold_lists_misclassified_runs():
    r = cpsim("montecarlo", "--state", "B", "--runs", "2000", "--seed", "2", "--threshold", "B=8.7:9.3",
              "--tolerance", "r1=0.01,normal", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "yield (iec61851+thresholds)" in r.stdout
    assert "misclassified runs" in r.stdout and "read as invalid" in r.stdout
    assert r.stderr == ""


def test_montecarlo_spice_engine_with_progress_and_resume(tmp_path):
    out = tmp_path / "mc.csv"
    args = ("montecarlo", "--state", "D", "--runs", "24", "--engine", "spice", "--seed", "3", "--workers", "1",
            "--out", str(out), "--json")
    r = cpsim(*args)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["errors"] == 0 and s["yield"] == 1.0
    assert "measured_rise_time_s" in s["statistics"]["D2"]
    assert "montecarlo" in r.stderr and "24/24" in r.stderr
    again = cpsim(*args, "--resume")  # everything is finished: nothing to simulate, same summary
    assert again.returncode == 0, again.stderr
    s2 = json.loads(again.stdout)
    assert s2["statistics"] == s["statistics"]


def test_corners_reproduce_section_2a():
    r = cpsim("corners", "--state", "C", "--tolerance", "vf=0.55:0.85", "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    corners = {(c["objective"], c["extreme"]): c for c in res["corners"]}
    assert corners[("v_high", "min")]["value"] == pytest.approx(5.47, abs=0.02)
    assert corners[("v_high", "max")]["value"] == pytest.approx(6.53, abs=0.02)
    assert res["misclassified"]["count"] == 0
    j = json.loads(cpsim("corners", "--state", "D", "--tolerance", "vf=0.55:0.85", "--profile", "j1772",
                         "--json").stdout)
    assert j["misclassified"]["count"] == 2  # both extreme D corners leave J1772's 2.62-3.25 V


def test_corners_text_output():
    r = cpsim("corners", "--state", "B", "--method", "vertex")
    assert r.returncode == 0, r.stderr
    assert "corners of B2 (fast, vertex" in r.stdout and "read as B2" in r.stdout


@pytest.mark.parametrize("args, text", [
    (("montecarlo", "--tolerance", "bogus=0.1"), "unknown tolerance parameter"),
    (("montecarlo", "--tolerance", "r1=abc"), "not a SPICE number"),
    (("montecarlo", "--threshold", "X=1:2"), "STATE=LO:HI"),
    (("montecarlo", "--threshold", "B=10:8"), "lo <= hi"),
    (("montecarlo", "--engine", "bogus"), "engine must be one of"),
    (("montecarlo", "--runs", "0"), "--runs"),
    (("montecarlo", "--out", "x.txt"), ".parquet or .csv"),
    (("montecarlo", "--resume"), "resume needs"),
    (("montecarlo", "--profile", "nope"), "unknown limits profile"),
    (("montecarlo", "--duty", "120"), "percent"),
    (("corners", "--method", "bogus"), "method must be one of"),
    (("corners", "--objective", "bogus"), "objective"),
])
def test_bad_options_give_one_line_and_exit_2(args, text):
    r = cpsim(*args, "--no-progress") if args[0] == "montecarlo" else cpsim(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cpsim: error:") and text in lines[0], r.stderr
