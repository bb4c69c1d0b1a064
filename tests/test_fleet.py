"""Issue 16 item 4: a folder of captures becomes one table, one row per capture, the right state per
file; a bad file is a row with its error; `cpsim report` summarises the table."""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from cpsim.analysis.synthetic import Stretch, pilot_waveform
from cpsim.report.checks import check_measurement, overall_verdict
from cpsim.report.fleet import fleet_summary
from cpsim.report.many import FLEET_COLUMNS, analyze_many, read_table, write_table

# (relative path, high level [V], duty or None for a steady level, the state the analyzer must read)
UNITS = [("a/unit01.csv", 9.0, 0.25, "B2"), ("a/unit02.csv", 6.0, 0.25, "C2"), ("b/deep/unit03.csv", 3.0, 0.10, "D2"),
         ("b/unit04.csv", 12.0, None, "A1"), ("unit05.csv", 6.0, 0.50, "C2")]


def cpsim(*args, **kw):
    return subprocess.run([sys.executable, "-m", "cpsim.cli", *args], capture_output=True, text=True, timeout=300,
                          **kw)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    root = tmp_path_factory.mktemp("fleet")
    for rel, high, duty, _ in UNITS:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        pilot_waveform(Stretch(0.02, high, -12.0, duty), noise_rms_v=0.02, seed=len(rel)).to_csv(root / rel)
    (root / "b" / "broken.csv").write_text("time,cp\n0,1\n0,2\n1e-6,3\n")  # time goes nowhere on line 3
    (root / ".hidden.csv").write_text("skipped")
    return root


def _expected_rows(root):
    return {str(root / rel): state for rel, _, _, state in UNITS}


def test_a_folder_becomes_one_row_per_capture_with_its_state(fleet):
    t = analyze_many(fleet, workers=2)  # a small batch: this process
    assert list(t.columns) == list(FLEET_COLUMNS)
    want = _expected_rows(fleet)
    assert len(t) == len(want) + 1  # the hidden file is skipped, the broken one is a row
    got = {f: s for f, s in zip(t["file"], t["state"]) if f in want}
    assert got == want
    bad = t[t["file"].str.endswith("broken.csv")].iloc[0]
    assert bad["verdict"] == "error" and ".csv:3:" in bad["error"], bad["error"]
    assert "time does not increase" in bad["error"]
    # each row's verdict is the single-file verdict (two routes agree)
    from cpsim import analyze

    for f in want:
        m = analyze(f)
        row = t[t["file"] == f].iloc[0]
        assert row["verdict"] == overall_verdict(check_measurement(m, "iec61851", faults=m.faults))
        np.testing.assert_allclose(row["v_high"], m.v_high, rtol=0, atol=0)
        assert (row["duty"] == m.duty) or (np.isnan(row["duty"]) and np.isnan(m.duty))


def test_any_executor_gives_the_same_table(fleet):
    serial = analyze_many(fleet, workers=1)
    with ThreadPoolExecutor(2) as ex:
        threaded = analyze_many(fleet, ex)
    import pandas as pd

    pd.testing.assert_frame_equal(serial, threaded)


def test_missing_file_is_a_row_not_a_stopped_batch(fleet, tmp_path):
    t = analyze_many([fleet / "unit05.csv", tmp_path / "nope.csv"], workers=1)
    assert t["state"].iloc[0] == "C2" and t["error"].isna().iloc[0]
    assert t["verdict"].iloc[1] == "error" and "no such file" in t["error"].iloc[1]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_table_round_trip(fleet, tmp_path, suffix):
    t = analyze_many(fleet, workers=1)
    out = write_table(t, tmp_path / f"t{suffix}")
    import pandas as pd

    pd.testing.assert_frame_equal(read_table(out), t)


def test_fleet_summary_counts_and_worst_units(fleet):
    t = analyze_many(fleet, workers=1)
    s = fleet_summary(t, worst=3)
    assert s["captures"] == len(t) and sum(s["verdicts"].values()) == len(t) and s["errors"] == 1
    assert s["states"] == {"A1": 1, "B2": 1, "C2": 2, "D2": 1}
    assert s["worst"][0]["verdict"] == "error"  # the broken file first
    d = s["distributions"]["v_high"]
    assert d["count"] == 5 and d["min"] == pytest.approx(3.0, abs=0.05) and d["max"] == pytest.approx(12.0, abs=0.05)
    assert s["by_state"]["C2"]["duty"]["count"] == 2


def test_cli_many_files_to_a_table_and_a_fleet_report(fleet, tmp_path):
    out = tmp_path / "fleet.parquet"
    r = cpsim("analyze", str(fleet), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "6 captures" in r.stdout and out.is_file()
    t = read_table(out)
    assert dict(zip(t["file"], t["state"])).items() >= _expected_rows(fleet).items()
    j = cpsim("analyze", str(fleet / "a"), "--json")
    rows = json.loads(j.stdout)["captures"]
    assert [row["state"] for row in rows] == ["B2", "C2"]
    html = tmp_path / "fleet.html"
    rep = cpsim("report", str(out), "-o", str(html))
    assert rep.returncode == 0, rep.stderr
    assert "6 captures" in rep.stdout
    text = html.read_text()
    assert "Fleet" in text and "Worst units" in text and "broken.csv" in text
    # the same production gate from the table as from the captures: broken.csv cannot be judged
    for level in ("inconclusive", "fail"):
        gate = cpsim("analyze", str(fleet), "--fail-on", level).returncode
        assert cpsim("report", str(out), "-o", str(html), "--fail-on", level).returncode == gate
    assert gate in (0, 1) and cpsim("report", str(out), "-o", str(html), "--fail-on", "inconclusive").returncode == 1


def test_cli_single_file_path_is_unchanged(fleet):
    r = cpsim("analyze", str(fleet / "unit05.csv"), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["state"] == "C2" and "captures" not in json.loads(r.stdout)


def test_the_process_pool_gives_the_same_table(fleet, monkeypatch):
    from cpsim.report import many

    monkeypatch.setattr(many, "SMALL_BATCH_BYTES", 0)  # force the local pool on a small batch
    import pandas as pd

    pd.testing.assert_frame_equal(analyze_many(fleet, workers=2), analyze_many(fleet, workers=1))


def test_captures_above_the_memory_budget_are_streamed_with_the_same_row(fleet, monkeypatch):
    import pandas as pd

    in_memory = analyze_many(fleet, workers=1)
    monkeypatch.setenv("CPSIM_MEMORY_BUDGET", "36")  # 2 samples: every capture is read in pieces

    def whole_file(*args, **kwargs):
        raise AssertionError("read whole")

    monkeypatch.setattr("cpsim.io.read_capture", whole_file)
    streamed = analyze_many(fleet, workers=1)
    pd.testing.assert_frame_equal(streamed, in_memory)
