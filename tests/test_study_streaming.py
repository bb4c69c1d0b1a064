"""Issue 16 item 2: studies of any size in bounded memory.

Differential: on studies that fit in memory both ways, the online summary of the stream equals
``summarize()`` of the whole frame, and the streamed file equals the in-memory frame."""

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from cpsim import standard as std
from cpsim.errors import ParameterError
from cpsim.study.online import OnlineSummary
from cpsim.study.results import read_results
from cpsim.study.runner import run_montecarlo
from cpsim.study.stream import stream_montecarlo
from cpsim.study.summary import summarize
from cpsim.study.variations import Tolerance


def same(a, b, path="summary"):
    """Equal structures; floats to 1e-9 relative (moments merged pairwise round differently from numpy)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), (path, list(a), list(b))
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (path, a, b)
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b and type(a) is type(b), (path, a, b)


CASES = [
    ("C", 20_000, None, {}, "j1772"),
    ("B", 5_000, None, {}, None),
    ("C", 2_000, [Tolerance("duty", 0.025)], {"duty": 0.98}, "iec61851"),  # part of the runs fail
    ("B1", 3_000, None, {}, "j1772"),                                      # no low level
    ("F", 3_000, None, {}, None),
    ("E", 3_000, None, {}, "iec61851"),
    ("D", 3_000, None, {}, std.custom_profile({"D": (2.5, 3.1)})),       # many misreads
]


@pytest.mark.parametrize("state, runs, tols, nominal, judge", CASES)
def test_online_summary_of_shuffled_chunks_equals_summarize(state, runs, tols, nominal, judge):
    df = run_montecarlo(state, runs, tols, seed=6, nominal=nominal)
    acc = OnlineSummary(judge, worst=7)
    for part in np.array_split(np.random.default_rng(0).permutation(len(df)), 5):  # any order
        acc.add_frame(df.iloc[np.sort(part)])
    same(acc.result(), summarize(df, judge, worst=7))


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_stream_equals_the_in_memory_study(tmp_path, suffix):
    out = tmp_path / f"mc{suffix}"
    s = stream_montecarlo("C", 150_000, seed=4, judge="j1772", out=out, chunk_size=40_000, worst=5)
    df = run_montecarlo("C", 150_000, seed=4)
    assert s.pop("out") == str(out) and s.pop("rows_written") == 150_000
    same(s, summarize(df, "j1772", worst=5))
    assert s["misclassified"]["count"] > 0  # the comparison covers misreads and their runs
    pd.testing.assert_frame_equal(read_results(out), df, check_exact=suffix == ".parquet")
    assert not (tmp_path / f"mc{suffix}.parts").exists()


def test_stream_with_failures_and_no_out():
    s = stream_montecarlo("C", 3_000, [Tolerance("duty", 0.025)], seed=6, nominal={"duty": 0.98}, chunk_size=700)
    df = run_montecarlo("C", 3_000, [Tolerance("duty", 0.025)], seed=6, nominal={"duty": 0.98})
    assert s.pop("out") is None
    s.pop("rows_written")
    same(s, summarize(df))
    assert s["failures"]["count"] > 0


def test_interrupted_stream_keeps_its_parts_and_resumes(tmp_path):
    out = tmp_path / "mc.parquet"
    calls = []

    def stop_after_three(n, total):
        calls.append(n)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stream_montecarlo("C", 50_000, seed=9, out=out, chunk_size=5_000, progress=stop_after_three, flush_s=1e9)
    parts = list((tmp_path / "mc.parquet.parts").glob("part-*.parquet"))
    assert parts and not out.exists()
    kept = pd.concat([pd.read_parquet(p) for p in parts])
    assert sorted(kept["run"]) == list(range(15_000))  # every finished chunk is on disk
    resumed = []
    s = stream_montecarlo("C", 50_000, seed=9, out=out, chunk_size=5_000, resume=True,
                          progress=lambda n, total: resumed.append(n))
    assert resumed[0] == 20_000  # started after the kept rows
    df = run_montecarlo("C", 50_000, seed=9)
    pd.testing.assert_frame_equal(read_results(out), df, check_exact=True)
    s.pop("out"), s.pop("rows_written")
    same(s, summarize(df))
    # resume with other settings is refused
    with pytest.raises(ParameterError, match="seed"):
        stream_montecarlo("C", 60_000, seed=10, out=out, chunk_size=5_000, resume=True)


def test_too_many_runs_are_refused_before_any_work(tmp_path):
    with pytest.raises(ParameterError, match="memory"):
        run_montecarlo("C", 10**9)
    with pytest.raises(ParameterError, match="free"):
        stream_montecarlo("C", 10**9, out=tmp_path / "x.parquet")
    assert not list(tmp_path.iterdir())


def test_cli_streams_the_fast_engine_and_refuses_what_cannot_fit(tmp_path):
    r = subprocess.run([sys.executable, "-m", "cpsim.cli", "montecarlo", "--runs", "1e9", "--out",
                        str(tmp_path / "x.parquet"), "--no-progress"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "free" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = subprocess.run([sys.executable, "-m", "cpsim.cli", "montecarlo", "--runs", "2e4", "--seed", "3",
                        "--out", str(tmp_path / "y.csv"), "--json", "--no-progress"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(read_results(tmp_path / "y.csv")) == 20_000


def test_a_finished_file_is_extended_in_place_and_kept_when_refused(tmp_path):
    out = tmp_path / "mc.parquet"
    run_montecarlo("C", 30_000, seed=2, out=out)  # the in-memory study wrote it (pandas)
    with pytest.raises(ParameterError, match="seed"):
        stream_montecarlo("C", 60_000, seed=3, out=out, resume=True)
    assert len(read_results(out)) == 30_000  # a refused resume leaves the file as it was
    s = stream_montecarlo("C", 60_000, seed=2, out=out, resume=True, chunk_size=20_000)
    df = run_montecarlo("C", 60_000, seed=2)
    pd.testing.assert_frame_equal(read_results(out), df, check_exact=True)
    s.pop("out"), s.pop("rows_written")
    same(s, summarize(df))
