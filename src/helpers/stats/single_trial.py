"""One trial's two-arm comparison of a binary outcome, with small-sample methods.

When an outcome is compared in a single trial nothing is pooled, and the counts are often small
(an adverse event in a few patients of one arm, none in the other), where large-sample (Wald)
intervals are too narrow and can exclude no difference when an exact test does not. This module
wraps the well-kept implementations and names what each is:

* :func:`risk_difference` - p1 - p2 with Newcombe's hybrid score interval (Newcombe 1998, method
  10: Wilson score limits of each proportion combined, as statsmodels'
  ``confint_proportions_2indep(method="newcomb")``) or the Wald interval;
* :func:`risk_ratio` - p1 / p2 with the log (Katz et al. 1978) interval, which is what the
  Mantel-Haenszel method gives for one table; not estimable when an arm has no events;
* :func:`fisher_p` - two-sided p of Fisher's exact test (tables no more probable than the observed
  one, as scipy's ``fisher_exact`` and R's ``fisher.test``);
* :func:`compare` - all three, as a protocol declares them.

Group 1 is the treatment arm (``a`` events of ``n1``), group 2 the control arm (``c`` of ``n2``), as
in :mod:`helpers.stats.effects`. ``tests/test_single_trial.py`` checks every number against base R
(``tests/reference/single_trial``) and Newcombe's published worked examples.

The Wilson limits and the hypergeometric probabilities are computed with scipy.special
(:mod:`helpers.stats.distributions`), not by calling statsmodels and scipy.stats, whose imports
would cost a quarter of ``python -m helpers results``'s time budget; ``tests/test_distributions.py``
holds both to those libraries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from helpers.stats import distributions

__all__ = ["RISK_DIFFERENCE_METHODS", "RISK_RATIO_METHODS", "TESTS", "Comparison", "compare", "fisher_p"]

RISK_DIFFERENCE_METHODS = ("newcombe", "wald")
RISK_RATIO_METHODS = ("log",)
TESTS = ("fisher", "z")


def _check(a: int, n1: int, c: int, n2: int) -> tuple[int, int, int, int]:
    values = tuple(int(x) for x in (a, n1, c, n2))
    if any(float(x) != v for x, v in zip((a, n1, c, n2), values)):
        raise ValueError("counts must be whole numbers")
    a, n1, c, n2 = values
    if n1 < 1 or n2 < 1 or not (0 <= a <= n1 and 0 <= c <= n2):
        raise ValueError(f"need 0 <= events <= total and total >= 1 in both arms, got {a}/{n1} and {c}/{n2}")
    return a, n1, c, n2


def _z(level: float) -> float:
    return float(distributions.norm_ppf(1 - (1 - level) / 2))


def _wald_p(estimate: float, se: float) -> float:
    if not (math.isfinite(estimate) and math.isfinite(se)) or se <= 0:
        return math.nan
    return float(2 * distributions.norm_sf(abs(estimate / se)))


def risk_difference(a, n1, c, n2, method: str = "newcombe", level: float = 0.95) -> tuple[float, float, float, float]:
    """p1 - p2, its interval and the Wald z p-value: (rd, low, high, p_wald).

    ``method="newcombe"``: the hybrid score interval without continuity correction (Newcombe 1998,
    method 10), which stays inside [-1, 1] and is defined for zero cells; ``"wald"``: p1 - p2 ± z·se
    with se² = p1(1-p1)/n1 + p2(1-p2)/n2 (NaN limits when se = 0).
    """
    if method not in RISK_DIFFERENCE_METHODS:
        raise ValueError(f"method must be one of {RISK_DIFFERENCE_METHODS}, got {method!r}")
    a, n1, c, n2 = _check(a, n1, c, n2)
    p1, p2 = a / n1, c / n2
    rd = p1 - p2
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    if method == "newcombe":
        (l1, l2), (u1, u2) = distributions.wilson([a, c], [n1, n2], level)
        low = rd - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        high = rd + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    elif se > 0:
        low, high = rd - _z(level) * se, rd + _z(level) * se
    else:
        low = high = math.nan
    return rd, low, high, _wald_p(rd, se)


def risk_ratio(a, n1, c, n2, method: str = "log", level: float = 0.95) -> tuple[float, float, float, float]:
    """p1 / p2 with the log (Katz) interval and its Wald z p-value: (rr, low, high, p_wald).

    se(log RR)² = 1/a - 1/n1 + 1/c - 1/n2 from the raw counts: NaN (not estimable) when either arm
    has no events, as for the Mantel-Haenszel risk ratio of one table.
    """
    if method not in RISK_RATIO_METHODS:
        raise ValueError(f"method must be one of {RISK_RATIO_METHODS}, got {method!r}")
    a, n1, c, n2 = _check(a, n1, c, n2)
    if a == 0 or c == 0:
        return (math.nan,) * 4
    log_rr = math.log((a / n1) / (c / n2))
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    half = _z(level) * se
    return math.exp(log_rr), math.exp(log_rr - half), math.exp(log_rr + half), _wald_p(log_rr, se)


def fisher_p(a, n1, c, n2) -> float:
    """Two-sided p-value of Fisher's exact test of the 2x2 table (scipy ``fisher_exact``)."""
    a, n1, c, n2 = _check(a, n1, c, n2)
    k = a + c
    x = np.arange(max(0, k - n2), min(n1, k) + 1)
    log_pmf = _log_choose(n1, x) + _log_choose(n2, k - x) - _log_choose(n1 + n2, k)
    observed = log_pmf[x == a][0]
    # Tables no more probable than the observed one, with scipy's and R's relative tolerance 1e-7.
    p = np.exp(log_pmf[log_pmf <= observed + np.log1p(1e-7)]).sum()
    return float(min(1.0, p))


def _log_choose(n, k):
    return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)


@dataclass(frozen=True)
class Comparison:
    """A single trial's comparison: the risk ratio and risk difference with their intervals and p-values.

    ``p_rr`` and ``p_rd`` are both Fisher's exact p for ``test="fisher"`` (one test of the table),
    or each measure's Wald z p for ``test="z"``.
    """

    rr: float
    rr_low: float
    rr_high: float
    p_rr: float
    rd: float
    rd_low: float
    rd_high: float
    p_rd: float
    risk_ratio_method: str
    risk_difference_method: str
    test: str
    level: float = 0.95


def compare(
    a,
    n1,
    c,
    n2,
    *,
    risk_ratio_method: str = "log",
    risk_difference_method: str = "newcombe",
    test: str = "fisher",
    level: float = 0.95,
) -> Comparison:
    """Risk ratio, risk difference and p-values of one trial with the declared methods."""
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}, got {test!r}")
    rr, rr_low, rr_high, p_rr = risk_ratio(a, n1, c, n2, risk_ratio_method, level)
    rd, rd_low, rd_high, p_rd = risk_difference(a, n1, c, n2, risk_difference_method, level)
    if test == "fisher":
        p_rr = p_rd = fisher_p(a, n1, c, n2)
    return Comparison(
        rr=rr,
        rr_low=rr_low,
        rr_high=rr_high,
        p_rr=p_rr,
        rd=rd,
        rd_low=rd_low,
        rd_high=rd_high,
        p_rd=p_rd,
        risk_ratio_method=risk_ratio_method,
        risk_difference_method=risk_difference_method,
        test=test,
        level=level,
    )
