"""Virtual bring-up, fast engine: known answers for the divider, the ADC, the readings and the statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import ndtr

from cpsim.errors import ParameterError
from cpsim.study.bringup import board_from_dict, bringup, load_board
from cpsim.study.bringup.readings import FreeRunning, two_level
from cpsim.study.bringup.stats import upper_95

OPENEVSE = {"A": [875, 1023], "B": [780, 875], "C": [690, 780], "D": [1, 690]}


def make_board(*, noise=0.0, thresholds=None, states=("A2", "B2", "C2", "D2"), debounce=1, sampling=None,
               cp_tolerances="none", tolerance=0.0, adc=None, algorithm="peak", duty=0.25, **pilot):
    """An OpenEVSE-like board (PILOT-REFERENCE §2c divider) with everything ideal unless asked."""
    return board_from_dict({
        "board": {"name": "test"},
        "frontend": {"kind": "divider", "r_top_ohm": 200e3, "r_bottom_ohm": 100e3, "r_bias_ohm": 56e3,
                     "v_bias_v": 5.0, "tolerance": tolerance},
        "adc": {"bits": 10, "vref_v": 5.0, "noise_lsb_rms": noise, **(adc or {})},
        "sampling": sampling or {"mode": "triggered", "delay_after_rise_s": 100e-6},
        "firmware": {"algorithm": algorithm, "thresholds_counts": thresholds or OPENEVSE, "debounce": debounce},
        "pilot": {"states": list(states), "duty": duty, "cp_tolerances": cp_tolerances, **pilot},
    })


# -- independent routes to the nominal codes ------------------------------------------------------

G_TOP, G_BOT, G_BIAS = 1 / 200e3, 1 / 100e3, 1 / 56e3
R_TH = 200e3 + 1 / (G_BOT + G_BIAS)          # the divider seen from CP
V_TH = 5.0 * G_BIAS / (G_BOT + G_BIAS)


def v_adc_by_hand(v_cp: float) -> float:
    return (v_cp * G_TOP + 5.0 * G_BIAS) / (G_TOP + G_BOT + G_BIAS)


def cp_high_by_root(load_ohm: float | None) -> float:
    """Settled CP high level with the divider's load, by a root of the node equation (Shockley diode)."""
    from cpsim.sim.closed_form import diode_model

    d = diode_model()
    vt = 1.380649e-23 * 300.15 / 1.602176634e-19
    r1, r_wire = 1000.0, 0.1

    def node(v):  # current into the node from the generator and the divider, minus the vehicle's
        i_in = (12.0 - v) / r1 + (V_TH - v) / R_TH
        if load_ohm is None:
            return i_in
        # the diode branch: v = i*(r_wire + rs + load) + n vt ln(1 + i/is), solved for i
        i = brentq(lambda i: i * (r_wire + d.rs_ohm + load_ohm) + d.n * vt * math.log1p(i / d.is_a) - v,
                   0.0, v / load_ohm + 1e-3) if v > 0 else 0.0
        return i_in - i

    return brentq(node, -1.0, 12.0, xtol=1e-12)


@pytest.mark.parametrize("state, load", [("A2", None), ("B2", 2740.0), ("C2", 1 / (1 / 2740 + 1 / 1300)),
                                         ("D2", 1 / (1 / 2740 + 1 / 270))])
def test_divider_codes_match_the_closed_form(state, load):
    result = bringup(make_board(states=[state]), runs=3, seed=1)
    v_cp = cp_high_by_root(load)
    x = v_adc_by_hand(v_cp) * 1024 / 5.0
    cols = result.columns[state]
    assert cols["v_cp_v"][0] == pytest.approx(v_cp, abs=2e-4)   # the diode at 27 °C vs 25 °C-ish Vt: < 0.2 mV
    assert cols["plateau_lsb"][0] == pytest.approx(x, abs=0.01)
    assert cols["code"][0] == math.floor(x + 0.5)
    # PILOT-REFERENCE §2c: counts = 31.13·Vcp + 556 for OpenEVSE (without the divider's load on CP)
    assert cols["code"][0] == pytest.approx(31.13 * v_cp + 556, abs=1.0)


def test_state_a_by_hand_exactly():
    v_cp = (12.0 * R_TH + V_TH * 1000.0) / (1000.0 + R_TH)     # linear: no diode in state A
    result = bringup(make_board(states=["A2"]), runs=1, seed=1)
    assert result.columns["A2"]["v_cp_v"][0] == pytest.approx(v_cp, rel=1e-12)
    assert result.summary["states"]["A2"]["code"]["median"] == math.floor(v_adc_by_hand(v_cp) * 1024 / 5 + 0.5)


def test_threshold_at_the_nominal_code_misreads_about_half_the_time():
    # a reading of code >= lo is B: the decision point is lo - 0.5, within 1 LSB of the nominal level,
    # so with 8 LSB of noise the exact rate is within 0.5 ± 0.05
    sigma, n = 8.0, 40_000
    nominal = bringup(make_board(states=["B2"]), runs=1, seed=1).columns["B2"]["plateau_lsb"][0]
    lo = int(round(nominal))
    windows = {"A": [875, 1023], "B": [lo, 875], "C": [690, lo], "D": [1, 690]}
    result = bringup(make_board(noise=sigma, thresholds=windows, states=["B2"]), runs=n, seed=7)
    expected = float(ndtr((lo - 0.5 - nominal) / sigma))     # P(x + noise rounds below lo)
    misread = result.summary["states"]["B2"]["misread"]
    assert 0.45 < expected < 0.55
    assert misread["rate"] == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / n))
    assert set(result.summary["states"]["B2"]["read_as"]) == {"B", "C"}


def test_debounce_needs_every_reading_to_agree():
    sigma, n = 3.0, 40_000
    nominal = bringup(make_board(states=["B2"]), runs=1, seed=1).columns["B2"]["plateau_lsb"][0]
    lo = int(round(nominal))
    windows = {"A": [875, 1023], "B": [lo, 875], "C": [690, lo], "D": [1, 690]}
    result = bringup(make_board(noise=sigma, thresholds=windows, states=["B2"], debounce=3), runs=n, seed=7)
    p = float(ndtr((lo - 0.5 - nominal) / sigma))
    read = result.summary["states"]["B2"]["read_as"]
    tol = 4 * math.sqrt(0.25 / n)
    assert read["C"] / n == pytest.approx(p ** 3, abs=tol)
    assert read["held"] / n == pytest.approx(1 - p ** 3 - (1 - p) ** 3, abs=tol)
    assert result.summary["states"]["B2"]["misread"]["count"] == read["C"]


def test_wide_thresholds_never_misread():
    windows = {"A": [1000, 1023], "B": [700, 1000], "C": [400, 700], "D": [1, 400]}
    board = make_board(noise=2.0, thresholds=windows, states=["B2"], cp_tolerances="default", tolerance=0.05,
                       adc={"vref_tolerance": 0.05, "offset_lsb": 4, "gain_error": 0.01})
    s = bringup(board, runs=200_000, seed=3).summary["states"]["B2"]
    assert s["misread"]["count"] == 0 and s["single_reading_misread"]["count"] == 0
    assert s["misread"]["upper_95"] == pytest.approx(1 - 0.05 ** (1 / 200_000), rel=1e-9)
    assert all(m["margin_lsb"] > 50 for m in s["margins"])


def test_margins_and_recommended_thresholds_of_a_known_spread():
    # every state's codes spread by the vref tolerance alone; the recommended boundary sits mid-gap
    board = make_board(adc={"vref_tolerance": 0.02})
    s = bringup(board, runs=20_000, seed=2).summary
    b, c = s["states"]["B2"]["code"], s["states"]["C2"]["code"]
    boundary = next(x for x in s["boundaries"] if x["upper"] == "B")
    assert boundary["lower"] == "C"
    assert boundary["margin_lsb"] == pytest.approx((b["min"] - c["max"]) / 2, abs=0.5)
    assert s["recommended_thresholds_counts"]["B"][0] == s["recommended_thresholds_counts"]["C"][1]
    assert s["recommended_margin_lsb"] >= s["current_margin_lsb"]
    lower_b = next(m for m in s["states"]["B2"]["margins"] if m["edge"] == "lower")
    assert lower_b["driven_by"] == "adc_vref_v"     # the only thing that varies


def test_driver_of_a_margin_is_the_parameter_that_varies_most():
    board = make_board(states=["C2"], cp_tolerances="none", tolerance=0.0, tolerances={"r_charge": "10%"})
    s = bringup(board, runs=5000, seed=4).summary["states"]["C2"]
    assert {m["driven_by"] for m in s["margins"]} == {"r_charge_ohm"}
    assert list(s["sensitivity_lsb"]) == ["r_charge_ohm"]


# -- two routes to the same readings -----------------------------------------------------------

def test_free_running_count_is_exact():
    rng = np.random.default_rng(5)
    for samples, rate in ((100, 8850.0), (250, 250e3), (37, 3333.3)):
        free = FreeRunning(samples, rate, 1000.0)
        start, duty = rng.random(20_000), rng.uniform(0.01, 0.99, 20_000)
        assert np.array_equal(free.n_high(start, duty), free.mask(start, duty).sum(axis=1))


@pytest.mark.parametrize("algorithm, k", [("peak", 1), ("top_k_mean", 3)])
def test_order_statistics_match_brute_force(algorithm, k):
    from cpsim.study.bringup.board import Firmware
    from cpsim.study.bringup.firmware import algorithm as reader_of

    rng = np.random.default_rng(11)
    n, samples, sigma = 40_000, 50, 2.0
    x_h, x_l = np.full(n, 600.3), np.full(n, 598.9)     # close levels: both groups compete
    n_high = rng.integers(0, samples + 1, n)
    fast = two_level(x_h, x_l, n_high, samples, algorithm=algorithm, k=k, sigma=sigma, top_code=1023, rng=rng)
    mask = np.arange(samples)[None, :] < n_high[:, None]
    reader = reader_of(Firmware(algorithm, {"A": (0, 1023)}, k=k))
    brute = two_level(x_h, x_l, n_high, samples, algorithm="mean", k=k, sigma=sigma, top_code=1023, rng=rng,
                      mask=mask, reader=reader)
    assert np.mean(fast) == pytest.approx(np.mean(brute), abs=4 * np.std(brute) / math.sqrt(n))
    assert np.std(fast) == pytest.approx(np.std(brute), rel=0.05)
    exact = two_level(x_h, x_l, n_high, samples, algorithm=algorithm, k=k, sigma=0.0, top_code=1023, rng=rng)
    assert np.array_equal(exact, two_level(x_h, x_l, n_high, samples, algorithm="mean", k=k, sigma=0.0,
                                           top_code=1023, rng=rng, mask=mask, reader=reader))


def test_free_running_at_low_duty_can_miss_the_plateau():
    # 100 samples, 113 µs apart, at 1 % duty: some readings hold no high sample and read the low level
    board = make_board(states=["B2"], duty=0.01, sampling={"mode": "free_running", "samples": 100, "rate_hz": 8850.0})
    cols = bringup(board, runs=20_000, seed=1).columns["B2"]
    free = FreeRunning(100, 8850.0, 1000.0)
    p_none = np.mean(free.n_high(np.random.default_rng(0).random(200_000), 0.01) == 0)
    assert p_none > 0.05
    assert np.mean(cols["n_high"] == 0) == pytest.approx(p_none, abs=0.02)
    assert np.all(cols["misread"] == (cols["n_high"] == 0))


def test_custom_algorithm(tmp_path, monkeypatch):
    (tmp_path / "my_fw.py").write_text("import numpy as np\ndef lowest(codes):\n    return codes.min(axis=1)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sampling = {"mode": "free_running", "samples": 20, "rate_hz": 9000.0}
    result = bringup(make_board(states=["B2"], algorithm="my_fw:lowest", sampling=sampling), runs=200, seed=1)
    # the lowest sample of a PWM reading is on the -12 V plateau (the diode blocks), which OpenEVSE's
    # windows put in D
    v_low = (-12.0 * R_TH + V_TH * 1000.0) / (1000.0 + R_TH)
    assert result.summary["states"]["B2"]["code"]["median"] == math.floor(v_adc_by_hand(v_low) * 1024 / 5 + 0.5)
    assert result.summary["states"]["B2"]["read_as"] == {"D": 200}


@pytest.mark.parametrize("body, message", [
    ("import os\nf = os.getcwd\n", "failed on the ADC codes: TypeError"),
    ("def f(codes):\n    raise RuntimeError('boom')\n", "failed on the ADC codes: RuntimeError: boom"),
    ("def f(codes):\n    return codes\n", "returned shape"),
    ("def f(codes):\n    return 'abc'\n", "returned str, not numbers"),
    ("import numpy as np\ndef f(codes):\n    return np.full(codes.shape[0], np.nan)\n", "non-finite"),
])
def test_failing_custom_algorithm_is_a_parameter_error(tmp_path, monkeypatch, body, message):
    import sys

    (tmp_path / "bad_fw.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("bad_fw", None)
    with pytest.raises(ParameterError, match="firmware algorithm 'bad_fw:f' ") as info:
        bringup(make_board(states=["B2"], algorithm="bad_fw:f"), runs=20, seed=1)
    assert message in str(info.value) and "numpy array of codes" in str(info.value)
    sys.modules.pop("bad_fw", None)


BOARD_TOML = """
[board]
name = "t"
[frontend]
r_top_ohm = 200e3
r_bottom_ohm = 100e3
r_bias_ohm = 56e3
v_bias_v = 5.0
[adc]
bits = 10
vref_v = 5.0
[sampling]
mode = "free_running"
samples = 20
rate_hz = 9000.0
[firmware]
algorithm = "peak"
thresholds_counts = { A = [875, 1023], B = [780, 875], C = [690, 780], D = [1, 690] }
[pilot]
cp_tolerances = "none"
"""


def test_custom_algorithm_next_to_the_board_file(tmp_path):
    import sys

    (tmp_path / "fw_next_to_board.py").write_text("def lowest(codes):\n    return codes.min(axis=1)\n")
    board = tmp_path / "b.toml"
    board.write_text(BOARD_TOML.replace('"peak"', '"fw_next_to_board:lowest"'))
    before = list(sys.path)
    try:
        result = bringup(str(board), runs=50, seed=1, states=["B2"])
    finally:
        sys.modules.pop("fw_next_to_board", None)
    assert result.summary["states"]["B2"]["read_as"] == {"D": 50}
    assert sys.path == before                                  # the folder was on the path for the import only
    board.write_text(BOARD_TOML.replace('"peak"', '"no_such_fw_module:f"'))
    with pytest.raises(ParameterError, match="cannot import it .*board file's folder.*No module named"):
        bringup(str(board), runs=5, seed=1)
    assert sys.path == before


def test_partial_states_recommend_only_simulated_adjacent_boundaries():
    board = make_board(states=["B2", "D2"], noise=0.5, tolerance=0.01)
    s = bringup(board, runs=2000, seed=1).summary
    rec = s["recommended_thresholds_counts"]
    assert rec == OPENEVSE                                      # B and D are not neighbours: nothing moves
    spans = sorted((lo, hi) for lo, hi in rec.values())
    assert all(hi1 <= lo2 for (_, hi1), (lo2, _) in zip(spans, spans[1:]))
    assert s["boundaries"] == [] and s["recommended_margin_lsb"] is None and s["current_margin_lsb"] is None
    assert sum("not re-derived" in n for n in s["notes"]) == 3
    s = bringup(make_board(states=["A2", "B2", "D2"], noise=0.5), runs=2000, seed=1).summary
    rec = s["recommended_thresholds_counts"]
    assert [(b["upper"], b["lower"]) for b in s["boundaries"]] == [("A", "B")]
    assert rec["A"][0] == rec["B"][1] and rec["C"] == OPENEVSE["C"] and rec["D"] == OPENEVSE["D"]
    assert rec["B"][0] == OPENEVSE["B"][0]
    assert s["recommended_margin_lsb"] == s["boundaries"][0]["margin_lsb"]
    assert any("B/C boundary" in n and "C was not simulated" in n for n in s["notes"])


def test_upper_95_is_clopper_pearson():
    from scipy.stats import beta

    assert upper_95(0, 1000) == pytest.approx(1 - 0.05 ** (1 / 1000), rel=1e-12)
    assert upper_95(5, 100) == pytest.approx(beta.ppf(0.95, 6, 95), rel=1e-9)
    assert upper_95(100, 100) == 1.0


def test_reproducible_and_extendable():
    a = bringup("openevse", runs=3000, seed=9).columns["B2"]
    b = bringup("openevse", runs=3000, seed=9).columns["B2"]
    assert np.array_equal(a["code"], b["code"]) and np.array_equal(a["plateau_lsb"], b["plateau_lsb"])
    c = bringup("openevse", runs=70_000, seed=9).columns["B2"]
    assert np.array_equal(c["plateau_lsb"][:3000], a["plateau_lsb"])   # the same boards, more of them


# -- board files --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["openevse", "esp32_evse"])
def test_example_boards_load_and_run(name):
    board = load_board(name)
    s = bringup(board, runs=2000, seed=1).summary
    assert set(s["states"]) == {"A2", "B2", "C2", "D2"} and s["errors"] == 0
    for state in s["states"].values():
        assert state["code"]["min"] <= state["code"]["median"] <= state["code"]["max"]


def test_openevse_nominal_codes_match_the_reference():
    # PILOT-REFERENCE §2c: counts = 31.13·Vcp + 556: 12 V -> 930, 9 V -> 836, 6 V -> 743, 3 V -> 649
    s = bringup(make_board(), runs=1, seed=1).summary["states"]
    assert [s[k]["code"]["median"] for k in ("A2", "B2", "C2", "D2")] == pytest.approx([930, 836, 743, 649], abs=2)


BASE = {
    "board": {"name": "t"},
    "frontend": {"kind": "divider", "r_top_ohm": 200e3, "r_bottom_ohm": 100e3, "r_bias_ohm": 56e3, "v_bias_v": 5.0},
    "adc": {"bits": 10, "vref_v": 5.0},
    "sampling": {"mode": "triggered", "delay_after_rise_s": 20e-6},
    "firmware": {"algorithm": "peak", "thresholds_counts": OPENEVSE},
}


def _with(table, key, value):
    data = {k: dict(v) for k, v in BASE.items()}
    if value is None:
        del data[table][key]
    else:
        data[table][key] = value
    return data


@pytest.mark.parametrize("table, key, value, named", [
    ("adc", "vref_v", "five", "adc.vref_v"),
    ("adc", "vref_v", -5.0, "adc.vref_v"),
    ("adc", "bits", 10.5, "adc.bits"),
    ("adc", "vrefv", 5.0, "adc.vrefv"),
    ("adc", "bits", None, "adc.bits"),
    ("frontend", "r_top_ohm", float("nan"), "frontend.r_top_ohm"),
    ("frontend", "kind", "opamp", "frontend.kind"),
    ("sampling", "mode", "sometimes", "sampling.mode"),
    ("sampling", "delay_after_rise_s", 2e-3, "sampling.delay_after_rise_s"),
    ("firmware", "algorithm", "bogus", "firmware.algorithm"),
    ("firmware", "debounce", 0, "firmware.debounce"),
    ("firmware", "thresholds_counts", {"B": [780, 900], "A": [875, 1023]}, "firmware.thresholds_counts"),
    ("firmware", "thresholds_counts", {"B": [900, 780]}, "firmware.thresholds_counts.B"),
    ("firmware", "thresholds_counts", {"Q": [1, 2]}, "firmware.thresholds_counts.Q"),
    ("firmware", "thresholds_counts", {"A": [875, 1024]}, "firmware.thresholds_counts.A"),
    ("board", "side", "vehicle", "board.side"),
])
def test_board_errors_name_the_key(table, key, value, named):
    with pytest.raises(ParameterError) as err:
        board_from_dict(_with(table, key, value), where="myboard.toml")
    assert str(err.value).startswith("myboard.toml: ") and named in str(err.value)


def test_board_file_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[board]\nname = 'x'\n[adc\n")
    with pytest.raises(ParameterError, match="bad.toml: not valid TOML"):
        load_board(bad)
    with pytest.raises(ParameterError, match="no such board file"):
        load_board(tmp_path / "missing.toml")
    with pytest.raises(ParameterError, match=r"unknown table \[pilots\]"):
        board_from_dict({**BASE, "pilots": {}})
    with pytest.raises(ParameterError, match="pilot.tolerances.r1"):
        board_from_dict({**BASE, "pilot": {"tolerances": {"r1": "lots"}}})


def test_netlist_frontend_is_checked(tmp_path):
    lib = tmp_path / "fe.lib"
    lib.write_text(".subckt fe cp adc gnd\nR1 cp adc 200k\nR2 adc gnd 100k\n.control\nshell rm -rf /\n.endc\n.ends\n")
    data = {**BASE, "frontend": {"kind": "netlist", "netlist": "fe.lib"}}
    with pytest.raises(ParameterError, match=r"frontend.netlist: fe.lib:4: .control is not allowed"):
        board_from_dict(data, base_dir=tmp_path)
    lib.write_text(".subckt fe cp adc\nR1 cp adc 200k\n.ends\n")
    with pytest.raises(ParameterError, match="expected three: cp adc gnd"):
        board_from_dict(data, base_dir=tmp_path)
    lib.write_text(".subckt fe cp adc gnd\nR1 cp adc 200k\nR2 adc gnd 100k\n.ends\n")
    board = board_from_dict(data, base_dir=tmp_path)
    with pytest.raises(ParameterError, match="needs a divider front-end"):
        bringup(board, runs=10, seed=1)


def test_api_argument_errors():
    with pytest.raises(ParameterError, match="engine"):
        bringup("openevse", runs=10, engine="magic")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="runs"):
        bringup("openevse", runs=0)
    with pytest.raises(ParameterError, match="board must be"):
        bringup(42, runs=10)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="unknown CP state"):
        bringup("openevse", runs=10, states=["Z"])
