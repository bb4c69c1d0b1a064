"""`cpsim bringup`, `cpsim.bringup`, the report section and the figure."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import cpsim


def cpsim_cli(*args):
    return subprocess.run([sys.executable, "-m", "cpsim.cli", *args], capture_output=True, text=True, timeout=300)


def test_json_carries_what_the_issue_asks(tmp_path):
    out = tmp_path / "rows.parquet"
    r = cpsim_cli("bringup", "openevse", "--runs", "4000", "--seed", "3", "--json", "--out", str(out))
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["seed"] == 3 and s["runs"] == 4000 and s["engine"] == "fast"
    for state in ("A2", "B2", "C2", "D2"):
        st = s["states"][state]
        assert st["code"]["min"] <= st["code"]["median"] <= st["code"]["max"]
        assert {"count", "rate", "upper_95"} <= set(st["misread"])
        assert sum(st["read_as"].values()) == 4000
        for m in st["margins"]:
            assert {"edge", "threshold_counts", "margin_lsb", "driven_by"} <= set(m)
    assert set(s["recommended_thresholds_counts"]) == {"A", "B", "C", "D"}
    assert s["recommended_margin_lsb"] >= s["current_margin_lsb"]
    assert len(s["worst_variations"]) == 5
    df = pd.read_parquet(out)
    assert len(df) == 4 * 4000 and set(df["expected_state"]) == {"A2", "B2", "C2", "D2"}
    b = df[df["expected_state"] == "B2"]
    assert b["code"].median() == s["states"]["B2"]["code"]["median"]
    assert set(b["read_as"]) <= {"A", "B", "C", "D", "held", "none"}


def test_text_output_and_a_users_board_file(tmp_path):
    board = tmp_path / "mine.toml"
    board.write_text("""
[board]
name = "my board"
[frontend]
r_top_ohm = 200e3
r_bottom_ohm = 100e3
r_bias_ohm = 56e3
v_bias_v = 5.0
[adc]
bits = 10
vref_v = 5.0
noise_lsb_rms = 1.0
[sampling]
mode = "triggered"
delay_after_rise_s = 20e-6
[firmware]
algorithm = "mean"
thresholds_counts = { A = [875, 1023], B = [780, 875], C = [690, 780] }
[pilot]
states = ["B2", "C2"]
""")
    r = cpsim_cli("bringup", str(board), "--runs", "2000", "--seed", "1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("bringup my board: engine fast, 2000 variations per state, seed 1")
    assert "recommended:" in r.stdout and "B2: code" in r.stdout


@pytest.mark.parametrize("args, message", [
    (("nosuch.toml",), "nosuch.toml: no such board file"),
    (("openevse", "--runs", "0"), "--runs must be at least 1"),
    (("openevse", "--state", "Q"), "unknown CP state"),
    (("openevse", "--out", "x.txt"), "results are written as .parquet or .csv"),
])
def test_user_mistakes_exit_2_with_one_line(args, message):
    r = cpsim_cli("bringup", *args)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and message in r.stderr and "Traceback" not in r.stderr


def test_bad_board_file_exits_2_naming_the_key(tmp_path):
    board = tmp_path / "bad.toml"
    board.write_text("[board]\nname='x'\n[frontend]\nr_top_ohm=1\nr_bottom_ohm=1\n[adc]\nbits=10\nvref_v=-5\n"
                     "[sampling]\nmode='triggered'\ndelay_after_rise_s=1e-5\n[firmware]\nalgorithm='peak'\n"
                     "thresholds_counts={A=[1,2]}\n")
    r = cpsim_cli("bringup", str(board))
    assert r.returncode == 2 and "bad.toml: adc.vref_v must be a number > 0" in r.stderr


def test_help_shows_a_single_percent_sign():
    r = cpsim_cli("bringup", "--help")
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "misreads with a 95 % upper bound" in text and "%%" not in r.stdout


def test_failing_custom_algorithm_exits_2_with_one_line(tmp_path):
    board = tmp_path / "t.toml"
    board.write_text("[board]\nname='t'\n[frontend]\nr_top_ohm=200e3\nr_bottom_ohm=100e3\nr_bias_ohm=56e3\nv_bias_v=5.0\n[adc]\nbits=10\n"
                     "vref_v=5.0\n[sampling]\nmode='triggered'\ndelay_after_rise_s=2e-5\n[firmware]\n"
                     "algorithm='os:getcwd'\nthresholds_counts={A=[875,1023],B=[780,875]}\n[pilot]\nstates=['B2']\n")
    r = cpsim_cli("bringup", str(board), "--runs", "10")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "firmware algorithm 'os:getcwd' failed on the ADC codes: TypeError" in r.stderr
    (tmp_path / "myalg_cli.py").write_text("def highest(codes):\n    return codes.max(axis=1)\n")
    board.write_text(board.read_text().replace("os:getcwd", "myalg_cli:highest"))
    r = cpsim_cli("bringup", str(board), "--runs", "10", "--seed", "1", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["states"]["B2"]["read_as"] == {"B": 10}


def test_usage_error_exits_2():
    r = cpsim_cli("bringup", "openevse", "--engine", "quantum")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_facade_api_is_lazy_and_typed():
    code = ("import sys, cpsim\ncpsim.bringup\n"
            "print(','.join(m for m in ('pandas', 'matplotlib', 'PySpice') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    result = cpsim.bringup("esp32_evse", runs=500, seed=2, states=["C2"])
    assert list(result.summary["states"]) == ["C2"]


def test_figure_and_report_section_render():
    from cpsim.plot.bringup import code_histograms
    from cpsim.report.bringup import bringup_section

    result = cpsim.bringup("esp32_evse", runs=20_000, seed=1)
    axes = code_histograms(result, pyplot=False)
    assert len(axes) == 4
    assert all(ax.get_xlabel() == "reading [ADC counts]" for ax in axes)
    gids = {a.get_gid() for ax in axes for a in ax.get_children()}
    assert {"code-ok", "threshold", "recommended"} <= gids
    b_ax = axes[1]
    drawn = sorted(line.get_xdata()[0] for line in b_ax.get_lines() if line.get_gid() == "threshold")
    assert 2104 - 0.5 in drawn and 2410 - 0.5 in drawn     # B's window edges, at the decision points
    html = bringup_section(result)
    assert html.startswith("<section class='bringup'>") and html.endswith("</section>")
    assert "data:image/png;base64," in html and "Recommended thresholds" in html
    for state in ("A2", "B2", "C2", "D2"):
        assert f"<td>{state}</td>" in html
    assert "<script" not in bringup_section(result, figure=False)
    misread = result.summary["misread_total"]
    assert ("misread their state" in html) == (misread > 0)
    assert np.isfinite(result.summary["recommended_margin_lsb"])
