"""The shipped .cir files run in plain `ngspice -b` and agree with the closed form."""

import re
import shutil
import subprocess

import pytest

from cpsim.sim import plateau_levels
from cpsim.sim.netlist import CIRCUITS_DIR, load_scenario, scenario_names


def _ngspice_batch(name: str) -> str:
    exe = shutil.which("ngspice")
    assert exe, "the ngspice command is missing: run `make test` (it installs it) or apt-get install ngspice"
    out = subprocess.run([exe, "-b", f"{name}.cir"], cwd=CIRCUITS_DIR, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "error" not in out.stdout.lower(), out.stdout
    return out.stdout


@pytest.mark.parametrize("state", ["a", "b", "c", "d", "e"])
def test_cp_files_run_by_hand(state):
    text = _ngspice_batch(f"cp_{state}")
    v = float(re.search(r"v_plateau\s*=\s*(\S+)", text).group(1))
    duty = load_scenario(f"cp_{state}").defaults["duty"]
    assert duty == 0.25
    assert v == pytest.approx(float(plateau_levels(state.upper())[0]), abs=2e-3)


@pytest.mark.parametrize("name, expected", [("pp_type1", 1.505), ("pp_type1_unplugged", 4.455),
                                             ("pp_type2", 2.024), ("pp_type2_unplugged", 5.0)])
def test_pp_files_run_by_hand(name, expected):
    text = _ngspice_batch(name)
    v = float(re.search(r"^\s*pp\s+(\S+)", text, re.MULTILINE).group(1))
    assert v == pytest.approx(expected, abs=2e-3)


def test_every_toleranced_value_is_a_param():
    for name in scenario_names():
        scenario = load_scenario(name)
        for line in scenario.instances:
            _, _, params = line.partition("params:")
            for value in re.findall(r"=\s*(\S+)", params):
                assert value.startswith("{"), f"{name}: literal value in {line!r}"
