"""A non-editable install carries the netlists and the compiled row parser, and can simulate."""

import subprocess
import sys
import zipfile

import pytest


@pytest.mark.slow
def test_wheel_contains_circuits_and_simulates(tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(root)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("cpsim-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "cpsim/circuits/cp_c.cir" in names and "cpsim/circuits/models.lib" in names
    assert any(n.startswith("cpsim/io/_fastrows") and n.endswith((".so", ".pyd")) for n in names), names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    code = (
        "import cpsim, numpy as np; from cpsim.io import _csvcore; "
        f"assert cpsim.__file__.startswith({str(target)!r}), cpsim.__file__; "
        f"assert _csvcore._fastrows.__file__.startswith({str(target)!r}); "
        "w = cpsim.simulate_cp('B', periods=1); print(round(float(np.max(w.v)), 2))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) == pytest.approx(8.97, abs=0.02)
