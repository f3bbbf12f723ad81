"""The posterior figure's inputs (helpers.review.bayesian.posterior_inputs) on the real data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.evidence.load import load_evidence
from helpers.report.posterior import posterior_alt_text, posterior_figure
from helpers.review.bayesian import posterior_inputs
from helpers.review.results import results_table
from helpers.review.selection import analysis


@pytest.fixture(scope="module")
def inputs():
    ev = load_evidence()
    return posterior_inputs(ev, analysis(ev, "sri4_week12_rct"), results_table(ev))


def test_every_model_of_the_primary_analysis_is_shown(inputs):
    _, intervals = inputs
    assert list(intervals["label"]) == [
        "MH, z",
        "REML, z",
        "REML, Hartung-Knapp",
        "DL, z",
        "DL, Hartung-Knapp",
        "Bayes HN(0.5)",
        "Bayes HN(1)",
    ]
    mh = intervals.iloc[0]
    assert (mh.estimate, mh.ci_low, mh.ci_high) == pytest.approx((1.3282579, 1.0040229, 1.7572001), rel=1e-6)


def test_each_posterior_is_a_density_of_the_log_risk_ratio(inputs):
    curves, intervals = inputs
    assert curves["prior"].nunique() == 2
    for _, part in curves.groupby("prior"):
        x = np.log(part["ratio"].to_numpy())
        mass = np.trapezoid(part["density"].to_numpy(), x)
        # The grid spans the widest interval shown (Hartung-Knapp), so almost all the mass is on it.
        assert 0.99 < mass <= 1.0 + 1e-6
        peak = part["ratio"].iloc[int(part["density"].argmax())]
        assert math.isclose(peak, 1.31, abs_tol=0.05)
    fig = posterior_figure(curves, intervals)
    assert len(fig.axes) == 2
    assert "Bayes HN(0.5) 1.34 (0.70 to 2.94)" in posterior_alt_text(curves, intervals)
