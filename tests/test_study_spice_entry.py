"""Issue 13, case 3: the spice engine works from a plain script (no main guard), from ``python -c`` and
from the CLI, and every entry point explains a missing ngspice with the same install hint.

A missing ngspice is made real, not mocked: NGSPICE_LIBRARY_PATH (the variable cpsim.sim.ngspice
hands to PySpice) points at a library that does not exist.
"""

import os
import subprocess
import sys
import textwrap

import pytest

from cpsim.sim.ngspice import INSTALL_HINT

PLAIN_SCRIPT = textwrap.dedent("""\
    import cpsim

    df = cpsim.run_montecarlo("C", 8, engine="spice", seed=1, workers=2, chunk_size=4)
    s = cpsim.summarize(df)
    print("runs", len(df), "errors", s["errors"], "yield", s["yield"])
""")


def _run(args, *, env=None, cwd=None):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def test_a_plain_script_without_main_guard_runs_the_spice_engine(tmp_path):
    script = tmp_path / "study.py"
    script.write_text(PLAIN_SCRIPT, encoding="utf-8")
    r = _run([sys.executable, str(script)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip().splitlines() == ["runs 8 errors 0 yield 1.0"]  # the script ran once, not per worker
    assert "Traceback" not in r.stderr


def test_python_dash_c_runs_the_spice_engine(tmp_path):
    r = _run([sys.executable, "-c", PLAIN_SCRIPT], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "runs 8 errors 0 yield 1.0"


@pytest.fixture
def no_ngspice(tmp_path):
    env = dict(os.environ)
    env["NGSPICE_LIBRARY_PATH"] = str(tmp_path / "missing" / "libngspice.so")
    return env


CLI = [sys.executable, "-m", "cpsim.cli"]


@pytest.mark.parametrize("args", [
    CLI + ["simulate", "cp", "--state", "C", "--periods", "2"],
    CLI + ["montecarlo", "--engine", "spice", "--runs", "8", "--workers", "1", "--no-progress"],
    CLI + ["montecarlo", "--engine", "spice", "--runs", "8", "--workers", "1", "--json", "--no-progress"],
    CLI + ["corners", "--engine", "spice", "--workers", "1"],
])
def test_every_cli_entry_point_gives_the_install_hint(args, no_ngspice, tmp_path):
    r = _run(args, env=no_ngspice, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and INSTALL_HINT in lines[0], r.stderr
    assert "CDefError" not in r.stderr and "not a cpsim results frame" not in r.stderr


@pytest.mark.parametrize("call", [
    'cpsim.run_montecarlo("C", 8, engine="spice", seed=1, workers=1, chunk_size=2)',
    'cpsim.run_corners("C", engine="spice", workers=1)',
    'cpsim.simulate_cp("C", periods=2)',
])
def test_every_library_entry_point_raises_ngspice_not_found(call, no_ngspice, tmp_path):
    code = ("import cpsim\n"
            f"try:\n    {call}\n"
            "except cpsim.NgspiceNotFoundError as exc:\n    print('NOTFOUND', exc)\n")
    r = _run([sys.executable, "-c", code], env=no_ngspice, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.startswith("NOTFOUND") and INSTALL_HINT in r.stdout, r.stdout
