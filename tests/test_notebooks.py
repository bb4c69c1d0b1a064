"""The notebooks run top to bottom, in a kernel of this interpreter, without errors or warnings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbclient  # installed by `make test` (the [test] extra): a missing one is a failure, not a skip
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 300
"""Per-cell time budget [s]; the slowest cell (spice corners) takes a few seconds on two cores."""
KERNEL = "cpsim-test"

# Injected before the notebook's own cells (not committed to it): warnings are errors, as in the suite.
STRICT = "import warnings\nwarnings.simplefilter('error')\nwarnings.filterwarnings('ignore', module='ipykernel')"


def test_there_are_four_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["01_pilot_states_and_faults.ipynb", "02_tolerance_exploration.ipynb",
                                           "03_analyze_a_scope_capture.ipynb", "04_virtual_bringup.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory):
    """A kernelspec that starts this very interpreter (works in a fresh venv, whatever else is installed)."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "cpsim tests", "language": "python"}))
    return root


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, kernel_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(STRICT, id="strict"))
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name=KERNEL,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError with the traceback on any error
    images = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", out
            if out.output_type == "stream" and out.name == "stderr":
                assert "Warning" not in out.text, out.text
            if "image/png" in out.get("data", {}):
                images += 1
    assert images >= 3, f"{path.name}: expected plots, got {images}"
