"""Issue 13, cases 4-6: margins users can read (a limit reached exactly is a zero margin that passes, the
same in text, JSON and HTML), what drives each margin (sensitivity), a misread rate with its bound."""

import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from cpsim.report import render_report
from cpsim.study.runner import run_montecarlo
from cpsim.study.sensitivity import sensitivity
from cpsim.study.stats import misread_bound, misread_text
from cpsim.study.summary import MARGIN_RESOLUTION_V, summarize


def cpsim(*args):
    return subprocess.run([sys.executable, "-m", "cpsim.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def default_c():
    return run_montecarlo("C", 100_000, seed=1)


def _v_low_hi(thresholds):
    return next(t for t in thresholds if t["level"] == "v_low" and t["edge"] == "hi")


# -- 4. margins ---------------------------------------------------------------------------------

def test_a_limit_reached_exactly_is_a_zero_margin_that_passes(default_c):
    th = _v_low_hi(summarize(default_c)["thresholds"])
    # the generator's -12 V ± 0.6 V ends on the -11.4 V limit; the blocked diode lifts the level by µV
    assert -MARGIN_RESOLUTION_V / 2 < th["min_margin_v"] < 0
    assert th["margin_shown_v"] == 0.0 and th["verdict"] == "pass"


def test_zero_margin_is_the_same_in_text_json_and_html(default_c, tmp_path):
    args = ("montecarlo", "--state", "C", "--runs", "100000", "--seed", "1", "--no-progress")
    text = cpsim(*args)
    assert text.returncode == 0, text.stderr
    line = next(s for s in text.stdout.splitlines() if "v_low to hi threshold -11.4 V" in s)
    assert "0.000 V pass" in line and "-0.0" not in line, line
    j = json.loads(cpsim(*args, "--json").stdout)
    assert _v_low_hi(j["thresholds"])["verdict"] == "pass" and _v_low_hi(j["thresholds"])["margin_shown_v"] == 0.0
    html, _ = render_report(results=[default_c])
    table = html[html.index('<table class="margins">'):]
    table = table[:table.index("</table>")]
    row = next(r for r in table.split("<tr")[2:] if "-11.4 V" in r)
    assert "v-fail" not in row and "0.000 V" in row and "-0.0" not in row, row
    assert "inclusive" in html  # the rule is stated


def test_a_margin_past_the_resolution_fails_everywhere():
    r = cpsim("montecarlo", "--state", "C", "--runs", "5000", "--seed", "3", "--threshold", "C=5.6:6.4", "--json",
              "--no-progress")
    j = json.loads(r.stdout)
    lo = next(t for t in j["thresholds"] if t["level"] == "v_high" and t["edge"] == "lo")
    assert lo["min_margin_v"] < -MARGIN_RESOLUTION_V and lo["verdict"] == "fail"
    assert lo["margin_shown_v"] == pytest.approx(round(lo["min_margin_v"], 3))


# -- 5. sensitivity -----------------------------------------------------------------------------

def test_generator_high_level_drives_state_c(default_c):
    s = summarize(default_c)
    ranking = s["sensitivity"]["C2"]["v_high"]
    assert ranking[0]["parameter"] == "v_high_v"
    shares = [r["share"] for r in ranking]
    assert shares == sorted(shares, reverse=True) and sum(shares) == pytest.approx(1.0, abs=1e-5)
    assert s["sensitivity"]["C2"]["v_low"][0]["parameter"] == "v_low_v"
    assert "diode_area" not in json.dumps(s)  # an internal parameter, never shown
    assert "regression" in s["sensitivity_method"]


def test_sensitivity_known_answer(default_c):
    # a level built from two parameters with known weights: shares are the squared standardised weights
    df = default_c.copy()
    z1 = (df["v_high_v"] - df["v_high_v"].mean()) / df["v_high_v"].std()
    z2 = (df["r1_ohm"] - df["r1_ohm"].mean()) / df["r1_ohm"].std()
    df["v_high"] = 6.0 + 0.3 * z1 - 0.1 * z2
    ranking = sensitivity(df)["C2"]["v_high"]
    got = {r["parameter"]: r["share"] for r in ranking}
    assert got["v_high_v"] == pytest.approx(0.9, abs=1e-3) and got["r1_ohm"] == pytest.approx(0.1, abs=1e-3)
    assert sum(v for k, v in got.items() if k not in ("v_high_v", "r1_ohm")) < 1e-3


def test_json_carries_sensitivity_and_a_bounded_misread_rate():
    r = cpsim("montecarlo", "--state", "C", "--runs", "10000", "--seed", "1", "--json", "--no-progress")
    j = json.loads(r.stdout)
    assert j["sensitivity"]["C2"]["v_high"][0]["parameter"] == "v_high_v"
    m = j["misclassified"]
    assert m["count"] == 0 and m["rate"] == 0.0
    assert m["rate_upper_95"] == pytest.approx(1 - 0.05 ** (1 / 10_000))
    text = cpsim("montecarlo", "--state", "C", "--runs", "10000", "--seed", "1", "--no-progress").stdout
    assert "< 3 in 10,000" in text
    assert re.search(r"sensitivity C2 v_high: v_high_v \d+ %", text), text


# -- 6. misread rate ----------------------------------------------------------------------------

@pytest.mark.parametrize("k, n", [(0, 10), (0, 100_000), (5, 100), (37, 2000), (100, 100)])
def test_clopper_pearson_upper_bound(k, n):
    upper = misread_bound(k, n)
    ref = stats.binomtest(k, n, alternative="less").proportion_ci(0.95, method="exact").high
    assert upper == pytest.approx(ref, rel=1e-9)
    if k == 0:
        assert upper == pytest.approx(1 - 0.05 ** (1 / n), rel=1e-12)  # the closed form
        assert upper < 3 / n


def test_misread_text():
    assert misread_text(0, 10_000) == "0 of 10,000 runs misread: rate < 3 in 10,000 (95 % upper bound)"
    assert misread_text(5, 100).startswith("5 of 100 runs misread: rate 5 % (95 % upper bound 10.")
    assert misread_text(0, 0) == "no valid runs: misread rate unknown"
    assert math.isnan(misread_bound(0, 0))
    assert np.isfinite(misread_bound(0, 1))
