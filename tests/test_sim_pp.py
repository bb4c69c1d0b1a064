"""PP simulations against the divider formulas and PILOT-REFERENCE §4, §5, §8."""

import pytest

from cpsim import ParameterError
from cpsim.sim.pp import simulate_pp


def _divider(v, r_top, r_bottom):
    return v * r_bottom / (r_top + r_bottom)


def _par(a, b):
    return a * b / (a + b)


@pytest.mark.parametrize(
    "condition, r_plug, published",
    [("unplugged", None, 4.455), ("latched", 150.0, 1.505), ("pressed", 480.0, 2.763)],
)
def test_type1_levels(ngspice, condition, r_plug, published):
    result = simulate_pp("type1", condition=condition)
    bottom = 2700.0 if r_plug is None else _par(2700.0, r_plug)
    assert result.v_pp == pytest.approx(_divider(5.0, 330.0, bottom), abs=1e-4)
    assert result.v_pp == pytest.approx(published, abs=2e-3)  # PILOT-REFERENCE §8 (calc), MS measures ±0.03 V


def test_type1_pressed_is_480_not_68_ohm(ngspice):
    # PILOT-REFERENCE §7.1: the "68 Ω" of popular articles is wrong; 150 + 330 = 480 Ω.
    pressed = simulate_pp("type1", condition="pressed")
    assert pressed.r_pp_pe_ohm == pytest.approx(480.0, abs=0.1)
    assert 2.51 <= pressed.v_pp <= 3.01  # RTH "pressed" window


@pytest.mark.parametrize(
    "rc, rating, v5, v33",
    [(100.0, 63, 0.455, 0.300), (220.0, 32, 0.902, 0.595), (680.0, 20, 2.024, 1.336), (1500.0, 13, 3.000, 1.980)],
)
def test_type2_coding(ngspice, rc, rating, v5, v33):
    r5 = simulate_pp("type2", rc_ohm=rc)
    r33 = simulate_pp("type2", rc_ohm=rc, supply_v=3.3)
    assert r5.v_pp == pytest.approx(v5, abs=1e-3)
    assert r33.v_pp == pytest.approx(v33, abs=1e-3)
    assert r5.cable_rating_a == rating
    assert simulate_pp("type2", rc_ohm=rc, bands="everest").cable_rating_a == rating


def test_type2_out_of_band_and_unplugged(ngspice):
    assert simulate_pp("type2", rc_ohm=50.0).cable_rating_a == 0  # < 75 Ω: error (PHX)
    assert simulate_pp("type2", rc_ohm=3000.0).cable_rating_a == 0  # > 2200 Ω: no cable (PHX)
    open_ = simulate_pp("type2", condition="unplugged")
    assert open_.v_pp == pytest.approx(5.0, abs=1e-6) and open_.cable_rating_a == 0


@pytest.mark.parametrize(
    "kwargs",
    [dict(connector="type3"), dict(condition="half"), dict(connector="type2", rc_ohm=-1.0),
     dict(connector="type2", bands="other"), dict(supply_v=float("nan")), dict(connector="type2", rc_ohm="1k\n.op")],
)
def test_bad_pp_parameters(kwargs):
    with pytest.raises(ParameterError):
        simulate_pp(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(connector="type1", rc_ohm=100.0), "rc_ohm applies only to a type2"),
    (dict(connector="type1", bands="everest"), "bands"),
    (dict(connector="type2", r6_ohm=150.0), "r6_ohm"),
    (dict(connector="type2", condition="unplugged", rc_ohm=100.0), "no plug"),
    (dict(connector="type1", condition="unplugged", r7_ohm=330.0), "no plug"),
])
def test_contradictory_arguments_are_refused_not_ignored(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        simulate_pp(**kwargs)
