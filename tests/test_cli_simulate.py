"""`cpsim simulate ...` and the CLI's error contract: one line on stderr, exit status 2."""

import json
import subprocess
import sys

import numpy as np
import pytest

from cpsim.sim import plateau_levels


def cpsim(*args, check=False):
    return subprocess.run([sys.executable, "-m", "cpsim.cli", *args], capture_output=True, text=True,
                          check=check, timeout=300)


def test_simulate_cp_writes_csv(tmp_path):
    out = tmp_path / "cp.csv"
    r = cpsim("simulate", "cp", "--state", "C", "--duty", "25", "--frequency", "1000", "--cable-pf", "1000",
              "--periods", "5", "--out", str(out))
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "time_s,cp_v"
    data = np.loadtxt(out, delimiter=",", skiprows=1)
    t, v = data[:, 0], data[:, 1]
    assert t[-1] == pytest.approx(5e-3)
    phase = t % 1e-3
    high = v[(phase > 100e-6) & (phase < 220e-6)]
    assert np.median(high) == pytest.approx(float(plateau_levels("C")[0]), abs=2e-3)
    # 25 % duty: fraction of samples above 0 V
    assert np.mean(v > 0) == pytest.approx(0.25, abs=0.003)


def test_simulate_pp_json():
    r1 = json.loads(cpsim("simulate", "pp", "--connector", "type1", "--condition", "latched", "--json",
                          check=True).stdout)
    assert r1["v_pp"] == pytest.approx(1.505, abs=2e-3)
    r2 = json.loads(cpsim("simulate", "pp", "--connector", "type2", "--rc-ohm", "680", "--json", check=True).stdout)
    assert r2["v_pp"] == pytest.approx(2.024, abs=2e-3)
    assert r2["cable_rating_a"] == 20


@pytest.mark.parametrize(
    "args, needle",
    [
        (["simulate", "pp", "--connector", "type2", "--rc-ohm", "1k\n.control\nshell touch /tmp/cpsim-x"], "rc-ohm"),
        (["simulate", "cp", "--duty", "150"], "duty"),
        (["simulate", "cp", "--state", "Q"], "state"),
        (["simulate", "cp", "--cable-pf", "-5"], "cable_c_f"),
        (["simulate", "pp", "--condition", "wobbly"], "condition"),
        (["analyze", "/nonexistent/capture.csv"], "capture.csv"),
        (["simulate", "cp", "--periods", "1", "--out", "/nonexistent/dir/cp.csv"], "cannot write"),
        (["montecarlo", "--runs", "10", "--out", "/nonexistent/dir/mc.parquet"], "/nonexistent"),
        (["report", "BAD_PARQUET", "-o", "/tmp/cpsim-never.html"], "results file"),
    ],
)
def test_errors_are_one_line_exit_2(args, needle, tmp_path):
    if "BAD_PARQUET" in args:
        bad = tmp_path / "mc.parquet"
        bad.write_bytes(b"junk")
        args = [str(bad) if a == "BAD_PARQUET" else a for a in args]
    r = cpsim(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0]
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("args", [[], ["simulate"], ["simulate", "cp"], ["simulate", "pp"], ["analyze"], ["formats"]])
def test_help_explains_units(args):
    from cpsim.cli.common import UNITS_NOTE

    r = cpsim(*args, "--help")
    assert r.returncode == 0
    # argparse re-wraps the epilog: compare word by word
    assert " ".join(UNITS_NOTE.split()) in " ".join(r.stdout.split())
