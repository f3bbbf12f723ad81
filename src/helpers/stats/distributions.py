"""The few distribution functions the statistics need, straight from ``scipy.special``.

``scipy.stats.norm.ppf``, ``t.ppf``, ``t.sf`` and ``chi2.sf`` call these same special functions
(``ndtri``, ``stdtrit``, ``stdtr``, ``chdtrc``); importing ``scipy.stats`` (and statsmodels, which
imports it) costs about 0.5 s of the 2 s that ``python -m helpers results`` may take, so the
runtime path calls the functions directly. ``tests/test_distributions.py`` checks each against
``scipy.stats`` and statsmodels.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = ["chi2_sf", "clopper_pearson", "norm_ppf", "norm_sf", "t_ppf", "t_sf", "wilson"]


def norm_ppf(p):
    """Standard normal quantile (``scipy.stats.norm.ppf``)."""
    return special.ndtri(p)


def norm_sf(x):
    """Standard normal upper tail (``scipy.stats.norm.sf``)."""
    return special.ndtr(-np.asarray(x, dtype=float))


def t_ppf(p, df):
    """Student t quantile (``scipy.stats.t.ppf``); normal for infinite df."""
    return norm_ppf(p) if math.isinf(df) else special.stdtrit(df, p)


def t_sf(x, df):
    """Student t upper tail (``scipy.stats.t.sf``); normal for infinite df."""
    return norm_sf(x) if math.isinf(df) else special.stdtr(df, -np.asarray(x, dtype=float))


def chi2_sf(x, df):
    """Chi-square upper tail (``scipy.stats.chi2.sf``)."""
    return special.chdtrc(df, x)


def clopper_pearson(x, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) interval of x/n: beta quantiles, 0 and 1 at the edges.

    statsmodels' ``proportion_confint(method="beta")``: ``beta.ppf(a/2, x, n-x+1)`` and
    ``beta.isf(a/2, x+1, n-x)``, which are ``betaincinv``.
    """
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    alpha = 1 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(x > 0, special.betaincinv(x, n - x + 1, alpha / 2), 0.0)
        high = np.where(x < n, special.betaincinv(x + 1, n - x, 1 - alpha / 2), 1.0)
    return low, high


def wilson(x, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of x/n (statsmodels' ``proportion_confint(method="wilson")``)."""
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    z = float(norm_ppf(1 - (1 - level) / 2))
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half
