"""Small-study tests: Egger's regression test, as metafor's ``regtest(x, model = "lm")``.

The classical test (Egger et al. 1997) regresses the study effects on their standard errors by
weighted least squares (weights 1/vi, residual variance estimated): a slope away from zero means
that smaller studies report different effects. The intercept is the "limit estimate" (the effect
as the standard error goes to zero). statsmodels' WLS does the fit; this module only arranges the
inputs and returns metafor's quantities. The protocol decides from how many trials the test is
run at all (``minimum_k.small_study_tests``): with few trials it has almost no power.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy import stats


@dataclass(frozen=True)
class EggerTest:
    k: int
    #: t statistic of the slope on the standard error, on df = k - 2
    statistic: float
    df: int
    pval: float
    #: intercept: the limit estimate, with its 95% CI (t on df)
    limit_estimate: float
    limit_ci_low: float
    limit_ci_high: float


def egger_test(yi, vi, level: float = 0.95) -> EggerTest:
    """Egger's regression test on effects ``yi`` with sampling variances ``vi`` (needs k >= 3)."""
    y, v = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    if y.size < 3:
        raise ValueError("Egger's test needs at least 3 studies (2 parameters and a residual variance)")
    sei = np.sqrt(v)
    fit = sm.WLS(y, sm.add_constant(sei), weights=1 / v).fit()
    df = int(fit.df_resid)
    crit = stats.t.ppf(0.5 + level / 2, df)
    b0, se0 = float(fit.params[0]), float(fit.bse[0])
    return EggerTest(
        k=int(y.size),
        statistic=float(fit.tvalues[1]),
        df=df,
        pval=float(fit.pvalues[1]),
        limit_estimate=b0,
        limit_ci_low=b0 - crit * se0,
        limit_ci_high=b0 + crit * se0,
    )


def small_study_test(fit, minimum_k: int) -> EggerTest | None:
    """Egger's test on a fit's own inputs, or None when the fit has fewer trials than the protocol's minimum."""
    if fit.yi is None or fit.k < minimum_k:
        return None
    return egger_test(fit.yi, fit.vi)
