"""Issue 13, case 2: tolerances that cannot be silently wrong (round trip, physical domain, CLI units)."""

import math
import subprocess
import sys

import pandas as pd
import pytest

from cpsim import ParameterError
from cpsim.study.syntax import parse_tolerance
from cpsim.study.variations import DEFAULT_TOLERANCES, Tolerance


def cpsim(*args):
    return subprocess.run([sys.executable, "-m", "cpsim.cli", *args], capture_output=True, text=True, timeout=300)


def test_the_table_round_trips_with_every_field(tmp_path):
    table = Tolerance.to_frame(DEFAULT_TOLERANCES)
    assert list(table.columns) == ["name", "tol", "dist", "relative", "nominal", "source"]
    assert Tolerance.from_frame(table) == DEFAULT_TOLERANCES
    path = tmp_path / "tolerances.csv"  # and through a file a user edits
    table.to_csv(path, index=False)
    assert Tolerance.from_frame(pd.read_csv(path)) == DEFAULT_TOLERANCES
    # the notebook's edit: a wider vehicle resistor; the cable keeps its 0…3100 pF range
    table.loc[table.name == "r_charge_ohm", "tol"] = 0.05
    edited = {t.name: t for t in Tolerance.from_frame(table)}
    assert edited["r_charge_ohm"].bounds() == pytest.approx((1235.0, 1365.0))
    assert edited["cable_c_f"].bounds() == pytest.approx((0.0, 3.1e-9))


def test_from_frame_names_a_missing_column():
    with pytest.raises(ParameterError, match="nominal"):
        Tolerance.from_frame(Tolerance.to_frame(DEFAULT_TOLERANCES).drop(columns=["nominal"]))


def test_the_notebooks_old_rebuild_is_refused():
    # rebuilt without its nominal, the 0…3100 pF cable becomes 1000 pF ± 1550 pF: -550…2550 pF
    with pytest.raises(ParameterError) as err:
        Tolerance("cable_c_f", 1.55e-9, "uniform", False)
    text = str(err.value)
    assert "cable_c_f" in text and "-550" in text and "2550 pF" in text


@pytest.mark.parametrize("make, words", [
    (lambda: Tolerance.fixed("r1_ohm", -5.0), ("r1_ohm", "-5")),
    (lambda: Tolerance.between("cable_c_f", 0.0, 3100.0), ("cable_c_f", "3100")),
    (lambda: Tolerance.rel("r_charge_ohm", 1.5), ("r_charge_ohm", "-650")),
    (lambda: Tolerance("duty", 0.3), ("duty", "-5")),
])
def test_a_range_outside_the_physical_domain_is_refused(make, words):
    with pytest.raises(ParameterError) as err:
        make()
    for word in words:
        assert word in str(err.value), (word, str(err.value))


@pytest.mark.parametrize("text, name, bounds", [
    ("cable_c=0:3100p", "cable_c_f", (0.0, 3.1e-9)),
    ("cable_c=0:3100pF", "cable_c_f", (0.0, 3.1e-9)),
    ("cable_c_f=0:3.1nF", "cable_c_f", (0.0, 3.1e-9)),
    ("r1=3%", "r1_ohm", (970.0, 1030.0)),
    ("r1=30ohm", "r1_ohm", (970.0, 1030.0)),
    ("r1=30Ω", "r1_ohm", (970.0, 1030.0)),
    ("r1=970:1.03k", "r1_ohm", (970.0, 1030.0)),
    ("v_high=0.6V", "v_high_v", (11.4, 12.6)),
    ("duty=2.5pp", "duty", (0.225, 0.275)),
    ("rise=1us:2us", "rise_time_s", (1e-6, 2e-6)),
    ("frequency=995Hz:1005Hz", "frequency_hz", (995.0, 1005.0)),
])
def test_cli_syntax_accepts_units(text, name, bounds):
    t = parse_tolerance(text)
    assert t.name == name
    assert t.bounds() == pytest.approx(bounds)


@pytest.mark.parametrize("text, hint", [
    ("cable_c=0:3100", "did you mean 0:3100p"),
    ("cable_c=0:3100F", "did you mean 0:3100p"),
    ("rise=1:2", "did you mean 1u:2u"),
    ("duty=2.5%", "2.5pp"),
])
def test_cli_syntax_refuses_the_ambiguous(text, hint):
    with pytest.raises(ParameterError) as err:
        parse_tolerance(text)
    assert hint in str(err.value), str(err.value)


@pytest.mark.parametrize("spec, words", [
    ("cable_c=0:3100", ("cable_c_f", "did you mean 0:3100p")),
    ("r1=fixed@-5", ("r1_ohm", "-5")),
])
def test_cli_refuses_a_bad_tolerance_in_one_line(spec, words):
    r = cpsim("montecarlo", "--tolerance", spec, "--runs", "100", "--no-progress")
    assert r.returncode == 2, r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cpsim: error:")
    for word in words:
        assert word in lines[0], lines[0]


def test_describe_says_it_as_the_user_gave_it():
    d = {t.name: t.describe() for t in DEFAULT_TOLERANCES}
    assert d["cable_c_f"] == "cable_c_f uniform 0…3100 pF"
    assert d["duty"] == "duty uniform ±2.5 %-points"
    assert d["r1_ohm"] == "r1_ohm uniform ±3 %"
    assert d["v_high_v"] == "v_high_v uniform ±0.6 V"
    assert d["diode_temp_c"] == "diode_temp_c fixed"
    assert Tolerance.between("rise_time_s", 1e-6, 2e-6, "normal").describe() == "rise_time_s normal 1…2 µs (±3σ)"
    assert not math.isnan(Tolerance.between("cable_c_f", 0, 3.1e-9).bounds()[1])
