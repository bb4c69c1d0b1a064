"""Tolerances as data and reproducible sampling (known answers by construction)."""

import math

import numpy as np
import pytest
from scipy import stats

from cpsim import ParameterError
from cpsim.sim.closed_form import diode_model
from cpsim.study.syntax import parse_tolerance
from cpsim.study.variations import (
    BLOCK,
    DEFAULT_TOLERANCES,
    PARAMETERS,
    Tolerance,
    diode_area_for_shift,
    nominal_forward_voltage_v,
    operating_current_a,
    resolve_tolerances,
    sample,
)


def test_tolerance_forms_and_bounds():
    assert Tolerance.rel("r1", 0.03).bounds(1000.0) == pytest.approx((970.0, 1030.0))
    assert Tolerance.rel("r1_ohm", 0.03).bounds() == pytest.approx((970.0, 1030.0))  # CpCircuit default
    assert Tolerance("v_high_v", 0.6).bounds() == pytest.approx((11.4, 12.6))
    assert Tolerance.between("cable_c_f", 0.0, 3.1e-9).bounds() == pytest.approx((0.0, 3.1e-9))
    assert Tolerance.fixed("diode_temp_c", 85.0).bounds() == (85.0, 85.0)
    assert Tolerance("duty", 0.0).dist == "fixed"  # zero width is fixed


@pytest.mark.parametrize("bad", [
    lambda: Tolerance("r_bogus", 0.1),
    lambda: Tolerance("r1_ohm", -0.1),
    lambda: Tolerance("r1_ohm", float("nan")),
    lambda: Tolerance("r1_ohm", 0.1, "triangular"),
    lambda: Tolerance.between("v_high_v", 13.0, 11.0),
])
def test_bad_tolerances_raise_parameter_error(bad):
    with pytest.raises(ParameterError):
        bad()


def test_default_tolerances_follow_pilot_reference_section_1():
    tols = {t.name: t for t in resolve_tolerances(state="C")}
    assert set(tols) == set(PARAMETERS)
    assert tols["v_high_v"].bounds() == pytest.approx((11.4, 12.6))
    assert tols["v_low_v"].bounds() == pytest.approx((-12.6, -11.4))
    for name, nominal in (("r1_ohm", 1000.0), ("r_detect_ohm", 2740.0), ("r_charge_ohm", 1300.0),
                          ("r_vent_ohm", 270.0)):
        assert tols[name].bounds() == pytest.approx((0.97 * nominal, 1.03 * nominal)), name
    assert tols["diode_dvf_v"].bounds() == pytest.approx((-0.15, 0.15))
    assert tols["cable_c_f"].bounds() == pytest.approx((0.0, 3.1e-9))
    assert all(t.dist in ("uniform", "fixed") for t in DEFAULT_TOLERANCES)
    assert all(t.source for t in DEFAULT_TOLERANCES if t.dist != "fixed")


def test_uniform_samples_stay_in_range():
    tols = [Tolerance.rel("r1_ohm", 0.03), Tolerance.between("cable_c_f", 0.0, 3.1e-9),
            Tolerance("v_high_v", 0.6)]
    s = sample("C", 200_000, tols, seed=11)
    for t in tols:
        lo, hi = t.bounds()
        assert s[t.name].min() >= lo and s[t.name].max() <= hi, t.name
        # and they fill it: the extremes of 2e5 uniform draws are within 1e-4 of the range ends
        assert s[t.name].min() - lo < 1e-4 * (hi - lo) and hi - s[t.name].max() < 1e-4 * (hi - lo)


def test_normal_sigma_is_a_third_of_the_tolerance():
    n = 200_000
    tol = Tolerance.rel("r_detect_ohm", 0.03, "normal")
    x = sample("B", n, [tol], seed=5)["r_detect_ohm"]
    sigma = 0.03 * 2740.0 / 3.0
    # (n-1) s^2 / sigma^2 follows chi2(n-1): a two-sided interval at p = 1e-9 cannot fail by chance
    q_lo, q_hi = stats.chi2.ppf([0.5e-9, 1 - 0.5e-9], n - 1)
    s2 = x.var(ddof=1)
    assert q_lo <= (n - 1) * s2 / sigma**2 <= q_hi
    assert abs(x.mean() - 2740.0) < 6.1 * sigma / math.sqrt(n)  # |z| < 6.1 <=> p ~ 1e-9
    # ±tol = ±3 sigma: 0.27 % of the draws fall outside ±tol
    outside = np.mean(np.abs(x - 2740.0) > 0.03 * 2740.0)
    assert outside == pytest.approx(2 * stats.norm.sf(3), abs=6 * math.sqrt(0.0027 / n))


def test_sampling_is_reproducible_and_independent_of_the_run_count():
    tols = resolve_tolerances(state="C")
    a = sample("C", 1000, tols, seed=3)
    b = sample("C", BLOCK + 500, tols, seed=3)
    c = sample("C", [999, 5, BLOCK + 7], tols, seed=3)
    for name in PARAMETERS:
        np.testing.assert_array_equal(a[name], b[name][:1000])
        np.testing.assert_array_equal(c[name][:2], a[name][[999, 5]])
        np.testing.assert_array_equal(c[name][2], b[name][BLOCK + 7])
    other = sample("C", 1000, tols, seed=4)
    assert not np.array_equal(a["r1_ohm"], other["r1_ohm"])


def test_changing_one_tolerance_keeps_the_other_draws():
    a = sample("C", 500, resolve_tolerances(state="C"), seed=9)
    b = sample("C", 500, resolve_tolerances([Tolerance.rel("r1_ohm", 0.01, "normal")], state="C"), seed=9)
    assert not np.array_equal(a["r1_ohm"], b["r1_ohm"])
    for name in ("v_high_v", "r_detect_ohm", "r_charge_ohm", "cable_c_f", "duty"):
        np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.parametrize("state", ["B", "C", "D"])
def test_diode_area_moves_the_forward_voltage_by_the_shift(state):
    d = diode_model()
    i_ref = operating_current_a(state)
    dvf = np.linspace(-0.3, 0.3, 61)
    area = diode_area_for_shift(dvf, i_ref)
    shift = d.forward_voltage_v(i_ref, 27.0, area) - d.forward_voltage_v(i_ref, 27.0, 1.0)
    np.testing.assert_allclose(shift, dvf, atol=1e-9)
    assert np.all(np.diff(area) < 0)  # more drop = smaller junction
    # without RS the map is exp(-dVf / (n Vt)); RS, scaled by 1/area, adds drop of its own, so a
    # smaller shrink gives the same +dVf
    nvt = d.n * 1.38064852e-23 * 300.15 / 1.6021766208e-19
    assert area[-1] > 5 * math.exp(-0.3 / nvt)


def test_forward_voltage_tolerance_is_converted_for_the_state():
    vf0 = nominal_forward_voltage_v("C")
    assert 0.68 < vf0 < 0.72  # the 1N4148 model gives PLNOTE's 0.7 V at state C's 6 mA
    (t,) = [t for t in resolve_tolerances([Tolerance.between("diode_vf_v", 0.55, 0.85)], state="C")
            if t.name == "diode_dvf_v"]
    assert t.bounds() == pytest.approx((0.55 - vf0, 0.85 - vf0))
    with pytest.raises(ParameterError):
        resolve_tolerances([Tolerance.between("diode_vf_v", 0.55, 0.85)])


@pytest.mark.parametrize("text, name, bounds, dist", [
    ("r1=0.03", "r1_ohm", (970.0, 1030.0), "uniform"),
    ("r1=3%", "r1_ohm", (970.0, 1030.0), "uniform"),
    ("r_detect=0.01,normal", "r_detect_ohm", (2712.6, 2767.4), "normal"),
    ("v_high=0.6", "v_high_v", (11.4, 12.6), "uniform"),
    ("cable_c_f=0:3.1n", "cable_c_f", (0.0, 3.1e-9), "uniform"),
    ("temp=-40:85", "diode_temp_c", (-40.0, 85.0), "uniform"),
    ("frequency=0.02", "frequency_hz", (980.0, 1020.0), "uniform"),
    ("duty=fixed@0.5", "duty", (0.5, 0.5), "fixed"),
    ("rise=fixed", "rise_time_s", (1e-6, 1e-6), "fixed"),
])
def test_parse_tolerance(text, name, bounds, dist):
    t = parse_tolerance(text)
    assert (t.name, t.dist) == (name, dist)
    assert t.bounds() == pytest.approx(bounds)


@pytest.mark.parametrize("text", ["r1", "r1=", "bogus=0.1", "r1=abc", "r1=0.1,triangular", "temp=85:-40",
                                  "r1=1k\n.control"])
def test_parse_tolerance_rejects_bad_text(text):
    with pytest.raises(ParameterError):
        parse_tolerance(text)


def test_bad_seed_is_a_parameter_error():
    for seed in (-1, 1.5, "1", True, 2**63):
        with pytest.raises(ParameterError):
            sample("C", 10, DEFAULT_TOLERANCES, seed)
