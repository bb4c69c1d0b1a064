"""PP fault scenarios: netlists by hand, simulate_pp(fault=...) against the dividers, and recognition.

Each simulated fault is diagnosed twice, from the PP-PE resistance of the plug and from the PP
voltage, and both must give the registry's expected code.
"""

import json
import math
import re
import shutil
import subprocess
import sys

import pytest

from cpsim import ParameterError, diagnose_pp
from cpsim.sim.netlist import CIRCUITS_DIR, load_scenario
from cpsim.sim.pp import simulate_pp
from cpsim.sim.scenarios import OPEN_OHM, PP_FAULTS, pp_fault


def _divider(v, r_top, r_bottom):
    return v * r_bottom / (r_top + r_bottom)


def _par(*rs):
    rs = [r for r in rs if math.isfinite(r)]
    return 1.0 / sum(1.0 / r for r in rs)


def _type1_v(r_plug):
    """V(PP) at the vehicle inlet (330 Ω to 5 V, 2.7 kΩ to ground) with the plug's PP-PE resistance [V]."""
    return _divider(5.0, 330.0, _par(2700.0, r_plug))


# the plug's PP-PE resistance per condition for each fault (R6 150, R7 330, S3 closed 10 mΩ)
PLUG_OHM = {
    "s3_stuck_open": {"latched": 480.0, "pressed": 480.0},
    "s3_stuck_closed": {"latched": 150.01, "pressed": 150.01},
    "not_latched": {"latched": 480.0, "pressed": 480.0},
    "r6_open": {"latched": math.inf, "pressed": math.inf},
    "r7_open": {"latched": 150.01, "pressed": math.inf},
    "pp_shorted": {"latched": 0.01, "pressed": 0.01},
}
RC_OHM = {"rc_out_of_band": 5600.0, "rc_open": math.inf, "rc_shorted": 0.01}


def test_registry_is_consistent():
    assert set(PP_FAULTS) == set(PLUG_OHM) | set(RC_OHM)
    for name, fault in PP_FAULTS.items():
        assert fault.signal == "pp" and fault.connector in ("type1", "type2")
        defaults = load_scenario(fault.netlist).defaults
        assert set(fault.netlist_params) <= set(defaults)
        for key, value in fault.netlist_params.items():
            assert defaults[key] == pytest.approx(value), (name, key)


@pytest.mark.parametrize("name", sorted(PP_FAULTS))
def test_fault_files_run_by_hand(name):
    fault = PP_FAULTS[name]
    exe = shutil.which("ngspice")
    assert exe, "the ngspice command is missing"
    out = subprocess.run([exe, "-b", f"{fault.netlist}.cir"], cwd=CIRCUITS_DIR, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "error" not in out.stdout.lower(), out.stdout
    v = float(re.search(r"^\s*pp\s+(\S+)", out.stdout, re.MULTILINE).group(1))
    if fault.connector == "type1":  # the file shows the latched plug with the fault
        expected = _type1_v(PLUG_OHM[name]["latched"])
    else:
        expected = 5.0 if math.isinf(RC_OHM[name]) else _divider(5.0, 1000.0, RC_OHM[name])
    assert v == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("name", sorted(PLUG_OHM))
def test_type1_faults(ngspice, name):
    results = {c: simulate_pp("type1", condition=c, fault=name) for c in ("latched", "pressed")}
    for condition, result in results.items():
        r_plug = PLUG_OHM[name][condition]
        assert result.fault == name
        assert result.v_pp == pytest.approx(_type1_v(r_plug), abs=1e-4)
        if math.isinf(r_plug):
            assert math.isinf(result.r_pp_pe_ohm)
        else:
            assert result.r_pp_pe_ohm == pytest.approx(r_plug, rel=1e-3, abs=1e-3)
    expected = PP_FAULTS[name].expected_codes[0]
    by_ohm = diagnose_pp(released_ohm=results["latched"].r_pp_pe_ohm, pressed_ohm=results["pressed"].r_pp_pe_ohm)
    by_volt = diagnose_pp(v_pp=results["latched"].v_pp, v_pp_pressed=results["pressed"].v_pp)
    assert by_ohm.code == expected
    assert by_volt.code == expected


def test_s3_stuck_open_reads_pressed_all_the_time(ngspice):
    # 480 Ω (2.76 V, inside RTH's "pressed" window 2.51-3.01 V) whether the button is pressed or not
    for condition in ("latched", "pressed"):
        result = simulate_pp("type1", condition=condition, fault="s3_stuck_open")
        assert result.v_pp == pytest.approx(2.763, abs=2e-3)
        assert 2.51 <= result.v_pp <= 3.01


@pytest.mark.parametrize("name", sorted(RC_OHM))
@pytest.mark.parametrize("bands", ["iec2010", "everest"])
def test_type2_faults(ngspice, name, bands):
    result = simulate_pp("type2", fault=name, bands=bands)
    rc = RC_OHM[name]
    assert result.v_pp == pytest.approx(5.0 if math.isinf(rc) else _divider(5.0, 1000.0, rc), abs=1e-4)
    assert result.cable_rating_a == 0
    expected = PP_FAULTS[name].expected_codes[0]
    assert diagnose_pp("type2", rc_ohm=result.r_pp_pe_ohm, bands=bands).code == expected
    assert diagnose_pp("type2", v_pp=result.v_pp, bands=bands).code == expected


def test_type2_fault_on_3v3_reader(ngspice):
    result = simulate_pp("type2", fault="rc_out_of_band", supply_v=3.3)
    assert result.v_pp == pytest.approx(_divider(3.3, 1000.0, 5600.0), abs=1e-4)
    assert diagnose_pp("type2", v_pp=result.v_pp, supply_v=3.3).code == "rc_out_of_band"


@pytest.mark.parametrize("kwargs, match", [
    (dict(connector="type1", fault="rc_open"), "type2 fault"),
    (dict(connector="type2", fault="s3_stuck_open"), "type1 fault"),
    (dict(connector="type1", fault="nope"), "valid: s3_stuck_open"),
    (dict(connector="type1", fault="diode_shorted"), "CP fault"),
    (dict(connector="type1", condition="unplugged", fault="r6_open"), "plug in"),
    (dict(connector="type2", condition="unplugged", fault="rc_open"), "plug in"),
    (dict(connector="type2", rc_ohm=680.0, fault="rc_open"), "sets rc"),
    (dict(connector="type1", r6_ohm=200.0, fault="r6_open"), "sets r6"),
])
def test_bad_fault_arguments(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        simulate_pp(**kwargs)


def test_pp_fault_lookup():
    assert pp_fault("rc_open", "type2").netlist_params["rc"] == OPEN_OHM


# --- CLI ---------------------------------------------------------------------------------------

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "cpsim.cli", *args], capture_output=True, text=True, timeout=300)


def test_cli_simulate_pp_fault_picks_the_connector():
    r = _cli("simulate", "pp", "--fault", "rc_shorted", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["connector"] == "type2" and d["fault"] == "rc_shorted" and d["cable_rating_a"] == 0
    assert d["v_pp"] == pytest.approx(_divider(5.0, 1000.0, 0.01), abs=1e-6)
    r = _cli("simulate", "pp", "--fault", "s3_stuck_open", "--condition", "latched")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "type1 latched, fault s3_stuck_open: V(PP) = 2.763 V (PP-PE 480 Ω)"


@pytest.mark.parametrize("args, needle", [
    (["simulate", "pp", "--fault", "wobbly"], "valid: s3_stuck_open"),
    (["simulate", "pp", "--connector", "type1", "--fault", "rc_open"], "type2 fault"),
])
def test_cli_fault_errors_are_one_line(args, needle):
    r = _cli(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.stderr


def test_cli_help_lists_pp_faults():
    r = _cli("simulate", "pp", "--help")
    text = " ".join(r.stdout.split())
    for name in PP_FAULTS:
        assert name in text


# --- issue 12: the simulated circuit read both ways, open is open, the connector from the reading ---------

@pytest.mark.parametrize("r6_ohm", [85.0, 120.0, 150.0, 153.0, 200.0, 480.0, 1000.0, 20e3])
def test_simulated_plug_voltage_and_resistance_agree(ngspice, r6_ohm):
    # ngspice solves the inlet divider; the voltage route must reach the ohmmeter's code for the same plug
    result = simulate_pp("type1", condition="latched", r6_ohm=r6_ohm)
    by_ohm = diagnose_pp(released_ohm=result.r_pp_pe_ohm)
    by_volt = diagnose_pp("type1", v_pp=result.v_pp)
    assert by_volt.code == by_ohm.code, (r6_ohm, by_volt.verdict)
    assert by_volt.readings_ohm["released"] == pytest.approx(r6_ohm, rel=1e-3)
    assert by_volt.next_step and by_ohm.next_step


def test_simulated_unplugged_inlet_is_open_not_a_resistor(ngspice):
    v = simulate_pp("type1", condition="unplugged").v_pp
    d = diagnose_pp(v_pp=v)                   # 4.455 V fits only the J1772 inlet's open level
    assert d.connector == "type1" and d.code == "r6_open"
    assert "no plug detected" in d.verdict and "damaged" not in d.verdict
    assert "PP core" in d.next_step


def test_simulated_inlet_without_pull_down_is_open_with_a_note(ngspice):
    # R5 (2.7 kΩ) missing: no plug pulls PP, so it sits near 5 V, above the 4.455 V open level
    v = simulate_pp("type1", condition="unplugged", pulldown_ohm=1e9).v_pp
    assert v == pytest.approx(5.0, abs=1e-3)
    d = diagnose_pp("type1", v_pp=v)
    assert d.code == "r6_open"
    assert any("pull-down R5 missing" in n for n in d.notes)


@pytest.mark.parametrize("amps, rc", [(13, 1500.0), (20, 680.0), (32, 220.0), (63, 100.0)])
def test_simulated_type2_cable_voltage_infers_type2(ngspice, amps, rc):
    v = simulate_pp("type2", rc_ohm=rc).v_pp
    d = diagnose_pp(v_pp=v)                   # no connector: the voltage fits only a Type 2 coding level
    assert (d.connector, d.code, d.cable_rating_a) == ("type2", "ok", amps), d.verdict
    assert d.code == diagnose_pp(rc_ohm=rc).code


@pytest.mark.parametrize("name", sorted(PP_FAULTS))
def test_every_simulated_fault_says_what_to_do_next(ngspice, name):
    fault = PP_FAULTS[name]
    if fault.connector == "type1":
        r = {c: simulate_pp("type1", condition=c, fault=name).r_pp_pe_ohm for c in ("latched", "pressed")}
        d = diagnose_pp(released_ohm=r["latched"], pressed_ohm=r["pressed"])
    else:
        d = diagnose_pp(rc_ohm=simulate_pp("type2", fault=name).r_pp_pe_ohm)
    assert d.code != "ok" and d.next_step and "\n" not in d.next_step, (name, d.code)
