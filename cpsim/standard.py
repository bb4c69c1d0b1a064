"""The pilot tables: circuit values, state windows, duty <-> current, PP coding.

SAE J1772 and IEC 61851-1 are paywalled. Every value here comes from public
firmware, vendor manuals and application notes that quote or implement them,
as collected in the project's PILOT-REFERENCE (section numbers ``§`` below).
Each value names its source key:

======  ===================================================================
EV-BU   EVerest everest-core@23c9dac docs/.../bringup/basic.rst (cites IEC 61851-1:2017 Table A.6)
EV-CH   EVerest everest-core@23c9dac modules/EVSE/EvseManager (Charger, IECStateMachine)
EV-SIM  EVerest everest-core@23c9dac modules/Simulation/YetiSimulator
YETI    PionixPublic/yeti-firmware@0c915d6 Yeti/EVDrivers/ControlPilot.cpp
CB      chargebyte/everest-chargebyte@3b1ee8c utils/cp/CPUtils ("IEC 61851-1 Table A.4")
FU      florianuhlemann/J1772 J1772.h ("taken from SAE J1772 ... include tolerances")
RTH     argonne-vci/Open-RTH src/J1772/J1772.cpp (Argonne test harness)
SIE     Siemens TM ECC 2xPWM ST manual A5E42681298B-AA, tables 3-2, 3-3
PHX     Phoenix Contact EV Charge Control Basic manual 106377_en_04, Table 5-1
TI      TI JAJU858 (Dec 2022), Table 2-3
TF      Tinkerforge evse-bricklet@3acc76b software/src/iec61851.c
NXP     nxp-appcodehub rd-nxp-easyevse-imxrt106x@1e11044 IEC61851.c (numbers only)
PLNOTE  unattributed note quoting IEC 61851-1:2010 Annex A (low confidence)
OE-KB   OpenEVSE knowledge base, "Basics of SAE J1772"
MS      uw-midsun/firmware projects/charger/inc/charger_pin.h
PLC     TheGreatChris/plc-sniffer proxy_ev.sch
calc    worked out here from the sourced values
======  ===================================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np

from .errors import ParameterError

# --------------------------------------------------------------------------------------------
# §1  CP equivalent circuit
# --------------------------------------------------------------------------------------------

GENERATOR_V_HIGH_V = 12.0
"""Open-circuit generator high level [V], tolerance ±0.6 V (EV-BU "+12 V ±5 %", PLNOTE)."""
GENERATOR_V_LOW_V = -12.0
"""Open-circuit generator low level [V], tolerance ±0.6 V (EV-BU, PLNOTE)."""
GENERATOR_V_TOL_V = 0.6
"""Generator level tolerance [V] (EV-BU, PLNOTE)."""
R1_OHM = 1000.0
"""Equivalent source resistance [Ω], ±3 % (EV-BU, PLNOTE)."""
R1_TOL = 0.03
FREQUENCY_HZ = 1000.0
"""Nominal PWM frequency [Hz] (all sources)."""
GENERATOR_EDGE_MAX_S = 2e-6
"""Generator 10-90 % rise/fall time limit [s] (PLNOTE; EV-BU "the 2 µs rise time")."""
GENERATOR_EDGE_DEFAULT_S = 1e-6
"""Edge time cpsim's simulated generator uses by default [s]: inside the 2 µs limit (PLNOTE)."""
CABLE_C_MAX_F = 3100e-12
"""Cs + cable capacitance limit [F] (PLNOTE)."""
EVSE_C_RECOMMENDED_F = 300e-12
"""Recommended EVSE-side capacitance Cs [F] (PLNOTE)."""
CABLE_C_DEFAULT_F = 1000e-12
"""cpsim's default EVSE + cable capacitance [F]: Cs 300 pF (PLNOTE) plus a few metres of cable
(a per-metre figure of ~100-150 pF is typical of pilot cores but not sourced); inside the 3100 pF limit."""

R_DETECT_OHM = 2740.0
"""Vehicle resistor always connected (IEC "R2"), ±3 % (SIE, PLNOTE, TI, OE-KB)."""
R_CHARGE_OHM = 1300.0
"""Vehicle resistor switched in for state C (IEC "R3"), ±3 % (SIE, PLNOTE)."""
R_VENT_OHM = 270.0
"""Vehicle resistor switched in for state D, ±3 % (SIE)."""
VEHICLE_R_TOL = 0.03
DIODE_VF_V = 0.7
"""Vehicle diode drop [V], ±0.15 V (PLNOTE; TF assumes 0.65 V)."""
DIODE_VF_TOL_V = 0.15

# Rise/fall limits measured at the vehicle (EV-BU): B < 10 µs, C < 7 µs rise; < 13 µs fall.
VEHICLE_RISE_MAX_S = MappingProxyType({"B": 10e-6, "C": 7e-6})
VEHICLE_FALL_MAX_S = 13e-6
RIPPLE_MAX_VPP = 0.1
"""Recommended ripple on a steady level [V p-p] (EV-BU, recommendation only)."""

STATES = ("A1", "A2", "B1", "B2", "C1", "C2", "D1", "D2", "E", "F", "invalid")
"""Every state the analyzer reports. x1 = steady DC, x2 = PWM (ESP, SE, NXP, RTH)."""


# --------------------------------------------------------------------------------------------
# §2  Limits profiles: windows on the CP high level, the low level, frequency and edges
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """A closed interval ``[lo, hi]`` with the source it comes from."""

    lo: float
    hi: float
    source: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lo) and math.isfinite(self.hi)) or self.lo > self.hi:
            raise ParameterError(f"window needs finite lo <= hi, got [{self.lo}, {self.hi}]")

    def contains(self, x):
        return (np.asarray(x) >= self.lo) & (np.asarray(x) <= self.hi)

    def margin(self, x):
        """Distance to the nearest edge, positive inside, negative outside [same unit as x]."""
        x = np.asarray(x, dtype=float)
        return np.minimum(x - self.lo, self.hi - x)


@dataclass(frozen=True)
class LimitsProfile:
    """Everything a verdict is judged against.

    Parameters
    ----------
    name : str
    high_windows : mapping of state letter ("A", "B", "C", "D", "E") to the window of the CP
        high (positive plateau) level [V]. F is judged on the low level.
    f_window : window of the steady negative level of state F [V].
    low_window : window of the PWM negative level while a diode blocks it [V].
    frequency_warn, frequency_fail : windows [Hz].
    diode_fault_sum_v : diode fault when ``|v_high + v_low|`` is below this [V] while PWM runs.
    """

    name: str
    high_windows: Mapping[str, Window]
    f_window: Window
    low_window: Window
    frequency_warn: Window
    frequency_fail: Window
    diode_fault_sum_v: float = 1.1
    diode_fault_source: str = "YETI, EV-SIM: |V+ + V-| < 1.1 V while PWM runs"
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "high_windows", MappingProxyType(dict(self.high_windows)))
        unknown = set(self.high_windows) - {"A", "B", "C", "D", "E"}
        if unknown:
            raise ParameterError(f"high_windows keys must be among A B C D E, got {sorted(unknown)}")

    def with_windows(self, name: str | None = None, **windows_v) -> LimitsProfile:
        """A copy with some state windows replaced: ``profile.with_windows(B=(8.2, 9.8))`` [V]."""
        merged = dict(self.high_windows)
        for state, (lo, hi) in windows_v.items():
            merged[state.upper()] = Window(float(lo), float(hi), "user")
        return replace(self, name=name or f"{self.name}+user", high_windows=merged)


_FREQ_WARN = Window(995.0, 1005.0, "PLNOTE (IEC 2010): 1 kHz ±0.5 %")
_FREQ_FAIL = Window(980.0, 1020.0, "EV-BU: 980-1020 Hz")
_LOW_GEN = Window(-12.6, -11.4, "EV-BU, PLNOTE: generator -12 V ±0.6 V")

IEC61851 = LimitsProfile(
    name="iec61851",
    high_windows={
        "A": Window(11.0, 13.0, "CB (IEC 61851-1 Table A.4), SIE: 12 V ±1 V"),
        "B": Window(8.0, 10.0, "CB (IEC 61851-1 Table A.4), SIE: 9 V ±1 V"),
        "C": Window(5.0, 7.0, "CB (IEC 61851-1 Table A.4), SIE: 6 V ±1 V"),
        "D": Window(2.0, 4.0, "CB (IEC 61851-1 Table A.4), SIE: 3 V ±1 V"),
        "E": Window(-1.0, 2.0, "CB (IEC 61851-1 Table A.4)"),
    },
    f_window=Window(-13.0, -11.0, "CB (IEC 61851-1 Table A.4)"),
    low_window=_LOW_GEN,
    frequency_warn=_FREQ_WARN,
    frequency_fail=_FREQ_FAIL,
    description="IEC 61851-1 ±1 V windows (chargebyte's Table A.4 bands)",
)

J1772 = LimitsProfile(
    name="j1772",
    high_windows={
        "A": Window(11.40, 12.60, "FU, RTH (SAE J1772 windows incl. tolerances)"),
        "B": Window(8.36, 9.56, "FU, RTH"),
        "C": Window(5.48, 6.49, "FU, RTH"),
        "D": Window(2.62, 3.25, "FU, RTH"),
        # No J1772 source gives an E window. RTH's 0-0.25 V band is not E: its get_pilot_state maps it to
        # A1 or F (RTH J1772.cpp), and a true 0 V short with noise would fall below its 0 V edge half the
        # time. E is taken from chargebyte's IEC Table A.4 band, which holds 0 V with margin both ways.
        "E": Window(-1.0, 2.0, "CB (IEC 61851-1 Table A.4); no J1772 source (RTH's 0-0.25 V band is A1/F)"),
    },
    f_window=Window(-12.6, -11.4, "FU checks the negative level against 11.40-12.60 V"),
    low_window=Window(-12.6, -11.4, "FU: negative level 11.40-12.60 V magnitude"),
    frequency_warn=_FREQ_WARN,
    frequency_fail=_FREQ_FAIL,
    description="SAE J1772 windows as implemented by FU and RTH (narrower than IEC)",
)

PROFILES: Mapping[str, LimitsProfile] = MappingProxyType({p.name: p for p in (IEC61851, J1772)})


def get_profile(profile: str | LimitsProfile) -> LimitsProfile:
    """Look a profile up by name, or pass a :class:`LimitsProfile` through."""
    if isinstance(profile, LimitsProfile):
        return profile
    try:
        return PROFILES[str(profile).lower()]
    except KeyError:
        raise ParameterError(
            f"unknown limits profile {profile!r}; valid: {', '.join(PROFILES)}"
        ) from None


def custom_profile(thresholds_v: Mapping[str, tuple[float, float]], *, base: str = "iec61851",
                   name: str = "custom") -> LimitsProfile:
    """A profile from the user's own state windows in CP volts, e.g. a firmware's ADC thresholds.

    >>> p = custom_profile({"B": (7.79, 10.26), "C": (5.21, 7.79)})
    >>> p.high_windows["B"].lo
    7.79
    """
    return get_profile(base).with_windows(name=name, **thresholds_v)


# --------------------------------------------------------------------------------------------
# §3  Duty cycle <-> current
# --------------------------------------------------------------------------------------------

def current_from_duty(duty) -> tuple[np.ndarray, np.ndarray]:
    """What the vehicle may draw at duty ``duty`` (fraction 0-1), vectorised (§3b).

    Returns
    -------
    current_a : ndarray
        Allowed current [A]; NaN where no AC charging is allowed (and in the digital band).
    digital_comm : ndarray of bool
        True for 3 % <= D <= 7 % (NXP, PLNOTE, OE-KB): high-level communication required.

    Bands (percent): < 3 none; 3-7 digital; 7-8 none (NXP); 8-10 -> 6 A (NXP, PLNOTE);
    10-85 -> 0.6 D (all); 85-96 -> (D - 64) * 2.5 (NXP, EV-SIM, FU); 96-97 -> 80 A (EV-SIM);
    > 97 none (EV-SIM, PLNOTE).
    """
    d = np.asarray(duty, dtype=float) * 100.0
    current = np.full(d.shape, np.nan)
    current = np.where((d >= 8) & (d < 10), 6.0, current)
    current = np.where((d >= 10) & (d <= 85), 0.6 * d, current)
    current = np.where((d > 85) & (d <= 96), (d - 64.0) * 2.5, current)
    current = np.where((d > 96) & (d <= 97), 80.0, current)
    digital = (d >= 3) & (d <= 7)
    return current, digital


def duty_from_current(current_a: float) -> float:
    """The duty (fraction) an EVSE generates to offer ``current_a`` (§3a).

    6-51 A: D = I / 0.6; 51-80 A: D = I / 2.5 + 64 (OE-FW, EV-CH, SE, TF, ESP, NXP, PLNOTE).
    Currents in the 51-52.5 A gap cannot be signalled; like EV-CH they are clamped to 51 A (85 %).
    """
    i = float(current_a)
    if not math.isfinite(i) or i < 6.0 or i > 80.0:
        raise ParameterError(f"current must be 6-80 A to be signalled by PWM, got {current_a!r} A")
    if i <= 51.0:
        return i / 0.6 / 100.0
    if i < 52.5:
        return 0.85
    return (i / 2.5 + 64.0) / 100.0


DIGITAL_COMM_DUTY = 0.05
"""Duty of the 5 % high-level-communication signal (EV-BU, EV-CH PWM_5_PERCENT)."""


# --------------------------------------------------------------------------------------------
# §4  PP Type 1 (SAE J1772)
# --------------------------------------------------------------------------------------------

PP1_R6_OHM = 150.0
"""Plug R6, PP-PE with the latch switch S3 closed (OE-KB, robertcrimmins, kortas87, NXP sigbrd)."""
PP1_R7_OHM = 330.0
"""Plug R7, in series when S3 opens (button pressed): 480 Ω PP-PE (same sources)."""
PP1_PULLUP_OHM = 330.0
"""Vehicle pull-up to +5 V (PLC R301)."""
PP1_PULLDOWN_OHM = 2700.0
"""Vehicle pull-down R5 PP-GND (PLC R302)."""
PP1_SUPPLY_V = 5.0
PP1_CONDITIONS = ("unplugged", "latched", "pressed")
PP1_NOMINAL_V = MappingProxyType({"unplugged": 4.455, "latched": 1.505, "pressed": 2.763})
"""V(PP) at the vehicle, calc from the values above; MS measures 4.46 / 1.53 / 2.77 V."""
PP1_WINDOWS_V = MappingProxyType({
    "latched": Window(0.80, 1.72, "RTH"),
    "pressed": Window(2.51, 3.01, "RTH"),
    "unplugged": Window(4.20, 4.65, "RTH"),
})


# --------------------------------------------------------------------------------------------
# §5  PP Type 2 (IEC 62196): cable coding resistor Rc
# --------------------------------------------------------------------------------------------

PP2_RC_NOMINAL_OHM = MappingProxyType({13: 1500.0, 20: 680.0, 32: 220.0, 63: 100.0})
"""Rc nominal per cable rating [A -> Ω], ±3 % (SIE); 63 A 3-phase / 70 A 1-phase."""
PP2_PULLUP_OHM = 1000.0
"""EVSE pull-up (OE-HW R3 1 kΩ to +5 V; SE R16 1 kΩ to 3.3 V)."""
PP2_SUPPLY_CHOICES_V = (5.0, 3.3)


@dataclass(frozen=True)
class RcBands:
    """Rc decision bands [Ω] per cable rating [A], with the source."""

    name: str
    bands: Mapping[int, tuple[float, float]]
    error_below_ohm: float
    none_above_ohm: float
    source: str
    between_bands_lower: bool = False
    """A value in a gap between two bands reads as the lower of their two ratings (EV-BU)."""

    def rating(self, rc_ohm):
        """Cable rating [A] for each Rc (0 where no band matches), vectorised."""
        r = np.asarray(rc_ohm, dtype=float)
        out = np.zeros(r.shape)
        for amps, (lo, hi) in self.bands.items():
            out = np.where((r >= lo) & (r <= hi) & (out == 0), amps, out)
        if self.between_bands_lower:
            spans = sorted(self.bands.items(), key=lambda kv: kv[1][0])
            for (amps_a, (_, hi_a)), (amps_b, (lo_b, _)) in zip(spans, spans[1:]):
                out = np.where((r > hi_a) & (r < lo_b) & (out == 0), min(amps_a, amps_b), out)
            # outside the outer bands but inside the error / none limits: the nearest band (EV-BU
            # names only < error_below_ohm and > none_above_ohm as "None")
            (amps_low_r, (lo_first, _)), (amps_high_r, (_, hi_last)) = spans[0], spans[-1]
            out = np.where((r >= self.error_below_ohm) & (r < lo_first) & (out == 0), amps_low_r, out)
            out = np.where((r > hi_last) & (r <= self.none_above_ohm) & (out == 0), amps_high_r, out)
        return out


RC_BANDS_IEC2010 = RcBands(
    "iec2010",
    MappingProxyType({13: (1000.0, 2200.0), 20: (330.0, 1000.0), 32: (150.0, 330.0), 63: (75.0, 150.0)}),
    error_below_ohm=75.0, none_above_ohm=2200.0,
    source="PHX Table 5-1, TF, eqpassion (IEC 61851-1:2010 style bands)",
)
RC_BANDS_EVEREST = RcBands(
    "everest",
    MappingProxyType({13: (1100.0, 2460.0), 20: (400.0, 936.0), 32: (164.0, 308.0), 63: (80.0, 140.0)}),
    error_below_ohm=60.0, none_above_ohm=4500.0,
    source="EV-BU bring-up guide (values between bands -> the lower ampacity)",
    between_bands_lower=True,
)
RC_BANDS: Mapping[str, RcBands] = MappingProxyType({b.name: b for b in (RC_BANDS_IEC2010, RC_BANDS_EVEREST)})


# --------------------------------------------------------------------------------------------
# §2b, §6  Rules the analyzer applies (cpsim.analysis)
# --------------------------------------------------------------------------------------------

DIODE_OK_LOW_WINDOW = Window(-13.1, -10.9, "YETI, EV-SIM: no diode fault while V- is within -12 ±1.1 V")
"""PWM low level [V] at which the vehicle diode is evidently blocking (§2b)."""
DIODE_CHECK_MIN_HIGH_V = 2.0
"""The diode check applies only while V+ > 2 V (CB, §2b)."""
PLATEAU_SETTLE_MIN_S = 10e-6
"""A plateau is never sampled in its first 10 µs after an edge (EV-BU, §6)."""
PWM_LOW_MAX_V = -1.0
"""Highest PWM low level [V] still taken for a pilot (calc, §8: the shallowest real low is a shorted
diode in state D, -12 V * 246 Ω / 1246 Ω = -2.37 V; -1 V leaves margin). Above it the negative half
is missing and the waveform is not classified."""
