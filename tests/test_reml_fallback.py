"""REML and Paule-Mandel always return their estimate, checked against dense grids.

REML is the maximiser of the restricted log-likelihood over tau² >= 0. metafor's
Fisher scoring (kept, for metafor's numbers) can oscillate without converging or
settle on a lower of two local maxima; pooling then uses the bounded maximisation.
Paule-Mandel is the root of Q_gen(tau²) = k - 1, or 0 when Q(0) <= k - 1.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings

from helpers.stats.pooling import (
    DEFAULT_CONTROL,
    METAFOR_DEFAULT_CONTROL,
    TAU2_ALGORITHMS,
    _reml_bounded,
    _reml_fisher,
    _reml_loglik,
    _reml_score,
    leave1out,
    rma,
    rma_mh,
    rma_peto,
    subgroup,
)
from tests.test_stats_properties import studies

#: Fisher scoring alternates between tau² = 0 and 0.2397 on these studies.
OSCILLATING = (np.array([0.0] * 8 + [1.0, 0.0]), np.array([1.0] * 8 + [0.125, 1.0]))
#: A restricted likelihood with two local maxima, at 0.139 (the higher) and 3.119,
#: where Fisher scoring converges.
TWO_MAXIMA = (np.array([1.0, -5.0, 0.5, -5.0]), np.array([1e-3, 10.0, 0.125, 10.0]))
#: tr(PP) cancels to exactly 0 in Fisher scoring's step (it divided by zero).
CANCELLING = (np.array([0.0, 0.003, 0.001]), np.array([1000.0, 1e-7, 1000.0]))

# Differences of two log-likelihoods at the same maximum are rounding (~1e-13 measured).
LOGLIK_TOL = 1e-9


def loglik_on(grid: np.ndarray, y: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The restricted log-likelihood at every grid point (the formula of pooling._reml_loglik, vectorised)."""
    w = 1.0 / (v + grid[:, None])
    mu = (w * y).sum(axis=1) / w.sum(axis=1)
    return -0.5 * (
        np.log(v + grid[:, None]).sum(axis=1) + np.log(w.sum(axis=1)) + (w * (y - mu[:, None]) ** 2).sum(axis=1)
    )


def grid_upper(y: np.ndarray, v: np.ndarray) -> float:
    """T = 4 (range(y)² + max v): the REML score is negative beyond T, so the maximum lies in [0, T].

    With k R² / T < k T / (max v + T) - 1 (from y'PPy <= k R² / T² and tr P >= k / (max v + T) - 1/T),
    which holds for k >= 2 since k (4/5 - 1/4) > 1.
    """
    return 4 * (float(np.ptp(y)) ** 2 + float(v.max()))


def q_gen(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    w = 1.0 / (v + tau2)
    return float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))


def test_grid_loglik_is_the_module_loglik():
    y, v = OSCILLATING
    points = np.array([0.0, 0.01, 0.0744, 0.5, 3.0])
    expected = [_reml_loglik(t, y, v) for t in points]
    np.testing.assert_allclose(loglik_on(points, y, v), expected, rtol=1e-14)


@pytest.mark.parametrize(
    "control",
    [DEFAULT_CONTROL, METAFOR_DEFAULT_CONTROL, {"maxiter": 10_000}],
    ids=["tight", "metafor-default", "maxiter-1e4"],
)
def test_fisher_scoring_does_not_converge_on_the_oscillating_input(control):
    assert _reml_fisher(*OSCILLATING, {**DEFAULT_CONTROL, **control}) is None


@pytest.mark.parametrize("control", [None, METAFOR_DEFAULT_CONTROL], ids=["tight", "metafor-default"])
def test_oscillating_input_gives_the_maximiser_of_the_restricted_likelihood(control):
    y, v = OSCILLATING
    fit = rma(y, v, method="REML", control=control)
    assert fit.tau2_algorithm == "bounded maximisation (Fisher scoring did not converge)"
    grid = np.linspace(0, 2, 200_001)  # step 1e-5; the maximum is near 0.074
    ll = loglik_on(grid, y, v)
    # The true maximiser is within one step of the best grid point, and no grid point is higher.
    assert abs(fit.tau2 - grid[ll.argmax()]) <= 1e-5
    assert _reml_loglik(fit.tau2, y, v) >= ll.max() - 1e-12
    assert fit.tau2 == pytest.approx(0.0744438946610703, rel=1e-12)
    assert abs(_reml_score(fit.tau2, y, v)) < 1e-12  # an interior maximum: the score is 0
    w = 1 / (v + fit.tau2)  # and the model is fitted at that tau²
    assert fit.estimate == pytest.approx(np.sum(w * y) / np.sum(w), rel=1e-12)


def test_a_lower_local_maximum_found_by_fisher_scoring_is_replaced():
    y, v = TWO_MAXIMA
    fisher = _reml_fisher(y, v, dict(DEFAULT_CONTROL))
    assert fisher == pytest.approx(3.1191441, rel=1e-6)
    assert abs(_reml_score(fisher, y, v)) < 1e-9  # converged: a genuine local maximum
    fit = rma(y, v, method="REML")
    assert fit.tau2_algorithm == "bounded maximisation (Fisher scoring reached a lower local maximum)"
    grid = np.linspace(0, grid_upper(y, v), 200_001)
    ll = loglik_on(grid, y, v)
    assert abs(fit.tau2 - grid[ll.argmax()]) <= grid[1]
    assert fit.tau2 == pytest.approx(0.1392435, rel=1e-6)
    assert _reml_loglik(fit.tau2, y, v) - _reml_loglik(fisher, y, v) == pytest.approx(0.1886685, rel=1e-6)


def test_fisher_scoring_without_a_step_falls_back_without_a_warning():
    y, v = CANCELLING  # pytest turns a "divide by zero" warning into an error
    assert _reml_fisher(y, v, dict(DEFAULT_CONTROL)) is None
    fit = rma(y, v, method="REML")
    assert fit.tau2_algorithm == "bounded maximisation (Fisher scoring did not converge)"
    ll = loglik_on(np.linspace(0, grid_upper(y, v), 200_001), y, v)
    assert ll.argmax() == 0 and fit.tau2 == 0  # the likelihood falls from tau² = 0


def test_leave1out_and_subgroup_use_the_same_estimator():
    y, v = OSCILLATING
    alone = rma(y, v).tau2
    table = leave1out(np.append(y, 0.3), np.append(v, 0.5))
    assert table["tau2"].iloc[-1] == alone  # leaving out the added study gives the oscillating set
    groups = subgroup(np.append(y, [0.3, 0.6]), np.append(v, [0.5, 0.5]), ["a"] * 10 + ["b"] * 2)
    assert groups["tau2"].iloc[0] == alone


@pytest.mark.parametrize(
    ("fit", "algorithm"),
    [
        (lambda: rma([0.1, 0.5, 0.9], [0.01, 0.02, 0.03], method="FE"), "none: common-effect model (tau² = 0)"),
        (lambda: rma_mh([3, 5], [7, 5], [2, 4], [8, 6]), "none: common-effect model (tau² = 0)"),
        (lambda: rma_peto([3, 5], [7, 5], [2, 4], [8, 6]), "none: common-effect model (tau² = 0)"),
        (lambda: rma([0.4], [0.09], method="REML"), "none: one study (tau² = 0)"),
        (lambda: rma([0.1, 0.5, 0.9], [0.01, 0.02, 0.03], method="DL"), "closed form"),
        (lambda: rma([0.1, 0.5, 0.9], [0.01, 0.02, 0.03], method="HS"), "closed form"),
        (lambda: rma([0.1, 0.5, 0.9], [0.01, 0.02, 0.03], method="SJ"), "closed form"),
        (lambda: rma([0.1, 0.5, 0.9], [0.01, 0.02, 0.03], method="REML"), "Fisher scoring"),
        (lambda: rma([0.1, 0.5, 0.9], [0.01, 0.02, 0.03], method="PM"), "Brent root of Q(tau²) = k - 1"),
        (lambda: rma([0.1, 0.11, 0.12], [0.01, 0.02, 0.03], method="PM"), "Q(0) <= k - 1: tau² = 0"),
    ],
    ids=["FE", "MH", "Peto", "k=1", "DL", "HS", "SJ", "REML", "PM", "PM-zero"],
)
def test_result_says_how_tau2_was_obtained(fit, algorithm):
    result = fit()
    assert result.tau2_algorithm == algorithm
    assert algorithm in TAU2_ALGORITHMS.values()
    assert "tau2_algorithm" not in result.to_dict()  # not a column of the results table


@settings(max_examples=60)
@given(studies())
@example(OSCILLATING)
@example(TWO_MAXIMA)
@example(CANCELLING)
def test_reml_is_the_global_maximum_of_the_restricted_likelihood(data):
    y, v = data
    fit = rma(y, v, method="REML")
    # 20,001 points here (60 random inputs); the named inputs get 200,001 in the tests above.
    best_on_grid = loglik_on(np.linspace(0, grid_upper(y, v), 20_001), y, v).max()
    assert _reml_loglik(fit.tau2, y, v) >= best_on_grid - LOGLIK_TOL
    bounded = _reml_bounded(y, v)
    assert _reml_loglik(bounded, y, v) >= best_on_grid - LOGLIK_TOL
    fisher = _reml_fisher(y, v, dict(DEFAULT_CONTROL))
    if fit.tau2_algorithm == TAU2_ALGORITHMS["fisher"]:
        # Both find the same maximum: relative 1e-8 (measured: <= 5e-11). Near 0 Fisher
        # scoring stops once a step is <= 1e-12 (threshold) and can leave tau² ~1e-13
        # where the bounded maximisation returns exactly 0: hence an absolute 1e-10.
        assert fit.tau2 == fisher
        assert fisher == pytest.approx(bounded, rel=1e-8, abs=1e-10)
    elif fit.tau2_algorithm == TAU2_ALGORITHMS["local"]:
        assert fit.tau2 == bounded
        assert _reml_loglik(fisher, y, v) < best_on_grid - DEFAULT_CONTROL["tol"]
    else:
        assert fit.tau2_algorithm == TAU2_ALGORITHMS["fallback"]
        assert fit.tau2 == bounded and fisher is None


@settings(max_examples=60)
@given(studies())
@example(OSCILLATING)
@example(TWO_MAXIMA)
def test_pm_solves_its_estimating_equation(data):
    y, v = data
    k = y.size
    fit = rma(y, v, method="PM")
    if q_gen(0.0, y, v) <= k - 1:
        assert fit.tau2 == 0 and fit.tau2_algorithm == "Q(0) <= k - 1: tau² = 0"
    else:
        assert fit.tau2 > 0 and fit.tau2_algorithm == "Brent root of Q(tau²) = k - 1"
        assert q_gen(fit.tau2, y, v) == pytest.approx(k - 1, rel=1e-8)
