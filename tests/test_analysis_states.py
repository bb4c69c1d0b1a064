"""State classification: steady and PWM states, diode fault, profiles, and non-pilot waveforms."""

from __future__ import annotations

import numpy as np
import pytest

from cpsim import Waveform, analyze, standard
from cpsim.analysis.states import CODE, INVALID, classify_dc, classify_pwm, diode_fault
from cpsim.analysis.synthetic import Stretch, pilot_waveform

IEC = standard.get_profile("iec61851")
J1772 = standard.get_profile("j1772")


def _steady(level, **kw):
    kw.setdefault("noise_rms_v", 0.05)
    return pilot_waveform(Stretch(kw.pop("duration_s", 0.02), level), **kw)


def _pwm(high, low=-12.0, duty=0.25, **kw):
    kw.setdefault("noise_rms_v", 0.05)
    kw.setdefault("phase", 0.2)
    return pilot_waveform(Stretch(kw.pop("duration_s", 0.02), high, low, duty), **kw)


@pytest.mark.parametrize(("level", "state"), [(12.0, "A1"), (9.0, "B1"), (6.0, "C1"), (3.0, "D1"),
                                              (0.0, "E"), (-12.0, "F")])
def test_steady_states(level, state):
    m = analyze(_steady(level, t0_s=5.0))
    assert m.state == state
    assert not m.pwm and m.n_cycles == 0
    np.testing.assert_allclose([m.v_high, m.v_low], [level, level], atol=0.03)
    np.testing.assert_allclose(m.v_high_std, 0.05, rtol=0.2)
    assert np.isnan(m.duty) and np.isnan(m.frequency_hz) and np.isnan(m.current_a)
    assert not m.diode_fault and not m.digital_comm
    assert len(m.segments) == 1


def test_short_steady_capture():
    assert analyze(_steady(9.0, duration_s=0.002)).state == "B1"


def test_a_capture_shorter_than_a_period_cannot_tell_x1_from_x2():
    # 0.5 ms of one level: a 1 kHz PWM's phase can last 0.97 ms, so this may be half a period
    m = analyze(_steady(9.0, duration_s=0.0005))
    assert m.state == "invalid" and m.reason_code == "too_short"
    assert "cannot tell" in m.reason


@pytest.mark.parametrize(("high", "state", "current"), [(12.0, "A2", 15.0), (9.0, "B2", 15.0), (6.0, "C2", 15.0),
                                                        (3.0, "D2", 15.0)])
def test_pwm_states(high, state, current):
    m = analyze(_pwm(high))
    assert m.state == state
    np.testing.assert_allclose(m.current_a, current, atol=0.05)
    assert not m.diode_fault


def test_e_with_pwm_is_e_by_its_high_level():
    # CP shorted after the diode: the positive half is 0 V, the negative half stays at -12 V (YETI)
    m = analyze(_pwm(0.0))
    assert m.state == "E" and m.pwm
    assert np.isnan(m.current_a) and not m.digital_comm


@pytest.mark.parametrize(("high", "state"), [(8.79, "B2"), (5.62, "C2")])
def test_missing_diode_is_a_diode_fault(high, state):
    m = analyze(_pwm(high, -high))
    assert m.state == state
    assert m.diode_fault
    assert m.segments[0].diode_fault
    np.testing.assert_allclose(m.v_low, -high, atol=0.03)


def test_no_vehicle_pwm_is_not_a_diode_fault():
    m = analyze(_pwm(12.0, -12.0, 0.5))
    assert m.state == "A2" and not m.diode_fault


def test_profiles_differ_and_custom_thresholds_apply():
    w = _pwm(8.2)
    assert analyze(w, profile="iec61851").state == "B2"
    j = analyze(w, profile="j1772")
    assert j.state == "invalid" and "8.20 V" in j.reason and "j1772" in j.reason
    mine = standard.custom_profile({"B": (7.79, 10.26)}, base="j1772", name="smartevse")
    m = analyze(w, profile=mine)
    assert m.state == "B2" and m.profile == "smartevse"


def test_level_between_windows_is_invalid_with_reason():
    m = analyze(_pwm(10.5))
    assert m.state == "invalid"
    assert "10.50 V" in m.reason and "no state window" in m.reason
    assert np.isnan(m.current_a)


@pytest.mark.parametrize("name,wave", [
    ("noise", lambda t, rng: rng.normal(0.0, 1.0, t.size)),
    ("uniform noise", lambda t, rng: rng.uniform(-12, 12, t.size)),
    ("sine 1 kHz", lambda t, rng: 12.0 * np.sin(2 * np.pi * 1000 * t)),
    ("sine 50 Hz", lambda t, rng: 12.0 * np.sin(2 * np.pi * 50 * t)),
    ("triangle", lambda t, rng: 24.0 * np.abs(((t * 1000) % 1) - 0.5) * 2 - 12.0),
    ("flat 20 V", lambda t, rng: np.full(t.size, 20.0)),
    ("0/12 V logic PWM", lambda t, rng: np.where((t * 1000) % 1 < 0.3, 12.0, 0.0) + rng.normal(0, 0.05, t.size)),
])
def test_no_identifiable_pilot_is_invalid_with_a_reason(name, wave):
    t = 0.5 + np.arange(100_000) * 1e-6
    m = analyze(Waveform.from_arrays(t, wave(t, np.random.default_rng(4))))
    assert m.state == "invalid", name
    assert isinstance(m.reason, str) and len(m.reason) > 10
    assert all(s.state == "invalid" for s in m.segments)


def test_classifiers_vectorised():
    code, reason = classify_pwm(np.array([12.0, 9.0, 6.0, 3.0, 0.0, 10.5, 9.0]),
                                np.array([-12.0, -12.0, -12.0, -12.0, -12.0, -12.0, 0.0]), IEC)
    assert list(code) == [CODE[s] for s in ("A2", "B2", "C2", "D2", "E")] + [INVALID, INVALID]
    assert reason[0] == 0 and reason[5] != 0 and reason[6] != reason[5]
    code, _ = classify_dc(np.array([12.0, 9.0, 6.0, 3.0, 0.0, -12.0, 20.0, np.nan]), IEC)
    assert list(code) == [CODE[s] for s in ("A1", "B1", "C1", "D1", "E", "F")] + [INVALID, INVALID]


def test_diode_rule_follows_the_sources():
    # |V+ + V-| < 1.1 V (YETI), V- not within -12 +- 1.1 V (YETI), V+ > 2 V (CB)
    hi = np.array([8.8, 5.6, 12.0, 9.0, 1.0, 8.8])
    lo = np.array([-8.8, -5.6, -12.0, -12.0, -1.0, -7.5])
    assert list(diode_fault(hi, lo, IEC)) == [True, True, False, False, False, False]
