"""Study-level effect sizes, the Python counterpart of metafor's ``escalc()``.

Everything here is vectorised over studies and reproduces metafor 3.8-1 with its
default settings (``add = 1/2``, ``to = "only0"``, ``drop00 = FALSE``,
``vtype = "LS"``). ``tests/test_effects.py`` checks every study of
``tests/reference/metafor/effect_sizes.csv`` to a relative tolerance of 1e-6.

Effect sizes are on metafor's analysis scale:

========  ==========================================  ================================
measure   yi                                          vi
========  ==========================================  ================================
RR        log(p1 / p2)                                1/ai - 1/n1i + 1/ci - 1/n2i
OR        log(ai di / (bi ci))                        1/ai + 1/bi + 1/ci + 1/di
RD        p1 - p2                                     p1(1-p1)/n1i + p2(1-p2)/n2i
PLO       logit(p)                                    1/(ni p (1-p))
PR        p                                           p(1-p)/ni
PFT       (asin√(xi/(ni+1)) + asin√((xi+1)/(ni+1)))/2  1/(4 ni + 2)
MD        m1i - m2i                                   sd1i²/n1i + sd2i²/n2i
SMD       c(m) (m1i - m2i) / s_pooled  (Hedges' g)    1/n1i + 1/n2i + g²/(2(n1i+n2i))
SMCR      c(ni-1) (m1i - m2i) / sd1i                  2(1-ri)/ni + g²/(2 ni)
========  ==========================================  ================================

Group 1 is the treatment arm (``ai`` events of ``n1i``), group 2 the control arm
(``ci`` of ``n2i``), as in metafor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special

from helpers.stats import distributions

__all__ = [
    "BINARY_MEASURES",
    "PROPORTION_MEASURES",
    "CONTINUOUS_MEASURES",
    "MEASURES",
    "escalc",
    "hedges_correction",
    "transf_exp",
    "transf_ilogit",
    "transf_pft",
    "transf_ipft_hm",
    "proportion_ci",
    "mean_sd_from_median",
]

BINARY_MEASURES = ("RR", "OR", "RD")
PROPORTION_MEASURES = ("PLO", "PFT", "PR")
CONTINUOUS_MEASURES = ("MD", "SMD", "SMCR")
MEASURES = BINARY_MEASURES + PROPORTION_MEASURES + CONTINUOUS_MEASURES

_TO_OPTIONS = ("only0", "all", "if0all", "none")


def _two_proportions(measure: str, a, n1, c, n2) -> tuple[np.ndarray, np.ndarray]:
    """yi and vi of two proportions a/n1 and c/n2 (cells already corrected).

    The formulas of statsmodels' ``effectsize_2proportions``, written out because importing
    statsmodels costs 0.5 s of the results command's budget (see
    :mod:`helpers.stats.distributions`); ``tests/test_effects.py`` checks them against
    statsmodels and metafor.
    """
    p1, p2 = a / n1, c / n2
    if measure == "RR":
        return np.log(p1 / p2), 1 / a - 1 / n1 + 1 / c - 1 / n2
    if measure == "OR":
        return np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2)), 1 / a + 1 / (n1 - a) + 1 / c + 1 / (n2 - c)
    return p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2


ArrayLike = Sequence[float] | np.ndarray | pd.Series


def _arr(x: ArrayLike | None, name: str) -> np.ndarray:
    if x is None:
        raise ValueError(f"argument {name!r} is required for this measure")
    return np.atleast_1d(np.asarray(x, dtype=float))


def _result(yi, vi, adjusted, dropped) -> pd.DataFrame:
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    return pd.DataFrame(
        {
            "yi": yi,
            "vi": vi,
            "sei": np.sqrt(vi),
            "zero_cell_adjusted": np.asarray(adjusted, dtype=bool),
            "dropped": np.asarray(dropped, dtype=bool),
        }
    )


def _which_to_adjust(has_zero: np.ndarray, add: float, to: str) -> np.ndarray:
    """Studies that get the continuity correction (metafor's ``to`` argument)."""
    if to not in _TO_OPTIONS:
        raise ValueError(f"'to' must be one of {_TO_OPTIONS}, got {to!r}")
    if add == 0 or to == "none":
        return np.zeros_like(has_zero)
    if to == "all":
        return np.ones_like(has_zero)
    if to == "if0all":
        return np.full_like(has_zero, has_zero.any())
    return has_zero  # "only0"


def escalc(
    measure: str,
    *,
    ai: ArrayLike | None = None,
    bi: ArrayLike | None = None,
    ci: ArrayLike | None = None,
    di: ArrayLike | None = None,
    n1i: ArrayLike | None = None,
    n2i: ArrayLike | None = None,
    xi: ArrayLike | None = None,
    ni: ArrayLike | None = None,
    m1i: ArrayLike | None = None,
    sd1i: ArrayLike | None = None,
    m2i: ArrayLike | None = None,
    sd2i: ArrayLike | None = None,
    ri: ArrayLike | None = None,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = False,
) -> pd.DataFrame:
    """Effect sizes and sampling variances, like metafor's ``escalc()``.

    Parameters follow metafor's names. Two-arm binary data (RR, OR, RD) take
    ``ai, ci`` plus either ``bi, di`` or ``n1i, n2i``. Single-arm proportions
    (PLO, PFT, PR) take ``xi, ni``. MD and SMD take ``m1i, sd1i, n1i, m2i, sd2i,
    n2i``. SMCR (standardized mean change, raw-score standardization) takes
    ``m1i`` (post-treatment mean), ``m2i`` (baseline mean), ``sd1i`` (baseline
    SD), ``ni`` and ``ri`` (the pre-post correlation, which must be given).

    Zero cells (metafor defaults): with ``to="only0"`` a binary study with any
    zero cell gets ``add`` added to all four cells (for RR, OR *and* RD), and a
    proportion with ``xi == 0`` or ``xi == ni`` gets ``add`` added to ``xi`` and
    ``ni - xi``. PFT is never adjusted (metafor uses ``add = 0`` for PFT: the
    transformation is finite at 0 and 1). ``to`` may also be "all", "if0all" or
    "none". With ``drop00=True`` binary studies with no events (or only events)
    in both arms get ``yi = vi = NaN`` and ``dropped = True``.

    Returns
    -------
    DataFrame with columns ``yi, vi, sei, zero_cell_adjusted, dropped``, one row
    per study in input order.
    """
    measure = measure.upper()
    if measure in BINARY_MEASURES:
        return _escalc_binary(measure, ai, bi, ci, di, n1i, n2i, add, to, drop00)
    if measure in PROPORTION_MEASURES:
        return _escalc_proportion(measure, xi, ni, add, to)
    if measure in ("MD", "SMD"):
        return _escalc_two_means(measure, m1i, sd1i, n1i, m2i, sd2i, n2i)
    if measure == "SMCR":
        return _escalc_smcr(m1i, m2i, sd1i, ni, ri)
    raise ValueError(f"unknown measure {measure!r}; expected one of {MEASURES}")


def _escalc_binary(measure, ai, bi, ci, di, n1i, n2i, add, to, drop00) -> pd.DataFrame:
    a = _arr(ai, "ai")
    c = _arr(ci, "ci")
    b = _arr(bi, "bi") if bi is not None else _arr(n1i, "n1i") - a
    d = _arr(di, "di") if di is not None else _arr(n2i, "n2i") - c
    if np.any(np.concatenate([a, b, c, d]) < 0):
        raise ValueError("cell counts must be non-negative (check events <= totals)")

    # metafor's id00: no events in both arms, or only events in both arms.
    double_zero = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
    dropped = double_zero if drop00 else np.zeros_like(double_zero)
    has_zero = ((a == 0) | (b == 0) | (c == 0) | (d == 0)) & ~dropped
    adjust = _which_to_adjust(has_zero, add, to) & ~dropped
    cc = np.where(adjust, add, 0.0)
    a, b, c, d = a + cc, b + cc, c + cc, d + cc

    with np.errstate(divide="ignore", invalid="ignore"):
        yi, vi = _two_proportions(measure, a, a + b, c, c + d)
    yi = np.where(dropped, np.nan, yi)
    vi = np.where(dropped, np.nan, vi)
    return _result(yi, vi, adjust, dropped)


def _escalc_proportion(measure, xi, ni, add, to) -> pd.DataFrame:
    x = _arr(xi, "xi")
    n = _arr(ni, "ni")
    if np.any((x < 0) | (x > n)):
        raise ValueError("need 0 <= xi <= ni")
    if measure == "PFT":
        # No continuity correction for the Freeman-Tukey double arcsine.
        yi = transf_pft(x / n, n)
        vi = 1.0 / (4.0 * n + 2.0)
        return _result(yi, vi, np.zeros(x.shape, bool), np.zeros(x.shape, bool))

    adjust = _which_to_adjust((x == 0) | (x == n), add, to)
    x = x + np.where(adjust, add, 0.0)
    n = n + np.where(adjust, 2.0 * add, 0.0)
    p = x / n
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "PLO":
            yi = np.log(p / (1.0 - p))
            vi = 1.0 / (n * p * (1.0 - p))
        else:  # PR
            yi = p
            vi = p * (1.0 - p) / n
    return _result(yi, vi, adjust, np.zeros(x.shape, bool))


def hedges_correction(m: ArrayLike) -> np.ndarray:
    """Exact small-sample correction c(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2)).

    metafor's ``.cmicalc()``. (statsmodels' ``effectsize_smd`` uses the
    approximation 1 - 3/(4m - 1), which differs in the 4th decimal for small m.)
    """
    m = np.asarray(m, dtype=float)
    return np.exp(special.gammaln(m / 2) - np.log(np.sqrt(m / 2)) - special.gammaln((m - 1) / 2))


def _escalc_two_means(measure, m1i, sd1i, n1i, m2i, sd2i, n2i) -> pd.DataFrame:
    m1, s1, n1 = _arr(m1i, "m1i"), _arr(sd1i, "sd1i"), _arr(n1i, "n1i")
    m2, s2, n2 = _arr(m2i, "m2i"), _arr(sd2i, "sd2i"), _arr(n2i, "n2i")
    if measure == "MD":
        # vtype = "LS": no equal-variance assumption.
        yi = m1 - m2
        vi = s1**2 / n1 + s2**2 / n2
    else:
        m = n1 + n2 - 2
        s_pooled = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / m)
        yi = hedges_correction(m) * (m1 - m2) / s_pooled
        vi = 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
    none = np.zeros(yi.shape, bool)
    return _result(yi, vi, none, none)


def _escalc_smcr(m1i, m2i, sd1i, ni, ri) -> pd.DataFrame:
    """metafor's measure "SMCR" (Becker 1988; Morris 2008), vtype "LS".

    yi = c(ni - 1) (m1i - m2i) / sd1i and vi = 2 (1 - ri) / ni + yi² / (2 ni),
    with m1i the post-treatment mean, m2i the baseline mean, sd1i the *baseline*
    SD and ri the pre-post correlation.
    """
    m1, m2, s1 = _arr(m1i, "m1i"), _arr(m2i, "m2i"), _arr(sd1i, "sd1i")
    n, r = _arr(ni, "ni"), _arr(ri, "ri")
    if np.any(np.abs(r) > 1):
        raise ValueError("correlations ri must lie in [-1, 1]")
    yi = hedges_correction(n - 1) * (m1 - m2) / s1
    vi = 2 * (1 - r) / n + yi**2 / (2 * n)
    none = np.zeros(yi.shape, bool)
    return _result(yi, vi, none, none)


# ---------------------------------------------------------------------------
# Back-transformations (metafor's transf.* functions)
# ---------------------------------------------------------------------------


def transf_exp(x: ArrayLike) -> np.ndarray:
    """exp(x): log RR / log OR back to the ratio scale (metafor ``exp``)."""
    return np.exp(np.asarray(x, dtype=float))


def transf_ilogit(x: ArrayLike) -> np.ndarray:
    """Inverse logit, metafor's ``transf.ilogit``."""
    return special.expit(np.asarray(x, dtype=float))


def transf_pft(p: ArrayLike, ni: ArrayLike) -> np.ndarray:
    """Freeman-Tukey double arcsine of a proportion p with n = ni (``transf.pft``)."""
    x = np.asarray(p, dtype=float) * np.asarray(ni, dtype=float)
    n = np.asarray(ni, dtype=float)
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))


def transf_ipft_hm(x: ArrayLike, ni: ArrayLike) -> np.ndarray:
    """Inverse Freeman-Tukey with the harmonic mean of ni (``transf.ipft.hm``).

    Values below transf_pft(0, n_hm) give 0 and values above transf_pft(1, n_hm)
    give 1, like metafor; where the closed-form inverse is undefined the result
    is NaN.
    """
    x = np.atleast_1d(np.asarray(x, dtype=float))
    n_hm = 1.0 / np.nanmean(1.0 / np.asarray(ni, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sin(2 * x)
        z = 0.5 * (1 - np.sign(np.cos(2 * x)) * np.sqrt(1 - (s + (s - 1 / s) / n_hm) ** 2))
    z = np.where(x > transf_pft(1.0, n_hm), 1.0, z)
    z = np.where(x < transf_pft(0.0, n_hm), 0.0, z)
    return z


# ---------------------------------------------------------------------------
# Per-study proportion confidence intervals
# ---------------------------------------------------------------------------


def proportion_ci(
    events: ArrayLike, total: ArrayLike, method: str = "exact", level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval of xi/ni for each study: (low, high) arrays.

    ``method="exact"`` is Clopper-Pearson (statsmodels' "beta"),
    ``method="wilson"`` the Wilson score interval.
    """
    interval = {"exact": distributions.clopper_pearson, "wilson": distributions.wilson}.get(method)
    if interval is None:
        raise ValueError("method must be 'exact' or 'wilson'")
    x = np.atleast_1d(np.asarray(events, dtype=float))
    n = np.atleast_1d(np.asarray(total, dtype=float))
    low, high = interval(x, n, level)
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)


# ---------------------------------------------------------------------------
# Mean and SD from the median and range / IQR
# ---------------------------------------------------------------------------


def _xi(n: np.ndarray) -> np.ndarray:
    """Wan et al. (2014) ξ(n) = 2 Φ⁻¹((n - 0.375)/(n + 0.25)), for the range."""
    return 2 * distributions.norm_ppf((n - 0.375) / (n + 0.25))


def _eta(n: np.ndarray) -> np.ndarray:
    """Wan et al. (2014) η(n) = 2 Φ⁻¹((0.75 n - 0.125)/(n + 0.25)), for the IQR."""
    return 2 * distributions.norm_ppf((0.75 * n - 0.125) / (n + 0.25))


_METHOD_LABELS = {
    1: "mean: Luo 2018, from median, min and max; SD: Wan 2014, from the range",
    2: "mean: Luo 2018, from median, q1 and q3; SD: Wan 2014, from the IQR",
    3: "mean: Luo 2018, from median, min, q1, q3 and max; SD: Wan 2014, from the range and IQR",
}


def mean_sd_from_median(
    median: ArrayLike,
    *,
    minimum: ArrayLike | None = None,
    maximum: ArrayLike | None = None,
    q1: ArrayLike | None = None,
    q3: ArrayLike | None = None,
    n: ArrayLike,
) -> pd.DataFrame:
    """Estimate a sample mean and SD from the median and range and/or IQR.

    Normal-theory estimators as in metafor's ``conv.fivenum()`` with
    ``method = c("luo2016", "wan2014")`` (no skewness test). Per row, the
    scenario is chosen from the values that are present (not NaN):

    * S1 (min, median, max):
      mean = w (a + b)/2 + (1 - w) m, w = 4/(4 + n^0.75)  [Luo 2018, eq. 7];
      SD = (b - a)/ξ(n)  [Wan 2014, eq. 9].
    * S2 (q1, median, q3):
      mean = w (q1 + q3)/2 + (1 - w) m, w = 0.7 + 0.39/n  [Luo 2018, eq. 11];
      SD = (q3 - q1)/η(n)  [Wan 2014, eq. 16].
    * S3 (all five):
      mean = w1 (a + b)/2 + w2 (q1 + q3)/2 + (1 - w1 - w2) m, with
      w1 = 2.2/(2.2 + n^0.75), w2 = 0.7 - 0.72/n^0.55  [Luo 2018, eq. 15];
      SD = ((b - a)/ξ(n) + (q3 - q1)/η(n)) / 2  [Wan 2014, eq. 12/16 averaged].

    with ξ(n) = 2 Φ⁻¹((n - 0.375)/(n + 0.25)) and
    η(n) = 2 Φ⁻¹((0.75 n - 0.125)/(n + 0.25)).

    Returns a DataFrame with ``mean, sd, method`` (which formulas) and
    ``estimated`` (always True: the values are estimates, not reported data).
    Raises ValueError for a row with neither min/max nor q1/q3.
    """
    m = np.atleast_1d(np.asarray(median, dtype=float))
    nn = np.broadcast_to(np.asarray(n, dtype=float), m.shape)

    def opt(v):
        return np.full(m.shape, np.nan) if v is None else np.broadcast_to(np.asarray(v, dtype=float), m.shape)

    a, b, lo, hi = opt(minimum), opt(maximum), opt(q1), opt(q3)
    has_range = ~np.isnan(a) & ~np.isnan(b)
    has_iqr = ~np.isnan(lo) & ~np.isnan(hi)
    scenario = np.where(has_range & has_iqr, 3, np.where(has_range, 1, np.where(has_iqr, 2, 0)))
    if np.any(scenario == 0) or np.any(np.isnan(m)) or np.any(np.isnan(nn)):
        bad = np.flatnonzero((scenario == 0) | np.isnan(m) | np.isnan(nn)).tolist()
        raise ValueError(f"rows {bad}: need median, n and either min/max or q1/q3")
    ordered = [a, lo, m, hi, b]  # NaN comparisons are False, so absent values pass
    if any(np.any(ordered[i] > ordered[j]) for i in range(5) for j in range(i + 1, 5)):
        raise ValueError("need min <= q1 <= median <= q3 <= max")

    with np.errstate(invalid="ignore"):
        w1 = 4 / (4 + nn**0.75)
        mean1 = w1 * (a + b) / 2 + (1 - w1) * m
        sd1 = (b - a) / _xi(nn)

        w2 = 0.7 + 0.39 / nn
        mean2 = w2 * (lo + hi) / 2 + (1 - w2) * m
        sd2 = (hi - lo) / _eta(nn)

        w31 = 2.2 / (2.2 + nn**0.75)
        w32 = 0.7 - 0.72 / nn**0.55
        mean3 = w31 * (a + b) / 2 + w32 * (lo + hi) / 2 + (1 - w31 - w32) * m
        sd3 = (sd1 + sd2) / 2

    mean = np.select([scenario == 1, scenario == 2], [mean1, mean2], mean3)
    sd = np.select([scenario == 1, scenario == 2], [sd1, sd2], sd3)
    return pd.DataFrame(
        {
            "mean": mean,
            "sd": sd,
            "method": [_METHOD_LABELS[s] for s in scenario],
            "estimated": np.ones(m.shape, bool),
        }
    )
