"""A CLI and an API that fit the hands of engineers: units, pipes, outputs, terminal safety, notebooks."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

import cpsim
from cpsim import ParameterError
from cpsim.analysis.synthetic import Stretch, pilot_waveform
from cpsim.units import format_si


def cpsim_cli(*args, input_bytes: bytes | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cpsim.cli", *map(str, args)], capture_output=True,
                          input=input_bytes, cwd=cwd)


def one_line_error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, r.stdout
    lines = r.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr.decode(), r.stderr
    return lines[0]


@pytest.fixture(scope="module")
def capture_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cap") / "c2.csv"
    pilot_waveform(Stretch(0.01, 6.0, -12.0, 0.25), sample_rate_hz=10e6).to_csv(path)
    return path


# --- units that cannot be misread -----------------------------------------------------------------

def test_a_duty_that_looks_like_a_fraction_is_refused_with_its_meaning():
    line = one_line_error(cpsim_cli("simulate", "cp", "--duty", "0.25"))
    assert "did you mean 25 (%)?" in line and "--duty" in line and "cpsim simulate cp --help" in line


def test_a_spice_mega_written_as_m_is_refused():
    line = one_line_error(cpsim_cli("simulate", "cp", "--r1-ohm", "1M"))
    assert "1meg" in line and "milli" in line


def test_values_take_suffixes_and_scientific_notation(tmp_path):
    out = tmp_path / "w.csv"
    r = cpsim_cli("simulate", "cp", "--duty", "25%", "--cable-pf", "3.1n", "--periods", "3e0", "--frequency", "1k",
                  "-o", out)
    assert r.returncode == 0, r.stderr
    assert cpsim.analyze(out).state == "C2"


def test_counts_are_whole_numbers():
    line = one_line_error(cpsim_cli("simulate", "cp", "--periods", "2.5"))
    assert "whole number" in line and "--periods" in line


def test_the_api_takes_numpy_scalars_and_refuses_a_fractional_count(ngspice):
    w = cpsim.simulate_cp("C", periods=np.int64(3), duty=np.float32(0.25), r1_ohm=np.int64(1000))
    assert cpsim.analyze(w).state == "C2"
    with pytest.raises(ParameterError, match="whole number"):
        cpsim.simulate_cp("C", periods=1.5)


def test_a_resistor_outside_its_parts_range_is_refused(ngspice):
    with pytest.raises(ParameterError, match=r"r1_ohm must be >= 10"):
        cpsim.simulate_cp("C", r1_ohm=1e-3)


# --- Unix conventions ------------------------------------------------------------------------------

def test_simulate_pipes_into_analyze():
    sim = subprocess.run([sys.executable, "-m", "cpsim.cli", "simulate", "cp", "--periods", "4"],
                         capture_output=True, check=True)
    for source in ("-", "/dev/stdin"):
        r = cpsim_cli("analyze", source, "--json", input_bytes=sim.stdout)
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        assert d["state"] == "C2" and d["verdict"] in ("pass", "inconclusive")


def test_an_empty_pipe_is_one_clear_line():
    assert "nothing arrived" in one_line_error(cpsim_cli("analyze", "-", input_bytes=b""))


def test_version_debug_anywhere_and_exit_codes_in_help(capture_csv):
    r = cpsim_cli("--version")
    assert r.returncode == 0 and r.stdout.decode().strip() == f"cpsim {cpsim.__version__}"
    assert cpsim_cli("analyze", capture_csv, "--debug", "--quiet").returncode == 0
    text = cpsim_cli("--help").stdout.decode()
    assert "exit status" in text and "130" in text


def test_errors_name_the_flag_not_the_parameter():
    line = one_line_error(cpsim_cli("pp", "diagnose", "--connector", "type2", "--rc-ohm", "680", "--supply-v", "5"))
    assert "--supply-v" in line and "--rc-ohm" in line and "supply_v" not in line


# --- outputs that never destroy -------------------------------------------------------------------

def test_a_fifo_stays_a_fifo(capture_csv, tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received = tmp_path / "received.html"
    with open(received, "wb") as sink:
        reader = subprocess.Popen(["cat", str(fifo)], stdout=sink)
        r = cpsim_cli("report", capture_csv, "-o", fifo)
        reader.wait(timeout=60)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and received.read_bytes().startswith(b"<!DOCTYPE html>")


def test_a_symlink_stays_a_symlink_and_its_target_is_written(capture_csv, tmp_path):
    target = tmp_path / "real.html"
    link = tmp_path / "link.html"
    link.symlink_to(target.name)
    assert cpsim_cli("report", capture_csv, "-o", link).returncode == 0
    assert link.is_symlink() and target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_device_node_stays_a_device(capture_csv):
    assert cpsim_cli("report", capture_csv, "-o", "/dev/null").returncode == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_an_empty_output_name_is_one_line(capture_csv):
    assert "empty" in one_line_error(cpsim_cli("report", capture_csv, "-o", ""))


# --- terminal safety ---------------------------------------------------------------------------------

def test_control_characters_from_a_file_are_escaped(tmp_path):
    path = tmp_path / "evil.csv"
    path.write_bytes(b"time,\x1b]0;pwned\x07cp\x1b[31m\n" + b"".join(f"{k * 1e-4},12\n".encode() for k in range(40)))
    r = cpsim_cli("analyze", path)
    assert r.returncode == 0, r.stderr
    assert b"\x1b" not in r.stdout and b"\x07" not in r.stdout and b"\\x1b]0;pwned" in r.stdout
    d = json.loads(cpsim_cli("analyze", path, "--json").stdout)
    assert d["channel"] == "\x1b]0;pwned\x07cp\x1b[31m"   # JSON stays exact (escaped by JSON itself)


# --- notebooks -----------------------------------------------------------------------------------------

def test_measurements_show_as_small_tables():
    m = cpsim.analyze(pilot_waveform([Stretch(0.012, 9.0, -12.0, 0.25), Stretch(0.008, 12.0)], sample_rate_hz=2e6))
    assert len(repr(m)) < 300 and "state='B2'" in repr(m)
    html = m._repr_html_()
    assert html.startswith("<table>") and len(html) < 3000 and "B2" in html
    cycles, segments = m.cycles.to_frame(), m.segments.to_frame()
    assert len(cycles) == len(m.cycles) and {"duty", "period_s", "frequency_hz"} <= set(cycles.columns)
    assert list(segments["state"]) == ["B2", "A1"]
    from cpsim.report.checks import check_measurement

    checks = check_measurement(m)
    assert checks.verdict == "pass" and len(checks.to_frame()) == len(checks)
    assert "<table>" in checks._repr_html_()
    pp = cpsim.diagnose_pp("type1", released_ohm=150, pressed_ohm=480)
    assert pp.code == "ok" and "<table>" in pp._repr_html_() and str(pp).startswith("ok:")


# --- readable numbers ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "unit", "text"), [
    (2e9, "S/s", "2 GS/s"), (50e-9, "s", "50 ns"), (1e297, "Ω", "open"), (float("inf"), "Ω", "open"),
    (-0.0, "V", "0 V"), (float("nan"), "V", "—"), (2.5e-6, "s", "2.5 µs"), (1500.0, "Ω", "1.5 kΩ"),
])
def test_one_si_formatter(value, unit, text):
    assert format_si(value, unit) == text


def test_a_50_ns_capture_says_so(tmp_path):
    path = tmp_path / "short.csv"
    cpsim.Waveform.from_uniform(np.full(500, 12.0), sample_interval_s=1e-10).to_csv(path)
    out = cpsim_cli("analyze", path).stdout.decode()
    assert "49.9 ns" in out and "10 GS/s" in out and "0.000 ms" not in out


# --- traceability ----------------------------------------------------------------------------------------

def test_reports_trace_their_inputs_and_tell_same_named_captures_apart(tmp_path):
    for d, high in (("dirA", 6.0), ("dirB", 9.0)):
        (tmp_path / d).mkdir()
        pilot_waveform(Stretch(0.01, high, -12.0, 0.25), sample_rate_hz=5e6).to_csv(tmp_path / d / "scope.csv")
    r = cpsim_cli("report", "dirA/scope.csv", "dirB/scope.csv", "-o", "r.html", "--png-dir", "png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0].startswith("dirA/scope.csv: C2") and lines[1].startswith("dirB/scope.csv: B2")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    for d in ("dirA", "dirB"):
        digest = hashlib.sha256((tmp_path / d / "scope.csv").read_bytes()).hexdigest()
        assert digest in html
    assert "cpsim report dirA/scope.csv dirB/scope.csv" in html and f"cpsim {cpsim.__version__}" in html
    pngs = sorted(p.name for p in (tmp_path / "png").iterdir())
    assert any(p.startswith("dira_scope") for p in pngs) and any(p.startswith("dirb_scope") for p in pngs)


def test_study_summaries_show_as_small_tables():
    from cpsim.study.stream import stream_montecarlo

    s = stream_montecarlo("C", 20_000, seed=1)
    assert isinstance(s, dict) and s["runs"] == 20_000          # still the JSON-ready dict
    assert "runs: 20,000" in str(s) and "driven by" in str(s)
    assert s._repr_html_().startswith("<table><caption>tolerance study")


def test_report_reads_a_capture_from_standard_input(tmp_path):
    sim = subprocess.run([sys.executable, "-m", "cpsim.cli", "simulate", "cp", "--periods", "4"],
                         capture_output=True, check=True)
    r = cpsim_cli("report", "-", "-o", tmp_path / "r.html", input_bytes=sim.stdout)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().startswith("<stdin>: C2")


def test_report_recognises_the_csv_tables_cpsim_writes(tmp_path, capture_csv):
    # pyarrow's CSV writer quotes the header: a results file and a capture table must still be recognised
    assert cpsim_cli("montecarlo", "--runs", "500", "--seed", "1", "--out", tmp_path / "mc.csv").returncode == 0
    r = cpsim_cli("report", tmp_path / "mc.csv", "-o", tmp_path / "mc.html")
    assert r.returncode == 0 and "500 runs, yield" in r.stdout.decode(), r.stderr
    (tmp_path / "units").mkdir()
    (tmp_path / "units" / "u1.csv").write_bytes(capture_csv.read_bytes())
    assert cpsim_cli("analyze", tmp_path / "units", "--out", tmp_path / "fleet.csv").returncode == 0
    r = cpsim_cli("report", tmp_path / "fleet.csv", "-o", tmp_path / "fleet.html")
    assert r.returncode == 0 and "1 captures: 1 pass" in r.stdout.decode(), r.stdout + r.stderr


def test_text_the_user_typed_comes_back_as_typed():
    line = one_line_error(cpsim_cli("montecarlo", "--tolerance", "duty=50pp", "--runs", "10"))
    assert "'duty=50pp'" in line and "'duty=LO:HI'" in line and "--duty" not in line


def test_report_refuses_two_standard_inputs_and_unknown_compare(capture_csv):
    assert "standard input" in one_line_error(cpsim_cli("report", "-", "-", "-o", os.devnull, input_bytes=b""))
    assert "nope" in one_line_error(cpsim_cli("report", capture_csv, "--compare", "nope", "-o", os.devnull))


def test_analyze_checks_every_option_on_the_one_file_path_too(capture_csv):
    assert "-3" in one_line_error(cpsim_cli("analyze", capture_csv, "--workers", "-3"))
    assert one_line_error(cpsim_cli("analyze", capture_csv, "--threshold", "C=7:5")).startswith(
        "cpsim: error: --threshold C=7:5")


@pytest.mark.parametrize("args", [("montecarlo", "--worst", "-1"), ("bringup", "openevse", "--runs", "-5"),
                                  ("montecarlo", "--runs", "2.5")])
def test_counts_refuse_negative_and_fractional_values(args):
    r = cpsim_cli(*args)
    assert r.returncode == 2 and b"whole number" in r.stderr, r.stderr


def test_counts_take_the_same_spellings_everywhere(tmp_path):
    for args in (("montecarlo", "--runs", "1_000", "--worst", "1e0"), ("bringup", "openevse", "--runs", "1k")):
        r = cpsim_cli(*args, "--seed", "1", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
