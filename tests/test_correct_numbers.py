"""PILOT-REFERENCE §7: claims popular articles get wrong, pinned to the right values through cpsim's API.

Each test names the wrong claim and checks what cpsim says instead, where possible by two routes
(a table in cpsim.standard and a simulation, or a simulation and the diagnosis).
"""

import math

import pytest

import cpsim
from cpsim import analyze, diagnose_pp
from cpsim.diagnose.cp import detect_cp_faults
from cpsim.sim import simulate_cp
from cpsim.sim.pp import simulate_pp
from cpsim.standard import R_VENT_OHM, current_from_duty, duty_from_current


# §7.1 "the J1772 release button gives 68 Ω": it is 150 Ω latched, 480 Ω (150 + 330 Ω) pressed.
def test_release_button_is_480_ohm_not_68(ngspice):
    latched = simulate_pp("type1", condition="latched")
    pressed = simulate_pp("type1", condition="pressed")
    assert latched.r_pp_pe_ohm == pytest.approx(150.0, abs=0.1)
    assert pressed.r_pp_pe_ohm == pytest.approx(480.0, abs=0.1)   # not 68 Ω, nor StackExchange's "450 Ω"
    assert latched.v_pp == pytest.approx(1.505, abs=2e-3)        # §8; MS measures 1.53 V
    assert pressed.v_pp == pytest.approx(2.763, abs=2e-3)        # §8; MS measures 2.77 V
    assert diagnose_pp(released_ohm=150, pressed_ohm=480).code == "ok"
    assert diagnose_pp(released_ohm=150, pressed_ohm=68).code == "off_nominal"
    assert diagnose_pp(released_ohm=150, pressed_ohm=450).code == "off_nominal"


# §7.2 "90 % PWM flags a fast-charge option": 90 % offers (90 - 64) * 2.5 = 65 A, nothing special.
def test_90_percent_duty_is_65_a(ngspice):
    current, digital = current_from_duty(0.90)
    assert float(current) == pytest.approx(65.0) and not bool(digital)
    assert duty_from_current(65.0) == pytest.approx(0.90)
    m = analyze(simulate_cp("C", duty=0.90, periods=10))
    assert m.state == "C2"
    assert m.duty == pytest.approx(0.90, abs=0.002)
    assert m.current_a == pytest.approx(65.0, abs=0.5)


# §7.3 OE-KB's table "10-96 %: 6-80 A, > 96 % error" leaves out 8-10 % -> 6 A and 96-97 % -> 80 A.
@pytest.mark.parametrize("duty, amps", [(0.08, 6.0), (0.09, 6.0), (0.0999, 6.0), (0.10, 6.0), (0.85, 51.0),
                                        (0.96, 80.0), (0.965, 80.0), (0.97, 80.0)])
def test_duty_bands_oe_kb_leaves_out(duty, amps):
    assert float(current_from_duty(duty)[0]) == pytest.approx(amps)


@pytest.mark.parametrize("duty", [0.02, 0.075, 0.98])
def test_no_charging_duties(duty):
    assert math.isnan(float(current_from_duty(duty)[0]))


def test_8_to_10_percent_simulated(ngspice):
    m = analyze(simulate_cp("C", duty=0.09, periods=10))
    assert m.current_a == pytest.approx(6.0)


# §7.4 OpenEVSE forum "open PP = 6 A ... 50 Ω = 80 A": open PP is no cable, < 75 Ω (PHX) / < 60 Ω (EV-BU) an error.
@pytest.mark.parametrize("bands", ["iec2010", "everest"])
def test_open_pp_is_no_cable(ngspice, bands):
    assert simulate_pp("type2", condition="unplugged", bands=bands).cable_rating_a == 0
    d = diagnose_pp("type2", rc_ohm=math.inf, bands=bands)
    assert (d.code, d.cable_rating_a) == ("rc_open", 0)
    assert simulate_pp("type2", rc_ohm=50.0, bands=bands).cable_rating_a == 0
    assert diagnose_pp("type2", rc_ohm=50.0, bands=bands).code == "rc_out_of_band"


# §7.5 e-mobileo "> 2000 Ω is 0 A": PHX accepts 13 A up to 2200 Ω, EVerest's band up to 2460 Ω, and EV-BU
# names only > 4500 Ω as "None" (§5), so 2460-4500 Ω still reads as the nearest band, 13 A.
@pytest.mark.parametrize("rc, iec, everest", [(2100.0, 13, 13), (2300.0, 0, 13), (2460.0, 0, 13), (2500.0, 0, 13),
                                              (4600.0, 0, 0)])
def test_13_a_band_reaches_past_2000_ohm(ngspice, rc, iec, everest):
    assert simulate_pp("type2", rc_ohm=rc, bands="iec2010").cable_rating_a == iec
    assert simulate_pp("type2", rc_ohm=rc, bands="everest").cable_rating_a == everest


# §7.6 SmartEVSE maps 680 Ω to 16 A and an open PP to 13 A: IEC gives 20 A, and open is no cable.
@pytest.mark.parametrize("supply_v", [5.0, 3.3])
@pytest.mark.parametrize("bands", ["iec2010", "everest"])
def test_680_ohm_is_20_a(ngspice, supply_v, bands):
    assert simulate_pp("type2", rc_ohm=680.0, supply_v=supply_v, bands=bands).cable_rating_a == 20
    assert diagnose_pp("type2", rc_ohm=680.0, bands=bands).cable_rating_a == 20
    v = simulate_pp("type2", rc_ohm=680.0, supply_v=supply_v).v_pp
    assert diagnose_pp("type2", v_pp=v, supply_v=supply_v).cable_rating_a == 20


# §7.7 State E is 0 V (CP shorted to PE, detected); F is the EVSE driving -12 V. ESP/OE-KB call -12 V "E".
def test_state_e_is_0_v_and_f_is_minus_12_v(ngspice):
    e = analyze(simulate_cp("E", periods=10))
    f = analyze(simulate_cp("F", periods=10))
    assert e.state == "E" and abs(e.v_high) < 0.01
    assert f.state == "F" and f.v_low == pytest.approx(-12.0, abs=0.01)
    assert [x.code for x in detect_cp_faults(e)] == ["state_e"]
    assert detect_cp_faults(f) == ()


# §7.12 Hackaday "adding 330 Ω gives 3 V": 330 Ω || 2.7 kΩ gives ≈ 3.3 V; the D resistor is 270 Ω (≈ 2.9 V).
def test_state_d_resistor_is_270_ohm(ngspice):
    assert R_VENT_OHM == 270.0
    hi_270 = float(cpsim.plateau_levels("D")[0])
    hi_330 = float(cpsim.plateau_levels("D", r_vent_ohm=330.0)[0])
    assert 2.62 <= hi_270 <= 3.25          # J1772 D window (FU, RTH)
    assert hi_330 == pytest.approx(3.3, abs=0.05)
    m = analyze(simulate_cp("D", periods=10))
    assert m.v_high == pytest.approx(hi_270, abs=2e-3)
