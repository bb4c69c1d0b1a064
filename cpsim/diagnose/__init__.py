"""Diagnosis: from measurements and meter readings to named faults with one-line explanations.

==============  ===============================================================================
``cp``          CP fault rules (:data:`~cpsim.diagnose.cp.CP_RULES`, a table of small rules) and
                :func:`detect_cp_faults`
``pp``          :func:`diagnose_pp`: a proximity pilot's root cause from resistances or V(PP)
``capture``     :func:`analyze`: read a capture, measure it, diagnose its faults
==============  ===============================================================================
"""

from __future__ import annotations

from .capture import analyze
from .cp import CP_RULES, FAULT_CODES, Fault, detect_cp_faults
from .pp import PPDiagnosis, diagnose_pp

__all__ = ["analyze", "detect_cp_faults", "diagnose_pp", "Fault", "FAULT_CODES", "CP_RULES", "PPDiagnosis"]
