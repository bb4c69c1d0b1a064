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
            "import cpsim.cli, cpsim.study.runner, cpsim.study.engines, cpsim.study.corners, cpsim.study.summary\n"
            "print(','.join(m for m in ('pandas', 'pyarrow', 'tqdm', 'dask', 'distributed', 'PySpice')"
            " if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_montecarlo_json_summary_and_results_file(tmp_path):
    out = tmp_path / "mc.parquet"
    r = cpsim("montecarlo", "--state", "C", "--runs", "5000", "--seed", "1", "--out", str(out), "--json",
              "--progress")  # a bar although stderr is a pipe: asked for
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
    quiet = cpsim("montecarlo", "--state", "C", "--runs", "5000", "--seed", "1", "--out", str(out), "--json")
    assert quiet.returncode == 2 and "--resume" in quiet.stderr and "--force" in quiet.stderr  # kept, not replaced
    again = cpsim("montecarlo", "--state", "C", "--runs", "5000", "--seed", "1", "--out", str(out), "--json",
                  "--force")
    assert again.returncode == 0 and "\r" not in again.stderr  # no progress frames in a log by default


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
            "--out", str(out), "--json", "--progress")
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
    d = {(c["objective"], c["extreme"]): c for c in j["corners"]}
    # both extreme D corners leave J1772's 2.62-3.25 V window; the nominal circuit does not
    assert d[("v_high", "min")]["value"] < 2.62 and d[("v_high", "min")]["state"] == "invalid"
    assert d[("v_high", "max")]["value"] > 3.25 and d[("v_high", "max")]["state"] == "invalid"
    assert d[("nominal", "nominal")]["state"] == "D2"
    assert j["misclassified"]["count"] >= 2


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


def test_ctrl_c_keeps_the_finished_rows_and_resume_uses_them(tmp_path):
    import signal
    import time

    import numpy as np

    from cpsim.study.runner import run_montecarlo
    from cpsim.study.variations import resolve_tolerances, sample

    out = tmp_path / "mc.parquet"
    parts = tmp_path / "mc.parquet.parts"
    proc = subprocess.Popen([sys.executable, "-m", "cpsim.cli", "montecarlo", "--state", "C", "--runs", "3000",
                             "--engine", "spice", "--seed", "4", "--out", str(out), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(parts.glob("part-*.parquet")) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert proc.poll() is None, "finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    lines = stderr.strip().splitlines()
    assert proc.returncode == 130 and len(lines) == 1 and lines[0].startswith("cpsim: interrupted")
    assert "--resume" in lines[0]   # says how to go on
    assert not out.exists()
    kept = pd.concat([pd.read_parquet(p) for p in parts.glob("part-*.parquet")]).sort_values("run")
    assert len(kept) >= 32 and len(kept) % 32 == 0 and kept["error"].isna().all()
    # the kept rows are the seed's variations, measured
    drawn = sample("C", kept["run"].to_numpy(), resolve_tolerances(state="C"), 4)
    np.testing.assert_array_equal(kept["r1_ohm"], drawn["r1_ohm"])
    fast = run_montecarlo("C", int(kept["run"].max()) + 1, seed=4).set_index("run").loc[kept["run"]]
    np.testing.assert_allclose(kept["v_high"], fast["v_high"], atol=5e-3)
    # resume a study as long as the finished prefix: nothing left to simulate
    runs = kept["run"].to_numpy()
    prefix = int(np.cumprod(runs == np.arange(runs.size)).sum())  # runs 0 .. prefix-1 are all there
    if prefix:
        calls = []
        df = run_montecarlo("C", prefix, seed=4, engine="spice", out=out, resume=True,
                            progress=lambda n, total: calls.append(n))
        assert calls == [] and len(df) == prefix
        pd.testing.assert_frame_equal(df, kept.iloc[:prefix].reset_index(drop=True), check_dtype=False)
