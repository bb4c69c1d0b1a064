"""Issue 16 item 3: an input error found while streaming stops at that chunk, naming the line.

Each file holds one early defect and, at its very end, a second one of another kind (a row cut
inside a number). A reader that parsed every row before checking would report the late one; a
fail-fast reader reports the early one, with its exact line.
"""

import numpy as np
import pytest

from cpsim.errors import CaptureFormatError
from cpsim.io import _csvcore, iter_chunks, read_capture

ROWS = 40_000


def _write(path, defect_row: int, cell: str, *, column: str = "time") -> None:
    lines = ["time,cp"]
    for k in range(ROWS):
        t, v = f"{k * 1e-6:.9g}", f"{6.0 if (k // 500) % 2 else -12.0:g}"
        if k == defect_row:
            t, v = (cell, v) if column == "time" else (t, cell)
        lines.append(f"{t},{v}")
    lines.append("0.04,1.2e")  # the late defect: cut inside a number
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(_csvcore, "BLOCK_BYTES", 16 << 10)


@pytest.mark.parametrize("cell, column, words", [
    ("0.0001", "time", "time does not increase"),      # goes back in time
    ("nan", "time", "not a finite number"),
    ("inf", "cp", "not a finite number"),
])
def test_read_capture_stops_at_the_first_bad_block(tmp_path, small_blocks, cell, column, words):
    path = tmp_path / "cap.csv"
    _write(path, 1234, cell, column=column)
    with pytest.raises(CaptureFormatError) as err:
        read_capture(path)
    assert words in str(err.value) and err.value.line == 1234 + 2, str(err.value)


def test_the_late_defect_alone_is_still_found(tmp_path, small_blocks):
    path = tmp_path / "cap.csv"
    _write(path, -1, "")
    with pytest.raises(CaptureFormatError) as err:
        read_capture(path)
    assert err.value.line == ROWS + 2


def test_a_step_back_across_a_block_boundary_names_its_line(tmp_path, small_blocks):
    path = tmp_path / "cap.csv"
    _write(path, -1, "")
    text = path.read_text().splitlines()
    # every row from 20 000 on is shifted back by 10 µs: the first of them repeats an earlier time
    for k in range(20_000, ROWS):
        text[k + 1] = f"{(k - 10) * 1e-6:.9g}," + text[k + 1].split(",")[1]
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(CaptureFormatError) as err:
        read_capture(path)
    assert "time does not increase" in str(err.value) and err.value.line == 20_000 + 2


def test_iter_chunks_yields_the_good_chunks_then_stops_at_the_bad_one(tmp_path, small_blocks):
    path = tmp_path / "cap.csv"
    _write(path, 30_000, "0.0001")
    got = []
    with pytest.raises(CaptureFormatError) as err:
        for w in iter_chunks(path, chunk_rows=5_000):
            got.append(len(w))
    assert "time does not increase" in str(err.value) and err.value.line == 30_000 + 2
    assert 4 <= len(got) <= 6 and all(n == 5_000 for n in got)  # the chunks before the defect came out


def test_a_clean_file_reads_the_same_with_the_block_check(tmp_path, small_blocks):
    path = tmp_path / "cap.csv"
    _write(path, -1, "")
    text = path.read_text().splitlines()[:-1]  # without the cut last row
    path.write_text("\n".join(text) + "\n")
    w = read_capture(path)
    assert len(w) == ROWS
    np.testing.assert_array_equal(w.t, np.array([float(f"{k * 1e-6:.9g}") for k in range(ROWS)]))
    joined = np.concatenate([c.v for c in iter_chunks(path, chunk_rows=7_000)])
    np.testing.assert_array_equal(joined, w.v)
