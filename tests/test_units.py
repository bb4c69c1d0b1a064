import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpsim import ParameterError
from cpsim.units import check_number, format_spice_number, parse_spice_number


@pytest.mark.parametrize(
    "text, value",
    [("2.74k", 2740.0), ("1meg", 1e6), ("1M", 1e-3), ("1m", 1e-3), ("300p", 3e-10), ("10uF", 1e-5),
     ("1e-6", 1e-6), ("-12", -12.0), (".5", 0.5), ("4.7n", 4.7e-9), ("1G", 1e9), ("2T", 2e12), ("15f", 15e-15)],
)
def test_parse_spice_suffixes(text, value):
    assert parse_spice_number(text) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(
    "bad", ["", "k", "1k\n.control\nshell touch /tmp/x", "1k 2k", "nan", "inf", "1k;", "{r1}", "1,5k", None, True]
)
def test_parse_refuses_anything_else(bad):
    with pytest.raises(ParameterError):
        parse_spice_number(bad)


@given(st.floats(min_value=-1e14, max_value=1e14, allow_nan=False).filter(lambda x: x == 0 or abs(x) > 1e-16))
def test_format_then_parse_round_trips(x):
    assert parse_spice_number(format_spice_number(x, digits=15)) == pytest.approx(x, rel=1e-13, abs=1e-300)


def test_format_uses_largest_suffix():
    assert format_spice_number(2740.0) == "2.74k"
    assert format_spice_number(1e6) == "1meg"
    assert format_spice_number(3e-10) == "300p"
    assert format_spice_number(1e-3) == "1m"


def test_check_number_names_the_parameter_and_range():
    with pytest.raises(ParameterError, match=r"r1_ohm must be >= 1"):
        check_number("r1_ohm", 0.5, lo=1)
    with pytest.raises(ParameterError, match="duty"):
        check_number("duty", math.nan)
    assert check_number("r", "2.2k", lo=0) == 2200.0
