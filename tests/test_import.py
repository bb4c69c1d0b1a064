"""`import cpsim` stays light: heavy libraries load only when a feature needs them."""

import subprocess
import sys


def test_bare_import_loads_no_heavy_library():
    code = (
        "import sys, cpsim\n"
        "heavy = [m for m in ('PySpice', 'pandas', 'matplotlib', 'pyarrow', 'scipy', 'tqdm', 'dask')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import cpsim loaded {out.stdout.strip()}"


def test_lazy_names_resolve():
    import cpsim

    assert callable(cpsim.simulate_cp)
    assert callable(cpsim.simulate_pp)
    assert cpsim.standard.R1_OHM == 1000.0
