"""Tests of a 2×2 table that a trial report may have used for a between-arm p-value.

A table compares ``e1`` events of ``n1`` patients with ``e2`` of ``n2``. Four tests, each a
library call or one line over one:

============  ================================================  ===================================
test          what                                              R (tests/reference/two_by_two/)
============  ================================================  ===================================
pearson       Pearson chi-square, 1 df                          ``chisq.test(x, correct = FALSE)``
yates         chi-square with Yates's continuity correction     ``chisq.test(x, correct = TRUE)``
n_minus_1     (N − 1)/N × Pearson chi-square, 1 df: the         ``(N - 1) * cor(arm, event)^2``
              'N − 1' chi-square, SPSS's linear-by-linear
              association, the Mantel–Haenszel chi-square of
              one table
fisher        Fisher's exact test, two-sided                    ``fisher.test(x)``
============  ================================================  ===================================

scipy does the work (``chi2_contingency``, ``fisher_exact``). A chi-square is not defined when a
margin of the table is empty (no events at all, or no non-events): its p-value is then NaN, as R
gives NA; Fisher's test gives 1. ``tests/test_two_by_two.py`` checks every test against R.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

#: The tests, in the order tables show them.
TESTS = ("pearson", "yates", "n_minus_1", "fisher")


def table(e1: int, n1: int, e2: int, n2: int) -> np.ndarray:
    """The 2×2 table [[e1, n1 − e1], [e2, n2 − e2]]; counts must be whole, 0 <= e <= n, n >= 1."""
    values = (e1, n1, e2, n2)
    if any(int(v) != v for v in values):
        raise ValueError(f"2x2 counts must be whole numbers, got {values}")
    if not (0 <= e1 <= n1 and 0 <= e2 <= n2 and n1 >= 1 and n2 >= 1):
        raise ValueError(f"2x2 counts need 0 <= events <= total and total >= 1, got {e1}/{n1} and {e2}/{n2}")
    return np.array([[e1, n1 - e1], [e2, n2 - e2]], dtype=np.int64)


def _empty_margin(x: np.ndarray) -> bool:
    return bool((x.sum(axis=0) == 0).any())


def pearson_chi2(x: np.ndarray, correction: bool = False) -> tuple[float, float]:
    """(statistic, p) of the Pearson chi-square, with Yates's correction if ``correction``; NaN for an empty margin."""
    if _empty_margin(x):
        return math.nan, math.nan
    res = stats.chi2_contingency(x, correction=correction)
    return float(res.statistic), float(res.pvalue)


def n_minus_1_chi2(x: np.ndarray) -> tuple[float, float]:
    """(statistic, p) of the 'N − 1' chi-square: Pearson's statistic × (N − 1)/N, on 1 df."""
    chi2, _ = pearson_chi2(x)
    if math.isnan(chi2):
        return math.nan, math.nan
    n = int(x.sum())
    statistic = chi2 * (n - 1) / n
    return statistic, float(stats.chi2.sf(statistic, 1))


def fisher_p(x: np.ndarray) -> float:
    """Two-sided p of Fisher's exact test (tables as probable as the observed one count, as in R)."""
    return float(stats.fisher_exact(x, alternative="two-sided").pvalue)


def p_values(e1: int, n1: int, e2: int, n2: int) -> dict[str, float]:
    """The p-value of every test of :data:`TESTS` for e1/n1 vs e2/n2."""
    x = table(e1, n1, e2, n2)
    return {
        "pearson": pearson_chi2(x)[1],
        "yates": pearson_chi2(x, correction=True)[1],
        "n_minus_1": n_minus_1_chi2(x)[1],
        "fisher": fisher_p(x),
    }
