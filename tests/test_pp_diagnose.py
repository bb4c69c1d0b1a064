"""cpsim.diagnose_pp and `cpsim pp diagnose`: readings in, a stable code and one-line verdict out."""

import json
import math
import subprocess
import sys

import pytest

from cpsim import ParameterError, diagnose_pp
from cpsim.diagnose.pp import PPDiagnosis, resistance_window


def test_tolerance_window_is_parts_plus_meter():
    # ±3 % part (SIE) + 1 % meter + 2 Ω leads: 150 Ω -> 142..158 Ω, 480 Ω -> 458.8..501.2 Ω
    assert resistance_window(150.0) == pytest.approx((142.0, 158.0))
    assert resistance_window(480.0) == pytest.approx((458.8, 501.2))


@pytest.mark.parametrize("released, pressed, code", [
    (150.0, 480.0, "ok"),
    (143.0, 500.0, "ok"),
    (482.0, 483.0, "s3_stuck_open"),
    (150.0, 150.0, "s3_stuck_closed"),
    (150.0, math.inf, "r7_open"),
    (math.inf, math.inf, "r6_open"),
    (200e3, 1e6, "r6_open"),
    (0.3, 0.3, "pp_shorted"),
    (0.0, 480.0, "pp_shorted"),
    (150.0, 68.0, "off_nominal"),
    (200.0, 480.0, "off_nominal"),
    (480.0, 150.0, "off_nominal"),
    (141.0, 480.0, "off_nominal"),
    (150.0, None, "ok"),
    (480.0, None, "s3_stuck_open"),
    (math.inf, None, "r6_open"),
    (None, 480.0, "ok"),
    (None, 150.0, "s3_stuck_closed"),
    (None, math.inf, "open_circuit"),
])
def test_type1_resistances(released, pressed, code):
    d = diagnose_pp(released_ohm=released, pressed_ohm=pressed)
    assert isinstance(d, PPDiagnosis)
    assert d.code == code, d.verdict
    assert d.connector == "type1" and d.cable_rating_a is None
    assert "\n" not in d.verdict and "expected" in d.verdict


def test_stuck_button_verdict():
    d = diagnose_pp(released_ohm=482, pressed_ohm=483)
    assert d.code == "s3_stuck_open"
    assert d.verdict.startswith("release button reads pressed all the time: the latch switch S3 is stuck open")
    assert d.verdict.endswith("expected ≈ 150 Ω released, ≈ 480 Ω pressed")
    assert d.measured == "482 Ω released, 483 Ω pressed"
    assert dict(d.readings_ohm) == {"released": 482.0, "pressed": 483.0}


@pytest.mark.parametrize("v_rel, v_pre, code", [
    (1.505, 2.763, "ok"),           # §8 calc; MS measures 1.53 / 2.77 V
    (1.53, 2.77, "ok"),
    (2.763, 2.763, "s3_stuck_open"),
    (1.505, 1.505, "s3_stuck_closed"),
    (1.505, 4.455, "r7_open"),
    (4.455, 4.455, "r6_open"),
    (0.01, 0.01, "pp_shorted"),
    (2.0, 2.763, "off_nominal"),    # between RTH's latched (0.80-1.72 V) and pressed (2.51-3.01 V) windows
    (2.76, None, "s3_stuck_open"),
])
def test_type1_voltages(v_rel, v_pre, code):
    d = diagnose_pp(v_pp=v_rel, v_pp_pressed=v_pre)
    assert d.code == code, d.verdict


def test_type1_voltage_gives_the_implied_resistance():
    d = diagnose_pp(v_pp=1.505, v_pp_pressed=2.763)
    assert d.readings_ohm["released"] == pytest.approx(150.0, rel=2e-3)
    assert d.readings_ohm["pressed"] == pytest.approx(480.0, rel=2e-3)
    assert math.isinf(diagnose_pp(v_pp=4.455).readings_ohm["released"])


@pytest.mark.parametrize("rc, bands, code, amps", [
    (690.0, "iec2010", "ok", 20),
    (690.0, "everest", "ok", 20),
    (100.0, "iec2010", "ok", 63),
    (220.0, "everest", "ok", 32),
    (1500.0, "iec2010", "ok", 13),
    (400.0, "iec2010", "rc_off_nominal", 20),
    (350.0, "everest", "rc_off_nominal", 20),   # between 308 and 400 Ω: the lower ampacity (EV-BU)
    (1000.0, "everest", "rc_off_nominal", 13),  # between 936 and 1100 Ω
    (2400.0, "iec2010", "rc_out_of_band", 0),   # > 2200 Ω (PHX)
    (2400.0, "everest", "rc_off_nominal", 13),  # EVerest accepts 13 A up to 2460 Ω
    (50.0, "iec2010", "rc_out_of_band", 0),
    (5600.0, "everest", "rc_out_of_band", 0),
    (math.inf, "iec2010", "rc_open", 0),
    (0.05, "iec2010", "rc_shorted", 0),
])
def test_type2_resistances(rc, bands, code, amps):
    d = diagnose_pp("type2", rc_ohm=rc, bands=bands)
    assert (d.code, d.cable_rating_a, d.bands) == (code, amps, bands), d.verdict


@pytest.mark.parametrize("v, supply, rc", [(2.024, 5.0, 680.0), (0.300, 3.3, 100.0), (1.980, 3.3, 1500.0)])
def test_type2_voltage(v, supply, rc):
    d = diagnose_pp("type2", v_pp=v, supply_v=supply)
    assert d.readings_ohm["rc"] == pytest.approx(rc, rel=3e-3)
    assert d.code == "ok"


def test_to_dict_is_json_ready():
    d = diagnose_pp(released_ohm=150, pressed_ohm=math.inf).to_dict()
    assert d["code"] == "r7_open" and d["readings_ohm"]["pressed"] is None
    json.dumps(d, allow_nan=False)


@pytest.mark.parametrize("kwargs, match", [
    (dict(released_ohm=-5.0), "released_ohm"),
    (dict(pressed_ohm=float("nan")), "pressed_ohm"),
    (dict(released_ohm="1k\n.op"), "released_ohm"),
    (dict(), "nothing to diagnose"),
    (dict(released_ohm=150.0, v_pp=1.5), "not both"),
    (dict(rc_ohm=680.0), "Type 2"),
    (dict(released_ohm=150.0, supply_v=5.0), "type2 only"),
    (dict(connector="type3", released_ohm=150.0), "connector"),
    (dict(connector="type2", released_ohm=150.0), "Type 1"),
    (dict(connector="type2"), "exactly one"),
    (dict(connector="type2", rc_ohm=680.0, v_pp=2.0), "exactly one"),
    (dict(connector="type2", rc_ohm=680.0, bands="sae"), "bands"),
    (dict(connector="type2", rc_ohm=680.0, supply_v=3.3), "not used"),
    (dict(connector="type2", v_pp=4.0, supply_v=3.3), "above"),
    (dict(v_pp=-1.0), "v_pp"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        diagnose_pp(**kwargs)


# --- CLI ---------------------------------------------------------------------------------------

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "cpsim.cli", *args], capture_output=True, text=True, timeout=120)


def test_cli_stuck_button():
    r = _cli("pp", "diagnose", "--released-ohm", "482", "--pressed-ohm", "483")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == ("s3_stuck_open: release button reads pressed all the time: the latch switch S3 is stuck "
                        "open (or the latch does not drop home); expected ≈ 150 Ω released, ≈ 480 Ω pressed")
    assert lines[1] == "  measured: 482 Ω released, 483 Ω pressed"


def test_cli_json_type2():
    r = _cli("pp", "diagnose", "--connector", "type2", "--rc-ohm", "690", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert {"code", "verdict", "expected", "measured"} <= set(d)
    assert d["code"] == "ok" and d["cable_rating_a"] == 20 and d["bands"] == "iec2010"


def test_cli_bands_and_open():
    r = _cli("pp", "diagnose", "--connector", "type2", "--rc-ohm", "1k", "--bands", "everest", "--json")
    assert json.loads(r.stdout)["cable_rating_a"] == 13
    r = _cli("pp", "diagnose", "--released-ohm", "OL", "--pressed-ohm", "open", "--json")
    assert json.loads(r.stdout)["code"] == "r6_open"
    r = _cli("pp", "diagnose", "--v-pp", "2.763", "--v-pp-pressed", "2.763")
    assert r.stdout.startswith("s3_stuck_open: ")


@pytest.mark.parametrize("args, needle", [
    (["--released-ohm", "-5"], "released_ohm"),
    (["--released-ohm", "150", "--v-pp", "1.5"], "not both"),
    (["--connector", "type2", "--released-ohm", "150"], "Type 1"),
    (["--released-ohm", "abc"], "released-ohm"),
    ([], "nothing to diagnose"),
])
def test_cli_errors_are_one_line_exit_2(args, needle):
    r = _cli("pp", "diagnose", *args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("rc_ohm, rating", [(50.0, 0), (70.0, 63), (150.0, 32), (3000.0, 13), (4500.0, 13),
                                            (4600.0, 0)])
def test_everest_bands_apply_their_own_error_and_none_limits(rc_ohm, rating):
    # EV-BU: only < 60 Ω and > 4500 Ω mean no cable; between bands the lower ampacity
    from cpsim.standard import RC_BANDS_EVEREST

    assert RC_BANDS_EVEREST.rating(rc_ohm) == rating
    assert (diagnose_pp(connector="type2", rc_ohm=rc_ohm, bands="everest").cable_rating_a or 0) == rating
