"""Simulate the proximity pilot (Type 1 latch ladder, Type 2 cable coding) with ngspice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .. import standard as std
from ..errors import ParameterError, SimulationError
from ..units import check_number
from .netlist import compose, load_scenario
from .scenarios import OPEN_OHM, SHORT_OHM, pp_plug_ohm

__all__ = ["PPResult", "simulate_pp"]

Connector = Literal["type1", "type2"]


@dataclass(frozen=True)
class PPResult:
    """The proximity-pilot voltage and what it means.

    Attributes
    ----------
    connector : "type1" or "type2"
    condition : Type 1: "unplugged", "latched", "pressed"; Type 2: "plugged", "unplugged".
    v_pp : float
        PP voltage [V]: at the vehicle inlet (Type 1) or at the EVSE (Type 2).
    r_pp_pe_ohm : float
        Resistance between PP and PE presented by the plug/cable [Ω] (inf when unplugged).
    supply_v, pullup_ohm : float
        The reading circuit.
    cable_rating_a : float or None
        Type 2: the rating the EVSE derives from Rc with ``bands``; 0 for no valid cable.
    """

    connector: str
    condition: str
    v_pp: float
    r_pp_pe_ohm: float
    supply_v: float
    pullup_ohm: float
    cable_rating_a: float | None = None
    bands: str | None = None
    params: dict = field(default_factory=dict)
    fault: str | None = None

    def to_dict(self) -> dict:
        d = {
            "connector": self.connector, "condition": self.condition, "v_pp": self.v_pp,
            "r_pp_pe_ohm": None if not np.isfinite(self.r_pp_pe_ohm) else self.r_pp_pe_ohm,
            "supply_v": self.supply_v, "pullup_ohm": self.pullup_ohm,
        }
        if self.connector == "type2":
            d["cable_rating_a"] = self.cable_rating_a
            d["bands"] = self.bands
        if self.fault is not None:
            d["fault"] = self.fault
        return d


def _run_op(scenario_name: str, params: dict[str, float], omit=()) -> float:
    from .ngspice import session

    sess = session()
    netlist = compose(load_scenario(scenario_name), [params], ".op", omit=omit)
    vectors = sess.run(netlist)
    v = vectors.get("pp")
    if v is None or v.size != 1:
        raise SimulationError("ngspice returned no PP operating point", log=sess.log)
    return float(v[0])


def simulate_pp(connector: Connector = "type1", *, condition: str | None = None, rc_ohm: float | None = None,
                supply_v: float | None = None, pullup_ohm: float | None = None,
                pulldown_ohm: float | None = None, r6_ohm: float | None = None,
                r7_ohm: float | None = None, bands: str | None = None, fault: str | None = None) -> PPResult:
    """Simulate the proximity pilot and return its DC voltage.

    Parameters
    ----------
    connector : {"type1", "type2"}
    condition : str
        Type 1: ``"latched"`` (default; S3 closed, 150 Ω), ``"pressed"`` (S3 open, 480 Ω) or
        ``"unplugged"``. Type 2: ``"plugged"`` (default) or ``"unplugged"``.
    rc_ohm : float
        Type 2 cable coding resistor [Ω] (default 680 Ω, a 20 A cable).
    supply_v : float
        Pull-up supply [V]: Type 1 5 V; Type 2 5 V (OpenEVSE) or 3.3 V (SmartEVSE).
    pullup_ohm : float
        Pull-up [Ω]: Type 1 330 Ω (vehicle), Type 2 1 kΩ (EVSE).
    pulldown_ohm : float
        Type 1 vehicle pull-down [Ω] (2.7 kΩ).
    r6_ohm, r7_ohm : float
        Type 1 plug resistors [Ω] (150 Ω, 330 Ω).
    bands : {"iec2010", "everest"}
        Type 2 Rc decision bands used for ``cable_rating_a`` (PILOT-REFERENCE §5; default iec2010).

    A value that belongs to the other connector (``rc_ohm`` or ``bands`` with Type 1; ``r6_ohm``,
    ``r7_ohm`` or ``pulldown_ohm`` with Type 2) or to a plug that is absent (``rc_ohm``, ``r6_ohm``,
    ``r7_ohm`` when unplugged) is refused rather than ignored.
    fault : str, optional
        A fault scenario of :data:`cpsim.sim.scenarios.PP_FAULTS` for ``connector`` (e.g. ``"s3_stuck_open"``),
        simulated with the plug in (``condition`` latched or pressed for Type 1).
    """
    given = {name for name, value in (("rc_ohm", rc_ohm), ("bands", bands), ("r6_ohm", r6_ohm),
                                      ("r7_ohm", r7_ohm), ("pulldown_ohm", pulldown_ohm)) if value is not None}
    foreign = given & ({"rc_ohm", "bands"} if connector == "type1" else {"r6_ohm", "r7_ohm", "pulldown_ohm"})
    if connector in ("type1", "type2") and foreign:
        other = "type2" if connector == "type1" else "type1"
        verb = "applies" if len(foreign) == 1 else "apply"
        raise ParameterError(f"{', '.join(sorted(foreign))} {verb} only to a {other} connector, not {connector}")
    if condition == "unplugged" and given & {"rc_ohm", "r6_ohm", "r7_ohm"}:
        raise ParameterError(f"{', '.join(sorted(given & {'rc_ohm', 'r6_ohm', 'r7_ohm'}))}: no plug when unplugged")
    pulldown_ohm = std.PP1_PULLDOWN_OHM if pulldown_ohm is None else pulldown_ohm
    r6_ohm = std.PP1_R6_OHM if r6_ohm is None else r6_ohm
    r7_ohm = std.PP1_R7_OHM if r7_ohm is None else r7_ohm
    bands = "iec2010" if bands is None else bands
    if connector == "type1":
        condition = condition or "latched"
        if condition not in std.PP1_CONDITIONS:
            raise ParameterError(f"type1 condition must be one of {', '.join(std.PP1_CONDITIONS)}, got {condition!r}")
        supply = check_number("supply_v", std.PP1_SUPPLY_V if supply_v is None else supply_v, lo=0.1, hi=30, unit="V")
        pullup = check_number("pullup_ohm", std.PP1_PULLUP_OHM if pullup_ohm is None else pullup_ohm,
                              lo=1e-3, hi=1e9, unit="Ω")
        pulldown = check_number("pulldown_ohm", pulldown_ohm, lo=1e-3, hi=1e12, unit="Ω")
        r6 = check_number("r6_ohm", r6_ohm, lo=1e-3, hi=1e9, unit="Ω")
        r7 = check_number("r7_ohm", r7_ohm, lo=1e-3, hi=1e9, unit="Ω")
        params = {"v_supply": supply, "r_pullup": pullup, "r_pulldown": pulldown}
        if fault is not None:
            return _simulate_fault("type1", fault, condition, params, {"r6": (r6, std.PP1_R6_OHM),
                                                                      "r7": (r7, std.PP1_R7_OHM)}, bands)
        if condition == "unplugged":
            v = _run_op("pp_type1_unplugged", params)
            r_pe = float("inf")
        else:
            r_s3 = SHORT_OHM if condition == "latched" else OPEN_OHM
            params.update(r6=r6, r7=r7, r_s3=r_s3)
            v = _run_op("pp_type1", params)
            r_pe = pp_plug_ohm(params)
        return PPResult("type1", condition, v, r_pe, supply, pullup, params=params)

    if connector == "type2":
        condition = condition or "plugged"
        if condition not in ("plugged", "unplugged"):
            raise ParameterError(f"type2 condition must be 'plugged' or 'unplugged', got {condition!r}")
        if bands not in std.RC_BANDS:
            raise ParameterError(f"bands must be one of {', '.join(std.RC_BANDS)}, got {bands!r}")
        supply = check_number("supply_v", std.PP2_SUPPLY_CHOICES_V[0] if supply_v is None else supply_v,
                              lo=0.1, hi=30, unit="V")
        pullup = check_number("pullup_ohm", std.PP2_PULLUP_OHM if pullup_ohm is None else pullup_ohm,
                              lo=1e-3, hi=1e9, unit="Ω")
        params = {"v_supply": supply, "r_pullup": pullup}
        if fault is not None:
            return _simulate_fault("type2", fault, condition, params, {"rc": (rc_ohm, None)}, bands)
        if condition == "unplugged":
            return PPResult("type2", condition, _run_op("pp_type2_unplugged", params), float("inf"),
                            supply, pullup, 0.0, bands, params)
        rc = check_number("rc_ohm", std.PP2_RC_NOMINAL_OHM[20] if rc_ohm is None else rc_ohm,
                          lo=1e-3, hi=1e9, unit="Ω")
        params["rc"] = rc
        v = _run_op("pp_type2", params)
        rating = float(std.RC_BANDS[bands].rating(rc))
        return PPResult("type2", condition, v, rc, supply, pullup, rating, bands, params)

    raise ParameterError(f"connector must be 'type1' or 'type2', got {connector!r}")


def _simulate_fault(connector: str, name: str, condition: str, params: dict[str, float],
                    components: dict[str, tuple], bands: str) -> PPResult:
    """Run fault ``name`` of :mod:`cpsim.sim.scenarios` with the reading circuit in ``params``.

    ``components`` maps a plug ``.param`` to (value given, nominal default); a part the fault
    breaks may not also be given a value of its own.
    """
    from .scenarios import pp_fault

    fault = pp_fault(name, connector)
    if condition == "unplugged":
        raise ParameterError(f"fault {name!r} needs the plug in: condition latched or pressed (type1) "
                             "/ plugged (type2)")
    for key, (value, default) in components.items():
        if key in fault.netlist_params and value is not None and value != default:
            raise ParameterError(f"fault {name!r} sets {key}; do not pass {key}_ohm as well")
        if value is not None:
            params[key] = check_number(f"{key}_ohm", value, lo=1e-3, hi=1e12, unit="Ω")
    if connector == "type1":
        params["r_s3"] = SHORT_OHM if condition == "latched" else OPEN_OHM
        params["r_short"] = OPEN_OHM
    params.update(fault.netlist_params)
    v = _run_op(fault.netlist, params)
    r_pe = pp_plug_ohm(params)
    rating = float(std.RC_BANDS[bands].rating(r_pe)) if connector == "type2" else None
    return PPResult(connector, condition, v, r_pe, params["v_supply"], params["r_pullup"], rating,
                    bands if connector == "type2" else None, params, fault=name)
