"""How sure a study's counts are: the misread rate and its exact (Clopper-Pearson) upper bound.

Zero misreads in N runs is not zero risk. The one-sided 95 % Clopper-Pearson upper bound of a
rate with k events in n trials is the 0.95 quantile of Beta(k + 1, n - k); for k = 0 it is
``1 - 0.05**(1/n)``, just under 3/n (the "rule of three"). So 0 misreads in 10 000 runs says the
misread rate is below 3 in 10 000 with 95 % confidence, and no better.
"""

from __future__ import annotations

import math

__all__ = ["CONFIDENCE", "misread_bound", "misread_text"]

CONFIDENCE = 0.95
"""Confidence of the upper bound (one-sided)."""


def misread_bound(k: int, n: int, confidence: float = CONFIDENCE) -> float:
    """One-sided Clopper-Pearson upper bound of a rate with ``k`` events in ``n`` trials (NaN for n = 0).

    Examples
    --------
    >>> round(misread_bound(0, 1000), 6)        # 1 - 0.05**(1/1000)
    0.002991
    """
    if n <= 0:
        return math.nan
    if k >= n:
        return 1.0
    from scipy.stats import beta

    return float(beta.ppf(confidence, k + 1, n - k))


def misread_text(k: int, n: int, confidence: float = CONFIDENCE) -> str:
    """``"0 of 10,000 runs misread: rate < 3 in 10,000 (95 % upper bound)"`` and the like.

    Examples
    --------
    >>> misread_text(0, 10_000)
    '0 of 10,000 runs misread: rate < 3 in 10,000 (95 % upper bound)'
    """
    if n <= 0:
        return "no valid runs: misread rate unknown"
    upper = misread_bound(k, n, confidence)
    level = f"{100 * confidence:g} % upper bound"
    if k == 0:
        return f"{k} of {n:,} runs misread: rate < {math.ceil(upper * n * 10) / 10:g} in {n:,} ({level})"
    return f"{k:,} of {n:,} runs misread: rate {_pct(k / n)} ({level} {_pct(upper)})"


def _pct(x: float) -> str:
    return f"{100 * x:.3g} %"
