"""Outputs never destroy what they did not create; bad input gets one clear error and loses nothing.

An output that is one of the inputs is refused; every table/results writer writes through a
symbolic link to its target; an interrupted ``--force`` study keeps the old file; a parts folder
that is not cpsim's is never removed; a device is not spooled without limit; a folder's earlier
fleet table is not read back as a capture.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pandas as pd
import pytest

from cpsim.analysis.synthetic import Stretch, pilot_waveform
from cpsim.errors import OutputError, ParameterError
from cpsim.io._spool import spooled
from cpsim.outputs import refuse_input
from cpsim.report.many import analyze_many, capture_files, read_table, write_table
from cpsim.study.results import read_results, write_results
from cpsim.study.store import ResultStore
from cpsim.study.stream import stream_montecarlo


def cpsim_cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "cpsim.cli", *args], capture_output=True, text=True, timeout=300,
                          **kw)


def _capture(path, high=6.0):
    pilot_waveform(Stretch(0.02, high, -12.0, 0.25), noise_rms_v=0.02, seed=1).to_csv(path)


# -- A: an output that is one of the inputs ---------------------------------------------------------

def test_refuse_input_same_file_through_a_link_and_a_hard_link(tmp_path):
    board = tmp_path / "board.toml"
    board.write_text("x")
    link = tmp_path / "link.toml"
    link.symlink_to(board)
    hard = tmp_path / "hard.toml"
    os.link(board, hard)
    (tmp_path / "sub").mkdir()
    for out in (board, str(board), link, hard, tmp_path / "sub" / ".." / "board.toml"):
        with pytest.raises(OutputError, match="is one of the inputs; choose another output path"):
            refuse_input(out, ["-", None, tmp_path / "missing.csv", board])
    # not the same file, not existing yet, stdout, nothing: fine
    other = tmp_path / "other.toml"
    other.write_text("y")
    refuse_input(other, [board])
    refuse_input(tmp_path / "new.csv", [board])
    refuse_input("-", [board, "-"])
    refuse_input(None, [board])
    refuse_input(board, [])
    assert board.read_text() == "x"


def test_bringup_out_over_its_board_file_is_one_clear_error(tmp_path):
    board = tmp_path / "board.toml"
    board.write_text("# my board\n")
    r = cpsim_cli("bringup", str(board), "--runs", "10", "--out", str(board))
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "is one of the inputs" in lines[0], r.stderr
    assert board.read_text() == "# my board\n"


@pytest.mark.parametrize("args", [("analyze", "{cap}", "--out", "{cap}"), ("report", "{cap}", "-o", "{cap}"),
                                  ("analyze", "{dir}", "--out", "{link}")])
def test_analyze_and_report_never_write_over_a_capture(tmp_path, args):
    cap = tmp_path / "c2.csv"
    _capture(cap)
    (tmp_path / "link.csv").symlink_to(cap)
    before = cap.read_bytes()
    r = cpsim_cli(*(a.format(cap=cap, dir=tmp_path, link=tmp_path / "link.csv") for a in args))
    assert r.returncode == 2 and "is one of the inputs" in r.stderr, r.stderr
    assert cap.read_bytes() == before


# -- B: every writer writes through a symbolic link -------------------------------------------------

def _assert_through_link(tmp_path, write, read, name):
    real = tmp_path / f"real.{name}"
    real.write_text("old")
    link = tmp_path / f"link.{name}"
    link.symlink_to(real.name)
    write(link)
    assert link.is_symlink() and os.readlink(link) == real.name
    assert real.is_file() and not real.is_symlink()
    got = read(real)
    assert len(got) > 0
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    return got


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_write_table_keeps_a_symlink_and_updates_its_target(tmp_path, suffix):
    df = pd.DataFrame({"file": ["a.csv"], "format": ["csv"], "channel": ["cp"], "verdict": ["pass"]})
    got = _assert_through_link(tmp_path, lambda p: write_table(df, p), read_table, suffix)
    assert got["file"].tolist() == ["a.csv"]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_write_results_keeps_a_symlink_and_updates_its_target(tmp_path, suffix):
    df = pd.DataFrame({"run": [0, 1], "seed": [1, 1], "v_high": [6.0, 6.1]})
    got = _assert_through_link(tmp_path, lambda p: write_results(df, p), read_results, suffix)
    assert got["v_high"].tolist() == [6.0, 6.1]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_streamed_study_keeps_a_symlink_and_updates_its_target(tmp_path, suffix):
    got = _assert_through_link(tmp_path, lambda p: stream_montecarlo("C", 300, seed=4, out=p), read_results, suffix)
    assert got["run"].tolist() == list(range(300))


def test_corners_out_through_a_symlink(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    r = cpsim_cli("corners", "--state", "C", "--out", str(link))
    assert r.returncode == 2 and "cpsim did not write it" in r.stderr, r.stderr  # "old" is not cpsim's
    assert real.read_text() == "old"
    for extra in (["--force"], []):  # replaced when the user says so; then cpsim's own file is replaced
        r = cpsim_cli("corners", "--state", "C", "--out", str(link), *extra)
        assert r.returncode in (0, 1), r.stderr
        assert link.is_symlink() and len(read_results(real)) > 0


@pytest.mark.parametrize("args", [("analyze", "{cap}", "{cap2}", "--out", "{out}.csv"),
                                  ("report", "{cap}", "-o", "{out}.html"),
                                  ("simulate", "cp", "--state", "B", "--periods", "2", "--out", "{out}.csv"),
                                  ("bringup", "openevse", "--runs", "20", "--out", "{out}.csv")])
def test_an_output_never_replaces_a_file_cpsim_did_not_write(tmp_path, args):
    cap, cap2 = tmp_path / "c2.csv", tmp_path / "b2.csv"
    _capture(cap)
    _capture(cap2, high=9.0)
    stem = tmp_path / "mine"
    argv = [a.format(cap=cap, cap2=cap2, out=stem) for a in args]
    out = Path(argv[-1])
    out.write_text("the user's own notes\n")
    r = cpsim_cli(*argv)
    assert r.returncode == 2 and "cpsim did not write it" in r.stderr and "--force" in r.stderr, r.stderr
    assert out.read_text() == "the user's own notes\n"
    assert cpsim_cli(*argv, "--force").returncode in (0, 1)
    first = out.read_bytes()
    assert first != b"the user's own notes\n"
    r = cpsim_cli(*argv)  # its own output of an earlier run: replaced without asking
    assert r.returncode in (0, 1), r.stderr


# -- C: --force replaces the old file only when the new study finishes -------------------------------

class _Stop(KeyboardInterrupt):
    pass


def _interrupt_after(n):
    def progress(done, total):
        if done >= n:
            raise _Stop
    return progress


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_an_interrupted_forced_study_keeps_the_old_file_and_resume_does_not_mix_it_in(tmp_path, suffix):
    out = tmp_path / f"r.{suffix}"
    stream_montecarlo("C", 1000, seed=1, out=out)
    old = out.read_bytes()
    with pytest.raises(_Stop):
        stream_montecarlo("C", 5000, seed=2, out=out, chunk_size=1000, flush_s=1e-9, progress=_interrupt_after(2000))
    assert out.read_bytes() == old  # the old study's file is intact
    assert sorted(out.with_name(out.name + ".parts").glob("part-*.parquet"))  # the new study's parts are kept
    # resuming the forced study reads its own parts, never the old study's rows
    stream_montecarlo("C", 5000, seed=2, out=out, chunk_size=1000, resume=True)
    fresh = tmp_path / f"fresh.{suffix}"
    stream_montecarlo("C", 5000, seed=2, out=fresh, chunk_size=1000)
    pd.testing.assert_frame_equal(read_results(out), read_results(fresh))
    assert not out.with_name(out.name + ".parts").exists()


def test_a_parts_folder_that_is_not_cpsims_is_refused_not_removed(tmp_path):
    out = tmp_path / "r.parquet"
    parts = tmp_path / "r.parquet.parts"
    parts.mkdir()
    (parts / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputError, match="not the parts folder of a cpsim study"):
        stream_montecarlo("C", 100, seed=1, out=out)
    assert (parts / "thesis.tex").read_text() == "years of work"
    store = ResultStore(out, {"seed": 1}, resume=False, stream=True, flush_rows=10, flush_s=1.0)
    with pytest.raises(OutputError, match="not the parts folder"):
        store.load_finished()
    assert (parts / "thesis.tex").exists()
    # a file of that name: refused too
    (parts / "thesis.tex").unlink()
    parts.rmdir()
    parts.write_text("a file")
    with pytest.raises(OutputError):
        stream_montecarlo("C", 100, seed=1, out=out)
    assert parts.read_text() == "a file"
    # an empty folder, or cpsim's own parts (a manifest): replaced
    parts.unlink()
    parts.mkdir()
    stream_montecarlo("C", 100, seed=1, out=out)
    assert not parts.exists() and len(read_results(out)) == 100


def test_result_store_fresh_study_keeps_the_old_file_until_it_finishes(tmp_path):
    out = tmp_path / "r.parquet"
    old = pd.DataFrame({"run": [0, 1, 2], "seed": [9, 9, 9], "error": [None] * 3, "v_high": [1.0, 2.0, 3.0]})
    write_results(old, out)
    before = out.read_bytes()
    store = ResultStore(out, {"seed": 1}, resume=False, stream=True, flush_rows=1, flush_s=0.0)
    assert store.load_finished() is None
    store.start()
    store.add(pd.DataFrame({"run": [0], "seed": [1], "error": [None], "v_high": [7.0]}))
    assert out.read_bytes() == before  # interrupted here: the old file is intact
    resumed = ResultStore(out, {"seed": 1}, resume=True, stream=True, flush_rows=1, flush_s=0.0)
    prev = resumed.load_finished()
    assert prev["run"].tolist() == [0] and prev["v_high"].tolist() == [7.0]  # not the old file's rows
    resumed.start()
    resumed.add(pd.DataFrame({"run": [1], "seed": [1], "error": [None], "v_high": [8.0]}))
    resumed.finish(prev)
    assert read_results(out)["v_high"].tolist() == [7.0, 8.0]
    assert not store.parts.exists()


# -- D: devices are not spooled; the temporary copy never outlives the read ---------------------------

def test_a_device_is_one_clear_error_and_nothing_is_spooled(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ParameterError, match="is a device, not a capture file"):
        with spooled("/dev/zero"):
            pass
    assert list(tmp_path.iterdir()) == []
    r = cpsim_cli("analyze", "/dev/zero", env={**os.environ, "TMPDIR": str(tmp_path)})
    assert r.returncode == 2 and "is a device" in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_fifo_is_still_spooled(tmp_path, monkeypatch):
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "w") as fh:
            fh.write("time,cp\n0,1\n")

    t = threading.Thread(target=feed)
    t.start()
    with spooled(fifo) as local:
        with open(local) as fh:
            assert fh.read() == "time,cp\n0,1\n"
    t.join()
    assert list(spool.iterdir()) == []


def test_the_spooled_copy_is_removed_on_ctrl_c(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    class Stdin:
        class buffer:  # stands in for sys.stdin.buffer
            calls = 0

            @classmethod
            def read(cls, n=-1):
                cls.calls += 1
                if cls.calls > 2:
                    raise KeyboardInterrupt
                return b"x" * 1000

    monkeypatch.setattr(sys, "stdin", Stdin)
    with pytest.raises(KeyboardInterrupt):
        with spooled("-"):
            pass
    assert list(tmp_path.iterdir()) == []


# -- E: a folder's earlier table is not read back as a capture ---------------------------------------

def test_an_earlier_table_in_the_folder_is_not_a_capture(tmp_path):
    _capture(tmp_path / "unit1.csv", 6.0)
    _capture(tmp_path / "unit2.csv", 9.0)
    table = tmp_path / "table.csv"
    first = analyze_many(tmp_path, workers=1)
    write_table(first, table)
    write_table(first, tmp_path / "table.parquet")
    assert [f.name for f in capture_files(tmp_path)] == ["unit1.csv", "unit2.csv"]
    again = analyze_many(tmp_path, workers=1)
    assert len(again) == 2 and set(again["verdict"]) != {"error"} and again["error"].isna().all()
    # named explicitly, a path is kept (its row says what it is); exclude drops a file under a folder
    assert table in capture_files([tmp_path, table])
    assert [f.name for f in capture_files(tmp_path, exclude=[tmp_path / "unit2.csv"])] == ["unit1.csv"]


def test_cli_analyze_folder_into_itself_twice(tmp_path):
    _capture(tmp_path / "unit1.csv", 6.0)
    _capture(tmp_path / "unit2.csv", 9.0)
    out = tmp_path / "table.csv"
    for _ in range(2):
        r = cpsim_cli("analyze", str(tmp_path), "--out", str(out))
        assert r.returncode in (0, 1), r.stderr
    t = read_table(out)
    assert sorted(os.path.basename(f) for f in t["file"]) == ["unit1.csv", "unit2.csv"]
    assert (t["verdict"] != "error").all()
