"""Property-based tests (hypothesis) for helpers.stats.effects and helpers.stats.pooling.

The hypothesis profile (tests/hypothesis_profiles.py) decides randomness, deadline and
database; the settings here change only the number of examples. Inputs that once failed
are kept as explicit ``@example`` cases.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from helpers.stats.effects import escalc
from helpers.stats.pooling import METHODS, TESTS, back_transform, leave1out, rma, rma_mh, rma_peto

SETTINGS = settings(max_examples=40)

counts = st.integers(min_value=0, max_value=200)
positive_counts = st.integers(min_value=1, max_value=200)
effect = st.floats(min_value=-5, max_value=5, allow_nan=False)
variance = st.floats(min_value=1e-3, max_value=10, allow_nan=False)


@st.composite
def tables(draw, min_size=1, max_size=8, cells=counts):
    k = draw(st.integers(min_value=min_size, max_value=max_size))
    return [np.array(draw(st.lists(cells, min_size=k, max_size=k))) for _ in range(4)]


@st.composite
def studies(draw, min_size=2, max_size=12):
    k = draw(st.integers(min_value=min_size, max_value=max_size))
    yi = np.array(draw(st.lists(effect, min_size=k, max_size=k)))
    vi = np.array(draw(st.lists(variance, min_size=k, max_size=k)))
    return yi, vi


@SETTINGS
@given(tables(), st.sampled_from(["RR", "OR", "RD"]))
def test_swapping_arms_negates_the_effect(cells, measure):
    a, b, c, d = cells
    forward = escalc(measure, ai=a, bi=b, ci=c, di=d)
    swapped = escalc(measure, ai=c, bi=d, ci=a, di=b)
    ok = np.isfinite(forward["yi"])  # an empty arm (n = 0) has no effect size
    np.testing.assert_allclose(swapped["yi"][ok], -forward["yi"][ok], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(swapped["vi"][ok], forward["vi"][ok], rtol=1e-12, atol=0)
    assert (swapped["zero_cell_adjusted"] == forward["zero_cell_adjusted"]).all()


@SETTINGS
@given(effect, variance, st.sampled_from(METHODS), st.sampled_from(TESTS))
def test_one_study_pools_to_itself(y, v, method, test):
    fit = rma([y], [v], method=method, test=test)
    assert fit.estimate == y
    assert fit.se == pytest.approx(math.sqrt(v), rel=1e-12)
    assert fit.tau2 == 0 and fit.i2 == 0 and fit.h2 == 1
    assert fit.weights.tolist() == [100.0]


@SETTINGS
@given(effect, st.lists(variance, min_size=2, max_size=10), st.sampled_from(METHODS[1:]))
def test_fixed_and_random_agree_when_effects_are_identical(y, vs, method):
    yi = np.full(len(vs), y)
    fe = rma(yi, vs, method="FE")
    re = rma(yi, vs, method=method)
    # Not exactly 0 for SJ: the mean of identical floats can be an ulp off, so
    # its tau0² is ~1e-32 instead of 0.
    assert re.tau2 == pytest.approx(0, abs=1e-12)
    assert re.estimate == pytest.approx(fe.estimate, rel=1e-12, abs=1e-12)
    assert re.se == pytest.approx(fe.se, rel=1e-12)
    np.testing.assert_allclose(re.weights, fe.weights, rtol=1e-12)


@SETTINGS
@given(studies(), st.sampled_from(METHODS), st.sampled_from(TESTS))
# REML Fisher scoring alternates between 0 and 0.2397 here (it used to raise "did not converge").
@example((np.array([0.0] * 8 + [1.0, 0.0]), np.array([1.0] * 8 + [0.125, 1.0])), "REML", "z")
# Its step divided by a tr(PP) that cancels to 0 (a warning, so an error here).
@example((np.array([0.0, 0.003, 0.001]), np.array([1000.0, 1e-7, 1000.0])), "REML", "z")
def test_heterogeneity_is_never_negative_and_weights_sum_to_100(data, method, test):
    yi, vi = data
    fit = rma(yi, vi, method=method, test=test)
    assert fit.tau2 >= 0 and fit.i2 >= 0 and fit.q >= 0 and fit.h2 >= 0
    if method != "FE":
        assert fit.h2 >= 1  # H² = tau²/vt + 1
    assert 0 <= fit.i2 <= 100
    assert fit.weights.sum() == pytest.approx(100, rel=1e-12)
    assert np.all(fit.weights > 0)
    assert fit.ci_low <= fit.estimate <= fit.ci_high


@SETTINGS
@given(tables(min_size=1, max_size=1, cells=positive_counts))
def test_mh_rr_of_a_single_table_is_the_study_rr(cells):
    a, b, c, d = cells
    study = escalc("RR", ai=a, bi=b, ci=c, di=d)
    fit = rma_mh(a, b, c, d, measure="RR")
    assert fit.estimate == pytest.approx(study["yi"][0], rel=1e-12, abs=1e-12)
    assert fit.se == pytest.approx(study["sei"][0], rel=1e-12)
    assert fit.q == 0 and fit.i2 == 0


@SETTINGS
@given(tables(min_size=1, max_size=6), st.sampled_from(["RR", "OR", "RD", "Peto"]))
def test_mh_and_peto_are_well_behaved_on_any_tables(cells, measure):
    a, b, c, d = cells
    b, d = b + (a + b == 0), d + (c + d == 0)  # every arm needs a participant
    if measure == "Peto":
        if (a + c).sum() == 0 or (b + d).sum() == 0:
            return  # Peto is undefined when one outcome never occurs
        fit = rma_peto(a, b, c, d)
    else:
        fit = rma_mh(a, b, c, d, measure=measure)
    assert fit.tau2 == 0 and fit.k == len(a)
    assert math.isnan(fit.i2) or 0 <= fit.i2 <= 100
    assert math.isnan(fit.weights.sum()) or fit.weights.sum() == pytest.approx(100, rel=1e-12)
    assert set(fit.dropped) <= set(range(len(a)))


@settings(max_examples=20)
@given(studies(), st.sampled_from(METHODS), st.sampled_from(TESTS), st.sampled_from(["RR", "MD", None]))
def test_fit_carries_its_inputs_and_refits_from_them(data, method, test, measure):
    yi, vi = data
    labels = [f"study {i}" for i in range(len(yi))]
    fit = rma(yi, vi, method=method, test=test, measure=measure, labels=labels)
    assert np.array_equal(fit.yi, yi) and np.array_equal(fit.vi, vi) and fit.labels == tuple(labels)
    old = leave1out(yi, vi, method=method, test=test, labels=labels, measure=measure)
    pd.testing.assert_frame_equal(leave1out(fit), old)
    np.testing.assert_equal(back_transform(fit), back_transform(fit, measure))


@SETTINGS
@given(tables(min_size=1, max_size=6), st.sampled_from(["RR", "OR", "RD", "Peto"]))
def test_mh_and_peto_fits_carry_one_effect_per_study(cells, measure):
    a, b, c, d = cells
    b, d = b + (a + b == 0), d + (c + d == 0)  # every arm needs a participant
    if measure == "Peto":
        if (a + c).sum() == 0 or (b + d).sum() == 0:
            return  # Peto is undefined when one outcome never occurs
        fit = rma_peto(a, b, c, d)
    else:
        fit = rma_mh(a, b, c, d, measure=measure)
    assert fit.yi.shape == fit.vi.shape == fit.ni.shape == (len(a),)
    assert tuple(np.flatnonzero(np.isnan(fit.yi))) == fit.dropped  # NaN exactly for the dropped studies
    assert np.array_equal(np.isnan(fit.yi), np.isnan(fit.vi)) and np.all(fit.vi[~np.isnan(fit.vi)] > 0)
