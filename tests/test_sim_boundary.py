"""The ngspice boundary: real failures raise SimulationError with ngspice's text; notes do not."""

import pytest

from cpsim import SimulationError
from cpsim.sim.ngspice import session


def test_one_session_per_process(ngspice):
    assert session() is ngspice
    assert isinstance(ngspice.version, int) and ngspice.version >= 30


def test_unknown_subcircuit_is_reported_with_ngspice_text(ngspice):
    with pytest.raises(SimulationError, match="unknown subckt"):
        ngspice.run("* bad\nR1 a 0 1k\nX1 a b nosuchthing\n.tran 1u 1m\n.end\n")


def test_failing_run_is_reported(ngspice):
    # two ideal sources in parallel: ngspice cannot solve the operating point
    with pytest.raises(SimulationError) as info:
        ngspice.run("* loop\nV1 a 0 1\nV2 a 0 2\nR1 a 0 1k\n.op\n.end\n")
    assert info.value.log.strip()


def test_harmless_notes_do_not_fail_a_run(ngspice):
    # A PULSE whose DC value differs from its t=0 value makes ngspice print
    # "Note: ... dc value used for op instead of transient time=0 value" (PySpice issue #379).
    vectors = ngspice.run("* note\nV1 a 0 DC 1 PULSE(0 1 0 1u 1u 1m 2m)\nR1 a 0 1k\n.tran 10u 1m\n.end\n")
    assert "note:" in ngspice.log.lower()
    assert vectors["a"].size > 10


def test_session_recovers_after_an_error(ngspice):
    with pytest.raises(SimulationError):
        ngspice.run("* bad\nR1 a 0 foo\n.op\n.end\n")
    assert ngspice.run("* ok\nV1 a 0 2\nR1 a b 1k\nR2 b 0 1k\n.op\n.end\n")["b"][0] == pytest.approx(1.0)
