"""Issue 13, case 1: a study with failed runs is loud (exit 1, failures first), corners that fail are
reported as failed corners, and `cpsim report` renders any results file, even an all-failed one."""

import json
import subprocess
import sys

import pytest

from cpsim.study.corners import run_corners
from cpsim.study.runner import run_montecarlo
from cpsim.study.summary import summarize
from cpsim.study.variations import DEFAULT_TOLERANCES, Tolerance

# duty 98 % ± 2.5 %-points: above 99.9 % the 1 µs edges no longer fit (CpCircuit's rule), so part of
# the runs cannot be simulated; the rest are fine
PARTLY = ("--state", "C", "--runs", "2000", "--seed", "6", "--duty", "98", "--tolerance", "duty=0.025",
          "--no-progress")


def cpsim(*args, **kw):
    return subprocess.run([sys.executable, "-m", "cpsim.cli", *args], capture_output=True, text=True, timeout=300,
                          **kw)


def _all_failed(tmp_path, suffix=".parquet"):
    """A real study none of whose runs can be simulated: the pulse leaves no room for the edges."""
    df = run_montecarlo("B", 300, [Tolerance.between("duty", 0.9995, 0.9999)], seed=1)
    assert df["error"].notna().all()
    out = tmp_path / f"allfailed{suffix}"
    from cpsim.study.results import write_results

    write_results(df, out)
    return df, out


def test_failed_runs_exit_1_and_lead_the_text():
    df = run_montecarlo("C", 2000, [Tolerance("duty", 0.025)], nominal={"duty": 0.98}, seed=6)
    failed = int(df["error"].notna().sum())
    assert 0 < failed < 2000
    r = cpsim("montecarlo", *PARTLY)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    first = r.stdout.splitlines()[0]
    assert f"{failed:,} of 2,000 runs failed" in first, first
    # the first distinct error message follows at once
    assert "ParameterError" in r.stdout.splitlines()[1]
    assert "over the 1," in r.stdout and "runs that ran" in r.stdout  # the yield says over what
    ok = cpsim("montecarlo", *PARTLY, "--allow-errors")
    assert ok.returncode == 0, ok.stderr
    assert f"{failed:,} of 2,000 runs failed" in ok.stdout.splitlines()[0]


def test_failed_runs_exit_1_with_json_too():
    r = cpsim("montecarlo", *PARTLY, "--json")
    assert r.returncode == 1
    s = json.loads(r.stdout)
    f = s["failures"]
    assert f["count"] == s["errors"] > 0 and f["count"] + s["valid_runs"] == s["runs"]
    assert f["messages"] and f["messages"][0]["message"].startswith("ParameterError")
    assert sum(m["count"] for m in f["messages"]) <= f["count"]
    assert s["yield_over"] == "valid runs"
    assert s["yield_of_all_runs"] == pytest.approx(s["yield"] * s["valid_runs"] / s["runs"])


def test_summary_of_an_all_failed_study():
    df = run_montecarlo("B", 300, [Tolerance.between("duty", 0.9995, 0.9999)], seed=1)
    s = summarize(df)
    assert s["failures"]["count"] == 300 and s["yield"] is None and s["yield_of_all_runs"] == 0.0
    assert "edges" in s["failures"]["messages"][0]["message"]


def test_failed_corners_are_reported_not_dropped():
    # duty 0.98 ± 0.025: the upper corner (100.5 %) cannot be simulated
    only_duty = [Tolerance("duty", 0.025) if t.name == "duty" else Tolerance.fixed(t.name) for t in DEFAULT_TOLERANCES]
    c = run_corners("B", only_duty, engine="spice", nominal={"duty": 0.98}, workers=1,
                    objectives=["measured_rise_time_s"])
    failed = c[c["extreme"] == "failed"]
    assert len(failed) == 1 and c.attrs["failed"] == 1
    assert failed["duty"].iloc[0] == pytest.approx(1.005) and failed["error"].iloc[0].startswith("ParameterError")
    assert set(c["extreme"]) == {"nominal", "min", "max", "failed"}


def test_corners_cli_exits_1_on_a_failed_corner():
    fixed = [a for name in ("v_high", "v_low", "r1", "r_detect", "diode", "cable_c", "frequency")
             for a in ("--tolerance", f"{name}=fixed")]
    args = ("corners", "--state", "B", "--engine", "spice", "--workers", "1", "--duty", "98", "--tolerance",
            "duty=0.025", *fixed, "--objective", "measured_rise_time_s")
    r = cpsim(*args)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout.splitlines()[0].startswith("1 of ") and "corners failed" in r.stdout.splitlines()[0]
    assert cpsim(*args, "--allow-errors").returncode == 0


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_report_renders_an_all_failed_results_file(tmp_path, suffix):
    _, out = _all_failed(tmp_path, suffix)
    html = tmp_path / "r.html"
    r = cpsim("report", str(out), "-o", str(html))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    text = html.read_text(encoding="utf-8")
    assert "300 of 300 runs failed" in text
    assert "edges" in text  # the first error message


def test_report_renders_a_results_file_without_level_columns(tmp_path):
    # what the spice engine wrote before when ngspice was missing: run, seed, states, error, parameters only
    df, _ = _all_failed(tmp_path)
    legacy = df.drop(columns=["v_high", "v_low"])
    legacy["error"] = "CDefError: <cdef source string>:7: duplicate declaration of struct ngcomplex"
    path = tmp_path / "legacy.parquet"
    legacy.to_parquet(path)
    r = cpsim("report", str(path), "-o", str(tmp_path / "r.html"))
    assert r.returncode == 0, r.stderr
    assert "duplicate declaration" in (tmp_path / "r.html").read_text(encoding="utf-8")
    s = summarize(legacy)
    assert s["failures"]["count"] == 300 and s["statistics"] == {}
