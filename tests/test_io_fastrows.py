"""The compiled fast path for numeric rows (cpsim/io/_fastrows.c) against two references.

* Python's ``float()`` (correctly rounded): every number the fast path accepts must be
  the same double, bit for bit.
* The pyarrow-only reader (``_csvcore.FAST_PATH = False``): on any block, valid or not,
  the reader must give the same arrays or the same error with and without the fast path.
"""

from __future__ import annotations

import json
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cpsim.io as cio
from cpsim.io import _csvcore
from cpsim.io._csvcore import Table, read_table

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "captures"
TRUTH = json.loads((FIXTURES / "truth.json").read_text())
SHARED = Path(__file__).resolve().parents[2] / "shared" / "formats"

FLOAT, INT, SKIP = 1, 2, 0


def test_the_extension_is_built():
    # make test installs cpsim with `pip install -e`, which compiles it; if this fails,
    # look for a compiler error in that install (setup.py marks the extension optional).
    from cpsim.io import _fastrows

    assert _csvcore._fastrows is _fastrows


def fast(text: str | bytes, kinds=(FLOAT,), delimiter=",", decimal="."):
    data = text.encode() if isinstance(text, str) else text
    capacity = len(data) // (sum(k != SKIP for k in kinds) + len(kinds)) + 1
    outs = tuple(np.empty(capacity) for k in kinds if k != SKIP)
    rows = _csvcore._fastrows.parse_block(data, bytes(kinds), ord(delimiter), ord(decimal), outs, capacity)
    return None if rows is None else [o[:rows] for o in outs]


def bits(x: float) -> int:
    return struct.unpack("<q", struct.pack("<d", x))[0]


@pytest.mark.parametrize(
    "text",
    ["1.5", "-0.0009999", "+998.000E-06", ".5", "5.", "-.5", " 12 ", "\t-3.25\t", "-0", "-0.0", "0e999", "1e22",
     "9007199254740992", "123456789012345e-22", "0.0000000000000000000001", "12.006287", "-4.9800e-03",
     "1.20e+01", "00012", "1E+05"],
)
def test_accepted_numbers_are_correctly_rounded(text):
    (col,) = fast(text + "\n")
    assert bits(col[0]) == bits(float(text))


@pytest.mark.parametrize(
    "text",
    # outside the fast grammar (pyarrow decides): too many digits or too large an
    # exponent for an exact conversion, non-numbers, malformed numbers
    ["9007199254740993", "1e23", "1e-23", "0.000000000000000000000000000001", "0.30000000000000004",
     "nan", "inf", "-inf", "1_0", "0x10", "", " ",
     "+", "-", "e5", ".", "1.2.3", "1e", "1e+", "1d5", "1e00001", "1,5"],
)
def test_other_fields_go_to_pyarrow(text):
    assert fast(text + "\n") is None


@pytest.mark.parametrize(
    "data, kinds, expected",
    [
        (b"1,2\n3,4\n", (FLOAT, FLOAT), [[1, 3], [2, 4]]),
        (b"1,2\r\n3,4\r\n", (FLOAT, FLOAT), [[1, 3], [2, 4]]),
        (b"1,2\n3,4", (FLOAT, FLOAT), [[1, 3], [2, 4]]),  # no final line end
        (b"7,x,2\n8,,4\n", (INT, SKIP, FLOAT), [[7, 8], [2, 4]]),  # skipped cells may hold anything
        (b",,1.5,2.5,\n,,3.5,4.5,\n", (SKIP, SKIP, FLOAT, FLOAT, SKIP), [[1.5, 3.5], [2.5, 4.5]]),
        (b"-12,1\n", (INT, FLOAT), [[-12], [1]]),
    ],
)
def test_row_structure(data, kinds, expected):
    got = fast(data, kinds)
    assert got is not None
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize(
    "data, kinds",
    [
        (b"1,2\n\n3,4\n", (FLOAT, FLOAT)),  # blank line
        (b"1,2\r3,4\n", (FLOAT, FLOAT)),  # lone CR
        (b"1,2,3\n", (FLOAT, FLOAT)),  # a field too many
        (b"1\n", (FLOAT, FLOAT)),  # a field too few
        (b"1,\n", (FLOAT, FLOAT)),  # empty value
        (b"+12,1\n", (INT, FLOAT)),  # pyarrow refuses '+' in int64
        (b"1.0,1\n", (INT, FLOAT)),  # an index must be whole
    ],
)
def test_malformed_rows_go_to_pyarrow(data, kinds):
    assert fast(data, kinds) is None


def test_tab_delimiter_with_decimal_comma():
    got = fast(b"-1,5\t2,25\n0,5\t 3,0 \n", (FLOAT, FLOAT), delimiter="\t", decimal=",")
    np.testing.assert_array_equal(got[0], [-1.5, 0.5])
    np.testing.assert_array_equal(got[1], [2.25, 3.0])


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError):
        _csvcore._fastrows.parse_block(b"1\n", bytes([1]), ord(","), ord("."), (np.empty(1),), 5)
    with pytest.raises(ValueError):
        _csvcore._fastrows.parse_block(b"1\n", bytes([1, 1]), ord(","), ord("."), (np.empty(4),), 4)
    with pytest.raises(ValueError):
        _csvcore._fastrows.parse_block(b"1\n", bytes([3]), ord(","), ord("."), (np.empty(4),), 4)


def test_unsafe_output_buffers_are_refused():
    one = bytes([1])
    with pytest.raises(ValueError, match="smaller than the capacity"):  # capacity * 8 would overflow
        _csvcore._fastrows.parse_block(b"1\n" * 10, one, ord(","), ord("."), (np.empty(1),), 2**61)
    with pytest.raises(ValueError, match="aligned native float64"):  # not float64
        _csvcore._fastrows.parse_block(b"1\n", one, ord(","), ord("."), (np.empty(4, dtype=np.int64),), 2)
    with pytest.raises(ValueError, match="aligned native float64"):  # misaligned
        _csvcore._fastrows.parse_block(b"1\n", one, ord(","), ord("."), (memoryview(bytearray(33))[1:].cast("d"),), 2)
    with pytest.raises((BufferError, ValueError), match="read-only"):
        ro = np.empty(4)
        ro.flags.writeable = False
        _csvcore._fastrows.parse_block(b"1\n", one, ord(","), ord("."), (ro,), 2)


def test_capacity_is_never_exceeded():
    # the capacity the reader passes is the most rows the bytes can hold; one row less
    # than needed must be refused, not overrun
    data = b"1,2\n" * 10
    assert fast(data, (FLOAT, FLOAT)) is not None
    outs = (np.empty(9), np.empty(9))
    assert _csvcore._fastrows.parse_block(data, bytes([1, 1]), ord(","), ord("."), outs, 9) is None


# -- any number, any formatting: bitwise equal to float() whenever accepted ---------------

def formatted(x: float, style: str, precision: int) -> str:
    if style == "repr":
        return repr(x)
    return f"{x:.{precision}{style}}"


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    x=st.floats(allow_nan=False, allow_infinity=False, width=64),
    style=st.sampled_from(["repr", "e", "E", "f", "g"]),
    precision=st.integers(0, 18),
    pad=st.sampled_from(["", " ", "\t"]),
    plus=st.booleans(),
)
def test_formatted_floats_match_float(x, style, precision, pad, plus):
    if style == "f" and abs(x) > 1e30:
        x = x / 1e300 if abs(x) > 1e300 else 1e12
    text = formatted(x, style, precision)
    if plus and not text.startswith("-"):
        text = "+" + text
    got = fast(pad + text + pad + "\n")
    if got is not None:
        assert bits(got[0][0]) == bits(float(text)), text


@settings(max_examples=400, deadline=None, derandomize=True)
@given(text=st.from_regex(r"[+-]?[0-9]{0,21}(\.[0-9]{0,21})?([eE][+-]?[0-9]{1,3})?", fullmatch=True))
def test_grammar_strings_match_float(text):
    got = fast(text + "\n")
    try:
        truth = float(text)
    except ValueError:
        assert got is None, text
        return
    if got is not None:
        assert bits(got[0][0]) == bits(truth), text


def test_typical_capture_numbers_take_the_fast_path():
    # the speed claim rests on these: what instruments and cpsim's benchmark write
    for text in ["-0.0009999", "12.006287", "-4.9800e-03", "+998.000E-06", "1.20e+01", "0.00781274", "-1.25e-09"]:
        assert fast(text + "\n") is not None, text


# -- the whole reader: same arrays or the same error, with and without the fast path ---

def assert_same(outcomes) -> None:
    (kind_a, a), (kind_b, b) = outcomes
    assert kind_a == kind_b, outcomes
    if kind_a == "error":
        assert a == b
        return
    assert list(a) == list(b)
    for name in a:
        assert np.array_equal(a[name].t.view(np.int64), b[name].t.view(np.int64))
        assert np.array_equal(a[name].v.view(np.int64), b[name].v.view(np.int64))
        assert a[name].metadata == b[name].metadata


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_fixtures_read_identically(name, both_routes):
    assert_same(both_routes(lambda: cio.read_channels(FIXTURES / name)))


def shared_csv_like() -> list[Path]:
    if not SHARED.is_dir():
        return []
    return sorted(p for p in SHARED.iterdir() if p.suffix.lower() in {".csv", ".txt"})


@pytest.mark.parametrize("path", shared_csv_like(), ids=lambda p: p.name)
def test_shared_formats_read_identically(path, both_routes):
    assert_same(both_routes(lambda: cio.read_channels(path)))


FAST_LAYOUTS = ["rigol_ds1054z.csv", "tek_tbs1000.csv", "tek_mdo4000.csv", "keysight_infiniivision.csv",
                "siglent_sds.csv", "saleae_analog.csv", "picoscope_de.txt", "generic_semicolon_decimal_comma.csv"]


@pytest.mark.parametrize("name", FAST_LAYOUTS)
def test_common_layouts_take_the_fast_path(name, monkeypatch):
    seen = []
    original = _csvcore._Reader._parse_fast

    def spy(self, data):
        cols = original(self, data)
        seen.append(cols is not None)
        return cols

    monkeypatch.setattr(_csvcore._Reader, "_parse_fast", spy)
    cio.read_channels(FIXTURES / name)
    assert seen and all(seen), seen


NUMBER = st.from_regex(r"[ ]?[+-]?[0-9]{1,18}(\.[0-9]{0,6})?([eE][+-]?[0-9]{1,2})?[ ]?", fullmatch=True)
INDEX = st.from_regex(r"-?[0-9]{1,17}", fullmatch=True)
HOSTILE = ["", "nan", "1e999", "x", "1,5", "\r", "+12", "1.5", " ", "0x1", "9" * 30]


@st.composite
def tables(draw):
    """Rows of valid numbers (the fast path's grammar or just outside it), sometimes one hostile cell."""
    kinds = draw(st.lists(st.sampled_from([FLOAT, INT, SKIP]), min_size=1, max_size=4))
    if all(k == SKIP for k in kinds):
        kinds[0] = FLOAT
    cell = {FLOAT: NUMBER, INT: INDEX, SKIP: st.sampled_from(["", "x", "CH1", "0.5"])}
    rows = draw(st.lists(st.tuples(*[cell[k] for k in kinds]), min_size=1, max_size=30))
    rows = [list(r) for r in rows]
    if draw(st.booleans()):
        r, c = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(kinds) - 1))
        rows[r][c] = draw(st.sampled_from(HOSTILE))
    return kinds, rows


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), eol=st.sampled_from(["\n", "\r\n"]), final_eol=st.booleans())
def test_random_tables_read_identically(table, eol, final_eol, both_routes):
    kinds, rows = table
    ncols = len(kinds)
    text = eol.join(",".join(r) for r in rows) + (eol if final_eol else "")
    with tempfile.TemporaryDirectory(prefix="cpsim-fastrows-") as d:
        path = Path(d) / "rows.csv"
        path.write_bytes(text.encode())
        table = Table(
            path=str(path), start=0, first_line=1, ncols=ncols,
            usecols=tuple(c for c, k in enumerate(kinds) if k != SKIP),
            eol=eol.encode(), int_cols=tuple(c for c, k in enumerate(kinds) if k == INT),
        )

        def parse():
            parsed = read_table(table, workers=1)
            return {c: a.view(np.int64).tolist() for c, a in parsed.columns.items()}, parsed.nrows

        results = both_routes(parse)
    assert results[0] == results[1]


def test_minus_zero_index_is_plus_zero_like_int64():
    (col,) = fast(b"-0\n", (INT,))
    assert bits(col[0]) == bits(0.0)


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
@pytest.mark.parametrize("fast_path", [True, False])
def test_small_blocks_split_at_whole_line_ends(tmp_path, eol, fast_path, monkeypatch):
    # blocks of 64 bytes must end after the whole line end, also when it is CR LF
    path = tmp_path / "rows.csv"
    k = np.arange(200)
    path.write_bytes(b"".join(b"%d,%.3f" % (i, 0.5 * i) + eol for i in k))
    table = Table(path=str(path), start=0, first_line=1, ncols=2, usecols=(0, 1), eol=eol, int_cols=(0,))
    monkeypatch.setattr(_csvcore, "FAST_PATH", fast_path)
    parsed = read_table(table, workers=2, block_bytes=64)
    np.testing.assert_array_equal(parsed.columns[0], k)
    np.testing.assert_array_equal(parsed.columns[1], 0.5 * k)
