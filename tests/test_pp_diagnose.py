"""cpsim.diagnose_pp and `cpsim pp diagnose`: readings in, a stable code and one-line verdict out."""

import json
import math
import subprocess
import sys

import pytest

from cpsim import ParameterError, diagnose_pp
from cpsim.diagnose.pp import PP1_OPEN_MIN_OHM, PPDiagnosis, resistance_window


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
    # was dict(rc_ohm=680.0): issue 12 makes a lone rc_ohm imply Type 2; an explicit type1 still refuses it
    (dict(connector="type1", rc_ohm=680.0), "Type 2"),
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
    (["--released-ohm", "-5"], "--released-ohm"),   # the CLI names its flag, not the parameter
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


# --- issue 12: one verdict both ways, open is open, the connector from the readings, a next step ----------

def _t1_v(r_ohm):
    """V(PP) at the J1772 inlet (330 Ω to 5 V, 2.7 kΩ to ground, PLC/MS) with the plug's PP-PE resistance."""
    r_par = 2700.0 if math.isinf(r_ohm) else 2700.0 * r_ohm / (2700.0 + r_ohm)
    return 5.0 * r_par / (330.0 + r_par)


def _t2_v(rc_ohm, supply_v=5.0):
    return supply_v if math.isinf(rc_ohm) else supply_v * rc_ohm / (1000.0 + rc_ohm)


def _t1_r(v):
    """The plug's PP-PE resistance implied by V(PP) at the inlet (inverse of _t1_v)."""
    if v >= _t1_v(math.inf):
        return math.inf
    if v <= 0:
        return 0.0
    r_par = 330.0 * v / (5.0 - v)
    return 1.0 / (1.0 / r_par - 1.0 / 2700.0)


def test_v_pp_1_v_and_85_ohm_get_the_same_code():
    # reported: --v-pp 1.0 said ok (≈ 85 Ω) while --released-ohm 85 said off_nominal
    by_v = diagnose_pp("type1", v_pp=1.0)
    by_r = diagnose_pp(released_ohm=85.0)
    assert by_v.readings_ohm["released"] == pytest.approx(_t1_r(1.0))
    assert by_r.code == "off_nominal"
    assert by_v.code == by_r.code


@pytest.mark.parametrize("v", [4.455, 4.44, 4.5, 4.9, 5.0])
def test_open_circuit_is_called_open(v):
    # reported: --v-pp 4.9 blamed a damaged resistor for an open circuit
    d = diagnose_pp("type1", v_pp=v)
    assert d.code == "r6_open", d.verdict
    assert "no plug detected" in d.verdict and "PP open" in d.verdict
    assert "damaged" not in d.verdict
    assert d.readings_ohm["released"] >= PP1_OPEN_MIN_OHM


def test_above_the_open_level_says_the_inlet_differs():
    d = diagnose_pp("type1", v_pp=4.9)
    assert any("above the 4.455 V" in n for n in d.notes), d.notes
    assert not any("above" in n for n in diagnose_pp("type1", v_pp=4.455).notes)


def test_type1_voltage_above_the_supply_is_refused():
    with pytest.raises(ParameterError, match="above the 5 V supply"):
        diagnose_pp("type1", v_pp=6.0)


@pytest.mark.parametrize("kwargs, rc", [(dict(rc_ohm=690.0), 690.0), (dict(v_pp=2.02), 1000 * 2.02 / 2.98),
                                        (dict(v_pp=0.455), 1000 * 0.455 / 4.545),
                                        (dict(v_pp=1.336, supply_v=3.3), 1000 * 1.336 / 1.964)])
def test_type2_only_readings_imply_type2(kwargs, rc):
    # reported: --v-pp 2.02 or --rc-ohm 690 without --connector judged as Type 1 (or refused)
    d = diagnose_pp(**kwargs)
    assert d.connector == "type2" and d.code == "ok", d.verdict
    assert d.readings_ohm["rc"] == pytest.approx(rc)
    explicit = diagnose_pp("type2", **kwargs).to_dict()
    assert {k: v for k, v in d.to_dict().items() if k != "notes"} == {k: v for k, v in explicit.items()
                                                                      if k != "notes"}


@pytest.mark.parametrize("v, connector", [(1.505, "type1"), (2.763, "type1"), (4.455, "type1"), (4.9, "type1"),
                                          (0.902, "type2"), (2.024, "type2"), (3.0, "type2")])
def test_unambiguous_voltage_infers_the_connector(v, connector):
    d = diagnose_pp(v_pp=v)
    assert d.connector == connector
    assert d.code == diagnose_pp(connector, v_pp=v).code
    assert any("inferred" in n for n in d.notes)


@pytest.mark.parametrize("v", [1.0, 2.3, 5.0, 0.0, 0.01])
def test_ambiguous_voltage_is_refused(v):
    # 1.0 / 2.3 V fit no condition of either circuit; 5.0 V is open for both; 0 V is a short for both
    with pytest.raises(ParameterError, match=r"give --connector type1\|type2"):
        diagnose_pp(v_pp=v)


def test_explicit_type1_still_judges_a_type2_like_voltage():
    d = diagnose_pp("type1", v_pp=2.02)
    assert d.connector == "type1" and d.code == "off_nominal"
    assert d.readings_ohm["released"] == pytest.approx(_t1_r(2.02))


def _codes_over(route, lo, hi, n=60):
    """Codes of the resistance route over [lo, hi] (log-spaced probes)."""
    import numpy as np

    if math.isinf(hi):
        probes = [*np.geomspace(max(lo, 1e-3), 1e7, n), math.inf]
    else:
        probes = np.geomspace(max(lo, 1e-3), hi, n)
    return {route(float(r)) for r in probes}


def _voltage_span(v, r_of_v):
    from cpsim.diagnose.pp import VOLT_METER_ABS_V, VOLT_METER_TOL

    u = VOLT_METER_TOL * v + VOLT_METER_ABS_V
    return r_of_v(max(v - u, 0.0)), r_of_v(v + u)


R_GRID = [0.0, 0.5, *[float(r) for r in __import__("numpy").geomspace(2.0, 2e6, 300)], math.inf]


@pytest.mark.parametrize("which", ["released", "pressed"])
def test_property_type1_voltage_and_resistance_agree(which):
    ohm_key, v_key = (("released_ohm", "v_pp") if which == "released" else ("pressed_ohm", "v_pp_pressed"))
    decided = 0
    for r in R_GRID:
        by_r = diagnose_pp("type1", **{ohm_key: r}).code
        v = _t1_v(r)
        by_v = diagnose_pp("type1", **{v_key: v})
        lo, hi = _voltage_span(v, _t1_r)
        around = _codes_over(lambda x: diagnose_pp("type1", **{ohm_key: x}).code, lo, hi)
        if len(around) == 1:           # away from every edge: the same code, decided
            assert by_v.code == by_r, (r, v, by_v.verdict)
            decided += 1
        else:                          # near an edge: the voltage route says so and never contradicts
            assert by_v.code in ("inconclusive", by_r), (r, v, by_v.verdict)
            if by_v.code == "inconclusive":
                assert by_r in by_v.candidates and set(by_v.candidates) <= around, (r, by_v.candidates)
    assert decided > 0.8 * len(R_GRID)


def test_property_type1_pairs_agree():
    grid = [0.0, 20.0, 85.0, 150.0, 157.0, 160.0, 300.0, 480.0, 499.0, 505.0, 2000.0, 6000.0, 1e6, math.inf]
    for r1 in grid:
        for r2 in grid:
            by_r = diagnose_pp(released_ohm=r1, pressed_ohm=r2).code
            by_v = diagnose_pp(v_pp=_t1_v(r1), v_pp_pressed=_t1_v(r2))
            assert by_v.code == by_r or (by_v.code == "inconclusive" and by_r in by_v.candidates), \
                (r1, r2, by_v.verdict)


@pytest.mark.parametrize("bands", ["iec2010", "everest"])
@pytest.mark.parametrize("supply_v", [5.0, 3.3])
def test_property_type2_voltage_and_resistance_agree(bands, supply_v):
    def route(rc):
        d = diagnose_pp("type2", rc_ohm=rc, bands=bands)
        return d.code, d.cable_rating_a

    def r_of_v(v):
        return math.inf if v >= supply_v else 1000.0 * v / (supply_v - v)

    decided = 0
    for rc in R_GRID:
        v = _t2_v(rc, supply_v)
        by_v = diagnose_pp("type2", v_pp=v, supply_v=supply_v, bands=bands)
        lo, hi = _voltage_span(v, r_of_v)
        around = _codes_over(route, lo, hi)
        if len(around) == 1:
            assert (by_v.code, by_v.cable_rating_a) == route(rc), (rc, v, by_v.verdict)
            decided += 1
        else:
            assert by_v.code == "inconclusive" or (by_v.code, by_v.cable_rating_a) == route(rc), (rc, by_v.verdict)
    assert decided > 0.8 * len(R_GRID)


def test_near_an_edge_the_voltage_route_says_so():
    # 158 Ω is the top of the 150 Ω window; V(158 Ω) ± the voltmeter allowance straddles it
    d = diagnose_pp("type1", v_pp=_t1_v(158.0))
    assert d.code == "inconclusive"
    assert set(d.candidates) == {"ok", "off_nominal"}
    assert "158 Ω" in d.verdict and "ohmmeter" in d.next_step
    assert not d.ok


NEXT_STEPS = [
    (dict(released_ohm=482, pressed_ohm=483), "replace the S3 release microswitch"),
    (dict(released_ohm=150, pressed_ohm=150), "replace the S3 release microswitch"),
    (dict(released_ohm=150, pressed_ohm=math.inf), "R7"),
    (dict(released_ohm=math.inf, pressed_ohm=math.inf), "check the PP pin and the cable's PP core for an open circuit"),
    (dict(connector="type1", v_pp=4.455), "check the PP pin and the cable's PP core for an open circuit"),
    (dict(released_ohm=0.1), "short"),
    (dict(released_ohm=200.0, pressed_ohm=480.0), "R6"),
    (dict(pressed_ohm=math.inf), "measure again with the button released"),
    (dict(connector="type2", rc_ohm=5600.0), "the cable coding resistor is out of every band: replace the cable"),
    (dict(connector="type2", rc_ohm=400.0), "replace the cable"),
    (dict(connector="type2", rc_ohm=math.inf), "check the PP pin and the cable's PP core for an open circuit"),
    (dict(connector="type2", rc_ohm=0.01), "short"),
]


@pytest.mark.parametrize("kwargs, needle", NEXT_STEPS)
def test_every_fault_says_what_to_do_next(kwargs, needle):
    d = diagnose_pp(**kwargs)
    assert d.code not in ("ok", "inconclusive")
    assert needle in d.next_step, d.next_step
    assert d.to_dict()["next_step"] == d.next_step


def test_ok_next_step_is_present_too():
    assert diagnose_pp(released_ohm=150, pressed_ohm=480).next_step
    assert "pressed" in diagnose_pp(released_ohm=150).next_step


def test_cli_reported_cases():
    r = _cli("pp", "diagnose", "--connector", "type1", "--v-pp", "1.0")
    assert r.returncode == 0 and r.stdout.startswith("off_nominal: "), r.stdout + r.stderr
    r = _cli("pp", "diagnose", "--v-pp", "1.0")
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "give --connector type1|type2" in lines[0], r.stderr
    r = _cli("pp", "diagnose", "--v-pp", "4.9")
    assert r.returncode == 0 and r.stdout.startswith("r6_open: PP open (no plug detected)"), r.stdout + r.stderr
    for args in (["--v-pp", "2.02"], ["--rc-ohm", "690"]):
        r = _cli("pp", "diagnose", *args, "--json")
        d = json.loads(r.stdout)
        assert (d["connector"], d["code"], d["cable_rating_a"]) == ("type2", "ok", 20), d
        assert d["next_step"]
    r = _cli("pp", "diagnose", "--released-ohm", "482", "--pressed-ohm", "483")
    assert any(line.startswith("  next step: replace the S3 release microswitch") for line in r.stdout.splitlines())
