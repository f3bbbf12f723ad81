"""The statistics call scipy.special and their own two-proportion and Q/DL formulas instead of
scipy.stats and statsmodels, whose imports cost a quarter of ``python -m helpers results``'s
time budget. These tests hold each replacement to the library it replaces, on a grid of values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects, effectsize_2proportions
from statsmodels.stats.proportion import proportion_confint

from helpers.stats import distributions, effects, pooling
from tests.metafor_reference import reference

P = np.array([1e-6, 0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.999])
X = np.array([0.0, 0.3, 1.0, 1.96, 3.5, 8.0])
DF = [1, 2, 5, 30, float("inf")]


@pytest.mark.parametrize("df", DF)
def test_t_quantiles_and_tails_equal_scipy_stats(df):
    ref_ppf = stats.norm.ppf(P) if np.isinf(df) else stats.t.ppf(P, df)
    ref_sf = stats.norm.sf(X) if np.isinf(df) else stats.t.sf(X, df)
    np.testing.assert_allclose(distributions.t_ppf(P, df), ref_ppf, rtol=1e-12)
    np.testing.assert_allclose(distributions.t_sf(X, df), ref_sf, rtol=1e-12)


@pytest.mark.parametrize("df", [1, 2, 7, 40])
def test_chi2_tail_equals_scipy_stats(df):
    np.testing.assert_allclose(distributions.chi2_sf(X * 3, df), stats.chi2.sf(X * 3, df), rtol=1e-12)


def test_normal_equals_scipy_stats():
    np.testing.assert_allclose(distributions.norm_ppf(P), stats.norm.ppf(P), rtol=1e-12)
    np.testing.assert_allclose(distributions.norm_sf(X), stats.norm.sf(X), rtol=1e-12)


@pytest.mark.parametrize(
    ("method", "ours"), [("beta", distributions.clopper_pearson), ("wilson", distributions.wilson)]
)
@pytest.mark.parametrize("level", [0.9, 0.95])
def test_proportion_intervals_equal_statsmodels(method, ours, level):
    x = np.array([0, 1, 4, 16, 29, 30, 50])
    n = np.array([30, 29, 29, 29, 29, 30, 50])
    low, high = ours(x, n, level)
    ref_low, ref_high = proportion_confint(x, n, alpha=1 - level, method=method)
    np.testing.assert_allclose(low, ref_low, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(high, ref_high, rtol=1e-10, atol=1e-15)
    # The exact interval reaches 0 and 1 exactly at the edges.
    if method == "beta":
        assert low[0] == 0 and high[-1] == 1


@pytest.mark.parametrize(("measure", "statistic"), [("RR", "risk-ratio"), ("OR", "odds-ratio"), ("RD", "diff")])
def test_two_proportion_effects_equal_statsmodels(measure, statistic):
    rng = np.random.default_rng(20261203)
    n1, n2 = rng.integers(5, 200, 200), rng.integers(5, 200, 200)
    a = rng.integers(1, n1)  # no zero or full cells: both libraries see the same table
    c = rng.integers(1, n2)
    yi, vi = effects._two_proportions(measure, a, n1, c, n2)
    ref_yi, ref_vi = effectsize_2proportions(a, n1, c, n2, statistic=statistic)
    np.testing.assert_allclose(yi, ref_yi, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(vi, ref_vi, rtol=1e-12)


@pytest.mark.parametrize(("dataset", "measure"), [("dat.bcg", "RR"), ("dat.bcg", "RD"), ("sparse_demo", "OR")])
def test_q_and_dl_equal_statsmodels_truncated(dataset, measure):
    es = reference("effect_sizes.csv").query("dataset == @dataset and measure == @measure")
    yi, vi = es["yi"].to_numpy(float), es["vi"].to_numpy(float)
    keep = np.isfinite(yi)
    yi, vi = yi[keep], vi[keep]
    q, tau2 = pooling._fe_q_dl(yi, vi)
    with np.errstate(all="ignore"):
        ref = combine_effects(yi, vi, method_re="dl")
    assert q == pytest.approx(float(ref.q), rel=1e-12)
    assert tau2 == pytest.approx(max(0.0, float(ref.tau2)), rel=1e-12, abs=1e-15)


def test_results_command_imports_no_slow_library():
    # The point of this module: `python -m helpers results` stays clear of scipy.stats,
    # statsmodels, scipy.optimize (loaded only when REML's Fisher scoring misses the maximum)
    # and matplotlib. Checked in a fresh interpreter, on the real data.
    import subprocess
    import sys

    code = (
        "import sys, helpers.evidence.load as L, helpers.review.results as R\n"
        "R.results_table(L.load_evidence())\n"
        "print(' '.join(m for m in ('scipy.stats', 'statsmodels', 'scipy.optimize', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_reml_with_a_known_root_skips_root_finding_but_not_other_maxima():
    # TWO_MAXIMA has two local maxima; Fisher scoring finds the lower one. Given as known, it
    # is taken for its own bracket and the other bracket is still solved: the higher wins.
    from tests.test_reml_fallback import TWO_MAXIMA

    y, v = TWO_MAXIMA
    fisher = pooling._reml_fisher(y, v, dict(pooling.DEFAULT_CONTROL))
    assert fisher == pytest.approx(3.1191441, rel=1e-6)
    assert pooling._reml_bounded(y, v, known=fisher) == pytest.approx(0.1392435, rel=1e-6)
    assert pooling._reml_bounded(y, v, known=fisher) == pooling._reml_bounded(y, v)


def test_single_trial_newcombe_and_fisher_equal_statsmodels_and_scipy():
    # helpers.stats.single_trial computes Newcombe's interval from Wilson limits and Fisher's p
    # from hypergeometric probabilities; every table with arms up to 12, and some larger ones.
    from scipy.stats import fisher_exact
    from statsmodels.stats.proportion import confint_proportions_2indep

    from helpers.stats import single_trial

    tables = [(a, n1, c, n2) for n1 in (1, 5, 12) for n2 in (1, 7, 12) for a in range(n1 + 1) for c in range(n2 + 1)]
    tables += [(4, 29, 0, 30), (16, 29, 9, 30), (34, 50, 29, 50), (56, 70, 48, 80), (0, 200, 0, 150)]
    for a, n1, c, n2 in tables:
        _, low, high, _ = single_trial.risk_difference(a, n1, c, n2, "newcombe")
        ref_low, ref_high = confint_proportions_2indep(a, n1, c, n2, method="newcomb", compare="diff")
        assert (low, high) == pytest.approx((ref_low, ref_high), rel=1e-9, abs=1e-12), (a, n1, c, n2)
        ref_p = fisher_exact([[a, n1 - a], [c, n2 - c]]).pvalue
        assert single_trial.fisher_p(a, n1, c, n2) == pytest.approx(ref_p, rel=1e-9, abs=1e-15), (a, n1, c, n2)
